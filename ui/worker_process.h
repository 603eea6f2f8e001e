// One `lmscope-cli worker` child process (docs/worker.md): requests go to its stdin as JSON lines, every line it
// prints comes back as an event. All asynchronous (QProcess signals), so the UI thread never waits on the engine.
// A worker that dies without being asked reports exited(crashed = true) with what it last printed to stderr.
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QProcess>
#include <QString>

class WorkerProcess : public QObject {
  Q_OBJECT
 public:
  // `backend`: "cpu" or "cuda"; `env` carries CUDA_VISIBLE_DEVICES for a GPU worker.
  WorkerProcess(QString cli, QString label, QString backend, QProcessEnvironment env, QObject* parent = nullptr);
  ~WorkerProcess() override;
  void start();
  void send(const QJsonObject& request);
  // Asks it to quit (a run in progress stops at its next forward pass, finished units stay stored); kills it if it
  // has not exited after `grace_ms`.
  void stop(int grace_ms = 5000);
  void kill();

  const QString& label() const { return label_; }
  // Which of its backend's workers it is (the GPU, for CUDA).
  int index() const { return index_; }
  void setIndex(int i) { index_ = i; }
  const QString& backend() const { return backend_; }
  bool isReady() const { return ready_; }
  bool hasBeenReady() const { return ever_ready_; }
  bool isRunning() const { return proc_->state() != QProcess::NotRunning; }
  // The process id, also after it has exited (a shared run's claims are named by it).
  qint64 pid() const { return pid_ ? pid_ : proc_->processId(); }

 signals:
  void ready();
  void event(const QJsonObject& e);
  void exited(bool crashed, const QString& why);

 private:
  void readLines();
  QString cli_, label_, backend_;
  QProcess* proc_;
  QByteArray buffer_;
  QString stderr_tail_;
  bool ready_ = false, ever_ready_ = false, stopping_ = false, exited_ = false;
  qint64 pid_ = 0;
  int index_ = 0;
};
