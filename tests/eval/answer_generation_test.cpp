// Generated answers (eval/answer_generation.h) and their metrics (eval/answer_metrics.h), on a tiny random
// byte-level Llama: stop strings, batching, cancellation; RULER's and the recall sets' string matching.
#include <gtest/gtest.h>

#include <atomic>

#include "eval/answer_generation.h"
#include "eval/answer_metrics.h"
#include "lmscope/checkpoint.h"
#include "lmscope/json_input.h"
#include "lmscope/random_checkpoint.h"
#include "support/test_support.h"

namespace lmscope::eval {
namespace {

TEST(AnswerMetrics, LowerCaseFollowsUnicodeSimpleCaseMapping) {
  EXPECT_EQ(lower_case("Paris IS the Capital"), "paris is the capital");
  EXPECT_EQ(lower_case("ÉCOLE Straße ΑΒΓ"), "école straße αβγ");
  EXPECT_EQ(lower_case(std::string("A\xff" "B", 3)), std::string("a\xff" "b", 3));  // stray bytes kept
}

TEST(AnswerMetrics, StringMatchAllIsTheFractionOfReferencesFound) {
  const std::vector<std::string> refs{"1234567", "7654321", "Blue"};
  EXPECT_DOUBLE_EQ(string_match_all("The numbers are 1234567 and blue.", refs), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(string_match_all("nothing", refs), 0.0);
  EXPECT_DOUBLE_EQ(string_match_all("7654321, 1234567, BLUE", refs), 1.0);
  EXPECT_DOUBLE_EQ(string_match_part("7654321", refs), 1.0);
  EXPECT_DOUBLE_EQ(string_match_part("76543", refs), 0.0);
}

TEST(AnswerMetrics, ContainsIsCaseInsensitiveAndIgnoresEmptyAnswers) {
  EXPECT_TRUE(contains_any(" The answer is Barack Obama.", std::vector<std::string>{"barack obama"}));
  EXPECT_FALSE(contains_any(" Obama", std::vector<std::string>{"barack obama"}));
  EXPECT_TRUE(contains_any("in 1998", std::vector<std::string>{"1997", "1998"}));
  EXPECT_FALSE(contains_any("anything", std::vector<std::string>{""}));
}

TEST(AnswerGeneration, FirstStopIsTheEarliestOfAnyStopString) {
  const std::vector<std::string> stops{"\n", ".", ""};
  EXPECT_EQ(first_stop("abc.def\n", stops), 3u);
  EXPECT_EQ(first_stop("abcdef", stops), std::string::npos);
}

class TinyByteModel : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = tmp.path / "tiny";
    write_random_checkpoint(test::tiny_llama_config({{"vocab_size", 256}, {"bos_token_id", 1}, {"eos_token_id", 2},
                                                     {"max_position_embeddings", 128}})
                                .dump(),
                            dir, {.seed = 11, .stddev = 0.5f});
    ck = std::make_unique<Checkpoint>(Checkpoint::open(dir));
    model = load_model(*ck);
    tokenizer = make_byte_tokenizer(1, 2);
    env.model = model.get();
    env.tokenizer = tokenizer.get();
  }
  std::vector<std::int32_t> bytes(const std::string& s) const { return tokenizer->encode(s); }

  test::TempDir tmp;
  std::filesystem::path dir;
  std::unique_ptr<Checkpoint> ck;
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  TaskEnv env;
};

TEST_F(TinyByteModel, AStopStringEndsDecodingAtTheStepItAppearsAndCutsTheText) {
  const std::vector<AnswerRequest> free{{bytes("The harbour lies at"), 24, {}}};
  const auto whole = generate_answers(*model, *tokenizer, free, env).at(0);
  ASSERT_EQ(whole.stopped_by, "max_new_tokens") << "this seed's model must not write EOS here";
  ASSERT_EQ(whole.ids.size(), 24u);
  const std::string raw = tokenizer->decode(whole.ids);
  const std::string stop = raw.substr(5, 2);
  const auto at = raw.find(stop);  // bytes = ids: the stop string is complete after at + 2 tokens
  const std::vector<AnswerRequest> stopped{{bytes("The harbour lies at"), 24, {stop}}};
  const auto a = generate_answers(*model, *tokenizer, stopped, env).at(0);
  EXPECT_EQ(a.stopped_by, "stop_string");
  ASSERT_EQ(a.ids.size(), at + 2);
  EXPECT_TRUE(std::equal(a.ids.begin(), a.ids.end(), whole.ids.begin()));
  EXPECT_EQ(a.text, valid_utf8(raw.substr(0, at)));
}

TEST_F(TinyByteModel, BatchedAnswersEqualOneByOne) {
  std::vector<AnswerRequest> requests;
  for (const char* p : {"A", "The mill was rebuilt in", "Bread is baked here every", "Gulls", "In winter the quay is quiet"})
    requests.push_back({bytes(p), 12, {"\n"}});
  env.batch_size = 3;
  const auto together = generate_answers(*model, *tokenizer, requests, env);
  env.batch_size = 1;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto alone = generate_answers(*model, *tokenizer, std::span(requests).subspan(i, 1), env).at(0);
    EXPECT_EQ(together[i].ids, alone.ids) << i;
    EXPECT_EQ(together[i].text, alone.text) << i;
    EXPECT_EQ(together[i].stopped_by, alone.stopped_by) << i;
  }
}

TEST_F(TinyByteModel, CancellationStopsGenerationMidway) {
  std::atomic<bool> cancel{false};
  std::int64_t steps = 0;
  env.cancel = &cancel;
  env.on_tokens = [&](std::int64_t) {
    if (++steps == 3) cancel = true;
  };
  const std::vector<AnswerRequest> r{{bytes("The harbour"), 50, {}}, {bytes("The mill"), 50, {}}};
  EXPECT_THROW(generate_answers(*model, *tokenizer, r, env), Cancelled);
  EXPECT_EQ(steps, 3);
}

TEST_F(TinyByteModel, ZeroNewTokensGiveAnEmptyAnswer) {
  const std::vector<AnswerRequest> r{{bytes("The harbour"), 0, {"\n"}}};
  const auto a = generate_answers(*model, *tokenizer, r, env).at(0);
  EXPECT_TRUE(a.ids.empty());
  EXPECT_EQ(a.text, "");
  EXPECT_EQ(a.stopped_by, "max_new_tokens");
}

}  // namespace
}  // namespace lmscope::eval
