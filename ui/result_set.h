// All task-run results the window shows, from live worker events and from the store's history. Views (plots,
// heatmaps, the comparison table) read it and redraw on changed(); it has no widgets, so tests feed it events.
//
// Identity: a run (run_key) belongs to one entry, model · setting · precision · weights · task instance (alias and
// config_id). Different configurations are never merged: a re-run with other data is a second entry, told apart by
// TaskRunResult::variant. Runs of one entry (e.g. the same request on another backend, or again after the store
// was copied) are alternatives: the newest complete one is shown, or the newest when it is this session's live
// run; the others stay reachable through alternatives().
#pragma once

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QVector>

#include "task_run_result.h"

class ResultSet : public QObject {
  Q_OBJECT
 public:
  using QObject::QObject;

  // A worker's `start` (configs and identities of the run's task runs), `partial` or `result` event (others are
  // ignored). Returns whether it changed anything.
  bool applyEvent(const QJsonObject& event);
  // The worker's `history` answer: task runs already in the store (marked from_store). Runs of this session
  // that it also lists keep their place and gain the store's config and provenance.
  void applyHistory(const QJsonArray& task_runs);
  void clear();
  // The shown runs of one row of the comparison (TaskRunResult::label()).
  QVector<TaskRunResult> runsOf(const QString& label) const;
  // The other runs of r's entry (same model, setting, precision, weights and task instance), newest first.
  QVector<TaskRunResult> alternatives(const TaskRunResult& r) const;

  // One per entry, with row_suffix / variant filled in among these.
  const QVector<TaskRunResult>& runs() const { return shown_all_; }
  // The runs the views draw: as runs(), or chosen among this session's only when past runs are hidden.
  QVector<TaskRunResult> visibleRuns() const { return show_stored_ ? shown_all_ : shown_session_; }
  void setShowStored(bool show);
  bool showStored() const { return show_stored_; }

 signals:
  void changed();

 private:
  void upsert(TaskRunResult r);
  void refresh();
  QVector<TaskRunResult> all_;           // every run known, one per run_key
  QHash<QString, int> by_key_;           // run_key → index in all_
  QHash<QString, QJsonObject> planned_;  // run_key → its `start` entry (alias, config, identity) until it reports
  QVector<TaskRunResult> shown_all_, shown_session_;
  qint64 next_order_ = 1;
  bool show_stored_ = true;
};
