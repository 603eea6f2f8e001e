#include "ppl_series.h"

#include <QJsonArray>
#include <QSet>
#include <QStandardItemModel>
#include <algorithm>
#include <map>

#include "comparison_table_model.h"
#include "table_roles.h"

namespace {
const char* taskOf(PplSeries::Quantity q) {
  switch (q) {
    case PplSeries::Quantity::Perplexity: return "ppl_vs_length";
    case PplSeries::Quantity::LongPpl: return "longppl";
    case PplSeries::Quantity::Throughput: return "throughput";
  }
  return "";
}
}  // namespace

QVector<PplSeries> PplSeries::fromResults(const QVector<TaskRunResult>& runs, Quantity q) {
  QVector<PplSeries> out;
  const QString task = taskOf(q);
  // The task instance joins the label when several are drawn (corpora, configurations).
  QSet<QString> instances;
  for (const auto& r : runs)
    if (r.task == task) instances.insert(r.instance());
  for (const auto& r : runs) {
    if (r.task != task) continue;
    PplSeries base;
    base.name = r.label();
    base.instance = r.instance();
    base.per_byte = r.perByte();
    base.label = instances.size() > 1 ? r.label() + QString::fromUtf8(" · ") + r.instance() : r.label();
    base.complete = r.complete;
    // points by line: one line, or for throughput one per batch size
    std::map<qint64, std::map<double, double>> lines;
    if (q == Quantity::Throughput) {
      for (const auto& p : r.details["measurements"].toArray()) {
        const auto o = p.toObject();
        if (o["tokens_per_s"].isDouble()) lines[o["batch"].toInteger()][o["seq"].toDouble()] = o["tokens_per_s"].toDouble();
      }
    } else {
      const char* key = q == Quantity::LongPpl ? "longppl" : "ppl";
      for (const auto& p : r.details["series"].toArray()) {
        const auto o = p.toObject();
        if (o[key].isDouble()) lines[0][o["length"].toDouble()] = o[key].toDouble();
      }
    }
    for (const auto& [batch, pts] : lines) {
      PplSeries s = base;
      if (q == Quantity::Throughput && lines.size() > 1) {
        s.name += QObject::tr(" · batch %1").arg(batch);
        s.label += QObject::tr(" · batch %1").arg(batch);
      }
      for (const auto& [l, v] : pts) {
        s.lengths << l;
        s.ppl << v;
      }
      if (!s.lengths.isEmpty()) out << s;
    }
  }
  return out;
}

QString PplPanel::valueName(PplSeries::Quantity q, bool per_byte) {
  switch (q) {
    case PplSeries::Quantity::Perplexity: return per_byte ? QObject::tr("perplexity per byte") : QObject::tr("perplexity");
    case PplSeries::Quantity::LongPpl: return per_byte ? QObject::tr("LongPPL per byte") : QObject::tr("LongPPL");
    case PplSeries::Quantity::Throughput: return per_byte ? QObject::tr("bytes/s") : QObject::tr("tokens/s");
  }
  return {};
}

QVector<PplPanel> PplPanel::group(const QVector<PplSeries>& series, PplSeries::Quantity q) {
  QStringList instances;
  bool bytes = false, tokens = false;
  for (const auto& s : series) {
    if (!instances.contains(s.instance)) instances << s.instance;
    (s.per_byte ? bytes : tokens) = true;
  }
  QVector<PplPanel> out;
  for (const QString& inst : instances)
    for (const bool per_byte : {false, true}) {
      PplPanel p;
      p.instance = inst;
      p.per_byte = per_byte;
      for (int i = 0; i < series.size(); ++i)
        if (series[i].instance == inst && series[i].per_byte == per_byte) p.series << i;
      if (p.series.isEmpty()) continue;
      QStringList title;
      if (instances.size() > 1) title << inst;
      if (bytes && tokens) title << (per_byte ? QObject::tr("byte-level models") : QObject::tr("token-level models"));
      p.title = title.join(QString::fromUtf8(" · "));
      const QString unit = per_byte ? QObject::tr("bytes") : QObject::tr("tokens");
      p.x_label = q == PplSeries::Quantity::Throughput ? QObject::tr("sequence length (%1)").arg(unit)
                                                        : QObject::tr("context length (%1)").arg(unit);
      p.y_label = valueName(q, per_byte);
      if (q != PplSeries::Quantity::Throughput && !per_byte && bytes) p.y_label += QObject::tr(" per token");
      out << p;
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
    // a per-byte line says so: its lengths are bytes and its values per byte
    m->setHorizontalHeaderItem(c + 1, new QStandardItem(series[c].per_byte ? series[c].label + QObject::tr(" (per byte)") : series[c].label));
    for (int k = 0; k < series[c].lengths.size(); ++k) {
      auto* it = new QStandardItem(ComparisonTableModel::formatValue(series[c].ppl[k], qQNaN()));
      it->setData(series[c].ppl[k], TableRole::Value);
      m->setItem(rows[series[c].lengths[k]], c + 1, it);
    }
  }
  return m;
}
