// Causal / sliding-window flash attention for Hopper (sm_90a): the same contract and online softmax as
// attention_flash_bf16.cu, with the two products on warpgroup tensor cores (wgmma) instead of mma.sync.
//
// Launch shape: grid (batch x num_heads, ceil(Tq / 128)), issued last query block first like the mma.sync kernel;
// one block of two warpgroups (256 threads), each owning 64 query rows. Head dims 64 and 128.
//
// Per block: the 128 x D query tile is loaded once (cp.async into the 128-byte-swizzled layout, in 64-column panels)
// and kept in registers as wgmma A fragments. Key and value tiles of 64 rows stream
// through shared memory in the same swizzled panels by cp.async, one tile ahead. Per key tile and warpgroup:
//   S = Q Kᵀ: D / 16 wgmma m64n64k16 steps, A (Q) from registers, B (K, K-major: a key's head dimension contiguous)
//             from shared memory — 64 x 64 float32 scores in registers;
//   mask, online softmax and the bf16 rounding of P on those registers (flash_softmax.cuh, shared with the mma.sync
//             kernel: wgmma's accumulator layout per warp is mma.sync's m16n8 layout repeated along N);
//   O += P V: 4 steps of m64n64k16 per 64-column panel of D, A (P) from registers, B (V, MN-major: read with the
//             transpose flag) from shared memory.
// Software pipelining inside a warpgroup: S of tile t and P V of tile t - 1 are issued together, and the softmax of
// tile t runs on the CUDA cores while the tensor cores finish P V (so value tiles live one step longer: three value
// buffers, two key buffers). Key tiles of 64; shared memory (128 + 5 · 64) · D · 2 bytes + 1 KiB of alignment =
// 57 KiB at D 64 (two blocks, 16 warps per SM), 113 KiB at D 128 (one block: ~210 registers per thread).
// Not (yet) here: TMA loads and a producer warp, two warpgroups taking turns (ping-pong).
#include <cfloat>
#include <string>

#include "attention_flash_wgmma.h"
#include "elem.cuh"
#include "flash_softmax.cuh"
#include "mma_bf16.cuh"
#include "shared_memory_limit.h"
#include "wgmma_sm90.cuh"

namespace lmscope::cuda {
namespace {

using namespace mma;

constexpr int kWarpgroups = 2;
constexpr int kThreads = kWarpgroups * 128;
constexpr int kBM = kWarpgroups * 64;  // query rows per block
constexpr int kBN = 64;                // keys per tile (a 128-key tile measured slower: one block per SM)

// Byte offset of the 16-byte chunk `chunk` (0 .. D/8 - 1) of `row` in a tile of `rows` rows stored as swizzled
// [rows][64] panels, one per 64 columns.
__device__ __forceinline__ int tile_chunk(int rows, int row, int chunk) {
  return (chunk / 8) * (rows * 128) + wgmma::swizzled_chunk(row, chunk % 8);
}

// Copies R rows of a bf16 matrix with row stride `stride` starting at g (its first wanted column of its first row),
// D columns, into a swizzled tile; rows from `valid` on are zero-filled (past a sequence's end).
template <int D, int R>
__device__ __forceinline__ void load_tile(unsigned char* tile, const bf16* g, int stride, int valid) {
  constexpr int kChunksPerRow = D / 8;
#pragma unroll
  for (int c = threadIdx.x; c < R * kChunksPerRow; c += kThreads) {
    const int r = c / kChunksPerRow, k = c % kChunksPerRow;
    cp_async16_or_zero(tile + tile_chunk(R, r, k), r < valid ? g + r * stride + k * 8 : g, r < valid);
  }
}

// S (64 x 64 per warpgroup) = Q Kᵀ over the head dimension, Q from registers, K from the swizzled tile.
template <int D>
__device__ __forceinline__ void scores(float (&s)[kBN / 8][4], const unsigned (&qf)[D / 16][4], const unsigned char* kt) {
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk)  // K-major B: the k16 step is 32 bytes along the panel's 128-byte rows
    wgmma::wgmma_m64n64k16_rs<0>(reinterpret_cast<float(&)[kBN / 2]>(s), qf[kk],
                                 wgmma::descriptor(kt + (kk / 4) * (kBN * 128) + (kk % 4) * 32, 16, 1024), kk > 0);
}

template <int D, int MINB, bool SOFTCAP>
__global__ void __launch_bounds__(kThreads, MINB) flash_attention_wgmma_kernel(AttentionBf16Args a, float scale_log2) {
  constexpr int kTileBytes = kBN * D * 2;
  extern __shared__ unsigned char smem_raw[];
  // The 128-byte swizzle repeats every 1024 bytes: panels must start 1024-byte aligned.
  unsigned char* q_s = reinterpret_cast<unsigned char*>((reinterpret_cast<std::uintptr_t>(smem_raw) + 1023) & ~std::uintptr_t{1023});
  unsigned char* k_s = q_s + kBM * D * 2;  // [2] tiles: key tile t in k_s[t % 2]
  unsigned char* v_s = k_s + 2 * kTileBytes;  // [3] tiles: value tile t in v_s[t % 3] (read one step after its keys)

  const int wg = threadIdx.x / 128, warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32;
  const std::int64_t m_block = static_cast<std::int64_t>(gridDim.y) - 1 - blockIdx.y;
  const std::int64_t h = blockIdx.x % a.num_heads, seq = blockIdx.x / a.num_heads;
  const std::int64_t kvh = h / (a.num_heads / a.num_kv_heads);
  const std::int64_t q_stride = a.num_heads * D, kv_stride = a.num_kv_heads * D;
  const bf16* q = static_cast<const bf16*>(a.q) + seq * a.Tq * q_stride;
  const bf16* k = static_cast<const bf16*>(a.k) + seq * a.kv_batch_rows * kv_stride;
  const bf16* v = static_cast<const bf16*>(a.v) + seq * a.kv_batch_rows * kv_stride;

  const std::int64_t q_first = m_block * kBM;
  const std::int64_t q_last = min(a.Tq, q_first + kBM) - 1;
  const std::int64_t pos_first = a.q_pos0 + q_first, pos_last = a.q_pos0 + q_last;
  const std::int64_t key_begin = a.window > 0 ? max(static_cast<std::int64_t>(0), pos_first - a.window + 1) : 0;
  const std::int64_t key_end = min(a.kv_len, pos_last + 1);  // exclusive
  const std::int64_t tile0 = key_begin / kBN * kBN;
  const int n_tiles = static_cast<int>((key_end - tile0 + kBN - 1) / kBN);
  auto load_keys_values = [&](int t) {
    const std::int64_t key0 = tile0 + static_cast<std::int64_t>(t) * kBN;
    const int valid = static_cast<int>(min(static_cast<std::int64_t>(kBN), a.kv_len - key0));
    load_tile<D, kBN>(k_s + (t % 2) * kTileBytes, k + key0 * kv_stride + kvh * D, kv_stride, valid);
    load_tile<D, kBN>(v_s + (t % 3) * kTileBytes, v + key0 * kv_stride + kvh * D, kv_stride, valid);
  };

  load_tile<D, kBM>(q_s, q + q_first * q_stride + h * D, q_stride, static_cast<int>(min(static_cast<std::int64_t>(kBM), a.Tq - q_first)));
  load_keys_values(0);
  cp_async_commit();
  cp_async_wait_all();
  wgmma::fence_proxy_async();
  __syncthreads();

  // This warp's 16 query rows of its warpgroup's 64 as A fragments, one per 16 columns of D.
  const int row0 = wg * 64 + warp * 16;
  unsigned qf[D / 16][4];
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) ldmatrix_x4(qf[kk], q_s + tile_chunk(kBM, row0 + lane % 16, kk * 2 + lane / 16));

  float o[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.f;
  float m_run[2] = {-INFINITY, -INFINITY}, l_run[2] = {0.f, 0.f};
  // Positions in int: sequences are far below 2^31 tokens (prompts ≤ 2^24), and 64-bit compares cost registers.
  const int my_pos[2] = {static_cast<int>(pos_first) + row0 + lane / 4, static_cast<int>(pos_first) + row0 + lane / 4 + 8};
  unsigned pa[kBN / 16][4];  // P of the previous key tile, waiting for its product with the values
  float s[kBN / 8][4] = {};  // defined before the first product (which overwrites it) so no register holds garbage
  float alpha[2];

  // The scores of key tile t (in s, their product done) masked and turned into softmax weights.
  auto softmax_of_tile = [&](int t) {
    const std::int64_t key0 = tile0 + static_cast<std::int64_t>(t) * kBN;
    if constexpr (SOFTCAP) flash::softcap(s, a.scale, a.softcap);
    if (key0 + kBN - 1 > pos_first || key0 + kBN > a.kv_len || (a.window > 0 && key0 < pos_last - a.window + 1))
      flash::mask(s, static_cast<int>(key0), my_pos, lane, static_cast<int>(a.kv_len), static_cast<int>(a.window));
#pragma unroll
    for (int r = 0; r < 2; ++r) alpha[r] = flash::softmax_scores(s, r, m_run[r], l_run[r], scale_log2);
  };
  auto values_product = [&](int t) {  // O += P_t V_t; MN-major V: the k16 step is 16 rows of 128 bytes
    const unsigned char* vt = v_s + (t % 3) * kTileBytes;
#pragma unroll
    for (int kk = 0; kk < kBN / 16; ++kk)
#pragma unroll
      for (int p = 0; p < D / 64; ++p)
        wgmma::wgmma_m64n64k16_rs<1>(reinterpret_cast<float(&)[32]>(o[8 * p]), pa[kk],
                                     wgmma::descriptor(vt + p * (kBN * 128) + kk * 2048, 16, 1024), 1);
  };
  auto next_tile_ready = [&] {
    cp_async_wait_all();
    wgmma::fence_proxy_async();
    __syncthreads();  // tile t + 1 visible to both proxies; everyone is done with the buffers it replaces
  };

  // Tile 0: its scores alone.
  if (n_tiles > 1) {
    load_keys_values(1);
    cp_async_commit();
  }
  wgmma::fence();
  scores<D>(s, qf, k_s);
  wgmma::commit();
  wgmma::wait<0>();
  wgmma::fence_operands(reinterpret_cast<float(&)[kBN / 2]>(s));
  softmax_of_tile(0);
#pragma unroll
  for (int kk = 0; kk < kBN / 16; ++kk) flash::pack_p(s, kk, pa[kk]);
  next_tile_ready();

  // Step t: S_t = Q K_tᵀ and O += P_{t-1} V_{t-1} are issued together; the softmax of S_t runs while the tensor
  // cores finish P_{t-1} V_{t-1}, and O is rescaled once that product is done. The loads of tile t + 1 fly meanwhile.
  for (int t = 1; t < n_tiles; ++t) {
    if (t + 1 < n_tiles) {
      load_keys_values(t + 1);
      cp_async_commit();
    }
    wgmma::fence();
    scores<D>(s, qf, k_s + (t % 2) * kTileBytes);
    wgmma::commit();
    values_product(t - 1);
    wgmma::commit();
    wgmma::wait<1>();  // S_t done (groups complete in order)
    wgmma::fence_operands(reinterpret_cast<float(&)[kBN / 2]>(s));
    softmax_of_tile(t);
    wgmma::wait<0>();  // P_{t-1} V_{t-1} done: O and P may change
    wgmma::fence_operands(reinterpret_cast<float(&)[D / 2]>(o));
    wgmma::fence_registers(reinterpret_cast<unsigned(&)[kBN / 4]>(pa));
#pragma unroll
    for (int r = 0; r < 2; ++r) flash::rescale(o, r, alpha[r]);
#pragma unroll
    for (int kk = 0; kk < kBN / 16; ++kk) flash::pack_p(s, kk, pa[kk]);
    next_tile_ready();
  }

  // The last tile's values.
  wgmma::fence();
  values_product(n_tiles - 1);
  wgmma::commit();
  wgmma::wait<0>();
  wgmma::fence_operands(reinterpret_cast<float(&)[D / 2]>(o));

  bf16* out = static_cast<bf16*>(a.out) + seq * a.Tq * q_stride;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const std::int64_t row = q_first + row0 + lane / 4 + r * 8;
    flash::store_row(o, r, l_run[r], lane, row < a.Tq, out + row * q_stride + h * D);
  }
}

template <int D, int MINB, bool SOFTCAP>
void launch_kernel(const AttentionBf16Args& a, cudaStream_t stream) {
  constexpr std::size_t smem = static_cast<std::size_t>(kBM + 5 * kBN) * D * 2 + 1024;
  static bool configured = false;  // per device function; the attribute only needs setting once
  if (!configured) {
    allow_dynamic_shared_memory(flash_attention_wgmma_kernel<D, MINB, SOFTCAP>, smem, "attention_bf16 (wgmma)");
    configured = true;
  }
  const std::int64_t m_blocks = (a.Tq + kBM - 1) / kBM;
  if (m_blocks > 65535) throw std::runtime_error("attention_bf16: too many query rows in one call");
  const dim3 grid(static_cast<unsigned>(a.num_heads * a.batch), static_cast<unsigned>(m_blocks));
  flash_attention_wgmma_kernel<D, MINB, SOFTCAP><<<grid, kThreads, smem, stream>>>(a, a.scale * 1.4426950408889634f);
}

// Blocks per SM: two at D 64 (128 registers, 57 KiB of shared memory each) — 8% faster end to end on Llama-3.2-1B at
// 1×16384 than 128-key tiles with one block, as one block's products hide the other's softmax; one at D 128, whose
// accumulators need ~210 registers.
template <int D, bool SOFTCAP>
void launch_tiles(const AttentionBf16Args& a, cudaStream_t stream) {
  if constexpr (D == 64)
    launch_kernel<64, 2, SOFTCAP>(a, stream);
  else
    launch_kernel<D, 1, SOFTCAP>(a, stream);
}

template <int D>
void launch(const AttentionBf16Args& a, cudaStream_t stream) {
  if (a.softcap > 0.f)
    launch_tiles<D, true>(a, stream);
  else
    launch_tiles<D, false>(a, stream);
}

}  // namespace

// Auto takes this kernel for every head dim it supports: measured on an H200 (docs/NOTES.md, twelfth session), end to
// end against the mma.sync kernel at 1×16384 / 8×2048, Llama-3.2-1B (head dim 64) +10% / +3%, the same model with 16
// heads of 128 +17% / +3%.
bool attention_bf16_wgmma_supports(std::int64_t head_dim) { return head_dim == 64 || head_dim == 128; }

void attention_bf16_wgmma(const AttentionBf16Args& a, cudaStream_t stream) {
  switch (a.head_dim) {
    case 64: launch<64>(a, stream); break;
    case 128: launch<128>(a, stream); break;
    default: throw std::runtime_error("attention_bf16 (wgmma): head_dim " + std::to_string(a.head_dim) + " not supported");
  }
}

}  // namespace lmscope::cuda
