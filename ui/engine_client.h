// Runs lmscope-cli in a child process, never blocking the UI thread: a crash or hang there cannot take the window
// down. Each request ends in exactly one of finished() or failed().
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QStringList>
#include <functional>

class EngineClient : public QObject {
  Q_OBJECT
 public:
  explicit EngineClient(QString cli_path, QObject* parent = nullptr);
  const QString& cliPath() const { return cli_path_; }

  // `lmscope-cli inspect --json --model DIR`; `tag` comes back with the answer.
  void inspect(const QString& model_dir, const QString& tag);
  // `lmscope-cli devices`: how many CUDA GPUs this build sees (0 without CUDA); answers devicesFound().
  void devices();
  // `lmscope-cli tasks --json`: the task schema; answers taskSchema() or taskSchemaFailed().
  void tasks();

 signals:
  void inspected(const QString& tag, const QJsonObject& info);
  void failed(const QString& tag, const QString& message);
  void devicesFound(int gpus, const QString& description);
  void taskSchema(const QJsonObject& schema);
  void taskSchemaFailed(const QString& message);

 private:
  // Runs the CLI with `args`; its JSON answer goes to `done`, a failure (in words) to `failed`.
  void runJson(const QStringList& args, std::function<void(const QJsonObject&)> done,
               std::function<void(const QString&)> failed);
  QString cli_path_;
};
