// The results store: one SQLite file (WAL mode) holding run specs, task runs (one model × one setting × one task,
// keyed by a hash of everything that decides their numbers), each finished work unit's result, and the aggregated
// results. Every unit is committed in its own transaction as it finishes, so a killed process loses at most the
// unit it was computing, and a re-run resumes from the store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

struct sqlite3;

namespace lmscope::run {

struct TaskRunRecord {
  std::string run_key;    // hash of model fingerprint, model settings and task config
  std::string spec_hash;  // the spec that first asked for it
  std::string model;      // display name
  std::string model_path;
  std::string setting;    // e.g. the RoPE override, "" for the checkpoint's own
  std::string task;
  // The task instance's name in results and events (the spec entry's "alias", else the task's name); the one it
  // was last run under when a later spec reuses the task run under another alias.
  std::string alias;
  nlohmann::json config;      // the task's resolved config
  nlohmann::json provenance;  // weights fingerprint, engine version, backend, dtype, device
  std::int64_t unit_count = 0;
  std::string created;
  nlohmann::json results;  // null until aggregated
  std::string finished;
  // What was asked for (lmscope/run/result_identity.h); null in rows stored before schema 3.
  nlohmann::json identity;
};

struct StoredUnit {
  nlohmann::json result;
  double seconds = 0;
  std::int64_t tokens = 0;
  std::string device;
};

class ResultsStore {
 public:
  // Opens or creates the store (schema version checked). BadInput naming the file when it is not a store.
  explicit ResultsStore(const std::filesystem::path& path);
  ~ResultsStore();
  ResultsStore(const ResultsStore&) = delete;
  ResultsStore& operator=(const ResultsStore&) = delete;

  const std::filesystem::path& path() const { return path_; }

  void put_spec(const std::string& spec_hash, const std::string& name, const nlohmann::json& spec);
  // Inserts the task run if its key is new (an existing one keeps its units).
  void put_task_run(const TaskRunRecord& r);
  std::vector<TaskRunRecord> task_runs() const;
  std::vector<TaskRunRecord> task_runs_of_spec(const std::string& spec_hash) const;
  bool has_task_run(const std::string& run_key) const;

  // The task run's stored units. A row whose checksum fails (edited by hand, torn) is left out, and its index goes to
  // `damaged` when given.
  std::map<std::int64_t, StoredUnit> units(const std::string& run_key, std::vector<std::int64_t>* damaged = nullptr) const;
  // Removes one unit row (a damaged one, before it is computed again).
  void drop_unit(const std::string& run_key, std::int64_t unit);
  // How many of the task run's units are stored (rows outside 0..unit_count-1 do not count; checksums are not read).
  std::int64_t unit_count_stored(const std::string& run_key) const;
  // One committed transaction. A unit already stored is left as it is (returns false).
  bool put_unit(const std::string& run_key, std::int64_t unit, const StoredUnit& u);
  void put_results(const std::string& run_key, const nlohmann::json& results);

  // Copies every spec, task run and unit of `other` that this store lacks. Returns the number of units copied.
  std::int64_t merge_from(const std::filesystem::path& other);

  // Unit claims of a multi-process run (`lmscope-cli run --gpus`): before computing a unit a worker claims it, so
  // each unit is computed once while workers take units as they become free. Claims belong to one session (one
  // coordinating process), so claims left by a killed session never block a later run.
  // Creates the claims table if needed (the coordinator calls it before starting workers).
  void open_claims();
  // True when `worker` now holds the unit: false when it is stored or another worker of the session holds it.
  bool claim_unit(const std::string& session, const std::string& run_key, std::int64_t unit, const std::string& worker);
  // Frees a worker's claims on units it did not store (it died); returns how many were freed.
  std::int64_t release_claims(const std::string& session, const std::string& worker);
  void drop_claims(const std::string& session);
  struct ClaimTally {
    std::int64_t stored = 0, tokens = 0;  // claimed units now stored, and their tokens
    std::int64_t open = 0;                // claimed units not stored yet
  };
  ClaimTally claim_tally(const std::string& session) const;
  // Stored units per worker of the session.
  std::map<std::string, std::int64_t> stored_by_worker(const std::string& session) const;

 private:
  void exec(const std::string& sql) const;
  void add_checksums();  // the schema 1 → 2 migration
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
};

// UTC "YYYY-MM-DDTHH:MM:SSZ"
std::string utc_now();

}  // namespace lmscope::run
