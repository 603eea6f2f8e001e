// The model library: checkpoint folders the user added, with what the engine says about each (or why it does
// not load). A table model, so views sort and select without knowing the data.
#pragma once

#include <QAbstractTableModel>
#include <QJsonObject>
#include <QVector>

class ModelLibrary : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Name, Family, Parameters, DType, Context, Rope, Size, Status, ColumnCount };

  struct Entry {
    QString folder;
    QJsonObject info;  // from `lmscope-cli inspect --json`; empty until known
    QString error;     // why it does not load; empty when it does
    bool pending = true;
  };

  using QAbstractTableModel::QAbstractTableModel;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

  // Adds a folder (ignored if already present); returns its row.
  int addFolder(const QString& folder);
  void setInfo(const QString& folder, const QJsonObject& info);
  void setError(const QString& folder, const QString& error);
  const QVector<Entry>& entries() const { return entries_; }

 private:
  int rowOf(const QString& folder) const;
  QVector<Entry> entries_;
};
