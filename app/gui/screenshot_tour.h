// The screenshot mode (tools/screenshots.sh): configures a small demo comparison in the real window — the models
// given on the command line, perplexity vs length and passkey, two RoPE settings —, launches it on the CPU worker,
// waits for the queue to finish and saves PNGs of the main views, then the RoPE study preset applied (not launched),
// then quits (exit code 1 on failure or timeout).
#pragma once

#include <QObject>
#include <QString>

class MainWindow;

class ScreenshotTour : public QObject {
  Q_OBJECT
 public:
  ScreenshotTour(MainWindow* window, QString out_dir, QString demo_text, QObject* parent = nullptr);
  void start();

 private:
  void configure();
  void capture();
  void fail(const QString& why);
  MainWindow* w_;
  QString out_, text_;
  int waited_ms_ = 0;
};
