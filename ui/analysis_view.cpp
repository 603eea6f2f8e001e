#include "analysis_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QAbstractItemView>
#include <QMessageBox>
#include <QPushButton>
#include <QSet>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableView>
#include <QVBoxLayout>
#include <cmath>
#include <qcustomplot.h>

#include "result_set.h"
#include "table_exporter.h"
#include "table_roles.h"

using namespace lmscope::analysis;

namespace {

QWidget* row(QWidget* parent, const QList<QWidget*>& widgets) {
  auto* w = new QWidget(parent);
  auto* h = new QHBoxLayout(w);
  h->setContentsMargins(0, 0, 0, 0);
  for (auto* x : widgets) h->addWidget(x);
  h->addStretch();
  return w;
}

QLabel* label(const QString& text, QWidget* parent) { return new QLabel(text, parent); }

// Refills a combo with `items`, keeping the current text when it is still offered (else `fallback`, else the first).
void refill(QComboBox* c, const QStringList& items, int fallback = 0) {
  const QString cur = c->currentText();
  QSignalBlocker block(c);
  c->clear();
  c->addItems(items);
  const int i = items.indexOf(cur);
  c->setCurrentIndex(i >= 0 ? i : items.isEmpty() ? -1 : std::min(fallback, int(items.size()) - 1));
  // the list as wide as its longest entry, however narrow the combo is kept
  c->view()->setMinimumWidth(c->view()->sizeHintForColumn(0) + 24);
}

void addGroups(QComboBox* c, bool with_length_task) {
  QList<GroupBy> gs{GroupBy::Method, GroupBy::Family, GroupBy::Model, GroupBy::Setting};
  if (with_length_task) gs << GroupBy::Length << GroupBy::Task;
  for (GroupBy g : gs) c->addItem(groupByName(g), int(g));
}

}  // namespace

AnalysisView::AnalysisView(ResultSet* results, QWidget* parent)
    : QWidget(parent), results_(results), table_(new AnalysisTable(this)), sorted_(new QSortFilterProxyModel(this)) {
  sorted_->setSourceModel(table_);
  sorted_->setSortRole(TableRole::Value);

  mode_ = new QComboBox(this);
  mode_->setObjectName("analysis_mode");
  mode_->addItems({tr("Summary by group"), tr("Top N configurations"), tr("Correlation of two metrics"),
                   tr("Averages (task metrics, Avg)"), tr("Paired comparison on items")});
  controls_ = new QStackedWidget(this);

  metric_ = new QComboBox(this);
  group_ = new QComboBox(this);
  addGroups(group_, true);
  controls_->addWidget(row(this, {label(tr("Metric"), this), metric_, label(tr("by"), this), group_}));

  top_metric_ = new QComboBox(this);
  top_n_ = new QSpinBox(this);
  top_n_->setRange(1, 1000);
  top_n_->setValue(10);
  controls_->addWidget(row(this, {label(tr("Metric"), this), top_metric_, label("N", this), top_n_}));

  x_ = new QComboBox(this);
  y_ = new QComboBox(this);
  controls_->addWidget(row(this, {label("x", this), x_, label("y", this), y_}));

  acc_norm_ = new QCheckBox(tr("acc_norm instead of acc where a task has both"), this);
  group_avgs_ = new QCheckBox(tr("Group averages by"), this);
  avg_group_ = new QComboBox(this);
  addGroups(avg_group_, false);
  controls_->addWidget(row(this, {acc_norm_, group_avgs_, avg_group_}));

  row_a_ = new QComboBox(this);
  row_b_ = new QComboBox(this);
  instance_ = new QComboBox(this);
  outcome_ = new QComboBox(this);
  compare_ = new QPushButton(tr("Compare"), this);
  compare_->setToolTip(tr("Reads both runs' per-item outcomes from the results store"));
  for (auto* c : {metric_, top_metric_, x_, y_, row_a_, row_b_, instance_}) {
    c->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    c->setMinimumContentsLength(c == instance_ ? 12 : 16);
  }
  controls_->addWidget(row(this, {label("A", this), row_a_, label("B", this), row_b_, label(tr("task"), this), instance_,
                                  compare_, label(tr("outcome"), this), outcome_}));

  view_ = new QTableView(this);
  view_->setObjectName("analysis_table");
  view_->setModel(sorted_);
  view_->setSortingEnabled(true);
  view_->sortByColumn(-1, Qt::AscendingOrder);
  view_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  view_->verticalHeader()->hide();

  plot_ = new QCustomPlot(this);
  plot_->setMinimumHeight(220);
  plot_->addGraph();
  plot_->graph(0)->setLineStyle(QCPGraph::lsNone);
  plot_->graph(0)->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QColor(0, 114, 178), QColor(0, 114, 178, 90), 7));
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->hide();

  note_ = new QLabel(this);
  note_->setWordWrap(true);
  note_->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);  // a wrapped note takes the height it needs
  note_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* export_btn = new QPushButton(tr("Export table…"), this);
  connect(export_btn, &QPushButton::clicked, this, &AnalysisView::exportDialog);

  auto* top = new QHBoxLayout;
  top->addWidget(label(tr("View"), this));
  top->addWidget(mode_);
  top->addStretch();
  // the mode's choices on a line of their own; they never make the window wider than the rest of it asks
  controls_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(view_);
  split->addWidget(plot_);
  auto* bottom = new QHBoxLayout;
  bottom->addWidget(note_, 1);
  bottom->addWidget(export_btn, 0, Qt::AlignTop);
  auto* v = new QVBoxLayout(this);
  v->addLayout(top);
  v->addWidget(controls_);
  v->addWidget(split, 1);
  v->addLayout(bottom);

  connect(mode_, &QComboBox::currentIndexChanged, this, [this](int i) {
    controls_->setCurrentIndex(i);
    recompute();
  });
  for (auto* c : {metric_, group_, top_metric_, x_, y_, avg_group_})
    connect(c, &QComboBox::currentIndexChanged, this, &AnalysisView::recompute);
  connect(top_n_, &QSpinBox::valueChanged, this, &AnalysisView::recompute);
  connect(acc_norm_, &QCheckBox::toggled, this, &AnalysisView::recompute);
  connect(group_avgs_, &QCheckBox::toggled, this, &AnalysisView::recompute);
  for (auto* c : {row_a_, row_b_}) connect(c, &QComboBox::currentIndexChanged, this, &AnalysisView::pairedChoicesChanged);
  connect(compare_, &QPushButton::clicked, this, [this] {
    comparePaired(row_a_->currentText(), row_b_->currentText(), instance_->currentText());
  });
  connect(outcome_, &QComboBox::currentIndexChanged, this, [this] { showPaired(); });
  connect(results_, &ResultSet::changed, this, &AnalysisView::refresh);
  refresh();
}

void AnalysisView::setFamilies(const FamilyLookup& f) {
  if (f == families_) return;
  families_ = f;
  refresh();
}

void AnalysisView::refresh() {
  records_ = toRecords(results_->visibleRuns(), families_);
  rebuildChoices();
  recompute();
}

void AnalysisView::rebuildChoices() {
  updating_ = true;
  choices_ = lmscope::analysis::metricChoices(records_);
  QStringList texts;
  for (const auto& c : choices_) texts << c.text();
  // the first perplexity-like metric with lengths is what a RoPE study ranks by; else the first metric
  int pick = 0;
  for (int i = 0; i < choices_.size(); ++i)
    if (!choices_[i].instance.isEmpty() && choices_[i].metric.contains("ppl")) {
      pick = i;
      break;
    }
  refill(metric_, texts, pick);
  refill(top_metric_, texts, pick);
  refill(x_, texts, pick);
  refill(y_, texts, pick + 1 < texts.size() ? pick + 1 : 0);
  refill(row_a_, pairedRows(), 0);
  refill(row_b_, pairedRows(), 1);
  updating_ = false;
  pairedChoicesChanged();
}

QStringList AnalysisView::metricChoices() const {
  QStringList out;
  for (const auto& c : choices_) out << c.text();
  return out;
}

void AnalysisView::setMode(Mode m) { mode_->setCurrentIndex(int(m)); }
AnalysisView::Mode AnalysisView::mode() const { return Mode(mode_->currentIndex()); }

bool AnalysisView::setMetric(const QString& text) {
  const int i = metric_->findText(text);
  if (i < 0) return false;
  metric_->setCurrentIndex(i);
  top_metric_->setCurrentIndex(i);
  x_->setCurrentIndex(i);
  recompute();
  return true;
}

void AnalysisView::setGroupBy(GroupBy g) { group_->setCurrentIndex(group_->findData(int(g))); }
void AnalysisView::setTopN(int n) { top_n_->setValue(n); }

bool AnalysisView::setCorrelation(const QString& x, const QString& y) {
  const int i = x_->findText(x), j = y_->findText(y);
  if (i < 0 || j < 0) return false;
  x_->setCurrentIndex(i);
  y_->setCurrentIndex(j);
  recompute();
  return true;
}

void AnalysisView::setAveragesOptions(const AveragesOptions& o) {
  QSignalBlocker b1(acc_norm_), b2(group_avgs_), b3(avg_group_);
  acc_norm_->setChecked(o.acc_norm_over_acc);
  group_avgs_->setChecked(o.group_averages);
  avg_group_->setCurrentIndex(avg_group_->findData(int(o.group)));
  recompute();
}

QAbstractItemModel* AnalysisView::sortedTable() const { return sorted_; }
QString AnalysisView::note() const { return note_->text(); }

void AnalysisView::recompute() {
  if (updating_) return;
  plot_->setVisible(mode() == Mode::Correlation);
  auto choice = [this](QComboBox* c) { return c->currentIndex() >= 0 && c->currentIndex() < choices_.size() ? choices_[c->currentIndex()] : MetricChoice{}; };
  QStringList notes;
  if (records_.isEmpty()) {
    table_->reset({}, {});
    table_->setCaption({});
    note_->setText(tr("No results yet: the analysis reads the results the other tabs show (this session's runs and, "
                      "when included, past runs from the store)."));
    return;
  }
  switch (mode()) {
    case Mode::Summary: {
      const auto s = summarize(records_, choice(metric_), GroupBy(group_->currentData().toInt()));
      fill(*table_, s);
      if (s.partial > 0) notes << tr("%n value(s) of partial runs left out (never counted as best).", nullptr, s.partial);
      break;
    }
    case Mode::TopN: {
      const auto c = choice(top_metric_);
      const auto top = topConfigurations(records_, c, top_n_->value());
      fillTop(*table_, top, c);
      int partial = 0;
      for (const auto& r : selectRecords(records_, c)) partial += r.complete ? 0 : 1;
      if (partial > 0) notes << tr("%n value(s) of partial runs not ranked.", nullptr, partial);
      break;
    }
    case Mode::Correlation: {
      const auto c = correlate(records_, choice(x_), choice(y_));
      fillCorrelations(*table_, {c});
      showScatter(c);
      if (!c.note.isEmpty()) notes << c.note + ".";
      break;
    }
    case Mode::Averages: {
      AveragesOptions o;
      o.acc_norm_over_acc = acc_norm_->isChecked();
      o.group_averages = group_avgs_->isChecked();
      o.group = GroupBy(avg_group_->currentData().toInt());
      const auto a = averages(records_, o);
      fillAverages(*table_, a);
      notes << tr("Avg needs every averaged column; a group mean needs every row of the group.");
      break;
    }
    case Mode::Paired:
      showPaired();
      return;
  }
  note_->setText((QStringList{table_->caption() + "."} + notes).join(" "));
}

void AnalysisView::showScatter(const CorrelationResult& c) {
  plot_->graph(0)->setData(c.xs, c.ys);
  plot_->xAxis->setLabel(c.x.text());
  plot_->yAxis->setLabel(c.y.text());
  if (!c.xs.isEmpty()) plot_->rescaleAxes();
  plot_->xAxis->scaleRange(1.1);
  plot_->yAxis->scaleRange(1.1);
  plot_->replot();
}

QStringList AnalysisView::pairedRows() const {
  QStringList out;
  for (const auto& r : results_->visibleRuns())
    if (!out.contains(r.label())) out << r.label();
  return out;
}

QStringList AnalysisView::pairedInstances() const {
  // task instances both rows ran with the same configuration
  QStringList out;
  const auto runs = results_->visibleRuns();
  for (const auto& a : runs) {
    if (a.label() != row_a_->currentText()) continue;
    for (const auto& b : runs)
      if (b.label() == row_b_->currentText() && b.instance() == a.instance() && b.config_id == a.config_id && !out.contains(a.instance()))
        out << a.instance();
  }
  return out;
}

void AnalysisView::pairedChoicesChanged() {
  if (updating_) return;
  refill(instance_, pairedInstances());
  compare_->setEnabled(instance_->count() > 0 && row_a_->currentText() != row_b_->currentText());
  if (mode() == Mode::Paired) showPaired();
}

bool AnalysisView::comparePaired(const QString& a, const QString& b, const QString& instance) {
  const TaskRunResult* ra = nullptr;
  const TaskRunResult* rb = nullptr;
  const auto runs = results_->visibleRuns();
  for (const auto& r : runs) {
    if (r.instance() != instance) continue;
    if (r.label() == a) ra = &r;
    if (r.label() == b) rb = &r;
  }
  paired_ = {};
  items_a_ = items_b_ = {};
  paired_a_ = a;
  paired_b_ = b;
  paired_instance_ = instance;
  if (!ra || !rb || a == b) {
    paired_status_ = a == b ? tr("Choose two different rows.") : tr("%1 has no run of %2.").arg(!ra ? a : b, instance);
    showPaired();
    emit pairedFinished();
    return false;
  }
  config_a_ = ra->config_id;
  config_b_ = rb->config_id;
  if (!fetch_items_) {
    paired_status_ = tr("Per-item outcomes cannot be read here (no worker).");
    showPaired();
    emit pairedFinished();
    return false;
  }
  paired_status_ = tr("Reading per-item outcomes from the results store…");
  showPaired();
  const QString key_a = ra->run_key, key_b = rb->run_key;
  fetch_items_({key_a, key_b}, [this, key_a, key_b](const QJsonArray& runs, const QString& error) {
    paired_status_.clear();
    if (!error.isEmpty()) paired_status_ = tr("Could not read the items: %1").arg(error);
    for (const auto& v : runs) {
      const RunItems r = runItemsFromJson(v.toObject());
      if (r.run_key == key_a) items_a_ = r;
      if (r.run_key == key_b) items_b_ = r;
    }
    // the outcomes both have, accuracy first
    QStringList names;
    for (const auto& o : items_a_.outcomes)
      for (const auto& p : items_b_.outcomes)
        if (o.name == p.name && !names.contains(o.name)) names << o.name;
    refill(outcome_, names, 0);
    showPaired();
    emit pairedFinished();
  });
  return true;
}

bool AnalysisView::setPairedOutcome(const QString& outcome) {
  const int i = outcome_->findText(outcome);
  if (i < 0) return false;
  outcome_->setCurrentIndex(i);
  showPaired();
  return true;
}

void AnalysisView::showPaired() {
  QStringList lines;
  if (!items_a_.run_key.isEmpty() || !items_b_.run_key.isEmpty()) {
    if (outcome_->count() == 0) {
      paired_ = {};
      QStringList why;
      if (!items_a_.note.isEmpty()) why << "A: " + items_a_.note;
      if (!items_b_.note.isEmpty()) why << "B: " + items_b_.note;
      paired_.problems << tr("no per-item outcome that both runs have%1").arg(why.isEmpty() ? QString() : " (" + why.join("; ") + ")");
    } else {
      paired_ = pairedCompare(items_a_, config_a_, items_b_, config_b_, outcome_->currentText());
    }
  }
  if (mode() != Mode::Paired) return;
  fillPaired(*table_, paired_, paired_a_.isEmpty() ? row_a_->currentText() : paired_a_,
             paired_b_.isEmpty() ? row_b_->currentText() : paired_b_);
  if (!paired_status_.isEmpty()) lines << paired_status_;
  else if (paired_a_.isEmpty()) lines << tr("Choose two rows and a task both ran with the same configuration, then Compare.");
  else lines << table_->caption() + " (" + paired_instance_ + ").";
  if (!paired_.problems.isEmpty()) lines << tr("Note: %1.").arg(paired_.problems.join("; "));
  if (paired_.computed) {
    if (paired_.binary)
      lines << tr("McNemar: %1 items only A gets right, %2 only B; exact p = %3.")
                   .arg(paired_.mcnemar.only_a).arg(paired_.mcnemar.only_b).arg(paired_.mcnemar.p_value, 0, 'g', 4);
    const bool excludes_zero = paired_.difference.low > 0 || paired_.difference.high < 0;
    lines << tr("Mean difference A − B = %1, 95% bootstrap interval [%2, %3]: %4")
                 .arg(paired_.difference.mean, 0, 'g', 4).arg(paired_.difference.low, 0, 'g', 4)
                 .arg(paired_.difference.high, 0, 'g', 4)
                 .arg(excludes_zero ? tr("the interval excludes 0.") : tr("the interval includes 0 (no clear difference)."));
  }
  note_->setText(lines.join(" "));
}

bool AnalysisView::exportTable(const QString& path, QString* error) const {
  return TableExporter::save(*sorted_, path, error, table_->caption());
}

void AnalysisView::exportDialog() {
  QString filter;
  const QString path = QFileDialog::getSaveFileName(this, tr("Export table"), "analysis.csv",
                                                    tr("CSV (*.csv);;LaTeX booktabs (*.tex);;Markdown (*.md);;JSON (*.json)"), &filter);
  if (path.isEmpty()) return;
  QString p = path;
  if (QFileInfo(p).suffix().isEmpty()) {
    const int a = filter.indexOf("*."), b = filter.indexOf(')', a);
    if (a >= 0 && b > a) p += filter.mid(a + 1, b - a - 1);
  }
  QString err;
  if (!exportTable(p, &err)) QMessageBox::warning(this, tr("Export"), err);
}
