#include "cli/worker_request.h"

#include "lmscope/error.h"
#include "lmscope/json_input.h"
#include "lmscope/run/runner.h"

namespace lmscope::cli {

std::string WorkerRequest::text(const char* field) const {
  if (!body.contains(field) || !body[field].is_string())
    throw BadInput(std::string("request needs a string field '") + field + "'");
  return body[field].get<std::string>();
}

WorkerRequest parse_worker_request(std::string_view line) {
  WorkerRequest r;
  r.body = parse_json_input(line, "request");
  if (!r.body.is_object() || !r.body.contains("cmd") || !r.body["cmd"].is_string())
    throw BadInput("each request is a JSON object with a string field 'cmd'");
  r.cmd = r.body["cmd"].get<std::string>();
  r.id = r.body.contains("id") ? r.body["id"] : nlohmann::json(nullptr);
  return r;
}

RunRequest parse_run_request(const WorkerRequest& req, const std::string& default_store, const std::string& base_dir) {
  RunRequest out;
  if (req.has("spec") && req.body["spec"].is_object())
    out.spec = run::parse_run_spec(req.body["spec"], req.has("base_dir") ? req.text("base_dir") : base_dir,
                                   "request " + dump_json(req.id));
  else if (req.has("spec_file") && req.body["spec_file"].is_string())
    out.spec = run::load_run_spec(req.text("spec_file"));
  else
    throw BadInput("run needs 'spec' (a run spec object) or 'spec_file' (its path)");
  out.store = req.has("store") ? req.text("store") : default_store;
  if (req.has("shard")) std::tie(out.shard_index, out.shard_count) = run::parse_shard(req.text("shard"));
  return out;
}

}  // namespace lmscope::cli
