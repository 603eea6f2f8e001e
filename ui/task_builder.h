// The task builder: tick tasks, fill each one's settings (data files, lengths, depths, trials, ...) and the
// run-wide ones (backend, dtype, seed, limit, max length, batch size). Lists accept ranges (ValueList). What is
// wrong is listed in words before launch; values persist in QSettings between sessions.
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QMap>
#include <QWidget>

class QComboBox;
class QLineEdit;
class QListWidget;
class QStackedWidget;
struct RunPreset;

class TaskBuilder : public QWidget {
  Q_OBJECT
 public:
  explicit TaskBuilder(QWidget* parent = nullptr);

  static QStringList taskNames();
  void setTaskEnabled(const QString& task, bool on);
  bool taskEnabled(const QString& task) const;
  QStringList enabledTasks() const;
  // A task's setting, as typed ("lengths" → "256, 512").
  void setField(const QString& task, const QString& key, const QString& text);
  QString field(const QString& task, const QString& key) const;
  // Run-wide: backend, dtype, seed, limit, max_length, batch_size.
  void setGlobal(const QString& key, const QString& text);
  QString global(const QString& key) const;
  // CUDA appears as a backend only when GPUs were found.
  void setGpuCount(int n);

  void applyPreset(const RunPreset& p);
  QJsonArray tasks() const;     // task objects of the ticked tasks (invalid fields left out; see problems())
  QJsonObject globals() const;  // only what is set
  QStringList problems() const;
  // The longest context any ticked task evaluates (for the RoPE editor's checks); 0 when none is known.
  qint64 longestLength() const;

  void saveSettings() const;

 signals:
  void changed();

 private:
  struct Field {
    QString key, label, kind, def, help;  // kind: file, files (';'-separated), folder, ints, numbers, int, number, choice:a|b
  };
  static QVector<Field> fieldsOf(const QString& task);
  QWidget* buildForm(const QString& task);
  QListWidget* list_;
  QStackedWidget* forms_;
  QMap<QString, QMap<QString, QLineEdit*>> edits_;   // task → key → editor
  QMap<QString, QMap<QString, QComboBox*>> choices_;
  QMap<QString, QLineEdit*> global_edits_;
  QComboBox* backend_;
  QComboBox* dtype_;
};
