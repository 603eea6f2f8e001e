#include "ppl_plot_view.h"

#include <QCheckBox>
#include <QFontMetrics>
#include <QHBoxLayout>
#include <QVBoxLayout>
#include <cmath>
#include <qcustomplot.h>

#include "comparison_table_model.h"
#include "result_set.h"
#include "series_style.h"


PplPlotView::PplPlotView(ResultSet* results, QWidget* parent)
    : QWidget(parent), results_(results), plot_(new QCustomPlot(this)), log_x_(new QCheckBox(tr("log₂ length axis"), this)),
      log_y_(new QCheckBox(tr("log perplexity axis"), this)) {
  auto* top = new QHBoxLayout;
  top->addWidget(log_x_);
  top->addWidget(log_y_);
  top->addStretch();
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(0, 0, 0, 0);
  lay->addLayout(top);
  lay->addWidget(plot_, 1);
  plot_->setMinimumSize(300, 200);
  plot_->xAxis->setLabel(tr("context length (tokens)"));
  plot_->yAxis->setLabel(tr("perplexity"));
  plot_->legend->setVisible(true);
  plot_->legend->setBrush(QColor(255, 255, 255, 220));
  // the legend below the axes, so it never hides a line
  plot_->plotLayout()->addElement(1, 0, plot_->legend);
  plot_->legend->setFillOrder(QCPLegend::foColumnsFirst);
  plot_->legend->setWrap(2);
  plot_->legend->setBorderPen(Qt::NoPen);
  plot_->plotLayout()->setRowStretchFactor(1, 0.001);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->setAntialiasedElements(QCP::aeAll);
  tracer_ = new QCPItemTracer(plot_);
  tracer_->setStyle(QCPItemTracer::tsCircle);
  tracer_->setSize(9);
  tracer_->setVisible(false);
  hover_ = new QCPItemText(plot_);
  hover_->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
  hover_->setPadding(QMargins(4, 2, 4, 2));
  hover_->setBrush(QColor(255, 255, 240, 235));
  hover_->setPen(QPen(Qt::gray));
  hover_->setVisible(false);
  hover_->setLayer("overlay");
  tracer_->setLayer("overlay");
  plot_->layer("overlay")->setMode(QCPLayer::lmBuffered);  // hover redraws only this layer
  connect(log_x_, &QCheckBox::toggled, this, &PplPlotView::refresh);
  connect(log_y_, &QCheckBox::toggled, this, &PplPlotView::refresh);
  connect(plot_, &QCustomPlot::mouseMove, this, &PplPlotView::onMouseMove);
  connect(results_, &ResultSet::changed, this, &PplPlotView::refresh);
  refresh();
}

int PplPlotView::lineCount() const { return plot_->graphCount(); }
int PplPlotView::pointCount() const {
  int n = 0;
  for (int i = 0; i < plot_->graphCount(); ++i) n += plot_->graph(i)->dataCount();
  return n;
}
void PplPlotView::setLogX(bool on) { log_x_->setChecked(on); }
bool PplPlotView::logX() const { return log_x_->isChecked(); }

void PplPlotView::refresh() {
  series_ = PplSeries::fromResults(results_->visibleRuns());
  tracer_->setGraph(nullptr);
  plot_->clearGraphs();
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (int i = 0; i < series_.size(); ++i) {
    const auto& s = series_[i];
    QCPGraph* g = plot_->addGraph();
    const SeriesStyle st = SeriesStyle::of(s.label);
    QPen pen(st.color, 2, st.line);
    if (!s.complete) pen.setColor(st.color.lighter(140));  // still computing (also named so in the legend)
    g->setPen(pen);
    g->setScatterStyle(QCPScatterStyle(st.shape, st.color, Qt::white, 7));
    g->setName(s.complete ? s.label : s.label + tr(" (running)"));
    g->setData(s.lengths, s.ppl, true);
    for (int k = 0; k < s.lengths.size(); ++k) {
      xmin = std::min(xmin, s.lengths[k]);
      xmax = std::max(xmax, s.lengths[k]);
      ymin = std::min(ymin, s.ppl[k]);
      ymax = std::max(ymax, s.ppl[k]);
    }
  }
  const bool lx = log_x_->isChecked(), ly = log_y_->isChecked();
  plot_->xAxis->setScaleType(lx ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
  if (lx) {
    QSharedPointer<QCPAxisTickerLog> t(new QCPAxisTickerLog);
    t->setLogBase(2);
    plot_->xAxis->setTicker(t);
  } else {
    plot_->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  }
  plot_->yAxis->setScaleType(ly ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
  plot_->yAxis->setTicker(ly ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog) : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  if (std::isfinite(xmin)) {
    if (lx) plot_->xAxis->setRange(xmin / 1.25, xmax * 1.25);
    else {
      const double pad = std::max(1.0, (xmax - xmin) * 0.05);
      plot_->xAxis->setRange(xmin - pad, xmax + pad);
    }
    const double span = std::max(ymax - ymin, std::abs(ymax) * 1e-3 + 1e-9);
    if (ly) plot_->yAxis->setRange(ymin / 1.1, ymax * 1.1);
    else plot_->yAxis->setRange(ymin - 0.1 * span, ymax + 0.1 * span);
  } else {
    // nothing yet: ranges a context-length axis and a perplexity axis could have (a log axis over 0..5 would
    // label fractions of a token)
    plot_->xAxis->setRange(lx ? 128 : 0, lx ? 8192 : 4096);
    plot_->yAxis->setRange(ly ? 1 : 0, ly ? 1000 : 100);
  }
  plot_->legend->setVisible(!series_.isEmpty());
  // An empty legend's size hint is zero wide, and a layout column is no wider than its narrowest element's maximum:
  // without lines the axes would be squeezed into a sliver. Give the empty legend room; with items its hint rules.
  plot_->legend->setMaximumSize(series_.isEmpty() ? QSize(100000, 100000) : QSize(QWIDGETSIZE_MAX, QWIDGETSIZE_MAX));
  tracer_->setVisible(false);
  hover_->setVisible(false);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

QString PplPlotView::hoverTextAt(const QPointF& pixel) {
  double best = 14 * 14;  // reach: 14 px
  QCPGraph* bg = nullptr;
  double bx = 0, by = 0;
  for (int i = 0; i < plot_->graphCount(); ++i) {
    QCPGraph* g = plot_->graph(i);
    for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) {
      const double px = plot_->xAxis->coordToPixel(it->key), py = plot_->yAxis->coordToPixel(it->value);
      const double d = (px - pixel.x()) * (px - pixel.x()) + (py - pixel.y()) * (py - pixel.y());
      if (d < best) {
        best = d;
        bg = g;
        bx = it->key;
        by = it->value;
      }
    }
  }
  if (!bg) {
    tracer_->setVisible(false);
    hover_->setVisible(false);
    return {};
  }
  tracer_->setGraph(bg);
  tracer_->setGraphKey(bx);
  tracer_->setPen(bg->pen());
  tracer_->setVisible(true);
  const QString text = tr("%1\nlength %2: perplexity %3").arg(bg->name()).arg(bx).arg(ComparisonTableModel::formatValue(by, qQNaN()));
  hover_->setText(text);
  hover_->position->setCoords(bx, by);
  // open the label towards the inside of the axis rectangle, so it is never clipped at an edge
  const QRect area = plot_->axisRect()->rect();
  const QMargins pad = hover_->padding();
  const QSize size = QFontMetrics(hover_->font()).boundingRect(QRect(0, 0, 10000, 10000), Qt::AlignLeft, text).size() +
                     QSize(pad.left() + pad.right() + 2, pad.top() + pad.bottom() + 2);
  const double px = plot_->xAxis->coordToPixel(bx), py = plot_->yAxis->coordToPixel(by);
  const bool left = px + size.width() > area.right() && px - size.width() >= area.left();
  const bool below = py - size.height() < area.top();
  hover_->setPositionAlignment((left ? Qt::AlignRight : Qt::AlignLeft) | (below ? Qt::AlignTop : Qt::AlignBottom));
  hover_rect_ = QRectF(left ? px - size.width() : px, below ? py : py - size.height(), size.width(), size.height());
  hover_->setVisible(true);
  return text;
}

QRectF PplPlotView::hoverRect() const { return hover_->visible() ? hover_rect_ : QRectF(); }

void PplPlotView::onMouseMove(QMouseEvent* e) {
  const bool was = hover_->visible();
  hoverTextAt(e->position());
  if (was || hover_->visible()) plot_->layer("overlay")->replot();
}
