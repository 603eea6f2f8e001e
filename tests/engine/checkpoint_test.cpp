// Checkpoint folders: single file and shards, dtypes, and every way a folder can be wrong.
#include <gtest/gtest.h>

#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "lmscope/model.h"
#include "lmscope/random_checkpoint.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::TempDir;

std::string open_error(const fs::path& dir) {
  try {
    Checkpoint::open(dir);
  } catch (const BadInput& e) {
    return e.what();
  }
  return "accepted";
}

void expect_contains(const std::string& msg, std::initializer_list<std::string> parts) {
  for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "missing '" << p << "' in: " << msg;
}

TEST(Checkpoint, CountsParametersFromTheConfigAndTheFiles) {
  TempDir dir;
  const auto cfg = test::tiny_llama_config();
  const auto written = write_random_checkpoint(cfg.dump(), dir.path);
  const auto ck = Checkpoint::open(dir.path);
  // embed 64*32 + 2 layers * (2*32 + 32*32 + 16*32*2 + 32*32 + 3*48*32) + final norm 32 (tied)
  const std::int64_t expected = 64 * 32 + 2 * (2 * 32 + 32 * 32 + 2 * 16 * 32 + 32 * 32 + 3 * 48 * 32) + 32;
  EXPECT_EQ(written, expected);
  EXPECT_EQ(ck.summary().parameter_count, expected);
  EXPECT_EQ(parameter_count(ck.spec()), expected);
  EXPECT_EQ(ck.summary().dtypes.at("float32"), expected);
  EXPECT_GT(ck.summary().bytes_on_disk, static_cast<std::uint64_t>(expected * 4));
}

TEST(Checkpoint, ShardedBf16AndF16LoadToTheSameModel) {
  TempDir dir;
  const auto cfg = test::tiny_llama_config().dump();
  RandomCheckpointOptions o;
  o.dtype = DType::BF16;
  write_random_checkpoint(cfg, dir.path / "bf16", o);
  o.shards = 3;
  write_random_checkpoint(cfg, dir.path / "bf16-sharded", o);
  o.dtype = DType::F16;
  o.shards = 1;
  write_random_checkpoint(cfg, dir.path / "f16", o);
  write_random_checkpoint(cfg, dir.path / "f32", {});

  const auto single = Checkpoint::open(dir.path / "bf16");
  const auto sharded = Checkpoint::open(dir.path / "bf16-sharded");
  EXPECT_EQ(sharded.summary().files.size(), 3u);
  EXPECT_EQ(sharded.summary().dtypes.at("bfloat16"), single.summary().parameter_count);
  const std::vector<std::int32_t> ids{3, 14, 15, 9, 26, 5};
  const auto a = compute_logits(*load_model(single), ids);
  const auto b = compute_logits(*load_model(sharded), ids);
  EXPECT_EQ(a, b);  // the same bf16 values, however they are split over files
  // Same seed: the f16 and f32 copies hold the same weights to within their rounding.
  const auto c = compute_logits(*load_model(Checkpoint::open(dir.path / "f16")), ids);
  const auto d = compute_logits(*load_model(Checkpoint::open(dir.path / "f32")), ids);
  EXPECT_LT(test::max_abs_diff(c, d), 1e-3);
  EXPECT_LT(test::max_abs_diff(a, d), 1e-2);
}

TEST(Checkpoint, MissingFolderConfigOrWeights) {
  TempDir dir;
  expect_contains(open_error(dir.path / "nope"), {"nope", "not a folder"});
  expect_contains(open_error(dir.path), {"config.json", "no such file"});
  test::write_text(dir.path / "config.json", test::tiny_llama_config().dump());
  expect_contains(open_error(dir.path), {"no model.safetensors or model.safetensors.index.json"});
}

TEST(Checkpoint, MissingTensorNamesTheTensorAndTheExpectedShape) {
  TempDir dir;
  write_random_checkpoint(test::tiny_llama_config().dump(), dir.path);
  // Rewrite the weights without one tensor.
  const auto f = SafetensorsFile::open(dir.path / "model.safetensors");
  std::vector<TensorToWrite> keep;
  for (const auto& [name, v] : f.tensors())
    if (name != "model.layers.1.mlp.up_proj.weight") keep.push_back(tensor_f32(name, v.shape, v.to_f32()));
  write_safetensors(dir.path / "model.safetensors", keep);
  expect_contains(open_error(dir.path), {"model.safetensors", "'model.layers.1.mlp.up_proj.weight' missing", "[48, 32]"});
}

TEST(Checkpoint, MisShapedTensorNamesBothShapes) {
  TempDir dir;
  write_random_checkpoint(test::tiny_llama_config().dump(), dir.path);
  const auto f = SafetensorsFile::open(dir.path / "model.safetensors");
  std::vector<TensorToWrite> out;
  for (const auto& [name, v] : f.tensors()) {
    if (name == "model.layers.0.self_attn.k_proj.weight")
      out.push_back(tensor_f32(name, {32, 32}, std::vector<float>(32 * 32, 0.01f)));
    else
      out.push_back(tensor_f32(name, v.shape, v.to_f32()));
  }
  write_safetensors(dir.path / "model.safetensors", out);
  expect_contains(open_error(dir.path), {"'model.layers.0.self_attn.k_proj.weight'", "[32, 32]", "expected [16, 32]"});
}

TEST(Checkpoint, NonFloatWeightIsRejected) {
  TempDir dir;
  write_random_checkpoint(test::tiny_llama_config().dump(), dir.path);
  const auto f = SafetensorsFile::open(dir.path / "model.safetensors");
  std::vector<TensorToWrite> out;
  for (const auto& [name, v] : f.tensors()) {
    if (name == "model.norm.weight")
      out.push_back(tensor_i64(name, {32}, std::vector<std::int64_t>(32, 1)));
    else
      out.push_back(tensor_f32(name, v.shape, v.to_f32()));
  }
  write_safetensors(dir.path / "model.safetensors", out);
  expect_contains(open_error(dir.path), {"'model.norm.weight'", "I64", "F32, F16 or BF16"});
}

TEST(Checkpoint, ShardIndexErrors) {
  TempDir dir;
  RandomCheckpointOptions o;
  o.shards = 2;
  write_random_checkpoint(test::tiny_llama_config().dump(), dir.path, o);
  const fs::path index = dir.path / "model.safetensors.index.json";
  const json good = json::parse(test::read_text(index));

  json bad = good;
  bad["weight_map"]["model.norm.weight"] = "model-00009-of-00009.safetensors";
  test::write_text(index, bad.dump());
  expect_contains(open_error(dir.path), {"model-00009-of-00009.safetensors", "cannot open"});

  bad = good;
  bad["weight_map"]["model.extra.weight"] = "model-00001-of-00002.safetensors";
  test::write_text(index, bad.dump());
  expect_contains(open_error(dir.path), {"'model.extra.weight'", "listed in model.safetensors.index.json but missing"});

  bad = good;
  bad["weight_map"]["model.norm.weight"] = "../elsewhere.safetensors";
  test::write_text(index, bad.dump());
  expect_contains(open_error(dir.path), {"not a file name in the folder"});

  test::write_text(index, "{\"weight_map\": [1]}");
  expect_contains(open_error(dir.path), {"weight_map"});

  test::write_text(index, good.dump());
  EXPECT_NO_THROW(Checkpoint::open(dir.path));
}

TEST(Checkpoint, TruncatedWeightFileIsReportedNotCrashed) {
  TempDir dir;
  write_random_checkpoint(test::tiny_llama_config().dump(), dir.path);
  const fs::path w = dir.path / "model.safetensors";
  fs::resize_file(w, fs::file_size(w) - 100);
  expect_contains(open_error(dir.path), {"model.safetensors", "past the end"});
}

}  // namespace
}  // namespace lmscope
