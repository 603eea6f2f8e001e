#include "lmscope/error.h"
#include "models/family.h"

namespace lmscope {

const std::vector<Family>& families() {
  // For a model_type that two libraries share (mamba, mamba2) the first entry parses the config and sets
  // spec.layout; family_for() then picks the entry of that layout.
  static const std::vector<Family> all{llama_family(), fla_transformer_family(), delta_net_family(),
                                       gated_deltanet_family(), bitnet_family(),
                                       mamba_family("transformers"), mamba_family("fla"),
                                       mamba2_family("transformers"), mamba2_family("fla"),
                                       gla_family(), retnet_family(), hgrn2_family(), samba_family()};
  return all;
}

const Family& family_for_model_type(const std::string& model_type, const std::filesystem::path& config_file) {
  for (const auto& f : families())
    if (f.model_type == model_type) return f;
  std::string list;
  for (const auto& s : supported_model_types()) list += (list.empty() ? "" : ", ") + s;
  throw BadInput(config_file.string() + ": unsupported model_type '" + model_type + "'; supported: " + list);
}

const Family& family_for(const ModelSpec& spec) {
  for (const auto& f : families())
    if (f.model_type == spec.model_type && f.library == spec.layout) return f;
  throw InternalError("no family for model_type " + spec.model_type + " (" + spec.layout + ")");
}

std::vector<std::string> supported_model_types() {
  std::vector<std::string> out;
  for (const auto& f : families()) out.push_back(f.model_type + " (" + f.library + ")");
  return out;
}

}  // namespace lmscope
