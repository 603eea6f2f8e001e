// Published configurations of the families people bring (their config.json fields as published, weights not needed):
// each parses as its family and its tensor list sums to the model's published parameter count — a check of every
// tensor shape a family declares at full size.
#include <gtest/gtest.h>

#include "lmscope/checkpoint.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

struct Published {
  const char* name;
  const char* family;
  std::int64_t parameters;  // as the model's card / safetensors metadata give it
  const char* config;
};

const Published kPublished[] = {
    {"SmolLM2-135M", "llama", 134515008,
     R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 576, "intermediate_size": 1536,
         "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3, "vocab_size": 49152,
         "tie_word_embeddings": true, "rms_norm_eps": 1e-5, "rope_theta": 100000, "rope_scaling": null,
         "max_position_embeddings": 8192, "hidden_act": "silu", "attention_bias": false, "mlp_bias": false,
         "pretraining_tp": 1, "bos_token_id": 0, "eos_token_id": 0, "torch_dtype": "bfloat16"})"},
    {"TinyLlama-1.1B", "llama", 1100048384,
     R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 2048, "intermediate_size": 5632,
         "num_hidden_layers": 22, "num_attention_heads": 32, "num_key_value_heads": 4, "vocab_size": 32000,
         "tie_word_embeddings": false, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": null,
         "max_position_embeddings": 2048, "hidden_act": "silu", "pretraining_tp": 1, "bos_token_id": 1, "eos_token_id": 2})"},
    {"Mistral-7B-v0.1", "mistral", 7241732096,
     R"({"architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_size": 4096, "intermediate_size": 14336,
         "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32000,
         "tie_word_embeddings": false, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "sliding_window": 4096,
         "max_position_embeddings": 32768, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2})"},
    {"Qwen2.5-0.5B", "qwen2", 494032768,
     R"({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864,
         "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936,
         "tie_word_embeddings": true, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "sliding_window": 32768,
         "use_sliding_window": false, "max_window_layers": 24, "max_position_embeddings": 32768, "hidden_act": "silu",
         "bos_token_id": 151643, "eos_token_id": 151643})"},
    {"Phi-3-mini-4k", "phi3", 3821079552,
     R"({"architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "hidden_size": 3072, "intermediate_size": 8192,
         "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32, "vocab_size": 32064,
         "tie_word_embeddings": false, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": null,
         "sliding_window": 2047, "original_max_position_embeddings": 4096, "max_position_embeddings": 4096,
         "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 32000,
         "auto_map": {"AutoConfig": "configuration_phi3.Phi3Config", "AutoModelForCausalLM": "modeling_phi3.Phi3ForCausalLM"}})"},
    {"gemma-2-2b", "gemma2", 2614341888,
     R"({"architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2", "hidden_size": 2304, "intermediate_size": 9216,
         "num_hidden_layers": 26, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256, "vocab_size": 256000,
         "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "sliding_window": 4096, "query_pre_attn_scalar": 256,
         "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0, "hidden_activation": "gelu_pytorch_tanh",
         "hidden_act": "gelu_pytorch_tanh", "max_position_embeddings": 8192, "attention_bias": false,
         "bos_token_id": 2, "eos_token_id": 1})"},
    {"pythia-160m", "gpt_neox", 162322944,
     R"({"architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox", "hidden_size": 768, "intermediate_size": 3072,
         "num_hidden_layers": 12, "num_attention_heads": 12, "vocab_size": 50304, "rotary_pct": 0.25,
         "rotary_emb_base": 10000, "use_parallel_residual": true, "layer_norm_eps": 1e-5, "hidden_act": "gelu",
         "max_position_embeddings": 2048, "tie_word_embeddings": false, "bos_token_id": 0, "eos_token_id": 0})"},
    {"OLMo-2-0425-1B", "olmo2", 1484916736,
     R"({"architectures": ["Olmo2ForCausalLM"], "model_type": "olmo2", "hidden_size": 2048, "intermediate_size": 8192,
         "num_hidden_layers": 16, "num_attention_heads": 16, "num_key_value_heads": 16, "vocab_size": 100352,
         "rms_norm_eps": 1e-6, "rope_theta": 500000, "max_position_embeddings": 4096, "hidden_act": "silu",
         "attention_bias": false, "tie_word_embeddings": false, "eos_token_id": 100257, "pad_token_id": 100277})"},
    {"bitnet-b1.58-2B-4T-bf16", "bitnet", 2412820480,
     R"({"architectures": ["BitNetForCausalLM"], "model_type": "bitnet", "hidden_size": 2560, "intermediate_size": 6912,
         "num_hidden_layers": 30, "num_attention_heads": 20, "num_key_value_heads": 5, "vocab_size": 128256,
         "hidden_act": "relu2", "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "max_position_embeddings": 4096,
         "tie_word_embeddings": true, "bos_token_id": 128000, "eos_token_id": 128001,
         "quantization_config": {"quant_method": "bitnet", "linear_class": "autobitlinear", "quantization_mode": "online"}})"},
};

TEST(PublishedConfigs, ParseAsTheirFamilyWithThePublishedParameterCount) {
  for (const auto& p : kPublished) {
    test::TempDir tmp;
    test::write_text(tmp.path / "config.json", p.config);
    ModelSpec s;
    ASSERT_NO_THROW(s = read_model_spec(tmp.path / "config.json")) << p.name;
    EXPECT_EQ(s.family, p.family) << p.name;
    EXPECT_EQ(parameter_count(s), p.parameters) << p.name;
  }
}

// transformers' packed BitNet: the same model stored as U8 (four ternary weights per byte) with a weight_scale per
// linear counts the same weights.
TEST(PublishedConfigs, PackedBitnetCountsItsTernaryWeights) {
  test::TempDir tmp;
  auto j = nlohmann::json::parse(kPublished[8].config);
  j["quantization_config"] = {{"quant_method", "bitnet"}, {"linear_class", "bitlinear"}, {"quantization_mode", "offline"}};
  test::write_text(tmp.path / "config.json", j.dump());
  const ModelSpec s = read_model_spec(tmp.path / "config.json");
  EXPECT_EQ(parameter_count(s), 2412820480);
  std::int64_t packed = 0, scales = 0;
  for (const auto& e : expected_tensors(s)) {
    packed += e.dtype == DType::U8;
    scales += !e.counted;
  }
  EXPECT_EQ(packed, 30 * 7);
  EXPECT_EQ(scales, 30 * 7);
}

}  // namespace
}  // namespace lmscope
