#include "figure_export_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSettings>
#include <QSignalBlocker>
#include <QSpinBox>

FigureExportDialog::FigureExportDialog(double aspect, QWidget* parent)
    : QDialog(parent), aspect_(aspect), preset_(new QComboBox(this)), unit_(new QComboBox(this)), width_(new QDoubleSpinBox(this)),
      height_(new QDoubleSpinBox(this)), font_(new QSpinBox(this)), dpi_(new QSpinBox(this)) {
  setWindowTitle(tr("Export figure"));
  setObjectName("figure_export_dialog");
  preset_->addItem(tr("one column (3.3 in)"), OneColumn);
  preset_->addItem(tr("two columns (7 in)"), TwoColumns);
  preset_->addItem(tr("custom"), Custom);
  preset_->addItem(tr("as on screen (widget size, 1 px = 1 pt)"), AsOnScreen);
  unit_->addItems({tr("in"), tr("cm")});
  for (QDoubleSpinBox* b : {width_, height_}) {
    b->setDecimals(2);
    b->setSingleStep(0.1);
  }
  font_->setRange(5, 24);
  font_->setSuffix(tr(" pt"));
  font_->setToolTip(tr("Tick labels, axis labels and the legend; titles and cell labels in proportion; lines and markers scale with it"));
  dpi_->setRange(72, 1200);
  dpi_->setSingleStep(50);
  dpi_->setSuffix(tr(" dpi"));
  auto* sizeRow = new QHBoxLayout;
  sizeRow->addWidget(width_);
  sizeRow->addWidget(new QLabel(QString::fromUtf8("×"), this));
  sizeRow->addWidget(height_);
  sizeRow->addWidget(unit_);
  auto* form = new QFormLayout(this);
  form->addRow(tr("Size"), preset_);
  form->addRow(tr("Width × height"), sizeRow);
  form->addRow(tr("Font"), font_);
  form->addRow(tr("PNG resolution"), dpi_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  form->addRow(buttons);
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    remember();
    accept();
  });
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

  // remembered choices
  QSettings s;
  const FigureSize f = FigureSize::fromSettings();
  cm_ = s.value("export/figure_unit").toString() == "cm";
  unit_->setCurrentIndex(cm_ ? 1 : 0);
  const double k = cm_ ? 2.54 : 1.0;
  for (QDoubleSpinBox* b : {width_, height_}) b->setRange(0.5 * k, 40 * k);
  width_->setValue(f.width_in * k);
  height_->setValue(f.height_in * k);
  font_->setValue(f.font_pt);
  dpi_->setValue(f.dpi);
  preset_->setCurrentIndex(preset_->findData(s.value("export/figure_preset", TwoColumns).toInt()));
  if (preset() == OneColumn || preset() == TwoColumns) applyPreset();  // the width of the preset, this figure's height
  connect(preset_, &QComboBox::currentIndexChanged, this, &FigureExportDialog::applyPreset);
  connect(unit_, &QComboBox::currentIndexChanged, this, &FigureExportDialog::unitChanged);
  for (QDoubleSpinBox* b : {width_, height_})
    connect(b, &QDoubleSpinBox::valueChanged, this, [this] {
      if (preset() != Custom) {
        const QSignalBlocker block(preset_);
        preset_->setCurrentIndex(preset_->findData(Custom));
      }
    });
  const bool sized = preset() != AsOnScreen;
  for (QWidget* w : {static_cast<QWidget*>(width_), static_cast<QWidget*>(height_), static_cast<QWidget*>(unit_), static_cast<QWidget*>(font_)})
    w->setEnabled(sized);
}

FigureExportDialog::Preset FigureExportDialog::preset() const { return Preset(preset_->currentData().toInt()); }
void FigureExportDialog::setPreset(Preset p) { preset_->setCurrentIndex(preset_->findData(p)); }

FigureSize FigureExportDialog::size() const {
  const double k = cm_ ? 2.54 : 1.0;
  return {width_->value() / k, height_->value() / k, font_->value(), dpi_->value()};
}

void FigureExportDialog::remember() const {
  size().toSettings();
  QSettings s;
  s.setValue("export/figure_preset", int(preset()));
  s.setValue("export/figure_unit", cm_ ? "cm" : "in");
}

void FigureExportDialog::applyPreset() {
  const bool sized = preset() != AsOnScreen;
  for (QWidget* w : {static_cast<QWidget*>(width_), static_cast<QWidget*>(height_), static_cast<QWidget*>(unit_), static_cast<QWidget*>(font_)})
    w->setEnabled(sized);
  if (preset() != OneColumn && preset() != TwoColumns) return;
  const FigureSize f = preset() == OneColumn ? FigureSize::oneColumn(aspect_) : FigureSize::twoColumns(aspect_);
  const double k = cm_ ? 2.54 : 1.0;
  const QSignalBlocker bw(width_), bh(height_);
  width_->setValue(f.width_in * k);
  height_->setValue(std::clamp(f.height_in, 0.5, 40.0) * k);
}

void FigureExportDialog::unitChanged() {
  const bool cm = unit_->currentIndex() == 1;
  if (cm == cm_) return;
  const double f = cm ? 2.54 : 1 / 2.54;
  const QSignalBlocker bw(width_), bh(height_);
  const double w = width_->value() * f, h = height_->value() * f;
  for (QDoubleSpinBox* b : {width_, height_}) b->setRange(0.5 * (cm ? 2.54 : 1), 40 * (cm ? 2.54 : 1));
  width_->setValue(w);
  height_->setValue(h);
  cm_ = cm;
}
