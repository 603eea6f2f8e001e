// Requests of lm-eval 0.4.9.1's multiple-choice tasks and lambada_openai, built from Hugging Face dataset records.
// See the header for the rules and where they come from.
#include "lmscope/eval/multiple_choice.h"

#include <algorithm>
#include <array>

#include "lmscope/error.h"
#include "lmscope/eval/wikitext.h"
#include "tokenizer/utf8.h"

namespace lmscope::eval {
namespace {

using nlohmann::json;

// ---- UTF-8 and Python's str operations ------------------------------------------------------------------------

// Decodes the sequence at s[i]; an invalid byte decodes as U+FFFD of length 1 (nlohmann::json only holds valid
// UTF-8, so this is for direct callers).
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  auto at = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F); };
  if (b < 0x80) {
    cp = b;
    return 1;
  }
  if ((b & 0xE0) == 0xC0 && cont(1)) {
    cp = (static_cast<char32_t>(b & 0x1F) << 6) | at(1);
    return 2;
  }
  if ((b & 0xF0) == 0xE0 && cont(1) && cont(2)) {
    cp = (static_cast<char32_t>(b & 0x0F) << 12) | (at(1) << 6) | at(2);
    return 3;
  }
  if ((b & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
    cp = (static_cast<char32_t>(b & 0x07) << 18) | (at(1) << 12) | (at(2) << 6) | at(3);
    return 4;
  }
  cp = 0xFFFD;
  return 1;
}

// Byte index just past the last non-whitespace code point (Python's rstrip()).
std::size_t rstrip_end(std::string_view s) {
  std::size_t end = 0;
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp;
    const std::size_t n = decode_utf8(s, i, cp);
    i += n;
    if (!is_python_whitespace(cp)) end = i;
  }
  return end;
}

// Byte index of the first non-whitespace code point (Python's lstrip()).
std::size_t lstrip_begin(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    char32_t cp;
    const std::size_t n = decode_utf8(s, i, cp);
    if (!is_python_whitespace(cp)) break;
    i += n;
  }
  return i;
}

std::string_view py_strip(std::string_view s) {
  s = s.substr(0, rstrip_end(s));
  return s.substr(lstrip_begin(s));
}

std::string_view py_lstrip(std::string_view s) { return s.substr(lstrip_begin(s)); }

// Python str.replace: every non-overlapping occurrence, left to right.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s.substr(pos));
  return out;
}

// Simple (one-to-one) case mappings for the scripts the English datasets may contain: ASCII, Latin-1, Latin
// Extended-A, Greek and Cyrillic basic letters. Other code points map to themselves. (Python uses the full Unicode
// tables; the few one-to-many mappings in these ranges are handled where they arise: "İ".lower() and
// "ß"/"ŉ".capitalize().) Python's final-sigma rule in lower() is not reproduced.
char32_t lower_cp(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0xC0) return c;
  if (c <= 0xDE) return c == 0xD7 ? c : c + 32;
  if (c >= 0x100 && c <= 0x17F) {
    if ((c <= 0x12F || (c >= 0x132 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) && c % 2 == 0) return c + 1;
    if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) && c % 2 == 1) return c + 1;
    if (c == 0x178) return 0xFF;
    return c;
  }
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  return c;
}

char32_t upper_cp(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c == 0xB5) return 0x39C;
  if (c < 0xE0) return c;
  if (c <= 0xFE) return c == 0xF7 ? c : c - 32;
  if (c == 0xFF) return 0x178;
  if (c >= 0x100 && c <= 0x17F) {
    if ((c <= 0x12F || (c >= 0x132 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) && c % 2 == 1) return c - 1;
    if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) && c % 2 == 0) return c - 1;
    if (c == 0x131) return 'I';
    if (c == 0x17F) return 'S';
    return c;
  }
  if (c == 0x3AC) return 0x386;
  if (c >= 0x3AD && c <= 0x3AF) return c - 37;
  if (c == 0x3CC) return 0x38C;
  if (c == 0x3CD || c == 0x3CE) return c - 63;
  if (c == 0x3C2) return 0x3A3;
  if (c >= 0x3B1 && c <= 0x3CB) return c - 32;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}

void append_lower(std::string& out, char32_t c) {
  if (c == 0x130) {  // "İ".lower() == "i\u0307"
    out += 'i';
    utf8::append(out, 0x307);
    return;
  }
  utf8::append(out, lower_cp(c));
}

// Python str.capitalize() (3.8+): the first code point in title case, the rest lower-cased.
std::string py_capitalize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp;
    const std::size_t n = decode_utf8(s, i, cp);
    if (i == 0) {
      if (cp == 0xDF) {
        out += "Ss";
      } else if (cp == 0x149) {
        utf8::append(out, 0x2BC);
        out += 'N';
      } else {
        utf8::append(out, upper_cp(cp));
      }
    } else {
      append_lower(out, cp);
    }
    i += n;
  }
  return out;
}

// copa's convert_choice: choice[0].lower() + choice[1:] (first code point only).
std::string lower_first(std::string_view s) {
  if (s.empty()) return {};
  char32_t cp;
  const std::size_t n = decode_utf8(s, 0, cp);
  std::string out;
  append_lower(out, cp);
  out.append(s.substr(n));
  return out;
}

// s[:-1] on a Python str: drop the last code point.
std::string_view drop_last_code_point(std::string_view s) {
  if (s.empty()) return s;
  std::size_t i = s.size() - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80 && s.size() - i < 4) --i;
  char32_t cp;
  if (decode_utf8(s, i, cp) != s.size() - i) i = s.size() - 1;  // not one sequence: drop the stray byte only
  return s.substr(0, i);
}

// ---- record fields -----------------------------------------------------------------------------------------

struct Ctx {
  std::string_view task;
  std::string_view where;
};

std::string shown(const json& v) {
  std::string d = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (d.size() > 80) d = d.substr(0, 77) + "...";
  return d;
}

[[noreturn]] void bad(const Ctx& c, std::string_view field, std::string_view expected, const json* got = nullptr) {
  std::string m = std::string(c.where) + ": " + std::string(c.task) + " record: field '" + std::string(field) +
                  "': expected " + std::string(expected);
  if (got) m += ", got " + shown(*got);
  throw BadInput(m);
}

const json& field(const Ctx& c, const json& rec, const char* name, std::string_view expected) {
  const auto it = rec.find(name);
  if (it == rec.end()) bad(c, name, std::string(expected) + " (the field is missing)");
  return *it;
}

std::string str_field(const Ctx& c, const json& rec, const char* name) {
  const json& v = field(c, rec, name, "a string");
  if (!v.is_string()) bad(c, name, "a string", &v);
  return v.get<std::string>();
}

std::vector<std::string> str_list(const Ctx& c, const json& v, std::string_view name) {
  if (!v.is_array() || v.empty()) bad(c, name, "a non-empty list of strings", &v);
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (!e.is_string()) bad(c, name, "a non-empty list of strings", &v);
    out.push_back(e.get<std::string>());
  }
  return out;
}

// A JSON integer or a string of ASCII decimal digits (surrounding whitespace allowed); `lo`..`hi` inclusive.
long long int_field(const Ctx& c, const json& rec, const char* name, long long lo, long long hi,
                    std::string_view expected, bool allow_bool = false) {
  const json& v = field(c, rec, name, expected);
  long long x = 0;
  if (v.is_number_integer()) {
    x = v.get<long long>();
  } else if (allow_bool && v.is_boolean()) {
    x = v.get<bool>() ? 1 : 0;
  } else if (v.is_string()) {
    // Python's int() (hellaswag's int(label), Jinja's |int for social_iqa) ignores surrounding whitespace: old
    // copies of social_i_qa have labels like "1\n".
    const std::string s(py_strip(v.get_ref<const std::string&>()));
    if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
      bad(c, name, expected, &v);
    x = std::stoll(s);
  } else {
    bad(c, name, expected, &v);
  }
  if (x < lo || x > hi) bad(c, name, expected, &v);
  return x;
}

// ---- items ---------------------------------------------------------------------------------------------------

const std::string kDelim = " ";  // target_delimiter: lm-eval's default; none of these tasks sets another

MultipleChoiceItem choices_item(std::string context, const std::vector<std::string>& choices, int gold,
                                bool acc_norm) {
  MultipleChoiceItem item;
  for (const auto& ch : choices) {
    item.requests.push_back({context, kDelim + ch});
    item.choice_lengths.push_back(static_cast<double>(python_len(ch)));
  }
  item.gold = gold;
  item.has_acc_norm = acc_norm;
  return item;
}

MultipleChoiceItem hellaswag(const Ctx& c, const json& r) {
  const std::string ctx = str_field(c, r, "ctx_a") + " " + py_capitalize(str_field(c, r, "ctx_b"));
  const std::string query = hellaswag_preprocess(str_field(c, r, "activity_label") + ": " + ctx);
  std::vector<std::string> endings = str_list(c, field(c, r, "endings", "a list of strings"), "endings");
  for (auto& e : endings) e = hellaswag_preprocess(e);
  const auto n = static_cast<long long>(endings.size());
  const int gold = static_cast<int>(
      int_field(c, r, "label", 0, n - 1, "the index of the right ending (\"0\".." + std::to_string(n - 1) + ")"));
  return choices_item(query, endings, gold, true);
}

MultipleChoiceItem piqa(const Ctx& c, const json& r) {
  const std::string text = "Question: " + str_field(c, r, "goal") + "\nAnswer:";
  const int gold = static_cast<int>(int_field(c, r, "label", 0, 1, "0 or 1"));
  return choices_item(text, {str_field(c, r, "sol1"), str_field(c, r, "sol2")}, gold, true);
}

MultipleChoiceItem arc(const Ctx& c, const json& r) {
  const std::string text = "Question: " + str_field(c, r, "question") + "\nAnswer:";
  const json& ch = field(c, r, "choices", "an object {text: [...], label: [...]}");
  if (!ch.is_object()) bad(c, "choices", "an object {text: [...], label: [...]}", &ch);
  const auto ti = ch.find("text");
  const auto li = ch.find("label");
  if (ti == ch.end() || li == ch.end()) bad(c, "choices", "an object {text: [...], label: [...]}", &ch);
  const auto texts = str_list(c, *ti, "choices.text");
  const auto labels = str_list(c, *li, "choices.label");
  if (texts.size() != labels.size()) bad(c, "choices", "as many labels as texts", &ch);
  const json& key = field(c, r, "answerKey", "one of choices.label");
  std::string k;
  if (key.is_string()) k = key.get<std::string>();
  else if (key.is_number_integer()) k = std::to_string(key.get<long long>());
  else bad(c, "answerKey", "one of choices.label", &key);
  const auto it = std::find(labels.begin(), labels.end(), k);  // Python's list.index: the first match
  if (it == labels.end()) bad(c, "answerKey", "one of choices.label " + shown(*li), &key);
  return choices_item(text, texts, static_cast<int>(it - labels.begin()), true);
}

MultipleChoiceItem winogrande(const Ctx& c, const json& r) {
  const std::string sentence = str_field(c, r, "sentence");
  const std::size_t blank = sentence.find('_');  // str.index("_")
  if (blank == std::string::npos) bad(c, "sentence", "a sentence with a blank \"_\"", &r["sentence"]);
  const int gold = static_cast<int>(int_field(c, r, "answer", 1, 2, "\"1\" or \"2\"")) - 1;
  const std::string target(py_strip(std::string_view(sentence).substr(blank + 1)));
  const std::string head = sentence.substr(0, blank);
  MultipleChoiceItem item;
  for (const char* opt : {"option1", "option2"}) {
    const std::string context = head + str_field(c, r, opt);
    item.requests.push_back({context, kDelim + target});
    item.choice_lengths.push_back(static_cast<double>(python_len(context)));
  }
  item.gold = gold;
  item.has_acc_norm = false;
  return item;
}

MultipleChoiceItem boolq(const Ctx& c, const json& r) {
  const std::string text =
      str_field(c, r, "passage") + "\nQuestion: " + str_field(c, r, "question") + "?\nAnswer:";
  const int gold = static_cast<int>(int_field(c, r, "label", 0, 1, "0 (no) or 1 (yes)", true));
  return choices_item(text, {"no", "yes"}, gold, false);
}

MultipleChoiceItem copa(const Ctx& c, const json& r) {
  const json& q = field(c, r, "question", "\"cause\" or \"effect\"");
  std::string connector;
  if (q == "cause") connector = "because";
  else if (q == "effect") connector = "therefore";
  else bad(c, "question", "\"cause\" or \"effect\"", &q);
  const std::string premise = str_field(c, r, "premise");
  const std::string text = std::string(drop_last_code_point(py_strip(premise))) + " " + connector;
  const int gold = static_cast<int>(int_field(c, r, "label", 0, 1, "0 (choice1) or 1 (choice2)"));
  return choices_item(text, {" " + lower_first(str_field(c, r, "choice1")), " " + lower_first(str_field(c, r, "choice2"))},
                      gold, false);
}

MultipleChoiceItem sciq(const Ctx& c, const json& r) {
  const std::string support = str_field(c, r, "support");
  const std::string text = std::string(py_lstrip(support)) + "\nQuestion: " + str_field(c, r, "question") + "\nAnswer:";
  return choices_item(text,
                      {str_field(c, r, "distractor1"), str_field(c, r, "distractor2"), str_field(c, r, "distractor3"),
                       str_field(c, r, "correct_answer")},
                      3, true);
}

MultipleChoiceItem social_iqa(const Ctx& c, const json& r) {
  const std::string text = "Q: " + str_field(c, r, "context") + " " + str_field(c, r, "question") + "\nA:";
  const int gold = static_cast<int>(int_field(c, r, "label", 1, 3, "\"1\", \"2\" or \"3\"")) - 1;
  return choices_item(text, {str_field(c, r, "answerA"), str_field(c, r, "answerB"), str_field(c, r, "answerC")},
                      gold, false);
}

using Builder = MultipleChoiceItem (*)(const Ctx&, const json&);

Builder builder_for(std::string_view task) {
  if (task == "hellaswag") return hellaswag;
  if (task == "piqa") return piqa;
  if (task == "arc_easy" || task == "arc_challenge") return arc;
  if (task == "winogrande") return winogrande;
  if (task == "boolq") return boolq;
  if (task == "copa") return copa;
  if (task == "sciq") return sciq;
  if (task == "social_iqa") return social_iqa;
  return nullptr;
}

// lm-eval's tok_encode: without special tokens, except for Gemma models, whose BOS lm-eval always adds
// (HFLM sets add_bos_token for model types containing "gemma"): then the tokenizer's own rule applies.
EncodeOptions plain(const Tokenizer& tokenizer, bool allow_special) {
  EncodeOptions o;
  if (!tokenizer.lm_eval_adds_special_tokens()) {
    o.add_bos = false;
    o.add_eos = false;
  }
  o.allow_special = allow_special;
  return o;
}

}  // namespace

std::size_t python_len(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) {
    char32_t cp;
    i += decode_utf8(s, i, cp);
  }
  return n;
}

std::string hellaswag_preprocess(std::string_view text) {
  std::string s = replace_all(py_strip(text), " [title]", ". ");
  // re.sub(r"\[.*?\]", "", s): at each '[' the shortest span to a ']' on the same line; none there, go on.
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == '[') {
      std::size_t j = i + 1;
      while (j < s.size() && s[j] != ']' && s[j] != '\n') ++j;
      if (j < s.size() && s[j] == ']') {
        i = j + 1;
        continue;
      }
    }
    out += s[i++];
  }
  return replace_all(out, "  ", " ");
}

const std::vector<std::string>& multiple_choice_tasks() {
  static const std::vector<std::string> tasks = {"hellaswag", "piqa",  "arc_easy", "arc_challenge", "winogrande",
                                                 "boolq",     "copa",  "sciq",     "social_iqa"};
  return tasks;
}

bool is_multiple_choice_task(std::string_view task) { return builder_for(task) != nullptr; }

MultipleChoiceItem make_multiple_choice_item(std::string_view task, const nlohmann::json& record,
                                             std::string_view where) {
  const Builder b = builder_for(task);
  if (!b) {
    std::string known;
    for (const auto& t : multiple_choice_tasks()) known += (known.empty() ? "" : ", ") + t;
    throw BadInput(std::string(where) + ": unknown multiple-choice task '" + std::string(task) +
                   "' (known: " + known + ")");
  }
  const Ctx c{task, where};
  if (!record.is_object()) throw BadInput(std::string(where) + ": " + std::string(task) + " record: expected a JSON object, got " + shown(record));
  return b(c, record);
}

ChoiceRequest make_lambada_request(const nlohmann::json& record, std::string_view where) {
  const Ctx c{"lambada_openai", where};
  if (!record.is_object()) throw BadInput(std::string(where) + ": lambada_openai record: expected a JSON object, got " + shown(record));
  const std::string text = str_field(c, record, "text");
  const std::size_t sp = text.rfind(' ');
  if (sp == std::string::npos) return {"", " " + text};
  return {text.substr(0, sp), " " + text.substr(sp + 1)};
}

std::pair<std::vector<std::int32_t>, std::vector<std::int32_t>> encode_pair(const Tokenizer& tokenizer,
                                                                             std::string_view context,
                                                                             std::string_view continuation,
                                                                             bool allow_special) {
  const std::size_t keep = rstrip_end(context);
  const std::string ctx(context.substr(0, keep));
  const std::string whole = ctx + std::string(context.substr(keep)) + std::string(continuation);
  const EncodeOptions o = plain(tokenizer, allow_special);
  std::vector<std::int32_t> whole_ids = tokenizer.encode(whole, o);
  std::vector<std::int32_t> ctx_ids = tokenizer.encode(ctx, o);
  std::vector<std::int32_t> cont_ids;
  if (whole_ids.size() > ctx_ids.size())  // Python's whole[len(ctx):] is empty when ctx is the longer
    cont_ids.assign(whole_ids.begin() + static_cast<std::ptrdiff_t>(ctx_ids.size()), whole_ids.end());
  return {std::move(ctx_ids), std::move(cont_ids)};
}

std::int32_t loglikelihood_prefix_token(const Tokenizer& tokenizer) {
  if (tokenizer.bos_id()) return *tokenizer.bos_id();
  if (tokenizer.eos_id()) return *tokenizer.eos_id();
  throw BadInput("loglikelihood with an empty context: the " + tokenizer.kind() +
                 " tokenizer has neither a BOS nor an EOS token to use as the prefix token");
}

std::pair<std::vector<std::int32_t>, std::vector<std::int32_t>> encode_request(const Tokenizer& tokenizer,
                                                                                std::string_view context,
                                                                                std::string_view continuation,
                                                                                bool allow_special) {
  if (context.empty())
    return {{loglikelihood_prefix_token(tokenizer)}, tokenizer.encode(continuation, plain(tokenizer, allow_special))};
  auto p = encode_pair(tokenizer, context, continuation, allow_special);
  if (p.first.empty()) p.first = {loglikelihood_prefix_token(tokenizer)};
  return p;
}

}  // namespace lmscope::eval
