// The report's analysis section (issue 18): for the results shown, the RoPE-study-style summary — a ranking of the
// RoPE methods (mean / best / std / n of each perplexity metric), the per-length means, the top 10 configurations,
// and the correlations between the metrics present (Pearson and Spearman with n and p). Tables are made only when
// there is something to compare; `notes` says what was left out and why. No widgets.
#pragma once

#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>
#include <memory>
#include <vector>

#include "analysis_table.h"
#include "result_records.h"

struct AnalysisReport {
  std::vector<std::unique_ptr<AnalysisTable>> owned;
  QList<QPair<QString, AnalysisTable*>> tables;  // file stem → table, in report order
  QStringList notes;                             // markdown lines for index.md

  static AnalysisReport build(const QVector<lmscope::analysis::ResultRecord>& records);
  // Appends an "Analysis" section with the notes to the report's index.md (after ReportExporter wrote it).
  static bool appendNotes(const QString& folder, const QStringList& notes, QString* error = nullptr);
};
