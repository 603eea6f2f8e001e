#include "token_comparison.h"

#include <QJsonArray>
#include <QColor>
#include <QStandardItemModel>
#include <algorithm>
#include <cmath>
#include <map>

#include "comparison_table_model.h"
#include "table_roles.h"

namespace {
QVector<double> numbers(const QJsonValue& v) {
  QVector<double> out;
  for (const auto& x : v.toArray()) out << x.toDouble();
  return out;
}
}  // namespace

QVector<TokenComparisonRun> TokenComparisonRun::fromResults(const QVector<TaskRunResult>& runs) {
  QVector<TokenComparisonRun> out;
  for (const auto& r : runs) {
    if (r.task != "compare") continue;
    TokenComparisonRun c;
    c.label = r.label();
    c.complete = r.complete;
    c.paired = r.details["paired"].toBool();
    for (const auto& p : r.details["positions"].toArray()) {
      const auto o = p.toObject();
      c.context << 0.5 * (o["context_from"].toDouble() + o["context_to"].toDouble());
      c.nll << o["nll_mean"].toDouble();
      if (!c.paired) continue;
      c.base_nll << o["base_nll_mean"].toDouble();
      c.kl << o["kl_mean"].toDouble();
      c.agreement << o["top1_agreement"].toDouble();
    }
    const auto h = r.details["delta_nll_histogram"].toObject();
    c.hist_edges = numbers(h["edges"]);
    c.hist_counts = numbers(h["counts"]);
    c.hist_below = h["below"].toInteger();
    c.hist_above = h["above"].toInteger();
    for (const auto& w : r.details["worst"].toArray()) {
      const auto o = w.toObject();
      c.worst << Worst{o["context"].toInteger(), o["text"].toString(),     o["before"].toString(),
                       o["nll"].toDouble(),      o["base_nll"].toDouble(), o["delta_nll"].toDouble(),
                       o["kl"].toDouble(),       o["top1_same"].toBool()};
    }
    const auto tv = r.details["token_view"].toObject();
    c.view_context = tv["context_text"].toString();
    c.view_value = tv["value"].toString();
    c.view_first_context = tv["first_context"].toInteger();
    for (const auto& p : tv["pieces"].toArray()) c.view_pieces << p.toString();
    c.view_values = numbers(tv["values"]);
    if (!c.context.isEmpty()) out << c;
  }
  return out;
}

QStandardItemModel* TokenComparisonRun::toTable(const QVector<TokenComparisonRun>& runs, QObject* parent) {
  std::map<double, int> rows;
  for (const auto& r : runs)
    for (double x : r.context) rows[x] = 0;
  int i = 0;
  for (auto& [x, row] : rows) row = i++;
  QStringList headers{QObject::tr("context (tokens)")};
  for (const auto& r : runs) {
    headers << r.label + QObject::tr(" NLL");
    if (r.paired) headers << r.label + QObject::tr(" base NLL") << r.label + QObject::tr(" KL") << r.label + QObject::tr(" top-1 agreement");
  }
  auto* m = new QStandardItemModel(static_cast<int>(rows.size()), headers.size(), parent);
  m->setHorizontalHeaderLabels(headers);
  for (const auto& [x, row] : rows) {
    auto* it = new QStandardItem(QString::number(x));
    it->setData(x, TableRole::Value);
    m->setItem(row, 0, it);
  }
  int col = 1;
  auto put = [&](const QVector<double>& xs, const QVector<double>& ys) {
    for (int k = 0; k < xs.size() && k < ys.size(); ++k) {
      auto* it = new QStandardItem(ComparisonTableModel::formatValue(ys[k], qQNaN()));
      it->setData(ys[k], TableRole::Value);
      m->setItem(rows[xs[k]], col, it);
    }
    ++col;
  };
  for (const auto& r : runs) {
    put(r.context, r.nll);
    if (!r.paired) continue;
    put(r.context, r.base_nll);
    put(r.context, r.kl);
    put(r.context, r.agreement);
  }
  return m;
}

QString TokenComparisonRun::viewHtml() const {
  // ΔNLL around 0: a diverging blue–white–red scale saturating at ±3 nats; NLL alone: white to red over 0..10.
  const bool delta = view_value == "delta_nll";
  auto colour = [&](double v) {
    const double t = delta ? std::clamp(v / 3.0, -1.0, 1.0) : std::clamp(v / 10.0, 0.0, 1.0);
    const QColor end = t >= 0 ? QColor(214, 39, 40) : QColor(31, 119, 180);
    const double a = std::abs(t) * 0.8;  // blended over white: rich text takes no alpha
    auto mix = [a](int c) { return static_cast<int>(std::lround(255 + a * (c - 255))); };
    return QColor(mix(end.red()), mix(end.green()), mix(end.blue())).name();
  };
  QString html = "<div style='font-family: monospace; white-space: pre-wrap; line-height: 150%'>";
  html += "<span style='color: gray'>" + view_context.toHtmlEscaped() + "</span>";
  for (int i = 0; i < view_pieces.size() && i < view_values.size(); ++i) {
    const QString tip = (delta ? QObject::tr("context %1: ΔNLL %2 nats") : QObject::tr("context %1: NLL %2 nats"))
                            .arg(view_first_context + i)
                            .arg(view_values[i], 0, 'f', 3);
    html += QString("<span style='background-color: %1' title='%2'>%3</span>")
                .arg(colour(view_values[i]), tip, view_pieces[i].toHtmlEscaped());
  }
  return html + "</div>";
}
