#include "models/softmax_attention.h"

#include <cmath>
#include <vector>

#include "lmscope/error.h"
#include "models/kv_cache.h"
#include "models/weight_set.h"

namespace lmscope {
namespace {

class AttentionState final : public MixerState {
 public:
  AttentionState(std::int64_t kv_dim, std::int64_t window) : cache(kv_dim, window) {}
  KvCache cache;
};

struct AttentionWeights {
  Projection q, k, v, o;
  Tensor q_norm, k_norm, sub_norm;
};

class SoftmaxAttention final : public TokenMixer {
 public:
  SoftmaxAttention(const AttentionSettings& s, AttentionWeights w) : s_(s), w_(std::move(w)), rope_{s.rope, s.head_dim} {}

  std::unique_ptr<MixerState> new_state(Backend&) const override {
    return std::make_unique<AttentionState>(s_.num_kv_heads * s_.head_dim, s_.window);
  }
  const RopeUse* rope() const override { return &rope_; }

  void forward(Backend& b, const Tensor& h, std::int64_t pos0, const RopeTables* rope, MixerState& state,
               Tensor& out) const override {
    const std::int64_t T = h.rows();
    Tensor q, k, v;
    project_qkv(b, h, q, k, v);
    b.rope(q, s_.num_heads, s_.head_dim, rope->cos, rope->sin, pos0);
    b.rope(k, s_.num_kv_heads, s_.head_dim, rope->cos, rope->sin, pos0);
    Tensor att = b.alloc(b.activation_dtype(), {T, s_.num_heads * s_.head_dim});
    static_cast<AttentionState&>(state).cache.attend(b, q, k, v, shape(), att);
    project_out(b, att, out);
  }

  // The projections, RoPE and attention see all batch × T rows at once (one launch each).
  void forward_batch(Backend& b, const Tensor& h, std::int64_t batch, const RopeTables* rope, Tensor& out) const override {
    const std::int64_t N = h.rows(), T = N / batch;
    Tensor q, k, v;
    project_qkv(b, h, q, k, v);
    AttentionShape sh = shape();
    sh.q_pos0 = 0;
    sh.kv_len = T;
    sh.window = s_.window;
    b.rope_batch(q, batch, s_.num_heads, s_.head_dim, rope->cos, rope->sin);
    b.rope_batch(k, batch, s_.num_kv_heads, s_.head_dim, rope->cos, rope->sin);
    Tensor att = b.alloc(b.activation_dtype(), {N, s_.num_heads * s_.head_dim});
    b.attention_batch(q, k, v, sh, batch, att);
    project_out(b, att, out);
  }

  // The projections see all n rows (one product each); RoPE, the cache writes and the attention of every sequence
  // over its own cache are one backend call (three launches on CUDA).
  void forward_decode(Backend& b, const Tensor& h, std::span<const std::int64_t> pos, std::span<const RopeTables* const> rope,
                      std::span<MixerState* const> states, Tensor& out) const override {
    const std::int64_t n = h.rows();
    Tensor q, k, v;
    project_qkv(b, h, q, k, v);
    std::vector<KvDecodeSlot> slots(states.size());
    for (std::size_t i = 0; i < states.size(); ++i) {
      slots[i] = static_cast<AttentionState&>(*states[i]).cache.next_decode_slot(b, k.dtype);
      slots[i].pos = pos[i];
      if (rope[i]) {
        slots[i].cos = &rope[i]->cos;
        slots[i].sin = &rope[i]->sin;
      }
    }
    Tensor att = b.alloc(b.activation_dtype(), {n, s_.num_heads * s_.head_dim});
    b.attention_decode_step(q, k, v, slots, shape(), att);
    for (MixerState* st : states) static_cast<AttentionState&>(*st).cache.advance();
    project_out(b, att, out);
  }

 private:
  void project_qkv(Backend& b, const Tensor& h, Tensor& q, Tensor& k, Tensor& v) const {
    const std::int64_t T = h.rows(), qd = s_.num_heads * s_.head_dim, kvd = s_.num_kv_heads * s_.head_dim;
    const DType act = b.activation_dtype();
    q = b.alloc(act, {T, qd});
    k = b.alloc(act, {T, kvd});
    v = b.alloc(act, {T, kvd});
    project(b, w_.q, h, q);
    project(b, w_.k, h, k);
    project(b, w_.v, h, v);
    // Norms in place: a row's values are read before any is written (both backends).
    if (s_.qk_norm == AttentionQkNorm::PerHead) {
      Tensor qh = q.reshaped({T * s_.num_heads, s_.head_dim}), kh = k.reshaped({T * s_.num_kv_heads, s_.head_dim});
      b.rmsnorm(qh, w_.q_norm, s_.qk_norm_eps, qh);
      b.rmsnorm(kh, w_.k_norm, s_.qk_norm_eps, kh);
    } else if (s_.qk_norm == AttentionQkNorm::AllHeads) {
      b.rmsnorm(q, w_.q_norm, s_.qk_norm_eps, q);
      b.rmsnorm(k, w_.k_norm, s_.qk_norm_eps, k);
    }
  }

  void project_out(Backend& b, Tensor& att, Tensor& out) const {
    if (s_.sub_norm) b.rmsnorm(att, w_.sub_norm, s_.sub_norm_eps, att);
    project(b, w_.o, att, out);
  }

  AttentionShape shape() const {
    AttentionShape a;
    a.num_heads = s_.num_heads;
    a.num_kv_heads = s_.num_kv_heads;
    a.head_dim = s_.head_dim;
    a.scale = s_.scale > 0 ? s_.scale : static_cast<float>(1.0 / std::sqrt(static_cast<double>(s_.head_dim)));
    a.softcap = s_.softcap;
    return a;
  }

  AttentionSettings s_;
  AttentionWeights w_;
  RopeUse rope_;
};

// GPT-NeoX's per-head layout regrouped: for each head, rows [3h·d, 3h·d + d) of the fused tensor are q's, the
// next d k's, the next d v's. part 0, 1, 2 picks q, k, v; the result is [heads·d, ...] (a copy).
Tensor per_head_part(Backend& b, const Tensor& fused, std::int64_t heads, std::int64_t d, int part) {
  const bool vector = fused.shape.size() == 1;
  const Tensor src = vector ? fused.reshaped({fused.shape[0], 1}) : fused;
  Tensor out = b.alloc(src.dtype, {heads * d, src.cols()});
  for (std::int64_t h = 0; h < heads; ++h) b.copy_rows(src.slice_rows((3 * h + part) * d, d), out, h * d);
  return vector ? out.reshaped({heads * d}) : out;
}

}  // namespace

std::unique_ptr<TokenMixer> declare_softmax_attention(WeightSet& ws, const std::string& prefix, std::int64_t hidden,
                                                      const AttentionSettings& settings) {
  AttentionSettings s = settings;
  if (s.bitlinear) s.format.kind = ProjectionFormat::Kind::FlaBitLinear;
  const std::int64_t qd = s.num_heads * s.head_dim, kvd = s.num_kv_heads * s.head_dim;
  const auto& n = s.names;
  AttentionWeights w;
  if (s.qkv_layout == QkvLayout::Separate) {
    if (s.format.kind == ProjectionFormat::Kind::Plain) {
      // weights, then the q/k/v biases: the order random checkpoints draw their values in
      w.q = declare_projection(ws, prefix + n.q, qd, hidden, false);
      w.k = declare_projection(ws, prefix + n.k, kvd, hidden, false);
      w.v = declare_projection(ws, prefix + n.v, kvd, hidden, false);
      if (s.qkv_bias)
        for (auto* p : {&w.q, &w.k, &w.v}) {
          const std::string& name = p == &w.q ? n.q : p == &w.k ? n.k : n.v;
          p->has_bias = true;
          p->bias = ws.weight(prefix + name + ".bias", {p == &w.q ? qd : kvd});
        }
    } else {
      w.q = declare_projection(ws, prefix + n.q, qd, hidden, s.qkv_bias, s.format);
      w.k = declare_projection(ws, prefix + n.k, kvd, hidden, s.qkv_bias, s.format);
      w.v = declare_projection(ws, prefix + n.v, kvd, hidden, s.qkv_bias, s.format);
    }
  } else {
    if (s.format.kind != ProjectionFormat::Kind::Plain)
      throw InternalError("a fused q/k/v matrix in a quantised format is not implemented");
    if (s.qkv_layout == QkvLayout::PerHead && s.num_kv_heads != s.num_heads)
      throw InternalError("the per-head fused q/k/v layout needs as many key/value heads as query heads");
    const Projection fused = declare_projection(ws, prefix + n.qkv, qd + 2 * kvd, hidden, s.qkv_bias);
    const std::int64_t offsets[3] = {0, qd, qd + kvd}, sizes[3] = {qd, kvd, kvd};
    Projection* parts[3] = {&w.q, &w.k, &w.v};
    for (int i = 0; i < 3; ++i) {
      Projection& p = *parts[i];
      p.has_bias = s.qkv_bias;
      if (!ws.loading()) {
        p.weight.shape = {sizes[i], hidden};
      } else if (s.qkv_layout == QkvLayout::Stacked) {  // views into the fused matrix: no copy
        p = projection_rows(fused, offsets[i], sizes[i]);
      } else {
        p.weight = per_head_part(ws.backend(), fused.weight, s.num_heads, s.head_dim, i);
        if (p.has_bias) p.bias = per_head_part(ws.backend(), fused.bias, s.num_heads, s.head_dim, i);
      }
    }
  }
  if (s.qk_norm == AttentionQkNorm::PerHead) {
    w.q_norm = ws.weight(prefix + n.q_norm + ".weight", {s.head_dim});
    w.k_norm = ws.weight(prefix + n.k_norm + ".weight", {s.head_dim});
  } else if (s.qk_norm == AttentionQkNorm::AllHeads) {
    w.q_norm = ws.weight(prefix + n.q_norm + ".weight", {qd});
    w.k_norm = ws.weight(prefix + n.k_norm + ".weight", {kvd});
  }
  if (s.sub_norm) w.sub_norm = ws.weight(prefix + n.sub_norm + ".weight", {qd});
  w.o = declare_projection(ws, prefix + n.o, hidden, qd, s.o_bias, s.format);
  return std::make_unique<SoftmaxAttention>(s, std::move(w));
}

RopeConfig rope_with_override(const RopeConfig& rope, const LoadOptions& opts, std::int64_t head_dim) {
  if (opts.rope_override.empty()) return rope;
  RopeConfig r = apply_rope_override(rope, opts.rope_override);
  validate_rope(r, head_dim);
  return r;
}

}  // namespace lmscope
