#include "table_exporter.h"

#include <QAbstractItemModel>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSaveFile>
#include <QStringList>

#include "table_roles.h"

namespace {
QString header(const QAbstractItemModel& m, int c) { return m.headerData(c, Qt::Horizontal, Qt::DisplayRole).toString(); }
QString text(const QAbstractItemModel& m, int r, int c) { return m.data(m.index(r, c), Qt::DisplayRole).toString(); }

bool columnHasStderr(const QAbstractItemModel& m, int c) {
  for (int r = 0; r < m.rowCount(); ++r)
    if (m.data(m.index(r, c), TableRole::Stderr).isValid()) return true;
  return false;
}

QString csvField(const QString& s) {
  if (!s.contains(',') && !s.contains('"') && !s.contains('\n')) return s;
  return '"' + QString(s).replace('"', "\"\"") + '"';
}

// A raw number in full precision, or the display text when the cell has no number.
QString rawText(const QAbstractItemModel& m, int r, int c) {
  const QVariant v = m.data(m.index(r, c), TableRole::Value);
  if (v.typeId() == QMetaType::Double) return QString::number(v.toDouble(), 'g', 12);
  return v.isValid() ? v.toString() : text(m, r, c);
}

QString latexEscape(QString s) {
  s.replace('\\', "\\textbackslash{}");
  for (const char* c : {"&", "%", "$", "#", "_", "{", "}"}) s.replace(c, QString("\\") + c);
  s.replace('~', "\\textasciitilde{}").replace('^', "\\textasciicircum{}");
  s.replace(QString::fromUtf8("±"), "$\\pm$").replace(QString::fromUtf8("·"), "$\\cdot$");
  s.replace(QString::fromUtf8("ρ"), "$\\rho$").replace(QString::fromUtf8("−"), "$-$");  // pdflatex's utf8 has neither
  return s;
}

// A metric's name as a paper's header would have it (LaTeX, already escaped): "ppl@256" → "PPL ($L{=}256$)",
// "tokens_per_s@1x256" → "tokens/s (1$\times$256)", "acc_norm" → "acc (norm.)", "bits_per_byte" → "bits/byte".
QString readableMetric(const QString& metric) {
  static const QList<QPair<QString, QString>> names = {
      {"longppl", "LongPPL"},       {"ppl", "PPL"},           {"word_perplexity", "word PPL"},
      {"byte_perplexity", "byte PPL"}, {"token_perplexity", "token PPL"}, {"char_perplexity", "char.\\ PPL"},
      {"perplexity", "PPL"},        {"bits_per_byte", "bits/byte"}, {"bits_per_char", "bits/char."},
      {"acc_norm", "acc (norm.)"},  {"tokens_per_s", "tokens/s"}, {"accuracy", "accuracy"}};
  const int at = metric.indexOf('@');
  const QString base = at < 0 ? metric : metric.left(at), arg = at < 0 ? QString() : metric.mid(at + 1);
  QString name;
  for (const auto& [raw, nice] : names)
    if (base == raw) name = nice;
  if (name.isEmpty()) name = latexEscape(base);
  if (arg.isEmpty()) return name;
  static const QRegularExpression bxs("^(\\d+)x(\\d+)$"), num("^\\d+$");
  if (const auto mm = bxs.match(arg); mm.hasMatch()) return name + " (" + mm.captured(1) + "$\\times$" + mm.captured(2) + ")";
  if (num.match(arg).hasMatch()) return name + " ($L{=}" + arg + "$)";
  return name + " (" + latexEscape(arg) + ")";
}

bool best(const QAbstractItemModel& m, int r, int c) { return m.data(m.index(r, c), TableRole::Best).toBool(); }
}  // namespace

bool TableExporter::formatForPath(const QString& path, Format* f) {
  const QString s = QFileInfo(path).suffix().toLower();
  if (s == "csv") *f = Format::Csv;
  else if (s == "tex") *f = Format::Latex;
  else if (s == "md" || s == "markdown") *f = Format::Markdown;
  else if (s == "json") *f = Format::Json;
  else return false;
  return true;
}

QString TableExporter::toCsv(const QAbstractItemModel& m) {
  QStringList lines, h;
  QVector<bool> err(m.columnCount());
  for (int c = 0; c < m.columnCount(); ++c) {
    err[c] = columnHasStderr(m, c);
    h << csvField(header(m, c));
    if (err[c]) h << csvField(header(m, c) + " stderr");
  }
  lines << h.join(',');
  for (int r = 0; r < m.rowCount(); ++r) {
    QStringList row;
    for (int c = 0; c < m.columnCount(); ++c) {
      row << csvField(rawText(m, r, c));
      if (err[c]) {
        const QVariant e = m.data(m.index(r, c), TableRole::Stderr);
        row << (e.isValid() ? QString::number(e.toDouble(), 'g', 12) : QString());
      }
    }
    lines << row.join(',');
  }
  return lines.join('\n') + '\n';
}

QString TableExporter::toLatex(const QAbstractItemModel& m, const QString& caption) {
  // Headers "TASK METRIC" of neighbouring columns share one spanning TASK header over their metrics (booktabs'
  // \cmidrule under it); a table of more than four value columns is scaled to the line width.
  const int n = m.columnCount();
  QStringList group(n), metric(n);
  bool grouped = false;
  for (int c = 0; c < n; ++c) {
    const QString h = header(m, c);
    const int space = h.lastIndexOf(' ');  // "TASK INSTANCE METRIC": metric names have no spaces, instances may
    if (c > 0 && space > 0) {
      group[c] = h.left(space);
      metric[c] = h.mid(space + 1);
      grouped = true;
    } else {
      metric[c] = h;
    }
  }
  // A table may describe itself (the model's `lmscope_caption` property, a sentence): that is the caption, and the
  // name given here (a file stem) only makes the label.
  const QString described = m.property("lmscope_caption").toString();
  const QString caption_text = described.isEmpty() ? caption : described;
  QString slug = (caption.isEmpty() ? caption_text : caption).toLower();
  slug.replace(QRegularExpression("[^a-z0-9]+"), "-");
  slug.remove(QRegularExpression("^-+|-+$"));
  const bool wide = n - 1 > 4;
  QString out;
  out += "% needs \\usepackage{booktabs}";
  out += wide ? " and \\usepackage{graphicx}\n" : "\n";
  out += "\\begin{table}[t]\n\\centering\n";
  out += "\\caption{" + latexEscape(caption_text.isEmpty() ? QString("Results of the selected runs") : caption_text) + "}\n";
  out += "\\label{tab:" + (slug.isEmpty() ? QString("lmscope-results") : slug) + "}\n";
  if (wide) out += "\\resizebox{\\linewidth}{!}{%\n";
  out += "\\begin{tabular}{l" + QString(std::max(0, n - 1), 'r') + "}\n\\toprule\n";
  if (grouped) {
    QStringList top{QString()};
    QString rules;
    for (int c = 1; c < n;) {
      int end = c;
      while (end + 1 < n && !group[c].isEmpty() && group[end + 1] == group[c]) ++end;
      const int span = end - c + 1;
      if (group[c].isEmpty()) {
        top << QString();
      } else {
        top << QString("\\multicolumn{%1}{c}{%2}").arg(span).arg(latexEscape(group[c]));
        rules += QString("\\cmidrule(lr){%1-%2}").arg(c + 1).arg(end + 1);
      }
      c = end + 1;
    }
    out += top.join(" & ") + " \\\\\n" + (rules.isEmpty() ? QString() : rules + "\n");
  }
  QStringList h;
  for (int c = 0; c < n; ++c) h << (c == 0 ? latexEscape(metric[c]) : readableMetric(metric[c]));
  out += h.join(" & ") + " \\\\\n\\midrule\n";
  for (int r = 0; r < m.rowCount(); ++r) {
    QStringList row;
    for (int c = 0; c < n; ++c) {
      QString t = latexEscape(text(m, r, c));
      if (best(m, r, c) && !t.isEmpty()) t = "\\textbf{" + t + "}";
      row << t;
    }
    out += row.join(" & ") + " \\\\\n";
  }
  out += "\\bottomrule\n\\end{tabular}\n";
  if (wide) out += "}\n";
  out += "\\end{table}\n";
  return out;
}

QString TableExporter::toMarkdown(const QAbstractItemModel& m) {
  auto esc = [](QString s) { return s.replace('|', "\\|"); };
  QStringList h, sep;
  for (int c = 0; c < m.columnCount(); ++c) {
    h << esc(header(m, c));
    sep << (c == 0 ? "---" : "---:");
  }
  QString out = "| " + h.join(" | ") + " |\n| " + sep.join(" | ") + " |\n";
  for (int r = 0; r < m.rowCount(); ++r) {
    QStringList row;
    for (int c = 0; c < m.columnCount(); ++c) {
      QString t = esc(text(m, r, c));
      if (best(m, r, c) && !t.isEmpty()) t = "**" + t + "**";
      row << t;
    }
    out += "| " + row.join(" | ") + " |\n";
  }
  return out;
}

QString TableExporter::toJson(const QAbstractItemModel& m) {
  QJsonArray columns, rows;
  for (int c = 0; c < m.columnCount(); ++c) columns.append(header(m, c));
  for (int r = 0; r < m.rowCount(); ++r) {
    QJsonObject row;
    for (int c = 0; c < m.columnCount(); ++c) {
      const QModelIndex i = m.index(r, c);
      const QVariant v = m.data(i, TableRole::Value);
      if (v.typeId() == QMetaType::Double) row[header(m, c)] = v.toDouble();
      else if (v.isValid()) row[header(m, c)] = v.toString();
      else if (!text(m, r, c).isEmpty()) row[header(m, c)] = text(m, r, c);
      else row[header(m, c)] = QJsonValue::Null;
      if (const QVariant e = m.data(i, TableRole::Stderr); e.isValid()) row[header(m, c) + " stderr"] = e.toDouble();
      if (best(m, r, c)) row[header(m, c) + " best"] = true;
    }
    rows.append(row);
  }
  return QString::fromUtf8(QJsonDocument(QJsonObject{{"columns", columns}, {"rows", rows}}).toJson());
}

bool TableExporter::save(const QAbstractItemModel& m, const QString& path, QString* error, const QString& caption) {
  Format f;
  if (!formatForPath(path, &f)) {
    if (error) *error = QObject::tr("%1: choose .csv, .tex, .md or .json").arg(path);
    return false;
  }
  const QString body = f == Format::Csv ? toCsv(m) : f == Format::Latex ? toLatex(m, caption) : f == Format::Markdown ? toMarkdown(m) : toJson(m);
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Text) || file.write(body.toUtf8()) < 0 || !file.commit()) {
    if (error) *error = QObject::tr("cannot write %1: %2").arg(path, file.errorString());
    return false;
  }
  return true;
}
