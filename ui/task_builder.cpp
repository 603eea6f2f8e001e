#include "task_builder.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include "run_presets.h"
#include "value_list.h"

namespace {
QStringList splitFiles(const QString& text) {
  QStringList out;
  for (const QString& part : text.split(';'))
    if (!part.trimmed().isEmpty()) out << part.trimmed();
  return out;
}
const QStringList kMultipleChoice{"hellaswag", "piqa", "arc_easy", "arc_challenge", "winogrande", "boolq", "copa", "sciq", "social_iqa"};
}

QStringList TaskBuilder::taskNames() {
  return QStringList{"ppl_vs_length", "passkey", "longppl", "wikitext", "lambada_openai"} + kMultipleChoice +
         QStringList{"ruler", "recall", "compare", "charlevel", "throughput"};
}

QVector<TaskBuilder::Field> TaskBuilder::fieldsOf(const QString& t) {
  const Field data{"data", tr("data file"), "file", "", tr("JSON/JSONL in the Hugging Face layout, or a text file")};
  if (t == "ppl_vs_length")
    return {data,
            {"lengths", tr("context lengths"), "ints", "256, 512, 1024, 2048", tr("list or range: 256:2048:256, 512..8192 x2")},
            {"protocol", tr("protocol"), "choice:chunks|sliding", "chunks", tr("non-overlapping chunks, or sliding windows")},
            {"stride", tr("stride (sliding)"), "int", "", tr("default L/2")},
            {"max_chunks", tr("max windows per length"), "int", "", tr("empty: all")}};
  if (t == "passkey")
    return {{"lengths", tr("lengths (tokens)"), "ints", "256, 512, 1024", tr("list or range")},
            {"depths", tr("depths (0–1)"), "numbers", "0, 0.25, 0.5, 0.75, 1", tr("where the key sits: 0 = start")},
            {"trials", tr("trials per cell"), "int", "5", {}},
            {"filler_file", tr("filler text"), "file", "", tr("empty: the built-in filler")}};
  if (t == "longppl")
    return {data,
            {"evaluator", tr("evaluator model"), "folder", "", tr("empty: the model itself")},
            {"length", tr("document length (tokens)"), "int", "", tr("empty: the max length")}};
  if (t == "ruler")
    return {{"tasks", tr("RULER tasks"), "words", "niah_single_1, niah_single_2, niah_single_3, niah_multikey_1",
             tr("niah_single_1..3, niah_multikey_1..3, niah_multivalue, niah_multiquery (the model-card four by default)")},
            {"lengths", tr("lengths (tokens)"), "ints", "4096", tr("prompt + answer budget; list or range")},
            {"samples", tr("samples per task and length"), "int", "100", tr("RULER uses 500")},
            {"haystack_file", tr("essay haystack"), "file", "", tr("a long text for the essay tasks (S2, S3, MK1, MV, MQ)")},
            {"max_new_tokens", tr("new tokens"), "int", "128", {}}};
  if (t == "recall")
    return {{"data", tr("data files (one per set)"), "files", "",
             tr("JSONL: {text, value} (lm-eval's based-* sets) or {context, question, answers}; separate files with ;")},
            {"max_new_tokens", tr("new tokens"), "int", "48", tr("greedy tokens per answer")},
            {"until", tr("stop at"), "choice:newline|nothing", "newline", tr("the answer ends at the first line break")}};
  if (t == "compare")
    return {data,
            {"base", tr("base model"), "folder", "", tr("empty: the model alone (loss by position); else KL, agreement, ΔNLL against it")},
            {"length", tr("window (tokens)"), "int", "", tr("empty: 2048 or the max length")},
            {"max_windows", tr("max windows"), "int", "", tr("empty: every window of the data")},
            {"buckets", tr("position buckets"), "int", "32", {}}};
  if (t == "throughput")
    return {{"batch", tr("batch sizes"), "ints", "1", {}}, {"seq", tr("sequence lengths"), "ints", "256", {}}, {"repeats", tr("repeats"), "int", "3", {}}};
  return {data};
}

TaskBuilder::TaskBuilder(QWidget* parent) : QWidget(parent), list_(new QListWidget(this)), forms_(new QStackedWidget(this)) {
  QSettings settings;
  for (const QString& t : taskNames()) {
    auto* item = new QListWidgetItem(t, list_);
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setCheckState(settings.value("tasks/enabled").toStringList().contains(t) ? Qt::Checked : Qt::Unchecked);
    forms_->addWidget(buildForm(t));
  }
  for (auto& [task, edits] : edits_.toStdMap())
    for (auto it = edits.begin(); it != edits.end(); ++it) {
      const QVariant v = settings.value(QString("tasks/%1/%2").arg(task, it.key()));
      if (v.isValid()) it.value()->setText(v.toString());
    }
  connect(list_, &QListWidget::currentRowChanged, forms_, &QStackedWidget::setCurrentIndex);
  connect(list_, &QListWidget::itemChanged, this, &TaskBuilder::changed);
  list_->setCurrentRow(0);

  auto* global = new QGroupBox(tr("For every task"), this);
  auto* gf = new QFormLayout(global);
  backend_ = new QComboBox(global);
  backend_->setObjectName("backend");
  backend_->addItem(tr("CPU"), "cpu");
  dtype_ = new QComboBox(global);
  dtype_->setObjectName("dtype");
  dtype_->addItem("fp32", "fp32");
  dtype_->addItem("bf16", "bf16");
  gf->addRow(tr("backend"), backend_);
  gf->addRow(tr("dtype"), dtype_);
  const QList<QPair<QString, QString>> globals{{"seed", tr("seed")}, {"max_length", tr("max length")}, {"limit", tr("limit (items per task)")}, {"batch_size", tr("batch size")}};
  for (const auto& [key, label] : globals) {
    auto* e = new QLineEdit(global);
    e->setObjectName("global_" + key);
    e->setPlaceholderText(key == "seed" ? "1234" : tr("default"));
    e->setText(settings.value("tasks/global/" + key).toString());
    connect(e, &QLineEdit::textChanged, this, &TaskBuilder::changed);
    global_edits_[key] = e;
    gf->addRow(label, e);
  }
  connect(backend_, &QComboBox::currentIndexChanged, this, &TaskBuilder::changed);
  connect(dtype_, &QComboBox::currentIndexChanged, this, &TaskBuilder::changed);

  auto* split = new QSplitter(this);
  split->addWidget(list_);
  split->addWidget(forms_);
  split->setStretchFactor(1, 1);
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(0, 0, 0, 0);
  lay->addWidget(split, 1);
  lay->addWidget(global);
}

QWidget* TaskBuilder::buildForm(const QString& task) {
  auto* page = new QWidget(this);
  auto* form = new QFormLayout(page);
  form->addRow(new QLabel(QString("<b>%1</b>").arg(task), page));
  for (const Field& f : fieldsOf(task)) {
    if (f.kind.startsWith("choice:")) {
      auto* c = new QComboBox(page);
      c->addItems(f.kind.mid(7).split('|'));
      c->setCurrentText(f.def);
      c->setObjectName(task + "_" + f.key);
      connect(c, &QComboBox::currentIndexChanged, this, &TaskBuilder::changed);
      choices_[task][f.key] = c;
      form->addRow(f.label, c);
      continue;
    }
    auto* e = new QLineEdit(f.def, page);
    e->setObjectName(task + "_" + f.key);
    e->setToolTip(f.help);
    e->setPlaceholderText(f.help);
    connect(e, &QLineEdit::textChanged, this, &TaskBuilder::changed);
    edits_[task][f.key] = e;
    if (f.kind == "file" || f.kind == "files" || f.kind == "folder") {
      auto* row = new QHBoxLayout;
      auto* browse = new QToolButton(page);
      browse->setText("…");
      connect(browse, &QToolButton::clicked, this, [this, e, f] {
        const QString p = f.kind == "file"    ? QFileDialog::getOpenFileName(this, f.label, e->text())
                          : f.kind == "files" ? QFileDialog::getOpenFileNames(this, f.label).join("; ")
                                              : QFileDialog::getExistingDirectory(this, f.label, e->text());
        if (!p.isEmpty()) e->setText(p);
      });
      row->addWidget(e, 1);
      row->addWidget(browse);
      form->addRow(f.label, row);
    } else {
      form->addRow(f.label, e);
    }
  }
  return page;
}

void TaskBuilder::setTaskEnabled(const QString& task, bool on) {
  const auto items = list_->findItems(task, Qt::MatchExactly);
  if (!items.isEmpty()) items.front()->setCheckState(on ? Qt::Checked : Qt::Unchecked);
}

bool TaskBuilder::taskEnabled(const QString& task) const {
  const auto items = list_->findItems(task, Qt::MatchExactly);
  return !items.isEmpty() && items.front()->checkState() == Qt::Checked;
}

QStringList TaskBuilder::enabledTasks() const {
  QStringList out;
  for (int i = 0; i < list_->count(); ++i)
    if (list_->item(i)->checkState() == Qt::Checked) out << list_->item(i)->text();
  return out;
}

void TaskBuilder::setField(const QString& task, const QString& key, const QString& text) {
  if (auto* e = edits_.value(task).value(key)) e->setText(text);
  else if (auto* c = choices_.value(task).value(key)) c->setCurrentText(text);
}

QString TaskBuilder::field(const QString& task, const QString& key) const {
  if (auto* e = edits_.value(task).value(key)) return e->text().trimmed();
  if (auto* c = choices_.value(task).value(key)) return c->currentText();
  return {};
}

void TaskBuilder::setGlobal(const QString& key, const QString& text) {
  if (key == "backend") backend_->setCurrentIndex(std::max(0, backend_->findData(text)));
  else if (key == "dtype") dtype_->setCurrentIndex(std::max(0, dtype_->findData(text)));
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
  for (const QString& t : taskNames()) setTaskEnabled(t, p.tasks.contains(t));
  for (auto it = p.fields.begin(); it != p.fields.end(); ++it) {
    const QJsonObject f = it.value().toObject();
    for (auto k = f.begin(); k != f.end(); ++k) setField(it.key(), k.key(), k.value().toString());
  }
  if (!p.tasks.isEmpty()) list_->setCurrentRow(taskNames().indexOf(p.tasks.front()));
}

QJsonArray TaskBuilder::tasks() const {
  QJsonArray out;
  for (const QString& t : enabledTasks()) {
    QJsonObject o{{"task", t}};
    for (const Field& f : fieldsOf(t)) {
      const QString text = field(t, f.key);
      if (text.isEmpty()) continue;
      if (f.kind == "files") {
        QJsonArray a;
        for (const QString& part : splitFiles(text)) a.append(part);
        o[f.key] = a;
      } else if (f.kind == "words") {
        QJsonArray a;
        for (const QString& w : text.split(',', Qt::SkipEmptyParts))
          if (!w.trimmed().isEmpty()) a.append(w.trimmed());
        o[f.key] = a;
      } else if (t == "recall" && f.key == "until") {
        o[f.key] = text == "newline" ? QJsonArray{"\n"} : QJsonArray{};
      } else if (f.kind == "ints") {
        const auto v = ValueList::parseIntegers(text);
        if (!v) continue;
        QJsonArray a;
        for (qint64 x : *v) a.append(x);
        o[f.key] = a;
      } else if (f.kind == "numbers") {
        const auto v = ValueList::parse(text);
        if (!v) continue;
        QJsonArray a;
        for (double x : *v) a.append(x);
        o[f.key] = a;
      } else if (f.kind == "int") {
        bool ok = false;
        const qint64 x = text.toLongLong(&ok);
        if (ok) o[f.key] = x;
      } else if (f.kind == "number") {
        bool ok = false;
        const double x = text.toDouble(&ok);
        if (ok) o[f.key] = x;
      } else {
        o[f.key] = text;
      }
    }
    out.append(o);
  }
  return out;
}

QJsonObject TaskBuilder::globals() const {
  QJsonObject g{{"backend", global("backend")}, {"dtype", global("dtype")}};
  for (const QString& k : {QString("seed"), QString("max_length"), QString("limit"), QString("batch_size")}) {
    bool ok = false;
    const qint64 v = global(k).toLongLong(&ok);
    if (ok) g[k] = v;
  }
  return g;
}

QStringList TaskBuilder::problems() const {
  QStringList p;
  for (const QString& t : enabledTasks()) {
    for (const Field& f : fieldsOf(t)) {
      const QString text = field(t, f.key);
      QString err;
      if (f.key == "data" && text.isEmpty()) p << tr("%1: choose a data file").arg(t);
      else if (f.kind == "file" && !text.isEmpty() && !QFileInfo(text).isFile()) p << tr("%1: %2 '%3' is not a file").arg(t, f.label, text);
      else if (f.kind == "files") {
        for (const QString& part : splitFiles(text))
          if (!QFileInfo(part).isFile()) p << tr("%1: %2: '%3' is not a file").arg(t, f.label, part);
      } else if (f.kind == "folder" && !text.isEmpty() && !QFileInfo(text).isDir()) p << tr("%1: %2 '%3' is not a folder").arg(t, f.label, text);
      else if (f.kind == "ints" && text.isEmpty()) p << tr("%1: %2 is empty").arg(t, f.label);
      else if (f.kind == "ints" && !ValueList::parseIntegers(text, &err)) p << tr("%1: %2: %3").arg(t, f.label, err);
      else if (f.kind == "numbers" && !ValueList::parse(text, &err)) p << tr("%1: %2: %3").arg(t, f.label, err);
      else if (f.kind == "int" && !text.isEmpty()) {
        bool ok = false;
        if (text.toLongLong(&ok) <= 0 || !ok) p << tr("%1: %2 must be a whole number > 0").arg(t, f.label);
      }
      if (t == "ruler" && f.key == "haystack_file" && text.isEmpty())
        for (const QString& w : field("ruler", "tasks").split(',', Qt::SkipEmptyParts))
          if (!QStringList{"niah_single_1", "niah_multikey_2", "niah_multikey_3"}.contains(w.trimmed())) {
            p << tr("ruler: %1 needs an essay haystack (a long text file)").arg(w.trimmed());
            break;
          }
      if (t == "passkey" && f.key == "depths" && !text.isEmpty())
        if (const auto v = ValueList::parse(text))
          for (double d : *v)
            if (d < 0 || d > 1) {
              p << tr("passkey: depths are fractions between 0 and 1 (got %1)").arg(d);
              break;
            }
    }
  }
  for (auto it = global_edits_.begin(); it != global_edits_.end(); ++it) {
    const QString text = it.value()->text().trimmed();
    bool ok = false;
    const qint64 v = text.toLongLong(&ok);
    if (!text.isEmpty() && (!ok || v < (it.key() == "seed" ? 0 : 1)))
      p << tr("%1 must be a whole number%2").arg(it.key(), it.key() == "seed" ? QString() : tr(" > 0"));
  }
  return p;
}

qint64 TaskBuilder::longestLength() const {
  qint64 best = 0;
  for (const QString& t : enabledTasks())
    for (const QString& key : {QString("lengths"), QString("length")})
      if (const auto v = ValueList::parseIntegers(field(t, key)))
        for (qint64 x : *v) best = std::max(best, x);
  bool ok = false;
  const qint64 ml = global("max_length").toLongLong(&ok);
  if (ok) best = std::max(best, ml);
  return best;
}

void TaskBuilder::saveSettings() const {
  QSettings s;
  s.setValue("tasks/enabled", enabledTasks());
  for (auto t = edits_.begin(); t != edits_.end(); ++t)
    for (auto it = t.value().begin(); it != t.value().end(); ++it) s.setValue(QString("tasks/%1/%2").arg(t.key(), it.key()), it.value()->text());
  for (auto it = global_edits_.begin(); it != global_edits_.end(); ++it) s.setValue("tasks/global/" + it.key(), it.value()->text());
}
