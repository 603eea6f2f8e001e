#include "about_box.h"

#include <QMessageBox>
#include <QObject>
#include <QtGlobal>

#include "lmscope/version.h"

QString aboutText() {
  const QString date = QString::fromUtf8(lmscope::revision_date());
  return QObject::tr("<h3>lmscope %1</h3><p>Workbench for evaluating language-model checkpoints.</p>"
                     "<p>Revision %2%3<br>Qt %4</p>")
      .arg(QString::fromUtf8(lmscope::version()).toHtmlEscaped(), QString::fromUtf8(lmscope::revision()),
           date.isEmpty() ? QString() : QString(" (%1)").arg(date), QString::fromUtf8(qVersion()));
}

void showAboutBox(QWidget* parent) { QMessageBox::about(parent, QObject::tr("About lmscope"), aboutText()); }
