// `recall`: the recall-intensive benchmarks of the Based / Gated DeltaNet evaluations (SWDE, SQuAD, FDA, TriviaQA,
// NQ, DROP). Each item is a prompt (a document followed by a question or an unfinished statement) and one or more
// answers; the model continues the prompt greedily until a stop string ("\n" by default) or max_new_tokens (48), and
// the item scores 1 when some answer occurs in the output, case-insensitively (lm-eval's `contains` for the
// based-* sets). As lm-eval's generate_until, the prompt is encoded without special tokens and, when longer than
// max_length − max_new_tokens, keeps only its last tokens: with max_length 2048 that is the papers' "inputs
// truncated to 2K tokens". Users bring the data: JSON lines, one file per set.
#include <algorithm>
#include <map>

#include "eval/answer_generation.h"
#include "eval/answer_metrics.h"
#include "eval/scoring.h"
#include "eval/task_data.h"
#include "eval/tasks/task_registry.h"
#include "lmscope/error.h"

namespace lmscope::eval {
namespace {

constexpr const char* kTask = "recall";
constexpr std::int64_t kItemsPerUnit = 32;

struct RecallItem {
  std::string set;
  std::vector<std::int32_t> prompt;  // already truncated
  std::int64_t truncated = 0;        // tokens dropped from the prompt's start
  std::vector<std::string> answers;
};

std::string string_field(const nlohmann::json& r, const char* key, const std::string& where) {
  if (!r.contains(key)) return {};
  if (!r[key].is_string()) throw BadInput(where + ": field '" + key + "' must be a string");
  return r[key].get<std::string>();
}

// The prompt of a record: `text` (lm-eval's based-* layout), else `context` followed by `question` (or `prompt`).
std::string record_prompt(const nlohmann::json& r, const std::string& where) {
  if (r.contains("text")) return string_field(r, "text", where);
  std::string q = string_field(r, "question", where);
  if (q.empty()) q = string_field(r, "prompt", where);
  if (q.empty())
    throw BadInput(where + ": an item needs `text`, or `question` / `prompt` (after an optional `context`)");
  return string_field(r, "context", where) + q;
}

// The answers of a record: `answers` (a string or a list of strings), `answer` or `value` (lm-eval's layout).
std::vector<std::string> record_answers(const nlohmann::json& r, const std::string& where) {
  std::vector<std::string> out;
  for (const char* key : {"answers", "answer", "value"}) {
    if (!r.contains(key)) continue;
    const auto& v = r[key];
    if (v.is_string()) out.push_back(v.get<std::string>());
    else if (v.is_array())
      for (const auto& a : v) {
        if (!a.is_string()) throw BadInput(where + ": field '" + key + "' must hold strings");
        out.push_back(a.get<std::string>());
      }
    else throw BadInput(where + ": field '" + key + "' must be a string or a list of strings");
    break;
  }
  std::erase_if(out, [](const std::string& a) { return a.empty(); });
  if (out.empty()) throw BadInput(where + ": an item needs a non-empty answer (`answers`, `answer` or `value`)");
  return out;
}

class RecallTask final : public Task {
 public:
  RecallTask(const TaskSettings& settings, const TaskEnv& env, const std::string& base_dir) {
    const auto& s = settings.json();
    max_new_ = settings.integer("max_new_tokens");
    // The schema's choice (a line break or nothing), or in a spec any list of stop strings.
    if (settings.given("until") && s["until"].is_array()) {
      const auto& u = s["until"];
      if (!std::all_of(u.begin(), u.end(), [](const auto& x) { return x.is_string(); }))
        throw BadInput("task recall: field 'until' must be \"newline\", \"none\" or a list of stop strings (e.g. "
                       "[\"\\n\"]; [] for none)");
      for (const auto& x : u) until_.push_back(x.get<std::string>());
    } else if (settings.text("until") == "newline") {
      until_ = {"\n"};
    }
    const std::int64_t limit = settings.integer_if("limit").value_or(-1);
    const std::int64_t keep = env.max_length - max_new_;
    if (keep < 1)
      throw BadInput("task recall: max_length (" + std::to_string(env.max_length) + ") must exceed max_new_tokens (" +
                     std::to_string(max_new_) + ")");

    std::vector<std::string> files;
    if (s.contains("data") && s["data"].is_array()) {
      for (const auto& f : s["data"]) {
        if (!f.is_string()) throw BadInput("task recall: field 'data' must be a path or a list of paths");
        files.push_back(f.get<std::string>());
      }
    } else if (s.contains("data") && s["data"].is_string()) {
      files.push_back(s["data"].get<std::string>());
    }
    if (files.empty())
      throw BadInput("task recall: field 'data' is required: a JSON-lines file (or a list of them), one set each");
    nlohmann::json data_config = nlohmann::json::array();
    for (const auto& f : files) {
      const auto path = data_path({{"data", f}}, "data", kTask, base_dir,
                                  "a JSON-lines file of {\"text\" | \"context\"+\"question\", \"answers\" | \"value\"} items");
      const auto records = read_jsonl(path);
      const std::string file_set = path.stem().string();
      std::int64_t n = 0;
      for (std::size_t i = 0; i < records.size() && (limit < 0 || n < limit); ++i, ++n) {
        const auto where = path.string() + ":" + std::to_string(i + 1);
        const auto& r = records[i];
        if (!r.is_object()) throw BadInput(where + ": expected a JSON object per line");
        RecallItem item;
        item.set = r.contains("set") ? string_field(r, "set", where) : file_set;
        item.answers = record_answers(r, where);
        item.prompt = encode_as_lm_eval(*env.tokenizer, record_prompt(r, where));
        if (item.prompt.empty()) throw BadInput(where + ": the prompt is empty");
        if (static_cast<std::int64_t>(item.prompt.size()) > keep) {
          item.truncated = static_cast<std::int64_t>(item.prompt.size()) - keep;
          item.prompt.erase(item.prompt.begin(), item.prompt.begin() + item.truncated);
        }
        cost_ += static_cast<std::int64_t>(item.prompt.size()) + max_new_;
        items_.push_back(std::move(item));
      }
      if (n == 0) throw BadInput("task recall: " + path.string() + " holds no items");
      data_config.push_back({{"path", path.string()}, {"hash", file_hash(path)}, {"items", n}});
    }
    for (const auto& it : items_)
      if (std::find(sets_.begin(), sets_.end(), it.set) == sets_.end()) sets_.push_back(it.set);
    config_ = {{"task", kTask},
               {"data", data_config},
               {"output_type", "generate_until"},
               {"max_new_tokens", max_new_},
               {"until", until_},
               {"limit", limit},
               {"max_length", env.max_length},
               {"prompt_tokens_kept", keep},
               {"metric", "contains: some answer occurs in the output, case-insensitive"}};
  }

  std::string name() const override { return kTask; }
  nlohmann::json config() const override { return config_; }
  std::int64_t unit_count() const override {
    return (static_cast<std::int64_t>(items_.size()) + kItemsPerUnit - 1) / kItemsPerUnit;
  }
  std::int64_t unit_cost(std::int64_t) const override { return cost_ / std::max<std::int64_t>(unit_count(), 1); }

  nlohmann::json run_unit(std::int64_t u, const TaskEnv& env) const override {
    const auto first = static_cast<std::size_t>(u * kItemsPerUnit);
    const auto last = std::min(items_.size(), first + static_cast<std::size_t>(kItemsPerUnit));
    std::vector<AnswerRequest> requests;
    for (std::size_t i = first; i < last; ++i) requests.push_back({items_[i].prompt, max_new_, until_});
    const auto answers = generate_answers(*env.model, *env.tokenizer, requests, env);
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t i = first; i < last; ++i) {
      const auto& it = items_[i];
      const auto& a = answers[i - first];
      out.push_back({{"item", i},
                     {"set", it.set},
                     {"prompt_tokens", it.prompt.size()},
                     {"truncated_tokens", it.truncated},
                     {"output", a.text},
                     {"stopped_by", a.stopped_by},
                     {"answers", it.answers},
                     {"contains", contains_any(a.text, it.answers) ? 1 : 0}});
    }
    return out;
  }

  TaskAggregate aggregate(const std::vector<std::pair<std::int64_t, nlohmann::json>>& units) const override {
    std::map<std::string, std::vector<double>> by_set;
    std::vector<double> all;
    for (const auto& [u, items] : units)
      for (const auto& r : items) {
        const double c = r.at("contains").get<double>();
        by_set[r.at("set").get<std::string>()].push_back(c);
        all.push_back(c);
      }
    TaskAggregate a;
    a.samples = static_cast<std::int64_t>(all.size());
    if (all.empty()) return a;
    const auto m = mean_stderr(all);
    a.metrics = {{"contains", m.mean}, {"contains_stderr", m.stderr_}};
    nlohmann::json per_set = nlohmann::json::array();
    for (const auto& set : sets_) {  // in the order the sets were given
      auto it = by_set.find(set);
      if (it == by_set.end()) continue;
      const auto s = mean_stderr(it->second);
      a.metrics["contains@" + set] = s.mean;
      a.metrics["contains@" + set + "_stderr"] = s.stderr_;
      per_set.push_back({{"set", set}, {"contains", s.mean}, {"items", it->second.size()}});
    }
    a.details = {{"sets", per_set}};
    return a;
  }

 private:
  std::vector<RecallItem> items_;
  std::vector<std::string> sets_, until_;
  std::int64_t max_new_ = 48, cost_ = 0;
  nlohmann::json config_;
};

}  // namespace

TaskSchema recall_schema() {
  using T = SettingType;
  return {.name = "recall",
          .description = "recall-intensive question answering (SWDE, SQuAD, FDA, TriviaQA, NQ, DROP): greedy answers, "
                         "`contains` per set",
          .group = TaskGroup::generation,
          .settings = {{.key = "data", .type = T::file_list, .label = "data files (one per set)",
                        .help = "JSON lines, one file per set (the set is the file's stem): {text, value} as lm-eval's "
                                "based_* sets hold them, or {context, question, answers}",
                        .default_value = nullptr, .required = true},
                       {.key = "max_new_tokens", .type = T::integer, .label = "new tokens",
                        .help = "greedy tokens per answer", .default_value = 48, .min = 1,
                        .max = static_cast<double>(kMaxNewTokens)},
                       {.key = "until", .type = T::choice, .label = "stop at",
                        .help = "newline: the answer ends at the first line break; none: only EOS and new tokens end "
                                "it (a spec may give a list of stop strings instead)",
                        .default_value = "newline", .choices = {"newline", "none"}},
                       common_setting("alias"), common_setting("limit", "the first N items of each file; none: all"),
                       common_setting("max_length", "prompts keep their last max_length - max_new_tokens tokens; none: "
                                                    "lm-eval's rule (the model's context, else 2048)"),
                       common_setting("batch_size", "answers decoded together; none: 16 on CUDA, 1 on the CPU")},
          .make = [](const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) -> std::unique_ptr<Task> {
            return std::make_unique<RecallTask>(s, env, base_dir);
          }};
}

}  // namespace lmscope::eval
