// Passkey retrieval grids from passkey results: accuracy per depth × length (NaN for cells not computed yet), one
// per model × setting. Also as a long table (label, length, depth, accuracy) for exports. No widgets.
#pragma once

#include <QString>
#include <QVector>

#include "task_run_result.h"

class QStandardItemModel;
class QObject;

struct PasskeyGrid {
  QString label;
  QVector<double> lengths, depths;
  QVector<QVector<double>> accuracy;  // [depth][length]
  int trials = 0;
  bool complete = false;
  bool per_byte = false;  // a byte-level model's map: lengths in bytes

  int cellsDone() const;
  static QVector<PasskeyGrid> fromResults(const QVector<TaskRunResult>& runs);
  static QStandardItemModel* toTable(const QVector<PasskeyGrid>& grids, QObject* parent);
};
