#include "report_exporter.h"

#include <QAbstractItemModel>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QSaveFile>
#include <algorithm>
#include <map>
#include <set>

#include "figure_exporter.h"
#include "lmscope/version.h"
#include "table_exporter.h"
#include "task_run_result.h"

namespace {
QString cell(QString s) { return s.isEmpty() ? QStringLiteral("—") : s.replace('|', "\\|").replace('\n', ' '); }
QString joined(const std::set<QString>& values) {
  QStringList l;
  for (const auto& v : values)
    if (!v.isEmpty()) l << v;
  return l.join(", ");
}
}  // namespace

FigureSize ReportExporter::sizeFor(const QCustomPlot* plot, const FigureSize& base) {
  FigureSize s = base;
  s.height_in = std::clamp(base.width_in * FigureExporter::preferredAspect(plot), 1.2, 9.0);
  return s;
}

QString ReportExporter::provenance(const QVector<TaskRunResult>& runs) {
  // per row of the comparison (model · setting · precision): what the runs say, every distinct value listed
  struct Model {
    std::set<QString> path, weights, dtype, tokenizer, device, engine, finished;
  };
  std::map<QString, Model> models;
  QStringList model_order;
  struct Instance {
    std::set<QString> data, seeds;
  };
  std::map<QString, Instance> instances;
  QStringList instance_order;
  for (const auto& r : runs) {
    const QString row = r.label();
    if (!model_order.contains(row)) model_order << row;
    Model& m = models[row];
    m.path.insert(r.model_path);
    m.weights.insert(r.weights.isEmpty() ? r.provenance["weights_fingerprint"].toString() : r.weights);
    m.dtype.insert(r.dtype.isEmpty() ? r.provenance["dtype"].toString() : r.dtype);
    m.tokenizer.insert(r.tokenizer);
    const QString device = r.provenance["device"].toString(), backend = r.provenance["backend"].toString();
    m.device.insert(device.isEmpty() ? backend : device);
    m.engine.insert(r.provenance["engine_version"].toString());
    m.finished.insert(r.finished.left(10));
    const QString inst = r.instance();
    if (!instance_order.contains(inst)) instance_order << inst;
    Instance& in = instances[inst];
    // files the task read, by their content hash (the identity's `content`, the resolved config's paths)
    const QJsonObject content = r.identity["content"].toObject();
    auto file = [&](const char* path_key, const char* hash_key) {
      const QString path = r.config[path_key].toString();
      QString hash = content[hash_key].toString();
      if (hash.isEmpty()) hash = r.config[hash_key].toString();
      if (path.isEmpty() && hash.isEmpty()) return;
      in.data.insert(QString("`%1` (%2)").arg(path.isEmpty() ? QStringLiteral("built in") : path, hash.isEmpty() ? QStringLiteral("no hash") : hash));
    };
    file("data", "data_hash");
    file("filler_file", "filler");
    file("haystack_file", "haystack");
    if (r.config["data"].isArray())
      for (const auto& d : r.config["data"].toArray()) {
        const QJsonObject o = d.toObject();
        in.data.insert(QString("`%1` (%2)").arg(o["path"].toString(), o["hash"].toString(o["data_hash"].toString())));
      }
    for (const QJsonValue& seed : {QJsonValue(r.config["seed"]), QJsonValue(r.identity["settings"].toObject()["seed"])})
      if (seed.isDouble()) in.seeds.insert(QString::number(seed.toInteger()));
  }
  QString out = "## Provenance\n\n### Models\n\n| model · setting | path | weights fingerprint | dtype | tokenizer | device | engine version | finished |\n"
                "| --- | --- | --- | --- | --- | --- | --- | --- |\n";
  for (const QString& row : model_order) {
    const Model& m = models[row];
    out += QString("| %1 | %2 | %3 | %4 | %5 | %6 | %7 | %8 |\n")
               .arg(cell(row), cell(joined(m.path)), cell(joined(m.weights)), cell(joined(m.dtype)), cell(joined(m.tokenizer)),
                    cell(joined(m.device)), cell(joined(m.engine)), cell(joined(m.finished)));
  }
  out += "\n### Data and seeds\n\n| task instance | files (content hash) | seeds |\n| --- | --- | --- |\n";
  for (const QString& inst : instance_order) {
    const Instance& in = instances[inst];
    out += QString("| %1 | %2 | %3 |\n").arg(cell(inst), cell(joined(in.data)), cell(joined(in.seeds)));
  }
  return out + "\n";
}

QStringList ReportExporter::write(const QString& folder, const Figures& figures, const Tables& tables, int dpi, QString* error) {
  Options o;
  o.figure.dpi = dpi;
  return write(folder, figures, tables, o, error);
}

QStringList ReportExporter::write(const QString& folder, const Figures& figures, const Tables& tables, const Options& options, QString* error) {
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
  if (!figures.isEmpty())
    index += QObject::tr("Figures are %1 in wide with %2 pt text (the PDF page and the SVG are that size; PNG at %3 dpi).")
                 .arg(options.figure.width_in, 0, 'g', 4)
                 .arg(options.figure.font_pt)
                 .arg(options.figure.dpi) +
             "\n\n";
  for (const auto& [stem, plot] : figures) {
    const FigureSize size = sizeFor(plot, options.figure);
    for (const char* ext : {"png", "pdf", "svg"}) {
      const QString path = dir.filePath(stem + "." + ext);
      QString err;
      if (FigureExporter::save(plot, path, size, &err)) written << path;
      else fail(err);
    }
    index += QString("## %1\n\n![%1](%1.png)\n\n[PDF](%1.pdf) · [SVG](%1.svg) — %2\n\n").arg(stem, size.describe());
  }
  for (const auto& [stem, model] : tables) {
    for (const char* ext : {"csv", "tex", "md", "json"}) {
      const QString path = dir.filePath(stem + "." + ext);
      QString err;
      if (TableExporter::save(*model, path, &err, stem)) written << path;
      else fail(err);
    }
    const QString described = model->property("lmscope_caption").toString();
    index += QString("## %1\n\n").arg(stem) + (described.isEmpty() ? QString() : "*" + described + ".*\n\n") +
             TableExporter::toMarkdown(*model) +
             QString("\n[CSV](%1.csv) · [LaTeX](%1.tex) · [JSON](%1.json)\n\n").arg(stem);
  }
  index += options.provenance;
  QSaveFile f(dir.filePath("index.md"));
  if (f.open(QIODevice::WriteOnly | QIODevice::Text) && f.write(index.toUtf8()) >= 0 && f.commit()) written << dir.filePath("index.md");
  else fail(QObject::tr("cannot write %1").arg(dir.filePath("index.md")));
  return written;
}
