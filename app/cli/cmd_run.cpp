// lmscope-cli run: a RunSpec file, or one task given by options (the same engine path), with progress on stderr,
// units committed to the results store, and lm-eval shaped JSON results.
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/gpu_devices.h"
#include "cli/gpu_run.h"
#include "cli/run_progress.h"
#include "lmscope/error.h"
#include "lmscope/json_input.h"
#include "lmscope/output_file.h"
#include "lmscope/run/result_identity.h"
#include "lmscope/run/runner.h"

namespace lmscope::cli {
namespace {

std::atomic<bool> g_cancel{false};
extern "C" void on_interrupt(int) { g_cancel.store(true); }

// A one-task spec from --model/--task and friends.
run::RunSpec spec_from_options(const Args& a, const std::string& default_backend) {
  nlohmann::json task{{"task", a.required("task")}};
  if (auto s = a.optional("settings")) {
    const auto extra = parse_json_input(*s, "--settings");
    if (!extra.is_object()) throw BadInput("--settings must be a JSON object, e.g. '{\"lengths\": [256, 512]}'");
    for (auto& [k, v] : extra.items()) task[k] = v;
  }
  if (auto d = a.optional("data")) task["data"] = *d;
  if (a.has("max-length")) task["max_length"] = a.integer("max-length", 0);
  if (a.has("limit")) task["limit"] = a.integer("limit", 0);
  if (a.has("seed")) task["seed"] = a.integer("seed", 0);
  if (a.has("batch-size")) task["batch_size"] = a.integer("batch-size", 1);
  nlohmann::json model{{"path", a.required("model")}};
  if (auto t = a.optional("tokenizer")) model["tokenizer"] = *t;
  if (auto f = a.optional("force-family")) model["force_family"] = *f;
  nlohmann::json spec{{"lmscope_run", run::kRunSpecVersion}, {"models", {model}}, {"tasks", {task}},
                      {"backend", a.get("backend", default_backend)}};
  if (auto d = a.optional("dtype")) spec["dtype"] = *d;
  if (auto r = a.optional("rope")) spec["rope"] = {*r};
  return run::parse_run_spec(spec, std::filesystem::current_path().string(), "command line");
}

void print_summary(const nlohmann::json& results) {
  auto one = [](const nlohmann::json& g) {
    const auto& l = g["lmscope"];
    const std::string who = l.value("model", std::string()) +
                            (l.value("setting", std::string()).empty() ? "" : " [" + l.value("setting", std::string()) + "]");
    for (const auto& [task, m] : g["results"].items())
      for (const auto& [k, v] : m.items()) {
        if (k == "alias" || k.find("_stderr,") != std::string::npos || !v.is_number()) continue;
        const auto name = k.substr(0, k.find(','));
        const auto se_key = name + "_stderr,none";
        std::printf("%-28s %-16s %-18s %.6g", who.c_str(), task.c_str(), name.c_str(), v.get<double>());
        if (m.contains(se_key) && m[se_key].is_number()) std::printf(" ± %.4g", m[se_key].get<double>());
        std::printf("\n");
      }
    for (const auto& inc : l["incomplete"])
      std::printf("%-28s %-16s (incomplete: %lld/%lld units)\n", who.c_str(), inc.value("task", std::string()).c_str(),
                  static_cast<long long>(inc.value("units_done", 0)), static_cast<long long>(inc.value("unit_count", 0)));
  };
  if (results.contains("runs"))
    for (const auto& g : results["runs"]) one(g);
  else
    one(results);
}

}  // namespace

std::string default_store_path() {
  std::filesystem::path base;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) base = x;
  else if (const char* h = std::getenv("HOME"); h && *h) base = std::filesystem::path(h) / ".local/share";
  else base = std::filesystem::current_path();
  base /= "lmscope";
  std::filesystem::create_directories(base);
  return (base / "results.sqlite").string();
}

int cmd_run(const Argv& argv) {
  std::vector<std::string> rest = argv;
  std::optional<std::string> spec_file;
  if (!rest.empty() && rest.front().rfind("--", 0) != 0) {
    spec_file = rest.front();
    rest.erase(rest.begin());
  }
  const std::set<std::string> value_options{"model", "task", "data", "tokenizer", "max-length", "limit", "seed",
                                            "batch-size", "rope", "backend", "dtype", "settings", "store", "out", "shard",
                                            "log-samples", "force-family", "gpus"};
  Args a("run", rest, value_options, {"quiet", "allow-nonfinite", "check"});
  // --gpus: the devices are looked up first, since they decide the default backend of a single-task run.
  std::optional<GpuDevices> devices;
  if (a.has("gpus")) devices = visible_gpus();
  const bool fake_gpus = devices && devices->fake;
  if (devices && a.get("backend", "") == "cpu" && !fake_gpus)
    throw BadInput("--gpus spreads the run over CUDA devices, but --backend is cpu; leave out --backend (or give cuda)");
  run::RunSpec spec;
  if (spec_file) {
    for (const char* o : {"model", "task", "data", "tokenizer", "max-length", "limit", "batch-size", "rope", "settings",
                          "backend", "dtype", "force-family"})
      if (a.has(o)) throw BadInput(std::string("run: --") + o + " belongs to a single-task run; put it in the spec file");
    spec = run::load_run_spec(*spec_file);
  } else {
    if (!a.has("model") || !a.has("task"))
      throw BadInput("run: give a run spec file (lmscope-cli run SPEC.json) or --model DIR --task NAME");
    spec = spec_from_options(a, devices ? (fake_gpus ? "cpu" : "cuda") : "cpu");
  }
  if (devices && !fake_gpus && spec.backend != "cuda")
    throw BadInput("--gpus spreads the run over CUDA devices, but the spec's backend is " + spec.backend +
                   "; set \"backend\": \"cuda\" in the spec");
  if (fake_gpus && spec.backend != "cpu")
    throw BadInput("LMSCOPE_FAKE_GPUS is set (a testing aid: the fake devices compute on the CPU), but the backend "
                   "is " + spec.backend + "; use the cpu backend or unset LMSCOPE_FAKE_GPUS");
  if (a.flag("check")) {
    // A dry run: everything execute_run would refuse is refused here (exit 2 with the reason); nothing is stored.
    const auto c = run::check_run(spec);
    std::printf("ok: %lld task run(s), %lld unit(s) (%zu model(s) x %zu setting(s) x %zu task(s)); data and settings "
                "checked, nothing computed\n",
                static_cast<long long>(c.task_runs), static_cast<long long>(c.units), spec.models.size(),
                spec.rope.size(), spec.tasks.size());
    return 0;
  }
  std::vector<std::string> gpus;
  if (devices) gpus = select_gpus(a.required("gpus"), *devices);
  // An output that cannot be written (/dev/full, a folder, a missing folder) is refused before any work is done.
  for (const char* opt : {"out", "log-samples"})
    if (auto p = a.optional(opt)) OutputFile::check_target(*p, std::string("--") + opt);
  run::RunOptions o;
  o.store_path = a.get("store", "");
  if (o.store_path.empty()) o.store_path = default_store_path();
  if (auto s = a.optional("shard")) std::tie(o.shard_index, o.shard_count) = run::parse_shard(*s);
  o.cancel = &g_cancel;
  o.allow_nonfinite = a.flag("allow-nonfinite");
  ProgressPrinter printer(a.flag("quiet"));
  o.on_event = [&](const nlohmann::json& e) { printer(e); };
  // A worker of a --gpus run: claims each unit in the store before computing it (gpu_run.cpp says why).
  bool claiming_worker = false;
  if (const char* session = std::getenv(kClaimSessionVariable); session && *session && !devices) {
    o.claim = unit_claimer(o.store_path, session);
    claiming_worker = true;
    if (const char* share = std::getenv(kClaimStartVariable); share && *share) o.start_share = run::parse_shard(share);
  }
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  std::string failure;
  run::RunOutcome outcome;
  if (devices) {
    GpuRunRequest req;
    req.spec = &spec;
    req.options = o;
    req.devices = gpus;
    req.printer = &printer;
    // Every worker runs this same request on its own GPU, quietly, into the same store.
    req.worker_args = {"run"};
    if (spec_file) req.worker_args.push_back(*spec_file);
    for (const auto& name : value_options) {
      if (name == "gpus" || name == "out" || name == "log-samples" || name == "store" || name == "backend") continue;
      if (auto v = a.optional(name)) req.worker_args.insert(req.worker_args.end(), {"--" + name, *v});
    }
    if (!spec_file) req.worker_args.insert(req.worker_args.end(), {"--backend", spec.backend});
    req.worker_args.insert(req.worker_args.end(), {"--store", o.store_path, "--quiet"});
    if (a.flag("allow-nonfinite")) req.worker_args.push_back("--allow-nonfinite");
    auto r = run_on_gpus(req);
    outcome = std::move(r.outcome);
    failure = std::move(r.failure);
  } else {
    outcome = run::execute_run(spec, o);
  }
  // Both files are written whole or not at all (OutputFile); the targets are checked before the run starts.
  if (auto out = a.optional("out")) write_output_file(*out, dump_json(outcome.results, 2) + "\n", "--out");
  if (auto log = a.optional("log-samples")) {
    OutputFile f(*log, "--log-samples");
    run::ResultsStore store(o.store_path);
    for (const auto& tr : outcome.task_runs)
      for (const auto& [i, u] : store.units(tr.run_key))
        if (i >= 0 && i < tr.unit_count)
          f.write(dump_json({{"model", tr.model}, {"setting", tr.setting}, {"task", tr.task}, {"alias", tr.alias}, {"unit", i},
                             {"result", u.result}}) +
                  "\n");
    f.commit();
  }
  // A worker's results are partial (the coordinator aggregates from the store).
  if (!claiming_worker) print_summary(outcome.results);
  if (!failure.empty()) {
    std::fprintf(stderr, "lmscope-cli run: %s\n", failure.c_str());
    return 1;
  }
  if (outcome.cancelled) return 130;
  return 0;
}

int cmd_merge(const Argv& argv) {
  if (argv.size() < 2) throw BadInput("merge: usage: lmscope-cli merge INTO.sqlite FROM.sqlite [FROM2.sqlite ...]");
  run::ResultsStore into(argv[0]);
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const auto n = into.merge_from(argv[i]);
    std::printf("%s: %lld units copied\n", argv[i].c_str(), static_cast<long long>(n));
  }
  return 0;
}

}  // namespace lmscope::cli

namespace lmscope::cli {

// lmscope-cli results: what a store holds — one line per task run with its metrics, or JSON.
int cmd_results(const Argv& argv) {
  Args a("results", argv, {"store", "task", "model"}, {"json"});
  const auto path = a.get("store", "");
  const std::string store_path = path.empty() ? default_store_path() : path;
  if (!std::filesystem::exists(store_path)) throw BadInput("results: no results store at " + store_path);
  run::ResultsStore store(store_path);
  const auto task = a.get("task", ""), model = a.get("model", "");
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : store.task_runs()) {
    if ((!task.empty() && r.task != task) || (!model.empty() && r.model != model)) continue;
    const auto done = store.unit_count_stored(r.run_key);
    nlohmann::json row{{"run_key", r.run_key}, {"model", r.model},          {"setting", r.setting},
                       {"task", r.task},       {"alias", r.alias},          {"units_done", done},
                       {"unit_count", r.unit_count},
                       {"finished", r.finished}, {"provenance", r.provenance}};
    row.update(run::instance_fields(r));
    if (r.results.is_object() && r.results.contains("metrics")) row["metrics"] = r.results["metrics"];
    out.push_back(row);
  }
  if (a.flag("json")) {
    std::printf("%s\n", dump_json(out, 2).c_str());
    return 0;
  }
  std::printf("%s: %zu task run(s)\n", store_path.c_str(), out.size());
  for (const auto& row : out) {
    std::string who = row["model"].get<std::string>();
    if (!row["setting"].get<std::string>().empty()) who += " [" + row["setting"].get<std::string>() + "]";
    std::printf("%-30s %-16s %lld/%lld units", who.c_str(), row["alias"].get<std::string>().c_str(),
                static_cast<long long>(row["units_done"].get<std::int64_t>()),
                static_cast<long long>(row["unit_count"].get<std::int64_t>()));
    if (row.contains("metrics"))
      for (const auto& [k, v] : row["metrics"].items())
        if (v.is_number() && k.find("_stderr") == std::string::npos) std::printf("  %s %.6g", k.c_str(), v.get<double>());
    std::printf("\n");
  }
  return 0;
}

}  // namespace lmscope::cli
