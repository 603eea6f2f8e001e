#include "lmscope/model.h"

#include <algorithm>

#include "backend/backend.h"
#include "lmscope/error.h"
#include "lmscope/nonfinite_scan.h"
#include "models/family.h"

namespace lmscope {

namespace {

// Every weight the family uses, once, before any is converted or uploaded: a NaN or infinity would otherwise load
// silently and turn the outputs into NaN.
void check_weights_finite(const Checkpoint& ck) {
  for (const auto& e : expected_tensors(ck.spec())) {
    const TensorView& t = ck.tensor(e.name);
    if (const auto at = first_nonfinite(t.dtype, t.data, static_cast<std::size_t>(t.numel())))
      throw BadInput(t.file->path().string() + ": tensor '" + e.name + "' holds a non-finite value (NaN or infinity) at element " +
                     std::to_string(*at) + " of " + std::to_string(t.numel()) +
                     "; the checkpoint is damaged (pass --allow-nonfinite to load it anyway)");
  }
}

}  // namespace

std::unique_ptr<Model> load_model(const Checkpoint& checkpoint, const LoadOptions& options) {
  if (!options.allow_nonfinite) check_weights_finite(checkpoint);
  return family_for(checkpoint.spec()).build(checkpoint, make_backend(options.backend, options.dtype), options);
}

std::vector<float> compute_logits(const Model& model, std::span<const std::int32_t> tokens,
                                  std::vector<std::vector<float>>* hidden) {
  std::vector<float> logits;
  auto seq = model.new_sequence();
  seq->append(tokens, AppendOutput{.logits = &logits, .hidden = hidden});
  return logits;
}

void score_sequence(const Model& model, std::span<const std::int32_t> tokens, std::span<const std::int32_t> targets,
                    std::vector<double>& logprobs, std::vector<std::uint8_t>& is_greedy) {
  auto seq = model.new_sequence();
  AppendOutput out;
  out.targets = targets;
  out.target_logprobs = &logprobs;
  out.target_is_greedy = &is_greedy;
  seq->append(tokens, out);
}

std::vector<double> next_token_logprobs(const Model& model, std::span<const std::int32_t> tokens,
                                        std::vector<std::uint8_t>* is_greedy) {
  if (tokens.size() < 2) return {};
  std::vector<std::int32_t> targets(tokens.begin() + 1, tokens.end());
  targets.push_back(-1);  // the last token has no successor here
  std::vector<double> lp;
  std::vector<std::uint8_t> greedy;
  score_sequence(model, tokens, targets, lp, greedy);
  lp.pop_back();
  greedy.pop_back();
  if (is_greedy) *is_greedy = std::move(greedy);
  return lp;
}

void Model::score_batch(std::span<const std::int32_t> tokens, std::int64_t batch, std::span<const std::int32_t> targets,
                        std::vector<double>& logprobs, std::vector<std::uint8_t>& greedy) const {
  const std::size_t n = tokens.size();
  if (batch < 1 || n % static_cast<std::size_t>(batch) != 0 || targets.size() != n)
    throw BadInput("score_batch: tokens and targets must hold batch sequences of equal length");
  const std::size_t T = n / static_cast<std::size_t>(batch);
  logprobs.assign(n, 0.0);
  greedy.assign(n, 0);
  std::vector<double> lp;
  std::vector<std::uint8_t> g;
  for (std::size_t s = 0; s < static_cast<std::size_t>(batch); ++s) {
    score_sequence(*this, tokens.subspan(s * T, T), targets.subspan(s * T, T), lp, g);
    std::copy(lp.begin(), lp.end(), logprobs.begin() + static_cast<std::ptrdiff_t>(s * T));
    std::copy(g.begin(), g.end(), greedy.begin() + static_cast<std::ptrdiff_t>(s * T));
  }
}

std::vector<std::vector<double>> next_token_logprobs_batch(const Model& model, std::span<const std::vector<std::int32_t>> seqs,
                                                           std::int64_t micro_batch,
                                                           std::vector<std::vector<std::uint8_t>>* is_greedy) {
  const std::int64_t B = static_cast<std::int64_t>(seqs.size());
  std::vector<std::vector<double>> result(static_cast<std::size_t>(B));
  if (is_greedy) is_greedy->assign(static_cast<std::size_t>(B), {});
  if (B == 0) return result;
  const std::size_t T = seqs[0].size();
  for (const auto& s : seqs)
    if (s.size() != T || T < 2) throw BadInput("batch scoring: every sequence needs the same length, at least 2 tokens");
  std::int64_t micro = micro_batch > 0 ? std::min(micro_batch, B) : B;
  std::vector<std::int32_t> tokens, targets;
  std::vector<double> lp;
  std::vector<std::uint8_t> greedy;
  for (std::int64_t s0 = 0; s0 < B;) {
    const std::int64_t n = std::min(micro, B - s0);
    tokens.clear();
    targets.clear();
    for (std::int64_t s = s0; s < s0 + n; ++s) {
      const auto& seq = seqs[static_cast<std::size_t>(s)];
      tokens.insert(tokens.end(), seq.begin(), seq.end());
      targets.insert(targets.end(), seq.begin() + 1, seq.end());
      targets.push_back(-1);  // the last token has no successor here
    }
    try {
      model.score_batch(tokens, n, targets, lp, greedy);
    } catch (const OutOfMemory&) {
      if (n == 1) throw;
      micro = (n + 1) / 2;  // retry this part in smaller micro-batches
      continue;
    }
    for (std::int64_t s = 0; s < n; ++s) {
      const auto first = lp.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(s) * T);
      result[static_cast<std::size_t>(s0 + s)].assign(first, first + static_cast<std::ptrdiff_t>(T - 1));
      if (is_greedy) {
        const auto g = greedy.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(s) * T);
        (*is_greedy)[static_cast<std::size_t>(s0 + s)].assign(g, g + static_cast<std::ptrdiff_t>(T - 1));
      }
    }
    s0 += n;
  }
  return result;
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
