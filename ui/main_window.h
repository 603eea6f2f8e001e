// The workbench window. Left: what to run — the model library, the task builder, the RoPE editor — and the launch
// button with the number of task runs it will start. Right: what came out — perplexity vs length, passkey
// heatmaps, the comparison table, per-run details — all updating live. Bottom: the run queue. The engine only
// ever runs in `lmscope-cli` child processes (workers for runs, one-shot commands for inspect/devices).
#pragma once

#include <QMainWindow>
#include <functional>

#include "figure_exporter.h"
#include "preset_check.h"
#include "workbench_options.h"

class AnalysisView;
class ComparisonTableModel;
class EngineClient;
class ModelLibrary;
class PasskeyHeatmapView;
class TokenComparisonView;
class PplPlotView;
class QAbstractItemModel;
class QCustomPlot;
class QLabel;
class QMenu;
class QPushButton;
class QSortFilterProxyModel;
class QSpinBox;
class QTableView;
class QTabWidget;
class ResultSet;
class RopeEditor;
class RunDetailsView;
class LaunchCheck;
class RunQueue;
class RunSpecBuilder;
class TaskBuilder;
class WorkerProcess;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(const QString& cli_path, QWidget* parent = nullptr);
  explicit MainWindow(const WorkbenchOptions& options, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Adds a checkpoint folder and asks the engine about it (asynchronously).
  void addModelFolder(const QString& folder);
  ModelLibrary* library() const { return library_; }
  TaskBuilder* taskBuilder() const { return tasks_; }
  RopeEditor* ropeEditor() const { return rope_; }
  RunQueue* queue() const { return queue_; }
  ResultSet* results() const { return results_; }
  PplPlotView* pplView() const { return ppl_view_; }
  PasskeyHeatmapView* passkeyView() const { return passkey_view_; }
  TokenComparisonView* compareView() const { return compare_view_; }
  ComparisonTableModel* comparison() const { return comparison_; }
  QAbstractItemModel* comparisonSorted() const;
  RunDetailsView* details() const { return details_; }
  AnalysisView* analysisView() const { return analysis_; }
  QTabWidget* resultTabs() const { return result_tabs_; }
  QTabWidget* setupTabs() const { return setup_tabs_; }
  bool historyLoaded() const { return history_loaded_; }

  // What a launch would run, and what stops it.
  RunSpecBuilder currentRun() const;
  QStringList launchProblems() const;
  QString launchSummary() const;
  // Queues the current choices (one job per model × RoPE setting); returns the jobs queued (0: see problems).
  int launch();
  // Figures: "perplexity" or "passkey"; tables: "comparison", "perplexity", "passkey", "library", "queue".
  // The format follows the suffix. dpi < 0: the window's DPI setting.
  bool exportFigure(const QString& which, const QString& path, int dpi = -1, QString* error = nullptr);
  // At a physical size for a paper (what File ▸ Export figure's dialog asks for).
  bool exportFigure(const QString& which, const QString& path, const FigureSize& size, QString* error = nullptr);
  bool exportTable(const QString& which, const QString& path, QString* error = nullptr);
  QStringList exportReport(const QString& folder, QString* error = nullptr);
  // Asked before closing while runs are active (default: a message box); tests answer it themselves.
  void setQuitConfirmation(std::function<bool(int active_runs)> ask) { confirm_quit_ = std::move(ask); }
  // Applies a preset: its tasks and fields (data files from the data folder), its RoPE rows; then says what its data
  // check found (missing or too-short files also stop the launch, see launchProblems).
  void applyPreset(const QString& name);
  // Where presets look for their data files (remembered; default RunPreset::defaultDataFolder()).
  QString dataFolder() const;
  void setDataFolder(const QString& folder);
  // What the data check says about the current tasks (blocking ones are also in launchProblems) and the RoPE
  // editor's warnings: shown in amber, they do not stop the launch.
  QStringList launchWarnings() const;
  // File ▸ Save run spec / Open run spec without the dialogs: the whole comparison (models, RoPE rows, tasks,
  // run-wide settings) to a spec and back; `notes` lists what the window could not take over.
  bool saveRunSpec(const QString& path, QString* error = nullptr) const;
  bool openRunSpec(const QString& path, QString* error = nullptr, QStringList* notes = nullptr);
  // Run ▸ Demo: queues the demo comparison (the models `lmscope-cli demo --report` compares).
  void runDemo();
  // The folder a file dialog starts in ("export", "report", "spec"): the last one chosen there, remembered.
  static QString lastFolder(const QString& key);
  static void rememberFolder(const QString& key, const QString& path);

 protected:
  void dragEnterEvent(QDragEnterEvent* e) override;
  void dropEvent(QDropEvent* e) override;
  void closeEvent(QCloseEvent* e) override;

 private:
  void buildUi();
  void chooseModelFolder();
  void updateLaunchSummary();
  // Reads the store's history through a short-lived worker. `list_in_queue`: also list the runs as queue rows
  // (at start); later calls only add provenance to this session's finished runs.
  void loadHistory(bool list_in_queue = true);
  void rememberRecent(const QString& folder);
  void rebuildRecentMenu();
  void saveLibrary() const;
  void exportFigureDialog(const QString& which);
  void exportTableDialog(const QString& which);
  void exportReportDialog();
  void saveRunSpecDialog();
  void openRunSpecDialog();
  void chooseDataFolder();
  // The data check of the ticked tasks for the ticked models (byte-level models are counted exactly).
  QVector<DataIssue> dataIssues() const;
  void updateFactorCount();
  QCustomPlot* figure(const QString& which) const;
  // The Analysis tab's pieces: model families from the library, per-item outcomes through a short-lived worker.
  void setUpAnalysis();

  WorkbenchOptions options_;
  EngineClient* engine_;
  ModelLibrary* library_;
  ResultSet* results_;
  RunQueue* queue_;
  LaunchCheck* check_;
  ComparisonTableModel* comparison_;
  QSortFilterProxyModel* comparison_sorted_;
  QTableView* table_;  // the library
  TaskBuilder* tasks_ = nullptr;
  RopeEditor* rope_ = nullptr;
  PplPlotView* ppl_view_ = nullptr;
  PasskeyHeatmapView* passkey_view_ = nullptr;
  TokenComparisonView* compare_view_ = nullptr;
  RunDetailsView* details_ = nullptr;
  AnalysisView* analysis_ = nullptr;
  QTableView* queue_view_ = nullptr;
  QTabWidget* setup_tabs_ = nullptr;
  QTabWidget* result_tabs_ = nullptr;
  QLabel* summary_ = nullptr;
  QLabel* problems_ = nullptr;
  QLabel* warnings_ = nullptr;
  QLabel* data_folder_label_ = nullptr;
  QPushButton* launch_ = nullptr;
  QSpinBox* dpi_ = nullptr;
  QMenu* recent_menu_ = nullptr;
  WorkerProcess* history_worker_ = nullptr;
  bool history_loaded_ = false;
  bool closing_ = false;
  std::function<bool(int)> confirm_quit_;
};
