#include "eval/model_comparison.h"

#include <algorithm>
#include <string>

#include "lmscope/error.h"

namespace lmscope::eval {

std::int64_t comparison_block_rows(std::int64_t vocab, const std::string& backend) {
  const std::int64_t floats = backend == "cuda" ? (256 << 20) : (8 << 20);
  return std::clamp<std::int64_t>(floats / std::max<std::int64_t>(vocab, 1), 8, 4096);
}

std::vector<LogitsComparison> compare_window(const Model& model, const Model& base, std::span<const std::int32_t> input,
                                            std::span<const std::int32_t> targets, const TaskEnv& env,
                                            std::int64_t block_rows) {
  if (targets.size() != input.size()) throw InternalError("compare_window: targets and input differ in length");
  if (model.backend_name() != base.backend_name())
    throw BadInput("task compare: the model runs on " + model.backend_name() + " and the base model on " +
                   base.backend_name() + "; both must use one backend");
  const std::int64_t n = static_cast<std::int64_t>(input.size());
  const std::int64_t rows = block_rows > 0 ? block_rows
                                           : comparison_block_rows(std::max(model.spec().vocab_size, base.spec().vocab_size),
                                                                   model.backend_name());
  std::vector<LogitsComparison> out;
  out.reserve(static_cast<std::size_t>(n));
  auto seq = model.new_sequence();
  auto base_seq = base.new_sequence();
  for (std::int64_t p = 0; p < n; p += rows) {
    env.check_cancel();
    const auto block = input.subspan(static_cast<std::size_t>(p), static_cast<std::size_t>(std::min(rows, n - p)));
    std::shared_ptr<LogitsBlock> lm, lb;
    AppendOutput om, ob;
    om.kept_logits = &lm;
    ob.kept_logits = &lb;
    base_seq->append(block, ob);
    seq->append(block, om);
    if (!lm || !lb) throw InternalError("compare_window: a model did not keep its logits");
    const auto c = compare_logits_blocks(*lb, *lm, targets.subspan(static_cast<std::size_t>(p), block.size()));
    out.insert(out.end(), c.begin(), c.end());
    env.tokens_done(2 * static_cast<std::int64_t>(block.size()));
  }
  return out;
}

}  // namespace lmscope::eval
