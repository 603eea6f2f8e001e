// Checks a comparison before it is launched: a worker's `check` request (docs/worker.md) builds every model's
// tokenizer and every task — data read and tokenised, lengths against the documents, settings — so what a run would
// refuse (a binary or missing data file, documents shorter than a length asked for, a bad setting) is said before
// anything is queued. Checks run in the background as the choices change (the latest choice only); launching waits
// for the check of exactly what it launches, keeping the window responsive.
#pragma once

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QPair>
#include <QString>

class QTimer;
class WorkerProcess;

class LaunchCheck : public QObject {
  Q_OBJECT
 public:
  enum class State { Unknown, Checking, Ok, Refused };
  explicit LaunchCheck(QString cli, QObject* parent = nullptr);

  // Checks `spec` once the choices have settled for a moment; a request not yet started is replaced.
  void schedule(const QJsonObject& spec);
  State state(const QJsonObject& spec) const;
  // The engine's reason when state() is Refused.
  QString problem(const QJsonObject& spec) const;
  // Checks `spec` now if it has not been, and waits for the answer (running the event loop). True when it may be
  // launched; otherwise *problem says why.
  bool waitFor(const QJsonObject& spec, QString* problem, int timeout_ms = 600000);

 signals:
  void changed();  // a check started or finished

 private:
  static QString keyOf(const QJsonObject& spec);
  void startNext();
  void finish(bool ok, const QString& problem);
  QString cli_;
  QTimer* settle_;
  WorkerProcess* worker_ = nullptr;
  QJsonObject next_spec_;
  QString next_key_, running_key_;
  QHash<QString, QPair<bool, QString>> done_;  // spec → (may launch, why not)
};
