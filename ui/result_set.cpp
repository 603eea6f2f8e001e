#include "result_set.h"

#include <QDateTime>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSet>
#include <algorithm>
#include <map>

namespace {

qint64 nowOrder() { return QDateTime::currentMSecsSinceEpoch(); }

qint64 createdOrder(const QString& created) {
  const QDateTime t = QDateTime::fromString(created, Qt::ISODate);
  return t.isValid() ? t.toMSecsSinceEpoch() : 0;
}

// Fields of an event or history row that say which instance and run a result belongs to.
void readInstance(const QJsonObject& o, TaskRunResult& r) {
  if (o.contains("alias")) r.alias = o["alias"].toString();
  if (o.contains("config_id")) r.config_id = o["config_id"].toString();
  if (o["identity"].isObject()) r.identity = o["identity"].toObject();
  if (o["config"].isObject()) r.config = o["config"].toObject();
  if (o.contains("dtype")) r.dtype = o["dtype"].toString();
  if (o.contains("weights")) r.weights = o["weights"].toString();
  if (o["tokenizer"].isString()) r.tokenizer = o["tokenizer"].toString();
}

QString compact(const QJsonValue& v) {
  if (v.isString()) return v.toString();
  if (v.isDouble()) return QString::number(v.toDouble(), 'g', 10);
  if (v.isBool()) return v.toBool() ? "true" : "false";
  if (v.isArray()) return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
  if (v.isObject()) return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
  return "null";
}

QString fileName(const QJsonValue& v) { return v.isString() ? QFileInfo(v.toString()).fileName() : QString(); }

// An identity as readable name → value pairs: settings as asked, data contents by their files' names (their hash
// when the name is unknown).
std::map<QString, QString> readableIdentity(const TaskRunResult& r) {
  std::map<QString, QString> out;
  const QJsonObject settings = r.identity.contains("settings") ? r.identity["settings"].toObject() : r.identity["config"].toObject();
  for (auto it = settings.begin(); it != settings.end(); ++it) out[it.key()] = compact(it.value());
  const QJsonObject content = r.identity["content"].toObject();
  auto named = [&](const char* key, const char* label, const QString& file) {
    if (!content.contains(key)) return;
    out[label] = file.isEmpty() ? "#" + compact(content[key]).left(8) : file;
  };
  named("data_hash", "data", fileName(r.config["data"]));
  named("filler", "filler", fileName(r.config["filler_file"]));
  named("haystack", "haystack", fileName(r.config["haystack_file"]));
  if (content.contains("data_sets")) {
    QStringList names;
    for (const auto& d : r.config["data"].toArray()) names << fileName(d.toObject()["path"]);
    out["data"] = names.join('+');
  }
  if (r.identity.contains("second_model")) {
    const QString who = r.config.contains("base") ? "base" : "evaluator";
    const QString f = fileName(r.config[who]);
    out[who] = f.isEmpty() ? compact(r.identity["second_model"]).left(8) : f;
  }
  return out;
}

// Fills row_suffix and variant: for names (a row's model · setting, an instance's alias) shared by different
// entries, what differs.
void label(QVector<TaskRunResult>& shown) {
  QHash<QString, QSet<QString>> dtypes, weights, configs;
  auto rowName = [](const TaskRunResult& r) { return r.model + '\x1f' + r.setting; };
  for (const auto& r : shown) {
    dtypes[rowName(r)].insert(r.dtype);
    weights[rowName(r)].insert(r.weights);
    configs[r.instanceName()].insert(r.config_id);
  }
  QHash<QString, QVector<int>> instances;
  for (int i = 0; i < shown.size(); ++i) {
    auto& r = shown[i];
    r.row_suffix.clear();
    r.variant.clear();
    if (dtypes[rowName(r)].size() > 1) r.row_suffix += QString::fromUtf8(" · ") + (r.dtype.isEmpty() ? "?" : r.dtype);
    if (weights[rowName(r)].size() > 1)
      r.row_suffix += QString::fromUtf8(" · weights ") + (r.weights.isEmpty() ? "?" : r.weights.left(6));
    if (configs[r.instanceName()].size() > 1) instances[r.instanceName()].push_back(i);
  }
  for (const auto& members : instances) {
    // the fields whose values are not the same in every configuration of this name ("default" where absent)
    QVector<std::map<QString, QString>> readable;
    QSet<QString> keys;
    for (int i : members) {
      readable.push_back(readableIdentity(shown[i]));
      for (const auto& [k, v] : readable.back()) keys.insert(k);
    }
    QStringList differing;
    for (const QString& k : keys) {
      QSet<QString> values;
      for (const auto& m : readable) values.insert(m.count(k) ? m.at(k) : QStringLiteral("default"));
      if (values.size() > 1) differing << k;
    }
    std::sort(differing.begin(), differing.end(), [](const QString& a, const QString& b) {
      return std::make_pair(a != "data", a) < std::make_pair(b != "data", b);  // the data file first
    });
    QHash<QString, QSet<QString>> configs_of_text;
    for (int m = 0; m < members.size(); ++m) {
      QStringList parts;
      for (const QString& k : differing.mid(0, 3))
        parts << k + " " + (readable[m].count(k) ? readable[m].at(k) : QStringLiteral("default"));
      shown[members[m]].variant = parts.join(", ");
      configs_of_text[shown[members[m]].variant].insert(shown[members[m]].config_id);
    }
    // equal text for different configurations (same file name, other contents; a difference beyond the first
    // three): the identity's own name tells them apart
    for (int i : members)
      if (configs_of_text[shown[i].variant].size() > 1)
        shown[i].variant += (shown[i].variant.isEmpty() ? "#" : " #") + shown[i].config_id.left(6);
  }
}

// One run per entry: the newest complete one, or the newest when that is a live run of this session.
QVector<TaskRunResult> choose(const QVector<TaskRunResult>& runs) {
  QVector<TaskRunResult> out;
  QHash<QString, int> slot;
  for (const auto& r : runs) {
    const QString k = r.entryKey();
    const auto it = slot.find(k);
    if (it == slot.end()) {
      slot.insert(k, out.size());
      out.push_back(r);
      continue;
    }
    TaskRunResult& cur = out[*it];
    const bool newer = r.order > cur.order;
    const bool r_live = !r.from_store && !r.complete, cur_live = !cur.from_store && !cur.complete;
    bool take;
    if (r.complete != cur.complete) take = r.complete ? !(cur_live && cur.order > r.order) : (r_live && newer);
    else take = newer;
    if (take) cur = r;
  }
  label(out);
  return out;
}

}  // namespace

bool ResultSet::applyEvent(const QJsonObject& e) {
  const QString ev = e["event"].toString();
  if (ev == "start") {
    for (const auto& v : e["task_runs"].toArray()) {
      const QJsonObject o = v.toObject();
      planned_.insert(o["run_key"].toString(), o);
    }
    return false;
  }
  if (ev != "partial" && ev != "result") return false;
  TaskRunResult r;
  r.run_key = e["run_key"].toString();
  r.model = e["model"].toString();
  r.setting = e["setting"].toString();
  r.task = e["task"].toString();
  if (const auto p = planned_.find(r.run_key); p != planned_.end()) readInstance(*p, r);
  readInstance(e, r);
  r.metrics = e["metrics"].toObject();
  r.details = e["details"].toObject();
  r.complete = ev == "result";
  r.unit_count = e["unit_count"].toInteger();
  r.units_done = r.complete ? r.unit_count : e["units_done"].toInteger();
  r.order = std::max(nowOrder(), next_order_);
  next_order_ = r.order + 1;
  // keep what only history knew (config, provenance, ...) when a live event updates a known run
  if (const auto it = by_key_.find(r.run_key); it != by_key_.end()) {
    const TaskRunResult& old = all_[*it];
    if (r.config.isEmpty()) r.config = old.config;
    if (r.identity.isEmpty()) r.identity = old.identity;
    if (r.alias.isEmpty()) r.alias = old.alias;
    if (r.config_id.isEmpty()) r.config_id = old.config_id;
    if (r.dtype.isEmpty()) r.dtype = old.dtype;
    if (r.weights.isEmpty()) r.weights = old.weights;
    if (r.tokenizer.isEmpty()) r.tokenizer = old.tokenizer;
    r.provenance = old.provenance;
    r.model_path = old.model_path;
    r.order = old.from_store ? r.order : old.order;
    if (r.complete && r.unit_count == 0) r.unit_count = r.units_done = old.unit_count;
  }
  upsert(std::move(r));
  refresh();
  emit changed();
  return true;
}

void ResultSet::applyHistory(const QJsonArray& list) {
  for (const auto& v : list) {
    const QJsonObject h = v.toObject();
    TaskRunResult r;
    r.run_key = h["run_key"].toString();
    r.model = h["model"].toString();
    r.model_path = h["model_path"].toString();
    r.setting = h["setting"].toString();
    r.task = h["task"].toString();
    readInstance(h, r);
    r.provenance = h["provenance"].toObject();
    if (r.dtype.isEmpty()) r.dtype = r.provenance["dtype"].toString();
    if (r.weights.isEmpty()) r.weights = r.provenance["weights_fingerprint"].toString();
    if (r.tokenizer.isEmpty()) r.tokenizer = r.provenance["tokenizer"].toString();
    r.finished = h["finished"].toString();
    const QJsonObject res = h["results"].toObject();
    r.metrics = res["metrics"].toObject();
    r.details = res["details"].toObject();
    r.units_done = h["units_done"].toInteger();
    r.unit_count = h["unit_count"].toInteger();
    r.complete = !res.isEmpty();
    if (r.unit_count < r.units_done) r.unit_count = r.units_done;
    r.from_store = true;
    r.order = createdOrder(h["created"].toString());
    if (r.metrics.isEmpty()) continue;  // nothing aggregated yet: no numbers to show (the queue lists it)
    // a run of this session: keep it as it is, adding what only the store knows (config, provenance, identity)
    if (const auto it = by_key_.find(r.run_key); it != by_key_.end() && !all_[*it].from_store) {
      TaskRunResult& live = all_[*it];
      live.config = r.config;
      live.provenance = r.provenance;
      live.model_path = r.model_path;
      live.finished = r.finished;
      if (!r.identity.isEmpty()) live.identity = r.identity;
      if (live.config_id.isEmpty()) live.config_id = r.config_id;
      if (live.alias.isEmpty()) live.alias = r.alias;
      if (live.dtype.isEmpty()) live.dtype = r.dtype;
      if (live.weights.isEmpty()) live.weights = r.weights;
      if (live.tokenizer.isEmpty()) live.tokenizer = r.tokenizer;
      continue;
    }
    upsert(std::move(r));
  }
  refresh();
  emit changed();
}

void ResultSet::clear() {
  all_.clear();
  by_key_.clear();
  planned_.clear();
  refresh();
  emit changed();
}

QVector<TaskRunResult> ResultSet::runsOf(const QString& label) const {
  QVector<TaskRunResult> out;
  for (const auto& r : visibleRuns())
    if (r.label() == label) out.push_back(r);
  return out;
}

QVector<TaskRunResult> ResultSet::alternatives(const TaskRunResult& shown) const {
  QVector<TaskRunResult> out;
  for (const auto& r : all_)
    if (r.run_key != shown.run_key && r.entryKey() == shown.entryKey()) out.push_back(r);
  std::sort(out.begin(), out.end(), [](const TaskRunResult& a, const TaskRunResult& b) { return a.order > b.order; });
  return out;
}

void ResultSet::setShowStored(bool show) {
  if (show == show_stored_) return;
  show_stored_ = show;
  emit changed();
}

void ResultSet::upsert(TaskRunResult r) {
  if (const auto it = by_key_.find(r.run_key); it != by_key_.end() && !r.run_key.isEmpty()) {
    all_[*it] = std::move(r);
  } else {
    by_key_.insert(r.run_key, all_.size());
    all_.push_back(std::move(r));
  }
}

void ResultSet::refresh() {
  shown_all_ = choose(all_);
  QVector<TaskRunResult> session;
  for (const auto& r : all_)
    if (!r.from_store) session.push_back(r);
  shown_session_ = choose(session);
}
