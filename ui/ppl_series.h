// Perplexity-vs-length lines from ppl_vs_length results: one per model × setting, points (context length, PPL)
// sorted by length. Also as a table (lengths × lines) for exports. No widgets, so tests check the numbers.
#pragma once

#include <QString>
#include <QVector>

#include "task_run_result.h"

class QStandardItemModel;
class QObject;

struct PplSeries {
  QString label;
  QVector<double> lengths, ppl;
  bool complete = false;

  static QVector<PplSeries> fromResults(const QVector<TaskRunResult>& runs);
  // Rows: context lengths; columns: "context length", then one per series (TableRole::Value holds the numbers).
  static QStandardItemModel* toTable(const QVector<PplSeries>& series, QObject* parent);
};
