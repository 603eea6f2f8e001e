#include "lmscope/json_input.h"

#include <cmath>
#include <set>
#include <vector>

#include "lmscope/error.h"

namespace lmscope {

using nlohmann::json;

nlohmann::json parse_json_input(std::string_view text, const std::string& where, int max_depth) {
  // One key set per open container (arrays get an empty one), kept by the parser's callback: nlohmann's parser
  // itself is iterative, so depth is ours to bound, and duplicate keys are ours to find (it keeps the last).
  std::vector<std::set<std::string>> open;
  const json::parser_callback_t check = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (static_cast<int>(open.size()) >= max_depth)
          throw BadInput(where + ": JSON nested deeper than " + std::to_string(max_depth) + " levels");
        open.emplace_back();
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!open.empty()) open.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open.empty() && !open.back().insert(parsed.get<std::string>()).second)
          throw BadInput(where + ": key \"" + valid_utf8(parsed.get<std::string>()) +
                         "\" appears twice in one object (which one is meant?)");
        break;
      case json::parse_event_t::value:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), check);
  } catch (const json::exception& e) {
    // parse errors, and out_of_range.406 for numbers beyond a double (1e400)
    throw BadInput(where + ": not valid JSON: " + e.what());
  }
}

std::string dump_json(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::string find_nonfinite_number(const nlohmann::json& j) {
  // Iterative, so a deep value cannot exhaust the stack; the path is built only for the one found.
  struct Item {
    const json* v;
    std::string path;
  };
  std::vector<Item> todo{{&j, ""}};
  while (!todo.empty()) {
    Item it = std::move(todo.back());
    todo.pop_back();
    if (it.v->is_number_float()) {
      if (!std::isfinite(it.v->get<double>())) return it.path.empty() ? "(the value itself)" : it.path;
    } else if (it.v->is_object()) {
      for (auto e = it.v->begin(); e != it.v->end(); ++e)
        todo.push_back({&*e, it.path + (it.path.empty() ? "" : ".") + valid_utf8(e.key())});
    } else if (it.v->is_array()) {
      for (std::size_t i = 0; i < it.v->size(); ++i) todo.push_back({&(*it.v)[i], it.path + "[" + std::to_string(i) + "]"});
    }
  }
  return "";
}

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size() && !(n == 2 && c < 0xC2) && !(n == 4 && c > 0xF4);
    for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && n == 3) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogates
    }
    if (ok && n == 4) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
    }
    if (ok) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace lmscope
