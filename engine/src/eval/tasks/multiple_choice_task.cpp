// Zero-shot multiple choice (hellaswag, piqa, arc_easy, arc_challenge, winogrande, boolq, copa, sciq, social_iqa):
// lm-eval's requests (eval/multiple_choice.h) scored as loglikelihoods; acc, acc_norm where the task reports it,
// each with lm-eval's mean standard error. Work units are blocks of items.
#include <cmath>
#include <map>

#include "eval/scoring.h"
#include "eval/task_data.h"
#include "eval/tasks/task_registry.h"
#include "lmscope/error.h"
#include "lmscope/eval/multiple_choice.h"

namespace lmscope::eval {
namespace {

constexpr std::int64_t kItemsPerUnit = 64;

std::int64_t argmax_of(const std::vector<double>& v) {
  std::int64_t best = 0;
  for (std::size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[static_cast<std::size_t>(best)]) best = static_cast<std::int64_t>(i);
  return best;
}

class MultipleChoiceTask final : public Task {
 public:
  MultipleChoiceTask(const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) : name_(s.task()) {
    const auto path = s.file("data", base_dir, "the task's dataset as JSON lines in the Hugging Face layout (docs/evaluation.md)");
    const auto records = read_jsonl(path);
    const auto limit = s.integer_if("limit").value_or(-1);
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (limit >= 0 && static_cast<std::int64_t>(items_.size()) >= limit) break;
      items_.push_back(make_multiple_choice_item(name_, records[i], path.filename().string() + ":" + std::to_string(i + 1)));
      // Tokenised once, here: the unit cost needs the lengths and run_unit the tokens.
      auto& encoded = encoded_.emplace_back();
      for (const auto& r : items_.back().requests) {
        encoded.push_back(encode_request(*env.tokenizer, r.context, r.continuation));
        cost_ += static_cast<std::int64_t>(encoded.back().first.size() + encoded.back().second.size());
      }
    }
    if (items_.empty()) throw BadInput("task " + name_ + ": " + path.string() + " holds no items");
    config_ = {{"task", name_},           {"data", path.string()},
               {"data_hash", file_hash(path)}, {"output_type", "multiple_choice"},
               {"items", items_.size()},  {"limit", limit},
               {"max_length", env.max_length}, {"prefix_token", env.prefix_token},
               {"metrics", items_.front().has_acc_norm ? nlohmann::json{"acc", "acc_norm"} : nlohmann::json{"acc"}}};
  }

  std::string name() const override { return name_; }
  nlohmann::json config() const override { return config_; }
  std::int64_t unit_count() const override {
    return (static_cast<std::int64_t>(items_.size()) + kItemsPerUnit - 1) / kItemsPerUnit;
  }
  std::int64_t unit_cost(std::int64_t) const override { return cost_ / std::max<std::int64_t>(unit_count(), 1); }

  nlohmann::json run_unit(std::int64_t u, const TaskEnv& env) const override {
    nlohmann::json out = nlohmann::json::array();
    const auto first = static_cast<std::size_t>(u * kItemsPerUnit);
    const auto last = std::min(items_.size(), first + static_cast<std::size_t>(kItemsPerUnit));
    // Every request of the unit at once, so requests of equal length share passes.
    std::vector<ContinuationWindow> windows;
    for (std::size_t i = first; i < last; ++i)
      for (const auto& [ctx, cont] : encoded_[i]) windows.push_back(continuation_window(ctx, cont, env));
    const auto scores = score_continuations(*env.model, windows, env);
    std::size_t next = 0;
    for (std::size_t i = first; i < last; ++i) {
      const auto& item = items_[i];
      std::vector<double> ll, norm;
      for (std::size_t c = 0; c < item.requests.size(); ++c) {
        const auto& s = scores[next++];
        ll.push_back(s.sum);
        norm.push_back(s.sum / item.choice_lengths[c]);
      }
      nlohmann::json r{{"item", i}, {"loglik", ll}, {"gold", item.gold}, {"acc", argmax_of(ll) == item.gold ? 1 : 0}};
      if (item.has_acc_norm) r["acc_norm"] = argmax_of(norm) == item.gold ? 1 : 0;
      out.push_back(std::move(r));
    }
    return out;
  }

  TaskAggregate aggregate(const std::vector<std::pair<std::int64_t, nlohmann::json>>& units) const override {
    std::vector<double> acc, acc_norm;
    for (const auto& [u, items] : units)
      for (const auto& r : items) {
        acc.push_back(r.at("acc").get<double>());
        if (r.contains("acc_norm")) acc_norm.push_back(r["acc_norm"].get<double>());
      }
    TaskAggregate a;
    a.samples = static_cast<std::int64_t>(acc.size());
    if (acc.empty()) return a;
    const auto m = mean_stderr(acc);
    a.metrics["acc"] = m.mean;
    a.metrics["acc_stderr"] = m.stderr_;
    if (!acc_norm.empty()) {
      const auto n = mean_stderr(acc_norm);
      a.metrics["acc_norm"] = n.mean;
      a.metrics["acc_norm_stderr"] = n.stderr_;
    }
    return a;
  }

 private:
  std::string name_;
  std::vector<MultipleChoiceItem> items_;
  // Per item, per request: {context tokens, continuation tokens}.
  std::vector<std::vector<std::pair<std::vector<std::int32_t>, std::vector<std::int32_t>>>> encoded_;
  std::int64_t cost_ = 0;
  nlohmann::json config_;
};

std::string multiple_choice_description(const std::string& name) {
  static const std::map<std::string, std::string> d{
      {"hellaswag", "HellaSwag: the most plausible ending of a scene (acc, acc_norm)"},
      {"piqa", "PIQA: physical commonsense, the better of two solutions (acc, acc_norm)"},
      {"arc_easy", "ARC-Easy: grade-school science questions (acc, acc_norm)"},
      {"arc_challenge", "ARC-Challenge: the harder grade-school science questions (acc, acc_norm)"},
      {"winogrande", "WinoGrande: the option that fills the blank (acc)"},
      {"boolq", "BoolQ: yes/no questions about a passage (acc)"},
      {"copa", "COPA: the more plausible cause or effect (acc)"},
      {"sciq", "SciQ: science exam questions with a supporting paragraph (acc, acc_norm)"},
      {"social_iqa", "Social IQa: commonsense about people's actions and feelings (acc)"}};
  const auto it = d.find(name);
  return it == d.end() ? "zero-shot multiple choice as lm-eval scores it" : it->second;
}

}  // namespace

std::vector<TaskSchema> multiple_choice_schemas() {
  std::vector<TaskSchema> out;
  for (const auto& name : multiple_choice_tasks())
    out.push_back(
        {.name = name,
         .description = multiple_choice_description(name),
         .group = TaskGroup::multiple_choice,
         .settings = {{.key = "data", .type = SettingType::file, .label = "data file",
                       .help = "the task's dataset as JSON lines, as datasets' to_json() writes it (fields: "
                               "docs/evaluation.md)",
                       .default_value = nullptr, .required = true},
                      common_setting("alias"), common_setting("limit", "the first N items; none: all"),
                      common_setting("max_length"), common_setting("batch_size")},
         .make = [](const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) -> std::unique_ptr<Task> {
           return std::make_unique<MultipleChoiceTask>(s, env, base_dir);
         }});
  return out;
}

}  // namespace lmscope::eval
