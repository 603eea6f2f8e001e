#include "result_records.h"

#include <QSet>

#include "comparison_table_model.h"

namespace lmscope::analysis {

QString ropeMethod(const QString& setting) {
  const QString s = setting.trimmed();
  if (s.isEmpty()) return QStringLiteral("original");
  const int colon = s.indexOf(':');
  const QString m = (colon < 0 ? s : s.left(colon)).trimmed().toLower();
  return m.isEmpty() ? QStringLiteral("original") : m;
}

bool lowerIsBetter(const QString& metric) { return ComparisonTableModel::lowerIsBetter(metric); }

bool accuracyLike(const QString& metric) {
  const QString m = metric.toLower();
  if (lowerIsBetter(m)) return false;
  return m.startsWith("acc") || m == "contains" || m.startsWith("exact") || m.startsWith("niah_") ||
         m.startsWith("ruler") || m == "top1_agreement";
}

QVector<ResultRecord> toRecords(const QVector<TaskRunResult>& runs, const FamilyLookup& families) {
  QVector<ResultRecord> out;
  for (const auto& r : runs) {
    QString family = families.value(r.model);
    if (family.isEmpty()) family = families.value(r.model_path);
    if (family.isEmpty()) family = r.provenance["force_family"].toString();
    if (family.isEmpty()) family = QStringLiteral("?");
    // metrics this run also reports per length
    QSet<QString> with_lengths;
    for (auto it = r.metrics.begin(); it != r.metrics.end(); ++it)
      if (const int at = it.key().indexOf('@'); at > 0) with_lengths.insert(it.key().left(at));
    for (auto it = r.metrics.begin(); it != r.metrics.end(); ++it) {
      const QString key = it.key();
      if (key.endsWith("_stderr") || !it.value().isDouble()) continue;
      ResultRecord rec;
      rec.model = r.model;
      rec.family = family;
      rec.setting = r.setting;
      rec.method = ropeMethod(r.setting);
      rec.label = r.label();
      rec.instance = r.instance();
      rec.config_id = r.config_id;
      rec.run_key = r.run_key;
      rec.metric_key = key;
      rec.metric = key;
      if (const int at = key.indexOf('@'); at > 0) {
        bool ok = false;
        const qint64 L = key.mid(at + 1).toLongLong(&ok);
        if (ok) {
          rec.metric = key.left(at);
          rec.length = L;
        }
      }
      rec.overall = rec.length == 0 && with_lengths.contains(rec.metric);
      // A byte-level model's perplexity is per byte: another quantity, never ranked or averaged with per-token ones.
      if (r.perByte() && ComparisonTableModel::unitDependsOnTokenizer(rec.metric)) rec.metric += QStringLiteral(" (per byte)");
      rec.value = it.value().toDouble();
      rec.lower_is_better = lowerIsBetter(rec.metric);
      rec.complete = r.complete;
      out.push_back(rec);
    }
  }
  return out;
}

}  // namespace lmscope::analysis
