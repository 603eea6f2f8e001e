// One request of the worker protocol (docs/worker.md), read and checked apart from the worker that acts on it, so
// the parsing can be tested and fuzzed on its own.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "lmscope/run/run_spec.h"

namespace lmscope::cli {

struct WorkerRequest {
  std::string cmd;
  nlohmann::json id;    // echoed on every answer; null when absent
  nlohmann::json body;  // the whole request object

  bool has(const char* field) const { return body.contains(field); }
  // A string field; BadInput naming it when it is missing or not a string.
  std::string text(const char* field) const;
};

// A request line: a JSON object (parse_json_input's rules) with a string field 'cmd'. BadInput otherwise; the
// request's id is unknown then, and the error goes out with a null id.
WorkerRequest parse_worker_request(std::string_view line);

// What a "run" request asks for. `default_store` when it names no store; `base_dir` for relative paths in an inline
// spec when it gives none. A spec_file is read here.
struct RunRequest {
  run::RunSpec spec;
  std::string store;
  int shard_index = 0, shard_count = 1;
};
RunRequest parse_run_request(const WorkerRequest& request, const std::string& default_store,
                             const std::string& base_dir);

}  // namespace lmscope::cli
