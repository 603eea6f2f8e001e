// `compare`: a model token by token, alone or against a base model (a RoPE-extended model against its base, BitNet
// against full precision, a linear-attention model against a Transformer with the same tokenizer). Documents are
// cut into windows of `length` tokens (every `stride` tokens; remainder dropped, shorter documents skipped); each
// window is read from an empty state and every position but the last predicts its next token.
// Alone: the loss at each position (per-position curve, in buckets) and the perplexity, through fused scoring.
// With `base`: both models read the same windows (eval/model_comparison.h) and each position gives KL(base ‖ model),
// whether both pick the same top token, and ΔNLL = NLL_model − NLL_base. Reported: their means (± stderr over
// tokens), KL percentiles, per-position curves, a ΔNLL histogram, the worst tokens with their text, and a token
// view of the window where the model loses most. Per-token values stay in the unit results (float32, base64).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "eval/model_comparison.h"
#include "eval/packed_floats.h"
#include "eval/scoring.h"
#include "eval/task_data.h"
#include "eval/tasks/task_registry.h"
#include "lmscope/error.h"

namespace lmscope::eval {
namespace {

// Bumped when what a unit stores or what a metric means changes.
constexpr int kMetricsVersion = 1;
constexpr std::int64_t kMaxBuckets = 4096;
constexpr std::int64_t kMaxWorst = 1000;
constexpr std::int64_t kHistogramBins = 40;
constexpr std::int64_t kViewTokens = 1024;  // tokens of the token view (its JSON is re-sent with live results)

struct Window {
  std::size_t doc = 0;
  std::int64_t start = 0;
};

// Per-token values of one window, as a unit stores them.
struct WindowValues {
  std::size_t doc = 0;
  std::int64_t start = 0;
  std::vector<float> nll, base_nll, kl;
  std::string top1;  // '1' where both models' argmax agree
};

// The bytes a token adds after its predecessor (the pair rule: decode(a b) minus decode(a)), so SentencePiece's
// leading space and byte-level merges come out as the text shows them.
std::vector<std::string> token_pieces(const Tokenizer& t, std::span<const std::int32_t> ids) {
  std::vector<std::string> out(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i == 0) {
      out[i] = t.decode(ids.subspan(0, 1));
      continue;
    }
    const auto prev = t.decode(ids.subspan(i - 1, 1));
    const auto pair = t.decode(ids.subspan(i - 1, 2));
    out[i] = pair.compare(0, prev.size(), prev) == 0 ? pair.substr(prev.size()) : t.decode(ids.subspan(i, 1));
  }
  return out;
}

// Pieces shown one by one: a piece ending inside a UTF-8 sequence hands its incomplete bytes to the next one, and
// what is still not UTF-8 becomes U+FFFD (byte-level models split characters across tokens).
std::vector<std::string> display_pieces(std::span<const std::string> pieces) {
  std::vector<std::string> out(pieces.size());
  std::string pending;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    std::string s = pending + pieces[i];
    std::size_t k = complete_utf8_prefix(s);
    if (s.size() - k > 3) k = s.size();  // longer than any UTF-8 sequence: not one that will complete
    out[i] = valid_utf8(s.substr(0, k));
    pending = s.substr(k);
  }
  if (!pending.empty() && !out.empty()) out.back() += valid_utf8(pending);
  return out;
}

// numpy's default percentile (linear interpolation between order statistics) of sorted values.
double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double at = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(at));
  const auto hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (at - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

class CompareTask final : public Task {
 public:
  CompareTask(const TaskSettings& settings, const TaskEnv& env, const std::string& base_dir) {
    const std::string task = "compare";
    const auto& s = settings.json();
    const auto path = settings.file("data", base_dir,
                                    "documents: a text file (one document), .jsonl with a `text` field, or .json list");
    const auto docs = read_documents(path, settings.text("field"));
    length_ = settings.integer_if("length").value_or(std::min<std::int64_t>(env.max_length, 2048));
    stride_ = settings.integer_if("stride").value_or(length_);
    const auto max_windows = settings.integer_if("max_windows").value_or(settings.integer_if("limit").value_or(-1));
    buckets_ = settings.integer("buckets");
    worst_ = settings.integer("worst");
    const bool bos = settings.flag("bos");
    if (settings.given("base") && !s["base"].is_string())
      throw BadInput("task compare: field 'base' must be the path of the base model's checkpoint folder");
    std::string base;
    if (settings.given("base")) {
      std::filesystem::path p = s["base"].get<std::string>();
      if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
      std::error_code ec;
      if (!std::filesystem::is_directory(p, ec) || !std::filesystem::is_regular_file(p / "config.json", ec))
        throw BadInput("task compare: base '" + p.string() + "' is not a checkpoint folder (no config.json there)");
      base = p.lexically_normal().string();
    }
    tokens_ = encode_documents(*env.tokenizer, docs, bos ? std::optional(env.prefix_token) : std::nullopt);
    const std::string tokenizer_check = base.empty() ? "" : check_same_tokens(base, docs, bos, *env.tokenizer);
    std::vector<Window> ws;
    for (std::size_t d = 0; d < tokens_.size(); ++d) {
      const auto n = static_cast<std::int64_t>(tokens_[d].size());
      for (std::int64_t st = 0; st + length_ <= n; st += stride_) {
        if (max_windows >= 0 && static_cast<std::int64_t>(ws.size()) >= max_windows) break;
        ws.push_back({d, st});
      }
    }
    if (ws.empty()) {
      std::size_t longest = 0;
      for (const auto& t : tokens_) longest = std::max(longest, t.size());
      throw BadInput("task compare: no document of " + path.string() + " has " + std::to_string(length_) +
                     " tokens (the longest has " + std::to_string(longest) + "); set a smaller 'length' or add longer text");
    }
    // Pieces of the tokens the windows cover, for the worst-token list and the token view.
    pieces_.resize(tokens_.size());
    for (std::size_t d = 0; d < tokens_.size(); ++d) {
      std::int64_t covered = 0;
      for (const auto& w : ws)
        if (w.doc == d) covered = std::max(covered, w.start + length_);
      pieces_[d] = token_pieces(*env.tokenizer, std::span<const std::int32_t>(tokens_[d]).first(static_cast<std::size_t>(covered)));
    }
    // Units of about 16K tokens (pairs: both models read them), so short windows do not make tiny commits.
    const std::size_t per_unit = static_cast<std::size_t>(std::max<std::int64_t>(1, 16384 / length_));
    for (std::size_t i = 0; i < ws.size(); i += per_unit)
      units_.emplace_back(ws.begin() + static_cast<std::ptrdiff_t>(i),
                          ws.begin() + static_cast<std::ptrdiff_t>(std::min(ws.size(), i + per_unit)));
    paired_ = !base.empty();
    config_ = {{"task", task},          {"data", path.string()},   {"data_hash", documents_hash(docs)},
               {"documents", docs.size()}, {"base", base},          {"length", length_},
               {"stride", stride_},     {"max_windows", max_windows}, {"windows", ws.size()},
               {"bos", bos},            {"buckets", buckets_},      {"worst", worst_},
               {"metrics_version", kMetricsVersion}};
    if (!tokenizer_check.empty()) config_["tokenizer_check"] = tokenizer_check;
  }

  std::string name() const override { return "compare"; }
  nlohmann::json config() const override { return config_; }
  std::int64_t unit_count() const override { return static_cast<std::int64_t>(units_.size()); }
  std::int64_t unit_cost(std::int64_t i) const override {
    return static_cast<std::int64_t>(units_[static_cast<std::size_t>(i)].size()) * length_ * (paired_ ? 2 : 1);
  }

  nlohmann::json run_unit(std::int64_t i, const TaskEnv& env) const override {
    const auto& unit = units_[static_cast<std::size_t>(i)];
    std::vector<std::vector<std::int32_t>> targets;
    std::vector<WindowRequest> requests;
    for (const auto& w : unit) {
      const auto* t = tokens_[w.doc].data() + w.start;
      targets.emplace_back(t + 1, t + length_);
      requests.push_back({std::span<const std::int32_t>(t, static_cast<std::size_t>(length_ - 1)), targets.back()});
    }
    nlohmann::json windows = nlohmann::json::array();
    if (!paired_) {
      const auto scores = score_windows(*env.model, requests, env);
      for (std::size_t k = 0; k < unit.size(); ++k) {
        std::vector<float> nll(scores[k].logprobs.size());
        for (std::size_t p = 0; p < nll.size(); ++p) nll[p] = static_cast<float>(-scores[k].logprobs[p]);
        windows.push_back({{"doc", unit[k].doc}, {"start", unit[k].start}, {"nll", pack_floats(nll)}});
      }
      return {{"windows", windows}};
    }
    if (env.evaluator == nullptr || env.evaluator == env.model)
      throw InternalError("task compare: the base model was not loaded");
    for (std::size_t k = 0; k < unit.size(); ++k) {
      const auto c = compare_window(*env.model, *env.evaluator, requests[k].input, requests[k].targets, env);
      std::vector<float> nll(c.size()), base_nll(c.size()), kl(c.size());
      std::string top1(c.size(), '0');
      for (std::size_t p = 0; p < c.size(); ++p) {
        nll[p] = static_cast<float>(c[p].nll);
        base_nll[p] = static_cast<float>(c[p].base_nll);
        kl[p] = static_cast<float>(c[p].kl);
        if (c[p].same_top) top1[p] = '1';
      }
      windows.push_back({{"doc", unit[k].doc},
                         {"start", unit[k].start},
                         {"nll", pack_floats(nll)},
                         {"base_nll", pack_floats(base_nll)},
                         {"kl", pack_floats(kl)},
                         {"top1", top1}});
    }
    return {{"windows", windows}};
  }

  TaskAggregate aggregate(const std::vector<std::pair<std::int64_t, nlohmann::json>>& units) const override {
    std::vector<WindowValues> ws;
    for (const auto& [i, u] : units)
      for (const auto& w : u.at("windows")) ws.push_back(read_window(w, i));
    const std::int64_t P = length_ - 1;  // positions per window
    const std::int64_t width = (P + buckets_ - 1) / buckets_;
    const std::int64_t nb = (P + width - 1) / width;
    struct Bucket {
      double nll = 0, base_nll = 0, kl = 0;
      std::int64_t top1 = 0, n = 0;
    };
    std::vector<Bucket> bk(static_cast<std::size_t>(nb));
    std::vector<double> nll_all, dnll_all, kl_all, top1_all;
    double nll_sum = 0, base_sum = 0;
    for (const auto& w : ws) {
      for (std::int64_t p = 0; p < P; ++p) {
        const auto q = static_cast<std::size_t>(p);
        auto& b = bk[static_cast<std::size_t>(p / width)];
        b.nll += w.nll[q];
        nll_sum += w.nll[q];
        ++b.n;
        nll_all.push_back(w.nll[q]);
        if (!paired_) continue;
        b.base_nll += w.base_nll[q];
        base_sum += w.base_nll[q];
        b.kl += w.kl[q];
        b.top1 += w.top1[q] == '1';
        dnll_all.push_back(static_cast<double>(w.nll[q]) - static_cast<double>(w.base_nll[q]));
        kl_all.push_back(w.kl[q]);
        top1_all.push_back(w.top1[q] == '1' ? 1.0 : 0.0);
      }
    }
    TaskAggregate a;
    a.samples = static_cast<std::int64_t>(ws.size());
    if (nll_all.empty()) return a;
    const double n = static_cast<double>(nll_all.size());
    a.metrics["ppl"] = std::exp(nll_sum / n);
    const auto nll_ms = mean_stderr(nll_all);
    a.metrics["nll_mean"] = nll_ms.mean;
    a.metrics["nll_mean_stderr"] = nll_ms.stderr_;
    nlohmann::json positions = nlohmann::json::array();
    for (std::size_t k = 0; k < bk.size(); ++k) {
      const auto& b = bk[k];
      if (b.n == 0) continue;
      const double m = static_cast<double>(b.n);
      // Context = tokens the prediction sees: position p predicts token p+1 after p+1 tokens.
      nlohmann::json e{{"context_from", static_cast<std::int64_t>(k) * width + 1},
                       {"context_to", std::min<std::int64_t>((static_cast<std::int64_t>(k) + 1) * width, P)},
                       {"tokens", b.n},
                       {"nll_mean", b.nll / m}};
      if (paired_) {
        e["base_nll_mean"] = b.base_nll / m;
        e["delta_nll_mean"] = (b.nll - b.base_nll) / m;
        e["kl_mean"] = b.kl / m;
        e["top1_agreement"] = static_cast<double>(b.top1) / m;
      }
      positions.push_back(e);
    }
    a.details = {{"positions", positions}, {"tokens", nll_all.size()}, {"windows", ws.size()}, {"paired", paired_}};
    if (paired_) {
      a.metrics["base_ppl"] = std::exp(base_sum / n);
      const auto kl = mean_stderr(kl_all), agree = mean_stderr(top1_all), dn = mean_stderr(dnll_all);
      a.metrics["kl_mean"] = kl.mean;
      a.metrics["kl_mean_stderr"] = kl.stderr_;
      a.metrics["top1_agreement"] = agree.mean;
      a.metrics["top1_agreement_stderr"] = agree.stderr_;
      a.metrics["delta_nll_mean"] = dn.mean;
      a.metrics["delta_nll_mean_stderr"] = dn.stderr_;
      std::vector<double> sorted = kl_all;
      std::sort(sorted.begin(), sorted.end());
      a.metrics["kl_median"] = percentile(sorted, 50);
      a.metrics["kl_p90"] = percentile(sorted, 90);
      a.metrics["kl_p99"] = percentile(sorted, 99);
      a.metrics["kl_max"] = sorted.back();
      nlohmann::json pct = nlohmann::json::object();
      for (double q : {1.0, 5.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9})
        pct[percentile_name(q)] = percentile(sorted, q);
      a.details["kl_percentiles"] = pct;
      a.details["delta_nll_histogram"] = histogram(dnll_all);
    }
    add_worst_and_view(ws, a.details);
    return a;
  }

 private:
  // The base model's tokenizer must turn every document into the same ids (KL and agreement compare the
  // distributions over one vocabulary at one position). A byte-level model's base reads bytes too.
  std::string check_same_tokens(const std::string& base, const std::vector<std::string>& docs, bool bos,
                                const Tokenizer& mine) const {
    if (mine.kind() == "bytes") return "bytes (both models read UTF-8 bytes)";
    const std::filesystem::path dir(base);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(dir / "tokenizer.json", ec) && !std::filesystem::is_regular_file(dir / "tokenizer.model", ec))
      return "the base folder has no tokenizer files: the model's tokenizer is used for both";
    const auto theirs = load_tokenizer(dir);
    const std::string why = "task compare: the base model's tokenizer (" + base + ") differs from the model's: ";
    const std::string need = "; KL divergence and top-1 agreement need both models to read the same tokens";
    if (theirs->vocab_size() != mine.vocab_size())
      throw BadInput(why + "vocabularies of " + std::to_string(theirs->vocab_size()) + " and " +
                     std::to_string(mine.vocab_size()) + " tokens" + need);
    if (bos && theirs->bos_id() != mine.bos_id()) throw BadInput(why + "different BOS ids" + need);
    for (std::size_t d = 0; d < docs.size(); ++d) {
      const auto a = encode_plain(*theirs, docs[d]);
      const auto& b = tokens_[d];
      const std::size_t off = bos ? 1 : 0;
      if (a.size() + off != b.size() || !std::equal(a.begin(), a.end(), b.begin() + static_cast<std::ptrdiff_t>(off))) {
        std::size_t at = 0;
        while (at < a.size() && at + off < b.size() && a[at] == b[at + off]) ++at;
        throw BadInput(why + "document " + std::to_string(d) + " differs at token " + std::to_string(at) + need);
      }
    }
    return "same tokens on every document";
  }

  WindowValues read_window(const nlohmann::json& w, std::int64_t unit) const {
    const std::string what = "task compare, unit " + std::to_string(unit);
    WindowValues v;
    v.doc = w.at("doc").get<std::size_t>();
    v.start = w.at("start").get<std::int64_t>();
    const auto P = static_cast<std::size_t>(length_ - 1);
    auto floats = [&](const char* key) {
      auto f = unpack_floats(w.at(key).get<std::string>(), what);
      if (f.size() != P) throw BadInput(what + ": '" + key + "' holds " + std::to_string(f.size()) + " values, not " + std::to_string(P));
      return f;
    };
    if (v.doc >= tokens_.size() || v.start < 0 || v.start + length_ > static_cast<std::int64_t>(tokens_[v.doc].size()))
      throw BadInput(what + ": a window outside the documents");
    v.nll = floats("nll");
    if (paired_) {
      v.base_nll = floats("base_nll");
      v.kl = floats("kl");
      v.top1 = w.at("top1").get<std::string>();
      if (v.top1.size() != P) throw BadInput(what + ": 'top1' has the wrong length");
    }
    return v;
  }

  static std::string percentile_name(double q) {
    std::string s = std::to_string(q);
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
    return "p" + s;
  }

  // Equal bins over the 0.5th..99.5th percentile range, with what falls outside counted apart.
  static nlohmann::json histogram(const std::vector<double>& values) {
    std::vector<double> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    double lo = percentile(sorted, 0.5), hi = percentile(sorted, 99.5);
    if (!(hi > lo)) {
      lo -= 0.5;
      hi += 0.5;
    }
    std::vector<std::int64_t> counts(kHistogramBins, 0);
    std::int64_t below = 0, above = 0;
    const double w = (hi - lo) / kHistogramBins;
    for (double x : values) {
      if (x < lo) ++below;
      else if (x > hi) ++above;
      else counts[static_cast<std::size_t>(std::min<double>(kHistogramBins - 1, std::floor((x - lo) / w)))]++;
    }
    std::vector<double> edges(kHistogramBins + 1);
    for (std::int64_t k = 0; k <= kHistogramBins; ++k) edges[static_cast<std::size_t>(k)] = lo + w * static_cast<double>(k);
    return {{"edges", edges}, {"counts", counts}, {"below", below}, {"above", above}};
  }

  // The worst tokens (largest ΔNLL; alone: largest NLL) with a little text before them, and the token view of the
  // window that loses most in total.
  void add_worst_and_view(const std::vector<WindowValues>& ws, nlohmann::json& details) const {
    const std::int64_t P = length_ - 1;
    auto value = [&](const WindowValues& w, std::int64_t p) {
      const auto q = static_cast<std::size_t>(p);
      return paired_ ? static_cast<double>(w.nll[q]) - static_cast<double>(w.base_nll[q]) : static_cast<double>(w.nll[q]);
    };
    struct Hit {
      double v;
      std::size_t w;
      std::int64_t p;
    };
    std::vector<Hit> hits;
    std::size_t view = 0;
    double view_sum = -INFINITY;
    for (std::size_t k = 0; k < ws.size(); ++k) {
      double sum = 0;
      for (std::int64_t p = 0; p < P; ++p) {
        const double v = value(ws[k], p);
        sum += v;
        hits.push_back({v, k, p});
      }
      if (sum > view_sum) view_sum = sum, view = k;
    }
    const auto top = std::min<std::size_t>(hits.size(), static_cast<std::size_t>(worst_));
    std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(top), hits.end(),
                      [](const Hit& a, const Hit& b) { return a.v > b.v; });
    nlohmann::json worst = nlohmann::json::array();
    for (std::size_t h = 0; h < top; ++h) {
      const auto& w = ws[hits[h].w];
      const auto& pieces = pieces_[w.doc];
      const std::int64_t target = w.start + hits[h].p + 1;  // the predicted token's index in its document
      const std::int64_t from = std::max<std::int64_t>(w.start, target - 12);
      std::string before;
      for (std::int64_t t = from; t < target; ++t) before += pieces[static_cast<std::size_t>(t)];
      const auto q = static_cast<std::size_t>(hits[h].p);
      nlohmann::json e{{"document", w.doc},      {"window_start", w.start}, {"context", hits[h].p + 1},
                       {"token", tokens_[w.doc][static_cast<std::size_t>(target)]},
                       {"text", valid_utf8(pieces[static_cast<std::size_t>(target)])},
                       {"before", valid_utf8(before)}, {"nll", w.nll[q]}};
      if (paired_) {
        e["base_nll"] = w.base_nll[q];
        e["delta_nll"] = hits[h].v;
        e["kl"] = w.kl[q];
        e["top1_same"] = w.top1[q] == '1';
      }
      worst.push_back(e);
    }
    details["worst"] = worst;
    if (ws.empty()) return;
    const auto& w = ws[view];
    const auto& pieces = pieces_[w.doc];
    // At most kViewTokens predicted tokens, centred on the window's worst one.
    std::int64_t peak = 0;
    for (std::int64_t p = 1; p < P; ++p)
      if (value(w, p) > value(w, peak)) peak = p;
    const std::int64_t count = std::min(P, kViewTokens);
    const std::int64_t first = std::clamp<std::int64_t>(peak - count / 2, 0, P - count);
    // Piece first+1+p is the token predicted at position first+p; piece `first` is context only.
    auto shown = display_pieces(std::span<const std::string>(pieces).subspan(static_cast<std::size_t>(w.start + first),
                                                                           static_cast<std::size_t>(count + 1)));
    std::vector<double> values, kl;
    std::string top1;
    for (std::int64_t p = first; p < first + count; ++p) {
      values.push_back(value(w, p));
      if (!paired_) continue;
      kl.push_back(w.kl[static_cast<std::size_t>(p)]);
      top1 += w.top1[static_cast<std::size_t>(p)];
    }
    nlohmann::json tv{{"document", w.doc}, {"window_start", w.start}, {"first_context", first + 1},
                      {"context_text", shown.front()},
                      {"pieces", std::vector<std::string>(shown.begin() + 1, shown.end())},
                      {"value", paired_ ? "delta_nll" : "nll"}, {"values", values}};
    if (paired_) tv["kl"] = kl, tv["top1"] = top1;
    details["token_view"] = tv;
  }

  std::int64_t length_ = 2048, stride_ = 2048, buckets_ = 32, worst_ = 20;
  bool paired_ = false;
  std::vector<std::vector<std::int32_t>> tokens_;
  std::vector<std::vector<std::string>> pieces_;
  std::vector<std::vector<Window>> units_;
  nlohmann::json config_;
};

}  // namespace

TaskSchema compare_schema() {
  using T = SettingType;
  return {
      .name = "compare",
      .description = "a model token by token, alone or against a base model: KL, top-1 agreement, delta NLL, loss by "
                     "position, worst tokens",
      .group = TaskGroup::other,
      .settings =
          {{.key = "data", .type = T::file, .label = "data file",
            .help = "documents: a text file (one document), .jsonl with a `text` field, or a .json list",
            .default_value = nullptr, .required = true},
           text_field_setting(),
           {.key = "base", .type = T::folder, .label = "base model",
            .help = "a checkpoint folder with the same tokenizer; none: the model alone (loss by position)",
            .default_value = nullptr},
           {.key = "length", .type = T::integer, .label = "window (tokens)",
            .help = "tokens per window; none: min(2048, max length)", .default_value = nullptr, .min = 2,
            .max = static_cast<double>(kMaxTaskLength)},
           {.key = "stride", .type = T::integer, .label = "stride", .help = "a window starts every stride tokens; none: "
                                                                            "the window length (disjoint windows)",
            .default_value = nullptr, .min = 1, .max = static_cast<double>(kMaxTaskLength)},
           {.key = "max_windows", .type = T::integer, .label = "max windows",
            .help = "at most this many windows, from the start; none: every window (or `limit`)",
            .default_value = nullptr, .min = 0},
           {.key = "bos", .type = T::boolean, .label = "BOS first",
            .help = "put BOS (else EOS) before each document", .default_value = false},
           {.key = "buckets", .type = T::integer, .label = "position buckets",
            .help = "buckets of the loss-by-position curve", .default_value = 32, .min = 1,
            .max = static_cast<double>(kMaxBuckets)},
           {.key = "worst", .type = T::integer, .label = "worst tokens",
            .help = "the largest delta-NLL (alone: NLL) tokens listed with their text", .default_value = 20, .min = 0,
            .max = static_cast<double>(kMaxWorst)},
           common_setting("alias"), common_setting("limit", "max windows when max_windows is not given"),
           common_setting("max_length"), common_setting("batch_size")},
      .make = [](const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) -> std::unique_ptr<Task> {
        return std::make_unique<CompareTask>(s, env, base_dir);
      }};
}

}  // namespace lmscope::eval
