// `ruler` (and each of its tasks by name, `niah_single_1` ... `niah_multiquery`): RULER's needle-in-a-haystack
// retrieval (eval/ruler_niah.h builds the prompts; docs/ruler.md says what each task is). For every task × length,
// `samples` prompts of at most length − max_new_tokens tokens, greedy answers of up to max_new_tokens, scored by
// RULER's string_match_all (the fraction of the expected values found in the answer, case-insensitive). One work
// unit per block of `samples_per_unit` samples of one task and length, so progress and resume are fine-grained.
#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "eval/answer_generation.h"
#include "eval/answer_metrics.h"
#include "eval/ruler_niah.h"
#include "eval/task_data.h"
#include "eval/tasks/ruler_words.h"
#include "eval/tasks/task_registry.h"
#include "lmscope/error.h"

namespace lmscope::eval {
namespace {

namespace r = ruler;

// RULER's postprocess_pred: strip, control characters to newlines, strip.
std::string postprocess(std::string_view s) {
  std::string t(s);
  for (auto& c : t)
    if (static_cast<unsigned char>(c) < 0x20) c = '\n';
  const auto is_space = [](unsigned char c) { return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f); };
  std::size_t b = 0, e = t.size();
  while (b < e && is_space(static_cast<unsigned char>(t[b]))) ++b;
  while (e > b && is_space(static_cast<unsigned char>(t[e - 1]))) --e;
  return t.substr(b, e - b);
}

class RulerTask final : public Task {
 public:
  RulerTask(const TaskSettings& settings, const TaskEnv& env, const std::string& base_dir) : name_(settings.task()) {
    const auto& s = settings.json();
    const bool alias = name_ != "ruler";
    if (alias) {
      tasks_.push_back(r::find_niah_task(name_));
    } else if (settings.given("tasks")) {
      if (!s["tasks"].is_array() || s["tasks"].empty())
        throw BadInput("task ruler: 'tasks' must be a non-empty list of RULER task names (" + known_tasks() + ")");
      for (const auto& t : s["tasks"]) {
        const auto* spec = t.is_string() ? r::find_niah_task(t.get<std::string>()) : nullptr;
        if (!spec)
          throw BadInput("task ruler: 'tasks' has " + t.dump() + ", which is not a RULER task (" + known_tasks() + ")");
        if (std::find(tasks_.begin(), tasks_.end(), spec) != tasks_.end())
          throw BadInput("task ruler: 'tasks' names " + t.dump() + " twice");
        tasks_.push_back(spec);
      }
    } else {
      for (const auto& t : settings.words("tasks")) tasks_.push_back(r::find_niah_task(t));
    }
    lengths_ = settings.integers("lengths");
    for (std::size_t i = 0; i < lengths_.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (lengths_[i] == lengths_[j])
          throw BadInput("task " + name_ + ": 'lengths' has " + std::to_string(lengths_[i]) + " twice");
    samples_ = settings.integer("samples");
    if (const auto limit = settings.integer_if("limit")) samples_ = std::min(samples_, *limit);
    per_unit_ = settings.integer("samples_per_unit");
    seed_ = static_cast<std::uint64_t>(settings.integer("seed"));
    max_new_ = settings.integer("max_new_tokens");
    depth_bins_ = settings.integer("depth_bins");
    depths_ = settings.numbers("depths");
    bool essay = false;
    for (const auto* t : tasks_) {
      const auto needles = static_cast<std::size_t>(t->keys * t->values);
      if (t->haystack == r::Haystack::essay) {
        essay = true;
        if (depths_.size() < needles)
          throw BadInput("task " + name_ + ": 'depths' needs at least " + std::to_string(needles) + " values for " +
                         std::string(t->name) + " (one per needle), got " + std::to_string(depths_.size()));
      }
    }
    if (essay) {
      if (!settings.given("haystack_file"))
        throw BadInput("task " + name_ + ": 'haystack_file' is required for the essay haystack of " + essay_tasks() +
                       " (a text file, or JSON lines with a 'text' field; RULER uses Paul Graham's essays)");
      const auto p = settings.file("haystack_file", base_dir, "the essay haystack (text or JSON lines)");
      const auto field = settings.text("haystack_field");
      const auto docs = read_documents(p, field);
      std::string text;
      for (std::size_t i = 0; i < docs.size(); ++i) text += (i ? " " : "") + docs[i];
      try {
        essay_ = r::make_essay(text);
      } catch (const BadInput&) {
        throw BadInput("task " + name_ + ": 'haystack_file' " + p.string() + " has no words");
      }
      haystack_hash_ = fnv1a64_hex(text);
      haystack_path_ = p.string();
    }
    tokenizer_ = env.tokenizer;
    // The template, needles and question alone must fit every length (checked before any work is done).
    for (const auto* t : tasks_)
      for (auto L : lengths_) {
        const auto bare = r::build_sample(*t, essay ? &essay_ : nullptr, r::min_units(*t),
                                          r::sample_stream(seed_, t->name, L, r::kSearchIndex), depths_);
        const auto n = r::prompt_tokens(*tokenizer_, bare.prompt);
        if (n + max_new_ > L)
          throw BadInput("task " + name_ + ": a value of 'lengths', " + std::to_string(L) + ", is too short for " +
                         std::string(t->name) + ": the template, needles and question alone take " +
                         std::to_string(n) + " tokens with this tokenizer and " + std::to_string(max_new_) +
                         " are kept for the answer (use at least " + std::to_string(n + max_new_ + 16) + ")");
      }
    blocks_ = (samples_ + per_unit_ - 1) / per_unit_;
    std::vector<std::string> names;
    for (const auto* t : tasks_) names.emplace_back(t->name);
    config_ = {{"task", name_},
               {"tasks", names},
               {"lengths", lengths_},
               {"samples", samples_},
               {"samples_per_unit", per_unit_},
               {"seed", seed_},
               {"max_new_tokens", max_new_},
               {"depths", depths_},
               {"depth_bins", depth_bins_},
               {"haystack", haystack_hash_},
               {"haystack_file", haystack_path_},
               {"words", std::to_string(r::kAdjectives.size()) + "x" + std::to_string(r::kNouns.size()) + "-1"},
               {"metric", "string_match_all (RULER), a fraction in [0, 1]"},
               {"prompt_version", 1}};
  }

  std::string name() const override { return name_; }
  nlohmann::json config() const override { return config_; }
  std::int64_t unit_count() const override {
    return static_cast<std::int64_t>(tasks_.size() * lengths_.size()) * blocks_;
  }
  std::int64_t unit_cost(std::int64_t u) const override {
    const auto [ti, li, b] = cell(u);
    return lengths_[li] * (std::min(samples_, (b + 1) * per_unit_) - b * per_unit_);
  }

  nlohmann::json run_unit(std::int64_t u, const TaskEnv& env) const override {
    const auto [ti, li, b] = cell(u);
    const auto& task = *tasks_[ti];
    const std::int64_t L = lengths_[li];
    const auto budget = L - max_new_;
    const auto* essay = task.haystack == r::Haystack::essay ? &essay_ : nullptr;
    env.check_cancel();
    const auto start = search(ti, li);
    std::vector<r::FittedSample> fitted;
    std::vector<AnswerRequest> requests;
    for (std::int64_t i = b * per_unit_; i < std::min(samples_, (b + 1) * per_unit_); ++i) {
      env.check_cancel();
      fitted.push_back(r::fit_sample(task, essay, *tokenizer_, budget, seed_, L, static_cast<std::uint64_t>(i), start, depths_));
      AnswerRequest q;
      q.prompt = fitted.back().ids;
      q.max_new = max_new_;
      requests.push_back(std::move(q));
    }
    const auto answers = generate_answers(*env.model, *tokenizer_, requests, env);
    nlohmann::json samples = nlohmann::json::array();
    double sum = 0;
    for (std::size_t k = 0; k < fitted.size(); ++k) {
      const auto& f = fitted[k].sample;
      const auto out = postprocess(answers[k].text);
      const double score = string_match_all(out, f.answers);
      sum += score;
      samples.push_back({{"index", b * per_unit_ + static_cast<std::int64_t>(k)},
                         {"answers", f.answers},
                         {"query", f.query},
                         {"output", valid_utf8(answers[k].text)},
                         {"stopped_by", answers[k].stopped_by},
                         {"score", score},
                         {"depth", f.depth},
                         {"haystack_units", f.units},
                         {"prompt_tokens", fitted[k].ids.size()},
                         {"prompt_fnv", fnv1a64_hex(f.prompt)}});
    }
    return {{"task", task.name}, {"length", L}, {"search_units", start}, {"score_sum", sum}, {"samples", samples}};
  }

  TaskAggregate aggregate(const std::vector<std::pair<std::int64_t, nlohmann::json>>& units) const override {
    TaskAggregate a;
    const auto T = tasks_.size(), N = lengths_.size(), B = static_cast<std::size_t>(depth_bins_);
    struct Acc {
      double sum = 0, sq = 0;
      std::int64_t n = 0;
    };
    std::vector<Acc> cells(T * N);
    std::vector<Acc> bins(T * N * B);
    for (const auto& [u, res] : units) {
      const auto [ti, li, b] = cell(u);
      for (const auto& smp : res.at("samples")) {
        const double s = smp.at("score").get<double>();
        auto& c = cells[ti * N + li];
        c.sum += s;
        c.sq += s * s;
        c.n += 1;
        const double d = smp.at("depth").get<double>();
        const auto bin = std::min<std::size_t>(B - 1, static_cast<std::size_t>(std::max(0.0, d) * static_cast<double>(B)));
        auto& h = bins[(ti * N + li) * B + bin];
        h.sum += s;
        h.n += 1;
        a.samples += 1;
      }
    }
    if (a.samples == 0) return a;
    auto mean = [](const Acc& c) { return c.sum / static_cast<double>(c.n); };
    nlohmann::json heatmaps = nlohmann::json::object(), scores = nlohmann::json::object();
    for (std::size_t ti = 0; ti < T; ++ti) {
      const std::string tn(tasks_[ti]->name);
      double over = 0;
      int have = 0;
      nlohmann::json per_length = nlohmann::json::array();
      for (std::size_t li = 0; li < N; ++li) {
        const auto& c = cells[ti * N + li];
        if (c.n == 0) {
          per_length.push_back(nullptr);
          continue;
        }
        const std::string key = tn + "@" + std::to_string(lengths_[li]);
        const double m = mean(c);
        a.metrics[key] = m;
        if (c.n > 1) {
          const double var = std::max(0.0, (c.sq - static_cast<double>(c.n) * m * m) / static_cast<double>(c.n - 1));
          a.metrics[key + "_stderr"] = std::sqrt(var / static_cast<double>(c.n));
        }
        per_length.push_back(m);
        over += m;
        ++have;
      }
      if (have) a.metrics[tn] = over / have;
      scores[tn] = per_length;
      nlohmann::json grid = nlohmann::json::array(), counts = nlohmann::json::array();
      for (std::size_t bi = 0; bi < B; ++bi) {
        nlohmann::json row = nlohmann::json::array(), crow = nlohmann::json::array();
        for (std::size_t li = 0; li < N; ++li) {
          const auto& h = bins[(ti * N + li) * B + bi];
          row.push_back(h.n ? nlohmann::json(mean(h)) : nlohmann::json(nullptr));
          crow.push_back(h.n);
        }
        grid.push_back(row);
        counts.push_back(crow);
      }
      heatmaps[tn] = {{"accuracy", grid}, {"samples", counts}};
    }
    // The summary model cards give: S1, S2, S3, MK1 and their mean, per length (when all four are in the run);
    // and the mean over every task of the run.
    static const char* kCard[] = {"niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1"};
    nlohmann::json rows = nlohmann::json::array();
    double all_sum = 0;
    int all_n = 0;
    for (std::size_t li = 0; li < N; ++li) {
      const auto L = std::to_string(lengths_[li]);
      nlohmann::json row{{"length", lengths_[li]}};
      double card = 0;
      int card_n = 0;
      for (const char* c : kCard) {
        const auto* spec = r::find_niah_task(c);
        row[std::string(spec->label)] = nullptr;
        for (std::size_t ti = 0; ti < T; ++ti)
          if (tasks_[ti] == spec && cells[ti * N + li].n) {
            const double m = mean(cells[ti * N + li]);
            row[std::string(spec->label)] = m;
            card += m;
            ++card_n;
          }
      }
      row["avg"] = nullptr;
      if (card_n == 4) {
        row["avg"] = card / 4;
        a.metrics["ruler_card_avg@" + L] = card / 4;
      }
      double s = 0;
      int n = 0;
      for (std::size_t ti = 0; ti < T; ++ti)
        if (cells[ti * N + li].n) {
          s += mean(cells[ti * N + li]);
          ++n;
        }
      if (n) {
        a.metrics["ruler_niah_avg@" + L] = s / n;
        all_sum += s / n;
        ++all_n;
      }
      rows.push_back(row);
    }
    if (all_n) a.metrics["ruler_niah_avg"] = all_sum / all_n;
    std::vector<double> centers;
    for (std::size_t bi = 0; bi < B; ++bi) centers.push_back((static_cast<double>(bi) + 0.5) / static_cast<double>(B));
    std::vector<std::string> names;
    for (const auto* t : tasks_) names.emplace_back(t->name);
    a.details = {{"tasks", names},
                 {"lengths", lengths_},
                 {"depths", centers},
                 {"samples", samples_},
                 {"scores", scores},
                 {"heatmaps", heatmaps},
                 {"summary", {{"columns", {"S1", "S2", "S3", "MK1", "avg"}}, {"rows", rows}}}};
    return a;
  }

 private:
  struct Cell {
    std::size_t task, length;
    std::int64_t block;
  };
  Cell cell(std::int64_t u) const {
    const auto per_task = static_cast<std::int64_t>(lengths_.size()) * blocks_;
    const auto ti = static_cast<std::size_t>(u / per_task);
    const auto rest = u % per_task;
    return {ti, static_cast<std::size_t>(rest / blocks_), rest % blocks_};
  }

  // The haystack size of (task, length), found once per process (every block of the cell needs it).
  std::int64_t search(std::size_t ti, std::size_t li) const {
    {
      std::lock_guard<std::mutex> g(mu_);
      const auto it = searched_.find({ti, li});
      if (it != searched_.end()) return it->second;
    }
    const auto& task = *tasks_[ti];
    const auto n = r::search_units(task, task.haystack == r::Haystack::essay ? &essay_ : nullptr, *tokenizer_,
                                   lengths_[li] - max_new_, seed_, lengths_[li], depths_);
    std::lock_guard<std::mutex> g(mu_);
    searched_[{ti, li}] = n;
    return n;
  }

  static std::string known_tasks() {
    std::string s;
    for (const auto& t : r::niah_tasks()) s += (s.empty() ? "" : ", ") + std::string(t.name);
    return s;
  }
  std::string essay_tasks() const {
    std::string s;
    for (const auto* t : tasks_)
      if (t->haystack == r::Haystack::essay) s += (s.empty() ? "" : ", ") + std::string(t->name);
    return s;
  }

  std::string name_;
  std::vector<const r::NiahTask*> tasks_;
  std::vector<std::int64_t> lengths_;
  std::int64_t samples_ = 500, per_unit_ = 25, max_new_ = r::kTokensToGenerate, depth_bins_ = 10, blocks_ = 1;
  std::uint64_t seed_ = 42;
  std::vector<double> depths_;
  r::Essay essay_;
  std::string haystack_hash_, haystack_path_;
  const Tokenizer* tokenizer_ = nullptr;
  nlohmann::json config_;
  mutable std::mutex mu_;
  mutable std::map<std::pair<std::size_t, std::size_t>, std::int64_t> searched_;
};

}  // namespace

namespace {

std::string niah_description(const r::NiahTask& t) {
  const auto kind = [](r::Kind k) { return k == r::Kind::numbers ? "number" : k == r::Kind::words ? "word" : "UUID"; };
  const auto hay = t.haystack == r::Haystack::noise   ? "a repeated-sentence haystack"
                   : t.haystack == r::Haystack::essay ? "an essay haystack"
                                                      : "a haystack of other needles";
  std::string d = "RULER " + std::string(t.label) + ": ";
  if (t.queries > 1) d += "find the values of " + std::to_string(t.queries) + " keys";
  else if (t.values > 1) d += "find all " + std::to_string(t.values) + " values of one key";
  else if (t.keys > 1) d += "find the value of one key among " + std::to_string(t.keys) + " needles";
  else d += "find the value of one key";
  return d + " (" + kind(t.key) + " keys, " + kind(t.value) + " values) in " + hay;
}

// The settings of `ruler` (one_task null: with the list of tasks) or of one NIAH task.
std::vector<SettingSchema> ruler_settings(const r::NiahTask* one_task) {
  using T = SettingType;
  const bool with_task_list = one_task == nullptr;
  std::vector<std::string> names, essay;
  for (const auto& t : r::niah_tasks()) {
    names.emplace_back(t.name);
    if (t.haystack == r::Haystack::essay) essay.emplace_back(t.name);
  }
  std::vector<SettingSchema> s;
  if (with_task_list)
    s.push_back({.key = "tasks", .type = T::word_list, .label = "RULER tasks",
                 .help = "which of RULER's needle tasks; the model cards report S1, S2, S3 and MK1",
                 .default_value = names, .choices = names});
  nlohmann::json depths = r::default_depths();
  auto limit = common_setting("limit", "at most this many samples per task and length");
  limit.min = 1;
  limit.max = static_cast<double>(kMaxTrials);
  const std::vector<SettingSchema> rest{
      {.key = "lengths", .type = T::integer_list, .label = "lengths (tokens)",
       .help = "prompt + answer budget in the model's tokens", .default_value = {4096}, .min = 1,
       .max = static_cast<double>(kMaxTaskLength)},
      {.key = "samples", .type = T::integer, .label = "samples per task and length", .help = "RULER uses 500",
       .default_value = 500, .min = 1, .max = static_cast<double>(kMaxTrials)},
      {.key = "samples_per_unit", .type = T::integer, .label = "samples per unit",
       .help = "samples of one work unit (progress and resume granularity)", .default_value = 25, .min = 1,
       .max = static_cast<double>(kMaxTrials)},
      {.key = "haystack_file", .type = T::file, .label = "essay haystack",
       .help = "a long text (or JSON lines with `haystack_field`) for the essay tasks (S2, S3, MK1, MV, MQ; RULER uses "
               "Paul Graham's essays); none: only the tasks without an essay haystack can run",
       .default_value = nullptr,
       .required = one_task && one_task->haystack == r::Haystack::essay,
       .required_if_key = with_task_list ? "tasks" : "",
       .required_if_any = with_task_list ? essay : std::vector<std::string>{}},
      {.key = "haystack_field", .type = T::text, .label = "haystack field",
       .help = "the field of a JSON-lines haystack", .default_value = "text"},
      {.key = "max_new_tokens", .type = T::integer, .label = "new tokens",
       .help = "greedy tokens per answer (RULER's tokens_to_generate); kept out of each length's prompt budget",
       .default_value = r::kTokensToGenerate, .min = 1, .max = static_cast<double>(kMaxNewTokens)},
      {.key = "depths", .type = T::number_list, .label = "needle depths (0-1)",
       .help = "where needles may sit (RULER: round(linspace(0, 100, 40)) %)", .default_value = depths, .min = 0,
       .max = 1},
      {.key = "depth_bins", .type = T::integer, .label = "depth bins", .help = "rows of the depth x length grid",
       .default_value = 10, .min = 1, .max = 100},
      common_setting("alias"),
      limit,
      common_setting("seed", "seed of the samples", 42),
      common_setting("batch_size", "answers decoded together; none: 16 on CUDA, 1 on the CPU")};
  s.insert(s.end(), rest.begin(), rest.end());
  return s;
}

std::unique_ptr<Task> make_ruler(const TaskSettings& s, const TaskEnv& env, const std::string& base_dir) {
  return std::make_unique<RulerTask>(s, env, base_dir);
}

}  // namespace

std::vector<TaskSchema> ruler_schemas() {
  std::vector<TaskSchema> out{{.name = "ruler",
                               .description = "RULER's needle-in-a-haystack tasks at a list of lengths "
                                              "(string_match_all, S1/S2/S3/MK1 average)",
                               .group = TaskGroup::long_context,
                               .settings = ruler_settings(nullptr),
                               .make = make_ruler}};
  for (const auto& t : r::niah_tasks())
    out.push_back({.name = std::string(t.name),
                   .description = niah_description(t),
                   .group = TaskGroup::long_context,
                   .settings = ruler_settings(&t),
                   .make = make_ruler});
  return out;
}

}  // namespace lmscope::eval
