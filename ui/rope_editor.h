// The RoPE editor: a list of settings to compare (the checkpoint's own, or a method with parameters), each
// parameter a value, list or range so a row can be a grid sweep. Errors show under the field as it is typed;
// the total number of settings (after expanding the grids) is shown and feeds the launch count.
#pragma once

#include <QMap>
#include <QVector>
#include <QWidget>

#include "rope_setting.h"

class QComboBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QListWidget;

class RopeEditor : public QWidget {
  Q_OBJECT
 public:
  explicit RopeEditor(QWidget* parent = nullptr);

  const QVector<RopeSetting>& settings() const { return settings_; }
  void setSettings(const QVector<RopeSetting>& s);
  void addSetting(const RopeSetting& s);
  void selectRow(int row);
  // The field editor of the selected row's parameter (tests type into it like a user).
  QLineEdit* editorFor(const QString& key) const { return edits_.value(key); }
  QComboBox* methodBox() const { return method_; }
  // What the selected row's parameter shows as its error (empty when fine).
  QString errorFor(const QString& key) const;
  // The longest evaluated context, for "original length ≤ target".
  void setTargetLength(qint64 n);

  QStringList expanded() const;  // override strings of all valid rows, duplicates removed
  int count() const { return expanded().size(); }
  QStringList problems() const;

 signals:
  void changed();

 private:
  void rebuildForm();
  void refreshList();
  void onEdited();
  QListWidget* list_;
  QComboBox* method_;
  QFormLayout* form_;
  QWidget* form_host_;
  QLabel* total_;
  QMap<QString, QLineEdit*> edits_;
  QMap<QString, QLabel*> errors_;
  QVector<RopeSetting> settings_;
  qint64 target_ = 0;
  bool updating_ = false;
};
