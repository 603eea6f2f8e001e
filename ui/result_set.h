// All task-run results the window shows, from live worker events and from the store's history. Views (plots,
// heatmaps, the comparison table) read it and redraw on changed(); it has no widgets, so tests feed it events.
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

  // A worker's `partial` or `result` event (others are ignored). Returns whether it changed anything.
  bool applyEvent(const QJsonObject& event);
  // The worker's `history` answer: task runs already in the store (marked from_store). Runs of this session
  // that it also lists keep their place and gain the store's config and provenance.
  void applyHistory(const QJsonArray& task_runs);
  void clear();
  // The runs of one row of the comparison (model · setting label).
  QVector<TaskRunResult> runsOf(const QString& label) const;

  // One entry per model × setting × task: the newest wins (a re-run replaces an older one in place).
  const QVector<TaskRunResult>& runs() const { return runs_; }
  // The runs the views draw: all, or only this session's when past runs are hidden.
  QVector<TaskRunResult> visibleRuns() const;
  void setShowStored(bool show);
  bool showStored() const { return show_stored_; }

 signals:
  void changed();

 private:
  void upsert(TaskRunResult r);
  QVector<TaskRunResult> runs_;
  QHash<QString, int> index_;  // model|setting|task → row
  bool show_stored_ = true;
};
