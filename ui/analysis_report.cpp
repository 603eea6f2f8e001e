#include "analysis_report.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QSet>

#include "result_analysis.h"

using namespace lmscope::analysis;

namespace {
QString slug(QString s) {
  s = s.toLower();
  s.replace(QRegularExpression("[^a-z0-9]+"), "_");
  s.remove(QRegularExpression("^_+|_+$"));
  return s;
}

bool perplexityLike(const QString& metric) {
  const QString m = metric.toLower();
  return m.contains("ppl") || m.contains("perplexity");
}
}  // namespace

AnalysisReport AnalysisReport::build(const QVector<ResultRecord>& records) {
  AnalysisReport rep;
  auto add = [&](const QString& stem) {
    rep.owned.push_back(std::make_unique<AnalysisTable>());
    rep.tables << qMakePair(stem, rep.owned.back().get());
    return rep.owned.back().get();
  };
  int complete = 0;
  for (const auto& r : records) complete += r.complete ? 1 : 0;
  if (complete < 2) {
    rep.notes << QObject::tr("Not enough complete results for an analysis (%n complete value(s)).", nullptr, complete);
    return rep;
  }
  const auto choices = metricChoices(records);
  for (const auto& c : choices) {
    if (c.instance.isEmpty() || !perplexityLike(c.metric)) continue;
    const QString name = slug(c.instance + "_" + c.metric);
    // the ranking of methods: needs two methods with complete values
    const Summary by_method = summarize(records, c, GroupBy::Method);
    int ranked = 0;
    for (const auto& g : by_method.rows) ranked += g.summary.n > 0 ? 1 : 0;
    if (ranked >= 2) fill(*add("analysis_methods_" + name), by_method);
    else rep.notes << QObject::tr("%1: fewer than two RoPE methods with complete values, no ranking of methods.").arg(c.text());
    // per-length means
    const Summary by_length = summarize(records, c, GroupBy::Length);
    if (by_length.rows.size() >= 2) fill(*add("analysis_lengths_" + name), by_length);
    // the top 10 configurations
    const auto top = topConfigurations(records, c, 10);
    if (top.size() >= 2) fillTop(*add("analysis_top10_" + name), top, c);
    else rep.notes << QObject::tr("%1: fewer than two complete values, no top-10 list.").arg(c.text());
    if (by_method.partial > 0)
      rep.notes << QObject::tr("%1: %n value(s) of partial runs left out.", nullptr, by_method.partial).arg(c.text());
  }
  if (rep.tables.isEmpty()) rep.notes << QObject::tr("No perplexity metric among the results: no ranking of methods.");
  const auto corr = allCorrelations(records, 3);
  if (!corr.isEmpty()) fillCorrelations(*add("analysis_correlations"), corr);
  else rep.notes << QObject::tr("No two metrics share 3 or more settings (same model, setting and length) with complete values: no correlations.");
  return rep;
}

bool AnalysisReport::appendNotes(const QString& folder, const QStringList& notes, QString* error) {
  if (notes.isEmpty()) return true;
  QFile f(QDir(folder).filePath("index.md"));
  if (!f.open(QIODevice::Append | QIODevice::Text)) {
    if (error && error->isEmpty()) *error = QObject::tr("cannot write %1").arg(f.fileName());
    return false;
  }
  QString text = "## Analysis notes\n\n";
  for (const auto& n : notes) text += "- " + n + "\n";
  f.write((text + "\n").toUtf8());
  return true;
}
