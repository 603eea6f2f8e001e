// `charlevel`: metrics of byte/character-level models (the BitNet seed's): bits per character (UTF-8 code points),
// bits per byte, compression ratio = original bytes / (Σ −log2 P(byte) / 8) — the size of an ideal arithmetic code —
// and next-byte accuracy (argmax = the actual next byte; equal to next-character accuracy on ASCII text).
// Windowing: lm-eval's rolling windows of the max length with the prefix token first, over segments of at most
// `segment_bytes` (cut at UTF-8 boundaries) so a large corpus makes many work units.
#include <cmath>

#include "eval/scoring.h"
#include "eval/task_data.h"
#include "eval/tasks/task_registry.h"
#include "lmscope/error.h"

namespace lmscope::eval {
namespace {

class CharlevelTask final : public Task {
 public:
  CharlevelTask(const nlohmann::json& s, const TaskEnv& env, const std::string& base_dir) {
    const std::string task = "charlevel";
    check_known_settings(s, with_common({"data", "field", "segment_bytes"}), task);
    if (env.tokenizer->kind() != "bytes")
      throw BadInput("task charlevel needs a byte-level model: give the model with tokenizer \"bytes\" (its ids are "
                     "UTF-8 bytes); this one's tokenizer is " + env.tokenizer->kind());
    const auto path = data_path(s, "data", task, base_dir, "text (a text file, .jsonl with `text`, or .json list)");
    const auto docs = read_documents(path, setting_string(s, "field", "text", task));
    const auto seg = setting_int_in(s, "segment_bytes", 1 << 16, 1, 1 << 30, task);
    const auto limit = setting_int(s, "limit", -1, task);
    if (seg < 1) throw BadInput("task charlevel: segment_bytes must be >= 1");
    std::string all;
    for (const auto& d : docs) {
      all += d;
      std::size_t at = 0;
      while (at < d.size()) {
        std::size_t end = std::min(d.size(), at + static_cast<std::size_t>(seg));
        while (end < d.size() && (static_cast<unsigned char>(d[end]) & 0xC0) == 0x80) ++end;  // whole characters
        segments_.push_back(d.substr(at, end - at));
        at = end;
      }
    }
    if (limit >= 0 && static_cast<std::size_t>(limit) < segments_.size()) segments_.resize(static_cast<std::size_t>(limit));
    max_length_ = env.max_length;
    prefix_ = env.prefix_token;
    tokenizer_ = env.tokenizer;
    config_ = {{"task", task},   {"data", path.string()},  {"data_hash", fnv1a64_hex(all)}, {"segments", segments_.size()},
               {"segment_bytes", seg}, {"max_length", max_length_}, {"prefix_token", prefix_},
               {"windowing", "lm-eval rolling windows per segment"}};
  }

  std::string name() const override { return "charlevel"; }
  nlohmann::json config() const override { return config_; }
  std::int64_t unit_count() const override { return static_cast<std::int64_t>(segments_.size()); }
  std::int64_t unit_cost(std::int64_t i) const override {
    return static_cast<std::int64_t>(segments_[static_cast<std::size_t>(i)].size()) + 1;
  }

  nlohmann::json run_unit(std::int64_t i, const TaskEnv& env) const override {
    const auto& text = segments_[static_cast<std::size_t>(i)];
    const auto ids = encode_plain(*tokenizer_, text);
    double nll = 0;
    std::int64_t bytes = 0, correct = 0;
    for (const auto& w : score_rolling(*env.model, ids, max_length_, prefix_, env)) {
      const auto& s = w.score;
      const auto& t = w.targets;
      nll -= s.sum;
      bytes += s.scored;
      for (std::size_t p = 0; p < t.size(); ++p)
        if (t[p] >= 0 && s.greedy[p]) ++correct;
    }
    std::int64_t chars = 0;
    for (unsigned char c : text)
      if ((c & 0xC0) != 0x80) ++chars;
    return {{"nll", nll}, {"bytes", bytes}, {"chars", chars}, {"correct", correct}};
  }

  TaskAggregate aggregate(const std::vector<std::pair<std::int64_t, nlohmann::json>>& units) const override {
    double nll = 0;
    std::int64_t bytes = 0, chars = 0, correct = 0;
    for (const auto& [i, u] : units) {
      nll += u.at("nll").get<double>();
      bytes += u.at("bytes").get<std::int64_t>();
      chars += u.at("chars").get<std::int64_t>();
      correct += u.at("correct").get<std::int64_t>();
    }
    TaskAggregate a;
    a.samples = static_cast<std::int64_t>(units.size());
    if (bytes == 0) return a;
    const double bits = nll / std::log(2.0);
    a.metrics = {{"bits_per_char", bits / static_cast<double>(chars)},
                 {"bits_per_byte", bits / static_cast<double>(bytes)},
                 {"compression_ratio", static_cast<double>(bytes) / (bits / 8.0)},
                 {"next_char_accuracy", static_cast<double>(correct) / static_cast<double>(bytes)}};
    a.details = {{"bytes", bytes}, {"chars", chars}, {"nll", nll}};
    return a;
  }

 private:
  std::vector<std::string> segments_;
  std::int64_t max_length_ = 0;
  std::int32_t prefix_ = 0;
  const Tokenizer* tokenizer_ = nullptr;
  nlohmann::json config_;
};

}  // namespace

std::unique_ptr<Task> make_charlevel_task(const nlohmann::json& s, const TaskEnv& env, const std::string& base_dir) {
  return std::make_unique<CharlevelTask>(s, env, base_dir);
}

}  // namespace lmscope::eval
