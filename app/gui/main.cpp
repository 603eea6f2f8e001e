// lmscope: the Qt workbench. The engine runs in `lmscope-cli` child processes found next to this executable.
//   lmscope [--store FILE] [--no-history] [MODEL_DIR...]
//   lmscope --version                            (needs a Qt platform: QT_QPA_PLATFORM=offscreen without a display)
//   lmscope --screenshots OUT_DIR --demo-text FILE MODEL_DIR...   (a scripted demo run that saves PNGs of the views)
//   lmscope --export-report OUT_DIR --store FILE   (headless with QT_QPA_PLATFORM=offscreen: the store's results as
//                                                  the report export writes them — figures and tables — then quit)
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QTimer>

#include <cstdio>

#include "lmscope/version.h"
#include "main_window.h"
#include "screenshot_tour.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("lmscope");
  QApplication::setOrganizationName("lmscope");
  QApplication::setApplicationVersion(QString::fromUtf8(lmscope::version()));
  QCommandLineParser args;
  args.setApplicationDescription("lmscope workbench: evaluate and compare language-model checkpoints");
  args.addHelpOption();
  args.addVersionOption();
  args.addOption({"store", "results store (default: the worker's, ~/.local/share/lmscope/results.sqlite)", "FILE"});
  args.addOption({"no-history", "do not list past runs from the store"});
  args.addOption({"screenshots", "run a small demo and write PNGs of the main views into DIR, then quit", "DIR"});
  args.addOption({"demo-text", "text file for the demo's perplexity task (with --screenshots)", "FILE"});
  args.addOption({"export-report", "write the store's figures and tables into DIR, then quit", "DIR"});
  args.addPositionalArgument("models", "checkpoint folders to add to the library", "[MODEL_DIR...]");
  args.process(app);

  WorkbenchOptions o;
  o.cli = QDir(QCoreApplication::applicationDirPath()).filePath("lmscope-cli");
  if (!QFileInfo::exists(o.cli)) o.cli = LMSCOPE_CLI_PATH;
  o.store = args.value("store");
  const bool report = args.isSet("export-report");
  o.load_history = !args.isSet("no-history") && !args.isSet("screenshots");
  o.restore_library = !args.isSet("screenshots") && !report;
  MainWindow w(o);
  if (report) {
    // Wait for the store's history (read by a worker), export, quit; 120 s at most.
    auto* poll = new QTimer(&w);
    QElapsedTimer clock;
    clock.start();
    QObject::connect(poll, &QTimer::timeout, &w, [&w, &args, poll, clock]() {
      if (!w.historyLoaded()) {
        if (clock.elapsed() > 120000) {
          std::fprintf(stderr, "lmscope: the results store did not answer within 120 s\n");
          QCoreApplication::exit(1);
        }
        return;
      }
      poll->stop();
      QString error;
      const QStringList files = w.exportReport(args.value("export-report"), &error);
      if (!error.isEmpty()) {
        std::fprintf(stderr, "lmscope: report: %s\n", qPrintable(error));
        QCoreApplication::exit(1);
        return;
      }
      for (const QString& f : files) std::printf("%s\n", qPrintable(f));
      QCoreApplication::exit(0);
    });
    poll->start(100);
    w.resize(1400, 860);  // the figures' size follows the views'
    w.show();
    return QApplication::exec();
  }
  for (const QString& folder : args.positionalArguments()) w.addModelFolder(folder);
  w.show();
  if (args.isSet("screenshots")) {
    auto* tour = new ScreenshotTour(&w, args.value("screenshots"), args.value("demo-text"), &w);
    tour->start();
  }
  return QApplication::exec();
}
