#include "lmscope/run/result_identity.h"

#include "eval/task_data.h"
#include "lmscope/eval/task_schema.h"
#include "lmscope/json_input.h"

namespace lmscope::run {
namespace {

// Settings that name files or folders; their contents enter through the resolved config's hashes instead, so the
// same data under another path (another machine, a moved folder) is the same request.
constexpr const char* kLocationSettings[] = {"data", "filler_file", "haystack_file", "evaluator", "base"};
// Settings that only change how the work is scheduled or labelled.
constexpr const char* kPresentationSettings[] = {"alias", "batch_size"};

}  // namespace

nlohmann::json task_instance_identity(const nlohmann::json& settings, const nlohmann::json& config,
                                      const std::string& second_model_fingerprint) {
  nlohmann::json requested = settings.is_object() ? settings : nlohmann::json::object();
  for (const char* k : kLocationSettings) requested.erase(k);
  for (const char* k : kPresentationSettings) requested.erase(k);
  const std::string task = config.value("task", requested.value("task", std::string()));
  requested.erase("task");
  // A setting given with its schema default asks for what leaving it out asks for: the same identity.
  if (const eval::TaskSchema* schema = eval::find_task_schema(task))
    for (auto it = requested.begin(); it != requested.end();) {
      const eval::SettingSchema* d = schema->find(it.key());
      if (d != nullptr && !d->default_value.is_null() && *it == d->default_value) it = requested.erase(it);
      else ++it;
    }
  nlohmann::json content = nlohmann::json::object();
  if (config.is_object()) {
    for (const char* k : {"data_hash", "filler", "haystack"})
      if (config.contains(k)) content[k] = config[k];
    // recall: one entry per data set, each with its own hash
    if (config.contains("data") && config["data"].is_array()) {
      nlohmann::json sets = nlohmann::json::array();
      for (const auto& d : config["data"])
        if (d.is_object() && d.contains("hash")) sets.push_back(d["hash"]);
      content["data_sets"] = sets;
    }
  }
  nlohmann::json id{{"task", task}, {"settings", requested}, {"content", content}};
  if (!second_model_fingerprint.empty()) id["second_model"] = second_model_fingerprint;
  return id;
}

nlohmann::json legacy_task_identity(const nlohmann::json& config) {
  nlohmann::json c = config.is_object() ? config : nlohmann::json::object();
  for (const char* k : kLocationSettings) c.erase(k);
  if (c.contains("data") && c["data"].is_array())
    for (auto& d : c["data"])
      if (d.is_object()) d.erase("path");
  return {{"task", config.value("task", std::string())}, {"config", c}};
}

std::string identity_id(const nlohmann::json& identity) { return eval::fnv1a64_hex(dump_json(identity)); }


nlohmann::json instance_fields(const TaskRunRecord& r) {
  const auto identity = r.identity.is_object() ? r.identity : legacy_task_identity(r.config);
  return {{"alias", r.alias.empty() ? r.task : r.alias}, {"identity", identity}, {"config_id", identity_id(identity)}};
}

}  // namespace lmscope::run
