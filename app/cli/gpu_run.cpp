// How units are spread: before computing a unit, a worker claims it in the results store (ResultsStore::claim_unit,
// one atomic statement), so whichever worker is free takes the next unit and none is computed twice. The store
// already takes several writers, the workers are plain `lmscope-cli run` processes with the runner's own loop, and
// nothing has to feed them: this is simpler than a coordinator dealing units over pipes and keeps working if the
// coordinator is slow. Claims need no time-based lease because this process is every worker's parent: it sees a
// worker die (waitpid) at once and frees that worker's unfinished claims; a fresh worker then sweeps them up on a
// GPU whose worker had finished cleanly. Claims are kept per session, so those of a killed session never block a
// later run, which simply resumes from the stored units.
#include "cli/gpu_run.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "cli/self_executable.h"
#include "lmscope/error.h"

extern char** environ;

namespace lmscope::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Worker {
  std::string device;
  int slot = 0;
  pid_t pid = -1;       // -1: not running
  bool usable = true;  // false once a worker on this GPU died: its units go elsewhere
};

std::string session_id() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid()) + ":" +
         std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
}

// Starts `lmscope-cli run ...` on one GPU. Its standard output (a partial summary) is dropped; its errors and
// warnings reach the terminal. The worker dies with this process (PR_SET_PDEATHSIG), so a killed coordinator leaves
// no worker behind.
pid_t spawn_worker(const std::string& exe, const std::vector<std::string>& args,
                   const std::vector<std::pair<std::string, std::string>>& set_env) {
  std::vector<std::string> argv_s{exe};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) {
    bool replaced = false;
    for (const auto& [name, value] : set_env) replaced |= std::strncmp(*e, (name + "=").c_str(), name.size() + 1) == 0;
    if (!replaced) env_s.emplace_back(*e);
  }
  for (const auto& [name, value] : set_env) env_s.push_back(name + "=" + value);
  // Built before fork: the child may only call async-signal-safe functions.
  std::vector<char*> argv, envp;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw InternalError(std::string("cannot start a worker process: ") + std::strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    const int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 1);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "exit code " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

GpuRunOutcome run_on_gpus(const GpuRunRequest& req) {
  auto& printer = *req.printer;
  // Plan first, here: a bad spec fails before any worker starts, damaged rows are dropped once, and the start line
  // says what is left to compute.
  std::int64_t to_compute = 0;
  run::RunOptions plan_options = req.options;
  plan_options.compute = false;
  nlohmann::json plan_done;
  plan_options.on_event = [&](const nlohmann::json& e) {
    const auto kind = e.value("event", std::string());
    if (kind == "start") {
      to_compute = e.value("units_to_compute", std::int64_t{0});
      printer(e);
    } else if (kind == "log") {
      printer(e);
    } else if (kind == "done") {
      plan_done = e;
    }
  };
  GpuRunOutcome result;
  auto plan = run::execute_run(*req.spec, plan_options);
  if (to_compute == 0) {
    printer(plan_done);
    result.outcome = std::move(plan);
    return result;
  }

  const auto session = session_id();
  run::ResultsStore store(req.options.store_path);
  store.open_claims();
  const auto exe = self_executable();
  std::vector<Worker> workers;
  for (std::size_t i = 0; i < req.devices.size(); ++i) workers.push_back({req.devices[i], static_cast<int>(i)});
  const auto n = static_cast<int>(workers.size());
  std::map<std::string, std::vector<pid_t>> started;  // every worker started, by GPU
  auto start = [&](Worker& w) {
    w.pid = spawn_worker(exe, req.worker_args,
                         {{"CUDA_VISIBLE_DEVICES", w.device},
                          {kClaimSessionVariable, session},
                          {kClaimStartVariable, std::to_string(w.slot) + "/" + std::to_string(n)}});
    started[w.device].push_back(w.pid);
  };
  printer({{"event", "log"},
           {"message", "lmscope run: " + std::to_string(n) + " workers (CUDA_VISIBLE_DEVICES " + [&] {
              std::string s;
              for (const auto& w : workers) s += (s.empty() ? "" : ", ") + w.device;
              return s;
            }() + ")"}});
  for (auto& w : workers) start(w);

  const auto t0 = Clock::now();
  auto last_progress = t0;
  bool stopping = false, cancelled = false, needs_sweep = false;
  std::string fatal;
  run::ResultsStore::ClaimTally tally;
  auto stop_all = [&] {
    stopping = true;
    for (auto& w : workers)
      if (w.pid > 0) kill(w.pid, SIGTERM);  // each stops after its current forward pass, its units kept
  };
  auto live = [&] {
    int c = 0;
    for (const auto& w : workers) c += w.pid > 0;
    return c;
  };
  while (live() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (req.options.cancel && req.options.cancel->load() && !stopping) {
      cancelled = true;
      stop_all();
    }
    for (auto& w : workers) {
      if (w.pid <= 0) continue;
      int status = 0;
      if (waitpid(w.pid, &status, WNOHANG) != w.pid) continue;
      const pid_t was = w.pid;
      w.pid = -1;
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
      if (stopping) continue;  // stopped by us
      if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
        // Bad input fails the same way on every GPU, as it would in one process: stop the others.
        fatal = "the worker on GPU " + w.device + " stopped on bad input (its message is above); the other workers "
                "were stopped and finished units are in the store";
        stop_all();
        continue;
      }
      const auto freed = store.release_claims(session, std::to_string(was));
      w.usable = false;
      needs_sweep = true;
      printer({{"event", "log"},
               {"message", "warning: the worker on GPU " + w.device + " ended (" + describe_exit(status) + "); " +
                               std::to_string(freed) + " unfinished unit(s) go to the other GPUs"}});
    }
    // A worker started now sees every freed unit: it goes once through all of them.
    if (needs_sweep && !stopping)
      for (auto& w : workers)
        if (w.usable && w.pid <= 0) {
          start(w);
          needs_sweep = false;
        }
    if (Clock::now() - last_progress < std::chrono::milliseconds(500)) continue;
    last_progress = Clock::now();
    tally = store.claim_tally(session);
    const double el = std::chrono::duration<double>(Clock::now() - t0).count();
    nlohmann::json e{{"event", "progress"}, {"workers", live()},          {"units_done", tally.stored},
                     {"units_to_compute", to_compute}, {"tokens", tally.tokens}, {"elapsed_s", el},
                     {"tokens_per_s", el > 0 ? static_cast<double>(tally.tokens) / el : 0.0}};
    if (tally.stored > 0) e["eta_s"] = el * static_cast<double>(std::max<std::int64_t>(to_compute - tally.stored, 0)) / static_cast<double>(tally.stored);
    printer(e);
  }
  if (needs_sweep && !stopping)
    result.failure = "every GPU's worker failed (their messages are above); finished units are in the store: run the "
                     "same command again to resume";
  tally = store.claim_tally(session);
  {
    // Who computed how much: a worker is known by its pid, and a GPU may have had several (a sweeper after a crash).
    const auto by_worker = store.stored_by_worker(session);
    std::string line;
    for (const auto& [device, pids] : started)
      if (!pids.empty()) {
        std::int64_t units = 0;
        for (const auto p : pids)
          if (auto it = by_worker.find(std::to_string(p)); it != by_worker.end()) units += it->second;
        line += (line.empty() ? "" : ", ") + std::string("GPU ") + device + ": " + std::to_string(units);
      }
    printer({{"event", "log"}, {"message", "units computed per GPU: " + line}});
  }
  store.drop_claims(session);
  if (!fatal.empty()) throw BadInput(fatal);

  // The results as one process gives them, from the store.
  run::RunOptions final_options = req.options;
  final_options.compute = false;
  final_options.on_event = [&](const nlohmann::json& e) {
    if (e.value("event", std::string()) == "result" || e.value("event", std::string()) == "start") return;
    if (e.value("event", std::string()) == "done") {
      auto d = e;
      d["units_computed"] = tally.stored;
      d["units_reused"] = plan.units_reused;
      d["cancelled"] = cancelled;
      printer(d);
      return;
    }
    printer(e);
  };
  result.outcome = run::execute_run(*req.spec, final_options);
  result.outcome.cancelled = cancelled;
  result.outcome.units_computed = tally.stored;
  result.outcome.units_reused = plan.units_reused;
  return result;
}

std::function<bool(const std::string&, std::int64_t)> unit_claimer(const std::string& store, const std::string& session) {
  auto claims = std::make_shared<run::ResultsStore>(store);
  claims->open_claims();
  return [claims, session, worker = std::to_string(getpid())](const std::string& key, std::int64_t unit) {
    return claims->claim_unit(session, key, unit, worker);
  };
}

}  // namespace lmscope::cli
