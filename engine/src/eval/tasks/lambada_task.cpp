// `lambada_openai`: the last word of each passage as a loglikelihood request (context = all but the last
// space-separated word, continuation = " " + that word). acc = every continuation token is the greedy choice;
// perplexity = exp(−mean loglikelihood of the continuation) over items. lm-eval's perplexity stderr is a bootstrap
// (100,000 resamples); ours is the delta method, perplexity × stderr of the mean loglikelihood, which the bootstrap
// estimates (they agree to within the bootstrap's own noise).
#include <cmath>

#include "eval/scoring.h"
#include "eval/task_data.h"
#include "eval/tasks/task_registry.h"
#include "lmscope/error.h"
#include "lmscope/eval/multiple_choice.h"

namespace lmscope::eval {
namespace {

constexpr std::int64_t kItemsPerUnit = 128;

class LambadaTask final : public Task {
 public:
  LambadaTask(const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) {
    const auto path = s.file("data", base_dir, "LAMBADA (OpenAI's test set) as JSON lines with a `text` field");
    const auto records = read_jsonl(path);
    const auto limit = s.integer_if("limit").value_or(-1);
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (limit >= 0 && static_cast<std::int64_t>(pairs_.size()) >= limit) break;
      const auto r = make_lambada_request(records[i], path.filename().string() + ":" + std::to_string(i + 1));
      pairs_.push_back(encode_request(*env.tokenizer, r.context, r.continuation));
      cost_ += static_cast<std::int64_t>(pairs_.back().first.size() + pairs_.back().second.size());
    }
    if (pairs_.empty()) throw BadInput("task lambada_openai: " + path.string() + " holds no items");
    config_ = {{"task", "lambada_openai"}, {"data", path.string()}, {"data_hash", file_hash(path)},
               {"output_type", "loglikelihood"}, {"items", pairs_.size()}, {"limit", limit},
               {"max_length", env.max_length}, {"prefix_token", env.prefix_token}};
  }

  std::string name() const override { return "lambada_openai"; }
  nlohmann::json config() const override { return config_; }
  std::int64_t unit_count() const override {
    return (static_cast<std::int64_t>(pairs_.size()) + kItemsPerUnit - 1) / kItemsPerUnit;
  }
  std::int64_t unit_cost(std::int64_t) const override { return cost_ / std::max<std::int64_t>(unit_count(), 1); }

  nlohmann::json run_unit(std::int64_t u, const TaskEnv& env) const override {
    nlohmann::json out = nlohmann::json::array();
    const auto first = static_cast<std::size_t>(u * kItemsPerUnit);
    const auto last = std::min(pairs_.size(), first + static_cast<std::size_t>(kItemsPerUnit));
    std::vector<ContinuationWindow> windows;
    for (std::size_t i = first; i < last; ++i) windows.push_back(continuation_window(pairs_[i].first, pairs_[i].second, env));
    const auto scores = score_continuations(*env.model, windows, env);
    for (std::size_t i = first; i < last; ++i) {
      const auto& s = scores[i - first];
      out.push_back({{"item", i}, {"loglik", s.sum}, {"is_greedy", s.all_greedy ? 1 : 0}, {"tokens", s.scored}});
    }
    return out;
  }

  TaskAggregate aggregate(const std::vector<std::pair<std::int64_t, nlohmann::json>>& units) const override {
    std::vector<double> acc, lls;
    for (const auto& [u, items] : units)
      for (const auto& r : items) {
        acc.push_back(r.at("is_greedy").get<double>());
        lls.push_back(r.at("loglik").get<double>());
      }
    TaskAggregate a;
    a.samples = static_cast<std::int64_t>(acc.size());
    if (acc.empty()) return a;
    const auto m = mean_stderr(acc);
    const auto l = mean_stderr(lls);
    const double ppl = std::exp(-l.mean);
    a.metrics = {{"perplexity", ppl}, {"perplexity_stderr", ppl * l.stderr_}, {"acc", m.mean}, {"acc_stderr", m.stderr_}};
    return a;
  }

 private:
  std::vector<std::pair<std::vector<std::int32_t>, std::vector<std::int32_t>>> pairs_;
  std::int64_t cost_ = 0;
  nlohmann::json config_;
};

}  // namespace

TaskSchema lambada_schema() {
  return {.name = "lambada_openai",
          .description = "the last word of each LAMBADA passage: accuracy and perplexity (lm-eval's lambada_openai)",
          .group = TaskGroup::perplexity,
          .settings = {{.key = "data", .type = SettingType::file, .label = "data file",
                        .help = "LAMBADA (OpenAI's test set) as JSON lines with a `text` field",
                        .default_value = nullptr, .required = true},
                       common_setting("alias"), common_setting("limit", "the first N passages; none: all"),
                       common_setting("max_length"), common_setting("batch_size")},
          .make = [](const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) -> std::unique_ptr<Task> {
            return std::make_unique<LambadaTask>(s, env, base_dir);
          }};
}

}  // namespace lmscope::eval
