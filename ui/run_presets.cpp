#include "run_presets.h"

#include <QObject>

namespace {
RopeSetting makeRope(const QString& method, const QVector<QPair<QString, QString>>& params) {
  RopeSetting s;
  s.method = method;
  s.params = params;
  return s;
}
}  // namespace

QVector<RunPreset> RunPreset::all(qint64 ctx) {
  // lengths around the models' trained context: 1/2 ... 8x (the extrapolation regime the studies probe)
  if (ctx <= 0) ctx = 2048;
  const QString c = QString::number(ctx);
  const QString lengths = QString("%1..%2 x2").arg(std::max<qint64>(ctx / 2, 64)).arg(ctx * 8);
  const QString passkey_lengths = QString("%1..%2 x2").arg(std::max<qint64>(ctx / 2, 64)).arg(ctx * 4);
  QVector<RunPreset> out;
  RunPreset rs{QObject::tr("RoPE study"),
               QObject::tr("6 RoPE methods (the checkpoint's, linear, NTK, dynamic NTK, YaRN, Llama 3) × lengths: "
                           "perplexity vs length, LongPPL and passkey retrieval"),
               {"ppl_vs_length", "longppl", "passkey"},
               QJsonObject{{"ppl_vs_length", QJsonObject{{"lengths", lengths}}},
                           {"passkey", QJsonObject{{"lengths", passkey_lengths}, {"depths", "0:1:0.25"}, {"trials", "5"}}}},
               {}};
  rs.rope = {makeRope("checkpoint", {}),
             makeRope("linear", {{"factor", "4"}}),
             makeRope("ntk", {{"factor", "4"}}),
             makeRope("dynamic", {{"factor", "4"}}),
             makeRope("yarn", {{"factor", "4"}, {"original_max_position_embeddings", c}}),
             makeRope("llama3", {{"factor", "4"}, {"original_max_position_embeddings", c}, {"low_freq_factor", "1"}, {"high_freq_factor", "4"}})};
  out << rs;
  out << RunPreset{QObject::tr("Gated DeltaNet Table 3"),
                   QObject::tr("WikiText and LAMBADA perplexity, LAMBADA accuracy and the zero-shot commonsense tasks "
                               "(PIQA, HellaSwag, WinoGrande, ARC-e, ARC-c, SIQA, BoolQ), as in Yang et al. 2024, Table 3"),
                   {"wikitext", "lambada_openai", "piqa", "hellaswag", "winogrande", "arc_easy", "arc_challenge", "social_iqa", "boolq"},
                   {},
                   {makeRope("checkpoint", {})}};
  out << RunPreset{QObject::tr("Length extrapolation"),
                   QObject::tr("Perplexity vs context length and passkey retrieval beyond the trained context"),
                   {"ppl_vs_length", "passkey"},
                   QJsonObject{{"ppl_vs_length", QJsonObject{{"lengths", lengths}}},
                               {"passkey", QJsonObject{{"lengths", passkey_lengths}, {"depths", "0:1:0.25"}}}},
                   {}};
  return out;
}

RunPreset RunPreset::byName(const QString& name, qint64 ctx) {
  for (const auto& p : all(ctx))
    if (p.name == name) return p;
  return {};
}
