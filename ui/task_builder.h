// The task builder: tick tasks, fill each one's settings and the run-wide ones (backend, dtype and the settings every
// task accepts). The tasks, their settings, defaults, ranges and help come from the engine's task schema
// (TaskCatalog, read from `lmscope-cli tasks --json`); until it arrives the builder is empty and calls that set
// things are kept and applied then. A task can be added several times ("Add another"): each instance has its own
// form and an alias (its name in the results); the first instance of a task is named by the task's name, later ones
// by ids such as "ppl_vs_length#2". Lists accept ranges (ValueList). What is wrong is listed in words before launch;
// values and instances persist in QSettings between sessions.
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QMap>
#include <QWidget>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "task_catalog.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QListWidgetItem;
class QStackedWidget;
class QFormLayout;
struct RunPreset;

class TaskBuilder : public QWidget {
  Q_OBJECT
 public:
  explicit TaskBuilder(QWidget* parent = nullptr);
  ~TaskBuilder() override;

  // The engine's task schema: builds the list and the forms, restores the saved settings, then applies what was set
  // before it came. An error is shown in place of the list and named by problems().
  void setCatalog(const TaskCatalog& catalog);
  void setCatalogError(const QString& message);
  bool hasCatalog() const { return catalog_.has_value(); }
  const TaskCatalog* catalog() const { return catalog_ ? &*catalog_ : nullptr; }

  // Task instances by id, in list order (the first instance of a task has the task's name as its id).
  QStringList instances() const;
  QString taskOf(const QString& instance) const;
  // A new instance of `task` (ticked, with its own form; alias "task:N" unless given); returns its id, or "" when
  // the task is unknown or the catalog has not come yet.
  QString addInstance(const QString& task, const QString& alias = {});
  // Removes an added instance (the first instance of a task stays).
  void removeInstance(const QString& instance);

  void setTaskEnabled(const QString& instance, bool on);
  bool taskEnabled(const QString& instance) const;
  QStringList enabledTasks() const;  // instance ids
  // A setting as typed ("lengths" → "256, 512"; a bool "true"/"false"); "alias" is the instance's name.
  void setField(const QString& instance, const QString& key, const QString& text);
  QString field(const QString& instance, const QString& key) const;
  // Run-wide: backend, dtype and the common settings but alias (seed, limit, max_length, batch_size).
  void setGlobal(const QString& key, const QString& text);
  QString global(const QString& key) const;
  // CUDA appears as a backend only when GPUs were found.
  void setGpuCount(int n);

  void applyPreset(const RunPreset& p);
  QJsonArray tasks() const;     // task objects of the ticked instances (invalid fields left out; see problems())
  QJsonObject globals() const;  // only what is set
  QStringList problems() const;
  // The longest context any ticked task evaluates (for the RoPE editor's checks); 0 when none is known.
  qint64 longestLength() const;

  void saveSettings() const;

 signals:
  void changed();
  void catalogReady();

 private:
  struct Instance {
    QString id, task;
    QListWidgetItem* item = nullptr;
    QWidget* form = nullptr;
    QMap<QString, QWidget*> editors;  // key → QLineEdit, QComboBox or QCheckBox
  };
  Instance* find(const QString& id);
  const Instance* find(const QString& id) const;
  Instance& createInstance(const QString& task, const QString& id);
  QWidget* buildForm(Instance& inst);
  void addEditor(Instance& inst, const TaskSettingInfo& s, QWidget* page, QFormLayout* form);
  const TaskSettingInfo* settingOf(const Instance& inst, const QString& key) const;
  bool required(const Instance& inst, const TaskSettingInfo& s) const;
  void buildGlobals();
  void refreshItemText(Instance& inst);
  // The name an instance has in the results: its alias, else its task's name.
  QString resultName(const Instance& inst) const;
  // Calls made before the catalog came, replayed after it.
  void later(std::function<void()> f) { pending_.push_back(std::move(f)); }

  std::optional<TaskCatalog> catalog_;
  QString catalog_error_;
  QVector<std::function<void()>> pending_;
  std::vector<std::unique_ptr<Instance>> instances_;
  QListWidget* list_;
  QStackedWidget* forms_;
  QLabel* status_;
  QFormLayout* global_form_;
  QMap<QString, QLineEdit*> global_edits_;
  QComboBox* backend_;
  QComboBox* dtype_;
};
