#include "models/kv_cache.h"

#include <algorithm>

namespace lmscope {

void KvCache::attend(Backend& backend, const Tensor& q, const Tensor& k, const Tensor& v, AttentionShape shape,
                     Tensor& out) {
  if (window_ > 0)
    attend_ring(backend, q, k, v, shape, out);
  else
    attend_growing(backend, q, k, v, shape, out);
  length_ += k.rows();
}

KvDecodeSlot KvCache::next_decode_slot(Backend& backend, DType dtype) {
  KvDecodeSlot s;
  if (window_ > 0) {
    if (!k_.data) {
      k_ = backend.alloc(dtype, {window_, kv_dim_});
      v_ = backend.alloc(dtype, {window_, kv_dim_});
    }
    // as attend_ring's one-token case: the query sees every filled slot of the ring, in ring order
    s.write_row = length_ % window_;
    s.kv_len = std::min(length_ + 1, window_);
  } else {
    reserve(backend, dtype, length_ + 1);
    s.write_row = length_;
    s.kv_len = length_ + 1;
  }
  s.k_cache = &k_;
  s.v_cache = &v_;
  s.pos = length_;
  return s;
}

void KvCache::reserve(Backend& backend, DType dtype, std::int64_t need) {
  const std::int64_t capacity = k_.data ? k_.rows() : 0;
  if (need <= capacity) return;
  std::int64_t cap = std::max<std::int64_t>(capacity * 2, 256);
  while (cap < need) cap *= 2;
  Tensor nk = backend.alloc(dtype, {cap, kv_dim_}), nv = backend.alloc(dtype, {cap, kv_dim_});
  if (length_ > 0) {
    backend.copy_rows(k_.slice_rows(0, length_), nk, 0);
    backend.copy_rows(v_.slice_rows(0, length_), nv, 0);
  }
  k_ = nk;
  v_ = nv;
}

void KvCache::attend_growing(Backend& backend, const Tensor& q, const Tensor& k, const Tensor& v, AttentionShape shape,
                             Tensor& out) {
  const std::int64_t T = k.rows(), need = length_ + T;
  reserve(backend, k.dtype, need);
  backend.copy_rows(k, k_, length_);
  backend.copy_rows(v, v_, length_);
  shape.q_pos0 = length_;
  shape.kv_len = need;
  shape.window = 0;
  backend.attention(q, k_, v_, shape, out);
}

void KvCache::write_ring(Backend& backend, const Tensor& k, const Tensor& v, std::int64_t src_row, std::int64_t first,
                         std::int64_t count) {
  // at most two contiguous runs: up to the end of the ring, then from its start
  while (count > 0) {
    const std::int64_t slot = first % window_;
    const std::int64_t run = std::min(count, window_ - slot);
    backend.copy_rows(k.slice_rows(src_row, run), k_, slot);
    backend.copy_rows(v.slice_rows(src_row, run), v_, slot);
    src_row += run;
    first += run;
    count -= run;
  }
}

void KvCache::attend_ring(Backend& backend, const Tensor& q, const Tensor& k, const Tensor& v, AttentionShape shape,
                          Tensor& out) {
  const std::int64_t T = k.rows(), w = window_;
  if (!k_.data) {
    k_ = backend.alloc(k.dtype, {w, kv_dim_});
    v_ = backend.alloc(v.dtype, {w, kv_dim_});
  }
  if (T == 1) {
    // Decoding: every kept key is within the window of the new query, and softmax attention does not care in which
    // order its keys sit, so the query attends to the filled slots as they lie in the ring.
    write_ring(backend, k, v, 0, length_, 1);
    const std::int64_t filled = std::min(length_ + 1, w);
    shape.q_pos0 = filled - 1;
    shape.kv_len = filled;
    shape.window = 0;
    backend.attention(q, k_, v_, shape, out);
    return;
  }
  // Several tokens: lay out the last w-1 earlier positions in order, then the new ones, and let the windowed causal
  // mask pick each query's keys. Then keep the last w positions in the ring.
  const std::int64_t prev = std::min(length_, w - 1);
  Tensor kk = backend.alloc(k_.dtype, {prev + T, kv_dim_}), vv = backend.alloc(v_.dtype, {prev + T, kv_dim_});
  for (std::int64_t p = length_ - prev, row = 0; row < prev;) {
    const std::int64_t slot = p % w;
    const std::int64_t run = std::min(prev - row, w - slot);
    backend.copy_rows(k_.slice_rows(slot, run), kk, row);
    backend.copy_rows(v_.slice_rows(slot, run), vv, row);
    p += run;
    row += run;
  }
  backend.copy_rows(k, kk, prev);
  backend.copy_rows(v, vv, prev);
  shape.q_pos0 = prev;
  shape.kv_len = prev + T;
  shape.window = w;
  backend.attention(q, kk, vv, shape, out);
  const std::int64_t keep = std::min(T, w);
  write_ring(backend, k, v, T - keep, length_ + T - keep, keep);
}

}  // namespace lmscope
