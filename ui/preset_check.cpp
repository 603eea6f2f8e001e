#include "preset_check.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QObject>
#include <QStringDecoder>
#include <algorithm>
#include <cmath>

#include "run_presets.h"
#include "value_list.h"

namespace {
constexpr qint64 kMaxCheckedBytes = qint64(512) << 20;  // larger files are not read here (the engine still checks them)

// Tasks whose `data` is long documents and whose lengths the documents must serve.
bool documentTask(const QString& t) { return t == "ppl_vs_length" || t == "longppl"; }

QString bytesText(qint64 n) { return QLocale().toString(n); }

struct Cached {
  qint64 size = -1;
  qint64 mtime = 0;
  PresetCheck::Documents docs;
};
QHash<QString, Cached>& cache() {
  static QHash<QString, Cached> c;
  return c;
}

PresetCheck::Documents fail(DataIssue::Kind k, const QString& why) {
  PresetCheck::Documents d;
  d.problem = k;
  d.error = why;
  return d;
}

PresetCheck::Documents readDocuments(const QString& path, const QString& field) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return fail(DataIssue::Kind::Missing, QObject::tr("%1 cannot be read").arg(path));
  const QByteArray bytes = f.readAll();
  if (bytes.isEmpty()) return fail(DataIssue::Kind::Empty, QObject::tr("%1 is empty").arg(path));
  if (bytes.contains('\0')) return fail(DataIssue::Kind::NotText, QObject::tr("%1 is not a text file (it has NUL bytes)").arg(path));
  QStringDecoder utf8(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
  [[maybe_unused]] const QString text = utf8.decode(bytes);  // decoded only to find invalid sequences
  if (utf8.hasError()) return fail(DataIssue::Kind::NotText, QObject::tr("%1 is not UTF-8 text").arg(path));
  PresetCheck::Documents d;
  if (field.isEmpty()) {
    d.bytes << bytes.size();
    return d;
  }
  auto take = [&](const QJsonValue& v, const QString& where) -> bool {
    if (v.isString()) {
      d.bytes << v.toString().toUtf8().size();
      return true;
    }
    if (v.isObject() && v.toObject()[field].isString()) {
      d.bytes << v.toObject()[field].toString().toUtf8().size();
      return true;
    }
    d = fail(DataIssue::Kind::NotText, QObject::tr("%1: %2 has no string field '%3'").arg(path, where, field));
    return false;
  };
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix == "jsonl") {
    int line_no = 0;
    for (const QByteArray& line : bytes.split('\n')) {
      ++line_no;
      if (line.trimmed().isEmpty()) continue;
      QJsonParseError pe;
      const QJsonDocument doc = QJsonDocument::fromJson("[" + line + "]", &pe);
      if (pe.error != QJsonParseError::NoError)
        return fail(DataIssue::Kind::NotText, QObject::tr("%1: line %2 is not JSON (%3)").arg(path).arg(line_no).arg(pe.errorString()));
      if (!take(doc.array().at(0), QObject::tr("line %1").arg(line_no))) return d;
    }
  } else if (suffix == "json") {
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &pe);
    if (!doc.isArray()) return fail(DataIssue::Kind::NotText, QObject::tr("%1: expected a JSON list of documents").arg(path));
    int i = 0;
    for (const auto& v : doc.array())
      if (!take(v, QObject::tr("item %1").arg(++i))) return d;
  } else {
    d.bytes << bytes.size();
  }
  if (d.bytes.isEmpty()) return fail(DataIssue::Kind::Empty, QObject::tr("%1 holds no documents").arg(path));
  return d;
}

QStringList paths(const QJsonValue& v) {
  QStringList out;
  if (v.isString() && !v.toString().trimmed().isEmpty()) out << v.toString().trimmed();
  for (const auto& x : v.toArray())
    if (x.isString() && !x.toString().trimmed().isEmpty()) out << x.toString().trimmed();
  return out;
}

QVector<qint64> lengthsOf(const QJsonObject& t) {
  QVector<qint64> out;
  const QString task = t["task"].toString();
  if (t["lengths"].isArray()) {
    for (const auto& v : t["lengths"].toArray()) out << v.toInteger();
  } else if (t["length"].isDouble()) {
    out << t["length"].toInteger();
  } else if (task == "ppl_vs_length") {
    out = {256, 512, 1024, 2048};  // the engine's default
  }
  return out;
}
}  // namespace

qint64 PresetCheck::Documents::longest() const { return bytes.isEmpty() ? 0 : *std::max_element(bytes.begin(), bytes.end()); }

PresetCheck::Documents PresetCheck::documents(const QString& path, const QString& field) {
  const QFileInfo fi(path);
  if (!fi.exists()) return fail(DataIssue::Kind::Missing, QObject::tr("%1 does not exist").arg(path));
  if (fi.isDir()) return fail(DataIssue::Kind::Missing, QObject::tr("%1 is a folder, not a file").arg(path));
  if (fi.size() > kMaxCheckedBytes) {
    Documents d;
    d.error = QObject::tr("%1 is over %2 bytes: not checked here").arg(path, bytesText(kMaxCheckedBytes));
    return d;
  }
  const QString key = fi.absoluteFilePath() + "\n" + field;
  const qint64 mtime = fi.lastModified().toMSecsSinceEpoch();
  auto it = cache().find(key);
  if (it != cache().end() && it->size == fi.size() && it->mtime == mtime) return it->docs;
  Cached c{fi.size(), mtime, readDocuments(path, field)};
  if (cache().size() > 64) cache().clear();
  cache()[key] = c;
  return c.docs;
}

QVector<DataIssue> PresetCheck::checkTasks(const QJsonArray& tasks, const Options& o) {
  QVector<DataIssue> out;
  for (const auto& v : tasks) {
    const QJsonObject t = v.toObject();
    const QString task = t["task"].toString();
    const QString alias = t["alias"].toString();
    const QString who = alias.isEmpty() || alias == task ? task : QString("%1 (%2)").arg(task, alias);
    // files
    for (const QString& key : {QString("data"), QString("filler_file"), QString("haystack_file")}) {
      for (const QString& p : paths(t[key])) {
        // charlevel also takes the enwik8/enwik9 splits by name
        if (task == "charlevel" && key == "data" && !p.contains('/') && !QFileInfo::exists(p)) continue;
        const bool docs = documentTask(task) && key == "data";
        const Documents d = documents(p, docs ? t["field"].toString("text") : QString());
        if (d.problem != DataIssue::Kind::Note) {
          out.push_back({d.problem, who, p, QString("%1: %2").arg(who, d.error)});
          continue;
        }
        if (!d.error.isEmpty()) out.push_back({DataIssue::Kind::Note, who, p, QString("%1: %2").arg(who, d.error)});
        if (!docs || d.bytes.isEmpty()) continue;
        // the longest document must hold the longest length (ppl_vs_length refuses a length no document reaches)
        const qint64 longest = d.longest();
        QStringList short_for;
        for (qint64 L : lengthsOf(t)) {
          const double need = o.byte_tokens ? double(L) : double(L) * o.bytes_per_token;
          if (double(longest) < need) short_for << QString::number(L);
        }
        if (short_for.isEmpty()) continue;
        const QString why =
            o.byte_tokens
                ? QObject::tr("no document of %1 holds %2 tokens: the longest has %3 bytes (= tokens for a byte-level model)")
                      .arg(p, short_for.join(", "), bytesText(longest))
                : QObject::tr("no document of %1 is long enough for %2 tokens: the longest has %3 bytes, and %4 bytes per token "
                              "are asked for a subword tokenizer (%5 bytes for %6)")
                      .arg(p, short_for.join(", "), bytesText(longest), QLocale().toString(o.bytes_per_token),
                           bytesText(static_cast<qint64>(std::ceil(short_for.last().toDouble() * o.bytes_per_token))), short_for.last());
        out.push_back({DataIssue::Kind::TooShort, who, p,
                       QObject::tr("%1: %2; use shorter lengths or longer documents").arg(who, why)});
      }
    }
    // folders
    for (const QString& key : {QString("evaluator"), QString("base")}) {
      const QString p = t[key].toString().trimmed();
      if (!p.isEmpty() && !QFileInfo(p).isDir())
        out.push_back({DataIssue::Kind::Missing, who, p, QObject::tr("%1: %2 %3 is not a folder").arg(who, key, p)});
    }
  }
  return out;
}

QVector<DataIssue> PresetCheck::checkPreset(const RunPreset& preset, const Options& o) {
  QJsonArray tasks;
  for (const auto& v : preset.entries) {
    const QJsonObject e = v.toObject();
    QJsonObject t;
    for (auto it = e.begin(); it != e.end(); ++it) {
      const QString text = it.value().toString();
      if (it.key() == "lengths") {
        QJsonArray a;
        if (const auto ls = ValueList::parseIntegers(text))
          for (qint64 x : *ls) a.append(x);
        t["lengths"] = a;
      } else if (it.key() == "length") {
        t["length"] = text.toLongLong();
      } else {
        t[it.key()] = it.value();
      }
    }
    tasks.append(t);
  }
  return checkTasks(tasks, o);
}

QStringList PresetCheck::messages(const QVector<DataIssue>& issues, bool blocking_only) {
  QStringList out;
  for (const auto& i : issues)
    if (!blocking_only || i.blocking()) out << i.message;
  out.removeDuplicates();
  return out;
}
