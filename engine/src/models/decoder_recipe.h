// The decoders of transformers' Llama-like families (Llama, Mistral, Qwen2, Qwen3, Phi-3, Gemma 2, GPT-NeoX, OLMo 2,
// BitNet) and fla's Transformer++ differ in a handful of choices: tensor names, where the norms sit and what kind
// they are, the attention's details and the MLP's activation. A DecoderRecipe holds those choices; each family's
// parser fills one from config.json, and one assembler turns any recipe into a model — declaring every tensor once
// (models/weight_set.h), so what is validated is what is loaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config_fields.h"
#include "lmscope/model_spec.h"
#include "models/family.h"
#include "models/norm.h"
#include "models/softmax_attention.h"

namespace lmscope {

struct DecoderRecipe {
  // Names: embedding matrix, final norm module, LM head; layer i's modules are under layer_prefix + i + ".".
  std::string embed = "model.embed_tokens.weight";
  std::string final_norm = "model.norm";
  std::string lm_head = "lm_head.weight";
  std::string layer_prefix = "model.layers.";
  std::string attention = "self_attn.", mlp = "mlp.";
  // The block's norm modules ("" = none there): before the mixer, on its output, before the MLP, on its output.
  std::string mixer_norm = "input_layernorm", mixer_post_norm, mlp_norm = "post_attention_layernorm", mlp_post_norm;
  NormKind norm = NormKind::Rms;
  bool norm_bias = false;      // LayerNorm's bias (GPT-NeoX)
  bool norm_plus_one = false;  // the norm multiplies by (1 + weight) (Gemma): folded into the weight at load
  bool parallel = false;       // x + mixer(n1(x)) + mlp(n2(x)) (GPT-NeoX)

  AttentionSettings attention_settings;   // every layer's, but for the window
  std::vector<std::int64_t> layer_window;  // per layer (0: full attention); empty: attention_settings.window

  // MLP: gated (gate/up/down_proj or a fused gate_up_proj whose first half is the gate) or plain (up, down names).
  bool mlp_gated = true;
  bool mlp_fused_gate_up = false;
  std::string mlp_up = "up_proj", mlp_down = "down_proj";  // plain MLPs name their two matrices
  Activation act = Activation::Silu;
  bool mlp_bias = false;
  bool mlp_sub_norm = false;  // RMSNorm before down_proj (transformers' BitNet: ffn_sub_norm)
  ProjectionFormat format;    // how every projection of the blocks is stored

  float embed_scale = 0.0f;    // > 0: embeddings multiplied by it
  float logit_softcap = 0.0f;  // > 0: final logits soft-capped
};

// The recipe a family's parser stored in spec.family_config.
const DecoderRecipe& recipe_of(const ModelSpec& spec);

// A Family whose model is a DecoderRecipe: parse fills the spec and the recipe (stored with set_recipe).
// architectures: the `architectures` class names of config.json this family computes.
Family decoder_family(std::string model_type, std::string library, std::vector<std::string> architectures,
                      std::function<void(const ConfigFields&, ModelSpec&)> parse);
void set_recipe(ModelSpec& spec, DecoderRecipe recipe);

// flash-linear-attention's Transformer++ block layout (model.embeddings, attn_norm, attn., mlp_norm) with the spec's
// attention shape (heads, key/value heads, head size, sliding window): fla's `transformer` and `bitnet` share it.
DecoderRecipe fla_transformer_recipe(const ModelSpec& spec);

// The defaults of a family's transformers config class for fields a published config.json may leave out.
struct LlamaLikeDefaults {
  double rms_norm_eps = 1e-6;
  bool tie_word_embeddings = false;
  std::int64_t num_key_value_heads = 0;  // 0: as many as the query heads
  std::int64_t max_position_embeddings = 2048;
};

// Fields every Llama-like transformers config has, with transformers' names and the family's defaults: vocab_size,
// hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads, head_dim, intermediate_size,
// rms_norm_eps, tie_word_embeddings, attention_bias, mlp_bias, max_position_embeddings and RoPE. Fills the spec and
// the recipe's attention settings.
void parse_llama_like(const ConfigFields& cfg, ModelSpec& spec, DecoderRecipe& recipe, const LlamaLikeDefaults& defaults = {});

// transformers' activation names: silu/swish, gelu (erf), gelu_pytorch_tanh / gelu_new / gelu_fast (tanh form),
// relu, relu2. BadInput naming the field otherwise.
Activation activation_from_config(const ConfigFields& cfg, const std::string& key, const std::string& fallback);

// Per-layer sliding windows from transformers 5's `layer_types` ("sliding_attention" / "full_attention"), when the
// config has them; empty otherwise.
std::vector<std::int64_t> windows_from_layer_types(const ConfigFields& cfg, std::int64_t num_layers, std::int64_t window);

}  // namespace lmscope
