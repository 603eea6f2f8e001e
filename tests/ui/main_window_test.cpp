// Drives the real window offscreen: add checkpoint folders and watch the engine's answers arrive.
#include <QApplication>
#include <QTableView>
#include <QTest>

#include "lmscope/random_checkpoint.h"
#include "main_window.h"
#include "model_library.h"
#include "support/test_support.h"

class MainWindowTest : public QObject {
  Q_OBJECT
 private slots:
  void addingAGoodAndABadFolderShowsBoth() {
    lmscope::test::TempDir dir;
    lmscope::write_random_checkpoint(lmscope::test::tiny_llama_config().dump(), dir.path / "good");
    MainWindow w(LMSCOPE_CLI);
    w.show();
    w.addModelFolder(QString::fromStdString((dir.path / "good").string()));
    w.addModelFolder(QString::fromStdString((dir.path / "missing").string()));
    ModelLibrary* lib = w.library();
    QCOMPARE(lib->rowCount(), 2);
    QTRY_VERIFY_WITH_TIMEOUT(!lib->entries()[0].pending && !lib->entries()[1].pending, 10000);
    QCOMPARE(lib->data(lib->index(0, ModelLibrary::Family), Qt::DisplayRole).toString(), QString("llama (transformers)"));
    QCOMPARE(lib->entries()[0].info["parameters"].toInt(), 17568);  // as CheckpointTest counts it
    QCOMPARE(lib->data(lib->index(0, ModelLibrary::Status), Qt::DisplayRole).toString(), QString("loads"));
    QVERIFY(lib->entries()[1].error.contains("not a folder"));
    QVERIFY(lib->data(lib->index(1, ModelLibrary::Status), Qt::DisplayRole).toString().startsWith("error:"));
    // adding the same folder again does not duplicate it
    w.addModelFolder(QString::fromStdString((dir.path / "good").string()));
    QCOMPARE(lib->rowCount(), 2);
  }

  void aMissingEngineIsReportedNotFatal() {
    MainWindow w("/nonexistent/lmscope-cli");
    w.addModelFolder("/tmp");
    ModelLibrary* lib = w.library();
    QTRY_VERIFY_WITH_TIMEOUT(!lib->entries()[0].pending, 10000);
    QVERIFY(lib->entries()[0].error.contains("cannot start the engine"));
  }
};

QTEST_MAIN(MainWindowTest)
#include "main_window_test.moc"
