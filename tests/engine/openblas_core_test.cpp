// OpenBLAS's kernel choice: the CPU backend never runs GEMMs on kernels narrower than the CPU supports (Debian 12's
// OpenBLAS picks its SSE3 set on CPU models it does not know, 2× slower than AVX-512 on a 1×512 demo pass here).
#include <gtest/gtest.h>

#include <cstdlib>

#include "backend/cpu_backend.h"
#include "backend/openblas_core.h"

namespace lmscope {
namespace {

TEST(OpenblasCore, RanksKernelSetsByVectorWidth) {
  EXPECT_GT(openblas_core_rank("SkylakeX"), openblas_core_rank("Haswell"));
  EXPECT_EQ(openblas_core_rank("Cooperlake"), openblas_core_rank("SkylakeX"));
  EXPECT_EQ(openblas_core_rank("Zen"), openblas_core_rank("Haswell"));
  EXPECT_GT(openblas_core_rank("Haswell"), openblas_core_rank("Sandybridge"));
  EXPECT_GT(openblas_core_rank("Sandybridge"), openblas_core_rank("Prescott"));
  EXPECT_EQ(openblas_core_rank("prescott"), 0);           // the library's names, in any case
  EXPECT_EQ(openblas_core_rank("NEOVERSEN1"), -1);        // not ours to judge: left as the library chose
  EXPECT_EQ(openblas_core_rank(""), -1);
}

TEST(OpenblasCore, TheCpuBackendRunsTheWidestKernelsThisCpuSupports) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) GTEST_SKIP() << "OPENBLAS_CORETYPE is set: the user's choice stands";
  CpuBackend backend;
  const std::string in_use = openblas_core_in_use();
  if (openblas_core_rank(in_use) < 0) GTEST_SKIP() << "OpenBLAS reports no x86-64 kernel set ('" << in_use << "')";
  const std::string best = openblas_core_for_this_cpu();
  EXPECT_GE(openblas_core_rank(in_use), openblas_core_rank(best)) << "in use: " << in_use << ", CPU supports " << best;
}

}  // namespace
}  // namespace lmscope
