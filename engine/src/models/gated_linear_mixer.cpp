#include "models/gated_linear_mixer.h"

#include <cmath>

#include "models/projection.h"

namespace lmscope {
namespace {

class GatedLinearState final : public MixerState {
 public:
  Tensor conv_q, conv_k, conv_v;  // [K-1, channels]
  Tensor S;                       // [heads, head_k_dim, head_v_dim]
};

class GatedLinearMixer final : public TokenMixer {
 public:
  GatedLinearMixer(const GatedLinearSettings& s, Backend& b, const Checkpoint& ck, const std::string& p,
                   const Tensor* lower_bound)
      : s_(s) {
    const bool hgrn2 = s.kind == GatedLinearKind::Hgrn2;
    q_ = load_linear(b, ck, p + "q_proj", false);
    k_ = load_linear(b, ck, p + (hgrn2 ? "f_proj" : "k_proj"), false);
    v_ = load_linear(b, ck, p + (hgrn2 ? "i_proj" : "v_proj"), false);
    if (s.use_short_conv) {
      const char* names[3] = {"q_conv1d.weight", hgrn2 ? "f_conv1d.weight" : "k_conv1d.weight",
                              hgrn2 ? "i_conv1d.weight" : "v_conv1d.weight"};
      conv_q_ = load_weight(b, ck, p + names[0]).reshaped({s.key_dim(), s.conv_size});
      conv_k_ = load_weight(b, ck, p + names[1]).reshaped({s.key_dim(), s.conv_size});
      conv_v_ = load_weight(b, ck, p + names[2]).reshaped({s.value_dim(), s.conv_size});
    }
    if (s.kind == GatedLinearKind::Gla) {
      gk_down_ = load_linear(b, ck, p + "gk_proj.0", false);
      gk_up_ = load_linear(b, ck, p + "gk_proj.1", true);
    }
    if (s.kind == GatedLinearKind::RetNet) {
      // fla's retention decays: head h keeps 1 − 2^(−5−h) of its state per token
      std::vector<float> g(static_cast<std::size_t>(s.num_heads));
      for (std::int64_t h = 0; h < s.num_heads; ++h) g[h] = static_cast<float>(std::log1p(-std::exp2(-5.0 - static_cast<double>(h))));
      decay_ = b.alloc(DType::F32, {1, s.num_heads});
      b.upload(g, decay_);
      rope_.config = s.rope;
      rope_.head_dim = s.head_k_dim;
    }
    if (lower_bound) {
      lower_bound_ = *lower_bound;
      has_lower_bound_ = true;
    }
    if (s.use_output_gate && !hgrn2) g_ = load_linear(b, ck, p + "g_proj", false);
    g_norm_ = load_weight(b, ck, p + s.norm_name + ".weight");
    o_ = load_linear(b, ck, p + "o_proj", false);
  }

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
    auto& st = static_cast<GatedLinearState&>(state);
    const std::int64_t T = h.rows(), kd = s_.key_dim(), vd = s_.value_dim(), H = s_.num_heads;
    const bool hgrn2 = s_.kind == GatedLinearKind::Hgrn2;
    // ShortConvolution: SiLU for GLA / RetNet, none for HGRN2
    auto input = [&](const Projection& p, const Tensor& conv_w, Tensor& conv_state, std::int64_t dim) {
      Tensor lin = b.alloc(DType::F32, {T, dim});
      project(b, p, h, lin);
      if (!s_.use_short_conv) return lin;
      Tensor conv = b.alloc(DType::F32, {T, dim});
      b.causal_conv1d(lin, conv_w, conv_state, !hgrn2, conv);
      return conv;
    };
    Tensor q = input(q_, conv_q_, st.conv_q, kd);
    Tensor k = input(k_, conv_k_, st.conv_k, kd);  // HGRN2: the forget gate's logits
    Tensor v = input(v_, conv_v_, st.conv_v, vd);

    Tensor g;
    switch (s_.kind) {
      case GatedLinearKind::Gla: {
        Tensor low = b.alloc(DType::F32, {T, s_.gate_low_rank_dim});
        project(b, gk_down_, h, low);
        g = b.alloc(DType::F32, {T, kd});
        project(b, gk_up_, low, g);
        b.activate(g, Activation::LogSigmoid);
        b.scale(g, static_cast<float>(1.0 / s_.gate_logit_normalizer));
        break;
      }
      case GatedLinearKind::RetNet:
        b.rope(q, H, s_.head_k_dim, rope->cos, rope->sin, pos0);
        b.rope(k, H, s_.head_k_dim, rope->cos, rope->sin, pos0);
        g = decay_;
        break;
      case GatedLinearKind::Hgrn2:
        b.activate(q, Activation::Silu);
        g = k;  // becomes the log forget gate; k becomes 1 − forget
        k = b.alloc(DType::F32, {T, kd});
        b.forget_gate(g, has_lower_bound_ ? &lower_bound_ : nullptr, k);
        break;
    }

    const LinearAttentionShape shape{H, H, s_.head_k_dim, s_.head_v_dim,
                                     static_cast<float>(1.0 / std::sqrt(static_cast<double>(s_.head_k_dim)))};
    Tensor o = b.alloc(DType::F32, {T, vd});
    b.gated_linear_attention(q, k, v, g, shape, T == 1 ? 0 : kGatedLinearChunk, st.S, o);

    Tensor normed = b.alloc(DType::F32, {T, vd});
    const float eps = static_cast<float>(s_.norm_eps);
    if (hgrn2) {
      b.rmsnorm(o, g_norm_, eps, normed);  // over all channels, not per head
    } else {
      const Tensor o_heads = o.reshaped({T * H, s_.head_v_dim});
      Tensor normed_heads = normed.reshaped({T * H, s_.head_v_dim});
      if (s_.use_output_gate) {
        Tensor gate = b.alloc(DType::F32, {T, vd});
        project(b, g_, h, gate);
        b.rmsnorm_gated(o_heads, g_norm_, gate.reshaped({T * H, s_.head_v_dim}), eps, normed_heads);
      } else {
        b.rmsnorm(o_heads, g_norm_, eps, normed_heads);
      }
    }
    project(b, o_, normed, out);
  }

 private:
  GatedLinearSettings s_;
  Projection q_, k_, v_, gk_down_, gk_up_, g_, o_;
  Tensor conv_q_, conv_k_, conv_v_, decay_, lower_bound_, g_norm_;
  bool has_lower_bound_ = false;
  RopeUse rope_;
};

}  // namespace

void add_gated_linear_tensors(std::vector<ExpectedTensor>& out, const std::string& p, std::int64_t hidden,
                              const GatedLinearSettings& s) {
  const std::int64_t kd = s.key_dim(), vd = s.value_dim();
  const bool hgrn2 = s.kind == GatedLinearKind::Hgrn2;
  out.push_back({p + "q_proj.weight", {kd, hidden}});
  out.push_back({p + (hgrn2 ? "f_proj.weight" : "k_proj.weight"), {kd, hidden}});
  out.push_back({p + (hgrn2 ? "i_proj.weight" : "v_proj.weight"), {vd, hidden}});
  if (s.use_output_gate && !hgrn2) out.push_back({p + "g_proj.weight", {vd, hidden}});
  if (s.use_short_conv) {
    out.push_back({p + "q_conv1d.weight", {kd, 1, s.conv_size}});
    out.push_back({p + (hgrn2 ? "f_conv1d.weight" : "k_conv1d.weight"), {kd, 1, s.conv_size}});
    out.push_back({p + (hgrn2 ? "i_conv1d.weight" : "v_conv1d.weight"), {vd, 1, s.conv_size}});
  }
  if (s.kind == GatedLinearKind::Gla) {
    out.push_back({p + "gk_proj.0.weight", {s.gate_low_rank_dim, hidden}});
    out.push_back({p + "gk_proj.1.weight", {kd, s.gate_low_rank_dim}});
    out.push_back({p + "gk_proj.1.bias", {kd}});
  }
  out.push_back({p + s.norm_name + ".weight", {hgrn2 ? vd : s.head_v_dim}});
  out.push_back({p + "o_proj.weight", {hidden, vd}});
}

std::unique_ptr<TokenMixer> load_gated_linear_mixer(Backend& backend, const Checkpoint& ck, const std::string& prefix,
                                                    const GatedLinearSettings& s, const Tensor* lower_bound) {
  return std::make_unique<GatedLinearMixer>(s, backend, ck, prefix, lower_bound);
}

}  // namespace lmscope
