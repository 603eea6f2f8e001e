// The RoPE editor's rules and grid expansion, the value-list syntax, and the run specs the window builds — checked
// against the engine's own spec parser and grid expansion, so the count shown before launch is what runs.
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>
#include <set>

#include "lmscope/run/run_spec.h"
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
bool hasIssue(const RopeSetting& s, const QString& key, const QString& words, qint64 target = 0) {
  for (const auto& i : s.validate(target))
    if (i.key == key && i.message.contains(words)) return true;
  return false;
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
    // original length must not exceed the longest evaluated length
    const auto yarn = make("yarn", {{"factor", "4"}, {"original_max_position_embeddings", "4096"}});
    QVERIFY(yarn.isValid(8192));
    QVERIFY(hasIssue(yarn, "original_max_position_embeddings", "longer than", 2048));
    QVERIFY(hasIssue(make("yarn", {{"factor", "4"}, {"original_max_position_embeddings", "1.5"}}), "original_max_position_embeddings", "whole number"));
    QVERIFY(hasIssue(make("default", {{"partial_rotary_factor", "1.5"}}), "partial_rotary_factor", "(0, 1]"));
    QVERIFY(hasIssue(make("ntk", {{"factor", "2"}, {"bogus", "1"}}), "bogus", "no parameter"));
    QVERIFY(hasIssue(make("longrope", {{"short_factor", "1/0/1"}, {"long_factor", "1/2/3"}}), "short_factor", "> 0"));
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
    QCOMPARE(rope.rope.size(), 6);
    QCOMPARE(rope.tasks, (QStringList{"ppl_vs_length", "longppl", "passkey"}));
    for (const auto& s : rope.rope) QVERIFY2(s.isValid(16384), qPrintable(s.summary()));
    const RunPreset gdn = RunPreset::byName("Gated DeltaNet Table 3");
    for (const char* t : {"wikitext", "lambada_openai", "piqa", "hellaswag", "winogrande", "arc_easy", "arc_challenge"})
      QVERIFY(gdn.tasks.contains(t));
    QCOMPARE(RunPreset::byName("Length extrapolation").tasks, (QStringList{"ppl_vs_length", "passkey"}));
  }
};

QTEST_GUILESS_MAIN(RopeSettingTest)
#include "rope_setting_test.moc"
