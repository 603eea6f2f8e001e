#include "engine_client.h"

#include <QJsonDocument>
#include <QProcess>

EngineClient::EngineClient(QString cli_path, QObject* parent) : QObject(parent), cli_path_(std::move(cli_path)) {}

void EngineClient::inspect(const QString& model_dir, const QString& tag) {
  runJson({"inspect", "--json", "--model", model_dir}, tag);
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

void EngineClient::runJson(const QStringList& args, const QString& tag) {
  auto* p = new QProcess(this);
  connect(p, &QProcess::errorOccurred, this, [this, p, tag](QProcess::ProcessError e) {
    if (e == QProcess::FailedToStart) {
      emit failed(tag, tr("cannot start the engine (%1): %2").arg(cli_path_, p->errorString()));
      p->deleteLater();
    }
  });
  connect(p, &QProcess::finished, this, [this, p, tag](int code, QProcess::ExitStatus status) {
    const QByteArray out = p->readAllStandardOutput();
    const QString err = QString::fromUtf8(p->readAllStandardError()).trimmed();
    p->deleteLater();
    if (status != QProcess::NormalExit) {
      emit failed(tag, tr("the engine crashed"));
      return;
    }
    if (code != 0) {
      // lmscope-cli prefixes its messages with the command; the user needs only the reason.
      QString msg = err;
      const int colon = msg.indexOf(": ");
      if (msg.startsWith("lmscope-cli ") && colon > 0) msg = msg.mid(colon + 2);
      emit failed(tag, msg.isEmpty() ? tr("the engine exited with code %1").arg(code) : msg);
      return;
    }
    QJsonParseError perr{};
    const QJsonDocument doc = QJsonDocument::fromJson(out, &perr);
    if (perr.error != QJsonParseError::NoError || !doc.isObject()) {
      emit failed(tag, tr("the engine's answer is not JSON: %1").arg(perr.errorString()));
      return;
    }
    emit inspected(tag, doc.object());
  });
  p->start(cli_path_, args);
}
