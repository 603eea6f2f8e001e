// A Hugging Face checkpoint folder as published: config.json plus model.safetensors, or shards listed in
// model.safetensors.index.json. Opening one validates every file and every tensor the family needs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lmscope/model_spec.h"
#include "lmscope/safetensors.h"

namespace lmscope {

struct CheckpointSummary {
  std::int64_t parameter_count = 0;
  std::uint64_t bytes_on_disk = 0;          // all weight files
  std::map<std::string, std::int64_t> dtypes;  // stored dtype display name -> number of parameters
  std::vector<std::filesystem::path> files;
  // Weights the family quantises to ternary when it runs (BitNet b1.58; 0 for other families), and what the
  // other tensors take as stored.
  std::int64_t ternary_parameters = 0;
  std::int64_t ternary_tensors = 0;
  std::uint64_t unquantised_bytes = 0;
};

// Bytes of a ternary-packed copy of a BitNet checkpoint: the ternary weights at bits_per_weight (2 for a
// practical 2-bit packing, log2(3) ≈ 1.585 in the ideal base-3 packing, rounded up to whole bytes), one float32
// scale per ternary tensor, and every other tensor (embeddings, norms, full-precision layers) as stored.
std::uint64_t ternary_packed_bytes(const CheckpointSummary& summary, double bits_per_weight);

class Checkpoint {
 public:
  // Reads config.json and the weights, checks every tensor the family needs (present, expected shape, float
  // dtype). BadInput names the file and the field or tensor. The family comes from model_type, and must fit the
  // config's architectures / auto_map / quantization_config; force_family (a family id, "llama", "fla-gla", ...)
  // chooses it instead (the user's --force-family).
  static Checkpoint open(const std::filesystem::path& dir, const std::string& force_family = "");

  const std::filesystem::path& dir() const { return dir_; }
  const ModelSpec& spec() const { return spec_; }
  // The tensor; BadInput naming the folder when it is missing.
  const TensorView& tensor(const std::string& name) const;
  const TensorView* find(const std::string& name) const;
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const CheckpointSummary& summary() const { return summary_; }
  // The config.json text as read (families parse their own switches from it).
  const std::string& config_text() const { return config_text_; }

 private:
  std::filesystem::path dir_;
  ModelSpec spec_;
  std::string config_text_;
  std::vector<SafetensorsFile> files_;
  std::map<std::string, TensorView> tensors_;
  CheckpointSummary summary_;
};

// Reads and normalises config.json (no weights). BadInput names the file and field; an unsupported model_type
// lists the supported ones.
ModelSpec read_model_spec(const std::filesystem::path& config_json, const std::string& force_family = "");
// The same from config.json's text (`config_json` names it in messages).
ModelSpec model_spec_from_text(std::string_view text, const std::filesystem::path& config_json,
                               const std::string& force_family = "");

// The families lmscope can load, as "model_type (library)" strings.
std::vector<std::string> supported_model_types();
// The ids --force-family accepts ("llama", "mistral", ..., "fla-gla").
std::vector<std::string> family_ids();

// The tensors (name, shape) a spec needs, in a stable order; their sizes sum to the parameter count.
std::vector<ExpectedTensor> expected_tensors(const ModelSpec& spec);
std::int64_t parameter_count(const ModelSpec& spec);

}  // namespace lmscope
