#include "run_spec_reader.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QObject>

#include "value_list.h"

namespace {
QString resolved(const QString& p, const QString& base_dir) {
  if (p.isEmpty() || QDir::isAbsolutePath(p) || base_dir.isEmpty()) return p;
  return QDir::cleanPath(QDir(base_dir).filePath(p));
}
bool isPathKey(const QString& key) {
  return key == "data" || key == "filler_file" || key == "haystack_file" || key == "evaluator" || key == "base";
}
}  // namespace

QString OpenedRunSpec::fieldText(const QString& task, const QString& key, const QJsonValue& v, const QString& base_dir, bool* ok) {
  if (ok) *ok = true;
  if (v.isString()) return isPathKey(key) ? resolved(v.toString(), base_dir) : v.toString();
  if (v.isDouble()) return ValueList::numberText(v.toDouble());
  if (v.isBool()) return v.toBool() ? "true" : "false";
  if (v.isArray()) {
    const QJsonArray a = v.toArray();
    if (task == "recall" && key == "until") {
      if (a.isEmpty()) return "nothing";
      if (a.size() == 1 && a[0].toString() == "\n") return "newline";
    }
    QStringList parts;
    bool strings = false;
    for (const auto& x : a) {
      if (x.isDouble()) parts << ValueList::numberText(x.toDouble());
      else if (x.isString()) {
        strings = true;
        parts << (isPathKey(key) ? resolved(x.toString(), base_dir) : x.toString());
      } else {
        if (ok) *ok = false;
        return {};
      }
    }
    return parts.join(strings && isPathKey(key) ? "; " : ", ");
  }
  if (ok) *ok = false;
  return {};
}

std::optional<OpenedRunSpec> OpenedRunSpec::read(const QJsonObject& spec, const QString& base_dir, QString* error) {
  auto fail = [&](const QString& why) -> std::optional<OpenedRunSpec> {
    if (error) *error = why;
    return std::nullopt;
  };
  OpenedRunSpec out;
  out.name = spec["name"].toString();
  if (!spec["models"].isArray() || spec["models"].toArray().isEmpty()) return fail(QObject::tr("the spec has no 'models' list"));
  for (const auto& m : spec["models"].toArray()) {
    Model e;
    if (m.isString()) {
      e.path = resolved(m.toString(), base_dir);
    } else if (m.isObject()) {
      const QJsonObject o = m.toObject();
      e.path = resolved(o["path"].toString(), base_dir);
      e.name = o["name"].toString();
      e.tokenizer = o["tokenizer"].toString();
      if (!e.tokenizer.isEmpty() && e.tokenizer != "bytes") {
        out.notes << QObject::tr("%1: the tokenizer file %2 is not something the library can choose (the folder's own or bytes); "
                                 "the folder's own is used").arg(e.path, e.tokenizer);
        e.tokenizer.clear();
      }
      if (o.contains("force_family"))
        out.notes << QObject::tr("%1: force_family %2 is not carried over (the library loads a folder as its config says)")
                         .arg(e.path, o["force_family"].toString());
    } else {
      return fail(QObject::tr("each entry of 'models' is a folder path or an object with 'path'"));
    }
    if (e.path.isEmpty()) return fail(QObject::tr("a model entry has no path"));
    out.models << e;
  }
  const QJsonValue rope = spec.contains("rope") ? spec["rope"] : QJsonValue(QJsonValue::Null);
  QString why;
  const auto rows = RopeSetting::fromSpecEntry(rope, &why);
  if (!rows) return fail(QObject::tr("rope: %1").arg(why));
  out.rope = *rows;
  if (!spec["tasks"].isArray() || spec["tasks"].toArray().isEmpty()) return fail(QObject::tr("the spec has no 'tasks' list"));
  static const QStringList global_keys{"backend", "dtype", "seed", "limit", "max_length", "batch_size"};
  for (const auto& v : spec["tasks"].toArray()) {
    Task t;
    if (v.isString()) {
      t.task = v.toString();
    } else if (v.isObject()) {
      const QJsonObject o = v.toObject();
      t.task = o["task"].toString();
      t.alias = o["alias"].toString();
      for (auto it = o.begin(); it != o.end(); ++it) {
        if (it.key() == "task" || it.key() == "alias") continue;
        // the run-wide settings are copied into each task by the engine; the window keeps them run-wide
        if (global_keys.contains(it.key()) && spec.contains(it.key()) && spec[it.key()] == it.value()) continue;
        bool ok = false;
        const QString text = fieldText(t.task, it.key(), it.value(), base_dir, &ok);
        if (!ok) {
          out.notes << QObject::tr("%1: setting '%2' is not a value the task builder shows; not carried over").arg(t.task, it.key());
          continue;
        }
        t.fields.push_back({it.key(), text});
      }
    } else {
      return fail(QObject::tr("each entry of 'tasks' is a task name or an object with 'task'"));
    }
    if (t.task.isEmpty()) return fail(QObject::tr("a task entry has no 'task'"));
    out.tasks << t;
  }
  for (const QString& k : global_keys)
    if (spec.contains(k) && !spec[k].isNull()) {
      bool ok = false;
      const QString text = fieldText({}, k, spec[k], base_dir, &ok);
      if (ok) out.globals.push_back({k, text});
    }
  return out;
}

std::optional<OpenedRunSpec> OpenedRunSpec::readFile(const QString& path, QString* error) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) {
    if (error) *error = QObject::tr("cannot read %1").arg(path);
    return std::nullopt;
  }
  QJsonParseError pe;
  const QJsonDocument doc = QJsonDocument::fromJson(f.read(64 << 20), &pe);
  if (!doc.isObject()) {
    if (error) *error = QObject::tr("%1 is not a run spec (a JSON object): %2").arg(path, pe.errorString());
    return std::nullopt;
  }
  QString why;
  auto out = read(doc.object(), QFileInfo(path).absolutePath(), &why);
  if (!out && error) *error = QObject::tr("%1: %2").arg(path, why);
  return out;
}
