#include "main_window.h"

#include <QAction>
#include <QDir>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QHeaderView>
#include <QMenuBar>
#include <QMimeData>
#include <QStatusBar>
#include <QTableView>
#include <QToolBar>

#include "engine_client.h"
#include "model_library.h"

MainWindow::MainWindow(const QString& cli_path, QWidget* parent)
    : QMainWindow(parent), engine_(new EngineClient(cli_path, this)), library_(new ModelLibrary(this)), table_(new QTableView(this)) {
  setWindowTitle(tr("lmscope"));
  setAcceptDrops(true);
  table_->setModel(library_);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->hide();
  setCentralWidget(table_);

  auto* add = new QAction(tr("Add model folder…"), this);
  add->setShortcut(QKeySequence::Open);
  connect(add, &QAction::triggered, this, &MainWindow::chooseModelFolder);
  menuBar()->addMenu(tr("&File"))->addAction(add);
  addToolBar(tr("Models"))->addAction(add);

  connect(engine_, &EngineClient::inspected, this, [this](const QString& folder, const QJsonObject& info) {
    library_->setInfo(folder, info);
    statusBar()->showMessage(tr("%1 loads").arg(folder), 5000);
  });
  connect(engine_, &EngineClient::failed, this, [this](const QString& folder, const QString& message) {
    library_->setError(folder, message);
    statusBar()->showMessage(tr("%1 does not load: %2").arg(folder, message));
  });
  statusBar()->showMessage(tr("Add a Hugging Face checkpoint folder (File ▸ Add model folder, or drop it here)."));
  resize(1100, 420);
}

void MainWindow::addModelFolder(const QString& folder) {
  const QString clean = QDir::cleanPath(folder);
  library_->addFolder(clean);
  engine_->inspect(clean, clean);
}

void MainWindow::chooseModelFolder() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Checkpoint folder"));
  if (!dir.isEmpty()) addModelFolder(dir);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
  if (e->mimeData()->hasUrls()) e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e) {
  for (const QUrl& url : e->mimeData()->urls())
    if (url.isLocalFile()) addModelFolder(url.toLocalFile());
}
