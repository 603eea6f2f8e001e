// One row of the RoPE editor: a method and its parameters, each parameter a value, list or range (ValueList), so
// one row can stand for a grid sweep. Validation mirrors the engine's rules (engine/src/rope.cpp) so mistakes show
// while typing instead of as a failed run; expansion gives the override strings the run spec's `rope` list takes.
// No widgets here: the rules and the expansion are unit-tested.
#pragma once

#include <QJsonValue>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QVector>

class RopeSetting {
 public:
  // "checkpoint" = the checkpoint's own RoPE (no override); the others are the engine's methods.
  static QStringList methods();
  // The parameters the editor offers for a method, most important first.
  static QStringList parametersOf(const QString& method);
  // Parameters a method cannot run without.
  static QStringList requiredOf(const QString& method);

  struct Issue {
    QString key;  // the parameter, or empty for the row as a whole
    QString message;
  };

  QString method = "checkpoint";
  QVector<QPair<QString, QString>> params;  // key → what the user typed (only non-empty ones matter)

  void set(const QString& key, const QString& text);
  QString value(const QString& key) const;

  // Problems, in words. `target_length`: the longest context the tasks evaluate (0 = unknown), used to check that
  // an original context length does not exceed what the extension targets.
  QVector<Issue> validate(qint64 target_length = 0) const;
  bool isValid(qint64 target_length = 0) const { return validate(target_length).isEmpty(); }
  // Number of settings this row expands into (1 for a row without lists; 0 when invalid).
  int count() const;
  // Override strings (cartesian product, parameters in the order shown); {""} for the checkpoint's own.
  QStringList expand() const;
  // For the run spec: null, an override string, or a grid object with lists (the engine expands it the same way).
  QJsonValue toSpecEntry() const;
  // Short text for lists and labels: "yarn: factor 2, 4 × original 512".
  QString summary() const;
};
