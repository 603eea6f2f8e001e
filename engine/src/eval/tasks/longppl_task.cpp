// `longppl`: LongPPL (Fang et al., ICLR 2025), following the authors' longppl package (0.3.0):
// 1. The evaluator E reads the whole text (its tokenizer's own BOS rule) once: LCL(x) = log P_E(x | all before).
//    For starts s = 0, W, 2W, ... while s < n − K it reads x[s : s+K+W] alone; the targets s+K .. s+K+W−1 get
//    log P_short(x) with between K and K+W−1 tokens of context. Key token: LSD = LCL − log P_short > α and LCL > β
//    (paper: α = 2, β = −2, K = trunc_len 4096, W = sliding_window 1024).
// 2. Key tokens become byte spans of the text; the evaluated model's tokens (no special tokens) whose span lies
//    inside a key span are its key tokens (the package's cal_overlap), so E and the model may tokenise differently.
// 3. The model reads the whole text once; LongPPL = exp(mean NLL over its key tokens), PPL over all tokens.
// Each document is truncated to `length` model tokens (default: the max length). One unit per document; totals are
// token-weighted over documents. The key tokens' positions are kept in the unit results for inspection.
#include <cmath>

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
  LongPplTask(const nlohmann::json& s, const TaskEnv& env, const std::string& base_dir) {
    const std::string task = "longppl";
    check_known_settings(s, with_common({"data", "field", "evaluator", "trunc_len", "sliding_window", "alpha", "beta",
                                         "length"}),
                         task);
    const auto path = data_path(s, "data", task, base_dir, "long documents (text file, .jsonl with `text`, or .json list)");
    auto docs = read_documents(path, setting_string(s, "field", "text", task));
    const auto limit = setting_int(s, "limit", -1, task);
    if (limit >= 0 && static_cast<std::size_t>(limit) < docs.size()) docs.resize(static_cast<std::size_t>(limit));
    trunc_ = setting_int_in(s, "trunc_len", 4096, 1, kMaxTaskLength, task);
    window_ = setting_int_in(s, "sliding_window", 1024, 1, kMaxTaskLength, task);
    alpha_ = setting_double(s, "alpha", 2.0, task);
    beta_ = setting_double(s, "beta", -2.0, task);
    const auto length = setting_int_in(s, "length", env.max_length, 2, kMaxTaskContext, task);
    if (trunc_ < 1 || window_ < 1 || length < 2) throw BadInput("task longppl: trunc_len, sliding_window must be >= 1, length >= 2");
    std::string evaluator;
    if (s.contains("evaluator") && s["evaluator"].is_string()) {
      std::filesystem::path p = s["evaluator"].get<std::string>();
      if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
      std::error_code ec;
      if (!std::filesystem::is_directory(p, ec))
        throw BadInput("task longppl: evaluator '" + p.string() + "' is not a checkpoint folder");
      evaluator = p.lexically_normal().string();
    }
    for (const auto& d : docs) {
      auto ids = encode_plain(*env.tokenizer, d);
      if (static_cast<std::int64_t>(ids.size()) > length) ids.resize(static_cast<std::size_t>(length));
      texts_.push_back(env.tokenizer->decode(ids));
    }
    config_ = {{"task", task},         {"data", path.string()},    {"data_hash", documents_hash(docs)},
               {"documents", docs.size()}, {"evaluator", evaluator}, {"trunc_len", trunc_},
               {"sliding_window", window_}, {"alpha", alpha_},      {"beta", beta_},
               {"length", length},      {"reference", "PKU-ML/LongPPL longppl 0.3.0 compute_longppl"}};
  }

  std::string name() const override { return "longppl"; }
  nlohmann::json config() const override { return config_; }
  std::int64_t unit_count() const override { return static_cast<std::int64_t>(texts_.size()); }
  std::int64_t unit_cost(std::int64_t i) const override {
    return static_cast<std::int64_t>(texts_[static_cast<std::size_t>(i)].size()) / 2 + 1;
  }

  nlohmann::json run_unit(std::int64_t i, const TaskEnv& env) const override {
    const auto& text = texts_[static_cast<std::size_t>(i)];
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
    for (std::int64_t st = 0, W = window_; st < n - trunc_; st += window_) {
      if (st + trunc_ + W > n) W = n - st - trunc_;
      shorts.push_back({st, W});
      std::vector<std::int32_t> tg(static_cast<std::size_t>(trunc_ + W - 1), -1);
      for (std::int64_t j = trunc_ - 1; j < trunc_ + W - 1; ++j) tg[static_cast<std::size_t>(j)] = eids[static_cast<std::size_t>(st + j + 1)];
      short_targets.push_back(std::move(tg));
    }
    for (std::size_t k = 0; k < shorts.size(); ++k)
      requests.push_back({std::span<const std::int32_t>(eids.data() + shorts[k].start, short_targets[k].size()),
                          short_targets[k]});
    const auto short_scores = score_windows(*env.evaluator, requests, env);
    for (std::size_t k = 0; k < shorts.size(); ++k) {
      const std::int64_t st = shorts[k].start, W = shorts[k].width;
      const auto& sh = short_scores[k];
      for (std::int64_t j = trunc_ - 1; j < trunc_ + W - 1; ++j) {
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
    return {{"nll", nll}, {"tokens", tokens}, {"nll_key", nll_key}, {"key_tokens", key_m.size()},
            {"key_positions", key_m}, {"evaluator_key_tokens", std::count(key_e.begin(), key_e.end(), 1)}};
  }

  TaskAggregate aggregate(const std::vector<std::pair<std::int64_t, nlohmann::json>>& units) const override {
    double nll = 0, nll_key = 0;
    std::int64_t tokens = 0, keys = 0;
    nlohmann::json per_doc = nlohmann::json::array();
    for (const auto& [i, u] : units) {
      nll += u.at("nll").get<double>();
      nll_key += u.at("nll_key").get<double>();
      tokens += u.at("tokens").get<std::int64_t>();
      keys += u.at("key_tokens").get<std::int64_t>();
      per_doc.push_back({{"document", i}, {"key_tokens", u["key_tokens"]}, {"tokens", u["tokens"]}});
    }
    TaskAggregate a;
    a.samples = static_cast<std::int64_t>(units.size());
    if (tokens > 0) a.metrics["ppl"] = std::exp(nll / static_cast<double>(tokens));
    if (keys > 0) a.metrics["longppl"] = std::exp(nll_key / static_cast<double>(keys));
    a.details = {{"key_tokens", keys}, {"tokens", tokens}, {"documents", per_doc}};
    return a;
  }

 private:
  std::vector<std::string> texts_;
  std::int64_t trunc_ = 4096, window_ = 1024;
  double alpha_ = 2, beta_ = -2;
  nlohmann::json config_;
};

}  // namespace

std::unique_ptr<Task> make_longppl_task(const nlohmann::json& s, const TaskEnv& env, const std::string& base_dir) {
  return std::make_unique<LongPplTask>(s, env, base_dir);
}

}  // namespace lmscope::eval
