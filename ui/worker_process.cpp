#include "worker_process.h"

#include <QJsonDocument>
#include <QTimer>

WorkerProcess::WorkerProcess(QString cli, QString label, QString backend, QProcessEnvironment env, QObject* parent)
    : QObject(parent), cli_(std::move(cli)), label_(std::move(label)), backend_(std::move(backend)), proc_(new QProcess(this)) {
  proc_->setProcessEnvironment(env);
  connect(proc_, &QProcess::readyReadStandardOutput, this, &WorkerProcess::readLines);
  connect(proc_, &QProcess::readyReadStandardError, this, [this] {
    stderr_tail_ += QString::fromUtf8(proc_->readAllStandardError());
    if (stderr_tail_.size() > 4000) stderr_tail_ = stderr_tail_.right(4000);
  });
  connect(proc_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
    if (e == QProcess::FailedToStart && !exited_) {
      exited_ = true;
      emit exited(true, tr("cannot start the engine (%1): %2").arg(cli_, proc_->errorString()));
    }
  });
  connect(proc_, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
    readLines();
    if (exited_) return;
    exited_ = true;
    ready_ = false;
    const bool crashed = !stopping_ || status == QProcess::CrashExit || code != 0;
    QString why;
    if (status == QProcess::CrashExit) why = stopping_ ? tr("stopped") : tr("the worker process crashed");
    else why = tr("the worker exited with code %1").arg(code);
    const QString tail = stderr_tail_.trimmed();
    if (crashed && !tail.isEmpty()) why += ": " + tail.section('\n', -3);
    emit exited(crashed && !stopping_, why);
  });
}

WorkerProcess::~WorkerProcess() {
  if (proc_->state() != QProcess::NotRunning) {
    exited_ = true;  // no signals from a dying object
    proc_->disconnect(this);
    proc_->kill();
    proc_->waitForFinished(1000);  // reaps the child; only reached on teardown
  }
}

void WorkerProcess::start() {
  // The worker speaks only on stdout; stderr is kept for the crash message.
  proc_->start(cli_, {"worker"});
}

void WorkerProcess::send(const QJsonObject& request) {
  proc_->write(QJsonDocument(request).toJson(QJsonDocument::Compact) + '\n');
}

void WorkerProcess::stop(int grace_ms) {
  if (proc_->state() == QProcess::NotRunning) return;
  stopping_ = true;
  send({{"cmd", "quit"}});
  proc_->closeWriteChannel();
  QTimer::singleShot(grace_ms, this, [this] {
    if (proc_->state() != QProcess::NotRunning) proc_->kill();
  });
}

void WorkerProcess::kill() {
  stopping_ = true;
  if (proc_->state() != QProcess::NotRunning) proc_->kill();
}

void WorkerProcess::readLines() {
  buffer_ += proc_->readAllStandardOutput();
  int nl;
  while ((nl = buffer_.indexOf('\n')) >= 0) {
    const QByteArray line = buffer_.left(nl).trimmed();
    buffer_.remove(0, nl + 1);
    if (line.isEmpty()) continue;
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(line, &err);
    if (!doc.isObject()) {
      // random-checkpoint or other chatter would not be JSON; report rather than drop silently
      emit event({{"event", "log"}, {"message", QString::fromUtf8(line)}});
      continue;
    }
    const QJsonObject e = doc.object();
    if (e["event"].toString() == "ready") {
      ready_ = ever_ready_ = true;
      pid_ = proc_->processId();
      emit ready();
      continue;
    }
    emit event(e);
  }
}
