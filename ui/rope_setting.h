// One row of the RoPE editor: a method and its parameters, each parameter a value, list or range (ValueList), so
// one row can stand for a grid sweep. Validation mirrors the engine's rules (engine/src/rope.cpp: validate_rope and
// apply_rope_override) so every setting the editor accepts is one `lmscope-cli run --rope` runs, and mistakes show
// while typing instead of as a failed run. Things that run but may not be what the user meant (an original context
// longer than every evaluated length) are warnings, not errors. Expansion gives the override strings the run spec's
// `rope` list takes; the way back (override strings, spec entries, a checkpoint's config.json) is here too.
// No widgets here: the rules, the expansion and the parsing are unit-tested.
#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QVector>
#include <optional>

class RopeSetting {
 public:
  // "checkpoint" = the checkpoint's own RoPE (no override); the others are the engine's methods.
  static QStringList methods();
  // The parameters a method takes (those its frequencies depend on), most important first.
  static QStringList parametersOf(const QString& method);
  // Parameters a method cannot run without.
  static QStringList requiredOf(const QString& method);
  // One line on what a parameter does, for tooltips.
  static QString helpOf(const QString& key);
  // Parameters passed through as typed, not swept: LongRoPE's '/'-separated factor lists and YaRN's truncate.
  static bool isTextParameter(const QString& key);

  struct Issue {
    QString key;  // the parameter, or empty for the row as a whole
    QString message;
    bool warning = false;  // runs, but may not be what was meant; errors stop the launch
  };

  QString method = "checkpoint";
  QVector<QPair<QString, QString>> params;  // key → what the user typed (only non-empty ones matter)

  void set(const QString& key, const QString& text);
  QString value(const QString& key) const;
  // Switches the method, keeping only the parameters the new method takes.
  void setMethod(const QString& m);

  // Problems and warnings, in words. `target_length`: the longest context the tasks evaluate (0 = unknown);
  // `factor_count`: how many entries LongRoPE's lists need for the chosen models (rotary dimension / 2; 0 = unknown).
  QVector<Issue> validate(qint64 target_length = 0, int factor_count = 0) const;
  QVector<Issue> errors(qint64 target_length = 0, int factor_count = 0) const;
  QVector<Issue> warnings(qint64 target_length = 0, int factor_count = 0) const;
  bool isValid(qint64 target_length = 0, int factor_count = 0) const { return errors(target_length, factor_count).isEmpty(); }
  // Number of settings this row expands into (1 for a row without lists; 0 when invalid).
  int count() const;
  // Override strings (cartesian product, parameters in the order shown); {""} for the checkpoint's own.
  QStringList expand() const;
  // For the run spec: null, an override string, a grid object with lists (the engine expands it the same way), or
  // — for rows with text parameters, which grids cannot hold — an array of override strings.
  QJsonValue toSpecEntry() const;
  // Short text for lists and labels: "yarn: factor 2, 4 × original_max_position_embeddings 512".
  QString summary() const;

  // What was typed, for QSettings (ranges stay ranges).
  QJsonObject toJson() const;
  static RopeSetting fromJson(const QJsonObject& o);
  // An override string as the CLI takes it ("yarn:factor=4,original_max=8192"; "" / "none" / "checkpoint" = the
  // checkpoint's own); nullopt with `error` when it is not one.
  static std::optional<RopeSetting> fromOverride(const QString& text, QString* error = nullptr);
  // A run spec's `rope` entry: null, an override string, a grid object or a list of those.
  static std::optional<QVector<RopeSetting>> fromSpecEntry(const QJsonValue& v, QString* error = nullptr);
  // LongRoPE as a checkpoint's config.json has it (`rope_scaling` or transformers 5's `rope_parameters`:
  // long_factor, short_factor, and original_max_position_embeddings there or at the top level, attention_factor,
  // factor when given, rope_theta).
  static std::optional<RopeSetting> longRopeFromConfig(const QJsonObject& config, QString* error = nullptr);
  // Generated LongRoPE lists of n entries, '/'-separated, from the highest frequency to the lowest:
  // "ramp" rises linearly from 1 to `factor`; "uniform" is `factor` everywhere (linear interpolation).
  static QString generatedFactors(const QString& kind, int n, double factor);
};
