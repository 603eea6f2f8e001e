#include "models/projection.h"

namespace lmscope {

namespace {
constexpr float kBitLinearNormEps = 1e-6f;  // fla's fused BitLinear kernel uses its default eps, not the module's
}

Tensor load_weight(Backend& backend, const Checkpoint& ck, const std::string& name) {
  return backend.weight(ck.tensor(name));
}

Projection load_linear(Backend& backend, const Checkpoint& ck, const std::string& name, bool bias) {
  Projection p;
  p.weight = load_weight(backend, ck, name + ".weight");
  if (bias) {
    p.has_bias = true;
    p.bias = load_weight(backend, ck, name + ".bias");
  }
  return p;
}

Projection load_bitlinear(Backend& backend, const Checkpoint& ck, const std::string& name) {
  Projection p;
  const Tensor stored = load_weight(backend, ck, name + ".weight");
  p.weight = backend.alloc(DType::F32, stored.shape);
  backend.quantize_weight_ternary(stored, p.weight);
  p.bitlinear = true;
  p.input_norm = load_weight(backend, ck, name + ".norm.weight");
  return p;
}

void add_projection_tensors(std::vector<ExpectedTensor>& out, const std::string& name, std::int64_t out_features,
                            std::int64_t in_features, bool bias, bool bitlinear) {
  out.push_back({name + ".weight", {out_features, in_features}, bitlinear});
  if (bias) out.push_back({name + ".bias", {out_features}});
  if (bitlinear) out.push_back({name + ".norm.weight", {in_features}});
}

void project(Backend& backend, const Projection& p, const Tensor& x, Tensor& out) {
  if (!p.bitlinear) {
    backend.linear(x, p.weight, p.has_bias ? &p.bias : nullptr, out);
    return;
  }
  Tensor xq = backend.alloc(x.dtype, x.shape);
  backend.rmsnorm(x, p.input_norm, kBitLinearNormEps, xq);
  backend.quantize_activations_int8(xq);
  backend.linear(xq, p.weight, p.has_bias ? &p.bias : nullptr, out);
}

}  // namespace lmscope
