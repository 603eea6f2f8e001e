#include "value_list.h"

#include <QRegularExpression>
#include <QStringList>
#include <cmath>

namespace {
bool number(const QString& s, double* out) {
  bool ok = false;
  const double v = s.trimmed().toDouble(&ok);
  if (!ok || !std::isfinite(v)) return false;
  *out = v;
  return true;
}
std::optional<QVector<double>> fail(QString* error, const QString& why) {
  if (error) *error = why;
  return std::nullopt;
}
}  // namespace

std::optional<QVector<double>> ValueList::parse(const QString& text, QString* error) {
  const QString t = text.trimmed();
  if (t.isEmpty()) return fail(error, QObject::tr("enter a value, a list (2, 4, 8) or a range (256:2048:256, 512..8192 x2)"));
  QVector<double> out;
  // geometric range: a..b xF
  static const QRegularExpression geo(R"(^(\S+)\s*\.\.\s*(\S+)\s*[x×*]\s*(\S+)$)");
  if (const auto m = geo.match(t); m.hasMatch()) {
    double a, b, f;
    if (!number(m.captured(1), &a) || !number(m.captured(2), &b) || !number(m.captured(3), &f))
      return fail(error, QObject::tr("'%1': a geometric range is start..stop xfactor, e.g. 512..8192 x2").arg(t));
    if (!(a > 0) || !(f > 1) || b < a) return fail(error, QObject::tr("'%1': need 0 < start ≤ stop and factor > 1").arg(t));
    for (double v = a; v <= b * (1 + 1e-12); v *= f) {
      out.push_back(v);
      if (out.size() > kMaxValues) return fail(error, QObject::tr("'%1' gives more than %2 values").arg(t).arg(kMaxValues));
    }
    return out;
  }
  // arithmetic range: a:b:step (stop included)
  if (t.contains(':')) {
    const QStringList p = t.split(':');
    double a, b, s;
    if (p.size() != 3 || !number(p[0], &a) || !number(p[1], &b) || !number(p[2], &s))
      return fail(error, QObject::tr("'%1': a range is start:stop:step, e.g. 256:2048:256").arg(t));
    if (!(s > 0) || b < a) return fail(error, QObject::tr("'%1': need start ≤ stop and step > 0").arg(t));
    for (int i = 0;; ++i) {
      const double v = a + i * s;
      if (v > b + std::abs(s) * 1e-9) break;
      out.push_back(v);
      if (out.size() > kMaxValues) return fail(error, QObject::tr("'%1' gives more than %2 values").arg(t).arg(kMaxValues));
    }
    return out;
  }
  for (const QString& part : t.split(QRegularExpression("[,;\\s]+"), Qt::SkipEmptyParts)) {
    double v;
    if (!number(part, &v)) return fail(error, QObject::tr("'%1' is not a number").arg(part));
    out.push_back(v);
  }
  if (out.size() > kMaxValues) return fail(error, QObject::tr("more than %1 values").arg(kMaxValues));
  return out;
}

std::optional<QVector<qint64>> ValueList::parseIntegers(const QString& text, QString* error) {
  const auto v = parse(text, error);
  if (!v) return std::nullopt;
  QVector<qint64> out;
  for (double x : *v) {
    if (x != std::floor(x) || std::abs(x) > 9e15) {
      if (error) *error = QObject::tr("'%1' is not a whole number").arg(numberText(x));
      return std::nullopt;
    }
    out.push_back(static_cast<qint64>(x));
  }
  return out;
}

QString ValueList::numberText(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e15) return QString::number(static_cast<qint64>(v));
  return QString::number(v, 'g', 15);
}
