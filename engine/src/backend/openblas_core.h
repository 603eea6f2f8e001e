// OpenBLAS's choice of GEMM kernels. A DYNAMIC_ARCH OpenBLAS (Debian's) picks its kernels from the CPU's model
// number; on a model it does not know (new CPUs, virtual machines that report a generic "Intel Xeon Processor")
// Debian 12's 0.3.21 falls back to its SSE3 "Prescott" kernels, 2–4× slower than the AVX-512 ones on the same CPU.
#pragma once

#include <string>

namespace lmscope {

// The best kernel set OpenBLAS has for the vector extensions of this CPU that the OS enables: "SkylakeX" (AVX-512
// F/BW/DQ/VL), "Haswell" (AVX2 + FMA), "Sandybridge" (AVX), or "" (nothing better than SSE3, or not x86-64).
std::string openblas_core_for_this_cpu();

// How a kernel set's name ranks by vector width: 3 for AVX-512 sets, 2 AVX2, 1 AVX, 0 older, -1 a name we do not
// know (then nothing is changed).
int openblas_core_rank(const std::string& core);

// The kernel set the library uses now ("" when it does not say: a build without dynamic dispatch, another BLAS).
std::string openblas_core_in_use();

// Once per process, before the first BLAS call: when the library picked a kernel set below what this CPU can run
// and OPENBLAS_CORETYPE is not set, reselects through the library's own dispatch (as if OPENBLAS_CORETYPE had
// named the better set), silently. A build without dynamic dispatch is left as it is. Returns the
// kernel set in use ("" when the library does not say).
std::string openblas_use_best_core();

// Sizes OpenBLAS's own thread pool (its pthread build; the OpenMP build follows OpenMP anyway). Nothing with another
// BLAS, which has no such entry point.
void openblas_set_threads(int n);

}  // namespace lmscope
