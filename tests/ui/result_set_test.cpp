// Result identity in the GUI: a series, a row or a column is one configuration; re-runs with other data are separate
// entries named by what differs; the same request run twice shows the newer complete result; "best" only among
// complete, comparable values.
#include <gtest/gtest.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "comparison_table_model.h"
#include "passkey_grid.h"
#include "ppl_series.h"
#include "result_set.h"
#include "run_details_view.h"
#include "table_roles.h"

namespace {

struct FakeRun {
  QString kind = "result", run_key, model = "llama", setting, task = "ppl_vs_length", alias, data = "/d/wiki.test.raw",
          data_hash = "aaaa", dtype = "fp32";
  QJsonObject settings;
  QJsonObject metrics{{"ppl@256", 10.0}};
  qint64 done = 1, count = 1;

  QJsonObject event() const {
    QJsonObject identity{{"task", task}, {"settings", settings}, {"content", QJsonObject{{"data_hash", data_hash}}}};
    // what the engine sends: the id is a hash of the identity; here any string that differs when it differs
    const QString id = data_hash + "|" + QString::fromUtf8(QJsonDocument(settings).toJson(QJsonDocument::Compact));
    QJsonArray series;
    for (auto it = metrics.begin(); it != metrics.end(); ++it)
      series.append(QJsonObject{{"length", it.key().mid(4).toInt()}, {"ppl", it.value()}});
    return {{"event", kind},    {"run_key", run_key},  {"model", model},         {"setting", setting},
            {"task", task},     {"alias", alias.isEmpty() ? task : alias},    {"config_id", id},
            {"identity", identity}, {"config", QJsonObject{{"task", task}, {"data", data}}},
            {"dtype", dtype},   {"metrics", metrics},  {"details", QJsonObject{{"series", series}}},
            {"units_done", done}, {"unit_count", count}};
  }
};

int column(const QAbstractItemModel& m, const QString& header) {
  for (int c = 0; c < m.columnCount(); ++c)
    if (m.headerData(c, Qt::Horizontal).toString() == header) return c;
  return -1;
}

TEST(ResultIdentity, ARunOnOtherDataIsASecondSeriesNamedByItsFile) {
  ResultSet rs;
  FakeRun a;
  a.run_key = "k1";
  FakeRun b = a;
  b.run_key = "k2";
  b.data = "/d/book.txt";
  b.data_hash = "bbbb";
  b.metrics = {{"ppl@256", 9000.0}};
  rs.applyEvent(a.event());
  rs.applyEvent(b.event());
  ASSERT_EQ(rs.runs().size(), 2);  // never merged: the earlier point is not replaced
  const auto series = PplSeries::fromResults(rs.visibleRuns());
  ASSERT_EQ(series.size(), 2);
  EXPECT_EQ(series[0].label, QString::fromUtf8("llama · ppl_vs_length (data wiki.test.raw)"));
  EXPECT_EQ(series[1].label, QString::fromUtf8("llama · ppl_vs_length (data book.txt)"));
  // two columns, each one configuration: nothing to compare within either, so no "best"
  ComparisonTableModel m(&rs);
  EXPECT_EQ(m.rowCount(), 1);
  const int wiki = column(m, "ppl_vs_length (data wiki.test.raw) ppl@256");
  const int book = column(m, "ppl_vs_length (data book.txt) ppl@256");
  ASSERT_GT(wiki, 0);
  ASSERT_GT(book, 0);
  EXPECT_FALSE(m.data(m.index(0, wiki), TableRole::Best).toBool());
}

TEST(ResultIdentity, SettingsThatDifferNameTheEntries) {
  ResultSet rs;
  FakeRun a;
  a.run_key = "k1";
  FakeRun b = a;
  b.run_key = "k2";
  b.settings = {{"max_chunks", 1}};
  rs.applyEvent(a.event());
  rs.applyEvent(b.event());
  ASSERT_EQ(rs.runs().size(), 2);
  EXPECT_EQ(rs.runs()[0].instance(), "ppl_vs_length (max_chunks default)");
  EXPECT_EQ(rs.runs()[1].instance(), "ppl_vs_length (max_chunks 1)");
}

TEST(ResultIdentity, TheSameRequestRunTwiceShowsTheNewerCompleteOneAndKeepsTheOther) {
  ResultSet rs;
  FakeRun older;
  older.run_key = "cpu-run";
  older.metrics = {{"ppl@256", 10.0}};
  FakeRun newer = older;
  newer.run_key = "cuda-run";
  newer.metrics = {{"ppl@256", 10.001}};
  rs.applyEvent(older.event());
  rs.applyEvent(newer.event());
  ASSERT_EQ(rs.runs().size(), 1);
  EXPECT_EQ(rs.runs()[0].run_key, "cuda-run");
  const auto others = rs.alternatives(rs.runs()[0]);
  ASSERT_EQ(others.size(), 1);
  EXPECT_EQ(others[0].run_key, "cpu-run");
  EXPECT_TRUE(rs.runs()[0].variant.isEmpty());  // one configuration: nothing to tell apart
  // run details list the other run with its numbers
  const QString html = RunDetailsView::describe(rs.runs()[0].label(), rs.runs(), {others});
  EXPECT_TRUE(html.contains("cpu-run") && html.contains("ppl@256 10")) << html.toStdString();
}

TEST(ResultIdentity, APartialRunOfThisSessionIsShownLiveButAStoredPartialNeverHidesAComplete) {
  ResultSet rs;
  QJsonArray history;
  FakeRun stored;
  stored.run_key = "old";
  QJsonObject row = stored.event();
  row["results"] = QJsonObject{{"metrics", stored.metrics}, {"details", row["details"]}};
  row["created"] = "2026-11-01T10:00:00Z";
  row["units_done"] = 1;
  FakeRun stored_partial = stored;
  stored_partial.run_key = "later-partial";
  QJsonObject prow = stored_partial.event();
  prow["results"] = QJsonObject{};
  prow["created"] = "2026-11-02T10:00:00Z";
  history.append(row);
  history.append(prow);
  rs.applyHistory(history);
  ASSERT_EQ(rs.runs().size(), 1);
  EXPECT_EQ(rs.runs()[0].run_key, "old");
  // a live run of the same request: its partial numbers are what the user is watching
  FakeRun live = stored;
  live.run_key = "live";
  live.kind = "partial";
  live.done = 1;
  live.count = 4;
  rs.applyEvent(live.event());
  ASSERT_EQ(rs.runs().size(), 1);
  EXPECT_EQ(rs.runs()[0].run_key, "live");
  EXPECT_EQ(rs.alternatives(rs.runs()[0]).size(), 1);
}

TEST(ResultIdentity, TaskInstancesAreSeparateSeriesAndColumns) {
  ResultSet rs;
  FakeRun pg;
  pg.run_key = "k1";
  pg.alias = "ppl_vs_length:pg19";
  pg.data_hash = "p";
  FakeRun wiki = pg;
  wiki.run_key = "k2";
  wiki.alias = "ppl_vs_length:wiki";
  wiki.data_hash = "w";
  rs.applyEvent(pg.event());
  rs.applyEvent(wiki.event());
  const auto series = PplSeries::fromResults(rs.visibleRuns());
  ASSERT_EQ(series.size(), 2);
  EXPECT_EQ(series[0].label, QString::fromUtf8("llama · ppl_vs_length:pg19"));
  ComparisonTableModel m(&rs);
  EXPECT_GT(column(m, "ppl_vs_length:pg19 ppl@256"), 0);
  EXPECT_GT(column(m, "ppl_vs_length:wiki ppl@256"), 0);
}

TEST(ResultIdentity, PrecisionsAreRowsOfTheirOwn) {
  ResultSet rs;
  FakeRun f32;
  f32.run_key = "a";
  FakeRun b16 = f32;
  b16.run_key = "b";
  b16.dtype = "bf16";
  b16.metrics = {{"ppl@256", 10.2}};
  rs.applyEvent(f32.event());
  rs.applyEvent(b16.event());
  ComparisonTableModel m(&rs);
  ASSERT_EQ(m.rowCount(), 2);
  EXPECT_EQ(m.data(m.index(0, 0), Qt::DisplayRole).toString(), QString::fromUtf8("llama · fp32"));
  EXPECT_EQ(m.data(m.index(1, 0), Qt::DisplayRole).toString(), QString::fromUtf8("llama · bf16"));
  const int c = column(m, "ppl_vs_length ppl@256");
  EXPECT_TRUE(m.data(m.index(0, c), TableRole::Best).toBool());
  EXPECT_FALSE(m.data(m.index(1, c), TableRole::Best).toBool());
}

TEST(ResultIdentity, HidingPastRunsChoosesAmongThisSessionsOnly) {
  ResultSet rs;
  FakeRun stored;
  stored.run_key = "old";
  QJsonObject row = stored.event();
  row["results"] = QJsonObject{{"metrics", QJsonObject{{"ppl@256", 5.0}}}, {"details", row["details"]}};
  row["created"] = "2026-11-01T10:00:00Z";
  rs.applyHistory(QJsonArray{row});
  FakeRun live = stored;
  live.run_key = "new";
  live.kind = "partial";
  live.count = 3;
  rs.applyEvent(live.event());
  FakeRun other = stored;  // stored only, other data: hidden with the past runs
  other.run_key = "other";
  other.data_hash = "zz";
  QJsonObject orow = other.event();
  orow["results"] = QJsonObject{{"metrics", other.metrics}};
  orow["created"] = "2026-11-01T11:00:00Z";
  rs.applyHistory(QJsonArray{orow});
  EXPECT_EQ(rs.runs().size(), 2);
  rs.setShowStored(false);
  const auto visible = rs.visibleRuns();
  ASSERT_EQ(visible.size(), 1);
  EXPECT_EQ(visible[0].run_key, "new");
  EXPECT_TRUE(visible[0].variant.isEmpty());  // the stored configuration is not shown, so nothing to tell apart
}

}  // namespace
