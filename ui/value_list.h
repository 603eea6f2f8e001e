// Parses what a user types for a swept number: one value ("4"), a list ("2, 4, 8"), an arithmetic range
// ("256:2048:256" = start:stop:step, stop included) or a geometric one ("512..8192 x2"). Shared by the RoPE editor
// and the task builder so sweeps read the same everywhere; kept free of widgets so it is unit-tested.
#pragma once

#include <QString>
#include <QVector>
#include <optional>

class ValueList {
 public:
  // The values in order, or nullopt with `error` saying what is wrong. Empty text is an error too.
  static std::optional<QVector<double>> parse(const QString& text, QString* error = nullptr);
  // Same, requiring whole numbers.
  static std::optional<QVector<qint64>> parseIntegers(const QString& text, QString* error = nullptr);
  // The way the engine's override strings want a number: integers without a decimal point.
  static QString numberText(double v);
  // Ranges are capped so a typo ("1:100000:1") cannot expand into a million runs.
  static constexpr int kMaxValues = 1000;
};
