// The tensor-core building blocks the bf16 kernels share (flash attention, the chunked delta rule, chunked linear
// attention): asynchronous global → shared copies, ldmatrix, one mma.sync m16n8k16 (bf16 in, f32 accumulate), and
// a warp's product of shared-memory tiles with the fragment layout spelled out once.
// Fragment layout of m16n8k16 (PTX ISA): lane = 4g + t; A holds rows g, g + 8 and columns 2t, 2t + 1, 2t + 8, 2t + 9;
// B holds column g and rows (the reduction index) 2t, 2t + 1, 2t + 8, 2t + 9; C holds rows g, g + 8, columns 2t, 2t + 1.
#pragma once

#include <cstdint>

#include "elem.cuh"

namespace lmscope::cuda::mma {

__device__ __forceinline__ unsigned smem_addr(const void* p) { return static_cast<unsigned>(__cvta_generic_to_shared(p)); }

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(smem_addr(smem)), "l"(gmem));
}
// The same, but zero-filling the 16 bytes instead when !valid (rows past a sequence's end); gmem must still be a
// valid address.
__device__ __forceinline__ void cp_async16_or_zero(void* smem, const void* gmem, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(smem)), "l"(gmem), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_group 0;\n" ::: "memory"); }

__device__ __forceinline__ void ldmatrix_x4(unsigned r[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldmatrix_x4_trans(unsigned r[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

// d += a · b for one m16n8k16 tile.
__device__ __forceinline__ void mma_bf16(float d[4], const unsigned a[4], unsigned b0, unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ unsigned pack_bf16(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const unsigned*>(&v);
}

// Elements (r, k), (r, k + 1) of an operand in shared memory stored [r][k] (KContig: one 32-bit load) or [k][r] (two
// 16-bit loads), packed for mma (lower k in the low half).
template <bool KContig>
__device__ __forceinline__ unsigned ld_pair(const bf16* base, int ld, int r, int k) {
  if constexpr (KContig) {
    return *reinterpret_cast<const unsigned*>(base + r * ld + k);
  } else {
    const auto* p = reinterpret_cast<const unsigned short*>(base);
    return static_cast<unsigned>(p[k * ld + r]) | (static_cast<unsigned>(p[(k + 1) * ld + r]) << 16);
  }
}

// acc[mt][nt] (16×8 tiles at rows m0 + 16 mt, columns n0 + 8 nt) += Σ_k A(row, k) B(col, k) over k in [0, K), both
// operands in shared memory (AK / BK: stored with k contiguous, read as 32-bit pairs). An operand stored k-major (A as
// [k][m], B as [k][n]) is loaded with ldmatrix.trans, one instruction per 16 × 16 block instead of eight 16-bit loads
// per lane: lane i addresses row i mod 8 of 8 × 8 block i / 8, and transposed, lane 4g + t receives that block's
// elements (2t, g) and (2t + 1, g) — for A the blocks (k 0-7 | 8-15) × (m 0-7 | 8-15) in fragment order a0..a3, for B
// (k 0-7 | 8-15) × (n 0-7 | 8-15), two n-tiles (an odd NT keeps the 16-bit loads). Such rows must be 16-byte aligned
// (ld and m0 / n0 multiples of 8).
template <int MT, int NT, bool AK, bool BK>
__device__ __forceinline__ void warp_mma(float (&acc)[MT][NT][4], const bf16* A, int lda, int m0, const bf16* B, int ldb,
                                         int n0, int K) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, r = lane & 7, blk = lane >> 3;
  constexpr bool kBTrans = !BK && NT % 2 == 0;
  const int a_k = (blk >> 1) * 8 + r, a_m = (blk & 1) * 8;  // A's block order: (k, m) = (0, 0), (0, 8), (8, 0), (8, 8)
  const int b_k = (blk & 1) * 8 + r, b_n = (blk >> 1) * 8;  // B's: (0, 0), (8, 0), (0, 8), (8, 8)
  for (int k = 0; k < K; k += 16) {
    unsigned a[MT][4], b[NT][2];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
      if constexpr (AK) {
        const int row = m0 + 16 * mt + g;
        a[mt][0] = ld_pair<true>(A, lda, row, k + 2 * t);
        a[mt][1] = ld_pair<true>(A, lda, row + 8, k + 2 * t);
        a[mt][2] = ld_pair<true>(A, lda, row, k + 2 * t + 8);
        a[mt][3] = ld_pair<true>(A, lda, row + 8, k + 2 * t + 8);
      } else {
        ldmatrix_x4_trans(a[mt], A + (k + a_k) * lda + m0 + 16 * mt + a_m);
      }
    }
    if constexpr (kBTrans) {
#pragma unroll
      for (int np = 0; np < NT / 2; ++np) {
        unsigned q[4];
        ldmatrix_x4_trans(q, B + (k + b_k) * ldb + n0 + 16 * np + b_n);
        b[2 * np][0] = q[0];
        b[2 * np][1] = q[1];
        b[2 * np + 1][0] = q[2];
        b[2 * np + 1][1] = q[3];
      }
    } else {
#pragma unroll
      for (int nt = 0; nt < NT; ++nt) {
        const int n = n0 + 8 * nt + g;
        b[nt][0] = ld_pair<BK>(B, ldb, n, k + 2 * t);
        b[nt][1] = ld_pair<BK>(B, ldb, n, k + 2 * t + 8);
      }
    }
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int nt = 0; nt < NT; ++nt) mma_bf16(acc[mt][nt], a[mt], b[nt][0], b[nt][1]);
  }
}

// f(row, col, value&) for each accumulator element this lane holds.
template <int MT, int NT, typename F>
__device__ __forceinline__ void for_each_acc(float (&acc)[MT][NT][4], int m0, int n0, F&& f) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
      for (int q = 0; q < 4; ++q) f(m0 + 16 * mt + g + (q >= 2 ? 8 : 0), n0 + 8 * nt + 2 * t + (q & 1), acc[mt][nt][q]);
}

template <int MT, int NT>
__device__ __forceinline__ void zero(float (&acc)[MT][NT][4]) {
  for_each_acc(acc, 0, 0, [](int, int, float& x) { x = 0.f; });
}

// Stores acc (rows m0 + 16 mt, columns n0 + 8 nt) transposed as bf16 into shared memory, T[n][m] with row pitch ld
// (a multiple of 8; m0 and n0 multiples of 8). On sm_90, stmatrix.trans writes four 8 × 8 blocks per instruction —
// lane i addresses row i mod 8 of block i / 8 — where lane 4g + t's register j holds block j's (g, 2t), (g, 2t + 1)
// and lands at (2t, g), (2t + 1, g); blocks j = (n-tile nt + j / 2, rows 8 (j mod 2) of the m-tile). Before sm_90,
// and for an odd NT, two 16-bit stores per pair.
template <int MT, int NT>
__device__ __forceinline__ void store_transposed_bf16(float (&acc)[MT][NT][4], bf16* T, int ld, int m0, int n0) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if constexpr (NT % 2 == 0) {
    const int lane = threadIdx.x & 31, r = lane & 7, blk = lane >> 3;
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int np = 0; np < NT / 2; ++np) {
        const float* c0 = acc[mt][2 * np];
        const float* c1 = acc[mt][2 * np + 1];
        bf16* row = T + (n0 + 16 * np + (blk >> 1) * 8 + r) * ld + m0 + 16 * mt + (blk & 1) * 8;
        asm volatile("stmatrix.sync.aligned.m8n8.x4.trans.shared.b16 [%0], {%1, %2, %3, %4};\n" ::"r"(smem_addr(row)),
                     "r"(pack_bf16(c0[0], c0[1])), "r"(pack_bf16(c0[2], c0[3])), "r"(pack_bf16(c1[0], c1[1])),
                     "r"(pack_bf16(c1[2], c1[3]))
                     : "memory");
      }
    return;
  }
#endif
  for_each_acc(acc, m0, n0, [&](int m, int n, float& x) { T[n * ld + m] = __float2bfloat16(x); });
}

// Stores the lane's accumulator pairs (columns 2t, 2t+1) as bf16 to a row-major matrix (global or shared).
template <int MT, int NT>
__device__ __forceinline__ void store_bf16(float (&acc)[MT][NT][4], bf16* out, std::int64_t ld, int m0, int n0) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int r = m0 + 16 * mt + g + 8 * h, c = n0 + 8 * nt + 2 * t;
        *reinterpret_cast<__nv_bfloat162*>(out + r * ld + c) = __floats2bfloat162_rn(acc[mt][nt][2 * h], acc[mt][nt][2 * h + 1]);
      }
}

}  // namespace lmscope::cuda::mma
