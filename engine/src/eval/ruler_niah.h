// RULER's needle-in-a-haystack tasks (Hsieh et al. 2024, NVIDIA/RULER): the eight task definitions, the haystacks,
// the needles and the prompt, built to a target length in the model's own tokens. The construction follows RULER's
// (docs/ruler.md); the random draws are our own, from a portable splitmix64 stream per (seed, task, length, sample),
// so a sample is the same on every platform and can be rebuilt alone (tools/eval_reference/ruler_reference.py
// rebuilds it independently in Python). No model is needed here: ruler_task.cpp runs the prompts.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lmscope/tokenizer.h"

namespace lmscope::eval::ruler {

enum class Haystack { noise, essay, needle };
enum class Kind { numbers, words, uuids };

struct NiahTask {
  std::string_view name;   // RULER's task name, e.g. "niah_single_1"
  std::string_view label;  // the column model cards use: "S1", "S2", "S3", "MK1", ...
  Haystack haystack;
  Kind key, value;
  int keys, values, queries;  // RULER's num_needle_k (already max(k, q)), num_needle_v, num_needle_q
};

// The eight NIAH tasks of RULER's synthetic.yaml, in its order.
const std::vector<NiahTask>& niah_tasks();
const NiahTask* find_niah_task(std::string_view name);

// RULER's tokens_to_generate for niah (lm-eval's max_gen_toks).
inline constexpr std::int64_t kTokensToGenerate = 128;
// RULER's depths: round(linspace(0, 100, 40)), here as fractions.
std::vector<double> default_depths();

// splitmix64 (Steele, Lea & Flood 2014): state += golden gamma, then the finaliser.
class Rng {
 public:
  explicit Rng(std::uint64_t state) : s_(state) {}
  std::uint64_t next();
  std::uint64_t below(std::uint64_t n) { return next() % n; }  // modulo; the bias is < n / 2^64

 private:
  std::uint64_t s_;
};
std::uint64_t mix64(std::uint64_t x);  // one splitmix64 step from state x
std::uint64_t fnv1a64(std::string_view bytes);
// The stream of sample `index` of `task` at `length`: mix64(mix64(mix64(mix64(seed) ^ fnv1a64(task)) ^ length) ^ index).
std::uint64_t sample_stream(std::uint64_t seed, std::string_view task, std::int64_t length, std::uint64_t index);
// The index whose stream sizes the haystack for a (task, length) before any sample is built.
inline constexpr std::uint64_t kSearchIndex = ~0ull;

// The essay haystack: the text with every run of whitespace (Python's \s: Unicode White_Space and \x1c-\x1f) made
// one space, trimmed, split at spaces — RULER's re.sub(r"\s+", " ", essay).split(" "). It repeats when a prompt
// needs more words than it has.
struct Essay {
  std::vector<std::string> words;
  // ends[i]: a sentence ends after words[i] (followed by words[(i + 1) % size]); our splitter, see ends_sentence.
  std::vector<std::uint8_t> ends;
};
Essay make_essay(std::string_view text);
// Our sentence rule (RULER uses NLTK's punkt, which we do not reimplement): `word` ends a sentence when, without
// trailing closing quotes/brackets, it ends in '.', '!' or '?', the next word (without opening quotes/brackets)
// starts with an ASCII capital or digit, and a '.' is not that of an abbreviation (a known title or Latin
// abbreviation, a single letter, or a word with an inner '.', e.g. "U.S.").
bool ends_sentence(std::string_view word, std::string_view next);

std::string random_value(Kind kind, Rng& rng);  // 7 digits, adjective-noun, or a version-4 UUID

struct NiahSample {
  std::string prompt;  // what the model reads: RULER's template with the context, then its answer prefix
  std::vector<std::string> answers;
  std::string query;
  double depth = 0;              // where the needle of answers[0] sits, as a fraction of the haystack
  std::int64_t units = 0;        // haystack size: words (essay), sentences (noise) or distractor needles
};
// One sample with `units` haystack units from `stream` (a sample_stream). `essay` is needed for essay tasks.
NiahSample build_sample(const NiahTask& task, const Essay* essay, std::int64_t units, std::uint64_t stream,
                        std::span<const double> depths);
// The smallest haystack a prompt can have (1 word, or one sentence per needle).
std::int64_t min_units(const NiahTask& task);

// The tokens a prompt takes: the ids the model reads (the tokenizer's own BOS rule).
std::int64_t prompt_tokens(const Tokenizer& tok, const std::string& prompt);

// The largest haystack whose search-stream prompt takes at most `budget` tokens (RULER's binary search; budget =
// length − tokens to generate). BadInput when even the smallest does not fit.
std::int64_t search_units(const NiahTask& task, const Essay* essay, const Tokenizer& tok, std::int64_t budget,
                          std::uint64_t seed, std::int64_t length, std::span<const double> depths);

struct FittedSample {
  NiahSample sample;
  std::vector<std::int32_t> ids;
};
// Sample `index` with `start` units (search_units), or, when its own keys make it longer than `budget`, with the
// largest haystack that fits (RULER steps down by a fixed increment; we bisect, so every sample ends within a few
// tokens of the budget).
FittedSample fit_sample(const NiahTask& task, const Essay* essay, const Tokenizer& tok, std::int64_t budget,
                        std::uint64_t seed, std::int64_t length, std::uint64_t index, std::int64_t start,
                        std::span<const double> depths);

}  // namespace lmscope::eval::ruler
