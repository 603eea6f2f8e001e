// Turns the window's choices (models with their tokenizers, RoPE settings, task objects, run-wide settings) into
// run specs (docs/evaluation.md): one spec for the whole comparison (to save or show) and one per model × RoPE
// setting (the queue's jobs, so each can run on its own worker and be cancelled alone). No widgets: tested alone.
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QPair>
#include <QStringList>
#include <QVector>

struct ModelChoice {
  QString path, name;
  QString tokenizer;  // "" = the folder's own, "bytes"
};

class RunSpecBuilder {
 public:
  QString name;
  QVector<ModelChoice> models;
  QStringList rope{""};  // override strings; "" = the checkpoint's own
  QJsonArray tasks;      // task objects ({"task": "passkey", "lengths": [...]})
  QJsonObject globals;   // backend, dtype, seed, limit, max_length, batch_size (only those set)

  qint64 taskRunCount() const { return static_cast<qint64>(models.size()) * rope.size() * tasks.size(); }
  QStringList problems() const;
  QJsonObject fullSpec() const;
  // (title, spec) per model × setting.
  QVector<QPair<QString, QJsonObject>> jobs() const;

 private:
  QJsonObject specFor(const QVector<ModelChoice>& ms, const QStringList& rope) const;
};
