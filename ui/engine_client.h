// Runs lmscope-cli in a child process, never blocking the UI thread: a crash or hang there cannot take the window
// down. Each request ends in exactly one of finished() or failed().
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QStringList>

class EngineClient : public QObject {
  Q_OBJECT
 public:
  explicit EngineClient(QString cli_path, QObject* parent = nullptr);
  const QString& cliPath() const { return cli_path_; }

  // `lmscope-cli inspect --json --model DIR`; `tag` comes back with the answer.
  void inspect(const QString& model_dir, const QString& tag);
  // `lmscope-cli devices`: how many CUDA GPUs this build sees (0 without CUDA); answers devicesFound().
  void devices();

 signals:
  void inspected(const QString& tag, const QJsonObject& info);
  void failed(const QString& tag, const QString& message);
  void devicesFound(int gpus, const QString& description);

 private:
  void runJson(const QStringList& args, const QString& tag);
  QString cli_path_;
};
