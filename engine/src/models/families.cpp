#include "lmscope/error.h"
#include "models/family.h"

namespace lmscope {
namespace {

Family with_architectures(Family f, std::vector<std::string> architectures) {
  f.architectures = std::move(architectures);
  return f;
}

std::string joined(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

bool computes(const Family& f, const std::string& architecture) {
  for (const auto& a : f.architectures)
    if (a == architecture) return true;
  return false;
}

}  // namespace

const std::vector<Family>& families() {
  // For a model_type that two libraries share (mamba, mamba2, bitnet) the first entry parses the config and sets
  // spec.layout; family_for() then picks the entry of that layout. fla's classes carry the same names in
  // `architectures` as transformers' (MambaForCausalLM, BitNetForCausalLM), so the layout is told by config keys.
  static const std::vector<Family> all{
      llama_family(),
      fla_transformer_family(),
      mistral_family(),
      qwen2_family(),
      qwen3_family(),
      phi3_family(),
      gemma2_family(),
      gpt_neox_family(),
      olmo2_family(),
      with_architectures(delta_net_family(), {"DeltaNetForCausalLM"}),
      with_architectures(gated_deltanet_family(), {"GatedDeltaNetForCausalLM"}),
      bitnet_transformers_family(),
      with_architectures(bitnet_family(), {"BitNetForCausalLM"}),
      with_architectures(mamba_family("transformers"), {"MambaForCausalLM"}),
      with_architectures(mamba_family("fla"), {"MambaForCausalLM"}),
      with_architectures(mamba2_family("transformers"), {"Mamba2ForCausalLM"}),
      with_architectures(mamba2_family("fla"), {"Mamba2ForCausalLM"}),
      with_architectures(gla_family(), {"GLAForCausalLM"}),
      with_architectures(retnet_family(), {"RetNetForCausalLM"}),
      with_architectures(hgrn2_family(), {"HGRN2ForCausalLM"}),
      with_architectures(samba_family(), {"SambaForCausalLM"})};
  return all;
}

const Family& family_for_model_type(const std::string& model_type, const std::filesystem::path& config_file) {
  for (const auto& f : families())
    if (f.model_type == model_type) return f;
  throw BadInput(config_file.string() + ": unsupported model_type '" + model_type + "'; supported: " + joined(supported_model_types()));
}

const Family& family_by_id(const std::string& id, const std::string& where) {
  std::vector<std::string> ids;
  for (const auto& f : families()) {
    if (f.id() == id) return f;
    ids.push_back(f.id());
  }
  throw BadInput(where + ": no family '" + id + "'; one of " + joined(ids));
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

void check_family_fits(const ConfigFields& cfg, const Family& f, bool forced) {
  const std::string what = "lmscope's " + f.id() + " family";
  const std::string escape = "; if you know the weights are " + f.id() + "'s, load them with --force-family " + f.id();
  if (cfg.has("quantization_config") && !f.reads_quantization_config) {
    const nlohmann::json& q = cfg.raw()["quantization_config"];
    const std::string method = q.is_object() && q.contains("quant_method") && q["quant_method"].is_string()
                                   ? q["quant_method"].get<std::string>()
                                   : std::string("unknown");
    cfg.fail("quantization_config", "none: the weights are quantised (quant_method \"" + method + "\"), which " + what +
                                        " does not compute; lmscope reads quantised weights only for transformers' BitNet");
  }
  if (forced) return;
  if (cfg.has("weight_bits") || cfg.has("input_bits"))
    cfg.fail(cfg.has("weight_bits") ? "weight_bits" : "input_bits",
             "no such field: it marks a BitNet reproduction (1bitLLM style) that quantises weights and activations in its "
             "own code, which " + what + " would compute in full precision — wrong numbers" + escape);
  if (cfg.has("architectures")) {
    const nlohmann::json& a = cfg.raw()["architectures"];
    if (!a.is_array()) cfg.fail("architectures", "a list of class names");
    for (const auto& name : a) {
      if (!name.is_string()) cfg.fail("architectures", "a list of class names");
      if (!computes(f, name.get<std::string>()))
        cfg.fail("architectures", joined(f.architectures, " or ") + " (" + what + "); '" + name.get<std::string>() +
                                      "' is other code, which lmscope cannot promise to compute" + escape);
    }
  }
  if (cfg.has("auto_map")) {
    const nlohmann::json& m = cfg.raw()["auto_map"];
    if (!m.is_object()) cfg.fail("auto_map", "an object");
    if (m.contains("AutoModelForCausalLM")) {
      // "modeling_x.ClassName" or "repo--modeling_x.ClassName": custom code is fine when it is the class lmscope
      // computes (checkpoints published before transformers had the class natively, e.g. Phi-3).
      const nlohmann::json& entry = m["AutoModelForCausalLM"];
      const std::string ref = entry.is_string() ? entry.get<std::string>() : std::string();
      const std::string cls = ref.substr(ref.find_last_of('.') == std::string::npos ? 0 : ref.find_last_of('.') + 1);
      if (!computes(f, cls))
        cfg.fail("auto_map", "no custom causal-LM code, or code for " + joined(f.architectures, " or ") + "; '" + ref +
                                 "' is custom code that lmscope cannot promise to compute" + escape);
    }
  }
}

}  // namespace lmscope

namespace lmscope {

std::vector<std::string> family_ids() {
  std::vector<std::string> out;
  for (const auto& f : families()) out.push_back(f.id());
  return out;
}

}  // namespace lmscope
