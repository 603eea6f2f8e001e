// The run queue: jobs waiting, running and finished, shown as a table (progress, tokens/s, ETA, what went wrong),
// and the worker processes that run them — one per GPU for CUDA jobs, one for CPU jobs, started on demand. Each
// idle worker takes the next job of its backend. A worker that crashes fails only its job (finished units are in
// the store; launching again resumes) and a fresh worker takes the rest.
#pragma once

#include <QAbstractTableModel>
#include <QJsonObject>
#include <QMap>
#include <QVector>
#include <functional>

#include "run_job.h"

class WorkerProcess;

class RunQueue : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Run, Worker, Status, Progress, Speed, Eta, Message, ColumnCount };
  static constexpr int FractionRole = Qt::UserRole + 20;  // double 0..1 for the progress bar

  RunQueue(QString cli, QString store, QObject* parent = nullptr);
  ~RunQueue() override;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

  // Number of CUDA workers to start for CUDA jobs (from `lmscope-cli devices`).
  void setGpuCount(int n) { gpus_ = n; }
  int gpuCount() const { return gpus_; }
  const QString& storePath() const { return store_; }

  // Queues a job (spec for one model × setting); returns its id.
  int enqueue(const QString& title, const QJsonObject& spec);
  // Past task runs from the store's history, as finished rows.
  void addStoredRuns(const QJsonArray& task_runs);
  // Cancels a queued job at once, or asks its worker to stop a running one.
  void cancel(int row);
  void cancelAll();
  // Asks every worker to quit; stopped() follows when all have exited.
  void shutdown();

  bool hasActiveWork() const;
  int activeCount() const;
  const QVector<RunJob>& jobs() const { return jobs_; }
  int rowOfJob(int id) const;
  int workerCount() const { return workers_.size(); }
  QVector<qint64> workerPids() const;

 signals:
  // `partial` and `result` events of any job (the live views' input).
  void resultEvent(const QJsonObject& e);
  void jobChanged(int row);
  void jobFinished(int row);
  void stopped();

 private:
  void dispatch();
  void ensureWorkers(const QString& backend);
  WorkerProcess* startWorker(const QString& backend, int index);
  void onEvent(WorkerProcess* w, const QJsonObject& e);
  void onExited(WorkerProcess* w, bool crashed, const QString& why);
  void finishJob(int row, RunJob::State state, const QString& message);
  void changed(int row);

  QString cli_, store_;
  int gpus_ = 0;
  int next_id_ = 1;
  bool shutting_down_ = false;
  QVector<RunJob> jobs_;
  QVector<WorkerProcess*> workers_;
  QMap<WorkerProcess*, int> running_;  // worker → job id
  QMap<WorkerProcess*, bool> cooling_;  // just finished: wait before the next request (see dispatch)
};
