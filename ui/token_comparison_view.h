// "Token by token": the compare task's results. One figure of three panels — loss vs position for every run
// (the base model's dashed beside it), KL(base ‖ model) vs position, and the ΔNLL histogram of the chosen run —
// then the chosen run's token view (its text shaded by ΔNLL, or by NLL alone) and its worst tokens, largest first.
// Redraws on every change of the ResultSet, so curves grow as units finish.
#pragma once

#include <QVector>
#include <QWidget>

#include "token_comparison.h"

class QComboBox;
class QLabel;
class QCustomPlot;
class QTableWidget;
class QTextBrowser;
class ResultSet;

class TokenComparisonView : public QWidget {
  Q_OBJECT
 public:
  explicit TokenComparisonView(ResultSet* results, QWidget* parent = nullptr);
  QCustomPlot* plot() const { return plot_; }
  const QVector<TokenComparisonRun>& runs() const { return runs_; }
  int panelCount() const;
  QTextBrowser* tokenView() const { return text_; }
  QTableWidget* worstTable() const { return worst_; }

 public slots:
  void refresh();

 private:
  void showChosen();
  ResultSet* results_;
  QComboBox* chosen_;
  QCustomPlot* plot_;
  QTextBrowser* text_;
  QTableWidget* worst_;
  QLabel* legend_;
  QVector<TokenComparisonRun> runs_;
};
