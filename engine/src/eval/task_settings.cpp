#include "eval/task_settings.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "eval/task_data.h"
#include "lmscope/error.h"
#include "lmscope/json_input.h"

namespace lmscope::eval {
namespace {

std::string number_text(double v) {
  if (std::nearbyint(v) == v && std::abs(v) < 1e15) return std::to_string(static_cast<std::int64_t>(v));
  auto s = std::to_string(v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  return s;
}

// "from 1 to 16", ">= 0", "<= 1", "" (unbounded).
std::string range_text(const SettingSchema& d) {
  if (d.min && d.max) return "from " + number_text(*d.min) + " to " + number_text(*d.max);
  if (d.min) return ">= " + number_text(*d.min);
  if (d.max) return "<= " + number_text(*d.max);
  return "";
}

bool in_range(const SettingSchema& d, double v) { return (!d.min || v >= *d.min) && (!d.max || v <= *d.max); }

[[noreturn]] void out_of_range(const std::string& task, const SettingSchema& d, const std::string& what,
                               const nlohmann::json& got) {
  throw BadInput("task " + task + ": field '" + d.key + "' must be " + what + " " + range_text(d) + ", got " +
                 dump_json(got));
}

}  // namespace

TaskSettings::TaskSettings(const nlohmann::json& settings, const TaskSchema& schema) : s_(settings), schema_(schema) {
  std::vector<std::string> known{"task"};
  for (const auto& d : schema.settings) known.push_back(d.key);
  for (const auto& d : common_setting_schemas())
    if (std::find(known.begin(), known.end(), d.key) == known.end()) known.push_back(d.key);
  check_known_settings(settings, known, schema.name);
}

bool TaskSettings::given(const std::string& key) const { return s_.contains(key) && !s_[key].is_null(); }

const SettingSchema& TaskSettings::declared(const std::string& key, std::initializer_list<SettingType> types) const {
  const auto* d = schema_.find(key);
  if (!d)
    for (const auto& c : common_setting_schemas())
      if (c.key == key) d = &c;
  if (!d) throw InternalError("task " + schema_.name + " reads setting '" + key + "', which its schema does not declare");
  if (std::find(types.begin(), types.end(), d->type) == types.end())
    throw InternalError("task " + schema_.name + " reads setting '" + key + "' as another type than its schema's " +
                        setting_type_name(d->type));
  return *d;
}

std::optional<std::int64_t> TaskSettings::integer_if(const std::string& key) const {
  const auto& d = declared(key, {SettingType::integer});
  if (!given(key)) {
    if (d.default_value.is_null()) return std::nullopt;
    return d.default_value.get<std::int64_t>();
  }
  const auto v = setting_int(s_, key, 0, task());
  if (!in_range(d, static_cast<double>(v))) out_of_range(task(), d, "an integer", s_[key]);
  return v;
}

std::int64_t TaskSettings::integer(const std::string& key) const {
  const auto v = integer_if(key);
  if (!v) throw InternalError("task " + task() + ": setting '" + key + "' has no default value");
  return *v;
}

double TaskSettings::number(const std::string& key) const {
  const auto& d = declared(key, {SettingType::number});
  if (!given(key)) {
    if (d.default_value.is_null()) throw InternalError("task " + task() + ": setting '" + key + "' has no default value");
    return d.default_value.get<double>();
  }
  const auto v = setting_double(s_, key, 0, task());
  if (!in_range(d, v)) out_of_range(task(), d, "a number", s_[key]);
  return v;
}

std::optional<std::vector<std::int64_t>> TaskSettings::integers_if(const std::string& key) const {
  const auto& d = declared(key, {SettingType::integer_list});
  if (!given(key)) {
    if (d.default_value.is_null()) return std::nullopt;
    return d.default_value.get<std::vector<std::int64_t>>();
  }
  const auto v = setting_int_list(s_, key, {}, task());
  for (const auto x : v)
    if (!in_range(d, static_cast<double>(x))) out_of_range(task(), d, "integers", s_[key]);
  return v;
}

std::vector<std::int64_t> TaskSettings::integers(const std::string& key) const {
  auto v = integers_if(key);
  if (!v) throw InternalError("task " + task() + ": setting '" + key + "' has no default value");
  return *v;
}

std::vector<double> TaskSettings::numbers(const std::string& key) const {
  const auto& d = declared(key, {SettingType::number_list});
  if (!given(key)) {
    if (d.default_value.is_null()) throw InternalError("task " + task() + ": setting '" + key + "' has no default value");
    return d.default_value.get<std::vector<double>>();
  }
  const auto v = setting_double_list(s_, key, {}, task());
  for (const auto x : v)
    if (!in_range(d, x)) out_of_range(task(), d, "numbers", s_[key]);
  return v;
}

std::string TaskSettings::text(const std::string& key) const {
  const auto& d = declared(key, {SettingType::text, SettingType::choice});
  if (!given(key)) return d.default_value.is_null() ? std::string() : d.default_value.get<std::string>();
  const auto v = setting_string(s_, key, "", task());
  if (d.type == SettingType::choice && std::find(d.choices.begin(), d.choices.end(), v) == d.choices.end()) {
    std::string list;
    for (const auto& c : d.choices) list += (list.empty() ? "" : ", ") + ("\"" + c + "\"");
    throw BadInput("task " + task() + ": field '" + key + "' must be one of " + list + ", got " + dump_json(s_[key]));
  }
  return v;
}

bool TaskSettings::flag(const std::string& key) const {
  const auto& d = declared(key, {SettingType::boolean});
  if (!given(key)) return d.default_value.is_boolean() && d.default_value.get<bool>();
  if (!s_[key].is_boolean())
    throw BadInput("task " + task() + ": field '" + key + "' must be true or false, got " + dump_json(s_[key]));
  return s_[key].get<bool>();
}

std::vector<std::string> TaskSettings::words(const std::string& key) const {
  const auto& d = declared(key, {SettingType::word_list});
  if (!given(key)) return d.default_value.is_null() ? std::vector<std::string>{} : d.default_value.get<std::vector<std::string>>();
  const auto& v = s_[key];
  if (!v.is_array() || !std::all_of(v.begin(), v.end(), [](const auto& x) { return x.is_string(); }))
    throw BadInput("task " + task() + ": field '" + key + "' must be a list of strings, got " + dump_json(v));
  return v.get<std::vector<std::string>>();
}

std::optional<std::filesystem::path> TaskSettings::file_if(const std::string& key, const std::string& base_dir,
                                                           const std::string& what) const {
  declared(key, {SettingType::file});
  if (!given(key)) return std::nullopt;
  return data_path(s_, key, task(), base_dir, what);
}

std::filesystem::path TaskSettings::file(const std::string& key, const std::string& base_dir,
                                         const std::string& what) const {
  declared(key, {SettingType::file});
  return data_path(s_, key, task(), base_dir, what);
}

SettingSchema text_field_setting(std::string default_field) {
  return {.key = "field", .type = SettingType::text, .label = "text field", .help = "the field of a .jsonl/.json record",
          .default_value = std::move(default_field)};
}

SettingSchema common_setting(std::string_view key, std::string help, std::optional<nlohmann::json> default_value) {
  for (const auto& c : common_setting_schemas())
    if (c.key == key) {
      SettingSchema s = c;
      if (!help.empty()) s.help = std::move(help);
      if (default_value) s.default_value = std::move(*default_value);
      return s;
    }
  throw InternalError("no common setting '" + std::string(key) + "'");
}

}  // namespace lmscope::eval
