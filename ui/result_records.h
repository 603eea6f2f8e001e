// The results the window shows, in long form for the analysis views (issue 18): one record per shown task run ×
// metric, with what a study groups by — the RoPE method parsed from the setting, the model's family, the context
// length from "metric@LENGTH" keys. No widgets: tests build records from TaskRunResults and check the numbers.
//
// Records keep the result identity (ui/result_set.h): `instance` is TaskRunResult::instance(), which already tells
// different configurations of one task apart, and `config_id` is kept beside it. Only complete values count in
// aggregates; a partial run's values are records too (complete = false), so views can say they were left out.
#pragma once

#include <QHash>
#include <QString>
#include <QVector>

#include "task_run_result.h"

namespace lmscope::analysis {

struct ResultRecord {
  QString model, family, method, setting;
  QString label;     // the comparison table's row: model · setting (+ what tells equal names apart)
  QString instance;  // the task instance as shown ("ppl_vs_length:pg19", "wikitext (data a.txt)")
  QString config_id, run_key;
  QString metric;      // without its length: "ppl", "acc", "accuracy", "word_perplexity"
  QString metric_key;  // as the task reports it: "ppl@2048"
  qint64 length = 0;   // from "metric@LENGTH"; 0 when the metric has none
  // A metric without a length whose task also reports it per length (passkey's "accuracy" beside "accuracy@512"):
  // an overall value, left out where per-length values of the same metric are used.
  bool overall = false;
  double value = 0;
  bool lower_is_better = false;
  bool complete = false;
};

// The RoPE method of a setting label: "" → "original" (the checkpoint's own), "yarn:factor=4,..." → "yarn".
QString ropeMethod(const QString& setting);
// Whether a lower value is better (ComparisonTableModel::lowerIsBetter's rule).
bool lowerIsBetter(const QString& metric);
// Accuracy-like metrics (fractions where higher is better: acc, acc_norm, accuracy, contains, exact match, NIAH
// scores): what an "Avg" column averages. Perplexities, losses, times are not.
bool accuracyLike(const QString& metric);

// Model name or folder → family (from `inspect`); a model found in neither gets the family its provenance forced,
// else "?".
using FamilyLookup = QHash<QString, QString>;
QVector<ResultRecord> toRecords(const QVector<TaskRunResult>& runs, const FamilyLookup& families = {});

}  // namespace lmscope::analysis
