#include "series_style.h"

#include <QSettings>
#include <QStringList>

SeriesStyle SeriesStyle::ofSlot(int slot) {
  static const QColor colors[] = {QColor(0, 114, 178), QColor(230, 159, 0), QColor(0, 158, 115), QColor(204, 121, 167),
                                  QColor(86, 180, 233), QColor(213, 94, 0), QColor(0, 0, 0), QColor(170, 150, 0)};
  static const QCPScatterStyle::ScatterShape shapes[] = {
      QCPScatterStyle::ssCircle, QCPScatterStyle::ssSquare, QCPScatterStyle::ssTriangle, QCPScatterStyle::ssDiamond,
      QCPScatterStyle::ssCross,  QCPScatterStyle::ssPlus,   QCPScatterStyle::ssStar,     QCPScatterStyle::ssTriangleInverted};
  static const Qt::PenStyle lines[] = {Qt::SolidLine, Qt::DashLine, Qt::DotLine};
  const int s = ((slot % kSlots) + kSlots) % kSlots, round = s / 8;
  return {colors[s % 8], shapes[(s + 3 * round) % 8], lines[round]};
}

int SeriesStyle::slotOf(const QString& label) {
  // "plot/series_slots": kSlots labels (empty = free); "plot/series_recent": labels, least recently drawn first.
  QSettings settings;
  QStringList owners = settings.value("plot/series_slots").toStringList();
  QStringList recent = settings.value("plot/series_recent").toStringList();
  while (owners.size() < kSlots) owners << QString();
  int slot = owners.indexOf(label);
  if (slot < 0) slot = owners.indexOf(QString());
  if (slot < 0) {
    for (const QString& old : recent)
      if ((slot = owners.indexOf(old)) >= 0) break;
    if (slot < 0) slot = 0;
  }
  if (owners[slot] != label) {
    recent.removeAll(owners[slot]);
    owners[slot] = label;
    settings.setValue("plot/series_slots", owners);
  }
  if (recent.isEmpty() || recent.back() != label) {
    recent.removeAll(label);
    recent << label;
    settings.setValue("plot/series_recent", recent);
  }
  return slot;
}
