#include "model_library.h"

#include <QBrush>
#include <QDir>
#include <QFileInfo>
#include <QLocale>

int ModelLibrary::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : entries_.size(); }
int ModelLibrary::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ModelLibrary::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* names[] = {"Model", "Family", "Parameters", "Dtype", "Context", "RoPE", "Size", "Tokenizer", "Status"};
  return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

QVariant ModelLibrary::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= entries_.size()) return {};
  const Entry& e = entries_[index.row()];
  if (role == Qt::ToolTipRole) return e.error.isEmpty() ? e.folder : e.error;
  if (role == Qt::CheckStateRole && index.column() == Name) return e.use ? Qt::Checked : Qt::Unchecked;
  if (role == Qt::EditRole && index.column() == Tokenizer) return e.tokenizer.isEmpty() ? "folder" : e.tokenizer;
  if (role == Qt::ForegroundRole && index.column() == Status && !e.error.isEmpty()) return QBrush(Qt::darkRed);
  if (role != Qt::DisplayRole) return {};
  const QJsonObject& i = e.info;
  switch (index.column()) {
    case Name:
      return displayName(index.row());
    case Tokenizer:
      return e.tokenizer == "bytes" ? tr("bytes") : tr("folder's own");
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
  Entry e{folder, {}, {}, true};
  // a folder without tokenizer files is a byte-level model (or needs one chosen): default to bytes
  const QDir d(folder);
  const bool has_tokenizer = d.exists("tokenizer.model") || d.exists("tokenizer.json");
  e.tokenizer = has_tokenizer ? QString() : QString("bytes");
  entries_.push_back(e);
  endInsertRows();
  return entries_.size() - 1;
}

void ModelLibrary::setInfo(const QString& folder, const QJsonObject& info) {
  const int r = rowOf(folder);
  if (r < 0) return;
  if (!entries_[r].error.isEmpty()) entries_[r].use = true;  // it loads now (checked again): ticked as a new folder is
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
  entries_[r].use = false;  // a folder that does not load is not part of a launch: no tick that suggests it is
  emit dataChanged(index(r, 0), index(r, ColumnCount - 1));
}

Qt::ItemFlags ModelLibrary::flags(const QModelIndex& index) const {
  Qt::ItemFlags f = QAbstractTableModel::flags(index);
  // ticking needs a folder that loads (or is still being checked)
  if (index.column() == Name && index.row() < entries_.size() && entries_[index.row()].error.isEmpty()) f |= Qt::ItemIsUserCheckable;
  if (index.column() == Tokenizer) f |= Qt::ItemIsEditable;
  return f;
}

bool ModelLibrary::setData(const QModelIndex& index, const QVariant& value, int role) {
  if (!index.isValid() || index.row() >= entries_.size()) return false;
  if (index.column() == Name && role == Qt::CheckStateRole) {
    setUse(index.row(), value.toInt() == Qt::Checked);
    return true;
  }
  if (index.column() == Tokenizer && role == Qt::EditRole) {
    setTokenizer(index.row(), value.toString() == "bytes" ? "bytes" : "");
    return true;
  }
  return false;
}

void ModelLibrary::setUse(int row, bool use) {
  if (row < 0 || row >= entries_.size()) return;
  entries_[row].use = use && entries_[row].error.isEmpty();
  emit dataChanged(index(row, Name), index(row, Name));
}

void ModelLibrary::setTokenizer(int row, const QString& tokenizer) {
  entries_[row].tokenizer = tokenizer;
  emit dataChanged(index(row, Tokenizer), index(row, Tokenizer));
}

void ModelLibrary::removeRow(int row) {
  if (row < 0 || row >= entries_.size()) return;
  beginRemoveRows({}, row, row);
  entries_.remove(row);
  endRemoveRows();
  emit dataChanged(index(0, Name), index(rowCount() - 1, Name));  // display names may lose their suffix
}

QString ModelLibrary::displayName(int row) const {
  const QFileInfo fi(entries_[row].folder);
  for (int r = 0; r < entries_.size(); ++r)
    if (r != row && QFileInfo(entries_[r].folder).fileName() == fi.fileName())
      return QFileInfo(fi.path()).fileName() + "/" + fi.fileName();
  return fi.fileName();
}

QVector<ModelChoice> ModelLibrary::chosen() const {
  QVector<ModelChoice> out;
  for (int r = 0; r < entries_.size(); ++r) {
    const Entry& e = entries_[r];
    if (e.use && !e.pending && e.error.isEmpty()) out.push_back({e.folder, displayName(r), e.tokenizer});
  }
  return out;
}
