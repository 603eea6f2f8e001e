// `lmscope-cli tokenize --model DIR` on each family's tokenizer folder (tests/fixtures/tokenizers): the same
// loader as evaluation, so a folder that tokenizes here is one a run can use.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace lmscope {
namespace {

std::string run(const std::string& args) {
  std::string out;
  FILE* p = popen((std::string(LMSCOPE_CLI) + " " + args + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf{};
  while (p && fgets(buf.data(), buf.size(), p)) out += buf.data();
  if (p) pclose(p);
  return out;
}

TEST(CliTokenizeFamilies, EveryFixtureFolderTokenizesAndRoundTrips) {
  const std::string root = std::string(LMSCOPE_SOURCE_DIR) + "/tests/fixtures/tokenizers/";
  for (const char* family : {"qwen2", "qwen3", "gpt-neox", "olmo2", "smollm", "tinyllama", "mistral", "phi3", "gemma2"}) {
    const std::string out = run("tokenize --model " + root + family + " --text 'The harbour town wakes before the sun.'");
    nlohmann::json ids;
    ASSERT_NO_THROW(ids = nlohmann::json::parse(out)) << family << ": " << out;
    ASSERT_TRUE(ids.is_array() && ids.size() > 3) << family << ": " << out;
    std::string csv;
    for (const auto& id : ids) csv += (csv.empty() ? "" : ",") + std::to_string(id.get<int>());
    const std::string text = run("detokenize --model " + root + family + " --ids " + csv);
    EXPECT_NE(text.find("The harbour town wakes before the sun."), std::string::npos) << family << ": " << text;
  }
  // BOS where the family adds one: Gemma's <bos> is id 2, Mistral's <s> id 1; Qwen adds none.
  EXPECT_EQ(nlohmann::json::parse(run("tokenize --model " + root + "gemma2 --text hi")).front(), 2);
  EXPECT_EQ(nlohmann::json::parse(run("tokenize --model " + root + "mistral --text hi")).front(), 1);
  EXPECT_EQ(nlohmann::json::parse(run("tokenize --model " + root + "gemma2 --no-bos --text hi")).size(),
            nlohmann::json::parse(run("tokenize --model " + root + "gemma2 --text hi")).size() - 1);
}

}  // namespace
}  // namespace lmscope
