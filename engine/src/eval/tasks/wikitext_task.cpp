// `wikitext`: lm-eval's loglikelihood_rolling over WikiText-2 documents (eval-spec.md): the detokenised page encoded
// without special tokens (Gemma: with its BOS, as lm-eval adds it), disjoint rolling windows of the max length with
// the prefix token first, word and byte counts from the original page. One work unit per document; with a batch
// size, several documents are computed together so that their windows share passes.
#include <cmath>

#include "parallel_for.h"
#include "eval/scoring.h"
#include "eval/task_data.h"
#include "eval/tasks/task_registry.h"
#include "lmscope/error.h"
#include "lmscope/eval/perplexity_metrics.h"
#include "lmscope/eval/wikitext.h"

namespace lmscope::eval {
namespace {

struct Document {
  std::vector<std::int32_t> tokens;
  std::int64_t words = 0, bytes = 0;
};

// Passes' worth of tokens in a group of documents scored together: enough that the documents' last windows fill
// batches, small enough that a cancel loses little.
constexpr std::int64_t kGroupPasses = 4;

class WikitextTask final : public Task {
 public:
  WikitextTask(const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) {
    const auto path = s.file("data", base_dir, "the WikiText-2 raw test file (wiki.test.raw) or a .jsonl with a `page` field");
    const std::string raw = read_text_file(path);
    std::vector<std::string> pages;
    if (path.extension() == ".jsonl" || path.extension() == ".json")
      pages = read_documents(path, s.text("field"));
    else
      pages = split_wikitext_documents(raw);
    const auto limit = s.integer_if("limit").value_or(-1);
    if (limit >= 0 && static_cast<std::size_t>(limit) < pages.size()) pages.resize(static_cast<std::size_t>(limit));
    docs_.resize(pages.size());
    parallel_for(pages.size(), [&](std::size_t i) {
      Document& d = docs_[i];
      d.tokens = encode_as_lm_eval(*env.tokenizer, wikitext_detokenize(pages[i]));
      d.words = count_words_like_lm_eval(pages[i]);
      d.bytes = static_cast<std::int64_t>(pages[i].size());
    });
    max_length_ = env.max_length;
    prefix_ = env.prefix_token;
    config_ = {{"task", "wikitext"},
               {"data", path.string()},
               {"data_hash", fnv1a64_hex(raw)},
               {"documents", docs_.size()},
               {"output_type", "loglikelihood_rolling"},
               {"max_length", max_length_},
               {"prefix_token", prefix_},
               {"add_special_tokens", false},
               {"detokenizer", "lm-eval wikitext_detokenizer"},
               {"limit", limit}};
  }

  std::string name() const override { return "wikitext"; }
  int version() const override { return 2; }  // lm-eval's wikitext task version
  nlohmann::json config() const override { return config_; }
  std::int64_t unit_count() const override { return static_cast<std::int64_t>(docs_.size()); }
  std::int64_t unit_cost(std::int64_t i) const override {
    return static_cast<std::int64_t>(docs_[static_cast<std::size_t>(i)].tokens.size()) + 1;
  }

  // Documents are scored together so that their windows share passes: each document's short last window (and
  // most documents are one or two windows) would otherwise run alone.
  std::int64_t unit_group_tokens(const TaskEnv& env) const override {
    return env.batch_size > 1 ? kGroupPasses * env.batch_size * max_length_ : 0;
  }

  nlohmann::json run_unit(std::int64_t i, const TaskEnv& env) const override { return run_units({&i, 1}, env)[0]; }

  std::vector<nlohmann::json> run_units(std::span<const std::int64_t> units, const TaskEnv& env) const override {
    std::vector<std::span<const std::int32_t>> texts;
    for (const auto u : units) texts.emplace_back(docs_[static_cast<std::size_t>(u)].tokens);
    const auto scored_docs = score_rolling(*env.model, texts, max_length_, prefix_, env);
    std::vector<nlohmann::json> out;
    for (std::size_t k = 0; k < units.size(); ++k) {
      const auto& d = docs_[static_cast<std::size_t>(units[k])];
      double loglik = 0;
      std::int64_t scored = 0;
      for (const auto& w : scored_docs[k]) {
        loglik += w.score.sum;
        scored += w.score.scored;
      }
      out.push_back({{"loglik", loglik}, {"words", d.words}, {"bytes", d.bytes}, {"tokens", scored},
                     {"windows", scored_docs[k].size()}});
    }
    return out;
  }

  TaskAggregate aggregate(const std::vector<std::pair<std::int64_t, nlohmann::json>>& units) const override {
    PerplexityTotals t;
    for (const auto& [i, u] : units)
      t.add_document(u.at("loglik").get<double>(), u.at("words").get<std::int64_t>(), u.at("bytes").get<std::int64_t>(),
                     u.at("tokens").get<std::int64_t>());
    TaskAggregate a;
    a.samples = static_cast<std::int64_t>(units.size());
    if (units.empty()) return a;
    a.metrics = {{"word_perplexity", t.word_perplexity()},
                 {"byte_perplexity", t.byte_perplexity()},
                 {"bits_per_byte", t.bits_per_byte()}};
    a.details = {{"loglik", t.loglik},       {"words", t.words},         {"bytes", t.bytes},
                 {"tokens", t.tokens},       {"token_perplexity", t.token_perplexity()},
                 {"max_length", max_length_}};
    return a;
  }

 private:
  std::vector<Document> docs_;
  std::int64_t max_length_ = 0;
  std::int32_t prefix_ = 0;
  nlohmann::json config_;
};

}  // namespace

TaskSchema wikitext_schema() {
  using T = SettingType;
  return {.name = "wikitext",
          .description = "lm-eval's WikiText-2 perplexity: word and byte perplexity, bits per byte (rolling windows)",
          .group = TaskGroup::perplexity,
          .settings = {{.key = "data", .type = T::file, .label = "data file",
                        .help = "the WikiText-2 raw test file (wiki.test.raw, split at its top-level headings) or a "
                                ".jsonl with a `page` field",
                        .default_value = nullptr, .required = true},
                       text_field_setting("page"),
                       common_setting("alias"), common_setting("limit", "the first N documents; none: all"),
                       common_setting("max_length"), common_setting("batch_size")},
          .make = [](const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) -> std::unique_ptr<Task> {
            return std::make_unique<WikitextTask>(s, env, base_dir);
          }};
}

}  // namespace lmscope::eval
