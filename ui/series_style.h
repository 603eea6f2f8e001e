// Colours and markers of the i-th line in a plot, shared by every view so a model · setting looks alike across
// them: Okabe & Ito (2008), distinguishable for the common forms of colour-blindness, and distinct markers for
// greyscale print.
#pragma once

#include <QColor>
#include <qcustomplot.h>

inline QColor seriesColor(int i) {
  static const QColor c[] = {QColor(0, 114, 178), QColor(230, 159, 0), QColor(0, 158, 115), QColor(204, 121, 167),
                             QColor(86, 180, 233), QColor(213, 94, 0), QColor(240, 228, 66), QColor(0, 0, 0)};
  return c[i % 8];
}

inline QCPScatterStyle::ScatterShape seriesShape(int i) {
  static const QCPScatterStyle::ScatterShape s[] = {QCPScatterStyle::ssCircle,  QCPScatterStyle::ssSquare,
                                                    QCPScatterStyle::ssTriangle, QCPScatterStyle::ssDiamond,
                                                    QCPScatterStyle::ssCross,   QCPScatterStyle::ssPlus,
                                                    QCPScatterStyle::ssStar,    QCPScatterStyle::ssTriangleInverted};
  return s[i % 8];
}
