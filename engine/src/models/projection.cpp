#include "models/projection.h"

#include <cmath>

#include "lmscope/error.h"
#include "models/weight_set.h"

namespace lmscope {

namespace {
constexpr float kFlaBitLinearNormEps = 1e-6f;  // fla's fused BitLinear kernel uses its default eps, not the module's
}

std::vector<float> unpack_ternary(const unsigned char* packed, std::int64_t R, std::int64_t C) {
  std::vector<float> out(static_cast<std::size_t>(4 * R * C));
  for (std::int64_t i = 0; i < 4; ++i)
    for (std::int64_t r = 0; r < R; ++r)
      for (std::int64_t c = 0; c < C; ++c) {
        const int v = (packed[r * C + c] >> (2 * i)) & 3;
        out[static_cast<std::size_t>((i * R + r) * C + c)] = static_cast<float>(v - 1);
      }
  return out;
}

Projection declare_projection(WeightSet& ws, const std::string& name, std::int64_t out_features, std::int64_t in_features,
                              bool bias, const ProjectionFormat& format) {
  using Kind = ProjectionFormat::Kind;
  Projection p;
  switch (format.kind) {
    case Kind::Plain:
      p.weight = ws.weight(name + ".weight", {out_features, in_features});
      break;
    case Kind::FlaBitLinear:
    case Kind::OnlineAutoBitLinear: {
      const Tensor stored = ws.weight(name + ".weight", {out_features, in_features}, /*ternary=*/true);
      p.weight = stored;
      if (ws.loading()) p.weight = ws.backend().quantize_weight_ternary(stored, &p.out_scale);
      p.bitlinear = true;
      p.round_half_even = format.kind == Kind::OnlineAutoBitLinear;
      break;
    }
    case Kind::PackedBitLinear:
    case Kind::PackedAutoBitLinear: {
      if (out_features % 4 != 0)
        throw BadInput(name + ": a packed ternary weight needs a multiple of 4 output features, got " + std::to_string(out_features));
      const TensorView* packed = ws.stored(name + ".weight", {out_features / 4, in_features}, DType::U8, /*ternary=*/true);
      const std::vector<float> scale = ws.host_f32(name + ".weight_scale", {1}, /*counted=*/false);
      p.bitlinear = true;
      p.round_half_even = true;
      if (!ws.loading()) {
        p.weight.shape = {out_features, in_features};
        break;
      }
      if (!(scale[0] > 0) || !std::isfinite(scale[0]))
        throw BadInput(packed->file->path().string() + ": tensor '" + name + ".weight_scale' must be a positive finite number, got " +
                       std::to_string(scale[0]));
      p.weight = ws.backend().weight_from_host(unpack_ternary(packed->data, out_features / 4, in_features), {out_features, in_features});
      p.out_scale = format.kind == Kind::PackedBitLinear ? 1.0f / scale[0] : scale[0];
      break;
    }
  }
  // the declaration order random checkpoints draw their values in: weight, bias, norm
  if (bias) {
    p.has_bias = true;
    p.bias = ws.weight(name + ".bias", {out_features});
  }
  if (format.kind == Kind::FlaBitLinear) {
    p.input_norm = ws.weight(name + ".norm.weight", {in_features});
    p.input_norm_eps = kFlaBitLinearNormEps;
  } else if (format.input_norm && format.kind != Kind::Plain) {
    p.input_norm = ws.weight(name + ".rms_norm.weight", {in_features});
    p.input_norm_eps = format.input_norm_eps;
  }
  return p;
}

Projection projection_rows(const Projection& fused, std::int64_t row0, std::int64_t n) {
  Projection p = fused;
  if (fused.weight.data == nullptr) {  // a declaration's placeholder
    p.weight.shape = {n, fused.weight.shape.at(1)};
    return p;
  }
  p.weight = fused.weight.slice_rows(row0, n);
  if (fused.has_bias) p.bias = fused.bias.reshaped({fused.bias.numel(), 1}).slice_rows(row0, n).reshaped({n});
  return p;
}

void project(Backend& backend, const Projection& p, const Tensor& x, Tensor& out) {
  if (!p.bitlinear) {
    backend.linear(x, p.weight, p.has_bias ? &p.bias : nullptr, out);
    return;
  }
  const Tensor* bias = p.has_bias ? &p.bias : nullptr;
  if (!p.input_norm.shape.empty()) {
    backend.normed_bitlinear(x, p.input_norm, p.input_norm_eps, p.weight, p.out_scale, bias, p.round_half_even, out);
    return;
  }
  Tensor xq = backend.alloc(x.dtype, x.shape);  // bitlinear() overwrites its input
  backend.copy_rows(x, xq, 0);
  backend.bitlinear(xq, p.weight, p.out_scale, bias, p.round_half_even, out);
}

}  // namespace lmscope
