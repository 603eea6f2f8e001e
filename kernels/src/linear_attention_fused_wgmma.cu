// The chunked linear attention's fused state + output pass on Hopper's warpgroup tensor cores (wgmma): the same
// recurrence as linear_attention_chunked.cu's fused kernel (its header comment has the maths), for dk 256 with q and k
// materialised and no skip term (RetNet and GLA at 1.3B; not SSD), from what its prepare kernel wrote: per chunk of
// 64 tokens
//   O = Qg H_c + P V,   S ← diag(dec) S + Kdᵀ V,   H_c the state S at the chunk's start.
// Why: the mma.sync fused kernel spends ~5 µs per chunk step on one SM for ~1.2 µs of tensor work (its products'
// operands go through registers by ldmatrix, and its eight warps serialise on the step's barriers), so at batch 1 the
// three-kernel form wins despite writing and reading every H_c (2 × 537 MB per layer for RetNet-1.3B at 1×16384).
//
// A CTA owns a 64-column tile of one head's state, S transposed ([64 dv][dk]) in float32 accumulators, split over two
// warpgroups by dk (each 32 registers per 64 columns of dk: all of S in one warpgroup spilled). Per chunk, with the
// next chunk's Qg, Kd, V, P and decay arriving by cp.async into 128-byte-swizzled 64-column panels:
//   H_c: S rounded to bf16 and stored by stmatrix into a swizzled [64][dk] tile (the B operand of Qg H_c, K-major);
//   O = Qg H_c + P V: dk / 16 + 4 wgmma m64n64k16, both operands from shared memory (V MN-major: transpose flag),
//   each warpgroup half of each sum, the halves added through shared memory;
//   S ← dec ⊙ S + Vᵀ Kd (each warpgroup its half of dk): 4 × dk / 128 wgmma with Vᵀ from registers
//   (ldmatrix.trans of the V tile) and Kd MN-major.
// The groups are issued back to back; O is stored once its group is done while the state update finishes. Both
// warpgroups run the same instructions (no product under a branch: ptxas serialises wgmma it cannot prove uniform).
// Shared memory: 2 × (2 × dk + 128) × 128 bytes of tiles, the H_c tile, decays and O's half = 210 KiB at dk 256 (one
// CTA per SM).
// Pair form, for grids that would leave SMs idle (RetNet-1.3B at batch 1: 64 tiles on 132 SMs): the two warpgroups
// become the two CTAs of a cluster on two SMs, each loading only its half of Qg and Kd (146 KiB), the halves of O
// added through distributed shared memory — twice the tensor cores per tile for one cluster barrier per chunk.
#include <cooperative_groups.h>
#include <stdexcept>
#include <string>

#include "elem.cuh"
#include "linear_attention_fused_wgmma.h"
#include "mma_bf16.cuh"
#include "shared_memory_limit.h"
#include "wgmma_sm90.cuh"

namespace lmscope::cuda {
namespace {

using namespace mma;
namespace cg = cooperative_groups;

constexpr int kC = 64;             // chunk length (linear_attention_chunked.cu's)
constexpr int kBV = 64;            // state columns per CTA
constexpr int kPanel = kC * 128;   // a swizzled [64 rows][64 bf16] panel, 8 KiB

// Shared-memory layout, byte offsets from a 1024-byte-aligned base (the swizzle repeats every 1024 bytes). A CTA holds
// all of dk (both warpgroups) or, in the pair form, its half.
template <int DK, bool kPair>
struct Layout {
  static constexpr int kPanels = kPair ? DK / 128 : DK / 64;  // 64-column panels of dk held here
  static constexpr int kTileQK = kPanels * kPanel;            // a chunk's Qg or Kd
  static constexpr int kQ = 0;                                // [2] Qg tiles
  static constexpr int kK = kQ + 2 * kTileQK;                 // [2] Kd tiles
  static constexpr int kV = kK + 2 * kTileQK;                 // [2] V tiles (one panel)
  static constexpr int kP = kV + 2 * kPanel;                  // [2] P tiles (one panel)
  static constexpr int kH = kP + 2 * kPanel;                  // H_c transposed: panels of [64 dv][64 dk]
  static constexpr int kDec = kH + kPanels * kPanel;          // [2][DK] floats
  static constexpr int kRed = kDec + 2 * DK * 4;              // [1 or 2][32][128] floats: the second half of O
  static constexpr int kRedBuffers = kPair ? 2 : 1;           // pair: written remotely, one per chunk parity
  static constexpr int kBytes = kRed + kRedBuffers * 32 * 128 * 4;
};

// Byte offset of 16-byte chunk `chunk` of `row` in a 64-row tile stored as swizzled 64-column panels.
__device__ __forceinline__ int tile_chunk(int row, int chunk) {
  return (chunk / 8) * kPanel + wgmma::swizzled_chunk(row, chunk % 8);
}

__device__ __forceinline__ void stmatrix_x4(void* p, unsigned r0, unsigned r1, unsigned r2, unsigned r3) {
  asm volatile("stmatrix.sync.aligned.m8n8.x4.shared.b16 [%0], {%1, %2, %3, %4};\n" ::"r"(
                   static_cast<unsigned>(__cvta_generic_to_shared(p))),
               "r"(r0), "r"(r1), "r"(r2), "r"(r3)
               : "memory");
}

__device__ __forceinline__ void opaque(std::uint64_t& x) { asm volatile("" : "+l"(x)); }

template <int DK, bool kPair>
__device__ __forceinline__ void la_fused_wgmma(const LinearAttentionChunkedArgs& a, const LinearAttentionPrepared& w) {
  using L = Layout<DK, kPair>;
  constexpr int kThreads = kPair ? 128 : 256;
  constexpr int kPanels = DK / 128;  // of S per warpgroup
  extern __shared__ unsigned char smem_raw[];
  unsigned char* base =
      reinterpret_cast<unsigned char*>((reinterpret_cast<std::uintptr_t>(smem_raw) + 1023) & ~std::uintptr_t{1023});
  unsigned char* h_s = base + L::kH;
  float* dec_s = reinterpret_cast<float*>(base + L::kDec);

  // wg: which half of dk (and of each sum of O) this warpgroup takes — its index in the CTA, or its CTA's in the pair
  const int tid = threadIdx.x, warp = (tid / 32) % 4, lane = tid % 32, g = lane / 4, t4 = lane % 4;
  const int wg = kPair ? static_cast<int>(cg::this_cluster().block_rank()) : tid / 128;
  const int p0 = wg * kPanels;               // this warpgroup's first panel of S's dk
  const int pl0 = kPair ? 0 : p0;            // the same panel in this CTA's tiles
  const int col0 = kPair ? wg * DK / 2 : 0;  // the first column of dk this CTA loads
  const std::int64_t bh = blockIdx.y, b = bh / a.HV, hv = bh % a.HV, dv = a.dv;
  const int d0 = static_cast<int>(kPair ? blockIdx.x / 2 : blockIdx.x) * kBV;
  const std::int64_t v_stride = a.HV * dv;
  const bf16* v_in = static_cast<const bf16*>(a.v) + b * a.T * v_stride + hv * dv + d0;
  bf16* out = static_cast<bf16*>(a.out) + b * a.T * v_stride + hv * dv + d0;
  const bf16* Qg = static_cast<const bf16*>(w.Qg) + bh * w.Tp * DK + col0;
  const bf16* Kd = static_cast<const bf16*>(w.Kd) + bh * w.Tp * DK + col0;
  const bf16* P = static_cast<const bf16*>(w.P) + bh * w.Tp * kC;
  const float* dec = w.dec + bh * w.NC * DK;

  // The copies of a chunk, written so each thread's addresses are one base plus constants (loop-invariant 64-bit
  // addresses per unrolled copy would otherwise take registers the accumulators need). Qg / Kd: thread t copies the
  // 16-byte chunk t % kRowChunks of rows t / kRowChunks + kRowStep i; V / P: chunk t % 8 of rows t / 8 +
  // kThreads / 8 i.
  constexpr int kRowChunks = L::kPanels * 8, kRowStep = kThreads / kRowChunks, kVpStep = kThreads / 8;
  static_assert(kThreads % kRowChunks == 0 && kRowStep % 8 == 0 && kC % kRowStep == 0 && kVpStep % 8 == 0,
                "whole swizzle groups per step");
  const int qk_chunk = tid % kRowChunks, qk_row = tid / kRowChunks;
  const int qk_smem = tile_chunk(qk_row, qk_chunk);  // + kRowStep / 8 × 1024 bytes per step (whole swizzle groups)
  const int vp_chunk = tid % 8, vp_row = tid / 8;
  const int vp_smem = wgmma::swizzled_chunk(vp_row, vp_chunk);  // + kVpStep / 8 × 1024 bytes per step
  auto prefetch = [&](std::int64_t c, int buf) {
    const std::int64_t t0 = c * kC;
    unsigned char* q_s = base + L::kQ + buf * L::kTileQK + qk_smem;
    unsigned char* k_s = base + L::kK + buf * L::kTileQK + qk_smem;
    const bf16* qg = Qg + (t0 + qk_row) * DK + qk_chunk * 8;
    const bf16* kd = Kd + (t0 + qk_row) * DK + qk_chunk * 8;
#pragma unroll
    for (int i = 0; i < kC / kRowStep; ++i) {
      cp_async16(q_s + i * (kRowStep / 8) * 1024, qg + i * kRowStep * DK);
      cp_async16(k_s + i * (kRowStep / 8) * 1024, kd + i * kRowStep * DK);
    }
    unsigned char* v_s = base + L::kV + buf * kPanel + vp_smem;
    unsigned char* p_s = base + L::kP + buf * kPanel + vp_smem;
    const bf16* pc = P + (t0 + vp_row) * kC + vp_chunk * 8;
#pragma unroll
    for (int i = 0; i < kC / kVpStep; ++i) {
      const std::int64_t t = t0 + vp_row + kVpStep * i;
      cp_async16_or_zero(v_s + i * (kVpStep / 8) * 1024, v_in + (t < a.T ? t : 0) * v_stride + vp_chunk * 8, t < a.T);
      cp_async16(p_s + i * (kVpStep / 8) * 1024, pc + i * kVpStep * kC);
    }
    if (tid < DK / 4) cp_async16(dec_s + buf * DK + 4 * tid, dec + c * DK + 4 * tid);
    cp_async_commit();
  };

  // S transposed, panel p0 + p: this warp's rows d = 16 warp + g (+ 8), columns e = 64 (p0 + p) + 8 j + 2 t4 (+ 1)
  // in s[p][4 j + 2 half + {0, 1}] (wgmma's accumulator layout).
  float s[kPanels][32];
  float* S = a.state + bh * DK * dv;
#pragma unroll
  for (int p = 0; p < kPanels; ++p)
#pragma unroll
    for (int i = 0; i < 32; ++i) {
      const int j = i / 4, d = 16 * warp + g + 8 * ((i / 2) % 2), e = 64 * (p0 + p) + 8 * j + 2 * t4 + i % 2;
      s[p][i] = S[e * dv + d0 + d];
    }

  if constexpr (kPair) cg::this_cluster().sync();  // both CTAs running before one writes the other's memory
  prefetch(0, 0);
  for (std::int64_t c = 0; c < w.NC; ++c) {
    const int buf = static_cast<int>(c & 1);
    cp_async_wait_all();
    wgmma::fence_proxy_async();
    __syncthreads();  // chunk c is in; every warp is done with chunk c − 1 (its products waited for)
    if (c + 1 < w.NC) prefetch(c + 1, buf ^ 1);
    const unsigned char* q_s = base + L::kQ + buf * L::kTileQK;
    const unsigned char* k_s = base + L::kK + buf * L::kTileQK;
    const unsigned char* v_s = base + L::kV + buf * kPanel;
    const unsigned char* p_s = base + L::kP + buf * kPanel;

    {  // H_c = bf16(S): lane 8q + r addresses row r of 8 × 8 block q = (n8 tile 2 jp + q / 2, rows + 8 (q % 2))
      const int q = lane / 8, row = 16 * warp + 8 * (q % 2) + lane % 8;
#pragma unroll
      for (int p = 0; p < kPanels; ++p)
#pragma unroll
        for (int jp = 0; jp < 4; ++jp)
          stmatrix_x4(h_s + (pl0 + p) * kPanel + wgmma::swizzled_chunk(row, 2 * jp + q / 2),
                      pack_bf16(s[p][8 * jp], s[p][8 * jp + 1]), pack_bf16(s[p][8 * jp + 2], s[p][8 * jp + 3]),
                      pack_bf16(s[p][8 * jp + 4], s[p][8 * jp + 5]), pack_bf16(s[p][8 * jp + 6], s[p][8 * jp + 7]));
    }
    wgmma::fence_proxy_async();
    __syncthreads();

    // For S ← dec ⊙ S + Vᵀ Kd below: S scaled now (no register an issued product will write may change while it
    // flies) and Vᵀ's A fragments (rows d of this warp, k = tokens) by ldmatrix.trans of V's [token][d]
    // tile: lane 8q + r addresses token 16 kk + 8 (q / 2) + r, columns 16 warp + 8 (q % 2).
    unsigned vf[kC / 16][4];
    {
      const int q = lane / 8;
#pragma unroll
      for (int kk = 0; kk < kC / 16; ++kk)
        ldmatrix_x4_trans(vf[kk], v_s + wgmma::swizzled_chunk(16 * kk + 8 * (q / 2) + lane % 8, 2 * warp + q % 2));
    }
    const float* dc = dec_s + buf * DK;
#pragma unroll
    for (int p = 0; p < kPanels; ++p)
#pragma unroll
      for (int i = 0; i < 32; ++i) s[p][i] *= dc[64 * (p0 + p) + 8 * (i / 4) + 2 * t4 + i % 2];
    // O = Qg H_c + P V, this warpgroup's half of each sum (dk for Qg H_c, tokens for P V); K-major A and B advance 32
    // bytes per k16 step, MN-major V 16 rows of 128 bytes
    float o[32];
    // Descriptors as one base per operand plus constant offsets (16-byte units), the bases opaque to the compiler:
    // hoisted out of the chunk loop, every offset descriptor of both buffers took a register pair (255 registers).
    std::uint64_t dq = wgmma::descriptor(q_s, 16, 1024), dh = wgmma::descriptor(h_s, 16, 1024),
                  dp = wgmma::descriptor(p_s, 16, 1024), dv_ = wgmma::descriptor(v_s, 16, 1024),
                  dk = wgmma::descriptor(k_s, 16, 1024);
    opaque(dq), opaque(dh), opaque(dp), opaque(dv_), opaque(dk);
    wgmma::fence();
#pragma unroll
    for (int k = 0; k < DK / 32; ++k) {
      const int kk = 4 * pl0 + k, off = ((kk / 4) * kPanel + (kk % 4) * 32) >> 4;
      wgmma::wgmma_m64n64k16_ss<0>(o, dq + off, dh + off, k > 0);
    }
#pragma unroll
    for (int k = 0; k < kC / 32; ++k) {
      const int kk = wg * (kC / 32) + k;
      wgmma::wgmma_m64n64k16_ss<1>(o, dp + kk * 2, dv_ + kk * 128, 1);
    }
    wgmma::commit();
#pragma unroll
    for (int kk = 0; kk < kC / 16; ++kk)
#pragma unroll
      for (int p = 0; p < kPanels; ++p)
        wgmma::wgmma_m64n64k16_rs<1>(s[p], vf[kk], dk + (((pl0 + p) * kPanel + kk * 2048) >> 4), 1);
    wgmma::commit();

    wgmma::wait<1>();  // O's group is done (groups complete in order)
    wgmma::fence_operands(o);
    // Warpgroup 1's half of O to warpgroup 0 (same accumulator layout: thread r of each holds the same elements); in
    // the pair form into the other CTA's buffer for this chunk's parity (the next chunk's barrier keeps the one it
    // is reading from being overwritten).
    float* red = reinterpret_cast<float*>(base + L::kRed) + (kPair ? (c & 1) * 32 * 128 : 0);
    if (wg == 1) {
      float* to = kPair ? cg::this_cluster().map_shared_rank(red, 0) : red;
#pragma unroll
      for (int i = 0; i < 32; ++i) to[i * 128 + tid % 128] = o[i];
    }
    if constexpr (kPair)
      cg::this_cluster().sync();
    else
      __syncthreads();
    if (wg == 0) {
#pragma unroll
      for (int i = 0; i < 32; ++i) o[i] += red[i * 128 + tid];
      const std::int64_t t0 = c * kC;
      const int n = static_cast<int>(a.T - t0 < kC ? a.T - t0 : kC);
#pragma unroll
      for (int j = 0; j < 8; ++j)
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          const int i = 16 * warp + g + 8 * half, d = 8 * j + 2 * t4;
          if (i >= n) continue;
          *reinterpret_cast<__nv_bfloat162*>(out + (t0 + i) * v_stride + d) =
              __floats2bfloat162_rn(o[4 * j + 2 * half], o[4 * j + 2 * half + 1]);
        }
    }
    wgmma::wait<0>();
#pragma unroll
    for (int p = 0; p < kPanels; ++p) wgmma::fence_operands(s[p]);
    wgmma::fence_registers(reinterpret_cast<unsigned(&)[kC / 4]>(vf));
  }

#pragma unroll
  for (int p = 0; p < kPanels; ++p)
#pragma unroll
    for (int i = 0; i < 32; ++i) {
      const int j = i / 4, d = 16 * warp + g + 8 * ((i / 2) % 2), e = 64 * (p0 + p) + 8 * j + 2 * t4 + i % 2;
      S[e * dv + d0 + d] = s[p][i];
    }
}

template <int DK>
__global__ void __launch_bounds__(256, 1)
    la_fused_wgmma_kernel(LinearAttentionChunkedArgs a, LinearAttentionPrepared w) {
  la_fused_wgmma<DK, false>(a, w);
}

template <int DK>
__global__ void __cluster_dims__(2, 1, 1) __launch_bounds__(128, 1)
    la_fused_wgmma_pair_kernel(LinearAttentionChunkedArgs a, LinearAttentionPrepared w) {
  la_fused_wgmma<DK, true>(a, w);
}

constexpr const char* kWhat = "linear_attention_chunked (wgmma)";  // in error messages

template <int DK>
void launch(const LinearAttentionChunkedArgs& a, const LinearAttentionPrepared& w, bool pair, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(a.dv / kBV * (pair ? 2 : 1)), static_cast<unsigned>(a.batch * a.HV));
  if (pair) {
    constexpr std::size_t smem = Layout<DK, true>::kBytes + 1024;
    static const bool configured =  // once
        (allow_dynamic_shared_memory(la_fused_wgmma_pair_kernel<DK>, smem, kWhat), true);
    (void)configured;
    la_fused_wgmma_pair_kernel<DK><<<grid, 128, smem, stream>>>(a, w);
  } else {
    constexpr std::size_t smem = Layout<DK, false>::kBytes + 1024;
    static const bool configured = (allow_dynamic_shared_memory(la_fused_wgmma_kernel<DK>, smem, kWhat), true);
    (void)configured;
    la_fused_wgmma_kernel<DK><<<grid, 256, smem, stream>>>(a, w);
  }
}

}  // namespace

bool linear_attention_fused_wgmma_supports(const LinearAttentionChunkedArgs& a) {
  return a.dk == 256 && a.dv % kBV == 0 && a.D == nullptr && a.A_log == nullptr;
}

void linear_attention_fused_wgmma(const LinearAttentionChunkedArgs& a, const LinearAttentionPrepared& w, bool pair,
                                  cudaStream_t stream) {
  if (!linear_attention_fused_wgmma_supports(a))
    throw std::runtime_error("linear_attention_chunked (wgmma): head dims " + std::to_string(a.dk) + " x " +
                             std::to_string(a.dv) + " not supported");
  launch<256>(a, w, pair, stream);
}

}  // namespace lmscope::cuda
