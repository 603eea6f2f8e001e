// What the GUI knows about one task run (model × setting × task): the latest metrics and details the worker sent
// (`partial` while units finish, `result` when complete) or the results store holds (`history`).
#pragma once

#include <QJsonObject>
#include <QString>

struct TaskRunResult {
  QString run_key, model, setting, task;
  QJsonObject metrics;     // e.g. {"ppl@256": 12.3} or {"acc": 0.6, "acc_stderr": 0.01}
  QJsonObject details;     // ppl_vs_length: {"series": [...]}; passkey: {"lengths", "depths", "accuracy"}
  QJsonObject config;      // the resolved task config (history only)
  QJsonObject provenance;  // weights fingerprint, device, engine version (history only)
  QString model_path, finished;
  qint64 units_done = 0, unit_count = 0;
  bool complete = false;
  bool from_store = false;  // loaded from an earlier session

  // "model" for the checkpoint's own RoPE, else "model · setting": the name of a line, a heatmap and a table row.
  QString label() const { return setting.isEmpty() ? model : model + QString::fromUtf8(" · ") + setting; }
};
