// What makes two task results comparable, in one place for the CLI, the worker and the GUI (which receives it in
// events and history rows): a result is model · RoPE setting · task instance · run, and the task instance is its
// alias plus the identity below. Views put two results side by side ("best", one series, one column) only when
// their identities are equal; a re-run with other data or other settings becomes a separate entry, never a
// replacement.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "lmscope/run/results_store.h"

namespace lmscope::run {

// The settings the user asked for (the spec's task entry, top-level defaults merged in) minus what does not change
// the numbers (alias, batch_size), minus settings given with their schema default (as if left out) and minus file
// locations, plus the content hashes the resolved task config holds
// for those files (data, filler, haystack, recall's data sets) and the evaluator / base model's fingerprint. It
// deliberately ignores what the task resolves from the model (max length, tokenised window counts, prefix token),
// so two models evaluated with the same request are comparable.
nlohmann::json task_instance_identity(const nlohmann::json& settings, const nlohmann::json& resolved_config,
                                      const std::string& second_model_fingerprint);

// For task runs stored before identities existed: the resolved config without file locations (finer than
// task_instance_identity — it may split what is comparable, never merge what is not).
nlohmann::json legacy_task_identity(const nlohmann::json& resolved_config);

// 16 hex digits naming an identity (FNV-1a of its canonical JSON).
std::string identity_id(const nlohmann::json& identity);

// A stored task run's instance as events and history rows carry it: {"alias", "identity", "config_id"} (legacy rows:
// the task's name and legacy_task_identity).
nlohmann::json instance_fields(const TaskRunRecord& record);

}  // namespace lmscope::run
