#include "models/ssm_mixers.h"

#include "models/projection.h"

namespace lmscope {
namespace {

// Rows [begin, begin + count) of a stored projection (weight and, when present, bias). The fused projections of
// the checkpoints (in_proj, x_proj) are used as their parts, so no op ever needs to split activations by column.
Projection row_slice(const Projection& p, std::int64_t begin, std::int64_t count) {
  Projection r;
  r.weight = p.weight.slice_rows(begin, count);
  if (p.has_bias) {
    r.has_bias = true;
    r.bias = p.bias.reshaped({p.bias.numel(), 1}).slice_rows(begin, count).reshaped({count});
  }
  return r;
}

// A depthwise convolution's channels [begin, begin + count): weight [count, K] and bias [count] (or none).
struct ConvPart {
  Tensor weight, bias;
  bool has_bias = false;
};

ConvPart conv_slice(const Tensor& w, const Tensor* bias, std::int64_t begin, std::int64_t count) {
  ConvPart c;
  c.weight = w.slice_rows(begin, count);
  if (bias) {
    c.has_bias = true;
    c.bias = bias->reshaped({bias->numel(), 1}).slice_rows(begin, count).reshaped({count});
  }
  return c;
}

// causal conv (carrying `state`), bias, SiLU: transformers' act(conv1d(x)) with its padding, in pieces.
Tensor conv_silu(Backend& b, const Tensor& x, const ConvPart& c, Tensor& state) {
  Tensor out = b.alloc(DType::F32, x.shape);
  b.causal_conv1d(x, c.weight, state, false, out);
  if (c.has_bias) b.add_bias(out, c.bias);
  b.activate(out, Activation::Silu);
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

class MambaMixer final : public TokenMixer {
 public:
  MambaMixer(const MambaSettings& s, Backend& b, const Checkpoint& ck, const std::string& p) : s_(s) {
    const std::int64_t I = s.intermediate, N = s.state_size, R = s.dt_rank;
    const Projection in = load_linear(b, ck, p + "in_proj", s.use_bias);
    in_x_ = row_slice(in, 0, I);  // in_proj's output is [x, z]
    in_z_ = row_slice(in, I, I);
    const Projection xp = load_linear(b, ck, p + "x_proj", false);  // [dt_low, B, C]
    x_dt_ = row_slice(xp, 0, R);
    x_B_ = row_slice(xp, R, N);
    x_C_ = row_slice(xp, R + N, N);
    dt_ = load_linear(b, ck, p + "dt_proj", true);
    const Tensor conv_w = load_weight(b, ck, p + "conv1d.weight").reshaped({I, s.conv_kernel});
    Tensor conv_b;
    if (s.use_conv_bias) conv_b = load_weight(b, ck, p + "conv1d.bias");
    conv_ = conv_slice(conv_w, s.use_conv_bias ? &conv_b : nullptr, 0, I);
    A_log_ = load_weight(b, ck, p + "A_log");
    D_ = load_weight(b, ck, p + "D");
    out_ = load_linear(b, ck, p + "out_proj", s.use_bias);
  }

  std::unique_ptr<MixerState> new_state(Backend& b) const override {
    auto st = std::make_unique<MambaState>();
    st->conv = zeros(b, {s_.conv_kernel - 1, s_.intermediate});
    st->ssm = zeros(b, {s_.intermediate, s_.state_size});
    return st;
  }

  void forward(Backend& b, const Tensor& h, std::int64_t, const RopeTables*, MixerState& state, Tensor& out) const override {
    auto& st = static_cast<MambaState&>(state);
    const std::int64_t T = h.rows(), I = s_.intermediate, N = s_.state_size;
    Tensor x = b.alloc(DType::F32, {T, I}), z = b.alloc(DType::F32, {T, I});
    project(b, in_x_, h, x);
    project(b, in_z_, h, z);
    const Tensor xc = conv_silu(b, x, conv_, st.conv);
    Tensor dt_low = b.alloc(DType::F32, {T, s_.dt_rank}), Bm = b.alloc(DType::F32, {T, N}), Cm = b.alloc(DType::F32, {T, N});
    project(b, x_dt_, xc, dt_low);
    project(b, x_B_, xc, Bm);
    project(b, x_C_, xc, Cm);
    Tensor delta = b.alloc(DType::F32, {T, I});
    project(b, dt_, dt_low, delta);
    b.activate(delta, Activation::Softplus);
    Tensor y = b.alloc(DType::F32, {T, I});
    b.selective_scan(xc, delta, A_log_, Bm, Cm, D_, T == 1 ? 0 : kSsmChunk, st.ssm, y);
    Tensor gated = b.alloc(DType::F32, {T, I});
    b.swiglu(z, y, gated);  // y · silu(z)
    project(b, out_, gated, out);
  }

 private:
  MambaSettings s_;
  Projection in_x_, in_z_, x_dt_, x_B_, x_C_, dt_, out_;
  ConvPart conv_;
  Tensor A_log_, D_;
};

class Mamba2State final : public MixerState {
 public:
  Tensor conv_x, conv_B, conv_C;  // [K-1, channels] each: the depthwise convolution splits by channel
  Tensor ssm;                     // [heads, N, head_dim]
};

class Mamba2Mixer final : public TokenMixer {
 public:
  Mamba2Mixer(const Mamba2Settings& s, Backend& b, const Checkpoint& ck, const std::string& p) : s_(s) {
    const std::int64_t I = s.intermediate(), GN = s.n_groups * s.state_size, H = s.num_heads;
    const Projection in = load_linear(b, ck, p + "in_proj", s.use_bias);  // [z, x, B, C, dt]
    in_z_ = row_slice(in, 0, I);
    in_x_ = row_slice(in, I, I);
    in_B_ = row_slice(in, 2 * I, GN);
    in_C_ = row_slice(in, 2 * I + GN, GN);
    in_dt_ = row_slice(in, 2 * I + 2 * GN, H);
    const Tensor conv_w = load_weight(b, ck, p + "conv1d.weight").reshaped({s.conv_dim(), s.conv_kernel});
    Tensor conv_b;
    if (s.use_conv_bias) conv_b = load_weight(b, ck, p + "conv1d.bias");
    const Tensor* cb = s.use_conv_bias ? &conv_b : nullptr;
    conv_x_ = conv_slice(conv_w, cb, 0, I);
    conv_B_ = conv_slice(conv_w, cb, I, GN);
    conv_C_ = conv_slice(conv_w, cb, I + GN, GN);
    dt_bias_ = load_weight(b, ck, p + "dt_bias");
    A_log_ = load_weight(b, ck, p + "A_log");
    D_ = load_weight(b, ck, p + "D");
    norm_ = load_weight(b, ck, p + "norm.weight");
    out_ = load_linear(b, ck, p + "out_proj", s.use_bias);
  }

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
    auto& st = static_cast<Mamba2State&>(state);
    const std::int64_t T = h.rows(), I = s_.intermediate(), GN = s_.n_groups * s_.state_size, H = s_.num_heads;
    auto proj = [&](const Projection& p, std::int64_t n) {
      Tensor t = b.alloc(DType::F32, {T, n});
      project(b, p, h, t);
      return t;
    };
    const Tensor z = proj(in_z_, I);
    const Tensor x = conv_silu(b, proj(in_x_, I), conv_x_, st.conv_x);
    const Tensor Bm = conv_silu(b, proj(in_B_, GN), conv_B_, st.conv_B);
    const Tensor Cm = conv_silu(b, proj(in_C_, GN), conv_C_, st.conv_C);
    Tensor dt = proj(in_dt_, H);
    b.add_bias(dt, dt_bias_);
    b.activate(dt, Activation::Softplus);  // time_step_limit (0, inf): the clamp changes nothing
    const LinearAttentionShape shape{s_.n_groups, H, s_.state_size, s_.head_dim, 1.0f};
    Tensor y = b.alloc(DType::F32, {T, I});
    b.ssd(x, dt, A_log_, Bm, Cm, D_, shape, T == 1 ? 0 : s_.chunk_size, st.ssm, y);
    // the gated RMSNorm with norm_before_gate=False: norm(y · silu(z)) · w over all channels
    Tensor gated = b.alloc(DType::F32, {T, I}), normed = b.alloc(DType::F32, {T, I});
    b.swiglu(z, y, gated);
    b.rmsnorm(gated, norm_, static_cast<float>(s_.norm_eps), normed);
    project(b, out_, normed, out);
  }

 private:
  Mamba2Settings s_;
  Projection in_z_, in_x_, in_B_, in_C_, in_dt_, out_;
  ConvPart conv_x_, conv_B_, conv_C_;
  Tensor dt_bias_, A_log_, D_, norm_;
};

}  // namespace

void add_mamba_tensors(std::vector<ExpectedTensor>& out, const std::string& p, const MambaSettings& s) {
  const std::int64_t I = s.intermediate, N = s.state_size;
  // in transformers' module order
  out.push_back({p + "A_log", {I, N}});
  out.push_back({p + "D", {I}});
  out.push_back({p + "conv1d.weight", {I, 1, s.conv_kernel}});
  if (s.use_conv_bias) out.push_back({p + "conv1d.bias", {I}});
  add_projection_tensors(out, p + "in_proj", 2 * I, s.hidden, s.use_bias);
  add_projection_tensors(out, p + "x_proj", s.dt_rank + 2 * N, I, false);
  add_projection_tensors(out, p + "dt_proj", I, s.dt_rank, true);
  add_projection_tensors(out, p + "out_proj", s.hidden, I, s.use_bias);
}

std::unique_ptr<TokenMixer> load_mamba_mixer(Backend& backend, const Checkpoint& ck, const std::string& prefix,
                                             const MambaSettings& s) {
  return std::make_unique<MambaMixer>(s, backend, ck, prefix);
}

void add_mamba2_tensors(std::vector<ExpectedTensor>& out, const std::string& p, const Mamba2Settings& s) {
  const std::int64_t I = s.intermediate(), H = s.num_heads;
  out.push_back({p + "dt_bias", {H}});
  out.push_back({p + "A_log", {H}});
  out.push_back({p + "D", {s.d_has_hdim ? I : H}});
  out.push_back({p + "conv1d.weight", {s.conv_dim(), 1, s.conv_kernel}});
  if (s.use_conv_bias) out.push_back({p + "conv1d.bias", {s.conv_dim()}});
  add_projection_tensors(out, p + "in_proj", I + s.conv_dim() + H, s.hidden, s.use_bias);
  out.push_back({p + "norm.weight", {I}});
  add_projection_tensors(out, p + "out_proj", s.hidden, I, s.use_bias);
}

std::unique_ptr<TokenMixer> load_mamba2_mixer(Backend& backend, const Checkpoint& ck, const std::string& prefix,
                                              const Mamba2Settings& s) {
  return std::make_unique<Mamba2Mixer>(s, backend, ck, prefix);
}

}  // namespace lmscope
