#include "models/norm.h"

namespace lmscope {

void apply_norm(Backend& b, NormKind kind, const Norm& n, float eps, const Tensor& x, Tensor& out) {
  if (!n.present())
    b.copy_rows(x, out, 0);
  else if (kind == NormKind::Rms)
    b.rmsnorm(x, n.weight, eps, out);
  else
    b.layernorm(x, n.weight, n.has_bias ? &n.bias : nullptr, eps, out);
}

void add_and_norm(Backend& b, NormKind kind, Tensor& x, const Tensor& r, const Norm& n, float eps, Tensor& out) {
  if (!n.present()) {
    b.add(x, r);
    b.copy_rows(x, out, 0);
  } else if (kind == NormKind::Rms) {
    b.add_rmsnorm(x, r, n.weight, eps, out);
  } else {
    b.add_layernorm(x, r, n.weight, n.has_bias ? &n.bias : nullptr, eps, out);
  }
}

}  // namespace lmscope
