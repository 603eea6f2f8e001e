#include "tokenizer_delegate.h"

#include <QComboBox>

QWidget* TokenizerDelegate::createEditor(QWidget* parent, const QStyleOptionViewItem&, const QModelIndex&) const {
  auto* c = new QComboBox(parent);
  c->addItem(tr("folder's own"), "folder");
  c->addItem(tr("bytes"), "bytes");
  // commit as soon as a choice is made, not only when focus leaves
  connect(c, &QComboBox::activated, this, [this, c] { emit const_cast<TokenizerDelegate*>(this)->commitData(c); });
  return c;
}

void TokenizerDelegate::setEditorData(QWidget* editor, const QModelIndex& index) const {
  auto* c = static_cast<QComboBox*>(editor);
  c->setCurrentIndex(std::max(0, c->findData(index.data(Qt::EditRole))));
}

void TokenizerDelegate::setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const {
  model->setData(index, static_cast<QComboBox*>(editor)->currentData(), Qt::EditRole);
}
