// Tokenizers against the reference libraries' ids (../shared/data/tokenizers: SentencePiece for Llama 2, tiktoken /
// tokenizers for Llama 3), plus BOS/EOS rules, special tokens, streaming decode and malformed files.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "lmscope/error.h"
#include "lmscope/tokenizer.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::TempDir;

fs::path tokenizer_data() {
  const fs::path s = test::shared_dir();
  return s.empty() ? s : s / "data/tokenizers";
}

std::vector<json> read_jsonl(const fs::path& p) {
  std::ifstream in(p);
  std::vector<json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

// Every text encodes to the reference ids; decode(encode(text)) == text wherever the reference round-trips.
void check_against_reference(const Tokenizer& tok, const fs::path& ids_file, bool expect_round_trip_all) {
  const auto texts = read_jsonl(tokenizer_data() / "texts.jsonl");
  const auto refs = read_jsonl(ids_file);
  ASSERT_EQ(texts.size(), 99u);
  ASSERT_EQ(refs.size(), texts.size());
  int matched = 0, round_trips = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string text = texts[i]["text"].get<std::string>();
    ASSERT_EQ(texts[i]["id"], refs[i]["id"]);
    const auto want = refs[i]["ids"].get<std::vector<std::int32_t>>();
    const auto got = tok.encode(text, {.add_bos = false, .add_eos = false});
    if (got == want) {
      ++matched;
    } else {
      std::size_t k = 0;
      while (k < got.size() && k < want.size() && got[k] == want[k]) ++k;
      ADD_FAILURE() << texts[i]["id"] << ": first difference at token " << k << " of " << want.size();
    }
    round_trips += tok.decode(got) == text;
  }
  EXPECT_EQ(matched, 99);
  if (expect_round_trip_all) EXPECT_EQ(round_trips, 99);
  else EXPECT_GE(round_trips, 90);
}

TEST(Tokenizer, Llama2SentencePieceMatchesTheReferenceIds) {
  const fs::path dir = tokenizer_data();
  LMSCOPE_REQUIRE_PATH(dir / "llama2-ids.jsonl", "../shared/data/tokenizers/llama2-ids.jsonl");
  const auto tok = load_tokenizer(dir / "llama2");
  EXPECT_EQ(tok->kind(), "sentencepiece");
  EXPECT_EQ(tok->vocab_size(), 32000);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_TRUE(tok->adds_bos());
  EXPECT_FALSE(tok->adds_eos());
  // SentencePiece normalises some inputs (e.g. runs of spaces), so not every text round-trips there either.
  check_against_reference(*tok, dir / "llama2-ids.jsonl", false);
}

TEST(Tokenizer, Llama3ByteLevelBpeMatchesTheReferenceIds) {
  const fs::path dir = tokenizer_data();
  LMSCOPE_REQUIRE_PATH(dir / "llama3-ids.jsonl", "../shared/data/tokenizers/llama3-ids.jsonl");
  const auto tok = load_tokenizer(dir / "llama3");
  EXPECT_EQ(tok->kind(), "byte-level BPE");
  EXPECT_EQ(tok->bos_id(), 128000);
  EXPECT_TRUE(tok->adds_bos());
  check_against_reference(*tok, dir / "llama3-ids.jsonl", true);
}

TEST(Tokenizer, BosRulesAndOverrides) {
  const fs::path dir = tokenizer_data();
  LMSCOPE_REQUIRE_PATH(dir / "llama2" / "tokenizer.model", "../shared/data/tokenizers/llama2");
  for (const char* name : {"llama2", "llama3"}) {
    const auto tok = load_tokenizer(dir / name);
    const auto plain = tok->encode("Hello world", {.add_bos = false});
    const auto with = tok->encode("Hello world");
    ASSERT_EQ(with.size(), plain.size() + 1) << name;
    EXPECT_EQ(with.front(), *tok->bos_id());
    // This Llama 3 tokenizer.json lists no added tokens, so its EOS text is unknown to it: no EOS is added.
    const auto with_eos = tok->encode("Hello world", {.add_bos = false, .add_eos = true});
    if (tok->eos_id()) EXPECT_EQ(with_eos.back(), *tok->eos_id()) << name;
    else EXPECT_EQ(with_eos, plain) << name;
  }
}

TEST(Tokenizer, StreamingDecodeHoldsBackPartialUtf8) {
  const auto tok = make_byte_tokenizer();
  const std::string text = "a\u00e9\U0001F600";  // 1 + 2 + 4 bytes
  StreamDecoder dec(*tok);
  std::string out;
  std::vector<std::string> steps;
  for (auto id : tok->encode(text)) {
    steps.push_back(dec.push(id));
    out += steps.back();
  }
  out += dec.flush();
  EXPECT_EQ(out, text);
  EXPECT_EQ(steps[0], "a");
  EXPECT_EQ(steps[1], "");  // first byte of é
  EXPECT_EQ(steps[2], "\u00e9");
  EXPECT_EQ(steps[5], "");
  EXPECT_EQ(steps[6], "\U0001F600");
  EXPECT_EQ(complete_utf8_prefix("ab\xE2\x82"), 2u);
}

TEST(Tokenizer, BytesAreIdsAndBosOnlyOnRequest) {
  const auto tok = make_byte_tokenizer(1, 2);
  EXPECT_EQ(tok->encode("A\u00e9"), (std::vector<std::int32_t>{65, 0xC3, 0xA9}));
  EXPECT_EQ(tok->encode("A", {.add_bos = true}), (std::vector<std::int32_t>{1, 65}));
  EXPECT_EQ(tok->decode(std::vector<std::int32_t>{72, 105}), "Hi");
}

// A small byte-level BPE tokenizer.json written by the test (GPT-2 byte table: 'Ġ' is the space byte).
json small_bpe() {
  json vocab = json::object();
  int id = 0;
  for (int b = 0; b < 256; ++b) {
    std::string ch;
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    static int extra = 0;
    if (b == 0) extra = 0;
    const char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + extra++);
    if (cp < 0x80) ch = std::string(1, static_cast<char>(cp));
    else if (cp < 0x800) ch = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    vocab[ch] = id++;
  }
  vocab["lo"] = id++;
  vocab["low"] = id++;
  vocab["\u0120low"] = id++;
  return {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array({json::array({"l", "o"}), json::array({"lo", "w"}), "\u0120 low"})}}},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
          {"decoder", {{"type", "ByteLevel"}}},
          {"added_tokens", json::array({{{"id", 259}, {"content", "<|eot|>"}, {"special", true}}})},
          {"post_processor", nullptr}};
}

std::string load_error(const std::string& content, const char* name = "tokenizer.json") {
  TempDir dir;
  test::write_text(dir.path / name, content);
  try {
    load_tokenizer(dir.path / name);
  } catch (const BadInput& e) {
    return e.what();
  }
  return "accepted";
}

TEST(Tokenizer, SmallBpeMergesByRankAndHandlesSpecialTokens) {
  TempDir dir;
  test::write_text(dir.path / "tokenizer.json", small_bpe().dump());
  const auto tok = load_tokenizer(dir.path / "tokenizer.json");
  EXPECT_EQ(tok->encode("low lo"), (std::vector<std::int32_t>{257, 32, 256}));  // "low", then " lo" = Ġ + lo
  EXPECT_EQ(tok->encode("low low"), (std::vector<std::int32_t>{257, 258}));     // merges by rank: Ġ + low last
  EXPECT_EQ(tok->decode(tok->encode("low low")), "low low");
  // the special token's text is plain text unless allowed
  const auto plain = tok->encode("a<|eot|>");
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 259), 0);
  EXPECT_EQ(tok->encode("a<|eot|>", {.allow_special = true}), (std::vector<std::int32_t>{'a', 259}));
  EXPECT_EQ(tok->decode(std::vector<std::int32_t>{'a', 259}), "a<|eot|>");
}

TEST(Tokenizer, MalformedFilesGiveClearErrors) {
  auto has = [](const std::string& msg, const std::string& part) {
    EXPECT_NE(msg.find(part), std::string::npos) << "missing '" << part << "' in: " << msg;
  };
  const std::string good = small_bpe().dump();
  has(load_error(good.substr(0, good.size() / 2)), "not well-formed JSON");
  json j = small_bpe();
  j["model"]["type"] = "WordPiece";
  has(load_error(j.dump()), "model type 'WordPiece' is not supported");
  j = small_bpe();
  j["model"]["vocab"] = json::array({1, 2});
  has(load_error(j.dump()), "model.vocab");
  j = small_bpe();
  j["model"]["merges"] = json::array({json::array({"x", "q"})});
  has(load_error(j.dump()), "model.merges[0]");
  j = small_bpe();
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  has(load_error(j.dump()), "regex does not compile");
  j = small_bpe();
  j["pre_tokenizer"] = {{"type", "Punctuation"}};
  has(load_error(j.dump()), "pre_tokenizer type 'Punctuation' is not supported");
  j = small_bpe();
  j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", json::array({{{"type", "ByteLevel"}}, {{"type", "Digits"}}})}};
  has(load_error(j.dump()), "pre_tokenizer step 'Digits' after ByteLevel is not supported");
  j = small_bpe();
  j["added_tokens"][0]["single_word"] = true;
  has(load_error(j.dump()), "added_tokens['<|eot|>'] with single_word true is not supported");
  j = small_bpe();
  j["post_processor"] = {{"type", "RobertaProcessing"}};
  has(load_error(j.dump()), "post_processor type 'RobertaProcessing' is not supported");
  j = small_bpe();
  j["decoder"] = {{"type", "WordPiece"}};
  has(load_error(j.dump()), "decoder type 'WordPiece' is not supported");
  j = small_bpe();
  j["normalizer"] = {{"type", "NFKC"}};
  has(load_error(j.dump()), "normalizer type 'NFKC' is not supported");
  j = small_bpe();
  j["model"]["vocab"]["lo"] = "seven";
  has(load_error(j.dump()), "model.vocab['lo']");
  j = small_bpe();
  j.erase("model");
  has(load_error(j.dump()), "missing field 'model'");
  has(load_error("not a model", "tokenizer.model"), "not a usable SentencePiece model");
  has(load_error("{}", "vocab.txt"), "unknown tokenizer file type");
  TempDir empty;
  try {
    load_tokenizer(empty.path);
    FAIL();
  } catch (const BadInput& e) {
    has(e.what(), "no tokenizer.json or tokenizer.model");
  }
}

}  // namespace
}  // namespace lmscope
