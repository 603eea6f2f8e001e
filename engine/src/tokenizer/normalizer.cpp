#include "tokenizer/normalizer.h"

#include <utf8proc.h>

#include <cstdlib>

#include "lmscope/error.h"

namespace lmscope {

std::string nfc(std::string_view text) {
  bool ascii = true;
  for (char c : text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) return std::string(text);  // ASCII is always in NFC
  utf8proc_uint8_t* out = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                          static_cast<utf8proc_ssize_t>(text.size()), &out,
                                          static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) throw BadInput(std::string("tokenize: NFC normalisation failed: ") + utf8proc_errmsg(n) + " (is the text valid UTF-8?)");
  std::string result(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
  std::free(out);
  return result;
}

Normalizer Normalizer::from_json(const hf::json* j, const std::string& file) {
  Normalizer n;
  if (j && !j->is_null()) n.add(*j, file);
  return n;
}

void Normalizer::add(const hf::json& j, const std::string& file) {
  const std::string type = hf::type_of(j, file, "normalizer");
  if (type == "Sequence") {
    if (!j.contains("normalizers") || !j["normalizers"].is_array()) hf::fail(file, "normalizer.normalizers", "a list");
    for (const auto& n : j["normalizers"]) add(n, file);
  } else if (type == "NFC") {
    steps_.push_back({Step::Nfc, "", ""});
  } else if (type == "Replace") {
    if (!j.contains("pattern") || !j["pattern"].is_object()) hf::fail(file, "normalizer Replace.pattern", "{\"String\": ...}");
    if (!j["pattern"].contains("String") || !j["pattern"]["String"].is_string())
      hf::unsupported(file, "normalizer", "Replace with pattern " + j["pattern"].dump(), " (only {\"String\": ...})");
    steps_.push_back({Step::Replace, j["pattern"]["String"].get<std::string>(), hf::get_string(j, "content", "", file, "normalizer Replace")});
  } else if (type == "Prepend") {
    steps_.push_back({Step::Prepend, "", hf::get_string(j, "prepend", "", file, "normalizer Prepend")});
  } else {
    hf::unsupported(file, "normalizer type", "'" + type + "'", " (NFC, Replace, Prepend, Sequence)");
  }
}

std::string Normalizer::apply(std::string_view text) const {
  std::string s(text);
  for (const auto& step : steps_) {
    switch (step.kind) {
      case Step::Nfc:
        s = nfc(s);
        break;
      case Step::Replace: {
        if (step.pattern.empty()) break;
        std::string out;
        std::size_t from = 0;
        for (std::size_t at = s.find(step.pattern); at != std::string::npos; at = s.find(step.pattern, from)) {
          out.append(s, from, at - from);
          out += step.content;
          from = at + step.pattern.size();
        }
        out.append(s, from, std::string::npos);
        s = std::move(out);
        break;
      }
      case Step::Prepend:
        if (!s.empty()) s.insert(0, step.content);  // the reference leaves an empty piece empty
        break;
    }
  }
  return s;
}

}  // namespace lmscope
