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
  // Optional: completes the spec from the checkpoint's tensor names before they are checked, for families whose
  // config does not say how its tensors are named (Mamba's `backbone.` vs `model.` prefixes). BadInput when no
  // known naming fits.
  std::function<void(ModelSpec& spec, const std::function<bool(const std::string&)>& has_tensor,
                     const std::filesystem::path& folder)>
      from_tensor_names = {};
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
Family mamba_family(const std::string& library);   // "transformers" or "fla": same model_type, other config keys
Family mamba2_family(const std::string& library);
Family gla_family();
Family retnet_family();
Family hgrn2_family();
Family samba_family();

}  // namespace lmscope
