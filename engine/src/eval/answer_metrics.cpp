#include "eval/answer_metrics.h"

#include <utf8proc.h>

namespace lmscope::eval {

std::string lower_case(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(s.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) {  // not UTF-8: the byte is kept as it is
      out.push_back(static_cast<char>(*p));
      ++p;
      --left;
      continue;
    }
    utf8proc_uint8_t buf[4];
    const auto m = utf8proc_encode_char(utf8proc_tolower(cp), buf);
    out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(m));
    p += n;
    left -= n;
  }
  return out;
}

namespace {
bool occurs(const std::string& lowered_output, const std::string& reference) {
  return !reference.empty() && lowered_output.find(lower_case(reference)) != std::string::npos;
}
}  // namespace

double string_match_all(std::string_view output, std::span<const std::string> references) {
  if (references.empty()) return 0;
  const auto o = lower_case(output);
  double hits = 0;
  for (const auto& r : references) hits += occurs(o, r) ? 1 : 0;
  return hits / static_cast<double>(references.size());
}

double string_match_part(std::string_view output, std::span<const std::string> references) {
  return contains_any(output, references) ? 1.0 : 0.0;
}

bool contains_any(std::string_view output, std::span<const std::string> answers) {
  const auto o = lower_case(output);
  for (const auto& a : answers)
    if (occurs(o, a)) return true;
  return false;
}

}  // namespace lmscope::eval
