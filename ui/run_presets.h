// The task builder's presets, reproducing the designs of the studies our users reproduce: which task instances (a
// task may appear several times with an alias, e.g. perplexity vs length on six corpora), with which settings and
// data files (found in the data folder), and which RoPE settings. Values a study does not state are chosen here
// and the description says which. No widgets; PresetCheck (preset_check.h) says whether the data is there.
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QStringList>
#include <QVector>

#include "rope_setting.h"

struct RunPreset {
  struct Options {
    qint64 context_length = 0;  // the ticked models' context (Length extrapolation's lengths); 0: 2048
    QString data_folder;        // where the presets' data files are; empty: defaultDataFolder()
    int rope_factor_count = 0;  // LongRoPE list entries for the ticked model (rotary dim / 2); 0: 32 (Llama-3.2-1B)
  };

  QString name, description;
  QString model;              // the checkpoint the study used, in words ("" when any)
  QStringList tasks;          // tasks to tick (the others are unticked): each task once
  QJsonObject fields;         // task → {field: text}: the first instance of each task (what the task builder applies)
  QJsonArray entries;         // every task instance, in order: {"task", "alias" (when several), field: text, ...}
  QVector<RopeSetting> rope;  // empty = leave the RoPE editor alone

  static QVector<RunPreset> all(const Options& o);
  static QVector<RunPreset> all(qint64 context_length = 0);
  static RunPreset byName(const QString& name, const Options& o);
  static RunPreset byName(const QString& name, qint64 context_length = 0);

  // ../shared/data (or shared/data) beside the application or the working folder, the first that exists going
  // up from each; empty when there is none.
  static QString defaultDataFolder();
  // The RoPE settings the preset expands into, at `target_length` (its rows expanded, duplicates removed).
  QStringList ropeSettings(qint64 target_length = 0, int factor_count = 0) const;
  // The entries of one task (several for a task with instances).
  QJsonArray entriesOf(const QString& task) const;
  // Entries beyond the first of their task: what a task builder holding one instance per task cannot apply.
  QJsonArray extraInstances() const;
};
