#include "passkey_heatmap_view.h"

#include <QVBoxLayout>
#include <cmath>
#include <qcustomplot.h>

#include "result_set.h"

namespace {
// matplotlib's viridis at 9 stops (QCustomPlot 2.1 has no viridis preset).
QCPColorGradient viridis() {
  QCPColorGradient g;
  g.clearColorStops();
  const QColor stops[] = {QColor(68, 1, 84),    QColor(71, 45, 123),  QColor(59, 82, 139),
                          QColor(44, 114, 142), QColor(33, 145, 140), QColor(40, 174, 128),
                          QColor(94, 201, 98),  QColor(173, 220, 48), QColor(253, 231, 37)};
  for (int i = 0; i < 9; ++i) g.setColorStopAt(i / 8.0, stops[i]);
  g.setNanHandling(QCPColorGradient::nhTransparent);
  return g;
}

QString lengthText(double l) {
  return l >= 1024 && std::fmod(l, 1024) == 0 ? QString("%1K").arg(l / 1024) : QString::number(l);
}
}  // namespace

PasskeyHeatmapView::PasskeyHeatmapView(ResultSet* results, QWidget* parent)
    : QWidget(parent), results_(results), plot_(new QCustomPlot(this)) {
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(0, 0, 0, 0);
  lay->addWidget(plot_);
  plot_->setMinimumSize(300, 200);
  connect(results_, &ResultSet::changed, this, &PasskeyHeatmapView::refresh);
  refresh();
}

void PasskeyHeatmapView::refresh() {
  grids_ = PasskeyGrid::fromResults(results_->visibleRuns());
  plot_->clearPlottables();
  plot_->clearItems();
  cells_.clear();
  plot_->plotLayout()->clear();  // removes the axis rect and the colour scale
  delete group_;
  group_ = nullptr;
  auto* rect = new QCPAxisRect(plot_);
  plot_->plotLayout()->addElement(0, 0, rect);
  if (grids_.isEmpty()) {
    plot_->plotLayout()->addElement(1, 0, new QCPTextElement(plot_, tr("No passkey or RULER results yet: tick passkey or ruler and launch.")));
    plot_->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  // All maps share one axis rect, side by side with a one-cell gap: every map gets the same cell size and the
  // depth axis is read once. The top axis carries each map's title at its centre.
  QCPAxis* x = rect->axis(QCPAxis::atBottom);
  QCPAxis* y = rect->axis(QCPAxis::atLeft);
  QCPAxis* top = rect->axis(QCPAxis::atTop);
  top->setVisible(true);
  top->setTickLength(0, 0);  // ticks stay on (their labels are the titles) but are not drawn
  top->setSubTicks(false);
  top->setBasePen(Qt::NoPen);
  top->setTickLabelFont(QFont(font().family(), 9, QFont::Bold));
  x->setLabel(tr("context length (tokens)"));
  y->setLabel(tr("key depth"));
  x->grid()->setVisible(false);
  y->grid()->setVisible(false);
  QSharedPointer<QCPAxisTickerText> xt(new QCPAxisTickerText), yt(new QCPAxisTickerText), tt(new QCPAxisTickerText);
  const PasskeyGrid& first = grids_.front();
  int max_depths = 0;
  for (const auto& g : grids_) max_depths = std::max(max_depths, int(g.depths.size()));
  for (int d = 0; d < first.depths.size(); ++d) yt->addTick(d, QString("%1%").arg(first.depths[d] * 100, 0, 'g', 3));
  QCPColorGradient gradient = viridis();  // color() is not const in QCustomPlot 2.1
  auto* scale = new QCPColorScale(plot_);
  scale->setType(QCPAxis::atRight);
  scale->setDataRange(QCPRange(0, 100));  // the cells' unit
  scale->setGradient(gradient);
  scale->axis()->setLabel(tr("retrieval accuracy (%)"));
  int offset = 0, ticks = 0;
  for (const PasskeyGrid& g : grids_) {
    const int nl = g.lengths.size(), nd = g.depths.size();
    for (int l = 0; l < nl; ++l) xt->addTick(offset + l, lengthText(g.lengths[l]));
    ticks += nl;
    QString title = g.label;
    title.replace(QString::fromUtf8(" · "), "\n");
    if (!g.complete) title += tr("\n(%1/%2 cells)").arg(g.cellsDone()).arg(nd * nl);
    if (g.depths != first.depths) title += tr("\n(other depths)");
    tt->addTick(offset + (nl - 1) / 2.0, title);
    // Cells are rectangles, not an image: vector in PDF and SVG, sharp at any size.
    const bool labels = nl * nd <= 120;
    for (int d = 0; d < nd; ++d)
      for (int l = 0; l < nl; ++l) {
        const double v = g.accuracy[d][l];
        if (std::isnan(v)) continue;  // not computed yet: blank
        auto* cell = new QCPItemRect(plot_);
        cell->setClipAxisRect(rect);
        cell->topLeft->setAxes(x, y);
        cell->bottomRight->setAxes(x, y);
        cell->topLeft->setCoords(offset + l - 0.5, d - 0.5);
        cell->bottomRight->setCoords(offset + l + 0.5, d + 0.5);
        const QColor c = QColor::fromRgb(gradient.color(v, QCPRange(0, 1)));
        cell->setBrush(c);
        cell->setPen(QPen(c, 0));
        cell->setSelectable(false);
        cells_ << cell;
        if (!labels) continue;
        auto* t = new QCPItemText(plot_);
        t->setClipAxisRect(rect);
        t->position->setAxes(x, y);
        t->position->setCoords(offset + l, d);
        t->setText(QString::number(std::lround(v * 100)));  // percent, the colour bar's unit
        t->setFont(QFont(font().family(), 7));
        t->setColor(v > 0.6 ? Qt::black : Qt::white);  // readable on both ends of viridis
      }
    offset += nl + 1;
  }
  x->setTicker(xt);
  y->setTicker(yt);
  top->setTicker(tt);
  x->setTickLabelRotation(ticks > 20 ? -45 : 0);
  x->setRange(-0.5, offset - 1.5);
  top->setRange(x->range());
  y->setRange(-0.5, max_depths - 0.5);
  y->setRangeReversed(true);  // depth 0% (key at the start) on top
  plot_->plotLayout()->addElement(0, 1, scale);
  group_ = new QCPMarginGroup(plot_);
  rect->setMarginGroup(QCP::msBottom | QCP::msTop, group_);
  scale->setMarginGroup(QCP::msBottom | QCP::msTop, group_);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}
