// Kernels that use more than 48 KiB of dynamic shared memory must raise their limit before launching; one helper
// for all of them (defined in check.cu beside check_last_launch).
#pragma once
#include <cstddef>

namespace lmscope::cuda {

// Allows `kernel` (a __global__ function's address) `bytes` of dynamic shared memory; throws std::runtime_error
// naming `what` and CUDA's reason when the device refuses.
void allow_dynamic_shared_memory(const void* kernel, std::size_t bytes, const char* what);

template <typename Kernel>
void allow_dynamic_shared_memory(Kernel* kernel, std::size_t bytes, const char* what) {
  allow_dynamic_shared_memory(reinterpret_cast<const void*>(kernel), bytes, what);
}

}  // namespace lmscope::cuda
