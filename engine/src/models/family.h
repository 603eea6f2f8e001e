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
  // config.json `architectures` class names this family computes (an unknown one is refused: it names other code).
  std::vector<std::string> architectures = {};
  // Whether parse reads a quantization_config (transformers' BitNet); for every other family one is refused.
  bool reads_quantization_config = false;

  // The name --force-family takes: the model_type, prefixed "fla-" for fla's layouts ("llama", "fla-gla").
  std::string id() const { return library == "fla" ? "fla-" + model_type : model_type; }
};

const std::vector<Family>& families();
// The family for a config's model_type; BadInput listing the supported ones when there is none.
const Family& family_for_model_type(const std::string& model_type, const std::filesystem::path& config_file);
// The family of a given id (Family::id); BadInput listing the ids when there is none.
const Family& family_by_id(const std::string& id, const std::string& where);
const Family& family_for(const ModelSpec& spec);

// After parsing: refuses a config whose other fields say the weights are not what the family computes —
// `architectures` naming another class, auto_map custom code for the causal LM, a quantization_config the family
// does not read, 1bitLLM-style weight_bits/input_bits. forced: the user chose the family (--force-family); only the
// quantization_config is still checked. BadInput names the field, what lmscope computes and the way out.
void check_family_fits(const ConfigFields& cfg, const Family& family, bool forced);

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
Family mistral_family();
Family qwen2_family();
Family qwen3_family();
Family phi3_family();
Family gemma2_family();
Family gpt_neox_family();
Family olmo2_family();
Family bitnet_transformers_family();

}  // namespace lmscope
