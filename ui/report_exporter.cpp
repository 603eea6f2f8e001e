#include "report_exporter.h"

#include <QDateTime>
#include <QDir>
#include <QSaveFile>

#include "figure_exporter.h"
#include "lmscope/version.h"
#include "table_exporter.h"

QStringList ReportExporter::write(const QString& folder, const Figures& figures, const Tables& tables, int dpi, QString* error) {
  QStringList written;
  auto fail = [&](const QString& why) {
    if (error && error->isEmpty()) *error = why;
  };
  if (!QDir().mkpath(folder)) {
    fail(QObject::tr("cannot create %1").arg(folder));
    return written;
  }
  const QDir dir(folder);
  QString index = "# lmscope report\n\n" +
                  QObject::tr("Written %1 by lmscope %2.")
                      .arg(QDateTime::currentDateTime().toString(Qt::ISODate), QString::fromUtf8(lmscope::version())) +
                  "\n\n";
  for (const auto& [stem, plot] : figures) {
    for (const char* ext : {"png", "pdf", "svg"}) {
      const QString path = dir.filePath(stem + "." + ext);
      QString err;
      if (FigureExporter::save(plot, path, dpi, {}, &err)) written << path;
      else fail(err);
    }
    index += QString("## %1\n\n![%1](%1.png)\n\n[PDF](%1.pdf) · [SVG](%1.svg)\n\n").arg(stem);
  }
  for (const auto& [stem, model] : tables) {
    for (const char* ext : {"csv", "tex", "md", "json"}) {
      const QString path = dir.filePath(stem + "." + ext);
      QString err;
      if (TableExporter::save(*model, path, &err, stem)) written << path;
      else fail(err);
    }
    index += QString("## %1\n\n").arg(stem) + TableExporter::toMarkdown(*model) +
             QString("\n[CSV](%1.csv) · [LaTeX](%1.tex) · [JSON](%1.json)\n\n").arg(stem);
  }
  QSaveFile f(dir.filePath("index.md"));
  if (f.open(QIODevice::WriteOnly | QIODevice::Text) && f.write(index.toUtf8()) >= 0 && f.commit()) written << dir.filePath("index.md");
  else fail(QObject::tr("cannot write %1").arg(dir.filePath("index.md")));
  return written;
}
