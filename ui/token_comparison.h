// What the compare task reported for one model · setting, read for the "Token by token" view: per-position
// curves (loss, and against a base model KL and top-1 agreement), the ΔNLL histogram, the worst tokens and the
// token view's text. No widgets, so tests check the numbers; toTable() gives the curves for exports.
#pragma once

#include <QString>
#include <QVector>

#include "task_run_result.h"

class QStandardItemModel;
class QObject;

struct TokenComparisonRun {
  struct Worst {
    qint64 context = 0;
    QString text, before;
    double nll = 0, base_nll = 0, delta = 0, kl = 0;
    bool top1_same = false;
  };
  QString label;
  bool paired = false;  // against a base model
  bool complete = false;
  QVector<double> context;  // the bucket's middle (tokens the prediction sees)
  QVector<double> nll, base_nll, kl, agreement;
  QVector<double> hist_edges, hist_counts;
  qint64 hist_below = 0, hist_above = 0;
  QVector<Worst> worst;
  // The token view: the context before the shown tokens, then one piece and one value per token.
  QString view_context, view_value;
  qint64 view_first_context = 0;
  QVector<QString> view_pieces;
  QVector<double> view_values;

  static QVector<TokenComparisonRun> fromResults(const QVector<TaskRunResult>& runs);
  // Rows: bucket middles; columns "context (tokens)", then per run its NLL (and base NLL, KL, agreement).
  static QStandardItemModel* toTable(const QVector<TokenComparisonRun>& runs, QObject* parent);
  // The token view as HTML: each token shaded by its value (blue: lower than the base / easy, red: higher),
  // its numbers in the tooltip.
  QString viewHtml() const;
};
