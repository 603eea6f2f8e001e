// The RoPE editor: a list of settings to compare (the checkpoint's own, or a method with parameters), each
// parameter a value, list or range so a row can be a grid sweep. Errors (what the engine would refuse) show in red
// under the field as it is typed and stop the launch; warnings (what runs but may not be what was meant, such as an
// original context longer than every evaluated length) show in amber beside the row and do not. LongRoPE's factor
// lists can be typed, loaded from a checkpoint's config.json or generated. The total number of settings (after
// expanding the grids) is shown and feeds the launch count; the rows persist in QSettings.
#pragma once

#include <QJsonArray>
#include <QMap>
#include <QVector>
#include <QWidget>

#include "rope_setting.h"

class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QListWidget;
class QSpinBox;

class RopeEditor : public QWidget {
  Q_OBJECT
 public:
  explicit RopeEditor(QWidget* parent = nullptr);

  const QVector<RopeSetting>& settings() const { return settings_; }
  void setSettings(const QVector<RopeSetting>& s);
  void addSetting(const RopeSetting& s);
  void selectRow(int row);
  int currentRow() const;
  // The field editor of the selected row's parameter (tests type into it like a user).
  QLineEdit* editorFor(const QString& key) const { return edits_.value(key); }
  QComboBox* methodBox() const { return method_; }
  // What the selected row's parameter shows as its error / warning (empty when fine).
  QString errorFor(const QString& key) const;
  QString warningFor(const QString& key) const;
  // The text of a row in the list (its summary, and its first problem or warning).
  QString rowText(int row) const;
  // The longest evaluated context (for the original-context warning) and the number of entries LongRoPE's lists
  // need for the chosen models (rotary dimension / 2; 0 when unknown or the models differ).
  void setTargetLength(qint64 n);
  void setFactorCount(int n);
  int factorCount() const { return factor_count_; }

  // LongRoPE tools on the selected row: its factors from a checkpoint's config.json (the file or its folder), or
  // generated ("ramp" or "uniform", `entries` factors up to `factor`; short_factor all 1 when empty).
  bool loadLongRopeFactors(const QString& path, QString* error = nullptr);
  void generateLongRopeFactors(const QString& kind, double factor, int entries);

  QStringList expanded() const;  // override strings of all valid rows, duplicates removed
  int count() const { return expanded().size(); }
  // The run spec's `rope` list: each valid row as the engine reads it (grids stay grids), as the rows are shown.
  QJsonArray specEntries() const;
  QStringList problems() const;  // errors: they stop the launch
  QStringList warnings() const;  // shown, not blocking

  // The rows, as typed, in QSettings (rope/settings); restore returns false when nothing was saved.
  void saveSettings() const;
  bool restoreSettings();

 signals:
  void changed();

 private:
  void rebuildForm();
  void refreshList();
  void onEdited();
  void showIssues();
  QListWidget* list_;
  QComboBox* method_;
  QFormLayout* form_;
  QWidget* form_host_;
  QWidget* longrope_box_;
  QComboBox* gen_kind_;
  QDoubleSpinBox* gen_factor_;
  QSpinBox* gen_entries_;
  QLabel* total_;
  QMap<QString, QLineEdit*> edits_;
  QMap<QString, QLabel*> errors_;  // under each field: its errors (red) and warnings (amber)
  QMap<QString, QStringList> field_errors_, field_warnings_;
  QVector<RopeSetting> settings_;
  qint64 target_ = 0;
  int factor_count_ = 0;
  bool updating_ = false;
};
