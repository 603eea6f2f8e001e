#include "eval/model_comparison.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "lmscope/error.h"

namespace lmscope::eval {

TokenComparison compare_logits(std::span<const float> base, std::span<const float> model, std::int32_t target) {
  const std::size_t V = base.size();
  if (model.size() != V || V == 0) throw InternalError("compare_logits: rows of different or zero length");
  float mb = base[0], mm = model[0];
  std::size_t ab = 0, am = 0;
  for (std::size_t v = 1; v < V; ++v) {
    if (base[v] > mb) mb = base[v], ab = v;
    if (model[v] > mm) mm = model[v], am = v;
  }
  // Σ e^(b−mb), Σ e^(m−mm) and Σ e^(b−mb)(b − m): KL = cross/sb − (lb − lm) with lb, lm the log-sum-exps.
  double sb = 0, sm = 0, cross = 0;
  for (std::size_t v = 0; v < V; ++v) {
    const double eb = std::exp(base[v] - mb);
    sb += eb;
    sm += std::exp(model[v] - mm);
    cross += eb * (static_cast<double>(base[v]) - static_cast<double>(model[v]));
  }
  const double lb = mb + std::log(sb), lm = mm + std::log(sm);
  TokenComparison r;
  r.kl = std::max(0.0, cross / sb - (lb - lm));
  r.same_top = ab == am;
  if (target >= 0 && static_cast<std::size_t>(target) < V) {
    r.nll = lm - model[static_cast<std::size_t>(target)];
    r.base_nll = lb - base[static_cast<std::size_t>(target)];
  }
  return r;
}

std::int64_t comparison_block_rows(std::int64_t vocab) {
  constexpr std::int64_t kFloats = 8 << 20;
  return std::clamp<std::int64_t>(kFloats / std::max<std::int64_t>(vocab, 1), 8, 1024);
}

std::vector<TokenComparison> compare_window(const Model& model, const Model& base, std::span<const std::int32_t> input,
                                            std::span<const std::int32_t> targets, const TaskEnv& env,
                                            std::int64_t block_rows) {
  if (targets.size() != input.size()) throw InternalError("compare_window: targets and input differ in length");
  const std::int64_t n = static_cast<std::int64_t>(input.size());
  const std::int64_t rows =
      block_rows > 0 ? block_rows : comparison_block_rows(std::max(model.spec().vocab_size, base.spec().vocab_size));
  std::vector<TokenComparison> out(static_cast<std::size_t>(n));
  auto seq = model.new_sequence();
  auto base_seq = base.new_sequence();
  std::vector<float> lm, lb;
  for (std::int64_t p = 0; p < n; p += rows) {
    env.check_cancel();
    const auto block = input.subspan(static_cast<std::size_t>(p), static_cast<std::size_t>(std::min(rows, n - p)));
    const auto r = static_cast<std::int64_t>(block.size());
    AppendOutput om, ob;
    om.logits = &lm;
    ob.logits = &lb;
    seq->append(block, om);
    base_seq->append(block, ob);
    const auto vm = static_cast<std::int64_t>(lm.size()) / r, vb = static_cast<std::int64_t>(lb.size()) / r;
    if (vm != vb)
      throw BadInput("task compare: the model has " + std::to_string(vm) + " logits per token and the base model " +
                     std::to_string(vb) + "; KL divergence and top-1 agreement need the same vocabulary");
#pragma omp parallel for schedule(static) if (r * vm >= (1 << 18))
    for (std::int64_t i = 0; i < r; ++i) {
      const auto at = static_cast<std::size_t>(i * vm);
      out[static_cast<std::size_t>(p + i)] =
          compare_logits(std::span<const float>(lb).subspan(at, static_cast<std::size_t>(vb)),
                         std::span<const float>(lm).subspan(at, static_cast<std::size_t>(vm)),
                         targets[static_cast<std::size_t>(p + i)]);
    }
    env.tokens_done(2 * r);
  }
  return out;
}

}  // namespace lmscope::eval
