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
  plot_->plotLayout()->clear();  // removes axis rects, titles and the colour scale
  delete group_;
  group_ = nullptr;
  if (grids_.isEmpty()) {
    auto* rect = new QCPAxisRect(plot_);
    plot_->plotLayout()->addElement(0, 0, rect);
    plot_->plotLayout()->addElement(1, 0, new QCPTextElement(plot_, tr("No passkey results yet: add the passkey task and launch.")));
    plot_->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  const QCPColorGradient gradient = viridis();
  auto* group = group_ = new QCPMarginGroup(plot_);
  auto* scale = new QCPColorScale(plot_);
  scale->setType(QCPAxis::atRight);
  scale->setDataRange(QCPRange(0, 1));
  scale->setGradient(gradient);
  scale->axis()->setLabel(tr("retrieval accuracy (cells: %)"));
  for (int i = 0; i < grids_.size(); ++i) {
    const PasskeyGrid& g = grids_[i];
    auto* rect = new QCPAxisRect(plot_);
    plot_->plotLayout()->addElement(0, i, rect);
    rect->setMarginGroup(QCP::msAll, group);  // equal margins: every map gets the same size
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    // the title is the top axis' label: unlike a title row it does not widen its column, so maps stay equal
    QCPAxis* top = rect->axis(QCPAxis::atTop);
    top->setVisible(true);
    top->setTicks(false);
    top->setTickLabels(false);
    top->setBasePen(Qt::NoPen);
    top->setLabelFont(QFont(font().family(), 9, QFont::Bold));
    QString title = g.label;
    title.replace(QString::fromUtf8(" · "), "\n");
    if (!g.complete) title += tr("\n(%1/%2 cells)").arg(g.cellsDone()).arg(g.depths.size() * g.lengths.size());
    top->setLabel(title);
    x->setLabel(tr("context length (tokens)"));
    if (i == 0) y->setLabel(tr("key depth"));
    else y->setTickLabels(false);  // depths read off the first map
    // categorical axes: lengths and depths need not be evenly spaced
    QSharedPointer<QCPAxisTickerText> xt(new QCPAxisTickerText), yt(new QCPAxisTickerText);
    for (int l = 0; l < g.lengths.size(); ++l) xt->addTick(l, lengthText(g.lengths[l]));
    for (int d = 0; d < g.depths.size(); ++d) yt->addTick(d, QString("%1%").arg(g.depths[d] * 100, 0, 'g', 3));
    x->setTicker(xt);
    y->setTicker(yt);
    x->setRange(-0.5, g.lengths.size() - 0.5);
    y->setRange(-0.5, g.depths.size() - 0.5);
    y->setRangeReversed(true);  // depth 0% (key at the start) on top
    x->grid()->setVisible(false);
    y->grid()->setVisible(false);
    auto* map = new QCPColorMap(x, y);
    map->data()->setSize(g.lengths.size(), g.depths.size());
    map->data()->setRange(QCPRange(0, g.lengths.size() - 1), QCPRange(0, g.depths.size() - 1));
    const bool labels = g.lengths.size() * g.depths.size() <= 120;
    for (int d = 0; d < g.depths.size(); ++d)
      for (int l = 0; l < g.lengths.size(); ++l) {
        const double v = g.accuracy[d][l];
        map->data()->setCell(l, d, v);
        if (labels && !std::isnan(v)) {
          auto* t = new QCPItemText(plot_);
          t->setClipAxisRect(rect);
          t->position->setAxes(x, y);
          t->position->setCoords(l, d);
          t->setText(QString::number(std::lround(v * 100)));  // percent: short enough for narrow cells
          t->setFont(QFont(font().family(), 7));
          t->setColor(v > 0.6 ? Qt::black : Qt::white);  // readable on both ends of viridis
        }
      }
    map->setInterpolate(false);
    map->setTightBoundary(false);
    map->setColorScale(scale);
    map->setGradient(gradient);
    map->setDataRange(QCPRange(0, 1));
  }
  plot_->plotLayout()->addElement(0, grids_.size(), scale);
  scale->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  scale->setMinimumSize(60, 50);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}
