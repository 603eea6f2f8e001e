// `passkey`: passkey retrieval (Mohtashami & Jaggi 2023) on a grid of context lengths × depths. A prompt of about
// L tokens: our instruction, filler sentences (ours, or a user's file), the key sentence inserted after the filler
// sentence nearest to relative depth d, more filler, the question; greedy decoding of `max_new_tokens`; a trial
// succeeds when the key's five digits appear in the decoded text. Keys come from a 64-bit mixer of (seed, length,
// depth, trial) so the grid reproduces exactly with the same seed on any platform. One work unit per grid cell.
#include <cmath>

#include "eval/answer_generation.h"
#include "eval/scoring.h"
#include "eval/task_data.h"
#include "eval/tasks/task_registry.h"
#include "lmscope/error.h"

namespace lmscope::eval {
namespace {

// Our own text (written for lmscope).
constexpr const char* kInstruction =
    "Somewhere in the notes below there is a pass key, a number of five digits. Read carefully, remember it, and "
    "repeat it when asked.\n";
constexpr const char* kFiller[] = {
    "The tide came in slowly over the flat grey sand. ",
    "A gull circled twice above the harbour and settled on a post. ",
    "In the village the bakery opened its shutters before sunrise. ",
    "Someone had left a bicycle leaning against the chapel wall. ",
    "The wind carried the smell of salt and cut grass across the fields. ",
    "Two fishing boats waited at the quay for the morning to clear. ",
};
constexpr const char* kQuestion = "\nWhat is the pass key? The pass key is";

std::string key_sentence(const std::string& key) {
  return "The pass key is " + key + ". Remember it: " + key + " is the pass key. ";
}

// splitmix64: a fixed, portable mixer (std:: distributions differ between standard libraries).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class PasskeyTask final : public Task {
 public:
  PasskeyTask(const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) {
    lengths_ = s.integers("lengths");
    depths_ = s.numbers("depths");
    trials_ = s.integer("trials");
    seed_ = static_cast<std::uint64_t>(s.integer("seed"));
    max_new_ = s.integer("max_new_tokens");
    if (const auto p = s.file_if("filler_file", base_dir, "a text file whose sentences are the filler")) {
      const auto text = read_text_file(*p);
      // Sentences end at ". "; the file is used in order, repeated as needed.
      std::size_t at = 0;
      while (at < text.size()) {
        auto e = text.find(". ", at);
        e = e == std::string::npos ? text.size() : e + 2;
        filler_.push_back(text.substr(at, e - at));
        at = e;
      }
      filler_hash_ = fnv1a64_hex(text);
      filler_path_ = p->string();
    } else {
      for (const char* f : kFiller) filler_.push_back(f);
      filler_hash_ = "builtin-1";
    }
    if (filler_.empty()) throw BadInput("task passkey: the filler file is empty");
    tokenizer_ = env.tokenizer;
    // The instruction, key and question alone must fit every length (checked before any work is done).
    const auto bare = static_cast<std::int64_t>(tokenizer_->encode(prompt(0, 0.0, "00000", 0)).size());
    for (auto L : lengths_)
      if (L < bare + 8)
        throw BadInput("task passkey: length " + std::to_string(L) + " is too short: the instruction, key and question "
                       "alone take " + std::to_string(bare) + " tokens with this tokenizer (use at least " +
                       std::to_string(bare + 8) + ")");
    config_ = {{"task", "passkey"},      {"lengths", lengths_},  {"depths", depths_},       {"trials", trials_},
               {"seed", seed_},       {"max_new_tokens", max_new_}, {"filler", filler_hash_},
               {"filler_file", filler_path_}, {"success", "the key's 5 digits appear in the greedy output, which stops at EOS"},
               {"prompt_version", 1}};
  }

  std::string name() const override { return "passkey"; }
  nlohmann::json config() const override { return config_; }
  std::int64_t unit_count() const override {
    return static_cast<std::int64_t>(lengths_.size() * depths_.size());
  }
  std::int64_t unit_cost(std::int64_t i) const override {
    return lengths_[static_cast<std::size_t>(i) / depths_.size()] * trials_;
  }

  // The key of one trial: a 5-digit number from (seed, length, depth index, trial).
  std::string key(std::int64_t L, std::size_t depth_index, std::int64_t trial) const {
    std::uint64_t h = mix(seed_);
    h = mix(h ^ static_cast<std::uint64_t>(L));
    h = mix(h ^ depth_index);
    h = mix(h ^ static_cast<std::uint64_t>(trial));
    return std::to_string(10000 + h % 90000);
  }

  // The prompt text with n filler sentences and the key after sentence round(d·n). Trial t starts the filler at
  // sentence t so trials differ in their text as well as their key.
  std::string prompt(std::size_t n, double depth, const std::string& k, std::int64_t trial) const {
    const auto at = static_cast<std::size_t>(std::llround(depth * static_cast<double>(n)));
    std::string p = kInstruction;
    for (std::size_t i = 0; i <= n; ++i) {
      if (i == at) p += key_sentence(k);
      if (i < n) p += filler_[(i + static_cast<std::size_t>(trial)) % filler_.size()];
    }
    return p + kQuestion;
  }

  nlohmann::json run_unit(std::int64_t u, const TaskEnv& env) const override {
    const std::size_t li = static_cast<std::size_t>(u) / depths_.size(), di = static_cast<std::size_t>(u) % depths_.size();
    const std::int64_t L = lengths_[li];
    const double depth = depths_[di];
    // Every trial's prompt first, then all of them decoded together (env.batch_size at a time).
    std::vector<AnswerRequest> requests;
    std::vector<std::string> keys;
    std::vector<std::size_t> fillers;
    for (std::int64_t t = 0; t < trials_; ++t) {
      const auto k = key(L, di, t);
      // The most filler sentences whose prompt stays within L tokens (the prompt is tokenised whole, with the
      // tokenizer's own BOS rule, as a user would send it).
      auto encode = [&](std::size_t n) { return tokenizer_->encode(prompt(n, depth, k, t)); };
      std::size_t lo = 0, hi = 1;
      while (static_cast<std::int64_t>(encode(hi).size()) <= L) {
        lo = hi;
        hi *= 2;
      }
      while (hi - lo > 1) {
        const auto mid = (lo + hi) / 2;
        if (static_cast<std::int64_t>(encode(mid).size()) <= L) lo = mid;
        else hi = mid;
      }
      auto ids = encode(lo);
      if (static_cast<std::int64_t>(ids.size()) > L)
        throw BadInput("task passkey: length " + std::to_string(L) + " is too short for the instruction, key and "
                       "question alone (" + std::to_string(ids.size()) + " tokens)");
      requests.push_back({std::move(ids), max_new_, {}});
      keys.push_back(k);
      fillers.push_back(lo);
    }
    const auto answers = generate_answers(*env.model, *tokenizer_, requests, env);
    nlohmann::json trials = nlohmann::json::array();
    std::int64_t found = 0;
    for (std::size_t t = 0; t < answers.size(); ++t) {
      const bool ok = answers[t].text.find(keys[t]) != std::string::npos;
      found += ok ? 1 : 0;
      trials.push_back({{"key", keys[t]}, {"output", answers[t].text}, {"found", ok},
                        {"prompt_tokens", requests[t].prompt.size()}, {"filler_sentences", fillers[t]}});
    }
    return {{"length", L}, {"depth", depth}, {"accuracy", static_cast<double>(found) / static_cast<double>(trials_)},
            {"trials", trials}};
  }

  TaskAggregate aggregate(const std::vector<std::pair<std::int64_t, nlohmann::json>>& units) const override {
    TaskAggregate a;
    // accuracy[depth][length], null where the cell is not done yet
    nlohmann::json grid = nlohmann::json::array();
    for (std::size_t d = 0; d < depths_.size(); ++d) grid.push_back(std::vector<nlohmann::json>(lengths_.size(), nullptr));
    double sum = 0;
    std::map<std::int64_t, std::pair<double, int>> by_len;
    for (const auto& [u, r] : units) {
      const std::size_t li = static_cast<std::size_t>(u) / depths_.size(), di = static_cast<std::size_t>(u) % depths_.size();
      const double acc = r.at("accuracy").get<double>();
      grid[di][li] = acc;
      sum += acc;
      by_len[lengths_[li]].first += acc;
      by_len[lengths_[li]].second += 1;
    }
    a.samples = static_cast<std::int64_t>(units.size()) * trials_;
    if (units.empty()) return a;
    a.metrics["accuracy"] = sum / static_cast<double>(units.size());
    for (const auto& [L, e] : by_len) a.metrics["accuracy@" + std::to_string(L)] = e.first / e.second;
    a.details = {{"lengths", lengths_}, {"depths", depths_}, {"accuracy", grid}, {"trials", trials_}};
    return a;
  }

 private:
  std::vector<std::int64_t> lengths_;
  std::vector<double> depths_;
  std::int64_t trials_ = 5, max_new_ = 10;
  std::uint64_t seed_ = 1234;
  std::vector<std::string> filler_;
  std::string filler_hash_, filler_path_;
  const Tokenizer* tokenizer_ = nullptr;
  nlohmann::json config_;
};

}  // namespace

TaskSchema passkey_schema() {
  using T = SettingType;
  return {.name = "passkey",
          .description = "passkey retrieval on a grid of context lengths x depths (greedy; the 5 digits in the output)",
          .group = TaskGroup::long_context,
          .settings = {{.key = "lengths", .type = T::integer_list, .label = "lengths (tokens)",
                        .help = "prompt lengths in tokens", .default_value = {256, 512, 1024},
                        .min = 1, .max = static_cast<double>(kMaxTaskLength)},
                       {.key = "depths", .type = T::number_list, .label = "depths (0-1)",
                        .help = "where the key sits: 0 = start, 1 = end", .default_value = {0.0, 0.25, 0.5, 0.75, 1.0},
                        .min = 0, .max = 1},
                       {.key = "trials", .type = T::integer, .label = "trials per cell",
                        .help = "prompts (keys) per length and depth", .default_value = 5, .min = 1,
                        .max = static_cast<double>(kMaxTrials)},
                       {.key = "filler_file", .type = T::file, .label = "filler text",
                        .help = "a text file whose sentences (split at \". \") are the filler; none: the built-in filler",
                        .default_value = nullptr},
                       {.key = "max_new_tokens", .type = T::integer, .label = "new tokens",
                        .help = "greedy tokens per answer (stops at EOS)", .default_value = 10, .min = 1,
                        .max = static_cast<double>(kMaxNewTokens)},
                       common_setting("alias"), common_setting("seed", "seed of the keys", 1234),
                       common_setting("batch_size", "trials decoded together; none: 16 on CUDA, 1 on the CPU")},
          .make = [](const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) -> std::unique_ptr<Task> {
            return std::make_unique<PasskeyTask>(s, env, base_dir);
          }};
}

}  // namespace lmscope::eval
