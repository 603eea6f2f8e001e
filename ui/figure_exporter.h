// Saves a QCustomPlot figure as PNG, PDF (vector) or SVG (vector). Works on plots that were never shown, so exports
// and tests need no window.
//
// Two ways: at the widget's size (what the screen shows; PNG pixels scaled by a DPI), or at a physical size for a
// paper (FigureSize): a PDF page of exactly width × height (in points = inches × 72, whole points as Qt writes
// the MediaBox), an SVG whose width/height say the same in mm (with a viewBox), a PNG of inches × DPI pixels; tick
// labels, axis labels and the legend at the chosen point size, every other font, line, marker, tick and margin
// scaled with it (the figure is laid out as the widget would be at a font of kLayoutFontPx pixels, then scaled
// onto the page so that those pixels are the chosen points).
#pragma once

#include <QSize>
#include <QString>

class QCustomPlot;

struct FigureSize {
  double width_in = 7.0, height_in = 3.5;
  int font_pt = 8;  // whole points (fonts are set in pixels of the layout, see above)
  int dpi = 300;    // PNG only

  // Presets: one column of a two-column paper (3.3 in) and the full text width (7 in).
  static FigureSize oneColumn(double aspect = 0.72) { return {3.3, 3.3 * aspect, 8, 300}; }
  static FigureSize twoColumns(double aspect = 0.5) { return {7.0, 7.0 * aspect, 8, 300}; }
  double widthPt() const { return width_in * 72.0; }
  double heightPt() const { return height_in * 72.0; }
  // "7 × 3.5 in (17.8 × 8.9 cm), 8 pt, PNG 300 dpi"
  QString describe() const;
  // Remembered choice (QSettings "export/figure_*"), default two columns at 8 pt.
  static FigureSize fromSettings();
  void toSettings() const;
};

class FigureExporter {
 public:
  enum class Format { Png, Pdf, Svg };
  static constexpr int kLayoutFontPx = 12;  // the size the plots are laid out for on screen (9 pt at 96 dpi)
  static bool formatForPath(const QString& path, Format* format);
  // At the widget's size: `size` is the logical size of the figure (default: the plot's, or 800 × 500 when it has
  // none yet); `dpi` only matters for PNG (96 = one pixel per logical unit).
  static bool save(QCustomPlot* plot, const QString& path, int dpi = 150, QSize size = {}, QString* error = nullptr);
  // At a physical size for a paper (see the file comment). The plot is left as it was.
  static bool save(QCustomPlot* plot, const QString& path, const FigureSize& size, QString* error = nullptr);
  // The logical layout size a FigureSize is drawn at (the page is this scaled by font_pt / kLayoutFontPx).
  static QSize layoutSize(const FigureSize& size);
  // The figure's preferred height / width (a view sets the "lmscope_aspect" property; else its widget's aspect,
  // else 0.62).
  static double preferredAspect(const QCustomPlot* plot);
};
