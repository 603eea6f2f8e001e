#include "engine_client.h"

#include <QJsonDocument>
#include <QProcess>

EngineClient::EngineClient(QString cli_path, QObject* parent) : QObject(parent), cli_path_(std::move(cli_path)) {}

void EngineClient::inspect(const QString& model_dir, const QString& tag) {
  runJson({"inspect", "--json", "--model", model_dir}, [this, tag](const QJsonObject& o) { emit inspected(tag, o); },
          [this, tag](const QString& m) { emit failed(tag, m); });
}

void EngineClient::tasks() {
  runJson({"tasks", "--json"}, [this](const QJsonObject& o) { emit taskSchema(o); },
          [this](const QString& m) { emit taskSchemaFailed(m); });
}

void EngineClient::devices() {
  auto* p = new QProcess(this);
  connect(p, &QProcess::errorOccurred, this, [this, p](QProcess::ProcessError e) {
    if (e == QProcess::FailedToStart) {
      emit devicesFound(0, tr("cannot start the engine: %1").arg(p->errorString()));
      p->deleteLater();
    }
  });
  connect(p, &QProcess::finished, this, [this, p](int, QProcess::ExitStatus) {
    const QString out = QString::fromUtf8(p->readAllStandardOutput());
    p->deleteLater();
    int gpus = 0;
    for (const QString& line : out.split('\n'))
      if (line.startsWith("cuda:") && line.size() > 5 && line[5].isDigit()) ++gpus;  // "cuda:0 NVIDIA H100 ..."
    emit devicesFound(gpus, out.trimmed());
  });
  p->start(cli_path_, {"devices"});
}

void EngineClient::runJson(const QStringList& args, std::function<void(const QJsonObject&)> done,
                           std::function<void(const QString&)> failed) {
  auto* p = new QProcess(this);
  connect(p, &QProcess::errorOccurred, this, [this, p, failed](QProcess::ProcessError e) {
    if (e == QProcess::FailedToStart) {
      failed(tr("cannot start the engine (%1): %2").arg(cli_path_, p->errorString()));
      p->deleteLater();
    }
  });
  connect(p, &QProcess::finished, this, [this, p, done, failed](int code, QProcess::ExitStatus status) {
    const QByteArray out = p->readAllStandardOutput();
    const QString err = QString::fromUtf8(p->readAllStandardError()).trimmed();
    p->deleteLater();
    if (status != QProcess::NormalExit) {
      failed(tr("the engine crashed"));
      return;
    }
    if (code != 0) {
      // lmscope-cli prefixes its messages with the command; the user needs only the reason.
      QString msg = err;
      const int colon = msg.indexOf(": ");
      if (msg.startsWith("lmscope-cli ") && colon > 0) msg = msg.mid(colon + 2);
      failed(msg.isEmpty() ? tr("the engine exited with code %1").arg(code) : msg);
      return;
    }
    QJsonParseError perr{};
    const QJsonDocument doc = QJsonDocument::fromJson(out, &perr);
    if (perr.error != QJsonParseError::NoError || !doc.isObject()) {
      failed(tr("the engine's answer is not JSON: %1").arg(perr.errorString()));
      return;
    }
    done(doc.object());
  });
  p->start(cli_path_, args);
}
