// `ppl_vs_length`: perplexity of long documents at several context lengths (the length-extrapolation plot).
// Protocol "chunks" (default): each document's tokens (no special tokens; BOS first when `bos` is true) are cut into
// consecutive non-overlapping chunks of L tokens, the remainder dropped and documents shorter than L skipped; every
// token of a chunk but the first is scored from an empty state; PPL(L) = exp(mean NLL over scored tokens).
// Protocol "sliding": windows of L tokens advanced by `stride` S; only the last S targets of each window are
// scored (the first window scores all), so every scored token sees at least L − S tokens of context.
// `max_chunks` caps the windows per length (taken from the start, documents in order).
#include <cmath>

#include "eval/scoring.h"
#include "eval/task_data.h"
#include "eval/tasks/task_registry.h"
#include "lmscope/error.h"

namespace lmscope::eval {
namespace {

struct Window {
  std::size_t doc = 0;
  std::int64_t start = 0;    // first input token
  std::int64_t length = 0;   // L
  std::int64_t scored_from = 1;  // input positions >= this predict their next token
};

class PplVsLengthTask final : public Task {
 public:
  PplVsLengthTask(const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) {
    const std::string task = "ppl_vs_length";
    const auto path = s.file("data", base_dir,
                             "long documents: a text file (one document), .jsonl with a `text` field, or .json list");
    const auto field = s.text("field");
    const auto docs = read_documents(path, field);
    lengths_ = s.integers("lengths");
    protocol_ = s.text("protocol");
    stride_ = s.integer_if("stride").value_or(0);
    const auto max_chunks = s.integer_if("max_chunks").value_or(s.integer_if("limit").value_or(-1));
    const bool bos = s.flag("bos");
    tokens_ = encode_documents(*env.tokenizer, docs, bos ? std::optional(env.prefix_token) : std::nullopt);
    for (auto L : lengths_) {
      if (L < 2) throw BadInput("task ppl_vs_length: every length must be >= 2, got " + std::to_string(L));
      const std::int64_t S = protocol_ == "sliding" ? (stride_ > 0 ? stride_ : L / 2) : L;
      if (S > L) throw BadInput("task ppl_vs_length: stride " + std::to_string(S) + " exceeds length " + std::to_string(L));
      std::vector<Window> ws;
      for (std::size_t d = 0; d < tokens_.size(); ++d) {
        const auto n = static_cast<std::int64_t>(tokens_[d].size());
        for (std::int64_t st = 0; st + L <= n; st += S) {
          if (max_chunks >= 0 && static_cast<std::int64_t>(ws.size()) >= max_chunks) break;
          ws.push_back({d, st, L, (protocol_ == "sliding" && st > 0) ? L - S - 1 : 0});
        }
      }
      // Units of about 16K tokens each so that short lengths do not make thousands of tiny commits.
      const std::size_t per_unit = static_cast<std::size_t>(std::max<std::int64_t>(1, 16384 / L));
      for (std::size_t i = 0; i < ws.size(); i += per_unit)
        units_.emplace_back(ws.begin() + static_cast<std::ptrdiff_t>(i),
                            ws.begin() + static_cast<std::ptrdiff_t>(std::min(ws.size(), i + per_unit)));
      if (ws.empty()) {
        std::size_t longest = 0;
        for (const auto& t : tokens_) longest = std::max(longest, t.size());
        throw BadInput("task ppl_vs_length: no document of " + path.string() + " has " + std::to_string(L) +
                       " tokens (the longest has " + std::to_string(longest) + "); drop that length or add longer text");
      }
      windows_per_length_.push_back(static_cast<std::int64_t>(ws.size()));
    }
    nlohmann::json per_len = nlohmann::json::object();
    for (std::size_t i = 0; i < lengths_.size(); ++i) per_len[std::to_string(lengths_[i])] = windows_per_length_[i];
    config_ = {{"task", task},          {"data", path.string()},      {"data_hash", documents_hash(docs)},
               {"documents", docs.size()}, {"lengths", lengths_},     {"protocol", protocol_},
               {"stride", stride_},     {"max_chunks", max_chunks},   {"bos", bos},
               {"windows_per_length", per_len}};
  }

  std::string name() const override { return "ppl_vs_length"; }
  nlohmann::json config() const override { return config_; }
  std::int64_t unit_count() const override { return static_cast<std::int64_t>(units_.size()); }
  std::int64_t unit_cost(std::int64_t i) const override {
    std::int64_t c = 0;
    for (const auto& w : units_[static_cast<std::size_t>(i)]) c += w.length;
    return c;
  }

  nlohmann::json run_unit(std::int64_t i, const TaskEnv& env) const override {
    double nll = 0;
    std::int64_t scored = 0, windows = 0, length = 0;
    const auto& unit = units_[static_cast<std::size_t>(i)];
    std::vector<std::vector<std::int32_t>> targets;
    std::vector<WindowRequest> requests;
    for (const auto& w : unit) {
      const auto& t = tokens_[w.doc];
      std::vector<std::int32_t> tg(static_cast<std::size_t>(w.length - 1), -1);
      for (std::int64_t p = std::max<std::int64_t>(w.scored_from, 0); p < w.length - 1; ++p)
        tg[static_cast<std::size_t>(p)] = t[static_cast<std::size_t>(w.start + p + 1)];
      targets.push_back(std::move(tg));
      length = w.length;
    }
    for (std::size_t k = 0; k < unit.size(); ++k)
      requests.push_back({std::span<const std::int32_t>(tokens_[unit[k].doc].data() + unit[k].start,
                                                        static_cast<std::size_t>(unit[k].length - 1)),
                          targets[k]});
    for (const auto& s : score_windows(*env.model, requests, env)) {
      nll -= s.sum;
      scored += s.scored;
      ++windows;
    }
    return {{"length", length}, {"nll", nll}, {"tokens", scored}, {"windows", windows}};
  }

  TaskAggregate aggregate(const std::vector<std::pair<std::int64_t, nlohmann::json>>& units) const override {
    std::map<std::int64_t, std::pair<double, std::int64_t>> by_len;
    std::map<std::int64_t, std::int64_t> windows;
    for (const auto& [i, u] : units) {
      auto& e = by_len[u.at("length").get<std::int64_t>()];
      e.first += u.at("nll").get<double>();
      e.second += u.at("tokens").get<std::int64_t>();
      windows[u.at("length").get<std::int64_t>()] += u.at("windows").get<std::int64_t>();
    }
    TaskAggregate a;
    nlohmann::json series = nlohmann::json::array();
    for (const auto& [L, e] : by_len) {
      if (e.second == 0) continue;
      const double ppl = std::exp(e.first / static_cast<double>(e.second));
      a.metrics["ppl@" + std::to_string(L)] = ppl;
      series.push_back({{"length", L}, {"ppl", ppl}, {"nll_mean", e.first / static_cast<double>(e.second)},
                        {"tokens", e.second}, {"windows", windows[L]}});
      a.samples += windows[L];
    }
    a.details = {{"series", series}, {"protocol", protocol_}};
    return a;
  }

 private:
  std::vector<std::int64_t> lengths_;
  std::string protocol_;
  std::int64_t stride_ = 0;
  std::vector<std::vector<std::int32_t>> tokens_;
  std::vector<std::vector<Window>> units_;
  std::vector<std::int64_t> windows_per_length_;
  nlohmann::json config_;
};

}  // namespace

TaskSchema ppl_vs_length_schema() {
  using T = SettingType;
  return {
      .name = "ppl_vs_length",
      .description = "perplexity of long documents at a list of context lengths (the length-extrapolation curve)",
      .group = TaskGroup::long_context,
      .settings =
          {{.key = "data", .type = T::file, .label = "data file",
            .help = "long documents: a text file (one document), .jsonl with a `text` field, or a .json list",
            .default_value = nullptr, .required = true},
           text_field_setting(),
           {.key = "lengths", .type = T::integer_list, .label = "context lengths",
            .help = "context lengths L in tokens",
            .default_value = {256, 512, 1024, 2048}, .min = 2, .max = static_cast<double>(kMaxTaskLength)},
           {.key = "protocol", .type = T::choice, .label = "protocol",
            .help = "chunks: non-overlapping chunks of L, every token but the first scored; sliding: windows of L "
                    "every stride, only the last stride targets scored",
            .default_value = "chunks", .choices = {"chunks", "sliding"}},
           {.key = "stride", .type = T::integer, .label = "stride (sliding)",
            .help = "the sliding protocol's step S; none (or 0): L/2", .default_value = nullptr, .min = 0,
            .max = static_cast<double>(kMaxTaskLength)},
           {.key = "max_chunks", .type = T::integer, .label = "max windows per length",
            .help = "at most this many windows per length, from the start; none: all (or `limit`)",
            .default_value = nullptr, .min = 0},
           {.key = "bos", .type = T::boolean, .label = "BOS first",
            .help = "put the prefix token (BOS, else EOS) before each document", .default_value = false},
           common_setting("alias"), common_setting("limit", "max windows per length when max_chunks is not given"),
           common_setting("max_length"), common_setting("batch_size")},
      .make = [](const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) -> std::unique_ptr<Task> {
        return std::make_unique<PplVsLengthTask>(s, env, base_dir);
      }};
}

}  // namespace lmscope::eval
