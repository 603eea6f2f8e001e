// The run queue spreading one job over several workers through unit claims in the store, as it does over several
// GPUs (CPU workers here): the results of a single worker, every unit computed once, progress summed over the
// workers; and a worker killed mid-job whose units a fresh one finishes.
#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonObject>
#include <QTest>
#include <csignal>
#include <map>

#include "lmscope/random_checkpoint.h"
#include "lmscope/run/results_store.h"
#include "run_queue.h"
#include "support/test_support.h"

#ifndef LMSCOPE_RUN_QUEUE_BOUND_MS
#define LMSCOPE_RUN_QUEUE_BOUND_MS 240000
#endif

namespace {

namespace fs = std::filesystem;

QString qs(const fs::path& p) { return QString::fromStdString(p.string()); }

QString describe(const RunJob& j) {
  return QString("state %1, %2/%3 units, workers %4, session %5, aggregating %6, message '%7', log: %8")
      .arg(static_cast<int>(j.state)).arg(j.units_done).arg(j.units_total).arg(j.worker, j.session).arg(j.aggregating)
      .arg(j.message, j.log.join(" | "));
}

// Every `result` event's metrics, by task, as a finished job leaves them.
struct Outcome {
  std::map<QString, QJsonObject> metrics;
  RunJob job;
};

}  // namespace

class RunQueueTest : public QObject {
  Q_OBJECT
  lmscope::test::TempDir tmp_;
  QJsonObject spec_;

  // Runs the spec to the end on `workers` CPU workers into a fresh store; `kill_after` > 0 kills one worker once
  // that many units are done.
  void run(const QString& name, int workers, qint64 kill_after, Outcome& out) {
    RunQueue q(LMSCOPE_CLI, qs(tmp_.path / (name.toStdString() + ".sqlite")));
    q.setCpuWorkerCount(workers);
    connect(&q, &RunQueue::resultEvent, this, [&](const QJsonObject& e) {
      if (e["event"].toString() == "result") out.metrics[e["task"].toString()] = e["metrics"].toObject();
    });
    q.enqueue(name, spec_);
    if (kill_after > 0) {
      QTRY_VERIFY_WITH_TIMEOUT(q.jobs()[0].units_done >= kill_after && q.workerPids().size() == workers, 120000);
      ::kill(static_cast<pid_t>(q.workerPids().front()), SIGKILL);
    }
    // a bound, not a speed test: two cores shared with other tests
    QTRY_VERIFY2_WITH_TIMEOUT(!q.hasActiveWork(), qPrintable(describe(q.jobs()[0])), LMSCOPE_RUN_QUEUE_BOUND_MS);
    out.job = q.jobs()[0];
    q.shutdown();
    QTRY_VERIFY_WITH_TIMEOUT(q.workerCount() == 0, 20000);
  }

  // Units stored in a store, and the units its task runs are made of.
  static std::pair<std::int64_t, std::int64_t> stored_and_planned(const fs::path& store) {
    lmscope::run::ResultsStore s(store);
    std::int64_t stored = 0, planned = 0;
    for (const auto& r : s.task_runs()) {
      stored += s.unit_count_stored(r.run_key);
      planned += r.unit_count;
    }
    return {stored, planned};
  }

 private slots:
  void initTestCase() {
    lmscope::write_random_checkpoint(lmscope::test::tiny_llama_config({{"vocab_size", 256}, {"hidden_size", 256},
                                                                        {"intermediate_size", 768}, {"num_hidden_layers", 4},
                                                                        {"num_attention_heads", 8}, {"num_key_value_heads", 4},
                                                                        {"head_dim", 32}, {"bos_token_id", 1},
                                                                        {"max_position_embeddings", 256}})
                                         .dump(),
                                     tmp_.path / "model", {.seed = 5});
    lmscope::test::write_text(tmp_.path / "wiki.raw", lmscope::test::wikitext_notes(200));
    spec_ = QJsonObject{{"lmscope_run", 1},
                        {"models", QJsonArray{QJsonObject{{"path", qs(tmp_.path / "model")}, {"tokenizer", "bytes"}}}},
                        {"tasks", QJsonArray{QJsonObject{{"task", "wikitext"}, {"data", qs(tmp_.path / "wiki.raw")}, {"max_length", 32}}}},
                        {"backend", "cpu"}};
  }

  void aJobSpreadOverTwoWorkersGivesOneWorkersResults() {
    Outcome one, two;
    run("one", 1, 0, one);
    if (QTest::currentTestFailed()) return;
    run("two", 2, 0, two);
    if (QTest::currentTestFailed()) return;
    QVERIFY2(one.job.state == RunJob::State::Done, qPrintable(one.job.message));
    QVERIFY2(two.job.state == RunJob::State::Done, qPrintable(two.job.message));
    QVERIFY(one.job.session.isEmpty());
    QVERIFY(!two.job.session.isEmpty());
    QVERIFY(!one.metrics.empty());
    QCOMPARE(two.metrics, one.metrics);  // aggregated from the same stored units
    int contributed = 0;
    qint64 computed = 0;
    for (qint64 n : two.job.done_by_worker) {
      contributed += n > 0 ? 1 : 0;
      computed += n;
    }
    QCOMPARE(contributed, 2);  // both workers computed units
    const auto [stored, planned] = stored_and_planned(tmp_.path / "two.sqlite");
    QCOMPARE(stored, planned);
    QCOMPARE(computed, planned);  // and none twice
    QVERIFY2(two.job.worker.contains("cpu:0") && two.job.worker.contains("cpu:1"), qPrintable(two.job.worker));
  }

  void aKilledWorkersUnitsAreFinishedByAFreshOne() {
    Outcome one, killed;
    run("reference", 1, 0, one);
    if (QTest::currentTestFailed()) return;
    run("killed", 2, 20, killed);
    if (QTest::currentTestFailed()) return;
    QVERIFY2(killed.job.state == RunJob::State::Done, qPrintable(killed.job.message + " | " + killed.job.log.join(" | ")));
    QVERIFY2(killed.job.log.join("\n").contains("stopped unexpectedly"), qPrintable(killed.job.log.join(" | ")));
    QCOMPARE(killed.metrics, one.metrics);
    const auto [stored, planned] = stored_and_planned(tmp_.path / "killed.sqlite");
    QCOMPARE(stored, planned);
  }
};

QTEST_GUILESS_MAIN(RunQueueTest)
#include "run_queue_test.moc"
