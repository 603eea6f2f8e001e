// File ▸ Export figure's options: the figure's physical size (presets: one column 3.3 in, two columns 7 in; or
// custom, in inches or centimetres; or as on screen), the font size in points and the PNG resolution. Remembered in
// QSettings ("export/figure_*", "export/dpi").
#pragma once

#include <QDialog>

#include "figure_exporter.h"

class QComboBox;
class QDoubleSpinBox;
class QSpinBox;

class FigureExportDialog : public QDialog {
  Q_OBJECT
 public:
  // `aspect`: the figure's preferred height / width, used when a preset sets the width.
  explicit FigureExportDialog(double aspect, QWidget* parent = nullptr);
  enum Preset { OneColumn, TwoColumns, Custom, AsOnScreen };
  Preset preset() const;
  FigureSize size() const;  // in inches, whatever the unit shown
  void setPreset(Preset p);
  // Stores the choices (called on accept).
  void remember() const;

 private:
  void applyPreset();
  void unitChanged();
  double aspect_;
  QComboBox* preset_;
  QComboBox* unit_;
  QDoubleSpinBox* width_;
  QDoubleSpinBox* height_;
  QSpinBox* font_;
  QSpinBox* dpi_;
  bool cm_ = false;
};
