// RULER's NIAH prompts (eval/ruler_niah.h) without a model: the wording, the needles and values, the essay
// haystack's words and sentences, the lengths hit, and item-by-item agreement with the independent Python
// construction (tools/eval_reference/ruler_reference.py, fixture in tests/fixtures/ruler).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "eval/ruler_niah.h"
#include "eval/task_data.h"
#include "eval/tasks/ruler_words.h"
#include "lmscope/error.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace r = eval::ruler;
using nlohmann::json;

const char* kEssay =
    "The first thing to notice is the harbour. Boats come in with the tide and leave before dark! Does anyone "
    "count them? Mr. Smith does, every morning at 6 o'clock. He writes the numbers in a book: 12 on Monday, 14 on "
    "Tuesday. \"Nobody else cares,\" he says. The book is old (older than the quay). It sits on a shelf by the "
    "door. Nobody reads it. The gulls do not care either.";

const r::NiahTask& task(const char* name) {
  const auto* t = r::find_niah_task(name);
  EXPECT_NE(t, nullptr) << name;
  return *t;
}

TEST(RulerNiah, TheEightTasksAsRulerDefinesThem) {
  ASSERT_EQ(r::niah_tasks().size(), 8u);
  const auto& s1 = task("niah_single_1");
  EXPECT_EQ(s1.haystack, r::Haystack::noise);
  EXPECT_EQ(s1.key, r::Kind::words);
  EXPECT_EQ(s1.value, r::Kind::numbers);
  EXPECT_EQ(task("niah_single_2").haystack, r::Haystack::essay);
  EXPECT_EQ(task("niah_single_3").value, r::Kind::uuids);
  EXPECT_EQ(task("niah_multikey_1").keys, 4);
  EXPECT_EQ(task("niah_multikey_2").haystack, r::Haystack::needle);
  EXPECT_EQ(task("niah_multikey_3").key, r::Kind::uuids);
  EXPECT_EQ(task("niah_multivalue").values, 4);
  EXPECT_EQ(task("niah_multiquery").queries, 4);
  EXPECT_EQ(task("niah_multiquery").keys, 4);
  EXPECT_EQ(r::find_niah_task("niah_single_4"), nullptr);
  const auto d = r::default_depths();
  ASSERT_EQ(d.size(), 40u);
  EXPECT_EQ(d.front(), 0.0);
  EXPECT_EQ(d[1], 0.03);  // round(100/39) = 3
  EXPECT_EQ(d[20], 0.51);  // round(2000/39) = 51
  EXPECT_EQ(d.back(), 1.0);
}

TEST(RulerNiah, SingleValuePromptsUseRulersSingularWording) {
  const auto e = r::make_essay(kEssay);
  const auto s = r::build_sample(task("niah_single_2"), &e, 40, 7, r::default_depths());
  ASSERT_EQ(s.answers.size(), 1u);
  EXPECT_EQ(s.prompt.rfind("A special magic number is hidden within the following text. Make sure to memorize it. "
                           "I will quiz you about the number afterwards.\n", 0), 0u) << s.prompt;
  const std::string tail = "\nWhat is the special magic number for " + s.query +
                           " mentioned in the provided text? The special magic number for " + s.query +
                           " mentioned in the provided text is";
  ASSERT_GE(s.prompt.size(), tail.size());
  EXPECT_EQ(s.prompt.substr(s.prompt.size() - tail.size()), tail);
  // The needle keeps the plural type, as RULER's needle format does.
  EXPECT_NE(s.prompt.find("One of the special magic numbers for " + s.query + " is: " + s.answers[0] + "."),
            std::string::npos);
  EXPECT_TRUE(std::regex_match(s.answers[0], std::regex("[1-9][0-9]{6}")));
  EXPECT_TRUE(std::regex_match(s.query, std::regex("[a-z]+-[a-z]+")));
}

TEST(RulerNiah, MultiQueryAndMultiValuePromptsStayPlural) {
  const auto e = r::make_essay(kEssay);
  const auto q = r::build_sample(task("niah_multiquery"), &e, 60, 11, r::default_depths());
  ASSERT_EQ(q.answers.size(), 4u);
  EXPECT_TRUE(std::regex_match(q.query, std::regex("[a-z]+-[a-z]+, [a-z]+-[a-z]+, [a-z]+-[a-z]+, and [a-z]+-[a-z]+")))
      << q.query;
  EXPECT_EQ(q.prompt.rfind("Some special magic numbers are hidden within the following text.", 0), 0u);
  const std::string tail = "\nWhat are all the special magic numbers for " + q.query +
                           " mentioned in the provided text? The special magic numbers for " + q.query +
                           " mentioned in the provided text are";
  EXPECT_EQ(q.prompt.substr(q.prompt.size() - tail.size()), tail);
  for (const auto& a : q.answers) EXPECT_NE(q.prompt.find(" is: " + a + "."), std::string::npos);

  const auto v = r::build_sample(task("niah_multivalue"), &e, 60, 12, r::default_depths());
  ASSERT_EQ(v.answers.size(), 4u);
  std::size_t needles = 0;
  for (auto at = v.prompt.find("One of the special magic numbers for " + v.query + " is: "); at != std::string::npos;
       at = v.prompt.find("One of the special magic numbers for " + v.query + " is: ", at + 1))
    ++needles;
  EXPECT_EQ(needles, 4u);
}

TEST(RulerNiah, MultiKeyHaystacksHoldTheRightNeedlesAndDistractors) {
  const auto e = r::make_essay(kEssay);
  const auto mk1 = r::build_sample(task("niah_multikey_1"), &e, 80, 3, r::default_depths());
  std::size_t n = 0;
  for (auto at = mk1.prompt.find("One of the special magic numbers for "); at != std::string::npos;
       at = mk1.prompt.find("One of the special magic numbers for ", at + 1))
    ++n;
  EXPECT_EQ(n, 4u);  // four keys, one asked

  const auto mk2 = r::build_sample(task("niah_multikey_2"), nullptr, 30, 5, {});
  const auto body = mk2.prompt.substr(mk2.prompt.find('\n') + 1);
  std::size_t lines = 0, with_query = 0;
  std::regex line("One of the special magic numbers for ([a-z]+-[a-z]+) is: ([1-9][0-9]{6})\\.");
  std::istringstream in(body);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (!std::regex_match(l, m, line)) continue;
    ++lines;
    if (m[1] == mk2.query) {
      ++with_query;
      EXPECT_EQ(m[2], mk2.answers[0]);
    }
  }
  EXPECT_EQ(lines, 31u);  // 30 distractors + the needle
  EXPECT_EQ(with_query, 1u);

  const auto mk3 = r::build_sample(task("niah_multikey_3"), nullptr, 10, 9, {});
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  EXPECT_TRUE(std::regex_match(mk3.query, uuid)) << mk3.query;
  EXPECT_TRUE(std::regex_match(mk3.answers[0], uuid)) << mk3.answers[0];
  EXPECT_EQ(mk3.prompt.rfind("A special magic uuid is hidden", 0), 0u);
  EXPECT_NE(mk3.prompt.find("One of the special magic uuids for " + mk3.query + " is: " + mk3.answers[0] + ".\n"),
            std::string::npos);
}

TEST(RulerNiah, NoiseHaystackIsRulersRepeatedParagraphOnLines) {
  const auto s = r::build_sample(task("niah_single_1"), nullptr, 4, 21, {});
  const std::string noise = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.";
  std::size_t count = 0;
  for (auto at = s.prompt.find(noise); at != std::string::npos; at = s.prompt.find(noise, at + 1)) ++count;
  EXPECT_EQ(count, 4u);
  EXPECT_NE(s.prompt.find("afterwards.\n"), std::string::npos);
  // The needle is its own line, before one of the four paragraphs: depth 0, 1/4, 2/4 or 3/4.
  EXPECT_NE(s.prompt.find("\nOne of the special magic numbers for " + s.query + " is: " + s.answers[0] + ".\n"),
            std::string::npos);
  EXPECT_TRUE(s.depth == 0 || s.depth == 0.25 || s.depth == 0.5 || s.depth == 0.75) << s.depth;
}

TEST(RulerNiah, SamplesAreReproducibleAndDifferBySeedTaskLengthAndIndex) {
  const auto e = r::make_essay(kEssay);
  const auto& t = task("niah_single_2");
  const auto a = r::build_sample(t, &e, 50, r::sample_stream(42, "niah_single_2", 4096, 0), r::default_depths());
  const auto b = r::build_sample(t, &e, 50, r::sample_stream(42, "niah_single_2", 4096, 0), r::default_depths());
  EXPECT_EQ(a.prompt, b.prompt);
  std::set<std::uint64_t> streams{r::sample_stream(42, "niah_single_2", 4096, 0), r::sample_stream(43, "niah_single_2", 4096, 0),
                                  r::sample_stream(42, "niah_single_3", 4096, 0), r::sample_stream(42, "niah_single_2", 8192, 0),
                                  r::sample_stream(42, "niah_single_2", 4096, 1)};
  EXPECT_EQ(streams.size(), 5u);
  // splitmix64's published first outputs for state 1234567 (Vigna's splitmix64.c).
  r::Rng rng(1234567);
  EXPECT_EQ(rng.next(), 6457827717110365317ULL);
  EXPECT_EQ(rng.next(), 3203168211198807973ULL);
}

TEST(RulerNiah, WordKeysComeFromOurListsOnly) {
  std::set<std::string_view> adj(r::kAdjectives.begin(), r::kAdjectives.end()), noun(r::kNouns.begin(), r::kNouns.end());
  EXPECT_EQ(adj.size(), r::kAdjectives.size());
  EXPECT_EQ(noun.size(), r::kNouns.size());
  for (auto w : adj) EXPECT_EQ(noun.count(w), 0u) << w;
  r::Rng rng(99);
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const auto k = r::random_value(r::Kind::words, rng);
    const auto dash = k.find('-');
    ASSERT_NE(dash, std::string::npos);
    EXPECT_EQ(adj.count(k.substr(0, dash)), 1u) << k;
    EXPECT_EQ(noun.count(k.substr(dash + 1)), 1u) << k;
    seen.insert(k);
  }
  EXPECT_GT(seen.size(), 195u);
}

TEST(RulerNiah, EssayWordsFollowPythonsWhitespace) {
  // NBSP, ideographic space, \x1c and a line separator are whitespace to Python's \s; a zero-width space is not.
  const auto e = r::make_essay("  one\xC2\xA0two\xE3\x80\x80three\x1c" "four\xE2\x80\xA8" "five\xE2\x80\x8Bsix\t\n seven ");
  ASSERT_EQ(e.words.size(), 6u);
  EXPECT_EQ(e.words[0], "one");
  EXPECT_EQ(e.words[4], "five\xE2\x80\x8Bsix");
  EXPECT_EQ(e.words[5], "seven");
  EXPECT_THROW(r::make_essay(" \n\t "), BadInput);
}

TEST(RulerNiah, SentenceRule) {
  EXPECT_TRUE(r::ends_sentence("harbour.", "Boats"));
  EXPECT_TRUE(r::ends_sentence("dark!", "Does"));
  EXPECT_TRUE(r::ends_sentence("them?", "\"Mr."));
  EXPECT_TRUE(r::ends_sentence("cares,\"", "He") == false);
  EXPECT_TRUE(r::ends_sentence("quay).", "It"));
  EXPECT_TRUE(r::ends_sentence("says.\xE2\x80\x9D", "\xE2\x80\x9CThe"));
  EXPECT_TRUE(r::ends_sentence("1820.", "12"));
  EXPECT_FALSE(r::ends_sentence("harbour.", "boats"));
  EXPECT_FALSE(r::ends_sentence("Mr.", "Smith"));
  EXPECT_FALSE(r::ends_sentence("Dr.", "Watson"));
  EXPECT_FALSE(r::ends_sentence("J.", "Smith"));
  EXPECT_FALSE(r::ends_sentence("U.S.", "Army"));
  EXPECT_FALSE(r::ends_sentence("e.g.", "The"));
  EXPECT_FALSE(r::ends_sentence("harbour", "Boats"));
  const auto e = r::make_essay(kEssay);
  int sentences = 0;
  for (auto x : e.ends) sentences += x;
  EXPECT_EQ(sentences, 10);  // the last word ends the text, followed by the first again ("The")
}

TEST(RulerNiah, EssayNeedlesGoBetweenSentencesAtRulersDepths) {
  const auto e = r::make_essay(kEssay);
  // Depth 0 only: the needle opens the context, after an empty segment (RULER's join leaves a space there).
  const std::vector<double> zero{0.0};
  const auto s = r::build_sample(task("niah_single_2"), &e, 10, 1, zero);
  EXPECT_NE(s.prompt.find("afterwards.\n One of the special magic numbers for "), std::string::npos) << s.prompt;
  EXPECT_NE(s.prompt.find(". The first thing to notice is the harbour. Boats come\nWhat"), std::string::npos);  // 10 words
  // Depth 1: after the last word, then an empty segment.
  const std::vector<double> one{1.0};
  const auto t = r::build_sample(task("niah_single_2"), &e, 10, 1, one);
  EXPECT_NE(t.prompt.find("the harbour. Boats come One of the special"), std::string::npos) << t.prompt;
  EXPECT_NE(t.prompt.find(". \nWhat is the special magic number"), std::string::npos) << t.prompt;
  // The words repeat past the end of the text.
  const auto u = r::build_sample(task("niah_single_2"), &e, static_cast<std::int64_t>(e.words.size()) + 3, 1, zero);
  EXPECT_NE(u.prompt.find("do not care either. The first thing\nWhat"), std::string::npos);
}

TEST(RulerNiah, TooShortAHaystackIsRefused) {
  EXPECT_THROW(r::build_sample(task("niah_multikey_2"), nullptr, 0, 1, {}), BadInput);
  EXPECT_THROW(r::build_sample(task("niah_single_2"), nullptr, 10, 1, r::default_depths()), BadInput);
  const auto e = r::make_essay(kEssay);
  const std::vector<double> two{0.0, 0.5};
  EXPECT_THROW(r::build_sample(task("niah_multivalue"), &e, 10, 1, two), BadInput);  // 4 needles, 2 depths
}

// Lengths: every prompt fits length − 128 tokens, the search's haystack is the largest that fits, and each sample
// ends within RULER's tolerance (RULER steps a sample down by 500 words or 25 sentences — 5 below 4096 — when its
// own keys make it too long; we bisect, so ours end within a unit or two of the budget).
TEST(RulerNiah, LengthsAreHitWithinRulersTolerance) {
  const auto tok = make_byte_tokenizer();
  std::string text;
  for (int i = 0; i < 20; ++i) text += std::string(kEssay) + " ";
  const auto e = r::make_essay(text);
  for (const auto& t : r::niah_tasks()) {
    const auto* essay = t.haystack == r::Haystack::essay ? &e : nullptr;
    for (std::int64_t L : {1500, 5000}) {
      const auto budget = L - r::kTokensToGenerate;
      const auto n = r::search_units(t, essay, *tok, budget, 42, L, r::default_depths());
      const auto stream = r::sample_stream(42, t.name, L, r::kSearchIndex);
      auto tokens = [&](std::int64_t u, std::uint64_t st) {
        return r::prompt_tokens(*tok, r::build_sample(t, essay, u, st, r::default_depths()).prompt);
      };
      EXPECT_LE(tokens(n, stream), budget) << t.name << " " << L;
      EXPECT_GT(tokens(n + 1, stream), budget) << t.name << " " << L;
      const double per_unit = static_cast<double>(tokens(n, stream) - tokens(r::min_units(t), stream)) /
                              static_cast<double>(n - r::min_units(t));
      const double ruler_increment = t.haystack == r::Haystack::essay ? 500 : (L < 4096 ? 5 : 25);
      for (std::uint64_t i = 0; i < 4; ++i) {
        const auto f = r::fit_sample(t, essay, *tok, budget, 42, L, i, n, r::default_depths());
        const auto got = static_cast<std::int64_t>(f.ids.size());
        EXPECT_LE(got, budget) << t.name << " " << L << " sample " << i;
        EXPECT_GT(static_cast<double>(got), static_cast<double>(budget) - ruler_increment * per_unit);
        EXPECT_GT(static_cast<double>(got), static_cast<double>(budget) - 2 * per_unit - 40)
            << t.name << " " << L << " sample " << i << " units " << f.sample.units << " of " << n;
      }
    }
  }
}

// Item by item against the independent Python construction: the same haystack (../shared/data/long_docs) and
// tokenizer (Llama 3's tokenizer.json), seed 42, lengths 700 and 2500, three samples of each task.
TEST(RulerNiah, PromptsEqualThePythonReferenceItemByItem) {
  const auto shared = test::shared_dir();
  const auto hay = shared.empty() ? shared : shared / "data/long_docs/gutenberg_books.jsonl";
  const auto tokdir = shared.empty() ? shared : shared / "data/tokenizers/llama3";
  LMSCOPE_REQUIRE_PATH(hay, "data/long_docs/gutenberg_books.jsonl");
  LMSCOPE_REQUIRE_PATH(tokdir, "data/tokenizers/llama3");
  const auto tok = load_tokenizer(tokdir);
  const auto docs = eval::read_documents(hay, "text");
  std::string text;
  for (std::size_t i = 0; i < docs.size(); ++i) text += (i ? " " : "") + docs[i];
  const auto essay = r::make_essay(text);
  const auto fixture = std::filesystem::path(LMSCOPE_SOURCE_DIR) / "tests/fixtures/ruler/llama3_gutenberg.jsonl";
  const auto lines = eval::read_jsonl(fixture);
  ASSERT_GT(lines.size(), 1u);
  const auto& head = lines[0];
  ASSERT_TRUE(head.value("header", false));
  const auto seed = head["seed"].get<std::uint64_t>();
  const auto max_new = head["max_new"].get<std::int64_t>();
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> searched;
  int compared = 0;
  for (std::size_t k = 1; k < lines.size(); ++k) {
    const auto& x = lines[k];
    const std::string name = x["task"];
    const std::int64_t L = x["length"];
    const auto& t = task(name.c_str());
    const auto* e = t.haystack == r::Haystack::essay ? &essay : nullptr;
    auto& n = searched[{name, L}];
    if (n == 0) n = r::search_units(t, e, *tok, L - max_new, seed, L, r::default_depths());
    SCOPED_TRACE(name + " @" + std::to_string(L) + " sample " + x["index"].dump());
    EXPECT_EQ(n, x["search_units"].get<std::int64_t>());
    const auto f = r::fit_sample(t, e, *tok, L - max_new, seed, L, x["index"].get<std::uint64_t>(),
                                 x["search_units"].get<std::int64_t>(), r::default_depths());
    EXPECT_EQ(f.sample.units, x["units"].get<std::int64_t>());
    EXPECT_EQ(static_cast<std::int64_t>(f.ids.size()), x["tokens"].get<std::int64_t>());
    EXPECT_EQ(f.sample.answers, x["answers"].get<std::vector<std::string>>());
    EXPECT_EQ(f.sample.query, x["query"].get<std::string>());
    EXPECT_DOUBLE_EQ(f.sample.depth, x["depth"].get<double>());
    EXPECT_EQ(f.sample.prompt.size(), x["bytes"].get<std::size_t>());
    EXPECT_EQ(eval::fnv1a64_hex(f.sample.prompt), x["fnv"].get<std::string>());
    const std::string h = x["head"], tl = x["tail"];
    EXPECT_EQ(f.sample.prompt.substr(0, h.size()), h);
    EXPECT_TRUE(f.sample.prompt.size() >= tl.size() && f.sample.prompt.substr(f.sample.prompt.size() - tl.size()) == tl);
    ++compared;
  }
  EXPECT_EQ(compared, 48);  // 8 tasks × 2 lengths × 3 samples
}

}  // namespace
}  // namespace lmscope
