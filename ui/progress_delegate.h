// Draws the queue's progress column as a progress bar (from RunQueue::FractionRole) with the units as its text; rows
// with nothing to count (FractionRole < 0: answered wholly from the store, a stored run without units) show the text alone.
#pragma once

#include <QStyledItemDelegate>

class ProgressDelegate : public QStyledItemDelegate {
  Q_OBJECT
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};
