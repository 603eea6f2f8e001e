// The run queue: jobs waiting, running and finished, shown as a table (progress, tokens/s, ETA, what went wrong),
// and the worker processes that run them — one per GPU for CUDA jobs, one for CPU jobs, started on demand. Each
// idle worker takes the next job of its backend. Where a backend has several workers (GPUs), a job is spread over
// all of them: they claim its units in the store as they go, so a GPU that is free early takes more, and a worker
// that joins later (one done with its share, or a fresh one after a crash) takes what is left. A worker that crashes
// alone on a job fails only that job (finished units are in the store; launching again resumes).
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
  enum Column { Run, Tasks, Worker, Status, Progress, Speed, Eta, Message, ColumnCount };
  static constexpr int FractionRole = Qt::UserRole + 20;  // double 0..1 for the progress bar; -1: no bar (nothing to count)

  RunQueue(QString cli, QString store, QObject* parent = nullptr);
  ~RunQueue() override;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

  // Number of CUDA workers to start for CUDA jobs (from `lmscope-cli devices`).
  void setGpuCount(int n) { gpus_ = n; }
  int gpuCount() const { return gpus_; }
  // Number of CPU workers (1 unless set; more only to exercise the shared runs of several workers in tests).
  void setCpuWorkerCount(int n) { cpu_workers_ = n; }
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
  // The tasks a job runs, by name (alias when given): "ppl_vs_length, passkey".
  static QString taskNames(const RunJob& job);
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
  int wantedWorkers(const QString& backend) const;
  // Sends job `row` to worker w: a whole run, or its share of a spread run (after releasing dead workers' claims).
  void startOn(WorkerProcess* w, int row);
  // The spread job's last worker has answered: one worker aggregates it from the store.
  void aggregate(WorkerProcess* w, int row);
  bool runningJob(int id) const;
  WorkerProcess* startWorker(const QString& backend, int index);
  void onEvent(WorkerProcess* w, const QJsonObject& e);
  void onExited(WorkerProcess* w, bool crashed, const QString& why);
  void finishJob(int row, RunJob::State state, const QString& message);
  void changed(int row);

  QString cli_, store_;
  int gpus_ = 0;
  int cpu_workers_ = 1;
  int next_id_ = 1;
  bool shutting_down_ = false;
  QVector<RunJob> jobs_;
  QVector<WorkerProcess*> workers_;
  QMap<WorkerProcess*, int> running_;  // worker → job id
  QMap<WorkerProcess*, bool> cooling_;  // just finished: wait before the next request (see dispatch)
};
