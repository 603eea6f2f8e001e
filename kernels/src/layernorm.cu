// LayerNorm (GPT-NeoX): out = (x - mean) / sqrt(var + eps) * w + b per row, the biased variance as torch's.
// Launch: one block of 256 threads per row; each thread keeps its (up to kPerThread) values in registers across the
// two reductions (mean, then the centred sum of squares: no cancellation from E[x²] - mean²), so the row is read
// once. Traffic per row: C reads of x, 2C weight/bias reads (L2-resident), C writes.
#include "block_reduce.cuh"
#include "elem.cuh"

namespace lmscope::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kPerThread = 16;  // rows up to 4096 values stay in registers; longer rows re-read x

template <typename TX, typename TOut>
__global__ void layernorm_kernel(const TX* x, const float* w, const float* b, float eps, std::int64_t C, TOut* out) {
  const TX* row = x + blockIdx.x * C;
  float vals[kPerThread];
  float sum = 0.f;
#pragma unroll
  for (int k = 0; k < kPerThread; ++k) {
    const std::int64_t c = threadIdx.x + static_cast<std::int64_t>(k) * kThreads;
    vals[k] = c < C ? ld(row + c) : 0.f;
    sum += vals[k];
  }
  for (std::int64_t c = threadIdx.x + static_cast<std::int64_t>(kPerThread) * kThreads; c < C; c += kThreads) sum += ld(row + c);
  const float mean = block_sum(sum) / static_cast<float>(C);
  float ss = 0.f;
#pragma unroll
  for (int k = 0; k < kPerThread; ++k) {
    const std::int64_t c = threadIdx.x + static_cast<std::int64_t>(k) * kThreads;
    if (c < C) ss += (vals[k] - mean) * (vals[k] - mean);
  }
  for (std::int64_t c = threadIdx.x + static_cast<std::int64_t>(kPerThread) * kThreads; c < C; c += kThreads) {
    const float d = ld(row + c) - mean;
    ss += d * d;
  }
  const float inv = rsqrtf(block_sum(ss) / static_cast<float>(C) + eps);
  TOut* o = out + blockIdx.x * C;
#pragma unroll
  for (int k = 0; k < kPerThread; ++k) {
    const std::int64_t c = threadIdx.x + static_cast<std::int64_t>(k) * kThreads;
    if (c < C) st(o + c, (vals[k] - mean) * inv * w[c] + (b ? b[c] : 0.f));
  }
  for (std::int64_t c = threadIdx.x + static_cast<std::int64_t>(kPerThread) * kThreads; c < C; c += kThreads)
    st(o + c, (ld(row + c) - mean) * inv * w[c] + (b ? b[c] : 0.f));
}

}  // namespace

void layernorm(const void* x, Elem x_t, const float* w, const float* b, float eps, std::int64_t T, std::int64_t C, void* out,
               Elem out_t, cudaStream_t stream) {
  if (T == 0) return;
  dispatch(x_t, [&](auto a) {
    dispatch(out_t, [&](auto o) {
      using A = decltype(a);
      using B = decltype(o);
      layernorm_kernel<A, B><<<static_cast<unsigned>(T), kThreads, 0, stream>>>(static_cast<const A*>(x), w, b, eps, C,
                                                                                 static_cast<B*>(out));
    });
  });
  check_last_launch("layernorm");
}

}  // namespace lmscope::cuda
