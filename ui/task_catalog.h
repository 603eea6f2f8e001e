// The engine's task schema as the GUI reads it (`lmscope-cli tasks --json`, or the worker's `tasks` answer): every
// task with its group, description and settings (type, default, range, choices, help). The task builder makes its
// forms from it, so the GUI holds no list of tasks or settings of its own. Also the translation between a setting's
// JSON value and the text a form shows (lists as "256, 512", ranges through ValueList). No widgets.
#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>
#include <QVector>
#include <optional>

struct TaskSettingInfo {
  QString key, type, label, help;  // type: string, int, int_list, number, number_list, bool, choice, file,
                                   // file_list, folder, word_list
  QJsonValue def;                  // null: not set (the help says what happens)
  std::optional<double> min, max;
  QStringList choices;             // a choice's values; a word list's allowed words (empty: any)
  bool required = false, path = false, common = false;
  // Required when setting `required_if_key` holds any of these values (its default when empty).
  QString required_if_key;
  QStringList required_if_any;
  QString synonym_of;  // another spelling of that setting (a form shows only that one)
};

struct TaskInfo {
  QString name, description, group;
  QVector<TaskSettingInfo> settings;
  const TaskSettingInfo* setting(const QString& key) const;
};

class TaskCatalog {
 public:
  // nullopt with `error` when the JSON is not a task schema this GUI reads.
  static std::optional<TaskCatalog> fromJson(const QJsonObject& schema, QString* error = nullptr);

  const QVector<TaskInfo>& tasks() const { return tasks_; }
  const TaskInfo* task(const QString& name) const;
  QStringList names() const;
  // Groups in display order: {name, title}.
  const QVector<QPair<QString, QString>>& groups() const { return groups_; }
  // Settings every task entry accepts (alias, limit, max_length, seed, batch_size), generic defaults and help.
  const QVector<TaskSettingInfo>& common() const { return common_; }

  // The text a form shows for a value of this setting: "256, 512" for lists, "" for null.
  static QString textOf(const TaskSettingInfo& s, const QJsonValue& v);
  // The JSON value of what was typed: Undefined when the text is empty (the engine's default applies), else the
  // value, or Undefined with `error` saying what is wrong in words (range and choices included).
  static QJsonValue valueOf(const TaskSettingInfo& s, const QString& text, QString* error = nullptr);
  // What an empty field gives: "default: 5", or for a setting without a default value what its help says happens
  // ("empty: the model itself"), else the help.
  static QString hintOf(const TaskSettingInfo& s);

 private:
  QVector<TaskInfo> tasks_;
  QVector<QPair<QString, QString>> groups_;
  QVector<TaskSettingInfo> common_;
};
