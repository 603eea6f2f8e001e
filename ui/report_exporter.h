// The "report" export: every figure (PNG, PDF, SVG at a paper size) and every table (CSV, LaTeX, Markdown, JSON) of
// the comparison written into one folder, with an index.md that shows them and says where the numbers come from
// (provenance). No window needed.
#pragma once

#include <QList>
#include <QPair>
#include <QStringList>
#include <QVector>

#include "figure_exporter.h"

class QAbstractItemModel;
class QCustomPlot;
struct TaskRunResult;

class ReportExporter {
 public:
  using Figures = QList<QPair<QString, QCustomPlot*>>;          // file stem → figure
  using Tables = QList<QPair<QString, QAbstractItemModel*>>;    // file stem → table
  struct Options {
    // Width, font and PNG dpi of every figure; each figure's height is the width × its preferred aspect
    // (FigureExporter::preferredAspect). Default: the full text width of a two-column paper at 8 pt.
    FigureSize figure = FigureSize::twoColumns();
    QString provenance;  // Markdown for index.md's provenance section (provenance() below), empty = none
  };
  // Returns the files written; `error` names the first that failed (the rest are still attempted).
  static QStringList write(const QString& folder, const Figures& figures, const Tables& tables, const Options& options,
                           QString* error = nullptr);
  static QStringList write(const QString& folder, const Figures& figures, const Tables& tables, int dpi = 150,
                           QString* error = nullptr);
  // The size a figure of the report is written at.
  static FigureSize sizeFor(const QCustomPlot* plot, const FigureSize& base);
  // index.md's provenance section for these runs: per model its path, weights fingerprint, dtype, tokenizer, device
  // and engine version; per task instance its data files with their content hashes and its seeds.
  static QString provenance(const QVector<TaskRunResult>& runs);
};
