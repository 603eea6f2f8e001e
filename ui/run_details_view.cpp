#include "run_details_view.h"

#include <QJsonDocument>
#include <QObject>
#include <QScrollBar>

#include "run_job.h"
#include "task_run_result.h"

namespace {
QString pre(const QJsonValue& v) {
  const QByteArray j = v.isObject() ? QJsonDocument(v.toObject()).toJson(QJsonDocument::Indented)
                                    : QJsonDocument(v.toArray()).toJson(QJsonDocument::Indented);
  return "<pre>" + QString::fromUtf8(j).toHtmlEscaped() + "</pre>";
}
}  // namespace

QString RunDetailsView::describe(const RunJob& j, const QVector<TaskRunResult>& runs) {
  QString h = "<h3>" + j.title.toHtmlEscaped() + "</h3>";
  if (!j.message.isEmpty()) h += "<p><b>" + j.message.toHtmlEscaped() + "</b></p>";
  if (j.started.isValid())
    h += "<p>" + QObject::tr("started %1 on %2").arg(j.started.toString(Qt::ISODate), j.worker.toHtmlEscaped()) +
         (j.ended.isValid() ? QObject::tr(", ended %1").arg(j.ended.toString(Qt::ISODate)) : QString()) + "</p>";
  if (!j.task_runs.isEmpty()) {
    h += "<h4>" + QObject::tr("Task runs") + "</h4><table border=1 cellspacing=0 cellpadding=3><tr><th>task</th><th>setting</th><th>units</th><th>stored before</th><th>run key</th></tr>";
    for (const auto& v : j.task_runs) {
      const auto o = v.toObject();
      h += QString("<tr><td>%1</td><td>%2</td><td>%3</td><td>%4</td><td><code>%5</code></td></tr>")
               .arg(o["task"].toString().toHtmlEscaped(), o["setting"].toString().toHtmlEscaped())
               .arg(o.contains("units") ? o["units"].toInteger() : o["units_done"].toInteger())
               .arg(o.contains("stored") ? QString::number(o["stored"].toInteger()) : QString())
               .arg(o["run_key"].toString());
    }
    h += "</table>";
    // provenance of this job's task runs (from the store once the queue is idle; runs from the store carry theirs)
    if (j.stored_info.isEmpty()) {
      bool any = false;
      for (const auto& v : j.task_runs) {
        const QString key = v.toObject()["run_key"].toString();
        for (const auto& r : runs)
          if (!key.isEmpty() && r.run_key == key && !r.provenance.isEmpty()) {
            if (!any) h += "<h4>" + QObject::tr("Provenance") + "</h4>";
            any = true;
            h += "<p><b>" + r.task.toHtmlEscaped() + "</b>" + (r.setting.isEmpty() ? QString() : " · " + r.setting.toHtmlEscaped()) +
                 QObject::tr(" · run key <code>%1</code>").arg(key) + "</p>" + pre(r.provenance);
            if (!r.config.isEmpty()) h += "<p>" + QObject::tr("Task config") + "</p>" + pre(r.config);
          }
      }
      if (!any && j.state == RunJob::State::Done)
        h += "<p><i>" + QObject::tr("Provenance (weights fingerprint, data hash, device, engine version) appears once the "
                                    "queue is idle and the results store has been read.") + "</i></p>";
      else if (!any && j.active())
        h += "<p><i>" + QObject::tr("Provenance appears when the run has finished.") + "</i></p>";
    }
  }
  if (!j.stored_info.isEmpty()) {
    h += "<h4>" + QObject::tr("Provenance") + "</h4>" + pre(j.stored_info["provenance"]);
    h += "<h4>" + QObject::tr("Task config") + "</h4>" + pre(j.stored_info["config"]);
    h += "<h4>" + QObject::tr("Metrics") + "</h4>" + pre(j.stored_info["results"].toObject()["metrics"]);
  }
  if (!j.spec.isEmpty()) h += "<h4>" + QObject::tr("Run spec (settings)") + "</h4>" + pre(j.spec);
  if (!j.log.isEmpty()) h += "<h4>" + QObject::tr("Log") + "</h4><pre>" + j.log.join('\n').toHtmlEscaped() + "</pre>";
  return h;
}

void RunDetailsView::showJob(const RunJob& job, const QVector<TaskRunResult>& runs) {
  // keep the reader's place when the same job is redrawn (progress, provenance arriving)
  const int scroll = showing_job_ && shown_job_id_ == job.id ? verticalScrollBar()->value() : 0;
  setHtml(describe(job, runs));
  verticalScrollBar()->setValue(scroll);
  showing_job_ = true;
  shown_job_id_ = job.id;
}

QString RunDetailsView::describe(const QString& label, const QVector<TaskRunResult>& runs,
                                 const QVector<QVector<TaskRunResult>>& alternatives) {
  QString h = "<h3>" + label.toHtmlEscaped() + "</h3>";
  for (int i = 0; i < runs.size(); ++i) {
    const TaskRunResult& r = runs[i];
    h += "<h4>" + r.instance().toHtmlEscaped() + "</h4><p>";
    h += r.complete ? QObject::tr("complete") : QObject::tr("so far: %1 of %2 units").arg(r.units_done).arg(r.unit_count);
    h += QObject::tr(" · run key <code>%1</code>").arg(r.run_key);
    if (!r.finished.isEmpty()) h += QObject::tr(" · finished %1").arg(r.finished.toHtmlEscaped());
    if (r.from_store) h += QObject::tr(" · from the store");
    h += "</p>" + pre(r.metrics);
    if (!r.provenance.isEmpty()) h += "<p><b>" + QObject::tr("Provenance") + "</b></p>" + pre(r.provenance);
    if (!r.config.isEmpty()) h += "<p><b>" + QObject::tr("Config") + "</b></p>" + pre(r.config);
    if (r.provenance.isEmpty()) h += "<p><i>" + QObject::tr("Provenance appears when the run has finished.") + "</i></p>";
    // the same request run again (another backend, an older store): kept, not shown in the views
    if (i < alternatives.size() && !alternatives[i].isEmpty()) {
      h += "<p><b>" + QObject::tr("Other runs of this configuration (not shown in the views)") + "</b></p><ul>";
      for (const auto& a : alternatives[i]) {
        QStringList vals;
        for (auto it = a.metrics.begin(); it != a.metrics.end(); ++it)
          if (it.value().isDouble() && !it.key().endsWith("_stderr")) vals << it.key() + " " + QString::number(it.value().toDouble(), 'g', 6);
        h += "<li><code>" + a.run_key + "</code> · " + (a.complete ? QObject::tr("complete") : QObject::tr("partial")) +
             (a.provenance.contains("backend") ? " · " + a.provenance["backend"].toString().toHtmlEscaped() : QString()) +
             (a.finished.isEmpty() ? QString() : " · " + a.finished.toHtmlEscaped()) + " · " + vals.mid(0, 4).join(", ").toHtmlEscaped() + "</li>";
      }
      h += "</ul>";
    }
  }
  return h;
}

void RunDetailsView::showResults(const QString& label, const QVector<TaskRunResult>& runs,
                                 const QVector<QVector<TaskRunResult>>& alternatives) {
  setHtml(describe(label, runs, alternatives));
  showing_job_ = false;
}
