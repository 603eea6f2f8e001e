#include "lmscope/model.h"

#include "backend/backend.h"
#include "lmscope/error.h"
#include "models/family.h"

namespace lmscope {

std::unique_ptr<Model> load_model(const Checkpoint& checkpoint, const LoadOptions& options) {
  return family_for(checkpoint.spec()).build(checkpoint, make_backend(options.backend), options);
}

std::vector<float> compute_logits(const Model& model, std::span<const std::int32_t> tokens,
                                  std::vector<std::vector<float>>* hidden) {
  std::vector<float> logits;
  auto seq = model.new_sequence();
  seq->append(tokens, AppendOutput{.logits = &logits, .hidden = hidden});
  return logits;
}

std::vector<double> next_token_logprobs(const Model& model, std::span<const std::int32_t> tokens,
                                        std::vector<std::uint8_t>* is_greedy) {
  if (tokens.size() < 2) return {};
  std::vector<std::int32_t> targets(tokens.begin() + 1, tokens.end());
  targets.push_back(-1);  // the last token has no successor here
  std::vector<double> lp;
  std::vector<std::uint8_t> greedy;
  auto seq = model.new_sequence();
  AppendOutput out;
  out.targets = targets;
  out.target_logprobs = &lp;
  out.target_is_greedy = &greedy;
  seq->append(tokens, out);
  lp.pop_back();
  greedy.pop_back();
  if (is_greedy) *is_greedy = std::move(greedy);
  return lp;
}

std::int64_t argmax(std::span<const float> row) {
  std::int64_t best = 0;
  for (std::size_t i = 1; i < row.size(); ++i)
    if (row[i] > row[static_cast<std::size_t>(best)]) best = static_cast<std::int64_t>(i);
  return best;
}

std::vector<std::int32_t> generate_greedy(const Model& model, std::span<const std::int32_t> prompt, std::int64_t max_new,
                                          bool stop_at_eos) {
  if (prompt.empty()) throw BadInput("generate: the prompt needs at least one token");
  if (max_new < 0) throw BadInput("generate: the number of new tokens must be >= 0");
  const auto& eos = model.spec().eos_token_ids;
  std::vector<std::int32_t> out;
  if (max_new == 0) return out;
  auto seq = model.new_sequence();
  std::vector<float> logits;
  seq->append(prompt, AppendOutput{.logits = &logits, .last_only = true});
  for (std::int64_t i = 0; i < max_new; ++i) {
    const auto next = static_cast<std::int32_t>(argmax(logits));
    out.push_back(next);
    if (stop_at_eos && std::find(eos.begin(), eos.end(), next) != eos.end()) break;
    if (i + 1 < max_new) seq->append(std::span<const std::int32_t>(&next, 1), AppendOutput{.logits = &logits, .last_only = true});
  }
  return out;
}

}  // namespace lmscope
