#include "models/fla_config.h"

#include <algorithm>
#include <set>

#include "lmscope/error.h"
#include "models/softmax_attention.h"

namespace lmscope {
namespace {

HybridAttention parse_one(const ConfigFields& a, std::int64_t num_layers, std::int64_t hidden,
                          std::set<std::int64_t>& assigned) {
  HybridAttention h;
  if (!a.has("layers") || !a.raw()["layers"].is_array()) a.fail("layers", "a list of layer indices");
  for (const auto& e : a.raw()["layers"]) {
    if (!e.is_number_integer()) a.fail("layers", "a list of integer layer indices");
    const auto l = e.get<std::int64_t>();
    if (l < 0 || l >= num_layers) a.fail("layers", "layer indices in [0, num_hidden_layers = " + std::to_string(num_layers) + ")");
    if (!assigned.insert(l).second) a.fail("layers", "each layer at most once (layer " + std::to_string(l) + " repeats)");
    h.layers.push_back(l);
  }
  h.num_heads = a.positive_int("num_heads");
  h.num_kv_heads = a.positive_int("num_kv_heads", h.num_heads);
  if (hidden % h.num_heads != 0) a.fail("num_heads", "a divisor of hidden_size (" + std::to_string(hidden) + ")");
  if (h.num_heads % h.num_kv_heads != 0) a.fail("num_kv_heads", "a divisor of num_heads (" + std::to_string(h.num_heads) + ")");
  h.head_dim = hidden / h.num_heads;
  h.qkv_bias = a.boolean("qkv_bias", false);
  if (a.has("window_size")) h.window = a.bounded_int("window_size", 0, 1, kMaxWindow);
  h.rope_theta = a.number("rope_theta", 10000.0);
  if (!(h.rope_theta > 0)) a.fail("rope_theta", "a positive number");
  return h;
}

std::string layer_list(const std::vector<std::int64_t>& layers) {
  std::string s;
  for (auto l : layers) s += (s.empty() ? "" : ", ") + std::to_string(l);
  return s;
}

}  // namespace

std::vector<HybridAttention> parse_hybrid_attention(const ConfigFields& cfg, std::int64_t num_layers,
                                                    std::int64_t hidden_size) {
  std::vector<HybridAttention> out;
  if (!cfg.has("attn")) return out;
  const auto& j = cfg.raw()["attn"];
  std::set<std::int64_t> assigned;
  if (j.is_object()) {
    out.push_back(parse_one(cfg.object("attn"), num_layers, hidden_size, assigned));
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_object()) cfg.fail("attn", "null, an object or a list of objects {layers, num_heads, ...}");
      out.push_back(parse_one(ConfigFields(j[i], cfg.file(), "attn[" + std::to_string(i) + "]."), num_layers,
                              hidden_size, assigned));
    }
  } else {
    cfg.fail("attn", "null, an object or a list of objects {layers, num_heads, ...}");
  }
  return out;
}

const HybridAttention* hybrid_attention_at(const std::vector<HybridAttention>& specs, std::int64_t layer) {
  for (const auto& s : specs)
    if (std::find(s.layers.begin(), s.layers.end(), layer) != s.layers.end()) return &s;
  return nullptr;
}

std::int64_t fla_intermediate_size(const ConfigFields& cfg, std::int64_t hidden_size) {
  if (cfg.has("intermediate_size")) return cfg.positive_int("intermediate_size");
  const std::int64_t ratio = cfg.positive_int("hidden_ratio", 4);
  const std::int64_t i = hidden_size * ratio * 2 / 3;
  return 256 * ((i + 255) / 256);
}

void parse_fla_decoder_fields(const ConfigFields& cfg, ModelSpec& s) {
  s.layout = "fla";
  s.vocab_size = cfg.positive_int("vocab_size", 32000);
  s.hidden_size = cfg.positive_int("hidden_size", 2048);
  s.num_layers = cfg.positive_int("num_hidden_layers", 24);
  s.intermediate_size = fla_intermediate_size(cfg, s.hidden_size);
  s.norm_eps = cfg.number("norm_eps", 1e-6);
  if (!(s.norm_eps >= 0)) cfg.fail("norm_eps", "a non-negative number");
  s.tie_word_embeddings = cfg.boolean("tie_word_embeddings", false);
  s.max_position_embeddings = cfg.positive_int("max_position_embeddings", 2048);
  const std::string act = cfg.string("hidden_act", "swish");
  if (act != "swish" && act != "silu") cfg.fail("hidden_act", "\"swish\" (the only MLP activation implemented)");
  if (cfg.has("attnres_block_size")) cfg.fail("attnres_block_size", "null (attention residuals are not implemented)");
}

void describe_hybrid_attention(const std::vector<HybridAttention>& specs, ModelSpec& s) {
  s.uses_rope = !specs.empty();
  for (const auto& a : specs) {
    s.attention_layers.insert(s.attention_layers.end(), a.layers.begin(), a.layers.end());
    s.details.emplace_back("hybrid", std::string(a.layers.size() == 1 ? "layer " : "layers ") + layer_list(a.layers) +
                                         ": softmax attention, " + std::to_string(a.num_heads) + " heads / " +
                               std::to_string(a.num_kv_heads) + " KV, head_dim " + std::to_string(a.head_dim) +
                               (a.window ? ", sliding window " + std::to_string(a.window) : std::string()) +
                               (a.qkv_bias ? ", q/k/v bias" : ""));
  }
  std::sort(s.attention_layers.begin(), s.attention_layers.end());
  if (!specs.empty()) {
    s.rope = RopeConfig{};
    s.rope.theta = specs.front().rope_theta;
    s.rope.max_position_embeddings = s.max_position_embeddings;
    s.window_size = specs.front().window;
  }
}

AttentionSettings hybrid_attention_settings(const HybridAttention& a, const ModelSpec& spec) {
  AttentionSettings s;
  s.num_heads = a.num_heads;
  s.num_kv_heads = a.num_kv_heads;
  s.head_dim = a.head_dim;
  s.window = a.window;
  s.qkv_bias = a.qkv_bias;
  s.rope.theta = a.rope_theta;  // fla's RotaryEmbedding: the default rotation with this base
  s.rope.max_position_embeddings = spec.max_position_embeddings;
  return s;
}

}  // namespace lmscope
