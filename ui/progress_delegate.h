// Draws the queue's progress column as a progress bar (from RunQueue::FractionRole) with the units as its text.
#pragma once

#include <QStyledItemDelegate>

class ProgressDelegate : public QStyledItemDelegate {
  Q_OBJECT
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};
