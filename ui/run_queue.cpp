#include "run_queue.h"

#include <QBrush>
#include <QLocale>
#include <QProcessEnvironment>
#include <QTimer>
#include <cmath>

#include "worker_process.h"

namespace {
QString stateText(RunJob::State s) {
  switch (s) {
    case RunJob::State::Queued: return QObject::tr("queued");
    case RunJob::State::Running: return QObject::tr("running");
    case RunJob::State::Cancelling: return QObject::tr("cancelling…");
    case RunJob::State::Done: return QObject::tr("done");
    case RunJob::State::Failed: return QObject::tr("failed");
    case RunJob::State::Cancelled: return QObject::tr("cancelled");
    case RunJob::State::Stored: return QObject::tr("in store");
  }
  return {};
}

QString duration(double s) {
  if (s < 0 || !std::isfinite(s)) return {};
  if (s < 60) return QObject::tr("%1 s").arg(std::lround(s));
  if (s < 3600) return QObject::tr("%1 min %2 s").arg(static_cast<int>(s) / 60).arg(static_cast<int>(s) % 60);
  return QObject::tr("%1 h %2 min").arg(static_cast<int>(s) / 3600).arg(static_cast<int>(s) % 3600 / 60);
}
}  // namespace

RunQueue::RunQueue(QString cli, QString store, QObject* parent)
    : QAbstractTableModel(parent), cli_(std::move(cli)), store_(std::move(store)) {}

RunQueue::~RunQueue() {
  for (auto* w : workers_) w->disconnect(this);
}

int RunQueue::rowCount(const QModelIndex& p) const { return p.isValid() ? 0 : jobs_.size(); }
int RunQueue::columnCount(const QModelIndex& p) const { return p.isValid() ? 0 : ColumnCount; }

QVariant RunQueue::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* names[] = {"Run", "Worker", "Status", "Progress", "Tokens/s", "ETA", "Message"};
  return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

QVariant RunQueue::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= jobs_.size()) return {};
  const RunJob& j = jobs_[index.row()];
  if (role == FractionRole) return j.fraction();
  if (role == Qt::ToolTipRole) return j.message.isEmpty() ? j.title : j.message;
  if (role == Qt::ForegroundRole && j.state == RunJob::State::Failed) return QBrush(Qt::darkRed);
  if (role != Qt::DisplayRole) return {};
  const QLocale loc;
  switch (index.column()) {
    case Run: return j.title;
    case Worker: return j.worker;
    case Status: return j.state == RunJob::State::Running && !j.current.isEmpty() ? tr("running %1").arg(j.current) : stateText(j.state);
    case Progress:
      if (j.state == RunJob::State::Stored) return tr("%1 units").arg(j.units_done);
      return j.units_total > 0 ? tr("%1 / %2 units").arg(j.units_done).arg(j.units_total) : QString();
    case Speed: return j.tokens_per_s > 0 ? loc.toString(std::lround(j.tokens_per_s)) : QString();
    case Eta: return j.state == RunJob::State::Running ? duration(j.eta_s) : QString();
    case Message: return j.message;
    default: return {};
  }
}

int RunQueue::enqueue(const QString& title, const QJsonObject& spec) {
  RunJob j;
  j.id = next_id_++;
  j.title = title;
  j.spec = spec;
  j.backend = spec["backend"].toString("cpu");
  beginInsertRows({}, jobs_.size(), jobs_.size());
  jobs_.push_back(j);
  endInsertRows();
  QTimer::singleShot(0, this, &RunQueue::dispatch);
  return j.id;
}

void RunQueue::addStoredRuns(const QJsonArray& list) {
  if (list.isEmpty()) return;
  beginInsertRows({}, jobs_.size(), jobs_.size() + list.size() - 1);
  for (const auto& v : list) {
    const QJsonObject h = v.toObject();
    RunJob j;
    j.id = next_id_++;
    const QString setting = h["setting"].toString();
    j.title = h["model"].toString() + (setting.isEmpty() ? QString() : QString::fromUtf8(" · ") + setting) +
              QString::fromUtf8(" · ") + h["task"].toString();
    j.state = RunJob::State::Stored;
    j.units_done = h["units_done"].toInteger();
    const bool complete = !h["results"].toObject().isEmpty();
    j.message = complete ? tr("finished %1").arg(h["finished"].toString()) : tr("incomplete: launch the same settings to resume");
    j.stored_info = h;
    j.task_runs = QJsonArray{h};
    jobs_.push_back(j);
  }
  endInsertRows();
}

int RunQueue::rowOfJob(int id) const {
  for (int r = 0; r < jobs_.size(); ++r)
    if (jobs_[r].id == id) return r;
  return -1;
}

bool RunQueue::hasActiveWork() const { return activeCount() > 0; }
int RunQueue::activeCount() const {
  int n = 0;
  for (const auto& j : jobs_) n += j.active() ? 1 : 0;
  return n;
}

QVector<qint64> RunQueue::workerPids() const {
  QVector<qint64> out;
  for (auto* w : workers_) out << w->pid();
  return out;
}

void RunQueue::changed(int row) {
  emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
  emit jobChanged(row);
}

void RunQueue::cancel(int row) {
  if (row < 0 || row >= jobs_.size()) return;
  RunJob& j = jobs_[row];
  if (j.state == RunJob::State::Queued) {
    finishJob(row, RunJob::State::Cancelled, tr("cancelled before it started"));
    return;
  }
  if (j.state != RunJob::State::Running) return;
  for (auto it = running_.begin(); it != running_.end(); ++it)
    if (it.value() == j.id) it.key()->send({{"cmd", "cancel"}, {"id", j.id}});
  j.state = RunJob::State::Cancelling;
  changed(row);
}

void RunQueue::cancelAll() {
  for (int r = 0; r < jobs_.size(); ++r)
    if (jobs_[r].active()) cancel(r);
}

void RunQueue::shutdown() {
  shutting_down_ = true;
  for (int r = 0; r < jobs_.size(); ++r)
    if (jobs_[r].state == RunJob::State::Queued) finishJob(r, RunJob::State::Cancelled, tr("not started: the window closed"));
  if (workers_.isEmpty()) {
    QTimer::singleShot(0, this, &RunQueue::stopped);
    return;
  }
  for (auto* w : workers_) w->stop();
}

void RunQueue::ensureWorkers(const QString& backend) {
  int have = 0;
  for (auto* w : workers_) have += w->backend() == backend ? 1 : 0;
  const int want = backend == "cuda" ? gpus_ : 1;
  if (backend == "cuda" && want == 0) {
    for (int r = 0; r < jobs_.size(); ++r)
      if (jobs_[r].state == RunJob::State::Queued && jobs_[r].backend == "cuda")
        finishJob(r, RunJob::State::Failed, tr("No CUDA GPU was found on this machine (or this build has no CUDA backend): choose the CPU backend."));
    return;
  }
  for (int i = have; i < want; ++i) workers_.push_back(startWorker(backend, i));
}

WorkerProcess* RunQueue::startWorker(const QString& backend, int index) {
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  QString label = "cpu";
  if (backend == "cuda") {
    env.insert("CUDA_VISIBLE_DEVICES", QString::number(index));  // one GPU per worker
    label = QString("cuda:%1").arg(index);
  }
  auto* w = new WorkerProcess(cli_, label, backend, env, this);
  connect(w, &WorkerProcess::ready, this, &RunQueue::dispatch);
  connect(w, &WorkerProcess::event, this, [this, w](const QJsonObject& e) { onEvent(w, e); });
  connect(w, &WorkerProcess::exited, this, [this, w](bool crashed, const QString& why) { onExited(w, crashed, why); });
  w->start();
  return w;
}

void RunQueue::dispatch() {
  if (shutting_down_) return;
  QSet<QString> backends;
  for (const auto& j : jobs_)
    if (j.state == RunJob::State::Queued) backends.insert(j.backend);
  for (const QString& b : backends) ensureWorkers(b);
  for (auto* w : workers_) {
    if (!w->isReady() || running_.contains(w) || cooling_.value(w)) continue;
    for (int r = 0; r < jobs_.size(); ++r) {
      RunJob& j = jobs_[r];
      if (j.state != RunJob::State::Queued || j.backend != w->backend()) continue;
      j.state = RunJob::State::Running;
      j.worker = w->label();
      j.started = QDateTime::currentDateTime();
      j.message.clear();
      ++j.attempts;
      running_[w] = j.id;
      QJsonObject req{{"cmd", "run"}, {"id", j.id}, {"spec", j.spec}};
      if (!store_.isEmpty()) req["store"] = store_;  // else the worker's default store
      w->send(req);
      changed(r);
      break;
    }
  }
}

void RunQueue::onEvent(WorkerProcess* w, const QJsonObject& e) {
  const int row = rowOfJob(e["id"].toInt(-1));
  const QString ev = e["event"].toString();
  if (row < 0) return;  // answers to requests that are not jobs (none so far)
  RunJob& j = jobs_[row];
  if (ev == "start") {
    j.units_total = e["units_to_compute"].toInteger();
    j.units_stored = e["units_stored"].toInteger();
    j.units_done = 0;
    j.task_runs = e["task_runs"].toArray();
    if (j.units_stored > 0) j.log << tr("%1 of %2 units already in the store (reused)").arg(j.units_stored).arg(e["units_total"].toInteger());
    changed(row);
  } else if (ev == "progress") {
    j.units_done = e["units_done"].toInteger();
    j.units_total = e["units_to_compute"].toInteger();
    j.tokens_per_s = e["tokens_per_s"].toDouble();
    j.eta_s = e.contains("eta_s") ? e["eta_s"].toDouble() : -1;
    j.current = e["task"].toString();
    changed(row);
  } else if (ev == "log") {
    j.log << e["message"].toString();
    changed(row);
  } else if (ev == "partial" || ev == "result") {
    emit resultEvent(e);
  } else if (ev == "error") {
    const QString msg = e["message"].toString();
    if (msg.startsWith("a run is in progress") && j.state == RunJob::State::Running && j.attempts < 20) {
      // the worker had not yet noticed its previous run ended: ask again shortly
      j.state = RunJob::State::Queued;
      running_.remove(w);
      cooling_[w] = true;
      QTimer::singleShot(300, this, [this, w] {
        cooling_.remove(w);
        dispatch();
      });
      return;
    }
    j.log << tr("error (%1): %2").arg(e["kind"].toString(), msg);
    const QString words = e["kind"].toString() == "bad_input" ? tr("Check the settings: %1").arg(msg) : tr("The engine failed: %1").arg(msg);
    running_.remove(w);
    finishJob(row, RunJob::State::Failed, words);
  } else if (ev == "results") {
    running_.remove(w);
    const bool cancelled = e["cancelled"].toBool();
    if (cancelled) finishJob(row, RunJob::State::Cancelled, tr("cancelled; %1 finished units are kept in the store").arg(j.units_done));
    else finishJob(row, RunJob::State::Done, j.units_total == 0 ? tr("answered from the store") : tr("complete"));
  }
  // "done", "unit", "cancelling": nothing to show beyond progress
}

void RunQueue::finishJob(int row, RunJob::State state, const QString& message) {
  RunJob& j = jobs_[row];
  j.state = state;
  j.message = message;
  j.ended = QDateTime::currentDateTime();
  if (state == RunJob::State::Done) j.units_done = j.units_total;
  changed(row);
  emit jobFinished(row);
  // the worker clears its busy flag just after its last line: give it a moment before the next request
  for (auto* w : workers_)
    if (!running_.contains(w) && !cooling_.contains(w) && w->label() == j.worker) {
      cooling_[w] = true;
      QTimer::singleShot(150, this, [this, w] {
        cooling_.remove(w);
        dispatch();
      });
    }
  QTimer::singleShot(0, this, &RunQueue::dispatch);
}

void RunQueue::onExited(WorkerProcess* w, bool crashed, const QString& why) {
  const bool was_ready = w->hasBeenReady();
  workers_.removeOne(w);
  cooling_.remove(w);
  if (running_.contains(w)) {
    const int row = rowOfJob(running_.take(w));
    if (row >= 0 && jobs_[row].active())
      finishJob(row, RunJob::State::Failed,
                tr("The worker stopped unexpectedly (%1). Finished units are kept in the store; launch again to resume.").arg(why));
  }
  if (crashed && !was_ready && !shutting_down_) {
    // it never came up: starting another would fail the same way
    for (int r = 0; r < jobs_.size(); ++r)
      if (jobs_[r].state == RunJob::State::Queued && jobs_[r].backend == w->backend())
        finishJob(r, RunJob::State::Failed, tr("The engine could not be started: %1").arg(why));
  }
  w->deleteLater();
  if (shutting_down_ && workers_.isEmpty()) emit stopped();
  else QTimer::singleShot(0, this, &RunQueue::dispatch);
}
