// An evaluation task: turns its data and settings into independent work units, scores each unit with a model,
// and reduces the units' results into metrics. Unit results are JSON so the results store can keep them and a
// resumed run can aggregate units computed by earlier processes (or other shards) with the ones it computes now.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lmscope/model.h"
#include "lmscope/tokenizer.h"

namespace lmscope::eval {

// What a task scores with. `evaluator` is a second model some tasks use (LongPPL's key-token selection); it may
// be the same object as `model`.
struct TaskEnv {
  const Model* model = nullptr;
  const Tokenizer* tokenizer = nullptr;
  const Model* evaluator = nullptr;
  const Tokenizer* evaluator_tokenizer = nullptr;
  // lm-eval's max length (see resolve_max_length) after any setting; every window is at most this long.
  std::int64_t max_length = 2048;
  // Windows scored together (Model::score_batch, padded where exact: score_windows); 1 = one at a time.
  std::int64_t batch_size = 1;
  // The token lm-eval puts before a text with no context: BOS, else EOS.
  std::int32_t prefix_token = 0;
  // The checkpoint's sizes (on disk, ternary-packed) for tasks that report cost beside accuracy; null outside a run.
  const CheckpointSummary* checkpoint_summary = nullptr;
  // Polled between forward passes; a task throws Cancelled when it turns true.
  const std::atomic<bool>* cancel = nullptr;
  // Called after each forward pass with the number of tokens it read (for tokens/s and ETA).
  std::function<void(std::int64_t tokens)> on_tokens;

  void tokens_done(std::int64_t n) const;
  void check_cancel() const;
};

struct Cancelled : std::runtime_error {
  Cancelled() : std::runtime_error("cancelled") {}
};

struct TaskAggregate {
  // lm-eval style metric names ("acc", "acc_norm", "word_perplexity", ...) → value; "<name>_stderr" where the
  // task reports a standard error.
  nlohmann::json metrics = nlohmann::json::object();
  // Task-specific extra data for plots and inspection (series points, heatmap grid, key tokens, ...).
  nlohmann::json details = nlohmann::json::object();
  std::int64_t samples = 0;  // lm-eval's n-samples "effective"
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  // lm-eval's task version where the task exists there, else ours.
  virtual int version() const { return 1; }
  // The resolved settings (defaults filled in, data hash included): stored with results and part of the key that
  // decides whether a stored unit can be reused.
  virtual nlohmann::json config() const = 0;
  virtual std::int64_t unit_count() const = 0;
  // A rough cost of unit i in tokens read (for progress before any unit has run).
  virtual std::int64_t unit_cost(std::int64_t i) const = 0;
  virtual nlohmann::json run_unit(std::int64_t i, const TaskEnv& env) const = 0;
  // Units computed together so that their windows share passes: the runner hands run_units consecutive units whose
  // unit_cost adds up to at most this (at least one unit). 0, the default: one unit at a time through run_unit.
  virtual std::int64_t unit_group_tokens(const TaskEnv&) const { return 0; }
  // run_unit for several units, the results in their order; the default runs them one after another.
  virtual std::vector<nlohmann::json> run_units(std::span<const std::int64_t> units, const TaskEnv& env) const {
    std::vector<nlohmann::json> out;
    for (const auto u : units) out.push_back(run_unit(u, env));
    return out;
  }
  // Any subset of units (in unit order, with their indices) can be aggregated: partial results feed live plots.
  virtual TaskAggregate aggregate(const std::vector<std::pair<std::int64_t, nlohmann::json>>& units) const = 0;
};

// Builds a task from its settings (the RunSpec's task entry: {"task": NAME, ...}); paths in it are resolved against
// `base_dir`. The tokenizer is needed to plan units (documents are tokenised once, here). BadInput for an unknown
// task, a missing data file or a bad setting, naming the field.
std::unique_ptr<Task> make_task(const nlohmann::json& settings, const TaskEnv& env, const std::string& base_dir);
const std::vector<std::string>& task_names();

// lm-eval's max length rule: config n_positions, max_position_embeddings, n_ctx (in that order; the spec holds
// the first present), else tokenizer_config.json's model_max_length in `model_dir` (unless it is transformers'
// "unset" sentinel), else 2048.
std::int64_t resolve_max_length(const ModelSpec& spec, const std::filesystem::path& model_dir);

}  // namespace lmscope::eval
