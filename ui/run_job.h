// One entry of the run queue: a run spec for one model × RoPE setting (all chosen tasks), sent to a worker as one
// `run` request; or a task run found in the results store from an earlier session.
#pragma once

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QSet>
#include <QStringList>

struct RunJob {
  enum class State { Queued, Running, Cancelling, Done, Failed, Cancelled, Stored };
  int id = 0;
  QString title;    // "model · setting"
  QString backend;  // which workers can take it
  QJsonObject spec;
  State state = State::Queued;
  QString worker;   // label of the worker running it
  qint64 units_done = 0, units_total = 0, units_stored = 0;
  double tokens_per_s = 0, eta_s = -1;
  QString current;  // task being computed
  QString message;  // last error or outcome, in words
  QStringList log;
  QJsonArray task_runs;     // from the `start` event (or the store)
  QJsonObject stored_info;  // history entry for Stored rows
  QDateTime started, ended;
  int attempts = 0;
  // Spread over several workers (a backend with more than one, e.g. several GPUs): they share the run through unit
  // claims in the store under `session`; progress is the sum of theirs, and once the last has answered, one worker
  // aggregates the run from the store (`aggregating`).
  QString session;
  QMap<qint64, qint64> done_by_worker;      // worker pid → units it computed
  QMap<qint64, double> speed_by_worker;     // worker pid → tokens/s
  QSet<qint64> finished_workers;            // pids that answered `results` (they do not join again)
  QList<qint64> dead_workers;               // pids that died holding claims, to release before the next joins
  int worker_deaths = 0;
  bool planned = false;  // the first `start` of this attempt arrived (joining workers' plans do not reset progress)
  bool aggregating = false;

  bool active() const { return state == State::Queued || state == State::Running || state == State::Cancelling; }
  double fraction() const {
    if (state == State::Done) return 1.0;
    if (state == State::Stored && units_total <= 0) return units_done > 0 ? 1.0 : 0.0;  // older history without unit_count
    return units_total > 0 ? static_cast<double>(units_done) / static_cast<double>(units_total) : 0.0;
  }
};
