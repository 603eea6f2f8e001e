// A layer's token mixer: the part of a pre-norm block that moves information between positions (softmax
// attention, the delta rule, ...). Weights live in the mixer; what one sequence has seen lives in its MixerState,
// so one loaded model serves any number of sequences.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "backend/backend.h"
#include "lmscope/error.h"
#include "lmscope/rope.h"
#include "models/rope_tables.h"

namespace lmscope {

// One sequence's state of one mixer (KV cache, convolution history, recurrent state).
class MixerState {
 public:
  virtual ~MixerState() = default;
};

// The rotary embedding a mixer needs; the sequence builds one table per distinct use and rebuilds its caches when
// the frequencies change with the length (dynamic NTK, LongRoPE).
struct RopeUse {
  RopeConfig config;
  std::int64_t head_dim = 0;
};

class TokenMixer {
 public:
  virtual ~TokenMixer() = default;
  virtual std::unique_ptr<MixerState> new_state(Backend& backend) const = 0;
  virtual const RopeUse* rope() const { return nullptr; }
  // out [T, hidden] for the normed input h [T, hidden] of the tokens at positions pos0 .. pos0 + T - 1, which
  // follow what `state` has seen; updates state. `rope` holds this mixer's tables when rope() is set.
  virtual void forward(Backend& backend, const Tensor& h, std::int64_t pos0, const RopeTables* rope,
                       MixerState& state, Tensor& out) const = 0;
  // Batched scoring from empty states: h [batch × T, hidden] holds `batch` sequences of T tokens one after another
  // (positions 0 .. T-1 each); out likewise. Mixers with a fused batched form override this; the default runs each
  // sequence through forward() from a fresh state, so the rest of the block stack (norms, MLP, LM head) still sees
  // all batch × T rows in one product.
  virtual void forward_batch(Backend& backend, const Tensor& h, std::int64_t batch, const RopeTables* rope,
                             Tensor& out) const {
    const std::int64_t T = h.rows() / batch;
    for (std::int64_t s = 0; s < batch; ++s) {
      auto state = new_state(backend);
      Tensor hs = h.slice_rows(s * T, T), os = out.slice_rows(s * T, T);
      forward(backend, hs, 0, rope, *state, os);
    }
  }
  // One decoding step of several sequences: row i of h [n, hidden] is the next token of the sequence whose state
  // is states[i], at position pos[i], with RoPE tables rope[i]; out likewise. Mixers whose projections can see all
  // n rows at once override this; the default runs each row through forward().
  virtual void forward_decode(Backend& backend, const Tensor& h, std::span<const std::int64_t> pos,
                              std::span<const RopeTables* const> rope, std::span<MixerState* const> states, Tensor& out) const {
    for (std::size_t i = 0; i < states.size(); ++i) {
      const auto r = static_cast<std::int64_t>(i);
      Tensor hi = h.slice_rows(r, 1), oi = out.slice_rows(r, 1);
      forward(backend, hi, pos[i], rope[i], *states[i], oi);
    }
  }
};

}  // namespace lmscope
