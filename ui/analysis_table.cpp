#include "analysis_table.h"

#include <QFont>
#include <cmath>

#include "comparison_table_model.h"
#include "table_roles.h"

AnalysisTable::Cell AnalysisTable::number(double v, int decimals) {
  if (std::isnan(v)) return {};
  Cell c;
  c.value = v;
  c.text = decimals < 0 ? ComparisonTableModel::formatValue(v, qQNaN()) : QString::number(v, 'f', decimals);
  return c;
}

AnalysisTable::Cell AnalysisTable::count(qint64 v) {
  Cell c;
  c.value = double(v);
  c.text = QString::number(v);
  return c;
}

void AnalysisTable::reset(const QStringList& headers, const QVector<QVector<Cell>>& rows, const QStringList& tips) {
  beginResetModel();
  headers_ = headers;
  tips_ = tips;
  rows_ = rows;
  for (auto& r : rows_) r.resize(headers_.size());
  endResetModel();
}

int AnalysisTable::rowCount(const QModelIndex& p) const { return p.isValid() ? 0 : rows_.size(); }
int AnalysisTable::columnCount(const QModelIndex& p) const { return p.isValid() ? 0 : headers_.size(); }

QVariant AnalysisTable::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || section < 0 || section >= headers_.size()) return {};
  if (role == Qt::DisplayRole) return headers_[section];
  if (role == Qt::ToolTipRole && section < tips_.size() && !tips_[section].isEmpty()) return tips_[section];
  return {};
}

QVariant AnalysisTable::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rows_.size() || index.column() >= headers_.size()) return {};
  const Cell& c = rows_[index.row()][index.column()];
  switch (role) {
    case Qt::DisplayRole: return c.text;
    case TableRole::Value: return c.value.isValid() ? c.value : QVariant(c.text);
    case TableRole::Best: return c.best;
    case TableRole::Partial: return c.partial;
    case Qt::ToolTipRole: return c.tip.isEmpty() ? QVariant() : QVariant(c.tip);
    case Qt::TextAlignmentRole:
      return c.value.isValid() ? int(Qt::AlignRight | Qt::AlignVCenter) : int(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::FontRole: {
      if (!c.best && !c.partial) return {};
      QFont f;
      f.setBold(c.best);
      f.setItalic(c.partial);
      return f;
    }
    default: return {};
  }
}
