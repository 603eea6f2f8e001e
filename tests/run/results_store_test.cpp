// The results store against damage: rows edited by hand or torn are detected by their checksum, stores of the
// previous schema gain checksums when opened, and a damaged or foreign file is BadInput naming it.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>

#include "lmscope/error.h"
#include "lmscope/run/item_outcomes.h"
#include "lmscope/run/result_identity.h"
#include "lmscope/run/results_store.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void sql(const fs::path& store, const std::string& statements) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(store.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, statements.c_str(), nullptr, nullptr, &err);
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

run::TaskRunRecord task_run(const std::string& key, std::int64_t units) {
  run::TaskRunRecord r;
  r.run_key = key;
  r.task = "wikitext";
  r.config = json::object();
  r.provenance = json::object();
  r.unit_count = units;
  return r;
}

TEST(ResultsStoreDamage, AnEditedOrTornRowFailsItsChecksumAndCanBeDropped) {
  test::TempDir tmp;
  const auto path = tmp.path / "s.sqlite";
  {
    run::ResultsStore s(path);
    s.put_task_run(task_run("k", 3));
    for (int u = 0; u < 3; ++u) s.put_unit("k", u, {{{"nll", 1.5 + u}}, 0.1, 10, "cpu"});
  }
  sql(path, "UPDATE units SET result = '{\"nll\": 9.5}' WHERE unit = 1;"
            "UPDATE units SET result = substr(result, 1, 4) WHERE unit = 2;");
  run::ResultsStore s(path);
  std::vector<std::int64_t> damaged;
  const auto units = s.units("k", &damaged);
  EXPECT_EQ(units.size(), 1u);
  EXPECT_EQ(units.at(0).result["nll"], 1.5);
  EXPECT_EQ(damaged, (std::vector<std::int64_t>{1, 2}));
  s.drop_unit("k", 1);
  EXPECT_TRUE(s.put_unit("k", 1, {{{"nll", 2.5}}, 0.1, 10, "cpu"}));
  EXPECT_EQ(s.units("k").at(1).result["nll"], 2.5);
}

TEST(ResultsStoreDamage, RowsOutsideTheTaskRunAreNotCountedAsDone) {
  test::TempDir tmp;
  run::ResultsStore s(tmp.path / "s.sqlite");
  s.put_task_run(task_run("k", 2));
  for (const int u : {0, 1, 7, -1}) s.put_unit("k", u, {{{"u", u}}, 0.0, 1, "cpu"});
  EXPECT_EQ(s.unit_count_stored("k"), 2);
}

TEST(ResultsStoreDamage, AVersionOneStoreGainsChecksumsWhenOpened) {
  test::TempDir tmp;
  const auto path = tmp.path / "old.sqlite";
  sql(path,
      "PRAGMA journal_mode=WAL;"
      "CREATE TABLE specs (spec_hash TEXT PRIMARY KEY, name TEXT, spec TEXT, created TEXT);"
      "CREATE TABLE task_runs (run_key TEXT PRIMARY KEY, spec_hash TEXT, model TEXT, model_path TEXT, setting TEXT,"
      " task TEXT, config TEXT, provenance TEXT, unit_count INTEGER, created TEXT, results TEXT, finished TEXT);"
      "CREATE TABLE units (run_key TEXT, unit INTEGER, result TEXT, seconds REAL, tokens INTEGER, device TEXT,"
      " finished TEXT, PRIMARY KEY (run_key, unit));"
      "INSERT INTO task_runs VALUES ('k', 's', 'm', 'p', '', 'wikitext', '{}', '{}', 2, 't', NULL, '');"
      "INSERT INTO units VALUES ('k', 0, '{\"nll\":1.25}', 0.1, 10, 'cpu', 't');"
      "PRAGMA user_version=1;");
  run::ResultsStore s(path);
  const auto units = s.units("k");
  ASSERT_EQ(units.size(), 1u);
  EXPECT_EQ(units.at(0).result["nll"], 1.25);
  EXPECT_TRUE(s.put_unit("k", 1, {{{"nll", 2.0}}, 0.1, 10, "cpu"}));
  EXPECT_EQ(s.units("k").size(), 2u);
  // and an alias column: a task run stored before aliases is named by its task
  ASSERT_EQ(s.task_runs().size(), 1u);
  EXPECT_EQ(s.task_runs()[0].alias, "wikitext");
  auto renamed = s.task_runs()[0];
  renamed.alias = "wiki:test";
  s.put_task_run(renamed);
  EXPECT_EQ(s.task_runs()[0].alias, "wiki:test");
}

TEST(ResultsStoreDamage, AVersionTwoStoreGainsAliasAndIdentityWhenOpened) {
  test::TempDir tmp;
  const auto path = tmp.path / "v2.sqlite";
  {
    run::ResultsStore s(path);  // the current schema, then made to look like version 2
  }
  sql(path,
                "DROP TABLE task_runs;"
                "CREATE TABLE task_runs (run_key TEXT PRIMARY KEY, spec_hash TEXT, model TEXT, model_path TEXT,"
                " setting TEXT, task TEXT, config TEXT, provenance TEXT, unit_count INTEGER, created TEXT, results TEXT,"
                " finished TEXT);"
                "INSERT INTO task_runs VALUES ('k', 's', 'm', 'p', '', 'wikitext',"
                " '{\"task\":\"wikitext\",\"data\":\"/x/wiki.raw\",\"data_hash\":\"ab\"}', '{}', 2, 't', NULL, '');"
                "PRAGMA user_version=2;");
  run::ResultsStore s(path);
  auto rows = s.task_runs();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].alias, "wikitext");  // stored before aliases: the task's name
  EXPECT_TRUE(rows[0].identity.is_null());
  const auto f = run::instance_fields(rows[0]);
  EXPECT_EQ(f["alias"], "wikitext");
  EXPECT_FALSE(f["identity"]["config"].contains("data"));  // the location is not part of it, the hash is
  EXPECT_EQ(f["identity"]["config"]["data_hash"], "ab");
  // asked for again: the row gains the new alias and an identity, its results stay
  run::TaskRunRecord again = rows[0];
  again.alias = "wiki";
  again.identity = {{"task", "wikitext"}};
  s.put_task_run(again);
  rows = s.task_runs();
  EXPECT_EQ(rows[0].alias, "wiki");
  EXPECT_EQ(rows[0].identity["task"], "wikitext");
}

TEST(ResultsStoreDamage, ADamagedFileIsBadInputNamingIt) {
  test::TempDir tmp;
  const auto path = tmp.path / "s.sqlite";
  {
    run::ResultsStore s(path);
    s.put_task_run(task_run("k", 1));
    s.put_unit("k", 0, {{{"nll", 1.0}}, 0.1, 10, "cpu"});
  }
  std::string bytes = test::read_text(path);
  ASSERT_GT(bytes.size(), 4096u);
  for (std::size_t i = 4096 + 16; i < bytes.size(); ++i) bytes[i] = static_cast<char>(0x5A);
  test::write_text(path, bytes);
  try {
    run::ResultsStore s(path);
    s.task_runs();
    s.units("k");
    FAIL() << "a damaged store was read without complaint";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("damaged"), std::string::npos) << e.what();
  }
}

TEST(ResultsStoreDamage, ADeviceOrFolderIsNotAStore) {
  test::TempDir tmp;
  for (const fs::path& p : {fs::path("/dev/null"), tmp.path}) {
    try {
      run::ResultsStore s(p);
      FAIL() << p << " was opened as a store";
    } catch (const BadInput& e) {
      EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    }
  }
}

TEST(ItemOutcomes, StoredUnitsReadBackAsOutcomesPerItem) {
  test::TempDir tmp;
  run::ResultsStore s(tmp.path / "s.sqlite");
  auto mc = task_run("mc", 3);
  mc.task = "piqa";
  s.put_task_run(mc);
  s.put_unit("mc", 0, {json::array({{{"item", 0}, {"loglik", {-1.5, -2.0}}, {"gold", 1}, {"acc", 0}, {"acc_norm", 1}},
                                    {{"item", 1}, {"loglik", {-0.5, -3.0}}, {"gold", 0}, {"acc", 1}, {"acc_norm", 1}}}),
                       0.1, 10, "cpu"});
  s.put_unit("mc", 2, {json::array({{{"item", 4}, {"loglik", {-1.0, -0.25}}, {"gold", 1}, {"acc", 1}, {"acc_norm", 0}}}), 0.1, 10, "cpu"});
  const auto o = run::read_item_outcomes(s, "mc");
  EXPECT_EQ(o.units_stored, 2);
  EXPECT_FALSE(o.complete);  // unit 1 missing and nothing aggregated
  ASSERT_EQ(o.outcomes.size(), 3u);
  EXPECT_EQ(o.outcomes[0].name, "acc");
  EXPECT_TRUE(o.outcomes[0].binary);
  EXPECT_EQ(o.outcomes[0].items, (std::vector<std::string>{"0", "1", "4"}));
  EXPECT_EQ(o.outcomes[0].values, (std::vector<double>{0, 1, 1}));
  EXPECT_EQ(o.outcomes[1].name, "acc_norm");
  EXPECT_EQ(o.outcomes[1].values, (std::vector<double>{1, 1, 0}));
  EXPECT_EQ(o.outcomes[2].name, "loglik");  // the gold choice's
  EXPECT_EQ(o.outcomes[2].values, (std::vector<double>{-2.0, -0.5, -0.25}));
  // perplexity units: mean NLL per token by length; wikitext documents: bits per byte
  const std::vector<std::pair<std::int64_t, json>> ppl{{0, {{"length", 16}, {"nll", 30.0}, {"tokens", 15}, {"windows", 1}}},
                                                       {1, {{"length", 32}, {"nll", 62.0}, {"tokens", 31}, {"windows", 1}}}};
  const auto p = run::item_outcomes_of_units("ppl_vs_length", ppl);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].name, "nll@16");
  EXPECT_TRUE(p[0].lower_is_better);
  EXPECT_DOUBLE_EQ(p[0].values[0], 2.0);
  EXPECT_EQ(p[1].items[0], "unit 1");
  const auto wk = run::item_outcomes_of_units("wikitext", {{3, {{"loglik", -std::log(2.0) * 80}, {"bytes", 40}, {"tokens", 40}}}});
  ASSERT_EQ(wk.size(), 1u);
  EXPECT_DOUBLE_EQ(wk[0].values[0], 2.0);
  std::string note;
  EXPECT_TRUE(run::item_outcomes_of_units("throughput", {{0, {{"tokens_per_s", 5.0}}}}, &note).empty());
  EXPECT_NE(note.find("no per-item outcomes"), std::string::npos);
  EXPECT_THROW(run::read_item_outcomes(s, "absent"), BadInput);
}

}  // namespace
}  // namespace lmscope
