#include "backend/logits_comparison.h"

#include <algorithm>
#include <cmath>

#include "lmscope/error.h"

namespace lmscope {

LogitsComparison compare_logits_row(std::span<const float> base, std::span<const float> model, std::int32_t target) {
  const std::size_t V = base.size();
  if (model.size() != V || V == 0) throw InternalError("compare_logits_row: rows of different or zero length");
  float mb = base[0], mm = model[0];
  std::size_t ab = 0, am = 0;
  for (std::size_t v = 1; v < V; ++v) {
    if (base[v] > mb) mb = base[v], ab = v;
    if (model[v] > mm) mm = model[v], am = v;
  }
  // Σ e^(b−mb), Σ e^(m−mm) and Σ e^(b−mb)(b − m): KL = cross/sb − (lb − lm) with lb, lm the log-sum-exps, all in
  // double (a float exp per term put the KL's relative error near 1e-6, the independent check's bound).
  double sb = 0, sm = 0, cross = 0;
  for (std::size_t v = 0; v < V; ++v) {
    const double eb = std::exp(static_cast<double>(base[v]) - mb);
    sb += eb;
    sm += std::exp(static_cast<double>(model[v]) - mm);
    cross += eb * (static_cast<double>(base[v]) - static_cast<double>(model[v]));
  }
  const double lb = mb + std::log(sb), lm = mm + std::log(sm);
  LogitsComparison r;
  r.kl = std::max(0.0, cross / sb - (lb - lm));
  r.same_top = ab == am;
  if (target >= 0 && static_cast<std::size_t>(target) < V) {
    r.nll = lm - model[static_cast<std::size_t>(target)];
    r.base_nll = lb - base[static_cast<std::size_t>(target)];
  }
  return r;
}

}  // namespace lmscope

#include "backend/backend.h"

namespace lmscope {

void Backend::compare_logits(const Tensor& base, const Tensor& model, std::span<const std::int32_t> targets,
                             std::span<LogitsComparison> out) {
  if (base.shape != model.shape || base.dtype != DType::F32 || model.dtype != DType::F32 ||
      static_cast<std::int64_t>(targets.size()) != model.rows() || out.size() != targets.size())
    throw InternalError("compare_logits: two float32 logits tensors of one shape and a target per row expected");
  const std::int64_t R = model.rows(), V = model.cols();
  std::vector<float> b(static_cast<std::size_t>(R * V)), m(b.size());
  download(base, b);
  download(model, m);
#pragma omp parallel for schedule(static) if (R * V >= (1 << 18))
  for (std::int64_t r = 0; r < R; ++r) {
    const auto at = static_cast<std::size_t>(r * V);
    out[static_cast<std::size_t>(r)] = compare_logits_row(std::span<const float>(b).subspan(at, static_cast<std::size_t>(V)),
                                                          std::span<const float>(m).subspan(at, static_cast<std::size_t>(V)),
                                                          targets[static_cast<std::size_t>(r)]);
  }
}

}  // namespace lmscope
