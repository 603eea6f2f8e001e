// Mamba's selective scan in the form that scores a sequence (mamba-ssm's selective_scan_fwd fuses the same steps):
//   Δ = softplus(delta + bias);  h ← exp(Δ·A) ⊙ h + (Δ·x) B_t;  out = (C_t · h + D·x) · silu(z),   A = −exp(A_log)
// One thread owns one channel and all N of its states (registers), so a token costs N exponentials, 3N multiply-adds
// and no shuffles: the work is bound by the multiprocessor's exponential units, not by the recurrence's latency (the
// N chains are independent). A block holds 128 channels of one sequence; tiles of tokens (x, z, Δ of its channels,
// B and C of the tokens) come through shared memory by cp.async, double-buffered.
// One sequence's 4096 channels are only 4096 threads, so a long sequence is also cut into time chunks:
//   pass 1 (chunks 0 .. nc−2): each chunk's scan from a zero state, keeping its end state E_c and Σ_c Δ;
//   pass 2 (every chunk): the state entering chunk c is h_c = exp(A·Σ_{c−1}Δ) ⊙ h_{c−1} + E_{c−1} from the sequence's
//   initial state, composed by each thread from the summaries, then the chunk's scan with outputs.
// Pass 1 repeats the exponentials of all but the last chunk, so chunks are used only where the grid needs them.
#include <cstdlib>
#include <string>
#include <type_traits>

#include "device_sms.cuh"
#include "elem.cuh"
#include "mma_bf16.cuh"
#include "shared_memory_limit.h"

namespace lmscope::cuda {
namespace {

constexpr int kChannels = 128;  // channels (threads) per block
constexpr int kTile = 16;       // tokens per shared-memory tile (36 KiB a block in bf16 with both stages: six blocks an SM)
constexpr float kLog2e = 1.4426950408889634f;

__device__ __forceinline__ float exp2_approx(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// torch.nn.functional.softplus with its threshold 20 (mamba-ssm's delta_softplus)
__device__ __forceinline__ float softplus(float v) { return v <= 20.f ? log1pf(__expf(v)) : v; }

template <typename E, int N>
struct Tile {
  E x[kTile][kChannels], z[kTile][kChannels];
  float dt[kTile][kChannels], B[kTile][N], C[kTile][N];
};

// Workspace of the chunked form, per sequence: the initial state's copy [Dn, N], then per chunk c < nc − 1 its
// end state from zero [Dn, N] and its Σ Δ [Dn].
struct Summaries {
  float* base;
  std::int64_t Dn, N, nc;
  __device__ std::int64_t per_seq() const { return Dn * N + (nc - 1) * Dn * (N + 1); }
  __device__ float* initial(std::int64_t z) const { return base + z * per_seq(); }
  __device__ float* end_state(std::int64_t z, std::int64_t c) const { return initial(z) + Dn * N + c * Dn * N; }
  __device__ float* delta_sum(std::int64_t z, std::int64_t c) const {
    return initial(z) + Dn * N + (nc - 1) * Dn * N + c * Dn;
  }
};

// kOutputs: pass 2 (outputs, final state); else pass 1 (a chunk's end state and Σ Δ from a zero state).
template <typename E, int N, bool kOutputs>
__global__ void __launch_bounds__(kChannels) selective_scan_gated_kernel(const SelectiveScanGatedArgs a, const Summaries s,
                                                                        std::int64_t chunk_len) {
  extern __shared__ __align__(16) unsigned char smem[];
  auto* tiles = reinterpret_cast<Tile<E, N>*>(smem);
  const int tid = static_cast<int>(threadIdx.x);
  const std::int64_t ch0 = static_cast<std::int64_t>(blockIdx.x) * kChannels, d = ch0 + tid;
  const std::int64_t c = blockIdx.y, z = blockIdx.z;
  const bool live = d < a.Dn;
  const std::int64_t t_begin = c * chunk_len, t_end = t_begin + chunk_len < a.T ? t_begin + chunk_len : a.T;
  const std::int64_t row0 = z * a.T;
  const E* x = static_cast<const E*>(a.x);
  const E* zg = static_cast<const E*>(a.z);

  float A2[N], h[N];
#pragma unroll
  for (int n = 0; n < N; ++n) A2[n] = live ? -expf(a.A_log[d * N + n]) * kLog2e : 0.f;
  const float bias = live && a.delta_bias ? a.delta_bias[d] : 0.f;
  if constexpr (kOutputs) {
    // the state entering this chunk
    const float* init = s.nc > 1 ? s.initial(z) : a.state + z * a.Dn * N;
#pragma unroll
    for (int n = 0; n < N; ++n) h[n] = live ? init[d * N + n] : 0.f;
    for (std::int64_t j = 0; j < c; ++j) {
      const float sum = live ? s.delta_sum(z, j)[d] : 0.f;
      const float* e = s.end_state(z, j) + d * N;
#pragma unroll
      for (int n = 0; n < N; ++n) h[n] = live ? fmaf(exp2_approx(A2[n] * sum), h[n], e[n]) : 0.f;
    }
  } else {
#pragma unroll
    for (int n = 0; n < N; ++n) h[n] = 0.f;
    if (c == 0 && live) {  // keep the sequence's initial state for pass 2 (pass 2's last chunk overwrites a.state)
#pragma unroll
      for (int n = 0; n < N; ++n) s.initial(z)[d * N + n] = a.state[(z * a.Dn + d) * N + n];
    }
  }
  const float Dd = live ? a.D[d] : 0.f;
  float dsum = 0.f;

  // One tile's loads: 16-byte pieces spread over the block's threads; rows past the chunk and channels past Dn
  // are zero-filled (their source address stays in bounds).
  auto load = [&](Tile<E, N>& t, std::int64_t t0) {
    const std::int64_t n = t_end - t0;
    constexpr int kE = 16 / sizeof(E), kRowE = kChannels / kE;  // pieces per tile row of x / z
    constexpr int kRowF = kChannels / 4;                          // pieces per tile row of Δ
    for (int p = tid; p < kTile * kRowE; p += kChannels) {
      const int i = p / kRowE, k = p % kRowE;
      const bool in = i < n && ch0 + k * kE < a.Dn;
      const std::int64_t off = (row0 + t0 + (in ? i : 0)) * a.Dn + (in ? ch0 + k * kE : 0);
      mma::cp_async16_or_zero(&t.x[i][k * kE], x + off, in);
      if constexpr (kOutputs) mma::cp_async16_or_zero(&t.z[i][k * kE], zg + off, in);
    }
    for (int p = tid; p < kTile * kRowF; p += kChannels) {
      const int i = p / kRowF, k = p % kRowF;
      const bool in = i < n && ch0 + k * 4 < a.Dn;
      const std::int64_t off = (row0 + t0 + (in ? i : 0)) * a.Dn + (in ? ch0 + k * 4 : 0);
      mma::cp_async16_or_zero(&t.dt[i][k * 4], a.delta + off, in);
    }
    constexpr int kBC = kTile * N / 4;  // B's (and C's) tile is kTile·N consecutive floats
    for (int p = tid; p < kBC; p += kChannels) {
      const int i = p * 4 / N;
      const bool in = i < n;
      const std::int64_t off = (row0 + t0 + (in ? 0 : -i)) * N + p * 4;
      mma::cp_async16_or_zero(&t.B[0][0] + p * 4, a.B + off, in);
      if constexpr (kOutputs) mma::cp_async16_or_zero(&t.C[0][0] + p * 4, a.C + off, in);
    }
    mma::cp_async_commit();
  };

  E* out = static_cast<E*>(a.out);
  if (t_begin < t_end) load(tiles[0], t_begin);
  int stage = 0;
  for (std::int64_t t0 = t_begin; t0 < t_end; t0 += kTile, stage ^= 1) {
    if (t0 + kTile < t_end) {
      load(tiles[stage ^ 1], t0 + kTile);
      asm volatile("cp.async.wait_group 1;\n" ::: "memory");
    } else {
      mma::cp_async_wait_all();
    }
    __syncthreads();
    const Tile<E, N>& t = tiles[stage];
    const int n = t_end - t0 < kTile ? static_cast<int>(t_end - t0) : kTile;
#pragma unroll 2
    for (int i = 0; i < n; ++i) {
      const float dt = softplus(t.dt[i][tid] + bias), xv = ld(&t.x[i][tid]);
      const float u = dt * xv;
      float y = 0.f;
#pragma unroll
      for (int n4 = 0; n4 < N; n4 += 4) {
        const float4 b = *reinterpret_cast<const float4*>(&t.B[i][n4]);
        const float bv[4] = {b.x, b.y, b.z, b.w};
        float cv[4] = {0.f, 0.f, 0.f, 0.f};
        if constexpr (kOutputs) {
          const float4 cc = *reinterpret_cast<const float4*>(&t.C[i][n4]);
          cv[0] = cc.x, cv[1] = cc.y, cv[2] = cc.z, cv[3] = cc.w;
        }
#pragma unroll
        for (int k = 0; k < 4; ++k) {
          h[n4 + k] = fmaf(exp2_approx(dt * A2[n4 + k]), h[n4 + k], u * bv[k]);
          if constexpr (kOutputs) y = fmaf(cv[k], h[n4 + k], y);
        }
      }
      if constexpr (kOutputs) {
        const float zv = ld(&t.z[i][tid]);
        if (live) st(out + (row0 + t0 + i) * a.Dn + d, fmaf(Dd, xv, y) * __fdividef(zv, 1.f + __expf(-zv)));
      } else {
        dsum += dt;
      }
    }
    __syncthreads();  // this stage is refilled two tiles on
  }
  if (!live) return;
  if constexpr (kOutputs) {
    if (c == s.nc - 1) {
#pragma unroll
      for (int n = 0; n < N; ++n) a.state[(z * a.Dn + d) * N + n] = h[n];
    }
  } else {
    float* e = s.end_state(z, c) + d * N;
#pragma unroll
    for (int n = 0; n < N; ++n) e[n] = h[n];
    s.delta_sum(z, c)[d] = dsum;
  }
}

// Time chunks for `batch` sequences of T tokens over Dn channels, measured on the H200 with Mamba-1.4B (Dn 4096):
// 8×2048 (248 channel threads an SM) ran fastest unchunked (138.7K tokens/s; 2 chunks 134.2K), 1×16384 (31 an SM)
// with 16 chunks (126.7K; 8: 117.5K, 32: 126.6K). So: no chunks from 192 threads an SM, else about 512 an SM;
// chunks of at least 256 tokens. LMSCOPE_SELECTIVE_SCAN_CHUNKS=n forces n, for measurements.
std::int64_t chunk_count(const SelectiveScanGatedArgs& a) {
  std::int64_t most = (a.T + 255) / 256;
  if (most < 1) most = 1;
  if (const char* e = std::getenv("LMSCOPE_SELECTIVE_SCAN_CHUNKS"); e && std::atoi(e) > 0)
    return std::min<std::int64_t>(std::atoi(e), std::max<std::int64_t>(a.T, 1));
  const std::int64_t sms = current_device_sms(), have = a.batch * a.Dn;
  if (have >= sms * 192) return 1;
  return std::max<std::int64_t>(1, std::min(most, sms * 512 / have));
}

}  // namespace

bool selective_scan_gated_supported(std::int64_t state_size, std::int64_t channels) {
  return (state_size == 8 || state_size == 16 || state_size == 32) && channels > 0 && channels % 8 == 0;
}

std::size_t selective_scan_gated_workspace_bytes(const SelectiveScanGatedArgs& a) {
  const std::int64_t nc = chunk_count(a);
  if (nc <= 1) return 0;
  return static_cast<std::size_t>(a.batch * (a.Dn * a.N + (nc - 1) * a.Dn * (a.N + 1))) * sizeof(float);
}

void selective_scan_gated(const SelectiveScanGatedArgs& a, Elem e, void* workspace, cudaStream_t stream) {
  const char* what = "selective_scan_gated";
  if (!selective_scan_gated_supported(a.N, a.Dn))
    throw std::runtime_error(std::string(what) + ": state size " + std::to_string(a.N) + " with " + std::to_string(a.Dn) +
                             " channels is not supported (8, 16 or 32 states; channels a multiple of 8)");
  for (const void* p : {a.x, a.z, static_cast<const void*>(a.delta), static_cast<const void*>(a.B), static_cast<const void*>(a.C)})
    if (!aligned16(p)) throw std::runtime_error(std::string(what) + ": operands must be 16-byte aligned");
  if (a.T == 0 || a.batch == 0) return;
  if (a.batch > 65535) throw std::runtime_error(std::string(what) + ": too many sequences in one launch");
  const std::int64_t nc = chunk_count(a);
  if (nc > 1 && workspace == nullptr) throw std::runtime_error(std::string(what) + ": no workspace for the time chunks");
  const std::int64_t chunk_len = (a.T + nc - 1) / nc;
  const std::int64_t used = (a.T + chunk_len - 1) / chunk_len;  // chunks that hold tokens
  const Summaries s{static_cast<float*>(workspace), a.Dn, a.N, used};
  const unsigned blocks = static_cast<unsigned>((a.Dn + kChannels - 1) / kChannels);
  dispatch(e, [&](auto tag) {
    using E = decltype(tag);
    auto go = [&](auto n_tag) {
      constexpr int N = decltype(n_tag)::value;
      const std::size_t bytes = 2 * sizeof(Tile<E, N>);
      if (used > 1) {
        auto* k1 = selective_scan_gated_kernel<E, N, false>;
        allow_dynamic_shared_memory(k1, bytes, what);
        k1<<<dim3(blocks, static_cast<unsigned>(used - 1), static_cast<unsigned>(a.batch)), kChannels, bytes, stream>>>(a, s, chunk_len);
      }
      auto* k2 = selective_scan_gated_kernel<E, N, true>;
      allow_dynamic_shared_memory(k2, bytes, what);
      k2<<<dim3(blocks, static_cast<unsigned>(used), static_cast<unsigned>(a.batch)), kChannels, bytes, stream>>>(a, s, chunk_len);
    };
    if (a.N == 8)
      go(std::integral_constant<int, 8>{});
    else if (a.N == 16)
      go(std::integral_constant<int, 16>{});
    else
      go(std::integral_constant<int, 32>{});
  });
  check_last_launch(what);
}

}  // namespace lmscope::cuda
