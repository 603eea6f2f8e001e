#include "models/delta_rule_mixer.h"

#include <cmath>

#include "models/projection.h"

namespace lmscope {
namespace {

constexpr float kQkL2Eps = 1e-6f;  // fla's l2norm inside its kernels

class DeltaRuleState final : public MixerState {
 public:
  Tensor conv_q, conv_k, conv_v;  // [K-1, channels]: the inputs before the next token
  Tensor S;                       // [num_v_heads, head_k_dim, head_v_dim]
};

class DeltaRuleMixer final : public TokenMixer {
 public:
  DeltaRuleMixer(const DeltaRuleSettings& s, Backend& b, const Checkpoint& ck, const std::string& p) : s_(s) {
    q_ = load_linear(b, ck, p + "q_proj", false);
    k_ = load_linear(b, ck, p + "k_proj", false);
    v_ = load_linear(b, ck, p + "v_proj", false);
    if (s.gated) {
      a_ = load_linear(b, ck, p + "a_proj", false);
      A_log_ = load_weight(b, ck, p + "A_log");
      dt_bias_ = load_weight(b, ck, p + "dt_bias");
    }
    if (s.gated || s.use_beta) b_ = load_linear(b, ck, p + "b_proj", false);
    if (s.use_short_conv) {
      // stored as torch's Conv1d weight [C, 1, K]
      conv_q_ = load_weight(b, ck, p + "q_conv1d.weight").reshaped({s.key_dim(), s.conv_size});
      conv_k_ = load_weight(b, ck, p + "k_conv1d.weight").reshaped({s.key_dim(), s.conv_size});
      conv_v_ = load_weight(b, ck, p + "v_conv1d.weight").reshaped({s.value_dim(), s.conv_size});
    }
    if (s.use_gate) g_ = load_linear(b, ck, p + "g_proj", false);
    o_norm_ = load_weight(b, ck, p + "o_norm.weight");
    o_ = load_linear(b, ck, p + "o_proj", false);
  }

  std::unique_ptr<MixerState> new_state(Backend& b) const override {
    auto st = std::make_unique<DeltaRuleState>();
    const std::int64_t hist = s_.use_short_conv ? s_.conv_size - 1 : 0;
    st->conv_q = b.alloc(DType::F32, {hist, s_.key_dim()});
    st->conv_k = b.alloc(DType::F32, {hist, s_.key_dim()});
    st->conv_v = b.alloc(DType::F32, {hist, s_.value_dim()});
    st->S = b.alloc(DType::F32, {s_.num_v_heads, s_.head_k_dim, s_.head_v_dim});
    for (Tensor* t : {&st->conv_q, &st->conv_k, &st->conv_v, &st->S}) b.fill(*t, 0.0f);
    return st;
  }

  void forward(Backend& b, const Tensor& h, std::int64_t, const RopeTables*, MixerState& state,
               Tensor& out) const override {
    mix(b, h, 1, &static_cast<DeltaRuleState&>(state), out);
  }

  // All sequences' projections, norms and gates as single products over batch × T rows; the convolution and the
  // delta rule through their batched forms (one launch each on CUDA).
  void forward_batch(Backend& b, const Tensor& h, std::int64_t batch, const RopeTables*, Tensor& out) const override {
    mix(b, h, batch, nullptr, out);
  }

 private:
  // One sequence continuing `st` (batch 1), or `batch` sequences from empty states (st null).
  void mix(Backend& b, const Tensor& h, std::int64_t batch, DeltaRuleState* st, Tensor& out) const {
    const std::int64_t T = h.rows(), kd = s_.key_dim(), vd = s_.value_dim(), HV = s_.num_v_heads;
    const bool qk_silu = s_.qk_activation == QkActivation::Silu;
    // q, k, v, the rule's output and the output gate in the backend's activation dtype (bf16 on a GPU in bf16 mode,
    // as fla keeps them); β and the decay stay float32.
    const DType act = b.activation_dtype();

    // q, k, v: projection, then the short convolution (SiLU on v always, on q and k when their activation is
    // SiLU) or, without convolutions, the same activations directly
    auto qkv = [&](const Projection& p, const Tensor& conv_w, Tensor* conv_state, bool silu, std::int64_t dim) {
      Tensor lin = b.alloc(act, {T, dim});
      project(b, p, h, lin);
      if (!s_.use_short_conv) {
        if (silu) b.activate(lin, Activation::Silu);
        return lin;
      }
      Tensor conv = b.alloc(act, {T, dim});
      if (conv_state)
        b.causal_conv1d(lin, conv_w, *conv_state, silu, conv);
      else
        b.causal_conv1d_batch(lin, conv_w, batch, silu, conv);
      return conv;
    };
    Tensor q = qkv(q_, conv_q_, st ? &st->conv_q : nullptr, qk_silu, kd);
    Tensor k = qkv(k_, conv_k_, st ? &st->conv_k : nullptr, qk_silu, kd);
    Tensor v = qkv(v_, conv_v_, st ? &st->conv_v : nullptr, true, vd);
    if (s_.qk_activation == QkActivation::Relu || s_.qk_activation == QkActivation::EluPlusOne) {
      const Activation f = s_.qk_activation == QkActivation::Relu ? Activation::Relu : Activation::EluPlusOne;
      b.activate(q, f);
      b.activate(k, f);
    }
    if (s_.qk_norm == QkNorm::L2) {
      b.l2_normalize_heads(q, s_.head_k_dim, kQkL2Eps);
      b.l2_normalize_heads(k, s_.head_k_dim, kQkL2Eps);
    } else {
      b.sum_normalize_heads(q, s_.head_k_dim);
      b.sum_normalize_heads(k, s_.head_k_dim);
    }

    Tensor beta = b.alloc(DType::F32, {T, HV});
    if (s_.gated || s_.use_beta) {
      project(b, b_, h, beta);
      b.activate(beta, Activation::Sigmoid);
    } else {
      b.fill(beta, 1.0f);
    }
    if (s_.allow_neg_eigval) b.scale(beta, 2.0f);
    Tensor g;
    if (s_.gated) {
      g = b.alloc(DType::F32, {T, HV});
      project(b, a_, h, g);
      b.decay_gate(g, A_log_, dt_bias_);
    }

    const DeltaRuleShape shape{s_.num_heads, HV, s_.head_k_dim, s_.head_v_dim,
                               static_cast<float>(1.0 / std::sqrt(static_cast<double>(s_.head_k_dim)))};
    Tensor o = b.alloc(act, {T, vd});
    const Tensor* gp = s_.gated ? &g : nullptr;
    if (!st)
      b.delta_rule_chunked_batch(q, k, v, beta, gp, shape, kDeltaRuleChunk, batch, o);
    else if (T == 1)
      b.delta_rule_recurrent(q, k, v, beta, gp, shape, st->S, o);
    else
      b.delta_rule_chunked(q, k, v, beta, gp, shape, kDeltaRuleChunk, st->S, o);

    // the output norm works per head: rows of head_v_dim values
    Tensor normed = b.alloc(act, {T, vd});
    const Tensor o_heads = o.reshaped({T * HV, s_.head_v_dim});
    Tensor normed_heads = normed.reshaped({T * HV, s_.head_v_dim});
    if (s_.use_gate) {
      Tensor gate = b.alloc(act, {T, vd});
      project(b, g_, h, gate);
      b.rmsnorm_gated(o_heads, o_norm_, gate.reshaped({T * HV, s_.head_v_dim}), static_cast<float>(s_.norm_eps),
                      normed_heads);
    } else {
      b.rmsnorm(o_heads, o_norm_, static_cast<float>(s_.norm_eps), normed_heads);
    }
    project(b, o_, normed, out);
  }

  DeltaRuleSettings s_;
  Projection q_, k_, v_, a_, b_, g_, o_;
  Tensor A_log_, dt_bias_, conv_q_, conv_k_, conv_v_, o_norm_;
};

}  // namespace

void add_delta_rule_tensors(std::vector<ExpectedTensor>& out, const std::string& p, std::int64_t hidden,
                            const DeltaRuleSettings& s) {
  const std::int64_t kd = s.key_dim(), vd = s.value_dim(), HV = s.num_v_heads;
  // in fla's module order
  out.push_back({p + "q_proj.weight", {kd, hidden}});
  out.push_back({p + "k_proj.weight", {kd, hidden}});
  out.push_back({p + "v_proj.weight", {vd, hidden}});
  if (s.gated) out.push_back({p + "a_proj.weight", {HV, hidden}});
  if (s.gated || s.use_beta) out.push_back({p + "b_proj.weight", {HV, hidden}});
  if (s.gated) {
    out.push_back({p + "A_log", {HV}});
    out.push_back({p + "dt_bias", {HV}});
  }
  if (s.use_short_conv) {
    out.push_back({p + "q_conv1d.weight", {kd, 1, s.conv_size}});
    out.push_back({p + "k_conv1d.weight", {kd, 1, s.conv_size}});
    out.push_back({p + "v_conv1d.weight", {vd, 1, s.conv_size}});
  }
  if (s.use_gate) out.push_back({p + "g_proj.weight", {vd, hidden}});
  out.push_back({p + "o_norm.weight", {s.head_v_dim}});
  out.push_back({p + "o_proj.weight", {hidden, vd}});
}

std::unique_ptr<TokenMixer> load_delta_rule_mixer(Backend& backend, const Checkpoint& ck, const std::string& prefix,
                                                  const DeltaRuleSettings& s) {
  return std::make_unique<DeltaRuleMixer>(s, backend, ck, prefix);
}

}  // namespace lmscope
