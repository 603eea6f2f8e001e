// Drives the real window offscreen: add checkpoint folders and watch the engine's answers arrive; configure tasks
// and RoPE settings; launch on the CPU worker and watch the plot, heatmaps and table fill; export; reopen and see
// the past runs; close while running; a worker killed mid-run.
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QScrollBar>
#include <QSettings>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <fstream>
#include <qcustomplot.h>

#include "about_box.h"
#include "analysis_view.h"
#include "comparison_table_model.h"
#include "lmscope/random_checkpoint.h"
#include "lmscope/version.h"
#include "main_window.h"
#include "model_library.h"
#include "passkey_heatmap_view.h"
#include "ppl_plot_view.h"
#include "result_set.h"
#include "rope_editor.h"
#include "run_details_view.h"
#include "run_queue.h"
#include "run_spec_builder.h"
#include "support/test_support.h"
#include "table_roles.h"
#include "run_presets.h"
#include "task_builder.h"
#include "task_catalog.h"

namespace {
QString qs(const std::filesystem::path& p) { return QString::fromStdString(p.string()); }

QByteArray readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// A byte-level Llama (vocab 256, tokenizer "bytes": no tokenizer files needed) with room for 1024 positions.
void writeByteModel(const std::filesystem::path& dir, int seed = 1) {
  lmscope::write_random_checkpoint(
      lmscope::test::tiny_llama_config({{"vocab_size", 256}, {"max_position_embeddings", 1024}}).dump(), dir,
      lmscope::RandomCheckpointOptions{static_cast<std::uint64_t>(seed)});
}

void writeText(const std::filesystem::path& p, int words) {
  std::ofstream f(p);
  const char* w[] = {"the", "river", "stone", "reads", "a", "long", "text", "and", "model", "of"};
  for (int i = 0; i < words; ++i) f << w[(i * 7 + i / 3) % 10] << ' ';
}

WorkbenchOptions options(const QTemporaryDir& store_dir, bool history = false) {
  WorkbenchOptions o;
  o.cli = LMSCOPE_CLI;
  o.store = store_dir.filePath("results.sqlite");
  o.restore_library = false;
  o.load_history = history;
  return o;
}

// The engine's task schema, as `lmscope-cli tasks --json` prints it (the window asks for it the same way).
TaskCatalog engineCatalog() {
  QProcess p;
  p.start(LMSCOPE_CLI, {"tasks", "--json"});
  p.waitForFinished(60000);
  const auto c = TaskCatalog::fromJson(QJsonDocument::fromJson(p.readAllStandardOutput()).object());
  if (!c) qFatal("lmscope-cli tasks --json gave no task schema");
  return *c;
}

// Ticks only ppl_vs_length (lengths 64, 128, 192, 256 on `text`) and a small passkey grid (≥ 300 byte tokens).
void configureTasks(TaskBuilder* t, const QString& text, const QString& passkey_lengths = "300, 400", const QString& trials = "1") {
  QTRY_VERIFY_WITH_TIMEOUT(t->hasCatalog(), 30000);  // the forms come from the engine's schema
  for (const QString& name : t->instances()) t->setTaskEnabled(name, false);
  t->setTaskEnabled("ppl_vs_length", true);
  t->setField("ppl_vs_length", "data", text);
  t->setField("ppl_vs_length", "lengths", "64:256:64");
  t->setTaskEnabled("passkey", true);
  t->setField("passkey", "lengths", passkey_lengths);
  t->setField("passkey", "depths", "0, 1");
  t->setField("passkey", "trials", trials);
}
}  // namespace

class MainWindowTest : public QObject {
  Q_OBJECT
  QTemporaryDir config_;

 private slots:
  void initTestCase() {
    // QSettings of this test go to a temporary folder, never to the user's
    qputenv("XDG_CONFIG_HOME", config_.path().toUtf8());
    QCoreApplication::setOrganizationName("lmscope-tests");
  }

  void demoQueuesTheDemoComparisonAndFillsTheViews() {
    QTemporaryDir store;
    MainWindow w(options(store));
    w.show();
    auto* demo = w.findChild<QAction*>("demo_action");
    QVERIFY(demo);
    demo->trigger();
    RunQueue* q = w.queue();
    QTRY_COMPARE_WITH_TIMEOUT(q->rowCount(), 3, 30000);  // one job per demo model
    // ~100 s alone on two cores; beside other tests (ctest -j2) it has needed 182 s: a bound, not a speed test.
    QTRY_VERIFY_WITH_TIMEOUT(!q->hasActiveWork(), 480000);
    for (const auto& j : q->jobs()) QVERIFY2(j.state == RunJob::State::Done, qPrintable(j.title + ": " + j.message));
    QCOMPARE(w.pplView()->lineCount(), 3);
    QCOMPARE(w.passkeyView()->mapCount(), 3);
    QCOMPARE(w.comparison()->rowCount(), 3);
    QCOMPARE(w.library()->entries().size(), 3);
    QSettings().remove("library");  // the demo folders went into the recent list; the next tests count theirs
  }

  void helpAboutStatesTheVersion() {
    QTemporaryDir store;
    MainWindow w(options(store));
    auto* about = w.findChild<QAction*>("about_action");
    QVERIFY(about);
    QCOMPARE(about->text(), QString("About lmscope"));
    const QString text = aboutText();  // what the box shows (triggering it would wait for a click)
    QVERIFY2(text.contains(QString::fromUtf8(lmscope::version())), qPrintable(text));
    QVERIFY2(text.contains(QString::fromUtf8(lmscope::revision())), qPrintable(text));
  }

  void addingAGoodAndABadFolderShowsBoth() {
    lmscope::test::TempDir dir;
    lmscope::write_random_checkpoint(lmscope::test::tiny_llama_config().dump(), dir.path / "good");
    MainWindow w(LMSCOPE_CLI);
    w.show();
    w.addModelFolder(qs(dir.path / "good"));
    w.addModelFolder(qs(dir.path / "missing"));
    ModelLibrary* lib = w.library();
    QCOMPARE(lib->rowCount(), 2);
    QTRY_VERIFY_WITH_TIMEOUT(!lib->entries()[0].pending && !lib->entries()[1].pending, 10000);
    QCOMPARE(lib->data(lib->index(0, ModelLibrary::Family), Qt::DisplayRole).toString(), QString("llama (transformers)"));
    QCOMPARE(lib->entries()[0].info["parameters"].toInt(), 17568);  // as CheckpointTest counts it
    QCOMPARE(lib->data(lib->index(0, ModelLibrary::Status), Qt::DisplayRole).toString(), QString("loads"));
    QVERIFY(lib->entries()[1].error.contains("not a folder"));
    QVERIFY(lib->data(lib->index(1, ModelLibrary::Status), Qt::DisplayRole).toString().startsWith("error:"));
    // a folder that does not load is unticked and cannot be ticked
    QVERIFY(!lib->entries()[1].use);
    QCOMPARE(lib->data(lib->index(1, ModelLibrary::Name), Qt::CheckStateRole).toInt(), int(Qt::Unchecked));
    QVERIFY(!(lib->flags(lib->index(1, ModelLibrary::Name)) & Qt::ItemIsUserCheckable));
    lib->setUse(1, true);
    QVERIFY(!lib->entries()[1].use);
    QVERIFY(lib->entries()[0].use && (lib->flags(lib->index(0, ModelLibrary::Name)) & Qt::ItemIsUserCheckable));
    // no tokenizer files: bytes by default; only loading, ticked models are launched
    QCOMPARE(lib->data(lib->index(0, ModelLibrary::Tokenizer), Qt::DisplayRole).toString(), QString("bytes"));
    QCOMPARE(lib->chosen().size(), 1);
    // adding the same folder again does not duplicate it
    w.addModelFolder(qs(dir.path / "good"));
    QCOMPARE(lib->rowCount(), 2);
    // the recent list remembers both
    QCOMPARE(QSettings().value("library/recent").toStringList().size(), 2);
  }

  void theLibraryAndTaskSettingsComeBackNextTime() {
    lmscope::test::TempDir dir;
    QTemporaryDir store;
    writeByteModel(dir.path / "keep");
    writeByteModel(dir.path / "skip", 2);
    {
      WorkbenchOptions o = options(store);
      o.restore_library = true;
      MainWindow w(o);
      w.addModelFolder(qs(dir.path / "keep"));
      w.addModelFolder(qs(dir.path / "skip"));
      QTRY_VERIFY_WITH_TIMEOUT(!w.library()->entries()[1].pending, 10000);
      w.library()->setTokenizer(0, "");  // the folder's own
      w.library()->setUse(1, false);
      w.taskBuilder()->setTaskEnabled("wikitext", true);
      w.taskBuilder()->setField("passkey", "trials", "7");
      QTRY_VERIFY_WITH_TIMEOUT(w.taskBuilder()->hasCatalog(), 30000);
      // a second instance of a task with its own data and alias
      const QString id = w.taskBuilder()->addInstance("ppl_vs_length", "ppl:second");
      QCOMPARE(id, QString("ppl_vs_length#2"));
      w.taskBuilder()->setField(id, "lengths", "64, 128");
      RopeSetting yarn;
      yarn.method = "yarn";
      yarn.set("factor", "2:4:2");
      yarn.set("original_max_position_embeddings", "131072");
      w.ropeEditor()->setSettings({RopeSetting{}, yarn});
      w.show();
      w.resize(1111, 777);
      QApplication::processEvents();
      w.close();
    }
    WorkbenchOptions o = options(store);
    o.restore_library = true;
    MainWindow w(o);
    ModelLibrary* lib = w.library();
    QCOMPARE(lib->rowCount(), 2);
    QCOMPARE(lib->entries()[0].folder, qs(dir.path / "keep"));
    QCOMPARE(lib->entries()[0].tokenizer, QString());
    QCOMPARE(lib->entries()[1].tokenizer, QString("bytes"));
    QVERIFY(lib->entries()[0].use && !lib->entries()[1].use);
    QTRY_VERIFY_WITH_TIMEOUT(w.taskBuilder()->hasCatalog(), 30000);
    QVERIFY(w.taskBuilder()->taskEnabled("wikitext"));
    QCOMPARE(w.taskBuilder()->field("passkey", "trials"), QString("7"));
    QVERIFY(w.taskBuilder()->instances().contains("ppl_vs_length#2"));
    QVERIFY(w.taskBuilder()->taskEnabled("ppl_vs_length#2"));
    QCOMPARE(w.taskBuilder()->field("ppl_vs_length#2", "alias"), QString("ppl:second"));
    QCOMPARE(w.taskBuilder()->field("ppl_vs_length#2", "lengths"), QString("64, 128"));
    // the RoPE rows as typed, and the window's size
    QCOMPARE(w.ropeEditor()->settings().size(), 2);
    QCOMPARE(w.ropeEditor()->settings()[1].method, QString("yarn"));
    QCOMPARE(w.ropeEditor()->settings()[1].value("factor"), QString("2:4:2"));
    QCOMPARE(w.ropeEditor()->count(), 3);
    QCOMPARE(w.size(), QSize(1111, 777));
    QTRY_VERIFY_WITH_TIMEOUT(!lib->entries()[1].pending, 10000);
    QSettings().clear();  // later tests start from nothing
  }

  void recallTaskSettingsBecomeItsSpecEntry() {
    QTemporaryDir dir;
    const QString a = dir.filePath("swde.jsonl"), b = dir.filePath("fda.jsonl");
    for (const QString& f : {a, b}) writeText(f.toStdString(), 3);
    TaskBuilder t;
    t.setCatalog(engineCatalog());
    for (const QString& name : t.instances()) t.setTaskEnabled(name, false);
    t.setTaskEnabled("recall", true);
    QVERIFY2(t.problems().join("\n").contains("recall: choose the data files"), qPrintable(t.problems().join("\n")));
    t.setField("recall", "data", a + " ; " + b);
    QCOMPARE(t.problems(), QStringList{});
    const QJsonObject o = t.tasks().at(0).toObject();
    QCOMPARE(o["task"].toString(), QString("recall"));
    QCOMPARE(o["data"].toArray(), (QJsonArray{a, b}));
    QCOMPARE(o["max_new_tokens"].toInteger(), 48);
    QCOMPARE(o["until"].toString(), QString("newline"));
    t.setField("recall", "until", "none");
    QCOMPARE(t.tasks().at(0).toObject()["until"].toString(), QString("none"));
    t.setField("recall", "data", a + "; " + dir.filePath("missing.jsonl"));
    QVERIFY(t.problems().join("\n").contains("missing.jsonl' is not a file"));
  }

  void aMissingEngineIsReportedNotFatal() {
    MainWindow w("/nonexistent/lmscope-cli");
    w.addModelFolder("/tmp");
    ModelLibrary* lib = w.library();
    QTRY_VERIFY_WITH_TIMEOUT(!lib->entries()[0].pending, 10000);
    QVERIFY(lib->entries()[0].error.contains("cannot start the engine"));
    // no task list without the engine: said in place of the forms and before launch
    QTRY_VERIFY_WITH_TIMEOUT(w.taskBuilder()->problems().join(" ").contains("could not be read from the engine"), 10000);
    QVERIFY(w.launchProblems().join(" ").contains("could not be read from the engine"));
  }

  void taskFormsComeFromTheEngineSchema() {
    const TaskCatalog catalog = engineCatalog();
    TaskBuilder t;
    // what is set before the schema comes is applied when it comes
    t.setTaskEnabled("passkey", true);
    t.setField("passkey", "trials", "9");
    QVERIFY(!t.hasCatalog());
    QVERIFY(t.problems().join(" ").contains("has not come from the engine"));
    t.setCatalog(catalog);
    QVERIFY(t.taskEnabled("passkey"));
    QCOMPARE(t.field("passkey", "trials"), QString("9"));
    // one form per task of the schema, one editor per own setting (and the alias), defaults as the engine has them
    QCOMPARE(t.instances(), catalog.names());
    for (const TaskInfo& task : catalog.tasks())
      for (const TaskSettingInfo& s : task.settings)
        if ((!s.common || s.key == "alias") && s.synonym_of.isEmpty())
          QVERIFY2(t.findChild<QWidget*>(task.name + "_" + s.key), qPrintable(task.name + "." + s.key));
    QVERIFY(!t.findChild<QWidget*>("longppl_length"));  // `lengths` is the one the form shows
    QCOMPARE(t.field("throughput", "seq"), QString("512"));  // the engine's default (the GUI once had 256)
    QCOMPARE(t.field("ppl_vs_length", "lengths"), QString("256, 512, 1024, 2048"));
    QCOMPARE(t.field("ppl_vs_length", "protocol"), QString("chunks"));
    QCOMPARE(t.field("compare", "bos"), QString("false"));
    QVERIFY(t.findChild<QLineEdit*>("global_batch_size"));
    QVERIFY(!t.findChild<QLineEdit*>("global_alias"));
    // typed text becomes JSON of the setting's type; ranges and choices are checked in words
    for (const QString& name : t.instances()) t.setTaskEnabled(name, false);
    t.setTaskEnabled("passkey", true);
    t.setField("passkey", "lengths", "256:512:128");
    t.setField("passkey", "depths", "0, 0.5");
    QCOMPARE(t.problems(), QStringList{});
    QJsonObject o = t.tasks().at(0).toObject();
    QCOMPARE(o["lengths"].toArray(), (QJsonArray{256, 384, 512}));
    QCOMPARE(o["depths"].toArray(), (QJsonArray{0.0, 0.5}));
    QCOMPARE(o["trials"].toInteger(), 9);
    t.setField("passkey", "depths", "0, 1.5");
    QVERIFY2(t.problems().join(" ").contains("1.5 is out of range"), qPrintable(t.problems().join(" ")));
    t.setField("passkey", "depths", "0, 1");
    t.setField("passkey", "trials", "0");
    QVERIFY2(t.problems().join(" ").contains("from 1 to"), qPrintable(t.problems().join(" ")));
    t.setField("passkey", "trials", "");
    QVERIFY(!t.tasks().at(0).toObject().contains("trials"));  // empty: the engine's default
    QCOMPARE(t.problems(), QStringList{});
    // a task's own condition: RULER's essay tasks need a haystack, the noise one does not
    t.setTaskEnabled("ruler", true);
    QVERIFY(t.problems().join(" ").contains("ruler: choose the essay haystack"));
    t.setField("ruler", "tasks", "niah_single_1");
    QCOMPARE(t.problems(), QStringList{});
    t.setField("ruler", "tasks", "niah_single_1, niah_single_9");
    QVERIFY(t.problems().join(" ").contains("'niah_single_9' is not one of"));
    t.setTaskEnabled("ruler", false);
    t.setGlobal("batch_size", "0");
    QVERIFY(t.problems().join(" ").contains("batch size"));
    t.setGlobal("batch_size", "8");
    QCOMPARE(t.globals()["batch_size"].toInteger(), 8);
    // presets tick and fill through the same forms
    t.applyPreset(RunPreset::byName("Length extrapolation", 512));
    QCOMPARE(t.enabledTasks(), (QStringList{"ppl_vs_length", "passkey"}));
    QCOMPARE(t.field("ppl_vs_length", "lengths"), QString("256..4096 x2"));
  }

  void aTaskCanBeAddedSeveralTimesEachWithItsAlias() {
    QTemporaryDir dir;
    const QString a = dir.filePath("pg19.txt"), b = dir.filePath("arxiv.txt");
    for (const QString& f : {a, b}) writeText(f.toStdString(), 50);
    {
      TaskBuilder t;
      t.setCatalog(engineCatalog());
      for (const QString& name : t.instances()) t.setTaskEnabled(name, false);
      t.setTaskEnabled("ppl_vs_length", true);
      t.setField("ppl_vs_length", "data", a);
      t.setField("ppl_vs_length", "alias", "ppl:pg19");
      // "Add another" makes a second form of the same task, ticked, with an alias of its own
      auto* add = t.findChild<QPushButton*>("ppl_vs_length_add");
      QVERIFY(add);
      add->click();
      QCOMPARE(t.instances().count("ppl_vs_length#2"), 1);
      QCOMPARE(t.taskOf("ppl_vs_length#2"), QString("ppl_vs_length"));
      QVERIFY(t.taskEnabled("ppl_vs_length#2"));
      QCOMPARE(t.field("ppl_vs_length#2", "alias"), QString("ppl_vs_length:2"));
      QVERIFY(t.findChild<QLineEdit*>("ppl_vs_length#2_data"));
      QVERIFY(t.problems().join(" ").contains("ppl_vs_length:2: choose the data file"));
      t.setField("ppl_vs_length#2", "data", b);
      t.setField("ppl_vs_length#2", "lengths", "64, 128");
      QCOMPARE(t.problems(), QStringList{});
      // aliases must differ: they name the results
      t.setField("ppl_vs_length#2", "alias", "ppl:pg19");
      QVERIFY2(t.problems().join(" ").contains("named 'ppl:pg19'"), qPrintable(t.problems().join(" ")));
      t.setField("ppl_vs_length#2", "alias", "");
      t.setField("ppl_vs_length", "alias", "");
      QVERIFY(t.problems().join(" ").contains("named 'ppl_vs_length'"));
      t.setField("ppl_vs_length", "alias", "ppl:pg19");
      t.setField("ppl_vs_length#2", "alias", "ppl:arxiv");
      QCOMPARE(t.problems(), QStringList{});
      const QJsonArray spec = t.tasks();
      QCOMPARE(spec.size(), 2);
      QCOMPARE(spec[0].toObject()["alias"].toString(), QString("ppl:pg19"));
      QCOMPARE(spec[1].toObject()["task"].toString(), QString("ppl_vs_length"));
      QCOMPARE(spec[1].toObject()["alias"].toString(), QString("ppl:arxiv"));
      QCOMPARE(spec[1].toObject()["data"].toString(), b);
      QCOMPARE(spec[1].toObject()["lengths"].toArray(), (QJsonArray{64, 128}));
      // a third, removed again
      const QString third = t.addInstance("ppl_vs_length", "ppl:c4");
      QCOMPARE(third, QString("ppl_vs_length#3"));
      t.removeInstance(third);
      QVERIFY(!t.instances().contains(third));
      t.removeInstance("ppl_vs_length");  // the first instance of a task stays
      QVERIFY(t.instances().contains("ppl_vs_length"));
      t.saveSettings();
    }
    TaskBuilder t;
    t.setCatalog(engineCatalog());
    QVERIFY(t.instances().contains("ppl_vs_length#2"));
    QVERIFY(!t.instances().contains("ppl_vs_length#3"));
    QCOMPARE(t.tasks().size(), 2);
    QCOMPARE(t.field("ppl_vs_length#2", "alias"), QString("ppl:arxiv"));
    QCOMPARE(t.field("ppl_vs_length#2", "data"), b);
    QSettings().remove("tasks");  // later tests start from nothing
  }

  void launchWatchExportAndReopen() {
    lmscope::test::TempDir dir;
    QTemporaryDir store;
    writeByteModel(dir.path / "bytes-a", 1);
    writeText(dir.path / "text.txt", 600);  // ~3,000 bytes: 11 windows of 256
    {
      MainWindow w(options(store));
      w.show();
      w.addModelFolder(qs(dir.path / "bytes-a"));
      QTRY_VERIFY_WITH_TIMEOUT(!w.library()->entries()[0].pending, 10000);
      QVERIFY(w.library()->entries()[0].error.isEmpty());
      configureTasks(w.taskBuilder(), qs(dir.path / "text.txt"));
      QVERIFY2(w.taskBuilder()->problems().isEmpty(), qPrintable(w.taskBuilder()->problems().join("; ")));

      // RoPE: the checkpoint's own + linear; a bad factor is flagged as typed and blocks the launch
      RopeEditor* rope = w.ropeEditor();
      RopeSetting linear;
      linear.method = "linear";
      rope->addSetting(linear);
      QLineEdit* factor = rope->editorFor("factor");
      QVERIFY(factor);
      QTest::keyClicks(factor, "0");
      QVERIFY(rope->errorFor("factor").contains("> 0"));
      QVERIFY(!w.launchProblems().isEmpty());
      auto* launch = w.findChild<QPushButton*>("launch");
      QVERIFY(!launch->isEnabled());
      factor->clear();
      QTest::keyClicks(factor, "2, 4");  // a sweep: two settings from one row
      QVERIFY(rope->errorFor("factor").isEmpty());
      QCOMPARE(rope->count(), 3);
      QVERIFY2(w.launchProblems().isEmpty(), qPrintable(w.launchProblems().join("; ")));
      QCOMPARE(w.findChild<QLabel*>("launch_summary")->text(),
               QString::fromUtf8("1 model(s) × 3 RoPE setting(s) × 2 task(s) = 6 task runs"));
      factor->setText("2");
      QVERIFY(launch->isEnabled());
      // the views update while units finish, not only at the end
      int partial_updates = 0;
      QObject::connect(w.results(), &ResultSet::changed, &w, [&] {
        for (const auto& r : w.results()->runs()) partial_updates += r.complete ? 0 : 1;
      });
      QTest::mouseClick(launch, Qt::LeftButton);

      RunQueue* q = w.queue();
      QCOMPARE(q->rowCount(), 2);
      QTRY_VERIFY_WITH_TIMEOUT(!q->hasActiveWork(), 50000);
      for (const auto& j : q->jobs()) QVERIFY2(j.state == RunJob::State::Done, qPrintable(j.title + ": " + j.message));
      QCOMPARE(q->jobs()[0].units_total, 4 + 4);  // 4 lengths + 2 × 2 passkey cells
      QCOMPARE(q->data(q->index(0, RunQueue::Tasks), Qt::DisplayRole).toString(), QString("ppl_vs_length, passkey"));
      QCOMPARE(q->data(q->index(0, RunQueue::Progress), RunQueue::FractionRole).toDouble(), 1.0);

      QVERIFY(partial_updates > 0);
      // live views filled
      PplPlotView* ppl = w.pplView();
      QCOMPARE(ppl->lineCount(), 2);
      QCOMPARE(ppl->pointCount(), 8);
      for (const auto& s : ppl->series())
        for (double p : s.ppl) QVERIFY2(p > 150 && p < 400, "a random byte model is near chance (256)");
      QCOMPARE(w.passkeyView()->mapCount(), 2);
      QCOMPARE(w.passkeyView()->grids()[0].cellsDone(), 4);
      ComparisonTableModel* cmp = w.comparison();
      QCOMPARE(cmp->rowCount(), 2);
      QCOMPARE(cmp->headerData(1, Qt::Horizontal, Qt::DisplayRole).toString(), QString("ppl_vs_length ppl@64"));
      int best = 0;
      for (int r = 0; r < 2; ++r) best += cmp->data(cmp->index(r, 1), TableRole::Best).toBool() ? 1 : 0;
      QCOMPARE(best, 1);
      // details of a run: its spec and what the worker said
      const QString html = RunDetailsView::describe(q->jobs()[1]);
      QVERIFY(html.contains("linear:factor=2") && html.contains("passkey"));
      // once the queue is idle the store's provenance joins this session's runs (which stay this session's)
      QTRY_VERIFY_WITH_TIMEOUT(w.results()->runs()[0].provenance.contains("weights_fingerprint"), 10000);
      for (const auto& r : w.results()->runs()) QVERIFY(!r.from_store);
      const QString row = RunDetailsView::describe("bytes-a", w.results()->runsOf("bytes-a"));
      QVERIFY(row.contains("weights_fingerprint") && row.contains("ppl@256") && row.contains("data_hash"));
      // a finished job's details carry the provenance of its task runs too
      const QString job = RunDetailsView::describe(q->jobs()[0], w.results()->runs());
      QVERIFY2(job.contains("Provenance") && job.contains("weights_fingerprint"), qPrintable(job));
      QVERIFY(!RunDetailsView::describe(q->jobs()[0]).contains("weights_fingerprint"));
      // the hover label of the right-most point stays inside the plot
      double right = 0, at_right = 0;
      for (const auto& s : ppl->series())
        for (int k = 0; k < s.lengths.size(); ++k)
          if (s.lengths[k] >= right) right = s.lengths[k], at_right = s.ppl[k];
      QVERIFY(!ppl->hoverTextAt(QPointF(ppl->plot()->xAxis->coordToPixel(right), ppl->plot()->yAxis->coordToPixel(at_right))).isEmpty());
      QVERIFY(QRectF(ppl->plot()->axisRect()->rect()).adjusted(-1, -1, 1, 1).contains(ppl->hoverRect()));

      // exports
      QTemporaryDir out;
      QString err;
      QVERIFY2(w.exportFigure("perplexity", out.filePath("ppl.png"), 200, &err), qPrintable(err));
      QVERIFY(readAll(out.filePath("ppl.png")).startsWith("\x89PNG\r\n\x1a\n"));
      QVERIFY(QImage(out.filePath("ppl.png")).width() > 1000);  // 200 DPI
      QVERIFY(w.exportFigure("passkey", out.filePath("passkey.pdf"), -1, &err));
      QVERIFY(readAll(out.filePath("passkey.pdf")).startsWith("%PDF"));
      QVERIFY(w.exportFigure("perplexity", out.filePath("ppl.svg"), -1, &err));
      QVERIFY(readAll(out.filePath("ppl.svg")).contains("<svg"));
      QVERIFY(w.exportTable("comparison", out.filePath("cmp.csv"), &err));
      const QStringList csv = QString::fromUtf8(readAll(out.filePath("cmp.csv"))).trimmed().split('\n');
      QCOMPARE(csv.size(), 3);
      QVERIFY(csv[0].startsWith(QString::fromUtf8("model · setting,ppl_vs_length ppl@64,ppl_vs_length ppl@128")));
      QVERIFY(csv[2].startsWith(QString::fromUtf8("bytes-a · linear:factor=2,")));
      QVERIFY(w.exportTable("comparison", out.filePath("cmp.tex"), &err));
      QVERIFY(readAll(out.filePath("cmp.tex")).contains("\\toprule"));
      QVERIFY(w.exportTable("comparison", out.filePath("cmp.md"), &err));
      QVERIFY(readAll(out.filePath("cmp.md")).contains("| ---: |"));
      QVERIFY(w.exportTable("perplexity", out.filePath("ppl.json"), &err));
      QCOMPARE(QJsonDocument::fromJson(readAll(out.filePath("ppl.json"))).object()["rows"].toArray().size(), 4);
      const QStringList report = w.exportReport(out.filePath("report"), &err);
      QVERIFY2(err.isEmpty(), qPrintable(err));
      // figures, tables, index.md, and the analysis section: the two RoPE methods ranked by perplexity, its
      // per-length means and top 10 (no correlation: too few pairs, said in the notes); the model is byte-level, so its
      // perplexity is per byte and named so
      QCOMPARE(report.size(), 2 * 3 + 3 * 4 + 1 + 3 * 4);
      QVERIFY(report.contains(out.filePath("report/analysis_methods_ppl_vs_length_ppl_per_byte.tex")));
      const QString index = QString::fromUtf8(readAll(out.filePath("report/index.md")));
      QVERIFY(index.contains("## analysis_top10_ppl_vs_length_ppl_per_byte"));
      QVERIFY(index.contains("## Analysis notes"));
      // the Analysis tab ranks the same methods
      AnalysisView* analysis = w.analysisView();
      analysis->setMode(AnalysisView::Mode::Summary);
      QVERIFY(analysis->setMetric(QString::fromUtf8("ppl_vs_length · ppl (per byte)")));
      analysis->setGroupBy(lmscope::analysis::GroupBy::Method);
      QCOMPARE(analysis->table()->rowCount(), 2);
      w.close();
    }
    // reopening shows the past runs from the store
    {
      MainWindow w(options(store, true));
      QTRY_VERIFY_WITH_TIMEOUT(w.historyLoaded(), 10000);
      QCOMPARE(w.results()->runs().size(), 4);
      for (const auto& r : w.results()->runs()) QVERIFY(r.from_store && r.complete);
      QCOMPARE(w.queue()->rowCount(), 4);
      QCOMPARE(w.pplView()->lineCount(), 2);
      QCOMPARE(w.comparison()->rowCount(), 2);
      // the same launch again is answered from the store
      w.addModelFolder(qs(dir.path / "bytes-a"));
      QTRY_VERIFY_WITH_TIMEOUT(!w.library()->entries()[0].pending, 10000);
      configureTasks(w.taskBuilder(), qs(dir.path / "text.txt"));
      QCOMPARE(w.launch(), 1);
      QTRY_VERIFY_WITH_TIMEOUT(!w.queue()->hasActiveWork(), 20000);
      QCOMPARE(w.queue()->jobs().last().message, QString("answered from the store"));
    }
  }

  void dataTheEngineWouldRefuseIsSaidBeforeLaunch() {
    lmscope::test::TempDir dir;
    QTemporaryDir store;
    writeByteModel(dir.path / "bytes-a", 1);
    {
      std::ofstream f(dir.path / "archive.txt", std::ios::binary);
      f << "PK" << '\0' << "\x03\x04 a zip file renamed";
    }
    writeText(dir.path / "short.txt", 20);  // ~100 bytes: shorter than the 256-token length asked for
    MainWindow w(options(store));
    w.addModelFolder(qs(dir.path / "bytes-a"));
    QTRY_VERIFY_WITH_TIMEOUT(!w.library()->entries()[0].pending, 10000);
    configureTasks(w.taskBuilder(), qs(dir.path / "archive.txt"));
    // checked in the background as the choices change: the launch button goes off with the engine's reason
    QTRY_VERIFY_WITH_TIMEOUT(w.launchProblems().join(' ').contains("NUL byte"), 20000);
    QVERIFY(w.launchProblems().join(' ').contains("archive.txt"));
    QVERIFY(!w.findChild<QPushButton*>("launch")->isEnabled());
    QCOMPARE(w.launch(), 0);
    QCOMPARE(w.queue()->rowCount(), 0);
    // launching at once (no time for the background check) waits for the check and refuses too
    w.taskBuilder()->setField("ppl_vs_length", "data", qs(dir.path / "short.txt"));
    QCOMPARE(w.launch(), 0);
    QCOMPARE(w.queue()->rowCount(), 0);
    QVERIFY2(w.launchProblems().join(' ').contains("no document"), qPrintable(w.launchProblems().join("; ")));
  }

  void closingAsksAndACrashFailsOnlyItsRun() {
    lmscope::test::TempDir dir;
    QTemporaryDir store;
    writeByteModel(dir.path / "slow", 3);
    writeText(dir.path / "text.txt", 300);
    MainWindow w(options(store));
    w.show();
    w.addModelFolder(qs(dir.path / "slow"));
    QTRY_VERIFY_WITH_TIMEOUT(!w.library()->entries()[0].pending, 10000);
    // 142 passkey cells × 5 trials: long enough to interrupt three times
    configureTasks(w.taskBuilder(), qs(dir.path / "text.txt"), "300:1000:10", "5");
    QCOMPARE(w.launch(), 1);
    RunQueue* q = w.queue();
    QTRY_VERIFY_WITH_TIMEOUT(q->jobs()[0].units_done >= 2, 20000);

    // kill -9 the worker: its run fails in plain words, the finished units stay in the store
    QCOMPARE(q->workerPids().size(), 1);
    ::kill(static_cast<pid_t>(q->workerPids()[0]), SIGKILL);
    QTRY_VERIFY_WITH_TIMEOUT(q->jobs()[0].state == RunJob::State::Failed, 10000);
    QVERIFY(q->jobs()[0].message.contains("stopped unexpectedly"));
    QVERIFY(q->jobs()[0].message.contains("store"));
    QVERIFY(w.results()->runs().size() >= 1);  // what finished before the crash is still shown

    // launching again resumes: a fresh worker reuses the stored units
    QCOMPARE(w.launch(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(q->jobs()[1].state == RunJob::State::Running && q->jobs()[1].units_total > 0, 20000);
    QVERIFY(q->jobs()[1].log.join('\n').contains("already in the store"));
    // cancel stops it at the next forward pass, keeping what finished
    q->cancel(1);
    QCOMPARE(q->jobs()[1].state, RunJob::State::Cancelling);
    QTRY_VERIFY_WITH_TIMEOUT(q->jobs()[1].state == RunJob::State::Cancelled, 10000);
    QVERIFY(q->jobs()[1].message.contains("kept in the store"));
    // a queued job is cancelled at once; the worker takes the next one
    QCOMPARE(w.launch(), 1);
    QCOMPARE(w.launch(), 1);
    q->cancel(3);
    QCOMPARE(q->jobs()[3].state, RunJob::State::Cancelled);
    QTRY_VERIFY_WITH_TIMEOUT(q->jobs()[2].state == RunJob::State::Running && q->jobs()[2].units_total > 0, 20000);

    // closing while it runs asks first; "no" keeps everything running
    int asked = 0;
    w.setQuitConfirmation([&](int active) {
      ++asked;
      return active == 1 && asked > 1;  // first answer no, then yes
    });
    QVERIFY(!w.close());
    QCOMPARE(asked, 1);
    QVERIFY(w.isVisible());
    QVERIFY(q->hasActiveWork());
    // "yes": the worker is asked to quit and the window closes once it has
    w.close();
    QCOMPARE(asked, 2);
    QTRY_VERIFY_WITH_TIMEOUT(!w.isVisible(), 10000);
    QCOMPARE(q->workerCount(), 0);
    QVERIFY(!q->hasActiveWork());
  }

  void openRunSpecRestoresTheComparison() {
    lmscope::test::TempDir dir;
    QTemporaryDir store, out;
    writeByteModel(dir.path / "spec-a", 1);
    writeByteModel(dir.path / "spec-b", 2);
    writeText(dir.path / "text.txt", 600);
    const QString spec = out.filePath("run.json");
    QJsonObject saved;
    QVector<RopeSetting> rows;
    {
      MainWindow w(options(store));
      w.addModelFolder(qs(dir.path / "spec-a"));
      w.addModelFolder(qs(dir.path / "spec-b"));
      QTRY_VERIFY_WITH_TIMEOUT(!w.library()->entries()[0].pending && !w.library()->entries()[1].pending, 10000);
      w.library()->setUse(0, false);  // only spec-b runs
      configureTasks(w.taskBuilder(), qs(dir.path / "text.txt"), "300, 400", "3");
      w.taskBuilder()->setField("ppl_vs_length", "protocol", "sliding");
      w.taskBuilder()->setGlobal("seed", "7");
      RopeSetting yarn, longrope;
      yarn.method = "yarn";
      yarn.set("factor", "2, 4");
      yarn.set("beta_fast", "24:48:24");
      longrope.method = "longrope";
      w.ropeEditor()->setSettings({RopeSetting{}, yarn, longrope});
      w.ropeEditor()->selectRow(2);
      w.ropeEditor()->generateLongRopeFactors("ramp", 4, w.ropeEditor()->factorCount());
      QVERIFY2(w.launchProblems().isEmpty(), qPrintable(w.launchProblems().join("; ")));
      QCOMPARE(w.ropeEditor()->count(), 1 + 4 + 1);
      QString err;
      QVERIFY2(w.saveRunSpec(spec, &err), qPrintable(err));
      saved = w.currentRun().fullSpec();
      rows = w.ropeEditor()->settings();
    }
    // the spec runs as the CLI reads it: the grid stays a grid
    const QJsonObject file = QJsonDocument::fromJson(readAll(spec)).object();
    QVERIFY(file["rope"].toArray()[1].isObject());
    // a fresh window opened on it has the same comparison
    MainWindow w(options(store));
    w.addModelFolder(qs(dir.path / "spec-a"));  // in the library, not in the spec: stays, unticked
    QString err;
    QStringList notes;
    QVERIFY2(w.openRunSpec(spec, &err, &notes), qPrintable(err));
    QVERIFY2(notes.isEmpty(), qPrintable(notes.join("; ")));
    QTRY_VERIFY_WITH_TIMEOUT(!w.library()->entries()[0].pending && !w.library()->entries()[1].pending, 10000);
    QCOMPARE(w.library()->rowCount(), 2);
    QVERIFY(!w.library()->entries()[0].use && w.library()->entries()[1].use);
    QCOMPARE(w.ropeEditor()->settings().size(), rows.size());
    for (int i = 0; i < rows.size(); ++i) QCOMPARE(w.ropeEditor()->settings()[i].expand(), rows[i].expand());
    QCOMPARE(w.ropeEditor()->settings()[1].value("beta_fast"), QString("24, 48"));  // ranges come back as lists
    QCOMPARE(w.taskBuilder()->field("ppl_vs_length", "protocol"), QString("sliding"));
    QCOMPARE(w.taskBuilder()->global("seed"), QString("7"));
    QCOMPARE(w.currentRun().fullSpec(), saved);
    QVERIFY2(w.launchProblems().isEmpty(), qPrintable(w.launchProblems().join("; ")));
    // what the window cannot take over is said, not dropped
    QJsonObject odd = file;
    QJsonArray tasks = odd["tasks"].toArray();
    tasks.append(QJsonObject{{"task", "passkey"}, {"alias", "second"}});
    tasks.append(QJsonObject{{"task", "no_such_task"}});
    odd["tasks"] = tasks;
    const QString odd_path = out.filePath("odd.json");
    QFile f(odd_path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QJsonDocument(odd).toJson());
    f.close();
    QVERIFY(w.openRunSpec(odd_path, &err, &notes));
    QVERIFY2(notes.join('\n').contains("no_such_task"), qPrintable(notes.join("; ")));
    // a second entry of a task becomes an instance with its alias
    QStringList aliases;
    for (const QString& id : w.taskBuilder()->enabledTasks()) aliases << w.taskBuilder()->field(id, "alias");
    QVERIFY2(aliases.contains("second"), qPrintable(aliases.join(", ")));
    QVERIFY(!w.openRunSpec(out.filePath("missing.json"), &err));
    QVERIFY(err.contains("missing.json"));
  }

  void queueRowsNameTheirTasksAndCountHonestly() {
    QTemporaryDir store;
    MainWindow w(options(store));
    w.show();
    w.resize(1200, 700);
    RunQueue* q = w.queue();
    // stored runs: none done (no bar), some done (a partial bar), complete
    auto stored = [](const QString& task, int done, int count, bool complete) {
      return QJsonObject{{"model", "m"}, {"setting", ""}, {"task", task}, {"units_done", done}, {"unit_count", count},
                         {"results", complete ? QJsonObject{{"metrics", QJsonObject{{"x", 1}}}} : QJsonObject{}}};
    };
    QJsonArray runs{stored("passkey", 0, 0, false), stored("ppl_vs_length", 3, 4, false), stored("wikitext", 5, 5, true)};
    for (int i = 0; i < 40; ++i) runs.append(stored("piqa", 1, 1, true));
    q->addStoredRuns(runs);
    QCOMPARE(q->data(q->index(0, RunQueue::Progress), RunQueue::FractionRole).toDouble(), -1.0);
    QCOMPARE(q->data(q->index(0, RunQueue::Progress), Qt::DisplayRole).toString(), QString("0 units"));
    QCOMPARE(q->data(q->index(1, RunQueue::Progress), RunQueue::FractionRole).toDouble(), 0.75);
    QCOMPARE(q->data(q->index(1, RunQueue::Progress), Qt::DisplayRole).toString(), QString("3 / 4 units"));
    QCOMPARE(q->data(q->index(2, RunQueue::Progress), RunQueue::FractionRole).toDouble(), 1.0);
    QCOMPARE(q->data(q->index(1, RunQueue::Tasks), Qt::DisplayRole).toString(), QString("ppl_vs_length"));
    // a job names its tasks (aliases when given); one answered from the store has no bar
    RunJob j;
    j.spec = QJsonObject{{"tasks", QJsonArray{"wikitext", QJsonObject{{"task", "ppl_vs_length"}, {"alias", "books"}}, QJsonObject{{"task", "passkey"}}}}};
    QCOMPARE(RunQueue::taskNames(j), QString("wikitext, books, passkey"));
    // the newest rows are scrolled into view
    auto* view = w.findChild<QTableView*>("queue");
    QVERIFY(view);
    QTRY_VERIFY2(view->viewport()->rect().intersects(view->visualRect(q->index(q->rowCount() - 1, 0))), "the last row is not in view");
    QVERIFY(view->verticalScrollBar()->value() > 0);
  }

  void exportDialogsRememberTheirFolder() {
    QTemporaryDir a, b;
    MainWindow::rememberFolder("export", a.filePath("ppl.png"));
    QCOMPARE(MainWindow::lastFolder("export"), a.path());
    MainWindow::rememberFolder("report", b.path());
    QCOMPARE(MainWindow::lastFolder("report"), b.path());
    QCOMPARE(MainWindow::lastFolder("export"), a.path());
    QCOMPARE(MainWindow::lastFolder("never-used"), QDir::homePath());
  }

  void cudaWithoutGpusSaysSoAndFailsItsJob() {
    lmscope::test::TempDir dir;
    QTemporaryDir store;
    writeByteModel(dir.path / "m");
    writeText(dir.path / "text.txt", 100);
    MainWindow w(options(store));
    w.addModelFolder(qs(dir.path / "m"));
    QTRY_VERIFY_WITH_TIMEOUT(!w.library()->entries()[0].pending, 10000);
    configureTasks(w.taskBuilder(), qs(dir.path / "text.txt"));
    // a spec for the CUDA backend on a queue that found no GPU
    w.queue()->setGpuCount(0);
    QJsonObject spec{{"lmscope_run", 1}, {"backend", "cuda"}, {"models", QJsonArray{qs(dir.path / "m")}}, {"tasks", QJsonArray{"passkey"}}};
    w.queue()->enqueue("cuda job", spec);
    QTRY_VERIFY_WITH_TIMEOUT(w.queue()->jobs()[0].state == RunJob::State::Failed, 5000);
    QVERIFY(w.queue()->jobs()[0].message.contains("No CUDA GPU"));
    // a bad spec comes back as the engine's words
    QJsonObject bad{{"lmscope_run", 1},
                    {"models", QJsonArray{QJsonObject{{"path", qs(dir.path / "m")}, {"tokenizer", "bytes"}}}},
                    {"tasks", QJsonArray{"no_such_task"}}};
    w.queue()->enqueue("bad job", bad);
    QTRY_VERIFY_WITH_TIMEOUT(w.queue()->jobs()[1].state == RunJob::State::Failed, 10000);
    QVERIFY2(w.queue()->jobs()[1].message.startsWith("Check the settings:"), qPrintable(w.queue()->jobs()[1].message));
    QVERIFY2(w.queue()->jobs()[1].message.contains("no_such_task"), qPrintable(w.queue()->jobs()[1].message));
  }
};

QTEST_MAIN(MainWindowTest)
#include "main_window_test.moc"
