// What the GUI knows about one task run (model × setting × task instance × run): the latest metrics and details the
// worker sent (`partial` while units finish, `result` when complete) or the results store holds (`history`).
#pragma once

#include <QJsonObject>
#include <QString>

struct TaskRunResult {
  QString run_key, model, setting, task;
  // The task instance: its alias (the task's name unless the spec gave one) and the engine's identity of what was
  // asked for (lmscope/run/result_identity.h): equal config_id = comparable numbers.
  QString alias, config_id;
  QJsonObject identity;
  QString dtype, weights;  // precision and weights fingerprint: a row is one model · setting · precision · weights
  // The tokenizer's kind as the engine names it ("bytes", "BPE", "byte-level BPE", "sentencepiece"; the worker's
  // `start` event, or the store's provenance): "bytes" means lengths in bytes and perplexities per byte.
  QString tokenizer;
  QJsonObject metrics;     // e.g. {"ppl@256": 12.3} or {"acc": 0.6, "acc_stderr": 0.01}
  QJsonObject details;     // ppl_vs_length: {"series": [...]}; passkey: {"lengths", "depths", "accuracy"}
  QJsonObject config;      // the resolved task config
  QJsonObject provenance;  // weights fingerprint, device, engine version (history only)
  QString model_path, finished;
  qint64 units_done = 0, unit_count = 0;
  bool complete = false;
  bool from_store = false;  // loaded from an earlier session
  // Filled by ResultSet from what else is shown: what tells this row (" · bf16") or this instance ("data book.txt")
  // apart from others with the same name. Empty when nothing shown shares the name.
  QString row_suffix, variant;
  qint64 order = 0;  // arrival order (history by creation time first): larger is newer

  bool perByte() const { return tokenizer == "bytes"; }
  QString instanceName() const { return alias.isEmpty() ? task : alias; }
  // "model" for the checkpoint's own RoPE, else "model · setting", plus what tells equal names apart: the name of a
  // table row, and with instance() of a line or a heatmap.
  QString label() const {
    return (setting.isEmpty() ? model : model + QString::fromUtf8(" · ") + setting) + row_suffix;
  }
  // "wikitext", "ppl_vs_length:pg19", or "wikitext (data wiki.valid.raw)" when two configurations share the name.
  QString instance() const { return variant.isEmpty() ? instanceName() : instanceName() + " (" + variant + ")"; }
  // The identity of what is shown as one entry: runs sharing it are the same measurement (the newer complete one
  // is shown, the others are alternatives).
  QString entryKey() const {
    return model + '\x1f' + setting + '\x1f' + dtype + '\x1f' + weights + '\x1f' + instanceName() + '\x1f' + config_id;
  }
};
