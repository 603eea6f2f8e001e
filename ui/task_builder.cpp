#include "task_builder.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include "run_presets.h"
#include "value_list.h"

namespace {
constexpr int kIdRole = Qt::UserRole;

QStringList splitFiles(const QString& text) {
  QStringList out;
  for (const QString& part : text.split(';'))
    if (!part.trimmed().isEmpty()) out << part.trimmed();
  return out;
}

QString tooltipOf(const TaskSettingInfo& s) {
  QString t = s.help;
  if (s.min && s.max) t += QObject::tr(" (%1 to %2)").arg(ValueList::numberText(*s.min), ValueList::numberText(*s.max));
  else if (s.min) t += QObject::tr(" (at least %1)").arg(ValueList::numberText(*s.min));
  else if (s.max) t += QObject::tr(" (at most %1)").arg(ValueList::numberText(*s.max));
  if (s.type == "int_list" || s.type == "number_list")
    t += QObject::tr(" — a list (256, 512) or a range (256:2048:256, 512..8192 x2)");
  if (s.type == "word_list") t += QObject::tr(" — separated by commas");
  if (s.type == "file_list") t += QObject::tr(" — separated by ;");
  return t;
}
}  // namespace

TaskBuilder::TaskBuilder(QWidget* parent)
    : QWidget(parent), list_(new QListWidget(this)), forms_(new QStackedWidget(this)), status_(new QLabel(this)) {
  list_->setObjectName("task_list");
  status_->setObjectName("task_status");
  status_->setWordWrap(true);
  status_->setText(tr("Reading the task list from the engine…"));
  connect(list_, &QListWidget::currentItemChanged, this, [this](QListWidgetItem* item) {
    if (!item) return;
    if (const Instance* inst = find(item->data(kIdRole).toString())) forms_->setCurrentWidget(inst->form);
  });
  connect(list_, &QListWidget::itemChanged, this, &TaskBuilder::changed);

  auto* global = new QGroupBox(tr("For every task"), this);
  global_form_ = new QFormLayout(global);
  backend_ = new QComboBox(global);
  backend_->setObjectName("backend");
  backend_->addItem(tr("CPU"), "cpu");
  dtype_ = new QComboBox(global);
  dtype_->setObjectName("dtype");
  dtype_->addItem("fp32", "fp32");
  dtype_->addItem("bf16", "bf16");
  global_form_->addRow(tr("backend"), backend_);
  global_form_->addRow(tr("dtype"), dtype_);
  connect(backend_, &QComboBox::currentIndexChanged, this, &TaskBuilder::changed);
  connect(dtype_, &QComboBox::currentIndexChanged, this, &TaskBuilder::changed);

  auto* split = new QSplitter(this);
  split->addWidget(list_);
  split->addWidget(forms_);
  split->setStretchFactor(1, 1);
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(0, 0, 0, 0);
  lay->addWidget(status_);
  lay->addWidget(split, 1);
  lay->addWidget(global);
}

TaskBuilder::~TaskBuilder() = default;

TaskBuilder::Instance* TaskBuilder::find(const QString& id) {
  for (auto& i : instances_)
    if (i->id == id) return i.get();
  return nullptr;
}

const TaskBuilder::Instance* TaskBuilder::find(const QString& id) const {
  for (const auto& i : instances_)
    if (i->id == id) return i.get();
  return nullptr;
}

void TaskBuilder::setCatalog(const TaskCatalog& catalog) {
  if (catalog_) return;  // the forms are built once; a later answer changes nothing
  catalog_ = catalog;
  catalog_error_.clear();
  status_->hide();
  QSettings settings;
  QSignalBlocker block(list_);
  // groups in the catalog's order, each with a header row; tasks of a group it does not list come last
  QStringList placed;
  auto addGroup = [&](const QString& group, const QString& title) {
    bool header = false;
    for (const TaskInfo& t : catalog_->tasks()) {
      if (t.group != group || placed.contains(t.name)) continue;
      if (!header) {
        auto* h = new QListWidgetItem(title, list_);
        h->setFlags(Qt::ItemIsEnabled);
        QFont f = h->font();
        f.setBold(true);
        h->setFont(f);
        header = true;
      }
      createInstance(t.name, t.name);
      placed << t.name;
    }
  };
  for (const auto& [name, title] : catalog_->groups()) addGroup(name, title);
  for (const TaskInfo& t : catalog_->tasks())
    if (!placed.contains(t.name)) addGroup(t.group, t.group);
  for (const QString& id : settings.value("tasks/instances").toStringList()) {
    const QString task = id.section('#', 0, 0);
    if (catalog_->task(task) && !find(id) && id.contains('#')) createInstance(task, id);
  }
  const QStringList enabled = settings.value("tasks/enabled").toStringList();
  for (auto& inst : instances_) {
    inst->item->setCheckState(enabled.contains(inst->id) ? Qt::Checked : Qt::Unchecked);
    for (auto it = inst->editors.begin(); it != inst->editors.end(); ++it) {
      const QVariant v = settings.value(QString("tasks/%1/%2").arg(inst->id, it.key()));
      if (v.isValid()) setField(inst->id, it.key(), v.toString());
    }
    refreshItemText(*inst);
  }
  buildGlobals();
  for (int r = 0; r < list_->count(); ++r)
    if (find(list_->item(r)->data(kIdRole).toString())) {
      list_->setCurrentRow(r);
      if (const Instance* inst = find(list_->item(r)->data(kIdRole).toString())) forms_->setCurrentWidget(inst->form);
      break;
    }
  const auto pending = std::move(pending_);
  pending_.clear();
  for (const auto& f : pending) f();
  emit catalogReady();
  emit changed();
}

void TaskBuilder::setCatalogError(const QString& message) {
  if (catalog_) return;
  catalog_error_ = message;
  status_->setText(tr("The task list could not be read from the engine: %1").arg(message));
  status_->setStyleSheet("color: #b00020");
  emit changed();
}

void TaskBuilder::buildGlobals() {
  QSettings settings;
  for (const TaskSettingInfo& s : catalog_->common()) {
    if (s.key == "alias") continue;  // a name per task instance, in each form
    auto* e = new QLineEdit(this);
    e->setObjectName("global_" + s.key);
    e->setPlaceholderText(TaskCatalog::hintOf(s));
    e->setToolTip(tooltipOf(s));
    e->setText(settings.value("tasks/global/" + s.key).toString());
    connect(e, &QLineEdit::textChanged, this, &TaskBuilder::changed);
    global_edits_[s.key] = e;
    global_form_->addRow(s.label, e);
  }
}

TaskBuilder::Instance& TaskBuilder::createInstance(const QString& task, const QString& id) {
  auto inst = std::make_unique<Instance>();
  inst->id = id;
  inst->task = task;
  int row = list_->count();
  for (int r = 0; r < list_->count(); ++r)
    if (const Instance* other = find(list_->item(r)->data(kIdRole).toString()); other && other->task == task) row = r + 1;
  inst->item = new QListWidgetItem;
  inst->item->setData(kIdRole, id);
  inst->item->setFlags(inst->item->flags() | Qt::ItemIsUserCheckable);
  inst->item->setCheckState(Qt::Unchecked);
  inst->item->setText(task);
  if (const TaskInfo* info = catalog_->task(task)) inst->item->setToolTip(info->description);
  list_->insertItem(row, inst->item);
  Instance& ref = *inst;
  instances_.push_back(std::move(inst));
  ref.form = buildForm(ref);
  forms_->addWidget(ref.form);
  return ref;
}

const TaskSettingInfo* TaskBuilder::settingOf(const Instance& inst, const QString& key) const {
  const TaskInfo* info = catalog_ ? catalog_->task(inst.task) : nullptr;
  if (const TaskSettingInfo* s = info ? info->setting(key) : nullptr) return s;
  if (catalog_)
    for (const TaskSettingInfo& c : catalog_->common())
      if (c.key == key) return &c;
  return nullptr;
}

QWidget* TaskBuilder::buildForm(Instance& inst) {
  const TaskInfo* info = catalog_->task(inst.task);
  auto* page = new QWidget(this);
  auto* form = new QFormLayout(page);
  auto* title = new QLabel(QString("<b>%1</b> — %2").arg(inst.task, info ? info->description.toHtmlEscaped() : QString()), page);
  title->setWordWrap(true);
  form->addRow(title);
  auto* buttons = new QHBoxLayout;
  auto* another = new QPushButton(tr("Add another"), page);
  another->setObjectName(inst.id + "_add");
  another->setToolTip(tr("Another %1 with its own settings and alias (e.g. the same task on other data)").arg(inst.task));
  const QString task = inst.task;
  connect(another, &QPushButton::clicked, this, [this, task] {
    const QString id = addInstance(task);
    if (const Instance* i = find(id)) list_->setCurrentItem(i->item);
  });
  buttons->addWidget(another);
  if (inst.id != inst.task) {
    auto* remove = new QPushButton(tr("Remove"), page);
    remove->setObjectName(inst.id + "_remove");
    const QString id = inst.id;
    connect(remove, &QPushButton::clicked, this, [this, id] { removeInstance(id); });
    buttons->addWidget(remove);
  }
  buttons->addStretch();
  form->addRow(buttons);
  if (info)
    for (const TaskSettingInfo& s : info->settings)
      if (!s.common && s.synonym_of.isEmpty()) addEditor(inst, s, page, form);
  if (const TaskSettingInfo* alias = settingOf(inst, "alias")) addEditor(inst, *alias, page, form);
  return page;
}

void TaskBuilder::addEditor(Instance& inst, const TaskSettingInfo& s, QWidget* page, QFormLayout* form) {
  const QString name = inst.id + "_" + s.key;
  QWidget* editor = nullptr;
  QLayout* row = nullptr;
  if (s.type == "bool") {
    auto* c = new QCheckBox(page);
    c->setChecked(s.def.toBool());
    connect(c, &QCheckBox::toggled, this, &TaskBuilder::changed);
    editor = c;
  } else if (s.type == "choice") {
    auto* c = new QComboBox(page);
    if (s.def.isNull()) c->addItem(QString());
    c->addItems(s.choices);
    c->setCurrentText(TaskCatalog::textOf(s, s.def));
    connect(c, &QComboBox::currentIndexChanged, this, &TaskBuilder::changed);
    editor = c;
  } else {
    auto* e = new QLineEdit(TaskCatalog::textOf(s, s.def), page);
    e->setCursorPosition(0);  // long lists show their start
    e->setPlaceholderText(TaskCatalog::hintOf(s));
    connect(e, &QLineEdit::textChanged, this, &TaskBuilder::changed);
    if (s.key == "alias") {
      const QString id = inst.id;
      connect(e, &QLineEdit::textChanged, this, [this, id] {
        if (Instance* i = find(id)) refreshItemText(*i);
      });
    }
    editor = e;
    if (s.path) {
      auto* h = new QHBoxLayout;
      auto* browse = new QToolButton(page);
      browse->setText("…");
      const TaskSettingInfo setting = s;
      connect(browse, &QToolButton::clicked, this, [this, e, setting] {
        const QString p = setting.type == "file"        ? QFileDialog::getOpenFileName(this, setting.label, e->text())
                          : setting.type == "file_list" ? QFileDialog::getOpenFileNames(this, setting.label).join("; ")
                                                        : QFileDialog::getExistingDirectory(this, setting.label, e->text());
        if (!p.isEmpty()) e->setText(p);
      });
      h->addWidget(e, 1);
      h->addWidget(browse);
      row = h;
    }
  }
  editor->setObjectName(name);
  editor->setToolTip(tooltipOf(s));
  inst.editors[s.key] = editor;
  const QString label = s.required ? s.label + " *" : s.label;
  if (row) form->addRow(label, row);
  else form->addRow(label, editor);
}

void TaskBuilder::refreshItemText(Instance& inst) {
  const QString alias = field(inst.id, "alias");
  inst.item->setText(alias.isEmpty() || alias == inst.task ? inst.task : QString("%1 — %2").arg(inst.task, alias));
}

QString TaskBuilder::resultName(const Instance& inst) const {
  const QString alias = field(inst.id, "alias");
  return alias.isEmpty() ? inst.task : alias;
}

QStringList TaskBuilder::instances() const {
  QStringList out;
  for (int r = 0; r < list_->count(); ++r)
    if (find(list_->item(r)->data(kIdRole).toString())) out << list_->item(r)->data(kIdRole).toString();
  return out;
}

QString TaskBuilder::taskOf(const QString& instance) const {
  const Instance* i = find(instance);
  return i ? i->task : QString();
}

QString TaskBuilder::addInstance(const QString& task, const QString& alias) {
  if (!catalog_ || !catalog_->task(task)) return {};
  int n = 2;
  while (find(QString("%1#%2").arg(task).arg(n))) ++n;
  const QString id = QString("%1#%2").arg(task).arg(n);
  Instance& inst = createInstance(task, id);
  setField(id, "alias", alias.isEmpty() ? QString("%1:%2").arg(task).arg(n) : alias);
  inst.item->setCheckState(Qt::Checked);
  refreshItemText(inst);
  emit changed();
  return id;
}

void TaskBuilder::removeInstance(const QString& instance) {
  for (auto it = instances_.begin(); it != instances_.end(); ++it) {
    if ((*it)->id != instance || (*it)->id == (*it)->task) continue;
    forms_->removeWidget((*it)->form);
    (*it)->form->deleteLater();
    delete (*it)->item;
    instances_.erase(it);
    emit changed();
    return;
  }
}

void TaskBuilder::setTaskEnabled(const QString& instance, bool on) {
  if (!catalog_) return later([=, this] { setTaskEnabled(instance, on); });
  if (Instance* i = find(instance)) i->item->setCheckState(on ? Qt::Checked : Qt::Unchecked);
}

bool TaskBuilder::taskEnabled(const QString& instance) const {
  const Instance* i = find(instance);
  return i && i->item->checkState() == Qt::Checked;
}

QStringList TaskBuilder::enabledTasks() const {
  QStringList out;
  for (const QString& id : instances())
    if (taskEnabled(id)) out << id;
  return out;
}

void TaskBuilder::setField(const QString& instance, const QString& key, const QString& text) {
  if (!catalog_) return later([=, this] { setField(instance, key, text); });
  Instance* i = find(instance);
  QWidget* w = i ? i->editors.value(key) : nullptr;
  if (auto* e = qobject_cast<QLineEdit*>(w)) {
    e->setText(text);
    e->setCursorPosition(0);
  } else if (auto* c = qobject_cast<QComboBox*>(w)) c->setCurrentText(text);
  else if (auto* b = qobject_cast<QCheckBox*>(w)) {
    const QString t = text.trimmed().toLower();
    b->setChecked(t == "true" || t == "yes" || t == "1");
  }
}

QString TaskBuilder::field(const QString& instance, const QString& key) const {
  const Instance* i = find(instance);
  QWidget* w = i ? i->editors.value(key) : nullptr;
  if (auto* e = qobject_cast<QLineEdit*>(w)) return e->text().trimmed();
  if (auto* c = qobject_cast<QComboBox*>(w)) return c->currentText();
  if (auto* b = qobject_cast<QCheckBox*>(w)) return b->isChecked() ? "true" : "false";
  return {};
}

void TaskBuilder::setGlobal(const QString& key, const QString& text) {
  if (key == "backend") backend_->setCurrentIndex(std::max(0, backend_->findData(text)));
  else if (key == "dtype") dtype_->setCurrentIndex(std::max(0, dtype_->findData(text)));
  else if (!catalog_) later([=, this] { setGlobal(key, text); });
  else if (auto* e = global_edits_.value(key)) e->setText(text);
}

QString TaskBuilder::global(const QString& key) const {
  if (key == "backend") return backend_->currentData().toString();
  if (key == "dtype") return dtype_->currentData().toString();
  if (auto* e = global_edits_.value(key)) return e->text().trimmed();
  return {};
}

void TaskBuilder::setGpuCount(int n) {
  const int i = backend_->findData("cuda");
  if (n > 0 && i < 0) backend_->addItem(tr("CUDA (%n GPU(s), one worker each)", nullptr, n), "cuda");
  if (n > 0 && i >= 0) backend_->setItemText(i, tr("CUDA (%n GPU(s), one worker each)", nullptr, n));
  if (n == 0 && i >= 0) backend_->removeItem(i);
}

void TaskBuilder::applyPreset(const RunPreset& p) {
  if (!catalog_) return later([=, this] { applyPreset(p); });
  // a preset is a whole task choice: instances added before go, every entry gets its own (Fig. 2: six corpora)
  for (const QString& id : instances())
    if (find(id) && find(id)->id != find(id)->task) removeInstance(id);
  for (const QString& id : instances()) setTaskEnabled(id, false);
  QJsonArray entries = p.entries;
  if (entries.isEmpty())
    for (const QString& t : p.tasks) {
      QJsonObject e = p.fields[t].toObject();
      e["task"] = t;
      entries.append(e);
    }
  QStringList seen;
  QString first;
  for (const auto& v : entries) {
    const QJsonObject e = v.toObject();
    const QString task = e["task"].toString();
    QString id = task;
    if (seen.contains(task)) id = addInstance(task, e["alias"].toString());
    else if (e.contains("alias")) setField(id, "alias", e["alias"].toString());
    if (id.isEmpty() || !find(id)) continue;  // a task this engine does not know
    seen << task;
    setTaskEnabled(id, true);
    for (auto k = e.begin(); k != e.end(); ++k)
      if (k.key() != "task" && k.key() != "alias") setField(id, k.key(), k.value().toString());
    if (first.isEmpty()) first = id;
  }
  if (const Instance* f = find(first)) list_->setCurrentItem(f->item);
}

QJsonArray TaskBuilder::tasks() const {
  QJsonArray out;
  for (const QString& id : enabledTasks()) {
    const Instance* inst = find(id);
    QJsonObject o{{"task", inst->task}};
    for (auto it = inst->editors.begin(); it != inst->editors.end(); ++it) {
      const TaskSettingInfo* s = settingOf(*inst, it.key());
      if (!s) continue;
      const QJsonValue v = TaskCatalog::valueOf(*s, field(id, it.key()));
      if (!v.isUndefined()) o[it.key()] = v;
    }
    out.append(o);
  }
  return out;
}

QJsonObject TaskBuilder::globals() const {
  QJsonObject g{{"backend", global("backend")}, {"dtype", global("dtype")}};
  if (!catalog_) return g;
  for (const TaskSettingInfo& s : catalog_->common()) {
    const QJsonValue v = TaskCatalog::valueOf(s, global(s.key));
    if (!v.isUndefined() && global_edits_.contains(s.key)) g[s.key] = v;
  }
  return g;
}

bool TaskBuilder::required(const Instance& inst, const TaskSettingInfo& s) const {
  if (s.required) return true;
  if (s.required_if_key.isEmpty()) return false;
  const TaskSettingInfo* other = settingOf(inst, s.required_if_key);
  if (!other) return false;
  QJsonValue v = TaskCatalog::valueOf(*other, field(inst.id, other->key));
  if (v.isUndefined()) v = other->def;
  const QJsonArray values = v.isArray() ? v.toArray() : QJsonArray{v};
  for (const QJsonValue& x : values)
    if (s.required_if_any.contains(x.toString())) return true;
  return false;
}

QStringList TaskBuilder::problems() const {
  QStringList p;
  if (!catalog_) {
    p << (catalog_error_.isEmpty() ? tr("the task list has not come from the engine yet")
                                   : tr("the task list could not be read from the engine: %1").arg(catalog_error_));
    return p;
  }
  QMap<QString, QString> names;  // name in the results → the instance that has it
  for (const QString& id : enabledTasks()) {
    const Instance& inst = *find(id);
    const QString who = resultName(inst);
    if (names.contains(who))
      p << tr("two ticked tasks are named '%1' in the results: give each instance of %2 its own alias").arg(who, inst.task);
    names[who] = id;
    for (auto it = inst.editors.begin(); it != inst.editors.end(); ++it) {
      const TaskSettingInfo* s = settingOf(inst, it.key());
      if (!s) continue;
      const QString text = field(id, s->key);
      QString err;
      if (text.isEmpty()) {
        if (required(inst, *s))
          p << (s->path ? tr("%1: choose the %2").arg(who, s->label) : tr("%1: %2 is required").arg(who, s->label));
        continue;
      }
      if (TaskCatalog::valueOf(*s, text, &err).isUndefined() && !err.isEmpty()) {
        p << tr("%1: %2: %3").arg(who, s->label, err);
        continue;
      }
      if (s->type == "file" && !QFileInfo(text).isFile()) p << tr("%1: %2 '%3' is not a file").arg(who, s->label, text);
      if (s->type == "file_list")
        for (const QString& part : splitFiles(text))
          if (!QFileInfo(part).isFile()) p << tr("%1: %2: '%3' is not a file").arg(who, s->label, part);
      if (s->type == "folder" && !QFileInfo(text).isDir()) p << tr("%1: %2 '%3' is not a folder").arg(who, s->label, text);
    }
  }
  for (const TaskSettingInfo& s : catalog_->common()) {
    QString err;
    if (global_edits_.contains(s.key) && TaskCatalog::valueOf(s, global(s.key), &err).isUndefined() && !err.isEmpty())
      p << tr("%1 %2").arg(s.label, err);
  }
  return p;
}

qint64 TaskBuilder::longestLength() const {
  qint64 best = 0;
  for (const QString& id : enabledTasks())
    for (const QString& key : {QString("lengths"), QString("length")})
      if (const auto v = ValueList::parseIntegers(field(id, key)))
        for (qint64 x : *v) best = std::max(best, x);
  bool ok = false;
  const qint64 ml = global("max_length").toLongLong(&ok);
  if (ok) best = std::max(best, ml);
  return best;
}

void TaskBuilder::saveSettings() const {
  if (!catalog_) return;  // nothing was shown: what was saved last time stays
  QSettings s;
  s.remove("tasks");
  s.setValue("tasks/enabled", enabledTasks());
  QStringList added;
  for (const QString& id : instances())
    if (id != taskOf(id)) added << id;
  s.setValue("tasks/instances", added);
  for (const auto& inst : instances_)
    for (auto it = inst->editors.begin(); it != inst->editors.end(); ++it)
      s.setValue(QString("tasks/%1/%2").arg(inst->id, it.key()), field(inst->id, it.key()));
  for (auto it = global_edits_.begin(); it != global_edits_.end(); ++it) s.setValue("tasks/global/" + it.key(), it.value()->text());
}
