#include "lmscope/run/runner.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <unistd.h>

#include "eval/task_data.h"
#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "lmscope/input_file.h"
#include "lmscope/json_input.h"
#include "lmscope/eval/task.h"
#include "lmscope/model.h"
#include "lmscope/run/result_identity.h"
#include "lmscope/tokenizer.h"
#include "lmscope/version.h"

namespace lmscope::run {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPartialEvery = std::chrono::milliseconds(250);

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::uint64_t fnv(std::uint64_t h, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint64_t fnv_str(std::uint64_t h, const std::string& s) { return fnv(h, s.data(), s.size()); }

// The part of a task config that decides its numbers: file locations are left out (the data hash stays), so the
// same data under another path, or on another machine of a sharded run, is the same request.
nlohmann::json key_config(nlohmann::json c) {
  for (const char* k : {"data", "filler_file", "evaluator", "base"}) c.erase(k);
  return c;
}

struct LoadedModel {
  std::unique_ptr<Checkpoint> checkpoint;
  std::unique_ptr<Model> model;
};

struct ModelSide {
  ModelEntry entry;
  ModelSpec spec;
  std::string fingerprint;
  std::unique_ptr<Tokenizer> tokenizer;
  std::int32_t prefix = 0;
  std::int64_t max_length = 2048;
  // What decides the tokens: "bytes", "model" (the folder's files, in the weights fingerprint) or the hash of a
  // separate tokenizer file or folder.
  std::string tokenizer_key;
};

// One model × setting × task.
struct TaskRun {
  std::size_t model = 0;
  std::string rope;
  std::shared_ptr<eval::Task> task;
  nlohmann::json settings;
  std::string alias;  // the task instance's name: the entry's "alias", else the task's name
  std::string key;
  std::int64_t max_length = 0;
  std::int64_t batch_size = 1;  // windows per pass
  std::string evaluator_path;  // LongPPL's evaluator or compare's base model folder, "" = the model itself
  nlohmann::json identity;     // what was asked for (result_identity.h); config_id names it
  std::string config_id;
  std::map<std::int64_t, nlohmann::json> units;  // stored + computed
  std::vector<std::int64_t> pending;             // this shard's units still to compute
};

std::unique_ptr<Tokenizer> tokenizer_for(const ModelEntry& e, const ModelSpec& spec) {
  if (e.tokenizer == "bytes") {
    std::optional<std::int32_t> bos, eos;
    if (spec.bos_token_id) bos = static_cast<std::int32_t>(*spec.bos_token_id);
    if (!spec.eos_token_ids.empty()) eos = static_cast<std::int32_t>(spec.eos_token_ids.front());
    return make_byte_tokenizer(bos, eos);
  }
  const std::filesystem::path where = e.tokenizer.empty() ? std::filesystem::path(e.path) : std::filesystem::path(e.tokenizer);
  refuse_non_regular(where, {"tokenizer.json", "tokenizer.model", "tokenizer_config.json"});
  return load_tokenizer(where);
}

ModelSide open_model_side(const ModelEntry& e) {
  ModelSide m;
  m.entry = e;
  const auto dir = std::filesystem::path(e.path);
  std::error_code ec;  // a path that cannot be examined (symlink loop, no permission) is not a folder either
  if (!std::filesystem::is_directory(dir, ec))
    throw BadInput("model '" + e.name + "': " + e.path + " is not a folder (expected a checkpoint folder with config.json)");
  m.spec = read_model_spec(dir / "config.json", e.force_family);
  m.fingerprint = checkpoint_fingerprint(dir);
  m.tokenizer = tokenizer_for(e, m.spec);
  if (e.tokenizer.empty() || e.tokenizer == "bytes") m.tokenizer_key = e.tokenizer.empty() ? "model" : "bytes";
  else if (std::filesystem::is_directory(e.tokenizer, ec)) m.tokenizer_key = checkpoint_fingerprint(e.tokenizer);
  else m.tokenizer_key = eval::file_bytes_hash(e.tokenizer, "the tokenizer file");
  if (m.tokenizer->bos_id()) m.prefix = *m.tokenizer->bos_id();
  else if (m.tokenizer->eos_id()) m.prefix = *m.tokenizer->eos_id();
  else if (m.spec.bos_token_id) m.prefix = static_cast<std::int32_t>(*m.spec.bos_token_id);
  else
    throw BadInput("model '" + e.name + "': the tokenizer has no BOS or EOS token to start a window with "
                   "(lm-eval's prefix token); set bos_token_id in config.json");
  m.max_length = eval::resolve_max_length(m.spec, dir);
  return m;
}

std::string device_name(const std::string& backend) {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return backend + "@" + host;
}

nlohmann::json lm_eval_metrics(const eval::TaskAggregate& a, const std::string& alias) {
  nlohmann::json r{{"alias", alias}};
  for (const auto& [k, v] : a.metrics.items()) {
    if (k.size() > 7 && k.compare(k.size() - 7, 7, "_stderr") == 0) continue;
    r[k + ",none"] = v;
    const auto se = k + "_stderr";
    r[se + ",none"] = a.metrics.contains(se) ? a.metrics[se] : nlohmann::json("N/A");
  }
  return r;
}

// The task's aggregate of these units. Stored units come from outside this process (an older lmscope, another
// program): one the task cannot read is a message about the store, not an internal error.
eval::TaskAggregate aggregate_units(const eval::Task& task, const std::map<std::int64_t, nlohmann::json>& units,
                                    const std::string& run_key, const std::string& store) {
  std::vector<std::pair<std::int64_t, nlohmann::json>> all(units.begin(), units.end());
  try {
    return task.aggregate(all);
  } catch (const nlohmann::json::exception& e) {
    throw BadInput("results store " + store + ": the units of task run " + run_key + " (" + task.name() +
                   ") are not in the form this lmscope reads (" + e.what() +
                   "); use another --store, or remove that task run from this one");
  }
}

// A complete task run reports at least one metric and every metric is a finite number: a null in the results would
// be a silent wrong number.
void check_metrics(const eval::TaskAggregate& a, const std::string& task, const std::string& model,
                   const std::string& rope) {
  const auto who = "task " + task + " of model '" + model + "'" + (rope.empty() ? "" : " with rope " + rope);
  if (a.metrics.empty()) throw BadInput(who + ": no metric could be computed (no item was scored)");
  for (const auto& [k, v] : a.metrics.items())
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      throw BadInput(who + ": metric '" + k + "' is " + dump_json(v) +
                     " (not a finite number); the stored units do not give a usable value");
}

}  // namespace

std::pair<int, int> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  try {
    if (slash != std::string::npos) {
      std::size_t a = 0, b = 0;
      const int i = std::stoi(text.substr(0, slash), &a);
      const int n = std::stoi(text.substr(slash + 1), &b);
      if (a == slash && b == text.size() - slash - 1 && n >= 1 && i >= 0 && i < n) return {i, n};
    }
  } catch (const std::exception&) {
  }
  throw BadInput("--shard '" + text + "': expected i/N with 0 <= i < N, e.g. 0/4");
}

std::string checkpoint_fingerprint(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) throw BadInput(dir.string() + ": cannot list the folder: " + ec.message());
  for (const auto& f : it) {
    std::error_code fe;
    if (!f.is_regular_file(fe)) continue;  // FIFOs, devices and broken links are not checkpoint files
    const auto name = f.path().filename().string();
    const auto ext = f.path().extension().string();
    if (ext == ".safetensors" || name == "config.json" || name == "model.safetensors.index.json" ||
        name == "tokenizer.json" || name == "tokenizer.model" || name == "tokenizer_config.json")
      files.push_back(f.path());
  }
  std::sort(files.begin(), files.end());
  std::uint64_t h = 0xcbf29ce484222325ULL;
  std::vector<char> buf;
  for (const auto& f : files) {
    const InputFile file(f, "a checkpoint file");  // regular, or refused by name
    const auto size = file.size();
    h = fnv_str(h, f.filename().string() + ":" + std::to_string(size));
    std::ifstream in(f, std::ios::binary);
    auto hash_at = [&](std::uint64_t off, std::uint64_t n) {
      buf.resize(n);
      in.seekg(static_cast<std::streamoff>(off));
      in.read(buf.data(), static_cast<std::streamsize>(n));
      h = fnv(h, buf.data(), static_cast<std::size_t>(in.gcount()));
    };
    constexpr std::uint64_t kWhole = 64ull << 20, kMiB = 1ull << 20, kBlock = 4096;
    if (size <= kWhole) {
      hash_at(0, size);
    } else {
      hash_at(0, kMiB);
      for (int b = 1; b < 65; ++b) hash_at(size / 65 * b, kBlock);
      hash_at(size - kMiB, kMiB);
    }
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}


namespace {

using Emit = std::function<void(nlohmann::json)>;

// Everything a run will do, decided before the store is touched or a model is loaded: building it is where bad
// input (a missing, binary or too short data file, a malformed setting, an unusable tokenizer) is refused.
struct RunPlan {
  std::vector<ModelSide> sides;
  std::vector<TaskRun> runs;  // model × setting × task, in that nesting
};

RunPlan plan_run(const RunSpec& spec) {
  RunPlan plan;
  auto& sides = plan.sides;
  auto& runs = plan.runs;
  for (const auto& m : spec.models) sides.push_back(open_model_side(m));
  for (std::size_t mi = 0; mi < sides.size(); ++mi) {
    auto& side = sides[mi];
    std::vector<std::shared_ptr<eval::Task>> tasks;  // the same task objects serve every RoPE setting
    std::vector<std::int64_t> lengths;
    std::vector<std::string> aliases;
    for (const auto& ts : spec.tasks) {
      eval::TaskEnv env;
      env.tokenizer = side.tokenizer.get();
      env.prefix_token = side.prefix;
      env.max_length = eval::setting_int_in(ts, "max_length", side.max_length, 1, eval::kMaxTaskContext, ts.value("task", std::string("?")));
      lengths.push_back(env.max_length);
      tasks.push_back(eval::make_task(ts, env, spec.base_dir));
      // A task with nothing to compute (an empty data file) would report no metrics at all: say so instead.
      if (tasks.back()->unit_count() < 1)
        throw BadInput("task " + tasks.back()->name() + " for model '" + side.entry.name +
                       "': nothing to evaluate (the data file holds no usable text or records, or 'limit' is 0)");
      // The alias names the task instance in the results, events and store.
      aliases.push_back(eval::setting_string(ts, "alias", tasks.back()->name(), tasks.back()->name()));
    }
    for (const auto& rope : spec.rope) {
      for (std::size_t ti = 0; ti < tasks.size(); ++ti) {
        TaskRun r;
        r.model = mi;
        r.rope = rope;
        r.task = tasks[ti];
        r.settings = spec.tasks[ti];
        r.alias = aliases[ti];
        r.max_length = lengths[ti];
        // Batching pays on the GPU; on the CPU one window at a time is as fast and uses less memory.
        r.batch_size = eval::setting_int_in(r.settings, "batch_size", spec.backend == "cuda" ? 16 : 1, 1, 4096, r.task->name());
        // The second model a task reads: LongPPL's evaluator, compare's base (both keyed by their weights).
        r.evaluator_path = r.task->config().value("evaluator", std::string());
        if (r.evaluator_path.empty()) r.evaluator_path = r.task->config().value("base", std::string());
        const std::string second_model = r.evaluator_path.empty() ? "" : checkpoint_fingerprint(r.evaluator_path);
        r.identity = task_instance_identity(r.settings, r.task->config(), second_model);
        r.config_id = identity_id(r.identity);
        nlohmann::json key{{"model", side.fingerprint}, {"tokenizer", side.tokenizer_key},
                           {"rope", rope},           {"backend", spec.backend},
                           {"dtype", spec.dtype},    {"task", r.task->name()},
                           {"config", key_config(r.task->config())}};
        if (!second_model.empty()) key["evaluator"] = second_model;
        if (!side.entry.force_family.empty()) key["force_family"] = side.entry.force_family;
        r.key = eval::fnv1a64_hex(dump_json(key));
        runs.push_back(std::move(r));
      }
    }
  }
  return plan;
}

// Records the plan's task runs in the store, takes the units it already holds and lists this shard's units still to
// compute. Returns their summed cost (for the ETA).
std::int64_t attach_store(RunPlan& plan, const RunSpec& spec, const std::string& spec_hash, ResultsStore& store,
                          const RunOptions& opt, RunOutcome& out, const Emit& emit) {
  std::int64_t ordinal = 0, cost_total = 0;
  for (auto& r : plan.runs) {
    const auto& side = plan.sides[r.model];
    const auto& rope = r.rope;
    TaskRunRecord rec;
    rec.run_key = r.key;
    rec.spec_hash = spec_hash;
    rec.model = side.entry.name;
    rec.model_path = side.entry.path;
    rec.setting = rope;
    rec.task = r.task->name();
    rec.unit_count = r.task->unit_count();
    rec.config = r.task->config();
    rec.alias = r.alias;
    rec.identity = r.identity;
    rec.provenance = {{"weights_fingerprint", side.fingerprint}, {"engine_version", lmscope::version()},
                      {"backend", spec.backend},                 {"dtype", spec.dtype},
                      {"device", device_name(spec.backend)},    {"tokenizer", side.tokenizer->kind()}};
    if (!side.entry.force_family.empty()) rec.provenance["force_family"] = side.entry.force_family;
    store.put_task_run(rec);
    std::vector<std::int64_t> damaged;
    for (auto& [i, u] : store.units(r.key, &damaged)) {
      if (i < 0 || i >= r.task->unit_count()) {
        emit({{"event", "log"},
              {"message", "warning: results store " + opt.store_path + ": ignoring unit row " + std::to_string(i) +
                              " of task run " + r.key + " (" + r.task->name() + "), which has units 0.." +
                              std::to_string(r.task->unit_count() - 1)}});
        continue;
      }
      r.units.emplace(i, std::move(u.result));
    }
    for (const auto i : damaged) {
      emit({{"event", "log"},
            {"message", "warning: results store " + opt.store_path + ": unit " + std::to_string(i) + " of task run " +
                            r.key + " (" + r.task->name() + ") fails its checksum (edited or torn); computing it again"}});
      store.drop_unit(r.key, i);
    }
    for (std::int64_t u = 0; u < r.task->unit_count(); ++u, ++ordinal) {
      if (ordinal % opt.shard_count != opt.shard_index) continue;
      if (r.units.count(u)) {
        ++out.units_reused;
        continue;
      }
      r.pending.push_back(u);
      cost_total += r.task->unit_cost(u);
    }
    out.units_total += r.task->unit_count();
  }
  return cost_total;
}

void emit_start(const RunPlan& plan, const RunSpec& spec, const RunOptions& opt, const RunOutcome& out,
                std::int64_t cost_total, const Emit& emit) {
  const auto& runs = plan.runs;
  const auto& sides = plan.sides;
  nlohmann::json list = nlohmann::json::array();
  std::int64_t pending = 0;
  for (const auto& r : runs) {
    list.push_back({{"run_key", r.key}, {"model", sides[r.model].entry.name}, {"setting", r.rope},
                    {"task", r.task->name()}, {"alias", r.alias}, {"config_id", r.config_id},
                    {"identity", r.identity}, {"config", r.task->config()}, {"dtype", spec.dtype},
                    {"weights", sides[r.model].fingerprint}, {"tokenizer", sides[r.model].tokenizer->kind()},
                    {"units", r.task->unit_count()},
                    {"stored", r.units.size()}, {"to_compute", r.pending.size()}});
    pending += static_cast<std::int64_t>(r.pending.size());
  }
  emit({{"event", "start"}, {"spec_hash", out.spec_hash}, {"store", opt.store_path}, {"units_total", out.units_total},
        {"units_stored", out.units_reused}, {"units_to_compute", pending}, {"cost_total", cost_total},
        {"shard", std::to_string(opt.shard_index) + "/" + std::to_string(opt.shard_count)}, {"task_runs", list}});
}

// Computes this shard's pending units (those it claims, in a multi-process run), one model in memory at a time,
// committing each unit to the store as it finishes.
void compute_units(RunPlan& plan, const RunSpec& spec, ResultsStore& store, const RunOptions& opt,
                   std::int64_t cost_total, RunOutcome& out, const Emit& emit) {
  auto& runs = plan.runs;
  auto& sides = plan.sides;
  const auto t0 = Clock::now();
  auto last_progress = t0 - std::chrono::hours(1);
  std::int64_t tokens = 0, cost_done = 0, units_done = 0, units_pending_total = 0;
  for (const auto& r : runs) units_pending_total += static_cast<std::int64_t>(r.pending.size());
  std::map<std::pair<std::size_t, std::string>, LoadedModel> loaded;
  std::map<std::string, LoadedModel> evaluators;
  std::map<std::string, std::unique_ptr<Tokenizer>> evaluator_tokenizers;
  auto progress = [&](const TaskRun& r, bool force) {
    const auto now = Clock::now();
    if (!force && std::chrono::duration<double>(now - last_progress).count() < opt.progress_interval_s) return;
    last_progress = now;
    const double el = std::chrono::duration<double>(now - t0).count();
    const double rate = el > 0 ? static_cast<double>(tokens) / el : 0;
    nlohmann::json e{{"event", "progress"},      {"units_done", units_done},
                     {"units_to_compute", units_pending_total}, {"tokens", tokens},
                     {"tokens_per_s", rate},    {"elapsed_s", el},
                     {"model", sides[r.model].entry.name}, {"setting", r.rope}, {"task", r.task->name()},
                     {"alias", r.alias}};
    if (cost_done > 0 && cost_total > cost_done) e["eta_s"] = el * static_cast<double>(cost_total - cost_done) / static_cast<double>(cost_done);
    else if (cost_total <= cost_done) e["eta_s"] = 0.0;
    emit(e);
  };
  // The order task runs are computed in: from this worker's starting group on (groups are the contiguous runs of
  // one model × setting), wrapping round.
  std::vector<std::size_t> order;
  {
    std::vector<std::size_t> group_starts;
    for (std::size_t i = 0; i < runs.size(); ++i)
      if (i == 0 || runs[i].model != runs[i - 1].model || runs[i].rope != runs[i - 1].rope) group_starts.push_back(i);
    const auto [k, n] = opt.start_share;
    const std::size_t first =
        n > 0 && k > 0 && !group_starts.empty() ? group_starts[group_starts.size() * static_cast<std::size_t>(k) / static_cast<std::size_t>(n)] : 0;
    for (std::size_t i = 0; i < runs.size(); ++i) order.push_back((first + i) % runs.size());
  }
  try {
    // The run's weights (a model, or an evaluator / base model), the time counted as loading.
    const auto load = [&](const Checkpoint& checkpoint, const std::string& rope) {
      LoadOptions lo;
      lo.backend = spec.backend;
      lo.rope_override = rope;
      lo.dtype = spec.dtype;
      lo.allow_nonfinite = opt.allow_nonfinite;
      const auto l0 = Clock::now();
      auto model = load_model(checkpoint, lo);
      out.seconds_loading += seconds_since(l0);
      return model;
    };
    for (const auto ri : order) {
      auto& r = runs[ri];
      if (!opt.compute || r.pending.empty()) continue;
      // A worker of a multi-process run loads the model only for a unit it has claimed.
      std::size_t first_claimed = 0;
      if (opt.claim) {
        while (first_claimed < r.pending.size() && !opt.claim(r.key, r.pending[first_claimed])) ++first_claimed;
        if (first_claimed == r.pending.size()) continue;
      }
      auto& side = sides[r.model];
      auto& lm = loaded[{r.model, r.rope}];
      if (!lm.model) {
        loaded.clear();  // one model in memory at a time
        auto& fresh = loaded[{r.model, r.rope}];
        emit({{"event", "log"}, {"message", "loading " + side.entry.name + (r.rope.empty() ? "" : " with rope " + r.rope)}});
        fresh.checkpoint = std::make_unique<Checkpoint>(Checkpoint::open(side.entry.path, side.entry.force_family));
        fresh.model = load(*fresh.checkpoint, r.rope);
      }
      const auto& model = *loaded[{r.model, r.rope}].model;
      eval::TaskEnv env;
      env.model = &model;
      env.tokenizer = side.tokenizer.get();
      env.evaluator = &model;
      env.evaluator_tokenizer = side.tokenizer.get();
      if (!r.evaluator_path.empty()) {
        auto& ev = evaluators[r.evaluator_path];
        if (!ev.model) {
          emit({{"event", "log"},
                {"message", (r.task->name() == "compare" ? "loading base model " : "loading evaluator ") + r.evaluator_path}});
          ev.checkpoint = std::make_unique<Checkpoint>(Checkpoint::open(r.evaluator_path));
          ev.model = load(*ev.checkpoint, "");
          // compare's base reads the model's tokens (the task checked that its own tokenizer, if it has one,
          // agrees); LongPPL's evaluator has its own tokenizer unless the model reads bytes.
          ModelEntry ee{r.evaluator_path, "",
                        r.task->name() == "compare" || side.entry.tokenizer == "bytes" ? side.entry.tokenizer : "", ""};
          evaluator_tokenizers[r.evaluator_path] = tokenizer_for(ee, ev.checkpoint->spec());
        }
        env.evaluator = ev.model.get();
        env.evaluator_tokenizer = evaluator_tokenizers[r.evaluator_path].get();
      }
      env.checkpoint_summary = &loaded[{r.model, r.rope}].checkpoint->summary();
      env.max_length = r.max_length;
      env.prefix_token = side.prefix;
      env.batch_size = r.batch_size;
      env.cancel = opt.cancel;
      env.on_tokens = [&](std::int64_t n) {
        tokens += n;
        progress(r, false);
      };
      // A run's partial metrics re-aggregate every finished unit, so they go out at most every kPartialEvery (and
      // after the run's last unit): units that take milliseconds on a GPU would otherwise spend the run copying JSON.
      auto last_partial = Clock::time_point{};
      const std::int64_t group_tokens = r.task->unit_group_tokens(env);
      for (std::size_t i = first_claimed; i < r.pending.size();) {
        env.check_cancel();
        // The next units computed together: one, or as many as fit the task's group size (their windows share
        // passes), each claimed before it joins.
        std::vector<std::int64_t> group;
        std::int64_t group_cost = 0;
        for (; i < r.pending.size(); ++i) {
          const auto u = r.pending[i];
          const auto c = r.task->unit_cost(u);
          if (!group.empty() && group_cost + c > group_tokens) break;
          if (opt.claim && i != first_claimed && !opt.claim(r.key, u)) continue;
          group.push_back(u);
          group_cost += c;
        }
        if (group.empty()) break;
        const auto g0 = Clock::now();
        const auto tok0 = tokens;
        auto results = group.size() == 1 ? std::vector<nlohmann::json>{r.task->run_unit(group[0], env)}
                                         : r.task->run_units(group, env);
        if (results.size() != group.size()) throw InternalError("task " + r.task->name() + ": run_units returned " +
                                                                std::to_string(results.size()) + " results for " +
                                                                std::to_string(group.size()) + " units");
        const double group_seconds = seconds_since(g0);
        out.seconds_computing += group_seconds;
        for (std::size_t k = 0; k < group.size(); ++k) {
          const auto u = group[k];
          auto& result = results[k];
          // A NaN or infinity would be stored as null and aggregate into a null metric: the run fails instead,
          // naming the unit, and nothing is stored for it.
          if (const auto where = find_nonfinite_number(result); !where.empty())
            throw BadInput("task " + r.task->name() + " of model '" + side.entry.name + "'" +
                           (r.rope.empty() ? "" : " with rope " + r.rope) + ", unit " + std::to_string(u) +
                           ": the model produced a non-finite value (NaN or infinity) at '" + where +
                           "'; the weights or the RoPE setting make the forward pass overflow");
          // A group's time and tokens are shared among its units by their costs.
          const double share = group_cost > 0 ? static_cast<double>(r.task->unit_cost(u)) / static_cast<double>(group_cost)
                                              : 1.0 / static_cast<double>(group.size());
          StoredUnit su;
          su.result = result;
          su.seconds = group_seconds * share;
          su.tokens = static_cast<std::int64_t>(std::llround(static_cast<double>(tokens - tok0) * share));
          su.device = device_name(spec.backend);
          store.put_unit(r.key, u, su);
          r.units[u] = std::move(result);
          ++out.units_computed;
          ++units_done;
          cost_done += r.task->unit_cost(u);
          emit({{"event", "unit"}, {"run_key", r.key}, {"alias", r.alias}, {"unit", u}, {"seconds", su.seconds},
                {"tokens", su.tokens}});
        }
        if (i >= r.pending.size() || Clock::now() - last_partial >= kPartialEvery) {
          last_partial = Clock::now();
          const auto a = aggregate_units(*r.task, r.units, r.key, opt.store_path);
          emit({{"event", "partial"},   {"run_key", r.key},         {"model", side.entry.name},
                {"setting", r.rope},    {"task", r.task->name()},    {"alias", r.alias},
                {"config_id", r.config_id}, {"dtype", spec.dtype},   {"weights", side.fingerprint},
                {"units_done", r.units.size()}, {"unit_count", r.task->unit_count()},
                {"metrics", a.metrics}, {"details", a.details}});
        }
        progress(r, true);
      }
    }
  } catch (const eval::Cancelled&) {
    out.cancelled = true;
    emit({{"event", "log"}, {"message", "cancelled; finished units are in the store"}});
  }

}

// Aggregates every complete task run (stored with its results, a `result` event each) into lm-eval shaped output per
// model × setting; incomplete ones are listed as such.
void aggregate_runs(RunPlan& plan, const RunSpec& spec, ResultsStore& store, const RunOptions& opt, RunOutcome& out,
                    const Emit& emit) {
  auto& runs = plan.runs;
  auto& sides = plan.sides;
  std::vector<nlohmann::json> groups;
  std::map<std::pair<std::size_t, std::string>, std::size_t> group_of;
  out.complete = !out.cancelled;
  for (auto& r : runs) {
    auto& side = sides[r.model];
    const auto gk = std::make_pair(r.model, r.rope);
    if (!group_of.count(gk)) {
      group_of[gk] = groups.size();
      std::string args = "pretrained=" + side.entry.path;
      if (!r.rope.empty()) args += ",rope=" + r.rope;
      if (side.entry.tokenizer == "bytes") args += ",tokenizer=bytes";
      groups.push_back({{"results", nlohmann::json::object()},
                        {"configs", nlohmann::json::object()},
                        {"versions", nlohmann::json::object()},
                        {"n-samples", nlohmann::json::object()},
                        {"config", {{"model", "lmscope"}, {"model_args", args}, {"backend", spec.backend},
                                    {"dtype", spec.dtype},
                                    {"batch_size", r.batch_size}}},
                        {"lmscope", {{"version", lmscope::version()}, {"model", side.entry.name},
                                     {"model_path", side.entry.path}, {"setting", r.rope},
                                     {"weights_fingerprint", side.fingerprint}, {"spec_hash", out.spec_hash},
                                     {"run_keys", nlohmann::json::object()}, {"config_ids", nlohmann::json::object()},
                                     {"details", nlohmann::json::object()},
                                     {"incomplete", nlohmann::json::array()}}},
                        {"date", utc_now()}});
    }
    auto& g = groups[group_of[gk]];
    const auto name = r.task->name();
    const auto& alias = r.alias;
    g["configs"][alias] = r.task->config();
    g["versions"][alias] = r.task->version();
    g["lmscope"]["run_keys"][alias] = r.key;
    g["lmscope"]["config_ids"][alias] = r.config_id;
    TaskRunInfo info{r.key, side.entry.name, r.rope, name, alias, r.task->unit_count(), false};
    if (static_cast<std::int64_t>(r.units.size()) == r.task->unit_count()) {
      const auto a = aggregate_units(*r.task, r.units, r.key, opt.store_path);
      check_metrics(a, r.task->name(), side.entry.name, r.rope);
      g["results"][alias] = lm_eval_metrics(a, alias);
      g["n-samples"][alias] = {{"original", a.samples}, {"effective", a.samples}};
      g["lmscope"]["details"][alias] = a.details;
      store.put_results(r.key, {{"metrics", a.metrics}, {"details", a.details}, {"samples", a.samples}});
      info.complete = true;
      emit({{"event", "result"},   {"run_key", r.key},      {"model", side.entry.name}, {"setting", r.rope},
            {"task", name},        {"alias", alias},        {"config_id", r.config_id}, {"identity", r.identity},
            {"config", r.task->config()}, {"dtype", spec.dtype}, {"weights", side.fingerprint},
            {"metrics", a.metrics}, {"details", a.details},  {"samples", a.samples}});
    } else {
      out.complete = false;
      g["lmscope"]["incomplete"].push_back({{"task", alias}, {"units_done", r.units.size()},
                                            {"unit_count", r.task->unit_count()}});
    }
    out.task_runs.push_back(info);
  }
  if (groups.size() == 1) out.results = groups.front();
  else out.results = {{"runs", groups}};
}

}  // namespace

RunOutcome execute_run(const RunSpec& spec, const RunOptions& opt) {
  const Emit emit = [&](nlohmann::json e) {
    if (opt.on_event) opt.on_event(e);
  };
  if (opt.shard_count < 1 || opt.shard_index < 0 || opt.shard_index >= opt.shard_count)
    throw BadInput("shard " + std::to_string(opt.shard_index) + "/" + std::to_string(opt.shard_count) + " is out of range");
  const auto p0 = Clock::now();
  RunPlan plan = plan_run(spec);  // before the store: bad input leaves no trace
  ResultsStore store(opt.store_path);
  RunOutcome out;
  out.seconds_preparing = seconds_since(p0);
  const auto seconds = [&] {
    return nlohmann::json{{"preparing", out.seconds_preparing}, {"loading", out.seconds_loading}, {"computing", out.seconds_computing}};
  };
  out.spec_hash = spec.hash();
  store.put_spec(out.spec_hash, spec.name, spec.source);
  const auto cost_total = attach_store(plan, spec, out.spec_hash, store, opt, out, emit);
  emit_start(plan, spec, opt, out, cost_total, emit);
  compute_units(plan, spec, store, opt, cost_total, out, emit);
  if (opt.claim) {  // a worker of a shared run: the coordinator aggregates
    emit({{"event", "done"}, {"complete", false}, {"cancelled", out.cancelled}, {"units_computed", out.units_computed},
          {"units_reused", out.units_reused}, {"units_total", out.units_total}, {"seconds", seconds()}});
    return out;
  }
  aggregate_runs(plan, spec, store, opt, out, emit);
  emit({{"event", "done"}, {"complete", out.complete}, {"cancelled", out.cancelled},
        {"units_computed", out.units_computed}, {"units_reused", out.units_reused}, {"units_total", out.units_total},
        {"seconds", seconds()}});
  return out;
}

RunCheck check_run(const RunSpec& spec) {
  const RunPlan plan = plan_run(spec);
  RunCheck c;
  for (const auto& r : plan.runs) {
    ++c.task_runs;
    c.units += r.task->unit_count();
  }
  return c;
}

}  // namespace lmscope::run
