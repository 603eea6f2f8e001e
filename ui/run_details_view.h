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
  void showJob(const RunJob& job);
  static QString describe(const RunJob& job);  // the HTML shown (tests read it)
  // A comparison row: each task's metrics, resolved config and provenance (weights fingerprint, device, version).
  void showResults(const QString& label, const QVector<TaskRunResult>& runs);
  static QString describe(const QString& label, const QVector<TaskRunResult>& runs);
};
