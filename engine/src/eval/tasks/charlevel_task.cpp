// `charlevel`: the character-level study of byte-level models (BitNet b1.58 and full-precision baselines on enwik8,
// enwik9, WikiText): every metric on every text source the task reads, with one definition each
// (docs/evaluation.md), and the cost beside them — latency and peak memory — so accuracy and cost compare side by
// side. Work units, in order: the text's segments (scored with lm-eval's rolling windows), blocks of continuation
// items (greedy continuation on the batched decoder, compared character by character), and one latency probe (the
// first windows scored, and the first items continued, at batch 1 and batched). A metric the task cannot compute is
// named in details.not_computed with the reason.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "eval/char_continuation.h"
#include "eval/char_metrics.h"
#include "eval/continuation_items.h"
#include "eval/host_memory.h"
#include "eval/scoring.h"
#include "eval/scoring_latency.h"
#include "eval/standard_split.h"
#include "eval/task_data.h"
#include "eval/tasks/task_registry.h"
#include "eval/utf8_chars.h"
#include "lmscope/error.h"
#include "lmscope/eval/rolling_windows.h"

namespace lmscope::eval {
namespace {

constexpr std::int64_t kItemsPerUnit = 16;
constexpr double kMiB = 1024.0 * 1024.0;
// Bumped when what a unit stores or what a metric means changes, so stored units of another meaning are not reused.
constexpr int kMetricsVersion = 3;
// Continuation items are a sample of the text; this many bound the work one setting can ask for.
constexpr std::int64_t kMaxContinuationItems = 1 << 20;

struct Segment {
  std::size_t doc = 0, begin = 0, end = 0;
};

std::vector<std::int32_t> byte_ids(std::string_view text) {
  std::vector<std::int32_t> ids(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) ids[i] = static_cast<unsigned char>(text[i]);
  return ids;
}

// Peaks since the start of a unit: host resident memory (reset where the OS allows) and the device pool.
struct UnitPeaks {
  bool host_resets = false;
  explicit UnitPeaks(const Model& m) : host_resets(reset_host_peak()) { m.reset_peak_memory(); }
  void write(nlohmann::json& out, const Model& m) const {
    out["peak_host_bytes"] = host_peak_bytes();
    out["host_peak_since"] = host_resets ? "unit" : "process";
    out["peak_device_bytes"] = m.peak_memory_bytes();
  }
};

class CharlevelTask final : public Task {
 public:
  CharlevelTask(const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) {
    const std::string task = "charlevel";
    if (env.tokenizer->kind() != "bytes")
      throw BadInput("task charlevel needs a byte-level model: give the model with tokenizer \"bytes\" (its ids are "
                     "UTF-8 bytes); this one's tokenizer is " + env.tokenizer->kind());
    const auto path = s.file("data", base_dir,
                             "text (a raw text file such as wiki.test.raw or enwik8, .jsonl with a text field, or a "
                             ".json list)");
    const auto field = s.text("field");
    const auto split = s.text("split");
    if (!split.empty()) {
      const auto ext = path.extension().string();
      if (ext == ".jsonl" || ext == ".json")
        throw BadInput("task charlevel: split '" + split + "' selects a byte range of one raw corpus file (enwik8, "
                       "enwik9); " + path.string() + " is a " + ext + " file of records");
      docs_.push_back(read_standard_split(path, split));
    } else {
      docs_ = read_documents(path, field);
    }
    const auto seg = s.integer("segment_bytes");
    const auto limit = s.integer_if("limit").value_or(-1);
    max_length_ = env.max_length;
    prefix_ = env.prefix_token;
    for (std::size_t d = 0; d < docs_.size(); ++d) {
      const auto& doc = docs_[d];
      for (std::size_t at = 0; at < doc.size();) {
        std::size_t end = std::min(doc.size(), at + static_cast<std::size_t>(seg));
        while (end < doc.size() && (static_cast<unsigned char>(doc[end]) & 0xC0) == 0x80) ++end;  // whole characters
        segments_.push_back({d, at, end});
        at = end;
      }
    }
    if (limit >= 0 && static_cast<std::size_t>(limit) < segments_.size()) segments_.resize(static_cast<std::size_t>(limit));
    if (segments_.empty()) throw BadInput("task charlevel: " + path.string() + " holds no text to score");

    // Continuation items over the scored segments.
    // 0 items leaves the metric out; each item generates up to 4 bytes per character.
    items_wanted_ = s.integer("continuation_items");
    cont_chars_ = s.integer("continuation_chars");
    cont_prefix_ = s.integer("continuation_prefix_chars");
    if (cont_chars_ >= max_length_)
      throw BadInput("task charlevel: continuation_chars must be between 1 and max_length - 1 (" +
                     std::to_string(max_length_ - 1) + "), got " + std::to_string(cont_chars_));
    if (items_wanted_ > 0) {
      std::vector<std::string_view> views;
      for (std::size_t i = 0; i < segments_.size(); ++i) views.push_back(segment_text(i));
      const auto plan = plan_continuations(views, cont_prefix_, cont_chars_, items_wanted_, max_length_);
      if (plan.items.empty())
        throw BadInput("task charlevel: continuation needs a segment of at least continuation_prefix_chars + "
                       "continuation_chars = " + std::to_string(cont_prefix_ + cont_chars_) +
                       " characters; the longest has " + std::to_string(plan.longest_chars) +
                       " (lower those settings, or set continuation_items to 0 to leave the metric out)");
      items_ = plan.items;
    }

    // The latency probe: the first windows of the scored text, timed at batch 1 and at latency_batch.
    // The same bound as a run's batch_size; 0 windows leaves latency out.
    latency_batch_ = s.integer("latency_batch");
    latency_windows_ = s.integer("latency_windows");

    config_ = {{"task", task},
               {"data", path.string()},
               {"data_hash", documents_hash(docs_)},
               {"split", split.empty() ? nlohmann::json(nullptr) : nlohmann::json(split)},
               {"field", field},
               {"documents", docs_.size()},
               {"segments", segments_.size()},
               {"segment_bytes", seg},
               {"max_length", max_length_},
               {"prefix_token", prefix_},
               {"windowing", "lm-eval rolling windows per segment"},
               {"characters", "well-formed UTF-8 sequences; any other byte is a character of its own"},
               {"continuation", {{"items", items_wanted_},
                                 {"selected", items_.size()},
                                 {"chars", cont_chars_},
                                 {"prefix_chars", cont_prefix_},
                                 {"decoding", "greedy, the batched decoder with the run's batch_size"}}},
               {"latency", {{"batch", latency_batch_},
                            {"windows", latency_windows_},
                            {"generation_items", latency_items()}}},
               {"metrics_version", kMetricsVersion}};
  }

  std::string name() const override { return "charlevel"; }
  int version() const override { return kMetricsVersion; }
  nlohmann::json config() const override { return config_; }
  std::int64_t unit_count() const override {
    return static_cast<std::int64_t>(segments_.size()) + continuation_units() + (latency_windows_ > 0 ? 1 : 0);
  }
  std::int64_t unit_cost(std::int64_t i) const override {
    const auto S = static_cast<std::int64_t>(segments_.size());
    if (i < S) return static_cast<std::int64_t>(segment_text(static_cast<std::size_t>(i)).size()) + 1;
    if (i < S + continuation_units()) return kItemsPerUnit * (cont_prefix_ + 2 * cont_chars_);
    return 4 * latency_windows_ * max_length_ + 3 * latency_items() * (cont_prefix_ + 2 * cont_chars_);
  }

  nlohmann::json run_unit(std::int64_t i, const TaskEnv& env) const override {
    const auto S = static_cast<std::int64_t>(segments_.size());
    if (i < S) return score_segment(static_cast<std::size_t>(i), env);
    if (i < S + continuation_units()) return continue_block(i - S, env);
    return probe_latency(env);
  }

  TaskAggregate aggregate(const std::vector<std::pair<std::int64_t, nlohmann::json>>& units) const override;

 private:
  std::string_view segment_text(std::size_t i) const {
    const auto& s = segments_[i];
    return std::string_view(docs_[s.doc]).substr(s.begin, s.end - s.begin);
  }
  // The continuation items the latency probe generates, one at a time and latency_batch at once.
  std::int64_t latency_items() const { return std::min<std::int64_t>(latency_batch_, static_cast<std::int64_t>(items_.size())); }
  std::int64_t continuation_units() const {
    return (static_cast<std::int64_t>(items_.size()) + kItemsPerUnit - 1) / kItemsPerUnit;
  }

  nlohmann::json score_segment(std::size_t i, const TaskEnv& env) const {
    const auto text = segment_text(i);
    const auto ids = byte_ids(text);
    const UnitPeaks peaks(*env.model);
    const auto t0 = std::chrono::steady_clock::now();
    const auto windows = score_rolling(*env.model, ids, max_length_, prefix_, env);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // The windows' scored positions are disjoint and in text order: together, one score per byte.
    std::vector<double> lp;
    std::vector<std::uint8_t> greedy;
    for (const auto& w : windows)
      for (std::size_t p = 0; p < w.targets.size(); ++p)
        if (w.targets[p] >= 0) {
          lp.push_back(w.score.logprobs[p]);
          greedy.push_back(w.score.greedy[p]);
        }
    auto out = tally_chars(text, lp, greedy).to_json();
    out["kind"] = "score";
    out["seconds"] = seconds;
    out["batch_size"] = env.batch_size;
    out["windows"] = windows.size();
    peaks.write(out, *env.model);
    if (const auto* c = env.checkpoint_summary) {
      out["weights_bytes"] = c->bytes_on_disk;
      if (c->ternary_tensors > 0) out["ternary_packed_bytes"] = ternary_packed_bytes(*c, 2.0);
    }
    return out;
  }

  std::vector<std::string> prompts_of(std::size_t first, std::size_t last) const {
    std::vector<std::string> prompts;
    for (std::size_t k = first; k < last; ++k) {
      const auto& it = items_[k];
      prompts.emplace_back(segment_text(it.segment).substr(it.prompt_begin, it.split - it.prompt_begin));
    }
    return prompts;
  }

  nlohmann::json continue_block(std::int64_t block, const TaskEnv& env) const {
    const auto first = static_cast<std::size_t>(block * kItemsPerUnit);
    const auto last = std::min(items_.size(), first + static_cast<std::size_t>(kItemsPerUnit));
    const auto prompts = prompts_of(first, last);
    const UnitPeaks peaks(*env.model);
    const auto gen = continue_chars(*env.model, prompts, cont_chars_, env.batch_size, env);
    nlohmann::json rows = nlohmann::json::array();
    std::int64_t chars = 0;
    for (std::size_t k = first; k < last; ++k) {
      const auto& it = items_[k];
      const auto target = segment_text(it.segment).substr(it.split, it.target_end - it.split);
      const auto& g = gen.bytes[k - first];
      // Position j compares the j-th generated character with the j-th of the text, whatever came before.
      nlohmann::json matches = nlohmann::json::array();
      std::size_t gt = 0, tt = 0;
      for (std::int64_t j = 0; j < cont_chars_; ++j) {
        const std::size_t gn = gt < g.size() ? char_length(g, gt) : 0;
        const std::size_t tn = char_length(target, tt);
        matches.push_back(gn > 0 && std::string_view(g).substr(gt, gn) == target.substr(tt, tn) ? 1 : 0);
        gt += gn;
        tt += tn;
      }
      rows.push_back({{"item", k},
                      {"prompt", valid_utf8(prompts[k - first])},
                      {"target", valid_utf8(target)},
                      {"generated", valid_utf8(g)},
                      {"matches", matches}});
      chars += static_cast<std::int64_t>(count_chars(g));
    }
    nlohmann::json out{{"kind", "continuation"},  {"items", rows},
                       {"batch", env.batch_size}, {"prefill_seconds", gen.prefill_seconds},
                       {"decode_seconds", gen.decode_seconds}, {"decode_passes", gen.decode_passes},
                       {"bytes", gen.bytes_written}, {"chars", chars}};
    peaks.write(out, *env.model);
    return out;
  }

  // The first latency_items() items generated one at a time and then latency_batch at once, after a warm-up
  // prompt: the cost of continuation at batch 1 and batched, and whether batching changed the text.
  nlohmann::json probe_generation(const TaskEnv& env) const {
    const auto prompts = prompts_of(0, static_cast<std::size_t>(latency_items()));
    continue_chars(*env.model, std::span<const std::string>(prompts.data(), 1), cont_chars_, 1, env);  // warm-up
    nlohmann::json rows = nlohmann::json::array();
    std::vector<std::string> at_batch1;
    std::vector<std::int64_t> batches{1};
    if (latency_items() > 1) batches.push_back(latency_items());
    for (const auto b : batches) {
      const bool resets = reset_host_peak();
      env.model->reset_peak_memory();
      const auto t0 = std::chrono::steady_clock::now();
      const auto gen = continue_chars(*env.model, prompts, cont_chars_, b, env);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::int64_t chars = 0;
      for (const auto& g : gen.bytes) chars += static_cast<std::int64_t>(count_chars(g));
      nlohmann::json row{{"batch", b},
                         {"seconds", seconds},
                         {"prefill_seconds", gen.prefill_seconds},
                         {"decode_seconds", gen.decode_seconds},
                         {"decode_passes", gen.decode_passes},
                         {"chars", chars},
                         {"peak_host_bytes", host_peak_bytes()},
                         {"host_peak_since", resets ? "pass" : "process"},
                         {"peak_device_bytes", env.model->peak_memory_bytes()}};
      if (b == 1) at_batch1 = gen.bytes;
      else row["same_text_as_batch1"] = gen.bytes == at_batch1;
      rows.push_back(row);
    }
    return rows;
  }

  nlohmann::json probe_latency(const TaskEnv& env) const {
    // The first latency_windows rolling windows of the scored text, and the characters each scores.
    std::vector<std::vector<std::int32_t>> inputs, targets;
    std::int64_t chars = 0;
    for (std::size_t i = 0; i < segments_.size() && static_cast<std::int64_t>(inputs.size()) < latency_windows_; ++i) {
      const auto text = segment_text(i);
      const auto ids = byte_ids(text);
      std::vector<std::uint8_t> starts(text.size(), 0);
      for (auto at : char_starts(text)) starts[at] = 1;
      std::size_t pos = 0;  // byte index of the window's first target
      for (const auto& w : rolling_windows(ids, max_length_, prefix_)) {
        if (static_cast<std::int64_t>(inputs.size()) == latency_windows_) break;
        for (std::size_t p = pos; p < pos + w.targets.size(); ++p) chars += starts[p];
        pos += w.targets.size();
        targets.push_back(position_targets(w));
        inputs.push_back(w.input);
      }
    }
    std::vector<WindowRequest> requests;
    for (std::size_t k = 0; k < inputs.size(); ++k) requests.push_back({inputs[k], targets[k]});
    std::vector<std::int64_t> batches{1};
    if (latency_batch_ > 1) batches.push_back(latency_batch_);
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& m : measure_scoring_latency(*env.model, requests, batches, env))
      rows.push_back({{"batch", m.batch},
                      {"seconds", m.seconds},
                      {"bytes", m.tokens_scored},
                      {"peak_host_bytes", m.peak_host_bytes},
                      {"host_peak_since", m.host_peak_resets ? "pass" : "process"},
                      {"peak_device_bytes", m.peak_device_bytes}});
    nlohmann::json out{{"kind", "latency"}, {"windows", inputs.size()}, {"chars", chars}, {"measurements", rows},
                       {"backend", env.model->backend_name()}};
    if (latency_items() > 0) out["generation"] = probe_generation(env);
    return out;
  }

  std::vector<std::string> docs_;
  std::vector<Segment> segments_;
  std::vector<ContinuationItem> items_;
  std::int64_t items_wanted_ = 0, cont_chars_ = 0, cont_prefix_ = 0, latency_batch_ = 8, latency_windows_ = 8;
  std::int64_t max_length_ = 0;
  std::int32_t prefix_ = 0;
  nlohmann::json config_;
};

TaskAggregate CharlevelTask::aggregate(const std::vector<std::pair<std::int64_t, nlohmann::json>>& units) const {
  TaskAggregate a;
  a.samples = static_cast<std::int64_t>(units.size());
  nlohmann::json not_computed = nlohmann::json::object();
  CharTally tally;
  double score_s = 0;
  std::set<std::int64_t> score_batches;
  std::int64_t peak_host = -1, peak_device = -1;
  std::set<std::string> host_since;
  nlohmann::json weights, ternary;
  std::vector<double> item_means, item_exact;
  std::vector<std::int64_t> per_position(static_cast<std::size_t>(cont_chars_), 0);
  double prefill_s = 0, decode_s = 0;
  std::int64_t passes = 0, gen_chars = 0;
  std::set<std::int64_t> cont_batches;
  nlohmann::json latency = nullptr;
  auto peaks = [&](const nlohmann::json& u) {
    peak_host = std::max(peak_host, u.at("peak_host_bytes").get<std::int64_t>());
    peak_device = std::max(peak_device, u.at("peak_device_bytes").get<std::int64_t>());
    host_since.insert(u.at("host_peak_since").get<std::string>());
  };
  for (const auto& [i, u] : units) {
    const auto kind = u.at("kind").get<std::string>();
    if (kind == "score") {
      tally.add(CharTally::from_json(u));
      score_s += u.at("seconds").get<double>();
      score_batches.insert(u.at("batch_size").get<std::int64_t>());
      if (u.contains("weights_bytes")) weights = u["weights_bytes"];
      if (u.contains("ternary_packed_bytes")) ternary = u["ternary_packed_bytes"];
      peaks(u);
    } else if (kind == "continuation") {
      for (const auto& row : u.at("items")) {
        double hits = 0;
        for (std::size_t j = 0; j < row.at("matches").size(); ++j) {
          const int m = row["matches"][j].get<int>();
          hits += m;
          if (j < per_position.size()) per_position[j] += m;
        }
        item_means.push_back(hits / static_cast<double>(cont_chars_));
        item_exact.push_back(hits == static_cast<double>(cont_chars_) ? 1.0 : 0.0);
      }
      prefill_s += u.at("prefill_seconds").get<double>();
      decode_s += u.at("decode_seconds").get<double>();
      passes += u.at("decode_passes").get<std::int64_t>();
      gen_chars += u.at("chars").get<std::int64_t>();
      cont_batches.insert(u.at("batch").get<std::int64_t>());
      peaks(u);
    } else if (kind == "latency") {
      latency = u;
      for (const auto& m : u.at("measurements")) peaks(m);
      if (u.contains("generation"))
        for (const auto& m : u.at("generation")) peaks(m);
    }
  }

  a.metrics = char_metrics(tally);
  nlohmann::json scoring{{"bytes", tally.bytes}, {"chars", tally.chars}, {"nll", tally.nll}, {"seconds", score_s},
                         {"batch_sizes", score_batches}};
  if (tally.chars > 0) scoring["ms_per_char"] = 1000.0 * score_s / static_cast<double>(tally.chars);
  a.details["scoring"] = scoring;

  if (items_.empty()) {
    for (const char* m : {"continuation_accuracy", "continuation_exact_match"}) not_computed[m] = "continuation_items is 0";
  } else if (!item_means.empty()) {
    const auto acc = mean_stderr(item_means), exact = mean_stderr(item_exact);
    a.metrics["continuation_accuracy"] = acc.mean;
    a.metrics["continuation_accuracy_stderr"] = acc.stderr_;
    a.metrics["continuation_exact_match"] = exact.mean;
    a.metrics["continuation_exact_match_stderr"] = exact.stderr_;
    nlohmann::json rate = nlohmann::json::array();
    for (auto c : per_position) rate.push_back(static_cast<double>(c) / static_cast<double>(item_means.size()));
    // The units' own timing, at the run's batch_size (the cost metrics come from the latency probe).
    nlohmann::json cont{{"items", item_means.size()},
                        {"chars", cont_chars_},
                        {"prefix_chars", cont_prefix_},
                        {"accuracy_by_position", rate},
                        {"generated_chars", gen_chars},
                        {"batch_sizes", cont_batches},
                        {"prefill_ms_per_item", 1000.0 * prefill_s / static_cast<double>(item_means.size())}};
    if (passes > 0) cont["decode_ms_per_pass"] = 1000.0 * decode_s / static_cast<double>(passes);
    if (gen_chars > 0) cont["ms_per_char"] = 1000.0 * (prefill_s + decode_s) / static_cast<double>(gen_chars);
    a.details["continuation"] = cont;
  }

  if (latency_windows_ == 0) {
    not_computed["score_ms_per_char@batch1"] = "latency_windows is 0";
    if (!items_.empty()) not_computed["generate_ms_per_char@batch1"] = "latency_windows is 0";
  } else if (latency.is_object()) {
    const auto chars = latency.at("chars").get<std::int64_t>();
    for (const auto& m : latency.at("measurements"))
      if (chars > 0)
        a.metrics["score_ms_per_char@batch" + std::to_string(m.at("batch").get<std::int64_t>())] =
            1000.0 * m.at("seconds").get<double>() / static_cast<double>(chars);
    // Whole continuations (prompt pass and decoding) per character generated.
    if (latency.contains("generation"))
      for (const auto& m : latency.at("generation"))
        if (m.at("chars").get<std::int64_t>() > 0)
          a.metrics["generate_ms_per_char@batch" + std::to_string(m.at("batch").get<std::int64_t>())] =
              1000.0 * m.at("seconds").get<double>() / static_cast<double>(m.at("chars").get<std::int64_t>());
    a.details["latency"] = latency;
  }
  if (items_.empty()) not_computed["generate_ms_per_char@batch1"] = "continuation_items is 0";

  if (peak_host > 0) a.metrics["peak_host_mib"] = static_cast<double>(peak_host) / kMiB;
  if (!host_since.empty())
    a.details["peak_host_since"] = host_since.count("process") ? "process start (the OS could not reset the mark)"
                                                               : "the start of each unit";
  if (peak_device > 0) a.metrics["peak_device_mib"] = static_cast<double>(peak_device) / kMiB;
  else if (!units.empty()) not_computed["peak_device_mib"] = "the backend does not track device memory (cpu: see peak_host_mib)";
  if (weights.is_number()) {
    a.metrics["weights_mib"] = weights.get<double>() / kMiB;
    if (ternary.is_number()) a.metrics["ternary_packed_mib"] = ternary.get<double>() / kMiB;
    else not_computed["ternary_packed_mib"] = "no ternary (BitNet) weights in this checkpoint";
  } else if (tally.bytes > 0) {
    not_computed["weights_mib"] = "computed outside a run: no checkpoint sizes";
  }
  a.details["not_computed"] = not_computed;
  return a;
}

}  // namespace

TaskSchema charlevel_schema() {
  using T = SettingType;
  return {
      .name = "charlevel",
      .description = "byte-level models on raw text: character and byte perplexity, bits per character, next-character "
                     "and continuation accuracy, and their cost",
      .group = TaskGroup::perplexity,
      .settings =
          {{.key = "data", .type = T::file, .label = "data file",
            .help = "text: a raw file (wiki.test.raw, enwik8, any text), .jsonl with `field`, or a .json list",
            .default_value = nullptr, .required = true},
           text_field_setting(),
           {.key = "split", .type = T::choice, .label = "standard split",
            .help = "a standard split's byte range of one raw corpus file (enwik8/enwik9: 90/5/5%); none: the whole "
                    "file",
            .default_value = nullptr, .choices = standard_split_names()},
           {.key = "segment_bytes", .type = T::integer, .label = "segment bytes",
            .help = "documents are cut into segments of this many bytes (one work unit each)", .default_value = 1 << 16,
            .min = 1, .max = 1 << 30},
           {.key = "continuation_items", .type = T::integer, .label = "continuation items",
            .help = "greedy text-continuation items; 0 leaves the continuation metrics out", .default_value = 64,
            .min = 0, .max = static_cast<double>(kMaxContinuationItems)},
           {.key = "continuation_chars", .type = T::integer, .label = "continuation characters",
            .help = "characters each item continues", .default_value = 16, .min = 1,
            .max = static_cast<double>(kMaxNewTokens)},
           {.key = "continuation_prefix_chars", .type = T::integer, .label = "continuation prefix characters",
            .help = "characters of text before each continuation", .default_value = 64, .min = 1,
            .max = static_cast<double>(kMaxTaskLength)},
           {.key = "latency_batch", .type = T::integer, .label = "latency batch",
            .help = "the batched latency probe's batch size", .default_value = 8, .min = 1, .max = 4096},
           {.key = "latency_windows", .type = T::integer, .label = "latency windows",
            .help = "windows the latency probe times; 0 leaves latency out", .default_value = 8, .min = 0,
            .max = static_cast<double>(kMaxTrials)},
           common_setting("alias"), common_setting("limit", "the first N segments; none: all"),
           common_setting("max_length"), common_setting("batch_size")},
      .make = [](const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) -> std::unique_ptr<Task> {
        return std::make_unique<CharlevelTask>(s, env, base_dir);
      }};
}

}  // namespace lmscope::eval
