#include "run_spec_builder.h"

#include <QObject>

QStringList RunSpecBuilder::problems() const {
  QStringList p;
  if (models.isEmpty()) p << QObject::tr("Tick at least one model that loads in the Models tab.");
  if (tasks.isEmpty()) p << QObject::tr("Tick at least one task in the Tasks tab.");
  if (rope.isEmpty()) p << QObject::tr("Add at least one RoPE setting (the checkpoint's own counts).");
  QStringList names;
  for (const auto& m : models) {
    if (names.contains(m.name)) p << QObject::tr("Two models are both named '%1': rename one folder.").arg(m.name);
    names << m.name;
  }
  return p;
}

QJsonObject RunSpecBuilder::specFor(const QVector<ModelChoice>& ms, const QStringList& rs) const {
  QJsonObject spec{{"lmscope_run", 1}};
  if (!name.isEmpty()) spec["name"] = name;
  QJsonArray ma;
  for (const auto& m : ms) {
    QJsonObject o{{"path", m.path}, {"name", m.name}};
    if (!m.tokenizer.isEmpty()) o["tokenizer"] = m.tokenizer;
    ma.append(o);
  }
  spec["models"] = ma;
  QJsonArray ra;
  for (const QString& r : rs) ra.append(r.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(r));
  spec["rope"] = ra;
  spec["tasks"] = tasks;
  for (auto it = globals.begin(); it != globals.end(); ++it) spec[it.key()] = it.value();
  return spec;
}

QJsonObject RunSpecBuilder::fullSpec() const { return specFor(models, rope); }

QVector<QPair<QString, QJsonObject>> RunSpecBuilder::jobs() const {
  QVector<QPair<QString, QJsonObject>> out;
  for (const auto& m : models)
    for (const QString& r : rope)
      out.push_back({r.isEmpty() ? m.name : m.name + QString::fromUtf8(" · ") + r, specFor({m}, {r})});
  return out;
}
