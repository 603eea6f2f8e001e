#include "rope_setting.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <cmath>

#include "value_list.h"

namespace {
// Lists with '/' between entries (LongRoPE's per-dimension factors) are passed through, not swept.
bool isFactorList(const QString& key) { return key == "short_factor" || key == "long_factor"; }
}  // namespace

QStringList RopeSetting::methods() { return {"checkpoint", "default", "linear", "dynamic", "ntk", "yarn", "llama3", "longrope"}; }

QStringList RopeSetting::parametersOf(const QString& m) {
  if (m == "checkpoint") return {};
  if (m == "default") return {"theta", "partial_rotary_factor"};
  if (m == "linear" || m == "dynamic" || m == "ntk") return {"factor", "theta", "original_max_position_embeddings"};
  if (m == "yarn")
    return {"factor", "original_max_position_embeddings", "beta_fast", "beta_slow", "attention_factor", "mscale",
            "mscale_all_dim", "theta"};
  if (m == "llama3") return {"factor", "original_max_position_embeddings", "low_freq_factor", "high_freq_factor", "theta"};
  if (m == "longrope")
    return {"short_factor", "long_factor", "original_max_position_embeddings", "attention_factor", "theta"};
  return {};
}

QStringList RopeSetting::requiredOf(const QString& m) {
  if (m == "linear" || m == "dynamic" || m == "ntk" || m == "yarn") return {"factor"};
  if (m == "llama3") return {"factor", "original_max_position_embeddings", "low_freq_factor", "high_freq_factor"};
  if (m == "longrope") return {"short_factor", "long_factor"};
  return {};
}

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

QVector<RopeSetting::Issue> RopeSetting::validate(qint64 target) const {
  QVector<Issue> issues;
  if (!methods().contains(method)) {
    issues.push_back({{}, QObject::tr("unknown RoPE method '%1'").arg(method)});
    return issues;
  }
  const QStringList known = parametersOf(method);
  for (const auto& [key, text] : params) {
    if (text.trimmed().isEmpty()) continue;
    if (!known.contains(key)) issues.push_back({key, QObject::tr("%1 takes no parameter '%2'").arg(method, key)});
  }
  for (const QString& key : requiredOf(method))
    if (value(key).trimmed().isEmpty()) issues.push_back({key, QObject::tr("%1 needs %2").arg(method, key)});

  auto values = [&](const QString& key) -> QVector<double> {
    const QString t = value(key).trimmed();
    if (t.isEmpty() || isFactorList(key)) return {};
    QString err;
    const auto v = ValueList::parse(t, &err);
    if (!v) {
      issues.push_back({key, QString("%1: %2").arg(key, err)});
      return {};
    }
    return *v;
  };
  auto positive = [&](const QString& key, const QVector<double>& vs) {
    for (double v : vs)
      if (!(v > 0)) {
        issues.push_back({key, QObject::tr("%1 must be > 0, got %2").arg(key, ValueList::numberText(v))});
        return;
      }
  };
  const auto factor = values("factor"), theta = values("theta"), orig = values("original_max_position_embeddings");
  const auto lo = values("low_freq_factor"), hi = values("high_freq_factor");
  const auto bf = values("beta_fast"), bs = values("beta_slow"), af = values("attention_factor");
  const auto ms = values("mscale"), msa = values("mscale_all_dim"), prf = values("partial_rotary_factor");
  positive("factor", factor);
  positive("theta", theta);
  positive("attention_factor", af);
  positive("low_freq_factor", lo);
  positive("high_freq_factor", hi);
  positive("mscale", ms);
  positive("mscale_all_dim", msa);
  for (double v : prf)
    if (!(v > 0 && v <= 1)) {
      issues.push_back({"partial_rotary_factor", QObject::tr("partial_rotary_factor must be in (0, 1], got %1").arg(ValueList::numberText(v))});
      break;
    }
  for (double v : orig) {
    if (!(v > 0) || v != std::floor(v)) {
      issues.push_back({"original_max_position_embeddings",
                        QObject::tr("original_max_position_embeddings must be a whole number > 0, got %1").arg(ValueList::numberText(v))});
      break;
    }
    if (target > 0 && v > static_cast<double>(target)) {
      issues.push_back({"original_max_position_embeddings",
                        QObject::tr("original context %1 is longer than the longest evaluated length %2: nothing would be extended")
                            .arg(ValueList::numberText(v))
                            .arg(target)});
      break;
    }
  }
  if (method == "llama3" && !lo.isEmpty() && !hi.isEmpty() && *std::max_element(lo.begin(), lo.end()) >= *std::min_element(hi.begin(), hi.end()))
    issues.push_back({"high_freq_factor", QObject::tr("llama3 needs low_freq_factor < high_freq_factor for every combination")});
  if (method == "yarn") {
    const double f = bf.isEmpty() ? 32 : *std::min_element(bf.begin(), bf.end());
    const double s = bs.isEmpty() ? 1 : *std::max_element(bs.begin(), bs.end());
    if (f <= s) issues.push_back({"beta_fast", QObject::tr("yarn needs beta_fast > beta_slow (defaults 32 and 1)")});
  }
  for (const QString& key : QStringList{"short_factor", "long_factor"}) {
    const QString t = value(key).trimmed();
    if (t.isEmpty()) continue;
    for (const QString& part : t.split('/')) {
      bool ok = false;
      const double v = part.trimmed().toDouble(&ok);
      if (!ok || !(v > 0)) {
        issues.push_back({key, QObject::tr("%1: entries separated by '/' must be numbers > 0 ('%2')").arg(key, part)});
        break;
      }
    }
  }
  return issues;
}

int RopeSetting::count() const {
  if (!isValid()) return 0;
  qint64 n = 1;
  for (const auto& [key, text] : params) {
    if (text.trimmed().isEmpty() || isFactorList(key)) continue;
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
    if (isFactorList(key)) {
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
  // Grid objects hold numbers only; with LongRoPE's '/' lists the expanded strings go instead.
  if (!value("short_factor").isEmpty() || !value("long_factor").isEmpty()) return QJsonArray::fromStringList(e);
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
  for (const auto& [key, text] : params)
    if (!text.trimmed().isEmpty()) parts << QString("%1 %2").arg(key, text.trimmed());
  return parts.isEmpty() ? method : QString("%1: %2").arg(method, parts.join(" × "));
}
