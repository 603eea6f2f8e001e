// Before a launch (and when a preset is applied): is the data the tasks need there, and can it serve the lengths
// asked for? Files must exist, be text (UTF-8, no NUL bytes) and not be empty; for the long-document tasks
// (ppl_vs_length, longppl) some document must hold as many tokens as the longest length. The GUI has no tokenizer,
// so tokens are counted as the engine would only for byte-level models (one token per byte); for the others a
// document must have at least `bytes_per_token` bytes per token asked (5: more than English prose takes — WikiText-2's
// test text is 3.9 bytes per token with Llama 2's tokenizer, 4.5 with Llama 3's), so what passes here is long enough there. Documents are read as the engine
// reads them (.jsonl: one per line, its `text` field or the task's `field`; .json: a list; else the whole file) and
// remembered by path, size and modification time. No widgets: tested alone (tests/ui/preset_check_test.cpp).
#pragma once

#include <QJsonArray>
#include <QString>
#include <QStringList>
#include <QVector>

struct RunPreset;

struct DataIssue {
  enum class Kind { Missing, NotText, Empty, TooShort, Note };
  Kind kind = Kind::Note;
  QString task;     // the task (with its alias: "ppl_vs_length (pg19)")
  QString file;     // the file it is about
  QString message;  // in words, naming the file
  bool blocking() const { return kind != Kind::Note; }
};

class PresetCheck {
 public:
  struct Options {
    bool byte_tokens = false;      // every model that will run reads bytes: one token per byte, exactly
    double bytes_per_token = 5.0;  // otherwise: bytes a document needs per token asked
  };

  // The run spec's task objects ({"task": "ppl_vs_length", "data": "...", "lengths": [..]}).
  static QVector<DataIssue> checkTasks(const QJsonArray& tasks, const Options& o);
  static QVector<DataIssue> checkTasks(const QJsonArray& tasks) { return checkTasks(tasks, Options()); }
  // A preset's entries (field texts, as the task builder takes them), before it is applied.
  static QVector<DataIssue> checkPreset(const RunPreset& preset, const Options& o);
  static QVector<DataIssue> checkPreset(const RunPreset& preset) { return checkPreset(preset, Options()); }
  static QStringList messages(const QVector<DataIssue>& issues, bool blocking_only = true);

  // The documents of a data file as the engine splits them: their sizes in UTF-8 bytes.
  struct Documents {
    DataIssue::Kind problem = DataIssue::Kind::Note;  // Note: fine
    QString error;                                    // what is wrong, when problem != Note
    QVector<qint64> bytes;
    qint64 longest() const;
  };
  static Documents documents(const QString& path, const QString& field = "text");
};
