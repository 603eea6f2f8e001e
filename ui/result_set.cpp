#include "result_set.h"

namespace {
QString keyOf(const TaskRunResult& r) { return r.model + '\x1f' + r.setting + '\x1f' + r.task; }
}  // namespace

bool ResultSet::applyEvent(const QJsonObject& e) {
  const QString ev = e["event"].toString();
  if (ev != "partial" && ev != "result") return false;
  TaskRunResult r;
  r.run_key = e["run_key"].toString();
  r.model = e["model"].toString();
  r.setting = e["setting"].toString();
  r.task = e["task"].toString();
  r.metrics = e["metrics"].toObject();
  r.details = e["details"].toObject();
  r.complete = ev == "result";
  r.unit_count = e["unit_count"].toInteger();
  r.units_done = r.complete ? r.unit_count : e["units_done"].toInteger();
  // keep what only history knew (config, provenance) when a live event updates a stored run
  if (const auto it = index_.find(keyOf(r)); it != index_.end() && runs_[*it].run_key == r.run_key) {
    r.config = runs_[*it].config;
    r.provenance = runs_[*it].provenance;
    r.model_path = runs_[*it].model_path;
    if (r.complete && r.unit_count == 0) r.unit_count = r.units_done = runs_[*it].unit_count;
  }
  upsert(std::move(r));
  emit changed();
  return true;
}

void ResultSet::applyHistory(const QJsonArray& list) {
  // oldest first, so the newest run of a model × setting × task is the one kept
  QVector<QJsonObject> rows;
  for (const auto& v : list) rows.push_back(v.toObject());
  std::stable_sort(rows.begin(), rows.end(), [](const QJsonObject& a, const QJsonObject& b) {
    return a["created"].toString() < b["created"].toString();
  });
  for (const QJsonObject& h : rows) {
    TaskRunResult r;
    r.run_key = h["run_key"].toString();
    r.model = h["model"].toString();
    r.model_path = h["model_path"].toString();
    r.setting = h["setting"].toString();
    r.task = h["task"].toString();
    r.config = h["config"].toObject();
    r.provenance = h["provenance"].toObject();
    r.finished = h["finished"].toString();
    const QJsonObject res = h["results"].toObject();
    r.metrics = res["metrics"].toObject();
    r.details = res["details"].toObject();
    r.units_done = h["units_done"].toInteger();
    r.unit_count = h["unit_count"].toInteger();
    r.complete = !res.isEmpty();
    if (r.unit_count < r.units_done) r.unit_count = r.units_done;
    r.from_store = true;
    if (r.metrics.isEmpty()) continue;  // nothing aggregated yet: no numbers to show (the queue lists it)
    // a run of this session: keep it as it is, adding what only the store knows (config, provenance)
    if (const auto it = index_.find(keyOf(r)); it != index_.end() && runs_[*it].run_key == r.run_key && !runs_[*it].from_store) {
      TaskRunResult& live = runs_[*it];
      live.config = r.config;
      live.provenance = r.provenance;
      live.model_path = r.model_path;
      live.finished = r.finished;
      continue;
    }
    upsert(std::move(r));
  }
  emit changed();
}

void ResultSet::clear() {
  runs_.clear();
  index_.clear();
  emit changed();
}

QVector<TaskRunResult> ResultSet::visibleRuns() const {
  if (show_stored_) return runs_;
  QVector<TaskRunResult> out;
  for (const auto& r : runs_)
    if (!r.from_store) out.push_back(r);
  return out;
}

QVector<TaskRunResult> ResultSet::runsOf(const QString& label) const {
  QVector<TaskRunResult> out;
  for (const auto& r : runs_)
    if (r.label() == label) out.push_back(r);
  return out;
}

void ResultSet::setShowStored(bool show) {
  if (show == show_stored_) return;
  show_stored_ = show;
  emit changed();
}

void ResultSet::upsert(TaskRunResult r) {
  const QString k = keyOf(r);
  if (const auto it = index_.find(k); it != index_.end()) {
    runs_[*it] = std::move(r);
  } else {
    index_.insert(k, runs_.size());
    runs_.push_back(std::move(r));
  }
}
