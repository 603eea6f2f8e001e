// The charlevel task end to end through the runner, on files the tests write: every metric on every text source,
// the same numbers from the same text whatever its container, the standard splits, the cost metrics, refusals.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "lmscope/model.h"
#include "lmscope/random_checkpoint.h"
#include "lmscope/run/runner.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

using nlohmann::json;

// 9 characters in 17 bytes: C a f é(2) space 東(3) 京(3) 🙂(4) !
const std::string kShort = "Caf\xC3\xA9 \xE6\x9D\xB1\xE4\xBA\xAC\xF0\x9F\x99\x82!";
const std::vector<std::size_t> kShortChars{1, 1, 1, 2, 1, 3, 3, 4, 1};

// Our own paragraph, with a few characters outside ASCII.
const std::string kText =
    "The harbour lies at the mouth of a small river. Boats come in with the tide and leave before dark. "
    "In winter the quay is quiet; in summer it is full of visitors, nets and gulls. An old mill stands beside "
    "the river \xE2\x80\x94 its wheel turned for two hundred years, grinding wheat for the caf\xC3\xA9 and the bakery. "
    "Bread is baked there every morning before sunrise, except on Sundays, when the ovens rest.\n";

const std::vector<std::string> kAccuracyMetrics{
    "bits_per_char",      "bits_per_byte",      "char_perplexity", "byte_perplexity",       "compression_ratio",
    "next_char_accuracy", "next_byte_accuracy", "avg_char_prob",   "avg_byte_prob",         "continuation_accuracy",
    "continuation_exact_match"};
const std::vector<std::string> kCostMetrics{"score_ms_per_char@batch1",    "score_ms_per_char@batch2",
                                            "generate_ms_per_char@batch1", "generate_ms_per_char@batch2",
                                            "peak_host_mib",               "weights_mib"};

class CharlevelRun : public ::testing::Test {
 protected:
  void SetUp() override {
    model_dir = tmp.path / "tiny";
    write_random_checkpoint(test::tiny_llama_config({{"vocab_size", 256}, {"bos_token_id", 1}, {"eos_token_id", 2},
                                                     {"max_position_embeddings", 64}})
                                .dump(),
                            model_dir, {.seed = 11, .stddev = 0.5f});
  }

  // Small settings so every unit kind runs in milliseconds.
  static json task(json extra) {
    json t{{"task", "charlevel"},          {"continuation_items", 5}, {"continuation_chars", 4},
           {"continuation_prefix_chars", 8}, {"latency_windows", 2},   {"latency_batch", 2}};
    t.merge_patch(extra);
    return t;
  }

  json run(const json& tasks, const std::string& model = "") const {
    json spec{{"lmscope_run", 1},
              {"models", {{{"path", model.empty() ? model_dir.string() : model}, {"name", "m"}, {"tokenizer", "bytes"}}}},
              {"tasks", tasks}};
    run::RunOptions o;
    o.store_path = (tmp.path / ("s" + std::to_string(runs_++) + ".sqlite")).string();
    const auto out = run::execute_run(run::parse_run_spec(spec, tmp.path.string(), "test spec"), o);
    EXPECT_TRUE(out.complete);
    return out.results;
  }

  std::string error_of(const json& t) const {
    try {
      run(json::array({t}));
    } catch (const BadInput& e) {
      return e.what();
    }
    return "no error";
  }

  test::TempDir tmp;
  std::filesystem::path model_dir;
  mutable int runs_ = 0;
};

TEST_F(CharlevelRun, MetricsAreTheDefinitionsAppliedToTheModelsByteScores) {
  // One window (17 bytes < L = 64): [BOS] + text[0..16) predicts text[0..17).
  test::write_text(tmp.path / "short.txt", kShort);
  const auto r = run(json::array({task({{"data", "short.txt"}, {"continuation_prefix_chars", 3},
                                        {"continuation_chars", 2}})}));
  const auto& m = r["results"]["charlevel"];

  const auto ck = Checkpoint::open(model_dir);
  const auto model = load_model(ck);
  std::vector<std::int32_t> ids{1};
  for (unsigned char c : kShort) ids.push_back(c);
  std::vector<std::uint8_t> greedy;
  const auto lp = next_token_logprobs(*model, ids, &greedy);
  ASSERT_EQ(lp.size(), kShort.size());
  double nll = 0, char_prob = 0, byte_prob = 0;
  int chars_ok = 0, bytes_ok = 0;
  std::size_t at = 0;
  for (auto n : kShortChars) {
    double c = 0;
    bool ok = true;
    for (std::size_t i = at; i < at + n; ++i) {
      c += lp[i];
      byte_prob += std::exp(lp[i]);
      bytes_ok += greedy[i];
      ok = ok && greedy[i];
    }
    nll -= c;
    char_prob += std::exp(c);
    chars_ok += ok;
    at += n;
  }
  const double C = 9, B = 17, bits = nll / std::log(2.0);
  // The run scores its windows in one batch, the reference here one by one: with OpenBLAS's thread count (16 on the
  // GPU machine) the sums round differently at ~1e-8 relative, which exp() of a large NLL turns into ~2e-7.
  auto near = [&](const char* k, double want) {
    EXPECT_NEAR(m[std::string(k) + ",none"].get<double>(), want, 1e-6 * std::max(1.0, std::abs(want))) << k;
  };
  near("bits_per_char", bits / C);
  near("bits_per_byte", bits / B);
  near("char_perplexity", std::exp(nll / C));
  near("byte_perplexity", std::exp(nll / B));
  near("compression_ratio", 8 * B / bits);
  near("next_char_accuracy", chars_ok / C);
  near("next_byte_accuracy", bytes_ok / B);
  near("avg_char_prob", char_prob / C);
  near("avg_byte_prob", byte_prob / B);
  EXPECT_EQ(r["lmscope"]["details"]["charlevel"]["scoring"]["chars"], 9);
  EXPECT_EQ(r["lmscope"]["details"]["charlevel"]["scoring"]["bytes"], 17);
}

TEST_F(CharlevelRun, EverySourceGetsEveryMetricWithCostBeside) {
  test::write_text(tmp.path / "wiki.test.raw", " = Harbour = \n" + kText);
  test::write_text(tmp.path / "docs.jsonl", json{{"body", kText}}.dump() + "\n" + json{{"body", kText + kShort}}.dump() + "\n");
  test::write_text(tmp.path / "docs.json", json::array({kText}).dump());
  for (const auto& t : {task({{"data", "wiki.test.raw"}}), task({{"data", "docs.jsonl"}, {"field", "body"}}),
                        task({{"data", "docs.json"}})}) {
    const auto r = run(json::array({t}));
    const auto& m = r["results"]["charlevel"];
    for (const auto& k : kAccuracyMetrics) {
      ASSERT_TRUE(m.contains(k + ",none")) << t["data"] << " lacks " << k;
      EXPECT_TRUE(std::isfinite(m[k + ",none"].get<double>())) << k;
    }
    for (const auto& k : kCostMetrics) {  // present and positive; their values are not asserted (no timing in CI)
      ASSERT_TRUE(m.contains(k + ",none")) << t["data"] << " lacks " << k;
      EXPECT_GT(m[k + ",none"].get<double>(), 0.0) << k;
    }
    EXPECT_GE(m["bits_per_char,none"].get<double>(), m["bits_per_byte,none"].get<double>());  // >= 1 byte per character
    EXPECT_TRUE(m["continuation_accuracy_stderr,none"].is_number());
    const auto& d = r["lmscope"]["details"]["charlevel"];
    // what was not computed says why: a CPU run has no device memory, a Llama no ternary weights
    EXPECT_NE(d["not_computed"]["peak_device_mib"].get<std::string>().find("cpu"), std::string::npos);
    EXPECT_NE(d["not_computed"]["ternary_packed_mib"].get<std::string>().find("ternary"), std::string::npos);
    // continuation_accuracy is the mean of the per-position rates (every item has all positions)
    const auto& rate = d["continuation"]["accuracy_by_position"];
    ASSERT_EQ(rate.size(), 4u);
    double mean = 0;
    for (const auto& x : rate) mean += x.get<double>() / 4;
    EXPECT_NEAR(m["continuation_accuracy,none"].get<double>(), mean, 1e-12);
    EXPECT_EQ(d["continuation"]["items"], 5);
    // the latency probe continued 2 items one at a time and together: the same text either way
    const auto& gen = d["latency"]["generation"];
    ASSERT_EQ(gen.size(), 2u);
    EXPECT_EQ(gen[0]["batch"], 1);
    EXPECT_EQ(gen[1]["batch"], 2);
    EXPECT_EQ(gen[1]["same_text_as_batch1"], true);
    EXPECT_EQ(gen[0]["chars"], gen[1]["chars"]);
    EXPECT_LE(gen[0]["chars"].get<std::int64_t>(), 2 * 5);  // n characters, or n + 1 when the last byte finishes two
    EXPECT_LT(gen[1]["decode_passes"].get<std::int64_t>(), gen[0]["decode_passes"].get<std::int64_t>());
  }
}

TEST_F(CharlevelRun, TheSameTextGivesTheSameNumbersInEveryContainer) {
  test::write_text(tmp.path / "text.txt", kText);
  test::write_text(tmp.path / "text.jsonl", json{{"text", kText}}.dump() + "\n");
  // enwik8's test split begins at byte 95,000,000: a sparse file of exactly 10^8 bytes with our text there
  const auto enwik = tmp.path / "enwik8";
  { std::ofstream f(enwik, std::ios::binary); }
  std::filesystem::resize_file(enwik, 100'000'000);
  {
    std::fstream f(enwik, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(95'000'000);
    f << kText;
  }
  const auto seg = static_cast<std::int64_t>(kText.size());
  const auto a = run(json::array({task({{"data", "text.txt"}})}))["results"]["charlevel"];
  const auto b = run(json::array({task({{"data", "text.jsonl"}})}))["results"]["charlevel"];
  const auto c = run(json::array({task({{"data", "enwik8"}, {"split", "enwik8-test"}, {"segment_bytes", seg},
                                        {"limit", 1}})}))["results"]["charlevel"];
  for (const auto& k : kAccuracyMetrics) {
    EXPECT_EQ(a[k + ",none"], b[k + ",none"]) << k;
    EXPECT_EQ(a[k + ",none"], c[k + ",none"]) << k;
  }
}

TEST_F(CharlevelRun, TheRunsBatchSizeChangesCostNotResults) {
  // Continuation units decode batch_size items together: every item's text is the same as one item at a time.
  // Scoring batch_size windows in one pass changes the scores by rounding only (docs/evaluation.md).
  // The trained demo byte model, so that continuations are right often enough for a difference to show.
  const auto demo = std::filesystem::path(LMSCOPE_SOURCE_DIR) / "resources/models/demo-bytes";
  LMSCOPE_REQUIRE_PATH(demo / "model.safetensors", "resources/models/demo-bytes");
  test::write_text(tmp.path / "text.txt", kText);
  const json t = task({{"data", "text.txt"}, {"continuation_items", 12}, {"continuation_prefix_chars", 48},
                       {"continuation_chars", 8}, {"max_length", 96}});
  json t4 = t;
  t4["batch_size"] = 4;
  const auto one = run(json::array({t}), demo.string());
  const auto four = run(json::array({t4}), demo.string());
  for (const auto& k : kAccuracyMetrics) {
    const auto a = one["results"]["charlevel"][k + ",none"].get<double>(), b = four["results"]["charlevel"][k + ",none"].get<double>();
    if (k.rfind("continuation", 0) == 0) EXPECT_EQ(a, b) << k;
    else EXPECT_NEAR(a, b, 1e-5 * std::abs(a)) << k;
  }
  EXPECT_GT(one["results"]["charlevel"]["continuation_accuracy,none"].get<double>(), 0.1);
  EXPECT_EQ(one["lmscope"]["details"]["charlevel"]["continuation"]["batch_sizes"], json::array({1}));
  EXPECT_EQ(four["lmscope"]["details"]["charlevel"]["continuation"]["batch_sizes"], json::array({4}));
}

TEST_F(CharlevelRun, ATernaryCheckpointReportsItsPackedSize) {
  const auto bitnet = tmp.path / "bitnet";
  write_random_checkpoint(json{{"model_type", "bitnet"}, {"vocab_size", 256}, {"hidden_size", 32}, {"num_hidden_layers", 2},
                               {"intermediate_size", 48}, {"num_heads", 4}, {"num_kv_heads", 2}, {"bos_token_id", 1},
                               {"eos_token_id", 2}, {"max_position_embeddings", 64}}
                              .dump(),
                          bitnet);
  test::write_text(tmp.path / "text.txt", kText);
  const auto r = run(json::array({task({{"data", "text.txt"}})}), bitnet.string());
  const auto& m = r["results"]["charlevel"];
  const auto ck = Checkpoint::open(bitnet);
  EXPECT_DOUBLE_EQ(m["ternary_packed_mib,none"].get<double>(),
                   static_cast<double>(ternary_packed_bytes(ck.summary(), 2.0)) / (1024.0 * 1024.0));
  EXPECT_DOUBLE_EQ(m["weights_mib,none"].get<double>(), static_cast<double>(ck.summary().bytes_on_disk) / (1024.0 * 1024.0));
  EXPECT_LT(m["ternary_packed_mib,none"].get<double>(), m["weights_mib,none"].get<double>());
}

TEST_F(CharlevelRun, WhatCannotBeComputedIsRefusedOrNamed) {
  test::write_text(tmp.path / "text.txt", kText);
  test::write_text(tmp.path / "text.jsonl", json{{"text", kText}}.dump() + "\n");
  EXPECT_NE(error_of(task({{"data", "text.txt"}, {"split", "enwik8-test"}})).find("100,000,000"), std::string::npos);
  EXPECT_NE(error_of(task({{"data", "text.jsonl"}, {"split", "enwik8-test"}})).find(".jsonl"), std::string::npos);
  EXPECT_NE(error_of(task({{"data", "text.txt"}, {"split", "enwik10-test"}})).find("enwik8-test"), std::string::npos);
  EXPECT_NE(error_of(task({{"data", "text.txt"}, {"continuation_prefix_chars", 1000}})).find("continuation_items to 0"),
            std::string::npos);
  EXPECT_NE(error_of(task({{"data", "text.txt"}, {"continuation_chars", 64}})).find("continuation_chars"), std::string::npos);
  // bounded settings: out-of-range values are refused naming the field, before anything is planned or allocated
  EXPECT_NE(error_of(task({{"data", "text.txt"}, {"continuation_items", -1}})).find("continuation_items"), std::string::npos);
  EXPECT_NE(error_of(task({{"data", "text.txt"}, {"continuation_prefix_chars", 0}})).find("continuation_prefix_chars"),
            std::string::npos);
  EXPECT_NE(error_of(task({{"data", "text.txt"}, {"latency_batch", 0}})).find("latency_batch"), std::string::npos);
  EXPECT_NE(error_of(task({{"data", "text.txt"}, {"latency_windows", 1ll << 40}})).find("latency_windows"), std::string::npos);
  // switched off by the user: the metrics are absent and details say why
  const auto r = run(json::array({task({{"data", "text.txt"}, {"continuation_items", 0}, {"latency_windows", 0}})}));
  EXPECT_FALSE(r["results"]["charlevel"].contains("continuation_accuracy,none"));
  EXPECT_FALSE(r["results"]["charlevel"].contains("score_ms_per_char@batch1,none"));
  const auto& nc = r["lmscope"]["details"]["charlevel"]["not_computed"];
  EXPECT_EQ(nc["continuation_accuracy"], "continuation_items is 0");
  EXPECT_EQ(nc["score_ms_per_char@batch1"], "latency_windows is 0");
  EXPECT_EQ(nc["generate_ms_per_char@batch1"], "continuation_items is 0");
}

TEST_F(CharlevelRun, TheTrainedByteModelContinuesEnglish) {
  // The shipped demo byte model (resources/models/demo-bytes) has learnt English: greedy continuation of our own
  // paragraph must get some characters right, which a misplaced prompt or target would not.
  const auto demo = std::filesystem::path(LMSCOPE_SOURCE_DIR) / "resources/models/demo-bytes";
  LMSCOPE_REQUIRE_PATH(demo / "model.safetensors", "resources/models/demo-bytes");
  test::write_text(tmp.path / "text.txt", kText);
  const auto r = run(json::array({task({{"data", "text.txt"}, {"continuation_items", 8}, {"continuation_prefix_chars", 48},
                                        {"continuation_chars", 8}, {"max_length", 96}})}),
                     demo.string());
  const auto& m = r["results"]["charlevel"];
  EXPECT_GT(m["next_char_accuracy,none"].get<double>(), 0.3);
  EXPECT_GT(m["continuation_accuracy,none"].get<double>(), 0.1);
  EXPECT_LT(m["bits_per_char,none"].get<double>(), 4.0);
}

}  // namespace
}  // namespace lmscope
