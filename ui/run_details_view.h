// Per-run details: what a queue entry ran (its run spec), what the worker said (task runs, reused units, log,
// errors) and, for runs from the store, their provenance (weights fingerprint, device, engine version) and config.
#pragma once

#include <QTextBrowser>
#include <QVector>

struct RunJob;
struct TaskRunResult;

class RunDetailsView : public QTextBrowser {
  Q_OBJECT
 public:
  using QTextBrowser::QTextBrowser;
  // A queue entry; `runs`: what the window knows of results (their provenance — weights fingerprint, data hash,
  // device, engine version — joins a finished job's task runs by run key once the store has been read).
  void showJob(const RunJob& job, const QVector<TaskRunResult>& runs = {});
  static QString describe(const RunJob& job, const QVector<TaskRunResult>& runs = {});  // the HTML shown (tests read it)
  bool showingJob() const { return showing_job_; }
  // A comparison row: each task's metrics, resolved config and provenance (weights fingerprint, device, version).
  // `alternatives`: per shown run (same order), the other runs of its configuration (ResultSet::alternatives).
  void showResults(const QString& label, const QVector<TaskRunResult>& runs,
                   const QVector<QVector<TaskRunResult>>& alternatives = {});
  static QString describe(const QString& label, const QVector<TaskRunResult>& runs,
                          const QVector<QVector<TaskRunResult>>& alternatives = {});

 private:
  bool showing_job_ = false;
  int shown_job_id_ = -1;
};
