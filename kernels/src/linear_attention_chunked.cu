// Gated linear attention in its chunked form on tensor cores, for scoring many tokens: GLA and HGRN2 (a decay per key
// channel), RetNet (a fixed decay per head) and Mamba2's SSD (a data-dependent decay per head). bf16 operands, fp32
// accumulation and fp32 state; the token-by-token kernel (linear_recurrence.cuh) stays for decoding and fp32 mode.
// Per value head with state S [dk, dv] and chunks of kC = 64 tokens, G_t the cumulative log decay inside the chunk
// (per key channel, or one value per head) and κ_j a per-token key scale (SSD's dt, else 1):
//   P_ij = scale κ_j Σ_c q_ic k_jc e^{G_ic − G_jc} (j ≤ i),  Qg_i = scale q_i ⊙ e^{G_i},
//   Kd_j = κ_j k_j ⊙ e^{G_last − G_j},  dec = e^{G_last}                                — kernel 1 (prepare)
//   per chunk in order: H_c = S;  S ← diag(dec) S + Kdᵀ V                              — kernel 2 (state)
//   O = Qg H_c + P V  (+ D ⊙ x for SSD)                                                 — kernel 3 (output)
// Kernel 2's walk is serial in the chunks, so at small batch its grid would leave most SMs idle (Mamba2-1.3B at
// 1×16384: 128 CTAs of 256 chunks each). Then the chunks are cut into segments walked in parallel, each from a zero
// state (the first from the given one): the walk yields local states H'_c and each segment's end state E_s; a short
// pass joins them, R_0 = 0, R_{s+1} = diag(Π dec over segment s) R_s + E_s, and kernel 3 uses
// H_c = H'_c + diag(Π dec from the segment's start to c) R_s — the recurrence is linear in S, so this is exact.
// At dk ≥ 128, when the batch's heads alone fill the GPU with 64-column tiles, kernels 2 and 3 are one instead
// (fused): a CTA per column tile of a head keeps its [dk, BV] state in registers, walks the chunks and writes each
// chunk's outputs on the way, so H_c never goes through memory (the three-kernel form writes it and reads it back:
// 2 × 537 MB per layer for RetNet-1.3B at 8×2048). On Hopper, dk 256 always takes the fused pass on warpgroup tensor cores
// (linear_attention_fused_wgmma.cu), which also wins at batch 1 (fused_cols_tile has the numbers).
// No exponent is positive, so nothing overflows however strong the decay. Per channel, P's 16 × 16 blocks below the
// diagonal are products of q_i e^{G_i − G_r} and k_j e^{G_r − G_j} with r the last row of j's block (both factors
// ≤ 1: fla's sub-chunk scheme), and the blocks on the diagonal are summed element by element in fp32. Per head, P is
// Q Kᵀ by mma, scaled by e^{G_i − G_j} afterwards.
// SSD: q = C and k = B of the head's group, v = x, g_t = dt_t · A with A = −exp(A_log), κ = dt.
// Kernel 1: grid (chunks, batch × HV), 128 threads (a warp per 16 rows). Kernel 2: grid (dv / BV, dk / BK,
// batch × HV), 128 threads, chunks in sequence, its [BK, BV] piece of S in mma accumulators, the next chunk's Kd and
// V fetched by cp.async while the current one is used (rows of S evolve independently, so dk splits across CTAs and
// one long sequence still fills the GPU). Kernel 3: grid (chunks × dv / BV, batch × HV), 128 threads: a chunk's
// column tiles run side by side and share its q and P through L2.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "chunk_scan.cuh"
#include "device_sms.cuh"
#include "elem.cuh"
#include "linear_attention_fused_wgmma.h"
#include "lmscope_kernels/op_profile.h"
#include "mma_bf16.cuh"
#include "shared_memory_limit.h"

namespace lmscope::cuda {
namespace {

using namespace mma;

constexpr int kC = 64;  // chunk length
constexpr int kThreads = 128;
constexpr int kPad = 8;
constexpr int kMinDv = 32;  // the narrowest column tile
constexpr int kMinFusedDk = 64;  // the fused kernel's state split over 8 warps needs 64 rows

// The state's tiles: rows of dk per state CTA (kernel 2) and columns of dv per state CTA (kernel 2 and the fused
// kernel). The launches and the choice of pass below size their grids by these same rules.
constexpr int state_rows_tile(std::int64_t dk) { return dk < 64 ? static_cast<int>(dk) : 64; }
constexpr int state_cols_tile(std::int64_t dv) { return dv % 64 == 0 ? 64 : 32; }

struct Work {
  bf16* Qg;    // [BHV, Tp, dk] (per channel)
  bf16* Kd;    // [BHV, Tp, dk] (per channel)
  float* fq;   // [BHV, Tp]: scale e^{G_i} (per head: the kernels scale q's and k's rows as they use them)
  float* fk;   // [BHV, Tp]: κ_j e^{G_last − G_j} (per head)
  bf16* P;     // [BHV, Tp, kC]
  float* dec;  // [BHV, NC, dk]
  bf16* Ht;    // [NC, BHV, dv, dk]: the state at each chunk's start (from its segment's start), transposed
  std::int64_t NC, Tp;
  int fused_cols = 0;      // kernels 2 and 3 as one, with column tiles this wide (0: not fused)
  std::int64_t NS = 1, L;  // segments of the state pass, chunks per segment (the last may have fewer)
  float* join;    // [BHV, NS, dv, dk] (NS > 1): each segment's end state, then (joined) the state it starts from
  float* cumdec;  // [BHV, NC, dk] (NS > 1): the decay from the chunk's segment's start to the chunk's start
  float* segdec;  // [BHV, NS, dk] (NS > 1): the decay across the segment
};

struct Layout {  // the inputs of sequence b, head hv
  const bf16 *q, *k, *v;
  std::int64_t q_stride, v_stride;  // elements per token row
};

__device__ __forceinline__ Layout layout(const LinearAttentionChunkedArgs& a, std::int64_t b, std::int64_t hv, int DK) {
  const std::int64_t h = hv / (a.HV / a.H);
  Layout l;
  l.q_stride = a.H * DK;
  l.v_stride = a.HV * a.dv;
  l.q = static_cast<const bf16*>(a.q) + b * a.T * l.q_stride + h * DK;
  l.k = static_cast<const bf16*>(a.k) + b * a.T * l.q_stride + h * DK;
  l.v = static_cast<const bf16*>(a.v) + b * a.T * l.v_stride + hv * a.dv;
  return l;
}

// ---------------------------------------------------------------- kernel 1: P, Qg, Kd and the decay per chunk
constexpr int kPrepThreads = 256;  // 8 warps: one CTA per SM fits (the decays take 64 KB at dk 256), so more warps
                                   // hide the latency of the exponentials and shared loads
// Per channel, the diagonal blocks use their first row as reference, so the key factor e^{G_m − G_j} is ≥ 1; it is
// used when the decay across the block stays under e^{kMaxBlockDrop}, else that block is summed element by element.
constexpr float kMaxBlockDrop = 60.f;

template <int DK, bool kPerChannel>
constexpr std::size_t prepare_smem() {
  constexpr int GC = kPerChannel ? DK + 4 : 1;
  return sizeof(bf16) * (2 * kC * (DK + kPad) + kC * (kC + kPad)) + sizeof(float) * (kC * GC + kC) +
         (kPerChannel ? sizeof(float) * kC * (kC + 4) : 0);
}

// kMaterialize: write Qg and Kd (per channel, and per head without grouped heads); else the row factors fq, fk, and
// the state and output kernels scale the raw q and k (shared by a group's heads) as they use them.
template <int DK, bool kPerChannel, bool kMaterialize>
__global__ void __launch_bounds__(kPrepThreads) la_prepare_kernel(LinearAttentionChunkedArgs a, Work w) {
  extern __shared__ __align__(16) unsigned char smem[];
  constexpr int ldk = DK + kPad, ldp = kC + kPad, ldr = kC + 4;
  constexpr int ldg = kPerChannel ? DK + 4 : 1;  // G's row pitch (floats)
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const std::int64_t c = blockIdx.x, bh = blockIdx.y, b = bh / a.HV, hv = bh % a.HV;
  const std::int64_t t0 = c * kC;
  const int n = static_cast<int>(a.T - t0 < kC ? a.T - t0 : kC);
  const Layout in = layout(a, b, hv, DK);
  bf16* qs = reinterpret_cast<bf16*>(smem);  // [kC][ldk]
  bf16* ks = qs + kC * ldk;                  // [kC][ldk]
  bf16* ps = ks + kC * ldk;                  // [kC][ldp]
  float* G = reinterpret_cast<float*>(ps + kC * ldp);  // [kC][ldg]
  float* kap = G + kC * ldg;                           // κ per row
  float* red = kap + kC;                               // per channel: [kC][ldr], the second half-sums of P

  for (int idx = tid; idx < kC * DK / 8; idx += kPrepThreads) {
    const int i = idx / (DK / 8), e = idx % (DK / 8) * 8;
    const std::int64_t row = (t0 + (i < n ? i : 0)) * in.q_stride + e;
    cp_async16_or_zero(qs + i * ldk + e, in.q + row, i < n);
    cp_async16_or_zero(ks + i * ldk + e, in.k + row, i < n);
  }
  cp_async_commit();
  // the log decays (0 past the sequence's end, so G_last is the last real token's) and κ
  const float* g_in = a.g + b * (a.g_per_token ? a.T : 0) * a.g_cols;
  const float A = a.A_log ? -expf(a.A_log[hv]) : 0.f;
  if (tid < kC) {
    const int i = tid;
    const std::int64_t grow = a.g_per_token ? t0 + i : 0;
    float kappa = 1.f, gi = 0.f;
    if (i < n) {
      if (a.A_log) {  // SSD: g is dt
        kappa = g_in[grow * a.g_cols + hv];
        gi = kappa * A;
      } else if (!kPerChannel) {
        gi = g_in[grow * a.g_cols + hv];
      }
    }
    kap[i] = kappa;
    if (!kPerChannel) G[i] = gi;  // per head: the row's log decay, summed in place below
  }
  bool steep[4] = {false, false, false, false};  // per channel: a 16-row block whose decay exceeds kMaxBlockDrop
  if constexpr (kPerChannel) {
    for (int e = tid; e < DK; e += kPrepThreads) {  // a running sum per channel down the chunk's rows, loads first
      float x[kC];
#pragma unroll
      for (int i = 0; i < kC; ++i) x[i] = i < n ? g_in[(a.g_per_token ? t0 + i : 0) * a.g_cols + hv * DK + e] : 0.f;
      float s = 0.f;
#pragma unroll
      for (int i = 0; i < kC; ++i) {
        s += x[i];
        G[i * ldg + e] = s;
      }
#pragma unroll
      for (int I = 0; I < 4; ++I) steep[I] = steep[I] || G[16 * I * ldg + e] - G[(16 * I + 15) * ldg + e] > kMaxBlockDrop;
    }
  }
  // bit I: block I is steep (a mask, not an array, so a warp's own bit needs no local memory)
  const unsigned steep_mask = (__syncthreads_or(steep[0]) ? 1u : 0u) | (__syncthreads_or(steep[1]) ? 2u : 0u) |
                              (__syncthreads_or(steep[2]) ? 4u : 0u) | (__syncthreads_or(steep[3]) ? 8u : 0u);
  if constexpr (!kPerChannel) {
    if (tid < 32) warp_cumsum64(G);  // G = cumulative sum over the chunk
  }
  cp_async_wait_all();
  __syncthreads();
  // G at (row i, channel e)
  auto Gat = [&](int i, int e) { return kPerChannel ? G[i * ldg + e] : G[i]; };
  const float scale = a.scale;

  // Qg, Kd (per channel) or their row factors (per head) and the decay out; P's tile zeroed (the blocks above the
  // diagonal stay so)
  if constexpr (!kMaterialize) {
    if (tid < kC) {
      w.fq[bh * w.Tp + t0 + tid] = scale * __expf(G[tid]);
      w.fk[bh * w.Tp + t0 + tid] = kap[tid] * __expf(G[kC - 1] - G[tid]);
    }
  }
  for (int idx = tid; kMaterialize && idx < kC * DK / 8; idx += kPrepThreads) {
    const int i = idx / (DK / 8), e = idx % (DK / 8) * 8;
    uint4 rq = *reinterpret_cast<const uint4*>(qs + i * ldk + e), rk = *reinterpret_cast<const uint4*>(ks + i * ldk + e);
    auto* pq = reinterpret_cast<__nv_bfloat162*>(&rq);
    auto* pk = reinterpret_cast<__nv_bfloat162*>(&rk);
    const float ki = kap[i];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int e0 = e + 2 * j;
      const float2 x = __bfloat1622float2(pq[j]), y = __bfloat1622float2(pk[j]);
      const float gq0 = Gat(i, e0), gq1 = Gat(i, e0 + 1);
      pq[j] = __floats2bfloat162_rn(scale * x.x * __expf(gq0), scale * x.y * __expf(gq1));
      pk[j] = __floats2bfloat162_rn(ki * y.x * __expf(Gat(kC - 1, e0) - gq0), ki * y.y * __expf(Gat(kC - 1, e0 + 1) - gq1));
    }
    *reinterpret_cast<uint4*>(w.Qg + (bh * w.Tp + t0 + i) * DK + e) = rq;
    *reinterpret_cast<uint4*>(w.Kd + (bh * w.Tp + t0 + i) * DK + e) = rk;
  }
  for (int e = tid; e < DK; e += kPrepThreads) w.dec[(bh * w.NC + c) * DK + e] = expf(Gat(kC - 1, e));
  for (int idx = tid; idx < kC * kC / 2; idx += kPrepThreads)
    reinterpret_cast<unsigned*>(ps)[(idx / (kC / 2)) * (ldp / 2) + idx % (kC / 2)] = 0u;
  __syncthreads();

  if constexpr (!kPerChannel) {
    // P = scale κ_j (Q Kᵀ) e^{G_i − G_j}: warp (rows 16 (w mod 4), columns 32 (w / 4))
    const int r0 = 16 * (warp & 3), c0 = 32 * (warp >> 2);
    if (c0 <= r0 + 15) {
      float p[1][4][4];
      zero(p);
      warp_mma<1, 4, true, true>(p, qs, ldk, r0, ks, ldk, c0, DK);
      for_each_acc(p, r0, c0, [&](int i, int j, float& x) {
        ps[i * ldp + j] = __float2bfloat16(j <= i ? scale * kap[j] * x * __expf(G[i] - G[j]) : 0.f);
      });
    }
  } else {
    // Warp (I = w mod 4, half = w / 4) sums its half of the key channels for P's blocks (I, J ≤ I), with the block's
    // first row m as reference: A = q_i e^{G_i − G_m} (≤ 1), B = k_j e^{G_m − G_j} (≤ 1 for J < I; for J = I ≥ 1 but
    // below e^{kMaxBlockDrop}, or the block is summed element by element below). Fragments are formed on the fly.
    const int I = warp & 3, half = warp >> 2, m = 16 * I;
    const bool steep_diag = (steep_mask >> I) & 1u;
    constexpr int KH = DK >= 32 ? DK / 2 : DK;  // channels per half (dk 16: one warp per block)
    const int g8 = lane >> 2, t4 = lane & 3;
    float acc[4][1][2][4];  // per block J, one 16 × 16 tile
#pragma unroll
    for (int J = 0; J < 4; ++J) zero(acc[J]);
    if (half * KH < DK) {
      auto qa = [&](int i, int e) {  // the packed pair (i, e), (i, e + 1) of A
        const float2 x = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(qs + i * ldk + e));
        return pack_bf16(x.x * __expf(G[i * ldg + e] - G[m * ldg + e]), x.y * __expf(G[i * ldg + e + 1] - G[m * ldg + e + 1]));
      };
      auto kb = [&](int j, int e) {  // the packed pair (j, e), (j, e + 1) of B
        const float2 x = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(ks + j * ldk + e));
        return pack_bf16(x.x * __expf(G[m * ldg + e] - G[j * ldg + e]), x.y * __expf(G[m * ldg + e + 1] - G[j * ldg + e + 1]));
      };
      for (int k0 = half * KH; k0 < (half + 1) * KH; k0 += 16) {
        unsigned af[4];
        af[0] = qa(m + g8, k0 + 2 * t4);
        af[1] = qa(m + g8 + 8, k0 + 2 * t4);
        af[2] = qa(m + g8, k0 + 2 * t4 + 8);
        af[3] = qa(m + g8 + 8, k0 + 2 * t4 + 8);
#pragma unroll
        for (int J = 0; J < 4; ++J) {
          if (J > I || (J == I && steep_diag)) continue;
#pragma unroll
          for (int nt = 0; nt < 2; ++nt) {
            const int j = 16 * J + 8 * nt + g8;
            mma_bf16(acc[J][0][nt], af, kb(j, k0 + 2 * t4), kb(j, k0 + 2 * t4 + 8));
          }
        }
      }
    }
    if (half == 1) {
#pragma unroll
      for (int J = 0; J < 4; ++J)
        if (J <= I) for_each_acc(acc[J], m, 16 * J, [&](int i, int j, float& x) { red[i * ldr + j] = x; });
    }
    __syncthreads();
    if (half == 0) {
      constexpr bool kSplit = DK >= 32;
#pragma unroll
      for (int J = 0; J < 4; ++J) {
        if (J > I || (J == I && steep_diag)) continue;
        for_each_acc(acc[J], m, 16 * J, [&](int i, int j, float& x) {
          const float v = x + (kSplit ? red[i * ldr + j] : 0.f);
          ps[i * ldp + j] = __float2bfloat16(j <= i ? scale * v : 0.f);
        });
      }
      if (steep_diag) {  // the diagonal block element by element: lane (i, half) sums 8 columns j
        const int i = m + (lane & 15), jb = m + (lane >> 4) * 8;
        float d[8];
#pragma unroll
        for (int jj = 0; jj < 8; ++jj) d[jj] = 0.f;
        for (int e = 0; e < DK; ++e) {
          const float qe = __bfloat162float(qs[i * ldk + e]), ge = G[i * ldg + e];
#pragma unroll
          for (int jj = 0; jj < 8; ++jj) {
            const int j = jb + jj;
            const float f = j <= i ? __expf(ge - G[j * ldg + e]) : 0.f;  // a select: e^{positive} never multiplies
            d[jj] = fmaf(qe * __bfloat162float(ks[j * ldk + e]), f, d[jj]);
          }
        }
#pragma unroll
        for (int jj = 0; jj < 8; ++jj) ps[i * ldp + jb + jj] = __float2bfloat16(jb + jj <= i ? scale * d[jj] : 0.f);
      }
    }
  }
  __syncthreads();
  for (int idx = tid; idx < kC * kC / 8; idx += kPrepThreads) {
    const int i = idx / (kC / 8), j = idx % (kC / 8) * 8;
    *reinterpret_cast<uint4*>(w.P + (bh * w.Tp + t0 + i) * kC + j) = *reinterpret_cast<const uint4*>(ps + i * ldp + j);
  }
}

// The walks' per-chunk factors (decays, row scales) come with the chunk's tiles by cp.async: a plain load into shared
// memory stalls its warps for a DRAM round trip at every step, and the step's barrier then stalls the rest.
// N floats, 16-byte aligned at both ends (the workspace's arrays are).
template <int N, int kThreadCount>
__device__ __forceinline__ void copy_floats_async(float* dst, const float* src, int tid) {
  static_assert(N % 4 == 0, "whole 16-byte pieces");
  for (int i = tid; i < N / 4; i += kThreadCount) cp_async16(dst + 4 * i, src + 4 * i);
}

// ---------------------------------------------------------------- kernel 2: the state through the chunks
template <int BK, int BV>
constexpr std::size_t state_smem() {
  return sizeof(bf16) * (2 * kC * (BK + kPad) + 2 * kC * (BV + kPad) + BV * (BK + kPad)) + sizeof(float) * 2 * (BK + kC);
}

template <int DK, int BK, int BV, bool kMaterialized>
__global__ void __launch_bounds__(kThreads) la_state_kernel(LinearAttentionChunkedArgs a, Work w) {
  extern __shared__ __align__(16) unsigned char smem[];
  constexpr int ldk = BK + kPad, ldv = BV + kPad;
  constexpr int WM = BK / 16 < 4 ? BK / 16 : 4, WN = 4 / WM, MTW = BK / 16 / WM, NTW = BV / 8 / WN;
  static_assert(WM * WN == 4 && MTW * WM * 16 == BK && NTW * WN * 8 == BV, "state tile split");
  const int tid = threadIdx.x, warp = tid >> 5;
  const std::int64_t BHV = a.batch * a.HV, bh = blockIdx.z % BHV, seg = blockIdx.z / BHV, b = bh / a.HV, hv = bh % a.HV,
                     dv = a.dv;
  const std::int64_t c_begin = seg * w.L, c_end = c_begin + w.L < w.NC ? c_begin + w.L : w.NC;
  const int d0 = blockIdx.x * BV, e0 = blockIdx.y * BK;
  const int wm0 = (warp / WN) * MTW * 16, wn0 = (warp % WN) * NTW * 8;
  const Layout in = layout(a, b, hv, DK);
  bf16* kb = reinterpret_cast<bf16*>(smem);  // [2][kC][ldk]
  bf16* vb = kb + 2 * kC * ldk;              // [2][kC][ldv]
  bf16* st = vb + 2 * kC * ldv;              // [BV][ldk]: S transposed
  float* decs = reinterpret_cast<float*>(st + BV * ldk);  // [2][BK]
  float* fks = decs + 2 * BK;                             // [2][kC]: per head, the row factors of k

  float s[MTW][NTW][4];
  float* S = a.state + bh * DK * dv;
  for_each_acc(s, wm0, wn0, [&](int e, int d, float& x) { x = seg == 0 ? S[(e0 + e) * dv + d0 + d] : 0.f; });
  // split: the first column tile's threads e < BK keep the decay since the segment's start
  const bool track_decay = w.NS > 1 && blockIdx.x == 0 && tid < BK;
  float run = 1.f;

  auto prefetch = [&](std::int64_t c, int buf) {
    const std::int64_t t0 = c * kC;
    if constexpr (kMaterialized) {
      const bf16* K = w.Kd + (bh * w.Tp + t0) * DK + e0;
      for (int idx = tid; idx < kC * BK / 8; idx += kThreads) {
        const int i = idx / (BK / 8), e = idx % (BK / 8) * 8;
        cp_async16(kb + (buf * kC + i) * ldk + e, K + i * DK + e);
      }
    } else {  // the raw keys (shared by a group's heads: L2 serves the others)
      for (int idx = tid; idx < kC * BK / 8; idx += kThreads) {
        const int i = idx / (BK / 8), e = idx % (BK / 8) * 8;
        const bool valid = t0 + i < a.T;
        cp_async16_or_zero(kb + (buf * kC + i) * ldk + e, in.k + (valid ? t0 + i : 0) * in.q_stride + e0 + e, valid);
      }
      copy_floats_async<kC, kThreads>(fks + buf * kC, w.fk + bh * w.Tp + t0, tid);
    }
    for (int idx = tid; idx < kC * BV / 8; idx += kThreads) {
      const int i = idx / (BV / 8), d = idx % (BV / 8) * 8;
      const bool valid = t0 + i < a.T;
      cp_async16_or_zero(vb + (buf * kC + i) * ldv + d, in.v + (valid ? t0 + i : 0) * in.v_stride + d0 + d, valid);
    }
    copy_floats_async<BK, kThreads>(decs + buf * BK, w.dec + (bh * w.NC + c) * DK + e0, tid);
    cp_async_commit();
  };

  prefetch(c_begin, 0);
  for (std::int64_t c = c_begin; c < c_end; ++c) {
    const int buf = static_cast<int>((c - c_begin) & 1);
    cp_async_wait_all();
    __syncthreads();
    if (c + 1 < c_end) prefetch(c + 1, buf ^ 1);
    if (track_decay) {
      w.cumdec[(bh * w.NC + c) * DK + e0 + tid] = run;
      run *= decs[buf * BK + tid];
    }
    store_transposed_bf16(s, st, ldk, wm0, wn0);
    if constexpr (!kMaterialized) {  // per head: v_j scaled by κ_j e^{G_last − G_j} in place (this chunk's buffer)
      bf16* v = vb + buf * kC * ldv;
      for (int idx = tid; idx < kC * BV / 2; idx += kThreads) {
        const int i = idx / (BV / 2), d = idx % (BV / 2) * 2;
        auto* pv = reinterpret_cast<__nv_bfloat162*>(v + i * ldv + d);
        const float2 x = __bfloat1622float2(*pv);
        const float f = fks[buf * kC + i];
        *pv = __floats2bfloat162_rn(x.x * f, x.y * f);
      }
    }
    __syncthreads();
    {  // H_c out
      bf16* H = w.Ht + ((c * BHV + bh) * dv + d0) * DK + e0;
      for (int idx = tid; idx < BV * BK / 8; idx += kThreads) {
        const int d = idx / (BK / 8), e = idx % (BK / 8) * 8;
        *reinterpret_cast<uint4*>(H + d * DK + e) = *reinterpret_cast<const uint4*>(st + d * ldk + e);
      }
    }
    // S ← diag(dec) S + Kdᵀ V
    const float* dc = decs + buf * BK;
    for_each_acc(s, wm0, wn0, [&](int e, int, float& x) { x *= dc[e]; });
    warp_mma<MTW, NTW, false, false>(s, kb + buf * kC * ldk, ldk, wm0, vb + buf * kC * ldv, ldv, wn0, kC);
  }
  if (w.NS == 1) {
    for_each_acc(s, wm0, wn0, [&](int e, int d, float& x) { S[(e0 + e) * dv + d0 + d] = x; });
  } else {
    float* E = w.join + ((bh * w.NS + seg) * dv + d0) * DK + e0;
    for_each_acc(s, wm0, wn0, [&](int e, int d, float& x) { E[d * DK + e] = x; });
    if (track_decay) w.segdec[(bh * w.NS + seg) * DK + e0 + tid] = run;
  }
}

// ---------------------------------------------------------------- kernel 2b (split): the segments joined
// Element (d, e) of head bh per thread: R ← diag(segdec_s) R + E_s over the segments, each E_s replaced by the R it
// starts from; the last R is the state after the sequence.
constexpr int kJoinThreads = 256;

__global__ void __launch_bounds__(kJoinThreads) la_join_kernel(LinearAttentionChunkedArgs a, Work w) {
  const std::int64_t bh = blockIdx.y, n = a.dk * a.dv, idx = blockIdx.x * std::int64_t{kJoinThreads} + threadIdx.x;
  if (idx >= n) return;
  const std::int64_t d = idx / a.dk, e = idx % a.dk;
  float* X = w.join + bh * w.NS * n + idx;
  float r = 0.f;
  for (std::int64_t s = 0; s < w.NS; ++s) {
    const float end = X[s * n];
    X[s * n] = r;
    r = fmaf(w.segdec[(bh * w.NS + s) * a.dk + e], r, end);
  }
  a.state[bh * n + e * a.dv + d] = r;
}

// ---------------------------------------------------------------- kernels 2 + 3 fused
constexpr int kFusedThreads = 256;  // 8 warps: outputs as (16 rows, BV / 2 columns) per warp; the state split by rows

template <int DK, int BV>
constexpr std::size_t fused_smem() {
  return sizeof(bf16) * (2 * 2 * kC * (DK + kPad) + 2 * kC * (BV + kPad) + 2 * kC * (kC + kPad) + BV * (DK + kPad)) +
         sizeof(float) * 2 * (DK + 2 * kC);
}

template <int DK, int BV, bool kMaterialized>
__global__ void __launch_bounds__(kFusedThreads) la_fused_kernel(LinearAttentionChunkedArgs a, Work w) {
  extern __shared__ __align__(16) unsigned char smem[];
  constexpr int ldk = DK + kPad, ldv = BV + kPad, ldp = kC + kPad;
  constexpr int WM = DK / 16 < 8 ? DK / 16 : 8, WN = 8 / WM, MTW = DK / 16 / WM, NTW = BV / 8 / WN;
  static_assert(WM * WN == 8 && MTW * WM * 16 == DK && NTW * WN * 8 == BV, "state tile split");
  constexpr int OW = BV / 2;
  const int tid = threadIdx.x, warp = tid >> 5;
  const std::int64_t bh = blockIdx.y, b = bh / a.HV, hv = bh % a.HV, dv = a.dv;
  const int d0 = blockIdx.x * BV;
  const int wm0 = (warp / WN) * MTW * 16, wn0 = (warp % WN) * NTW * 8;  // the warp's piece of the state
  const int or0 = 16 * (warp & 3), oc0 = OW * (warp >> 2);               // and of a chunk's outputs
  const Layout in = layout(a, b, hv, DK);
  bf16* out = static_cast<bf16*>(a.out) + b * a.T * in.v_stride + hv * dv + d0;
  bf16* qb = reinterpret_cast<bf16*>(smem);  // [2][kC][ldk]: Qg (materialised) or q
  bf16* kb = qb + 2 * kC * ldk;              // [2][kC][ldk]: Kd or k
  bf16* vb = kb + 2 * kC * ldk;              // [2][kC][ldv]
  bf16* pb = vb + 2 * kC * ldv;              // [2][kC][ldp]
  bf16* st = pb + 2 * kC * ldp;              // [BV][ldk]: H_c transposed
  float* decs = reinterpret_cast<float*>(st + BV * ldk);  // [2][DK]
  float* fqs = decs + 2 * DK;                              // [2][kC]: per head, the row factors of q and k
  float* fks = fqs + 2 * kC;                               // [2][kC]

  float s[MTW][NTW][4];
  float* S = a.state + bh * DK * dv;
  for_each_acc(s, wm0, wn0, [&](int e, int d, float& x) { x = S[e * dv + d0 + d]; });

  auto prefetch = [&](std::int64_t c, int buf) {
    const std::int64_t t0 = c * kC;
    for (int idx = tid; idx < kC * DK / 8; idx += kFusedThreads) {
      const int i = idx / (DK / 8), e = idx % (DK / 8) * 8;
      if constexpr (kMaterialized) {
        cp_async16(qb + (buf * kC + i) * ldk + e, w.Qg + (bh * w.Tp + t0 + i) * DK + e);
        cp_async16(kb + (buf * kC + i) * ldk + e, w.Kd + (bh * w.Tp + t0 + i) * DK + e);
      } else {
        const bool valid = t0 + i < a.T;
        const std::int64_t row = (valid ? t0 + i : 0) * in.q_stride + e;
        cp_async16_or_zero(qb + (buf * kC + i) * ldk + e, in.q + row, valid);
        cp_async16_or_zero(kb + (buf * kC + i) * ldk + e, in.k + row, valid);
      }
    }
    for (int idx = tid; idx < kC * BV / 8; idx += kFusedThreads) {
      const int i = idx / (BV / 8), d = idx % (BV / 8) * 8;
      const bool valid = t0 + i < a.T;
      cp_async16_or_zero(vb + (buf * kC + i) * ldv + d, in.v + (valid ? t0 + i : 0) * in.v_stride + d0 + d, valid);
    }
    for (int idx = tid; idx < kC * kC / 8; idx += kFusedThreads) {
      const int i = idx / (kC / 8), j = idx % (kC / 8) * 8;
      cp_async16(pb + (buf * kC + i) * ldp + j, w.P + (bh * w.Tp + t0 + i) * kC + j);
    }
    copy_floats_async<DK, kFusedThreads>(decs + buf * DK, w.dec + (bh * w.NC + c) * DK, tid);
    if constexpr (!kMaterialized) {
      copy_floats_async<kC, kFusedThreads>(fqs + buf * kC, w.fq + bh * w.Tp + t0, tid);
      copy_floats_async<kC, kFusedThreads>(fks + buf * kC, w.fk + bh * w.Tp + t0, tid);
    }
    cp_async_commit();
  };

  const int lane = tid & 31, g = lane >> 2, t4 = lane & 3;
  prefetch(0, 0);
  for (std::int64_t c = 0; c < w.NC; ++c) {
    const int buf = static_cast<int>(c & 1);
    cp_async_wait_all();
    __syncthreads();  // chunk c is in; every warp is done with chunk c − 1's buffers and st
    if (c + 1 < w.NC) prefetch(c + 1, buf ^ 1);
    store_transposed_bf16(s, st, ldk, wm0, wn0);
    __syncthreads();
    const bf16 *q = qb + buf * kC * ldk, *k = kb + buf * kC * ldk, *p = pb + buf * kC * ldp;
    bf16* v = vb + buf * kC * ldv;
    {  // O = Qg H_c + P V
      const std::int64_t t0 = c * kC;
      const int n = static_cast<int>(a.T - t0 < kC ? a.T - t0 : kC);
      float o[1][OW / 8][4];
      zero(o);
      warp_mma<1, OW / 8, true, true>(o, q, ldk, or0, st, ldk, oc0, DK);
      if constexpr (!kMaterialized) {  // per head: row i of Q H_c times scale e^{G_i}
        const float* fq = fqs + buf * kC;
        for_each_acc(o, or0, oc0, [&](int i, int, float& x) { x *= fq[i]; });
      }
      warp_mma<1, OW / 8, true, false>(o, p, ldp, or0, v, ldv, oc0, kC);
#pragma unroll
      for (int nt = 0; nt < OW / 8; ++nt)
#pragma unroll
        for (int hh = 0; hh < 2; ++hh) {
          const int i = or0 + g + 8 * hh, d = oc0 + 8 * nt + 2 * t4;
          if (i >= n) continue;
          float y0 = o[0][nt][2 * hh], y1 = o[0][nt][2 * hh + 1];
          if (a.D) {  // SSD's skip term D ⊙ x
            const float2 x = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(v + i * ldv + d));
            const float D0 = a.d_per_channel ? a.D[hv * dv + d0 + d] : a.D[hv];
            const float D1 = a.d_per_channel ? a.D[hv * dv + d0 + d + 1] : a.D[hv];
            y0 += D0 * x.x;
            y1 += D1 * x.y;
          }
          *reinterpret_cast<__nv_bfloat162*>(out + (t0 + i) * in.v_stride + d) = __floats2bfloat162_rn(y0, y1);
        }
    }
    if constexpr (!kMaterialized) {  // per head: v_j scaled by κ_j e^{G_last − G_j} in place, once P V has read it
      __syncthreads();
      const float* fk = fks + buf * kC;
      for (int idx = tid; idx < kC * BV / 2; idx += kFusedThreads) {
        const int i = idx / (BV / 2), d = idx % (BV / 2) * 2;
        auto* pv = reinterpret_cast<__nv_bfloat162*>(v + i * ldv + d);
        const float2 x = __bfloat1622float2(*pv);
        *pv = __floats2bfloat162_rn(x.x * fk[i], x.y * fk[i]);
      }
      __syncthreads();
    }
    // S ← diag(dec) S + Kdᵀ V
    const float* dc = decs + buf * DK;
    for_each_acc(s, wm0, wn0, [&](int e, int, float& x) { x *= dc[e]; });
    warp_mma<MTW, NTW, false, false>(s, k, ldk, wm0, v, ldv, wn0, kC);
  }
  for_each_acc(s, wm0, wn0, [&](int e, int d, float& x) { S[e * dv + d0 + d] = x; });
}

// ---------------------------------------------------------------- kernel 3: outputs per chunk
template <int DK, int BV>
constexpr std::size_t output_smem() {
  return sizeof(bf16) * (kC * (DK + kPad) + BV * (DK + kPad) + kC * (kC + kPad) + kC * (BV + kPad));
}

template <int DK, int BV, bool kMaterialized>
__global__ void __launch_bounds__(kThreads) la_output_kernel(LinearAttentionChunkedArgs a, Work w) {
  extern __shared__ __align__(16) unsigned char smem[];
  constexpr int ldk = DK + kPad, ldp = kC + kPad, ldv = BV + kPad;
  const int tid = threadIdx.x, warp = tid >> 5;
  const std::int64_t tiles = a.dv / BV, c = blockIdx.x / tiles, bh = blockIdx.y, b = bh / a.HV, hv = bh % a.HV, dv = a.dv,
                     BHV = a.batch * a.HV;
  const int d0 = static_cast<int>(blockIdx.x % tiles) * BV;
  const std::int64_t t0 = c * kC;
  const int n = static_cast<int>(a.T - t0 < kC ? a.T - t0 : kC);
  const Layout in = layout(a, b, hv, DK);
  bf16* out = static_cast<bf16*>(a.out) + b * a.T * in.v_stride + hv * dv;
  bf16* qs = reinterpret_cast<bf16*>(smem);  // [kC][ldk]: Qg (per channel) or q (per head)
  bf16* hs = qs + kC * ldk;                  // [BV][ldk]: H_c transposed
  bf16* ps = hs + BV * ldk;                  // [kC][ldp]
  bf16* vs = ps + kC * ldp;                  // [kC][ldv]

  const bf16* H = w.Ht + ((c * BHV + bh) * dv + d0) * DK;
  for (int idx = tid; idx < kC * DK / 8; idx += kThreads) {
    const int i = idx / (DK / 8), e = idx % (DK / 8) * 8;
    if constexpr (kMaterialized)
      cp_async16(qs + i * ldk + e, w.Qg + (bh * w.Tp + t0 + i) * DK + e);
    else
      cp_async16_or_zero(qs + i * ldk + e, in.q + (t0 + (i < n ? i : 0)) * in.q_stride + e, i < n);
  }
  for (int idx = tid; idx < BV * DK / 8; idx += kThreads) {
    const int d = idx / (DK / 8), e = idx % (DK / 8) * 8;
    cp_async16(hs + d * ldk + e, H + d * DK + e);
  }
  const bf16* P = w.P + (bh * w.Tp + t0) * kC;
  for (int idx = tid; idx < kC * kC / 8; idx += kThreads) {
    const int i = idx / (kC / 8), j = idx % (kC / 8) * 8;
    cp_async16(ps + i * ldp + j, P + i * kC + j);
  }
  for (int idx = tid; idx < kC * BV / 8; idx += kThreads) {
    const int i = idx / (BV / 8), d = idx % (BV / 8) * 8;
    cp_async16_or_zero(vs + i * ldv + d, in.v + (t0 + (i < n ? i : 0)) * in.v_stride + d0 + d, i < n);
  }
  cp_async_commit();
  cp_async_wait_all();
  __syncthreads();
  if (const std::int64_t seg = c / w.L; w.NS > 1 && seg > 0) {  // split: H_c = H'_c + diag(cumdec_c) R_seg
    const float* R = w.join + ((bh * w.NS + seg) * dv + d0) * DK;
    const float* cd = w.cumdec + (bh * w.NC + c) * DK;
    for (int idx = tid; idx < BV * DK / 2; idx += kThreads) {
      const int d = idx / (DK / 2), e = idx % (DK / 2) * 2;
      auto* h = reinterpret_cast<__nv_bfloat162*>(hs + d * ldk + e);
      const float2 x = __bfloat1622float2(*h), r = *reinterpret_cast<const float2*>(R + d * DK + e);
      *h = __floats2bfloat162_rn(fmaf(cd[e], r.x, x.x), fmaf(cd[e + 1], r.y, x.y));
    }
    __syncthreads();
  }
  float o[1][BV / 8][4];
  zero(o);
  warp_mma<1, BV / 8, true, true>(o, qs, ldk, warp * 16, hs, ldk, 0, DK);
  if constexpr (!kMaterialized) {  // per head: row i of Q H_c times scale e^{G_i}
    const float* fq = w.fq + bh * w.Tp + t0;
    for_each_acc(o, warp * 16, 0, [&](int i, int, float& x) { x *= fq[i]; });
  }
  warp_mma<1, BV / 8, true, false>(o, ps, ldp, warp * 16, vs, ldv, 0, kC);
  const float* D = a.D;
  const int lane = tid & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int nt = 0; nt < BV / 8; ++nt)
#pragma unroll
    for (int hh = 0; hh < 2; ++hh) {
      const int i = warp * 16 + g + 8 * hh, d = 8 * nt + 2 * t;
      if (i >= n) continue;
      float y0 = o[0][nt][2 * hh], y1 = o[0][nt][2 * hh + 1];
      if (D) {  // SSD's skip term D ⊙ x
        const float2 x = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(vs + i * ldv + d));
        const float D0 = a.d_per_channel ? D[hv * dv + d0 + d] : D[hv], D1 = a.d_per_channel ? D[hv * dv + d0 + d + 1] : D[hv];
        y0 += D0 * x.x;
        y1 += D1 * x.y;
      }
      *reinterpret_cast<__nv_bfloat162*>(out + (t0 + i) * in.v_stride + d0 + d) = __floats2bfloat162_rn(y0, y1);
    }
}

// Qg and Kd in the workspace: per channel, and per head when every head has its own q and k (scaling rows on the fly
// cost the sequential state kernel more than the copies); with grouped heads (SSD) the raw q and k serve all of them.
bool materialized(const LinearAttentionChunkedArgs& a) { return a.per_channel || a.HV == a.H; }

// The kernel choice: LMSCOPE_LINEAR_ATTENTION_KERNEL at first use, set_linear_attention_chunked_kernel after.
std::atomic<LinearAttentionKernel>& kernel_choice() {
  static std::atomic<LinearAttentionKernel> choice{[] {
    const char* e = std::getenv("LMSCOPE_LINEAR_ATTENTION_KERNEL");
    if (e && std::strcmp(e, "mma") == 0) return LinearAttentionKernel::MmaSync;
    if (e && std::strcmp(e, "wgmma") == 0) return LinearAttentionKernel::Wgmma;
    if (e && std::strcmp(e, "wgmma-pair") == 0) return LinearAttentionKernel::WgmmaPair;
    return LinearAttentionKernel::Auto;
  }()};
  return choice;
}

// The fused pass's grid: a CTA (or, in the wgmma pair form, two) per 64-column tile of each sequence's heads.
std::int64_t column_tiles64(const LinearAttentionChunkedArgs& a) { return (a.dv / 64) * a.batch * a.HV; }

// Whether the fused pass runs on the Hopper wgmma kernel for these arguments (ops.h says when). Auto leaves grids of
// fewer column tiles than a quarter of the SMs to the mma.sync segmented pass: at batch 1 the wgmma walk costs ~2 µs
// per chunk whatever the grid, the segmented pass's time grows with the heads — H200, µs per layer: RetNet-1.3B
// (64 tiles) wgmma pairs 615 against 821 for the best mma.sync pass; GLA-1.3B (32 tiles) 712 against 657.
bool fused_wgmma(const LinearAttentionChunkedArgs& a) {
#ifdef LMSCOPE_HAVE_WGMMA
  const LinearAttentionKernel choice = kernel_choice().load();
  if (choice == LinearAttentionKernel::MmaSync || !materialized(a) || !linear_attention_fused_wgmma_supports(a))
    return false;
  if (a.state_pass == LinearAttentionChunkedArgs::StatePass::Segmented || (a.fused_cols != 0 && a.fused_cols != 64))
    return false;
  if (choice == LinearAttentionKernel::Auto && 4 * column_tiles64(a) < current_device_sms()) return false;
  return current_device_is_sm90();
#else
  (void)a;
  return false;
#endif
}

template <int DK, bool kPerChannel, bool kMaterialize>
void launch_prepare(const LinearAttentionChunkedArgs& a, const Work& w, cudaStream_t stream) {
  constexpr std::size_t bytes = prepare_smem<DK, kPerChannel>();
  allow_dynamic_shared_memory(&la_prepare_kernel<DK, kPerChannel, kMaterialize>, bytes, "linear_attention_chunked");
  la_prepare_kernel<DK, kPerChannel, kMaterialize><<<dim3(static_cast<unsigned>(w.NC), static_cast<unsigned>(a.batch * a.HV)), kPrepThreads,
                                       bytes, stream>>>(a, w);
}

template <int DK, int BV, bool kMaterialized>
void launch_state(const LinearAttentionChunkedArgs& a, const Work& w, cudaStream_t stream) {
  constexpr int BK = state_rows_tile(DK);
  constexpr std::size_t bytes = state_smem<BK, BV>();
  allow_dynamic_shared_memory(&la_state_kernel<DK, BK, BV, kMaterialized>, bytes, "linear_attention_chunked");
  la_state_kernel<DK, BK, BV, kMaterialized><<<dim3(static_cast<unsigned>(a.dv / BV), DK / BK,
                                                  static_cast<unsigned>(a.batch * a.HV * w.NS)),
                                             kThreads, bytes, stream>>>(a, w);
}

template <int DK, int BV, bool kMaterialized>
void launch_output(const LinearAttentionChunkedArgs& a, const Work& w, cudaStream_t stream) {
  constexpr std::size_t bytes = output_smem<DK, BV>();
  allow_dynamic_shared_memory(&la_output_kernel<DK, BV, kMaterialized>, bytes, "linear_attention_chunked");
  la_output_kernel<DK, BV, kMaterialized><<<dim3(static_cast<unsigned>(w.NC * (a.dv / BV)), static_cast<unsigned>(a.batch * a.HV)),
                                          kThreads, bytes, stream>>>(a, w);
}

template <int DK, int BV, bool kMaterialized>
void launch_fused(const LinearAttentionChunkedArgs& a, const Work& w, cudaStream_t stream) {
  constexpr std::size_t bytes = fused_smem<DK, BV>();
  allow_dynamic_shared_memory(&la_fused_kernel<DK, BV, kMaterialized>, bytes, "linear_attention_chunked");
  la_fused_kernel<DK, BV, kMaterialized><<<dim3(static_cast<unsigned>(a.dv / BV), static_cast<unsigned>(a.batch * a.HV)),
                                           kFusedThreads, bytes, stream>>>(a, w);
}

// Calls f with the column tile as a compile-time constant (64 or 32: the widths the state kernels are built for).
template <typename F>
void with_cols_tile(int cols, F&& f) {
  if (cols == 64)
    f(std::integral_constant<int, 64>{});
  else
    f(std::integral_constant<int, 32>{});
}

template <int DK, bool kMaterialized>
void launch_state_output(const LinearAttentionChunkedArgs& a, const Work& w, cudaStream_t stream) {
  if constexpr (DK >= kMinFusedDk) {
    if (w.fused_cols > 0) {
      OpTimer t("linear_attention_chunked: state + output");
      if (kMaterialized && fused_wgmma(a)) {
        const LinearAttentionKernel choice = kernel_choice().load();
        const bool pair = choice == LinearAttentionKernel::WgmmaPair ||
                          (choice == LinearAttentionKernel::Auto && column_tiles64(a) < current_device_sms());
        linear_attention_fused_wgmma(a, LinearAttentionPrepared{w.Qg, w.Kd, w.P, w.dec, w.NC, w.Tp}, pair, stream);
        check_last_launch("linear_attention_chunked state + output (wgmma)");
        return;
      }
      with_cols_tile(w.fused_cols, [&](auto bv) { launch_fused<DK, bv.value, kMaterialized>(a, w, stream); });
      check_last_launch("linear_attention_chunked state + output");
      return;
    }
  }
  {
    OpTimer t("linear_attention_chunked: state");
    with_cols_tile(state_cols_tile(a.dv), [&](auto bv) { launch_state<DK, bv.value, kMaterialized>(a, w, stream); });
    check_last_launch("linear_attention_chunked state");
  }
  if (w.NS > 1) {
    OpTimer t("linear_attention_chunked: join");
    la_join_kernel<<<dim3(static_cast<unsigned>((a.dk * a.dv + kJoinThreads - 1) / kJoinThreads),
                          static_cast<unsigned>(a.batch * a.HV)),
                     kJoinThreads, 0, stream>>>(a, w);
    check_last_launch("linear_attention_chunked join");
  }
  {
    OpTimer t("linear_attention_chunked: output");
    if (a.dv % 128 == 0 && DK <= 128)
      launch_output<DK, 128, kMaterialized>(a, w, stream);
    else if (a.dv % 64 == 0)
      launch_output<DK, 64, kMaterialized>(a, w, stream);
    else
      launch_output<DK, 32, kMaterialized>(a, w, stream);
    check_last_launch("linear_attention_chunked output");
  }
}

template <int DK>
void launch_chunked(const LinearAttentionChunkedArgs& a, const Work& w, cudaStream_t stream) {
  {
    OpTimer t("linear_attention_chunked: prepare");
    if (a.per_channel)
      launch_prepare<DK, true, true>(a, w, stream);
    else if (materialized(a))
      launch_prepare<DK, false, true>(a, w, stream);
    else
      launch_prepare<DK, false, false>(a, w, stream);
    check_last_launch("linear_attention_chunked prepare");
  }
  if (materialized(a))
    launch_state_output<DK, true>(a, w, stream);
  else
    launch_state_output<DK, false>(a, w, stream);
}

// The segments of the state pass: as many as fill the SMs (four state CTAs fit on one), at least kMinSegmentChunks
// chunks each (the join and the output's correction cost more than they save below that) — and none at dk 256 or
// when the grid already puts two state CTAs on (15/16 of) the SMs: the output's correction reads a [dk, BV] float32
// state per CTA, which at dk 256 outweighs the shorter walk. H200, µs per layer (tools/device/la-passes, thirteenth
// session, with the decays by cp.async): GLA-1.3B 1×16384, 128 state CTAs: 656 unsplit, 703 in 2 segments, 718 in 4;
// HGRN2-1.3B (dk 128, 64 CTAs): 668 unsplit, 607 in 4; Mamba2-1.3B (dk 128, 128 CTAs): 874 unsplit, 767 in 2.
constexpr std::int64_t kStateCtasPerSm = 4, kMinSegmentChunks = 8;

using StatePass = LinearAttentionChunkedArgs::StatePass;

// The fused pass's column tile, or 0 for the segmented pass. Its grid is a CTA per column tile and head, one CTA per
// SM (shared memory), and each CTA walks all the chunks. On an H200 the wgmma kernel (fused_wgmma) takes the shapes
// it supports: RetNet-1.3B 1×16384 615 µs per layer in CTA pairs (742 in one CTA per tile) against 821 for the best
// mma.sync pass, 8×2048 426 (one CTA per tile; pairs 635) against 620. Otherwise fused only at dk ≥ 128 with
// 64-column tiles filling a wave: HGRN2-1.3B 8×2048 454 against 485 segmented, Mamba2-1.3B 604 against 638
// (thirteenth session; before the decays came by cp.async the segmented pass won at dk 128). 32-column tiles are
// not taken: RetNet-1.3B 1×16384 821 against 866 segmented, but GLA 931 against 656 (each CTA reloads the head's
// whole q and k per chunk for half the columns).
int fused_cols_tile(const LinearAttentionChunkedArgs& a) {
  if (a.dk < kMinFusedDk || a.state_pass == StatePass::Segmented) return 0;
  if (fused_wgmma(a)) return 64;
  const int widest = state_cols_tile(a.dv);
  if (a.state_pass == StatePass::Fused) {
    if (a.fused_cols != 0 && a.fused_cols != 32 && a.fused_cols != widest)
      throw std::runtime_error("linear_attention_chunked: fused_cols must be 32 or 64 and divide head_v_dim");
    return a.fused_cols != 0 ? static_cast<int>(a.fused_cols) : widest;
  }
  const std::int64_t grid = (a.dv / widest) * a.batch * a.HV;
  return a.dk >= 128 && widest == 64 && grid >= current_device_sms() ? widest : 0;
}

std::int64_t state_segments(const LinearAttentionChunkedArgs& a, std::int64_t NC) {
  if (fused_cols_tile(a) > 0) return 1;
  std::int64_t want = a.state_segments;
  if (want <= 0) {
    const std::int64_t ctas = (a.dv / state_cols_tile(a.dv)) * (a.dk / state_rows_tile(a.dk)) * a.batch * a.HV;
    const std::int64_t sms = current_device_sms(), slots = kStateCtasPerSm * sms;
    want = a.dk >= 256 || 16 * ctas >= 2 * 15 * sms ? 1 : std::min(slots / ctas, NC / kMinSegmentChunks);
  }
  want = std::max<std::int64_t>(1, std::min(want, NC));
  const std::int64_t L = (NC + want - 1) / want;
  return (NC + L - 1) / L;  // no empty segment
}

}  // namespace

void set_linear_attention_chunked_kernel(LinearAttentionKernel kernel) { kernel_choice().store(kernel); }

bool linear_attention_chunked_supported(std::int64_t dk, std::int64_t dv) {
  return (dk == 16 || dk == 32 || dk == 64 || dk == 128 || dk == 256) && dv >= kMinDv && dv % kMinDv == 0;
}

std::size_t linear_attention_chunked_workspace_bytes(const LinearAttentionChunkedArgs& a) {
  const std::int64_t NC = (a.T + kC - 1) / kC, Tp = NC * kC, BHV = a.batch * a.HV, dk = a.dk;
  const std::int64_t NS = state_segments(a, NC), split = NS > 1 ? 4 * BHV * (NS * a.dv * dk + NC * dk + NS * dk) : 0;
  const std::int64_t states = fused_cols_tile(a) > 0 ? 0 : 2 * NC * BHV * a.dv * dk;  // Ht
  return static_cast<std::size_t>(2 * BHV * Tp * ((materialized(a) ? 2 * dk : 0) + kC) + 4 * BHV * NC * dk + 8 * BHV * Tp +
                                  states + split);
}

void linear_attention_chunked_bf16(const LinearAttentionChunkedArgs& a, void* workspace, cudaStream_t stream) {
  if (!linear_attention_chunked_supported(a.dk, a.dv))
    throw std::runtime_error("linear_attention_chunked: head_k_dim must be 16, 32, 64, 128 or 256 and head_v_dim a multiple of 32");
  if (a.H <= 0 || a.HV % a.H != 0) throw std::runtime_error("linear_attention_chunked: num_v_heads must be a multiple of num_heads");
  if (a.T <= 0 || a.HV == 0 || a.batch <= 0) return;
  Work w{};
  w.NC = (a.T + kC - 1) / kC;
  if (a.batch * a.HV > 65535)  // the kernels' grid y (and z)
    throw std::runtime_error("linear_attention_chunked: at most 65,535 sequence heads (batch x num_v_heads) per call");
  w.Tp = w.NC * kC;
  const std::int64_t bhv = a.batch * a.HV;
  auto* p = static_cast<unsigned char*>(workspace);
  if (materialized(a)) {
    w.Qg = reinterpret_cast<bf16*>(p);
    p += 2 * bhv * w.Tp * a.dk;
    w.Kd = reinterpret_cast<bf16*>(p);
    p += 2 * bhv * w.Tp * a.dk;
  }
  w.P = reinterpret_cast<bf16*>(p);
  p += 2 * bhv * w.Tp * kC;
  w.dec = reinterpret_cast<float*>(p);
  p += 4 * bhv * w.NC * a.dk;
  w.fq = reinterpret_cast<float*>(p);
  p += 4 * bhv * w.Tp;
  w.fk = reinterpret_cast<float*>(p);
  p += 4 * bhv * w.Tp;
  w.fused_cols = fused_cols_tile(a);
  if (w.fused_cols == 0) {
    w.Ht = reinterpret_cast<bf16*>(p);
    p += 2 * w.NC * bhv * a.dv * a.dk;
  }
  w.NS = state_segments(a, w.NC);
  w.L = (w.NC + w.NS - 1) / w.NS;
  if (w.NS > 1) {
    w.join = reinterpret_cast<float*>(p);
    p += 4 * bhv * w.NS * a.dv * a.dk;
    w.cumdec = reinterpret_cast<float*>(p);
    p += 4 * bhv * w.NC * a.dk;
    w.segdec = reinterpret_cast<float*>(p);
  }
  switch (a.dk) {
    case 16: launch_chunked<16>(a, w, stream); break;
    case 32: launch_chunked<32>(a, w, stream); break;
    case 64: launch_chunked<64>(a, w, stream); break;
    case 128: launch_chunked<128>(a, w, stream); break;
    default: launch_chunked<256>(a, w, stream); break;
  }
}

}  // namespace lmscope::cuda
