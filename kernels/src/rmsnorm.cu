// RMSNorm, alone or fused with the residual add before it (x += r; out = norm(x) * w): the fused form reads x and r
// once, writes x and out once, instead of the three passes of add + norm.
// Launch: one block of 256 threads per row; each thread keeps its (up to kPerThread) values in registers between
// the sum-of-squares reduction and the scaled write, so the row is read from memory once. Plain RMSNorm of short
// rows (a head's values: DeltaNet's output norm, q/k norms, 64–1024 wide) takes one warp per row instead: a block
// per 128-wide row left half its threads idle and spent its time in barriers (781 µs per call for 16384×16 heads of
// 128 on an H200; with the warp form DeltaNet-1.3B's 8×2048 pass went from 111.0 to 95.2 ms).
// Traffic per row: C reads of x (+ C of r), C weight reads (L2-resident), C writes of out (+ C of x when fused).
#include "block_reduce.cuh"
#include "elem.cuh"

namespace lmscope::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kPerThread = 16;  // rows up to 4096 values stay in registers; longer rows re-read x

// r == nullptr: plain RMSNorm of x (x not written).
template <typename TX, typename TR, typename TOut>
__global__ void rmsnorm_kernel(TX* x, const TR* r, const float* w, float eps, std::int64_t C, TOut* out) {
  TX* row = x + blockIdx.x * C;
  const TR* rrow = r ? r + blockIdx.x * C : nullptr;
  float vals[kPerThread];
  float ss = 0.f;
#pragma unroll
  for (int k = 0; k < kPerThread; ++k) {
    const std::int64_t c = threadIdx.x + static_cast<std::int64_t>(k) * kThreads;
    float v = 0.f;
    if (c < C) {
      v = ld(row + c);
      if (rrow) {
        v += ld(rrow + c);
        st(row + c, v);
      }
    }
    vals[k] = v;
    ss += v * v;
  }
  for (std::int64_t c = threadIdx.x + static_cast<std::int64_t>(kPerThread) * kThreads; c < C; c += kThreads) {
    float v = ld(row + c);
    if (rrow) {
      v += ld(rrow + c);
      st(row + c, v);
    }
    ss += v * v;
  }
  const float inv = rsqrtf(block_sum(ss) / static_cast<float>(C) + eps);
  TOut* o = out + blockIdx.x * C;
#pragma unroll
  for (int k = 0; k < kPerThread; ++k) {
    const std::int64_t c = threadIdx.x + static_cast<std::int64_t>(k) * kThreads;
    if (c < C) st(o + c, vals[k] * inv * w[c]);
  }
  // Longer rows: the tail was written to x above by this same thread, so re-reading it is ordered.
  for (std::int64_t c = threadIdx.x + static_cast<std::int64_t>(kPerThread) * kThreads; c < C; c += kThreads)
    st(o + c, ld(row + c) * inv * w[c]);
}

// The common bf16-mode case, vectorised: x f32 (residual), r and out bf16, C a multiple of 8 up to 8·256·kVec.
// Each thread owns runs of 8 consecutive values: two 16-byte loads of x, one of r, one 16-byte store of out and
// two of x.
constexpr int kVec = 2;

__global__ void add_rmsnorm_vec_kernel(float* x, const bf16* r, const float* w, float eps, int C, bf16* out) {
  float* row = x + static_cast<std::int64_t>(blockIdx.x) * C;
  const bf16* rrow = r + static_cast<std::int64_t>(blockIdx.x) * C;
  bf16* orow = out + static_cast<std::int64_t>(blockIdx.x) * C;
  float v[kVec][8];
  float ss = 0.f;
#pragma unroll
  for (int k = 0; k < kVec; ++k) {
    const int c = (threadIdx.x + k * kThreads) * 8;
    if (c < C) {
      const float4 a = *reinterpret_cast<const float4*>(row + c), b = *reinterpret_cast<const float4*>(row + c + 4);
      float rv[8];
      load8(rrow + c, rv);
      v[k][0] = a.x + rv[0]; v[k][1] = a.y + rv[1]; v[k][2] = a.z + rv[2]; v[k][3] = a.w + rv[3];
      v[k][4] = b.x + rv[4]; v[k][5] = b.y + rv[5]; v[k][6] = b.z + rv[6]; v[k][7] = b.w + rv[7];
      *reinterpret_cast<float4*>(row + c) = make_float4(v[k][0], v[k][1], v[k][2], v[k][3]);
      *reinterpret_cast<float4*>(row + c + 4) = make_float4(v[k][4], v[k][5], v[k][6], v[k][7]);
#pragma unroll
      for (int e = 0; e < 8; ++e) ss += v[k][e] * v[k][e];
    }
  }
  const float inv = rsqrtf(block_sum(ss) / static_cast<float>(C) + eps);
#pragma unroll
  for (int k = 0; k < kVec; ++k) {
    const int c = (threadIdx.x + k * kThreads) * 8;
    if (c < C) {
      float o[8];
#pragma unroll
      for (int e = 0; e < 8; ++e) o[e] = v[k][e] * inv * w[c + e];
      store8(orow + c, o);
    }
  }
}

// One warp per row for rows up to 32·kLanePer wide, 8 rows per 256-thread block; each lane keeps its values.
template <int kLanePer, typename TX, typename TOut>
__global__ void rmsnorm_warp_kernel(const TX* x, const float* w, float eps, std::int64_t R, int C, TOut* out) {
  const std::int64_t row = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (row >= R) return;
  const TX* xr = x + row * C;
  float vals[kLanePer];
  float ss = 0.f;
#pragma unroll
  for (int k = 0; k < kLanePer; ++k) {
    const int c = lane + 32 * k;
    vals[k] = c < C ? ld(xr + c) : 0.f;
    ss += vals[k] * vals[k];
  }
  ss = warp_sum(ss);
  const float inv = rsqrtf(ss / static_cast<float>(C) + eps);
  TOut* orow = out + row * C;
#pragma unroll
  for (int k = 0; k < kLanePer; ++k) {
    const int c = lane + 32 * k;
    if (c < C) st(orow + c, vals[k] * inv * w[c]);
  }
}

constexpr int kWarpRowMax = 32 * 32;

}  // namespace

void rmsnorm(const void* x, Elem x_t, const float* w, float eps, std::int64_t T, std::int64_t C, void* out, Elem out_t,
             cudaStream_t stream) {
  if (T == 0) return;
  dispatch(x_t, [&](auto a) {
    dispatch(out_t, [&](auto b) {
      using A = decltype(a);
      using B = decltype(b);
      if (C <= kWarpRowMax) {
        // x and out may be the same rows (q/k norms in place): each lane reads all its values before writing any.
        const auto grid = static_cast<unsigned>((T + 7) / 8);
        const A* xp = static_cast<const A*>(x);
        B* op = static_cast<B*>(out);
        const int c = static_cast<int>(C);
        if (C <= 32 * 4)
          rmsnorm_warp_kernel<4, A, B><<<grid, 256, 0, stream>>>(xp, w, eps, T, c, op);
        else if (C <= 32 * 8)
          rmsnorm_warp_kernel<8, A, B><<<grid, 256, 0, stream>>>(xp, w, eps, T, c, op);
        else if (C <= 32 * 16)
          rmsnorm_warp_kernel<16, A, B><<<grid, 256, 0, stream>>>(xp, w, eps, T, c, op);
        else
          rmsnorm_warp_kernel<32, A, B><<<grid, 256, 0, stream>>>(xp, w, eps, T, c, op);
        return;
      }
      rmsnorm_kernel<A, A, B><<<static_cast<unsigned>(T), kThreads, 0, stream>>>(
          const_cast<A*>(static_cast<const A*>(x)), static_cast<const A*>(nullptr), w, eps, C, static_cast<B*>(out));
    });
  });
  check_last_launch("rmsnorm");
}

void add_rmsnorm(void* x, Elem x_t, const void* r, Elem r_t, const float* w, float eps, std::int64_t T, std::int64_t C,
                 void* out, Elem out_t, cudaStream_t stream) {
  if (T == 0) return;
  if (x_t == Elem::F32 && r_t == Elem::BF16 && out_t == Elem::BF16 && C % 8 == 0 && C <= 8 * kThreads * kVec && aligned16(x) &&
      aligned16(r) && aligned16(out)) {
    add_rmsnorm_vec_kernel<<<static_cast<unsigned>(T), kThreads, 0, stream>>>(static_cast<float*>(x), static_cast<const bf16*>(r), w, eps,
                                                                              static_cast<int>(C), static_cast<bf16*>(out));
    check_last_launch("add_rmsnorm");
    return;
  }
  dispatch(x_t, [&](auto a) {
    dispatch(r_t, [&](auto rr) {
      dispatch(out_t, [&](auto b) {
        using A = decltype(a);
        using R = decltype(rr);
        using B = decltype(b);
        rmsnorm_kernel<A, R, B><<<static_cast<unsigned>(T), kThreads, 0, stream>>>(static_cast<A*>(x), static_cast<const R*>(r), w,
                                                                                   eps, C, static_cast<B*>(out));
      });
    });
  });
  check_last_launch("add_rmsnorm");
}

}  // namespace lmscope::cuda
