#include "screenshot_tour.h"

#include <QApplication>
#include <QDir>
#include <QImage>
#include <QPixmap>
#include <QTabWidget>
#include <QTimer>
#include <cstdio>

#include "analysis_view.h"
#include "figure_exporter.h"
#include "main_window.h"
#include "model_library.h"
#include "ppl_plot_view.h"
#include "rope_editor.h"
#include "run_queue.h"
#include "task_builder.h"

namespace {
// 8-bit palette: widgets use few colours, so the committed PNGs shrink about threefold with no visible change.
QImage small(const QPixmap& p) { return p.toImage().convertToFormat(QImage::Format_Indexed8, Qt::ThresholdDither | Qt::AvoidDither); }
}  // namespace

ScreenshotTour::ScreenshotTour(MainWindow* window, QString out_dir, QString demo_text, QObject* parent)
    : QObject(parent), w_(window), out_(std::move(out_dir)), text_(std::move(demo_text)) {}

void ScreenshotTour::fail(const QString& why) {
  std::fprintf(stderr, "screenshots: %s\n", qPrintable(why));
  QApplication::exit(1);
}

void ScreenshotTour::start() {
  // wait until the library knows every model
  auto* poll = new QTimer(this);
  connect(poll, &QTimer::timeout, this, [this, poll] {
    waited_ms_ += 200;
    bool pending = false;
    for (const auto& e : w_->library()->entries()) pending |= e.pending;
    pending |= !w_->taskBuilder()->hasCatalog();
    if (!pending) {
      poll->stop();
      configure();
    } else if (waited_ms_ > 30000) {
      poll->stop();
      fail("models were not inspected (or the task list not read) within 30 s");
    }
  });
  poll->start(200);
}

void ScreenshotTour::configure() {
  TaskBuilder* t = w_->taskBuilder();
  for (const QString& name : t->instances()) t->setTaskEnabled(name, false);
  t->setTaskEnabled("ppl_vs_length", true);
  t->setField("ppl_vs_length", "data", text_);
  t->setField("ppl_vs_length", "lengths", "32..512 x2");
  t->setTaskEnabled("passkey", true);
  t->setField("passkey", "lengths", "300:600:100");
  t->setField("passkey", "depths", "0:1:0.25");
  t->setField("passkey", "trials", "2");
  RopeSetting own, linear;
  linear.method = "linear";
  linear.set("factor", "2");
  w_->ropeEditor()->setSettings({own, linear});
  w_->pplView()->setLogX(true);  // lengths double: a log₂ axis spaces them evenly
  w_->setupTabs()->setCurrentIndex(0);
  if (w_->launch() == 0) return fail("launch refused: " + w_->launchProblems().join("; "));
  // a first picture while runs are in flight (the queue with progress bars)
  QTimer::singleShot(1500, this, [this] {
    QDir().mkpath(out_);
    small(w_->grab()).save(QDir(out_).filePath("queue-running.png"));
  });
  waited_ms_ = 0;
  auto* poll = new QTimer(this);
  connect(poll, &QTimer::timeout, this, [this, poll] {
    waited_ms_ += 250;
    if (!w_->queue()->hasActiveWork()) {
      poll->stop();
      QTimer::singleShot(300, this, &ScreenshotTour::capture);
    } else if (waited_ms_ > 600000) {  // ~1 min alone on two cores; much longer beside other builds
      poll->stop();
      fail("the demo run did not finish within 10 minutes");
    }
  });
  poll->start(250);
}

void ScreenshotTour::capture() {
  QDir().mkpath(out_);
  const QDir d(out_);
  bool ok = true;
  auto shot = [&](const QString& name) {
    QApplication::processEvents();
    ok &= small(w_->grab()).save(d.filePath(name));
  };
  w_->setupTabs()->setCurrentIndex(0);
  w_->resultTabs()->setCurrentIndex(0);
  shot("workbench-perplexity.png");
  // the same figure as File ▸ Export figure writes it for a paper: two columns (7 in) at 8 pt, one panel per unit
  // (the BPE model per token, the byte-level model per byte), one legend
  {
    FigureSize paper = FigureSize::twoColumns(FigureExporter::preferredAspect(w_->pplView()->plot()));
    paper.dpi = 150;
    ok &= FigureExporter::save(w_->pplView()->plot(), d.filePath("figure-panels.png"), paper);
  }
  w_->setupTabs()->setCurrentIndex(1);
  w_->resultTabs()->setCurrentIndex(1);
  shot("passkey-heatmaps.png");
  // the Analysis tab: per-token perplexity ranked by RoPE method (mean, best, std, n over the lengths)
  for (int i = 0; i < w_->resultTabs()->count(); ++i)
    if (w_->resultTabs()->tabText(i) == QObject::tr("Analysis")) w_->resultTabs()->setCurrentIndex(i);
  w_->analysisView()->setMode(AnalysisView::Mode::Summary);
  w_->analysisView()->setGroupBy(lmscope::analysis::GroupBy::Method);
  for (const QString& m : w_->analysisView()->metricChoices())
    if (m.contains("ppl")) {
      w_->analysisView()->setMetric(m);
      break;
    }
  shot("analysis-summary.png");
  // the RoPE editor with a grid sweep (not launched: it shows how the count grows before launch)
  RopeSetting yarn;
  yarn.method = "yarn";
  yarn.set("factor", "2, 4");
  yarn.set("original_max_position_embeddings", "256, 512");
  w_->ropeEditor()->addSetting(yarn);
  w_->setupTabs()->setCurrentIndex(2);
  for (int i = 0; i < w_->resultTabs()->count(); ++i)  // by name: tabs were added before it over time
    if (w_->resultTabs()->tabText(i) == QObject::tr("Comparison")) w_->resultTabs()->setCurrentIndex(i);
  shot("comparison-table.png");
  // the RoPE study preset as it would launch on the ticked models (not launched: 43 settings × 3 tasks per model),
  // with the data check's words and the llama3 rows' note on their original context of 131072
  w_->applyPreset("RoPE study");
  w_->setupTabs()->setCurrentIndex(2);
  w_->ropeEditor()->selectRow(1);
  w_->resultTabs()->setCurrentIndex(0);
  shot("rope-study.png");
  for (const auto& j : w_->queue()->jobs())
    if (j.state == RunJob::State::Failed) return fail("a demo job failed: " + j.message);
  if (!ok) return fail("could not write the PNGs");
  std::printf("screenshots written to %s\n", qPrintable(out_));
  w_->close();
  QApplication::exit(0);
}
