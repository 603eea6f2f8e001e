#include "comparison_table_model.h"

#include <QFont>
#include <cmath>
#include <numeric>
#include <tuple>

#include "result_set.h"
#include "task_run_result.h"
#include "table_roles.h"

ComparisonTableModel::ComparisonTableModel(ResultSet* results, QObject* parent)
    : QAbstractTableModel(parent), results_(results) {
  connect(results_, &ResultSet::changed, this, &ComparisonTableModel::rebuild);
  rebuild();
}

// A column per task instance (its alias, and what tells its configuration apart when one alias has several) and
// metric: "piqa acc", "ppl_vs_length:pg19 ppl@2048", "wikitext (data wiki.valid.raw) word_perplexity".
QString ComparisonTableModel::columnName(const TaskRunResult& r, const QString& metric) {
  const QString inst = r.instance();
  return inst == metric ? inst : inst + " " + metric;
}

bool ComparisonTableModel::lowerIsBetter(const QString& m) {
  const QString s = m.toLower();
  for (const char* w : {"ppl", "perplexity", "bits_per", "nll", "loss", "ms_per", "seconds", "_mib"})
    if (s.contains(w)) return true;
  return false;
}

bool ComparisonTableModel::unitDependsOnTokenizer(const QString& m) {
  const QString s = m.toLower();
  // per word, per byte, per character or accuracy: the same unit for every tokenizer
  for (const char* w : {"word", "byte", "bits_per", "char", "acc", "contains", "exact"})
    if (s.contains(w)) return false;
  // per token (a byte-level model's token is a byte): perplexities, LongPPL, NLL, tokens/s, lengths in tokens
  for (const char* w : {"ppl", "perplexity", "nll", "token", "kl"})
    if (s.contains(w)) return true;
  return false;
}

QString ComparisonTableModel::formatValue(double v, double err) {
  int decimals = std::abs(v) >= 1000 ? 1 : std::abs(v) >= 10 ? 2 : std::abs(v) >= 1 ? 3 : 4;
  if (std::abs(v) >= 1e7) return QString::number(v, 'g', 4);
  QString s = QString::number(v, 'f', decimals);
  if (!std::isnan(err)) s += QString::fromUtf8(" ± ") + QString::number(err, 'f', decimals);
  return s;
}

void ComparisonTableModel::rebuild() {
  beginResetModel();
  row_labels_.clear();
  columns_.clear();
  column_metric_.clear();
  column_instance_.clear();
  cells_.clear();
  const auto runs = results_->visibleRuns();
  for (const auto& r : runs) {
    if (!row_labels_.contains(r.label())) row_labels_ << r.label();
    for (auto it = r.metrics.begin(); it != r.metrics.end(); ++it) {
      if (it.key().endsWith("_stderr") || !it.value().isDouble()) continue;
      const QString col = columnName(r, it.key());
      if (!columns_.contains(col)) {
        columns_ << col;
        column_metric_ << it.key();
        column_instance_ << r.instance();
      }
    }
  }
  // columns: tasks in the order seen, within a task metrics by name with "@N" suffixes in numeric order
  {
    QStringList tasks_seen = column_instance_;
    tasks_seen.removeDuplicates();
    QVector<int> order(columns_.size());
    std::iota(order.begin(), order.end(), 0);
    auto key = [&](int i) {
      const QString m = column_metric_[i];
      const int at = m.indexOf('@');
      return std::make_tuple(tasks_seen.indexOf(column_instance_[i]), at < 0 ? m : m.left(at), at < 0 ? -1.0 : m.mid(at + 1).toDouble());
    };
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key(a) < key(b); });
    QStringList cols, metrics, instances;
    for (int i : order) {
      cols << columns_[i];
      metrics << column_metric_[i];
      instances << column_instance_[i];
    }
    columns_ = cols;
    column_metric_ = metrics;
    column_instance_ = instances;
  }
  cells_ = QVector<QVector<Cell>>(row_labels_.size(), QVector<Cell>(columns_.size()));
  row_per_byte_ = QVector<bool>(row_labels_.size(), false);
  for (const auto& r : runs) {
    const int row = row_labels_.indexOf(r.label());
    if (r.perByte()) row_per_byte_[row] = true;
    for (auto it = r.metrics.begin(); it != r.metrics.end(); ++it) {
      if (it.key().endsWith("_stderr") || !it.value().isDouble()) continue;
      const int col = columns_.indexOf(columnName(r, it.key()));
      Cell& c = cells_[row][col];
      c.present = true;
      c.value = it.value().toDouble();
      const QJsonValue e = r.metrics[it.key() + "_stderr"];
      c.err = e.isDouble() ? e.toDouble() : qQNaN();
      c.partial = !r.complete;
      if (c.partial) c.note = tr("so far: %1 of %2 units").arg(r.units_done).arg(r.unit_count);
      if (r.perByte() && unitDependsOnTokenizer(it.key()))
        c.note = (c.note.isEmpty() ? QString() : c.note + "\n") + tr("per byte (byte-level model): not compared with per-token values");
    }
  }
  // Each column is one task instance's configuration (columnName), so its values are comparable — except a metric
  // per token, whose unit is a byte for byte-level models: those rows are compared among themselves only.
  best_rows_ = QVector<QVector<int>>(columns_.size());
  for (int col = 0; col < columns_.size(); ++col) {
    const bool lower = lowerIsBetter(column_metric_[col]);
    const bool by_unit = unitDependsOnTokenizer(column_metric_[col]);
    for (const bool per_byte : {false, true}) {
      auto member = [&](int row) { return !by_unit || row_per_byte_[row] == per_byte; };
      if (!by_unit && per_byte) break;
      double best = qQNaN();
      int complete = 0;
      for (int row = 0; row < row_labels_.size(); ++row) {
        const Cell& c = cells_[row][col];
        if (!member(row) || !c.present || c.partial || std::isnan(c.value)) continue;
        ++complete;
        if (std::isnan(best) || (lower ? c.value < best : c.value > best)) best = c.value;
      }
      if (complete < 2) continue;
      for (int row = 0; row < row_labels_.size(); ++row) {
        const Cell& c = cells_[row][col];
        if (member(row) && c.present && !c.partial && c.value == best) best_rows_[col] << row;
      }
    }
  }
  endResetModel();
}

int ComparisonTableModel::rowCount(const QModelIndex& p) const { return p.isValid() ? 0 : row_labels_.size(); }
int ComparisonTableModel::columnCount(const QModelIndex& p) const { return p.isValid() ? 0 : columns_.size() + 1; }

QVariant ComparisonTableModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal) return {};
  if (role == Qt::DisplayRole) return section == 0 ? tr("model · setting") : columns_.value(section - 1);
  if (role == Qt::ToolTipRole && section > 0)
    return lowerIsBetter(column_metric_.value(section - 1)) ? tr("lower is better") : tr("higher is better");
  return {};
}

QVariant ComparisonTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= row_labels_.size()) return {};
  const int row = index.row();
  if (index.column() == 0) {
    if (role == Qt::DisplayRole || role == TableRole::Value) return row_labels_[row];
    return {};
  }
  const int col = index.column() - 1;
  const Cell& c = cells_[row][col];
  if (!c.present) return {};
  switch (role) {
    case Qt::DisplayRole: return formatValue(c.value, c.err);
    case TableRole::Value: return c.value;
    case TableRole::Stderr: return std::isnan(c.err) ? QVariant() : QVariant(c.err);
    case TableRole::Best: return best_rows_[col].contains(row);
    case TableRole::Partial: return c.partial;
    case Qt::TextAlignmentRole: return int(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::ToolTipRole: return c.note.isEmpty() ? QVariant() : QVariant(c.note);
    case Qt::FontRole: {
      QFont f;
      f.setBold(best_rows_[col].contains(row));
      f.setItalic(c.partial);
      return f;
    }
    default: return {};
  }
}
