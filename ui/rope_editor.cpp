#include "rope_editor.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

RopeEditor::RopeEditor(QWidget* parent)
    : QWidget(parent), list_(new QListWidget(this)), method_(new QComboBox(this)), form_host_(new QWidget(this)), total_(new QLabel(this)) {
  method_->setObjectName("rope_method");
  for (const QString& m : RopeSetting::methods()) method_->addItem(m == "checkpoint" ? tr("checkpoint's own") : m, m);
  form_ = new QFormLayout(form_host_);
  auto* add = new QPushButton(tr("Add setting"), this);
  auto* dup = new QPushButton(tr("Duplicate"), this);
  auto* remove = new QPushButton(tr("Remove"), this);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(add);
  buttons->addWidget(dup);
  buttons->addWidget(remove);
  buttons->addStretch();
  auto* right = new QVBoxLayout;
  auto* mrow = new QFormLayout;
  mrow->addRow(tr("method"), method_);
  right->addLayout(mrow);
  right->addWidget(form_host_);
  auto* help = new QLabel(tr("Each parameter takes a value, a list (2, 4, 8) or a range (1:4:1, 2..16 x2); "
                             "lists expand into a grid (every combination is one setting)."), this);
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
    settings_[r].method = method_->currentData().toString();
    rebuildForm();
    refreshList();
    emit changed();
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

void RopeEditor::setTargetLength(qint64 n) {
  if (n == target_) return;
  target_ = n;
  refreshList();
  if (!updating_) onEdited();
}

QString RopeEditor::errorFor(const QString& key) const {
  auto* l = errors_.value(key);
  return l && !l->isHidden() ? l->text() : QString();
}

void RopeEditor::rebuildForm() {
  updating_ = true;
  while (form_->rowCount() > 0) form_->removeRow(0);
  edits_.clear();
  errors_.clear();
  const int r = list_->currentRow();
  method_->setEnabled(r >= 0);
  if (r >= 0) {
    const RopeSetting& s = settings_[r];
    method_->setCurrentIndex(method_->findData(s.method));
    for (const QString& key : RopeSetting::parametersOf(s.method)) {
      auto* e = new QLineEdit(s.value(key), form_host_);
      e->setObjectName("rope_" + key);
      if (RopeSetting::requiredOf(s.method).contains(key)) e->setPlaceholderText(tr("required"));
      else e->setPlaceholderText(tr("checkpoint's / default"));
      auto* err = new QLabel(form_host_);
      err->setStyleSheet("color: #b00020");
      err->setWordWrap(true);
      err->hide();
      auto* box = new QVBoxLayout;
      box->setSpacing(0);
      box->addWidget(e);
      box->addWidget(err);
      form_->addRow(key, box);
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
  if (updating_ || r < 0 || r >= settings_.size()) return;
  RopeSetting& s = settings_[r];
  for (auto it = edits_.begin(); it != edits_.end(); ++it) s.set(it.key(), it.value()->text());
  for (auto* l : errors_) l->hide();
  for (const auto& issue : s.validate(target_))
    if (auto* l = errors_.value(issue.key)) {
      l->setText(l->isHidden() ? issue.message : l->text() + "\n" + issue.message);
      l->show();
    }
  refreshList();
  emit changed();
}

void RopeEditor::refreshList() {
  const int keep = list_->currentRow();
  const bool blocked = list_->blockSignals(true);
  while (list_->count() > settings_.size()) delete list_->takeItem(list_->count() - 1);
  while (list_->count() < settings_.size()) list_->addItem(QString());
  for (int i = 0; i < settings_.size(); ++i) {
    const auto& s = settings_[i];
    const auto issues = s.validate(target_);
    QString text = s.summary();
    if (!issues.isEmpty()) text = QString::fromUtf8("⚠ ") + text + tr("  — %1").arg(issues.front().message);
    else if (s.count() > 1) text += tr("  (%1 settings)").arg(s.count());
    list_->item(i)->setText(text);
    list_->item(i)->setForeground(issues.isEmpty() ? palette().text() : QBrush(QColor(176, 0, 32)));
  }
  list_->setCurrentRow(keep);
  list_->blockSignals(blocked);
  const QStringList p = problems();
  total_->setText(p.isEmpty() ? tr("%n RoPE setting(s) to compare", nullptr, count())
                              : tr("%n RoPE setting(s); fix the rows marked ⚠ first", nullptr, count()));
}

QStringList RopeEditor::expanded() const {
  QStringList out;
  for (const auto& s : settings_) {
    if (!s.isValid(target_)) continue;
    for (const QString& e : s.expand())
      if (!out.contains(e)) out << e;
  }
  return out;
}

QStringList RopeEditor::problems() const {
  QStringList p;
  for (int i = 0; i < settings_.size(); ++i)
    for (const auto& issue : settings_[i].validate(target_)) p << tr("RoPE setting %1: %2").arg(i + 1).arg(issue.message);
  if (settings_.isEmpty()) p << tr("Add at least one RoPE setting (the checkpoint's own counts).");
  return p;
}
