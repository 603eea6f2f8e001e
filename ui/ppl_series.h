// Lines over context length from results, and the panels they are drawn in. No widgets, so tests check the numbers.
//
// Quantities: perplexity (ppl_vs_length: details.series length → ppl), LongPPL (longppl: length → longppl) and
// throughput (throughput: details.measurements seq → tokens_per_s, a line per batch size). One line per model ×
// setting (× task instance, × batch); points sorted by length.
//
// Units: a byte-level model (tokenizer "bytes") measures lengths in bytes and its perplexity per byte, a BPE or
// SentencePiece model in tokens and per token. The two are never drawn on one axis: per-byte lines get panels of
// their own with their own axis labels. Converting everything to bits per byte instead would need the number of
// bytes behind each scored token window, which ppl_vs_length and longppl do not record (and the length axis would
// still be tokens for one model and bytes for the other), so panels it is.
#pragma once

#include <QString>
#include <QVector>

#include "task_run_result.h"

class QStandardItemModel;
class QObject;

struct PplSeries {
  enum class Quantity { Perplexity, LongPpl, Throughput };
  QString label;     // unique among the lines: name, plus the instance when several, plus the batch (throughput)
  QString name;      // model · setting (what the legend and the series look follow)
  QString instance;  // the task instance (its panel)
  bool per_byte = false;
  QVector<double> lengths, ppl;  // x and y (ppl holds the quantity's value, e.g. tokens/s)
  bool complete = false;

  static QVector<PplSeries> fromResults(const QVector<TaskRunResult>& runs, Quantity q = Quantity::Perplexity);
  // Rows: context lengths; columns: "context length", then one per series (TableRole::Value holds the numbers).
  static QStandardItemModel* toTable(const QVector<PplSeries>& series, QObject* parent);
};

// One panel of a figure: the lines of one task instance in one unit.
struct PplPanel {
  QString title;  // empty when the figure has a single panel
  QString x_label, y_label;
  QString instance;
  bool per_byte = false;
  QVector<int> series;  // indices into the series list

  // A panel per task instance and unit (instances in the order seen, per-token before per-byte).
  static QVector<PplPanel> group(const QVector<PplSeries>& series, PplSeries::Quantity q);
  // What a value is called in this quantity and unit: "perplexity", "LongPPL", "tokens/s", "bytes/s".
  static QString valueName(PplSeries::Quantity q, bool per_byte);
};
