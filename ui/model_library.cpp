#include "model_library.h"

#include <QBrush>
#include <QFileInfo>
#include <QLocale>

int ModelLibrary::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : entries_.size(); }
int ModelLibrary::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ModelLibrary::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* names[] = {"Model", "Family", "Parameters", "Dtype", "Context", "RoPE", "Size", "Status"};
  return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

QVariant ModelLibrary::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= entries_.size()) return {};
  const Entry& e = entries_[index.row()];
  if (role == Qt::ToolTipRole) return e.error.isEmpty() ? e.folder : e.error;
  if (role == Qt::ForegroundRole && index.column() == Status && !e.error.isEmpty()) return QBrush(Qt::darkRed);
  if (role != Qt::DisplayRole) return {};
  const QJsonObject& i = e.info;
  switch (index.column()) {
    case Name:
      return QFileInfo(e.folder).fileName();
    case Family:
      return i.isEmpty() ? QVariant() : QString("%1 (%2)").arg(i["family"].toString(), i["layout"].toString());
    case Parameters:
      return i.isEmpty() ? QVariant() : QLocale().toString(static_cast<qlonglong>(i["parameters"].toDouble()));
    case DType:
      return i["dtype"].toString();
    case Context:
      return i.isEmpty() ? QVariant() : QLocale().toString(i["context_length"].toInt());
    case Rope:
      return i["rope"].toObject()["description"].toString();
    case Size:
      return i.isEmpty() ? QVariant() : QLocale().formattedDataSize(static_cast<qint64>(i["bytes_on_disk"].toDouble()));
    case Status:
      return e.pending ? tr("checking…") : e.error.isEmpty() ? tr("loads") : tr("error: %1").arg(e.error);
    default:
      return {};
  }
}

int ModelLibrary::rowOf(const QString& folder) const {
  for (int r = 0; r < entries_.size(); ++r)
    if (entries_[r].folder == folder) return r;
  return -1;
}

int ModelLibrary::addFolder(const QString& folder) {
  if (int r = rowOf(folder); r >= 0) return r;
  beginInsertRows({}, entries_.size(), entries_.size());
  entries_.push_back({folder, {}, {}, true});
  endInsertRows();
  return entries_.size() - 1;
}

void ModelLibrary::setInfo(const QString& folder, const QJsonObject& info) {
  const int r = rowOf(folder);
  if (r < 0) return;
  entries_[r].info = info;
  entries_[r].error.clear();
  entries_[r].pending = false;
  emit dataChanged(index(r, 0), index(r, ColumnCount - 1));
}

void ModelLibrary::setError(const QString& folder, const QString& error) {
  const int r = rowOf(folder);
  if (r < 0) return;
  entries_[r].info = {};
  entries_[r].error = error;
  entries_[r].pending = false;
  emit dataChanged(index(r, 0), index(r, ColumnCount - 1));
}
