#include "lmscope/model.h"

#include <algorithm>
#include <optional>

#include "backend/backend.h"
#include "parallel_for.h"
#include "lmscope/error.h"
#include "lmscope/nonfinite_scan.h"
#include "models/family.h"
#include "models/kept_logits.h"

namespace lmscope {

namespace {

// Every weight the family uses, once, before any is converted or uploaded: a NaN or infinity would otherwise load
// silently and turn the outputs into NaN. The tensors are scanned on every processor (a 1.3B checkpoint is
// 2.7 GB, and the scan is also what first reads its mapped pages); the first damaged one in order is reported.
void check_weights_finite(const Checkpoint& ck) {
  const auto tensors = expected_tensors(ck.spec());
  std::vector<std::optional<std::size_t>> found(tensors.size());
  parallel_for(tensors.size(), [&](std::size_t i) {
    const TensorView& t = ck.tensor(tensors[i].name);
    found[i] = first_nonfinite(t.dtype, t.data, static_cast<std::size_t>(t.numel()));
  });
  for (std::size_t i = 0; i < tensors.size(); ++i)
    if (const auto at = found[i]) {
      const TensorView& t = ck.tensor(tensors[i].name);
      throw BadInput(t.file->path().string() + ": tensor '" + tensors[i].name + "' holds a non-finite value (NaN or infinity) at element " +
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

void Model::decode_step(std::span<Sequence* const> seqs, std::span<const std::int32_t> tokens, std::span<std::int32_t> next) const {
  if (seqs.size() != tokens.size() || next.size() != tokens.size())
    throw InternalError("decode_step: one token and one output per sequence");
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    AppendOutput out;
    out.next_token = &next[i];
    seqs[i]->append(tokens.subspan(i, 1), out);
  }
}

std::vector<std::int32_t> generate_greedy(const Model& model, std::span<const std::int32_t> prompt, std::int64_t max_new,
                                          bool stop_at_eos) {
  GreedyOptions o;
  if (stop_at_eos) o.stop_ids = std::vector<std::int32_t>(model.spec().eos_token_ids.begin(), model.spec().eos_token_ids.end());
  const GreedyRequest r{prompt, max_new};
  return generate_greedy_batch(model, std::span<const GreedyRequest>(&r, 1), o).front();
}

std::vector<std::vector<std::int32_t>> generate_greedy_batch(const Model& model, std::span<const GreedyRequest> requests,
                                                             const GreedyOptions& o) {
  for (const auto& r : requests) {
    if (r.prompt.empty()) throw BadInput("generate: every prompt needs at least one token");
    if (r.max_new < 0) throw BadInput("generate: the number of new tokens must be >= 0");
  }
  if (o.prefill_chunk < 1) throw BadInput("generate: the prefill chunk must be at least one token");
  std::vector<std::vector<std::int32_t>> out(requests.size());
  const std::size_t group = o.max_batch > 0 ? static_cast<std::size_t>(o.max_batch) : std::max<std::size_t>(requests.size(), 1);
  auto finished = [&](std::size_t i) {
    const auto& g = out[i];
    if (static_cast<std::int64_t>(g.size()) >= requests[i].max_new) return true;
    if (!g.empty() && std::find(o.stop_ids.begin(), o.stop_ids.end(), g.back()) != o.stop_ids.end()) return true;
    return o.stop && !g.empty() && o.stop(i, g);
  };
  for (std::size_t g0 = 0; g0 < requests.size(); g0 += group) {
    const std::size_t g1 = std::min(requests.size(), g0 + group);
    std::vector<std::unique_ptr<Sequence>> seqs;
    std::vector<std::size_t> live;
    // Prefill each prompt in pieces; the last piece gives the first new token.
    for (std::size_t i = g0; i < g1; ++i) {
      seqs.push_back(model.new_sequence());
      if (requests[i].max_new == 0) continue;
      const auto& p = requests[i].prompt;
      for (std::size_t at = 0; at < p.size(); at += static_cast<std::size_t>(o.prefill_chunk)) {
        const std::size_t n = std::min(p.size() - at, static_cast<std::size_t>(o.prefill_chunk));
        std::int32_t next = -1;
        AppendOutput a;
        if (at + n == p.size()) a.next_token = &next;
        seqs.back()->append(p.subspan(at, n), a);
        if (at + n == p.size()) out[i].push_back(next);
      }
      if (o.after_step) o.after_step(static_cast<std::int64_t>(p.size()) + 1);
      if (!finished(i)) live.push_back(i);
      else seqs.back().reset();
    }
    // Then one batched step per token for every unfinished sequence.
    std::vector<Sequence*> step_seqs;
    std::vector<std::int32_t> tokens, next;
    while (!live.empty()) {
      step_seqs.clear();
      tokens.clear();
      for (std::size_t i : live) {
        step_seqs.push_back(seqs[i - g0].get());
        tokens.push_back(out[i].back());
      }
      next.assign(live.size(), -1);
      model.decode_step(step_seqs, tokens, next);
      std::vector<std::size_t> still;
      for (std::size_t k = 0; k < live.size(); ++k) {
        out[live[k]].push_back(next[k]);
        if (!finished(live[k])) still.push_back(live[k]);
        else seqs[live[k] - g0].reset();  // its cache or state is freed as soon as it is done
      }
      if (o.after_step) o.after_step(static_cast<std::int64_t>(live.size()));
      live.swap(still);
    }
  }
  return out;
}

std::vector<LogitsComparison> compare_logits_blocks(const LogitsBlock& base, const LogitsBlock& model,
                                                    std::span<const std::int32_t> targets) {
  const auto* b = dynamic_cast<const KeptLogits*>(&base);
  const auto* m = dynamic_cast<const KeptLogits*>(&model);
  if (!b || !m) throw InternalError("compare_logits_blocks: blocks not made by AppendOutput::kept_logits");
  if (b->vocab() != m->vocab())
    throw BadInput("the model has " + std::to_string(m->vocab()) + " logits per token and the base model " +
                   std::to_string(b->vocab()) + "; comparing their distributions needs the same vocabulary");
  if (b->rows() != m->rows() || static_cast<std::int64_t>(targets.size()) != m->rows())
    throw InternalError("compare_logits_blocks: blocks of different row counts or a target count that differs");
  std::vector<LogitsComparison> out(targets.size());
  if (b->backend().name() == m->backend().name()) {
    // The model's backend reads the base's memory: the base's work must be complete first.
    if (&b->backend() != &m->backend()) b->backend().finish();
    m->backend().compare_logits(b->logits(), m->logits(), targets, out);
  } else {
    throw InternalError("compare_logits_blocks: the two models run on different backends");
  }
  return out;
}

}  // namespace lmscope
