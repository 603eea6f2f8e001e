#include "lmscope/random_checkpoint.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "lmscope/safetensors.h"

namespace lmscope {

namespace fs = std::filesystem;

std::int64_t write_random_checkpoint(const std::string& config_json_text, const fs::path& dir,
                                     const RandomCheckpointOptions& o) {
  if (!dtype_is_float_weight(o.dtype)) throw BadInput("random checkpoint: dtype must be F32, F16 or BF16");
  if (o.shards < 1) throw BadInput("random checkpoint: shards must be >= 1");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw BadInput(dir.string() + ": cannot create folder: " + ec.message());
  {
    std::ofstream out(dir / "config.json");
    out << config_json_text;
    if (!out) throw BadInput((dir / "config.json").string() + ": cannot write");
  }
  const ModelSpec spec = read_model_spec(dir / "config.json");
  // Every tensor is generated in memory before it is written: a config beyond this machine's memory is refused
  // before the first one is.
  const auto bytes = static_cast<double>(parameter_count(spec)) * static_cast<double>(dtype_size(o.dtype));
  const auto ram = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGE_SIZE));
  if (ram > 0 && bytes > ram)
    throw BadInput("random checkpoint: this config has " + std::to_string(parameter_count(spec)) + " parameters (" +
                   std::to_string(static_cast<long long>(bytes / (1 << 30))) + " GiB as " +
                   std::string(dtype_name(o.dtype)) + "), more than this machine's memory");
  const auto tensors = expected_tensors(spec);

  std::mt19937_64 rng(o.seed);
  std::normal_distribution<float> normal(0.0f, o.stddev);
  std::vector<std::vector<TensorToWrite>> shards(static_cast<std::size_t>(o.shards));
  nlohmann::json weight_map = nlohmann::json::object();
  std::int64_t params = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& e = tensors[i];
    std::int64_t n = 1;
    for (auto d : e.shape) n *= d;
    params += n;
    const bool is_norm = e.shape.size() == 1 && e.name.find("norm") != std::string::npos;
    std::vector<float> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = (is_norm ? 1.0f : 0.0f) + normal(rng);
    const std::size_t shard = i * static_cast<std::size_t>(o.shards) / tensors.size();
    shards[shard].push_back(tensor_from_f32(e.name, o.dtype, e.shape, v));
  }
  if (o.shards == 1) {
    write_safetensors(dir / "model.safetensors", shards[0], {{"format", "pt"}});
  } else {
    for (int s = 0; s < o.shards; ++s) {
      char name[64];
      std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s + 1, o.shards);
      for (const auto& t : shards[static_cast<std::size_t>(s)]) weight_map[t.name] = name;
      write_safetensors(dir / name, shards[static_cast<std::size_t>(s)], {{"format", "pt"}});
    }
    nlohmann::json index = {{"metadata", {{"total_parameters", params}}}, {"weight_map", weight_map}};
    std::ofstream out(dir / "model.safetensors.index.json");
    out << index.dump(2);
    if (!out) throw BadInput((dir / "model.safetensors.index.json").string() + ": cannot write");
  }
  return params;
}

}  // namespace lmscope
