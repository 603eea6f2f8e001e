// Causal / sliding-window softmax attention on bfloat16 q, k, v with float32 accumulation, tiled for the tensor
// cores (mma.sync m16n8k16) with an online softmax: the [Tq, Tk] score matrix never exists, any length fits.
//
// Launch shape: grid (batch x num_heads, ceil(Tq / BM)); one block of 4 warps per BM query rows of one head, each warp
// owning MT x 16 query rows (BM = 128 for head_dim <= 64, 64 for head_dim 128). Blocks are issued last query block first (all heads of it together, which also keeps a
// kv group's keys hot in L2), so the long causal rows start early and the short ones fill the tail. Grouped-query attention: head h reads key/value head h / (num_heads / num_kv_heads).
//
// Per block: the BM x D query tile is loaded once to shared memory and kept in registers as mma A fragments. Key
// and value tiles of 64 rows stream through shared memory, double-buffered with cp.async (the next tile loads while
// the tensor cores work on this one). For each key tile: S = Q Kᵀ (MT·16 x 64 per warp, float32 in registers),
// causal/window mask on the tiles that need it, running row max and sum update, P = exp2(c·S - c·m) rounded to bf16
// and fed straight from the accumulator registers as the A operand of O += P V (no shared-memory round trip for P).
// O (MT·16 x D per warp) stays in float32 registers until the end, then is divided by the row sum and written once.
// Gemma 2's score soft-capping (s·scale → cap·tanh(s·scale / cap)) is a template switch applied to S before the
// mask, in the raw-score units the rest of the kernel works in; models without it compile it out.
//
// Memory traffic: q and out once (Tq·H·D·2 bytes each); k and v once per query block that sees them, i.e. about
// Tk/2 · (Tq/BM) · D · 2 bytes per head and tensor for causal attention (L2 absorbs much of it since the heads of
// one kv group and neighbouring query blocks run together). FLOPs: 4·D per visible (query, key) pair.
// Shared memory rows are padded by 16 bytes, so ldmatrix row addresses of one 8x8 matrix fall in distinct banks.
// On an sm_90 device attention_bf16 hands head dims 64 and 128 to the Hopper kernel (attention_flash_wgmma.cu) instead.
#include <atomic>
#include <cfloat>
#include <cstdlib>
#include <cstring>

#include "attention_flash_wgmma.h"
#include "device_sms.cuh"
#include "elem.cuh"
#include "flash_softmax.cuh"
#include "mma_bf16.cuh"
#include "shared_memory_limit.h"

namespace lmscope::cuda {
namespace {

using namespace mma;

constexpr int kBN = 64;        // keys per tile
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;

// Copies rows [row0, row0 + rows_tile) (rows >= row_end zero-filled) of a [*, stride] bf16 matrix, columns
// [col0, col0 + D), into a shared tile with row pitch D + 8.
template <int D, int ROWS>
__device__ __forceinline__ void load_tile(bf16* tile, const bf16* g, std::int64_t stride, std::int64_t col0, std::int64_t row0,
                                          std::int64_t row_end) {
  constexpr int kChunksPerRow = D / 8;  // 16-byte chunks
  constexpr int kChunks = ROWS * kChunksPerRow;
#pragma unroll
  for (int c = threadIdx.x; c < kChunks; c += kThreads) {
    const int r = c / kChunksPerRow, k = c % kChunksPerRow;
    const std::int64_t row = row0 + r;
    const bool valid = row < row_end;
    const bf16* src = valid ? g + row * stride + col0 + k * 8 : g;
    cp_async16_or_zero(tile + r * (D + 8) + k * 8, src, valid);
  }
}

// MT m16 tiles per warp: every K/V fragment read from shared memory feeds MT tensor-core products, so larger MT
// means fewer shared-memory bytes per FLOP (at 16 rows per warp, shared-memory bandwidth, not the tensor cores,
// is the limit); MT = 2 for D <= 64, 1 for D = 128 (registers).
template <int D, int MT, bool SOFTCAP>
__global__ void __launch_bounds__(kThreads) flash_attention_kernel(AttentionBf16Args a, float scale_log2) {
  constexpr int P = D + 8;  // shared row pitch (elements)
  constexpr int BM = kWarps * 16 * MT;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  bf16* q_s = reinterpret_cast<bf16*>(smem_raw);
  bf16* k_s = q_s + BM * P;           // [2][kBN][P]
  bf16* v_s = k_s + 2 * kBN * P;      // [2][kBN][P]

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const std::int64_t m_block = static_cast<std::int64_t>(gridDim.y) - 1 - blockIdx.y;
  const std::int64_t h = blockIdx.x % a.num_heads, seq = blockIdx.x / a.num_heads;
  const std::int64_t kvh = h / (a.num_heads / a.num_kv_heads);
  const std::int64_t q_stride = a.num_heads * D, kv_stride = a.num_kv_heads * D;
  const bf16* q = static_cast<const bf16*>(a.q) + seq * a.Tq * q_stride;
  const bf16* k = static_cast<const bf16*>(a.k) + seq * a.kv_batch_rows * kv_stride;
  const bf16* v = static_cast<const bf16*>(a.v) + seq * a.kv_batch_rows * kv_stride;

  const std::int64_t q_first = m_block * BM;
  const std::int64_t q_last = min(a.Tq, q_first + BM) - 1;
  const std::int64_t pos_first = a.q_pos0 + q_first, pos_last = a.q_pos0 + q_last;
  const std::int64_t key_begin = a.window > 0 ? max(static_cast<std::int64_t>(0), pos_first - a.window + 1) : 0;
  const std::int64_t key_end = min(a.kv_len, pos_last + 1);  // exclusive
  const std::int64_t tile0 = key_begin / kBN * kBN;
  const int n_tiles = static_cast<int>((key_end - tile0 + kBN - 1) / kBN);

  load_tile<D, BM>(q_s, q, q_stride, h * D, q_first, a.Tq);
  load_tile<D, kBN>(k_s, k, kv_stride, kvh * D, tile0, a.kv_len);
  load_tile<D, kBN>(v_s, v, kv_stride, kvh * D, tile0, a.kv_len);
  cp_async_commit();
  cp_async_wait_all();
  __syncthreads();

  // This warp's MT x 16 query rows as A fragments, one per 16 columns of D.
  unsigned qf[MT][D / 16][4];
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk)
      ldmatrix_x4(qf[mt][kk], q_s + ((warp * MT + mt) * 16 + lane % 16) * P + kk * 16 + (lane / 16) * 8);

  float o[MT][D / 8][4];
  float m_run[MT][2], l_run[MT][2];
  std::int64_t my_pos[MT][2];  // positions of this thread's query rows (fragment rows lane/4 and lane/4 + 8)
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
    for (int n = 0; n < D / 8; ++n) o[mt][n][0] = o[mt][n][1] = o[mt][n][2] = o[mt][n][3] = 0.f;
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      m_run[mt][r] = -INFINITY;
      l_run[mt][r] = 0.f;
      my_pos[mt][r] = pos_first + (warp * MT + mt) * 16 + lane / 4 + r * 8;
    }
  }

  for (int t = 0; t < n_tiles; ++t) {
    const int buf = t & 1;
    const std::int64_t key0 = tile0 + static_cast<std::int64_t>(t) * kBN;
    if (t + 1 < n_tiles) {  // prefetch the next tile into the other buffer
      load_tile<D, kBN>(k_s + (buf ^ 1) * kBN * P, k, kv_stride, kvh * D, key0 + kBN, a.kv_len);
      load_tile<D, kBN>(v_s + (buf ^ 1) * kBN * P, v, kv_stride, kvh * D, key0 + kBN, a.kv_len);
      cp_async_commit();
    }
    const bf16* kt = k_s + buf * kBN * P;
    const bf16* vt = v_s + buf * kBN * P;

    // S = Q Kᵀ: kBN / 8 n-tiles of 8 keys per m-tile; each K fragment serves all MT m-tiles.
    float s[MT][kBN / 8][4];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int n = 0; n < kBN / 8; ++n) s[mt][n][0] = s[mt][n][1] = s[mt][n][2] = s[mt][n][3] = 0.f;
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
#pragma unroll
      for (int np = 0; np < kBN / 16; ++np) {
        unsigned b[4];
        const int mi = lane / 8;
        ldmatrix_x4(b, kt + (np * 16 + (mi / 2) * 8 + lane % 8) * P + kk * 16 + (mi % 2) * 8);
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          mma_bf16(s[mt][2 * np], qf[mt][kk], b[0], b[1]);
          mma_bf16(s[mt][2 * np + 1], qf[mt][kk], b[2], b[3]);
        }
      }
    }

    if constexpr (SOFTCAP)
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) flash::softcap(s[mt], a.scale, a.softcap);

    // Mask where this tile crosses the diagonal, the window edge or kv_len (raw scores; the scale is positive).
    const bool need_mask = key0 + kBN - 1 > pos_first || key0 + kBN > a.kv_len ||
                           (a.window > 0 && key0 < pos_last - a.window + 1);
    if (need_mask)
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) flash::mask(s[mt], key0, my_pos[mt], lane, a.kv_len, a.window);

#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int r = 0; r < 2; ++r) flash::softmax_update(s[mt], o[mt], r, m_run[mt][r], l_run[mt][r], scale_log2);

    // O += P V: P's accumulator layout is the A fragment layout, 16 keys per k-step; each V fragment serves all
    // MT m-tiles.
#pragma unroll
    for (int kk = 0; kk < kBN / 16; ++kk) {
      unsigned pa[MT][4];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) flash::pack_p(s[mt], kk, pa[mt]);
#pragma unroll
      for (int dp = 0; dp < D / 16; ++dp) {
        unsigned b[4];
        const int mi = lane / 8;
        ldmatrix_x4_trans(b, vt + (kk * 16 + (mi % 2) * 8 + lane % 8) * P + dp * 16 + (mi / 2) * 8);
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          mma_bf16(o[mt][2 * dp], pa[mt], b[0], b[1]);
          mma_bf16(o[mt][2 * dp + 1], pa[mt], b[2], b[3]);
        }
      }
    }

    cp_async_wait_all();
    __syncthreads();  // next tile visible; everyone is done with this buffer before it is refilled
  }

  bf16* out = static_cast<bf16*>(a.out) + seq * a.Tq * q_stride;
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const std::int64_t row = q_first + (warp * MT + mt) * 16 + lane / 4 + r * 8;
      flash::store_row(o[mt], r, l_run[mt][r], lane, row < a.Tq, out + row * q_stride + h * D);
    }
}

template <int D, int MT, bool SOFTCAP>
void launch_kernel(const AttentionBf16Args& a, cudaStream_t stream) {
  constexpr int BM = kWarps * 16 * MT;
  constexpr std::size_t smem = static_cast<std::size_t>(BM + 4 * kBN) * (D + 8) * sizeof(bf16);
  static bool configured = false;  // per device function; the attribute only needs setting once
  if (!configured) {
    allow_dynamic_shared_memory(flash_attention_kernel<D, MT, SOFTCAP>, smem, "attention_bf16");
    configured = true;
  }
  const float scale_log2 = a.scale * 1.4426950408889634f;
  const std::int64_t m_blocks = (a.Tq + BM - 1) / BM;
  if (m_blocks > 65535) throw std::runtime_error("attention_bf16: too many query rows in one call");
  const dim3 grid(static_cast<unsigned>(a.num_heads * a.batch), static_cast<unsigned>(m_blocks));
  flash_attention_kernel<D, MT, SOFTCAP><<<grid, kThreads, smem, stream>>>(a, scale_log2);
}

template <int D, int MT>
void launch_mt(const AttentionBf16Args& a, cudaStream_t stream) {
  if (a.softcap > 0.f)
    launch_kernel<D, MT, true>(a, stream);
  else
    launch_kernel<D, MT, false>(a, stream);
}

// LMSCOPE_FLASH_MT=1|2 overrides the m-tiles per warp for head dims <= 64 (a tuning knob for measurements).
int mt_override() {
  static const int v = [] {
    const char* e = std::getenv("LMSCOPE_FLASH_MT");
    return e ? std::atoi(e) : 0;
  }();
  return v;
}

template <int D>
void launch(const AttentionBf16Args& a, cudaStream_t stream) {
  if constexpr (D <= 64) {
    if (mt_override() == 1)
      launch_mt<D, 1>(a, stream);
    else
      launch_mt<D, 2>(a, stream);
  } else {
    launch_mt<D, 1>(a, stream);
  }
}

// The kernel choice: LMSCOPE_ATTENTION_KERNEL at first use, set_attention_bf16_kernel after.
std::atomic<AttentionBf16Kernel>& kernel_choice() {
  static std::atomic<AttentionBf16Kernel> choice{[] {
    const char* e = std::getenv("LMSCOPE_ATTENTION_KERNEL");
    if (e && std::strcmp(e, "mma") == 0) return AttentionBf16Kernel::MmaSync;
    if (e && std::strcmp(e, "wgmma") == 0) return AttentionBf16Kernel::Wgmma;
    return AttentionBf16Kernel::Auto;
  }()};
  return choice;
}

}  // namespace

void set_attention_bf16_kernel(AttentionBf16Kernel kernel) { kernel_choice().store(kernel); }

bool attention_bf16_wgmma_available(std::int64_t head_dim) {
#ifdef LMSCOPE_HAVE_WGMMA
  return attention_bf16_wgmma_supports(head_dim) && current_device_is_sm90();
#else
  (void)head_dim;
  return false;
#endif
}

bool attention_bf16_supported(std::int64_t head_dim) { return head_dim == 32 || head_dim == 64 || head_dim == 128; }

void attention_bf16(const AttentionBf16Args& a, cudaStream_t stream) {
  if (a.Tq == 0) return;
  if (a.num_kv_heads <= 0 || a.num_heads % a.num_kv_heads != 0)
    throw std::runtime_error("attention_bf16: num_heads must be a multiple of num_kv_heads");
  if (a.q_pos0 + a.Tq > a.kv_len) throw std::runtime_error("attention_bf16: queries past the last key");
  if (a.batch < 1 || (a.batch > 1 && a.kv_batch_rows < a.kv_len)) throw std::runtime_error("attention_bf16: batch layout");
  if (!aligned16(a.q) || !aligned16(a.k) || !aligned16(a.v) || !aligned16(a.out))
    throw std::runtime_error("attention_bf16: q/k/v/out must be 16-byte aligned");
#ifdef LMSCOPE_HAVE_WGMMA
  if (kernel_choice().load() != AttentionBf16Kernel::MmaSync && attention_bf16_wgmma_available(a.head_dim)) {
    attention_bf16_wgmma(a, stream);
    check_last_launch("attention_bf16");
    return;
  }
#endif
  switch (a.head_dim) {
    case 32: launch<32>(a, stream); break;
    case 64: launch<64>(a, stream); break;
    case 128: launch<128>(a, stream); break;
    default: throw std::runtime_error("attention_bf16: head_dim " + std::to_string(a.head_dim) + " not supported");
  }
  check_last_launch("attention_bf16");
}

}  // namespace lmscope::cuda
