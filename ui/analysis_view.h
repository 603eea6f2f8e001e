// The Analysis tab (issue 18): the visible results in long form (ui/result_records.h) summarised five ways —
// Summary (group by method / family / model / length / task: n, mean, best, std, ranked by mean), Top N
// configurations of a metric, Correlation of two metrics across settings (Pearson and Spearman with n and p, and a
// scatter plot), Averages (task metrics per model · setting with an Avg column over the accuracy-like ones, optional
// group averages), and Paired comparison of two rows on the same items (McNemar for right/wrong outcomes, paired
// bootstrap of the mean difference), whose per-item outcomes come from the store through the worker's `items`.
// Every table exports as CSV / LaTeX / Markdown / JSON. The numbers come from ui/result_analysis.h; the widget only
// shows them.
#pragma once

#include <QJsonArray>
#include <QWidget>
#include <functional>

#include "analysis_table.h"
#include "result_analysis.h"

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QLabel;
class QPushButton;
class QSortFilterProxyModel;
class QSpinBox;
class QStackedWidget;
class QTableView;
class ResultSet;

class AnalysisView : public QWidget {
  Q_OBJECT
 public:
  enum class Mode { Summary, TopN, Correlation, Averages, Paired };
  explicit AnalysisView(ResultSet* results, QWidget* parent = nullptr);

  // Model name or folder → family, from the model library.
  void setFamilies(const lmscope::analysis::FamilyLookup& families);
  // How the view gets per-item outcomes: asked with run keys, answers with the worker's `items` runs or an error.
  using ItemsCallback = std::function<void(const QJsonArray& runs, const QString& error)>;
  using ItemsFetcher = std::function<void(const QStringList& run_keys, ItemsCallback done)>;
  void setItemsFetcher(ItemsFetcher f) { fetch_items_ = std::move(f); }

  void setMode(Mode m);
  Mode mode() const;
  // The metric choices offered (MetricChoice::text()) and selecting one by its text (Summary, Top N; Correlation's x).
  QStringList metricChoices() const;
  bool setMetric(const QString& text);
  void setGroupBy(lmscope::analysis::GroupBy g);
  void setTopN(int n);
  bool setCorrelation(const QString& x, const QString& y);
  void setAveragesOptions(const lmscope::analysis::AveragesOptions& o);
  // Paired comparison: the rows (model · setting) and task instances offered, and a comparison started (asynchronous:
  // pairedFinished() when the items have come).
  QStringList pairedRows() const;
  QStringList pairedInstances() const;
  bool comparePaired(const QString& row_a, const QString& row_b, const QString& instance);
  bool setPairedOutcome(const QString& outcome);
  const lmscope::analysis::PairedComparison& paired() const { return paired_; }

  const QVector<lmscope::analysis::ResultRecord>& records() const { return records_; }
  AnalysisTable* table() const { return table_; }
  QAbstractItemModel* sortedTable() const;
  // The line under the table: what it shows, and what was left out or does not match.
  QString note() const;
  QCustomPlot* scatter() const { return plot_; }
  bool exportTable(const QString& path, QString* error = nullptr) const;

 signals:
  void pairedFinished();

 public slots:
  void refresh();

 private:
  void rebuildChoices();
  void recompute();
  void showScatter(const lmscope::analysis::CorrelationResult& c);
  void exportDialog();
  void pairedChoicesChanged();
  void showPaired();

  ResultSet* results_;
  lmscope::analysis::FamilyLookup families_;
  QVector<lmscope::analysis::ResultRecord> records_;
  QVector<lmscope::analysis::MetricChoice> choices_;
  AnalysisTable* table_;
  QSortFilterProxyModel* sorted_;
  QComboBox* mode_;
  QStackedWidget* controls_;
  QComboBox *metric_, *group_, *top_metric_, *x_, *y_, *avg_group_;
  QSpinBox* top_n_;
  QCheckBox *acc_norm_, *group_avgs_;
  QComboBox *row_a_, *row_b_, *instance_, *outcome_;
  QPushButton* compare_;
  QTableView* view_;
  QCustomPlot* plot_;
  QLabel* note_;
  ItemsFetcher fetch_items_;
  // the last paired comparison: its runs' items and what it was asked
  lmscope::analysis::RunItems items_a_, items_b_;
  QString config_a_, config_b_, paired_a_, paired_b_, paired_instance_;
  lmscope::analysis::PairedComparison paired_;
  QString paired_status_;
  bool updating_ = false;
};
