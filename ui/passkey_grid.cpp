#include "passkey_grid.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QSet>
#include <QStandardItemModel>
#include <cmath>

#include "table_roles.h"

namespace {
// grid[depth][length] (null where not done yet) into g.accuracy, NaN for the missing cells.
void fillAccuracy(const QJsonArray& grid, PasskeyGrid& g) {
  for (int d = 0; d < g.depths.size(); ++d) {
    QVector<double> row(g.lengths.size(), qQNaN());
    const QJsonArray src = grid.at(d).toArray();
    for (int l = 0; l < g.lengths.size(); ++l)
      if (src.at(l).isDouble()) row[l] = src.at(l).toDouble();
    g.accuracy << row;
  }
}
}  // namespace

int PasskeyGrid::cellsDone() const {
  int n = 0;
  for (const auto& row : accuracy)
    for (double v : row) n += std::isnan(v) ? 0 : 1;
  return n;
}

QVector<PasskeyGrid> PasskeyGrid::fromResults(const QVector<TaskRunResult>& runs) {
  QVector<PasskeyGrid> out;
  QSet<QString> instances;  // the task instance joins a map's name when several are shown
  for (const auto& r : runs)
    if (r.task == "passkey" || r.details.contains("heatmaps")) instances.insert(r.instance());
  for (const auto& r : runs) {
    const QString name = instances.size() > 1 ? r.label() + QString::fromUtf8(" · ") + r.instance() : r.label();
    if (r.details.contains("heatmaps")) {  // RULER (`ruler` or one NIAH task): a depth × length map per task
      const QJsonObject maps = r.details["heatmaps"].toObject();
      for (const auto& t : r.details["tasks"].toArray()) {
        PasskeyGrid g;
        g.label = name + " · " + t.toString();
        g.complete = r.complete;
    g.per_byte = r.perByte();
        g.per_byte = r.perByte();
        g.trials = r.details["samples"].toInt();
        for (const auto& v : r.details["lengths"].toArray()) g.lengths << v.toDouble();
        for (const auto& v : r.details["depths"].toArray()) g.depths << v.toDouble();
        fillAccuracy(maps[t.toString()].toObject()["accuracy"].toArray(), g);
        if (!g.lengths.isEmpty() && !g.depths.isEmpty()) out << g;
      }
      continue;
    }
    if (r.task != "passkey") continue;
    PasskeyGrid g;
    g.label = name;
    g.complete = r.complete;
    g.per_byte = r.perByte();
    g.trials = r.details["trials"].toInt();
    for (const auto& v : r.details["lengths"].toArray()) g.lengths << v.toDouble();
    for (const auto& v : r.details["depths"].toArray()) g.depths << v.toDouble();
    fillAccuracy(r.details["accuracy"].toArray(), g);
    if (!g.lengths.isEmpty() && !g.depths.isEmpty()) out << g;
  }
  return out;
}

QStandardItemModel* PasskeyGrid::toTable(const QVector<PasskeyGrid>& grids, QObject* parent) {
  auto* m = new QStandardItemModel(0, 4, parent);
  m->setHorizontalHeaderLabels({QObject::tr("model · setting"), QObject::tr("length"), QObject::tr("depth"), QObject::tr("accuracy")});
  for (const auto& g : grids)
    for (int d = 0; d < g.depths.size(); ++d)
      for (int l = 0; l < g.lengths.size(); ++l) {
        QList<QStandardItem*> row;
        row << new QStandardItem(g.label);
        auto num = [](double v, int prec) {
          auto* it = new QStandardItem(std::isnan(v) ? QString() : QString::number(v, 'g', prec));
          if (!std::isnan(v)) it->setData(v, TableRole::Value);
          return it;
        };
        row << num(g.lengths[l], 10) << num(g.depths[d], 6) << num(g.accuracy[d][l], 6);
        m->appendRow(row);
      }
  return m;
}
