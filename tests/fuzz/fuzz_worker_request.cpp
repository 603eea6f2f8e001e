// libFuzzer target: one line of the worker protocol as `lmscope-cli worker` reads it, and a run request's spec
// (spec_file requests are skipped: they would read a file named by the input).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cli/worker_request.h"
#include "lmscope/error.h"
#include "lmscope/json_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace lmscope;
  try {
    const auto req = cli::parse_worker_request(std::string_view(reinterpret_cast<const char*>(data), size));
    dump_json({{"event", "pong"}, {"id", req.id}});
    if (req.cmd == "run" && req.has("spec")) cli::parse_run_request(req, "/nonexistent/store.sqlite", "/nonexistent");
    if (req.has("model")) req.text("model");
  } catch (const BadInput&) {
  }
  return 0;
}
