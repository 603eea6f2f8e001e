// The built-in tasks' schemas, one file each (engine/src/eval/tasks/*.cpp): each declares its name, description,
// group, settings and factory in one place; task_registry.cpp lists them and make_task builds from them.
#pragma once

#include <vector>

#include "eval/task_settings.h"
#include "lmscope/eval/task_schema.h"

namespace lmscope::eval {

TaskSchema wikitext_schema();
TaskSchema lambada_schema();
TaskSchema charlevel_schema();
TaskSchema ppl_vs_length_schema();
TaskSchema longppl_schema();
TaskSchema passkey_schema();
// `ruler` (a list of RULER's NIAH tasks) and each of them by name (`niah_single_1` ...).
std::vector<TaskSchema> ruler_schemas();
// hellaswag, piqa, ... (multiple_choice_tasks()).
std::vector<TaskSchema> multiple_choice_schemas();
TaskSchema recall_schema();
TaskSchema compare_schema();
TaskSchema throughput_schema();

}  // namespace lmscope::eval
