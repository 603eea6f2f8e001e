// libFuzzer target: run specs as `lmscope-cli run SPEC.json` reads them, then each task's settings as the tasks
// read them (with a byte tokenizer; entries naming paths are skipped, so no real file is read).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lmscope/error.h"
#include "lmscope/eval/task.h"
#include "lmscope/json_input.h"
#include "lmscope/run/run_spec.h"
#include "lmscope/tokenizer.h"

namespace {

bool names_a_path(const nlohmann::json& v) {
  if (v.is_string()) return v.get_ref<const std::string&>().find('/') != std::string::npos;
  if (v.is_structured())
    for (const auto& x : v) if (names_a_path(x)) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace lmscope;
  static const auto bytes = make_byte_tokenizer(1, 2);
  try {
    const auto j = parse_json_input(std::string_view(reinterpret_cast<const char*>(data), size), "spec.json");
    const auto spec = run::parse_run_spec(j, "/nonexistent-lmscope-fuzz", "spec.json");
    spec.hash();
    for (const auto& t : spec.tasks) {
      if (names_a_path(t)) continue;
      eval::TaskEnv env;
      env.tokenizer = bytes.get();
      env.prefix_token = 1;
      env.max_length = 256;
      const auto task = eval::make_task(t, env, "/nonexistent-lmscope-fuzz");
      task->config();
      for (std::int64_t u = 0; u < task->unit_count() && u < 4; ++u) task->unit_cost(u);
      task->aggregate({});
    }
  } catch (const BadInput&) {
  }
  return 0;
}
