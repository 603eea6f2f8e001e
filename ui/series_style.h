// How a model · setting is drawn, the same in every view and every session: a slot (0–23) kept per label in
// QSettings, and per slot a colour (Okabe & Ito's eight, distinguishable for the common forms of colour-blindness,
// with their yellow darkened to read on white), a marker and a line style, so 24 series never share a look and a
// line keeps its look when past runs are shown or hidden.
#pragma once

#include <QColor>
#include <QString>
#include <qcustomplot.h>

struct SeriesStyle {
  QColor color;
  QCPScatterStyle::ScatterShape shape;
  Qt::PenStyle line;

  static constexpr int kSlots = 24;
  // The look of slot i (i modulo kSlots): slots 0–7 solid with their own colour and marker, 8–15 dashed, 16–23
  // dotted, with the markers shifted so no two slots share colour, marker and line style.
  static SeriesStyle ofSlot(int slot);
  // The slot of a label: the one it had before, else a free one, else the one used longest ago.
  static int slotOf(const QString& label);
  static SeriesStyle of(const QString& label) { return ofSlot(slotOf(label)); }
};
