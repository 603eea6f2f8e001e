#include "token_comparison_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>
#include <QTextBrowser>
#include <QVBoxLayout>
#include <cmath>
#include <qcustomplot.h>

#include "result_set.h"
#include "series_style.h"

TokenComparisonView::TokenComparisonView(ResultSet* results, QWidget* parent)
    : QWidget(parent), results_(results), chosen_(new QComboBox(this)), plot_(new QCustomPlot(this)),
      text_(new QTextBrowser(this)), worst_(new QTableWidget(this)), legend_(new QLabel(this)) {
  chosen_->setObjectName("compare_run");
  chosen_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("histogram, text and worst tokens of"), this));
  top->addWidget(chosen_);
  top->addStretch();
  text_->setObjectName("token_view");
  text_->setOpenLinks(false);
  worst_->setObjectName("worst_tokens");
  worst_->setColumnCount(6);
  worst_->setHorizontalHeaderLabels({tr("context"), tr("token"), tr("ΔNLL"), tr("KL"), tr("same top-1"), tr("text before")});
  worst_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  worst_->horizontalHeader()->setStretchLastSection(true);
  worst_->setToolTip(tr("The tokens the model loses most on against the base (alone: its highest losses), largest first"));
  legend_->setWordWrap(true);
  worst_->verticalHeader()->hide();
  worst_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  auto* text_box = new QWidget(this);
  auto* tl = new QVBoxLayout(text_box);
  tl->setContentsMargins(0, 0, 0, 0);
  tl->addWidget(legend_);
  tl->addWidget(text_, 1);
  auto* below = new QSplitter(this);
  below->addWidget(text_box);
  below->addWidget(worst_);
  below->setStretchFactor(0, 3);
  below->setStretchFactor(1, 2);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(plot_);
  split->addWidget(below);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(0, 0, 0, 0);
  lay->addLayout(top);
  lay->addWidget(split, 1);
  plot_->setMinimumSize(300, 220);
  connect(chosen_, &QComboBox::currentIndexChanged, this, &TokenComparisonView::showChosen);
  connect(results_, &ResultSet::changed, this, &TokenComparisonView::refresh);
  refresh();
}

int TokenComparisonView::panelCount() const { return plot_->axisRectCount(); }

void TokenComparisonView::refresh() {
  runs_ = TokenComparisonRun::fromResults(results_->visibleRuns());
  const QString keep = chosen_->currentText();
  {
    const QSignalBlocker block(chosen_);
    chosen_->clear();
    for (const auto& r : runs_) chosen_->addItem(r.label);
    const int at = chosen_->findText(keep);
    chosen_->setCurrentIndex(at >= 0 ? at : 0);
  }
  showChosen();
}

void TokenComparisonView::showChosen() {
  plot_->clearPlottables();
  plot_->clearItems();
  plot_->plotLayout()->clear();
  const int chosen = chosen_->currentIndex();
  if (runs_.isEmpty()) {
    plot_->plotLayout()->addElement(0, 0, new QCPTextElement(plot_, tr("No compare results yet: tick compare (with or without a base model) and launch.")));
    text_->clear();
    worst_->setRowCount(0);
    plot_->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  bool paired = false;
  for (const auto& r : runs_) paired = paired || r.paired;
  const QFont title_font(font().family(), 10, QFont::Bold);
  // Panels side by side (title above each), the legend below them all.
  auto* panels = new QCPLayoutGrid;
  plot_->plotLayout()->addElement(0, 0, panels);
  auto panel = [&](int col, const QString& title, const QString& xl, const QString& yl) {
    panels->addElement(0, col, new QCPTextElement(plot_, title, title_font));
    auto* rect = new QCPAxisRect(plot_);
    panels->addElement(1, col, rect);
    rect->axis(QCPAxis::atBottom)->setLabel(xl);
    rect->axis(QCPAxis::atLeft)->setLabel(yl);
    return rect;
  };
  auto* loss = panel(0, tr("Loss by position"), tr("context (tokens)"), tr("NLL (nats / token)"));
  QCPAxisRect* kl = paired ? panel(1, tr("KL(base ‖ model) by position"), tr("context (tokens)"), tr("KL (nats)")) : nullptr;
  QCPAxisRect* hist = paired ? panel(2, tr("ΔNLL = NLL − base NLL"), tr("ΔNLL (nats)"), tr("tokens")) : nullptr;
  panels->setRowStretchFactor(0, 0.001);
  auto* legend = new QCPLegend;
  plot_->plotLayout()->addElement(1, 0, legend);
  plot_->plotLayout()->setRowStretchFactor(1, 0.001);
  legend->setFillOrder(QCPLegend::foColumnsFirst);
  legend->setWrap(3);
  legend->setBorderPen(Qt::NoPen);
  auto line = [&](QCPAxisRect* rect, const QVector<double>& x, const QVector<double>& y, int i, bool dashed,
                  const QString& name) {
    auto* g = plot_->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    const SeriesStyle st = SeriesStyle::of(runs_[i].label);
    // The base beside its run: the run's colour, thin, dash-dotted (no run's own line style).
    QPen pen(st.color, dashed ? 1.5 : 2, dashed ? Qt::DashDotLine : st.line);
    g->setPen(pen);
    g->setScatterStyle(QCPScatterStyle(dashed ? QCPScatterStyle::ssNone : st.shape, st.color, Qt::white, x.size() > 16 ? 4 : 6));
    g->setData(x, y, true);
    g->setName(name);
    if (name.isEmpty()) g->removeFromLegend();
    else g->addToLegend(legend);
    return g;
  };
  for (int i = 0; i < runs_.size(); ++i) {
    const auto& r = runs_[i];
    const QString running = r.complete ? QString() : tr(" (running)");
    line(loss, r.context, r.nll, i, false, r.label + running);
    if (!r.paired) continue;
    line(loss, r.context, r.base_nll, i, true, tr("base of %1").arg(r.label));
    line(kl, r.context, r.kl, i, false, QString());
  }
  for (auto* rect : plot_->axisRects()) {
    if (rect == hist) continue;
    rect->axis(QCPAxis::atBottom)->rescale();
    rect->axis(QCPAxis::atLeft)->rescale();
    auto* y = rect->axis(QCPAxis::atLeft);
    const double pad = std::max(1e-6, y->range().size() * 0.08);
    y->setRange(y->range().lower - pad, y->range().upper + pad);
    if (rect == kl) y->setRangeLower(0);
  }
  if (hist && chosen >= 0 && chosen < runs_.size() && runs_[chosen].paired && runs_[chosen].hist_counts.size() > 0) {
    const auto& r = runs_[chosen];
    auto* bars = new QCPBars(hist->axis(QCPAxis::atBottom), hist->axis(QCPAxis::atLeft));
    bars->removeFromLegend();
    QVector<double> mid;
    for (int k = 0; k + 1 < r.hist_edges.size(); ++k) mid << 0.5 * (r.hist_edges[k] + r.hist_edges[k + 1]);
    bars->setData(mid, r.hist_counts, true);
    bars->setWidth(r.hist_edges.size() > 1 ? r.hist_edges[1] - r.hist_edges[0] : 1);
    const QColor c = SeriesStyle::of(r.label).color;
    bars->setPen(QPen(c.darker(130)));
    bars->setBrush(c);
    hist->axis(QCPAxis::atBottom)->rescale();
    hist->axis(QCPAxis::atLeft)->rescale();
    hist->axis(QCPAxis::atLeft)->setRangeLower(0);
    hist->axis(QCPAxis::atLeft)->setRangeUpper(hist->axis(QCPAxis::atLeft)->range().upper * 1.3);  // room for the note
    auto* zero = new QCPItemStraightLine(plot_);
    zero->setClipAxisRect(hist);
    zero->point1->setAxes(hist->axis(QCPAxis::atBottom), hist->axis(QCPAxis::atLeft));
    zero->point2->setAxes(hist->axis(QCPAxis::atBottom), hist->axis(QCPAxis::atLeft));
    zero->point1->setCoords(0, 0);
    zero->point2->setCoords(0, 1);
    zero->setPen(QPen(Qt::gray, 1, Qt::DashLine));
    if (r.hist_below + r.hist_above > 0) {
      auto* note = new QCPItemText(plot_);
      note->setClipAxisRect(hist);
      note->position->setType(QCPItemPosition::ptAxisRectRatio);
      note->position->setAxisRect(hist);
      note->position->setCoords(0.98, 0.02);
      note->setPositionAlignment(Qt::AlignRight | Qt::AlignTop);
      note->setBrush(QColor(255, 255, 255, 230));
      note->setText(tr("outside: %1 below, %2 above").arg(r.hist_below).arg(r.hist_above));
      note->setFont(QFont(font().family(), 8));
    }
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);

  worst_->setRowCount(0);
  text_->clear();
  legend_->clear();
  if (chosen < 0 || chosen >= runs_.size()) return;
  const auto& r = runs_[chosen];
  text_->setHtml(r.viewHtml());
  legend_->setText(r.paired ? tr("Each token shaded by ΔNLL: blue where the model predicts it better than the base, red "
                                 "where worse (full colour at ±3 nats). Grey: context before the first shown token.")
                              : tr("Each token shaded by its NLL (full red at 10 nats). Grey: context before the first "
                                   "shown token."));
  worst_->setColumnHidden(3, !r.paired);
  worst_->setColumnHidden(4, !r.paired);
  worst_->horizontalHeaderItem(2)->setText(r.paired ? tr("ΔNLL") : tr("NLL"));
  worst_->setRowCount(r.worst.size());
  for (int k = 0; k < r.worst.size(); ++k) {
    const auto& w = r.worst[k];
    const QStringList cells{QString::number(w.context), w.text, QString::number(r.paired ? w.delta : w.nll, 'f', 3),
                            QString::number(w.kl, 'f', 3), w.top1_same ? tr("yes") : tr("no"), w.before};
    for (int c = 0; c < cells.size(); ++c) {
      auto* it = new QTableWidgetItem(cells[c]);
      if (c == 1) it->setFont(QFont("monospace"));
      worst_->setItem(k, c, it);
    }
  }
}
