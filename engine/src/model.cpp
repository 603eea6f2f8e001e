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
  seq->append(tokens, AppendOutput{&logits, false, hidden});
  return logits;
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
  seq->append(prompt, AppendOutput{&logits, true, nullptr});
  for (std::int64_t i = 0; i < max_new; ++i) {
    const auto next = static_cast<std::int32_t>(argmax(logits));
    out.push_back(next);
    if (stop_at_eos && std::find(eos.begin(), eos.end(), next) != eos.end()) break;
    if (i + 1 < max_new) seq->append(std::span<const std::int32_t>(&next, 1), AppendOutput{&logits, true, nullptr});
  }
  return out;
}

}  // namespace lmscope
