#include "tokenizer/decoder.h"

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace lmscope {
namespace {

std::string replace_all(const std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  std::string out;
  std::size_t at = 0;
  for (std::size_t hit = s.find(from); hit != std::string::npos; hit = s.find(from, at)) {
    out.append(s, at, hit - at);
    out += to;
    at = hit + from.size();
  }
  out.append(s, at, std::string::npos);
  return out;
}

// "<0xAB>" -> 0xAB
bool byte_token(const std::string& t, unsigned char& byte) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return false;
  unsigned v = 0;
  for (int i = 3; i < 5; ++i) {
    const char c = t[static_cast<std::size_t>(i)];
    v = v * 16 + static_cast<unsigned>(c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 99);
  }
  if (v > 255) return false;
  byte = static_cast<unsigned char>(v);
  return true;
}

}  // namespace

Decoder Decoder::from_json(const hf::json* j, const std::string& file) {
  Decoder d;
  if (j && !j->is_null()) {
    d.none_ = false;
    d.add(*j, file);
  }
  return d;
}

void Decoder::add(const hf::json& j, const std::string& file) {
  const std::string type = hf::type_of(j, file, "decoder");
  Step s{};
  if (type == "Sequence") {
    if (!j.contains("decoders") || !j["decoders"].is_array()) hf::fail(file, "decoder.decoders", "a list");
    for (const auto& d : j["decoders"]) add(d, file);
    return;
  } else if (type == "ByteLevel") {
    s.kind = Step::ByteLevel;
  } else if (type == "Metaspace") {
    s.kind = Step::Metaspace;
    s.a = hf::get_string(j, "replacement", "\u2581", file, "decoder Metaspace");
    std::string scheme = hf::get_string(j, "prepend_scheme", "", file, "decoder Metaspace");
    if (scheme.empty()) scheme = hf::get_bool(j, "add_prefix_space", true, file, "decoder Metaspace") ? "always" : "never";
    s.prepend = scheme != "never";
  } else if (type == "Replace") {
    s.kind = Step::Replace;
    if (!j.contains("pattern") || !j["pattern"].is_object() || !j["pattern"].contains("String") || !j["pattern"]["String"].is_string())
      hf::unsupported(file, "decoder", "Replace with pattern " + (j.contains("pattern") ? j["pattern"].dump() : "(none)"), " (only {\"String\": ...})");
    s.a = j["pattern"]["String"].get<std::string>();
    s.b = hf::get_string(j, "content", "", file, "decoder Replace");
  } else if (type == "ByteFallback") {
    s.kind = Step::ByteFallback;
  } else if (type == "Fuse") {
    s.kind = Step::Fuse;
  } else if (type == "Strip") {
    s.kind = Step::Strip;
    s.a = hf::get_string(j, "content", " ", file, "decoder Strip");
    for (const char* k : {"start", "stop"})
      if (j.contains(k) && !(j[k].is_number_unsigned() || (j[k].is_number_integer() && j[k].get<std::int64_t>() >= 0)))
        hf::fail(file, std::string("decoder Strip.") + k, "a count of characters");
    s.start = j.value("start", std::size_t{0});
    s.stop = j.value("stop", std::size_t{0});
  } else {
    hf::unsupported(file, "decoder type", "'" + type + "'", " (ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence)");
  }
  steps_.push_back(std::move(s));
}

std::string Decoder::decode(std::vector<std::string> tokens) const {
  if (none_) {
    std::string out;
    for (std::size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  for (const auto& step : steps_) {
    std::vector<std::string> next;
    switch (step.kind) {
      case Step::ByteLevel: {
        std::string all;
        for (const auto& t : tokens) all += byte_level_to_bytes(t).value_or(t);  // a token outside the table is kept as is
        next.push_back(std::move(all));
        break;
      }
      case Step::Metaspace:
        // the reference drops every replacement character of the first token when a prefix may have been added
        for (std::size_t i = 0; i < tokens.size(); ++i)
          next.push_back(replace_all(tokens[i], step.a, i == 0 && step.prepend ? "" : " "));
        break;
      case Step::Replace:
        for (auto& t : tokens) next.push_back(replace_all(t, step.a, step.b));
        break;
      case Step::ByteFallback: {
        std::string bytes;
        bool pending = false;
        for (auto& t : tokens) {
          unsigned char b = 0;
          if (byte_token(t, b)) {
            bytes += static_cast<char>(b);
            pending = true;
            continue;
          }
          if (pending) next.push_back(std::move(bytes));
          bytes.clear();
          pending = false;
          next.push_back(std::move(t));
        }
        if (pending) next.push_back(std::move(bytes));
        break;
      }
      case Step::Fuse: {
        std::string all;
        for (const auto& t : tokens) all += t;
        next.push_back(std::move(all));
        break;
      }
      case Step::Strip:
        for (auto& t : tokens) {
          std::size_t b = 0, e = t.size();
          for (std::size_t k = 0; k < step.start && t.compare(b, step.a.size(), step.a) == 0 && b < e; ++k) b += step.a.size();
          for (std::size_t k = 0; k < step.stop && e >= b + step.a.size() && t.compare(e - step.a.size(), step.a.size(), step.a) == 0; ++k)
            e -= step.a.size();
          next.push_back(t.substr(b, e - b));
        }
        break;
    }
    tokens = std::move(next);
  }
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

}  // namespace lmscope
