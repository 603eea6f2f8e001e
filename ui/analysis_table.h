// A plain table model for the analysis views and the report: headers (with tooltips) and cells carrying their
// number (TableRole::Value), best and partial marks, so TableExporter writes them as CSV, LaTeX, Markdown or JSON
// like the comparison table. No widgets.
#pragma once

#include <QAbstractTableModel>
#include <QStringList>
#include <QVariant>
#include <QVector>

class AnalysisTable : public QAbstractTableModel {
  Q_OBJECT
 public:
  struct Cell {
    QString text;
    QVariant value;  // a double for numbers (exports and sorting use it); empty for text
    bool best = false, partial = false;
    QString tip;
  };
  static Cell text(const QString& t, const QString& tip = {}) { return {t, {}, false, false, tip}; }
  // A number shown with `decimals` (< 0: ComparisonTableModel::formatValue's precision), empty when NaN.
  static Cell number(double v, int decimals = -1);
  static Cell count(qint64 v);

  explicit AnalysisTable(QObject* parent = nullptr) : QAbstractTableModel(parent) {}
  void reset(const QStringList& headers, const QVector<QVector<Cell>>& rows, const QStringList& header_tips = {});
  // What the table is, one sentence (the export's caption and the view's line under the table).
  void setCaption(const QString& c) {
    caption_ = c;
    setProperty("lmscope_caption", c);  // what TableExporter's LaTeX uses as the caption
  }
  const QString& caption() const { return caption_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
  const Cell& cell(int row, int column) const { return rows_[row][column]; }

 private:
  QStringList headers_, tips_;
  QVector<QVector<Cell>> rows_;
  QString caption_;
};
