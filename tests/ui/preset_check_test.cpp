// The study presets and their data check: the RoPE study's grid is the study's 172 runs; presets take their files
// from the data folder; a preset whose data is missing or too short does not launch and names the file; a llama3
// setting with an original context of 131072 (longer than every evaluated length) launches and runs.
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>
#include <fstream>

#include "lmscope/random_checkpoint.h"
#include "lmscope/rope.h"
#include "main_window.h"
#include "model_library.h"
#include "preset_check.h"
#include "rope_editor.h"
#include "run_presets.h"
#include "run_queue.h"
#include "support/test_support.h"
#include "task_builder.h"
#include "value_list.h"

namespace {
QString qs(const std::filesystem::path& p) { return QString::fromStdString(p.string()); }

void writeFile(const QString& path, const QByteArray& bytes) {
  QDir().mkpath(QFileInfo(path).path());
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(bytes);
}

QByteArray words(int n) {
  QByteArray out;
  const char* w[] = {"the", "river", "stone", "reads", "a", "long", "text", "and", "model", "of"};
  for (int i = 0; i < n; ++i) out += QByteArray(w[(i * 7 + i / 3) % 10]) + ' ';
  return out;
}

QByteArray jsonl(const QList<int>& doc_words) {
  QByteArray out;
  for (int n : doc_words) out += "{\"text\": \"" + words(n).trimmed() + "\"}\n";
  return out;
}

WorkbenchOptions options(const QTemporaryDir& store) {
  WorkbenchOptions o;
  o.cli = LMSCOPE_CLI;
  o.store = store.filePath("results.sqlite");
  o.restore_library = false;
  o.load_history = false;
  return o;
}

bool anyContains(const QStringList& list, const QString& words) {
  for (const QString& s : list)
    if (s.contains(words)) return true;
  return false;
}
}  // namespace

class PresetCheckTest : public QObject {
  Q_OBJECT
  QTemporaryDir config_;

 private slots:
  void initTestCase() {
    qputenv("XDG_CONFIG_HOME", config_.path().toUtf8());
    QCoreApplication::setOrganizationName("lmscope-tests");
  }

  void theRopeStudyIsTheStudysGrid() {
    RunPreset::Options o;
    o.rope_factor_count = 32;  // Llama-3.2-1B: head_dim 64
    const RunPreset p = RunPreset::byName("RoPE study", o);
    QCOMPARE(p.model, QString("Llama-3.2-1B"));
    QCOMPARE(p.tasks, (QStringList{"ppl_vs_length", "longppl", "passkey"}));
    const QStringList settings = p.ropeSettings(16384, 32);
    const auto lengths = ValueList::parseIntegers(p.fields["ppl_vs_length"].toObject()["lengths"].toString());
    QVERIFY(lengths);
    QCOMPARE(*lengths, (QVector<qint64>{2048, 4096, 8192, 16384}));
    QCOMPARE(settings.size(), 43);
    QCOMPARE(settings.size() * lengths->size(), 172);
    // the same lengths for every task of the study
    for (const char* t : {"longppl", "passkey"}) QCOMPARE(p.fields[t].toObject()["lengths"].toString(), p.fields["ppl_vs_length"].toObject()["lengths"].toString());
    // per method, as the study has it: YaRN 12, llama3 12, NTK-aware 9, linear 4, dynamic NTK 3, LongRoPE 3
    QMap<QString, int> per;
    for (const QString& s : settings) ++per[s.section(':', 0, 0)];
    QCOMPARE(per["yarn"], 12);
    QCOMPARE(per["llama3"], 12);
    QCOMPARE(per["ntk"], 9);
    QCOMPARE(per["linear"], 4);
    QCOMPARE(per["dynamic"], 3);
    QCOMPARE(per["longrope"], 3);
    // YaRN is factor {2,3,4,8} × beta_fast {24,32,48}; llama3 has the study's original context
    for (const char* f : {"2", "3", "4", "8"})
      for (const char* b : {"24", "32", "48"})
        QVERIFY(anyContains(settings, QString("yarn:factor=%1,original_max_position_embeddings=8192,beta_fast=%2").arg(f, b)));
    for (const QString& s : settings)
      if (s.startsWith("llama3")) QVERIFY2(s.contains("original_max_position_embeddings=131072"), qPrintable(s));
    // in the RoPE editor: no row is refused (the llama3 rows warn), and the count is the same
    RopeEditor ed;
    ed.setTargetLength(16384);
    ed.setFactorCount(32);
    ed.setSettings(p.rope);
    QVERIFY2(ed.problems().isEmpty(), qPrintable(ed.problems().join("; ")));
    QCOMPARE(ed.count(), 43);
    QVERIFY(anyContains(ed.warnings(), "131072"));
    // and the engine runs every one of them on Llama-3.2-1B's RoPE at 2K and 16K
    lmscope::RopeConfig base;
    base.type = lmscope::RopeType::Llama3;
    base.theta = 500000;
    base.max_position_embeddings = 131072;
    base.original_max_position_embeddings = 8192;
    base.factor = 32;
    base.low_freq_factor = 1;
    base.high_freq_factor = 4;
    for (const QString& s : settings)
      for (std::int64_t L : {2048, 16384}) {
        try {
          (void)lmscope::rope_frequencies(lmscope::apply_rope_override(base, s.toStdString()), 64, L);
        } catch (const std::exception& e) {
          QFAIL(qPrintable(s + ": " + e.what()));
        }
      }
  }

  void presetsTakeTheirFilesFromTheDataFolder() {
    QTemporaryDir data;
    RunPreset::Options o;
    o.data_folder = data.path();
    const RunPreset t3 = RunPreset::byName("Gated DeltaNet Table 3", o);
    QCOMPARE(t3.fields["wikitext"].toObject()["data"].toString(), data.filePath("wikitext-2-raw/wiki.test.raw"));
    QCOMPARE(t3.fields["arc_challenge"].toObject()["data"].toString(), data.filePath("arc_challenge/test.jsonl"));
    QCOMPARE(t3.tasks.size(), 9);
    // nothing there: every file is named as missing
    const auto issues = PresetCheck::checkPreset(t3);
    QCOMPARE(issues.size(), 9);
    for (const auto& i : issues) {
      QCOMPARE(i.kind, DataIssue::Kind::Missing);
      QVERIFY2(i.message.contains(data.path()) && i.message.contains("does not exist"), qPrintable(i.message));
    }
    // Fig. 2: six ppl_vs_length instances with aliases (the task builder adds an instance for each)
    const RunPreset f2 = RunPreset::byName("Gated DeltaNet Fig. 2", o);
    QCOMPARE(f2.entries.size(), 6);
    QCOMPARE(f2.entriesOf("ppl_vs_length").size(), 6);
    QCOMPARE(f2.extraInstances().size(), 5);
    QStringList aliases;
    for (const auto& e : f2.entries) aliases << e.toObject()["alias"].toString();
    QCOMPARE(aliases, (QStringList{"pg19", "codeparrot", "narrativeqa", "qasper", "govreport", "qmsum"}));
    QCOMPARE(f2.fields["ppl_vs_length"].toObject()["data"].toString(), data.filePath("pg19/test.jsonl"));
    const auto f2_issues = PresetCheck::checkPreset(f2);
    QCOMPARE(f2_issues.size(), 6);
    QVERIFY(f2_issues[3].task.contains("qasper") && f2_issues[3].file.endsWith("qasper/test.jsonl"));
  }

  void theSharedDataServesThePresets() {
    const QString shared = QStringLiteral(LMSCOPE_SHARED_DIR) + "/data";
    if (!QFileInfo(shared + "/README.md").exists()) QSKIP("../shared/data is absent");
    RunPreset::Options o;
    o.data_folder = shared;
    // Table 3: all there but HellaSwag (../shared/data has none: its README says so)
    const auto t3 = PresetCheck::checkPreset(RunPreset::byName("Gated DeltaNet Table 3", o));
    QCOMPARE(t3.size(), 1);
    QCOMPARE(t3[0].task, QString("hellaswag"));
    // the RoPE study: the Gutenberg books hold 16K tokens even at 5 bytes per token
    const auto rope = PresetCheck::checkPreset(RunPreset::byName("RoPE study", o));
    QVERIFY2(PresetCheck::messages(rope).isEmpty(), qPrintable(PresetCheck::messages(rope).join("; ")));
    // a plain text file is one document (as the engine reads it): WikiText's 1.29 MB serve 16K tokens, not 300K
    const QJsonArray wiki{QJsonObject{{"task", "ppl_vs_length"}, {"data", shared + "/wikitext-2-raw/wiki.test.raw"},
                                      {"lengths", QJsonArray{2048, 16384, 300000}}}};
    const auto w = PresetCheck::checkTasks(wiki);
    QCOMPARE(w.size(), 1);
    QCOMPARE(w[0].kind, DataIssue::Kind::TooShort);
    QVERIFY2(w[0].message.contains("300000") && !w[0].message.contains("16384") && w[0].message.contains("wiki.test.raw"),
             qPrintable(w[0].message));
  }

  void missingShortAndBinaryFilesAreNamed() {
    QTemporaryDir dir;
    const QString docs = dir.filePath("docs.jsonl"), bin = dir.filePath("weights.bin"), latin = dir.filePath("latin1.txt");
    writeFile(docs, jsonl({100, 300, 50}));  // the longest: 300 words, about 1,500 bytes
    writeFile(bin, QByteArray("\x00\x01\x02\x03", 4).repeated(100));
    writeFile(latin, QByteArray("caf\xe9 au lait\n"));
    const qint64 longest = PresetCheck::documents(docs).longest();
    QVERIFY(longest > 1000 && longest < 2000);
    QCOMPARE(PresetCheck::documents(docs).bytes.size(), 3);
    auto task = [&](const QString& file, const QJsonArray& lengths) {
      return QJsonArray{QJsonObject{{"task", "ppl_vs_length"}, {"data", file}, {"lengths", lengths}}};
    };
    // a byte-level model: tokens are bytes, counted exactly
    PresetCheck::Options bytes;
    bytes.byte_tokens = true;
    QVERIFY(PresetCheck::checkTasks(task(docs, {64, longest}), bytes).isEmpty());
    auto issues = PresetCheck::checkTasks(task(docs, {64, longest + 1}), bytes);
    QCOMPARE(issues.size(), 1);
    QCOMPARE(issues[0].kind, DataIssue::Kind::TooShort);
    QVERIFY(issues[0].message.contains(docs) && issues[0].message.contains(QString::number(longest + 1)));
    // a subword tokenizer: 5 bytes per token asked
    QVERIFY(PresetCheck::checkTasks(task(docs, {longest / 5})).isEmpty());
    QCOMPARE(PresetCheck::checkTasks(task(docs, {longest / 5 + 1})).size(), 1);
    // not text, not UTF-8, missing, empty
    issues = PresetCheck::checkTasks(task(bin, {64}));
    QCOMPARE(issues[0].kind, DataIssue::Kind::NotText);
    QVERIFY(issues[0].message.contains("NUL"));
    issues = PresetCheck::checkTasks(QJsonArray{QJsonObject{{"task", "wikitext"}, {"data", latin}}});
    QCOMPARE(issues[0].kind, DataIssue::Kind::NotText);
    QVERIFY(issues[0].message.contains("UTF-8"));
    issues = PresetCheck::checkTasks(QJsonArray{QJsonObject{{"task", "passkey"}, {"filler_file", dir.filePath("none.txt")}}});
    QCOMPARE(issues[0].kind, DataIssue::Kind::Missing);
    writeFile(dir.filePath("empty.jsonl"), {});
    QCOMPARE(PresetCheck::checkTasks(QJsonArray{QJsonObject{{"task", "piqa"}, {"data", dir.filePath("empty.jsonl")}}})[0].kind, DataIssue::Kind::Empty);
    // the alias names the instance
    QJsonObject aliased = task(docs, {100000})[0].toObject();
    aliased["alias"] = "books";
    QVERIFY(PresetCheck::checkTasks(QJsonArray{aliased})[0].message.startsWith("ppl_vs_length (books):"));
  }

  void aPresetWithAMissingFileDoesNotLaunch() {
    lmscope::test::TempDir dir;
    QTemporaryDir store, data;
    lmscope::write_random_checkpoint(
        lmscope::test::tiny_llama_config({{"vocab_size", 256}, {"max_position_embeddings", 1024}}).dump(), dir.path / "m",
        lmscope::RandomCheckpointOptions{1});
    MainWindow w(options(store));
    w.setDataFolder(data.path());
    QCOMPARE(w.dataFolder(), data.path());
    w.addModelFolder(qs(dir.path / "m"));
    QTRY_VERIFY_WITH_TIMEOUT(!w.library()->entries()[0].pending, 20000);
    // Table 3 with only some of its files: the others are named and nothing is queued
    writeFile(data.filePath("wikitext-2-raw/wiki.test.raw"), words(2000));
    writeFile(data.filePath("lambada_openai/test.jsonl"), jsonl({20, 30}));
    QTRY_VERIFY_WITH_TIMEOUT(w.taskBuilder()->hasCatalog(), 30000);
    w.applyPreset("Gated DeltaNet Table 3");
    QVERIFY(w.taskBuilder()->taskEnabled("piqa"));
    QCOMPARE(w.taskBuilder()->field("piqa", "data"), data.filePath("piqa/validation.jsonl"));
    const QString problems = w.launchProblems().join('\n');
    QVERIFY2(problems.contains(data.filePath("piqa/validation.jsonl")), qPrintable(problems));
    QVERIFY2(problems.contains(data.filePath("hellaswag/validation.jsonl")), qPrintable(problems));
    QVERIFY2(!problems.contains(data.filePath("wikitext-2-raw/wiki.test.raw")), qPrintable(problems));
    QCOMPARE(w.launch(), 0);
    QCOMPARE(w.queue()->rowCount(), 0);
    // the RoPE study on documents too short for 16K tokens: named, not launched
    writeFile(data.filePath("long_docs/gutenberg_books.jsonl"), jsonl({400, 900}));
    w.applyPreset("RoPE study");
    QCOMPARE(w.ropeEditor()->count(), 43);
    const QString short_problems = w.launchProblems().join('\n');
    QVERIFY2(short_problems.contains(data.filePath("long_docs/gutenberg_books.jsonl")) && short_problems.contains("16384"),
             qPrintable(short_problems));
    QCOMPARE(w.launch(), 0);
    QCOMPARE(w.queue()->rowCount(), 0);
    // Fig. 2: every corpus becomes an instance of ppl_vs_length with its alias and file
    w.applyPreset("Gated DeltaNet Fig. 2");
    const QStringList on = w.taskBuilder()->enabledTasks();
    QCOMPARE(on.size(), 6);
    QCOMPARE(w.taskBuilder()->field(on[3], "alias"), QString("qasper"));
    QCOMPARE(w.taskBuilder()->field(on[3], "data"), data.filePath("qasper/test.jsonl"));
  }

  void aLlama3SettingWithOriginal131072Launches() {
    lmscope::test::TempDir dir;
    QTemporaryDir store;
    lmscope::write_random_checkpoint(
        lmscope::test::tiny_llama_config({{"vocab_size", 256}, {"max_position_embeddings", 1024}}).dump(), dir.path / "m",
        lmscope::RandomCheckpointOptions{2});
    writeFile(qs(dir.path / "text.txt"), words(300));
    MainWindow w(options(store));
    w.addModelFolder(qs(dir.path / "m"));
    QTRY_VERIFY_WITH_TIMEOUT(!w.library()->entries()[0].pending, 20000);
    TaskBuilder* t = w.taskBuilder();
    QTRY_VERIFY_WITH_TIMEOUT(t->hasCatalog(), 30000);
    for (const QString& name : t->instances()) t->setTaskEnabled(name, false);
    t->setTaskEnabled("ppl_vs_length", true);
    t->setField("ppl_vs_length", "data", qs(dir.path / "text.txt"));
    t->setField("ppl_vs_length", "lengths", "64, 128");
    RopeSetting study;
    study.method = "llama3";
    study.params = {{"factor", "4"}, {"low_freq_factor", "1"}, {"high_freq_factor", "4"}, {"original_max_position_embeddings", "131072"}};
    w.ropeEditor()->setSettings({study});
    QVERIFY2(w.launchProblems().isEmpty(), qPrintable(w.launchProblems().join("; ")));
    QVERIFY(anyContains(w.launchWarnings(), "131072"));
    QVERIFY(w.findChild<QLabel*>("launch_warnings")->text().contains("131072"));
    QCOMPARE(w.launch(), 1);
    RunQueue* q = w.queue();
    QTRY_VERIFY_WITH_TIMEOUT(!q->hasActiveWork(), 60000);
    QVERIFY2(q->jobs()[0].state == RunJob::State::Done, qPrintable(q->jobs()[0].message));
    QCOMPARE(q->jobs()[0].title, QString::fromUtf8("m · llama3:factor=4,low_freq_factor=1,high_freq_factor=4,original_max_position_embeddings=131072"));
    // a too-short document for a byte-level model is counted exactly and refused before launch
    t->setField("ppl_vs_length", "lengths", "64, 4096");
    QVERIFY2(anyContains(w.launchProblems(), "4096"), qPrintable(w.launchProblems().join("; ")));
    QCOMPARE(w.launch(), 0);
  }
};

QTEST_MAIN(PresetCheckTest)
#include "preset_check_test.moc"
