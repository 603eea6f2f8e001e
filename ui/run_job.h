// One entry of the run queue: a run spec for one model × RoPE setting (all chosen tasks), sent to a worker as one
// `run` request; or a task run found in the results store from an earlier session.
#pragma once

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
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

  bool active() const { return state == State::Queued || state == State::Running || state == State::Cancelling; }
  double fraction() const {
    if (state == State::Done || state == State::Stored) return 1.0;
    return units_total > 0 ? static_cast<double>(units_done) / static_cast<double>(units_total) : 0.0;
  }
};
