// The task builder's presets, reproducing the layouts of the seed studies: which tasks, with which lengths, and
// (for the RoPE study) which RoPE methods. Data files are left as the user set them. No widgets.
#pragma once

#include <QJsonObject>
#include <QStringList>
#include <QVector>

#include "rope_setting.h"

struct RunPreset {
  QString name, description;
  QStringList tasks;        // tasks to tick (the others are unticked)
  QJsonObject fields;       // task → {field: text} to set
  QVector<RopeSetting> rope;  // empty = leave the RoPE editor alone

  static QVector<RunPreset> all(qint64 context_length = 0);
  static RunPreset byName(const QString& name, qint64 context_length = 0);
};
