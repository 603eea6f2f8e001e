// Writes a checkpoint folder with random weights for a config.json: the test fixtures and benchmark models of
// full-size configs without downloads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "lmscope/dtype.h"

namespace lmscope {

struct RandomCheckpointOptions {
  std::uint64_t seed = 1;
  DType dtype = DType::F32;  // F32, F16 or BF16
  int shards = 1;            // > 1 writes model-0000i-of-0000N.safetensors + model.safetensors.index.json
  float stddev = 0.02f;      // weights ~ N(0, stddev); norm weights ~ 1 + N(0, stddev)
};

// Validates config_json_text as read_model_spec does, then writes config.json and the weights into dir (created
// if needed). Returns the parameter count.
std::int64_t write_random_checkpoint(const std::string& config_json_text, const std::filesystem::path& dir,
                                     const RandomCheckpointOptions& options = {});

}  // namespace lmscope
