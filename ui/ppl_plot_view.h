// Perplexity vs context length: one line per model × setting (Okabe–Ito colours and distinct markers, readable
// with colour-blindness and in greyscale print), optional log-scaled length axis, and the value under the mouse.
// Redraws whenever the ResultSet changes, so lines grow as work units finish.
#pragma once

#include <QRectF>
#include <QWidget>

#include "ppl_series.h"

class QCheckBox;
class QCustomPlot;
class QCPItemText;
class QCPItemTracer;
class ResultSet;

class PplPlotView : public QWidget {
  Q_OBJECT
 public:
  explicit PplPlotView(ResultSet* results, QWidget* parent = nullptr);
  QCustomPlot* plot() const { return plot_; }
  int lineCount() const;
  int pointCount() const;
  void setLogX(bool on);
  bool logX() const;
  // The text the hover label shows for a point near `pixel` (empty when none is within reach).
  QString hoverTextAt(const QPointF& pixel);
  // Where the hover label is drawn (pixels; empty when hidden): always inside the axis rectangle — it opens to the
  // left of points near the right edge and below points near the top.
  QRectF hoverRect() const;
  const QVector<PplSeries>& series() const { return series_; }

 public slots:
  void refresh();

 private:
  void onMouseMove(QMouseEvent* e);
  ResultSet* results_;
  QCustomPlot* plot_;
  QCheckBox* log_x_;
  QCheckBox* log_y_;
  QCPItemTracer* tracer_ = nullptr;
  QCPItemText* hover_ = nullptr;
  QVector<PplSeries> series_;
  QRectF hover_rect_;
};
