// Hopper (sm_90a) warpgroup tensor-core building blocks: the 128-byte-swizzled shared-memory layout wgmma reads, its
// matrix descriptor, and the m64n64k16 bf16 product with A from registers or from shared memory. Encodings checked on
// an H200 by tools/device/wgmma-probe (K-major B: LBO 16 / SBO 1024 bytes; MN-major B with the transpose flag:
// SBO 1024).
// Only for translation units compiled for sm_90a (the architecture-specific target; plain sm_90 lacks wgmma).
#pragma once
#include <cstdint>

namespace lmscope::cuda::wgmma {

// A [rows][64] bf16 panel, 128-byte rows, in the 128-byte swizzle: rows in 1024-byte groups of 8, and within a row the
// 16-byte chunk index XOR the row's index in its group. Byte offset of the 16-byte chunk `chunk` (0..7) of `row`.
__host__ __device__ __forceinline__ int swizzled_chunk(int row, int chunk) {
  return (row / 8) * 1024 + (row % 8) * 128 + ((chunk ^ (row % 8)) * 16);
}

// Shared-memory matrix descriptor of a 128-byte-swizzled operand starting at `smem` (1024-byte aligned panel, plus
// 32 bytes per k16 step for a K-major operand): address, leading / stride byte offsets, swizzle mode 1 (128 B).
__device__ __forceinline__ std::uint64_t descriptor(const void* smem, int lbo_bytes, int sbo_bytes) {
  const auto addr = static_cast<std::uint32_t>(__cvta_generic_to_shared(smem));
  std::uint64_t d = static_cast<std::uint64_t>((addr >> 4) & 0x3FFF);
  d |= static_cast<std::uint64_t>((lbo_bytes >> 4) & 0x3FFF) << 16;
  d |= static_cast<std::uint64_t>((sbo_bytes >> 4) & 0x3FFF) << 32;
  d |= static_cast<std::uint64_t>(1) << 62;
  return d;
}

// Before the first wgmma that reads registers (accumulators, A fragments) written by ordinary instructions.
__device__ __forceinline__ void fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void wait() { asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory"); }
// Shared-memory stores of the generic proxy (st.shared, cp.async) made visible to wgmma's async proxy.
__device__ __forceinline__ void fence_proxy_async() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }
// Keeps the compiler from moving reads or writes of an accumulator across a wait.
template <int N>
__device__ __forceinline__ void fence_operands(float (&d)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

// The same for A fragments: registers an in-flight wgmma reads must keep their values until its wait.
template <int N>
__device__ __forceinline__ void fence_registers(unsigned (&r)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+r"(r[i])::"memory");
}

// d (+)= A · B for one m64n64k16 step: A (64 × 16) from registers in mma.sync's m16n8k16 A order — warp w of the
// warpgroup holds rows 16w..16w + 15 — and B from shared memory by descriptor (kTransB 1: B MN-major). The
// accumulator's layout is m16n8's repeated along N: warp w rows 16w + g (+ 8), n8 tile j in d[4j..4j + 3] (columns 8j + 2t,
// 8j + 2t + 1; rows g, then g + 8). accumulate 0 overwrites d.
template <int kTransB>
__device__ __forceinline__ void wgmma_m64n64k16_rs(float (&d)[32], const std::uint32_t (&a)[4], std::uint64_t db, int accumulate) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, "
      "%22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "
      " {%32, %33, %34, %35}, %36, p, 1, 1, %38;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db), "r"(accumulate), "n"(kTransB));
}

// The same product with A from shared memory too (K-major A: a row's 16 k values contiguous, 32 bytes per k16 step).
template <int kTransB>
__device__ __forceinline__ void wgmma_m64n64k16_ss(float (&d)[32], std::uint64_t da, std::uint64_t db, int accumulate) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, "
      "%22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "
      " %32, %33, p, 1, 1, 0, %35;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
      : "l"(da), "l"(db), "r"(accumulate), "n"(kTransB));
}

}  // namespace lmscope::cuda::wgmma
