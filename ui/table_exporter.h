// Writes any table model (as its view sorts it) to CSV, LaTeX (booktabs), Markdown or JSON. Cells with
// TableRole::Value export the number (CSV/JSON at full precision, plus a "<column> stderr" column where any cell
// has TableRole::Stderr); best cells (TableRole::Best) are bold in LaTeX and Markdown. Needs no window.
#pragma once

#include <QString>

class QAbstractItemModel;

class TableExporter {
 public:
  enum class Format { Csv, Latex, Markdown, Json };
  // From the file's suffix (.csv, .tex, .md, .json); false when unknown.
  static bool formatForPath(const QString& path, Format* format);
  static QString toCsv(const QAbstractItemModel& m);
  // caption: the table's name (its label; also the caption unless the model has an `lmscope_caption` property).
  static QString toLatex(const QAbstractItemModel& m, const QString& caption = {});
  static QString toMarkdown(const QAbstractItemModel& m);
  static QString toJson(const QAbstractItemModel& m);
  // Writes in the format the suffix names; `error` says why not.
  static bool save(const QAbstractItemModel& m, const QString& path, QString* error = nullptr, const QString& caption = {});
};
