// The registry of model families: how a config.json is recognised and normalised, which tensors a family needs,
// and how it is built on a backend.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "config_fields.h"
#include "lmscope/checkpoint.h"
#include "lmscope/model.h"

namespace lmscope {

struct Family {
  std::string name;        // lmscope's family name
  std::string model_type;  // config.json's model_type
  std::string library;     // "transformers" or "fla": whose layout
  // Fills spec from config.json (spec.model_type is already set).
  std::function<void(const ConfigFields& cfg, ModelSpec& spec)> parse;
  std::function<std::vector<ExpectedTensor>(const ModelSpec& spec)> tensors;
  std::function<std::unique_ptr<Model>(const Checkpoint& ckpt, std::shared_ptr<Backend> backend, const LoadOptions& opts)> build;
};

const std::vector<Family>& families();
// The family for a config's model_type; BadInput listing the supported ones when there is none.
const Family& family_for_model_type(const std::string& model_type, const std::filesystem::path& config_file);
const Family& family_for(const ModelSpec& spec);

// Families, one per file.
Family llama_family();
Family fla_transformer_family();
Family delta_net_family();
Family gated_deltanet_family();
Family bitnet_family();

}  // namespace lmscope
