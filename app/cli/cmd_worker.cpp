// lmscope-cli worker: the engine behind a JSON-lines protocol on stdin/stdout (docs/worker.md), for the GUI and
// other front ends. Requests are read on the main thread; a run executes on its own thread so "cancel" is heard
// while it works. Every output line is one JSON object carrying the id of the request it answers.
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/gpu_run.h"
#include "cli/worker_request.h"
#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "lmscope/json_input.h"
#include "lmscope/eval/task.h"
#include "lmscope/run/item_outcomes.h"
#include "lmscope/run/result_identity.h"
#include "lmscope/eval/task_schema.h"
#include "lmscope/run/results_store.h"
#include "lmscope/run/runner.h"
#include "lmscope/version.h"

namespace lmscope::cli {
namespace {

// The longest request line read (a run spec inline is kilobytes); a longer one is answered with an error.
constexpr std::size_t kMaxRequestBytes = 64u << 20;

class Worker {
 public:
  // A line that cannot be written means the front end has gone (its end of the pipe is closed, SIGPIPE being
  // ignored): the run in progress is cancelled and the worker stops at the next request it reads.
  void send(nlohmann::json e, const nlohmann::json& id) {
    e["id"] = id;
    const std::string text = dump_json(e) + "\n";
    std::lock_guard<std::mutex> lock(out_);
    if (output_lost_.load()) return;
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
      output_lost_.store(true);
      cancel_.store(true);
    }
  }

  bool output_lost() const { return output_lost_.load(); }

  void error(const nlohmann::json& id, const std::string& kind, const std::string& message) {
    send({{"event", "error"}, {"kind", kind}, {"message", message}}, id);
  }

  // Returns false on "quit".
  bool handle(const std::string& line) {
    WorkerRequest req;
    try {
      req = parse_worker_request(line);
    } catch (const BadInput& e) {
      error(nullptr, "bad_input", e.what());
      return true;
    }
    const auto& id = req.id;
    const auto& cmd = req.cmd;
    try {
      if (cmd == "quit") return false;
      if (cmd == "ping") send({{"event", "pong"}, {"version", lmscope::version()}, {"protocol", 1}}, id);
      else if (cmd == "tasks") send({{"event", "tasks"}, {"tasks", eval::task_names()}, {"schema", eval::task_schemas_json()}}, id);
      else if (cmd == "inspect") send({{"event", "inspect"}, {"model", inspect_json(Checkpoint::open(req.text("model")))}}, id);
      else if (cmd == "history") history(req, id);
      else if (cmd == "items") items(req, id);
      else if (cmd == "run") start_run(req, id);
      else if (cmd == "check") check(req, id);
      else if (cmd == "cancel") cancel(id);
      else if (cmd == "release_claims") release_claims(req, id);
      else error(id, "bad_input", "unknown cmd '" + cmd + "' (ping, tasks, inspect, history, items, run, check, cancel, release_claims, quit)");
    } catch (const BadInput& e) {
      error(id, "bad_input", e.what());
    } catch (const std::filesystem::filesystem_error& e) {
      error(id, "bad_input", e.what());
    } catch (const OutputError& e) {
      error(id, "output", e.what());
    } catch (const std::exception& e) {
      error(id, "internal", e.what());
    }
    return true;
  }

  void finish() {
    cancel_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  static std::string store_of(const WorkerRequest& req) {
    return req.has("store") ? req.text("store") : default_store_path();
  }

  void history(const WorkerRequest& req, const nlohmann::json& id) {
    run::ResultsStore store(store_of(req));
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : store.task_runs()) {
      nlohmann::json row{{"run_key", r.run_key}, {"spec_hash", r.spec_hash}, {"model", r.model},
                         {"model_path", r.model_path}, {"setting", r.setting}, {"task", r.task}, {"config", r.config},
                         {"provenance", r.provenance}, {"unit_count", r.unit_count},
                         {"units_done", store.unit_count_stored(r.run_key)},
                         {"created", r.created}, {"finished", r.finished}, {"results", r.results}};
      row.update(run::instance_fields(r));
      list.push_back(std::move(row));
    }
    send({{"event", "history"}, {"store", store.path().string()}, {"task_runs", list}}, id);
  }

  // Per-item outcomes of stored task runs (`run_key`, or `run_keys` for several), for paired comparisons.
  void items(const WorkerRequest& req, const nlohmann::json& id) {
    run::ResultsStore store(store_of(req));
    std::vector<std::string> keys;
    if (req.has("run_keys")) {
      const auto& k = req.body["run_keys"];
      if (!k.is_array()) throw BadInput("'run_keys' must be a list of run keys");
      for (const auto& v : k) {
        if (!v.is_string()) throw BadInput("'run_keys' must be a list of run keys");
        keys.push_back(v.get<std::string>());
      }
    } else {
      keys.push_back(req.text("run_key"));
    }
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& k : keys) runs.push_back(run::to_json(run::read_item_outcomes(store, k)));
    send({{"event", "items"}, {"store", store.path().string()}, {"runs", runs}}, id);
  }

  // What `run` would refuse, refused now (run::check_run): the GUI asks before it launches.
  void check(const WorkerRequest& req, const nlohmann::json& id) {
    const auto r = parse_run_request(req, req.has("store") ? "" : default_store_path(), std::filesystem::current_path().string());
    const auto c = run::check_run(r.spec);
    send({{"event", "checked"}, {"task_runs", c.task_runs}, {"units", c.units}}, id);
  }

  void start_run(const WorkerRequest& req, const nlohmann::json& id) {
    if (busy_.load()) throw BadInput("a run is in progress (one at a time per worker); cancel it or start another worker");
    if (thread_.joinable()) thread_.join();  // the previous run's thread, finished or about to be
    auto r = parse_run_request(req, req.has("store") ? "" : default_store_path(), std::filesystem::current_path().string());
    auto spec = std::move(r.spec);
    run::RunOptions o;
    o.store_path = r.store;
    o.shard_index = r.shard_index;
    o.shard_count = r.shard_count;
    o.cancel = &cancel_;
    o.on_event = [this, id](const nlohmann::json& e) { send(e, id); };
    // Several workers on one run (the GUI with several GPUs): each claims a unit in the store just before computing
    // it, as `run --gpus` children do (gpu_run.cpp), and leaves the aggregate to a final `"compute": false` run.
    if (req.has("claims")) {
      const auto& c = req.body["claims"];
      if (!c.is_object() || !c.contains("session") || !c["session"].is_string() || c["session"].get<std::string>().empty())
        throw BadInput("'claims' must be an object with a non-empty string 'session'");
      o.claim = unit_claimer(o.store_path, c["session"].get<std::string>());
    }
    if (req.has("compute")) {
      if (!req.body["compute"].is_boolean()) throw BadInput("'compute' must be true or false");
      o.compute = req.body["compute"].get<bool>();
    }
    cancel_.store(false);
    busy_.store(true);
    thread_ = std::thread([this, spec = std::move(spec), o, id]() {
      // The worker is free again before the last line goes out, so a front end may send the next run at once.
      nlohmann::json last;
      try {
        const auto outcome = run::execute_run(spec, o);
        last = {{"event", "results"}, {"complete", outcome.complete}, {"cancelled", outcome.cancelled},
                {"results", outcome.results}};
      } catch (const BadInput& e) {
        last = {{"event", "error"}, {"kind", "bad_input"}, {"message", e.what()}};
      } catch (const std::filesystem::filesystem_error& e) {
        last = {{"event", "error"}, {"kind", "bad_input"}, {"message", e.what()}};
      } catch (const OutputError& e) {
        last = {{"event", "error"}, {"kind", "output"}, {"message", e.what()}};
      } catch (const std::exception& e) {
        last = {{"event", "error"}, {"kind", "internal"}, {"message", e.what()}};
      }
      busy_.store(false);
      send(last, id);
    });
  }

  // Frees the claims a dead worker of a multi-worker run held on units it did not store, so a live one can take them.
  void release_claims(const WorkerRequest& req, const nlohmann::json& id) {
    run::ResultsStore store(store_of(req));
    store.open_claims();
    const auto freed = store.release_claims(req.text("session"), req.text("worker"));
    send({{"event", "claims_released"}, {"count", freed}}, id);
  }

  void cancel(const nlohmann::json& id) {
    const bool was = busy_.load();
    cancel_.store(true);
    send({{"event", "cancelling"}, {"running", was}}, id);
  }

  std::mutex out_;
  std::atomic<bool> cancel_{false}, busy_{false}, output_lost_{false};
  std::thread thread_;
};

}  // namespace

// One line of stdin into `line` (without the newline); false at end of input. A line longer than `max` is skipped
// to its end and `too_long` set, so one oversized request cannot take the worker's memory.
static bool read_request_line(std::string& line, std::size_t max, bool& too_long) {
  line.clear();
  too_long = false;
  char buf[65536];
  bool any = false;
  while (std::fgets(buf, sizeof buf, stdin)) {
    any = true;
    const std::size_t n = std::strlen(buf);
    const bool ends = n > 0 && buf[n - 1] == '\n';
    if (!too_long) {
      line.append(buf, ends ? n - 1 : n);
      if (line.size() > max) {
        too_long = true;
        line.clear();
      }
    }
    if (ends) return true;
  }
  return any;
}

int cmd_worker(const Argv& argv) {
  Args a("worker", argv, {}, {});
  Worker w;
  w.send({{"event", "ready"}, {"version", lmscope::version()}, {"protocol", 1}}, nullptr);
  std::string line;
  bool too_long = false;
  while (!w.output_lost() && read_request_line(line, kMaxRequestBytes, too_long)) {
    if (too_long) {
      w.error(nullptr, "bad_input", "request longer than " + std::to_string(kMaxRequestBytes >> 20) +
                                        " MiB; give a large spec as 'spec_file'");
      continue;
    }
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (!w.handle(line)) break;
  }
  // stdin closed or quit: stop a run in progress at its next forward pass (finished units are stored).
  w.finish();
  if (w.output_lost()) {
    std::fprintf(stderr, "lmscope-cli worker: standard output is closed (the front end went away); stopped\n");
    return 1;
  }
  return 0;
}

}  // namespace lmscope::cli
