#include "models/swiglu_mlp.h"

namespace lmscope {

void add_swiglu_mlp_tensors(std::vector<ExpectedTensor>& out, const std::string& prefix, std::int64_t hidden,
                            std::int64_t intermediate, bool bias) {
  // weights first, then biases: the order random checkpoints draw their values in
  out.push_back({prefix + "gate_proj.weight", {intermediate, hidden}});
  out.push_back({prefix + "up_proj.weight", {intermediate, hidden}});
  out.push_back({prefix + "down_proj.weight", {hidden, intermediate}});
  if (bias) {
    out.push_back({prefix + "gate_proj.bias", {intermediate}});
    out.push_back({prefix + "up_proj.bias", {intermediate}});
    out.push_back({prefix + "down_proj.bias", {hidden}});
  }
}

SwigluMlp load_swiglu_mlp(Backend& backend, const Checkpoint& ck, const std::string& prefix, bool bias) {
  return {load_linear(backend, ck, prefix + "gate_proj", bias), load_linear(backend, ck, prefix + "up_proj", bias),
          load_linear(backend, ck, prefix + "down_proj", bias)};
}

void swiglu_mlp(Backend& backend, const SwigluMlp& mlp, const Tensor& h, Tensor& out) {
  const std::int64_t T = h.rows(), I = mlp.gate.out_features();
  Tensor gate = backend.alloc(backend.activation_dtype(), {T, I}), up = backend.alloc(backend.activation_dtype(), {T, I});
  project(backend, mlp.gate, h, gate);
  project(backend, mlp.up, h, up);
  backend.swiglu(gate, up, gate);
  project(backend, mlp.down, gate, out);
}

}  // namespace lmscope
