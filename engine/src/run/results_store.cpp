#include "lmscope/run/results_store.h"

#include <sqlite3.h>

#include <chrono>
#include <ctime>
#include <thread>

#include "eval/task_data.h"
#include "lmscope/error.h"
#include "lmscope/input_file.h"
#include "lmscope/json_input.h"

namespace lmscope::run {
namespace {

// 2: units carry a checksum (version-1 stores gain it when opened).
// 2: unit checksums; 3: task runs' alias and identity.
constexpr int kSchemaVersion = 3;

// SQLite's failures sorted by whose they are to fix, each naming the file: a damaged, foreign or read-only store is
// the user's (BadInput: what to do), a full or failing disk is an output failure (OutputError), anything else is
// ours (InternalError).
[[noreturn]] void throw_store_error(sqlite3* db, const std::filesystem::path& file, int code, const std::string& what) {
  const std::string msg = "results store " + file.string() + ": " + what + ": " + (db ? sqlite3_errmsg(db) : "?");
  switch (code & 0xff) {  // the primary result code (an extended code keeps it in its low byte)
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      throw BadInput(msg + " — the file is damaged or not an lmscope results store; move it aside (its finished "
                           "units are lost) or give another --store");
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
    case SQLITE_AUTH:
      throw BadInput(msg + " — lmscope needs to write the store and the files beside it (-wal, -shm): make the "
                           "file and its folder writable, or give another --store");
    case SQLITE_FULL:
    case SQLITE_IOERR:
      throw OutputError(msg + " — the disk holding the store is full or failing; finished units are kept");
    default:
      throw InternalError(msg);
  }
}

// A prepared statement that finalises itself; failures go through throw_store_error.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql, const std::filesystem::path& file) : db_(db), file_(file) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  // True while there is a row.
  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail("step");
  }
  std::string text(int c) const {
    const auto* p = sqlite3_column_text(s_, c);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  std::int64_t integer(int c) const { return sqlite3_column_int64(s_, c); }
  double real(int c) const { return sqlite3_column_double(s_, c); }
  bool is_null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }

 private:
  [[noreturn]] void fail(const char* what) { throw_store_error(db_, file_, sqlite3_errcode(db_), what); }
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  std::filesystem::path file_;
};

// Stored JSON text; null when it is empty or no longer parses (a hand-edited or torn row).
nlohmann::json parse_or_null(const std::string& s) {
  if (s.empty()) return nullptr;
  try {
    return parse_json_input(s, "stored row");
  } catch (const BadInput&) {
    return nullptr;
  }
}

// The checksum a unit row carries: FNV-1a over its task run, index and result text.
std::string unit_checksum(const std::string& run_key, std::int64_t unit, const std::string& result_text) {
  return eval::fnv1a64_hex(run_key + "\n" + std::to_string(unit) + "\n" + result_text);
}

const char* kTaskRunColumns =
    "run_key, spec_hash, model, model_path, setting, task, config, provenance, unit_count, created, results, finished,"
    " alias, identity";

TaskRunRecord read_task_run(Stmt& s) {
  TaskRunRecord r;
  r.run_key = s.text(0);
  r.spec_hash = s.text(1);
  r.model = s.text(2);
  r.model_path = s.text(3);
  r.setting = s.text(4);
  r.task = s.text(5);
  r.config = parse_or_null(s.text(6));
  r.provenance = parse_or_null(s.text(7));
  r.unit_count = s.integer(8);
  r.created = s.text(9);
  r.results = s.is_null(10) ? nlohmann::json(nullptr) : parse_or_null(s.text(10));
  r.finished = s.text(11);
  r.alias = s.is_null(12) ? std::string() : s.text(12);
  if (r.alias.empty()) r.alias = r.task;  // a task run stored before aliases were kept
  r.identity = s.is_null(13) ? nlohmann::json(nullptr) : parse_or_null(s.text(13));
  return r;
}

}  // namespace

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

ResultsStore::ResultsStore(const std::filesystem::path& path) : path_(path) {
  std::error_code ec;
  if (path.has_parent_path() && !std::filesystem::exists(path.parent_path(), ec))
    throw BadInput("results store " + path.string() + ": folder " + path.parent_path().string() + " does not exist");
  // SQLite would open a device or FIFO and fail later as an I/O error; it is simply not a store.
  if (const auto kind = non_regular_kind(path); !kind.empty())
    throw BadInput("results store " + path.string() + " is " + kind + ", not a file; give a file path with --store");
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw BadInput("results store " + path.string() + ": cannot open (" + msg + ")");
  }
  sqlite3_busy_timeout(db_, 10000);  // shards writing one store wait for each other's commits
  try {
    std::int64_t version = 0;
    {
      Stmt s(db_, "PRAGMA user_version", path_);
      if (s.step()) version = s.integer(0);
    }
    if (version > kSchemaVersion)
      throw BadInput("results store " + path.string() + ": schema version " + std::to_string(version) +
                     " is newer than this lmscope understands (" + std::to_string(kSchemaVersion) + ")");
    // A current store is only read here, so `results` works on a read-only one; a new or older store is set up.
    if (version < kSchemaVersion) {
      // WAL is a property of the file: set it once, when the store is new. Changing it needs a lock that a second
      // process opening the store at the same moment would not get.
      std::string mode;
      {
        Stmt m(db_, "PRAGMA journal_mode", path_);
        if (m.step()) mode = m.text(0);
      }
      if (mode != "wal") exec("PRAGMA journal_mode=WAL");
      exec("BEGIN IMMEDIATE");
      try {
        exec("CREATE TABLE IF NOT EXISTS specs (spec_hash TEXT PRIMARY KEY, name TEXT, spec TEXT, created TEXT)");
        exec("CREATE TABLE IF NOT EXISTS task_runs (run_key TEXT PRIMARY KEY, spec_hash TEXT, model TEXT,"
             " model_path TEXT, setting TEXT, task TEXT, config TEXT, provenance TEXT, unit_count INTEGER,"
             " created TEXT, results TEXT, finished TEXT, alias TEXT, identity TEXT)");
        exec("CREATE TABLE IF NOT EXISTS units (run_key TEXT, unit INTEGER, result TEXT, seconds REAL, tokens INTEGER,"
             " device TEXT, finished TEXT, checksum TEXT, PRIMARY KEY (run_key, unit))");
        // Re-read under the write lock: another process may have set the store up meanwhile.
        std::int64_t now = 0;
        {
          Stmt s(db_, "PRAGMA user_version", path_);
          if (s.step()) now = s.integer(0);
        }
        if (now == 1) add_checksums();
        if (now >= 1 && now < 3) {
          exec("ALTER TABLE task_runs ADD COLUMN alias TEXT");
          exec("ALTER TABLE task_runs ADD COLUMN identity TEXT");
        }
        if (now < kSchemaVersion) exec("PRAGMA user_version=" + std::to_string(kSchemaVersion));
        exec("COMMIT");
      } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
    }
    exec("PRAGMA synchronous=NORMAL");
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

ResultsStore::~ResultsStore() {
  if (db_) sqlite3_close(db_);
}

void ResultsStore::exec(const std::string& sql) const {
  char* err = nullptr;
  int rc = SQLITE_OK;
  // SQLite's busy handler does not cover every lock (schema and journal-mode changes can report BUSY at once):
  // retry for up to 10 s so workers that open one store together wait for each other.
  for (int attempt = 0; attempt < 200; ++attempt) {
    sqlite3_free(err);
    err = nullptr;
    rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (rc != SQLITE_OK) {
    sqlite3_free(err);
    throw_store_error(db_, path_, rc, sql.substr(0, 40));
  }
}

void ResultsStore::add_checksums() {
  exec("ALTER TABLE units ADD COLUMN checksum TEXT");
  Stmt rows(db_, "SELECT run_key, unit, result FROM units", path_);
  Stmt update(db_, "UPDATE units SET checksum = ?3 WHERE run_key = ?1 AND unit = ?2", path_);
  while (rows.step()) {
    const auto key = rows.text(0);
    const auto unit = rows.integer(1);
    update.reset();
    update.bind(1, key).bind(2, unit).bind(3, unit_checksum(key, unit, rows.text(2))).step();
  }
}

void ResultsStore::put_spec(const std::string& spec_hash, const std::string& name, const nlohmann::json& spec) {
  Stmt(db_, "INSERT OR IGNORE INTO specs VALUES (?1, ?2, ?3, ?4)", path_)
      .bind(1, spec_hash).bind(2, name).bind(3, dump_json(spec)).bind(4, utc_now()).step();
}

void ResultsStore::put_task_run(const TaskRunRecord& r) {
  // A run already stored keeps its record; its alias follows the latest spec that asked for it, and a row from
  // before identities existed gains one.
  Stmt s(db_,
       "INSERT INTO task_runs (run_key, spec_hash, model, model_path, setting, task, config, provenance, unit_count,"
       " created, results, finished, alias, identity) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL, '', ?11, ?12)"
       " ON CONFLICT(run_key) DO UPDATE SET alias = excluded.alias, identity = COALESCE(identity, excluded.identity)",
       path_);
  s.bind(1, r.run_key).bind(2, r.spec_hash).bind(3, r.model).bind(4, r.model_path).bind(5, r.setting)
      .bind(6, r.task).bind(7, dump_json(r.config)).bind(8, dump_json(r.provenance)).bind(9, r.unit_count)
      .bind(10, r.created.empty() ? utc_now() : r.created).bind(11, r.alias.empty() ? r.task : r.alias);
  if (r.identity.is_null()) s.bind_null(12);
  else s.bind(12, dump_json(r.identity));
  s.step();
}

std::vector<TaskRunRecord> ResultsStore::task_runs() const {
  Stmt s(db_, std::string("SELECT ") + kTaskRunColumns + " FROM task_runs ORDER BY created, rowid", path_);
  std::vector<TaskRunRecord> out;
  while (s.step()) out.push_back(read_task_run(s));
  return out;
}

std::vector<TaskRunRecord> ResultsStore::task_runs_of_spec(const std::string& spec_hash) const {
  Stmt s(db_, std::string("SELECT ") + kTaskRunColumns + " FROM task_runs WHERE spec_hash = ?1 ORDER BY rowid", path_);
  s.bind(1, spec_hash);
  std::vector<TaskRunRecord> out;
  while (s.step()) out.push_back(read_task_run(s));
  return out;
}

bool ResultsStore::has_task_run(const std::string& run_key) const {
  Stmt s(db_, "SELECT 1 FROM task_runs WHERE run_key = ?1", path_);
  s.bind(1, run_key);
  return s.step();
}

std::map<std::int64_t, StoredUnit> ResultsStore::units(const std::string& run_key,
                                                       std::vector<std::int64_t>* damaged) const {
  Stmt s(db_, "SELECT unit, result, seconds, tokens, device, checksum FROM units WHERE run_key = ?1 ORDER BY unit",
         path_);
  s.bind(1, run_key);
  std::map<std::int64_t, StoredUnit> out;
  while (s.step()) {
    const auto unit = s.integer(0);
    const auto text = s.text(1);
    StoredUnit u;
    u.result = parse_or_null(text);
    // A row whose checksum does not match (edited by hand, torn) or whose result no longer parses is not used.
    if (s.text(5) != unit_checksum(run_key, unit, text) || u.result.is_null()) {
      if (damaged) damaged->push_back(unit);
      continue;
    }
    u.seconds = s.real(2);
    u.tokens = s.integer(3);
    u.device = s.text(4);
    out.emplace(unit, std::move(u));
  }
  return out;
}

void ResultsStore::drop_unit(const std::string& run_key, std::int64_t unit) {
  Stmt(db_, "DELETE FROM units WHERE run_key = ?1 AND unit = ?2", path_).bind(1, run_key).bind(2, unit).step();
}

std::int64_t ResultsStore::unit_count_stored(const std::string& run_key) const {
  // Only rows that are units of the task run count (a stray row must not make 13 of 12).
  Stmt s(db_,
         "SELECT COUNT(*) FROM units JOIN task_runs USING (run_key) WHERE run_key = ?1 AND unit >= 0 AND"
         " unit < task_runs.unit_count",
         path_);
  s.bind(1, run_key);
  return s.step() ? s.integer(0) : 0;
}

bool ResultsStore::put_unit(const std::string& run_key, std::int64_t unit, const StoredUnit& u) {
  Stmt s(db_, "INSERT OR IGNORE INTO units VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", path_);
  const auto text = dump_json(u.result);
  s.bind(1, run_key).bind(2, unit).bind(3, text).bind(4, u.seconds).bind(5, u.tokens).bind(6, u.device)
      .bind(7, utc_now()).bind(8, unit_checksum(run_key, unit, text));
  s.step();
  return sqlite3_changes(db_) > 0;
}

void ResultsStore::put_results(const std::string& run_key, const nlohmann::json& results) {
  Stmt(db_, "UPDATE task_runs SET results = ?2, finished = ?3 WHERE run_key = ?1", path_)
      .bind(1, run_key).bind(2, dump_json(results)).bind(3, utc_now()).step();
}

std::int64_t ResultsStore::merge_from(const std::filesystem::path& other) {
  if (!std::filesystem::is_regular_file(other)) throw BadInput("merge: " + other.string() + " is not a file");
  { ResultsStore check(other); }  // validates it is a store of a schema we understand
  Stmt attach(db_, "ATTACH DATABASE ?1 AS other", path_);
  attach.bind(1, other.string());
  attach.step();
  std::int64_t copied = 0;
  try {
    exec("BEGIN");
    exec("INSERT OR IGNORE INTO specs SELECT * FROM other.specs");
    exec("INSERT OR IGNORE INTO task_runs SELECT * FROM other.task_runs");
    exec("INSERT OR IGNORE INTO units SELECT * FROM other.units");
    copied = sqlite3_changes(db_);
    // Aggregates are recomputed by the next run over the merged units.
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    exec("DETACH DATABASE other");
    throw;
  }
  exec("DETACH DATABASE other");
  return copied;
}

void ResultsStore::open_claims() {
  // Not part of the schema version: a store without the table is read and written as before by any lmscope.
  exec("CREATE TABLE IF NOT EXISTS unit_claims (session TEXT, run_key TEXT, unit INTEGER, worker TEXT, claimed TEXT,"
       " PRIMARY KEY (session, run_key, unit))");
}

bool ResultsStore::claim_unit(const std::string& session, const std::string& run_key, std::int64_t unit,
                              const std::string& worker) {
  // One statement, so the check for a stored unit and the claim are atomic against the other workers.
  Stmt s(db_,
         "INSERT OR IGNORE INTO unit_claims SELECT ?1, ?2, ?3, ?4, ?5"
         " WHERE NOT EXISTS (SELECT 1 FROM units WHERE run_key = ?2 AND unit = ?3)",
         path_);
  s.bind(1, session).bind(2, run_key).bind(3, unit).bind(4, worker).bind(5, utc_now()).step();
  return sqlite3_changes(db_) > 0;
}

std::int64_t ResultsStore::release_claims(const std::string& session, const std::string& worker) {
  Stmt s(db_,
         "DELETE FROM unit_claims WHERE session = ?1 AND worker = ?2 AND NOT EXISTS"
         " (SELECT 1 FROM units u WHERE u.run_key = unit_claims.run_key AND u.unit = unit_claims.unit)",
         path_);
  s.bind(1, session).bind(2, worker).step();
  return sqlite3_changes(db_);
}

void ResultsStore::drop_claims(const std::string& session) {
  Stmt(db_, "DELETE FROM unit_claims WHERE session = ?1", path_).bind(1, session).step();
}

ResultsStore::ClaimTally ResultsStore::claim_tally(const std::string& session) const {
  Stmt s(db_,
         "SELECT COUNT(u.unit), COALESCE(SUM(u.tokens), 0), COUNT(*) - COUNT(u.unit) FROM unit_claims c"
         " LEFT JOIN units u ON u.run_key = c.run_key AND u.unit = c.unit WHERE c.session = ?1",
         path_);
  s.bind(1, session);
  ClaimTally t;
  if (s.step()) {
    t.stored = s.integer(0);
    t.tokens = s.integer(1);
    t.open = s.integer(2);
  }
  return t;
}

std::map<std::string, std::int64_t> ResultsStore::stored_by_worker(const std::string& session) const {
  Stmt s(db_,
         "SELECT c.worker, COUNT(*) FROM unit_claims c JOIN units u ON u.run_key = c.run_key AND u.unit = c.unit"
         " WHERE c.session = ?1 GROUP BY c.worker",
         path_);
  s.bind(1, session);
  std::map<std::string, std::int64_t> out;
  while (s.step()) out[s.text(0)] = s.integer(1);
  return out;
}

}  // namespace lmscope::run
