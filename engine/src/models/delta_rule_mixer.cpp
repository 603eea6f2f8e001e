#include "models/delta_rule_mixer.h"

#include <cmath>
#include <vector>

#include "models/projection.h"
#include "models/weight_set.h"

namespace lmscope {
namespace {

constexpr float kQkL2Eps = 1e-6f;  // fla's l2norm inside its kernels

class DeltaRuleState final : public MixerState {
 public:
  Tensor conv_q, conv_k, conv_v;  // [K-1, channels]: the inputs before the next token
  Tensor S;                       // [num_v_heads, head_k_dim, head_v_dim]
};

struct DeltaRuleWeights {
  Projection q, k, v, a, b, g, o;
  Tensor A_log, dt_bias, conv_q, conv_k, conv_v, o_norm;  // convolutions as [channels, K]
};

class DeltaRuleMixer final : public TokenMixer {
 public:
  DeltaRuleMixer(const DeltaRuleSettings& s, DeltaRuleWeights w) : s_(s), w_(std::move(w)) {}

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
    DeltaRuleState* st = &static_cast<DeltaRuleState&>(state);
    mix(b, h, 1, std::span<DeltaRuleState* const>(&st, 1), out);
  }

  // All sequences' projections, norms and gates as single products over batch × T rows; the convolution and the
  // delta rule through their batched forms (one launch each on CUDA).
  void forward_batch(Backend& b, const Tensor& h, std::int64_t batch, const RopeTables*, Tensor& out) const override {
    mix(b, h, batch, {}, out);
  }

  // A decoding step of n sequences: every product, norm and gate over all n rows; the convolutions and the rule
  // step each row's own state in one backend call each (per-sequence launches made a GDN-1.3B step at batch 8
  // ~42 ms on the H200).
  void forward_decode(Backend& b, const Tensor& h, std::span<const std::int64_t>, std::span<const RopeTables* const>,
                      std::span<MixerState* const> states, Tensor& out) const override {
    std::vector<DeltaRuleState*> st;
    for (MixerState* m : states) st.push_back(&static_cast<DeltaRuleState&>(*m));
    mix(b, h, 1, st, out);
  }

 private:
  // `batch` sequences of h.rows() / batch tokens from empty states (states empty); one sequence of h.rows() tokens
  // continuing states[0]; or one token each of h.rows() sequences continuing states[i] (a decoding step, several
  // states).
  void mix(Backend& b, const Tensor& h, std::int64_t batch, std::span<DeltaRuleState* const> states, Tensor& out) const {
    DeltaRuleState* st = states.size() == 1 ? states[0] : nullptr;
    const bool step = states.size() > 1;
    const std::int64_t T = h.rows(), kd = s_.key_dim(), vd = s_.value_dim(), HV = s_.num_v_heads;
    const bool qk_silu = s_.qk_activation == QkActivation::Silu;
    // q, k, v, the rule's output and the output gate in the backend's activation dtype (bf16 on a GPU in bf16 mode,
    // as fla keeps them); β and the decay stay float32.
    const DType act = b.activation_dtype();

    // q, k, v: projection, then the short convolution (SiLU on v always, on q and k when their activation is
    // SiLU) or, without convolutions, the same activations directly
    auto qkv = [&](const Projection& p, const Tensor& conv_w, Tensor DeltaRuleState::*conv_state, bool silu, std::int64_t dim) {
      Tensor lin = b.alloc(act, {T, dim});
      project(b, p, h, lin);
      if (!s_.use_short_conv) {
        if (silu) b.activate(lin, Activation::Silu);
        return lin;
      }
      Tensor conv = b.alloc(act, {T, dim});
      if (st) {
        b.causal_conv1d(lin, conv_w, st->*conv_state, silu, conv);
      } else if (step) {
        std::vector<Tensor*> hist;
        for (DeltaRuleState* s : states) hist.push_back(&(s->*conv_state));
        b.causal_conv1d_step_batch(lin, conv_w, hist, silu, conv);
      } else
        b.causal_conv1d_batch(lin, conv_w, nullptr, batch, silu, conv);
      return conv;
    };
    Tensor q = qkv(w_.q, w_.conv_q, &DeltaRuleState::conv_q, qk_silu, kd);
    Tensor k = qkv(w_.k, w_.conv_k, &DeltaRuleState::conv_k, qk_silu, kd);
    Tensor v = qkv(w_.v, w_.conv_v, &DeltaRuleState::conv_v, true, vd);
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
      project(b, w_.b, h, beta);
      b.activate(beta, Activation::Sigmoid);
    } else {
      b.fill(beta, 1.0f);
    }
    if (s_.allow_neg_eigval) b.scale(beta, 2.0f);
    Tensor g;
    if (s_.gated) {
      g = b.alloc(DType::F32, {T, HV});
      project(b, w_.a, h, g);
      b.decay_gate(g, w_.A_log, w_.dt_bias);
    }

    const DeltaRuleShape shape{s_.num_heads, HV, s_.head_k_dim, s_.head_v_dim,
                               static_cast<float>(1.0 / std::sqrt(static_cast<double>(s_.head_k_dim)))};
    Tensor o = b.alloc(act, {T, vd});
    const Tensor* gp = s_.gated ? &g : nullptr;
    if (step) {
      std::vector<Tensor*> S;
      for (DeltaRuleState* s : states) S.push_back(&s->S);
      b.delta_rule_step_batch(q, k, v, beta, gp, shape, S, o);
    } else if (!st)
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
      project(b, w_.g, h, gate);
      b.rmsnorm_gated(o_heads, w_.o_norm, gate.reshaped({T * HV, s_.head_v_dim}), static_cast<float>(s_.norm_eps),
                      normed_heads);
    } else {
      b.rmsnorm(o_heads, w_.o_norm, static_cast<float>(s_.norm_eps), normed_heads);
    }
    project(b, w_.o, normed, out);
  }

  DeltaRuleSettings s_;
  DeltaRuleWeights w_;
};

}  // namespace

std::unique_ptr<TokenMixer> declare_delta_rule_mixer(WeightSet& ws, const std::string& p, std::int64_t hidden,
                                                     const DeltaRuleSettings& s) {
  const std::int64_t kd = s.key_dim(), vd = s.value_dim(), HV = s.num_v_heads, K = s.conv_size;
  DeltaRuleWeights w;
  // in fla's module order (the order random checkpoints draw their values in)
  w.q = declare_projection(ws, p + "q_proj", kd, hidden, false);
  w.k = declare_projection(ws, p + "k_proj", kd, hidden, false);
  w.v = declare_projection(ws, p + "v_proj", vd, hidden, false);
  if (s.gated) w.a = declare_projection(ws, p + "a_proj", HV, hidden, false);
  if (s.gated || s.use_beta) w.b = declare_projection(ws, p + "b_proj", HV, hidden, false);
  if (s.gated) {
    w.A_log = ws.weight(p + "A_log", {HV});
    w.dt_bias = ws.weight(p + "dt_bias", {HV});
  }
  if (s.use_short_conv) {  // stored as torch's Conv1d weight [C, 1, K]
    w.conv_q = ws.weight(p + "q_conv1d.weight", {kd, 1, K}).reshaped({kd, K});
    w.conv_k = ws.weight(p + "k_conv1d.weight", {kd, 1, K}).reshaped({kd, K});
    w.conv_v = ws.weight(p + "v_conv1d.weight", {vd, 1, K}).reshaped({vd, K});
  }
  if (s.use_gate) w.g = declare_projection(ws, p + "g_proj", vd, hidden, false);
  w.o_norm = ws.weight(p + "o_norm.weight", {s.head_v_dim});
  w.o = declare_projection(ws, p + "o_proj", hidden, vd, false);
  return std::make_unique<DeltaRuleMixer>(s, std::move(w));
}

}  // namespace lmscope
