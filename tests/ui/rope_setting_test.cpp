// The RoPE editor's rules and grid expansion, the value-list syntax, and the run specs the window builds — checked
// against the engine's own spec parser and grid expansion, so the count shown before launch is what runs.
#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLineEdit>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>
#include <set>

#include "lmscope/error.h"
#include "lmscope/rope.h"
#include "lmscope/run/run_spec.h"
#include "rope_editor.h"
#include "rope_setting.h"
#include "run_presets.h"
#include "run_spec_builder.h"
#include "value_list.h"

namespace {
nlohmann::json toNlohmann(const QJsonObject& o) {
  return nlohmann::json::parse(QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString());
}
RopeSetting make(const QString& method, const QVector<QPair<QString, QString>>& params) {
  RopeSetting s;
  s.method = method;
  s.params = params;
  return s;
}
bool hasIssue(const RopeSetting& s, const QString& key, const QString& words, qint64 target = 0, int factors = 0) {
  for (const auto& i : s.errors(target, factors))
    if (i.key == key && i.message.contains(words)) return true;
  return false;
}
bool hasWarning(const RopeSetting& s, const QString& key, const QString& words, qint64 target = 0) {
  for (const auto& i : s.warnings(target))
    if (i.key == key && i.message.contains(words)) return true;
  return false;
}
// Llama-3.2-1B's RoPE as its config.json has it: theta 500000, llama3 scaling (factor 32, low 1, high 4, original
// 8192), 131072 positions; head_dim 64.
lmscope::RopeConfig llama32() {
  lmscope::RopeConfig c;
  c.type = lmscope::RopeType::Llama3;
  c.theta = 500000;
  c.max_position_embeddings = 131072;
  c.original_max_position_embeddings = 8192;
  c.factor = 32;
  c.low_freq_factor = 1;
  c.high_freq_factor = 4;
  return c;
}
// What `lmscope-cli run --rope S` does with an override on that checkpoint: apply it and build the frequencies at a
// length; empty when it runs, else the engine's words.
QString engineRefusal(const QString& s, std::int64_t length = 16384, const lmscope::RopeConfig& base = llama32(), std::int64_t head_dim = 64) {
  try {
    const auto cfg = lmscope::apply_rope_override(base, s.toStdString());
    (void)lmscope::rope_frequencies(cfg, head_dim, length);
    return {};
  } catch (const std::exception& e) {
    return QString::fromStdString(e.what());
  }
}
}  // namespace

class RopeSettingTest : public QObject {
  Q_OBJECT
 private slots:
  void valueListsRangesAndErrors() {
    QCOMPARE(*ValueList::parse("2, 4, 8"), (QVector<double>{2, 4, 8}));
    QCOMPARE(*ValueList::parse("256:1024:256"), (QVector<double>{256, 512, 768, 1024}));
    QCOMPARE(*ValueList::parse("0:1:0.25"), (QVector<double>{0, 0.25, 0.5, 0.75, 1}));
    QCOMPARE(*ValueList::parse("512..4096 x2"), (QVector<double>{512, 1024, 2048, 4096}));
    QCOMPARE(*ValueList::parseIntegers(" 7 "), (QVector<qint64>{7}));
    QString err;
    QVERIFY(!ValueList::parse("abc", &err));
    QVERIFY(err.contains("not a number"));
    QVERIFY(!ValueList::parse("4:1:1", &err));
    QVERIFY(!ValueList::parse("1..4 x1", &err));
    QVERIFY(!ValueList::parse("", &err));
    QVERIFY(!ValueList::parse("1:100000:1", &err));  // capped
    QVERIFY(err.contains("more than"));
    QVERIFY(!ValueList::parseIntegers("1.5", &err));
    QCOMPARE(ValueList::numberText(4.0), QString("4"));
    QCOMPARE(ValueList::numberText(0.5), QString("0.5"));
  }

  void validationMirrorsTheEngineRules() {
    QVERIFY(make("checkpoint", {}).isValid());
    QVERIFY(hasIssue(make("linear", {}), "factor", "needs factor"));
    QVERIFY(hasIssue(make("linear", {{"factor", "2, 0"}}), "factor", "> 0"));
    QVERIFY(hasIssue(make("yarn", {{"factor", "-1"}}), "factor", "> 0"));
    QVERIFY(hasIssue(make("yarn", {{"factor", "x"}}), "factor", "not a number"));
    QVERIFY(hasIssue(make("yarn", {{"factor", "2"}, {"beta_fast", "1"}, {"beta_slow", "2"}}), "beta_fast", "beta_fast > beta_slow"));
    QVERIFY(hasIssue(make("llama3", {{"factor", "8"}, {"low_freq_factor", "1"}, {"high_freq_factor", "4"}}),
                     "original_max_position_embeddings", "needs"));
    QVERIFY(hasIssue(make("llama3", {{"factor", "8"}, {"low_freq_factor", "4"}, {"high_freq_factor", "1"}, {"original_max_position_embeddings", "8192"}}),
                     "high_freq_factor", "low_freq_factor < high_freq_factor"));
    // an original context longer than every evaluated length runs: a warning beside the row, not an error
    const auto yarn = make("yarn", {{"factor", "4"}, {"original_max_position_embeddings", "4096"}});
    QVERIFY(yarn.isValid(8192));
    QVERIFY(yarn.warnings(8192).isEmpty());
    QVERIFY(yarn.isValid(2048));
    QVERIFY(hasWarning(yarn, "original_max_position_embeddings", "longer than the longest evaluated length 2048", 2048));
    QVERIFY(hasWarning(make("dynamic", {{"factor", "2"}, {"original_max_position_embeddings", "8192"}}), "original_max_position_embeddings",
                       "equals unscaled RoPE", 4096));
    // the RoPE study's llama3 setting and Llama-3.2-1B's own scaling, at 2K–16K
    const auto study = make("llama3", {{"factor", "4"}, {"low_freq_factor", "1"}, {"high_freq_factor", "4"}, {"original_max_position_embeddings", "131072"}});
    QVERIFY(study.isValid(16384));
    QVERIFY(hasWarning(study, "original_max_position_embeddings", "still rescaled", 16384));
    QVERIFY(make("llama3", {{"factor", "32"}, {"low_freq_factor", "1"}, {"high_freq_factor", "4"}, {"original_max_position_embeddings", "8192"}}).isValid(16384));
    // the engine's ranges
    QVERIFY(hasIssue(make("linear", {{"factor", "0.0001"}}), "factor", "[0.001, 1000000]"));
    QVERIFY(hasIssue(make("ntk", {{"factor", "2"}, {"theta", "2e12"}}), "theta", "1000000000000"));
    QVERIFY(hasIssue(make("yarn", {{"factor", "2"}, {"original_max_position_embeddings", "2000000000"}}), "original_max_position_embeddings", "whole number"));
    QVERIFY(hasIssue(make("yarn", {{"factor", "2"}, {"truncate", "maybe"}}), "truncate", "true or false"));
    QVERIFY(hasIssue(make("yarn", {{"factor", "4"}, {"original_max_position_embeddings", "1.5"}}), "original_max_position_embeddings", "whole number"));
    QVERIFY(hasIssue(make("default", {{"partial_rotary_factor", "1.5"}}), "partial_rotary_factor", "(0, 1]"));
    QVERIFY(hasIssue(make("ntk", {{"factor", "2"}, {"bogus", "1"}}), "bogus", "no parameter"));
    QVERIFY(hasIssue(make("longrope", {{"short_factor", "1/0/1"}, {"long_factor", "1/2/3"}}), "short_factor", "> 0"));
    // LongRoPE lists: as many entries as the chosen model has rotary frequencies
    const auto lr = make("longrope", {{"short_factor", "1/1/1"}, {"long_factor", "1/2/3"}});
    QVERIFY(lr.isValid());
    QVERIFY(lr.isValid(0, 3));
    QVERIFY(hasIssue(lr, "long_factor", "the chosen model needs 32", 0, 32));
    QVERIFY(hasIssue(make("longrope", {{"short_factor", "1/1"}, {"long_factor", "1/2/3"}}), "short_factor", "as many entries"));
    QCOMPARE(make("linear", {{"factor", "0"}}).count(), 0);
    QCOMPARE(make("linear", {{"factor", "0"}}).expand(), QStringList());
  }

  void gridsExpandIntoOverrideStrings() {
    const auto s = make("yarn", {{"factor", "2, 4"}, {"original_max_position_embeddings", "256:512:256"}});
    QCOMPARE(s.count(), 4);
    QCOMPARE(s.expand(), (QStringList{"yarn:factor=2,original_max_position_embeddings=256", "yarn:factor=2,original_max_position_embeddings=512",
                                      "yarn:factor=4,original_max_position_embeddings=256", "yarn:factor=4,original_max_position_embeddings=512"}));
    QCOMPARE(make("checkpoint", {}).expand(), QStringList{""});
    QVERIFY(make("checkpoint", {}).toSpecEntry().isNull());
    QCOMPARE(make("ntk", {{"factor", "2"}}).toSpecEntry().toString(), QString("ntk:factor=2"));
    // the grid object the spec carries expands in the engine to the same settings
    const QJsonValue grid = s.toSpecEntry();
    QVERIFY(grid.isObject());
    const auto engine = lmscope::run::expand_rope_grid(toNlohmann(grid.toObject()), "test");
    std::set<std::string> a(engine.begin(), engine.end()), b;
    for (const QString& e : s.expand()) b.insert(e.toStdString());
    QCOMPARE(a.size(), std::size_t(4));
    QVERIFY(a == b);
  }

  void specsTheEngineAcceptsWithTheCountShown() {
    RunSpecBuilder b;
    b.models = {{"/m/a", "a", "bytes"}, {"/m/b", "b", ""}};
    b.rope = QStringList{""} + make("linear", {{"factor", "2, 4"}}).expand();
    b.tasks = QJsonArray{QJsonObject{{"task", "passkey"}, {"lengths", QJsonArray{300, 400}}},
                         QJsonObject{{"task", "ppl_vs_length"}, {"data", "/d/t.txt"}, {"lengths", QJsonArray{64}}}};
    b.globals = QJsonObject{{"backend", "cpu"}, {"dtype", "fp32"}, {"seed", 7}};
    QVERIFY(b.problems().isEmpty());
    QCOMPARE(b.taskRunCount(), qint64(2 * 3 * 2));
    const auto spec = lmscope::run::parse_run_spec(toNlohmann(b.fullSpec()), "/", "gui spec");
    QCOMPARE(spec.task_run_count(), std::int64_t(12));
    QCOMPARE(spec.models[0].tokenizer, std::string("bytes"));
    QCOMPARE(spec.rope[2], std::string("linear:factor=4"));
    const auto jobs = b.jobs();
    QCOMPARE(jobs.size(), 6);
    qint64 total = 0;
    for (const auto& [title, js] : jobs) total += lmscope::run::parse_run_spec(toNlohmann(js), "/", "job").task_run_count();
    QCOMPARE(total, b.taskRunCount());
    QCOMPARE(jobs[1].first, QString::fromUtf8("a · linear:factor=2"));
    // duplicate display names are refused before launch
    b.models[1].name = "a";
    QVERIFY(!b.problems().isEmpty());
  }

  void presetsHaveTheStudiesLayouts() {
    const RunPreset rope = RunPreset::byName("RoPE study", 2048);
    QCOMPARE(rope.rope.size(), 8);
    QCOMPARE(rope.tasks, (QStringList{"ppl_vs_length", "longppl", "passkey"}));
    for (const auto& s : rope.rope) QVERIFY2(s.isValid(16384, 32), qPrintable(s.summary()));
    const RunPreset gdn = RunPreset::byName("Gated DeltaNet Table 3");
    for (const char* t : {"wikitext", "lambada_openai", "piqa", "hellaswag", "winogrande", "arc_easy", "arc_challenge", "social_iqa", "boolq"})
      QVERIFY(gdn.tasks.contains(t));
    QCOMPARE(RunPreset::byName("Length extrapolation").tasks, (QStringList{"ppl_vs_length", "passkey"}));
  }

  void switchingMethodKeepsOnlyWhatTheNewMethodTakes() {
    auto s = make("llama3", {{"factor", "8"}, {"low_freq_factor", "1"}, {"high_freq_factor", "4"}, {"original_max_position_embeddings", "8192"}});
    s.setMethod("linear");
    QCOMPARE(s.method, QString("linear"));
    QCOMPARE(s.params.size(), 1);  // factor stays; the llama3-only ones go
    QCOMPARE(s.value("factor"), QString("8"));
    QVERIFY2(s.isValid(), qPrintable(s.errors().isEmpty() ? QString() : s.errors().front().message));
    s.setMethod("yarn");
    QVERIFY(s.isValid());
    QCOMPARE(s.expand(), QStringList{"yarn:factor=8"});
    // the same through the editor's method box, as a user switches it
    RopeEditor ed;
    ed.setSettings({make("llama3", {{"factor", "8"}, {"low_freq_factor", "1"}, {"high_freq_factor", "4"}, {"original_max_position_embeddings", "8192"}})});
    ed.methodBox()->setCurrentIndex(ed.methodBox()->findData("linear"));
    QCOMPARE(ed.settings()[0].method, QString("linear"));
    QVERIFY2(ed.problems().isEmpty(), qPrintable(ed.problems().join("; ")));
    QVERIFY(ed.editorFor("factor"));
    QVERIFY(!ed.editorFor("low_freq_factor"));
    QCOMPARE(ed.expanded(), QStringList{"linear:factor=8"});
    // a parameter the method does not take (from an older spec) gets a field, so it can be cleared
    ed.setSettings({make("linear", {{"factor", "2"}, {"low_freq_factor", "1"}})});
    QVERIFY(!ed.problems().isEmpty());
    QVERIFY(ed.errorFor("low_freq_factor").contains("takes no parameter"));
    QLineEdit* stray = ed.editorFor("low_freq_factor");
    QVERIFY(stray);
    stray->clear();
    QVERIFY2(ed.problems().isEmpty(), qPrintable(ed.problems().join("; ")));
  }

  void theEditorWarnsAndStillLaunches() {
    RopeEditor ed;
    ed.setTargetLength(16384);
    ed.setSettings({RopeSetting{}, make("llama3", {{"factor", "4"}, {"low_freq_factor", "1"}, {"high_freq_factor", "4"},
                                                    {"original_max_position_embeddings", "131072"}})});
    QVERIFY2(ed.problems().isEmpty(), qPrintable(ed.problems().join("; ")));
    QCOMPARE(ed.warnings().size(), 1);
    QVERIFY(ed.warnings()[0].contains("131072"));
    QCOMPARE(ed.count(), 2);
    QVERIFY(ed.rowText(1).contains("note:"));
    ed.selectRow(1);
    QVERIFY(ed.errorFor("original_max_position_embeddings").isEmpty());
    QVERIFY(ed.warningFor("original_max_position_embeddings").contains("longer than the longest evaluated length 16384"));
    QCOMPARE(ed.expanded()[1], QString("llama3:factor=4,low_freq_factor=1,high_freq_factor=4,original_max_position_embeddings=131072"));
    QCOMPARE(engineRefusal(ed.expanded()[1]), QString());
  }

  // Every kind of setting the editor accepts is one the engine runs, and what the engine refuses the editor refuses.
  void whatTheEditorAcceptsTheEngineRuns() {
    const QVector<RopeSetting> accepted{
        make("default", {{"theta", "10000, 500000"}, {"partial_rotary_factor", "0.5, 1"}}),
        make("linear", {{"factor", "0.5, 2, 4, 8, 16"}, {"theta", "500000"}}),
        make("ntk", {{"factor", "2:10:1"}}),
        make("dynamic", {{"factor", "2, 4"}, {"original_max_position_embeddings", "2048, 8192, 131072"}}),
        make("yarn", {{"factor", "2, 3, 4, 8"}, {"original_max_position_embeddings", "8192, 131072"}, {"beta_fast", "24, 32, 48"},
                      {"beta_slow", "1, 2"}, {"attention_factor", "1.1"}, {"truncate", "false"}}),
        make("yarn", {{"factor", "40"}, {"mscale", "1"}, {"mscale_all_dim", "1"}}),
        make("llama3", {{"factor", "4, 8, 16, 32"}, {"original_max_position_embeddings", "8192, 131072"}, {"low_freq_factor", "1, 2"},
                        {"high_freq_factor", "4, 8"}}),
        make("longrope", {{"long_factor", RopeSetting::generatedFactors("ramp", 32, 8)}, {"short_factor", RopeSetting::generatedFactors("uniform", 32, 1)},
                          {"original_max_position_embeddings", "8192"}, {"factor", "8"}}),
        make("longrope", {{"long_factor", RopeSetting::generatedFactors("uniform", 32, 2)}, {"short_factor", RopeSetting::generatedFactors("uniform", 32, 1)},
                          {"attention_factor", "1.2"}}),
    };
    int n = 0;
    for (const auto& s : accepted) {
      QVERIFY2(s.isValid(16384, 32), qPrintable(s.summary() + ": " + (s.errors(16384, 32).isEmpty() ? QString() : s.errors(16384, 32).front().message)));
      for (const QString& o : s.expand())
        for (std::int64_t L : {2048, 16384}) {
          QVERIFY2(engineRefusal(o, L).isEmpty(), qPrintable(o + ": " + engineRefusal(o, L)));
          ++n;
        }
    }
    QCOMPARE(n, 2 * (4 + 5 + 9 + 6 + 48 + 1 + 32 + 1 + 1));
    // refused by both
    const QVector<RopeSetting> refused{make("linear", {{"factor", "0.0005"}}), make("yarn", {{"factor", "2"}, {"beta_fast", "1"}}),
                                       make("llama3", {{"factor", "4"}, {"low_freq_factor", "4"}, {"high_freq_factor", "1"}, {"original_max_position_embeddings", "8192"}}),
                                       make("ntk", {{"factor", "2"}, {"theta", "1e13"}})};
    for (const auto& s : refused) {
      QVERIFY2(!s.isValid(), qPrintable(s.summary()));
      QString text = s.method;  // what the row would have given: the engine refuses it too
      bool first = true;
      for (const auto& [k, v] : s.params) {
        text += (first ? ":" : ",") + k + "=" + v;
        first = false;
      }
      QVERIFY2(!engineRefusal(text).isEmpty(), qPrintable(text));
    }
    // LongRoPE with lists that do not fit the model: the editor (told the model's count) and the engine refuse it
    const auto short_lists = make("longrope", {{"long_factor", "1/2/3"}, {"short_factor", "1/1/1"}});
    QVERIFY(!short_lists.isValid(0, 32));
    QVERIFY(engineRefusal(short_lists.expand().front()).contains("32 entries"));
  }

  void longRopeFactorsFromAConfigOrGenerated() {
    const QString ramp = RopeSetting::generatedFactors("ramp", 32, 4);
    const QStringList parts = ramp.split('/');
    QCOMPARE(parts.size(), 32);
    QCOMPARE(parts.front(), QString("1"));
    QCOMPARE(parts.back(), QString("4"));
    QVERIFY(parts[16].toDouble() > 2.5 && parts[16].toDouble() < 2.6);
    QCOMPARE(RopeSetting::generatedFactors("uniform", 3, 2), QString("2/2/2"));
    // Phi-3's layout: rope_scaling {type longrope, long_factor, short_factor}, original context at the top level
    QJsonArray lf, sf;
    for (int i = 0; i < 16; ++i) {
      lf.append(1.0 + 0.25 * i);
      sf.append(1.0);
    }
    const QJsonObject phi3{{"model_type", "phi3"}, {"original_max_position_embeddings", 64}, {"rope_theta", 10000},
                           {"rope_scaling", QJsonObject{{"type", "longrope"}, {"long_factor", lf}, {"short_factor", sf}}}};
    QString err;
    const auto s = RopeSetting::longRopeFromConfig(phi3, &err);
    QVERIFY2(s, qPrintable(err));
    QCOMPARE(s->method, QString("longrope"));
    QCOMPARE(s->value("long_factor").split('/').size(), 16);
    QCOMPARE(s->value("long_factor").split('/')[1], QString("1.25"));
    QCOMPARE(s->value("original_max_position_embeddings"), QString("64"));
    QVERIFY(s->value("theta").isEmpty());  // the evaluated model's base stays
    QVERIFY(s->isValid(512, 16));
    lmscope::RopeConfig phi_base;
    phi_base.max_position_embeddings = 512;
    QCOMPARE(engineRefusal(s->expand().front(), 512, phi_base, 32), QString());
    // not LongRoPE, or no scaling at all: said so
    QVERIFY(!RopeSetting::longRopeFromConfig(QJsonObject{{"rope_scaling", QJsonObject{{"rope_type", "llama3"}}}}, &err));
    QVERIFY(err.contains("not LongRoPE"));
    QVERIFY(!RopeSetting::longRopeFromConfig(QJsonObject{}, &err));
    QVERIFY(err.contains("no rope_scaling"));
    // the editor's tools on the selected row
    QTemporaryDir dir;
    QFile f(dir.filePath("config.json"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QJsonDocument(phi3).toJson());
    f.close();
    RopeEditor ed;
    ed.setFactorCount(16);
    ed.setSettings({make("longrope", {})});
    QVERIFY(!ed.problems().isEmpty());  // longrope needs its lists
    QVERIFY2(ed.loadLongRopeFactors(dir.path(), &err), qPrintable(err));  // the folder or its config.json
    QVERIFY2(ed.problems().isEmpty(), qPrintable(ed.problems().join("; ")));
    ed.generateLongRopeFactors("ramp", 8, 16);
    QCOMPARE(ed.settings()[0].value("long_factor").split('/').back(), QString("8"));
    QCOMPARE(ed.settings()[0].value("short_factor").split('/').size(), 16);
    QVERIFY2(ed.problems().isEmpty(), qPrintable(ed.problems().join("; ")));
    QVERIFY(ed.rowText(0).contains("16 entries"));
  }

  void settingsRoundTripThroughSpecsAndSettings() {
    const QVector<RopeSetting> rows{RopeSetting{}, make("yarn", {{"factor", "2, 4"}, {"beta_fast", "24:48:8"}}),
                                    make("ntk", {{"factor", "3"}}),
                                    make("longrope", {{"long_factor", "1/2"}, {"short_factor", "1/1"}, {"original_max_position_embeddings", "4096, 8192"}})};
    // through the spec's rope list (what Save run spec writes) and back
    RopeEditor ed;
    ed.setSettings(rows);
    const QJsonArray entries = ed.specEntries();
    QString err;
    const auto back = RopeSetting::fromSpecEntry(entries, &err);
    QVERIFY2(back, qPrintable(err));
    QStringList again;
    for (const auto& s : *back)
      for (const QString& e : s.expand())
        if (!again.contains(e)) again << e;
    const QStringList shown = ed.expanded();
    QCOMPARE(std::set<QString>(again.begin(), again.end()), std::set<QString>(shown.begin(), shown.end()));
    // the engine reads the same list to the same settings
    const auto spec = lmscope::run::parse_run_spec(toNlohmann(QJsonObject{{"models", QJsonArray{"/m"}}, {"tasks", QJsonArray{"passkey"}}, {"rope", entries}}), "/", "t");
    QCOMPARE(int(spec.rope.size()), ed.count());
    // override strings in the engine's spellings
    const auto o = RopeSetting::fromOverride("yarn:factor=4,original_max=8192,rope_theta=500000", &err);
    QVERIFY2(o, qPrintable(err));
    QCOMPARE(o->value("original_max_position_embeddings"), QString("8192"));
    QCOMPARE(o->value("theta"), QString("500000"));
    QVERIFY(!RopeSetting::fromOverride("warp:factor=2", &err));
    QVERIFY(!RopeSetting::fromOverride("yarn:speed=2", &err));
    QVERIFY(err.contains("speed"));
    QCOMPARE(RopeSetting::fromOverride("", &err)->method, QString("checkpoint"));
    // QSettings keep what was typed (ranges stay ranges)
    QTemporaryDir cfg;
    qputenv("XDG_CONFIG_HOME", cfg.path().toUtf8());
    QCoreApplication::setOrganizationName("lmscope-tests");
    ed.saveSettings();
    RopeEditor ed2;
    QVERIFY(ed2.restoreSettings());
    QCOMPARE(ed2.settings().size(), rows.size());
    QCOMPARE(ed2.settings()[1].value("beta_fast"), QString("24:48:8"));
    QCOMPARE(ed2.expanded(), ed.expanded());
    QSettings().clear();
  }
};

QTEST_MAIN(RopeSettingTest)
#include "rope_setting_test.moc"
