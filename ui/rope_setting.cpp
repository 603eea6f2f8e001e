#include "rope_setting.h"

#include <QHash>
#include <QJsonArray>
#include <QObject>
#include <algorithm>
#include <cmath>

#include "value_list.h"

namespace {
// The engine's limits (engine/src/rope.cpp: validate_rope, parse_positive_int). The editor is as strict or stricter,
// so a setting it accepts is one the engine runs.
struct Range {
  const char* key;
  double lo, hi;
  bool lo_open;  // lo itself not allowed
};
constexpr Range kRanges[] = {
    {"factor", 1e-3, 1e6, false},         {"theta", 0, 1e12, true},           {"attention_factor", 1e-3, 1e3, false},
    {"low_freq_factor", 1e-6, 1e6, false}, {"high_freq_factor", 1e-6, 1e6, false}, {"beta_fast", 1e-6, 1e6, false},
    {"beta_slow", 1e-6, 1e6, false},      {"mscale", 0, 1e3, true},           {"mscale_all_dim", 0, 1e3, true},
    {"partial_rotary_factor", 0, 1, true},
};
constexpr double kMaxContext = 1073741824.0;  // 2^30, as the engine's override parser

// The engine's other spellings of a key.
QString canonicalKey(const QString& key) {
  if (key == "original_max") return "original_max_position_embeddings";
  if (key == "rope_theta") return "theta";
  return key;
}

QStringList allKeys() {
  return {"theta", "factor", "original_max_position_embeddings", "attention_factor", "low_freq_factor", "high_freq_factor",
          "beta_fast", "beta_slow", "mscale", "mscale_all_dim", "truncate", "short_factor", "long_factor", "partial_rotary_factor"};
}

QVector<double> factorList(const QString& text, bool* ok) {
  QVector<double> out;
  *ok = true;
  for (const QString& part : text.split('/')) {
    bool good = false;
    const double v = part.trimmed().toDouble(&good);
    if (!good || !(v > 0) || !std::isfinite(v)) *ok = false;
    out << v;
  }
  return out;
}

QString arrayText(const QJsonArray& a, const QString& sep) {
  QStringList parts;
  for (const auto& v : a) parts << ValueList::numberText(v.toDouble());
  return parts.join(sep);
}
}  // namespace

QStringList RopeSetting::methods() { return {"checkpoint", "default", "linear", "dynamic", "ntk", "yarn", "llama3", "longrope"}; }

QStringList RopeSetting::parametersOf(const QString& m) {
  // Only what the method's frequencies depend on (rope_frequencies): linear and static NTK ignore the original
  // context, so it is not offered for them.
  if (m == "default") return {"theta", "partial_rotary_factor"};
  if (m == "linear" || m == "ntk") return {"factor", "theta"};
  if (m == "dynamic") return {"factor", "original_max_position_embeddings", "theta"};
  if (m == "yarn")
    return {"factor", "original_max_position_embeddings", "beta_fast", "beta_slow", "attention_factor", "mscale",
            "mscale_all_dim", "truncate", "theta"};
  if (m == "llama3") return {"factor", "original_max_position_embeddings", "low_freq_factor", "high_freq_factor", "theta"};
  if (m == "longrope")
    return {"long_factor", "short_factor", "original_max_position_embeddings", "factor", "attention_factor", "theta"};
  return {};
}

QStringList RopeSetting::requiredOf(const QString& m) {
  if (m == "linear" || m == "dynamic" || m == "ntk" || m == "yarn") return {"factor"};
  if (m == "llama3") return {"factor", "original_max_position_embeddings", "low_freq_factor", "high_freq_factor"};
  if (m == "longrope") return {"long_factor", "short_factor"};
  return {};
}

QString RopeSetting::helpOf(const QString& key) {
  if (key == "factor") return QObject::tr("scaling factor (context extension ratio); longrope: only sets the default attention factor");
  if (key == "theta") return QObject::tr("RoPE base; empty: the checkpoint's");
  if (key == "original_max_position_embeddings")
    return QObject::tr("the context the scaling starts from; empty: the checkpoint's (its rope_scaling's, else max_position_embeddings)");
  if (key == "low_freq_factor" || key == "high_freq_factor")
    return QObject::tr("wavelengths longer than original/low are interpolated by factor, shorter than original/high kept; smooth between");
  if (key == "beta_fast" || key == "beta_slow") return QObject::tr("YaRN's ramp ends in rotations over the original context (defaults 32 and 1)");
  if (key == "attention_factor") return QObject::tr("multiplies cos and sin; empty: the method's default");
  if (key == "mscale" || key == "mscale_all_dim") return QObject::tr("DeepSeek-style YaRN attention temperature (both needed)");
  if (key == "truncate") return QObject::tr("true (default): round YaRN's ramp ends to whole dimensions; false: keep them exact");
  if (key == "long_factor" || key == "short_factor")
    return QObject::tr("one factor per rotary frequency (rotary dimension / 2), '/'-separated; short_factor up to the original "
                       "context, long_factor beyond");
  if (key == "partial_rotary_factor") return QObject::tr("fraction of each head that rotates, (0, 1]");
  return {};
}

bool RopeSetting::isTextParameter(const QString& key) { return key == "short_factor" || key == "long_factor" || key == "truncate"; }

void RopeSetting::set(const QString& key, const QString& text) {
  for (auto& p : params)
    if (p.first == key) {
      p.second = text;
      return;
    }
  params.push_back({key, text});
}

QString RopeSetting::value(const QString& key) const {
  for (const auto& p : params)
    if (p.first == key) return p.second;
  return {};
}

void RopeSetting::setMethod(const QString& m) {
  method = m;
  const QStringList keep = parametersOf(m);
  params.erase(std::remove_if(params.begin(), params.end(), [&](const auto& p) { return !keep.contains(p.first); }), params.end());
}

QVector<RopeSetting::Issue> RopeSetting::validate(qint64 target, int factor_count) const {
  QVector<Issue> issues;
  if (!methods().contains(method)) {
    issues.push_back({{}, QObject::tr("unknown RoPE method '%1'").arg(method)});
    return issues;
  }
  const QStringList known = parametersOf(method);
  for (const auto& [key, text] : params) {
    if (text.trimmed().isEmpty()) continue;
    if (!known.contains(key))
      issues.push_back({key, QObject::tr("%1 takes no parameter '%2' (clear it)").arg(method == "checkpoint" ? QObject::tr("the checkpoint's own RoPE") : method, key)});
  }
  for (const QString& key : requiredOf(method))
    if (value(key).trimmed().isEmpty()) issues.push_back({key, QObject::tr("%1 needs %2").arg(method, key)});

  auto values = [&](const QString& key) -> QVector<double> {
    const QString t = value(key).trimmed();
    if (t.isEmpty() || isTextParameter(key) || !known.contains(key)) return {};
    QString err;
    const auto v = ValueList::parse(t, &err);
    if (!v) {
      issues.push_back({key, QString("%1: %2").arg(key, err)});
      return {};
    }
    return *v;
  };
  QHash<QString, QVector<double>> vals;
  for (const QString& key : known) vals[key] = values(key);
  for (const Range& r : kRanges) {
    for (double v : vals.value(r.key)) {
      if (!(v > 0)) {
        issues.push_back({r.key, QObject::tr("%1 must be > 0, got %2").arg(r.key, ValueList::numberText(v))});
        break;
      }
      if ((r.lo_open ? v <= r.lo : v < r.lo) || v > r.hi) {
        issues.push_back({r.key, QObject::tr("%1 must be in %2%3, %4] (what the engine takes), got %5")
                                     .arg(r.key, r.lo_open ? "(" : "[", ValueList::numberText(r.lo), ValueList::numberText(r.hi),
                                          ValueList::numberText(v))});
        break;
      }
    }
  }
  const auto& orig = vals.value("original_max_position_embeddings");
  for (double v : orig)
    if (!(v > 0) || v != std::floor(v) || v > kMaxContext) {
      issues.push_back({"original_max_position_embeddings",
                        QObject::tr("original_max_position_embeddings must be a whole number from 1 to %1, got %2")
                            .arg(ValueList::numberText(kMaxContext), ValueList::numberText(v))});
      break;
    }
  // An original context at or past every evaluated length runs (the CLI takes it and the numbers change for
  // llama3 and yarn), but for some methods it means the extension never engages: say so, do not refuse it.
  if (!orig.isEmpty() && target > 0) {
    const double lo = *std::min_element(orig.begin(), orig.end());
    const QString o = ValueList::numberText(lo), t = QString::number(target);
    if (method == "dynamic" && lo >= target)
      issues.push_back({"original_max_position_embeddings",
                        QObject::tr("original context %1 ≥ the longest evaluated length %2: dynamic NTK only rescales past the "
                                    "original context, so at these lengths it equals unscaled RoPE").arg(o, t), true});
    else if (method == "longrope" && lo >= target)
      issues.push_back({"original_max_position_embeddings",
                        QObject::tr("original context %1 ≥ the longest evaluated length %2: LongRoPE uses short_factor at every "
                                    "evaluated length (long_factor only past the original context)").arg(o, t), true});
    else if ((method == "llama3" || method == "yarn") && lo > target)
      issues.push_back({"original_max_position_embeddings",
                        QObject::tr("original context %1 is longer than the longest evaluated length %2: the frequencies are still "
                                    "rescaled as %3 defines, but no evaluated length goes past the original context").arg(o, t, method), true});
  }
  const auto& lo = vals.value("low_freq_factor");
  const auto& hi = vals.value("high_freq_factor");
  if (method == "llama3" && !lo.isEmpty() && !hi.isEmpty() && *std::max_element(lo.begin(), lo.end()) >= *std::min_element(hi.begin(), hi.end()))
    issues.push_back({"high_freq_factor", QObject::tr("llama3 needs low_freq_factor < high_freq_factor for every combination")});
  if (method == "yarn") {
    const auto& bf = vals.value("beta_fast");
    const auto& bs = vals.value("beta_slow");
    const double f = bf.isEmpty() ? 32 : *std::min_element(bf.begin(), bf.end());
    const double s = bs.isEmpty() ? 1 : *std::max_element(bs.begin(), bs.end());
    if (f <= s) issues.push_back({"beta_fast", QObject::tr("yarn needs beta_fast > beta_slow (defaults 32 and 1) for every combination")});
    const QString tr_text = value("truncate").trimmed();
    if (!tr_text.isEmpty() && tr_text != "true" && tr_text != "false")
      issues.push_back({"truncate", QObject::tr("truncate is true or false")});
    if (value("mscale").trimmed().isEmpty() != value("mscale_all_dim").trimmed().isEmpty())
      issues.push_back({"mscale", QObject::tr("mscale and mscale_all_dim work together: give both (or neither)"), true});
  }
  if (method == "longrope") {
    int sizes[2] = {-1, -1};
    const QStringList lists{"long_factor", "short_factor"};
    for (int i = 0; i < 2; ++i) {
      const QString t = value(lists[i]).trimmed();
      if (t.isEmpty()) continue;
      bool ok = false;
      const auto v = factorList(t, &ok);
      if (!ok) {
        issues.push_back({lists[i], QObject::tr("%1: entries separated by '/' must be numbers > 0").arg(lists[i])});
        continue;
      }
      sizes[i] = v.size();
      if (factor_count > 0 && v.size() != factor_count)
        issues.push_back({lists[i], QObject::tr("%1 has %2 entries; the chosen model needs %3 (rotary dimension / 2)")
                                        .arg(lists[i]).arg(v.size()).arg(factor_count)});
    }
    if (sizes[0] > 0 && sizes[1] > 0 && sizes[0] != sizes[1] && factor_count <= 0)
      issues.push_back({"short_factor", QObject::tr("long_factor and short_factor need as many entries each (%1 and %2)").arg(sizes[0]).arg(sizes[1])});
  }
  return issues;
}

QVector<RopeSetting::Issue> RopeSetting::errors(qint64 target, int factor_count) const {
  QVector<Issue> out;
  for (const auto& i : validate(target, factor_count))
    if (!i.warning) out << i;
  return out;
}

QVector<RopeSetting::Issue> RopeSetting::warnings(qint64 target, int factor_count) const {
  QVector<Issue> out;
  for (const auto& i : validate(target, factor_count))
    if (i.warning) out << i;
  return out;
}

int RopeSetting::count() const {
  if (!isValid()) return 0;
  qint64 n = 1;
  for (const auto& [key, text] : params) {
    if (text.trimmed().isEmpty() || isTextParameter(key)) continue;
    n *= ValueList::parse(text)->size();
    if (n > 100000) return 100000;
  }
  return static_cast<int>(n);
}

QStringList RopeSetting::expand() const {
  if (method == "checkpoint") return {""};
  if (!isValid()) return {};
  QStringList out{method};
  bool first = true;
  for (const auto& [key, text] : params) {
    const QString t = text.trimmed();
    if (t.isEmpty()) continue;
    QStringList vals;
    if (isTextParameter(key)) {
      vals << QString(t).remove(' ');
    } else {
      const auto parsed = ValueList::parse(t);  // kept alive: a range-for over *temporary would dangle
      for (double v : *parsed) vals << ValueList::numberText(v);
    }
    QStringList next;
    for (const QString& prefix : out)
      for (const QString& v : vals) next << prefix + (first ? ":" : ",") + key + "=" + v;
    out = next;
    first = false;
  }
  return out;
}

QJsonValue RopeSetting::toSpecEntry() const {
  if (method == "checkpoint") return QJsonValue::Null;
  const QStringList e = expand();
  if (e.size() == 1) return e.front();
  // Grid objects hold numbers only; with text parameters the expanded strings go instead.
  for (const auto& [key, text] : params)
    if (isTextParameter(key) && !text.trimmed().isEmpty()) return QJsonArray::fromStringList(e);
  QJsonObject grid{{"type", method}};
  for (const auto& [key, text] : params) {
    if (text.trimmed().isEmpty()) continue;
    QJsonArray a;
    const auto parsed = ValueList::parse(text);
    for (double v : *parsed) a.append(v);
    grid[key] = a.size() == 1 ? a[0] : QJsonValue(a);
  }
  return grid;
}

QString RopeSetting::summary() const {
  if (method == "checkpoint") return QObject::tr("checkpoint's own");
  QStringList parts;
  for (const auto& [key, text] : params) {
    const QString t = text.trimmed();
    if (t.isEmpty()) continue;
    if (key == "long_factor" || key == "short_factor") {
      bool ok = false;
      const auto v = factorList(t, &ok);
      parts << (ok && v.size() > 3 ? QObject::tr("%1 [%2 entries, %3…%4]").arg(key).arg(v.size()).arg(ValueList::numberText(v.front()), ValueList::numberText(v.back()))
                                   : QString("%1 %2").arg(key, t));
    } else {
      parts << QString("%1 %2").arg(key, t);
    }
  }
  return parts.isEmpty() ? method : QString("%1: %2").arg(method, parts.join(" × "));
}

QJsonObject RopeSetting::toJson() const {
  QJsonArray ps;
  for (const auto& [key, text] : params)
    if (!text.trimmed().isEmpty()) ps.append(QJsonArray{key, text});
  return QJsonObject{{"method", method}, {"params", ps}};
}

RopeSetting RopeSetting::fromJson(const QJsonObject& o) {
  RopeSetting s;
  s.method = o["method"].toString("checkpoint");
  for (const auto& p : o["params"].toArray()) {
    const QJsonArray kv = p.toArray();
    if (kv.size() == 2) s.set(kv[0].toString(), kv[1].toString());
  }
  return s;
}

std::optional<RopeSetting> RopeSetting::fromOverride(const QString& text, QString* error) {
  auto fail = [&](const QString& why) -> std::optional<RopeSetting> {
    if (error) *error = why;
    return std::nullopt;
  };
  const QString t = text.trimmed();
  RopeSetting s;
  if (t.isEmpty() || t == "none" || t == "checkpoint") return s;
  const int colon = t.indexOf(':');
  QString type = t.left(colon < 0 ? t.size() : colon);
  if (type == "su") type = "longrope";
  if (!methods().contains(type) || type == "checkpoint") return fail(QObject::tr("unknown RoPE type '%1' in '%2'").arg(type, t));
  s.method = type;
  if (colon < 0) return s;
  for (const QString& kv : t.mid(colon + 1).split(',', Qt::SkipEmptyParts)) {
    const int eq = kv.indexOf('=');
    if (eq <= 0) return fail(QObject::tr("expected key=value, got '%1' in '%2'").arg(kv, t));
    const QString key = canonicalKey(kv.left(eq).trimmed());
    if (!allKeys().contains(key)) return fail(QObject::tr("unknown RoPE parameter '%1' in '%2'").arg(key, t));
    s.set(key, kv.mid(eq + 1).trimmed());
  }
  // Lists the engine would sweep are single values in an override string, so the row is what it says.
  return s;
}

std::optional<QVector<RopeSetting>> RopeSetting::fromSpecEntry(const QJsonValue& v, QString* error) {
  QVector<RopeSetting> out;
  if (v.isNull()) return QVector<RopeSetting>{RopeSetting{}};
  if (v.isString()) {
    const auto s = fromOverride(v.toString(), error);
    if (!s) return std::nullopt;
    return QVector<RopeSetting>{*s};
  }
  if (v.isArray()) {
    for (const auto& x : v.toArray()) {
      const auto part = fromSpecEntry(x, error);
      if (!part) return std::nullopt;
      out += *part;
    }
    return out;
  }
  if (v.isObject()) {
    const QJsonObject g = v.toObject();
    QString type = g["type"].toString();
    if (type == "su") type = "longrope";
    if (!methods().contains(type) || type == "checkpoint") {
      if (error) *error = QObject::tr("a rope grid needs a 'type' the engine knows, got '%1'").arg(type);
      return std::nullopt;
    }
    RopeSetting s;
    s.method = type;
    // In the order the editor shows the method's parameters, then any other (shown with an error to clear).
    QStringList keys = parametersOf(type);
    for (auto it = g.begin(); it != g.end(); ++it)
      if (it.key() != "type" && !keys.contains(canonicalKey(it.key()))) keys << it.key();
    for (const QString& key : keys) {
      QJsonValue x(QJsonValue::Undefined);
      for (auto it = g.begin(); it != g.end(); ++it)
        if (it.key() != "type" && canonicalKey(it.key()) == key) x = it.value();
      if (x.isUndefined()) continue;
      if (x.isDouble()) s.set(key, ValueList::numberText(x.toDouble()));
      else if (x.isArray()) s.set(key, arrayText(x.toArray(), ", "));
      else {
        if (error) *error = QObject::tr("rope grid field '%1' must be a number or a list of numbers").arg(key);
        return std::nullopt;
      }
    }
    return QVector<RopeSetting>{s};
  }
  if (error) *error = QObject::tr("'rope' entries are override strings, grids or null");
  return std::nullopt;
}

std::optional<RopeSetting> RopeSetting::longRopeFromConfig(const QJsonObject& config, QString* error) {
  auto fail = [&](const QString& why) -> std::optional<RopeSetting> {
    if (error) *error = why;
    return std::nullopt;
  };
  QJsonObject rs = config["rope_scaling"].toObject();
  if (rs.isEmpty()) rs = config["rope_parameters"].toObject();
  if (rs.isEmpty()) return fail(QObject::tr("config.json has no rope_scaling (or rope_parameters): this checkpoint has no LongRoPE factors"));
  const QString type = rs.contains("rope_type") ? rs["rope_type"].toString() : rs["type"].toString();
  if (type != "longrope" && type != "su")
    return fail(QObject::tr("config.json's RoPE is '%1', not LongRoPE: it has no long_factor/short_factor").arg(type));
  if (!rs["long_factor"].isArray() || !rs["short_factor"].isArray())
    return fail(QObject::tr("config.json's rope_scaling lacks the long_factor and short_factor lists"));
  RopeSetting s;
  s.method = "longrope";
  s.set("long_factor", arrayText(rs["long_factor"].toArray(), "/"));
  s.set("short_factor", arrayText(rs["short_factor"].toArray(), "/"));
  // The factors were searched for this original context; the base (theta) stays the evaluated model's.
  const QJsonValue orig = rs.contains("original_max_position_embeddings") ? rs["original_max_position_embeddings"]
                                                                          : config["original_max_position_embeddings"];
  if (orig.isDouble()) s.set("original_max_position_embeddings", ValueList::numberText(orig.toDouble()));
  if (rs["factor"].isDouble()) s.set("factor", ValueList::numberText(rs["factor"].toDouble()));
  if (rs["attention_factor"].isDouble()) s.set("attention_factor", ValueList::numberText(rs["attention_factor"].toDouble()));
  return s;
}

QString RopeSetting::generatedFactors(const QString& kind, int n, double factor) {
  QStringList parts;
  for (int i = 0; i < n; ++i) {
    const double v = kind == "ramp" && n > 1 ? 1 + (factor - 1) * static_cast<double>(i) / (n - 1) : factor;
    parts << QString::number(v, 'g', 6);
  }
  return parts.join('/');
}
