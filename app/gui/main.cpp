// lmscope: the Qt workbench. The engine runs in `lmscope-cli` child processes found next to this executable.
//   lmscope [--store FILE] [--no-history] [MODEL_DIR...]
//   lmscope --screenshots OUT_DIR --demo-text FILE MODEL_DIR...   (a scripted demo run that saves PNGs of the views)
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>

#include "main_window.h"
#include "screenshot_tour.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("lmscope");
  QApplication::setOrganizationName("lmscope");
  QCommandLineParser args;
  args.setApplicationDescription("lmscope workbench: evaluate and compare language-model checkpoints");
  args.addHelpOption();
  args.addOption({"store", "results store (default: the worker's, ~/.local/share/lmscope/results.sqlite)", "FILE"});
  args.addOption({"no-history", "do not list past runs from the store"});
  args.addOption({"screenshots", "run a small demo and write PNGs of the main views into DIR, then quit", "DIR"});
  args.addOption({"demo-text", "text file for the demo's perplexity task (with --screenshots)", "FILE"});
  args.addPositionalArgument("models", "checkpoint folders to add to the library", "[MODEL_DIR...]");
  args.process(app);

  WorkbenchOptions o;
  o.cli = QDir(QCoreApplication::applicationDirPath()).filePath("lmscope-cli");
  if (!QFileInfo::exists(o.cli)) o.cli = LMSCOPE_CLI_PATH;
  o.store = args.value("store");
  o.load_history = !args.isSet("no-history") && !args.isSet("screenshots");
  o.restore_library = !args.isSet("screenshots");
  MainWindow w(o);
  for (const QString& folder : args.positionalArguments()) w.addModelFolder(folder);
  w.show();
  if (args.isSet("screenshots")) {
    auto* tour = new ScreenshotTour(&w, args.value("screenshots"), args.value("demo-text"), &w);
    tour->start();
  }
  return QApplication::exec();
}
