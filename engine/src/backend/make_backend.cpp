#include "backend/backend.h"
#include "backend/cpu_backend.h"
#include "lmscope/error.h"

#ifdef LMSCOPE_HAVE_CUDA
#include "backend/cuda_backend.h"
#include "lmscope_kernels/cuda_device.h"
#endif

namespace lmscope {

std::shared_ptr<Backend> make_backend(const std::string& name, const std::string& dtype) {
  if (!dtype.empty() && dtype != "fp32" && dtype != "bf16") throw BadInput("unknown --dtype '" + dtype + "'; use fp32 or bf16");
  if (name == "cpu") {
    if (dtype == "bf16") throw BadInput("--dtype bf16: the cpu backend computes in fp32 only (use --backend cuda)");
    return std::make_shared<CpuBackend>();
  }
  if (name == "cuda") {
#ifdef LMSCOPE_HAVE_CUDA
    return std::make_shared<CudaBackend>(0, dtype != "fp32");
#else
    throw BadInput("--backend cuda: this build has no CUDA backend (configure with -DLMSCOPE_CUDA=ON where nvcc exists)");
#endif
  }
  throw BadInput("unknown backend '" + name + "'; available: cpu, cuda");
}

std::vector<std::string> available_backends() {
  std::vector<std::string> out{"cpu"};
#ifdef LMSCOPE_HAVE_CUDA
  if (!cuda::list_devices().empty()) out.push_back("cuda");
#endif
  return out;
}

}  // namespace lmscope
