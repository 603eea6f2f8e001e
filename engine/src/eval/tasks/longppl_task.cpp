// `longppl`: LongPPL (Fang et al., ICLR 2025), following the authors' longppl package (0.3.0):
// 1. The evaluator E reads the whole text (its tokenizer's own BOS rule) once: LCL(x) = log P_E(x | all before).
//    For starts s = 0, W, 2W, ... while s < n − K it reads x[s : s+K+W] alone; the targets s+K .. s+K+W−1 get
//    log P_short(x) with between K and K+W−1 tokens of context. Key token: LSD = LCL − log P_short > α and LCL > β
//    (paper: α = 2, β = −2, K = trunc_len 4096, W = sliding_window 1024, on texts of 32K tokens).
// 2. Key tokens become byte spans of the text; the evaluated model's tokens (no special tokens) whose span lies
//    inside a key span are its key tokens (the package's cal_overlap), so E and the model may tokenise differently.
// 3. The model reads the whole text once; LongPPL = exp(mean NLL over its key tokens), PPL over all tokens.
// At each of `lengths` L (default: the max length) every document of at least L model tokens is cut to its first L
// (shorter ones are left out of that length, as ppl_vs_length leaves them out, so a point at L is a context of L).
// A key token needs more than K tokens of context, so K must be below L: without a trunc_len, K = min(4096, L/8)
// and W = K/4 — the paper's proportions at 32K (4096 = 32K/8, 1024 = 4096/4) carried to every length, and the
// package's own values from 32K up. One unit per length × document; totals are token-weighted over the documents
// of a length. Metrics `longppl@L`, `ppl@L`; details `series` (one point per length, for LongPPL-vs-length plots).
// The key tokens' positions are kept in the unit results for inspection.
#include <cmath>
#include <map>

#include "eval/scoring.h"
#include "eval/task_data.h"
#include "eval/tasks/task_registry.h"
#include "lmscope/error.h"

namespace lmscope::eval {
namespace {

// Byte span [begin, end) of each token in decode(ids): the package's compute_offsets rule (a token's text is what
// it adds after its predecessor), in bytes.
std::vector<std::pair<std::int64_t, std::int64_t>> token_spans(const Tokenizer& t, std::span<const std::int32_t> ids) {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  std::int64_t at = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::int64_t len;
    if (i == 0) len = static_cast<std::int64_t>(t.decode(ids.subspan(0, 1)).size());
    else
      len = static_cast<std::int64_t>(t.decode(ids.subspan(i - 1, 2)).size()) -
            static_cast<std::int64_t>(t.decode(ids.subspan(i - 1, 1)).size());
    len = std::max<std::int64_t>(len, 0);
    out.emplace_back(at, at + len);
    at += len;
  }
  return out;
}

class LongPplTask final : public Task {
 public:
  LongPplTask(const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) {
    const std::string task = "longppl";
    const auto path = s.file("data", base_dir, "long documents (text file, .jsonl with `text`, or .json list)");
    const auto docs = read_documents(path, s.text("field"));
    if (s.given("length") && s.given("lengths"))
      throw BadInput("task longppl: give 'lengths' (a list) or 'length' (one length), not both");
    std::vector<std::int64_t> lengths;
    if (const auto one = s.integer_if("length")) lengths = {*one};
    else lengths = s.integers_if("lengths").value_or(std::vector<std::int64_t>{env.max_length});
    for (std::size_t i = 0; i < lengths.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (lengths[i] == lengths[j]) throw BadInput("task longppl: 'lengths' has " + std::to_string(lengths[i]) + " twice");
    const auto trunc = s.integer_if("trunc_len");
    const auto window = s.integer_if("sliding_window");
    alpha_ = s.number("alpha");
    beta_ = s.number("beta");
    const auto limit = s.integer_if("limit");
    std::string evaluator;
    if (s.given("evaluator")) {
      if (!s.json()["evaluator"].is_string())
        throw BadInput("task longppl: field 'evaluator' must be the path of a checkpoint folder");
      std::filesystem::path p = s.json()["evaluator"].get<std::string>();
      if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
      std::error_code ec;
      if (!std::filesystem::is_directory(p, ec))
        throw BadInput("task longppl: evaluator '" + p.string() + "' is not a checkpoint folder");
      evaluator = p.lexically_normal().string();
    }
    std::vector<std::vector<std::int32_t>> ids;
    std::size_t longest = 0;
    for (const auto& d : docs) {
      ids.push_back(encode_plain(*env.tokenizer, d));
      longest = std::max(longest, ids.back().size());
    }
    nlohmann::json resolved = nlohmann::json::array();
    for (const auto L : lengths) {
      Length len{L, trunc.value_or(std::min<std::int64_t>(4096, std::max<std::int64_t>(1, L / 8))), 0, 0};
      len.window = window.value_or(std::max<std::int64_t>(1, len.trunc / 4));
      if (len.trunc >= L)
        throw BadInput("task longppl: trunc_len " + std::to_string(len.trunc) + " is not below the length " +
                       std::to_string(L) + ": a key token is one that needs more than trunc_len tokens of context, so "
                       "a text of " + std::to_string(L) + " tokens has none (leave trunc_len out for min(4096, L/8))");
      for (std::size_t d = 0; d < ids.size(); ++d) {
        if (static_cast<std::int64_t>(ids[d].size()) < L) continue;
        if (limit && len.documents >= *limit) break;
        const std::span<const std::int32_t> first(ids[d].data(), static_cast<std::size_t>(L));
        units_.push_back({lengths_.size(), d, env.tokenizer->decode(first)});
        ++len.documents;
      }
      if (len.documents == 0)
        throw BadInput("task longppl: no document of " + path.string() + " has " + std::to_string(L) +
                       " tokens (the longest has " + std::to_string(longest) + "); drop that length or add longer text");
      resolved.push_back({{"length", L}, {"trunc_len", len.trunc}, {"sliding_window", len.window},
                          {"documents", len.documents}});
      lengths_.push_back(len);
    }
    config_ = {{"task", task},           {"data", path.string()},  {"data_hash", documents_hash(docs)},
               {"documents", docs.size()}, {"evaluator", evaluator}, {"lengths", lengths},
               {"per_length", resolved},  {"alpha", alpha_},        {"beta", beta_},
               {"limit", limit ? nlohmann::json(*limit) : nlohmann::json(nullptr)},
               {"reference", "PKU-ML/LongPPL longppl 0.3.0 compute_longppl"}};
  }

  std::string name() const override { return "longppl"; }
  nlohmann::json config() const override { return config_; }
  std::int64_t unit_count() const override { return static_cast<std::int64_t>(units_.size()); }
  // The model's and the evaluator's long pass, and the evaluator's short windows.
  std::int64_t unit_cost(std::int64_t i) const override {
    const auto& len = lengths_[units_[static_cast<std::size_t>(i)].length];
    const auto shorts = (len.length - len.trunc + len.window - 1) / len.window;
    return 2 * len.length + shorts * (len.trunc + len.window);
  }

  nlohmann::json run_unit(std::int64_t i, const TaskEnv& env) const override {
    const auto& unit = units_[static_cast<std::size_t>(i)];
    const auto& text = unit.text;
    const std::int64_t trunc = lengths_[unit.length].trunc, window = lengths_[unit.length].window;
    // 1. evaluator: long and short log-probabilities of each of its tokens
    const auto& et = *env.evaluator_tokenizer;
    const auto eids = et.encode(text);
    const std::int64_t n = static_cast<std::int64_t>(eids.size());
    std::vector<std::int32_t> next(eids.begin() + (n > 0 ? 1 : 0), eids.end());
    next.push_back(-1);
    const auto full = score_window(*env.evaluator, eids, next, env);  // full.logprobs[j] = log P(eids[j+1] | ..j)
    std::vector<std::uint8_t> key_e(static_cast<std::size_t>(n), 0);  // per evaluator token (as a target)
    struct Short {
      std::int64_t start, width;
    };
    std::vector<Short> shorts;
    std::vector<std::vector<std::int32_t>> short_targets;
    std::vector<WindowRequest> requests;
    for (std::int64_t st = 0, W = window; st < n - trunc; st += window) {
      if (st + trunc + W > n) W = n - st - trunc;
      shorts.push_back({st, W});
      std::vector<std::int32_t> tg(static_cast<std::size_t>(trunc + W - 1), -1);
      for (std::int64_t j = trunc - 1; j < trunc + W - 1; ++j) tg[static_cast<std::size_t>(j)] = eids[static_cast<std::size_t>(st + j + 1)];
      short_targets.push_back(std::move(tg));
    }
    for (std::size_t k = 0; k < shorts.size(); ++k)
      requests.push_back({std::span<const std::int32_t>(eids.data() + shorts[k].start, short_targets[k].size()),
                          short_targets[k]});
    const auto short_scores = score_windows(*env.evaluator, requests, env);
    for (std::size_t k = 0; k < shorts.size(); ++k) {
      const std::int64_t st = shorts[k].start, W = shorts[k].width;
      const auto& sh = short_scores[k];
      for (std::int64_t j = trunc - 1; j < trunc + W - 1; ++j) {
        const double lcl = full.logprobs[static_cast<std::size_t>(st + j)];
        const double lsd = lcl - sh.logprobs[static_cast<std::size_t>(j)];
        if (lsd > alpha_ && lcl > beta_) key_e[static_cast<std::size_t>(st + j + 1)] = 1;
      }
    }
    // 2. key byte spans, merged where adjacent
    // A leading BOS covers no text (offset (0, 0) in the package); spans start after it.
    const bool lead_bos = n > 0 && et.bos_id() && eids[0] == *et.bos_id();
    auto espans = token_spans(et, std::span<const std::int32_t>(eids).subspan(lead_bos ? 1 : 0));
    if (lead_bos) espans.insert(espans.begin(), {0, 0});
    std::vector<std::pair<std::int64_t, std::int64_t>> key_spans;
    for (std::int64_t j = 0; j < n; ++j) {
      if (!key_e[static_cast<std::size_t>(j)]) continue;
      const auto sp = espans[static_cast<std::size_t>(j)];
      if (!key_spans.empty() && key_spans.back().second == sp.first) key_spans.back().second = sp.second;
      else key_spans.push_back(sp);
    }
    // 3. the model: every token once; key tokens are those inside a key span (cal_overlap's walk)
    const auto mids = encode_plain(*env.tokenizer, text);
    const auto mspans = token_spans(*env.tokenizer, mids);
    std::vector<std::int64_t> key_m;
    for (std::size_t a = 0, b = 0; a < mspans.size() && b < key_spans.size();) {
      if (mspans[a].first >= key_spans[b].first && mspans[a].second <= key_spans[b].second) {
        if (a > 0) key_m.push_back(static_cast<std::int64_t>(a));
        ++a;
      } else if (mspans[a].first < key_spans[b].first) {
        ++a;
      } else {
        ++b;
      }
    }
    double nll = 0, nll_key = 0;
    std::int64_t tokens = 0;
    if (mids.size() >= 2) {
      std::span<const std::int32_t> in(mids.data(), mids.size() - 1);
      std::vector<std::int32_t> tg(mids.begin() + 1, mids.end());
      const auto m = score_window(*env.model, in, tg, env);
      nll = -m.sum;
      tokens = m.scored;
      for (auto a : key_m) nll_key -= m.logprobs[static_cast<std::size_t>(a - 1)];
    }
    return {{"length", lengths_[unit.length].length}, {"document", unit.document},
            {"nll", nll}, {"tokens", tokens}, {"nll_key", nll_key}, {"key_tokens", key_m.size()},
            {"key_positions", key_m}, {"evaluator_key_tokens", std::count(key_e.begin(), key_e.end(), 1)}};
  }

  TaskAggregate aggregate(const std::vector<std::pair<std::int64_t, nlohmann::json>>& units) const override {
    struct Totals {
      double nll = 0, nll_key = 0;
      std::int64_t tokens = 0, keys = 0, documents = 0;
    };
    std::map<std::int64_t, Totals> by_len;
    nlohmann::json per_doc = nlohmann::json::array();
    for (const auto& [i, u] : units) {
      const auto L = u.at("length").get<std::int64_t>();
      auto& t = by_len[L];
      t.nll += u.at("nll").get<double>();
      t.nll_key += u.at("nll_key").get<double>();
      t.tokens += u.at("tokens").get<std::int64_t>();
      t.keys += u.at("key_tokens").get<std::int64_t>();
      ++t.documents;
      per_doc.push_back({{"length", L}, {"document", u["document"]}, {"key_tokens", u["key_tokens"]}, {"tokens", u["tokens"]}});
    }
    TaskAggregate a;
    a.samples = static_cast<std::int64_t>(units.size());
    nlohmann::json series = nlohmann::json::array();
    for (const auto& len : lengths_) {
      const auto it = by_len.find(len.length);
      if (it == by_len.end()) continue;
      const auto& t = it->second;
      const auto tag = "@" + std::to_string(len.length);
      nlohmann::json point{{"length", len.length},     {"key_tokens", t.keys},      {"tokens", t.tokens},
                           {"documents", t.documents}, {"trunc_len", len.trunc},    {"sliding_window", len.window}};
      if (t.tokens > 0) a.metrics["ppl" + tag] = point["ppl"] = std::exp(t.nll / static_cast<double>(t.tokens));
      // No key token at this length (nothing gained from context beyond trunc_len): no LongPPL, said in the point.
      if (t.keys > 0) a.metrics["longppl" + tag] = point["longppl"] = std::exp(t.nll_key / static_cast<double>(t.keys));
      else point["note"] = "no key tokens: no token gains more than alpha from context beyond trunc_len";
      series.push_back(point);
    }
    a.details = {{"series", series}, {"documents", per_doc}};
    return a;
  }

 private:
  struct Length {
    std::int64_t length = 0, trunc = 0, window = 0, documents = 0;
  };
  struct Unit {
    std::size_t length = 0;  // index into lengths_
    std::size_t document = 0;
    std::string text;        // the document's first `length` model tokens, as text
  };
  std::vector<Length> lengths_;
  std::vector<Unit> units_;
  double alpha_ = 2, beta_ = -2;
  nlohmann::json config_;
};

}  // namespace

TaskSchema longppl_schema() {
  using T = SettingType;
  return {
      .name = "longppl",
      .description = "LongPPL (Fang et al. 2025): perplexity on the key tokens an evaluator model finds, at a list of "
                     "lengths",
      .group = TaskGroup::long_context,
      .settings =
          {{.key = "data", .type = T::file, .label = "data file",
            .help = "long documents: a text file (one document), .jsonl with a `text` field, or a .json list",
            .default_value = nullptr, .required = true},
           text_field_setting(),
           {.key = "lengths", .type = T::integer_list, .label = "lengths (tokens)",
            .help = "documents are cut to their first L model tokens (shorter ones are left out of L); "
                    "none: the max length",
            .default_value = nullptr, .min = 2, .max = static_cast<double>(kMaxTaskLength)},
           {.key = "length", .type = T::integer, .label = "length (one)",
            .help = "one length: the same as lengths [length]", .default_value = nullptr, .min = 2,
            .max = static_cast<double>(kMaxTaskLength), .synonym_of = "lengths"},
           {.key = "trunc_len", .type = T::integer, .label = "short context K",
            .help = "the evaluator's short context K in its tokens: key tokens gain from context beyond K, so K must be "
                    "below every length; none: min(4096, L/8) at each length L (the paper: 4096 at 32K)",
            .default_value = nullptr, .min = 1, .max = static_cast<double>(kMaxTaskLength)},
           {.key = "sliding_window", .type = T::integer, .label = "sliding window W",
            .help = "the short windows' step W: each reads K + W tokens; none: K/4 (the paper: 1024)",
            .default_value = nullptr, .min = 1, .max = static_cast<double>(kMaxTaskLength)},
           {.key = "alpha", .type = T::number, .label = "alpha (LSD threshold)",
            .help = "a key token's long-short difference LSD = log P(long) - log P(short) exceeds alpha",
            .default_value = 2.0},
           {.key = "beta", .type = T::number, .label = "beta (LCL threshold)",
            .help = "a key token's long-context log-likelihood LCL exceeds beta", .default_value = -2.0},
           {.key = "evaluator", .type = T::folder, .label = "evaluator model",
            .help = "the checkpoint folder of the model that finds key tokens (the longppl package uses Llama-3.1-8B); none: the "
                    "model itself",
            .default_value = nullptr},
           common_setting("alias"), common_setting("limit", "at most this many documents per length; none: all"),
           common_setting("max_length", "the default length; none: lm-eval's rule (the model's context, else 2048)"),
           common_setting("batch_size")},
      .make = [](const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) -> std::unique_ptr<Task> {
        return std::make_unique<LongPplTask>(s, env, base_dir);
      }};
}

}  // namespace lmscope::eval
