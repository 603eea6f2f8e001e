#include "tokenizer/pre_tokenizer.h"

#include "tokenizer/utf8.h"

namespace lmscope {
namespace {

// GPT-2's pre-tokenizer regex, which ByteLevel applies when use_regex is true.
constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

SplitBehavior behavior_of(const std::string& name, const std::string& file) {
  if (name == "Removed") return SplitBehavior::Removed;
  if (name == "Isolated") return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (name == "Contiguous") return SplitBehavior::Contiguous;
  hf::fail(file, "pre_tokenizer Split.behavior", "Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous, got '" + name + "'");
}

}  // namespace

PreTokenizer PreTokenizer::from_json(const hf::json* j, const std::string& file) {
  PreTokenizer p;
  if (j && !j->is_null()) p.add(*j, file);
  return p;
}

void PreTokenizer::add(const hf::json& j, const std::string& file) {
  const std::string type = hf::type_of(j, file, "pre_tokenizer");
  // Later steps would see GPT-2's characters, not the bytes we keep.
  if (byte_level_) hf::unsupported(file, "pre_tokenizer", "step '" + type + "' after ByteLevel");
  Step s{};
  if (type == "Sequence") {
    if (!j.contains("pretokenizers") || !j["pretokenizers"].is_array()) hf::fail(file, "pre_tokenizer.pretokenizers", "a list");
    for (const auto& q : j["pretokenizers"]) add(q, file);
    return;
  } else if (type == "Split") {
    if (!j.contains("pattern") || !j["pattern"].is_object()) hf::fail(file, "pre_tokenizer Split.pattern", "{\"Regex\": ...} or {\"String\": ...}");
    const auto& pat = j["pattern"];
    if (pat.contains("Regex") && pat["Regex"].is_string()) s.pattern = SplitPattern::regex(pat["Regex"].get<std::string>(), file + ": pre_tokenizer Split");
    else if (pat.contains("String") && pat["String"].is_string()) s.pattern = SplitPattern::literal(pat["String"].get<std::string>());
    else hf::fail(file, "pre_tokenizer Split.pattern", "{\"Regex\": string} or {\"String\": string}");
    s.kind = Step::Split;
    s.has_pattern = true;
    s.behavior = behavior_of(hf::get_string(j, "behavior", "Isolated", file, "pre_tokenizer Split"), file);
    s.invert = hf::get_bool(j, "invert", false, file, "pre_tokenizer Split");
  } else if (type == "Digits") {
    // Rust's char::is_numeric is \p{N}; each digit alone, or runs of digits together.
    const bool individual = hf::get_bool(j, "individual_digits", false, file, "pre_tokenizer Digits");
    s.kind = Step::Split;
    s.has_pattern = true;
    s.pattern = SplitPattern::regex(individual ? R"(\p{N})" : R"(\p{N}+)", file + ": pre_tokenizer Digits");
  } else if (type == "ByteLevel") {
    s.kind = Step::ByteLevel;
    s.add_prefix_space = hf::get_bool(j, "add_prefix_space", true, file, "pre_tokenizer ByteLevel");
    if (hf::get_bool(j, "use_regex", true, file, "pre_tokenizer ByteLevel")) {
      s.pattern = SplitPattern::regex(kGpt2Pattern, file + ": ByteLevel");
      s.has_pattern = true;
    }
    byte_level_ = true;
  } else if (type == "Metaspace") {
    s.kind = Step::Metaspace;
    s.replacement = hf::get_string(j, "replacement", "\u2581", file, "pre_tokenizer Metaspace");
    std::size_t len = 0;
    if (s.replacement.empty() || (utf8::decode(s.replacement, 0, len), len != s.replacement.size()))
      hf::fail(file, "pre_tokenizer Metaspace.replacement", "one character");
    // Files from before prepend_scheme existed say add_prefix_space (true: always).
    std::string scheme = hf::get_string(j, "prepend_scheme", "", file, "pre_tokenizer Metaspace");
    if (scheme.empty()) scheme = hf::get_bool(j, "add_prefix_space", true, file, "pre_tokenizer Metaspace") ? "always" : "never";
    if (scheme == "always") s.prepend = Step::Always;
    else if (scheme == "first") s.prepend = Step::First;
    else if (scheme == "never") s.prepend = Step::Never;
    else hf::fail(file, "pre_tokenizer Metaspace.prepend_scheme", "first, always or never, got '" + scheme + "'");
    if (hf::get_bool(j, "split", true, file, "pre_tokenizer Metaspace")) {
      s.pattern = SplitPattern::literal(s.replacement);
      s.has_pattern = true;
      s.behavior = SplitBehavior::MergedWithNext;
    }
  } else {
    hf::unsupported(file, "pre_tokenizer type", "'" + type + "'", " (Split, ByteLevel, Metaspace, Digits, Sequence)");
  }
  steps_.push_back(std::move(s));
}

void PreTokenizer::apply(std::vector<Piece>& pieces) const {
  for (const auto& step : steps_) {
    std::vector<Piece> next;
    next.reserve(pieces.size());
    for (auto& piece : pieces) {
      if (step.kind == Step::ByteLevel && step.add_prefix_space && !piece.text.empty() && piece.text[0] != ' ')
        piece.text.insert(piece.text.begin(), ' ');
      if (step.kind == Step::Metaspace) {
        std::string replaced;
        replaced.reserve(piece.text.size());
        for (char c : piece.text) {
          if (c == ' ') replaced += step.replacement;
          else replaced += c;
        }
        const bool starts = replaced.compare(0, step.replacement.size(), step.replacement) == 0;
        if (!starts && !replaced.empty() &&
            (step.prepend == Step::Always || (step.prepend == Step::First && piece.at_origin)))
          replaced.insert(0, step.replacement);
        piece.text = std::move(replaced);
      }
      if (!step.has_pattern) {
        if (!piece.text.empty()) next.push_back(std::move(piece));
        continue;
      }
      for (const auto& [b, e] : split_ranges(piece.text, step.pattern, step.behavior, step.invert))
        next.push_back({piece.text.substr(b, e - b), piece.at_origin && b == 0});
    }
    pieces = std::move(next);
  }
}

}  // namespace lmscope
