#include "eval/tasks/task_registry.h"


#include "eval/ruler_niah.h"
#include "lmscope/error.h"
#include "lmscope/input_file.h"
#include "lmscope/json_input.h"
#include "lmscope/eval/multiple_choice.h"

namespace lmscope::eval {

const std::vector<std::string>& common_settings() {
  static const std::vector<std::string> s{"task", "alias", "limit", "max_length", "seed", "batch_size"};
  return s;
}

std::vector<std::string> with_common(std::vector<std::string> own) {
  own.insert(own.end(), common_settings().begin(), common_settings().end());
  return own;
}

const std::vector<std::string>& task_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n{"wikitext", "ppl_vs_length", "passkey", "longppl", "lambada_openai", "charlevel",
                               "throughput", "recall", "ruler", "compare"};
    for (const auto& t : ruler::niah_tasks()) n.emplace_back(t.name);
    for (const auto& t : multiple_choice_tasks()) n.push_back(t);
    return n;
  }();
  return names;
}

std::unique_ptr<Task> make_task(const nlohmann::json& settings, const TaskEnv& env, const std::string& base_dir) {
  if (!settings.is_object() || !settings.contains("task") || !settings["task"].is_string())
    throw BadInput("a task entry needs a string field 'task' (one of the task names; see `lmscope-cli tasks`)");
  const auto name = settings["task"].get<std::string>();
  if (name == "wikitext") return make_wikitext_task(settings, env, base_dir);
  if (name == "lambada_openai") return make_lambada_task(settings, env, base_dir);
  if (name == "ppl_vs_length") return make_ppl_vs_length_task(settings, env, base_dir);
  if (name == "passkey") return make_passkey_task(settings, env, base_dir);
  if (name == "longppl") return make_longppl_task(settings, env, base_dir);
  if (name == "charlevel") return make_charlevel_task(settings, env, base_dir);
  if (name == "throughput") return make_throughput_task(settings, env, base_dir);
  if (is_ruler_task(name)) return make_ruler_task(name, settings, env, base_dir);
  if (name == "recall") return make_recall_task(settings, env, base_dir);
  if (name == "compare") return make_compare_task(settings, env, base_dir);
  if (is_multiple_choice_task(name)) return make_multiple_choice_task(name, settings, env, base_dir);
  std::string list;
  for (const auto& n : task_names()) list += (list.empty() ? "" : ", ") + n;
  throw BadInput("unknown task '" + name + "'; known: " + list);
}

std::int64_t resolve_max_length(const ModelSpec& spec, const std::filesystem::path& model_dir) {
  if (spec.max_position_embeddings > 0) return spec.max_position_embeddings;
  const auto tc = model_dir / "tokenizer_config.json";
  std::error_code ec;
  if (std::filesystem::is_regular_file(tc, ec)) {
    const auto j = parse_json_input(read_input_file(tc, "the tokenizer configuration", kMaxConfigFileBytes), tc.string());
    if (j.is_object() && j.contains("model_max_length") && j["model_max_length"].is_number()) {
      const double m = j["model_max_length"].get<double>();
      // transformers writes VERY_LARGE_INTEGER (int(1e30)) when the length is unknown; lm-eval then uses 2048.
      if (m > 0 && m < 1e18) return static_cast<std::int64_t>(m);
    }
  }
  return 2048;
}

}  // namespace lmscope::eval
