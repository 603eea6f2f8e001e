#include "launch_check.h"

#include <QEventLoop>
#include <QJsonDocument>
#include <QProcessEnvironment>
#include <QTimer>

#include "worker_process.h"

LaunchCheck::LaunchCheck(QString cli, QObject* parent) : QObject(parent), cli_(std::move(cli)), settle_(new QTimer(this)) {
  settle_->setSingleShot(true);
  settle_->setInterval(400);  // typing a length list is several edits: check what the user stops at
  connect(settle_, &QTimer::timeout, this, &LaunchCheck::startNext);
}

QString LaunchCheck::keyOf(const QJsonObject& spec) {
  return QString::fromUtf8(QJsonDocument(spec).toJson(QJsonDocument::Compact));
}

void LaunchCheck::schedule(const QJsonObject& spec) {
  const QString k = keyOf(spec);
  if (done_.contains(k) || k == running_key_ || k == next_key_) return;
  next_key_ = k;
  next_spec_ = spec;
  settle_->start();
}

LaunchCheck::State LaunchCheck::state(const QJsonObject& spec) const {
  const QString k = keyOf(spec);
  if (const auto it = done_.find(k); it != done_.end()) return it->first ? State::Ok : State::Refused;
  return k == running_key_ || k == next_key_ ? State::Checking : State::Unknown;
}

QString LaunchCheck::problem(const QJsonObject& spec) const { return done_.value(keyOf(spec)).second; }

void LaunchCheck::startNext() {
  if (!running_key_.isEmpty() || next_key_.isEmpty()) return;  // one at a time; the newest waits its turn
  running_key_ = next_key_;
  const QJsonObject spec = next_spec_;
  next_key_.clear();
  next_spec_ = {};
  emit changed();
  auto send = [this, spec] { worker_->send({{"cmd", "check"}, {"id", "check"}, {"spec", spec}}); };
  if (worker_ && worker_->isReady()) return send();
  if (!worker_) {
    // one worker for the window's checks, started when first needed
    worker_ = new WorkerProcess(cli_, "check", "cpu", QProcessEnvironment::systemEnvironment(), this);
    connect(worker_, &WorkerProcess::ready, this, send);
    connect(worker_, &WorkerProcess::event, this, [this](const QJsonObject& e) {
      const QString ev = e["event"].toString();
      if (ev == "checked") finish(true, {});
      else if (ev == "error") finish(false, e["message"].toString());
    });
    connect(worker_, &WorkerProcess::exited, this, [this](bool, const QString& why) {
      worker_->deleteLater();
      worker_ = nullptr;
      if (!running_key_.isEmpty()) finish(false, tr("the data check stopped unexpectedly (%1)").arg(why));
    });
    worker_->start();
  }
}

void LaunchCheck::finish(bool ok, const QString& problem) {
  if (running_key_.isEmpty()) return;
  done_.insert(running_key_, {ok, problem});
  running_key_.clear();
  emit changed();
  if (!next_key_.isEmpty() && !settle_->isActive()) startNext();
}

bool LaunchCheck::waitFor(const QJsonObject& spec, QString* problem, int timeout_ms) {
  const QString k = keyOf(spec);
  if (!done_.contains(k)) {
    if (k != running_key_) {
      next_key_ = k;
      next_spec_ = spec;
      settle_->stop();
      startNext();  // at once, or right after the check in flight
    }
    QEventLoop loop;
    QTimer limit;
    limit.setSingleShot(true);
    connect(&limit, &QTimer::timeout, &loop, &QEventLoop::quit);
    connect(this, &LaunchCheck::changed, &loop, [&] {
      if (done_.contains(k)) loop.quit();
    });
    limit.start(timeout_ms);
    if (!done_.contains(k)) loop.exec(QEventLoop::ExcludeUserInputEvents);
  }
  if (!done_.contains(k)) {
    if (problem) *problem = tr("the data check did not finish within %1 s").arg(timeout_ms / 1000);
    return false;
  }
  if (problem) *problem = done_[k].second;
  return done_[k].first;
}
