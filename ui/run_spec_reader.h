// File ▸ Open run spec: a run spec (as File ▸ Save run spec writes it, or any `lmscope-cli run` takes) read back
// into the window's choices — the models with their tokenizers, the RoPE rows (grids stay grids), the tasks with
// their settings as the task builder's fields show them, and the run-wide settings. What the window cannot hold is
// listed in `notes` rather than dropped silently. No widgets: tested alone.
#pragma once

#include <QJsonObject>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QVector>
#include <optional>

#include "rope_setting.h"

struct OpenedRunSpec {
  struct Model {
    QString path, name, tokenizer;  // tokenizer: "" = the folder's own, "bytes", or a file
  };
  struct Task {
    QString task, alias;
    QVector<QPair<QString, QString>> fields;  // key → text as typed in the task builder ("256, 512"; files "a; b")
  };
  QString name;
  QVector<Model> models;
  QVector<RopeSetting> rope;
  QVector<Task> tasks;
  QVector<QPair<QString, QString>> globals;  // backend, dtype, seed, limit, max_length, batch_size (those given)
  QStringList notes;                         // what could not be carried over, in words

  // Relative paths resolve against `base_dir` (the spec's folder), as the engine resolves them.
  static std::optional<OpenedRunSpec> read(const QJsonObject& spec, const QString& base_dir, QString* error = nullptr);
  static std::optional<OpenedRunSpec> readFile(const QString& path, QString* error = nullptr);
  // A task setting's JSON value as the task builder's field shows it.
  static QString fieldText(const QString& task, const QString& key, const QJsonValue& v, const QString& base_dir, bool* ok = nullptr);
};
