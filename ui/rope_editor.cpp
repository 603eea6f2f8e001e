#include "rope_editor.h"

#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

namespace {
const QColor kErrorColor(176, 0, 32);
const QColor kWarningColor(138, 90, 0);
}  // namespace

RopeEditor::RopeEditor(QWidget* parent)
    : QWidget(parent), list_(new QListWidget(this)), method_(new QComboBox(this)), form_host_(new QWidget(this)),
      longrope_box_(new QWidget(this)), total_(new QLabel(this)) {
  list_->setObjectName("rope_list");
  list_->setWordWrap(true);
  method_->setObjectName("rope_method");
  for (const QString& m : RopeSetting::methods()) method_->addItem(m == "checkpoint" ? tr("checkpoint's own") : m, m);
  form_ = new QFormLayout(form_host_);
  form_->setContentsMargins(0, 0, 0, 0);
  auto* add = new QPushButton(tr("Add setting"), this);
  auto* dup = new QPushButton(tr("Duplicate"), this);
  auto* remove = new QPushButton(tr("Remove"), this);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(add);
  buttons->addWidget(dup);
  buttons->addWidget(remove);
  buttons->addStretch();

  // LongRoPE's lists: typed, loaded from a checkpoint, or generated — the generated ones are a stand-in, said so.
  auto* lr = new QVBoxLayout(longrope_box_);
  lr->setContentsMargins(0, 4, 0, 0);
  auto* load = new QPushButton(tr("Load factors from a checkpoint's config.json…"), longrope_box_);
  load->setObjectName("rope_longrope_load");
  auto* gen_row = new QHBoxLayout;
  gen_kind_ = new QComboBox(longrope_box_);
  gen_kind_->addItem(tr("ramp 1 → factor"), "ramp");
  gen_kind_->addItem(tr("uniform factor"), "uniform");
  gen_factor_ = new QDoubleSpinBox(longrope_box_);
  gen_factor_->setRange(1, 1000);
  gen_factor_->setDecimals(2);
  gen_factor_->setValue(4);
  gen_entries_ = new QSpinBox(longrope_box_);
  gen_entries_->setRange(1, 4096);
  gen_entries_->setValue(32);
  gen_entries_->setToolTip(tr("entries = rotary dimension / 2 of the model (Llama-3.2-1B: 32); set from the ticked models when known"));
  auto* gen = new QPushButton(tr("Generate long_factor"), longrope_box_);
  gen->setObjectName("rope_longrope_generate");
  gen_row->addWidget(gen_kind_);
  gen_row->addWidget(new QLabel(tr("factor"), longrope_box_));
  gen_row->addWidget(gen_factor_);
  gen_row->addWidget(new QLabel(tr("entries"), longrope_box_));
  gen_row->addWidget(gen_entries_);
  gen_row->addWidget(gen);
  gen_row->addStretch();
  auto* lr_help = new QLabel(tr("LongRoPE's own factors come from an evolutionary search per model; load them from a checkpoint "
                                "that ships them (Phi-3's config.json rope_scaling), or type them. <i>Generate</i> writes a "
                                "stand-in, not searched factors: <b>ramp</b> rises linearly from 1 at the highest frequency to the "
                                "factor at the lowest (high frequencies kept, low ones interpolated, in the spirit of NTK-by-parts); "
                                "<b>uniform</b> is the factor everywhere (= linear interpolation). short_factor is set to all 1 "
                                "(unchanged RoPE up to the original context) when it is empty."),
                             longrope_box_);
  lr_help->setWordWrap(true);
  lr->addWidget(load);
  lr->addLayout(gen_row);
  lr->addWidget(lr_help);

  auto* right = new QVBoxLayout;
  auto* mrow = new QFormLayout;
  mrow->addRow(tr("method"), method_);
  right->addLayout(mrow);
  right->addWidget(form_host_);
  right->addWidget(longrope_box_);
  auto* help = new QLabel(tr("Each parameter takes a value, a list (2, 4, 8) or a range (1:4:1, 2..16 x2); lists expand into a "
                             "grid (every combination is one setting). Empty parameters keep the checkpoint's value. "
                             "<span style='color:#b00020'>Red</span>: the engine would refuse it (blocks the launch); "
                             "<span style='color:#8a5a00'>amber</span>: it runs, but check it is what you mean."),
                          this);
  help->setWordWrap(true);
  right->addWidget(help);
  right->addStretch();
  auto* top = new QHBoxLayout;
  auto* left = new QVBoxLayout;
  left->addWidget(list_, 1);
  left->addLayout(buttons);
  top->addLayout(left, 1);
  top->addLayout(right, 1);
  auto* lay = new QVBoxLayout(this);
  lay->addLayout(top, 1);
  lay->addWidget(total_);

  connect(add, &QPushButton::clicked, this, [this] {
    RopeSetting s;
    s.method = "yarn";
    s.set("factor", "2, 4");
    addSetting(s);
  });
  connect(dup, &QPushButton::clicked, this, [this] {
    if (list_->currentRow() >= 0) addSetting(settings_[list_->currentRow()]);
  });
  connect(remove, &QPushButton::clicked, this, [this] {
    const int r = list_->currentRow();
    if (r < 0) return;
    settings_.remove(r);
    refreshList();
    selectRow(std::min(r, int(settings_.size()) - 1));
    emit changed();
  });
  connect(list_, &QListWidget::currentRowChanged, this, [this](int) { rebuildForm(); });
  connect(method_, &QComboBox::currentIndexChanged, this, [this] {
    const int r = list_->currentRow();
    if (updating_ || r < 0) return;
    settings_[r].setMethod(method_->currentData().toString());  // only what the new method takes stays
    rebuildForm();
    refreshList();
    emit changed();
  });
  connect(load, &QPushButton::clicked, this, [this] {
    const QString start = QSettings().value("rope/last_config_dir").toString();
    const QString path = QFileDialog::getOpenFileName(this, tr("A checkpoint's config.json with LongRoPE factors"), start,
                                                      tr("config.json (config.json);;JSON (*.json)"));
    if (path.isEmpty()) return;
    QSettings().setValue("rope/last_config_dir", QFileInfo(path).path());
    QString err;
    if (!loadLongRopeFactors(path, &err)) QMessageBox::warning(this, tr("LongRoPE factors"), err);
  });
  connect(gen, &QPushButton::clicked, this, [this] {
    generateLongRopeFactors(gen_kind_->currentData().toString(), gen_factor_->value(), gen_entries_->value());
  });
  setSettings({RopeSetting{}});
}

void RopeEditor::setSettings(const QVector<RopeSetting>& s) {
  settings_ = s;
  refreshList();
  selectRow(settings_.isEmpty() ? -1 : 0);
  emit changed();
}

void RopeEditor::addSetting(const RopeSetting& s) {
  settings_.push_back(s);
  refreshList();
  selectRow(settings_.size() - 1);
  emit changed();
}

void RopeEditor::selectRow(int row) {
  list_->setCurrentRow(row);
  rebuildForm();
}

int RopeEditor::currentRow() const { return list_->currentRow(); }

void RopeEditor::setTargetLength(qint64 n) {
  if (n == target_) return;
  target_ = n;
  refreshList();
  if (!updating_) onEdited();
}

void RopeEditor::setFactorCount(int n) {
  if (n == factor_count_) return;
  factor_count_ = n;
  if (n > 0) gen_entries_->setValue(n);
  refreshList();
  if (!updating_) onEdited();
}

QString RopeEditor::errorFor(const QString& key) const { return field_errors_.value(key).join('\n'); }
QString RopeEditor::warningFor(const QString& key) const { return field_warnings_.value(key).join('\n'); }

QString RopeEditor::rowText(int row) const {
  return row >= 0 && row < list_->count() ? list_->item(row)->text() : QString();
}

void RopeEditor::rebuildForm() {
  updating_ = true;
  while (form_->rowCount() > 0) form_->removeRow(0);
  edits_.clear();
  errors_.clear();
  const int r = list_->currentRow();
  method_->setEnabled(r >= 0);
  longrope_box_->setVisible(r >= 0 && settings_[r].method == "longrope");
  if (r >= 0) {
    const RopeSetting& s = settings_[r];
    method_->setCurrentIndex(method_->findData(s.method));
    // The method's parameters, then any it does not take that the row still has (from a spec or an older
    // session): shown so they can be cleared.
    QStringList keys = RopeSetting::parametersOf(s.method);
    for (const auto& [key, text] : s.params)
      if (!keys.contains(key) && !text.trimmed().isEmpty()) keys << key;
    for (const QString& key : keys) {
      auto* e = new QLineEdit(s.value(key), form_host_);
      e->setObjectName("rope_" + key);
      e->setToolTip(RopeSetting::helpOf(key));
      if (RopeSetting::requiredOf(s.method).contains(key)) e->setPlaceholderText(tr("required"));
      else if (key == "truncate") e->setPlaceholderText(tr("true (default) or false"));
      else e->setPlaceholderText(tr("checkpoint's / default"));
      auto* err = new QLabel(form_host_);
      err->setWordWrap(true);
      err->setTextFormat(Qt::RichText);
      err->hide();
      form_->addRow(RopeSetting::parametersOf(s.method).contains(key) ? key : tr("%1 (not used by %2)").arg(key, s.method), e);
      form_->addRow(err);  // the whole width: notes are sentences
      edits_[key] = e;
      errors_[key] = err;
      connect(e, &QLineEdit::textChanged, this, &RopeEditor::onEdited);
    }
  }
  updating_ = false;
  onEdited();
}

void RopeEditor::onEdited() {
  const int r = list_->currentRow();
  if (updating_ || r < 0 || r >= settings_.size()) {
    field_errors_.clear();
    field_warnings_.clear();
    return;
  }
  RopeSetting& s = settings_[r];
  for (auto it = edits_.begin(); it != edits_.end(); ++it) s.set(it.key(), it.value()->text());
  showIssues();
  refreshList();
  emit changed();
}

void RopeEditor::showIssues() {
  field_errors_.clear();
  field_warnings_.clear();
  const int r = list_->currentRow();
  if (r < 0 || r >= settings_.size()) return;
  for (const auto& issue : settings_[r].validate(target_, factor_count_))
    (issue.warning ? field_warnings_ : field_errors_)[issue.key] << issue.message;
  for (auto it = errors_.begin(); it != errors_.end(); ++it) {
    QStringList lines;
    for (const QString& m : field_errors_.value(it.key())) lines << QString("<span style='color:%1'>%2</span>").arg(kErrorColor.name(), m.toHtmlEscaped());
    for (const QString& m : field_warnings_.value(it.key()))
      lines << QString("<span style='color:%1'>%2</span>").arg(kWarningColor.name(), m.toHtmlEscaped());
    it.value()->setText(lines.join("<br>"));
    it.value()->setVisible(!lines.isEmpty());
  }
}

void RopeEditor::refreshList() {
  const int keep = list_->currentRow();
  const bool blocked = list_->blockSignals(true);
  while (list_->count() > settings_.size()) delete list_->takeItem(list_->count() - 1);
  while (list_->count() < settings_.size()) list_->addItem(QString());
  for (int i = 0; i < settings_.size(); ++i) {
    const auto& s = settings_[i];
    const auto errs = s.errors(target_, factor_count_);
    const auto warns = s.warnings(target_, factor_count_);
    QString text = s.summary();
    if (!errs.isEmpty()) text = QString::fromUtf8("⚠ ") + text + tr("  — %1").arg(errs.front().message);
    else if (!warns.isEmpty())  // the note's first clause here; all of it under the field and in the tooltip
      text = QString::fromUtf8("△ ") + text + (s.count() > 1 ? tr("  (%1 settings)").arg(s.count()) : QString()) +
             tr("  — note: %1").arg(warns.front().message.section(": ", 0, 0));
    else if (s.count() > 1) text += tr("  (%1 settings)").arg(s.count());
    QStringList tip{s.summary()};
    for (const auto& e : errs) tip << QString::fromUtf8("⚠ ") + e.message;
    for (const auto& w : warns) tip << QString::fromUtf8("△ ") + w.message;
    list_->item(i)->setText(text);
    list_->item(i)->setToolTip(tip.join('\n'));
    list_->item(i)->setForeground(!errs.isEmpty() ? QBrush(kErrorColor) : !warns.isEmpty() ? QBrush(kWarningColor) : palette().text());
  }
  list_->setCurrentRow(keep);
  list_->blockSignals(blocked);
  const QStringList p = problems();
  total_->setText(p.isEmpty() ? tr("%n RoPE setting(s) to compare", nullptr, count())
                              : tr("%n RoPE setting(s); fix the rows marked ⚠ first", nullptr, count()));
}

bool RopeEditor::loadLongRopeFactors(const QString& path, QString* error) {
  const int r = list_->currentRow();
  auto fail = [&](const QString& why) {
    if (error) *error = why;
    return false;
  };
  if (r < 0) return fail(tr("select a RoPE setting first"));
  const QString file = QFileInfo(path).isDir() ? QDir(path).filePath("config.json") : path;
  QFile f(file);
  if (!f.open(QIODevice::ReadOnly)) return fail(tr("cannot read %1").arg(file));
  QJsonParseError pe;
  const QJsonDocument doc = QJsonDocument::fromJson(f.read(16 << 20), &pe);
  if (!doc.isObject()) return fail(tr("%1 is not a JSON object (%2)").arg(file, pe.errorString()));
  QString why;
  const auto s = RopeSetting::longRopeFromConfig(doc.object(), &why);
  if (!s) return fail(tr("%1: %2").arg(file, why));
  settings_[r] = *s;
  rebuildForm();
  refreshList();
  emit changed();
  return true;
}

void RopeEditor::generateLongRopeFactors(const QString& kind, double factor, int entries) {
  const int r = list_->currentRow();
  if (r < 0) return;
  RopeSetting& s = settings_[r];
  if (s.method != "longrope") s.setMethod("longrope");
  s.set("long_factor", RopeSetting::generatedFactors(kind, entries, factor));
  bool short_fits = false;
  if (const QString sf = s.value("short_factor").trimmed(); !sf.isEmpty()) short_fits = sf.split('/').size() == entries;
  if (!short_fits) s.set("short_factor", RopeSetting::generatedFactors("uniform", entries, 1));
  rebuildForm();
  refreshList();
  emit changed();
}

QStringList RopeEditor::expanded() const {
  QStringList out;
  for (const auto& s : settings_) {
    if (!s.isValid(target_, factor_count_)) continue;
    for (const QString& e : s.expand())
      if (!out.contains(e)) out << e;
  }
  return out;
}

QJsonArray RopeEditor::specEntries() const {
  QJsonArray out;
  for (const auto& s : settings_) {
    if (!s.isValid(target_, factor_count_)) continue;
    const QJsonValue e = s.toSpecEntry();
    if (e.isArray())  // the engine takes a flat list: a row's expanded strings go in one by one
      for (const auto& x : e.toArray()) out.append(x);
    else out.append(e);
  }
  return out;
}

QStringList RopeEditor::problems() const {
  QStringList p;
  for (int i = 0; i < settings_.size(); ++i)
    for (const auto& issue : settings_[i].errors(target_, factor_count_)) p << tr("RoPE setting %1: %2").arg(i + 1).arg(issue.message);
  if (settings_.isEmpty()) p << tr("Add at least one RoPE setting (the checkpoint's own counts).");
  return p;
}

QStringList RopeEditor::warnings() const {
  QStringList p;
  for (int i = 0; i < settings_.size(); ++i)
    for (const auto& issue : settings_[i].warnings(target_, factor_count_)) p << tr("RoPE setting %1: %2").arg(i + 1).arg(issue.message);
  return p;
}

void RopeEditor::saveSettings() const {
  QJsonArray rows;
  for (const auto& s : settings_) rows.append(s.toJson());
  QSettings().setValue("rope/settings", QString::fromUtf8(QJsonDocument(rows).toJson(QJsonDocument::Compact)));
}

bool RopeEditor::restoreSettings() {
  const QString saved = QSettings().value("rope/settings").toString();
  if (saved.isEmpty()) return false;
  const QJsonArray rows = QJsonDocument::fromJson(saved.toUtf8()).array();
  if (rows.isEmpty()) return false;
  QVector<RopeSetting> s;
  for (const auto& r : rows) s << RopeSetting::fromJson(r.toObject());
  setSettings(s);
  return true;
}
