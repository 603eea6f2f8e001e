// The result models and exporters without a window: worker events → ResultSet → comparison table, series and
// grids → CSV / LaTeX / Markdown / JSON and PNG / PDF / SVG files.
#include <QApplication>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTableWidget>
#include <QSet>
#include <QRegularExpression>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QFileInfo>
#include <QTest>
#include <cmath>
#include <memory>
#include <qcustomplot.h>

#include "comparison_table_model.h"
#include "figure_export_dialog.h"
#include "figure_exporter.h"
#include "lmscope/version.h"
#include "passkey_grid.h"
#include "passkey_heatmap_view.h"
#include "ppl_plot_view.h"
#include "ppl_series.h"
#include "report_exporter.h"
#include "result_set.h"
#include "series_style.h"
#include "table_exporter.h"
#include "table_roles.h"
#include "token_comparison.h"
#include "token_comparison_view.h"

namespace {
QJsonObject workerEvent(const QString& kind, const QString& model, const QString& setting, const QString& task, const QJsonObject& metrics,
                  const QJsonObject& details = {}, int done = 1, int count = 1) {
  return {{"event", kind}, {"run_key", model + setting + task}, {"model", model}, {"setting", setting}, {"task", task},
          {"metrics", metrics}, {"details", details}, {"units_done", done}, {"unit_count", count}};
}
QJsonObject series(const QVector<QPair<int, double>>& pts) {
  QJsonArray a;
  for (const auto& [l, p] : pts) a.append(QJsonObject{{"length", l}, {"ppl", p}});
  return {{"series", a}};
}
QByteArray readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}
int columnOf(const QAbstractItemModel& m, const QString& header) {
  for (int c = 0; c < m.columnCount(); ++c)
    if (m.headerData(c, Qt::Horizontal).toString() == header) return c;
  return -1;
}
}  // namespace

class ExportersTest : public QObject {
  Q_OBJECT
  ResultSet* filled(QObject* parent) {
    auto* r = new ResultSet(parent);
    r->applyEvent(workerEvent("result", "A", "", "piqa", {{"acc", 0.70}, {"acc_stderr", 0.011}, {"acc_norm", 0.71}, {"acc_norm_stderr", 0.012}}));
    r->applyEvent(workerEvent("result", "B", "", "piqa", {{"acc", 0.65}, {"acc_stderr", 0.012}, {"acc_norm", 0.73}, {"acc_norm_stderr", 0.010}}));
    r->applyEvent(workerEvent("result", "A", "", "ppl_vs_length", {{"ppl@64", 20.0}, {"ppl@512", 12.5}}, series({{64, 20.0}, {512, 12.5}})));
    r->applyEvent(workerEvent("result", "B", "", "ppl_vs_length", {{"ppl@64", 18.0}, {"ppl@512", 14.0}}, series({{64, 18.0}, {512, 14.0}})));
    // B's linear setting is still running: 1 of 2 units
    r->applyEvent(workerEvent("partial", "B", "linear:factor=2", "ppl_vs_length", {{"ppl@64", 17.0}}, series({{64, 17.0}}), 1, 2));
    return r;
  }

 private slots:
  void comparisonTableMarksBestAndStderr() {
    QObject owner;
    ResultSet* r = filled(&owner);
    ComparisonTableModel m(r);
    QCOMPARE(m.rowCount(), 3);
    QCOMPARE(m.columnCount(), 1 + 4);  // piqa acc, piqa acc_norm, ppl@64, ppl@512 (stderr are not columns)
    // "@N" columns in numeric order, not alphabetical (ppl@512 after ppl@64)
    QVERIFY(columnOf(m, "ppl_vs_length ppl@64") < columnOf(m, "ppl_vs_length ppl@512"));
    const int acc = columnOf(m, "piqa acc"), p64 = columnOf(m, "ppl_vs_length ppl@64"), p512 = columnOf(m, "ppl_vs_length ppl@512");
    QCOMPARE(m.data(m.index(0, acc), Qt::DisplayRole).toString(), QString::fromUtf8("0.7000 ± 0.0110"));
    QCOMPARE(m.data(m.index(0, acc), TableRole::Best).toBool(), true);   // higher accuracy wins
    QCOMPARE(m.data(m.index(1, acc), TableRole::Best).toBool(), false);
    // lower perplexity wins, among complete values (18 < 20); the partial 17 never wins
    QCOMPARE(m.data(m.index(1, p64), TableRole::Best).toBool(), true);
    QCOMPARE(m.data(m.index(2, p64), TableRole::Best).toBool(), false);
    QCOMPARE(m.data(m.index(0, p512), TableRole::Best).toBool(), true);
    QCOMPARE(m.data(m.index(2, p64), TableRole::Partial).toBool(), true);
    QVERIFY(m.data(m.index(2, p64), Qt::FontRole).value<QFont>().italic());
    QVERIFY(!m.data(m.index(2, p512), Qt::DisplayRole).isValid());  // not computed yet
    QVERIFY(ComparisonTableModel::lowerIsBetter("word_perplexity") && ComparisonTableModel::lowerIsBetter("bits_per_byte"));
    QVERIFY(!ComparisonTableModel::lowerIsBetter("acc_norm"));
    // the sorted view sorts by the number, not the text
    QSortFilterProxyModel sorted;
    sorted.setSourceModel(&m);
    sorted.setSortRole(TableRole::Value);
    sorted.sort(p64, Qt::AscendingOrder);
    QCOMPARE(sorted.data(sorted.index(0, 0)).toString(), QString::fromUtf8("B · linear:factor=2"));
    QCOMPARE(sorted.data(sorted.index(2, 0)).toString(), QString("A"));
    // a completed run replaces the partial one in place
    r->applyEvent(workerEvent("result", "B", "linear:factor=2", "ppl_vs_length", {{"ppl@64", 17.5}, {"ppl@512", 11.0}}, series({{64, 17.5}, {512, 11.0}}), 2, 2));
    QCOMPARE(m.rowCount(), 3);
    QCOMPARE(m.data(m.index(2, p512), TableRole::Best).toBool(), true);
    QCOMPARE(m.data(m.index(2, p64), TableRole::Best).toBool(), true);
    QCOMPARE(m.data(m.index(2, p64), TableRole::Partial).toBool(), false);
    // ties are all marked
    r->applyEvent(workerEvent("result", "C", "", "piqa", {{"acc", 0.70}, {"acc_norm", 0.5}}));
    const int acc2 = columnOf(m, "piqa acc");
    QCOMPARE(m.data(m.index(0, acc2), TableRole::Best).toBool(), true);
    QCOMPARE(m.data(m.index(3, acc2), TableRole::Best).toBool(), true);
  }

  void charlevelCostSitsBesideAccuracy() {
    // A BitNet vs full-precision comparison: accuracy and cost columns from the same task, each with its direction.
    QObject owner;
    auto* r = new ResultSet(&owner);
    r->applyEvent(workerEvent("result", "bitnet", "", "charlevel",
                              {{"bits_per_char", 1.40}, {"continuation_accuracy", 0.41}, {"continuation_accuracy_stderr", 0.02},
                               {"score_ms_per_char@batch1", 0.020}, {"peak_host_mib", 300.0}, {"weights_mib", 90.0},
                               {"ternary_packed_mib", 12.0}}));
    r->applyEvent(workerEvent("result", "fp16", "", "charlevel",
                              {{"bits_per_char", 1.30}, {"continuation_accuracy", 0.45}, {"continuation_accuracy_stderr", 0.02},
                               {"score_ms_per_char@batch1", 0.030}, {"peak_host_mib", 700.0}, {"weights_mib", 370.0}}));
    ComparisonTableModel m(r);
    auto best = [&](const char* col, int row) { return m.data(m.index(row, columnOf(m, col)), TableRole::Best).toBool(); };
    QVERIFY(best("charlevel bits_per_char", 1));           // fewer bits win
    QVERIFY(best("charlevel continuation_accuracy", 1));   // higher accuracy wins
    QVERIFY(best("charlevel score_ms_per_char@batch1", 0));  // less time wins
    QVERIFY(best("charlevel peak_host_mib", 0));            // less memory wins
    QVERIFY(best("charlevel weights_mib", 0));
    QVERIFY(columnOf(m, "charlevel ternary_packed_mib") > 0);
    QVERIFY(!m.data(m.index(1, columnOf(m, "charlevel ternary_packed_mib")), Qt::DisplayRole).isValid());
    QVERIFY(ComparisonTableModel::lowerIsBetter("peak_device_mib") && !ComparisonTableModel::lowerIsBetter("compression_ratio"));
    QVERIFY(!ComparisonTableModel::lowerIsBetter("avg_char_prob") && !ComparisonTableModel::lowerIsBetter("next_char_accuracy"));
  }

  void tableFormats() {
    QObject owner;
    ComparisonTableModel m(filled(&owner));
    const QString csv = TableExporter::toCsv(m);
    const QStringList lines = csv.trimmed().split('\n');
    QCOMPARE(lines.size(), 4);
    QCOMPARE(lines[0], QString::fromUtf8("model · setting,piqa acc,piqa acc stderr,piqa acc_norm,piqa acc_norm stderr,ppl_vs_length ppl@64,ppl_vs_length ppl@512"));
    QCOMPARE(lines[1], QString("A,0.7,0.011,0.71,0.012,20,12.5"));
    QCOMPARE(lines[3], QString::fromUtf8("B · linear:factor=2,,,,,17,"));
    const QString tex = TableExporter::toLatex(m, "piqa_results");
    QVERIFY(tex.contains("\\toprule") && tex.contains("\\midrule") && tex.contains("\\bottomrule"));
    QVERIFY(tex.contains("\\caption{piqa\\_results}"));
    QVERIFY(tex.contains("\\textbf{0.7000 $\\pm$ 0.0110}"));
    QVERIFY(tex.contains("\\label{tab:piqa-results}"));
    // a table that describes itself: its sentence is the caption, the name still makes the label
    m.setProperty("lmscope_caption", "Accuracy and perplexity of A and B");
    const QString described = TableExporter::toLatex(m, "piqa_results");
    QVERIFY(described.contains("\\caption{Accuracy and perplexity of A and B}"));
    QVERIFY(described.contains("\\label{tab:piqa-results}"));
    m.setProperty("lmscope_caption", QVariant());
    // the task of "TASK METRIC" headers spans its metrics' columns; the metric row names them
    QVERIFY2(tex.contains("& \\multicolumn{2}{c}{piqa} & \\multicolumn{2}{c}{ppl\\_vs\\_length} \\\\"), qPrintable(tex));
    QVERIFY(tex.contains("\\cmidrule(lr){2-3}\\cmidrule(lr){4-5}"));
    QVERIFY2(tex.contains("acc & acc (norm.) & PPL ($L{=}64$) & PPL ($L{=}512$) \\\\"), qPrintable(tex));  // readable headers
    QVERIFY(tex.contains("\\begin{tabular}{lrrrr}"));
    QVERIFY(!tex.contains("resizebox"));  // four value columns fit
    QStandardItemModel wide(1, 7);
    for (int c = 0; c < 7; ++c) wide.setHeaderData(c, Qt::Horizontal, c == 0 ? QString("model") : QString("arc_easy m%1").arg(c));
    const QString wide_tex = TableExporter::toLatex(wide);
    QVERIFY(wide_tex.contains("\\resizebox{\\linewidth}{!}{%"));
    QVERIFY(wide_tex.contains("\\label{tab:lmscope-results}"));
    QVERIFY(wide_tex.contains("\\multicolumn{6}{c}{arc\\_easy}"));
    const QString md = TableExporter::toMarkdown(m);
    QVERIFY(md.startsWith(QString::fromUtf8("| model · setting | piqa acc |")));
    QVERIFY(md.contains("| --- | ---: |"));
    QVERIFY(md.contains("**0.7300 ± 0.0100**") || md.contains(QString::fromUtf8("**0.7300 ± 0.0100**")));
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(TableExporter::toJson(m).toUtf8(), &err);
    QCOMPARE(err.error, QJsonParseError::NoError);
    const QJsonArray rows = doc.object()["rows"].toArray();
    QCOMPARE(rows.size(), 3);
    QCOMPARE(rows[0].toObject()["piqa acc"].toDouble(), 0.70);
    QCOMPARE(rows[0].toObject()["piqa acc stderr"].toDouble(), 0.011);
    QCOMPARE(rows[0].toObject()["piqa acc best"].toBool(), true);
    QVERIFY(rows[2].toObject()["ppl_vs_length ppl@512"].isNull());
    // files by suffix; unknown suffixes are refused with a reason
    QTemporaryDir dir;
    for (const char* ext : {"csv", "tex", "md", "json"}) {
      const QString p = dir.filePath(QString("t.") + ext);
      QVERIFY2(TableExporter::save(m, p), ext);
      QVERIFY(QFileInfo(p).size() > 20);
    }
    QString why;
    QVERIFY(!TableExporter::save(m, dir.filePath("t.xls"), &why));
    QVERIFY(why.contains(".csv"));
  }

  void seriesAndGridsFromEvents() {
    QObject owner;
    ResultSet* r = filled(&owner);
    const auto s = PplSeries::fromResults(r->runs());
    QCOMPARE(s.size(), 3);
    QCOMPARE(s[0].lengths, (QVector<double>{64, 512}));
    QCOMPARE(s[2].complete, false);
    std::unique_ptr<QStandardItemModel> t(PplSeries::toTable(s, nullptr));
    QCOMPARE(t->rowCount(), 2);
    QCOMPARE(t->columnCount(), 4);
    QCOMPARE(t->item(1, 0)->data(TableRole::Value).toDouble(), 512.0);
    QVERIFY(!t->item(1, 3));  // the running line has no 512 point yet
    // passkey: null cells are not done yet
    r->applyEvent(workerEvent("partial", "A", "", "passkey", {{"accuracy", 0.5}},
                        {{"lengths", QJsonArray{300, 400}}, {"depths", QJsonArray{0, 0.5, 1}}, {"trials", 2},
                         {"accuracy", QJsonArray{QJsonArray{1.0, QJsonValue()}, QJsonArray{0.0, QJsonValue()}, QJsonArray{0.5, QJsonValue()}}}},
                        3, 6));
    const auto g = PasskeyGrid::fromResults(r->runs());
    QCOMPARE(g.size(), 1);
    QCOMPARE(g[0].cellsDone(), 3);
    QCOMPARE(g[0].accuracy[0][0], 1.0);
    QVERIFY(std::isnan(g[0].accuracy[2][1]));
    std::unique_ptr<QStandardItemModel> gt(PasskeyGrid::toTable(g, nullptr));
    QCOMPARE(gt->rowCount(), 6);
    const QString csv = TableExporter::toCsv(*gt);
    QVERIFY(csv.contains("A,300,0.5,0\n"));
    QVERIFY(csv.contains("A,300,1,0.5\n"));
    QVERIFY(csv.contains("A,400,0,\n"));  // not computed yet: empty
  }

  void rulerHeatmapsJoinThePasskeyMaps() {
    QObject owner;
    ResultSet* r = filled(&owner);
    // ruler's details: one depth-bin × length map per NIAH task
    const QJsonObject maps{{"niah_single_1", QJsonObject{{"accuracy", QJsonArray{QJsonArray{1.0, 0.5}, QJsonArray{0.0, QJsonValue()}}}}},
                           {"niah_single_2", QJsonObject{{"accuracy", QJsonArray{QJsonArray{0.25, 1.0}, QJsonArray{1.0, 1.0}}}}}};
    r->applyEvent(workerEvent("partial", "B", "", "ruler", {{"niah_single_1@4096", 0.5}},
                              {{"tasks", QJsonArray{"niah_single_1", "niah_single_2"}}, {"lengths", QJsonArray{4096, 8192}},
                               {"depths", QJsonArray{0.25, 0.75}}, {"samples", 20}, {"heatmaps", maps}},
                              3, 8));
    const auto g = PasskeyGrid::fromResults(r->runs());
    QCOMPARE(g.size(), 2);
    QCOMPARE(g[0].label, QString::fromUtf8("B · niah_single_1"));
    QCOMPARE(g[0].cellsDone(), 3);
    QCOMPARE(g[0].accuracy[0][1], 0.5);
    QVERIFY(std::isnan(g[0].accuracy[1][1]));
    QCOMPARE(g[1].accuracy[0][0], 0.25);
    QCOMPARE(g[1].trials, 20);
  }

  void initTestCase() {
    // QSettings (the series' slots) go to a temporary folder, never to the user's.
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("lmscope-tests");
    QCoreApplication::setApplicationName("ui_export_tests");
    QSettings().clear();
  }

  void seriesKeepTheirLookAcrossViewsAndNeverShareOne() {
    QSettings().remove("plot");
    // 24 slots, no two with the same colour, marker and line style.
    QSet<QString> looks;
    for (int i = 0; i < SeriesStyle::kSlots; ++i) {
      const SeriesStyle s = SeriesStyle::ofSlot(i);
      looks.insert(QString("%1/%2/%3").arg(s.color.name()).arg(int(s.shape)).arg(int(s.line)));
    }
    QCOMPARE(looks.size(), SeriesStyle::kSlots);
    // 12 labels get 12 slots, and keep them when asked again in another order (another view, a hidden run).
    QMap<QString, int> slot;
    for (int i = 0; i < 12; ++i) slot[QString("model %1").arg(i)] = SeriesStyle::slotOf(QString("model %1").arg(i));
    QCOMPARE(QSet<int>(slot.begin(), slot.end()).size(), 12);
    for (int i = 11; i >= 0; --i) QCOMPARE(SeriesStyle::slotOf(QString("model %1").arg(i)), slot[QString("model %1").arg(i)]);
    // Full: a 25th label takes the slot of the one drawn longest ago, not one just drawn.
    for (int i = 12; i < 24; ++i) SeriesStyle::slotOf(QString("model %1").arg(i));
    SeriesStyle::slotOf("model 0");
    const int taken = SeriesStyle::slotOf("newcomer");
    QCOMPARE(taken, slot["model 11"]);  // asked again in reverse order above, model 11 first
    QVERIFY(SeriesStyle::slotOf("model 0") != taken);
  }

  void twelveLinesLookDistinctAndKeepTheirLookWhenPastRunsAreHidden() {
    QSettings().remove("plot");
    ResultSet r;
    // 6 runs from the store, 6 of this session
    QJsonArray history;
    for (int i = 0; i < 6; ++i)
      history.append(QJsonObject{{"run_key", QString("stored%1").arg(i)}, {"model", QString("stored %1").arg(i)}, {"setting", ""},
                                 {"task", "ppl_vs_length"}, {"units_done", 2}, {"unit_count", 2}, {"created", "2026-11-01T10:00:00"},
                                 {"results", QJsonObject{{"metrics", QJsonObject{{"ppl@64", 10.0 + i}}}, {"details", series({{64, 10.0 + i}, {128, 9.0 + i}})}}}});
    r.applyHistory(history);
    for (int i = 0; i < 6; ++i)
      r.applyEvent(workerEvent("result", QString("live %1").arg(i), "", "ppl_vs_length", {{"ppl@64", 20.0 + i}}, series({{64, 20.0 + i}, {128, 19.0 + i}})));
    PplPlotView view(&r);
    auto looks = [&view] {
      QMap<QString, QString> out;
      for (int g = 0; g < view.plot()->graphCount(); ++g) {
        const QCPGraph* graph = view.plot()->graph(g);
        out[graph->name()] = QString("%1/%2/%3").arg(graph->pen().color().name()).arg(int(graph->scatterStyle().shape())).arg(int(graph->pen().style()));
      }
      return out;
    };
    const auto all = looks();
    QCOMPARE(all.size(), 12);
    QCOMPARE(QSet<QString>(all.begin(), all.end()).size(), 12);  // pairwise distinct (colour, marker, line style)
    r.setShowStored(false);
    const auto live = looks();
    QCOMPARE(live.size(), 6);
    for (auto it = live.begin(); it != live.end(); ++it) QCOMPARE(it.value(), all[it.key()]);
    r.setShowStored(true);
    QCOMPARE(looks(), all);
  }

  void perByteAndPerTokenNeverShareAnAxis() {
    ResultSet r;
    // the worker's start event names each run's tokenizer; byte-level B has the lowest numbers (per byte)
    QJsonArray planned;
    for (const auto& [model, tok] : {std::pair{"A", "BPE"}, std::pair{"A2", "sentencepiece"}, std::pair{"B", "bytes"}})
      planned.append(QJsonObject{{"run_key", QString(model) + "ppl_vs_length"}, {"model", model}, {"setting", ""}, {"task", "ppl_vs_length"}, {"tokenizer", tok}});
    r.applyEvent({{"event", "start"}, {"task_runs", planned}});
    r.applyEvent(workerEvent("result", "A", "", "ppl_vs_length", {{"ppl@64", 30.0}, {"ppl@512", 20.0}}, series({{64, 30.0}, {512, 20.0}})));
    r.applyEvent(workerEvent("result", "A2", "", "ppl_vs_length", {{"ppl@64", 35.0}, {"ppl@512", 25.0}}, series({{64, 35.0}, {512, 25.0}})));
    r.applyEvent(workerEvent("result", "B", "", "ppl_vs_length", {{"ppl@64", 4.0}, {"ppl@512", 3.5}}, series({{64, 4.0}, {512, 3.5}})));
    QVERIFY(r.runsOf("B").front().perByte() && !r.runsOf("A").front().perByte());
    PplPlotView view(&r);
    QCOMPARE(view.panelCount(), 2);
    QMap<QCPAxis*, QSet<bool>> units;  // per value axis: the units of its lines
    for (int g = 0; g < view.plot()->graphCount(); ++g) {
      QCPGraph* graph = view.plot()->graph(g);
      units[graph->valueAxis()].insert(graph->name() == "B");
      units[graph->keyAxis()].insert(graph->name() == "B");
    }
    QCOMPARE(units.size(), 4);  // two panels, each with its own axes
    for (const auto& u : units) QCOMPARE(u.size(), 1);
    for (auto it = units.begin(); it != units.end(); ++it) {
      const bool bytes = *it.value().begin();
      const QString label = it.key()->label();
      QVERIFY2(bytes ? label.contains("byte") : !label.contains("byte"), qPrintable(label));
    }
    QCOMPARE(view.legendItemCount(), 3);
    // the comparison table ranks per-token values among themselves: A is best, B (per byte) never is
    ComparisonTableModel m(&r);
    const int col = columnOf(m, "ppl_vs_length ppl@512");
    QVERIFY(col > 0);
    for (int row = 0; row < m.rowCount(); ++row) {
      const QString who = m.data(m.index(row, 0), Qt::DisplayRole).toString();
      QCOMPARE(m.data(m.index(row, col), TableRole::Best).toBool(), who == "A");
      if (who == "B") QVERIFY(m.data(m.index(row, col), Qt::ToolTipRole).toString().contains("per byte"));
    }
    // the store's provenance says the same for past runs
    ResultSet h;
    h.applyHistory(QJsonArray{QJsonObject{{"run_key", "k"}, {"model", "B"}, {"task", "ppl_vs_length"}, {"units_done", 1}, {"unit_count", 1},
                                          {"provenance", QJsonObject{{"tokenizer", "bytes"}}},
                                          {"results", QJsonObject{{"metrics", QJsonObject{{"ppl@64", 4.0}}}, {"details", series({{64, 4.0}})}}}}});
    QVERIFY(h.runs().front().perByte());
  }

  void severalCorporaAreOnePanelEachWithOneLegend() {
    ResultSet r;
    const QStringList corpora{"ppl:pg19", "ppl:arxiv", "ppl:code"};
    for (const QString& model : {"A", "B", "C"})
      for (int c = 0; c < corpora.size(); ++c) {
        QJsonObject e = workerEvent("result", model, "", "ppl_vs_length", {{"ppl@64", 10.0 + c}}, series({{64, 10.0 + c}, {1024, 8.0 + c}, {4096, 7.0 + c}}));
        e["run_key"] = model + corpora[c];
        e["alias"] = corpora[c];
        r.applyEvent(e);
      }
    PplPlotView view(&r);
    QCOMPARE(view.panelCount(), 3);
    QCOMPARE(view.lineCount(), 9);
    QCOMPARE(view.legendItemCount(), 3);  // one legend: a model once, whatever the panels
    QCOMPARE(view.plot()->axisRects().size(), 3);
    QStringList titles;
    for (const auto& p : view.panels()) titles << p.title;
    QCOMPARE(titles, corpora);
    // one length scale for all panels (log₂: the lengths span a factor 64)
    for (QCPAxisRect* rect : view.plot()->axisRects()) {
      QCOMPARE(rect->axis(QCPAxis::atBottom)->range(), view.plot()->xAxis->range());
      QCOMPARE(rect->axis(QCPAxis::atBottom)->scaleType(), QCPAxis::stLogarithmic);
      QCOMPARE(rect->graphs().size(), 3);
    }
    // laid out at a paper size, the titles neither touch each other nor their axes
    view.plot()->setViewport(QRect(0, 0, 700, 300));
    view.plot()->replot();
    QList<QRect> title_rects;
    for (QCPLayoutElement* e : view.plot()->plotLayout()->elements(true))
      if (auto* t = qobject_cast<QCPTextElement*>(e)) title_rects << t->outerRect();
    QCOMPARE(title_rects.size(), 3);
    for (int i = 0; i < 3; ++i) {
      for (int j = i + 1; j < 3; ++j) QVERIFY(!title_rects[i].intersects(title_rects[j]));
      for (QCPAxisRect* rect : view.plot()->axisRects()) QVERIFY(!title_rects[i].intersects(rect->rect()));
    }
    QTemporaryDir dir;
    QVERIFY(FigureExporter::save(view.plot(), dir.filePath("panels.pdf"), FigureSize::twoColumns(FigureExporter::preferredAspect(view.plot()))));
    if (qEnvironmentVariableIsSet("LMSCOPE_KEEP_EXPORTS")) QFile::copy(dir.filePath("panels.pdf"), "/tmp/panels.pdf");
  }

  void tokenByTokenReadsTheCompareTask() {
    QObject owner;
    auto* r = new ResultSet(&owner);
    // A compare result as the engine lays it out (engine/src/eval/tasks/compare_task.cpp), against a base model.
    const QJsonArray positions{QJsonObject{{"context_from", 1}, {"context_to", 4}, {"tokens", 8}, {"nll_mean", 3.0},
                                           {"base_nll_mean", 2.5}, {"kl_mean", 0.4}, {"top1_agreement", 0.5}},
                               QJsonObject{{"context_from", 5}, {"context_to", 7}, {"tokens", 6}, {"nll_mean", 2.0},
                                           {"base_nll_mean", 2.2}, {"kl_mean", 0.2}, {"top1_agreement", 0.75}}};
    const QJsonObject details{
        {"paired", true},
        {"positions", positions},
        {"delta_nll_histogram", QJsonObject{{"edges", QJsonArray{-1.0, 0.0, 1.0}}, {"counts", QJsonArray{5, 8}}, {"below", 1}, {"above", 0}}},
        {"worst", QJsonArray{QJsonObject{{"context", 3}, {"text", " mill"}, {"before", "the old"}, {"nll", 6.0},
                                         {"base_nll", 1.0}, {"delta_nll", 5.0}, {"kl", 2.0}, {"top1_same", false}}}},
        {"token_view", QJsonObject{{"context_text", "An"}, {"first_context", 1}, {"value", "delta_nll"},
                                   {"pieces", QJsonArray{" old", " <mill>"}}, {"values", QJsonArray{-2.0, 5.0}}}}};
    r->applyEvent(workerEvent("result", "gdn", "", "compare", {{"kl_mean", 0.31}, {"top1_agreement", 0.6}}, details));
    r->applyEvent(workerEvent("partial", "llama", "", "compare", {{"ppl", 12.0}},
                              {{"paired", false}, {"positions", QJsonArray{QJsonObject{{"context_from", 1}, {"context_to", 7}, {"nll_mean", 2.5}}}}},
                              1, 2));
    const auto runs = TokenComparisonRun::fromResults(r->runs());
    QCOMPARE(runs.size(), 2);
    QCOMPARE(runs[0].context, (QVector<double>{2.5, 6.0}));
    QCOMPARE(runs[0].kl, (QVector<double>{0.4, 0.2}));
    QCOMPARE(runs[0].base_nll, (QVector<double>{2.5, 2.2}));
    QCOMPARE(runs[0].worst.size(), 1);
    QCOMPARE(runs[0].worst[0].delta, 5.0);
    QCOMPARE(runs[0].hist_below, 1);
    QVERIFY(!runs[1].paired);
    QCOMPARE(runs[1].complete, false);
    // The token view escapes the text and shades the worse token red, the better one blue.
    const QString html = runs[0].viewHtml();
    QVERIFY(html.contains("&lt;mill&gt;"));
    QVERIFY(html.contains("An"));
    auto shadeBefore = [&](const QString& text) {
      const int at = html.lastIndexOf("background-color: ", html.indexOf(text));
      return QColor(html.mid(at + 18, 7));
    };
    const QColor worse = shadeBefore("&lt;mill&gt;"), better = shadeBefore(" old");
    QVERIFY(worse.isValid() && better.isValid());
    QVERIFY2(worse.red() > worse.blue(), qPrintable(worse.name()));
    QVERIFY2(better.blue() > better.red(), qPrintable(better.name()));
    // Curves as a table: rows are bucket middles, the unpaired run has only its NLL column.
    std::unique_ptr<QStandardItemModel> t(TokenComparisonRun::toTable(runs, nullptr));
    QCOMPARE(t->columnCount(), 1 + 4 + 1);
    QCOMPARE(t->rowCount(), 3);  // 2.5, 4 (the unpaired run's middle), 6
    QCOMPARE(t->item(0, 3)->data(TableRole::Value).toDouble(), 0.4);
    // The view: three panels (loss, KL, histogram), the worst token listed, and figures export.
    TokenComparisonView view(r);
    QCOMPARE(view.panelCount(), 3);
    QCOMPARE(view.worstTable()->rowCount(), 1);
    QCOMPARE(view.worstTable()->item(0, 1)->text(), QString(" mill"));
    QVERIFY(view.tokenView()->toPlainText().contains("An old <mill>"));
    QTemporaryDir dir;
    for (const char* ext : {"png", "pdf", "svg"}) {
      const QString path = dir.filePath(QString("tbt.") + ext);
      QVERIFY(FigureExporter::save(view.plot(), path, 150, QSize(900, 320)));
      QVERIFY(QFileInfo(path).size() > 1000);
    }
  }

  void figuresAsPngPdfSvg() {
    QObject owner;
    ResultSet* r = filled(&owner);
    PplPlotView view(r);  // never shown
    QCOMPARE(view.lineCount(), 3);
    QCOMPARE(view.pointCount(), 5);
    view.setLogX(true);
    QCOMPARE(view.plot()->xAxis->scaleType(), QCPAxis::stLogarithmic);
    QTemporaryDir dir;
    QVERIFY(FigureExporter::save(view.plot(), dir.filePath("f96.png"), 96, QSize(400, 300)));
    QVERIFY(FigureExporter::save(view.plot(), dir.filePath("f192.png"), 192, QSize(400, 300)));
    QVERIFY(readAll(dir.filePath("f96.png")).startsWith("\x89PNG\r\n\x1a\n"));
    const QImage lo(dir.filePath("f96.png")), hi(dir.filePath("f192.png"));
    QCOMPARE(lo.size(), QSize(400, 300));
    QCOMPARE(hi.size(), QSize(800, 600));  // DPI scales the pixels, not the layout
    QVERIFY(std::abs(hi.dotsPerMeterX() - 192 / 0.0254) < 2);
    QVERIFY(FigureExporter::save(view.plot(), dir.filePath("f.pdf")));
    QVERIFY(readAll(dir.filePath("f.pdf")).startsWith("%PDF"));
    QVERIFY(FigureExporter::save(view.plot(), dir.filePath("f.svg")));
    const QByteArray svg = readAll(dir.filePath("f.svg"));
    QVERIFY(svg.contains("<svg") && svg.contains("</svg>"));
    QVERIFY(svg.contains("context length"));  // the axis label is text, not pixels
    QVERIFY(!FigureExporter::save(view.plot(), dir.filePath("f.bmp")));
    // the hover label finds the point under the mouse
    view.resize(600, 400);
    view.plot()->replot();
    const double px = view.plot()->xAxis->coordToPixel(512), py = view.plot()->yAxis->coordToPixel(12.5);
    QVERIFY(view.hoverTextAt(QPointF(px + 3, py - 2)).contains("perplexity 12.50"));
    QVERIFY(view.hoverTextAt(QPointF(-100, -100)).isEmpty());
    QVERIFY(view.hoverRect().isEmpty());
    // the label of every point, the right-most and top-most included, stays inside the axis rectangle (laid out:
    // shown at a size)
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.plot()->replot();
    const QRectF area = view.plot()->axisRect()->rect();
    int labels = 0;
    for (int g = 0; g < view.plot()->graphCount(); ++g)
      for (auto it = view.plot()->graph(g)->data()->constBegin(); it != view.plot()->graph(g)->data()->constEnd(); ++it) {
        const QPointF at(view.plot()->xAxis->coordToPixel(it->key), view.plot()->yAxis->coordToPixel(it->value));
        QVERIFY(!view.hoverTextAt(at).isEmpty());
        const QRectF label = view.hoverRect();
        QVERIFY2(area.adjusted(-1, -1, 1, 1).contains(label),
                 qPrintable(QString("label %1,%2 %3x%4 outside the axis rect %5,%6 %7x%8")
                                .arg(label.x()).arg(label.y()).arg(label.width()).arg(label.height())
                                .arg(area.x()).arg(area.y()).arg(area.width()).arg(area.height())));
        ++labels;
      }
    QCOMPARE(labels, 5);
  }

  void paperSizeExports() {
    // A figure for a paper: the PDF page, the SVG's declared size and the PNG's pixels are the physical size asked
    // for, and the tick labels, axis labels and legend are the chosen point size in the file.
    QObject owner;
    ResultSet* r = filled(&owner);
    PplPlotView view(r);  // never shown
    QTemporaryDir dir;
    for (const FigureSize& size : {FigureSize{3.3, 2.4, 8, 300}, FigureSize{7.0, 3.2, 9, 150}}) {
      QString err;
      QVERIFY2(FigureExporter::save(view.plot(), dir.filePath("p.pdf"), size, &err), qPrintable(err));
      QVERIFY2(FigureExporter::save(view.plot(), dir.filePath("p.svg"), size, &err), qPrintable(err));
      QVERIFY2(FigureExporter::save(view.plot(), dir.filePath("p.png"), size, &err), qPrintable(err));
      if (qEnvironmentVariableIsSet("LMSCOPE_KEEP_EXPORTS")) for (const char* e : {"pdf", "svg", "png"}) QFile::copy(dir.filePath(QString("p.") + e), QString("/tmp/paper-%1.%2").arg(size.font_pt).arg(e));
      // PDF: the MediaBox in points = inches × 72 (Qt writes whole points)
      const QByteArray pdf = readAll(dir.filePath("p.pdf"));
      const QRegularExpressionMatch box = QRegularExpression(R"re(/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\])re").match(QString::fromLatin1(pdf));
      QVERIFY2(box.hasMatch(), "no MediaBox");
      QVERIFY2(std::abs(box.captured(1).toDouble() - size.width_in * 72) <= 0.5 && std::abs(box.captured(2).toDouble() - size.height_in * 72) <= 0.5,
               qPrintable(QString("MediaBox %1 x %2 for %3").arg(box.captured(1), box.captured(2), size.describe())));
      // SVG: width/height in mm with a viewBox
      const QString svg = QString::fromUtf8(readAll(dir.filePath("p.svg")));
      const QRegularExpressionMatch wh = QRegularExpression(R"re(<svg[^>]*width="([\d.]+)mm"[^>]*height="([\d.]+)mm")re").match(svg);
      QVERIFY2(wh.hasMatch(), qPrintable(svg.left(400)));
      QVERIFY(std::abs(wh.captured(1).toDouble() - size.width_in * 25.4) < 0.05);
      QVERIFY(std::abs(wh.captured(2).toDouble() - size.height_in * 25.4) < 0.05);
      const QRegularExpressionMatch vb = QRegularExpression(R"re(viewBox="0 0 ([\d.]+) ([\d.]+)")re").match(svg);
      QVERIFY(vb.hasMatch());
      // the font of the axis label "context length (tokens)" in points: its size in viewBox units × pt per unit
      const double pt_per_unit = size.width_in * 72 / vb.captured(1).toDouble();
      QList<double> sizes;
      for (auto it = QRegularExpression(R"re(font-size="([\d.]+)")re").globalMatch(svg); it.hasNext();) sizes << it.next().captured(1).toDouble() * pt_per_unit;
      QVERIFY(!sizes.isEmpty());
      for (double s : sizes) QVERIFY2(std::abs(s - size.font_pt) < 0.15, qPrintable(QString("a %1 pt font in a %2 pt figure").arg(s).arg(size.font_pt)));
      // PNG: inches × dpi pixels, the dpi recorded
      const QImage png(dir.filePath("p.png"));
      QCOMPARE(png.size(), QSize(int(std::lround(size.width_in * size.dpi)), int(std::lround(size.height_in * size.dpi))));
      QVERIFY(std::abs(png.dotsPerMeterX() - size.dpi / 0.0254) < 2);
    }
    // the widget keeps its screen fonts
    QCOMPARE(view.plot()->xAxis->labelFont().pixelSize(), -1);
    QVERIFY(!FigureExporter::save(view.plot(), dir.filePath("p.pdf"), FigureSize{0, 0, 8, 300}));
  }

  void exportDialogPresetsAndRemembersTheChoice() {
    QSettings().remove("export");
    {
      FigureExportDialog d(0.5);
      QCOMPARE(d.preset(), FigureExportDialog::TwoColumns);  // the default
      QCOMPARE(d.size().width_in, 7.0);
      QCOMPARE(d.size().height_in, 3.5);  // the figure's aspect
      d.setPreset(FigureExportDialog::OneColumn);
      QCOMPARE(d.size().width_in, 3.3);
      if (qEnvironmentVariableIsSet("LMSCOPE_KEEP_EXPORTS")) d.grab().save("/tmp/export-dialog.png");
      d.remember();
    }
    FigureExportDialog again(0.5);
    QCOMPARE(again.preset(), FigureExportDialog::OneColumn);
    QCOMPARE(again.size().width_in, 3.3);
    QCOMPARE(FigureSize::fromSettings().width_in, 3.3);
  }

  void anEmptyPlotKeepsItsAxesAtFullSize() {
    // before any result the legend is empty: the axes still take the plot's width and height
    QObject owner;
    auto* r = new ResultSet(&owner);
    PplPlotView view(r);
    view.resize(700, 450);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.plot()->replot();
    QCOMPARE(view.lineCount(), 0);
    const QRect axes = view.plot()->axisRect()->rect();
    QVERIFY2(axes.width() > view.plot()->width() * 0.7 && axes.height() > view.plot()->height() * 0.6,
             qPrintable(QString("axes %1x%2 in a plot of %3x%4").arg(axes.width()).arg(axes.height()).arg(view.plot()->width()).arg(view.plot()->height())));
  }

  void heatmapsAndReport() {
    QObject owner;
    ResultSet* r = filled(&owner);
    const QJsonObject grid{{"lengths", QJsonArray{300, 400}}, {"depths", QJsonArray{0, 1}}, {"trials", 1},
                           {"accuracy", QJsonArray{QJsonArray{1.0, 0.0}, QJsonArray{0.5, 1.0}}}};
    r->applyEvent(workerEvent("result", "A", "", "passkey", {{"accuracy", 0.625}}, grid, 4, 4));
    r->applyEvent(workerEvent("result", "B", "", "passkey", {{"accuracy", 0.625}}, grid, 4, 4));
    PasskeyHeatmapView heat(r);
    QCOMPARE(heat.mapCount(), 2);
    // Cells are vector rectangles coloured by viridis (no bitmap): 2 maps × 4 computed cells.
    QCOMPARE(heat.plot()->plottableCount(), 0);
    QCOMPARE(heat.cells().size(), 8);
    const QColor top = heat.cells()[3]->brush().color(), bottom = heat.cells()[1]->brush().color();  // 100 % and 0 %
    QVERIFY2(top.red() > 240 && top.green() > 220 && top.blue() < 60, qPrintable(top.name()));
    QVERIFY2(bottom.red() < 90 && bottom.blue() > 70 && bottom.green() < 20, qPrintable(bottom.name()));
    {
      QTemporaryDir svgDir;
      const QString svg = svgDir.filePath("heat.svg");
      QVERIFY(FigureExporter::save(heat.plot(), svg, 150, QSize(600, 300)));
      const QByteArray text = readAll(svg);
      QVERIFY2(text.count("<image") <= 1, "only the colour bar may be a bitmap");
      QVERIFY(text.count("<rect") >= 8);
      // at a paper size too, in SVG and PDF: the cells are rectangles, only the colour bar is an image
      QVERIFY(FigureExporter::save(heat.plot(), svg, FigureSize::oneColumn()));
      const QByteArray paper = readAll(svg);
      QVERIFY2(paper.count("<image") <= 1, "only the colour bar may be a bitmap");
      QVERIFY(paper.count("<rect") >= 8);
      QVERIFY(FigureExporter::save(heat.plot(), svgDir.filePath("heat.pdf"), FigureSize::oneColumn()));
      QVERIFY(readAll(svgDir.filePath("heat.pdf")).count("/Subtype /Image") <= 1);
      if (qEnvironmentVariableIsSet("LMSCOPE_KEEP_EXPORTS")) QFile::copy(svgDir.filePath("heat.pdf"), "/tmp/heat.pdf");
    }
    PplPlotView ppl(r);
    ComparisonTableModel cmp(r);
    QTemporaryDir dir;
    QString err;
    const QStringList files = ReportExporter::write(dir.filePath("report"), {{"perplexity", ppl.plot()}, {"passkey", heat.plot()}},
                                                    {{"comparison", &cmp}}, 120, &err);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QCOMPARE(files.size(), 2 * 3 + 4 + 1);
    for (const QString& f : files) QVERIFY2(QFileInfo(f).size() > 0, qPrintable(f));
    QVERIFY(readAll(dir.filePath("report/passkey.png")).startsWith("\x89PNG"));
    QVERIFY(readAll(dir.filePath("report/index.md")).contains("![perplexity](perplexity.png)"));
    QVERIFY(readAll(dir.filePath("report/index.md")).contains(QByteArray("by lmscope ") + lmscope::version() + "."));
  }
};

QTEST_MAIN(ExportersTest)
#include "exporters_test.moc"
