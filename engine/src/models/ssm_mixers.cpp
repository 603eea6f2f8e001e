#include "models/ssm_mixers.h"

#include <span>
#include <vector>

#include "models/projection.h"
#include "models/weight_set.h"

namespace lmscope {
namespace {

// The fused projections of the checkpoints (in_proj, x_proj) are used as their parts (projection_rows), so no op
// ever needs to split activations by column; the depthwise convolution likewise.

// A depthwise convolution's channels [begin, begin + count): weight [count, K] and bias [count] (or none).
struct ConvPart {
  Tensor weight, bias;
  bool has_bias = false;
};

ConvPart conv_slice(const Tensor& w, const Tensor* bias, std::int64_t begin, std::int64_t count) {
  ConvPart c;
  if (w.data == nullptr) {  // a declaration's placeholder: the shapes only
    c.weight.shape = {count, w.cols()};
    c.has_bias = bias != nullptr;
    return c;
  }
  c.weight = w.slice_rows(begin, count);
  if (bias) {
    c.has_bias = true;
    c.bias = bias->reshaped({bias->numel(), 1}).slice_rows(begin, count).reshaped({count});
  }
  return c;
}

// causal conv, bias, SiLU: transformers' act(conv1d(x)) with its padding, in pieces (the SiLU inside the
// convolution when there is no bias, else with the bias in one pass; the batched scoring form takes both). The
// convolution carries one sequence's history (states of size 1), steps each row's own (a decoding step, several
// states), or scores `batch` sequences from zero history (no states).
template <class S>
Tensor conv_silu(Backend& b, const Tensor& x, const ConvPart& c, std::int64_t batch, std::span<S* const> states,
                 Tensor S::*history) {
  Tensor out = b.alloc(x.dtype, x.shape);
  const bool silu = !c.has_bias;
  if (states.size() == 1) {
    b.causal_conv1d(x, c.weight, states[0]->*history, silu, out);
  } else if (!states.empty()) {
    std::vector<Tensor*> hist;
    for (S* s : states) hist.push_back(&(s->*history));
    b.causal_conv1d_step_batch(x, c.weight, hist, silu, out);
  } else {
    b.causal_conv1d_batch(x, c.weight, c.has_bias ? &c.bias : nullptr, batch, true, out);
    return out;
  }
  if (c.has_bias) b.add_bias_silu(out, c.bias);
  return out;
}

template <class S>
std::vector<Tensor*> ssm_states(std::span<S* const> states) {
  std::vector<Tensor*> out;
  for (S* s : states) out.push_back(&s->ssm);
  return out;
}

template <class S>
std::vector<S*> cast_states(std::span<MixerState* const> states) {
  std::vector<S*> out;
  for (MixerState* m : states) out.push_back(&static_cast<S&>(*m));
  return out;
}

Tensor zeros(Backend& b, std::vector<std::int64_t> shape) {
  Tensor t = b.alloc(DType::F32, std::move(shape));
  b.fill(t, 0.0f);
  return t;
}

class MambaState final : public MixerState {
 public:
  Tensor conv;  // [K-1, intermediate]
  Tensor ssm;   // [intermediate, N]
};

struct MambaWeights {
  Projection in_x, in_z, x_dt, x_B, x_C, dt, out;
  Projection dt_without_bias;  // dt's weight alone: the scoring scan adds the bias itself
  ConvPart conv;
  Tensor A_log, D;
};

class MambaMixer final : public TokenMixer {
 public:
  MambaMixer(const MambaSettings& s, MambaWeights w) : s_(s), w_(std::move(w)) {}

  std::unique_ptr<MixerState> new_state(Backend& b) const override {
    auto st = std::make_unique<MambaState>();
    st->conv = zeros(b, {s_.conv_kernel - 1, s_.intermediate});
    st->ssm = zeros(b, {s_.intermediate, s_.state_size});
    return st;
  }

  void forward(Backend& b, const Tensor& h, std::int64_t, const RopeTables*, MixerState& state, Tensor& out) const override {
    MambaState* st = &static_cast<MambaState&>(state);
    mix(b, h, 1, std::span<MambaState* const>(&st, 1), out);
  }

  // All sequences' projections as single products over batch × T rows; the convolution and the scan through their
  // batched forms (one launch each on CUDA).
  void forward_batch(Backend& b, const Tensor& h, std::int64_t batch, const RopeTables*, Tensor& out) const override {
    mix(b, h, batch, {}, out);
  }

  void forward_decode(Backend& b, const Tensor& h, std::span<const std::int64_t>, std::span<const RopeTables* const>,
                      std::span<MixerState* const> states, Tensor& out) const override {
    const auto st = cast_states<MambaState>(states);
    mix(b, h, 1, st, out);
  }

 private:
  // `batch` sequences of h.rows() / batch tokens from empty states (states empty), one sequence continuing
  // states[0], or one token each of h.rows() sequences (a decoding step, several states).
  void mix(Backend& b, const Tensor& h, std::int64_t batch, std::span<MambaState* const> states, Tensor& out) const {
    const std::int64_t T = h.rows(), I = s_.intermediate, N = s_.state_size;
    // Activations in the backend's type (bf16 on a GPU in bf16 mode); Δ, B and C float32, as the scan's exponentials
    // and state updates take them.
    const DType act = b.activation_dtype();
    Tensor x = b.alloc(act, {T, I}), z = b.alloc(act, {T, I});
    project(b, w_.in_x, h, x);
    project(b, w_.in_z, h, z);
    const Tensor xc = conv_silu(b, x, w_.conv, batch, states, &MambaState::conv);
    Tensor dt_low = b.alloc(act, {T, s_.dt_rank}), Bm = b.alloc(DType::F32, {T, N}), Cm = b.alloc(DType::F32, {T, N});
    project(b, w_.x_dt, xc, dt_low);
    project(b, w_.x_B, xc, Bm);
    project(b, w_.x_C, xc, Cm);
    Tensor delta = b.alloc(DType::F32, {T, I}), gated = b.alloc(act, {T, I});
    if (states.size() > 1 || (states.size() == 1 && T == 1)) {  // a decoding step: the token-by-token ops
      project(b, w_.dt, dt_low, delta);
      b.activate(delta, Activation::Softplus);
      Tensor y = b.alloc(act, {T, I});
      if (states.size() == 1)
        b.selective_scan(xc, delta, w_.A_log, Bm, Cm, w_.D, 0, states[0]->ssm, y);
      else
        b.selective_scan_step_batch(xc, delta, w_.A_log, Bm, Cm, w_.D, ssm_states(states), y);
      b.swiglu(z, y, gated);  // y · silu(z)
    } else {  // whole sequences: the step size's bias and softplus and the gate inside the scan
      project(b, w_.dt_without_bias, dt_low, delta);
      Tensor fresh;
      if (states.empty()) fresh = zeros(b, {batch * I, N});
      Tensor& st = states.empty() ? fresh : states[0]->ssm;
      b.selective_scan_gated(xc, delta, w_.dt.bias, w_.A_log, Bm, Cm, w_.D, z, kSsmChunk, batch, st, gated);
    }
    project(b, w_.out, gated, out);
  }

  MambaSettings s_;
  MambaWeights w_;
};

class Mamba2State final : public MixerState {
 public:
  Tensor conv_x, conv_B, conv_C;  // [K-1, channels] each: the depthwise convolution splits by channel
  Tensor ssm;                     // [heads, N, head_dim]
};

struct Mamba2Weights {
  Projection in_z, in_x, in_B, in_C, in_dt, out;
  ConvPart conv_x, conv_B, conv_C;
  Tensor dt_bias, A_log, D, norm;
};

class Mamba2Mixer final : public TokenMixer {
 public:
  Mamba2Mixer(const Mamba2Settings& s, Mamba2Weights w) : s_(s), w_(std::move(w)) {}

  std::unique_ptr<MixerState> new_state(Backend& b) const override {
    auto st = std::make_unique<Mamba2State>();
    const std::int64_t K1 = s_.conv_kernel - 1, GN = s_.n_groups * s_.state_size;
    st->conv_x = zeros(b, {K1, s_.intermediate()});
    st->conv_B = zeros(b, {K1, GN});
    st->conv_C = zeros(b, {K1, GN});
    st->ssm = zeros(b, {s_.num_heads, s_.state_size, s_.head_dim});
    return st;
  }

  void forward(Backend& b, const Tensor& h, std::int64_t, const RopeTables*, MixerState& state, Tensor& out) const override {
    Mamba2State* st = &static_cast<Mamba2State&>(state);
    mix(b, h, 1, std::span<Mamba2State* const>(&st, 1), out);
  }

  void forward_batch(Backend& b, const Tensor& h, std::int64_t batch, const RopeTables*, Tensor& out) const override {
    mix(b, h, batch, {}, out);
  }

  void forward_decode(Backend& b, const Tensor& h, std::span<const std::int64_t>, std::span<const RopeTables* const>,
                      std::span<MixerState* const> states, Tensor& out) const override {
    const auto st = cast_states<Mamba2State>(states);
    mix(b, h, 1, st, out);
  }

 private:
  // As MambaMixer::mix.
  void mix(Backend& b, const Tensor& h, std::int64_t batch, std::span<Mamba2State* const> states, Tensor& out) const {
    const std::int64_t T = h.rows(), I = s_.intermediate(), GN = s_.n_groups * s_.state_size, H = s_.num_heads;
    // Activations in the backend's type (bf16 on a GPU in bf16 mode, as the chunked SSD kernel takes them); dt stays
    // float32, since the decays are exponentials of its sums.
    const DType act = b.activation_dtype();
    auto proj = [&](const Projection& p, std::int64_t n, DType dtype) {
      Tensor t = b.alloc(dtype, {T, n});
      project(b, p, h, t);
      return t;
    };
    const Tensor z = proj(w_.in_z, I, act);
    const Tensor x = conv_silu(b, proj(w_.in_x, I, act), w_.conv_x, batch, states, &Mamba2State::conv_x);
    const Tensor Bm = conv_silu(b, proj(w_.in_B, GN, act), w_.conv_B, batch, states, &Mamba2State::conv_B);
    const Tensor Cm = conv_silu(b, proj(w_.in_C, GN, act), w_.conv_C, batch, states, &Mamba2State::conv_C);
    Tensor dt = proj(w_.in_dt, H, DType::F32);
    b.add_bias(dt, w_.dt_bias);
    b.activate(dt, Activation::Softplus);  // time_step_limit (0, inf): the clamp changes nothing
    const LinearAttentionShape shape{s_.n_groups, H, s_.state_size, s_.head_dim, 1.0f};
    Tensor y = b.alloc(act, {T, I});
    if (states.size() == 1)
      b.ssd(x, dt, w_.A_log, Bm, Cm, w_.D, shape, T == 1 ? 0 : s_.chunk_size, states[0]->ssm, y);
    else if (!states.empty())
      b.ssd_step_batch(x, dt, w_.A_log, Bm, Cm, w_.D, shape, ssm_states(states), y);
    else
      b.ssd_batch(x, dt, w_.A_log, Bm, Cm, w_.D, shape, s_.chunk_size, batch, y);
    // the gated RMSNorm with norm_before_gate=False: norm(y · silu(z)) · w over all channels
    Tensor normed = b.alloc(act, {T, I});
    b.rmsnorm_of_gated(y, w_.norm, z, static_cast<float>(s_.norm_eps), normed);
    project(b, w_.out, normed, out);
  }

  Mamba2Settings s_;
  Mamba2Weights w_;
};

}  // namespace

std::unique_ptr<TokenMixer> declare_mamba_mixer(WeightSet& ws, const std::string& p, const MambaSettings& s) {
  const std::int64_t I = s.intermediate, N = s.state_size, R = s.dt_rank;
  MambaWeights w;
  // in transformers' module order (the order random checkpoints draw their values in)
  w.A_log = ws.weight(p + "A_log", {I, N});
  w.D = ws.weight(p + "D", {I});
  const Tensor conv_w = ws.weight(p + "conv1d.weight", {I, 1, s.conv_kernel}).reshaped({I, s.conv_kernel});
  Tensor conv_b;
  if (s.use_conv_bias) conv_b = ws.weight(p + "conv1d.bias", {I});
  w.conv = conv_slice(conv_w, s.use_conv_bias ? &conv_b : nullptr, 0, I);
  const Projection in = declare_projection(ws, p + "in_proj", 2 * I, s.hidden, s.use_bias);  // [x, z]
  w.in_x = projection_rows(in, 0, I);
  w.in_z = projection_rows(in, I, I);
  const Projection xp = declare_projection(ws, p + "x_proj", R + 2 * N, I, false);  // [dt_low, B, C]
  w.x_dt = projection_rows(xp, 0, R);
  w.x_B = projection_rows(xp, R, N);
  w.x_C = projection_rows(xp, R + N, N);
  w.dt = declare_projection(ws, p + "dt_proj", I, R, true);
  w.dt_without_bias = w.dt;
  w.dt_without_bias.has_bias = false;
  w.dt_without_bias.bias = Tensor{};
  w.out = declare_projection(ws, p + "out_proj", s.hidden, I, s.use_bias);
  return std::make_unique<MambaMixer>(s, std::move(w));
}

std::unique_ptr<TokenMixer> declare_mamba2_mixer(WeightSet& ws, const std::string& p, const Mamba2Settings& s) {
  const std::int64_t I = s.intermediate(), GN = s.n_groups * s.state_size, H = s.num_heads;
  Mamba2Weights w;
  w.dt_bias = ws.weight(p + "dt_bias", {H});
  w.A_log = ws.weight(p + "A_log", {H});
  w.D = ws.weight(p + "D", {s.d_has_hdim ? I : H});
  const Tensor conv_w = ws.weight(p + "conv1d.weight", {s.conv_dim(), 1, s.conv_kernel}).reshaped({s.conv_dim(), s.conv_kernel});
  Tensor conv_b;
  if (s.use_conv_bias) conv_b = ws.weight(p + "conv1d.bias", {s.conv_dim()});
  const Tensor* cb = s.use_conv_bias ? &conv_b : nullptr;
  w.conv_x = conv_slice(conv_w, cb, 0, I);  // the convolution's channels are [x, B, C]
  w.conv_B = conv_slice(conv_w, cb, I, GN);
  w.conv_C = conv_slice(conv_w, cb, I + GN, GN);
  const Projection in = declare_projection(ws, p + "in_proj", I + s.conv_dim() + H, s.hidden, s.use_bias);  // [z, x, B, C, dt]
  w.in_z = projection_rows(in, 0, I);
  w.in_x = projection_rows(in, I, I);
  w.in_B = projection_rows(in, 2 * I, GN);
  w.in_C = projection_rows(in, 2 * I + GN, GN);
  w.in_dt = projection_rows(in, 2 * I + 2 * GN, H);
  w.norm = ws.weight(p + "norm.weight", {I});
  w.out = declare_projection(ws, p + "out_proj", s.hidden, I, s.use_bias);
  return std::make_unique<Mamba2Mixer>(s, std::move(w));
}

}  // namespace lmscope
