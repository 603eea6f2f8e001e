// The token mixers of the state-space families: Mamba's selective SSM (transformers' MambaMixer, fla/layers/mamba.py:
// the same module) and Mamba2's SSD (transformers' Mamba2Mixer, fla/layers/mamba2.py). Scoring many tokens runs the
// chunked form of the scan; one token (decoding) runs the recurrent form. The state carried between calls is
// O(1) in the sequence length: K-1 convolution inputs and the SSM state.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config_fields.h"
#include "models/token_mixer.h"

namespace lmscope {

// Tokens per chunk of Mamba's chunked scan. Its decay differs per state channel, so the work within a chunk grows
// with the chunk (pairs × state channels): short chunks keep scoring near the cost of the plain scan. The math does
// not depend on it (Mamba2 uses the config's chunk_size).
inline constexpr std::int64_t kSsmChunk = 16;

struct MambaSettings {
  std::int64_t hidden = 0;
  std::int64_t intermediate = 0;  // channels of the scan (expand · hidden)
  std::int64_t state_size = 16;   // N
  std::int64_t conv_kernel = 4;
  std::int64_t dt_rank = 0;  // time_step_rank
  bool use_bias = false;       // in_proj, out_proj
  bool use_conv_bias = true;
};

struct Mamba2Settings {
  std::int64_t hidden = 0;
  std::int64_t num_heads = 0;
  std::int64_t head_dim = 0;  // num_heads · head_dim = intermediate
  std::int64_t n_groups = 1;
  std::int64_t state_size = 128;
  std::int64_t conv_kernel = 4;
  std::int64_t chunk_size = 256;
  bool use_bias = false;
  bool use_conv_bias = true;
  bool d_has_hdim = false;  // D per channel instead of per head (fla's D_has_hdim)
  double norm_eps = 1e-5;   // of the gated output norm

  std::int64_t intermediate() const { return num_heads * head_dim; }
  std::int64_t conv_dim() const { return intermediate() + 2 * n_groups * state_size; }
};

// A Mamba2 layer's fields (num_heads, head_dim, expand, n_groups, state_size, conv_kernel, chunk_size, use_bias,
// use_conv_bias, D_has_hdim) from `cfg`: a mamba2 config, or the `mamba2` block of a Gated DeltaNet-H2 config.
// Defaults are fla's Mamba2Config when fla_defaults (num_heads from expand · hidden / head_dim, one group), else
// transformers' (128 heads, 8 groups). BadInput when the head layout does not fill expand · hidden.
Mamba2Settings parse_mamba2_settings(const ConfigFields& cfg, std::int64_t hidden, double norm_eps, bool fla_defaults);

class WeightSet;

// Each declares (and, loading, loads) one layer's mixer: prefix is the mixer module with its dot, e.g.
// "backbone.layers.0.mixer.". Collecting, the mixer holds placeholders and must not run.
std::unique_ptr<TokenMixer> declare_mamba_mixer(WeightSet& ws, const std::string& prefix, const MambaSettings& s);
std::unique_ptr<TokenMixer> declare_mamba2_mixer(WeightSet& ws, const std::string& prefix, const Mamba2Settings& s);

}  // namespace lmscope
