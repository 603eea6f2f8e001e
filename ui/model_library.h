// The model library: checkpoint folders the user added, with what the engine says about each (or why it does
// not load), whether it takes part in the next launch (the check box) and which tokenizer it uses. A table model,
// so views sort and select without knowing the data.
#pragma once

#include <QAbstractTableModel>
#include <QJsonObject>
#include <QVector>

#include "run_spec_builder.h"

class ModelLibrary : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Name, Family, Parameters, DType, Context, Rope, Size, Tokenizer, Status, ColumnCount };

  struct Entry {
    QString folder;
    QJsonObject info;  // from `lmscope-cli inspect --json`; empty until known
    QString error;     // why it does not load; empty when it does
    bool pending = true;
    bool use = true;    // ticked: part of the next launch
    QString tokenizer;  // "" = the folder's own, "bytes"
  };

  using QAbstractTableModel::QAbstractTableModel;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role) override;

  // Adds a folder (ignored if already present); returns its row.
  int addFolder(const QString& folder);
  void setInfo(const QString& folder, const QJsonObject& info);
  void setError(const QString& folder, const QString& error);
  const QVector<Entry>& entries() const { return entries_; }
  void setUse(int row, bool use);
  void setTokenizer(int row, const QString& tokenizer);
  void removeRow(int row);
  // The name runs use for this entry: the folder's name, with its parent's when two folders share a name.
  QString displayName(int row) const;
  // Ticked entries that load: what the next launch runs.
  QVector<ModelChoice> chosen() const;

 private:
  int rowOf(const QString& folder) const;
  QVector<Entry> entries_;
};
