#include <stdexcept>
#include <string>

#include "lmscope_kernels/ops.h"
#include "shared_memory_limit.h"

namespace lmscope::cuda {

void check_last_launch(const char* what) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(std::string("CUDA kernel ") + what + ": " + cudaGetErrorString(e));
}

void allow_dynamic_shared_memory(const void* kernel, std::size_t bytes, const char* what) {
  const cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": shared memory limit: " + cudaGetErrorString(e));
}

}  // namespace lmscope::cuda
