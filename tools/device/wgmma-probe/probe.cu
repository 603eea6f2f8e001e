// Hopper wgmma probe (not part of the product; groundwork for the sm_90a attention of issue 21): one warpgroup
// multiplies 64 × 64 bf16 tiles held in shared memory in the 128-byte-swizzled layouts a wgmma flash-attention
// forward needs, and compares with a host product of the same small integers (exact in bf16 and fp32):
//   1. S = Q Kᵀ: A (Q) and B (K) both K-major — the head dimension contiguous, as q and k rows are stored;
//   2. O = P V: B (V) MN-major — the head dimension contiguous along N — read with the transpose flag; the
//      descriptor's two byte offsets are not obvious for this layout, so every candidate pair is tried;
//   3. the same with A (P) from registers, in the mma.sync-like fragment order (the flash kernel keeps P there).
// Prints which forms and encodings match. Build and run on an H100 / H200: tools/device/wgmma-probe/run.sh
// (usage of the binary: probe MODE LBO SBO — one case per process).
#include <cuda_bf16.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

constexpr int kM = 64, kN = 64, kK = 64;  // four k-steps of 16
using bf16 = __nv_bfloat16;

// Byte offset of element (row, col) of a [rows][64] bf16 tile (128-byte rows) in the 128-byte swizzle: rows in
// groups of 8 (1024-byte atoms), and within a row the 16-byte chunk index XOR the row's index in its group.
__host__ __device__ int swizzled(int row, int col) {
  const int chunk = (col / 8) ^ (row % 8);
  return (row / 8) * 1024 + (row % 8) * 128 + chunk * 16 + (col % 8) * 2;
}

__device__ std::uint64_t descriptor(const void* smem, int lbo_bytes, int sbo_bytes) {
  const auto addr = static_cast<std::uint32_t>(__cvta_generic_to_shared(smem));
  std::uint64_t d = 0;
  d |= static_cast<std::uint64_t>((addr >> 4) & 0x3FFF);
  d |= static_cast<std::uint64_t>((lbo_bytes >> 4) & 0x3FFF) << 16;
  d |= static_cast<std::uint64_t>((sbo_bytes >> 4) & 0x3FFF) << 32;
  d |= static_cast<std::uint64_t>(1) << 62;  // 128-byte swizzle
  return d;
}

// D[64×64] (+)= A · B over k16 with both operands from shared memory; kTransB: B is MN-major.
template <int kTransB>
__device__ void wgmma_ss(float (&d)[32], std::uint64_t da, std::uint64_t db, int accumulate) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "
      "%32, %33, p, 1, 1, 0, %35;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]),
        "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]),
        "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]),
        "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
      : "l"(da), "l"(db), "r"(accumulate), "n"(kTransB));
}

// The same with A from registers: four bf16 pairs per thread.
template <int kTransB>
__device__ void wgmma_rs(float (&d)[32], const std::uint32_t (&a)[4], std::uint64_t db, int accumulate) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "
      "{%32, %33, %34, %35}, %36, p, 1, 1, %38;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]),
        "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]),
        "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]),
        "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db), "r"(accumulate), "n"(kTransB));
}

__device__ void fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ void commit_and_wait() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
  asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
}

__device__ std::uint32_t pack(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const std::uint32_t*>(&v);
}

// mode 0: A, B K-major (S = Q Kᵀ: b is [N][K]); mode 1: B MN-major (b is [K][N]); mode 2: mode 1 with A in registers.
// lbo / sbo: the B descriptor's byte offsets for modes 1 and 2 (A and mode 0 use 16 / 1024).
__global__ void probe_kernel(const float* a, const float* b, int mode, int lbo, int sbo, float* out) {
  __shared__ __align__(1024) unsigned char sa[kM * kK * 2];
  __shared__ __align__(1024) unsigned char sb[kN * kK * 2];
  const int tid = threadIdx.x;
  for (int i = tid; i < kM * kK; i += blockDim.x) {
    const int r = i / kK, c = i % kK;
    *reinterpret_cast<bf16*>(sa + swizzled(r, c)) = __float2bfloat16(a[i]);
  }
  for (int i = tid; i < kN * kK; i += blockDim.x) {  // b row-major as given: [N][K] (mode 0) or [K][N] (modes 1, 2)
    const int r = i / 64, c = i % 64;
    *reinterpret_cast<bf16*>(sb + swizzled(r, c)) = __float2bfloat16(b[i]);
  }
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");  // generic-proxy stores visible to wgmma
  __syncthreads();
  float d[32];
  for (float& x : d) x = 0.f;
  const int warp = tid / 32, lane = tid % 32, g = lane / 4, t = lane % 4;
  fence();
  for (int s = 0; s < kK / 16; ++s) {
    // A: K-major, k16 = 32 bytes further along each 128-byte row (the swizzle applies to the address bits)
    const std::uint64_t da = descriptor(sa + 32 * s, 16, 1024);
    // B: K-major like A (mode 0); MN-major: 16 k-rows of 128 bytes further down (modes 1, 2)
    const std::uint64_t db = mode == 0 ? descriptor(sb + 32 * s, 16, 1024) : descriptor(sb + 2048 * s, lbo, sbo);
    if (mode == 0) {
      wgmma_ss<0>(d, da, db, s > 0);
    } else if (mode == 1) {
      wgmma_ss<1>(d, da, db, s > 0);
    } else {
      const int r0 = 16 * warp + g, k0 = 16 * s + 2 * t;
      const std::uint32_t ar[4] = {pack(a[r0 * kK + k0], a[r0 * kK + k0 + 1]), pack(a[(r0 + 8) * kK + k0], a[(r0 + 8) * kK + k0 + 1]),
                                   pack(a[r0 * kK + k0 + 8], a[r0 * kK + k0 + 9]),
                                   pack(a[(r0 + 8) * kK + k0 + 8], a[(r0 + 8) * kK + k0 + 9])};
      wgmma_rs<1>(d, ar, db, s > 0);
    }
  }
  commit_and_wait();
  // accumulator layout: warp w rows 16w..16w+15; per n8 tile j, d[4j], d[4j+1] at (g, 8j + 2t, +1), d[4j+2], d[4j+3] at g + 8
  for (int j = 0; j < kN / 8; ++j)
    for (int h = 0; h < 2; ++h) {
      const int row = 16 * warp + g + 8 * h, col = 8 * j + 2 * t;
      out[row * kN + col] = d[4 * j + 2 * h];
      out[row * kN + col + 1] = d[4 * j + 2 * h + 1];
    }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<float> a(kM * kK), b(kN * kK);
  unsigned seed = 12345;
  auto next = [&] {
    seed = seed * 1103515245u + 12345u;
    return static_cast<float>(static_cast<int>((seed >> 16) % 7) - 3);
  };
  for (float& x : a) x = next();
  for (float& x : b) x = next();
  float *da, *db, *dout;
  cudaMalloc(&da, a.size() * 4);
  cudaMalloc(&db, b.size() * 4);
  cudaMalloc(&dout, kM * kN * 4);
  cudaMemcpy(da, a.data(), a.size() * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(db, b.data(), b.size() * 4, cudaMemcpyHostToDevice);
  auto run = [&](int mode, int lbo, int sbo) {
    cudaMemset(dout, 0, kM * kN * 4);
    probe_kernel<<<1, 128>>>(da, db, mode, lbo, sbo, dout);
    const cudaError_t e = cudaDeviceSynchronize();
    if (e != cudaSuccess) {
      std::printf("mode %d lbo %d sbo %d: %s\n", mode, lbo, sbo, cudaGetErrorString(e));
      return -1;
    }
    std::vector<float> out(kM * kN);
    cudaMemcpy(out.data(), dout, out.size() * 4, cudaMemcpyDeviceToHost);
    int wrong = 0;
    for (int m = 0; m < kM; ++m)
      for (int n = 0; n < kN; ++n) {
        float ref = 0;
        for (int k = 0; k < kK; ++k) ref += a[m * kK + k] * (mode == 0 ? b[n * kK + k] : b[k * kN + n]);
        wrong += out[m * kN + n] != ref;
      }
    return wrong;
  };
  // One case per process (run.sh loops): a wrong encoding can fault, and a fault ends the process's CUDA context.
  const int mode = argc > 1 ? std::atoi(argv[1]) : 0, lbo = argc > 2 ? std::atoi(argv[2]) : 16,
            sbo = argc > 3 ? std::atoi(argv[3]) : 1024;
  const int wrong = run(mode, lbo, sbo);
  if (wrong < 0) return 1;
  if (mode == 0)
    std::printf("S = Q K^T, both K-major (LBO %d, SBO %d): %d of 4096 wrong\n", lbo, sbo, wrong);
  else
    std::printf("O = P V, V MN-major, A from %s, LBO %d SBO %d: %d of 4096 wrong%s\n", mode == 1 ? "smem" : "registers",
                lbo, sbo, wrong, wrong == 0 ? "   <- this encoding" : "");
  return 0;
}
