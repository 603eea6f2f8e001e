#include "main_window.h"

#include <QAction>
#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProcess>
#include <QProcessEnvironment>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollBar>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardItemModel>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

#include <memory>

#include "about_box.h"
#include "analysis_report.h"
#include "analysis_view.h"
#include "comparison_table_model.h"
#include "engine_client.h"
#include "figure_export_dialog.h"
#include "figure_exporter.h"
#include "model_library.h"
#include "passkey_heatmap_view.h"
#include "token_comparison_view.h"
#include "ppl_plot_view.h"
#include "progress_delegate.h"
#include "report_exporter.h"
#include "result_set.h"
#include "rope_editor.h"
#include "run_details_view.h"
#include "run_presets.h"
#include "launch_check.h"
#include "run_queue.h"
#include "run_spec_builder.h"
#include "run_spec_reader.h"
#include "table_exporter.h"
#include "table_roles.h"
#include "task_builder.h"
#include "tokenizer_delegate.h"
#include "worker_process.h"

namespace {
WorkbenchOptions withCli(const QString& cli) {
  WorkbenchOptions o;
  o.cli = cli;
  o.restore_library = false;
  o.load_history = false;
  return o;
}
}  // namespace

MainWindow::MainWindow(const QString& cli_path, QWidget* parent) : MainWindow(withCli(cli_path), parent) {}

MainWindow::MainWindow(const WorkbenchOptions& options, QWidget* parent)
    : QMainWindow(parent), options_(options), engine_(new EngineClient(options.cli, this)), library_(new ModelLibrary(this)),
      results_(new ResultSet(this)), queue_(new RunQueue(options.cli, options.store, this)),
      check_(new LaunchCheck(options.cli, this)),
      comparison_(new ComparisonTableModel(results_, this)), comparison_sorted_(new QSortFilterProxyModel(this)),
      table_(new QTableView(this)) {
  setWindowTitle(tr("lmscope workbench"));
  setAcceptDrops(true);
  comparison_sorted_->setSourceModel(comparison_);
  comparison_sorted_->setSortRole(TableRole::Value);
  comparison_sorted_->setProperty("lmscope_caption", tr("Results per model and RoPE setting (the best complete value of each column in bold)"));
  buildUi();

  connect(engine_, &EngineClient::inspected, this, [this](const QString& folder, const QJsonObject& info) {
    library_->setInfo(folder, info);
    statusBar()->showMessage(tr("%1 loads").arg(folder), 5000);
  });
  connect(engine_, &EngineClient::failed, this, [this](const QString& folder, const QString& message) {
    library_->setError(folder, message);
    statusBar()->showMessage(tr("%1 does not load: %2").arg(folder, message));
  });
  connect(engine_, &EngineClient::taskSchema, this, [this](const QJsonObject& schema) {
    QString error;
    if (const auto catalog = TaskCatalog::fromJson(schema, &error)) tasks_->setCatalog(*catalog);
    else tasks_->setCatalogError(error);
  });
  connect(engine_, &EngineClient::taskSchemaFailed, tasks_, &TaskBuilder::setCatalogError);
  connect(engine_, &EngineClient::devicesFound, this, [this](int gpus, const QString&) {
    queue_->setGpuCount(gpus);
    tasks_->setGpuCount(gpus);
  });
  connect(queue_, &RunQueue::resultEvent, results_, &ResultSet::applyEvent);
  connect(check_, &LaunchCheck::changed, this, &MainWindow::updateLaunchSummary);
  connect(queue_, &RunQueue::jobFinished, this, [this](int row) {
    const RunJob& j = queue_->jobs()[row];
    if (j.state == RunJob::State::Failed) statusBar()->showMessage(tr("%1 failed: %2").arg(j.title, j.message));
    else statusBar()->showMessage(tr("%1: %2").arg(j.title, j.message), 8000);
  });
  connect(queue_, &RunQueue::jobFinished, this, [this] {
    // when the queue is idle, fetch provenance (weights fingerprint, device, engine version) of what finished
    if (!queue_->hasActiveWork() && !closing_) loadHistory(false);
  });
  connect(queue_, &RunQueue::jobChanged, this, [this](int row) {
    if (queue_view_->currentIndex().row() == row) details_->showJob(queue_->jobs()[row], results_->runs());
  });
  // provenance arrives with the store's history once the queue is idle: the details of the job shown gain it
  connect(results_, &ResultSet::changed, this, [this] {
    const int row = queue_view_->currentIndex().row();
    if (row >= 0 && row < queue_->jobs().size() && !queue_->jobs()[row].active() && details_->showingJob())
      details_->showJob(queue_->jobs()[row], results_->runs());
  });
  // new jobs come into view
  connect(queue_, &QAbstractItemModel::rowsInserted, this, [this](const QModelIndex&, int, int last) {
    // once the view has laid the rows out (its scroll range follows the insertion later in the event loop)
    QTimer::singleShot(0, queue_view_, [this, last] {
      if (last < queue_->rowCount()) queue_view_->scrollTo(queue_->index(last, 0));
    });
  });
  connect(library_, &QAbstractItemModel::dataChanged, this, &MainWindow::updateLaunchSummary);
  connect(library_, &QAbstractItemModel::rowsInserted, this, &MainWindow::updateLaunchSummary);
  connect(library_, &QAbstractItemModel::rowsRemoved, this, &MainWindow::updateLaunchSummary);
  connect(library_, &QAbstractItemModel::dataChanged, this, &MainWindow::updateFactorCount);
  connect(library_, &QAbstractItemModel::rowsRemoved, this, &MainWindow::updateFactorCount);
  connect(tasks_, &TaskBuilder::changed, this, [this] {
    rope_->setTargetLength(tasks_->longestLength());
    updateLaunchSummary();
  });
  connect(rope_, &RopeEditor::changed, this, &MainWindow::updateLaunchSummary);

  engine_->tasks();
  engine_->devices();
  if (options_.restore_library) {
    QSettings s;
    const QStringList folders = s.value("library/folders").toStringList();
    const QStringList tokenizers = s.value("library/tokenizers").toStringList();
    const QStringList unused = s.value("library/unused").toStringList();
    for (int i = 0; i < folders.size(); ++i) {
      addModelFolder(folders[i]);
      const int row = library_->rowCount() - 1;
      if (i < tokenizers.size()) library_->setTokenizer(row, tokenizers[i] == "bytes" ? "bytes" : "");
      if (unused.contains(folders[i])) library_->setUse(row, false);
    }
    rope_->restoreSettings();
  }
  rope_->setTargetLength(tasks_->longestLength());
  updateLaunchSummary();
  if (options_.load_history) loadHistory();
  statusBar()->showMessage(tr("Add a Hugging Face checkpoint folder (File ▸ Add model folder, or drop it here)."));
  resize(1400, 860);
  // the window's size, place and docks as the user left them (not in tests and the screenshot mode)
  if (options_.restore_library) {
    QSettings s;
    if (s.contains("window/geometry")) restoreGeometry(s.value("window/geometry").toByteArray());
    if (s.contains("window/state")) restoreState(s.value("window/state").toByteArray());
  }
}

MainWindow::~MainWindow() = default;

QAbstractItemModel* MainWindow::comparisonSorted() const { return comparison_sorted_; }

void MainWindow::buildUi() {
  // --- left: what to run ---
  table_->setModel(library_);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->hide();
  table_->setItemDelegateForColumn(ModelLibrary::Tokenizer, new TokenizerDelegate(table_));
  table_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::SelectedClicked);
  auto* models_page = new QWidget(this);
  auto* ml = new QVBoxLayout(models_page);
  auto* mhint = new QLabel(tr("Tick the models to compare; double-click a tokenizer to switch between the folder's own and bytes. "
                              "Drop checkpoint folders here."), models_page);
  mhint->setWordWrap(true);
  auto* mbuttons = new QHBoxLayout;
  auto* add_btn = new QPushButton(tr("Add folder…"), models_page);
  auto* remove_btn = new QPushButton(tr("Remove"), models_page);
  mbuttons->addWidget(add_btn);
  mbuttons->addWidget(remove_btn);
  mbuttons->addStretch();
  ml->addWidget(mhint);
  ml->addWidget(table_, 1);
  ml->addLayout(mbuttons);
  connect(add_btn, &QPushButton::clicked, this, &MainWindow::chooseModelFolder);
  connect(remove_btn, &QPushButton::clicked, this, [this] {
    if (table_->currentIndex().isValid()) library_->removeRow(table_->currentIndex().row());
  });

  tasks_ = new TaskBuilder(this);
  rope_ = new RopeEditor(this);
  setup_tabs_ = new QTabWidget(this);
  setup_tabs_->addTab(models_page, tr("Models"));
  setup_tabs_->addTab(tasks_, tr("Tasks"));
  setup_tabs_->addTab(rope_, tr("RoPE"));

  auto* presets = new QComboBox(this);
  presets->setObjectName("presets");
  presets->addItem(tr("Preset…"));
  for (const auto& p : RunPreset::all()) {
    presets->addItem(p.name);
    presets->setItemData(presets->count() - 1, p.description, Qt::ToolTipRole);
  }
  connect(presets, &QComboBox::activated, this, [this, presets](int i) {
    if (i > 0) applyPreset(presets->itemText(i));
    presets->setCurrentIndex(0);
  });
  summary_ = new QLabel(this);
  summary_->setObjectName("launch_summary");
  problems_ = new QLabel(this);
  problems_->setObjectName("launch_problems");
  problems_->setWordWrap(true);
  problems_->setStyleSheet("color: #b00020");
  warnings_ = new QLabel(this);
  warnings_->setObjectName("launch_warnings");
  warnings_->setWordWrap(true);
  warnings_->setStyleSheet("color: #8a5a00");
  warnings_->hide();
  data_folder_label_ = new QLabel(this);
  data_folder_label_->setObjectName("data_folder");
  data_folder_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* data_btn = new QPushButton(tr("Data folder…"), this);
  data_btn->setToolTip(tr("Where presets find their data files (WikiText, LAMBADA, the zero-shot sets, long documents); remembered"));
  connect(data_btn, &QPushButton::clicked, this, &MainWindow::chooseDataFolder);
  launch_ = new QPushButton(tr("Launch"), this);
  launch_->setObjectName("launch");
  launch_->setDefault(true);
  connect(launch_, &QPushButton::clicked, this, [this] { launch(); });
  auto* left = new QWidget(this);
  auto* ll = new QVBoxLayout(left);
  ll->addWidget(setup_tabs_, 1);
  auto* lrow = new QHBoxLayout;
  lrow->addWidget(presets);
  lrow->addWidget(summary_, 1);
  lrow->addWidget(launch_);
  ll->addLayout(lrow);
  auto* drow = new QHBoxLayout;
  drow->addWidget(data_btn);
  drow->addWidget(data_folder_label_, 1);
  ll->addLayout(drow);
  ll->addWidget(problems_);
  ll->addWidget(warnings_);

  // --- right: what came out ---
  ppl_view_ = new PplPlotView(results_, this);
  passkey_view_ = new PasskeyHeatmapView(results_, this);
  compare_view_ = new TokenComparisonView(results_, this);
  auto* cmp = new QTableView(this);
  cmp->setObjectName("comparison_table");
  cmp->setModel(comparison_sorted_);
  cmp->setSortingEnabled(true);
  cmp->sortByColumn(-1, Qt::AscendingOrder);
  cmp->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  cmp->verticalHeader()->hide();
  details_ = new RunDetailsView(this);
  connect(cmp, &QTableView::doubleClicked, this, [this](const QModelIndex& i) {
    const QString label = comparison_sorted_->index(i.row(), 0).data().toString();
    const auto runs = results_->runsOf(label);
    QVector<QVector<TaskRunResult>> others;
    for (const auto& r : runs) others << results_->alternatives(r);
    details_->showResults(label, runs, others);
    result_tabs_->setCurrentWidget(details_);
  });
  details_->setPlaceholderText(tr("Select a run in the queue, or double-click a row of the comparison, to see its "
                                  "settings, provenance and log."));
  auto withButtons = [this](QWidget* body, const QList<QPair<QString, std::function<void()>>>& buttons) {
    auto* page = new QWidget(this);
    auto* v = new QVBoxLayout(page);
    auto* h = new QHBoxLayout;
    h->addStretch();
    for (const auto& [label, fn] : buttons) {
      auto* b = new QPushButton(label, page);
      connect(b, &QPushButton::clicked, this, fn);
      h->addWidget(b);
    }
    v->addWidget(body, 1);
    v->addLayout(h);
    return page;
  };
  result_tabs_ = new QTabWidget(this);
  result_tabs_->addTab(withButtons(ppl_view_, {{tr("Export figure…"), [this] { exportFigureDialog("perplexity"); }},
                                               {tr("Export data…"), [this] { exportTableDialog("perplexity"); }}}),
                       tr("Perplexity vs length"));
  result_tabs_->addTab(withButtons(passkey_view_, {{tr("Export figure…"), [this] { exportFigureDialog("passkey"); }},
                                                   {tr("Export data…"), [this] { exportTableDialog("passkey"); }}}),
                       tr("Passkey / RULER retrieval"));
  result_tabs_->addTab(withButtons(compare_view_, {{tr("Export figure…"), [this] { exportFigureDialog("compare"); }},
                                                   {tr("Export data…"), [this] { exportTableDialog("compare"); }}}),
                       tr("Token by token"));
  result_tabs_->addTab(withButtons(cmp, {{tr("Export table…"), [this] { exportTableDialog("comparison"); }}}), tr("Comparison"));
  analysis_ = new AnalysisView(results_, this);
  setUpAnalysis();
  result_tabs_->addTab(analysis_, tr("Analysis"));
  result_tabs_->addTab(details_, tr("Run details"));
  auto* right = new QWidget(this);
  auto* rl = new QVBoxLayout(right);
  auto* show_stored = new QCheckBox(tr("Include past runs from the results store"), right);
  show_stored->setChecked(true);
  connect(show_stored, &QCheckBox::toggled, results_, &ResultSet::setShowStored);
  rl->addWidget(show_stored);
  rl->addWidget(result_tabs_, 1);

  auto* split = new QSplitter(this);
  split->addWidget(left);
  split->addWidget(right);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 3);
  setCentralWidget(split);

  // --- bottom: the queue ---
  queue_view_ = new QTableView(this);
  queue_view_->setObjectName("queue");
  queue_view_->setModel(queue_);
  queue_view_->setItemDelegateForColumn(RunQueue::Progress, new ProgressDelegate(queue_view_));
  queue_view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  queue_view_->setSelectionMode(QAbstractItemView::SingleSelection);
  queue_view_->horizontalHeader()->setStretchLastSection(true);
  queue_view_->verticalHeader()->hide();
  queue_view_->setColumnWidth(RunQueue::Run, 260);
  queue_view_->setColumnWidth(RunQueue::Tasks, 200);
  queue_view_->setColumnWidth(RunQueue::Status, 160);
  queue_view_->setColumnWidth(RunQueue::Progress, 170);
  connect(queue_view_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& i) {
    if (i.isValid()) details_->showJob(queue_->jobs()[i.row()], results_->runs());
  });
  connect(queue_view_, &QTableView::doubleClicked, this, [this] { result_tabs_->setCurrentWidget(details_); });
  auto* qpage = new QWidget(this);
  auto* ql = new QHBoxLayout(qpage);
  ql->addWidget(queue_view_, 1);
  auto* qb = new QVBoxLayout;
  auto* cancel = new QPushButton(tr("Cancel"), qpage);
  auto* cancel_all = new QPushButton(tr("Cancel all"), qpage);
  connect(cancel, &QPushButton::clicked, this, [this] {
    if (queue_view_->currentIndex().isValid()) queue_->cancel(queue_view_->currentIndex().row());
  });
  connect(cancel_all, &QPushButton::clicked, queue_, &RunQueue::cancelAll);
  qb->addWidget(cancel);
  qb->addWidget(cancel_all);
  qb->addStretch();
  ql->addLayout(qb);
  auto* dock = new QDockWidget(tr("Run queue"), this);
  dock->setObjectName("queue_dock");
  dock->setWidget(qpage);
  dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
  addDockWidget(Qt::BottomDockWidgetArea, dock);

  // --- menus and toolbar ---
  auto* add = new QAction(tr("Add model folder…"), this);
  add->setShortcut(QKeySequence::Open);
  connect(add, &QAction::triggered, this, &MainWindow::chooseModelFolder);
  auto* launch_act = new QAction(tr("Launch"), this);
  launch_act->setShortcut(Qt::CTRL | Qt::Key_Return);
  connect(launch_act, &QAction::triggered, this, [this] { launch(); });
  auto* report = new QAction(tr("Export report…"), this);
  connect(report, &QAction::triggered, this, &MainWindow::exportReportDialog);
  auto* save_spec = new QAction(tr("Save run spec…"), this);
  connect(save_spec, &QAction::triggered, this, &MainWindow::saveRunSpecDialog);
  auto* open_spec = new QAction(tr("Open run spec…"), this);
  open_spec->setObjectName("open_spec_action");
  open_spec->setToolTip(tr("Restore a comparison (models, RoPE settings, tasks, run-wide settings) from a run spec"));
  connect(open_spec, &QAction::triggered, this, &MainWindow::openRunSpecDialog);
  auto* data_folder = new QAction(tr("Data folder…"), this);
  connect(data_folder, &QAction::triggered, this, &MainWindow::chooseDataFolder);
  auto* quit = new QAction(tr("Quit"), this);
  quit->setShortcut(QKeySequence::Quit);
  connect(quit, &QAction::triggered, this, &QWidget::close);
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(add);
  recent_menu_ = file->addMenu(tr("Recent model folders"));
  rebuildRecentMenu();
  file->addSeparator();
  file->addAction(open_spec);
  file->addAction(save_spec);
  file->addAction(data_folder);
  file->addSeparator();
  file->addAction(report);
  file->addSeparator();
  file->addAction(quit);
  auto* demo = new QAction(tr("Demo"), this);
  demo->setObjectName("demo_action");
  demo->setToolTip(tr("Compare the demo models (perplexity vs length, passkey, throughput)"));
  connect(demo, &QAction::triggered, this, [this] { runDemo(); });
  QMenu* run = menuBar()->addMenu(tr("&Run"));
  run->addAction(launch_act);
  run->addAction(demo);
  run->addAction(tr("Cancel all"), queue_, &RunQueue::cancelAll);
  QMenu* help = menuBar()->addMenu(tr("&Help"));
  QAction* about = help->addAction(tr("About lmscope"), this, [this] { showAboutBox(this); });
  about->setObjectName("about_action");
  about->setMenuRole(QAction::AboutRole);
  QToolBar* tb = addToolBar(tr("Workbench"));
  tb->setObjectName("toolbar");
  tb->addAction(add);
  tb->addAction(launch_act);
  tb->addSeparator();
  tb->addAction(report);
  tb->addWidget(new QLabel(tr("  PNG DPI "), this));
  dpi_ = new QSpinBox(this);
  dpi_->setRange(72, 1200);
  dpi_->setSingleStep(50);
  dpi_->setValue(QSettings().value("export/dpi", 150).toInt());
  tb->addWidget(dpi_);
  data_folder_label_->setText(dataFolder().isEmpty() ? tr("no data folder chosen") : dataFolder());
}

void MainWindow::runDemo() {
  // `lmscope-cli demo --spec-out` writes the spec comparing the shipped demo models; the jobs then run like
  // any launch, one per model.
  const QString spec_path = QDir(QDir::tempPath()).filePath(QString("lmscope-demo-spec-%1.json").arg(QCoreApplication::applicationPid()));
  auto* p = new QProcess(this);
  connect(p, &QProcess::finished, this, [this, p, spec_path](int code, QProcess::ExitStatus status) {
    p->deleteLater();
    if (status != QProcess::NormalExit || code != 0) {
      statusBar()->showMessage(tr("Demo could not start: %1").arg(QString::fromUtf8(p->readAllStandardError()).trimmed()));
      return;
    }
    QFile f(spec_path);
    const QJsonObject spec = f.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(f.readAll()).object() : QJsonObject();
    f.remove();
    int jobs = 0;
    for (const QJsonValue& m : spec["models"].toArray()) {
      const QJsonObject model = m.toObject();
      addModelFolder(model["path"].toString());
      QJsonObject one = spec;
      one["models"] = QJsonArray{model};
      queue_->enqueue(tr("demo · %1").arg(model["name"].toString()), one);
      ++jobs;
    }
    statusBar()->showMessage(tr("Demo: %n job(s) queued", nullptr, jobs), 8000);
  });
  statusBar()->showMessage(tr("Preparing the demo models…"));
  p->start(options_.cli, {"demo", "--spec-out", spec_path});
}

void MainWindow::addModelFolder(const QString& folder) {
  const QString clean = QDir::cleanPath(folder);
  const int before = library_->rowCount();
  library_->addFolder(clean);
  if (library_->rowCount() == before) return;  // already there
  engine_->inspect(clean, clean);
  rememberRecent(clean);
}

void MainWindow::chooseModelFolder() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Checkpoint folder"), QSettings().value("library/last_dir").toString());
  if (dir.isEmpty()) return;
  QSettings().setValue("library/last_dir", QFileInfo(dir).path());
  addModelFolder(dir);
}

void MainWindow::rememberRecent(const QString& folder) {
  QSettings s;
  QStringList recent = s.value("library/recent").toStringList();
  recent.removeAll(folder);
  recent.prepend(folder);
  while (recent.size() > 10) recent.removeLast();
  s.setValue("library/recent", recent);
  rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
  if (!recent_menu_) return;
  recent_menu_->clear();
  const QStringList recent = QSettings().value("library/recent").toStringList();
  for (const QString& f : recent) recent_menu_->addAction(f, this, [this, f] { addModelFolder(f); });
  recent_menu_->setEnabled(!recent.isEmpty());
}

void MainWindow::saveLibrary() const {
  QStringList folders, tokenizers, unused;
  for (const auto& e : library_->entries()) {
    folders << e.folder;
    tokenizers << (e.tokenizer.isEmpty() ? "folder" : e.tokenizer);
    if (!e.use) unused << e.folder;
  }
  QSettings s;
  s.setValue("library/folders", folders);
  s.setValue("library/tokenizers", tokenizers);
  s.setValue("library/unused", unused);
  s.setValue("export/dpi", dpi_->value());
  tasks_->saveSettings();
  rope_->saveSettings();
  s.setValue("window/geometry", saveGeometry());
  s.setValue("window/state", saveState());
}

QString MainWindow::dataFolder() const {
  const QString chosen = QSettings().value("data/folder").toString();
  return chosen.isEmpty() ? RunPreset::defaultDataFolder() : chosen;
}

void MainWindow::setDataFolder(const QString& folder) {
  QSettings().setValue("data/folder", QDir::cleanPath(folder));
  if (data_folder_label_) data_folder_label_->setText(dataFolder());
}

void MainWindow::chooseDataFolder() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Data folder (WikiText, LAMBADA, the zero-shot sets, long documents)"), dataFolder());
  if (dir.isEmpty()) return;
  setDataFolder(dir);
  statusBar()->showMessage(tr("Presets now take their data from %1").arg(dir), 8000);
}

void MainWindow::updateFactorCount() {
  // LongRoPE's lists need rotary_dim / 2 entries for every ticked model: known only when they all agree
  int n = 0;
  bool mixed = false;
  for (const auto& e : library_->entries()) {
    if (!e.use || e.info.isEmpty()) continue;
    const int d = e.info["rope"].toObject()["rotary_dim"].toInt();
    if (d <= 0) continue;
    if (n > 0 && n != d / 2) mixed = true;
    n = d / 2;
  }
  rope_->setFactorCount(mixed ? 0 : n);
}

QVector<DataIssue> MainWindow::dataIssues() const {
  PresetCheck::Options o;
  const auto models = library_->chosen();
  o.byte_tokens = !models.isEmpty();
  for (const auto& m : models) o.byte_tokens &= m.tokenizer == "bytes";
  return PresetCheck::checkTasks(tasks_->tasks(), o);
}

void MainWindow::applyPreset(const QString& name) {
  RunPreset::Options o;
  o.data_folder = dataFolder();
  o.rope_factor_count = rope_->factorCount();
  for (const auto& e : library_->entries())
    if (e.use && !e.info.isEmpty())
      o.context_length = o.context_length ? std::min<qint64>(o.context_length, e.info["context_length"].toInteger()) : e.info["context_length"].toInteger();
  const RunPreset p = RunPreset::byName(name, o);
  tasks_->applyPreset(p);
  if (!p.rope.isEmpty()) rope_->setSettings(p.rope);
  setup_tabs_->setCurrentWidget(tasks_);
  // what the preset's data check finds (missing files, documents too short)
  PresetCheck::Options co;
  const auto models = library_->chosen();
  co.byte_tokens = !models.isEmpty();
  for (const auto& m : models) co.byte_tokens &= m.tokenizer == "bytes";
  const QStringList missing = PresetCheck::messages(PresetCheck::checkPreset(p, co));
  QString msg = tr("Preset %1").arg(p.name);
  if (!p.model.isEmpty()) msg += tr(" (for %1: tick it in Models)").arg(p.model);
  if (!missing.isEmpty()) msg += tr(" — its data check: %1").arg(missing.join("; "));
  statusBar()->showMessage(msg, missing.isEmpty() ? 15000 : 0);
  updateLaunchSummary();
}

RunSpecBuilder MainWindow::currentRun() const {
  RunSpecBuilder b;
  b.name = tr("lmscope workbench");
  b.models = library_->chosen();
  b.rope = rope_->expanded();
  b.tasks = tasks_->tasks();
  b.globals = tasks_->globals();
  return b;
}

QStringList MainWindow::launchProblems() const {
  const RunSpecBuilder run = currentRun();
  QStringList p = run.problems();
  for (const auto& e : library_->entries())
    if (e.use && e.pending) p << tr("%1 is still being checked").arg(QFileInfo(e.folder).fileName());
  const QStringList builder = tasks_->problems();
  p += builder;
  // the data check: files that are missing (unless the task builder already named them), not text, or too short
  for (const auto& issue : dataIssues()) {
    if (!issue.blocking()) continue;
    bool named = false;
    for (const QString& b : builder) named |= b.contains(issue.file);
    if (!named) p << issue.message;
  }
  p += rope_->problems();
  // what the engine refused when it read the data and settings (checked in the background as choices change)
  if (p.isEmpty() && check_->state(run.fullSpec()) == LaunchCheck::State::Refused) p << check_->problem(run.fullSpec());
  p.removeDuplicates();
  return p;
}

QStringList MainWindow::launchWarnings() const {
  QStringList w = rope_->warnings();
  for (const auto& issue : dataIssues())
    if (!issue.blocking()) w << issue.message;
  w.removeDuplicates();
  return w;
}

QString MainWindow::launchSummary() const {
  const RunSpecBuilder b = currentRun();
  return tr("%1 model(s) × %2 RoPE setting(s) × %3 task(s) = %4 task runs")
      .arg(b.models.size())
      .arg(b.rope.size())
      .arg(b.tasks.size())
      .arg(b.taskRunCount());
}

void MainWindow::updateLaunchSummary() {
  if (!summary_) return;
  const QStringList p = launchProblems();
  const QJsonObject spec = currentRun().fullSpec();
  if (p.isEmpty()) check_->schedule(spec);
  summary_->setText(launchSummary());
  if (p.isEmpty() && check_->state(spec) == LaunchCheck::State::Checking)
    statusBar()->showMessage(tr("Checking the data and settings…"), 4000);
  problems_->setText(p.join('\n'));
  problems_->setVisible(!p.isEmpty());
  launch_->setEnabled(p.isEmpty());
  const QStringList w = launchWarnings();
  warnings_->setText(w.join('\n'));
  warnings_->setVisible(!w.isEmpty());
}

int MainWindow::launch() {
  const QStringList p = launchProblems();
  if (!p.isEmpty()) {
    problems_->setText(p.join('\n'));
    problems_->show();
    statusBar()->showMessage(tr("Cannot launch yet: %1").arg(p.front()));
    return 0;
  }
  // the engine reads the data and settings first: what a run would refuse is said now and nothing is queued
  QString refused;
  statusBar()->showMessage(tr("Checking the data and settings…"));
  launch_->setEnabled(false);
  const bool ok = check_->waitFor(currentRun().fullSpec(), &refused);
  launch_->setEnabled(true);
  if (!ok) {
    problems_->setText(refused);
    problems_->show();
    statusBar()->showMessage(tr("Cannot launch: %1").arg(refused));
    return 0;
  }
  saveLibrary();
  const auto jobs = currentRun().jobs();
  for (const auto& [title, spec] : jobs) queue_->enqueue(title, spec);
  statusBar()->showMessage(tr("Queued %n job(s): %1", nullptr, jobs.size()).arg(launchSummary()), 8000);
  return jobs.size();
}

void MainWindow::loadHistory(bool list_in_queue) {
  if (history_worker_) return;  // one at a time
  // a short-lived worker answers `history`; the window stays responsive while the store is read
  history_worker_ = new WorkerProcess(options_.cli, "history", "cpu", QProcessEnvironment::systemEnvironment(), this);
  connect(history_worker_, &WorkerProcess::ready, this, [this] {
    QJsonObject req{{"cmd", "history"}, {"id", "history"}};
    if (!options_.store.isEmpty()) req["store"] = options_.store;
    history_worker_->send(req);
  });
  connect(history_worker_, &WorkerProcess::event, this, [this, list_in_queue](const QJsonObject& e) {
    if (e["event"].toString() == "history") {
      const QJsonArray runs = e["task_runs"].toArray();
      results_->applyHistory(runs);
      if (list_in_queue) queue_->addStoredRuns(runs);
      history_loaded_ = true;
      if (list_in_queue && !runs.isEmpty()) statusBar()->showMessage(tr("%n past task run(s) from %1", nullptr, runs.size()).arg(e["store"].toString()), 8000);
    } else if (e["event"].toString() == "error") {
      history_loaded_ = true;
      statusBar()->showMessage(tr("Could not read past runs: %1").arg(e["message"].toString()));
    }
    if (history_loaded_) history_worker_->stop();
  });
  connect(history_worker_, &WorkerProcess::exited, this, [this](bool crashed, const QString& why) {
    if (crashed && !history_loaded_) statusBar()->showMessage(tr("Could not read past runs: %1").arg(why));
    history_loaded_ = true;
    history_worker_->deleteLater();
    history_worker_ = nullptr;
  });
  history_worker_->start();
}

QCustomPlot* MainWindow::figure(const QString& which) const {
  if (which == "perplexity") return ppl_view_->plot();
  if (which == "passkey") return passkey_view_->plot();
  if (which == "compare") return compare_view_->plot();
  return nullptr;
}

bool MainWindow::exportFigure(const QString& which, const QString& path, int dpi, QString* error) {
  QCustomPlot* plot = figure(which);
  if (!plot) {
    if (error) *error = tr("no figure named %1").arg(which);
    return false;
  }
  return FigureExporter::save(plot, path, dpi < 0 ? dpi_->value() : dpi, {}, error);
}

bool MainWindow::exportFigure(const QString& which, const QString& path, const FigureSize& size, QString* error) {
  QCustomPlot* plot = figure(which);
  if (!plot) {
    if (error) *error = tr("no figure named %1").arg(which);
    return false;
  }
  return FigureExporter::save(plot, path, size, error);
}

bool MainWindow::exportTable(const QString& which, const QString& path, QString* error) {
  std::unique_ptr<QAbstractItemModel> owned;
  const QAbstractItemModel* m = nullptr;
  if (which == "comparison") m = comparison_sorted_;
  else if (which == "library") m = library_;
  else if (which == "queue") m = queue_;
  else if (which == "perplexity") owned.reset(PplSeries::toTable(ppl_view_->series(), nullptr));
  else if (which == "passkey") owned.reset(PasskeyGrid::toTable(passkey_view_->grids(), nullptr));
  else if (which == "compare") owned.reset(TokenComparisonRun::toTable(compare_view_->runs(), nullptr));
  if (owned) m = owned.get();
  if (!m) {
    if (error) *error = tr("no table named %1").arg(which);
    return false;
  }
  return TableExporter::save(*m, path, error, which);
}

QStringList MainWindow::exportReport(const QString& folder, QString* error) {
  std::unique_ptr<QAbstractItemModel> pk(PasskeyGrid::toTable(passkey_view_->grids(), nullptr));
  std::unique_ptr<QAbstractItemModel> tc(TokenComparisonRun::toTable(compare_view_->runs(), nullptr));
  ReportExporter::Figures figs;
  pk->setProperty("lmscope_caption", tr("Passkey retrieval accuracy by context length and key depth"));
  ReportExporter::Tables tables{{"comparison", comparison_sorted_}};
  // The line figures each quantity has data for (offscreen views, the shown one's quantity left as it is).
  std::vector<std::unique_ptr<PplPlotView>> line_views;
  std::vector<std::unique_ptr<QAbstractItemModel>> line_tables;
  struct Quantity {
    PplSeries::Quantity q;
    const char* stem;
    QString caption;
  };
  const Quantity quantities[] = {
      {PplSeries::Quantity::Perplexity, "perplexity_vs_length",
       tr("Perplexity by context length (per token; byte-level models per byte)")},
      {PplSeries::Quantity::LongPpl, "longppl_vs_length", tr("LongPPL by context length")},
      {PplSeries::Quantity::Throughput, "throughput_vs_length", tr("Scoring throughput (tokens/s) by context length")}};
  for (const auto& [q, stem, caption] : quantities) {
    auto view = std::make_unique<PplPlotView>(results_);
    view->setQuantity(q);
    if (view->series().isEmpty()) continue;
    figs << qMakePair(QString(stem), view->plot());
    line_tables.emplace_back(PplSeries::toTable(view->series(), nullptr));
    line_tables.back()->setProperty("lmscope_caption", caption);
    tables << qMakePair(QString(stem), line_tables.back().get());
    line_views.push_back(std::move(view));
  }
  if (passkey_view_->mapCount() > 0) {
    figs << qMakePair(QString("passkey_heatmaps"), passkey_view_->plot());
    tables << qMakePair(QString("passkey"), pk.get());
  }
  if (!compare_view_->runs().isEmpty()) {
    figs << qMakePair(QString("token_by_token"), compare_view_->plot());
    tables << qMakePair(QString("token_by_token"), tc.get());
  }
  // the analysis section: rankings, per-length means, top 10, correlations (what there is enough results for)
  const AnalysisReport analysis = AnalysisReport::build(analysis_->records());
  for (const auto& [stem, table] : analysis.tables) tables << qMakePair(stem, static_cast<QAbstractItemModel*>(table));
  // Figures for a paper: the full text width of a two-column paper at 8 pt (the report's index.md says so).
  ReportExporter::Options options;
  options.figure = FigureSize::twoColumns();
  options.figure.dpi = dpi_->value();
  options.provenance = ReportExporter::provenance(results_->visibleRuns());
  QStringList written = ReportExporter::write(folder, figs, tables, options, error);
  AnalysisReport::appendNotes(folder, analysis.notes, error);
  return written;
}

void MainWindow::setUpAnalysis() {
  auto families = [this] {
    lmscope::analysis::FamilyLookup f;
    for (int i = 0; i < library_->entries().size(); ++i) {
      const auto& e = library_->entries()[i];
      const QString family = e.info["family"].toString();
      if (family.isEmpty()) continue;
      f.insert(library_->displayName(i), family);
      f.insert(e.folder, family);
    }
    analysis_->setFamilies(f);
  };
  connect(library_, &QAbstractItemModel::dataChanged, analysis_, families);
  connect(library_, &QAbstractItemModel::rowsInserted, analysis_, families);
  families();
  // per-item outcomes for paired comparisons: a short-lived worker answers `items` (docs/worker.md)
  analysis_->setItemsFetcher([this](const QStringList& keys, AnalysisView::ItemsCallback done) {
    auto* w = new WorkerProcess(options_.cli, "items", "cpu", QProcessEnvironment::systemEnvironment(), this);
    auto answered = std::make_shared<bool>(false);
    connect(w, &WorkerProcess::ready, w, [this, w, keys] {
      QJsonObject req{{"cmd", "items"}, {"id", "items"}, {"run_keys", QJsonArray::fromStringList(keys)}};
      if (!options_.store.isEmpty()) req["store"] = options_.store;
      w->send(req);
    });
    connect(w, &WorkerProcess::event, analysis_, [w, done, answered](const QJsonObject& e) {
      const QString ev = e["event"].toString();
      if (ev != "items" && ev != "error") return;
      *answered = true;
      done(e["runs"].toArray(), ev == "error" ? e["message"].toString() : QString());
      w->stop();
    });
    connect(w, &WorkerProcess::exited, w, [w, done, answered](bool, const QString& why) {
      if (!*answered) done({}, why.isEmpty() ? tr("the worker exited") : why);
      w->deleteLater();
    });
    w->start();
  });
}

namespace {
// The path with the suffix of the chosen filter when the user typed none.
QString withSuffix(QString path, const QString& filter) {
  if (!QFileInfo(path).suffix().isEmpty()) return path;
  const int a = filter.indexOf("*."), b = filter.indexOf(')', a);
  return a >= 0 && b > a ? path + filter.mid(a + 1, b - a - 1) : path;
}
}  // namespace

QString MainWindow::lastFolder(const QString& key) {
  const QString d = QSettings().value("dialogs/" + key).toString();
  return !d.isEmpty() && QFileInfo(d).isDir() ? d : QDir::homePath();
}

void MainWindow::rememberFolder(const QString& key, const QString& path) {
  const QFileInfo fi(path);
  QSettings().setValue("dialogs/" + key, fi.isDir() ? fi.absoluteFilePath() : fi.absolutePath());
}

void MainWindow::exportFigureDialog(const QString& which) {
  QCustomPlot* plot = figure(which);
  if (!plot) return;
  FigureExportDialog options(FigureExporter::preferredAspect(plot), this);
  if (options.exec() != QDialog::Accepted) return;
  dpi_->setValue(options.size().dpi);
  QString filter;
  const QString path = QFileDialog::getSaveFileName(this, tr("Export figure"), QDir(lastFolder("export")).filePath(which + ".png"),
                                                    tr("PNG image (*.png);;PDF (*.pdf);;SVG (*.svg)"), &filter);
  if (path.isEmpty()) return;
  rememberFolder("export", path);
  QString err;
  const bool ok = options.preset() == FigureExportDialog::AsOnScreen ? exportFigure(which, withSuffix(path, filter), -1, &err)
                                                                     : exportFigure(which, withSuffix(path, filter), options.size(), &err);
  if (!ok) QMessageBox::warning(this, tr("Export"), err);
  else statusBar()->showMessage(tr("Wrote %1").arg(withSuffix(path, filter)), 5000);
}

void MainWindow::exportTableDialog(const QString& which) {
  QString filter;
  const QString path = QFileDialog::getSaveFileName(this, tr("Export table"), QDir(lastFolder("export")).filePath(which + ".csv"),
                                                    tr("CSV (*.csv);;LaTeX booktabs (*.tex);;Markdown (*.md);;JSON (*.json)"), &filter);
  if (path.isEmpty()) return;
  rememberFolder("export", path);
  QString err;
  if (!exportTable(which, withSuffix(path, filter), &err)) QMessageBox::warning(this, tr("Export"), err);
  else statusBar()->showMessage(tr("Wrote %1").arg(withSuffix(path, filter)), 5000);
}

void MainWindow::exportReportDialog() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Folder for the report"), lastFolder("report"));
  if (dir.isEmpty()) return;
  rememberFolder("report", dir);
  QString err;
  const QStringList files = exportReport(dir, &err);
  if (!err.isEmpty()) QMessageBox::warning(this, tr("Export report"), err);
  statusBar()->showMessage(tr("Wrote %n file(s) to %1", nullptr, files.size()).arg(dir), 8000);
}

bool MainWindow::saveRunSpec(const QString& path, QString* error) const {
  QJsonObject spec = currentRun().fullSpec();
  // the RoPE rows as the editor holds them (grids stay grids: the engine expands them the same way), so that
  // opening the spec gives the same rows back
  spec["rope"] = rope_->specEntries();
  QSaveFile f(path);
  if (f.open(QIODevice::WriteOnly) && f.write(QJsonDocument(spec).toJson()) >= 0 && f.commit()) return true;
  if (error) *error = tr("cannot write %1").arg(path);
  return false;
}

void MainWindow::saveRunSpecDialog() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Save run spec"), QDir(lastFolder("spec")).filePath("run.json"), tr("Run spec (*.json)"));
  if (path.isEmpty()) return;
  rememberFolder("spec", path);
  QString err;
  if (saveRunSpec(path, &err)) statusBar()->showMessage(tr("Wrote %1: run it with lmscope-cli run %1").arg(path), 8000);
  else QMessageBox::warning(this, tr("Save run spec"), err);
}

bool MainWindow::openRunSpec(const QString& path, QString* error, QStringList* notes_out) {
  const auto spec = OpenedRunSpec::readFile(path, error);
  if (!spec) return false;
  // the task forms come from the engine's schema: a spec opened right at startup waits for it (briefly)
  if (!tasks_->hasCatalog()) {
    QEventLoop loop;
    QTimer limit;
    limit.setSingleShot(true);
    connect(tasks_, &TaskBuilder::catalogReady, &loop, &QEventLoop::quit);
    connect(&limit, &QTimer::timeout, &loop, &QEventLoop::quit);
    limit.start(30000);
    if (!tasks_->hasCatalog()) loop.exec(QEventLoop::ExcludeUserInputEvents);
  }
  QStringList notes = spec->notes;
  // models: the spec's, ticked; the others stay in the library, unticked
  for (int r = 0; r < library_->rowCount(); ++r) library_->setUse(r, false);
  for (const auto& m : spec->models) {
    addModelFolder(m.path);
    const QString clean = QDir::cleanPath(m.path);
    for (int r = 0; r < library_->rowCount(); ++r)
      if (library_->entries()[r].folder == clean) {
        library_->setUse(r, true);
        library_->setTokenizer(r, m.tokenizer);
        if (!m.name.isEmpty() && m.name != library_->displayName(r))
          notes << tr("%1 is named '%2' in the spec; the window names it '%3'").arg(m.path, m.name, library_->displayName(r));
      }
  }
  // tasks: the spec's, with its settings; a field the builder does not show is named
  for (const QString& t : tasks_->instances()) tasks_->setTaskEnabled(t, false);
  const QStringList known = tasks_->catalog() ? tasks_->catalog()->names() : QStringList();
  QStringList seen;
  for (const auto& t : spec->tasks) {
    if (!known.contains(t.task)) {
      notes << (known.isEmpty() ? tr("task %1: the engine's task list has not arrived; open the spec again").arg(t.task)
                                : tr("task %1 is not in the task builder").arg(t.task));
      continue;
    }
    // a task's first entry fills its own form, a later one a new instance named by its alias
    QString id = t.task;
    if (seen.contains(t.task)) {
      id = tasks_->addInstance(t.task, t.alias);
      if (id.isEmpty()) {
        notes << tr("a second %1 could not be added to the task builder").arg(t.task);
        continue;
      }
    } else if (!t.alias.isEmpty()) {
      tasks_->setField(id, "alias", t.alias);
    }
    seen << t.task;
    tasks_->setTaskEnabled(id, true);
    for (const auto& [key, text] : t.fields) {
      tasks_->setField(id, key, text);
      if (tasks_->field(id, key) != text.trimmed()) notes << tr("%1: setting %2 = %3 could not be set in the task builder").arg(id, key, text);
    }
  }
  for (const QString& k : {QString("backend"), QString("dtype"), QString("seed"), QString("limit"), QString("max_length"), QString("batch_size")}) {
    QString text;
    for (const auto& [key, v] : spec->globals)
      if (key == k) text = v;
    if (k == "backend" && text.isEmpty()) text = "cpu";
    if (k == "dtype" && text.isEmpty()) continue;
    tasks_->setGlobal(k, text);
    if (!text.isEmpty() && tasks_->global(k) != text) notes << tr("%1 = %2 is not available here (%3 is used)").arg(k, text, tasks_->global(k));
  }
  rope_->setSettings(spec->rope);
  rope_->setTargetLength(tasks_->longestLength());
  updateLaunchSummary();
  if (notes_out) *notes_out = notes;
  return true;
}

void MainWindow::openRunSpecDialog() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open run spec"), lastFolder("spec"), tr("Run spec (*.json)"));
  if (path.isEmpty()) return;
  rememberFolder("spec", path);
  QString err;
  QStringList notes;
  if (!openRunSpec(path, &err, &notes)) {
    QMessageBox::warning(this, tr("Open run spec"), err);
    return;
  }
  if (!notes.isEmpty()) QMessageBox::information(this, tr("Open run spec"), tr("Opened %1, except:\n\n%2").arg(path, notes.join('\n')));
  statusBar()->showMessage(tr("Opened %1").arg(path), 8000);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
  if (e->mimeData()->hasUrls()) e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e) {
  for (const QUrl& url : e->mimeData()->urls())
    if (url.isLocalFile()) addModelFolder(url.toLocalFile());
}

void MainWindow::closeEvent(QCloseEvent* e) {
  if (closing_) {
    // second pass: workers have stopped (or we were asked again while waiting)
    if (queue_->workerCount() == 0) {
      e->accept();
      return;
    }
    e->ignore();
    return;
  }
  const int active = queue_->activeCount();
  if (active > 0) {
    const bool stop = confirm_quit_ ? confirm_quit_(active)
                                    : QMessageBox::question(this, tr("Runs in progress"),
                                                            tr("%n run(s) are still queued or running. Stop them and quit?\n\n"
                                                               "Finished work units are kept in the results store; launching "
                                                               "the same settings later resumes where they stopped.",
                                                               nullptr, active),
                                                            QMessageBox::Yes | QMessageBox::No, QMessageBox::No) == QMessageBox::Yes;
    if (!stop) {
      e->ignore();
      return;
    }
  }
  saveLibrary();
  if (queue_->workerCount() == 0) {
    e->accept();
    return;
  }
  // ask the workers to quit (each stops at its next forward pass) and close once they have
  closing_ = true;
  e->ignore();
  statusBar()->showMessage(tr("Stopping the workers…"));
  connect(queue_, &RunQueue::stopped, this, [this] { close(); });
  queue_->shutdown();
}
