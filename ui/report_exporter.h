// The "report" export: every figure (PNG at the chosen DPI, PDF, SVG) and every table (CSV, LaTeX, Markdown,
// JSON) of the comparison written into one folder, with an index.md that shows them. No window needed.
#pragma once

#include <QList>
#include <QPair>
#include <QStringList>

class QAbstractItemModel;
class QCustomPlot;

class ReportExporter {
 public:
  using Figures = QList<QPair<QString, QCustomPlot*>>;          // file stem → figure
  using Tables = QList<QPair<QString, QAbstractItemModel*>>;    // file stem → table
  // Returns the files written; `error` names the first that failed (the rest are still attempted).
  static QStringList write(const QString& folder, const Figures& figures, const Tables& tables, int dpi = 150,
                           QString* error = nullptr);
};
