// lmscope-cli tasks [NAME] [--json | --names]: the task schema (lmscope/eval/task_schema.h) for people and programs —
// every task with its description by group, one task's settings as a table, the whole schema as JSON, or the names
// one per line (for shell scripts).
#include <algorithm>
#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "lmscope/error.h"
#include "lmscope/eval/task_schema.h"
#include "lmscope/json_input.h"

namespace lmscope::cli {
namespace {

// A default as a person types it: lists without brackets, strings as they are, null as what happens instead.
std::string shown(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>().empty() ? "\"\"" : v.get<std::string>();
  if (v.is_array()) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + shown(x);
    return s.empty() ? "[]" : s;
  }
  return dump_json(v);
}

std::string type_text(const eval::SettingSchema& s) {
  std::string t = eval::setting_type_name(s.type);
  std::replace(t.begin(), t.end(), '_', ' ');
  return t;
}

// The help with what bounds the value: "…; 2 to 16777216", "…; one of chunks, sliding".
std::string help_text(const eval::SettingSchema& s) {
  const auto j = eval::to_json(s);
  std::string h = s.help;
  if (j.contains("min") && j.contains("max")) h += " [" + dump_json(j["min"]) + " to " + dump_json(j["max"]) + "]";
  else if (j.contains("min")) h += " [>= " + dump_json(j["min"]) + "]";
  else if (j.contains("max")) h += " [<= " + dump_json(j["max"]) + "]";
  if (!s.choices.empty()) {
    std::string c;
    for (const auto& x : s.choices) c += (c.empty() ? "" : ", ") + x;
    h += s.type == eval::SettingType::word_list ? " [any of: " + c + "]" : " [one of: " + c + "]";
  }
  if (s.required) h += " (required)";
  if (!s.synonym_of.empty()) h += " (another spelling of " + s.synonym_of + ")";
  return h;
}

void print_table(const std::vector<eval::SettingSchema>& settings) {
  std::size_t wk = 7, wt = 4, wd = 7;
  for (const auto& s : settings) {
    wk = std::max(wk, s.key.size());
    wt = std::max(wt, type_text(s).size());
    wd = std::max(wd, std::min<std::size_t>(shown(s.default_value).size(), 28));
  }
  std::printf("  %-*s  %-*s  %-*s  %s\n", static_cast<int>(wk), "setting", static_cast<int>(wt), "type",
              static_cast<int>(wd), "default", "what it does");
  for (const auto& s : settings) {
    auto d = shown(s.default_value);
    if (d.size() > 28) d = d.substr(0, 25) + "...";
    std::printf("  %-*s  %-*s  %-*s  %s\n", static_cast<int>(wk), s.key.c_str(), static_cast<int>(wt),
                type_text(s).c_str(), static_cast<int>(wd), d.c_str(), help_text(s).c_str());
  }
}

void print_task(const eval::TaskSchema& t) {
  std::printf("%s (%s): %s\n\n", t.name.c_str(), eval::task_group_title(t.group), t.description.c_str());
  std::vector<eval::SettingSchema> own, common;
  for (const auto& s : t.settings) (s.common ? common : own).push_back(s);
  if (own.empty()) std::printf("  (no settings of its own)\n");
  else print_table(own);
  if (!common.empty()) {
    std::printf("\nsettings every task accepts, as this one uses them (a spec's top level sets them for all tasks):\n");
    print_table(common);
  }
  std::printf("\n'-' as a default: not set; the help says what happens then. Lists: a JSON list, or one value.\n");
}

void print_all() {
  std::size_t width = 0;
  for (const auto& t : eval::task_schemas()) width = std::max(width, t.name.size());
  for (const auto g : eval::task_groups()) {
    bool any = false;
    for (const auto& t : eval::task_schemas()) {
      if (t.group != g) continue;
      if (!any) std::printf("%s%s\n", g == eval::task_groups().front() ? "" : "\n", eval::task_group_title(g));
      any = true;
      std::printf("  %-*s  %s\n", static_cast<int>(width), t.name.c_str(), t.description.c_str());
    }
  }
  std::string common;
  for (const auto& s : eval::common_setting_schemas()) common += (common.empty() ? "" : ", ") + s.key;
  std::printf("\nEvery task also accepts %s. `lmscope-cli tasks NAME` lists a task's settings; `--json` prints the "
              "whole schema.\n",
              common.c_str());
}

}  // namespace

int cmd_tasks(const Argv& argv) {
  std::vector<std::string> rest = argv;
  std::optional<std::string> name;
  if (!rest.empty() && rest.front().rfind("--", 0) != 0) {
    name = rest.front();
    rest.erase(rest.begin());
  }
  Args a("tasks", rest, {}, {"json", "names"});
  if (a.flag("json") && a.flag("names")) throw BadInput("tasks: give --json or --names, not both");
  if (name) {
    const auto* t = eval::find_task_schema(*name);
    if (!t) {
      std::string list;
      for (const auto& n : eval::task_names()) list += (list.empty() ? "" : ", ") + n;
      throw BadInput("unknown task '" + valid_utf8(*name) + "'; known: " + list);
    }
    if (a.flag("names")) std::printf("%s\n", t->name.c_str());
    else if (a.flag("json")) std::printf("%s\n", dump_json(eval::to_json(*t), 1).c_str());
    else print_task(*t);
    return 0;
  }
  if (a.flag("json")) std::printf("%s\n", dump_json(eval::task_schemas_json(), 1).c_str());
  else if (a.flag("names"))
    for (const auto& n : eval::task_names()) std::printf("%s\n", n.c_str());
  else print_all();
  return 0;
}

}  // namespace lmscope::cli
