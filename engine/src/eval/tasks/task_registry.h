// Constructors of the built-in tasks, one file each (engine/src/eval/tasks/*.cpp).
#pragma once

#include <memory>
#include <string>

#include "lmscope/eval/task.h"

namespace lmscope::eval {

// Settings every task accepts besides its own.
const std::vector<std::string>& common_settings();
std::vector<std::string> with_common(std::vector<std::string> own);

std::unique_ptr<Task> make_wikitext_task(const nlohmann::json& s, const TaskEnv& env, const std::string& base_dir);
std::unique_ptr<Task> make_multiple_choice_task(const std::string& name, const nlohmann::json& s, const TaskEnv& env,
                                                const std::string& base_dir);
std::unique_ptr<Task> make_lambada_task(const nlohmann::json& s, const TaskEnv& env, const std::string& base_dir);
std::unique_ptr<Task> make_ppl_vs_length_task(const nlohmann::json& s, const TaskEnv& env, const std::string& base_dir);
std::unique_ptr<Task> make_passkey_task(const nlohmann::json& s, const TaskEnv& env, const std::string& base_dir);
std::unique_ptr<Task> make_longppl_task(const nlohmann::json& s, const TaskEnv& env, const std::string& base_dir);
std::unique_ptr<Task> make_charlevel_task(const nlohmann::json& s, const TaskEnv& env, const std::string& base_dir);
std::unique_ptr<Task> make_throughput_task(const nlohmann::json& s, const TaskEnv& env, const std::string& base_dir);
// `ruler` (a list of RULER's NIAH tasks) or one of them by name (`niah_single_1` ...).
std::unique_ptr<Task> make_ruler_task(const std::string& name, const nlohmann::json& s, const TaskEnv& env,
                                      const std::string& base_dir);
bool is_ruler_task(const std::string& name);
std::unique_ptr<Task> make_compare_task(const nlohmann::json& s, const TaskEnv& env, const std::string& base_dir);
std::unique_ptr<Task> make_recall_task(const nlohmann::json& s, const TaskEnv& env, const std::string& base_dir);

}  // namespace lmscope::eval
