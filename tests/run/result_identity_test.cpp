// Result identity in the engine: which requests are the same measurement (config_id), what events and the store
// carry for the GUI, and data a result would be meaningless on (binary, not UTF-8) refused before any work.
#include <gtest/gtest.h>

#include <fstream>

#include "lmscope/error.h"
#include "lmscope/random_checkpoint.h"
#include "lmscope/run/result_identity.h"
#include "lmscope/run/results_store.h"
#include "lmscope/run/run_spec.h"
#include "lmscope/run/runner.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

using nlohmann::json;

const char* kText =
    "The harbour lies at the mouth of a small river. Boats come in with the tide and leave before dark. In winter "
    "the quay is quiet; in summer it is full of visitors, nets and gulls. An old mill stands beside the river.\n";

class Identity : public ::testing::Test {
 protected:
  void SetUp() override {
    model_dir = tmp.path / "tiny";
    write_random_checkpoint(
        test::tiny_llama_config({{"vocab_size", 256}, {"bos_token_id", 1}, {"eos_token_id", 2}, {"max_position_embeddings", 64}})
            .dump(),
        model_dir, {.seed = 7, .stddev = 0.5f});
    test::write_text(tmp.path / "a.txt", kText);
    std::filesystem::create_directories(tmp.path / "elsewhere");
    test::write_text(tmp.path / "elsewhere" / "a.txt", kText);  // the same text under another path
    test::write_text(tmp.path / "b.txt", std::string(kText) + "A bakery bakes bread every morning.\n");
  }

  // The `start` event's task runs of a run of these tasks (computed; each run is small).
  std::vector<json> planned(const json& tasks) {
    const json spec{{"lmscope_run", 1},
                    {"models", {{{"path", model_dir.string()}, {"name", "tiny"}, {"tokenizer", "bytes"}}}},
                    {"tasks", tasks}};
    run::RunOptions o;
    o.store_path = (tmp.path / "s.sqlite").string();
    std::vector<json> out;
    o.on_event = [&](const json& e) {
      if (e["event"] == "start")
        for (const auto& t : e["task_runs"]) out.push_back(t);
      if (e["event"] == "result" || e["event"] == "partial") events.push_back(e);
    };
    run::execute_run(run::parse_run_spec(spec, tmp.path.string(), "test spec"), o);
    return out;
  }
  static json ppl(const std::string& data, json extra = json::object()) {
    extra["task"] = "ppl_vs_length";
    extra["data"] = data;
    extra["lengths"] = {16, 32};
    return extra;
  }

  test::TempDir tmp;
  std::filesystem::path model_dir;
  std::vector<json> events;
};

TEST_F(Identity, TheSameRequestIsOneIdentityWhateverThePathOrBatch) {
  const auto a = planned(json::array({ppl("a.txt")}));
  const auto moved = planned(json::array({ppl("elsewhere/a.txt", {{"batch_size", 4}})}));
  const auto other = planned(json::array({ppl("b.txt")}));
  const auto fewer = planned(json::array({ppl("a.txt", {{"max_chunks", 1}})}));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0]["config_id"], moved[0]["config_id"]);
  EXPECT_NE(a[0]["config_id"], other[0]["config_id"]);  // other data
  EXPECT_NE(a[0]["config_id"], fewer[0]["config_id"]);  // fewer windows
  EXPECT_EQ(a[0]["config_id"], run::identity_id(a[0]["identity"]));
  EXPECT_EQ(a[0]["alias"], "ppl_vs_length");
  EXPECT_EQ(a[0]["identity"]["settings"].value("max_chunks", -2), -2);
  EXPECT_EQ(fewer[0]["identity"]["settings"]["max_chunks"], 1);
  // the schema's default given explicitly is the same request as leaving it out; another value is not
  const auto explicit_default = planned(json::array({ppl("a.txt", {{"field", "text"}})}));
  const auto other_field = planned(json::array({ppl("a.txt", {{"field", "body"}})}));
  EXPECT_EQ(a[0]["config_id"], explicit_default[0]["config_id"]);
  EXPECT_NE(a[0]["config_id"], other_field[0]["config_id"]);
}

TEST_F(Identity, EventsAndTheStoreCarryTheInstance) {
  planned(json::array({ppl("a.txt", {{"alias", "ppl_vs_length:harbour"}})}));
  ASSERT_FALSE(events.empty());
  for (const auto& e : events) {
    EXPECT_EQ(e["alias"], "ppl_vs_length:harbour");
    EXPECT_EQ(e["config_id"].get<std::string>().size(), 16u);
    EXPECT_EQ(e["dtype"], "fp32");
    EXPECT_FALSE(e["weights"].get<std::string>().empty());
  }
  EXPECT_TRUE(events.back()["identity"].is_object());
  run::ResultsStore store(tmp.path / "s.sqlite");
  const auto rows = store.task_runs();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].alias, "ppl_vs_length:harbour");
  const auto f = run::instance_fields(rows[0]);
  EXPECT_EQ(f["config_id"], events.back()["config_id"]);
}

TEST_F(Identity, BinaryOrNonUtf8DataIsRefusedNamingTheByte) {
  {
    std::ofstream f(tmp.path / "bin.txt", std::ios::binary);
    f << "PK" << '\0' << "\x03\x04 not text";
  }
  {
    std::ofstream f(tmp.path / "latin1.txt", std::ios::binary);
    f << "caf\xe9 au lait and more text";
  }
  try {
    planned(json::array({ppl("bin.txt")}));
    FAIL() << "a binary file was accepted";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("NUL byte at offset 2"), std::string::npos) << e.what();
  }
  try {
    planned(json::array({ppl("latin1.txt")}));
    FAIL() << "a Latin-1 file was accepted";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("not UTF-8 text: byte 0xE9 at offset 3"), std::string::npos) << e.what();
  }
  // nothing was planned, so nothing is in the store for them
  run::ResultsStore store(tmp.path / "s.sqlite");
  EXPECT_TRUE(store.task_runs().empty());
}

}  // namespace
}  // namespace lmscope
