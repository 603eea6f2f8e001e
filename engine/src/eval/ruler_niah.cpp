#include "eval/ruler_niah.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "eval/tasks/ruler_words.h"
#include "lmscope/error.h"

namespace lmscope::eval::ruler {
namespace {

// RULER's task definition, reproduced as data (NVIDIA/RULER scripts/data/synthetic/constants.py, TASKS["niah"]:
// template and answer_prefix; scripts/data/synthetic/niah.py: the needle and the noise haystack). RULER's
// prepare.py appends the answer prefix to the template for base models; lm-eval sends the same text as the
// template followed by its gen_prefix.
constexpr std::string_view kTemplate =
    "Some special magic {type_needle_v} are hidden within the following text. Make sure to memorize it. I will quiz "
    "you about the {type_needle_v} afterwards.\n{context}\nWhat are all the special magic {type_needle_v} for {query} "
    "mentioned in the provided text?";
constexpr std::string_view kAnswerPrefix =
    " The special magic {type_needle_v} for {query} mentioned in the provided text are";
constexpr std::string_view kNeedle = "One of the special magic {type_needle_v} for {key} is: {value}.";
constexpr std::string_view kNoise =
    "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.";

std::string kind_name(Kind k) {
  switch (k) {
    case Kind::numbers: return "numbers";
    case Kind::words: return "words";
    case Kind::uuids: return "uuids";
  }
  return "";
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

// Python's str.format for the named fields present: one pass over the template, so braces inside the values are
// left alone.
std::string fill(std::string_view tmpl, const std::vector<std::pair<std::string_view, std::string_view>>& fields) {
  std::string out;
  out.reserve(tmpl.size());
  for (std::size_t i = 0; i < tmpl.size();) {
    bool done = false;
    if (tmpl[i] == '{')
      for (const auto& [name, value] : fields)
        if (tmpl.compare(i + 1, name.size(), name) == 0 && i + 1 + name.size() < tmpl.size() &&
            tmpl[i + 1 + name.size()] == '}') {
          out += value;
          i += name.size() + 2;
          done = true;
          break;
        }
    if (!done) out += tmpl[i++];
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  std::size_t n = 0;
  for (const auto& p : parts) n += p.size() + sep.size();
  out.reserve(n);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

// m distinct values below n, in the order drawn: draw below(n), keep it unless already drawn.
std::vector<std::uint64_t> sample_distinct(Rng& rng, std::uint64_t n, std::size_t m) {
  std::vector<std::uint64_t> out;
  while (out.size() < m) {
    const auto r = rng.below(n);
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  }
  return out;
}

// Decodes one UTF-8 code point at s[i] (advancing i); an invalid byte is returned as itself.
std::uint32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto b = static_cast<unsigned char>(s[i]);
  int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return b;
  }
  std::uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1f) : len == 3 ? (b & 0x0f) : (b & 0x07);
  for (int k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c >> 6) != 2) {
      ++i;
      return b;
    }
    cp = (cp << 6) | (c & 0x3f);
  }
  i += len;
  return cp;
}

// Python's str.isspace (what re's \s matches in a str pattern).
bool python_space(std::uint32_t c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

bool is_abbreviation(std::string core) {
  for (auto& c : core) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const char* kAbbrev[] = {"mr", "mrs", "ms",  "dr",  "st", "jr", "sr", "prof", "rev", "hon", "gen", "col",
                                  "capt", "lt", "sgt", "gov", "vs", "viz", "cf", "no", "vol", "fig", "mt"};
  for (const char* a : kAbbrev)
    if (core == a) return true;
  return false;
}

std::string_view strip_closers(std::string_view w) {
  for (;;) {
    if (!w.empty() && std::string_view("\"')]}").find(w.back()) != std::string_view::npos) w.remove_suffix(1);
    else if (w.size() >= 3 && (w.ends_with("\xE2\x80\x9D") || w.ends_with("\xE2\x80\x99"))) w.remove_suffix(3);
    else return w;
  }
}

std::string_view strip_openers(std::string_view w) {
  for (;;) {
    if (!w.empty() && std::string_view("\"'([{").find(w.front()) != std::string_view::npos) w.remove_prefix(1);
    else if (w.size() >= 3 && (w.starts_with("\xE2\x80\x9C") || w.starts_with("\xE2\x80\x98"))) w.remove_prefix(3);
    else return w;
  }
}

}  // namespace

const std::vector<NiahTask>& niah_tasks() {
  // NVIDIA/RULER scripts/synthetic.yaml (lm-eval's niah_utils.py passes the same arguments).
  static const std::vector<NiahTask> t{
      {"niah_single_1", "S1", Haystack::noise, Kind::words, Kind::numbers, 1, 1, 1},
      {"niah_single_2", "S2", Haystack::essay, Kind::words, Kind::numbers, 1, 1, 1},
      {"niah_single_3", "S3", Haystack::essay, Kind::words, Kind::uuids, 1, 1, 1},
      {"niah_multikey_1", "MK1", Haystack::essay, Kind::words, Kind::numbers, 4, 1, 1},
      {"niah_multikey_2", "MK2", Haystack::needle, Kind::words, Kind::numbers, 1, 1, 1},
      {"niah_multikey_3", "MK3", Haystack::needle, Kind::uuids, Kind::uuids, 1, 1, 1},
      {"niah_multivalue", "MV", Haystack::essay, Kind::words, Kind::numbers, 1, 4, 1},
      {"niah_multiquery", "MQ", Haystack::essay, Kind::words, Kind::numbers, 4, 1, 4},
  };
  return t;
}

const NiahTask* find_niah_task(std::string_view name) {
  for (const auto& t : niah_tasks())
    if (t.name == name) return &t;
  return nullptr;
}

std::vector<double> default_depths() {
  std::vector<double> d;
  for (int i = 0; i < 40; ++i) d.push_back(static_cast<double>(std::nearbyint(100.0 * i / 39.0)) / 100.0);
  return d;
}

std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t Rng::next() {
  const auto out = mix64(s_);
  s_ += 0x9e3779b97f4a7c15ULL;
  return out;
}

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

std::uint64_t sample_stream(std::uint64_t seed, std::string_view task, std::int64_t length, std::uint64_t index) {
  std::uint64_t h = mix64(seed);
  h = mix64(h ^ fnv1a64(task));
  h = mix64(h ^ static_cast<std::uint64_t>(length));
  return mix64(h ^ index);
}

bool ends_sentence(std::string_view word, std::string_view next) {
  const auto w = strip_closers(word);
  if (w.empty()) return false;
  const char last = w.back();
  if (last != '.' && last != '!' && last != '?') return false;
  if (last == '.') {
    const auto core = strip_openers(w.substr(0, w.size() - 1));
    if (core.empty() || core.find('.') != std::string_view::npos) return false;
    if (core.size() == 1 && std::isalpha(static_cast<unsigned char>(core[0]))) return false;
    if (is_abbreviation(std::string(core))) return false;
  }
  const auto n = strip_openers(next);
  if (n.empty()) return false;
  const auto c = static_cast<unsigned char>(n[0]);
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

Essay make_essay(std::string_view text) {
  Essay e;
  std::string cur;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t start = i;
    const auto cp = next_code_point(text, i);
    if (python_space(cp)) {
      if (!cur.empty()) e.words.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.append(text.substr(start, i - start));
    }
  }
  if (!cur.empty()) e.words.push_back(std::move(cur));
  if (e.words.empty()) throw BadInput("the essay haystack has no words");
  e.ends.resize(e.words.size());
  for (std::size_t i = 0; i < e.words.size(); ++i)
    e.ends[i] = ends_sentence(e.words[i], e.words[(i + 1) % e.words.size()]) ? 1 : 0;
  return e;
}

std::string random_value(Kind kind, Rng& rng) {
  switch (kind) {
    case Kind::numbers: return std::to_string(1000000 + rng.below(9000000));
    case Kind::words: {
      const auto a = rng.below(kAdjectives.size());
      const auto n = rng.below(kNouns.size());
      return std::string(kAdjectives[a]) + "-" + std::string(kNouns[n]);
    }
    case Kind::uuids: {
      // RULER: uuid.UUID(int=random.getrandbits(128), version=4): the version nibble set to 4, the variant to 10xx.
      std::uint64_t hi = rng.next(), lo = rng.next();
      hi = (hi & ~0xf000ULL) | 0x4000ULL;
      lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
      char buf[40];
      std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                    static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                    static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
      return buf;
    }
  }
  return "";
}

std::int64_t min_units(const NiahTask& task) {
  return task.haystack == Haystack::essay ? 1 : static_cast<std::int64_t>(task.keys) * task.values;
}

NiahSample build_sample(const NiahTask& task, const Essay* essay, std::int64_t units, std::uint64_t stream,
                        std::span<const double> depths) {
  if (units < min_units(task)) throw BadInput("RULER: a haystack needs at least " + std::to_string(min_units(task)) + " units");
  if (task.haystack == Haystack::essay && (!essay || essay->words.empty()))
    throw BadInput("RULER: task " + std::string(task.name) + " needs an essay haystack");
  Rng rng(stream);
  const std::string plural = kind_name(task.value);

  // 1. Keys, values, needles (key k's values follow it). Keys are distinct (RULER does not check; its word list
  //    is larger).
  std::vector<std::string> keys;
  std::vector<std::vector<std::string>> values;
  std::vector<std::string> needles;
  std::vector<std::string> needle_value;  // the value each needle carries
  for (int k = 0; k < task.keys; ++k) {
    std::string key;
    do key = random_value(task.key, rng);
    while (std::find(keys.begin(), keys.end(), key) != keys.end());
    keys.push_back(key);
    values.emplace_back();
    for (int v = 0; v < task.values; ++v) {
      values.back().push_back(random_value(task.value, rng));
      needles.push_back(fill(kNeedle, {{"type_needle_v", plural}, {"key", key}, {"value", values.back().back()}}));
      needle_value.push_back(values.back().back());
    }
  }
  // 2. Shuffle the needles (Fisher–Yates from the end).
  std::vector<std::size_t> order(needles.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (std::size_t i = order.size(); i-- > 1;) std::swap(order[i], order[rng.below(i + 1)]);
  std::vector<std::string> shuffled;
  std::vector<std::string> shuffled_value;
  for (auto i : order) {
    shuffled.push_back(needles[i]);
    shuffled_value.push_back(needle_value[i]);
  }
  const std::size_t m = shuffled.size();
  std::vector<double> needle_depth(m, 0.0);

  // 3. The haystack with the needles in it.
  std::string context;
  if (task.haystack == Haystack::essay) {
    if (depths.size() < m) throw BadInput("RULER: " + std::to_string(m) + " needles need at least that many depths");
    const auto picked = sample_distinct(rng, depths.size(), m);
    std::vector<double> d;
    for (auto p : picked) d.push_back(depths[p]);
    std::sort(d.begin(), d.end());
    // Sentences of the first `units` words (the essay repeated as needed): [start, end) word ranges.
    const auto W = static_cast<std::int64_t>(essay->words.size());
    std::vector<std::int64_t> sent_end;  // exclusive end word of each sentence
    for (std::int64_t i = 0; i < units; ++i)
      if (i == units - 1 || essay->ends[static_cast<std::size_t>(i % W)]) sent_end.push_back(i + 1);
    const auto S = static_cast<std::int64_t>(sent_end.size());
    auto words_text = [&](std::int64_t s0, std::int64_t s1) {  // sentences [s0, s1) joined by spaces
      std::string t;
      if (s1 <= s0) return t;
      const std::int64_t w0 = s0 == 0 ? 0 : sent_end[static_cast<std::size_t>(s0 - 1)];
      const std::int64_t w1 = sent_end[static_cast<std::size_t>(s1 - 1)];
      for (std::int64_t w = w0; w < w1; ++w) {
        if (w > w0) t += ' ';
        t += essay->words[static_cast<std::size_t>(w % W)];
      }
      return t;
    };
    std::vector<std::int64_t> pos{0};
    for (double x : d) pos.push_back(static_cast<std::int64_t>(static_cast<double>(S) * x));
    pos.push_back(S);
    std::vector<std::string> parts;
    for (std::size_t i = 1; i < pos.size(); ++i) {
      parts.push_back(words_text(pos[i - 1], pos[i]));
      if (i - 1 < m) parts.push_back(shuffled[i - 1]);
    }
    for (std::size_t j = 0; j < m; ++j) needle_depth[j] = d[j];
    context = join(parts, " ");
  } else {
    std::vector<std::string> sentences;
    sentences.reserve(static_cast<std::size_t>(units) + m);
    if (task.haystack == Haystack::noise) {
      sentences.assign(static_cast<std::size_t>(units), std::string(kNoise));
    } else {
      // Distractors: needles of other keys (RULER's "needle" haystack), never one of the real keys.
      for (std::int64_t i = 0; i < units; ++i) {
        std::string key;
        do key = random_value(task.key, rng);
        while (std::find(keys.begin(), keys.end(), key) != keys.end());
        const auto value = random_value(task.value, rng);
        sentences.push_back(fill(kNeedle, {{"type_needle_v", plural}, {"key", key}, {"value", value}}));
      }
    }
    // Needle j goes before sentence at[j], where at = the drawn positions sorted from the last: RULER inserts
    // into the list from the end, so the first needle is the deepest.
    auto at = sample_distinct(rng, static_cast<std::uint64_t>(units), m);
    std::sort(at.begin(), at.end(), std::greater<>());
    std::vector<std::string> lines;
    lines.reserve(sentences.size() + m);
    for (std::int64_t i = 0; i < units; ++i) {
      for (std::size_t j = m; j-- > 0;)
        if (at[j] == static_cast<std::uint64_t>(i)) lines.push_back(shuffled[j]);
      lines.push_back(std::move(sentences[static_cast<std::size_t>(i)]));
    }
    for (std::size_t j = 0; j < m; ++j) needle_depth[j] = static_cast<double>(at[j]) / static_cast<double>(units);
    context = join(lines, "\n");
  }

  // 4. Queries and answers.
  const auto qi = sample_distinct(rng, static_cast<std::uint64_t>(task.keys), static_cast<std::size_t>(task.queries));
  NiahSample s;
  std::vector<std::string> queries;
  for (auto i : qi) {
    queries.push_back(keys[i]);
    for (const auto& v : values[i]) s.answers.push_back(v);
  }
  if (queries.size() == 1) s.query = queries[0];
  else {
    for (std::size_t i = 0; i + 1 < queries.size(); ++i) s.query += (i ? ", " : "") + queries[i];
    s.query += ", and " + queries.back();
  }

  // 5. The prompt: RULER's wording, made singular when one value is asked for.
  std::string tmpl = std::string(kTemplate) + std::string(kAnswerPrefix);
  std::string type = plural;
  if (task.queries * task.values == 1) {
    replace_all(tmpl, "Some", "A");
    replace_all(tmpl, "are all", "is");
    replace_all(tmpl, "are", "is");
    replace_all(tmpl, "answers", "answer");
    type.pop_back();
  }
  s.prompt = fill(tmpl, {{"type_needle_v", type}, {"context", context}, {"query", s.query}});
  for (std::size_t j = 0; j < m; ++j)
    if (shuffled_value[j] == s.answers[0]) {
      s.depth = needle_depth[j];
      break;
    }
  s.units = units;
  return s;
}

std::int64_t prompt_tokens(const Tokenizer& tok, const std::string& prompt) {
  return static_cast<std::int64_t>(tok.encode(prompt).size());
}

std::int64_t search_units(const NiahTask& task, const Essay* essay, const Tokenizer& tok, std::int64_t budget,
                          std::uint64_t seed, std::int64_t length, std::span<const double> depths) {
  const auto stream = sample_stream(seed, task.name, length, kSearchIndex);
  auto tokens = [&](std::int64_t n) { return prompt_tokens(tok, build_sample(task, essay, n, stream, depths).prompt); };
  std::int64_t lo = min_units(task);
  const auto t_lo = tokens(lo);
  if (t_lo > budget)
    throw BadInput("task ruler: length " + std::to_string(length) + " is too short for " + std::string(task.name) +
                   ": the template, needles and question alone take " + std::to_string(t_lo) +
                   " tokens with this tokenizer, and " + std::to_string(length - budget) +
                   " more are kept for the answer");
  // An estimate from a small haystack, then a bracket around it, then bisection: [lo fits, hi does not].
  const std::int64_t probe = lo + (task.haystack == Haystack::essay ? 200 : 10);
  const auto t_probe = tokens(probe);
  if (t_probe > budget) {
    std::int64_t hi = probe;
    while (hi - lo > 1) {
      const auto mid = lo + (hi - lo) / 2;
      (tokens(mid) <= budget ? lo : hi) = mid;
    }
    return lo;
  }
  lo = probe;
  const double per_unit = std::max(1e-3, static_cast<double>(t_probe - t_lo) / static_cast<double>(probe - min_units(task)));
  std::int64_t guess = probe + static_cast<std::int64_t>(static_cast<double>(budget - t_probe) / per_unit);
  std::int64_t hi = 0;
  for (int step = 0; hi == 0; ++step) {
    if (guess <= lo) guess = lo + 1;
    if (tokens(guess) <= budget) {
      lo = guess;
      guess = lo + std::max<std::int64_t>(1, lo / 50) * (step + 1);
    } else {
      hi = guess;
    }
  }
  while (hi - lo > 1) {
    const auto mid = lo + (hi - lo) / 2;
    (tokens(mid) <= budget ? lo : hi) = mid;
  }
  return lo;
}

FittedSample fit_sample(const NiahTask& task, const Essay* essay, const Tokenizer& tok, std::int64_t budget,
                        std::uint64_t seed, std::int64_t length, std::uint64_t index, std::int64_t start,
                        std::span<const double> depths) {
  const auto stream = sample_stream(seed, task.name, length, index);
  FittedSample f;
  f.sample = build_sample(task, essay, start, stream, depths);
  f.ids = tok.encode(f.sample.prompt);
  if (static_cast<std::int64_t>(f.ids.size()) <= budget) return f;
  std::int64_t lo = min_units(task), hi = start;  // lo is tried last; hi does not fit
  while (hi - lo > 1) {
    const auto mid = lo + (hi - lo) / 2;
    auto s = build_sample(task, essay, mid, stream, depths);
    auto ids = tok.encode(s.prompt);
    if (static_cast<std::int64_t>(ids.size()) <= budget) {
      lo = mid;
      f.sample = std::move(s);
      f.ids = std::move(ids);
    } else {
      hi = mid;
    }
  }
  if (f.sample.units != lo) {
    f.sample = build_sample(task, essay, lo, stream, depths);
    f.ids = tok.encode(f.sample.prompt);
  }
  if (static_cast<std::int64_t>(f.ids.size()) > budget)
    throw BadInput("task ruler: length " + std::to_string(length) + " is too short for sample " +
                   std::to_string(index) + " of " + std::string(task.name));
  return f;
}

}  // namespace lmscope::eval::ruler
