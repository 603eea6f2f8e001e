#include "models/softmax_attention.h"

#include <cmath>

#include "models/kv_cache.h"
#include "models/projection.h"

namespace lmscope {
namespace {

class AttentionState final : public MixerState {
 public:
  AttentionState(std::int64_t kv_dim, std::int64_t window) : cache(kv_dim, window) {}
  KvCache cache;
};

class SoftmaxAttention final : public TokenMixer {
 public:
  SoftmaxAttention(const AttentionSettings& s, Projection q, Projection k, Projection v, Projection o)
      : s_(s), q_(std::move(q)), k_(std::move(k)), v_(std::move(v)), o_(std::move(o)), rope_{s.rope, s.head_dim} {}

  std::unique_ptr<MixerState> new_state(Backend&) const override {
    return std::make_unique<AttentionState>(s_.num_kv_heads * s_.head_dim, s_.window);
  }
  const RopeUse* rope() const override { return &rope_; }

  void forward(Backend& b, const Tensor& h, std::int64_t pos0, const RopeTables* rope, MixerState& state,
               Tensor& out) const override {
    const std::int64_t T = h.rows(), qd = s_.num_heads * s_.head_dim, kvd = s_.num_kv_heads * s_.head_dim;
    const DType act = b.activation_dtype();
    Tensor q = b.alloc(act, {T, qd}), k = b.alloc(act, {T, kvd}), v = b.alloc(act, {T, kvd});
    Tensor att = b.alloc(act, {T, qd});
    project(b, q_, h, q);
    project(b, k_, h, k);
    project(b, v_, h, v);
    b.rope(q, s_.num_heads, s_.head_dim, rope->cos, rope->sin, pos0);
    b.rope(k, s_.num_kv_heads, s_.head_dim, rope->cos, rope->sin, pos0);
    static_cast<AttentionState&>(state).cache.attend(b, q, k, v, shape(), att);
    project(b, o_, att, out);
  }

  // The projections and attention see all batch × T rows at once (one launch each); RoPE runs per sequence.
  void forward_batch(Backend& b, const Tensor& h, std::int64_t batch, const RopeTables* rope, Tensor& out) const override {
    const std::int64_t N = h.rows(), T = N / batch, qd = s_.num_heads * s_.head_dim, kvd = s_.num_kv_heads * s_.head_dim;
    const DType act = b.activation_dtype();
    Tensor q = b.alloc(act, {N, qd}), k = b.alloc(act, {N, kvd}), v = b.alloc(act, {N, kvd}), att = b.alloc(act, {N, qd});
    project(b, q_, h, q);
    project(b, k_, h, k);
    project(b, v_, h, v);
    AttentionShape sh = shape();
    sh.q_pos0 = 0;
    sh.kv_len = T;
    sh.window = s_.window;
    for (std::int64_t s = 0; s < batch; ++s) {
      Tensor qs = q.slice_rows(s * T, T), ks = k.slice_rows(s * T, T);
      b.rope(qs, s_.num_heads, s_.head_dim, rope->cos, rope->sin, 0);
      b.rope(ks, s_.num_kv_heads, s_.head_dim, rope->cos, rope->sin, 0);
    }
    b.attention_batch(q, k, v, sh, batch, att);
    project(b, o_, att, out);
  }

 private:
  AttentionShape shape() const {
    AttentionShape a;
    a.num_heads = s_.num_heads;
    a.num_kv_heads = s_.num_kv_heads;
    a.head_dim = s_.head_dim;
    a.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(s_.head_dim)));
    return a;
  }

  AttentionSettings s_;
  Projection q_, k_, v_, o_;
  RopeUse rope_;
};

}  // namespace

void add_attention_tensors(std::vector<ExpectedTensor>& out, const std::string& prefix, std::int64_t hidden,
                           const AttentionSettings& s) {
  const std::int64_t qd = s.num_heads * s.head_dim, kvd = s.num_kv_heads * s.head_dim;
  if (s.bitlinear) {
    add_projection_tensors(out, prefix + "q_proj", qd, hidden, s.qkv_bias, true);
    add_projection_tensors(out, prefix + "k_proj", kvd, hidden, s.qkv_bias, true);
    add_projection_tensors(out, prefix + "v_proj", kvd, hidden, s.qkv_bias, true);
    add_projection_tensors(out, prefix + "o_proj", hidden, qd, false, true);
    return;
  }
  // weights, then the q/k/v biases, then o: the order random checkpoints draw their values in
  out.push_back({prefix + "q_proj.weight", {qd, hidden}});
  out.push_back({prefix + "k_proj.weight", {kvd, hidden}});
  out.push_back({prefix + "v_proj.weight", {kvd, hidden}});
  if (s.qkv_bias) {
    out.push_back({prefix + "q_proj.bias", {qd}});
    out.push_back({prefix + "k_proj.bias", {kvd}});
    out.push_back({prefix + "v_proj.bias", {kvd}});
  }
  out.push_back({prefix + "o_proj.weight", {hidden, qd}});
}

std::unique_ptr<TokenMixer> load_softmax_attention(Backend& b, const Checkpoint& ck, const std::string& prefix,
                                                   const AttentionSettings& s) {
  auto load = [&](const char* name, bool bias) {
    return s.bitlinear ? load_bitlinear(b, ck, prefix + name) : load_linear(b, ck, prefix + name, bias);
  };
  return std::make_unique<SoftmaxAttention>(s, load("q_proj", s.qkv_bias), load("k_proj", s.qkv_bias),
                                            load("v_proj", s.qkv_bias), load("o_proj", false));
}

RopeConfig rope_with_override(const RopeConfig& rope, const LoadOptions& opts, std::int64_t head_dim) {
  if (opts.rope_override.empty()) return rope;
  RopeConfig r = apply_rope_override(rope, opts.rope_override);
  validate_rope(r, head_dim);
  return r;
}

}  // namespace lmscope
