// The per-tile score handling both flash-attention kernels share (mma.sync, attention_flash_bf16.cu; wgmma,
// attention_flash_wgmma.cu). Scores and outputs are held in the m16n8 accumulator layout — lane 4g + t holds, per
// n8 tile j, elements (g, 8j + 2t), (g, 8j + 2t + 1) in [j][0..1] and the same columns of row g + 8 in [j][2..3] —
// which is also wgmma's m64nN layout per warp, so one set of helpers serves both.
#pragma once
#include <cstdint>

#include "mma_bf16.cuh"

namespace lmscope::cuda::flash {

// 2^x on the special-function unit, denormals flushed (what softmax weights need; exp2f adds scaling around it).
__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

// Gemma 2's soft-capping in raw-score units: cap·tanh(s·scale / cap) / scale (the softmax scales by scale later).
template <int NT>
__device__ __forceinline__ void softcap(float (&s)[NT][4], float scale, float cap) {
  const float in = scale / cap, back = cap / scale;
#pragma unroll
  for (int n = 0; n < NT; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) s[n][e] = back * tanhf(s[n][e] * in);
}

// -inf for keys key0 + 8n + 2t (+1) a row may not see: past its position (causal), past kv_len, or outside the
// sliding window (window > 0). pos[r]: the positions of this lane's rows g (r = 0) and g + 8 (r = 1).
// I: the index type (int where the caller knows positions fit, which saves registers).
template <int NT, typename I>
__device__ __forceinline__ void mask(float (&s)[NT][4], I key0, const I (&pos)[2], int lane, I kv_len, I window) {
#pragma unroll
  for (int n = 0; n < NT; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const I j = key0 + n * 8 + (lane % 4) * 2 + (e % 2);
      const I p = pos[e / 2];
      const bool ok = j <= p && j < kv_len && (window <= 0 || j > p - window);
      if (!ok) s[n][e] = -INFINITY;
    }
}

// Online softmax of row half r (the 4 lanes of a quad share a row): the running max m_run, the scores turned into
// p = 2^(s·c − m·c) in place (one FMA + exp2), this lane's partial row sum l_run. Returns the factor alpha by which
// the row's earlier output must be rescaled.
template <int NT>
__device__ __forceinline__ float softmax_scores(float (&s)[NT][4], int r, float& m_run, float& l_run, float scale_log2) {
  float mx = -INFINITY;
#pragma unroll
  for (int n = 0; n < NT; ++n) mx = fmaxf(mx, fmaxf(s[n][2 * r], s[n][2 * r + 1]));
  mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 1));
  mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 2));
  const float m_new = fmaxf(m_run, mx);
  const float mc = m_new == -INFINITY ? 0.f : m_new * scale_log2;  // a row with nothing visible yet
  const float alpha = fast_exp2(m_run * scale_log2 - mc);
  m_run = m_new;
  float sum = 0.f;
#pragma unroll
  for (int n = 0; n < NT; ++n) {
    s[n][2 * r] = fast_exp2(fmaf(s[n][2 * r], scale_log2, -mc));
    s[n][2 * r + 1] = fast_exp2(fmaf(s[n][2 * r + 1], scale_log2, -mc));
    sum += s[n][2 * r] + s[n][2 * r + 1];
  }
  l_run = l_run * alpha + sum;  // per-lane partial; the quad is summed at the end
  return alpha;
}

template <int NO>
__device__ __forceinline__ void rescale(float (&o)[NO][4], int r, float alpha) {
#pragma unroll
  for (int n = 0; n < NO; ++n) {
    o[n][2 * r] *= alpha;
    o[n][2 * r + 1] *= alpha;
  }
}

// Both at once, for a kernel whose output products are complete when the scores are.
template <int NT, int NO>
__device__ __forceinline__ void softmax_update(float (&s)[NT][4], float (&o)[NO][4], int r, float& m_run, float& l_run,
                                               float scale_log2) {
  rescale(o, r, softmax_scores(s, r, m_run, l_run, scale_log2));
}

// P's k16 slice kk (keys 16kk..16kk + 15) as a bf16 A fragment: the accumulator layout of two n8 tiles is the A
// fragment layout of one k16 step, so P never leaves the registers.
template <int NT>
__device__ __forceinline__ void pack_p(const float (&s)[NT][4], int kk, unsigned (&pa)[4]) {
  pa[0] = mma::pack_bf16(s[2 * kk][0], s[2 * kk][1]);
  pa[1] = mma::pack_bf16(s[2 * kk][2], s[2 * kk][3]);
  pa[2] = mma::pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]);
  pa[3] = mma::pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3]);
}

// Output row half r divided by its row sum (the quad's partials added) and stored as bf16 at dst (this row's first
// column; lane t writes columns 2t, 2t + 1 of each n8 tile) when `valid`; every lane of the warp must call it.
template <int NO>
__device__ __forceinline__ void store_row(const float (&o)[NO][4], int r, float l_run, int lane, bool valid,
                                          __nv_bfloat16* dst) {
  float l = l_run;
  l += __shfl_xor_sync(0xffffffff, l, 1);
  l += __shfl_xor_sync(0xffffffff, l, 2);
  if (!valid) return;
  const float inv = l > 0.f ? 1.f / l : 0.f;
  dst += (lane % 4) * 2;
#pragma unroll
  for (int n = 0; n < NO; ++n)
    *reinterpret_cast<__nv_bfloat162*>(dst + n * 8) = __floats2bfloat162_rn(o[n][2 * r] * inv, o[n][2 * r + 1] * inv);
}

}  // namespace lmscope::cuda::flash
