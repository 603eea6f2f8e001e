// `throughput`: scoring speed at batch × length: forward + next-token log-likelihood (fused) over random token ids,
// `warmup` untimed batches then `repeats` timed ones. Reports tokens/s, ms per batch and the process's peak
// resident memory and the device's peak memory where the backend tracks it. A batch goes through Model::score_batch
// (one pass on the CUDA backend for attention models). One unit per (batch, length) pair.
#include <sys/resource.h>

#include <chrono>

#include "eval/scoring.h"
#include "eval/task_data.h"
#include "eval/tasks/task_registry.h"
#include "lmscope/error.h"

namespace lmscope::eval {
namespace {

class ThroughputTask final : public Task {
 public:
  ThroughputTask(const TaskSettings& s, const TaskEnv&, const std::string&) {
    const std::string task = "throughput";
    batches_ = s.integers("batch");
    seqs_ = s.integers("seq");
    repeats_ = s.integer("repeats");
    warmup_ = s.integer("warmup");
    for (auto b : batches_)
      for (auto t : seqs_)
        if (b * t > kMaxBatchTokens)
          throw BadInput("task throughput: batch " + std::to_string(b) + " × seq " + std::to_string(t) + " is more than " +
                         std::to_string(kMaxBatchTokens) + " tokens in one pass");
    seed_ = static_cast<std::uint64_t>(s.integer("seed"));
    for (auto b : batches_)
      if (b < 1) throw BadInput("task throughput: batch sizes must be >= 1");
    for (auto t : seqs_)
      if (t < 2) throw BadInput("task throughput: lengths must be >= 2");
    if (repeats_ < 1 || warmup_ < 0) throw BadInput("task throughput: repeats >= 1 and warmup >= 0");
    config_ = {{"task", task}, {"batch", batches_}, {"seq", seqs_}, {"repeats", repeats_}, {"warmup", warmup_},
               {"seed", seed_}};
  }

  std::string name() const override { return "throughput"; }
  nlohmann::json config() const override { return config_; }
  std::int64_t unit_count() const override { return static_cast<std::int64_t>(batches_.size() * seqs_.size()); }
  std::int64_t unit_cost(std::int64_t i) const override {
    return batches_[static_cast<std::size_t>(i) / seqs_.size()] * seqs_[static_cast<std::size_t>(i) % seqs_.size()] *
           (repeats_ + warmup_);
  }

  nlohmann::json run_unit(std::int64_t i, const TaskEnv& env) const override {
    const auto B = batches_[static_cast<std::size_t>(i) / seqs_.size()];
    const auto T = seqs_[static_cast<std::size_t>(i) % seqs_.size()];
    const auto V = env.model->spec().vocab_size;
    std::uint64_t state = seed_ ^ 0x9e3779b97f4a7c15ULL;
    std::vector<std::vector<std::int32_t>> ids(static_cast<std::size_t>(B));
    for (auto& row : ids)
      for (std::int64_t t = 0; t < T; ++t) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        row.push_back(static_cast<std::int32_t>((state >> 33) % static_cast<std::uint64_t>(V)));
      }
    std::vector<std::vector<std::int32_t>> targets;
    for (const auto& row : ids) {
      targets.emplace_back(row.begin() + 1, row.end());
      targets.back().push_back(-1);
    }
    std::vector<WindowRequest> requests;
    for (std::size_t k = 0; k < ids.size(); ++k) requests.push_back({ids[k], targets[k]});
    TaskEnv batched = env;
    batched.batch_size = B;  // the whole batch in one pass where the backend batches
    auto batch = [&] { score_windows(*env.model, requests, batched); };
    for (std::int64_t w = 0; w < warmup_; ++w) batch();
    env.model->reset_peak_memory();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t r = 0; r < repeats_; ++r) batch();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const double tokens = static_cast<double>(B * T * repeats_);
    return {{"batch", B},
            {"seq", T},
            {"tokens_per_s", tokens / s},
            {"ms_per_batch", 1000.0 * s / static_cast<double>(repeats_)},
            {"peak_rss_bytes", static_cast<std::int64_t>(ru.ru_maxrss) * 1024},
            {"peak_device_bytes", env.model->peak_memory_bytes()},
            {"backend", env.model->backend_name()}};
  }

  TaskAggregate aggregate(const std::vector<std::pair<std::int64_t, nlohmann::json>>& units) const override {
    TaskAggregate a;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& [i, u] : units) {
      rows.push_back(u);
      const auto tag = std::to_string(u["batch"].get<std::int64_t>()) + "x" + std::to_string(u["seq"].get<std::int64_t>());
      a.metrics["tokens_per_s@" + tag] = u["tokens_per_s"];
    }
    a.samples = static_cast<std::int64_t>(units.size());
    a.details = {{"measurements", rows}};
    return a;
  }

 private:
  std::vector<std::int64_t> batches_, seqs_;
  std::int64_t repeats_ = 3, warmup_ = 1;
  std::uint64_t seed_ = 1234;
  nlohmann::json config_;
};

}  // namespace

TaskSchema throughput_schema() {
  using T = SettingType;
  return {.name = "throughput",
          .description = "scoring speed: forward + next-token log-likelihood on random ids, tokens/s per batch x length",
          .group = TaskGroup::other,
          .settings = {{.key = "batch", .type = T::integer_list, .label = "batch sizes",
                        .help = "sequences per pass", .default_value = {1}, .min = 1,
                        .max = static_cast<double>(kMaxBatchTokens / 2)},
                       {.key = "seq", .type = T::integer_list, .label = "sequence lengths",
                        .help = "tokens per sequence", .default_value = {512}, .min = 2,
                        .max = static_cast<double>(kMaxTaskLength)},
                       {.key = "repeats", .type = T::integer, .label = "repeats", .help = "timed passes per shape",
                        .default_value = 3, .min = 1, .max = static_cast<double>(kMaxTrials)},
                       {.key = "warmup", .type = T::integer, .label = "warm-up passes",
                        .help = "untimed passes per shape first", .default_value = 1, .min = 0,
                        .max = static_cast<double>(kMaxTrials)},
                       common_setting("alias"), common_setting("seed", "seed of the random ids", 1234)},
          .make = [](const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) -> std::unique_ptr<Task> {
            return std::make_unique<ThroughputTask>(s, env, base_dir);
          }};
}

}  // namespace lmscope::eval
