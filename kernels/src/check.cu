#include <stdexcept>

#include "lmscope_kernels/ops.h"

namespace lmscope::cuda {

void check_last_launch(const char* what) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(std::string("CUDA kernel ") + what + ": " + cudaGetErrorString(e));
}

}  // namespace lmscope::cuda
