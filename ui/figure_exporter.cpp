#include "figure_exporter.h"

#include <QFileInfo>
#include <QImage>
#include <QPageLayout>
#include <QPageSize>
#include <QPdfWriter>
#include <QSettings>
#include <QSvgGenerator>
#include <cmath>
#include <functional>
#include <qcustomplot.h>

namespace {

// While alive, every font of the plot is a pixel size of the export layout: tick labels, axis labels and the legend
// at FigureExporter::kLayoutFontPx, the others (titles, cell labels, notes) in proportion to their size on screen.
// Pixel sizes, not points: QCustomPlot measures text with QFontMetrics (the screen's DPI) while the painter resolves
// points at the device's DPI (1200 for a PDF writer, the resolution for SVG); a pixel size means the same to both.
// The destructor puts the screen fonts back.
class ExportFonts {
 public:
  explicit ExportFonts(QCustomPlot* plot) : plot_(plot) {
    const QFont base = plot->font();
    base_ = base.pointSizeF() > 0 ? base.pointSizeF() : base.pixelSize() * 0.75;
    if (base_ <= 0) base_ = 9;
    for (QCPAxisRect* rect : plot->axisRects())
      for (QCPAxis* axis : rect->axes()) axisFonts(axis);
    for (QCPLayoutElement* e : plot->plotLayout()->elements(true)) {
      if (!e) continue;  // empty grid cells are listed as null
      if (auto* scale = qobject_cast<QCPColorScale*>(e)) axisFonts(scale->axis());
      if (auto* legend = qobject_cast<QCPLegend*>(e)) legendFonts(legend);
      if (auto* text = qobject_cast<QCPTextElement*>(e))
        track([text] { return text->font(); }, [text](const QFont& f) { text->setFont(f); }, false);
    }
    // a legend may sit in an inset layout rather than in the grid
    if (plot->legend && !legends_.contains(plot->legend)) legendFonts(plot->legend);
    for (int i = 0; i < plot->itemCount(); ++i)
      if (auto* text = qobject_cast<QCPItemText*>(plot->item(i)))
        track([text] { return text->font(); }, [text](const QFont& f) { text->setFont(f); }, false);
  }
  ~ExportFonts() {
    for (auto it = restore_.rbegin(); it != restore_.rend(); ++it) (*it)();
    plot_->replot(QCustomPlot::rpQueuedReplot);
  }

 private:
  void axisFonts(QCPAxis* a) {
    track([a] { return a->tickLabelFont(); }, [a](const QFont& f) { a->setTickLabelFont(f); }, true);
    track([a] { return a->labelFont(); }, [a](const QFont& f) { a->setLabelFont(f); }, true);
  }
  void legendFonts(QCPLegend* legend) {
    legends_ << legend;
    track([legend] { return legend->font(); }, [legend](const QFont& f) { legend->setFont(f); }, true);
    for (int i = 0; i < legend->itemCount(); ++i) {
      QCPAbstractLegendItem* item = legend->item(i);
      if (!item) continue;  // an empty cell of the wrapped grid
      track([item] { return item->font(); }, [item](const QFont& f) { item->setFont(f); }, true);
    }
  }
  // `exact`: the chosen size itself; else in proportion to the screen size.
  void track(const std::function<QFont()>& get, const std::function<void(const QFont&)>& set, bool exact) {
    const QFont old = get();
    QFont f = old;
    const double pt = old.pointSizeF() > 0 ? old.pointSizeF() : old.pixelSize() * 0.75;
    const int px = exact ? FigureExporter::kLayoutFontPx
                         : std::max(4, int(std::lround(pt / base_ * FigureExporter::kLayoutFontPx)));
    f.setPixelSize(px);
    set(f);
    restore_.push_back([set, old] { set(old); });
  }
  QCustomPlot* plot_;
  double base_ = 9;
  QList<QCPLegend*> legends_;
  std::vector<std::function<void()>> restore_;
};

}  // namespace

QString FigureSize::describe() const {
  return QString::fromUtf8("%1 × %2 in (%3 × %4 cm), %5 pt, PNG %6 dpi")
      .arg(width_in, 0, 'g', 4)
      .arg(height_in, 0, 'g', 4)
      .arg(width_in * 2.54, 0, 'f', 1)
      .arg(height_in * 2.54, 0, 'f', 1)
      .arg(font_pt)
      .arg(dpi);
}

FigureSize FigureSize::fromSettings() {
  QSettings s;
  FigureSize f = twoColumns();
  f.width_in = std::clamp(s.value("export/figure_width_in", f.width_in).toDouble(), 0.5, 40.0);
  f.height_in = std::clamp(s.value("export/figure_height_in", f.height_in).toDouble(), 0.5, 40.0);
  f.font_pt = std::clamp(s.value("export/figure_font_pt", f.font_pt).toInt(), 4, 30);
  f.dpi = std::clamp(s.value("export/dpi", f.dpi).toInt(), 48, 1200);
  return f;
}

void FigureSize::toSettings() const {
  QSettings s;
  s.setValue("export/figure_width_in", width_in);
  s.setValue("export/figure_height_in", height_in);
  s.setValue("export/figure_font_pt", font_pt);
  s.setValue("export/dpi", dpi);
}

bool FigureExporter::formatForPath(const QString& path, Format* f) {
  const QString s = QFileInfo(path).suffix().toLower();
  if (s == "png") *f = Format::Png;
  else if (s == "pdf") *f = Format::Pdf;
  else if (s == "svg") *f = Format::Svg;
  else return false;
  return true;
}

QSize FigureExporter::layoutSize(const FigureSize& s) {
  const double k = double(kLayoutFontPx) / std::max(1, s.font_pt);
  return {std::max(16, int(std::lround(s.widthPt() * k))), std::max(16, int(std::lround(s.heightPt() * k)))};
}

double FigureExporter::preferredAspect(const QCustomPlot* plot) {
  const double a = plot->property("lmscope_aspect").toDouble();
  if (a > 0.05 && a < 20) return a;
  if (plot->width() > 100 && plot->height() > 50) return double(plot->height()) / plot->width();
  return 0.62;
}

bool FigureExporter::save(QCustomPlot* plot, const QString& path, int dpi, QSize size, QString* error) {
  Format f;
  if (!formatForPath(path, &f)) {
    if (error) *error = QObject::tr("%1: choose .png, .pdf or .svg").arg(path);
    return false;
  }
  if (!size.isValid() || size.isEmpty()) size = plot->isVisible() && plot->width() > 100 ? plot->size() : QSize(800, 500);
  dpi = std::clamp(dpi, 48, 1200);
  bool ok = false;
  switch (f) {
    case Format::Png:
      ok = plot->savePng(path, size.width(), size.height(), dpi / 96.0, -1, dpi);
      break;
    case Format::Pdf:
      ok = plot->savePdf(path, size.width(), size.height(), QCP::epNoCosmetic, "lmscope", QFileInfo(path).baseName());
      break;
    case Format::Svg: {
      QSvgGenerator gen;
      gen.setFileName(path);
      gen.setSize(size);
      gen.setViewBox(QRect(QPoint(0, 0), size));
      gen.setTitle(QFileInfo(path).baseName());
      gen.setDescription("lmscope figure");
      QCPPainter painter;
      ok = painter.begin(&gen);
      if (ok) {
        plot->toPainter(&painter, size.width(), size.height());
        ok = painter.end();
      }
      ok = ok && QFileInfo(path).size() > 0;
      break;
    }
  }
  if (!ok && error) *error = QObject::tr("cannot write %1").arg(path);
  return ok;
}

bool FigureExporter::save(QCustomPlot* plot, const QString& path, const FigureSize& size, QString* error) {
  Format f;
  if (!formatForPath(path, &f)) {
    if (error) *error = QObject::tr("%1: choose .png, .pdf or .svg").arg(path);
    return false;
  }
  if (!(size.width_in > 0.2 && size.height_in > 0.2 && size.width_in < 100 && size.height_in < 100) || size.font_pt < 1) {
    if (error) *error = QObject::tr("%1: a figure size of %2 is not possible").arg(path, size.describe());
    return false;
  }
  const QSize L = layoutSize(size);
  ExportFonts fonts(plot);
  bool ok = false;
  switch (f) {
    case Format::Png: {
      const int dpi = std::clamp(size.dpi, 48, 2400);
      QImage img(int(std::lround(size.width_in * dpi)), int(std::lround(size.height_in * dpi)), QImage::Format_ARGB32_Premultiplied);
      if (img.isNull()) break;
      img.setDotsPerMeterX(int(std::lround(dpi / 0.0254)));
      img.setDotsPerMeterY(int(std::lround(dpi / 0.0254)));
      img.fill(Qt::white);
      QCPPainter painter;
      if (!painter.begin(&img)) break;
      painter.setRenderHint(QPainter::TextAntialiasing);
      painter.scale(double(img.width()) / L.width(), double(img.height()) / L.height());
      plot->toPainter(&painter, L.width(), L.height());
      painter.end();
      ok = img.save(path, "PNG");
      break;
    }
    case Format::Pdf: {
      QPdfWriter writer(path);
      writer.setCreator("lmscope");
      writer.setTitle(QFileInfo(path).baseName());
      writer.setResolution(1200);
      const QPageSize page(QSizeF(size.widthPt(), size.heightPt()), QPageSize::Point, QString(), QPageSize::ExactMatch);
      QPageLayout layout(page, QPageLayout::Portrait, QMarginsF(0, 0, 0, 0));
      layout.setMode(QPageLayout::FullPageMode);
      if (!writer.setPageLayout(layout)) break;
      QCPPainter painter;
      if (!painter.begin(&writer)) break;
      painter.setMode(QCPPainter::pmVectorized);
      painter.setMode(QCPPainter::pmNonCosmetic);  // a cosmetic pen would be one device dot (1/1200 in)
      painter.setWindow(0, 0, L.width(), L.height());
      plot->toPainter(&painter, L.width(), L.height());
      ok = painter.end();
      break;
    }
    case Format::Svg: {
      // width/height = size × 25.4 / resolution mm: hundredths of a point at 7200 per inch
      QSvgGenerator gen;
      gen.setFileName(path);
      gen.setResolution(7200);
      gen.setSize(QSize(int(std::lround(size.widthPt() * 100)), int(std::lround(size.heightPt() * 100))));
      gen.setViewBox(QRect(QPoint(0, 0), L));
      gen.setTitle(QFileInfo(path).baseName());
      gen.setDescription("lmscope figure, " + size.describe());
      QCPPainter painter;
      if (!painter.begin(&gen)) break;
      painter.setMode(QCPPainter::pmVectorized);
      painter.setMode(QCPPainter::pmNonCosmetic);
      painter.setWindow(0, 0, L.width(), L.height());
      painter.setViewport(0, 0, L.width(), L.height());
      QFont font = plot->font();  // the generator's own default would be 9 pt at 7200 dpi, written on every group
      font.setPixelSize(kLayoutFontPx);
      painter.setFont(font);
      plot->toPainter(&painter, L.width(), L.height());
      ok = painter.end() && QFileInfo(path).size() > 0;
      break;
    }
  }
  if (!ok && error) *error = QObject::tr("cannot write %1").arg(path);
  return ok;
}
