#include "models/feed_forward.h"

#include "models/weight_set.h"

namespace lmscope {

FeedForward declare_gated_mlp(WeightSet& ws, const std::string& prefix, std::int64_t hidden, std::int64_t intermediate,
                              bool bias, Activation act) {
  FeedForward f;
  f.act = act;
  // weights first, then biases: the order random checkpoints draw their values in
  f.gate.weight = ws.weight(prefix + "gate_proj.weight", {intermediate, hidden});
  f.up.weight = ws.weight(prefix + "up_proj.weight", {intermediate, hidden});
  f.down.weight = ws.weight(prefix + "down_proj.weight", {hidden, intermediate});
  if (bias) {
    f.gate.bias = ws.weight(prefix + "gate_proj.bias", {intermediate});
    f.up.bias = ws.weight(prefix + "up_proj.bias", {intermediate});
    f.down.bias = ws.weight(prefix + "down_proj.bias", {hidden});
    f.gate.has_bias = f.up.has_bias = f.down.has_bias = true;
  }
  return f;
}

void feed_forward(Backend& backend, const FeedForward& ffn, const Tensor& h, Tensor& out) {
  const std::int64_t T = h.rows(), I = ffn.up.out_features();
  const DType act = backend.activation_dtype();
  Tensor up = backend.alloc(act, {T, I});
  project(backend, ffn.up, h, up);
  if (ffn.gated) {
    Tensor gate = backend.alloc(act, {T, I});
    project(backend, ffn.gate, h, gate);
    backend.glu(gate, up, ffn.act, up);
  } else {
    backend.activate(up, ffn.act);
  }
  if (ffn.sub_norm.present()) {
    Tensor normed = backend.alloc(act, {T, I});
    backend.rmsnorm(up, ffn.sub_norm.weight, ffn.sub_norm_eps, normed);
    up = normed;
  }
  project(backend, ffn.down, up, out);
}

}  // namespace lmscope
