// lmscope-cli worker: the engine behind a JSON-lines protocol on stdin/stdout (docs/worker.md), for the GUI and
// other front ends. Requests are read on the main thread; a run executes on its own thread so "cancel" is heard
// while it works. Every output line is one JSON object carrying the id of the request it answers.
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/args.h"
#include "cli/commands.h"
#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "lmscope/eval/task.h"
#include "lmscope/run/runner.h"

namespace lmscope::cli {
namespace {

class Worker {
 public:
  void send(nlohmann::json e, const nlohmann::json& id) {
    e["id"] = id;
    std::lock_guard<std::mutex> lock(out_);
    std::fputs((e.dump() + "\n").c_str(), stdout);
    std::fflush(stdout);
  }

  void error(const nlohmann::json& id, const std::string& kind, const std::string& message) {
    send({{"event", "error"}, {"kind", kind}, {"message", message}}, id);
  }

  // Returns false on "quit".
  bool handle(const std::string& line) {
    nlohmann::json req = nlohmann::json::parse(line, nullptr, false);
    if (!req.is_object() || !req.contains("cmd") || !req["cmd"].is_string()) {
      error(nullptr, "bad_input", "each request is a JSON object with a string field 'cmd'");
      return true;
    }
    const auto id = req.value("id", nlohmann::json(nullptr));
    const auto cmd = req["cmd"].get<std::string>();
    try {
      if (cmd == "quit") return false;
      if (cmd == "ping") send({{"event", "pong"}, {"version", LMSCOPE_VERSION}, {"protocol", 1}}, id);
      else if (cmd == "tasks") send({{"event", "tasks"}, {"tasks", eval::task_names()}}, id);
      else if (cmd == "inspect") send({{"event", "inspect"}, {"model", inspect_json(Checkpoint::open(need(req, "model")))}}, id);
      else if (cmd == "history") history(req, id);
      else if (cmd == "run") start_run(req, id);
      else if (cmd == "cancel") cancel(id);
      else error(id, "bad_input", "unknown cmd '" + cmd + "' (ping, tasks, inspect, history, run, cancel, quit)");
    } catch (const BadInput& e) {
      error(id, "bad_input", e.what());
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
  static std::string need(const nlohmann::json& req, const char* field) {
    if (!req.contains(field) || !req[field].is_string())
      throw BadInput(std::string("request needs a string field '") + field + "'");
    return req[field].get<std::string>();
  }

  std::string store_of(const nlohmann::json& req) {
    return req.contains("store") && req["store"].is_string() ? req["store"].get<std::string>() : default_store_path();
  }

  void history(const nlohmann::json& req, const nlohmann::json& id) {
    run::ResultsStore store(store_of(req));
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : store.task_runs()) {
      list.push_back({{"run_key", r.run_key}, {"spec_hash", r.spec_hash}, {"model", r.model},
                      {"model_path", r.model_path}, {"setting", r.setting}, {"task", r.task}, {"config", r.config},
                      {"provenance", r.provenance}, {"unit_count", r.unit_count},
                      {"units_done", store.unit_count_stored(r.run_key)},
                      {"created", r.created}, {"finished", r.finished}, {"results", r.results}});
    }
    send({{"event", "history"}, {"store", store.path().string()}, {"task_runs", list}}, id);
  }

  void start_run(const nlohmann::json& req, const nlohmann::json& id) {
    if (busy_.load()) throw BadInput("a run is in progress (one at a time per worker); cancel it or start another worker");
    if (thread_.joinable()) thread_.join();  // the previous run's thread, finished or about to be
    run::RunSpec spec;
    if (req.contains("spec") && req["spec"].is_object())
      spec = run::parse_run_spec(req["spec"], req.value("base_dir", std::filesystem::current_path().string()),
                                 "request " + id.dump());
    else if (req.contains("spec_file") && req["spec_file"].is_string())
      spec = run::load_run_spec(req["spec_file"].get<std::string>());
    else
      throw BadInput("run needs 'spec' (a run spec object) or 'spec_file' (its path)");
    run::RunOptions o;
    o.store_path = store_of(req);
    if (req.contains("shard")) std::tie(o.shard_index, o.shard_count) = run::parse_shard(need(req, "shard"));
    o.cancel = &cancel_;
    o.on_event = [this, id](const nlohmann::json& e) { send(e, id); };
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
      } catch (const std::exception& e) {
        last = {{"event", "error"}, {"kind", "internal"}, {"message", e.what()}};
      }
      busy_.store(false);
      send(last, id);
    });
  }

  void cancel(const nlohmann::json& id) {
    const bool was = busy_.load();
    cancel_.store(true);
    send({{"event", "cancelling"}, {"running", was}}, id);
  }

  std::mutex out_;
  std::atomic<bool> cancel_{false}, busy_{false};
  std::thread thread_;
};

}  // namespace

int cmd_worker(const Argv& argv) {
  Args a("worker", argv, {}, {});
  Worker w;
  w.send({{"event", "ready"}, {"version", LMSCOPE_VERSION}, {"protocol", 1}}, nullptr);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (!w.handle(line)) break;
  }
  // stdin closed or quit: stop a run in progress at its next forward pass (finished units are stored).
  w.finish();
  return 0;
}

int cmd_tasks(const Argv& argv) {
  Args a("tasks", argv, {}, {});
  for (const auto& t : eval::task_names()) std::printf("%s\n", t.c_str());
  return 0;
}

}  // namespace lmscope::cli
