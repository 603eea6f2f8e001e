// Passkey retrieval heatmaps: one depth × length map per model × setting, side by side in one figure (so it
// exports as one), sharing an accuracy colour scale 0–100 % with the viridis gradient (perceptually uniform and
// colour-blind safe). Cells are rectangles (vector in PDF and SVG); cells not computed yet stay blank; each cell
// shows its accuracy in %. Redraws on every change.
#pragma once

#include <QWidget>

#include "passkey_grid.h"

class QCustomPlot;
class QCPItemRect;
class QCPMarginGroup;
class ResultSet;

class PasskeyHeatmapView : public QWidget {
  Q_OBJECT
 public:
  explicit PasskeyHeatmapView(ResultSet* results, QWidget* parent = nullptr);
  QCustomPlot* plot() const { return plot_; }
  int mapCount() const { return grids_.size(); }
  const QVector<PasskeyGrid>& grids() const { return grids_; }
  // The drawn cells (computed ones only), map by map, depth-major.
  const QVector<QCPItemRect*>& cells() const { return cells_; }

 public slots:
  void refresh();

 private:
  ResultSet* results_;
  QCustomPlot* plot_;
  QVector<PasskeyGrid> grids_;
  QVector<QCPItemRect*> cells_;
  QCPMarginGroup* group_ = nullptr;
};
