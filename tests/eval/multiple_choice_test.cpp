// Multiple-choice requests as lm-eval 0.4.9.1 builds them (lm_eval/tasks/*/ yaml + utils, api/task.py,
// api/model.py _encode_pair). Records are small ones written in each Hugging Face dataset's layout; the expected
// strings and lengths follow the Python of those files (lengths are Python len(): code points).
#include <gtest/gtest.h>

#include <fstream>

#include "lmscope/error.h"
#include "lmscope/eval/multiple_choice.h"
#include "lmscope/tokenizer.h"
#include "support/test_support.h"

namespace lmscope::eval {
namespace {

using nlohmann::json;

std::vector<std::string> contexts(const MultipleChoiceItem& it) {
  std::vector<std::string> v;
  for (const auto& r : it.requests) v.push_back(r.context);
  return v;
}
std::vector<std::string> continuations(const MultipleChoiceItem& it) {
  std::vector<std::string> v;
  for (const auto& r : it.requests) v.push_back(r.continuation);
  return v;
}
using Strs = std::vector<std::string>;
using Lens = std::vector<double>;
using Ids = std::vector<std::int32_t>;

// The BadInput message of make_multiple_choice_item, or "" when it does not throw.
std::string error_of(std::string_view task, const json& rec, std::string_view where = "x.jsonl:3") {
  try {
    (void)make_multiple_choice_item(task, rec, where);
  } catch (const BadInput& e) {
    return e.what();
  }
  return "";
}

TEST(MultipleChoice, TaskList) {
  EXPECT_EQ(multiple_choice_tasks().size(), 9u);
  for (const auto& t : multiple_choice_tasks()) EXPECT_TRUE(is_multiple_choice_task(t)) << t;
  EXPECT_FALSE(is_multiple_choice_task("lambada_openai"));
  EXPECT_FALSE(is_multiple_choice_task("mmlu"));
  const std::string e = error_of("mmlu", json::object());
  EXPECT_NE(e.find("x.jsonl:3"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown multiple-choice task 'mmlu'"), std::string::npos) << e;
}

TEST(MultipleChoice, Piqa) {
  const json rec = {{"goal", "Open a jar"}, {"sol1", "Twist the lid."}, {"sol2", "Hit it."}, {"label", 1}};
  const auto it = make_multiple_choice_item("piqa", rec, "piqa.jsonl:1");
  EXPECT_EQ(contexts(it), (Strs{"Question: Open a jar\nAnswer:", "Question: Open a jar\nAnswer:"}));
  EXPECT_EQ(continuations(it), (Strs{" Twist the lid.", " Hit it."}));
  EXPECT_EQ(it.gold, 1);
  EXPECT_EQ(it.choice_lengths, (Lens{14, 7}));  // the choice without the delimiter
  EXPECT_TRUE(it.has_acc_norm);

  // Lengths are code points (Python len of a str), not UTF-8 bytes: "café au lait" is 12, not 13.
  json r2 = rec;
  r2["sol1"] = "café au lait";
  r2["label"] = "0";  // a string label is accepted too
  const auto it2 = make_multiple_choice_item("piqa", r2, "piqa.jsonl:2");
  EXPECT_EQ(it2.choice_lengths, (Lens{12, 7}));
  EXPECT_EQ(it2.gold, 0);
  EXPECT_EQ(python_len("café au lait"), 12u);

  json r3 = rec;
  r3.erase("sol2");
  std::string e = error_of("piqa", r3, "piqa.jsonl:17");
  EXPECT_NE(e.find("piqa.jsonl:17"), std::string::npos) << e;
  EXPECT_NE(e.find("'sol2'"), std::string::npos) << e;
  EXPECT_NE(e.find("a string"), std::string::npos) << e;
  r3 = rec;
  r3["label"] = 2;
  e = error_of("piqa", r3);
  EXPECT_NE(e.find("'label'"), std::string::npos) << e;
  EXPECT_NE(e.find("0 or 1"), std::string::npos) << e;
  r3["label"] = "one";
  EXPECT_NE(error_of("piqa", r3).find("got \"one\""), std::string::npos);
  EXPECT_NE(error_of("piqa", json::array()).find("expected a JSON object"), std::string::npos);
}

TEST(MultipleChoice, HellaswagActivityNetRecord) {
  // The first validation record's context (ctx_b "then" is capitalised).
  const json rec = {{"activity_label", "Removing ice from car"},
                    {"ctx_a", "Then, the man writes over the snow covering the window of a car, and a woman wearing "
                              "winter clothes smiles."},
                    {"ctx_b", "then"},
                    {"endings", {", the man adds wax to the windshield and cuts it.", ", a person board a ski lift.",
                                 ", the man puts on a christmas coat.", ", the man continues removing the snow."}},
                    {"label", "3"}};
  const auto it = make_multiple_choice_item("hellaswag", rec, "hellaswag.jsonl:1");
  const std::string ctx =
      "Removing ice from car: Then, the man writes over the snow covering the window of a car, and a woman wearing "
      "winter clothes smiles. Then";
  EXPECT_EQ(contexts(it), (Strs(4, ctx)));
  EXPECT_EQ(continuations(it)[0], " , the man adds wax to the windshield and cuts it.");
  EXPECT_EQ(continuations(it)[3], " , the man continues removing the snow.");
  EXPECT_EQ(it.gold, 3);
  EXPECT_EQ(it.choice_lengths[1], 28);  // ", a person board a ski lift."
  EXPECT_TRUE(it.has_acc_norm);

  json r2 = rec;
  r2["label"] = 2;  // an integer label works as well
  EXPECT_EQ(make_multiple_choice_item("hellaswag", r2, "h").gold, 2);
  r2["label"] = "";  // the test split's unlabelled records
  EXPECT_NE(error_of("hellaswag", r2).find("'label'"), std::string::npos);
  r2["label"] = "4";
  EXPECT_NE(error_of("hellaswag", r2).find("\"0\"..3"), std::string::npos);
}

TEST(MultipleChoice, HellaswagWikiHowPreprocess) {
  const json rec = {{"activity_label", "Home and Garden"},
                    {"ctx_a", "[header] How to grow tomatoes [title] Pick a sunny spot."},
                    {"ctx_b", "MAKE sure the soil drains"},  // capitalize() lower-cases the rest
                    {"endings", {"[step] Water daily.  Then   wait.", "Dig [substeps] a hole. ", "x", "y"}},
                    {"label", "0"}};
  const auto it = make_multiple_choice_item("hellaswag", rec, "h");
  EXPECT_EQ(it.requests[0].context,
            "Home and Garden: How to grow tomatoes. Pick a sunny spot. Make sure the soil drains");
  // The tag is removed after strip(), so its following space stays; "  " -> " " once, left to right.
  EXPECT_EQ(it.requests[0].continuation, "  Water daily. Then  wait.");
  EXPECT_EQ(it.requests[1].continuation, " Dig a hole.");
  EXPECT_EQ(it.choice_lengths[0], 25);
  EXPECT_EQ(it.choice_lengths[1], 11);

  EXPECT_EQ(hellaswag_preprocess("  a [title]b  "), "a. b");
  EXPECT_EQ(hellaswag_preprocess("[a\n[b] c"), "[a\n c");  // '.' does not cross a newline
  EXPECT_EQ(hellaswag_preprocess("x [a[b] y] z"), "x y] z");  // non-greedy: up to the first ']'
  EXPECT_EQ(hellaswag_preprocess("a    b"), "a  b");
  EXPECT_EQ(hellaswag_preprocess("\u00a0x\u3000"), "x");  // Python strip(): Unicode whitespace
  // capitalize() beyond ASCII: first letter upper, the rest lower.
  const json r3 = {{"activity_label", "A"}, {"ctx_a", "b"}, {"ctx_b", "élan ÀÉ ΣΟΦΙΑ Ёж"},
                   {"endings", {"x"}}, {"label", 0}};
  EXPECT_EQ(make_multiple_choice_item("hellaswag", r3, "h").requests[0].context, "A: b Élan àé σοφια ёж");
}

TEST(MultipleChoice, Arc) {
  const json rec = {{"id", "Mercury_1"},
                    {"question", "Which of these is a gas at room temperature?"},
                    {"choices", {{"text", {"ice", "steam", "rock", "iron"}}, {"label", {"A", "B", "C", "D"}}}},
                    {"answerKey", "B"}};
  for (const char* task : {"arc_easy", "arc_challenge"}) {
    const auto it = make_multiple_choice_item(task, rec, "arc.jsonl:1");
    EXPECT_EQ(it.requests[0].context, "Question: Which of these is a gas at room temperature?\nAnswer:");
    EXPECT_EQ(continuations(it), (Strs{" ice", " steam", " rock", " iron"}));
    EXPECT_EQ(it.gold, 1);
    EXPECT_EQ(it.choice_lengths, (Lens{3, 5, 4, 4}));
    EXPECT_TRUE(it.has_acc_norm);
  }
  // Some ARC records use numeric labels, and some have 3 or 5 choices.
  const json r2 = {{"question", "Q?"},
                   {"choices", {{"text", {"a", "b", "c"}}, {"label", {"1", "2", "3"}}}},
                   {"answerKey", "3"}};
  const auto it2 = make_multiple_choice_item("arc_challenge", r2, "a");
  EXPECT_EQ(it2.gold, 2);
  EXPECT_EQ(it2.requests.size(), 3u);
  json r3 = r2;
  r3["answerKey"] = "D";
  const std::string e = error_of("arc_easy", r3, "arc.jsonl:9");
  EXPECT_NE(e.find("arc.jsonl:9"), std::string::npos) << e;
  EXPECT_NE(e.find("'answerKey'"), std::string::npos) << e;
  EXPECT_NE(e.find("one of choices.label"), std::string::npos) << e;
  r3 = r2;
  r3["choices"]["label"] = {"1", "2"};
  EXPECT_NE(error_of("arc_easy", r3).find("as many labels as texts"), std::string::npos);
}

TEST(MultipleChoice, WinograndePartialEvaluation) {
  const json rec = {{"sentence",
                     "Ian volunteered to eat Dennis's menudo after already having a bowl because _ despised eating "
                     "intestine."},
                    {"option1", "Ian"},
                    {"option2", "Dennis"},
                    {"answer", "2"}};
  const auto it = make_multiple_choice_item("winogrande", rec, "wg.jsonl:1");
  const std::string head = "Ian volunteered to eat Dennis's menudo after already having a bowl because ";
  // The options complete the CONTEXT; the part after the blank (stripped) is the shared continuation.
  EXPECT_EQ(contexts(it), (Strs{head + "Ian", head + "Dennis"}));
  EXPECT_EQ(continuations(it), (Strs{" despised eating intestine.", " despised eating intestine."}));
  EXPECT_EQ(it.gold, 1);
  EXPECT_EQ(it.choice_lengths, (Lens{78, 81}));  // lm-eval's "choices" here are the contexts
  EXPECT_FALSE(it.has_acc_norm);

  const json r2 = {{"sentence", "The cup broke because _'s  glass."}, {"option1", "the cup"}, {"option2", "x"},
                   {"answer", 1}};
  const auto it2 = make_multiple_choice_item("winogrande", r2, "w");
  EXPECT_EQ(it2.requests[0].context, "The cup broke because the cup");
  EXPECT_EQ(it2.requests[0].continuation, " 's  glass.");
  EXPECT_EQ(it2.gold, 0);
  json r3 = r2;
  r3["sentence"] = "no blank";
  EXPECT_NE(error_of("winogrande", r3).find("blank"), std::string::npos);
  r3 = r2;
  r3["answer"] = "";  // the test split
  EXPECT_NE(error_of("winogrande", r3).find("'answer'"), std::string::npos);
}

TEST(MultipleChoice, Boolq) {
  const json rec = {{"passage", "Persian language -- Persian is a pluricentric language."},
                    {"question", "do iran and afghanistan speak the same language"},
                    {"idx", 0},
                    {"label", 1}};
  const auto it = make_multiple_choice_item("boolq", rec, "b");
  EXPECT_EQ(it.requests[0].context,
            "Persian language -- Persian is a pluricentric language.\nQuestion: do iran and afghanistan speak the "
            "same language?\nAnswer:");
  EXPECT_EQ(continuations(it), (Strs{" no", " yes"}));
  EXPECT_EQ(it.gold, 1);
  EXPECT_EQ(it.choice_lengths, (Lens{2, 3}));
  EXPECT_FALSE(it.has_acc_norm);
  json r2 = rec;
  r2["label"] = false;
  EXPECT_EQ(make_multiple_choice_item("boolq", r2, "b").gold, 0);
  r2["label"] = "1";
  EXPECT_EQ(make_multiple_choice_item("boolq", r2, "b").gold, 1);
}

TEST(MultipleChoice, CopaConnectorAndLowerCase) {
  const json cause = {{"premise", "My body cast a shadow over the grass."},
                      {"choice1", "The sun was rising."},
                      {"choice2", "The grass was cut."},
                      {"question", "cause"},
                      {"label", 0}};
  const auto it = make_multiple_choice_item("copa", cause, "c");
  EXPECT_EQ(contexts(it), (Strs(2, "My body cast a shadow over the grass because")));
  // The choices start with a space and the default target delimiter " " is added too: two spaces.
  EXPECT_EQ(continuations(it), (Strs{"  the sun was rising.", "  the grass was cut."}));
  EXPECT_EQ(it.choice_lengths, (Lens{20, 19}));  // including the choice's own leading space
  EXPECT_EQ(it.gold, 0);
  EXPECT_FALSE(it.has_acc_norm);

  const json effect = {{"premise", " The man turned on the faucet. "},
                       {"choice1", "ÉLAN returned."},
                       {"choice2", "Water flowed from the spout."},
                       {"question", "effect"},
                       {"label", 1}};
  const auto it2 = make_multiple_choice_item("copa", effect, "c");
  EXPECT_EQ(it2.requests[0].context, "The man turned on the faucet therefore");
  EXPECT_EQ(continuations(it2), (Strs{"  éLAN returned.", "  water flowed from the spout."}));
  EXPECT_EQ(it2.gold, 1);
  json bad = cause;
  bad["question"] = "why";
  const std::string e = error_of("copa", bad);
  EXPECT_NE(e.find("'question'"), std::string::npos) << e;
  EXPECT_NE(e.find("\"cause\" or \"effect\""), std::string::npos) << e;
}

TEST(MultipleChoice, Sciq) {
  const json rec = {{"question", "What type of organism is commonly used in preparation of foods?"},
                    {"distractor1", "viruses"},
                    {"distractor2", "protozoa"},
                    {"distractor3", "gymnosperms"},
                    {"correct_answer", "mesophilic organisms"},
                    {"support", "\n  Mesophiles grow best in moderate temperature. "}};
  const auto it = make_multiple_choice_item("sciq", rec, "s");
  EXPECT_EQ(it.requests[0].context,  // support.lstrip() only
            "Mesophiles grow best in moderate temperature. \nQuestion: What type of organism is commonly used in "
            "preparation of foods?\nAnswer:");
  EXPECT_EQ(continuations(it), (Strs{" viruses", " protozoa", " gymnosperms", " mesophilic organisms"}));
  EXPECT_EQ(it.gold, 3);
  EXPECT_EQ(it.choice_lengths, (Lens{7, 8, 11, 20}));
  EXPECT_TRUE(it.has_acc_norm);
  json r2 = rec;
  r2["support"] = "";
  EXPECT_EQ(make_multiple_choice_item("sciq", r2, "s").requests[0].context,
            "\nQuestion: What type of organism is commonly used in preparation of foods?\nAnswer:");
}

TEST(MultipleChoice, SocialIqa) {
  const json rec = {{"context", "Tracy didn't go home that evening and resisted Riley's attacks."},
                    {"question", "What does Tracy need to do before this?"},
                    {"answerA", "make a new plan"},
                    {"answerB", "Go home and see Riley"},
                    {"answerC", "Find somewhere to go"},
                    {"label", "3"}};
  const auto it = make_multiple_choice_item("social_iqa", rec, "q");
  EXPECT_EQ(it.requests[0].context,
            "Q: Tracy didn't go home that evening and resisted Riley's attacks. What does Tracy need to do before "
            "this?\nA:");
  EXPECT_EQ(continuations(it), (Strs{" make a new plan", " Go home and see Riley", " Find somewhere to go"}));
  EXPECT_EQ(it.gold, 2);
  EXPECT_EQ(it.choice_lengths, (Lens{15, 21, 20}));
  EXPECT_FALSE(it.has_acc_norm);
  json r2 = rec;
  r2["label"] = 1;
  EXPECT_EQ(make_multiple_choice_item("social_iqa", r2, "q").gold, 0);
  r2["label"] = "2\n";  // as old copies of the dataset have it; Jinja's |int accepts it
  EXPECT_EQ(make_multiple_choice_item("social_iqa", r2, "q").gold, 1);
  r2["label"] = "0";
  EXPECT_NE(error_of("social_iqa", r2).find("\"1\", \"2\" or \"3\""), std::string::npos);
}

TEST(Lambada, SplitsAtTheLastSpace) {
  auto req = make_lambada_request({{"text", "he looked at the old clock"}}, "l");
  EXPECT_EQ(req.context, "he looked at the old");
  EXPECT_EQ(req.continuation, " clock");
  req = make_lambada_request({{"text", "a\nb  c"}}, "l");  // split(' '), not split(): "\n" is no separator
  EXPECT_EQ(req.context, "a\nb ");
  EXPECT_EQ(req.continuation, " c");
  req = make_lambada_request({{"text", "word"}}, "l");
  EXPECT_EQ(req.context, "");
  EXPECT_EQ(req.continuation, " word");
  try {
    (void)make_lambada_request({{"txt", "x"}}, "lambada.jsonl:4");
    FAIL() << "no BadInput";
  } catch (const BadInput& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("lambada.jsonl:4"), std::string::npos) << m;
    EXPECT_NE(m.find("'text'"), std::string::npos) << m;
  }
}

std::vector<std::int32_t> bytes(std::string_view s) {
  std::vector<std::int32_t> v;
  for (unsigned char c : s) v.push_back(c);
  return v;
}

TEST(EncodePair, ByteTokenizerMovesTrailingWhitespace) {
  const auto tok = make_byte_tokenizer();
  auto p = encode_pair(*tok, "Answer:", " yes");
  EXPECT_EQ(p.first, bytes("Answer:"));
  EXPECT_EQ(p.second, bytes(" yes"));
  // lambada's "x " context: the space moves onto the continuation.
  p = encode_pair(*tok, "a b ", " c");
  EXPECT_EQ(p.first, bytes("a b"));
  EXPECT_EQ(p.second, bytes("  c"));
  // Python rstrip() takes Unicode whitespace: NBSP and a newline move too.
  p = encode_pair(*tok, "x\n\u00a0", "y");
  EXPECT_EQ(p.first, bytes("x"));
  EXPECT_EQ(p.second, bytes("\n\u00a0y"));
  // No special tokens, even where the tokenizer would add BOS.
  const auto with_bos = make_byte_tokenizer(256, 257);
  p = encode_pair(*with_bos, "ab", "c");
  EXPECT_EQ(p.first, bytes("ab"));
  EXPECT_EQ(p.second, bytes("c"));
}

TEST(EncodePair, EmptyContextGetsThePrefixToken) {
  const auto bos_eos = make_byte_tokenizer(256, 257);
  const auto eos_only = make_byte_tokenizer(std::nullopt, 257);
  const auto none = make_byte_tokenizer();
  // encode_pair itself leaves the context empty (as _encode_pair would) ...
  auto p = encode_pair(*bos_eos, "", " word");
  EXPECT_TRUE(p.first.empty());
  EXPECT_EQ(p.second, bytes(" word"));
  // ... encode_request puts BOS, else EOS, there, as TemplateLM.loglikelihood does.
  p = encode_request(*bos_eos, "", " word");
  EXPECT_EQ(p.first, (Ids{256}));
  EXPECT_EQ(p.second, bytes(" word"));
  EXPECT_EQ(encode_request(*eos_only, "", " word").first, (Ids{257}));
  EXPECT_THROW((void)encode_request(*none, "", " word"), BadInput);
  EXPECT_EQ(loglikelihood_prefix_token(*eos_only), 257);
  // A whitespace-only context: the whitespace moves, and the prefix token stands in (lm-eval would leave none).
  p = encode_request(*bos_eos, "  ", "x");
  EXPECT_EQ(p.first, (Ids{256}));
  EXPECT_EQ(p.second, bytes("  x"));
  // A non-empty context is encode_pair's.
  p = encode_request(*bos_eos, "ab ", "c");
  EXPECT_EQ(p.first, bytes("ab"));
  EXPECT_EQ(p.second, bytes(" c"));
}

std::filesystem::path llama2_dir() {
  const auto shared = test::shared_dir();
  return shared.empty() ? shared : shared / "data/tokenizers/llama2";
}

TEST(EncodePair, SentencePieceJointDiffersFromSeparate) {
  const auto dir = llama2_dir();
  LMSCOPE_REQUIRE_PATH(dir.empty() ? dir : dir / "tokenizer.model", "../shared/data/tokenizers/llama2/tokenizer.model");
  const auto tok = load_tokenizer(dir);
  EncodeOptions plain;
  plain.add_bos = false;
  plain.add_eos = false;

  const std::string ctx = "Question: Is the sky blue?\nAnswer:";
  auto p = encode_pair(*tok, ctx, " yes");
  const auto whole = tok->encode(ctx + " yes", plain);
  EXPECT_EQ(p.first, tok->encode(ctx, plain));
  ASSERT_LE(p.first.size(), whole.size());
  EXPECT_EQ(p.second, Ids(whole.begin() + static_cast<std::ptrdiff_t>(p.first.size()), whole.end()));
  // Separately, SentencePiece's dummy prefix makes " yes" "▁▁yes"-like; jointly it is the single piece "▁yes".
  const auto separate = tok->encode(" yes", plain);
  EXPECT_EQ(p.first, (Ids{894, 29901, 1317, 278, 14744, 7254, 29973, 13, 22550, 29901}));
  EXPECT_EQ(p.second, (Ids{4874}));       // "▁yes"
  EXPECT_EQ(separate, (Ids{29871, 4874}));  // "▁" "▁yes"
  EXPECT_NE(p.second, separate);
  EXPECT_EQ(p.second.size(), 1u);
  EXPECT_EQ(tok->decode(p.second), "yes");  // SentencePiece decoding drops the leading space of the first piece
  EXPECT_GT(separate.size(), p.second.size());

  // Token boundaries can cross the join: "ma" + "t" is one piece "▁mat" jointly, so the split at len(ctx) takes
  // tokens that were not the continuation's text: here the whole string has as many tokens as the context, and
  // the continuation gets NO tokens (lm-eval then scores loglik 0, greedy true).
  const std::string c2 = "The cat sat on the ma";
  p = encode_pair(*tok, c2, "t");
  EXPECT_EQ(p.first, (Ids{450, 6635, 3290, 373, 278, 611}));  // ... "▁the" "▁ma"
  EXPECT_TRUE(p.second.empty());
  EXPECT_EQ(tok->encode(c2 + "t", plain), (Ids{450, 6635, 3290, 373, 278, 1775}));  // ... "▁the" "▁mat"
  EXPECT_EQ(tok->decode(Ids{1775}), "mat");
  const auto whole2 = tok->encode(c2 + "t", plain);
  const auto ctx2 = tok->encode(c2, plain);
  EXPECT_EQ(p.first, ctx2);
  EXPECT_EQ(p.second, Ids(whole2.begin() + std::min(ctx2.size(), whole2.size()), whole2.end()));
  EXPECT_NE(Ids(whole2.begin(), whole2.begin() + std::min(ctx2.size(), whole2.size())), ctx2);
  EXPECT_NE(p.second, tok->encode("t", plain));

  // The empty context with Llama 2: BOS (1), then the continuation encoded alone.
  p = encode_request(*tok, "", " word");
  EXPECT_EQ(p.first, (Ids{1}));
  EXPECT_EQ(p.second, tok->encode(" word", plain));
}

std::vector<json> read_jsonl(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

TEST(MultipleChoice, WholePiqaValidation) {
  const auto shared = test::shared_dir();
  const auto path = shared.empty() ? shared : shared / "data/piqa/validation.jsonl";
  LMSCOPE_REQUIRE_PATH(path, "../shared/data/piqa/validation.jsonl");
  const auto recs = read_jsonl(path);
  ASSERT_EQ(recs.size(), 1838u);
  // Totals computed in Python from the same file: sum of label, of len(sol1) + len(sol2) (code points; the
  // UTF-8 byte total would be 361,233: 32 items have non-ASCII choices), of len(context.encode()).
  int gold_sum = 0;
  double length_sum = 0;
  std::size_t context_bytes = 0;
  for (std::size_t i = 0; i < recs.size(); ++i) {
    const auto it = make_multiple_choice_item("piqa", recs[i], "piqa/validation.jsonl:" + std::to_string(i + 1));
    ASSERT_EQ(it.requests.size(), 2u);
    ASSERT_TRUE(it.gold == 0 || it.gold == 1);
    ASSERT_TRUE(it.has_acc_norm);
    gold_sum += it.gold;
    for (double l : it.choice_lengths) length_sum += l;
    context_bytes += it.requests[0].context.size();
  }
  EXPECT_EQ(gold_sum, 928);
  EXPECT_EQ(length_sum, 361059);
  EXPECT_EQ(context_bytes, 99400u);
  const auto first = make_multiple_choice_item("piqa", recs[0], "piqa:1");
  EXPECT_EQ(first.requests[0].context, "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:");
  EXPECT_EQ(first.gold, 0);
  const auto second = make_multiple_choice_item("piqa", recs[1], "piqa:2");
  EXPECT_EQ(second.requests[1].continuation, " finish, woodgrain with  bobby pin ");
}

TEST(Lambada, WholeOpenAiTestSet) {
  const auto shared = test::shared_dir();
  const auto path = shared.empty() ? shared : shared / "data/lambada_openai/test.jsonl";
  LMSCOPE_REQUIRE_PATH(path, "../shared/data/lambada_openai/test.jsonl");
  const auto recs = read_jsonl(path);
  ASSERT_EQ(recs.size(), 5153u);
  const auto byte_tok = make_byte_tokenizer(256, 257);
  std::size_t continuation_len = 0, context_bytes = 0;
  for (std::size_t i = 0; i < recs.size(); ++i) {
    const auto req = make_lambada_request(recs[i], "lambada_openai/test.jsonl:" + std::to_string(i + 1));
    const auto& text = recs[i]["text"].get_ref<const std::string&>();
    if (text.find(' ') != std::string::npos)
      ASSERT_EQ(req.context + req.continuation, text) << i;  // the split takes nothing away
    else
      ASSERT_EQ(req.continuation, " " + text) << i;
    ASSERT_EQ(req.continuation[0], ' ');
    continuation_len += python_len(req.continuation);
    context_bytes += req.context.size();
    const auto p = encode_request(*byte_tok, req.context, req.continuation);
    ASSERT_FALSE(p.first.empty());
    ASSERT_FALSE(p.second.empty());
  }
  EXPECT_EQ(make_lambada_request(recs[0], "l").continuation, " signs");
  EXPECT_EQ(continuation_len, 34377u);  // Python, same file: sum of len(" " + last word)
  EXPECT_EQ(context_bytes, 1654414u);   // and of len(context.encode())
}

}  // namespace
}  // namespace lmscope::eval

namespace lmscope::eval {
namespace {

// lm-eval adds the BOS of Gemma models to every encoding (HFLM's add_bos_token for model types containing "gemma");
// for other models requests carry no special tokens. The fixture tokenizers' folders hold a config.json naming
// their model_type.
TEST(MultipleChoice, GemmaRequestsCarryTheBosLmEvalAdds) {
  const auto fixtures = std::filesystem::path(LMSCOPE_SOURCE_DIR) / "tests" / "fixtures" / "tokenizers";
  const auto gemma = load_tokenizer(fixtures / "gemma2");
  ASSERT_TRUE(gemma->lm_eval_adds_special_tokens());
  ASSERT_TRUE(gemma->bos_id());
  const auto [ctx, cont] = encode_request(*gemma, "The harbour was", " quiet", false);
  ASSERT_FALSE(ctx.empty());
  EXPECT_EQ(ctx.front(), *gemma->bos_id());
  ASSERT_FALSE(cont.empty());
  EXPECT_NE(cont.front(), *gemma->bos_id());  // whole[len(ctx):]: the BOS stays with the context
  const auto mistral = load_tokenizer(fixtures / "mistral");
  ASSERT_FALSE(mistral->lm_eval_adds_special_tokens());
  const auto [mctx, mcont] = encode_request(*mistral, "The harbour was", " quiet", false);
  ASSERT_FALSE(mctx.empty());
  if (mistral->bos_id()) EXPECT_NE(mctx.front(), *mistral->bos_id());  // its tokenizer would add one; lm-eval does not
}

}  // namespace
}  // namespace lmscope::eval
