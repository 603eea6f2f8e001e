// The Analysis tab's numbers (ui/result_records, ui/result_analysis, ui/analysis_report) and its view, without a
// window: records from TaskRunResults, group summaries ranked by mean, top N, correlations, the Avg table, paired
// comparisons on per-item outcomes, the report section, and the view following ResultSet. Expected numbers are
// worked out by hand below or printed by scipy: /work/.venv-ref/bin/python tools/eval_reference/statistics_reference.py
// (the lines starting "analysis").
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <qcustomplot.h>

#include "analysis_report.h"
#include "analysis_view.h"
#include "report_exporter.h"
#include "result_analysis.h"
#include "result_records.h"
#include "result_set.h"
#include "table_exporter.h"
#include "table_roles.h"

using namespace lmscope::analysis;

namespace {

TaskRunResult run(const QString& model, const QString& setting, const QString& task, const QJsonObject& metrics,
                  bool complete = true, const QString& config = "c1") {
  TaskRunResult r;
  r.model = model;
  r.setting = setting;
  r.task = task;
  r.alias = task;
  r.config_id = config;
  r.run_key = model + "|" + setting + "|" + task;
  r.metrics = metrics;
  r.complete = complete;
  r.unit_count = 4;
  r.units_done = complete ? 4 : 1;
  return r;
}

// The RoPE-study-like fixture: four complete settings with perplexity and passkey at two lengths, and a partial
// NTK run whose perplexity (10) is lower than every complete one.
QVector<TaskRunResult> ropeStudy() {
  struct S { const char* setting; double p1, p2, a1, a2; };
  const S s[] = {{"", 20, 40, 1.0, 0.4}, {"yarn:factor=2", 18, 22, 1.0, 0.9}, {"yarn:factor=4", 19, 21, 0.9, 0.8},
                 {"linear:factor=2", 25, 30, 0.8, 0.6}};
  QVector<TaskRunResult> out;
  for (const auto& x : s) {
    out << run("llama", x.setting, "ppl_vs_length", {{"ppl@1024", x.p1}, {"ppl@2048", x.p2}});
    out << run("llama", x.setting, "passkey", {{"accuracy", (x.a1 + x.a2) / 2}, {"accuracy@1024", x.a1}, {"accuracy@2048", x.a2}});
  }
  out << run("llama", "ntk:factor=2", "ppl_vs_length", {{"ppl@1024", 10.0}}, false);
  return out;
}

const MetricChoice kPpl{"ppl_vs_length", "ppl"};
const MetricChoice kPasskey{"passkey", "accuracy"};

QJsonObject items(const QString& key, const QString& name, bool binary, const QVector<double>& values, int skip_last = 0,
                  bool complete = true) {
  QJsonArray ids, vals;
  for (int i = 0; i < values.size() - skip_last; ++i) {
    ids.append(QString::number(i));
    vals.append(values[i]);
  }
  const QJsonObject o{{"name", name}, {"binary", binary}, {"lower_is_better", false}, {"items", ids}, {"values", vals}};
  return {{"run_key", key}, {"task", "piqa"}, {"alias", "piqa"}, {"unit_count", 4}, {"units_stored", complete ? 4 : 2},
          {"complete", complete}, {"outcomes", QJsonArray{o}}};
}

QVector<double> binaryA() {
  QVector<double> v;
  for (int i = 0; i < 40; ++i) v << (i % 3 ? 1.0 : 0.0);
  return v;
}
QVector<double> binaryB() {
  QVector<double> v;
  for (int i = 0; i < 40; ++i) v << (i % 4 ? 1.0 : 0.0);
  return v;
}

}  // namespace

class AnalysisTest : public QObject {
  Q_OBJECT
 private slots:
  void perBytePerplexityIsAnotherMetric() {
    TaskRunResult bytes = run("demo-bytes", "", "ppl_vs_length", {{"ppl@256", 3.0}, {"acc", 0.5}});
    bytes.tokenizer = "bytes";
    const auto recs = toRecords({run("demo-llama", "", "ppl_vs_length", {{"ppl@256", 30.0}, {"acc", 0.4}}), bytes}, {});
    QStringList metrics;
    for (const auto& r : recs) metrics << r.model + ":" + r.metric;
    metrics.sort();
    QCOMPARE(metrics, (QStringList{"demo-bytes:acc", "demo-bytes:ppl (per byte)", "demo-llama:acc", "demo-llama:ppl"}));
  }
  void recordsCarryMethodLengthAndFamily() {
    QCOMPARE(ropeMethod(""), QString("original"));
    QCOMPARE(ropeMethod("yarn:factor=4,original_max_position_embeddings=4096"), QString("yarn"));
    QCOMPARE(ropeMethod("llama3:factor=8"), QString("llama3"));
    QCOMPARE(ropeMethod("dynamic"), QString("dynamic"));
    const auto recs = toRecords(ropeStudy(), {{"llama", "llama"}});
    QCOMPARE(recs.size(), 8 * 2 + 4 + 1);  // 4 ppl runs × 2, 4 passkey runs × 3, 1 partial
    int overall = 0;
    for (const auto& r : recs) {
      QCOMPARE(r.family, QString("llama"));
      if (r.metric_key == "ppl@2048") QCOMPARE(r.length, 2048);
      if (r.metric_key == "accuracy") {
        QVERIFY(r.overall);
        ++overall;
      }
      if (r.setting == "ntk:factor=2") {
        QVERIFY(!r.complete);
        QCOMPARE(r.method, QString("ntk"));
      }
    }
    QCOMPARE(overall, 4);
    // the overall passkey value is not counted beside the per-length ones
    QCOMPARE(selectRecords(recs, kPasskey).size(), 8);
    QVERIFY(accuracyLike("acc_norm") && accuracyLike("contains") && !accuracyLike("ppl") && !accuracyLike("word_perplexity"));
  }

  void summaryRanksMethodsByMeanAndLeavesPartialOut() {
    const auto recs = toRecords(ropeStudy());
    const Summary s = summarize(recs, kPpl, GroupBy::Method);
    QVERIFY(s.lower_is_better);
    QCOMPARE(s.rows.size(), 4);
    QCOMPARE(s.rows[0].group, QString("yarn"));  // (18 + 22 + 19 + 21) / 4 = 20
    QCOMPARE(s.rows[0].summary.n, std::size_t(4));
    QCOMPARE(s.rows[0].summary.mean, 20.0);
    QCOMPARE(s.rows[0].summary.best, 18.0);
    QVERIFY(std::abs(s.rows[0].summary.stddev - 1.8257418583505538) < 1e-12);  // numpy std(ddof=1)
    QCOMPARE(s.rows[1].group, QString("linear"));  // 27.5
    QCOMPARE(s.rows[1].summary.mean, 27.5);
    QCOMPARE(s.rows[2].group, QString("original"));  // 30
    QVERIFY(std::abs(s.rows[2].summary.stddev - 14.142135623730951) < 1e-12);
    QCOMPARE(s.rows[3].group, QString("ntk"));  // only a partial value: last, n = 0
    QCOMPARE(s.rows[3].summary.n, std::size_t(0));
    QCOMPARE(s.rows[3].partial, 1);
    QCOMPARE(s.partial, 1);
    AnalysisTable t;
    fill(t, s);
    // best mean and best value are yarn's (20 and 18), never the partial 10
    QCOMPARE(t.headerData(0, Qt::Horizontal, Qt::DisplayRole).toString(), QString("rank"));
    QVERIFY(t.cell(0, 3).best);
    QVERIFY(t.cell(0, 4).best);
    QCOMPARE(t.cell(0, 4).value.toDouble(), 18.0);
    for (int c = 0; c < t.columnCount(); ++c) QVERIFY(!t.cell(3, c).best);
    // by length: in length order, per-length means (20 + 18 + 19 + 25) / 4 and (40 + 22 + 21 + 30) / 4
    const Summary l = summarize(recs, kPpl, GroupBy::Length);
    QCOMPARE(l.rows.size(), 2);
    QCOMPARE(l.rows[0].group, QString("1024"));
    QCOMPARE(l.rows[0].summary.mean, 20.5);
    QCOMPARE(l.rows[1].summary.mean, 28.25);
    AnalysisTable lt;
    fill(lt, l);
    QVERIFY(!lt.cell(0, 2).best && !lt.cell(1, 2).best);  // no "best length"
    // higher is better for passkey: the best group first
    const Summary p = summarize(recs, kPasskey, GroupBy::Method);
    QCOMPARE(p.rows[0].group, QString("yarn"));  // (1 + .9 + .9 + .8) / 4 = 0.9
    QVERIFY(std::abs(p.rows[0].summary.mean - 0.9) < 1e-12);
    QCOMPARE(p.rows[0].summary.best, 1.0);
  }

  void topNIsDirectionAwareAndCompleteOnly() {
    const auto recs = toRecords(ropeStudy());
    const auto top = topConfigurations(recs, kPpl, 3);
    QCOMPARE(top.size(), 3);
    QCOMPARE(top[0].value, 18.0);
    QCOMPARE(top[0].setting, QString("yarn:factor=2"));
    QCOMPARE(top[1].value, 19.0);
    QCOMPARE(top[2].value, 20.0);
    QCOMPARE(top[2].setting, QString(""));
    QCOMPARE(topConfigurations(recs, kPpl, 100).size(), 8);  // the partial value is never ranked
    const auto pk = topConfigurations(recs, kPasskey, 2);
    QCOMPARE(pk[0].value, 1.0);
    QCOMPARE(pk[1].value, 1.0);
  }

  void correlationsMatchScipy() {
    const auto recs = toRecords(ropeStudy());
    const auto c = correlate(recs, kPpl, kPasskey);
    QCOMPARE(c.xs.size(), 8);  // 4 settings × 2 lengths; the partial NTK run has no pair
    // scipy 1.17: pearsonr / spearmanr of ppl = [20, 40, 18, 22, 19, 21, 25, 30], pk = [1, .4, 1, .9, .9, .8, .8, .6]
    QVERIFY(std::abs(c.pearson.r - -0.96231218188612655) < 1e-12);
    QVERIFY(std::abs(c.pearson.p_value - 0.00013007255285922269) < 1e-9);
    QVERIFY(std::abs(c.spearman.r - -0.88499477706819152) < 1e-12);
    QVERIFY(std::abs(c.spearman.p_value - 0.0034822516238554569) < 1e-9);
    // a metric per length against one without lengths pairs on nothing, and says so
    const auto none = correlate(recs, kPpl, {"passkey", "accuracy_overall_missing"});
    QCOMPARE(none.xs.size(), 0);
    QVERIFY(none.note.contains("at least 3"));
    const auto all = allCorrelations(recs);
    QCOMPARE(all.size(), 1);
    AnalysisTable t;
    fillCorrelations(t, all);
    QCOMPARE(t.rowCount(), 1);
    QCOMPARE(t.cell(0, 2).value.toDouble(), 8.0);
    // LaTeX that pdflatex takes: "Pearson" and "Spearman" spanning their r / p, the Greek letter as math
    const QString tex = TableExporter::toLatex(t, t.caption());
    QVERIFY(tex.contains("\\multicolumn{2}{c}{Spearman}"));
    QVERIFY(tex.contains("$\\rho$"));
    QVERIFY(!tex.contains(QString::fromUtf8("ρ")));
  }

  void averagesTableAveragesAccuracyColumnsOnly() {
    QVector<TaskRunResult> runs{
        run("gdn", "", "piqa", {{"acc", 0.70}, {"acc_norm", 0.72}}),
        run("gdn", "", "winogrande", {{"acc", 0.55}}),
        run("gdn", "", "wikitext", {{"word_perplexity", 25.0}}),
        run("llama", "", "piqa", {{"acc", 0.68}, {"acc_norm", 0.71}}),
        run("llama", "", "winogrande", {{"acc", 0.60}}),
        run("llama", "", "wikitext", {{"word_perplexity", 22.0}}),
        run("mamba", "", "piqa", {{"acc", 0.90}, {"acc_norm", 0.91}}),  // no winogrande: no Avg
    };
    const auto a = averages(toRecords(runs));
    QCOMPARE(a.columns.size(), 4);  // piqa acc, piqa acc_norm, winogrande acc, wikitext word_perplexity
    QCOMPARE(a.averaged, QStringList({"piqa acc", "piqa acc_norm", "winogrande acc"}));
    QCOMPARE(a.rows.size(), 3);
    QVERIFY(std::abs(a.rows[0].avg - (0.70 + 0.72 + 0.55) / 3) < 1e-12);
    QVERIFY(std::abs(a.rows[1].avg - (0.68 + 0.71 + 0.60) / 3) < 1e-12);
    QVERIFY(std::isnan(a.rows[2].avg));
    QCOMPARE(a.rows[2].missing, QString("winogrande acc"));
    AveragesOptions o;
    o.acc_norm_over_acc = true;
    o.group_averages = true;
    o.group = GroupBy::Method;  // all "original": one group
    const auto b = averages(toRecords(runs), o);
    QCOMPARE(b.averaged, QStringList({"piqa acc_norm", "winogrande acc"}));
    QVERIFY(std::abs(b.rows[0].avg - (0.72 + 0.55) / 2) < 1e-12);
    QCOMPARE(b.rows.size(), 4);
    QVERIFY(b.rows[3].group_average);
    QVERIFY(std::abs(b.rows[3].values[0] - (0.72 + 0.71 + 0.91) / 3) < 1e-12);
    QVERIFY(std::isnan(b.rows[3].values[1]));  // mamba has no winogrande: no group mean of that column
    AnalysisTable t;
    fillAverages(t, b);
    QCOMPARE(t.headerData(t.columnCount() - 1, Qt::Horizontal, Qt::DisplayRole).toString(), QString("Avg"));
    QVERIFY(t.headerData(t.columnCount() - 1, Qt::Horizontal, Qt::ToolTipRole).toString().contains("piqa acc_norm, winogrande acc"));
    // best: lower word perplexity (llama, row 1), higher Avg (llama: (.71 + .60) / 2 > (.72 + .55) / 2)
    QVERIFY(t.cell(1, 3).best && !t.cell(0, 3).best);
    QVERIFY(t.cell(1, 4).best && !t.cell(0, 4).best);
    QVERIFY(!t.cell(3, 1).best);  // a group mean is never "best"
    const QString tex = TableExporter::toLatex(t, t.caption());
    QVERIFY(tex.contains("\\multicolumn{1}{c}{piqa}") || tex.contains("piqa"));
    QVERIFY(tex.contains("Avg"));
    // lengths in numeric order, as the comparison table orders them
    const auto l = averages(toRecords({run("m", "", "ppl_vs_length", {{"ppl@1024", 1.0}, {"ppl@256", 2.0}})}));
    QCOMPARE(l.columns.size(), 2);
    QCOMPARE(l.columns[0].metric_key, QString("ppl@256"));
    QVERIFY(l.averaged.isEmpty());
  }

  void pairedComparisonMatchesScipyAndSaysWhatDoesNotMatch() {
    const RunItems a = runItemsFromJson(items("a", "acc", true, binaryA()));
    const RunItems b = runItemsFromJson(items("b", "acc", true, binaryB()));
    const auto c = pairedCompare(a, "c1", b, "c1", "acc");
    QVERIFY(c.computed);
    QVERIFY(c.problems.isEmpty());
    QCOMPARE(c.common, 40);
    // scipy: only_a = 6, only_b = 10, binomtest(10, 16).pvalue
    QCOMPARE(c.mcnemar.only_a, 6);
    QCOMPARE(c.mcnemar.only_b, 10);
    QVERIFY(std::abs(c.mcnemar.p_value - 0.454498291015625) < 1e-12);
    QVERIFY(std::abs(c.difference.mean - (26.0 - 30.0) / 40) < 1e-12);  // A right on 26 items, B on 30
    // continuous: loglik per item; the mean difference exactly, the percentile interval within bootstrap noise of
    // scipy.stats.bootstrap(method="percentile") [0.12698, 0.257071]
    QVector<double> la, lb;
    for (int i = 0; i < 40; ++i) {
      la << -1 - 0.05 * i;
      lb << -1.2 - 0.05 * i + 0.3 * std::sin(double(i));
    }
    const auto d = pairedCompare(runItemsFromJson(items("a", "loglik", false, la)), "c1",
                                 runItemsFromJson(items("b", "loglik", false, lb)), "c1", "loglik");
    QVERIFY(d.computed && !d.binary);
    QVERIFY(std::abs(d.difference.mean - 0.19135176314663646) < 1e-12);
    QVERIFY(std::abs(d.difference.low - 0.12698) < 0.01);
    QVERIFY(std::abs(d.difference.high - 0.257071) < 0.01);
    // items that do not match, a partial run, different configurations
    const auto m = pairedCompare(a, "c1", runItemsFromJson(items("b", "acc", true, binaryB(), 5, false)), "c1", "acc");
    QVERIFY(m.computed);
    QCOMPARE(m.common, 35);
    QVERIFY(m.problems.join(" ").contains("partial"));
    QVERIFY(m.problems.join(" ").contains("do not match"));
    const auto x = pairedCompare(a, "c1", b, "c2", "acc");
    QVERIFY(!x.computed);
    QVERIFY(x.problems.join(" ").contains("different configurations"));
    const auto y = pairedCompare(a, "c1", b, "c1", "acc_norm");
    QVERIFY(!y.computed);
    AnalysisTable t;
    fillPaired(t, c, "A", "B");
    QCOMPARE(t.rowCount(), 1);
    QCOMPARE(t.cell(0, 7).value.toDouble(), 6.0);
  }

  void reportSectionOnlyWithEnoughResults() {
    const auto rep = AnalysisReport::build(toRecords(ropeStudy()));
    QStringList stems;
    for (const auto& [stem, t] : rep.tables) stems << stem;
    QCOMPARE(stems, QStringList({"analysis_methods_ppl_vs_length_ppl", "analysis_lengths_ppl_vs_length_ppl",
                                 "analysis_top10_ppl_vs_length_ppl", "analysis_correlations"}));
    QCOMPARE(rep.tables[2].second->rowCount(), 8);
    QVERIFY(rep.notes.join(" ").contains("partial"));
    QTemporaryDir dir;
    ReportExporter::Tables tables;
    for (const auto& [stem, t] : rep.tables) tables << qMakePair(stem, static_cast<QAbstractItemModel*>(t));
    QString err;
    ReportExporter::write(dir.path(), {}, tables, 96, &err);
    QVERIFY(AnalysisReport::appendNotes(dir.path(), rep.notes, &err));
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QFile f(QDir(dir.path()).filePath("index.md"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString index = QString::fromUtf8(f.readAll());
    QVERIFY(index.contains("## analysis_methods_ppl_vs_length_ppl"));
    QVERIFY(index.contains("| 1 | yarn | 4 | **20.00** | **18.00** | 1.826 |"));
    QVERIFY(index.contains("## Analysis notes"));
    QVERIFY(QFile::exists(QDir(dir.path()).filePath("analysis_correlations.tex")));
    // one setting only: nothing to rank or correlate, said in words, no tables
    const auto few = AnalysisReport::build(toRecords({run("llama", "", "ppl_vs_length", {{"ppl@1024", 20.0}})}));
    QVERIFY(few.tables.isEmpty());
    QVERIFY(!few.notes.isEmpty());
  }

  void viewFollowsTheResultsAndNeverCallsAPartialValueBest() {
    ResultSet results;
    AnalysisView view(&results);
    QVERIFY(view.note().contains("No results yet"));
    auto send = [&](const QString& ev, const QString& setting, double p1, double p2, bool with2 = true) {
      QJsonObject m{{"ppl@1024", p1}};
      if (with2) m["ppl@2048"] = p2;
      results.applyEvent({{"event", ev}, {"run_key", "k" + setting}, {"model", "llama"}, {"setting", setting},
                          {"task", "ppl_vs_length"}, {"alias", "ppl_vs_length"}, {"config_id", "c1"}, {"metrics", m},
                          {"units_done", 1}, {"unit_count", 2}});
    };
    send("result", "", 20, 40);
    send("result", "yarn:factor=2", 18, 22);
    view.setMode(AnalysisView::Mode::Summary);
    QVERIFY(view.setMetric(QString::fromUtf8("ppl_vs_length · ppl")));
    view.setGroupBy(GroupBy::Method);
    QCOMPARE(view.table()->rowCount(), 2);
    QCOMPARE(view.table()->cell(0, 1).text, QString("yarn"));
    // a live run arrives with a lower value: listed, not ranked, not best
    send("partial", "linear:factor=2", 5, 0, false);
    QCOMPARE(view.table()->rowCount(), 3);
    QCOMPARE(view.table()->cell(2, 1).text, QString("linear"));
    QCOMPARE(view.table()->cell(2, 2).value.toDouble(), 0.0);
    for (int c = 0; c < view.table()->columnCount(); ++c) QVERIFY(!view.table()->cell(2, c).best);
    QVERIFY(view.note().contains("partial"));
    view.setMode(AnalysisView::Mode::TopN);
    view.setTopN(2);
    QCOMPARE(view.table()->rowCount(), 2);
    QCOMPARE(view.table()->cell(0, view.table()->columnCount() - 1).value.toDouble(), 18.0);
    // it completes: now it leads
    send("result", "linear:factor=2", 5, 6);
    QCOMPARE(view.table()->cell(0, view.table()->columnCount() - 1).value.toDouble(), 5.0);
    view.setMode(AnalysisView::Mode::Summary);
    QCOMPARE(view.table()->cell(0, 1).text, QString("linear"));
    QVERIFY(view.table()->cell(0, 3).best);
    // exports through TableExporter with the caption
    QTemporaryDir dir;
    const QString path = QDir(dir.path()).filePath("summary.tex");
    QVERIFY(view.exportTable(path));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY(QString::fromUtf8(f.readAll()).contains("\\caption{ppl\\_vs\\_length"));
    // correlation: the scatter gets the pairs
    results.applyEvent({{"event", "result"}, {"run_key", "pk"}, {"model", "llama"}, {"setting", "yarn:factor=2"},
                        {"task", "passkey"}, {"alias", "passkey"}, {"config_id", "c2"},
                        {"metrics", QJsonObject{{"accuracy@1024", 1.0}, {"accuracy@2048", 0.5}}}});
    view.setMode(AnalysisView::Mode::Correlation);
    QVERIFY(view.setCorrelation(QString::fromUtf8("ppl_vs_length · ppl"), QString::fromUtf8("passkey · accuracy")));
    QCOMPARE(view.scatter()->graph(0)->dataCount(), 2);
    QVERIFY(view.note().contains("at least 3"));
  }

  void viewComparesTwoRowsOnTheirItems() {
    ResultSet results;
    AnalysisView view(&results);
    for (const char* s : {"", "yarn:factor=2"})
      results.applyEvent({{"event", "result"}, {"run_key", QString("k") + s}, {"model", "llama"}, {"setting", s},
                          {"task", "piqa"}, {"alias", "piqa"}, {"config_id", "c1"}, {"metrics", QJsonObject{{"acc", 0.6}}}});
    QStringList asked;
    view.setItemsFetcher([&](const QStringList& keys, AnalysisView::ItemsCallback done) {
      asked = keys;
      done(QJsonArray{items("k", "acc", true, binaryA()), items("kyarn:factor=2", "acc", true, binaryB())}, {});
    });
    view.setMode(AnalysisView::Mode::Paired);
    QCOMPARE(view.pairedRows().size(), 2);
    QSignalSpy finished(&view, &AnalysisView::pairedFinished);
    QVERIFY(view.comparePaired("llama", QString::fromUtf8("llama · yarn:factor=2"), "piqa"));
    QCOMPARE(finished.size(), 1);
    QCOMPARE(asked, QStringList({"k", "kyarn:factor=2"}));
    QVERIFY(view.paired().computed);
    QCOMPARE(view.paired().mcnemar.only_b, 10);
    QCOMPARE(view.table()->rowCount(), 1);
    QVERIFY(view.note().contains("McNemar"));
    QVERIFY(view.note().contains("includes 0"));
  }
};

QTEST_MAIN(AnalysisTest)
#include "analysis_test.moc"
