// Each checkpoint family's tokenizer.json pipeline against the Hugging Face `tokenizers` library: the fixtures in
// tests/fixtures/tokenizers/<family>/ are small vocabularies with the family's exact components (written by
// tools/tokenizer_reference/make_fixtures.py), and reference.jsonl.gz holds the library's ids and decodes for the
// 99 texts of ../shared/data/tokenizers/texts.jsonl plus our own added-token texts (write_reference.py);
// reference_meta.json holds the BOS/EOS that transformers 4 and 5 add.
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <map>

#include "lmscope/tokenizer.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path fixture(const std::string& family) { return fs::path(LMSCOPE_SOURCE_DIR) / "tests/fixtures/tokenizers" / family; }

std::vector<json> read_gz_jsonl(const fs::path& p) {
  std::vector<json> out;
  gzFile f = gzopen(p.string().c_str(), "rb");
  if (!f) return out;
  std::string all;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) all.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  std::size_t at = 0;
  while (at < all.size()) {
    const std::size_t nl = all.find('\n', at);
    const std::string line = all.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    if (!line.empty()) out.push_back(json::parse(line));
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  return out;
}

std::map<std::string, std::string> shared_texts() {
  std::map<std::string, std::string> texts;
  const fs::path s = test::shared_dir();
  if (s.empty()) return texts;
  std::ifstream in(s / "data/tokenizers/texts.jsonl");
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) {
      const json j = json::parse(line);
      texts[j["id"].get<std::string>()] = j["text"].get<std::string>();
    }
  return texts;
}

std::size_t first_difference(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b) {
  std::size_t k = 0;
  while (k < a.size() && k < b.size() && a[k] == b[k]) ++k;
  return k;
}

// Every reference text: ids with special tokens as plain text and matched, decode, and the BOS/EOS transformers
// adds (the same in 4.x and 5.x for every family, which the meta file records and this checks).
void check_family(const std::string& family, const char* kind) {
  const fs::path dir = fixture(family);
  const auto tok = load_tokenizer(dir);
  EXPECT_EQ(tok->kind(), kind) << family;
  const json meta = json::parse(test::read_text(dir / "reference_meta.json"));
  const auto prefix = meta["post_processor"]["prefix"].get<std::vector<std::int32_t>>();
  const auto suffix = meta["post_processor"]["suffix"].get<std::vector<std::int32_t>>();
  ASSERT_GE(meta["transformers"].size(), 2u) << family << ": the meta file should record transformers 4 and 5";
  for (const auto& [version, r] : meta["transformers"].items())
    EXPECT_EQ(r["prefix_suffix"], json::array({prefix, suffix})) << family << ": transformers " << version;
  EXPECT_EQ(tok->adds_bos(), !prefix.empty()) << family;
  EXPECT_EQ(tok->adds_eos(), !suffix.empty()) << family;

  const auto rows = read_gz_jsonl(dir / "reference.jsonl.gz");
  ASSERT_EQ(rows.size(), meta["texts"].get<std::size_t>()) << family;
  const auto shared = shared_texts();
  int checked = 0, matched = 0, decoded = 0, shared_seen = 0;
  for (const auto& row : rows) {
    const std::string id = row["id"].get<std::string>();
    std::string text;
    if (row.contains("text")) {
      text = row["text"].get<std::string>();
    } else {
      const auto it = shared.find(id);
      if (it == shared.end()) continue;  // ../shared absent: only our own texts
      text = it->second;
      ++shared_seen;
    }
    ++checked;
    const auto want = row["ids"].get<std::vector<std::int32_t>>();
    const auto want_special = row.contains("ids_allow_special") ? row["ids_allow_special"].get<std::vector<std::int32_t>>() : want;
    const auto got = tok->encode(text, {.add_bos = false, .add_eos = false});
    const auto got_special = tok->encode(text, {.add_bos = false, .add_eos = false, .allow_special = true});
    bool ok = true;
    if (got != want) {
      ok = false;
      ADD_FAILURE() << family << " " << id << ": first difference at token " << first_difference(got, want) << " of " << want.size();
    }
    if (got_special != want_special) {
      ok = false;
      ADD_FAILURE() << family << " " << id << " (special tokens allowed): first difference at token "
                    << first_difference(got_special, want_special) << " of " << want_special.size();
    }
    matched += ok;
    const std::string want_text = row.contains("decoded") ? row["decoded"].get<std::string>() : text;
    const bool same_decode = tok->decode(want) == want_text;
    EXPECT_TRUE(same_decode) << family << " " << id << ": decode differs";
    if (row.contains("decoded_allow_special"))
      EXPECT_EQ(tok->decode(want_special), row["decoded_allow_special"].get<std::string>()) << family << " " << id;
    decoded += same_decode;
    // the tokenizer's own rule, as transformers applies it
    std::vector<std::int32_t> full = prefix;
    full.insert(full.end(), want_special.begin(), want_special.end());
    full.insert(full.end(), suffix.begin(), suffix.end());
    EXPECT_EQ(tok->encode(text, {.allow_special = true}), full) << family << " " << id << ": BOS/EOS";
  }
  EXPECT_EQ(matched, checked) << family;
  EXPECT_EQ(decoded, checked) << family;
  EXPECT_GE(checked, meta["own_texts"].get<int>()) << family;
  if (shared_seen == 0)
    GTEST_SKIP() << "skipped the 99 texts of ../shared/data/tokenizers/texts.jsonl (../shared is absent); own texts: "
                 << checked << " matched";
  EXPECT_EQ(shared_seen, 99) << family;
}

TEST(TokenizerFamilies, Qwen2) { check_family("qwen2", "byte-level BPE"); }
TEST(TokenizerFamilies, Qwen3) { check_family("qwen3", "byte-level BPE"); }
TEST(TokenizerFamilies, GptNeoX) { check_family("gpt-neox", "byte-level BPE"); }
TEST(TokenizerFamilies, Olmo2) { check_family("olmo2", "byte-level BPE"); }
TEST(TokenizerFamilies, SmolLM) { check_family("smollm", "byte-level BPE"); }
TEST(TokenizerFamilies, TinyLlama) { check_family("tinyllama", "BPE"); }
TEST(TokenizerFamilies, Mistral) { check_family("mistral", "BPE"); }
TEST(TokenizerFamilies, Phi3) { check_family("phi3", "BPE"); }
TEST(TokenizerFamilies, Gemma2) { check_family("gemma2", "BPE"); }

TEST(TokenizerFamilies, GemmaModelTypesGetLmEvalsForcedBos) {
  const auto gemma = load_tokenizer(fixture("gemma2"));
  EXPECT_EQ(gemma->model_type(), "gemma2");
  EXPECT_TRUE(gemma->lm_eval_adds_special_tokens());
  EXPECT_TRUE(gemma->adds_bos());
  EXPECT_EQ(gemma->bos_id(), 2);
  const auto qwen = load_tokenizer(fixture("qwen2"));
  EXPECT_FALSE(qwen->lm_eval_adds_special_tokens());
  EXPECT_FALSE(qwen->bos_id().has_value());  // Qwen has no BOS token at all
  EXPECT_TRUE(qwen->eos_id().has_value());
  for (const char* t : {"gemma", "gemma3_text", "recurrent_gemma"}) EXPECT_TRUE(Tokenizer::lm_eval_forces_bos(t)) << t;
  for (const char* t : {"llama", "qwen3", "gpt_neox"}) EXPECT_FALSE(Tokenizer::lm_eval_forces_bos(t)) << t;
}


// transformers' decode(skip_special_tokens=True), which lm-eval applies to generated answers: added tokens marked
// special go, the others (Qwen's <tool_call>) stay.
TEST(TokenizerFamilies, DecodeSkippingSpecialDropsOnlySpecialAddedTokens) {
  const auto t = load_tokenizer(fixture("qwen2"));
  EXPECT_TRUE(t->is_special(1800));   // <|endoftext|>
  EXPECT_FALSE(t->is_special(1805));  // <tool_call>: added, not special
  EXPECT_FALSE(t->is_special(5));
  EXPECT_FALSE(t->is_special(-1));
  EncodeOptions special;
  special.allow_special = true;
  const auto ids = t->encode("Hi<|im_start|> there<tool_call>x<|endoftext|>", special);
  EXPECT_EQ(t->decode(ids), "Hi<|im_start|> there<tool_call>x<|endoftext|>");
  EXPECT_EQ(t->decode_skipping_special(ids), "Hi there<tool_call>x");
}

}  // namespace
}  // namespace lmscope
