#include "result_analysis.h"

#include <QHash>
#include <QJsonArray>
#include <QSet>
#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <vector>

namespace lmscope::analysis {
namespace {

const QString kDot = QString::fromUtf8(" · ");

std::vector<double> completeValues(const QVector<ResultRecord>& rs) {
  std::vector<double> v;
  for (const auto& r : rs)
    if (r.complete && !std::isnan(r.value)) v.push_back(r.value);
  return v;
}

// Marks the best complete value(s) of column `col` among rows (ties all marked; only with two or more values).
void markBest(QVector<QVector<AnalysisTable::Cell>>& rows, int col, bool lower, const QVector<bool>& eligible = {}) {
  double best = qQNaN();
  int n = 0;
  for (int i = 0; i < rows.size(); ++i) {
    const auto& c = rows[i][col];
    if (!c.value.isValid() || c.partial || (!eligible.isEmpty() && !eligible[i])) continue;
    const double v = c.value.toDouble();
    ++n;
    if (std::isnan(best) || (lower ? v < best : v > best)) best = v;
  }
  if (n < 2) return;
  for (int i = 0; i < rows.size(); ++i) {
    auto& c = rows[i][col];
    if (c.value.isValid() && !c.partial && (eligible.isEmpty() || eligible[i]) && c.value.toDouble() == best) c.best = true;
  }
}

QString pText(double p) {
  if (std::isnan(p)) return {};
  return p < 1e-4 ? QString::number(p, 'e', 2) : QString::number(p, 'f', 4);
}

AnalysisTable::Cell pCell(double p) {
  AnalysisTable::Cell c = AnalysisTable::number(p);
  if (c.value.isValid()) c.text = pText(p);
  return c;
}

}  // namespace

QString MetricChoice::text() const {
  return instance.isEmpty() ? metric + kDot + QObject::tr("all tasks") : instance + kDot + metric;
}

QVector<MetricChoice> metricChoices(const QVector<ResultRecord>& records) {
  QVector<MetricChoice> out;
  QHash<QString, QSet<QString>> instances_of;
  QStringList metrics_seen;
  for (const auto& r : records) {
    const MetricChoice c{r.instance, r.metric};
    if (!out.contains(c)) out.push_back(c);
    instances_of[r.metric].insert(r.instance);
    if (!metrics_seen.contains(r.metric)) metrics_seen << r.metric;
  }
  for (const auto& m : metrics_seen)
    if (instances_of[m].size() > 1) out.push_back({QString(), m});
  return out;
}

QVector<ResultRecord> selectRecords(const QVector<ResultRecord>& records, const MetricChoice& c) {
  QVector<ResultRecord> out;
  QSet<QString> with_lengths;  // instances whose metric has per-length values
  for (const auto& r : records)
    if (r.metric == c.metric && (c.instance.isEmpty() || r.instance == c.instance) && r.length > 0) with_lengths.insert(r.instance);
  for (const auto& r : records) {
    if (r.metric != c.metric || (!c.instance.isEmpty() && r.instance != c.instance)) continue;
    if (r.length == 0 && r.overall && with_lengths.contains(r.instance)) continue;
    out.push_back(r);
  }
  return out;
}

QString groupByName(GroupBy g) {
  switch (g) {
    case GroupBy::Method: return QObject::tr("method");
    case GroupBy::Family: return QObject::tr("family");
    case GroupBy::Model: return QObject::tr("model");
    case GroupBy::Setting: return QObject::tr("model · setting");
    case GroupBy::Length: return QObject::tr("length");
    case GroupBy::Task: return QObject::tr("task");
  }
  return {};
}

QString groupKey(const ResultRecord& r, GroupBy g) {
  switch (g) {
    case GroupBy::Method: return r.method;
    case GroupBy::Family: return r.family;
    case GroupBy::Model: return r.model;
    case GroupBy::Setting: return r.label;
    case GroupBy::Length: return r.length > 0 ? QString::number(r.length) : QObject::tr("none");
    case GroupBy::Task: return r.instance;
  }
  return {};
}

Summary summarize(const QVector<ResultRecord>& records, const MetricChoice& choice, GroupBy by) {
  Summary s;
  s.choice = choice;
  s.by = by;
  s.lower_is_better = lowerIsBetter(choice.metric);
  QStringList order;
  QHash<QString, QVector<ResultRecord>> groups;
  QHash<QString, qint64> length_of;
  for (const auto& r : selectRecords(records, choice)) {
    const QString k = groupKey(r, by);
    if (!groups.contains(k)) order << k;
    groups[k].push_back(r);
    length_of[k] = r.length;
  }
  for (const auto& k : order) {
    GroupRow row;
    row.group = k;
    const auto v = completeValues(groups[k]);
    row.summary = lmscope::analysis::summarize(v, s.lower_is_better);
    row.partial = groups[k].size() - int(v.size());
    s.partial += row.partial;
    s.rows.push_back(row);
  }
  const bool lower = s.lower_is_better;
  std::stable_sort(s.rows.begin(), s.rows.end(), [&](const GroupRow& a, const GroupRow& b) {
    if (by == GroupBy::Length) return length_of[a.group] < length_of[b.group];
    if ((a.summary.n == 0) != (b.summary.n == 0)) return b.summary.n == 0;  // groups without complete values last
    if (a.summary.mean != b.summary.mean) return lower ? a.summary.mean < b.summary.mean : a.summary.mean > b.summary.mean;
    return a.group < b.group;
  });
  return s;
}

void fill(AnalysisTable& t, const Summary& s) {
  const bool ranking = s.by != GroupBy::Length;
  QStringList h;
  if (ranking) h << QObject::tr("rank");
  h << groupByName(s.by) << "n" << "mean" << "best" << "std";
  if (s.partial > 0) h << QObject::tr("partial");
  const QString dir = s.lower_is_better ? QObject::tr("lower is better") : QObject::tr("higher is better");
  QStringList tips;
  if (ranking) tips << QObject::tr("by mean, %1").arg(dir);
  tips << QString() << QObject::tr("complete values") << QObject::tr("mean of the complete values")
       << QObject::tr("the best complete value (%1)").arg(dir) << QObject::tr("sample standard deviation (n − 1)")
       << QObject::tr("values of partial runs, left out");
  QVector<QVector<AnalysisTable::Cell>> rows;
  int rank = 0;
  for (const auto& g : s.rows) {
    QVector<AnalysisTable::Cell> row;
    if (ranking) row << (g.summary.n > 0 ? AnalysisTable::count(++rank) : AnalysisTable::text("–"));
    row << AnalysisTable::text(g.group) << AnalysisTable::count(qint64(g.summary.n));
    if (g.summary.n > 0) {
      row << AnalysisTable::number(g.summary.mean) << AnalysisTable::number(g.summary.best)
          << (g.summary.n > 1 ? AnalysisTable::number(g.summary.stddev) : AnalysisTable::text("–"));
    } else {
      row << AnalysisTable::text("–", QObject::tr("no complete value")) << AnalysisTable::text("–") << AnalysisTable::text("–");
    }
    if (s.partial > 0) row << AnalysisTable::count(g.partial);
    rows << row;
  }
  if (ranking) {  // a "best length" would mean nothing
    markBest(rows, 3, s.lower_is_better);  // mean
    markBest(rows, 4, s.lower_is_better);  // best
  }
  t.reset(h, rows, tips);
  t.setCaption(QObject::tr("%1 by %2: mean, best and sample standard deviation of the complete values (%3)")
                   .arg(s.choice.text(), groupByName(s.by), dir));
}

QVector<ResultRecord> topConfigurations(const QVector<ResultRecord>& records, const MetricChoice& choice, int n) {
  QVector<ResultRecord> v;
  for (const auto& r : selectRecords(records, choice))
    if (r.complete && !std::isnan(r.value)) v.push_back(r);
  const bool lower = lowerIsBetter(choice.metric);
  std::stable_sort(v.begin(), v.end(), [&](const ResultRecord& a, const ResultRecord& b) {
    if (a.value != b.value) return lower ? a.value < b.value : a.value > b.value;
    return std::make_tuple(a.label, a.length, a.instance) < std::make_tuple(b.label, b.length, b.instance);
  });
  if (n >= 0 && v.size() > n) v.resize(n);
  return v;
}

void fillTop(AnalysisTable& t, const QVector<ResultRecord>& top, const MetricChoice& choice) {
  bool any_length = false;
  for (const auto& r : top) any_length |= r.length > 0;
  QStringList h{QObject::tr("rank"), QObject::tr("model"), QObject::tr("setting"), QObject::tr("method")};
  if (choice.instance.isEmpty()) h << QObject::tr("task");
  if (any_length) h << QObject::tr("length");
  h << choice.metric;
  QVector<QVector<AnalysisTable::Cell>> rows;
  int rank = 0;
  for (const auto& r : top) {
    QVector<AnalysisTable::Cell> row{AnalysisTable::count(++rank), AnalysisTable::text(r.model),
                                     AnalysisTable::text(r.setting.isEmpty() ? QObject::tr("(checkpoint's own)") : r.setting),
                                     AnalysisTable::text(r.method)};
    if (choice.instance.isEmpty()) row << AnalysisTable::text(r.instance);
    if (any_length) row << (r.length > 0 ? AnalysisTable::count(r.length) : AnalysisTable::text("–"));
    row << AnalysisTable::number(r.value);
    rows << row;
  }
  const bool lower = lowerIsBetter(choice.metric);
  t.reset(h, rows);
  t.setCaption(QObject::tr("The %n best configuration(s) by %1 (%2; complete runs only)", nullptr, top.size())
                   .arg(choice.text(), lower ? QObject::tr("lower is better") : QObject::tr("higher is better")));
}

CorrelationResult correlate(const QVector<ResultRecord>& records, const MetricChoice& x, const MetricChoice& y) {
  CorrelationResult c;
  c.x = x;
  c.y = y;
  auto byKey = [&](const MetricChoice& m, QSet<QString>& dup) {
    std::map<QString, double> out;
    for (const auto& r : selectRecords(records, m)) {
      if (!r.complete || std::isnan(r.value)) continue;
      const QString k = r.label + (r.length > 0 ? " @ " + QString::number(r.length) : QString());
      if (out.count(k)) dup.insert(k);
      out[k] = r.value;
    }
    for (const auto& k : dup) out.erase(k);
    return out;
  };
  QSet<QString> dup_x, dup_y;
  const auto mx = byKey(x, dup_x), my = byKey(y, dup_y);
  for (const auto& [k, vx] : mx) {
    const auto it = my.find(k);
    if (it == my.end()) continue;
    c.keys << k;
    c.xs << vx;
    c.ys << it->second;
  }
  const std::vector<double> xs(c.xs.begin(), c.xs.end()), ys(c.ys.begin(), c.ys.end());
  c.pearson = pearson(xs, ys);
  c.spearman = spearman(xs, ys);
  QStringList notes;
  if (!dup_x.isEmpty() || !dup_y.isEmpty())
    notes << QObject::tr("%n setting(s) with several values of one metric left out", nullptr, int(dup_x.size() + dup_y.size()));
  if (c.xs.size() < 3) {
    bool lx = false, ly = false;
    for (const auto& r : selectRecords(records, x)) lx |= r.length > 0;
    for (const auto& r : selectRecords(records, y)) ly |= r.length > 0;
    if (lx != ly) notes << QObject::tr("one metric is per length and the other is not: they pair on no setting");
    notes << QObject::tr("%n pair(s) of complete values: a correlation needs at least 3", nullptr, int(c.xs.size()));
  }
  c.note = notes.join("; ");
  return c;
}

void fillCorrelations(AnalysisTable& t, const QVector<CorrelationResult>& results) {
  const QStringList h{QObject::tr("x"), QObject::tr("y"), "n", "Pearson r", "Pearson p", QString::fromUtf8("Spearman ρ"),
                      "Spearman p"};
  const QStringList tips{QString(), QString(), QObject::tr("pairs: complete values of both, same model · setting and length"),
                         QString(), QObject::tr("two-sided, Student's t with n − 2 degrees of freedom"), QString(),
                         QObject::tr("two-sided, Student's t with n − 2 degrees of freedom (ties share their average rank)")};
  QVector<QVector<AnalysisTable::Cell>> rows;
  for (const auto& c : results) {
    QVector<AnalysisTable::Cell> row{AnalysisTable::text(c.x.text()), AnalysisTable::text(c.y.text()),
                                     AnalysisTable::count(qint64(c.xs.size()))};
    row << AnalysisTable::number(c.pearson.r, 3) << pCell(c.pearson.p_value) << AnalysisTable::number(c.spearman.r, 3)
        << pCell(c.spearman.p_value);
    if (std::isnan(c.pearson.r)) row[3] = AnalysisTable::text("–", c.note);
    if (std::isnan(c.spearman.r)) row[5] = AnalysisTable::text("–", c.note);
    if (std::isnan(c.pearson.r)) row[4] = AnalysisTable::text("–");
    if (std::isnan(c.spearman.r)) row[6] = AnalysisTable::text("–");
    rows << row;
  }
  t.reset(h, rows, tips);
  t.setCaption(QObject::tr("Correlations between metrics across settings (pairs by model, setting and length; complete runs only)"));
}

QVector<CorrelationResult> allCorrelations(const QVector<ResultRecord>& records, int min_pairs) {
  QVector<MetricChoice> choices;
  for (const auto& c : metricChoices(records))
    if (!c.instance.isEmpty()) choices << c;
  QVector<CorrelationResult> out;
  for (int i = 0; i < choices.size(); ++i)
    for (int j = i + 1; j < choices.size(); ++j) {
      auto c = correlate(records, choices[i], choices[j]);
      if (c.xs.size() >= min_pairs && !std::isnan(c.pearson.r)) out << c;
    }
  return out;
}

QString AverageColumn::header() const { return instance == metric_key ? instance : instance + " " + metric_key; }

Averages averages(const QVector<ResultRecord>& records, const AveragesOptions& o) {
  Averages a;
  // columns: per instance, metrics without a length, and per-length ones where the task has no overall value
  QSet<QString> has_overall, has_norm;
  for (const auto& r : records) {
    if (r.overall) has_overall.insert(r.instance + '\x1f' + r.metric);
    if (r.metric == "acc_norm") has_norm.insert(r.instance);
  }
  QHash<QString, int> col_of;
  for (const auto& r : records) {
    if (r.length > 0 && has_overall.contains(r.instance + '\x1f' + r.metric)) continue;
    if (o.acc_norm_over_acc && r.metric == "acc" && has_norm.contains(r.instance)) continue;
    const QString k = r.instance + '\x1f' + r.metric_key;
    if (col_of.contains(k)) continue;
    col_of.insert(k, a.columns.size());
    a.columns.push_back({r.instance, r.metric_key, r.length == 0 && accuracyLike(r.metric), r.lower_is_better});
  }
  // within a task instance, metrics by name and lengths in numeric order ("ppl@256" before "ppl@1024")
  {
    QStringList seen;
    for (const auto& c : a.columns)
      if (!seen.contains(c.instance)) seen << c.instance;
    auto key = [&](const AverageColumn& c) {
      const int at = c.metric_key.indexOf('@');
      return std::make_tuple(seen.indexOf(c.instance), at < 0 ? c.metric_key : c.metric_key.left(at),
                             at < 0 ? -1.0 : c.metric_key.mid(at + 1).toDouble());
    };
    std::stable_sort(a.columns.begin(), a.columns.end(), [&](const AverageColumn& x, const AverageColumn& y) { return key(x) < key(y); });
    col_of.clear();
    for (int i = 0; i < a.columns.size(); ++i) col_of.insert(a.columns[i].instance + '\x1f' + a.columns[i].metric_key, i);
  }
  for (const auto& c : a.columns)
    if (c.averaged) a.averaged << c.header();
  QHash<QString, int> row_of;
  for (const auto& r : records) {
    const auto col = col_of.find(r.instance + '\x1f' + r.metric_key);
    if (col == col_of.end()) continue;
    if (!row_of.contains(r.label)) {
      row_of.insert(r.label, a.rows.size());
      AverageRow row;
      row.label = r.label;
      row.group = groupKey(r, o.group);
      row.values = QVector<double>(a.columns.size(), qQNaN());
      row.partial = QVector<bool>(a.columns.size(), false);
      a.rows.push_back(row);
    }
    AverageRow& row = a.rows[row_of[r.label]];
    row.values[*col] = r.value;
    row.partial[*col] = !r.complete;
  }
  auto average = [&](AverageRow& row) {
    double sum = 0;
    int n = 0;
    QStringList missing;
    for (int c = 0; c < a.columns.size(); ++c) {
      if (!a.columns[c].averaged) continue;
      if (std::isnan(row.values[c])) {
        missing << a.columns[c].header();
        continue;
      }
      sum += row.values[c];
      ++n;
      row.avg_partial |= row.partial[c];
    }
    row.missing = missing.join(", ");
    row.avg = n > 0 && missing.isEmpty() ? sum / n : qQNaN();
  };
  for (auto& row : a.rows) average(row);
  if (o.group_averages) {
    QStringList groups;
    for (const auto& r : a.rows)
      if (!groups.contains(r.group)) groups << r.group;
    const int plain = a.rows.size();
    for (const auto& g : groups) {
      AverageRow m;
      m.label = QObject::tr("mean of %1 %2").arg(groupByName(o.group), g);
      m.group = g;
      m.group_average = true;
      m.values = QVector<double>(a.columns.size(), qQNaN());
      m.partial = QVector<bool>(a.columns.size(), false);
      for (int c = 0; c < a.columns.size(); ++c) {
        double sum = 0;
        int n = 0, members = 0;
        bool incomplete = false;
        for (int i = 0; i < plain; ++i) {
          if (a.rows[i].group != g) continue;
          ++members;
          if (std::isnan(a.rows[i].values[c]) || a.rows[i].partial[c]) {
            incomplete = true;
            continue;
          }
          sum += a.rows[i].values[c];
          ++n;
        }
        m.members = members;
        // a group mean over fewer rows than the group has would compare unlike things
        m.values[c] = !incomplete && n > 0 ? sum / n : qQNaN();
      }
      average(m);
      a.rows.push_back(m);
    }
  }
  return a;
}

void fillAverages(AnalysisTable& t, const Averages& a) {
  QStringList h{QObject::tr("model · setting")}, tips{QString()};
  for (const auto& c : a.columns) {
    h << c.header();
    tips << (c.lower_is_better ? QObject::tr("lower is better; not in Avg") : c.averaged ? QObject::tr("higher is better; in Avg")
                                                                                          : QObject::tr("higher is better; not in Avg"));
  }
  const bool with_avg = !a.averaged.isEmpty();
  if (with_avg) {
    h << "Avg";
    tips << QObject::tr("mean of %1 (perplexities and other lower-is-better metrics are not averaged)").arg(a.averaged.join(", "));
  }
  QVector<QVector<AnalysisTable::Cell>> rows;
  QVector<bool> plain;
  for (const auto& r : a.rows) {
    QVector<AnalysisTable::Cell> row{AnalysisTable::text(r.label, r.group_average ? QObject::tr("%n row(s)", nullptr, r.members) : QString())};
    for (int c = 0; c < a.columns.size(); ++c) {
      AnalysisTable::Cell cell = AnalysisTable::number(r.values[c]);
      cell.partial = r.partial[c];
      if (cell.partial) cell.tip = QObject::tr("from a partial run");
      row << cell;
    }
    if (with_avg) {
      AnalysisTable::Cell cell = AnalysisTable::number(r.avg);
      cell.partial = r.avg_partial;
      if (!r.missing.isEmpty()) cell = AnalysisTable::text("–", QObject::tr("missing: %1").arg(r.missing));
      else if (r.avg_partial) cell.tip = QObject::tr("includes values of partial runs");
      row << cell;
    }
    rows << row;
    plain << !r.group_average;
  }
  for (int c = 0; c < a.columns.size(); ++c) markBest(rows, c + 1, a.columns[c].lower_is_better, plain);
  if (with_avg) markBest(rows, a.columns.size() + 1, false, plain);
  t.reset(h, rows, tips);
  t.setCaption(with_avg ? QObject::tr("Task metrics per model and setting; Avg is the mean of %1").arg(a.averaged.join(", "))
                        : QObject::tr("Task metrics per model and setting (no accuracy-like metric to average)"));
}

RunItems runItemsFromJson(const QJsonObject& j) {
  RunItems r;
  r.run_key = j["run_key"].toString();
  r.task = j["task"].toString();
  r.alias = j["alias"].toString();
  r.note = j["note"].toString();
  r.unit_count = j["unit_count"].toInteger();
  r.units_stored = j["units_stored"].toInteger();
  r.complete = j["complete"].toBool();
  for (const auto& v : j["outcomes"].toArray()) {
    const QJsonObject o = v.toObject();
    ItemOutcome x;
    x.name = o["name"].toString();
    x.binary = o["binary"].toBool();
    x.lower_is_better = o["lower_is_better"].toBool();
    for (const auto& i : o["items"].toArray()) x.items << i.toString();
    for (const auto& d : o["values"].toArray()) x.values << d.toDouble(qQNaN());
    if (x.items.size() == x.values.size()) r.outcomes << x;
  }
  return r;
}

PairedComparison pairedCompare(const RunItems& a, const QString& config_a, const RunItems& b, const QString& config_b,
                               const QString& outcome) {
  PairedComparison c;
  c.outcome = outcome;
  if (config_a != config_b) {
    c.problems << QObject::tr("different configurations of the task (config %1 and %2): their items are not the same")
                      .arg(config_a.left(8), config_b.left(8));
    return c;
  }
  const ItemOutcome* oa = nullptr;
  const ItemOutcome* ob = nullptr;
  for (const auto& o : a.outcomes)
    if (o.name == outcome) oa = &o;
  for (const auto& o : b.outcomes)
    if (o.name == outcome) ob = &o;
  if (!oa || !ob) {
    if (!oa) c.problems << QObject::tr("A has no per-item %1%2").arg(outcome, a.note.isEmpty() ? QString() : " (" + a.note + ")");
    if (!ob) c.problems << QObject::tr("B has no per-item %1%2").arg(outcome, b.note.isEmpty() ? QString() : " (" + b.note + ")");
    return c;
  }
  c.binary = oa->binary && ob->binary;
  c.lower_is_better = oa->lower_is_better;
  if (!a.complete) c.problems << QObject::tr("A is partial: %1 of %2 units stored").arg(a.units_stored).arg(a.unit_count);
  if (!b.complete) c.problems << QObject::tr("B is partial: %1 of %2 units stored").arg(b.units_stored).arg(b.unit_count);
  c.items_a = oa->items.size();
  c.items_b = ob->items.size();
  QHash<QString, double> vb;
  for (int i = 0; i < ob->items.size(); ++i) vb.insert(ob->items[i], ob->values[i]);
  std::vector<double> xa, xb;
  for (int i = 0; i < oa->items.size(); ++i) {
    const auto it = vb.find(oa->items[i]);
    if (it == vb.end() || std::isnan(oa->values[i]) || std::isnan(*it)) continue;
    xa.push_back(oa->values[i]);
    xb.push_back(*it);
  }
  c.common = qint64(xa.size());
  if (c.common < c.items_a || c.common < c.items_b)
    c.problems << QObject::tr("items do not match: %1 of A's %2 and B's %3 items are in both; compared on those")
                      .arg(c.common).arg(c.items_a).arg(c.items_b);
  if (c.common < 2) {
    c.problems << QObject::tr("fewer than 2 common items: nothing to compare");
    return c;
  }
  for (std::size_t i = 0; i < xa.size(); ++i) {
    c.mean_a += xa[i];
    c.mean_b += xb[i];
  }
  c.mean_a /= double(xa.size());
  c.mean_b /= double(xb.size());
  c.difference = paired_bootstrap(xa, xb);
  if (c.binary) {
    std::vector<bool> ba(xa.size()), bb(xb.size());
    for (std::size_t i = 0; i < xa.size(); ++i) {
      ba[i] = xa[i] > 0.5;
      bb[i] = xb[i] > 0.5;
    }
    c.mcnemar = mcnemar(ba, bb);
  }
  c.computed = true;
  return c;
}

void fillPaired(AnalysisTable& t, const PairedComparison& c, const QString& label_a, const QString& label_b) {
  QStringList h{QObject::tr("outcome"), QObject::tr("items"), "A", "B", QObject::tr("A−B"), QObject::tr("95% low"),
                QObject::tr("95% high")};
  QStringList tips{QString(), QObject::tr("items in both runs"), QObject::tr("mean over the common items: %1").arg(label_a),
                   QObject::tr("mean over the common items: %1").arg(label_b), QObject::tr("mean paired difference"),
                   QObject::tr("percentile bootstrap, 10,000 resamples of the items (seed 1234)"), QString()};
  if (c.binary) {
    h << QObject::tr("only A") << QObject::tr("only B") << QObject::tr("McNemar p");
    tips << QObject::tr("items A gets right and B wrong") << QObject::tr("items B gets right and A wrong")
         << QObject::tr("exact two-sided binomial test of only A against only B");
  }
  QVector<QVector<AnalysisTable::Cell>> rows;
  if (c.computed) {
    QVector<AnalysisTable::Cell> row{AnalysisTable::text(c.outcome), AnalysisTable::count(c.common),
                                     AnalysisTable::number(c.mean_a, 4), AnalysisTable::number(c.mean_b, 4),
                                     AnalysisTable::number(c.difference.mean, 4), AnalysisTable::number(c.difference.low, 4),
                                     AnalysisTable::number(c.difference.high, 4)};
    if (c.binary) row << AnalysisTable::count(c.mcnemar.only_a) << AnalysisTable::count(c.mcnemar.only_b) << pCell(c.mcnemar.p_value);
    rows << row;
  }
  t.reset(h, rows, tips);
  t.setCaption(QObject::tr("Paired comparison on the same items: A = %1, B = %2").arg(label_a, label_b));
}

}  // namespace lmscope::analysis
