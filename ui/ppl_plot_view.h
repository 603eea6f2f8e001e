// Lines over context length: perplexity (ppl_vs_length), LongPPL (longppl) or throughput (throughput), chosen above
// the plot. One line per model × setting in its fixed look (SeriesStyle: Okabe–Ito colours, markers, line styles);
// a panel per task instance (corpus) when several are shown, and per-byte lines (byte-level models) in panels of
// their own with their own axis labels, never on a per-token axis; panels of one unit share the length axis's
// scale; one legend below them all. Log axes by default where a quantity spans more than a factor 30 (the check
// boxes override), the value under the mouse. Redraws whenever the ResultSet changes, so lines grow as units finish.
#pragma once

#include <QRectF>
#include <QWidget>

#include "ppl_series.h"

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QCPItemText;
class QCPItemTracer;
class QCPMarginGroup;
class ResultSet;

class PplPlotView : public QWidget {
  Q_OBJECT
 public:
  explicit PplPlotView(ResultSet* results, QWidget* parent = nullptr);
  QCustomPlot* plot() const { return plot_; }
  int lineCount() const;  // graphs drawn (a line in two panels counts twice; each panel has its own lines)
  int pointCount() const;
  int panelCount() const { return panels_.size(); }
  int legendItemCount() const;
  const QVector<PplPanel>& panels() const { return panels_; }
  void setLogX(bool on);  // a choice: auto no more
  bool logX() const;
  void setQuantity(PplSeries::Quantity q);
  PplSeries::Quantity quantity() const { return quantity_; }
  // Whether there is anything of this quantity to draw.
  bool hasData(PplSeries::Quantity q) const;
  // The text the hover label shows for a point near `pixel` (empty when none is within reach).
  QString hoverTextAt(const QPointF& pixel);
  // Where the hover label is drawn (pixels; empty when hidden): always inside the axis rectangle of its panel — it
  // opens to the left of points near the right edge and below points near the top.
  QRectF hoverRect() const;
  const QVector<PplSeries>& series() const { return series_; }

 public slots:
  void refresh();

 private:
  void onMouseMove(QMouseEvent* e);
  ResultSet* results_;
  QCustomPlot* plot_;
  QComboBox* quantity_box_;
  QCheckBox* log_x_;
  QCheckBox* log_y_;
  bool auto_x_ = true, auto_y_ = true;  // until the user ticks or unticks a box
  PplSeries::Quantity quantity_ = PplSeries::Quantity::Perplexity;
  QCPItemTracer* tracer_ = nullptr;
  QCPItemText* hover_ = nullptr;
  QCPMarginGroup* margins_ = nullptr;
  QVector<PplSeries> series_;
  QVector<PplPanel> panels_;
  QRectF hover_rect_;
};
