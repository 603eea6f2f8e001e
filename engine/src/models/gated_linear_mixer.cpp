#include "models/gated_linear_mixer.h"

#include <cmath>
#include <vector>

#include "models/projection.h"
#include "models/weight_set.h"

namespace lmscope {
namespace {

class GatedLinearState final : public MixerState {
 public:
  Tensor conv_q, conv_k, conv_v;  // [K-1, channels]
  Tensor S;                       // [heads, head_k_dim, head_v_dim]
};

struct GatedLinearWeights {
  Projection q, k, v, gk_down, gk_up, g, o;  // HGRN2: k is f_proj, v is i_proj
  Tensor conv_q, conv_k, conv_v;             // [channels, K]
  Tensor decay;                              // RetNet: [1, heads]
  Tensor lower_bound;                        // HGRN2, when has_lower_bound: [key_dim]
  bool has_lower_bound = false;
  Tensor g_norm;
};

class GatedLinearMixer final : public TokenMixer {
 public:
  GatedLinearMixer(const GatedLinearSettings& s, GatedLinearWeights w) : s_(s), w_(std::move(w)), rope_{s.rope, s.head_k_dim} {}

  const RopeUse* rope() const override { return s_.kind == GatedLinearKind::RetNet ? &rope_ : nullptr; }

  std::unique_ptr<MixerState> new_state(Backend& b) const override {
    auto st = std::make_unique<GatedLinearState>();
    const std::int64_t hist = s_.use_short_conv ? s_.conv_size - 1 : 0;
    st->conv_q = b.alloc(DType::F32, {hist, s_.key_dim()});
    st->conv_k = b.alloc(DType::F32, {hist, s_.key_dim()});
    st->conv_v = b.alloc(DType::F32, {hist, s_.value_dim()});
    st->S = b.alloc(DType::F32, {s_.num_heads, s_.head_k_dim, s_.head_v_dim});
    for (Tensor* t : {&st->conv_q, &st->conv_k, &st->conv_v, &st->S}) b.fill(*t, 0.0f);
    return st;
  }

  void forward(Backend& b, const Tensor& h, std::int64_t pos0, const RopeTables* rope, MixerState& state,
               Tensor& out) const override {
    GatedLinearState* st = &static_cast<GatedLinearState&>(state);
    const RopeTables* const ropes[1] = {rope};
    mix(b, h, 1, std::span<const std::int64_t>(&pos0, 1), ropes, std::span<GatedLinearState* const>(&st, 1), out);
  }

  // All sequences' projections, gates and norms as single products over batch × T rows (RoPE per sequence); the
  // convolutions and the recurrence through their batched forms (one launch each on CUDA).
  void forward_batch(Backend& b, const Tensor& h, std::int64_t batch, const RopeTables* rope, Tensor& out) const override {
    const RopeTables* const ropes[1] = {rope};
    mix(b, h, batch, {}, ropes, {}, out);
  }

  void forward_decode(Backend& b, const Tensor& h, std::span<const std::int64_t> pos, std::span<const RopeTables* const> rope,
                      std::span<MixerState* const> states, Tensor& out) const override {
    std::vector<GatedLinearState*> st;
    for (MixerState* m : states) st.push_back(&static_cast<GatedLinearState&>(*m));
    mix(b, h, 1, pos, rope, st, out);
  }

 private:
  // `batch` sequences of h.rows() / batch tokens from empty states at positions 0.. (states empty, rope[0] their
  // tables), one sequence continuing states[0] from position pos[0], or one token each of h.rows() sequences (a
  // decoding step, several states; row i at pos[i] with rope[i]).
  void mix(Backend& b, const Tensor& h, std::int64_t batch, std::span<const std::int64_t> pos,
           std::span<const RopeTables* const> rope, std::span<GatedLinearState* const> states, Tensor& out) const {
    GatedLinearState* st = states.size() == 1 ? states[0] : nullptr;
    const bool step = states.size() > 1;
    const std::int64_t T = h.rows(), kd = s_.key_dim(), vd = s_.value_dim(), H = s_.num_heads;
    const bool hgrn2 = s_.kind == GatedLinearKind::Hgrn2;
    // Activations in the backend's type (bf16 on a GPU in bf16 mode: the chunked kernels take them as they are);
    // log decays and HGRN2's forget logits stay float32, since a decay is the exponential of a sum of them.
    const DType act = b.activation_dtype();
    // ShortConvolution: SiLU for GLA / RetNet, none for HGRN2
    auto input = [&](const Projection& p, const Tensor& conv_w, Tensor GatedLinearState::*conv_state, std::int64_t dim,
                     DType dtype) {
      Tensor lin = b.alloc(dtype, {T, dim});
      project(b, p, h, lin);
      if (!s_.use_short_conv) return lin;
      Tensor conv = b.alloc(dtype, {T, dim});
      if (st) {
        b.causal_conv1d(lin, conv_w, st->*conv_state, !hgrn2, conv);
      } else if (step) {
        std::vector<Tensor*> hist;
        for (GatedLinearState* s : states) hist.push_back(&(s->*conv_state));
        b.causal_conv1d_step_batch(lin, conv_w, hist, !hgrn2, conv);
      } else {
        b.causal_conv1d_batch(lin, conv_w, nullptr, batch, !hgrn2, conv);
      }
      return conv;
    };
    Tensor q = input(w_.q, w_.conv_q, &GatedLinearState::conv_q, kd, act);
    Tensor k = input(w_.k, w_.conv_k, &GatedLinearState::conv_k, kd, hgrn2 ? DType::F32 : act);  // HGRN2: forget logits
    Tensor v = input(w_.v, w_.conv_v, &GatedLinearState::conv_v, vd, act);

    Tensor g;
    switch (s_.kind) {
      case GatedLinearKind::Gla: {
        Tensor low = b.alloc(DType::F32, {T, s_.gate_low_rank_dim});
        project(b, w_.gk_down, h, low);
        g = b.alloc(DType::F32, {T, kd});
        project(b, w_.gk_up, low, g);
        b.activate(g, Activation::LogSigmoid);
        b.scale(g, static_cast<float>(1.0 / s_.gate_logit_normalizer));
        break;
      }
      case GatedLinearKind::RetNet: {
        // each of the batch's sequences from 0 (one call), one sequence from pos[0], or each row from its own position
        if (!st && !step) {
          b.rope_batch(q, batch, H, s_.head_k_dim, rope[0]->cos, rope[0]->sin);
          b.rope_batch(k, batch, H, s_.head_k_dim, rope[0]->cos, rope[0]->sin);
          g = w_.decay;
          break;
        }
        const std::int64_t pieces = step ? T : 1, rows = T / pieces;
        for (std::int64_t i = 0; i < pieces; ++i) {
          const RopeTables* r = rope[step ? static_cast<std::size_t>(i) : 0];
          const std::int64_t p0 = pos[static_cast<std::size_t>(i)];
          Tensor qi = q.slice_rows(i * rows, rows), ki = k.slice_rows(i * rows, rows);
          b.rope(qi, H, s_.head_k_dim, r->cos, r->sin, p0);
          b.rope(ki, H, s_.head_k_dim, r->cos, r->sin, p0);
        }
        g = w_.decay;
        break;
      }
      case GatedLinearKind::Hgrn2:
        b.activate(q, Activation::Silu);
        g = k;  // becomes the log forget gate; k becomes 1 − forget
        k = b.alloc(DType::F32, {T, kd});  // float32 like g: the kernel shares one type between them
        b.forget_gate(g, w_.has_lower_bound ? &w_.lower_bound : nullptr, k);
        break;
    }

    const LinearAttentionShape shape{H, H, s_.head_k_dim, s_.head_v_dim,
                                     static_cast<float>(1.0 / std::sqrt(static_cast<double>(s_.head_k_dim)))};
    Tensor o = b.alloc(act, {T, vd});
    if (st) {
      b.gated_linear_attention(q, k, v, g, shape, T == 1 ? 0 : kGatedLinearChunk, st->S, o);
    } else if (step) {
      std::vector<Tensor*> S;
      for (GatedLinearState* s : states) S.push_back(&s->S);
      b.gated_linear_attention_step_batch(q, k, v, g, shape, S, o);
    } else {
      b.gated_linear_attention_batch(q, k, v, g, shape, kGatedLinearChunk, batch, o);
    }

    Tensor normed = b.alloc(act, {T, vd});
    const float eps = static_cast<float>(s_.norm_eps);
    if (hgrn2) {
      b.rmsnorm(o, w_.g_norm, eps, normed);  // over all channels, not per head
    } else {
      const Tensor o_heads = o.reshaped({T * H, s_.head_v_dim});
      Tensor normed_heads = normed.reshaped({T * H, s_.head_v_dim});
      if (s_.use_output_gate) {
        Tensor gate = b.alloc(act, {T, vd});
        project(b, w_.g, h, gate);
        b.rmsnorm_gated(o_heads, w_.g_norm, gate.reshaped({T * H, s_.head_v_dim}), eps, normed_heads);
      } else {
        b.rmsnorm(o_heads, w_.g_norm, eps, normed_heads);
      }
    }
    project(b, w_.o, normed, out);
  }

  GatedLinearSettings s_;
  GatedLinearWeights w_;
  RopeUse rope_;  // RetNet
};

}  // namespace

std::unique_ptr<TokenMixer> declare_gated_linear_mixer(WeightSet& ws, const std::string& p, std::int64_t hidden,
                                                       const GatedLinearSettings& s, const Tensor* lower_bound) {
  const std::int64_t kd = s.key_dim(), vd = s.value_dim(), K = s.conv_size;
  const bool hgrn2 = s.kind == GatedLinearKind::Hgrn2;
  GatedLinearWeights w;
  // in fla's module order (the order random checkpoints draw their values in)
  w.q = declare_projection(ws, p + "q_proj", kd, hidden, false);
  w.k = declare_projection(ws, p + (hgrn2 ? "f_proj" : "k_proj"), kd, hidden, false);
  w.v = declare_projection(ws, p + (hgrn2 ? "i_proj" : "v_proj"), vd, hidden, false);
  if (s.use_output_gate && !hgrn2) w.g = declare_projection(ws, p + "g_proj", vd, hidden, false);
  if (s.use_short_conv) {  // stored as torch's Conv1d weight [C, 1, K]
    w.conv_q = ws.weight(p + "q_conv1d.weight", {kd, 1, K}).reshaped({kd, K});
    w.conv_k = ws.weight(p + (hgrn2 ? "f_conv1d.weight" : "k_conv1d.weight"), {kd, 1, K}).reshaped({kd, K});
    w.conv_v = ws.weight(p + (hgrn2 ? "i_conv1d.weight" : "v_conv1d.weight"), {vd, 1, K}).reshaped({vd, K});
  }
  if (s.kind == GatedLinearKind::Gla) {
    w.gk_down = declare_projection(ws, p + "gk_proj.0", s.gate_low_rank_dim, hidden, false);
    w.gk_up = declare_projection(ws, p + "gk_proj.1", kd, s.gate_low_rank_dim, true);
  }
  w.g_norm = ws.weight(p + s.norm_name + ".weight", {hgrn2 ? vd : s.head_v_dim});
  w.o = declare_projection(ws, p + "o_proj", hidden, vd, false);
  if (s.kind == GatedLinearKind::RetNet && ws.loading()) {
    // fla's retention decays: head h keeps 1 − 2^(−5−h) of its state per token
    std::vector<float> g(static_cast<std::size_t>(s.num_heads));
    for (std::int64_t h = 0; h < s.num_heads; ++h) g[h] = static_cast<float>(std::log1p(-std::exp2(-5.0 - static_cast<double>(h))));
    w.decay = ws.backend().alloc(DType::F32, {1, s.num_heads});
    ws.backend().upload(g, w.decay);
  }
  if (lower_bound) {
    w.lower_bound = *lower_bound;
    w.has_lower_bound = true;
  }
  return std::make_unique<GatedLinearMixer>(s, std::move(w));
}

}  // namespace lmscope
