// The analysis views' computations (issue 18), over the long-form records of ui/result_records.h: group summaries
// ranked by mean, the top-N configurations of a metric, correlations of two metrics across settings, a table of
// task metrics with an Avg column (the Gated DeltaNet paper's Table 3), and paired comparisons on per-item outcomes
// read from the store (the worker's `items`). Each result becomes an AnalysisTable for display and export. No
// widgets; only complete values are aggregated, ranked or called best.
#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>

#include "analysis_table.h"
#include "result_records.h"
#include "result_statistics.h"

namespace lmscope::analysis {

// A metric to analyse: one task instance's metric ("ppl_vs_length:pg19 · ppl"), or with `instance` empty the metric
// of every instance that has it ("acc · all tasks").
struct MetricChoice {
  QString instance, metric;
  QString text() const;
  bool operator==(const MetricChoice& o) const { return instance == o.instance && metric == o.metric; }
};
// Every instance's metrics in the order seen, then the metrics several instances share.
QVector<MetricChoice> metricChoices(const QVector<ResultRecord>& records);
// The records of a choice (complete or not). Overall values are left out where per-length values of the metric
// are there (passkey's "accuracy" beside "accuracy@L"), so a value is never counted twice.
QVector<ResultRecord> selectRecords(const QVector<ResultRecord>& records, const MetricChoice& choice);

enum class GroupBy { Method, Family, Model, Setting, Length, Task };
QString groupByName(GroupBy g);
QString groupKey(const ResultRecord& r, GroupBy g);

struct GroupRow {
  QString group;
  GroupSummary summary;  // of the complete values
  int partial = 0;       // values of partial runs, left out
};
struct Summary {
  MetricChoice choice;
  GroupBy by = GroupBy::Method;
  bool lower_is_better = false;
  QVector<GroupRow> rows;  // a ranking by mean (best first); by length: in length order
  int partial = 0;
};
Summary summarize(const QVector<ResultRecord>& records, const MetricChoice& choice, GroupBy by);
// Rank, group, n, mean, best, std (and "partial left out" when any were).
void fill(AnalysisTable& table, const Summary& s);

// The n best complete values of a metric (direction-aware; ties in label order).
QVector<ResultRecord> topConfigurations(const QVector<ResultRecord>& records, const MetricChoice& choice, int n);
void fillTop(AnalysisTable& table, const QVector<ResultRecord>& top, const MetricChoice& choice);

struct CorrelationResult {
  MetricChoice x, y;
  QVector<double> xs, ys;
  QStringList keys;  // "model · setting @ length" of each pair
  Correlation pearson, spearman;
  QString note;  // why there are too few pairs, what was left out
};
// Complete values of both metrics paired by model · setting (row label) and length; a key holding several values
// of one metric (an "all tasks" choice) is left out.
CorrelationResult correlate(const QVector<ResultRecord>& records, const MetricChoice& x, const MetricChoice& y);
// One row per result: x, y, n, Pearson r and p, Spearman ρ and p.
void fillCorrelations(AnalysisTable& table, const QVector<CorrelationResult>& results);
// Every pair of per-instance metrics with at least `min_pairs` pairs.
QVector<CorrelationResult> allCorrelations(const QVector<ResultRecord>& records, int min_pairs = 3);

struct AveragesOptions {
  bool acc_norm_over_acc = false;  // a task with acc and acc_norm shows only acc_norm
  bool group_averages = false;     // rows averaging each group
  GroupBy group = GroupBy::Method;
};
struct AverageColumn {
  QString instance, metric_key;
  bool averaged = false, lower_is_better = false;
  QString header() const;
};
struct AverageRow {
  QString label, group;
  QVector<double> values;  // NaN: missing
  QVector<bool> partial;
  double avg = qQNaN();    // NaN when an averaged column is missing
  bool avg_partial = false;
  QString missing;         // the averaged columns it lacks
  bool group_average = false;
  int members = 0;         // rows of a group average
};
struct Averages {
  QVector<AverageColumn> columns;
  QVector<AverageRow> rows;
  QStringList averaged;  // the averaged columns' headers
};
// Rows = model · setting, columns = task metrics (metrics without a length; per-length ones only where the task
// reports no overall value), Avg = mean of the accuracy-like columns (accuracyLike), never of perplexities.
Averages averages(const QVector<ResultRecord>& records, const AveragesOptions& options = {});
void fillAverages(AnalysisTable& table, const Averages& a);

// Per-item outcomes of one task run, as the worker's `items` answer lists them (one entry of its "runs").
struct ItemOutcome {
  QString name;
  bool binary = false, lower_is_better = false;
  QStringList items;
  QVector<double> values;
};
struct RunItems {
  QString run_key, task, alias, note;
  qint64 unit_count = 0, units_stored = 0;
  bool complete = false;
  QVector<ItemOutcome> outcomes;
};
RunItems runItemsFromJson(const QJsonObject& run);

struct PairedComparison {
  QString outcome;
  bool binary = false, lower_is_better = false;
  bool computed = false;  // false: `problems` says why
  qint64 items_a = 0, items_b = 0, common = 0;
  double mean_a = 0, mean_b = 0;
  McNemar mcnemar;              // binary outcomes
  PairedDifference difference;  // mean of a − b with its bootstrap interval (every outcome)
  QStringList problems;         // what does not match; computed on the common items when that still makes sense
};
// `config_a` / `config_b`: the runs' config_id (different configurations are never compared).
PairedComparison pairedCompare(const RunItems& a, const QString& config_a, const RunItems& b, const QString& config_b,
                               const QString& outcome);
// The comparison as a table: outcome, items, means of A and B, difference with its interval, McNemar's counts and p.
void fillPaired(AnalysisTable& table, const PairedComparison& c, const QString& label_a, const QString& label_b);

}  // namespace lmscope::analysis
