#include "spec_limits.h"

#include <cmath>
#include <string>

#include "lmscope/error.h"

namespace lmscope {
namespace {

std::string field_name(const ConfigFields& cfg, std::initializer_list<const char*> keys) {
  const auto k = cfg.first_present(keys);
  return k.empty() ? std::string(*keys.begin()) : k;
}

void at_most(const ConfigFields& cfg, std::int64_t value, std::int64_t limit, std::initializer_list<const char*> keys,
             const char* what) {
  if (value > limit)
    throw BadInput(cfg.file().string() + ": field '" + field_name(cfg, keys) + "' is " + std::to_string(value) +
                   "; lmscope reads " + what + " up to " + std::to_string(limit));
}

}  // namespace

void check_spec_limits(const ModelSpec& s, const ConfigFields& cfg) {
  at_most(cfg, s.num_layers, kMaxLayers, {"num_hidden_layers", "n_layer", "num_layers"}, "layer counts");
  at_most(cfg, s.hidden_size, kMaxWidth, {"hidden_size", "d_model"}, "hidden sizes");
  at_most(cfg, s.intermediate_size, kMaxWidth, {"intermediate_size"}, "MLP widths");
  at_most(cfg, s.num_heads, kMaxWidth, {"num_attention_heads", "num_heads"}, "head counts");
  at_most(cfg, s.num_kv_heads, kMaxWidth, {"num_key_value_heads", "num_kv_heads"}, "head counts");
  at_most(cfg, s.head_dim, kMaxWidth, {"head_dim"}, "head dimensions");
  at_most(cfg, s.vocab_size, kMaxVocab, {"vocab_size"}, "vocabularies");
  at_most(cfg, s.max_position_embeddings, kMaxContext, {"max_position_embeddings", "n_positions", "n_ctx"},
          "context lengths");
  at_most(cfg, s.window_size, kMaxWindow, {"window_size", "sliding_window"}, "sliding windows");
  // A zero or negative epsilon divides by zero on an all-zero row; NaN and Inf poison every layer.
  if (!(std::isfinite(s.norm_eps) && s.norm_eps > 0 && s.norm_eps < 1))
    throw BadInput(cfg.file().string() + ": field '" +
                   field_name(cfg, {"rms_norm_eps", "norm_eps", "layer_norm_epsilon", "layer_norm_eps"}) +
                   "' must be a number > 0 and < 1 (a normalisation epsilon such as 1e-6), got " +
                   std::to_string(s.norm_eps));
}

void check_spec_fits_weights(const ModelSpec& s, std::int64_t tensors_stored, std::uint64_t elements_stored,
                             const std::filesystem::path& config_file) {
  // Every layer of every family has at least one tensor of its own.
  if (s.num_layers > tensors_stored)
    throw BadInput(config_file.string() + ": the config asks for " + std::to_string(s.num_layers) +
                   " layers (num_hidden_layers) but the weight files hold only " + std::to_string(tensors_stored) +
                   " tensors; the config does not belong to these weights");
  // Every family embeds its vocabulary: vocab_size × hidden_size weights must be stored somewhere.
  const auto embedding = static_cast<std::uint64_t>(s.vocab_size) * static_cast<std::uint64_t>(s.hidden_size);
  if (embedding > elements_stored)
    throw BadInput(config_file.string() + ": vocab_size × hidden_size = " + std::to_string(s.vocab_size) + " × " +
                   std::to_string(s.hidden_size) + " embedding weights, but the weight files hold only " +
                   std::to_string(elements_stored) + " values; the config does not belong to these weights");
}

}  // namespace lmscope
