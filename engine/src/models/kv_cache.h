// Keys and values of one softmax-attention layer for one sequence. Without a window every position is kept (the
// buffer doubles as it fills). With a sliding window of w only the last w positions are kept, in a ring of w rows:
// memory stays O(w) however long the sequence grows.
#pragma once

#include <cstdint>

#include "backend/backend.h"

namespace lmscope {

class KvCache {
 public:
  // kv_dim: num_kv_heads * head_dim; window: 0 for none.
  KvCache(std::int64_t kv_dim, std::int64_t window) : kv_dim_(kv_dim), window_(window) {}

  std::int64_t length() const { return length_; }  // positions seen
  std::int64_t capacity() const { return k_.data ? k_.rows() : 0; }  // rows allocated per tensor

  // Adds k, v [T, kv_dim] (already rotated) as positions length() .. length() + T - 1 and writes to out
  // [T, num_heads * head_dim] the causal (windowed) attention of q [T, num_heads * head_dim] over everything kept.
  // shape gives heads, head_dim and scale; its positions and window are filled in here.
  void attend(Backend& backend, const Tensor& q, const Tensor& k, const Tensor& v, AttentionShape shape, Tensor& out);

  // Decoding several sequences at once (Backend::attention_decode_step): makes room for one more position and
  // says where its key and value go and which rows its query sees (cos, sin and pos are the caller's); advance()
  // records the position once the step has run.
  KvDecodeSlot next_decode_slot(Backend& backend, DType dtype);
  void advance() { ++length_; }

 private:
  // Growing layout: at least `need` rows, the kept positions copied over when the buffer moves.
  void reserve(Backend& backend, DType dtype, std::int64_t need);
  void attend_growing(Backend& backend, const Tensor& q, const Tensor& k, const Tensor& v, AttentionShape shape,
                      Tensor& out);
  void attend_ring(Backend& backend, const Tensor& q, const Tensor& k, const Tensor& v, AttentionShape shape,
                   Tensor& out);
  // Copies rows of `src` for positions [first, first + count) into the ring (slot = position mod window).
  void write_ring(Backend& backend, const Tensor& k, const Tensor& v, std::int64_t src_row, std::int64_t first,
                  std::int64_t count);

  std::int64_t kv_dim_, window_;
  std::int64_t length_ = 0;
  Tensor k_, v_;  // growing: [capacity, kv_dim], position = row; ring: [window, kv_dim], slot = position mod window
};

}  // namespace lmscope
