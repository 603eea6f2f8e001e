// lmscope: the Qt workbench. The engine runs in `lmscope-cli` child processes found next to this executable.
#include <QApplication>
#include <QDir>
#include <QFileInfo>

#include "main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("lmscope");
  QApplication::setOrganizationName("lmscope");
  QString cli = QDir(QCoreApplication::applicationDirPath()).filePath("lmscope-cli");
  if (!QFileInfo::exists(cli)) cli = LMSCOPE_CLI_PATH;
  MainWindow w(cli);
  for (const QString& folder : QCoreApplication::arguments().mid(1)) w.addModelFolder(folder);
  w.show();
  return QApplication::exec();
}
