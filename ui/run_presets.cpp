#include "run_presets.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QObject>
#include <algorithm>

namespace {
RopeSetting makeRope(const QString& method, const QVector<QPair<QString, QString>>& params) {
  RopeSetting s;
  s.method = method;
  s.params = params;
  return s;
}

// Fills tasks/fields (the first instance of each task) from the entries.
RunPreset finish(RunPreset p) {
  for (const auto& v : p.entries) {
    const QJsonObject e = v.toObject();
    const QString task = e["task"].toString();
    if (p.tasks.contains(task)) continue;
    p.tasks << task;
    QJsonObject f;
    for (auto it = e.begin(); it != e.end(); ++it)
      if (it.key() != "task" && it.key() != "alias") f[it.key()] = it.value();
    p.fields[task] = f;
  }
  return p;
}
}  // namespace

QString RunPreset::defaultDataFolder() {
  QStringList starts{QCoreApplication::applicationDirPath(), QDir::currentPath()};
  for (const QString& start : starts) {
    QDir d(start);
    for (int up = 0; up < 6; ++up) {
      for (const QString& rel : {QString("shared/data"), QString("../shared/data")}) {
        const QFileInfo fi(d.filePath(rel));
        if (fi.isDir() && QFileInfo(fi.filePath() + "/README.md").exists()) return QDir::cleanPath(fi.absoluteFilePath());
      }
      if (!d.cdUp()) break;
    }
  }
  return {};
}

QVector<RunPreset> RunPreset::all(qint64 ctx) {
  Options o;
  o.context_length = ctx;
  return all(o);
}

RunPreset RunPreset::byName(const QString& name, qint64 ctx) {
  Options o;
  o.context_length = ctx;
  return byName(name, o);
}

RunPreset RunPreset::byName(const QString& name, const Options& o) {
  for (const auto& p : all(o))
    if (p.name == name) return p;
  return {};
}

QVector<RunPreset> RunPreset::all(const Options& opts) {
  const QString folder = opts.data_folder.isEmpty() ? defaultDataFolder() : opts.data_folder;
  auto data = [&](const QString& rel) { return folder.isEmpty() ? rel : QDir(folder).filePath(rel); };
  const QString books = data("long_docs/gutenberg_books.jsonl");
  QVector<RunPreset> out;

  // --- RoPE study: Llama-3.2-1B, 43 settings × 4 lengths = 172 runs of PPL, LongPPL and passkey ---
  {
    RunPreset p;
    p.name = QObject::tr("RoPE study");
    p.model = "Llama-3.2-1B";
    const QString lengths = "2048, 4096, 8192, 16384";
    p.entries = {
        QJsonObject{{"task", "ppl_vs_length"}, {"data", books}, {"lengths", lengths}, {"protocol", "chunks"}, {"max_chunks", "32"}},
        QJsonObject{{"task", "longppl"}, {"data", books}, {"lengths", lengths}, {"length", "16384"}, {"trunc_len", "1024"},
                    {"sliding_window", "1024"}},
        QJsonObject{{"task", "passkey"}, {"lengths", lengths}, {"depths", "0:1:0.25"}, {"trials", "5"}},
    };
    const int n = opts.rope_factor_count > 0 ? opts.rope_factor_count : 32;
    auto longrope = [&](double f) {
      return makeRope("longrope", {{"long_factor", RopeSetting::generatedFactors("ramp", n, f)},
                                   {"short_factor", RopeSetting::generatedFactors("uniform", n, 1)},
                                   {"original_max_position_embeddings", "8192"},
                                   {"factor", QString::number(f)}});
    };
    p.rope = {makeRope("yarn", {{"factor", "2, 3, 4, 8"}, {"original_max_position_embeddings", "8192"}, {"beta_fast", "24, 32, 48"}}),
              makeRope("llama3", {{"factor", "4, 8, 16"}, {"original_max_position_embeddings", "131072"}, {"low_freq_factor", "1, 2"},
                                  {"high_freq_factor", "4, 8"}}),
              makeRope("ntk", {{"factor", "2:10:1"}}),
              makeRope("linear", {{"factor", "2..16 x2"}}),
              makeRope("dynamic", {{"factor", "2, 4, 8"}, {"original_max_position_embeddings", "8192"}}),
              longrope(2),
              longrope(4),
              longrope(8)};
    p.description = QObject::tr(
        "The Llama-3.2-1B RoPE study: 43 RoPE settings × lengths 2K/4K/8K/16K = 172 runs of perplexity vs length, LongPPL "
        "and passkey retrieval. Tick Llama-3.2-1B in Models (the preset does not add a model). Settings: YaRN factor "
        "{2, 3, 4, 8} × beta_fast {24, 32, 48} (12); llama3 factor {4, 8, 16} × low_freq_factor {1, 2} × high_freq_factor "
        "{4, 8} with original context 131072 as in the study (12); NTK-aware factor 2…10 (9); linear factor 2, 4, 8, 16 (4); "
        "dynamic NTK factor 2, 4, 8 (3); LongRoPE up to factor 2, 4, 8 (3). Chosen here, not stated by the study: the llama3 "
        "factors and frequency factors, the NTK, linear, dynamic and LongRoPE values; original context 8192 (Llama 3.2's "
        "own) for YaRN, dynamic NTK and LongRoPE; LongRoPE's long_factor is a generated ramp from 1 to the factor with "
        "short_factor 1, not searched factors; the checkpoint's own RoPE is not among the 43 (add it as a row for a "
        "baseline). Data: the Gutenberg books (long_docs/gutenberg_books.jsonl in the data folder; not PG-19) for "
        "perplexity (at most 32 windows per length) and LongPPL (trunc_len 1024 — its default 4096 leaves no key tokens at "
        "2K and 4K —, the model as its own evaluator); passkey with the built-in filler, depths 0–1 by 0.25, 5 trials.");
    out << finish(p);
  }

  // --- Gated DeltaNet Table 3 (Yang, Kautz & Hatamizadeh 2024): language modelling and zero-shot reasoning ---
  {
    RunPreset p;
    p.name = QObject::tr("Gated DeltaNet Table 3");
    p.entries = {
        QJsonObject{{"task", "wikitext"}, {"data", data("wikitext-2-raw/wiki.test.raw")}},
        QJsonObject{{"task", "lambada_openai"}, {"data", data("lambada_openai/test.jsonl")}},
        QJsonObject{{"task", "piqa"}, {"data", data("piqa/validation.jsonl")}},
        QJsonObject{{"task", "hellaswag"}, {"data", data("hellaswag/validation.jsonl")}},
        QJsonObject{{"task", "winogrande"}, {"data", data("winogrande/validation.jsonl")}},
        QJsonObject{{"task", "arc_easy"}, {"data", data("arc_easy/test.jsonl")}},
        QJsonObject{{"task", "arc_challenge"}, {"data", data("arc_challenge/test.jsonl")}},
        QJsonObject{{"task", "social_iqa"}, {"data", data("social_iqa/validation.jsonl")}},
        QJsonObject{{"task", "boolq"}, {"data", data("boolq/validation.jsonl")}},
    };
    p.rope = {makeRope("checkpoint", {})};
    p.description = QObject::tr(
        "WikiText perplexity, LAMBADA perplexity and accuracy, and the zero-shot commonsense tasks (PIQA, HellaSwag, "
        "WinoGrande, ARC-e, ARC-c, SIQA, BoolQ) as in Yang et al. 2024, Table 3, with lm-eval's splits (ARC test, the "
        "others validation, LAMBADA OpenAI test) from the data folder. HellaSwag is not in ../shared/data: put "
        "hellaswag/validation.jsonl (Hugging Face layout) in the data folder, or untick hellaswag.");
    out << finish(p);
  }

  // --- Gated DeltaNet Fig. 2: perplexity vs length on several corpora (one ppl_vs_length instance each) ---
  {
    RunPreset p;
    p.name = QObject::tr("Gated DeltaNet Fig. 2");
    const QStringList corpora{"pg19", "codeparrot", "narrativeqa", "qasper", "govreport", "qmsum"};
    for (const QString& c : corpora)
      p.entries.append(QJsonObject{{"task", "ppl_vs_length"}, {"alias", c}, {"data", data(c + "/test.jsonl")},
                                   {"lengths", "4096:20480:4096"}, {"protocol", "chunks"}});
    p.rope = {makeRope("checkpoint", {})};
    p.description = QObject::tr(
        "Length extrapolation as in Yang et al. 2024, Fig. 2: perplexity vs context length on six long corpora, one "
        "ppl_vs_length instance each (aliases pg19, codeparrot, narrativeqa, qasper, govreport, qmsum — the corpora as we "
        "read the figure; check them against the paper). Each is expected as <data folder>/<alias>/test.jsonl with a "
        "`text` field; none is in ../shared/data, so the data check lists what to bring. Lengths 4K to 20K in steps of "
        "4K are chosen here. Until the task builder holds several instances of a task, it applies the first (pg19).");
    out << finish(p);
  }

  // --- Length extrapolation around the ticked models' own context ---
  {
    const qint64 ctx = opts.context_length > 0 ? opts.context_length : 2048;
    const QString lengths = QString("%1..%2 x2").arg(std::max<qint64>(ctx / 2, 64)).arg(ctx * 8);
    const QString passkey_lengths = QString("%1..%2 x2").arg(std::max<qint64>(ctx / 2, 64)).arg(ctx * 4);
    RunPreset p;
    p.name = QObject::tr("Length extrapolation");
    p.entries = {QJsonObject{{"task", "ppl_vs_length"}, {"data", books}, {"lengths", lengths}},
                 QJsonObject{{"task", "passkey"}, {"lengths", passkey_lengths}, {"depths", "0:1:0.25"}}};
    p.description = QObject::tr("Perplexity vs context length (%1, on the Gutenberg books of the data folder) and passkey "
                                "retrieval (%2) from half to 8× (passkey 4×) the ticked models' context (%3 tokens)")
                        .arg(lengths, passkey_lengths)
                        .arg(ctx);
    out << finish(p);
  }
  return out;
}

QStringList RunPreset::ropeSettings(qint64 target, int factor_count) const {
  QStringList out;
  for (const auto& s : rope) {
    if (!s.isValid(target, factor_count)) continue;
    for (const QString& e : s.expand())
      if (!out.contains(e)) out << e;
  }
  return out;
}

QJsonArray RunPreset::entriesOf(const QString& task) const {
  QJsonArray out;
  for (const auto& v : entries)
    if (v.toObject()["task"].toString() == task) out.append(v);
  return out;
}

QJsonArray RunPreset::extraInstances() const {
  QJsonArray out;
  QStringList seen;
  for (const auto& v : entries) {
    const QString t = v.toObject()["task"].toString();
    if (seen.contains(t)) out.append(v);
    seen << t;
  }
  return out;
}
