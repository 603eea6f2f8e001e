#include "lmscope/checkpoint.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "config_fields.h"
#include "lmscope/error.h"
#include "lmscope/input_file.h"
#include "lmscope/json_input.h"
#include "models/family.h"
#include "spec_limits.h"

namespace lmscope {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& p, const std::string& what) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(p, ec))) throw BadInput(p.string() + ": cannot read " + what + " (no such file)");
  return read_input_file(p, what, kMaxConfigFileBytes);
}

json parse_json(const std::string& text, const fs::path& p) { return parse_json_input(text, p.string()); }

ModelSpec spec_from_json(const json& j, const fs::path& config_file, const std::string& force_family) {
  if (!j.is_object()) throw BadInput(config_file.string() + ": expected a JSON object");
  ConfigFields cfg(j, config_file);
  ModelSpec spec;
  spec.model_type = cfg.string("model_type", "");
  const bool forced = !force_family.empty();
  if (spec.model_type.empty() && !forced) cfg.fail("model_type", "a string naming the architecture");
  if (cfg.has("architectures") && cfg.raw()["architectures"].is_array())
    for (const auto& a : cfg.raw()["architectures"])
      if (a.is_string()) spec.architectures.push_back(a.get<std::string>());
  const Family& parser = forced ? family_by_id(force_family, "--force-family") : family_for_model_type(spec.model_type, config_file);
  if (forced) {
    spec.forced_family = force_family;
    spec.details.emplace_back("forced family", force_family + " (--force-family; the config says model_type '" + spec.model_type +
                                                   "'" + (spec.architectures.empty() ? "" : ", architectures " + spec.architectures.front()) + ")");
    spec.model_type = parser.model_type;
  }
  parser.parse(cfg, spec);
  check_family_fits(cfg, family_for(spec), forced);
  check_spec_limits(spec, cfg);
  if (auto bos = cfg.optional_int("bos_token_id")) spec.bos_token_id = *bos;
  spec.eos_token_ids = cfg.int_or_int_list("eos_token_id");
  spec.config_dtype = cfg.has("torch_dtype") ? cfg.string("torch_dtype", "") : cfg.string("dtype", "");
  return spec;
}

std::string expected_types(const ExpectedTensor& e) {
  return e.dtype ? std::string(dtype_name(*e.dtype)) : std::string("F32, F16 or BF16");
}
std::string expected_text(const ExpectedTensor& e) { return expected_types(e) + " " + shape_string(e.shape); }

}  // namespace

ModelSpec read_model_spec(const fs::path& config_json, const std::string& force_family) {
  return model_spec_from_text(read_text(config_json, "the model configuration"), config_json, force_family);
}

ModelSpec model_spec_from_text(std::string_view text, const fs::path& config_json, const std::string& force_family) {
  return spec_from_json(parse_json_input(text, config_json.string()), config_json, force_family);
}

std::vector<ExpectedTensor> expected_tensors(const ModelSpec& spec) { return family_for(spec).tensors(spec); }

std::int64_t parameter_count(const ModelSpec& spec) {
  std::int64_t n = 0;
  for (const auto& t : expected_tensors(spec)) {
    std::int64_t k = t.counted ? t.packing : 0;
    for (auto d : t.shape) k *= d;
    n += k;
  }
  return n;
}

std::uint64_t ternary_packed_bytes(const CheckpointSummary& s, double bits_per_weight) {
  const auto weight_bytes = static_cast<std::uint64_t>(std::ceil(static_cast<double>(s.ternary_parameters) * bits_per_weight / 8.0));
  return weight_bytes + 4 * static_cast<std::uint64_t>(s.ternary_tensors) + s.unquantised_bytes;
}

const TensorView* Checkpoint::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

const TensorView& Checkpoint::tensor(const std::string& name) const {
  if (const TensorView* t = find(name)) return *t;
  throw BadInput(dir_.string() + ": tensor '" + name + "' missing");
}

Checkpoint Checkpoint::open(const fs::path& dir, const std::string& force_family) {
  Checkpoint ck;
  ck.dir_ = dir;
  std::error_code ec;  // a path that cannot even be examined (a symlink loop, no permission) is not a folder either
  if (!fs::is_directory(dir, ec))
    throw BadInput(dir.string() + ": not a folder (expected a Hugging Face checkpoint folder with config.json and *.safetensors)");
  const fs::path config = dir / "config.json";
  ck.config_text_ = read_text(config, "the model configuration");
  ck.spec_ = spec_from_json(parse_json(ck.config_text_, config), config, force_family);

  // Weight files: a single model.safetensors, or the shards an index lists.
  const fs::path single = dir / "model.safetensors", index = dir / "model.safetensors.index.json";
  std::map<std::string, std::string> weight_map;  // tensor -> shard file name (sharded only)
  if (fs::exists(fs::symlink_status(index, ec))) {
    const json j = parse_json(read_text(index, "the shard index"), index);
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      throw BadInput(index.string() + ": field 'weight_map': expected an object {tensor name: shard file}");
    std::set<std::string> shards;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      if (!it.value().is_string())
        throw BadInput(index.string() + ": weight_map['" + it.key() + "']: expected a shard file name");
      const std::string shard = it.value().get<std::string>();
      if (shard.find('/') != std::string::npos || shard == ".." || shard.empty())
        throw BadInput(index.string() + ": weight_map['" + it.key() + "']: '" + shard + "' is not a file name in the folder");
      weight_map[it.key()] = shard;
      shards.insert(shard);
    }
    for (const auto& s : shards) ck.files_.push_back(SafetensorsFile::open(dir / s));
  } else if (fs::exists(fs::symlink_status(single, ec))) {
    ck.files_.push_back(SafetensorsFile::open(single));
  } else {
    throw BadInput(dir.string() + ": no model.safetensors or model.safetensors.index.json");
  }

  std::int64_t tensors_stored = 0;
  std::uint64_t elements_stored = 0;
  for (const auto& f : ck.files_) {
    ck.summary_.files.push_back(f.path());
    ck.summary_.bytes_on_disk += f.size_bytes();
    for (const auto& [name, view] : f.tensors()) {
      ++tensors_stored;
      elements_stored += static_cast<std::uint64_t>(view.numel());
    }
    for (const auto& [name, view] : f.tensors()) {
      if (!weight_map.empty()) {
        auto it = weight_map.find(name);
        if (it == weight_map.end()) continue;  // not listed in the index: ignored, as transformers does
        if (it->second != f.path().filename().string()) continue;
      }
      if (!ck.tensors_.emplace(name, view).second)
        throw BadInput(f.path().string() + ": tensor '" + name + "' appears in more than one weight file");
    }
  }
  for (const auto& [name, shard] : weight_map)
    if (!ck.tensors_.count(name))
      throw BadInput((dir / shard).string() + ": tensor '" + name + "' is listed in model.safetensors.index.json but missing from the shard");

  check_spec_fits_weights(ck.spec_, tensors_stored, elements_stored, config);
  if (const Family& fam = family_for(ck.spec_); fam.from_tensor_names)
    fam.from_tensor_names(ck.spec_, [&](const std::string& name) { return ck.find(name) != nullptr; }, dir);

  // Every tensor the family needs: present, expected shape, a float type.
  for (const auto& e : expected_tensors(ck.spec_)) {
    const TensorView* t = ck.find(e.name);
    const std::string where = ck.files_.size() == 1 ? ck.files_.front().path().string() : dir.string();
    if (!t) throw BadInput(where + ": tensor '" + e.name + "' missing (expected " + expected_text(e) + ")");
    const std::string file = t->file->path().string();
    if (t->shape != e.shape)
      throw BadInput(file + ": tensor '" + e.name + "' has shape " + shape_string(t->shape) + ", expected " + shape_string(e.shape) +
                     " for this config");
    if (e.dtype ? t->dtype != *e.dtype : !dtype_is_float_weight(t->dtype))
      throw BadInput(file + ": tensor '" + e.name + "' has dtype " + std::string(dtype_name(t->dtype)) + ", expected " +
                     expected_types(e));
    const std::int64_t weights = e.counted ? t->numel() * e.packing : 0;
    ck.summary_.parameter_count += weights;
    ck.summary_.dtypes[e.packing > 1 ? "ternary (2-bit packed)" : std::string(dtype_display_name(t->dtype))] += weights;
    if (e.ternary) {
      ck.summary_.ternary_parameters += weights;
      ++ck.summary_.ternary_tensors;
    } else {
      ck.summary_.unquantised_bytes += static_cast<std::uint64_t>(t->numel()) * dtype_size(t->dtype);
    }
  }
  return ck;
}

}  // namespace lmscope
