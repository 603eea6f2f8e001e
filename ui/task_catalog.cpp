#include "task_catalog.h"

#include <QJsonArray>
#include <QObject>

#include "value_list.h"

namespace {

TaskSettingInfo settingFrom(const QJsonObject& o) {
  TaskSettingInfo s;
  s.key = o["key"].toString();
  s.type = o["type"].toString();
  s.label = o["label"].toString(s.key);
  s.help = o["help"].toString();
  s.def = o["default"];
  if (o["min"].isDouble()) s.min = o["min"].toDouble();
  if (o["max"].isDouble()) s.max = o["max"].toDouble();
  for (const QJsonValue& c : o["choices"].toArray()) s.choices << c.toString();
  s.required = o["required"].toBool();
  s.path = o["path"].toBool();
  s.common = o["common"].toBool();
  const QJsonObject r = o["required_if"].toObject();
  s.required_if_key = r["setting"].toString();
  for (const QJsonValue& v : r["any_of"].toArray()) s.required_if_any << v.toString();
  s.synonym_of = o["synonym_of"].toString();
  return s;
}

QString numberText(double v) { return ValueList::numberText(v); }

QString rangeText(const TaskSettingInfo& s) {
  if (s.min && s.max) return QObject::tr("from %1 to %2").arg(numberText(*s.min), numberText(*s.max));
  if (s.min) return QObject::tr("at least %1").arg(numberText(*s.min));
  if (s.max) return QObject::tr("at most %1").arg(numberText(*s.max));
  return {};
}

bool inRange(const TaskSettingInfo& s, double v) { return (!s.min || v >= *s.min) && (!s.max || v <= *s.max); }

QStringList splitOn(const QString& text, QChar sep) {
  QStringList out;
  for (const QString& part : text.split(sep))
    if (!part.trimmed().isEmpty()) out << part.trimmed();
  return out;
}

QJsonValue fail(QString* error, const QString& why) {
  if (error) *error = why;
  return QJsonValue(QJsonValue::Undefined);
}

}  // namespace

const TaskSettingInfo* TaskInfo::setting(const QString& key) const {
  for (const auto& s : settings)
    if (s.key == key) return &s;
  return nullptr;
}

std::optional<TaskCatalog> TaskCatalog::fromJson(const QJsonObject& schema, QString* error) {
  if (schema["schema_version"].toInt() != 1 || !schema["tasks"].isArray()) {
    if (error) *error = QObject::tr("the engine's task list is not a task schema this workbench reads (version %1)")
                            .arg(schema["schema_version"].toVariant().toString());
    return std::nullopt;
  }
  TaskCatalog c;
  for (const QJsonValue& g : schema["groups"].toArray())
    c.groups_.append({g["name"].toString(), g["title"].toString()});
  for (const QJsonValue& s : schema["common"].toArray()) c.common_ << settingFrom(s.toObject());
  for (const QJsonValue& t : schema["tasks"].toArray()) {
    TaskInfo info;
    info.name = t["name"].toString();
    info.description = t["description"].toString();
    info.group = t["group"].toString();
    for (const QJsonValue& s : t["settings"].toArray()) info.settings << settingFrom(s.toObject());
    if (info.name.isEmpty()) continue;
    c.tasks_ << info;
  }
  if (c.tasks_.isEmpty()) {
    if (error) *error = QObject::tr("the engine lists no tasks");
    return std::nullopt;
  }
  return c;
}

const TaskInfo* TaskCatalog::task(const QString& name) const {
  for (const auto& t : tasks_)
    if (t.name == name) return &t;
  return nullptr;
}

QStringList TaskCatalog::names() const {
  QStringList n;
  for (const auto& t : tasks_) n << t.name;
  return n;
}

QString TaskCatalog::textOf(const TaskSettingInfo& s, const QJsonValue& v) {
  if (v.isNull() || v.isUndefined()) return {};
  if (v.isArray()) {
    QStringList parts;
    for (const QJsonValue& x : v.toArray()) parts << textOf(s, x);
    return parts.join(s.type == "file_list" ? "; " : ", ");
  }
  if (v.isBool()) return v.toBool() ? "true" : "false";
  if (v.isDouble()) return numberText(v.toDouble());
  return v.toString();
}

QString TaskCatalog::hintOf(const TaskSettingInfo& s) {
  if (!s.def.isNull() && !s.def.isUndefined()) return QObject::tr("default: %1").arg(textOf(s, s.def));
  // The schema's help says what an absent setting means after "none: " (up to a ';' or the closing parenthesis).
  for (const QString& mark : {QString("none: "), QString("none (or 0): ")}) {
    const qsizetype at = s.help.indexOf(mark);
    if (at < 0) continue;
    QString meaning;
    int depth = 0;
    for (qsizetype i = at + mark.size(); i < s.help.size(); ++i) {
      const QChar c = s.help[i];
      if (c == '(') ++depth;
      if ((c == ')' && depth-- == 0) || (c == ';' && depth == 0)) break;
      meaning += c;
    }
    return QObject::tr("empty: %1").arg(meaning.trimmed());
  }
  return s.help;
}

QJsonValue TaskCatalog::valueOf(const TaskSettingInfo& s, const QString& typed, QString* error) {
  const QString text = typed.trimmed();
  if (error) error->clear();
  if (text.isEmpty()) return QJsonValue(QJsonValue::Undefined);
  const QString range = rangeText(s);
  if (s.type == "int") {
    bool ok = false;
    const qint64 x = text.toLongLong(&ok);
    if (!ok || !inRange(s, static_cast<double>(x)))
      return fail(error, range.isEmpty() ? QObject::tr("must be a whole number")
                                         : QObject::tr("must be a whole number %1").arg(range));
    return x;
  }
  if (s.type == "number") {
    bool ok = false;
    const double x = text.toDouble(&ok);
    if (!ok || !inRange(s, x))
      return fail(error, range.isEmpty() ? QObject::tr("must be a number") : QObject::tr("must be a number %1").arg(range));
    return x;
  }
  if (s.type == "int_list" || s.type == "number_list") {
    QString err;
    QJsonArray a;
    if (s.type == "int_list") {
      const auto v = ValueList::parseIntegers(text, &err);
      if (!v) return fail(error, err);
      for (qint64 x : *v) {
        if (!inRange(s, static_cast<double>(x))) return fail(error, QObject::tr("%1 is out of range: each value %2").arg(x).arg(range));
        a.append(x);
      }
    } else {
      const auto v = ValueList::parse(text, &err);
      if (!v) return fail(error, err);
      for (double x : *v) {
        if (!inRange(s, x)) return fail(error, QObject::tr("%1 is out of range: each value %2").arg(numberText(x), range));
        a.append(x);
      }
    }
    return a;
  }
  if (s.type == "bool") {
    const QString t = text.toLower();
    if (t == "true" || t == "yes" || t == "1") return true;
    if (t == "false" || t == "no" || t == "0") return false;
    return fail(error, QObject::tr("must be true or false"));
  }
  if (s.type == "choice") {
    if (!s.choices.contains(text)) return fail(error, QObject::tr("must be one of %1").arg(s.choices.join(", ")));
    return text;
  }
  if (s.type == "word_list" || s.type == "file_list") {
    const QStringList parts = splitOn(text, s.type == "file_list" ? ';' : ',');
    QJsonArray a;
    for (const QString& w : parts) {
      if (s.type == "word_list" && !s.choices.isEmpty() && !s.choices.contains(w))
        return fail(error, QObject::tr("'%1' is not one of %2").arg(w, s.choices.join(", ")));
      a.append(w);
    }
    if (a.isEmpty()) return QJsonValue(QJsonValue::Undefined);
    return a;
  }
  return text;  // string, file, folder
}
