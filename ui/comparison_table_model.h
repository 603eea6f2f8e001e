// The comparison table: one row per model × setting, one column per task metric, "value ± stderr" where the
// metric has a standard error, the best value of each column in bold (lower is better for perplexities, bits, times
// and memory, higher for accuracies and speed). Values still being computed are shown in italics. Sort through a
// QSortFilterProxyModel on TableRole::Value.
#pragma once

#include <QAbstractTableModel>
#include <QStringList>
#include <QVector>

class ResultSet;
struct TaskRunResult;

class ComparisonTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  explicit ComparisonTableModel(ResultSet* results, QObject* parent = nullptr);
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

  // Whether a lower value of this metric is better ("ppl@512", "word_perplexity", "bits_per_byte", ...).
  static bool lowerIsBetter(const QString& metric);
  // Whether the metric's unit is the model's token (perplexity, LongPPL, NLL, tokens/s): per byte for a byte-level
  // model, so its values are never ranked against per-token ones ("best" is marked within each unit).
  static bool unitDependsOnTokenizer(const QString& metric);
  static QString columnName(const TaskRunResult& r, const QString& metric);
  // Display text of a number with its standard error, in the precision a table wants.
  static QString formatValue(double v, double stderr_or_nan);
  void rebuild();

 private:
  struct Cell {
    double value = 0, err = qQNaN();
    bool present = false, partial = false;
    QString note;
  };
  ResultSet* results_;
  QStringList row_labels_;
  QStringList columns_;  // "task metric"
  QStringList column_metric_;
  QStringList column_instance_;  // per column: the task instance it belongs to (TaskRunResult::instance())
  QVector<QVector<Cell>> cells_;
  QVector<bool> row_per_byte_;  // per row: a byte-level model (TaskRunResult::perByte)
  // per column: the rows holding its best complete value (every one of them on a tie; none with fewer than two
  // complete values — "best" means something only in a comparison, and a partial value never wins)
  QVector<QVector<int>> best_rows_;
};
