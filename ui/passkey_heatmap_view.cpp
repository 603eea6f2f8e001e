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
  plot_->plotLayout()->clear();  // removes the axis rects, titles and the colour scale
  plot_->plotLayout()->simplify();
  delete group_;
  group_ = nullptr;
  if (grids_.isEmpty()) {
    plot_->plotLayout()->addElement(0, 0, new QCPAxisRect(plot_));
    plot_->plotLayout()->addElement(1, 0, new QCPTextElement(plot_, tr("No passkey or RULER results yet: tick passkey or ruler and launch.")));
    plot_->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  // One axis rect per map, side by side, each with its title above it in its own layout cell: a title is as wide
  // as its column at most (long names wrap at " · " and " ("), so titles never run into each other. Columns stretch
  // with their number of lengths, so every map has the same cell width; the depth axis is labelled on the first map;
  // a map of a byte-level model says its lengths are bytes.
  QCPColorGradient gradient = viridis();  // color() is not const in QCustomPlot 2.1
  auto* scale = new QCPColorScale(plot_);
  scale->setType(QCPAxis::atRight);
  scale->setDataRange(QCPRange(0, 100));  // the cells' unit
  scale->setGradient(gradient);
  scale->axis()->setLabel(tr("retrieval accuracy (%)"));
  group_ = new QCPMarginGroup(plot_);
  bool mixed_units = false;
  for (const auto& g : grids_) mixed_units |= g.per_byte != grids_.front().per_byte;
  int max_depths = 0;
  for (const auto& g : grids_) max_depths = std::max(max_depths, int(g.depths.size()));
  const int n = grids_.size();
  // Column 0: the depth axis alone (an axis rect without cells, as wide as its labels), so every map after it has
  // the same thin left margin and, with columns stretched by their number of lengths, the same cell width.
  auto* depth = new QCPAxisRect(plot_);
  {
    plot_->plotLayout()->addElement(1, 0, depth);
    plot_->plotLayout()->setColumnStretchFactor(0, 0.0001);
    depth->setMinimumSize(1, 0);
    depth->setMarginGroup(QCP::msTop | QCP::msBottom, group_);
    depth->axis(QCPAxis::atBottom)->setVisible(false);
    QCPAxis* y = depth->axis(QCPAxis::atLeft);
    QSharedPointer<QCPAxisTickerText> yt(new QCPAxisTickerText);
    const PasskeyGrid& g = grids_.front();
    for (int d = 0; d < g.depths.size(); ++d) yt->addTick(d, QString("%1%").arg(g.depths[d] * 100, 0, 'g', 3));
    y->setTicker(yt);
    y->setLabel(tr("key depth"));
    y->grid()->setVisible(false);
    y->setRange(-0.5, max_depths - 0.5);
    y->setRangeReversed(true);
  }
  for (int m = 0; m < n; ++m) {
    const PasskeyGrid& g = grids_[m];
    const int nl = g.lengths.size(), nd = g.depths.size();
    const int col = m + 1;
    auto* rect = new QCPAxisRect(plot_);
    QString title = g.label;
    title.replace(QString::fromUtf8(" · "), "\n").replace(" (", "\n(");
    if (!g.complete) title += tr("\n(%1/%2 cells)").arg(g.cellsDone()).arg(nd * nl);
    if (m > 0 && g.depths != grids_.front().depths) title += tr("\n(other depths)");
    auto* t = new QCPTextElement(plot_, title, QFont(font().family(), font().pointSize(), QFont::Bold));
    t->setMargins(QMargins(4, 2, 4, 4));
    plot_->plotLayout()->addElement(0, col, t);
    plot_->plotLayout()->addElement(1, col, rect);
    plot_->plotLayout()->setColumnStretchFactor(col, std::max(1, nl));
    rect->setMarginGroup(QCP::msTop | QCP::msBottom, group_);
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    x->grid()->setVisible(false);
    y->grid()->setVisible(false);
    QSharedPointer<QCPAxisTickerText> xt(new QCPAxisTickerText), yt(new QCPAxisTickerText);
    for (int l = 0; l < nl; ++l) xt->addTick(l, lengthText(g.lengths[l]));
    for (int d = 0; d < nd; ++d) yt->addTick(d, QString("%1%").arg(g.depths[d] * 100, 0, 'g', 3));
    x->setTicker(xt);
    y->setTicker(yt);
    x->setTickLabelRotation(nl > 6 ? -45 : 0);
    const QString unit = mixed_units ? (g.per_byte ? tr("length (bytes)") : tr("length (tokens)"))
                                     : (g.per_byte ? tr("context length (bytes)") : tr("context length (tokens)"));
    if (mixed_units || m == n / 2) x->setLabel(unit);
    if (g.depths == grids_.front().depths) {
      // read on the depth axis at the left
      y->setTickLabels(false);
      rect->setAutoMargins(QCP::msTop | QCP::msBottom | QCP::msRight);
      rect->setMargins(QMargins(6, 0, 0, 0));
    }
    x->setRange(-0.5, nl - 0.5);
    y->setRange(-0.5, max_depths - 0.5);
    y->setRangeReversed(true);  // depth 0% (key at the start) on top
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
        cell->topLeft->setCoords(l - 0.5, d - 0.5);
        cell->bottomRight->setCoords(l + 0.5, d + 0.5);
        const QColor c = QColor::fromRgb(gradient.color(v, QCPRange(0, 1)));
        cell->setBrush(c);
        cell->setPen(QPen(c, 0));
        cell->setSelectable(false);
        cells_ << cell;
        if (!labels) continue;
        auto* text = new QCPItemText(plot_);
        text->setClipAxisRect(rect);
        text->position->setAxes(x, y);
        text->position->setCoords(l, d);
        text->setText(QString::number(std::lround(v * 100)));  // percent, the colour bar's unit
        text->setFont(QFont(font().family(), 7));
        text->setColor(v > 0.6 ? Qt::black : Qt::white);  // readable on both ends of viridis
      }
  }
  plot_->plotLayout()->addElement(1, n + 1, scale);
  plot_->plotLayout()->setColumnStretchFactor(n + 1, 0.001);
  plot_->plotLayout()->setRowStretchFactor(0, 0.001);
  plot_->plotLayout()->setColumnSpacing(10);
  scale->setMarginGroup(QCP::msTop | QCP::msBottom, group_);
  plot_->xAxis = plot_->axisRect(1)->axis(QCPAxis::atBottom);
  plot_->yAxis = plot_->axisRect(1)->axis(QCPAxis::atLeft);
  // preferred height / width for paper exports: square-ish cells
  int cols = 0;
  for (const auto& g : grids_) cols += g.lengths.size();
  plot_->setProperty("lmscope_aspect", std::clamp(0.25 + double(max_depths) / std::max(1, cols) * 1.1, 0.3, 1.2));
  plot_->replot(QCustomPlot::rpQueuedReplot);
}
