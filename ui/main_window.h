// The workbench window. So far: the model library (add checkpoint folders, see what each is and whether it
// loads). Task builder, run queue and live plots grow here (see the GUI issue).
#pragma once

#include <QMainWindow>

class EngineClient;
class ModelLibrary;
class QTableView;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(const QString& cli_path, QWidget* parent = nullptr);
  // Adds a checkpoint folder and asks the engine about it (asynchronously).
  void addModelFolder(const QString& folder);
  ModelLibrary* library() const { return library_; }

 protected:
  void dragEnterEvent(QDragEnterEvent* e) override;
  void dropEvent(QDropEvent* e) override;

 private:
  void chooseModelFolder();
  EngineClient* engine_;
  ModelLibrary* library_;
  QTableView* table_;
};
