// The typed description of a checkpoint's architecture, normalised from config.json. Families read their own
// extra switches at load time; this holds what every tool (inspect, the GUI's model library, RoPE settings,
// evaluation defaults) needs to know.
#pragma once

#include <any>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lmscope/dtype.h"
#include "lmscope/rope.h"

namespace lmscope {

struct ModelSpec {
  std::string model_type;  // config.json's model_type
  std::string family;      // lmscope's family name, e.g. "llama"
  std::string layout;      // whose tensor naming: "transformers" or "fla"
  std::vector<std::string> architectures;  // config.json's `architectures`, as given (may be empty)
  std::string forced_family;  // the family the user chose with --force-family ("" when chosen from the config)

  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t num_layers = 0;
  std::int64_t num_heads = 0;
  std::int64_t num_kv_heads = 0;
  std::int64_t head_dim = 0;
  std::int64_t intermediate_size = 0;
  double norm_eps = 1e-6;
  bool tie_word_embeddings = false;
  bool attention_bias = false;
  bool mlp_bias = false;
  std::int64_t window_size = 0;  // sliding-window attention: each query sees itself and window-1 earlier keys; 0 = none
  // n_positions / max_position_embeddings / n_ctx, whichever the config has (lm-eval's order); 0 when none.
  std::int64_t max_position_embeddings = 0;
  RopeConfig rope;

  std::optional<std::int64_t> bos_token_id;
  std::vector<std::int64_t> eos_token_ids;
  std::string config_dtype;  // config's torch_dtype / dtype, informational

  // What mixes tokens in most layers: "attention" (softmax attention; the heads fields above describe it),
  // "delta rule" (DeltaNet) or "gated delta rule" (Gated DeltaNet). For the linear mixers num_heads, num_kv_heads
  // and head_dim describe the query/key heads; the details say the rest.
  std::string mixer = "attention";
  // Layers that are softmax attention in a hybrid of another mixer (fla's `attn.layers`); `rope` and
  // `window_size` then describe those layers.
  std::vector<std::int64_t> attention_layers;
  // False when no layer uses RoPE (pure linear-attention models): `rope` is then meaningless.
  bool uses_rope = true;
  // Family-specific switches in words, in display order, for inspect and the model library.
  std::vector<std::pair<std::string, std::string>> details;
  // The family's own parsed switches: only the family that set them reads them.
  std::any family_config;
};

// A tensor a family needs: name and shape.
struct ExpectedTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  // Quantised to {-1, 0, +1} · scale (one float scale per tensor) when the model runs: BitNet b1.58's BitLinear.
  bool ternary = false;
  // The type it must be stored in (packed formats, e.g. U8 for four ternary values per byte); unset: any float
  // weight type (F32, F16, BF16).
  std::optional<DType> dtype = std::nullopt;
  // Weights per stored element: 4 for transformers' BitNet (2-bit packed ternary values in U8); parameter counts
  // count weights, not bytes.
  std::int64_t packing = 1;
  // False for a packed matrix's scale (transformers' BitNet weight_scale): stored beside the weights, not counted
  // as parameters.
  bool counted = true;
};

}  // namespace lmscope
