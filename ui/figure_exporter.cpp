#include "figure_exporter.h"

#include <QFileInfo>
#include <QSvgGenerator>
#include <qcustomplot.h>

bool FigureExporter::formatForPath(const QString& path, Format* f) {
  const QString s = QFileInfo(path).suffix().toLower();
  if (s == "png") *f = Format::Png;
  else if (s == "pdf") *f = Format::Pdf;
  else if (s == "svg") *f = Format::Svg;
  else return false;
  return true;
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
