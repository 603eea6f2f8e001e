// The recurrence that gated linear attention (GLA, RetNet, HGRN2) and Mamba2's SSD share, per value head hv with a
// float32 state S [dk, dv]:
//   S ← diag(decay_t) S + k_t v_tᵀ;  o_t = Sᵀ(scale · q_t)
// GLA: decay_t = exp(g_t) per key channel (GLA, HGRN2) or per head (RetNet, g the same at every token or not).
// SSD: q = C, k = B (of the head's group), v = dt·x, decay = exp(dt · −exp(A_log)) per head, scale 1, and D·x added.
//
// Token by token, exactly the CPU reference's recurrent form; tokens of one sequence run in order, everything else
// in parallel. Every column d of S evolves on its own, so a warp owns kCols columns of one head and each lane keeps
// rows lane, lane + 32, ... of them in registers (dk ≤ 32·kRows); one token costs a warp reduction per column.
// Launch: grid (value heads, ceil(dv / 16), sequences), 4 warps per block (16 columns of one head). The block
// stages a tile of tokens (q, k, the decay factors, its 16 columns of v) in shared memory with coalesced loads,
// then its warps run through the tile from there while the next tile's loads are in flight (double buffering
// through registers), so global latency is hidden behind a tile of tokens.
// Sequences: `batch` sequences of T rows one after another, state z at state + z·HV·dk·dv; or a decoding step
// (states.n > 0, T = 1): row z continues states.p[z]. The state is read once at the start and written once at the
// end. q, k, v, out share one element type E (float or bf16); g / dt, A_log, D are float32.
#pragma once

#include "block_reduce.cuh"
#include "elem.cuh"

namespace lmscope::cuda::linear_recurrence {

struct Args {
  const void *q, *k, *v;        // GLA: q, k [rows, H·dk], v [rows, HV·dv]; SSD: C, B [rows, G·N], x [rows, H·P]
  const float* g;               // GLA: log decay, [g_rows, HV·dk] (per_channel) or [g_rows, HV]; SSD: dt [rows, H]
  const float *A_log, *D;       // SSD: [H]; D [H] or [H·P] (d_per_channel)
  float* state;                 // [batch, HV, dk, dv] (unused in a decoding step)
  void* out;                    // [rows, HV·dv]
  std::int64_t T, H, HV, dk, dv;
  bool per_channel = false;     // GLA: a decay per key channel
  bool g_per_token = true;      // GLA: g has a row per token (else one row for all)
  bool d_per_channel = false;   // SSD
  float scale = 1.0f;
};

constexpr int kWarps = 4;
constexpr int kCols = 4;
constexpr int kBlockCols = kWarps * kCols;

template <int kRows, bool kSsd, typename E>
__global__ void __launch_bounds__(kWarps * 32) recurrence_kernel(const Args a, const DecodeStates states) {
  constexpr int DK = 32 * kRows;
  constexpr int TT = 64 / kRows;  // tokens per staged tile: 24 KiB of q, k and decays
  __shared__ float sq[TT][DK], sk[TT][DK];
  __shared__ float sg[kSsd ? 1 : TT][kSsd ? 1 : DK];  // GLA per-channel decay factors
  __shared__ float sdec[TT], sdt[TT];                 // per-head decay factor; SSD's dt
  __shared__ float sv[TT][kBlockCols];                // v (GLA) or x (SSD)
  const E* q = static_cast<const E*>(a.q);
  const E* k = static_cast<const E*>(a.k);
  const E* v = static_cast<const E*>(a.v);
  E* out = static_cast<E*>(a.out);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const std::int64_t hv = blockIdx.x, h = hv / (a.HV / a.H), z = blockIdx.z;
  const std::int64_t c0 = static_cast<std::int64_t>(blockIdx.y) * kBlockCols, d0 = c0 + warp * kCols;
  float* S = (states.n > 0 ? states.p[z] : a.state + z * a.HV * a.dk * a.dv) + hv * a.dk * a.dv;
  const std::int64_t row0 = z * a.T;
  const bool active = d0 < a.dv;  // warps past the last column still load tiles and meet the barriers
  float s[kCols][kRows];
#pragma unroll
  for (int c = 0; c < kCols; ++c)
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      const std::int64_t i = lane + 32 * r, d = d0 + c;
      s[c][r] = i < a.dk && d < a.dv ? S[i * a.dv + d] : 0.f;
    }
  float A = 0.f, Dh = 0.f;
  if constexpr (kSsd) {
    A = -expf(a.A_log[hv]);
    if (!a.d_per_channel) Dh = a.D[hv];
  }
  // The next tile's values are fetched into registers while the warps run through the current one from shared
  // memory (every load of a tile in flight at once, their latency hidden behind a tile of tokens); after a barrier
  // they are stored to shared memory.
  constexpr int kThreads = kWarps * 32;
  constexpr int PQ = TT * DK / kThreads;          // q, k (and GLA's per-channel g) values per thread per tile
  constexpr int PV = TT * kBlockCols / kThreads;  // v values per thread per tile
  float rq[PQ], rk[PQ], rg[kSsd ? 1 : PQ], rv[PV], rd = 0.f;
  auto fetch = [&](std::int64_t t0) {
    const std::int64_t n = a.T - t0 < TT ? a.T - t0 : TT;
#pragma unroll
    for (int u = 0; u < PQ; ++u) {
      const int idx = static_cast<int>(threadIdx.x) + u * kThreads, i = idx / DK, e = idx % DK;
      const std::int64_t row = row0 + t0 + i;
      const bool in = i < n && e < a.dk;
      rq[u] = in ? ld(q + (row * a.H + h) * a.dk + e) : 0.f;
      rk[u] = in ? ld(k + (row * a.H + h) * a.dk + e) : 0.f;
      if constexpr (!kSsd) rg[u] = in && a.per_channel ? a.g[((a.g_per_token ? row : 0) * a.HV + hv) * a.dk + e] : 0.f;
    }
#pragma unroll
    for (int u = 0; u < PV; ++u) {
      const int idx = static_cast<int>(threadIdx.x) + u * kThreads, i = idx / kBlockCols, c = idx % kBlockCols;
      const std::int64_t d = c0 + c;
      rv[u] = i < n && d < a.dv ? ld(v + ((row0 + t0 + i) * a.HV + hv) * a.dv + d) : 0.f;
    }
    if (threadIdx.x < n) {
      const std::int64_t row = row0 + t0 + threadIdx.x;
      if (kSsd)
        rd = a.g[row * a.HV + hv];  // dt
      else if (!a.per_channel)
        rd = a.g[(a.g_per_token ? row : 0) * a.HV + hv];
    }
  };
  auto stash = [&] {
#pragma unroll
    for (int u = 0; u < PQ; ++u) {
      const int idx = static_cast<int>(threadIdx.x) + u * kThreads, i = idx / DK, e = idx % DK;
      sq[i][e] = rq[u];
      sk[i][e] = rk[u];
      if constexpr (!kSsd)
        if (a.per_channel) sg[i][e] = expf(rg[u]);
    }
#pragma unroll
    for (int u = 0; u < PV; ++u) {
      const int idx = static_cast<int>(threadIdx.x) + u * kThreads;
      sv[idx / kBlockCols][idx % kBlockCols] = rv[u];
    }
    if (threadIdx.x < TT) {
      if constexpr (kSsd) {
        sdt[threadIdx.x] = rd;
        sdec[threadIdx.x] = expf(rd * A);
      } else if (!a.per_channel) {
        sdec[threadIdx.x] = expf(rd);
      }
    }
  };
  if (a.T > 0) fetch(0);
  for (std::int64_t t0 = 0; t0 < a.T; t0 += TT) {
    const int n = a.T - t0 < TT ? static_cast<int>(a.T - t0) : TT;
    __syncthreads();  // the previous tile is consumed
    stash();
    __syncthreads();
    if (t0 + TT < a.T) fetch(t0 + TT);
    if (!active) continue;
    for (int i = 0; i < n; ++i) {
      float qr[kRows], kr[kRows], dr[kRows];
#pragma unroll
      for (int r = 0; r < kRows; ++r) {
        qr[r] = a.scale * sq[i][lane + 32 * r];
        kr[r] = sk[i][lane + 32 * r];
        if constexpr (kSsd)
          dr[r] = sdec[i];
        else
          dr[r] = a.per_channel ? sg[i][lane + 32 * r] : sdec[i];
      }
      float o[kCols];
#pragma unroll
      for (int c = 0; c < kCols; ++c) {
        const float vc = kSsd ? sdt[i] * sv[i][warp * kCols + c] : sv[i][warp * kCols + c];
        float dot = 0.f;
#pragma unroll
        for (int r = 0; r < kRows; ++r) {
          s[c][r] = dr[r] * s[c][r] + kr[r] * vc;
          dot += qr[r] * s[c][r];
        }
        o[c] = warp_sum(dot);
      }
      if (lane < kCols && d0 + lane < a.dv) {
        float mine = o[0];
#pragma unroll
        for (int c = 1; c < kCols; ++c)
          if (lane == c) mine = o[c];
        const std::int64_t d = d0 + lane;
        if constexpr (kSsd) mine += (a.d_per_channel ? a.D[hv * a.dv + d] : Dh) * sv[i][warp * kCols + lane];
        st(out + ((row0 + t0 + i) * a.HV + hv) * a.dv + d, mine);
      }
    }
  }
#pragma unroll
  for (int c = 0; c < kCols; ++c)
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      const std::int64_t i = lane + 32 * r, d = d0 + c;
      if (i < a.dk && d < a.dv) S[i * a.dv + d] = s[c][r];
    }
}

// Key dims the kernel covers: 1 .. 256 (rows in registers, 8 per lane at most).
inline bool supported(std::int64_t dk) { return dk >= 1 && dk <= 256; }

// `nseq` sequences (batch, or states.n in a decoding step). Throws std::runtime_error naming `what` for a shape it
// does not cover.
template <bool kSsd>
void launch(const Args& a, Elem e, std::int64_t nseq, const DecodeStates& states, const char* what, cudaStream_t stream) {
  if (!supported(a.dk))
    throw std::runtime_error(std::string(what) + ": key/state dim " + std::to_string(a.dk) + " is not supported (1..256)");
  if (a.H <= 0 || a.HV % a.H != 0) throw std::runtime_error(std::string(what) + ": value heads must be a multiple of heads");
  if (states.n > 0 && (states.n > kMaxDecodeRows || a.T != 1 || nseq != states.n))
    throw std::runtime_error(std::string(what) + ": a decoding step takes one token of at most 32 sequences");
  if (a.T == 0 || a.HV == 0 || a.dv == 0 || nseq == 0) return;
  if (nseq > 65535) throw std::runtime_error(std::string(what) + ": too many sequences in one launch");
  const dim3 grid(static_cast<unsigned>(a.HV), static_cast<unsigned>((a.dv + kBlockCols - 1) / kBlockCols),
                  static_cast<unsigned>(nseq));
  dispatch(e, [&](auto tag) {
    using E = decltype(tag);
    if (a.dk <= 32)
      recurrence_kernel<1, kSsd, E><<<grid, kWarps * 32, 0, stream>>>(a, states);
    else if (a.dk <= 64)
      recurrence_kernel<2, kSsd, E><<<grid, kWarps * 32, 0, stream>>>(a, states);
    else if (a.dk <= 128)
      recurrence_kernel<4, kSsd, E><<<grid, kWarps * 32, 0, stream>>>(a, states);
    else
      recurrence_kernel<8, kSsd, E><<<grid, kWarps * 32, 0, stream>>>(a, states);
  });
  check_last_launch(what);
}

}  // namespace lmscope::cuda::linear_recurrence
