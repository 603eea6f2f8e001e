#include "run_queue.h"

#include <QBrush>
#include <QCoreApplication>
#include <QLocale>
#include <QProcessEnvironment>
#include <QTimer>
#include <algorithm>
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
  static const char* names[] = {"Run", "Tasks", "Worker", "Status", "Progress", "Tokens/s", "ETA", "Message"};
  return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

QVariant RunQueue::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= jobs_.size()) return {};
  const RunJob& j = jobs_[index.row()];
  if (role == FractionRole) {
    // a bar only where there is something to count: a stored run with no unit done, or a job answered wholly from
    // the store, has none (a full bar over "0 units" read as finished work)
    if (j.state == RunJob::State::Stored) return j.units_total > 0 ? j.fraction() : -1.0;
    if (j.state == RunJob::State::Done && j.units_total == 0) return -1.0;
    return j.fraction();
  }
  if (role == Qt::ToolTipRole) {
    if (index.column() == Tasks) return taskNames(j);
    return j.message.isEmpty() ? j.title : j.message;
  }
  if (role == Qt::ForegroundRole && j.state == RunJob::State::Failed) return QBrush(Qt::darkRed);
  if (role != Qt::DisplayRole) return {};
  const QLocale loc;
  switch (index.column()) {
    case Run: return j.title;
    case Tasks: return taskNames(j);
    case Worker: return j.worker;
    case Status: return j.state == RunJob::State::Running && !j.current.isEmpty() ? tr("running %1").arg(j.current) : stateText(j.state);
    case Progress:
      if (j.state == RunJob::State::Stored)
        return j.units_total > 0 ? tr("%1 / %2 units").arg(j.units_done).arg(j.units_total) : tr("%1 units").arg(j.units_done);
      if (j.state == RunJob::State::Done && j.units_total == 0)
        return j.units_stored > 0 ? tr("%1 units, all from the store").arg(j.units_stored) : tr("from the store");
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
    j.units_total = h["unit_count"].toInteger();
    const bool complete = !h["results"].toObject().isEmpty();
    j.message = complete ? tr("finished %1").arg(h["finished"].toString()) : tr("incomplete: launch the same settings to resume");
    j.stored_info = h;
    j.task_runs = QJsonArray{h};
    jobs_.push_back(j);
  }
  endInsertRows();
}

QString RunQueue::taskNames(const RunJob& j) {
  QStringList names;
  if (j.state == RunJob::State::Stored) {
    const QString alias = j.stored_info["alias"].toString();
    names << (alias.isEmpty() ? j.stored_info["task"].toString() : alias);
  } else {
    for (const auto& t : j.spec["tasks"].toArray()) {
      const QString name = t.isString() ? t.toString() : t.toObject()["alias"].toString(t.toObject()["task"].toString());
      if (!name.isEmpty() && !names.contains(name)) names << name;
    }
  }
  return names.join(", ");
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

int RunQueue::wantedWorkers(const QString& backend) const { return backend == "cuda" ? gpus_ : std::max(cpu_workers_, 1); }

bool RunQueue::runningJob(int id) const {
  for (auto it = running_.begin(); it != running_.end(); ++it)
    if (it.value() == id) return true;
  return false;
}

void RunQueue::ensureWorkers(const QString& backend) {
  int have = 0;
  for (auto* w : workers_) have += w->backend() == backend ? 1 : 0;
  const int want = wantedWorkers(backend);
  if (backend == "cuda" && want == 0) {
    for (int r = 0; r < jobs_.size(); ++r)
      if (jobs_[r].state == RunJob::State::Queued && jobs_[r].backend == "cuda")
        finishJob(r, RunJob::State::Failed, tr("No CUDA GPU was found on this machine (or this build has no CUDA backend): choose the CPU backend."));
    return;
  }
  // The indices (GPUs) no live worker of this backend holds: a worker replacing a dead one takes its GPU.
  QSet<int> used;
  for (auto* w : workers_)
    if (w->backend() == backend) used.insert(w->index());
  for (int i = 0; have < want; ++i)
    if (!used.contains(i)) {
      workers_.push_back(startWorker(backend, i));
      ++have;
    }
}

WorkerProcess* RunQueue::startWorker(const QString& backend, int index) {
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  QString label = wantedWorkers(backend) > 1 ? QString("cpu:%1").arg(index) : QString("cpu");
  if (backend == "cuda") {
    env.insert("CUDA_VISIBLE_DEVICES", QString::number(index));  // one GPU per worker
    label = QString("cuda:%1").arg(index);
  }
  auto* w = new WorkerProcess(cli_, label, backend, env, this);
  w->setIndex(index);
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
    if (j.state == RunJob::State::Queued || (j.state == RunJob::State::Running && !j.session.isEmpty())) backends.insert(j.backend);
  for (const QString& b : backends) ensureWorkers(b);
  for (auto* w : workers_) {
    if (!w->isReady() || running_.contains(w) || cooling_.value(w)) continue;
    int pick = -1;
    for (int r = 0; r < jobs_.size() && pick < 0; ++r)
      if (jobs_[r].state == RunJob::State::Queued && jobs_[r].backend == w->backend()) pick = r;
    // Nothing waiting: take a share of a spread job still running (each worker process joins a job once).
    for (int r = 0; r < jobs_.size() && pick < 0; ++r) {
      const RunJob& j = jobs_[r];
      if (j.state == RunJob::State::Running && !j.session.isEmpty() && !j.aggregating && j.backend == w->backend() &&
          !j.finished_workers.contains(w->pid()))
        pick = r;
    }
    if (pick >= 0) startOn(w, pick);
  }
}

void RunQueue::startOn(WorkerProcess* w, int row) {
  RunJob& j = jobs_[row];
  if (j.state == RunJob::State::Queued) {
    j.state = RunJob::State::Running;
    j.worker = w->label();
    j.started = QDateTime::currentDateTime();
    j.message.clear();
    ++j.attempts;
    j.planned = false;
    j.session.clear();
    j.done_by_worker.clear();
    j.speed_by_worker.clear();
    j.finished_workers.clear();
    j.dead_workers.clear();
    j.worker_deaths = 0;
    j.aggregating = false;
    if (wantedWorkers(j.backend) > 1)
      j.session = QString("gui-%1-%2-%3").arg(QCoreApplication::applicationPid()).arg(j.id).arg(j.attempts);
  } else if (!j.worker.split(", ").contains(w->label())) {
    j.worker += ", " + w->label();
  }
  for (qint64 dead : j.dead_workers) {  // a dead worker's claimed units become free before this one plans
    QJsonObject release{{"cmd", "release_claims"}, {"id", j.id}, {"session", j.session}, {"worker", QString::number(dead)}};
    if (!store_.isEmpty()) release["store"] = store_;
    w->send(release);
  }
  j.dead_workers.clear();
  running_[w] = j.id;
  QJsonObject req{{"cmd", "run"}, {"id", j.id}, {"spec", j.spec}};
  if (!store_.isEmpty()) req["store"] = store_;  // else the worker's default store
  if (!j.session.isEmpty()) req["claims"] = QJsonObject{{"session", j.session}};
  w->send(req);
  changed(row);
}

void RunQueue::aggregate(WorkerProcess* w, int row) {
  RunJob& j = jobs_[row];
  j.aggregating = true;
  j.current.clear();
  running_[w] = j.id;  // taken now; the request goes once the worker has cleared its last run
  QTimer::singleShot(150, this, [this, w, id = j.id] {
    const int r = rowOfJob(id);
    if (r < 0 || !workers_.contains(w) || running_.value(w, -1) != id) return;
    QJsonObject req{{"cmd", "run"}, {"id", id}, {"spec", jobs_[r].spec}, {"compute", false}};
    if (!store_.isEmpty()) req["store"] = store_;
    w->send(req);
  });
  changed(row);
}

void RunQueue::onEvent(WorkerProcess* w, const QJsonObject& e) {
  const int row = rowOfJob(e["id"].toInt(-1));
  const QString ev = e["event"].toString();
  if (row < 0) return;  // answers to requests that are not jobs (none so far)
  RunJob& j = jobs_[row];
  if (!j.active()) {  // e.g. the other workers of a failed spread job answering their cancel
    if (ev == "results" || ev == "error") running_.remove(w);
    return;
  }
  const bool spread = !j.session.isEmpty();
  if ((ev == "start" || ev == "progress") && j.aggregating) return;  // the aggregating pass computes nothing
  if (ev == "start" && spread && j.planned) return;  // a joining worker: the first plan's totals stand
  if (ev == "start") {
    j.planned = true;
    j.units_total = e["units_to_compute"].toInteger();
    j.units_stored = e["units_stored"].toInteger();
    j.units_done = 0;
    j.task_runs = e["task_runs"].toArray();
    emit resultEvent(e);  // the task runs' instances (alias, configuration) before their first numbers
    if (j.units_stored > 0) j.log << tr("%1 of %2 units already in the store (reused)").arg(j.units_stored).arg(e["units_total"].toInteger());
    changed(row);
  } else if (ev == "progress" && spread) {
    j.done_by_worker[w->pid()] = e["units_done"].toInteger();
    j.speed_by_worker[w->pid()] = e["tokens_per_s"].toDouble();
    j.units_done = 0;
    for (qint64 n : j.done_by_worker) j.units_done += n;
    j.tokens_per_s = 0;
    for (double v : j.speed_by_worker) j.tokens_per_s += v;
    const double elapsed = j.started.msecsTo(QDateTime::currentDateTime()) / 1000.0;
    j.eta_s = j.units_done > 0 && elapsed > 0 ? static_cast<double>(std::max<qint64>(j.units_total - j.units_done, 0)) * elapsed / static_cast<double>(j.units_done) : -1;
    j.current = e["task"].toString();
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
      running_.remove(w);
      if (j.aggregating) {
        j.aggregating = false;
        ++j.attempts;
        QTimer::singleShot(300, this, [this, w, id = j.id] {
          const int r = rowOfJob(id);
          if (r >= 0 && workers_.contains(w) && !running_.contains(w) && jobs_[r].state == RunJob::State::Running) aggregate(w, r);
        });
        return;
      }
      if (!runningJob(j.id)) j.state = RunJob::State::Queued;  // else the job goes on on its other workers
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
    for (auto it = running_.begin(); it != running_.end(); ++it)  // a spread job's other workers stop too
      if (it.value() == j.id) it.key()->send({{"cmd", "cancel"}, {"id", j.id}});
    finishJob(row, RunJob::State::Failed, words);
  } else if (ev == "results" && spread && !j.aggregating) {
    running_.remove(w);
    j.finished_workers.insert(w->pid());
    j.speed_by_worker.remove(w->pid());
    cooling_[w] = true;  // it clears its busy flag just after this line
    QTimer::singleShot(150, this, [this, w] {
      cooling_.remove(w);
      dispatch();
    });
    if (runningJob(j.id)) {  // the others are still at it
      changed(row);
      return;
    }
    if (j.state == RunJob::State::Cancelling || e["cancelled"].toBool()) {
      finishJob(row, RunJob::State::Cancelled, tr("cancelled; %1 finished units are kept in the store").arg(j.units_done));
      return;
    }
    if (!j.dead_workers.isEmpty()) {  // a fresh worker first takes the units a dead one held
      changed(row);
      return;
    }
    cooling_.remove(w);
    aggregate(w, row);
  } else if (ev == "results") {
    running_.remove(w);
    j.aggregating = false;
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
    if (!running_.contains(w) && !cooling_.contains(w) && j.worker.split(", ").contains(w->label())) {
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
    const int id = running_.take(w), row = rowOfJob(id);
    if (row >= 0 && jobs_[row].active()) {
      RunJob& j = jobs_[row];
      if (!j.session.isEmpty() && j.state == RunJob::State::Running && ++j.worker_deaths <= 3) {
        // A spread job goes on: its claims are released before the next worker joins (a fresh one is started).
        if (!j.aggregating) j.dead_workers << w->pid();
        j.aggregating = false;
        j.speed_by_worker.remove(w->pid());
        j.log << tr("worker %1 stopped unexpectedly (%2); another takes its units").arg(w->label(), why);
        changed(row);
      } else {
        for (auto it = running_.begin(); it != running_.end(); ++it)
          if (it.value() == id) it.key()->send({{"cmd", "cancel"}, {"id", id}});
        finishJob(row, RunJob::State::Failed,
                  tr("The worker stopped unexpectedly (%1). Finished units are kept in the store; launch again to resume.").arg(why));
      }
    }
  }
  if (crashed && !was_ready && !shutting_down_) {
    // it never came up: starting another would fail the same way
    for (int r = 0; r < jobs_.size(); ++r) {
      const RunJob& j = jobs_[r];
      const bool orphan = j.state == RunJob::State::Running && !j.session.isEmpty() && !runningJob(j.id);  // no one left on it
      if ((j.state == RunJob::State::Queued || orphan) && j.backend == w->backend())
        finishJob(r, RunJob::State::Failed, tr("The engine could not be started: %1").arg(why));
    }
  }
  w->deleteLater();
  if (shutting_down_ && workers_.isEmpty()) emit stopped();
  else QTimer::singleShot(0, this, &RunQueue::dispatch);
}
