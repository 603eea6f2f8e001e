// Issue 20: hostile inputs end to end through lmscope-cli. Each case asserts the exit code (2: bad input, with a
// message saying what to fix; 1: an output that could not be written), the message, and a generous bound on time
// (and, outside sanitizer builds, a 4 GiB address-space limit): never a crash, never a hang, never a silent number.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "lmscope/random_checkpoint.h"
#include "lmscope/run/results_store.h"
#include "lmscope/safetensors.h"
#include "support/cli_runner.h"
#include "support/test_support.h"
#include "support/worker_process.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::CliResult;

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

// Runs bounded and checks what every case must: the exit code, each fragment in the message, and the time.
CliResult expect_exit(int code, const std::string& args, std::initializer_list<std::string> fragments,
                      double max_seconds = 30) {
  const auto r = test::run_cli_bounded(args);
  EXPECT_EQ(r.code, code) << args << "\n" << r.out;
  for (const auto& f : fragments) EXPECT_NE(r.out.find(f), std::string::npos) << "missing '" << f << "' in:\n" << r.out;
  EXPECT_LT(r.seconds, max_seconds) << args;
  EXPECT_EQ(r.out.find("internal error"), std::string::npos) << r.out;
  return r;
}

// The safetensors file rebuilt with its header text changed by `edit` (length and padding recomputed).
void rewrite_header(const fs::path& file, const std::function<std::string(std::string)>& edit) {
  const std::string bytes = test::read_text(file);
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  std::string header = edit(bytes.substr(8, n));
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  const std::uint64_t m = header.size();
  std::memcpy(out.data(), &m, 8);
  test::write_text(file, out + header + bytes.substr(8 + n));
}

// Overwrites element 0 of a float32 tensor in the file with `value`.
void poke_f32(const fs::path& file, const std::string& tensor, float value) {
  std::size_t offset = 0;
  {
    const auto f = SafetensorsFile::open(file);
    const auto* t = f.find(tensor);
    ASSERT_NE(t, nullptr);
    ASSERT_EQ(t->dtype, DType::F32);
    offset = static_cast<std::size_t>(t->data - t->file->data());
  }
  std::string bytes = test::read_text(file);
  std::memcpy(bytes.data() + offset, &value, 4);
  test::write_text(file, bytes);
}

class HostileInput : public ::testing::Test {
 protected:
  void SetUp() override {
    model = tmp.path / "m";
    write_random_checkpoint(test::tiny_llama_config({{"vocab_size", 256}, {"max_position_embeddings", 64}}).dump(), model,
                            {.seed = 3, .stddev = 0.3f});
    text = tmp.path / "text.txt";
    test::write_text(text, "The tide came in over the flat grey sand. A gull circled twice above the harbour. ");
  }
  std::string run_args(const std::string& task_and_settings) const {
    return "run --model " + q(model) + " --tokenizer bytes --store " + q(tmp.path / "s.sqlite") + " " + task_and_settings;
  }
  void set_config(const json& patch) {
    auto j = test::tiny_llama_config({{"vocab_size", 256}, {"max_position_embeddings", 64}});
    j.merge_patch(patch);
    test::write_text(model / "config.json", j.dump());
  }
  test::TempDir tmp;
  fs::path model, text;
};

// --- crashes by signal ---

TEST_F(HostileInput, Mamba2ChunkSizeBeyondTheLimitIsRefusedByName) {
  const auto m2 = tmp.path / "mamba2";
  const json cfg = {{"model_type", "mamba2"}, {"vocab_size", 64}, {"hidden_size", 32}, {"num_hidden_layers", 2},
                    {"num_heads", 4},         {"head_dim", 16},   {"n_groups", 2},     {"state_size", 8},
                    {"expand", 2},            {"chunk_size", 16}, {"layer_norm_epsilon", 1e-5}};
  write_random_checkpoint(cfg.dump(), m2);
  auto big = cfg;
  big["chunk_size"] = 1000000000000ll;
  test::write_text(m2 / "config.json", big.dump());
  expect_exit(2, "logits --model " + q(m2) + " --tokens 1,2,3 --out " + q(tmp.path / "o.safetensors"),
              {"'chunk_size'", "from 1 to 4096"});
}

TEST_F(HostileInput, WorkerSurvivesARequestNestedAHundredThousandDeep) {
  test::WorkerProcess w;
  EXPECT_EQ(w.next()["event"], "ready");
  w.send_line(R"({"cmd": "ping", "id": )" + std::string(100000, '[') + std::string(100000, ']') + "}");
  const auto err = w.next();
  EXPECT_EQ(err["event"], "error");
  EXPECT_EQ(err["kind"], "bad_input");
  EXPECT_NE(err["message"].get<std::string>().find("nested deeper"), std::string::npos) << err;
  w.send({{"id", 7}, {"cmd", "ping"}});
  EXPECT_EQ(w.next()["event"], "pong");
  EXPECT_EQ(w.close_and_wait(), 0);
}

TEST_F(HostileInput, WorkerWhoseReaderGoesAwayStopsWithoutASignal) {
  test::WorkerProcess w;
  EXPECT_EQ(w.next()["event"], "ready");
  w.close_output();
  for (int i = 0; i < 3; ++i) w.send({{"id", i}, {"cmd", "ping"}});
  EXPECT_EQ(w.close_and_wait(), 1);  // an output failure, not death by SIGPIPE (which reads as -13)
}

// --- hangs and runaway memory ---

TEST_F(HostileInput, LayerCountsBeyondTheWeightsAreRefusedBeforeAllocating) {
  set_config({{"num_hidden_layers", 1000000000}});
  expect_exit(2, "inspect --model " + q(model), {"'num_hidden_layers'", "1000000000"}, 10);
  set_config({{"num_hidden_layers", 16000}});
  expect_exit(2, "inspect --model " + q(model), {"16000 layers", "does not belong to these weights"}, 10);
}

TEST_F(HostileInput, RopeGridsAreSizedBeforeTheyExpand) {
  json grid = {{"type", "yarn"}};
  for (const char* k : {"factor", "beta_fast", "beta_slow", "mscale"}) grid[k] = json::array();
  for (int i = 0; i < 100; ++i)
    for (const char* k : {"factor", "beta_fast", "beta_slow", "mscale"}) grid[k].push_back(2 + i);
  const json spec = {{"models", {{{"path", model.string()}, {"tokenizer", "bytes"}}}},
                     {"rope", {grid}},
                     {"tasks", {{{"task", "passkey"}}}}};
  test::write_text(tmp.path / "spec.json", spec.dump());
  expect_exit(2, "run " + q(tmp.path / "spec.json") + " --store " + q(tmp.path / "s.sqlite"),
              {"rope grid expands to more than 10000 settings"}, 10);
}

TEST_F(HostileInput, PasskeyLengthsTrialsAndTokensToGenerateAreBounded) {
  for (const auto& [field, value] : std::vector<std::pair<std::string, json>>{
           {"lengths", json::array({1000000000})}, {"trials", 1000000000}, {"max_new_tokens", 1000000000}}) {
    const json settings = {{field, value}};
    expect_exit(2, run_args("--task passkey --settings '" + settings.dump() + "'"),
                {"task passkey: field '" + field + "' must be", "1000000000"}, 10);
  }
  expect_exit(2, "generate --model " + q(model) + " --tokens 1,2 --max-new 1000000000", {"--max-new", "65536"}, 10);
  expect_exit(2, run_args("--task throughput --settings '{\"batch\": 100000, \"seq\": 100000}'"),
              {"task throughput", "tokens in one pass"}, 10);
}

TEST_F(HostileInput, AFifoAsTheWeightsIsRefusedAndDoesNotBlockTheWorker) {
  const auto fifo_model = tmp.path / "fifo-model";
  fs::create_directories(fifo_model);
  fs::copy_file(model / "config.json", fifo_model / "config.json");
  ASSERT_EQ(mkfifo((fifo_model / "model.safetensors").c_str(), 0600), 0);
  expect_exit(2, "inspect --model " + q(fifo_model), {"model.safetensors", "FIFO", "regular file"}, 10);
  test::WorkerProcess w;
  w.next();
  w.send({{"id", 1}, {"cmd", "inspect"}, {"model", fifo_model.string()}});
  const auto err = w.next();
  EXPECT_EQ(err["kind"], "bad_input");
  EXPECT_NE(err["message"].get<std::string>().find("FIFO"), std::string::npos) << err;
  w.send({{"id", 2}, {"cmd", "ping"}});
  EXPECT_EQ(w.next()["event"], "pong");
  EXPECT_EQ(w.close_and_wait(), 0);
  // The tokenizer loaders open their files themselves: a FIFO among them is refused before they do.
  ASSERT_EQ(mkfifo((fifo_model / "tokenizer.json").c_str(), 0600), 0);
  expect_exit(2, "tokenize --model " + q(fifo_model) + " --text hi", {"tokenizer.json", "FIFO"}, 10);
}

TEST_F(HostileInput, DevicesAndFoldersAsTextAreRefusedByName) {
  expect_exit(2, "tokenize --tokenizer bytes --text-file /dev/zero", {"/dev/zero", "character device"}, 10);
  expect_exit(2, "tokenize --tokenizer bytes --text-file " + q(tmp.path), {"a folder"}, 10);
  expect_exit(2, run_args("--task ppl_vs_length --data /dev/zero"), {"/dev/zero", "character device"}, 10);
}

// --- silently wrong numbers ---

TEST_F(HostileInput, SafetensorsHeaderLengthOneByteShortIsRefused) {
  const auto w = model / "model.safetensors";
  std::string bytes = test::read_text(w);
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  --n;
  std::memcpy(bytes.data(), &n, 8);
  test::write_text(w, bytes);
  // Refused either way: the data area no longer matches the tensors (the usual case, a padded header), or the
  // JSON is cut short (a header that needed no padding).
  const auto r = expect_exit(2, "logits --model " + q(model) + " --tokens 1,2,3 --out " + q(tmp.path / "o.safetensors"),
                             {"model.safetensors"});
  EXPECT_TRUE(r.out.find("data area") != std::string::npos || r.out.find("header") != std::string::npos) << r.out;
}

TEST_F(HostileInput, UnusedBytesAndDuplicateTensorNamesAreRefused) {
  const auto w = model / "model.safetensors";
  const std::string original = test::read_text(w);
  test::write_text(w, original + std::string(16, '\0'));
  expect_exit(2, "inspect --model " + q(model), {"16 bytes after the last tensor"});
  test::write_text(w, original);
  rewrite_header(w, [](std::string h) {
    const auto j = json::parse(h);
    const auto e = j["model.norm.weight"];
    return "{\"model.norm.weight\": " + e.dump() + ", " + h.substr(1);
  });
  expect_exit(2, "inspect --model " + q(model), {"\"model.norm.weight\"", "twice"});
}

TEST_F(HostileInput, NonFiniteWeightsAreRefusedNamingTheTensorUnlessAllowed) {
  poke_f32(model / "model.safetensors", "model.layers.1.mlp.up_proj.weight", std::nanf(""));
  const auto out = tmp.path / "o.safetensors";
  expect_exit(2, "logits --model " + q(model) + " --tokens 1,2,3 --out " + q(out),
              {"'model.layers.1.mlp.up_proj.weight'", "non-finite", "--allow-nonfinite"});
  EXPECT_FALSE(fs::exists(out));
  const auto r = test::run_cli_bounded("logits --model " + q(model) + " --tokens 1,2,3 --allow-nonfinite --out " + q(out));
  EXPECT_EQ(r.code, 0) << r.out;
  // A run on it anyway: the unit that meets the NaN is an error of the run, never a null metric.
  test::write_text(tmp.path / "doc.txt", std::string(200, 'a'));
  expect_exit(2, run_args("--allow-nonfinite --task ppl_vs_length --data " + q(tmp.path / "doc.txt") +
                          " --settings '{\"lengths\": [16]}'"),
              {"unit 0", "non-finite"});
  poke_f32(model / "model.safetensors", "model.layers.1.mlp.up_proj.weight", INFINITY);
  expect_exit(2, "logits --model " + q(model) + " --tokens 1,2,3 --out " + q(out), {"non-finite"});
}

TEST_F(HostileInput, NegativeEpsilonsAndDegenerateRopeParametersAreRefused) {
  set_config({{"rms_norm_eps", -1e-6}});
  expect_exit(2, "inspect --model " + q(model), {"'rms_norm_eps'", "> 0"});
  set_config(json::object());
  const std::string logits = "logits --model " + q(model) + " --tokens 1,2,3 --out " + q(tmp.path / "o.safetensors");
  expect_exit(2, logits + " --rope linear:factor=1e-308", {"factor", "0.001"});
  expect_exit(2, logits + " --rope yarn:factor=4,beta_fast=nan", {"beta_fast"});
  expect_exit(2, logits + " --rope yarn:factor=inf", {"factor"});
  set_config({{"rope_scaling", {{"rope_type", "linear"}, {"factor", 1e-308}}}});
  expect_exit(2, "inspect --model " + q(model), {"factor"});
}

TEST_F(HostileInput, AnEmptyDataFileIsAnErrorNotAnEmptyResult) {
  test::write_text(tmp.path / "empty.txt", "");
  test::write_text(tmp.path / "empty.jsonl", "\n\n");
  const std::vector<std::pair<std::string, std::string>> cases{
      {"--task ppl_vs_length --data " + q(tmp.path / "empty.txt"), "no document"},
      {"--task piqa --data " + q(tmp.path / "empty.jsonl"), "holds no items"},
      {"--task lambada_openai --data " + q(tmp.path / "empty.jsonl"), ""},
      {"--task wikitext --data " + q(tmp.path / "empty.txt"), ""},
      {"--task charlevel --data " + q(tmp.path / "empty.txt"), ""},
      {"--task longppl --data " + q(tmp.path / "empty.txt"), ""},
      {"--task ppl_vs_length --data " + q(text) + " --limit 0", ""}};
  for (const auto& [task, message] : cases) {
    const auto r = expect_exit(2, run_args(task), {message});
    EXPECT_EQ(r.out.find("null"), std::string::npos) << r.out;
  }
}

TEST_F(HostileInput, OutputsThatCannotBeWrittenFailLoudly) {
  const std::string task = "--task ppl_vs_length --data " + q(text) + " --settings '{\"lengths\": [16]}'";
  expect_exit(2, run_args(task + " --out /dev/full"), {"--out /dev/full", "character device"});
  expect_exit(2, run_args(task + " --log-samples /dev/full"), {"--log-samples /dev/full"});
  expect_exit(2, run_args(task + " --out " + q(tmp.path / "no-such-folder" / "r.json")), {"does not exist"});
  // A full disk, as a file-size limit of 20 KiB (40 blocks of dash's 512 bytes; the OpenMP runtime needs a page of
  // shared memory under the same limit) against 64 KiB of logits: the write fails, nothing is left under the name,
  // exit 1.
  const auto out = tmp.path / "logits.safetensors";
  std::string ids = "1";
  for (int i = 2; i <= 64; ++i) ids += "," + std::to_string(i % 200);
  const auto r = test::run_cli_with("ulimit -f 40; ", "logits --model " + q(model) + " --tokens " + ids + " --out " + q(out));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("cannot write the safetensors file " + out.string()), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
  // Standard output that cannot take the result.
  const auto s = test::run_cli_with("", "tokenize --tokenizer bytes --text hello", "sh -c 'exec \"$0\" \"$@\" >/dev/full' ");
  EXPECT_EQ(s.code, 1) << s.out;
  EXPECT_NE(s.out.find("cannot write standard output"), std::string::npos) << s.out;
}

// A unit row written by hand (another process, an old bug): ignored with a warning, never "13/12" forever.
TEST_F(HostileInput, StrayAndEditedUnitRowsAreIgnoredOrRecomputedWithAWarning) {
  const std::string task = "--task ppl_vs_length --data " + q(text) + " --settings '{\"lengths\": [8, 16]}'";
  const auto first = expect_exit(0, run_args(task + " --out " + q(tmp.path / "a.json")), {});
  const auto store = tmp.path / "s.sqlite";
  {
    // A well-formed row for a unit the task run does not have (another program, an older lmscope) ...
    run::ResultsStore s(store);
    const auto key = s.task_runs().at(0).run_key;
    ASSERT_TRUE(s.put_unit(key, 7, s.units(key).at(0)));
  }
  {
    // ... and a row changed by hand behind the store's back.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(store.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE units SET result = result || ' ' WHERE unit = 1;", nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  const auto listed = expect_exit(0, "results --store " + q(store), {"2/2 units"});
  const auto again = expect_exit(0, run_args(task + " --out " + q(tmp.path / "b.json")),
                                 {"warning", "ignoring unit row 7", "unit 1 of task run", "checksum"});
  EXPECT_NE(again.out.find("1 units computed, 1 from the store"), std::string::npos) << again.out;
  EXPECT_EQ(json::parse(test::read_text(tmp.path / "a.json"))["results"],
            json::parse(test::read_text(tmp.path / "b.json"))["results"]);
}

// --- bad input reported as internal error ---

TEST_F(HostileInput, JsonThatOverflowsOrHasWrongTypesIsBadInput) {
  test::write_text(tmp.path / "spec.json", R"({"models": [")" + model.string() + R"("], "tasks": ["passkey"], "seed": 1e400})");
  expect_exit(2, "run " + q(tmp.path / "spec.json") + " --store " + q(tmp.path / "s.sqlite"), {"not valid JSON", "1e400"});
  for (const auto& [field, value] : std::vector<std::pair<std::string, json>>{
           {"name", 5}, {"backend", json::array()}, {"dtype", 1}}) {
    json spec = {{"models", {model.string()}}, {"tasks", {"passkey"}}};
    spec[field] = value;
    test::write_text(tmp.path / "spec.json", spec.dump());
    expect_exit(2, "run " + q(tmp.path / "spec.json") + " --store " + q(tmp.path / "s.sqlite"), {"'" + field + "'"});
  }
  json spec = {{"models", {{{"path", model.string()}, {"tokenizer", "bytes"}}}},
               {"tasks", {{{"task", "passkey"}, {"alias", 3}, {"lengths", {300}}}}}};
  test::write_text(tmp.path / "spec.json", spec.dump());
  expect_exit(2, "run " + q(tmp.path / "spec.json") + " --store " + q(tmp.path / "s.sqlite"), {"'alias'"});
  std::string cfg = test::read_text(model / "config.json");
  cfg.replace(cfg.find("\"vocab_size\":256"), 16, "\"vocab_size\":1e400");
  test::write_text(model / "config.json", cfg);
  expect_exit(2, "inspect --model " + q(model), {"config.json", "not valid JSON"});
}

TEST_F(HostileInput, PathsThatAreNotUtf8OrLoopAreBadInput) {
  const auto latin1 = tmp.path / "mod\xE8le";
  fs::create_directories(latin1);
  fs::copy(model, latin1, fs::copy_options::recursive);
  expect_exit(2, "run --model " + q(latin1) + " --tokenizer bytes --task passkey --store " + q(tmp.path / "s.sqlite"),
              {"not valid UTF-8"});
  fs::create_symlink(tmp.path / "loop-b", tmp.path / "loop-a");
  fs::create_symlink(tmp.path / "loop-a", tmp.path / "loop-b");
  expect_exit(2, "inspect --model " + q(tmp.path / "loop-a"), {"loop-a"});
  expect_exit(2, "run --model " + q(tmp.path / "loop-a") + " --tokenizer bytes --task passkey --store " +
                     q(tmp.path / "s.sqlite"),
              {"loop-a"});
}

TEST_F(HostileInput, CorruptOrReadOnlyStoresAreBadInputNamingTheFile) {
  const auto store = tmp.path / "s.sqlite";
  const std::string task = "--task ppl_vs_length --data " + q(text) + " --settings '{\"lengths\": [8]}'";
  expect_exit(0, run_args(task), {});
  // Damage the middle of the file (the table pages), keeping SQLite's header.
  std::string bytes = test::read_text(store);
  ASSERT_GT(bytes.size(), 4096u);
  for (std::size_t i = 4096 + 16; i < bytes.size(); ++i) bytes[i] = static_cast<char>(0xA5);
  test::write_text(store, bytes);
  expect_exit(2, run_args(task), {store.string(), "damaged", "--store"});
  expect_exit(2, "results --store " + q(store), {store.string()});

  // A store the user may read but not write (as root, for whom file modes do not count, the command runs as
  // nobody; the model and the text are readable by everyone).
  const auto ro = tmp.path / "ro";
  fs::create_directories(ro);
  const auto ro_store = ro / "s.sqlite";
  expect_exit(0, "run --model " + q(model) + " --tokenizer bytes --store " + q(ro_store) + " " + task, {});
  fs::permissions(ro_store, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::others_read | fs::perms::others_exec);
  const std::string as_nobody = geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  const auto denied = test::run_cli_with("", "run --model " + q(model) + " --tokenizer bytes --store " + q(ro_store) +
                                                 " --task ppl_vs_length --data " + q(text) +
                                                 " --settings '{\"lengths\": [16]}'",
                                         as_nobody);
  fs::permissions(ro, fs::perms::owner_all);
  EXPECT_EQ(denied.code, 2) << denied.out;
  EXPECT_NE(denied.out.find(ro_store.string()), std::string::npos) << denied.out;
  EXPECT_NE(denied.out.find("writable"), std::string::npos) << denied.out;
}

}  // namespace
}  // namespace lmscope
