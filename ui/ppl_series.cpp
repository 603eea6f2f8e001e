#include "ppl_series.h"

#include <QJsonArray>
#include <QSet>
#include <QStandardItemModel>
#include <algorithm>
#include <map>

#include "comparison_table_model.h"
#include "table_roles.h"

QVector<PplSeries> PplSeries::fromResults(const QVector<TaskRunResult>& runs) {
  QVector<PplSeries> out;
  // One line per entry; the task instance joins the name when several are drawn (corpora, configurations).
  QSet<QString> instances;
  for (const auto& r : runs)
    if (r.task == "ppl_vs_length") instances.insert(r.instance());
  for (const auto& r : runs) {
    if (r.task != "ppl_vs_length") continue;
    PplSeries s;
    s.label = instances.size() > 1 ? r.label() + QString::fromUtf8(" · ") + r.instance() : r.label();
    s.complete = r.complete;
    std::map<double, double> pts;
    for (const auto& p : r.details["series"].toArray()) {
      const auto o = p.toObject();
      if (o["ppl"].isDouble()) pts[o["length"].toDouble()] = o["ppl"].toDouble();
    }
    for (const auto& [l, v] : pts) {
      s.lengths << l;
      s.ppl << v;
    }
    if (!s.lengths.isEmpty()) out << s;
  }
  return out;
}

QStandardItemModel* PplSeries::toTable(const QVector<PplSeries>& series, QObject* parent) {
  std::map<double, int> rows;
  for (const auto& s : series)
    for (double l : s.lengths) rows[l] = 0;
  int i = 0;
  for (auto& [l, r] : rows) r = i++;
  auto* m = new QStandardItemModel(static_cast<int>(rows.size()), series.size() + 1, parent);
  m->setHorizontalHeaderItem(0, new QStandardItem(QObject::tr("context length")));
  for (const auto& [l, r] : rows) {
    auto* it = new QStandardItem(QString::number(static_cast<qint64>(l)));
    it->setData(l, TableRole::Value);
    m->setItem(r, 0, it);
  }
  for (int c = 0; c < series.size(); ++c) {
    m->setHorizontalHeaderItem(c + 1, new QStandardItem(series[c].label));
    for (int k = 0; k < series[c].lengths.size(); ++k) {
      auto* it = new QStandardItem(ComparisonTableModel::formatValue(series[c].ppl[k], qQNaN()));
      it->setData(series[c].ppl[k], TableRole::Value);
      m->setItem(rows[series[c].lengths[k]], c + 1, it);
    }
  }
  return m;
}
