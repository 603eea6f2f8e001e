// Mamba's selective scan, per channel d with a float32 state h [N]:
//   h ← exp(Δ_t,d · A_d) ⊙ h + (Δ_t,d · x_t,d) B_t;  y_t,d = C_t · h + D_d · x_t,d,   A = −exp(A_log)
// for scoring (batch sequences of T tokens) and decoding steps (one token of each of n sequences, each its own
// state). Token by token as the CPU reference's recurrent form: tokens of one sequence in order, channels and
// states in parallel. A group of L lanes (L = 8, 16 or 32, the power of two ≥ N up to 32) owns one channel, each
// lane kSpl of its states (N ≤ L·kSpl ≤ 256) with their A in registers; y is a reduction over the group's lanes.
// Launch: grid (ceil(Dn / (128 / L)), sequences), 128 threads. The block stages a tile of tokens (B_t and C_t,
// shared by all its channels, and its channels' x and Δ) in shared memory with coalesced loads, then runs through
// it while the next tile's loads are in flight, so global latency hides behind a tile of tokens. The state is read
// once at the start and written once at the end.
#include "elem.cuh"

namespace lmscope::cuda {
namespace {

constexpr int kThreads = 128;

template <int L, int kSpl, typename E>
__global__ void __launch_bounds__(kThreads) selective_scan_kernel(const SelectiveScanArgs a, const DecodeStates states) {
  constexpr int NW = L * kSpl;              // states per channel the block's layout holds
  constexpr int CPB = kThreads / L;         // channels per block
  constexpr int TT = NW <= 64 ? 32 : 2048 / NW;  // tokens per tile: B and C take 16 KiB at most
  __shared__ float sB[TT][NW], sC[TT][NW], sx[TT][CPB], sdt[TT][CPB];
  const E* x = static_cast<const E*>(a.x);
  const E* delta = static_cast<const E*>(a.delta);
  const E* Bm = static_cast<const E*>(a.B);
  const E* Cm = static_cast<const E*>(a.C);
  E* out = static_cast<E*>(a.out);
  const int group = threadIdx.x / L, jl = threadIdx.x % L;
  const std::int64_t ch0 = static_cast<std::int64_t>(blockIdx.x) * CPB, d = ch0 + group, z = blockIdx.y;
  const std::int64_t row0 = z * a.T;
  float* S = (states.n > 0 ? states.p[z] : a.state + z * a.Dn * a.N) + d * a.N;
  const bool live = d < a.Dn;
  float h[kSpl], A[kSpl];
#pragma unroll
  for (int r = 0; r < kSpl; ++r) {
    const std::int64_t j = jl + L * r;
    const bool in = live && j < a.N;
    h[r] = in ? S[j] : 0.f;
    A[r] = in ? -expf(a.A_log[d * a.N + j]) : 0.f;
  }
  const float Dd = live ? a.D[d] : 0.f;
  // The next tile is fetched into registers while the current one is scanned from shared memory (double
  // buffering through registers: all of a tile's loads in flight at once).
  constexpr int PB = (TT * NW + kThreads - 1) / kThreads, PX = (TT * CPB + kThreads - 1) / kThreads;
  float rB[PB], rC[PB], rx[PX], rdt[PX];
  auto fetch = [&](std::int64_t t0) {
    const std::int64_t n = a.T - t0 < TT ? a.T - t0 : TT;
#pragma unroll
    for (int u = 0; u < PB; ++u) {
      const int idx = static_cast<int>(threadIdx.x) + u * kThreads, i = idx / NW, j = idx % NW;
      const std::int64_t row = row0 + t0 + i;
      const bool in = idx < TT * NW && i < n && j < a.N;
      rB[u] = in ? ld(Bm + row * a.N + j) : 0.f;
      rC[u] = in ? ld(Cm + row * a.N + j) : 0.f;
    }
#pragma unroll
    for (int u = 0; u < PX; ++u) {
      const int idx = static_cast<int>(threadIdx.x) + u * kThreads, i = idx / CPB, c = idx % CPB;
      const std::int64_t row = row0 + t0 + i, dc = ch0 + c;
      const bool in = idx < TT * CPB && i < n && dc < a.Dn;
      rx[u] = in ? ld(x + row * a.Dn + dc) : 0.f;
      rdt[u] = in ? ld(delta + row * a.Dn + dc) : 0.f;
    }
  };
  if (a.T > 0) fetch(0);
  for (std::int64_t t0 = 0; t0 < a.T; t0 += TT) {
    const int n = a.T - t0 < TT ? static_cast<int>(a.T - t0) : TT;
    __syncthreads();  // the previous tile is consumed
#pragma unroll
    for (int u = 0; u < PB; ++u) {
      const int idx = static_cast<int>(threadIdx.x) + u * kThreads;
      if (idx < TT * NW) {
        sB[idx / NW][idx % NW] = rB[u];
        sC[idx / NW][idx % NW] = rC[u];
      }
    }
#pragma unroll
    for (int u = 0; u < PX; ++u) {
      const int idx = static_cast<int>(threadIdx.x) + u * kThreads;
      if (idx < TT * CPB) {
        sx[idx / CPB][idx % CPB] = rx[u];
        sdt[idx / CPB][idx % CPB] = rdt[u];
      }
    }
    __syncthreads();
    if (t0 + TT < a.T) fetch(t0 + TT);
    for (int i = 0; i < n; ++i) {
      const float dt = sdt[i][group], xv = sx[i][group];
      const float u = dt * xv;
      float y = 0.f;
#pragma unroll
      for (int r = 0; r < kSpl; ++r) {
        const int j = jl + L * r;
        h[r] = expf(dt * A[r]) * h[r] + sB[i][j] * u;
        y += sC[i][j] * h[r];
      }
#pragma unroll
      for (int o = L / 2; o > 0; o >>= 1) y += __shfl_xor_sync(0xffffffff, y, o);
      if (jl == 0 && live) st(out + (row0 + t0 + i) * a.Dn + d, y + Dd * xv);
    }
  }
#pragma unroll
  for (int r = 0; r < kSpl; ++r) {
    const std::int64_t j = jl + L * r;
    if (live && j < a.N) S[j] = h[r];
  }
}

void launch(const SelectiveScanArgs& a, Elem e, std::int64_t nseq, const DecodeStates& states, const char* what,
            cudaStream_t stream) {
  if (!selective_scan_supported(a.N))
    throw std::runtime_error(std::string(what) + ": state size " + std::to_string(a.N) + " is not supported (1..256)");
  if (states.n > 0 && (states.n > kMaxDecodeRows || a.T != 1 || nseq != states.n))
    throw std::runtime_error(std::string(what) + ": a decoding step takes one token of at most 32 sequences");
  if (a.T == 0 || a.Dn == 0 || nseq == 0) return;
  if (nseq > 65535) throw std::runtime_error(std::string(what) + ": too many sequences in one launch");
  auto go = [&](auto kernel, int L) {
    const dim3 grid(static_cast<unsigned>((a.Dn + kThreads / L - 1) / (kThreads / L)), static_cast<unsigned>(nseq));
    kernel<<<grid, kThreads, 0, stream>>>(a, states);
  };
  dispatch(e, [&](auto tag) {
    using E = decltype(tag);
    if (a.N <= 8)
      go(selective_scan_kernel<8, 1, E>, 8);
    else if (a.N <= 16)
      go(selective_scan_kernel<16, 1, E>, 16);
    else if (a.N <= 32)
      go(selective_scan_kernel<32, 1, E>, 32);
    else if (a.N <= 64)
      go(selective_scan_kernel<32, 2, E>, 32);
    else if (a.N <= 128)
      go(selective_scan_kernel<32, 4, E>, 32);
    else
      go(selective_scan_kernel<32, 8, E>, 32);
  });
  check_last_launch(what);
}

}  // namespace

bool selective_scan_supported(std::int64_t state_size) { return state_size >= 1 && state_size <= 256; }

void selective_scan(const SelectiveScanArgs& a, Elem e, cudaStream_t stream) {
  launch(a, e, a.batch, DecodeStates{}, "selective_scan", stream);
}

void selective_scan_step_batch(const SelectiveScanArgs& a, Elem e, const DecodeStates& states, cudaStream_t stream) {
  if (states.n < 1) throw std::runtime_error("selective_scan_step_batch: no sequences");
  launch(a, e, states.n, states, "selective_scan_step_batch", stream);
}

}  // namespace lmscope::cuda
