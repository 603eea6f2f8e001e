// The (gated) delta rule in its chunked WY / UT-transform form on tensor cores, for scoring many tokens (bf16
// operands, fp32 accumulation and fp32 state). The algorithm is fla's chunk_gated_delta_rule; the code is ours.
// Per value head hv with state S [dk, dv] and chunks of kC = 64 tokens, G_i the cumulative log decay inside the
// chunk (0 without a gate):
//   A_ij = β_i (k_i·k_j) e^{G_i−G_j} (j < i),  T = (I + A)^{-1} (unit lower triangular, forward substitution),
//   W = T diag(β e^G) K,  U = T diag(β) V                                  — kernel 1, all chunks at once
//   per chunk in order: H_c = S;  V' = U − W S;  S ← e^{G_last} S + (e^{G_last−G} ⊙ K)ᵀ V'   — kernel 2
//   o_i = scale e^{G_i} q_i H_c + Σ_{j≤i} scale (q_i·k_j) e^{G_i−G_j} V'_j              — kernel 3, all chunks at once
// q, k, v come in bf16 (as fla keeps them) and reach shared memory by cp.async, every copy of a chunk in flight at
// once: with one CTA per SM (the tiles take >100 KB of shared memory), loads issued a row at a time left the SMs
// waiting on memory latency.
// Kernel 1 (prepare): grid (chunks, batch × HV), 128 threads; K·Kᵀ by mma, T solved column per thread in registers,
//   W and U by mma; writes W, U, the decayed keys Kd = e^{G_last−G_j} k_j (bf16) and G (fp32) to the workspace.
// Kernel 2 (state): grid (dv / BV, batch × HV), BV 64 or 32, 256 threads, chunks in sequence; the CTA's BV state
//   columns live in mma accumulators (fp32) for the whole call; W, Kd and U of the next chunk are fetched with
//   cp.async while the current one is computed. Writes each chunk's starting state H_c (bf16, transposed) and V'
//   (bf16, transposed).
// Kernel 3 (output): grid (chunks, batch × HV, dv / BV), BV 128 or 64, 128 threads; P = Q Kᵀ masked and decayed,
//   O = Q H_c + P V'. (Using q/k, H_c's halves and V' as four cp.async groups landed was tried: no faster.)
// Several sequences (a.batch) run in one launch: the grid's y index is (sequence, value head), which keeps kernel 2,
// sequential over chunks, busy with batch × HV × dv / BV CTAs instead of HV × dv / BV.
// Each warp owns 16 rows of the chunk in kernels 1 and 3 (and 16 rows × BV/2 columns of V' in kernel 2). Operands
// live in shared memory with rows padded by 8 bf16 (conflict-free fragment loads); fragments are read with 32-bit
// loads where the reduction index is contiguous and as two 16-bit loads where it is not.
#include <cstdint>

#include "chunk_scan.cuh"
#include "device_sms.cuh"
#include "elem.cuh"
#include "mma_bf16.cuh"
#include "lmscope_kernels/op_profile.h"
#include "shared_memory_limit.h"

namespace lmscope::cuda {
namespace {

using namespace mma;

constexpr int kC = 64;  // chunk length
constexpr int kThreads = 128;
constexpr int kPad = 8;
// Kernel 2's state columns per CTA: 64 where that grid still covers the SMs, else 32 (more CTAs for few sequences),
// with 8 warps either way: its tiles allow one CTA per SM at dk 256, and with 4 warps the SM sat idle at each chunk's
// barriers (0.80 ms per layer of GDN-1.3B at 8 × 2048 with 32 columns and 4 warps; 0.53 ms with 64 and 8).
constexpr int kBvStateWide = 64;
constexpr int kBvState = 32;
constexpr int kStateThreads = 256;
constexpr int kBvOut = 64;     // output columns per CTA in kernel 3 (the narrowest; dv must be a multiple)
constexpr int kBvOutWide = 128;  // ... where dv is a multiple of it
constexpr int kMaxDv = 512;    // kernel 1 keeps the chunk's values in shared memory

struct Work {
  float* G;    // [HV, Tp]
  bf16* W;     // [HV, Tp, dk]
  bf16* Kd;    // [HV, Tp, dk]
  bf16* U;     // [HV, Tp, dv]
  bf16* Ht;    // [NC, HV, dv, dk]: the state at each chunk's start, transposed
  bf16* Vt;    // [HV, NC, dv, kC]: V' transposed
  std::int64_t NC, Tp;
};

// ---------------------------------------------------------------- kernel 1: A, T, W, U per chunk
template <int DK>
std::size_t prepare_smem(int dv) {
  return sizeof(bf16) * (kC * (DK + kPad) + kC * (dv + kPad) + 2 * kC * (kC + kPad)) + sizeof(float) * (kC * (kC + 4) + 2 * kC);
}

template <int DK>
__global__ void __launch_bounds__(kThreads) gdn_prepare_kernel(DeltaRuleChunkedArgs a, Work w) {
  extern __shared__ __align__(16) unsigned char smem[];
  constexpr int ldk = DK + kPad, ldt = kC + kPad, lda = kC + 4;  // lda: A's rows 16-byte aligned for float4 reads
  const int dv = static_cast<int>(a.dv), ldv = dv + kPad;
  const int tid = threadIdx.x, warp = tid >> 5;
  // bh: (sequence, value head) = (b, hv); the workspace is indexed by bh, the inputs by b and hv
  const std::int64_t c = blockIdx.x, bh = blockIdx.y, b = bh / a.HV, hv = bh % a.HV, h = hv / (a.HV / a.H);
  const std::int64_t t0 = c * kC;
  const int n = static_cast<int>(a.T - t0 < kC ? a.T - t0 : kC);
  const float* g_in = a.g ? a.g + b * a.T * a.HV : nullptr;
  const float* beta_in = a.beta + b * a.T * a.HV;
  const bf16* k_in = static_cast<const bf16*>(a.k) + b * a.T * a.H * DK;
  const bf16* v_in = static_cast<const bf16*>(a.v) + b * a.T * a.HV * dv;
  bf16* ks = reinterpret_cast<bf16*>(smem);  // [kC][ldk]
  bf16* vs = ks + kC * ldk;                  // [kC][ldv]
  bf16* tw = vs + kC * ldv;                  // [kC][ldt]: T diag(β e^G)
  bf16* tu = tw + kC * ldt;                  // [kC][ldt]: T diag(β)
  float* af = reinterpret_cast<float*>(tu + kC * ldt);  // [kC][lda]
  float* gs = af + kC * lda;
  float* bs = gs + kC;

  // the chunk's keys and values straight into shared memory, all copies in flight at once
  for (int idx = tid; idx < kC * DK / 8; idx += kThreads) {
    const int i = idx / (DK / 8), e = idx % (DK / 8) * 8;
    cp_async16_or_zero(ks + i * ldk + e, k_in + ((t0 + (i < n ? i : 0)) * a.H + h) * DK + e, i < n);
  }
  for (int idx = tid; idx < kC * dv / 8; idx += kThreads) {
    const int i = idx / (dv / 8), e = idx % (dv / 8) * 8;
    cp_async16_or_zero(vs + i * ldv + e, v_in + ((t0 + (i < n ? i : 0)) * a.HV + hv) * dv + e, i < n);
  }
  cp_async_commit();
  if (tid < kC) {
    gs[tid] = tid < n && g_in ? g_in[(t0 + tid) * a.HV + hv] : 0.f;
    bs[tid] = tid < n ? beta_in[(t0 + tid) * a.HV + hv] : 0.f;
  }
  __syncthreads();
  if (tid < 32) warp_cumsum64(gs);  // G = cumulative sum of g over the chunk
  __syncthreads();
  if (tid < kC) w.G[bh * w.Tp + t0 + tid] = gs[tid];
  const float glast = gs[kC - 1];
  cp_async_wait_all();
  __syncthreads();
  for (int idx = tid; idx < kC * DK / 8; idx += kThreads) {  // Kd = e^{G_last − G_i} k_i
    const int i = idx / (DK / 8), e = idx % (DK / 8) * 8;
    uint4 raw = *reinterpret_cast<const uint4*>(ks + i * ldk + e);
    auto* pairs = reinterpret_cast<__nv_bfloat162*>(&raw);
    const float f = expf(glast - gs[i]);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 x = __bfloat1622float2(pairs[j]);
      pairs[j] = __floats2bfloat162_rn(x.x * f, x.y * f);
    }
    *reinterpret_cast<uint4*>(w.Kd + (bh * w.Tp + t0 + i) * DK + e) = raw;
  }
  {  // A = β_i e^{G_i−G_j} K Kᵀ, strictly lower
    float acc[1][8][4];
    zero(acc);
    warp_mma<1, 8, true, true>(acc, ks, ldk, warp * 16, ks, ldk, 0, DK);
    for_each_acc(acc, warp * 16, 0, [&](int i, int j, float& x) {
      af[i * lda + j] = j < i ? bs[i] * expf(gs[i] - gs[j]) * x : 0.f;
    });
  }
  __syncthreads();
  // T = (I + A)^{-1}, one column per thread: column j depends on column j alone, T_ij = −Σ_{m<i} A_im T_mj with
  // T_mj = 0 above the diagonal. The column lives in registers and the loops are unrolled, so every thread runs the
  // same code and A's rows are broadcast from shared memory four at a time (a loop per column from its diagonal
  // waited on shared-memory latency at every step: most of this kernel's time).
  if (tid < kC) {
    const int j = tid;
    float t[kC];
#pragma unroll
    for (int i = 0; i < kC; ++i) {
      float s = 0.f;
#pragma unroll
      for (int m = 0; m + 4 <= i; m += 4) {
        const float4 r = *reinterpret_cast<const float4*>(af + i * lda + m);
        s = fmaf(r.x, t[m], s);
        s = fmaf(r.y, t[m + 1], s);
        s = fmaf(r.z, t[m + 2], s);
        s = fmaf(r.w, t[m + 3], s);
      }
#pragma unroll
      for (int m = i / 4 * 4; m < i; ++m) s = fmaf(af[i * lda + m], t[m], s);
      t[i] = i < j ? 0.f : i == j ? 1.f : -s;
    }
    const float bj = bs[j], ej = bj * expf(gs[j]);  // Tw = T diag(β e^G), Tu = T diag(β)
#pragma unroll
    for (int i = 0; i < kC; ++i) {
      tw[i * ldt + j] = __float2bfloat16(t[i] * ej);
      tu[i * ldt + j] = __float2bfloat16(t[i] * bj);
    }
  }
  __syncthreads();
  for (int n0 = 0; n0 < DK; n0 += 32) {  // W = Tw K
    float acc[1][4][4];
    zero(acc);
    warp_mma<1, 4, true, false>(acc, tw, ldt, warp * 16, ks, ldk, n0, kC);
    store_bf16(acc, w.W + (bh * w.Tp + t0) * DK, DK, warp * 16, n0);
  }
  for (int n0 = 0; n0 < dv; n0 += 32) {  // U = Tu V
    float acc[1][4][4];
    zero(acc);
    warp_mma<1, 4, true, false>(acc, tu, ldt, warp * 16, vs, ldv, n0, kC);
    store_bf16(acc, w.U + (bh * w.Tp + t0) * dv, dv, warp * 16, n0);
  }
}

// ---------------------------------------------------------------- kernel 2: the state through the chunks
template <int DK, int BV>
constexpr std::size_t state_smem() {
  return sizeof(bf16) * (2 * 2 * kC * (DK + kPad) + 2 * kC * (BV + kPad) + BV * (DK + kPad) + BV * (kC + kPad));
}

template <int DK, int BV>
__global__ void __launch_bounds__(kStateThreads) gdn_state_kernel(DeltaRuleChunkedArgs a, Work w) {
  extern __shared__ __align__(16) unsigned char smem[];
  constexpr int ldk = DK + kPad, ldu = BV + kPad, ldp = kC + kPad;
  constexpr int kWarps = kStateThreads / 32;
  // the warps' split of the state tile [DK, BV] into 16×8 tiles, and of V' [kC, BV] into tiles of 16 rows × BV/2
  constexpr int WM = DK / 16 < 4 ? DK / 16 : 4, WN = kWarps / WM, MTW = DK / 16 / WM, NTW = (BV / 8) / WN;
  static_assert(WM * WN == kWarps && MTW * WM * 16 == DK && NTW * WN * 8 == BV, "state tile split");
  const int tid = threadIdx.x, warp = tid >> 5;
  const std::int64_t hv = blockIdx.y, dv = a.dv, BHV = a.batch * a.HV;  // hv: (sequence, value head), as bh above
  const int d0 = blockIdx.x * BV;
  const int wm0 = (warp / WN) * MTW * 16, wn0 = (warp % WN) * NTW * 8;
  bf16* wb = reinterpret_cast<bf16*>(smem);  // [2][kC][ldk]
  bf16* kb = wb + 2 * kC * ldk;              // [2][kC][ldk]
  bf16* ub = kb + 2 * kC * ldk;              // [2][kC][ldu]
  bf16* st = ub + 2 * kC * ldu;              // [BV][ldk]: S transposed
  bf16* vp = st + BV * ldk;                  // [BV][ldp]: V' transposed

  float s[MTW][NTW][4];
  float* S = a.state + hv * DK * dv;
  for_each_acc(s, wm0, wn0, [&](int e, int d, float& x) { x = S[e * dv + d0 + d]; });

  auto prefetch = [&](std::int64_t c, int buf) {
    const bf16* W = w.W + (hv * w.Tp + c * kC) * DK;
    const bf16* K = w.Kd + (hv * w.Tp + c * kC) * DK;
    for (int idx = tid; idx < kC * DK / 8; idx += kStateThreads) {
      const int i = idx / (DK / 8), e = idx % (DK / 8) * 8;
      cp_async16(wb + (buf * kC + i) * ldk + e, W + i * DK + e);
      cp_async16(kb + (buf * kC + i) * ldk + e, K + i * DK + e);
    }
    const bf16* U = w.U + (hv * w.Tp + c * kC) * dv + d0;
    for (int idx = tid; idx < kC * BV / 8; idx += kStateThreads) {
      const int i = idx / (BV / 8), d = idx % (BV / 8) * 8;
      cp_async16(ub + (buf * kC + i) * ldu + d, U + i * dv + d);
    }
    cp_async_commit();
  };

  prefetch(0, 0);
  for (std::int64_t c = 0; c < w.NC; ++c) {
    const int buf = static_cast<int>(c & 1);
    cp_async_wait_all();
    __syncthreads();
    if (c + 1 < w.NC) prefetch(c + 1, buf ^ 1);
    const float decay = expf(w.G[hv * w.Tp + c * kC + kC - 1]);
    store_transposed_bf16(s, st, ldk, wm0, wn0);
    __syncthreads();
    {  // H_c out
      bf16* H = w.Ht + ((c * BHV + hv) * dv + d0) * DK;
      for (int idx = tid; idx < BV * DK / 8; idx += kStateThreads) {
        const int d = idx / (DK / 8), e = idx % (DK / 8) * 8;
        *reinterpret_cast<uint4*>(H + d * DK + e) = *reinterpret_cast<const uint4*>(st + d * ldk + e);
      }
    }
    {  // V' = U − W S
      const int vr0 = (warp % 4) * 16, vc0 = (warp / 4) * (BV / 2);
      float acc[1][BV / 16][4];
      zero(acc);
      warp_mma<1, BV / 16, true, true>(acc, wb + buf * kC * ldk, ldk, vr0, st, ldk, vc0, DK);
      const bf16* u = ub + buf * kC * ldu;
      for_each_acc(acc, vr0, vc0, [&](int i, int d, float& x) {
        vp[d * ldp + i] = __float2bfloat16(__bfloat162float(u[i * ldu + d]) - x);
      });
    }
    __syncthreads();
    {  // V' out
      bf16* V = w.Vt + ((hv * w.NC + c) * dv + d0) * kC;
      for (int idx = tid; idx < BV * kC / 8; idx += kStateThreads) {
        const int d = idx / (kC / 8), j = idx % (kC / 8) * 8;
        *reinterpret_cast<uint4*>(V + d * kC + j) = *reinterpret_cast<const uint4*>(vp + d * ldp + j);
      }
    }
    // S ← e^{G_last} S + Kdᵀ V'
    for_each_acc(s, wm0, wn0, [&](int, int, float& x) { x *= decay; });
    warp_mma<MTW, NTW, false, true>(s, kb + buf * kC * ldk, ldk, wm0, vp, ldp, wn0, kC);
  }
  for_each_acc(s, wm0, wn0, [&](int e, int d, float& x) { S[e * dv + d0 + d] = x; });
}

// ---------------------------------------------------------------- kernel 3: outputs per chunk
template <int DK, int BV>
constexpr std::size_t output_smem() {
  return sizeof(bf16) * (2 * kC * (DK + kPad) + BV * (DK + kPad) + BV * (kC + kPad) + kC * (kC + kPad)) +
         sizeof(float) * kC;
}

// BV output columns per CTA: 128 where dv allows (each CTA loads the chunk's q and k and forms P = Q Kᵀ once for
// its columns, so wider tiles repeat that less), else 64.
template <int DK, int BV>
__global__ void __launch_bounds__(kThreads) gdn_output_kernel(DeltaRuleChunkedArgs a, Work w) {
  extern __shared__ __align__(16) unsigned char smem[];
  constexpr int ldk = DK + kPad, ldp = kC + kPad;
  const int tid = threadIdx.x, warp = tid >> 5;
  const std::int64_t c = blockIdx.x, bh = blockIdx.y, b = bh / a.HV, hv = bh % a.HV, h = hv / (a.HV / a.H), dv = a.dv;
  const std::int64_t BHV = a.batch * a.HV;
  const bf16* q_in = static_cast<const bf16*>(a.q) + b * a.T * a.H * DK;
  const bf16* k_in = static_cast<const bf16*>(a.k) + b * a.T * a.H * DK;
  bf16* out = static_cast<bf16*>(a.out) + b * a.T * a.HV * dv;
  const int d0 = blockIdx.z * BV;
  const std::int64_t t0 = c * kC;
  const int n = static_cast<int>(a.T - t0 < kC ? a.T - t0 : kC);
  bf16* qs = reinterpret_cast<bf16*>(smem);  // [kC][ldk]
  bf16* ks = qs + kC * ldk;                  // [kC][ldk]
  bf16* hs = ks + kC * ldk;                  // [BV][ldk]: H_c transposed
  bf16* vs = hs + BV * ldk;                  // [BV][ldp]: V' transposed
  bf16* ps = vs + BV * ldp;                  // [kC][ldp]
  float* gs = reinterpret_cast<float*>(ps + kC * ldp);

  // q, k, H_c and V' straight into shared memory, all copies in flight at once
  for (int idx = tid; idx < kC * DK / 8; idx += kThreads) {
    const int i = idx / (DK / 8), e = idx % (DK / 8) * 8;
    const std::int64_t row = ((t0 + (i < n ? i : 0)) * a.H + h) * DK + e;
    cp_async16_or_zero(qs + i * ldk + e, q_in + row, i < n);
    cp_async16_or_zero(ks + i * ldk + e, k_in + row, i < n);
  }
  const bf16* H = w.Ht + ((c * BHV + bh) * dv + d0) * DK;
  for (int idx = tid; idx < BV * DK / 8; idx += kThreads) {
    const int d = idx / (DK / 8), e = idx % (DK / 8) * 8;
    cp_async16(hs + d * ldk + e, H + d * DK + e);
  }
  const bf16* V = w.Vt + ((bh * w.NC + c) * dv + d0) * kC;
  for (int idx = tid; idx < BV * kC / 8; idx += kThreads) {
    const int d = idx / (kC / 8), j = idx % (kC / 8) * 8;
    cp_async16(vs + d * ldp + j, V + d * kC + j);
  }
  cp_async_commit();
  if (tid < kC) gs[tid] = w.G[bh * w.Tp + t0 + tid];
  cp_async_wait_all();
  __syncthreads();
  {  // P = scale (Q Kᵀ) e^{G_i−G_j}, lower triangle with the diagonal
    float p[1][8][4];
    zero(p);
    warp_mma<1, 8, true, true>(p, qs, ldk, warp * 16, ks, ldk, 0, DK);
    for_each_acc(p, warp * 16, 0, [&](int i, int j, float& x) {
      ps[i * ldp + j] = __float2bfloat16(j <= i ? a.scale * x * expf(gs[i] - gs[j]) : 0.f);
    });
  }
  float o[1][BV / 8][4];
  zero(o);
  warp_mma<1, BV / 8, true, true>(o, qs, ldk, warp * 16, hs, ldk, 0, DK);
  for_each_acc(o, warp * 16, 0, [&](int i, int, float& x) { x *= a.scale * expf(gs[i]); });
  __syncwarp();  // this warp's rows of P, written above by its own lanes
  warp_mma<1, BV / 8, true, true>(o, ps, ldp, warp * 16, vs, ldp, 0, kC);
  {
    const int lane = tid & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int nt = 0; nt < BV / 8; ++nt)
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {
        const int i = warp * 16 + g + 8 * hh, d = d0 + 8 * nt + 2 * t;
        if (i < n)
          *reinterpret_cast<__nv_bfloat162*>(out + ((t0 + i) * a.HV + hv) * dv + d) =
              __floats2bfloat162_rn(o[0][nt][2 * hh], o[0][nt][2 * hh + 1]);
      }
  }
}

template <int DK>
void launch_chunked(const DeltaRuleChunkedArgs& a, const Work& w, cudaStream_t stream) {
  const bool wide = a.dv % kBvOutWide == 0;
  const int sms = current_device_sms();
  const bool wide_state = a.batch * a.HV * (a.dv / kBvStateWide) >= sms;
  const std::size_t s1 = prepare_smem<DK>(static_cast<int>(a.dv)),
                    s2 = wide_state ? state_smem<DK, kBvStateWide>() : state_smem<DK, kBvState>(),
                    s3 = wide ? output_smem<DK, kBvOutWide>() : output_smem<DK, kBvOut>();
  auto set = [](const void* f, std::size_t bytes) { allow_dynamic_shared_memory(f, bytes, "delta_rule_chunked"); };
  set(reinterpret_cast<const void*>(&gdn_prepare_kernel<DK>), s1);
  set(wide_state ? reinterpret_cast<const void*>(&gdn_state_kernel<DK, kBvStateWide>)
                 : reinterpret_cast<const void*>(&gdn_state_kernel<DK, kBvState>),
      s2);
  set(wide ? reinterpret_cast<const void*>(&gdn_output_kernel<DK, kBvOutWide>)
           : reinterpret_cast<const void*>(&gdn_output_kernel<DK, kBvOut>),
      s3);
  const unsigned nc = static_cast<unsigned>(w.NC), hv = static_cast<unsigned>(a.batch * a.HV);  // grid y: (sequence, head)
  {
    OpTimer t("delta_rule_chunked: prepare");
    gdn_prepare_kernel<DK><<<dim3(nc, hv), kThreads, s1, stream>>>(a, w);
    check_last_launch("delta_rule_chunked prepare");
  }
  {
    OpTimer t("delta_rule_chunked: state");
    if (wide_state)
      gdn_state_kernel<DK, kBvStateWide><<<dim3(static_cast<unsigned>(a.dv / kBvStateWide), hv),
                                           kStateThreads, s2, stream>>>(a, w);
    else
      gdn_state_kernel<DK, kBvState><<<dim3(static_cast<unsigned>(a.dv / kBvState), hv), kStateThreads, s2,
                                       stream>>>(a, w);
    check_last_launch("delta_rule_chunked state");
  }
  {
    OpTimer t("delta_rule_chunked: output");
    if (wide)
      gdn_output_kernel<DK, kBvOutWide><<<dim3(nc, hv, static_cast<unsigned>(a.dv / kBvOutWide)), kThreads, s3, stream>>>(a, w);
    else
      gdn_output_kernel<DK, kBvOut><<<dim3(nc, hv, static_cast<unsigned>(a.dv / kBvOut)), kThreads, s3, stream>>>(a, w);
    check_last_launch("delta_rule_chunked output");
  }
}

}  // namespace

bool delta_rule_chunked_supported(std::int64_t dk, std::int64_t dv) {
  return (dk == 32 || dk == 64 || dk == 128 || dk == 256) && dv >= kBvOut && dv % kBvOut == 0 && dv <= kMaxDv;
}

std::size_t delta_rule_chunked_workspace_bytes(std::int64_t T, std::int64_t HV, std::int64_t dk, std::int64_t dv) {
  const std::int64_t NC = (T + kC - 1) / kC, Tp = NC * kC;
  return static_cast<std::size_t>(4 * HV * Tp + 2 * HV * Tp * (2 * dk + 2 * dv) + 2 * NC * HV * dv * dk);
}

void delta_rule_chunked_bf16(const DeltaRuleChunkedArgs& a, void* workspace, cudaStream_t stream) {
  if (!delta_rule_chunked_supported(a.dk, a.dv)) throw std::runtime_error("delta_rule_chunked: unsupported head dims");
  if (a.H <= 0 || a.HV % a.H != 0) throw std::runtime_error("delta_rule_chunked: num_v_heads must be a multiple of num_heads");
  if (a.T <= 0 || a.HV == 0 || a.batch <= 0) return;
  Work w{};
  w.NC = (a.T + kC - 1) / kC;
  w.Tp = w.NC * kC;
  const std::int64_t bhv = a.batch * a.HV;
  auto* p = static_cast<unsigned char*>(workspace);
  w.G = reinterpret_cast<float*>(p);
  p += 4 * bhv * w.Tp;
  w.W = reinterpret_cast<bf16*>(p);
  p += 2 * bhv * w.Tp * a.dk;
  w.Kd = reinterpret_cast<bf16*>(p);
  p += 2 * bhv * w.Tp * a.dk;
  w.U = reinterpret_cast<bf16*>(p);
  p += 2 * bhv * w.Tp * a.dv;
  w.Vt = reinterpret_cast<bf16*>(p);
  p += 2 * bhv * w.Tp * a.dv;
  w.Ht = reinterpret_cast<bf16*>(p);
  switch (a.dk) {
    case 32: launch_chunked<32>(a, w, stream); break;
    case 64: launch_chunked<64>(a, w, stream); break;
    case 128: launch_chunked<128>(a, w, stream); break;
    default: launch_chunked<256>(a, w, stream); break;
  }
}

}  // namespace lmscope::cuda
