// Saves a QCustomPlot figure as PNG (at a chosen DPI: the pixel size scales, the layout stays), PDF (vector) or
// SVG (vector, through QSvgGenerator). Works on plots that were never shown, so exports and tests need no window.
#pragma once

#include <QSize>
#include <QString>

class QCustomPlot;

class FigureExporter {
 public:
  enum class Format { Png, Pdf, Svg };
  static bool formatForPath(const QString& path, Format* format);
  // `size`: the logical size of the figure (default: the plot's, or 800 × 500 when it has none yet); `dpi` only
  // matters for PNG (96 = one pixel per logical unit).
  static bool save(QCustomPlot* plot, const QString& path, int dpi = 150, QSize size = {}, QString* error = nullptr);
};
