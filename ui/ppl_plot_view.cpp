#include "ppl_plot_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFontMetrics>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <cmath>
#include <qcustomplot.h>

#include "comparison_table_model.h"
#include "result_set.h"
#include "series_style.h"

namespace {
// Automatic log axes: lengths as soon as they span three doublings (they usually double, and a log₂ axis spaces
// them evenly), values when they span more than a factor 30 (one and a half decades).
constexpr double kLogLengthRatio = 8, kLogValueRatio = 30;

// A log₂ length axis: a tick at each power of two in [lo, hi] ("512", "1K", "16K"), every second or fourth one when
// there would be more than seven, so the labels never run into each other in a narrow panel.
QSharedPointer<QCPAxisTicker> lengthTicker(double lo, double hi) {
  QSharedPointer<QCPAxisTickerText> t(new QCPAxisTickerText);
  const int a = int(std::ceil(std::log2(std::max(lo, 1.0)))), b = int(std::floor(std::log2(std::max(hi, 1.0))));
  const int step = b - a + 1 > 14 ? 4 : b - a + 1 > 7 ? 2 : 1;
  for (int e = a; e <= b; e += step) {
    const double v = std::ldexp(1.0, e);
    t->addTick(v, v >= 1024 ? QString("%1K").arg(v / 1024) : QString::number(v));
  }
  return t;
}

int columnsFor(int panels) { return panels <= 3 ? panels : panels == 4 ? 2 : panels <= 9 ? 3 : 4; }
}  // namespace

PplPlotView::PplPlotView(ResultSet* results, QWidget* parent)
    : QWidget(parent), results_(results), plot_(new QCustomPlot(this)), quantity_box_(new QComboBox(this)),
      log_x_(new QCheckBox(tr("log₂ length axis"), this)), log_y_(new QCheckBox(tr("log value axis"), this)) {
  quantity_box_->addItem(tr("Perplexity vs length"), int(PplSeries::Quantity::Perplexity));
  quantity_box_->addItem(tr("LongPPL vs length"), int(PplSeries::Quantity::LongPpl));
  quantity_box_->addItem(tr("Throughput vs length"), int(PplSeries::Quantity::Throughput));
  log_x_->setToolTip(tr("Automatic until ticked or unticked: on when the lengths span a factor %1 or more").arg(kLogLengthRatio));
  log_y_->setToolTip(tr("Automatic until ticked or unticked: on in a panel whose values span more than a factor %1").arg(kLogValueRatio));
  auto* top = new QHBoxLayout;
  top->addWidget(quantity_box_);
  top->addWidget(log_x_);
  top->addWidget(log_y_);
  top->addStretch();
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(0, 0, 0, 0);
  lay->addLayout(top);
  lay->addWidget(plot_, 1);
  plot_->setMinimumSize(300, 200);
  // the legend below the panels (one for all of them), so it never hides a line
  plot_->axisRect()->insetLayout()->take(plot_->legend);
  plot_->legend->setVisible(true);
  plot_->legend->setBrush(QColor(255, 255, 255, 220));
  plot_->legend->setFillOrder(QCPLegend::foColumnsFirst);
  plot_->legend->setBorderPen(Qt::NoPen);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->setAntialiasedElements(QCP::aeAll);
  plot_->layer("overlay")->setMode(QCPLayer::lmBuffered);  // hover redraws only this layer
  connect(log_x_, &QCheckBox::clicked, this, [this] { auto_x_ = false; });
  connect(log_y_, &QCheckBox::clicked, this, [this] { auto_y_ = false; });
  connect(log_x_, &QCheckBox::toggled, this, &PplPlotView::refresh);
  connect(log_y_, &QCheckBox::toggled, this, &PplPlotView::refresh);
  connect(quantity_box_, &QComboBox::currentIndexChanged, this, [this] {
    quantity_ = PplSeries::Quantity(quantity_box_->currentData().toInt());
    refresh();
  });
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
int PplPlotView::legendItemCount() const { return plot_->legend->itemCount(); }
void PplPlotView::setLogX(bool on) {
  auto_x_ = false;
  log_x_->setChecked(on);
  refresh();
}
bool PplPlotView::logX() const { return log_x_->isChecked(); }
void PplPlotView::setQuantity(PplSeries::Quantity q) { quantity_box_->setCurrentIndex(quantity_box_->findData(int(q))); }
bool PplPlotView::hasData(PplSeries::Quantity q) const { return !PplSeries::fromResults(results_->visibleRuns(), q).isEmpty(); }

void PplPlotView::refresh() {
  series_ = PplSeries::fromResults(results_->visibleRuns(), quantity_);
  panels_ = PplPanel::group(series_, quantity_);
  // Rebuild the layout: a grid of panels (title above its axes) in row 0, the legend in row 1.
  if (tracer_) tracer_->setGraph(nullptr);
  plot_->clearItems();
  plot_->clearGraphs();
  tracer_ = nullptr;
  hover_ = nullptr;
  if (plot_->legend->layout() == plot_->plotLayout()) plot_->plotLayout()->take(plot_->legend);
  plot_->plotLayout()->clear();
  plot_->plotLayout()->simplify();
  delete margins_;
  margins_ = new QCPMarginGroup(plot_);
  const int n = std::max(1, int(panels_.size())), cols = columnsFor(n), rows = (n + cols - 1) / cols;
  auto* grid = new QCPLayoutGrid;
  plot_->plotLayout()->addElement(0, 0, grid);
  grid->setColumnSpacing(14);
  grid->setRowSpacing(8);
  QVector<QCPAxisRect*> rects;
  for (int i = 0; i < n; ++i) {
    auto* rect = new QCPAxisRect(plot_);
    rect->setMarginGroup(QCP::msAll, margins_);  // panels of equal plot area, axes aligned
    const QString title = i < panels_.size() ? panels_[i].title : QString();
    if (title.isEmpty()) {
      grid->addElement(i / cols, i % cols, rect);
    } else {
      auto* cell = new QCPLayoutGrid;
      grid->addElement(i / cols, i % cols, cell);
      auto* t = new QCPTextElement(plot_, title, QFont(font().family(), font().pointSize(), QFont::Bold));
      t->setMargins(QMargins(2, 4, 2, 2));
      cell->addElement(0, 0, t);
      cell->addElement(1, 0, rect);
      cell->setRowStretchFactor(0, 0.001);
      cell->setRowSpacing(0);
    }
    rects << rect;
  }
  plot_->xAxis = rects[0]->axis(QCPAxis::atBottom);
  plot_->yAxis = rects[0]->axis(QCPAxis::atLeft);
  plot_->xAxis2 = rects[0]->axis(QCPAxis::atTop);
  plot_->yAxis2 = rects[0]->axis(QCPAxis::atRight);
  plot_->plotLayout()->addElement(1, 0, plot_->legend);
  plot_->plotLayout()->setRowStretchFactor(1, 0.001);
  plot_->legend->setWrap(n > 1 ? 3 : 2);

  // ranges: lengths shared by the panels of one unit, values per panel
  double xmin[2] = {INFINITY, INFINITY}, xmax[2] = {-INFINITY, -INFINITY};
  for (const auto& s : series_)
    for (double l : s.lengths) {
      xmin[s.per_byte] = std::min(xmin[s.per_byte], l);
      xmax[s.per_byte] = std::max(xmax[s.per_byte], l);
    }
  bool any_log_x = false, any_log_y = false;
  QSet<QString> in_legend;
  for (int i = 0; i < n; ++i) {
    QCPAxis* x = rects[i]->axis(QCPAxis::atBottom);
    QCPAxis* y = rects[i]->axis(QCPAxis::atLeft);
    const bool has = i < panels_.size();
    const bool pb = has && panels_[i].per_byte;
    x->setLabel(has ? panels_[i].x_label : tr("context length (tokens)"));
    y->setLabel(has ? panels_[i].y_label : PplPanel::valueName(quantity_, false));
    double ymin = INFINITY, ymax = -INFINITY;
    if (has)
      for (int si : panels_[i].series) {
        const PplSeries& s = series_[si];
        QCPGraph* g = plot_->addGraph(x, y);
        const SeriesStyle st = SeriesStyle::of(s.name);
        QPen pen(st.color, 2, st.line);
        if (!s.complete) pen.setColor(st.color.lighter(140));  // still computing (also named so in the legend)
        g->setPen(pen);
        g->setScatterStyle(QCPScatterStyle(st.shape, st.color, Qt::white, 7));
        g->setName(s.complete ? s.name : s.name + tr(" (running)"));
        g->setData(s.lengths, s.ppl, true);
        g->setProperty("lmscope_per_byte", s.per_byte);
        // one legend for all panels: a model · setting is listed once (it looks the same in every panel)
        if (in_legend.contains(g->name())) g->removeFromLegend();
        in_legend.insert(g->name());
        for (double v : s.ppl) {
          ymin = std::min(ymin, v);
          ymax = std::max(ymax, v);
        }
      }
    const bool have_x = std::isfinite(xmin[pb]);
    const bool lx = auto_x_ ? have_x && xmin[pb] > 0 && xmax[pb] / xmin[pb] >= kLogLengthRatio : log_x_->isChecked();
    const bool ly = auto_y_ ? std::isfinite(ymin) && ymin > 0 && ymax / ymin > kLogValueRatio : log_y_->isChecked();
    any_log_x |= lx;
    any_log_y |= ly;
    x->setScaleType(lx ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (lx) {
      x->setTicker(have_x ? lengthTicker(xmin[pb] / 1.25, xmax[pb] * 1.25) : lengthTicker(128, 8192));
    } else {
      x->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    }
    y->setScaleType(ly ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    y->setTicker(ly ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog) : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    if (have_x) {
      if (lx) x->setRange(xmin[pb] / 1.25, xmax[pb] * 1.25);
      else if (xmax[pb] == xmin[pb]) x->setRange(xmin[pb] * 0.5, xmax[pb] * 1.5);  // one length: centred
      else {
        const double pad = std::max(1.0, (xmax[pb] - xmin[pb]) * 0.05);
        x->setRange(xmin[pb] - pad, xmax[pb] + pad);
      }
    } else {
      // nothing yet: a range a context-length axis could have (a log axis over 0..5 would label fractions of a token)
      x->setRange(lx ? 128 : 0, lx ? 8192 : 4096);
    }
    if (std::isfinite(ymin)) {
      const double span = std::max(ymax - ymin, std::abs(ymax) * 1e-3 + 1e-9);
      if (ly) y->setRange(ymin / 1.1, ymax * 1.1);
      // one value, or a throughput (a rate reads against zero): from zero
      else if ((ymax - ymin <= std::abs(ymax) * 1e-3 || quantity_ == PplSeries::Quantity::Throughput) && ymin > 0) y->setRange(0, ymax * 1.1);
      else y->setRange(std::max(ymin > 0 ? 0.0 : -INFINITY, ymin - 0.1 * span), ymax + 0.1 * span);
    } else {
      y->setRange(ly ? 1 : 0, ly ? 1000 : 100);
    }
  }
  {
    const QSignalBlocker bx(log_x_), by(log_y_);
    if (auto_x_) log_x_->setChecked(any_log_x);
    if (auto_y_) log_y_->setChecked(any_log_y);
  }
  plot_->legend->setVisible(!series_.isEmpty());
  // An empty legend's size hint is zero wide, and a layout column is no wider than its narrowest element's maximum:
  // without lines the axes would be squeezed into a sliver. Give the empty legend room; with items its hint rules.
  plot_->legend->setMaximumSize(series_.isEmpty() ? QSize(100000, 100000) : QSize(QWIDGETSIZE_MAX, QWIDGETSIZE_MAX));
  // the height this figure wants for its width (exports at a paper size start from it): panels about 0.7 as high as
  // wide, plus the legend's rows
  const int legend_rows = (int(in_legend.size()) + plot_->legend->wrap() - 1) / std::max(1, plot_->legend->wrap());
  plot_->setProperty("lmscope_aspect", rows * 0.7 / cols + 0.05 * legend_rows + (n > 1 ? 0.04 * rows : 0));

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
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

QString PplPlotView::hoverTextAt(const QPointF& pixel) {
  double best = 14 * 14;  // reach: 14 px
  QCPGraph* bg = nullptr;
  double bx = 0, by = 0;
  for (int i = 0; i < plot_->graphCount(); ++i) {
    QCPGraph* g = plot_->graph(i);
    for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) {
      const double px = g->keyAxis()->coordToPixel(it->key), py = g->valueAxis()->coordToPixel(it->value);
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
  QCPAxisRect* rect = bg->keyAxis()->axisRect();
  tracer_->setClipAxisRect(rect);
  tracer_->setGraph(bg);
  tracer_->setGraphKey(bx);
  tracer_->setPen(bg->pen());
  tracer_->setVisible(true);
  const bool pb = bg->property("lmscope_per_byte").toBool();
  const QString text = tr("%1\nlength %2%3: %4 %5")
                           .arg(bg->name())
                           .arg(bx)
                           .arg(pb ? tr(" bytes") : QString())
                           .arg(PplPanel::valueName(quantity_, pb))
                           .arg(ComparisonTableModel::formatValue(by, qQNaN()));
  hover_->setText(text);
  hover_->setClipAxisRect(rect);
  hover_->position->setAxes(bg->keyAxis(), bg->valueAxis());
  hover_->position->setCoords(bx, by);
  // open the label towards the inside of the axis rectangle, so it is never clipped at an edge
  const QRect area = rect->rect();
  const QMargins pad = hover_->padding();
  const QSize size = QFontMetrics(hover_->font()).boundingRect(QRect(0, 0, 10000, 10000), Qt::AlignLeft, text).size() +
                     QSize(pad.left() + pad.right() + 2, pad.top() + pad.bottom() + 2);
  const double px = bg->keyAxis()->coordToPixel(bx), py = bg->valueAxis()->coordToPixel(by);
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
