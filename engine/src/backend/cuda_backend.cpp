#include "backend/cuda_backend.h"

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <tuple>

#include "backend/cuda_backend_checks.h"
#include "backend/vocab_chunks.h"
#include "lmscope/error.h"
#include "lmscope_kernels/ops.h"

namespace lmscope {
namespace {

std::string mib(std::size_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB"; }

[[noreturn]] void throw_oom(const char* what, std::size_t requested) {
  cudaGetLastError();
  std::size_t free_b = 0, total_b = 0;
  cudaMemGetInfo(&free_b, &total_b);
  throw OutOfMemory(std::string("GPU out of memory (") + what + (requested ? ", asking for " + mib(requested) : std::string()) +
                    "; " + mib(free_b) + " free of " + mib(total_b) +
                    "): use a smaller batch or sequence, or a smaller model");
}

void check(cudaError_t e, const char* what, std::size_t requested = 0) {
  if (e == cudaSuccess) return;
  if (e == cudaErrorMemoryAllocation) throw_oom(what, requested);
  throw InternalError(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(e) + " (" + cudaGetErrorName(e) + ")");
}

void check(cublasStatus_t e, const char* what) {
  if (e == CUBLAS_STATUS_SUCCESS) return;
  if (e == CUBLAS_STATUS_ALLOC_FAILED) throw_oom(what, 0);
  throw InternalError(std::string("cuBLAS error in ") + what + ": " + cublasGetStatusString(e));
}

using cuda_backend_detail::activation_code;
using cuda_backend_detail::elem;
using cuda_backend_detail::expect;
using cuda_backend_detail::launch;

// The stream outlives the backend object while tensors that free into it exist.
struct StreamBox {
  cudaStream_t s = nullptr;
  ~StreamBox() {
    if (s) {
      cudaStreamSynchronize(s);
      cudaStreamDestroy(s);
    }
  }
};

std::size_t alignment_of(const void* p) {
  std::size_t a = 256;
  while (a > 1 && reinterpret_cast<std::uintptr_t>(p) % a != 0) a /= 2;
  return a;
}

using GemmKey = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, int, std::size_t, std::size_t, std::size_t>;
struct GemmPlan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};
};

constexpr std::size_t kWorkspaceBytes = 32u << 20;
constexpr int kGemmCandidates = 8;

// cuBLASLt's first heuristic choice is not always its fastest candidate, so each new shape times up to 8 candidates
// once on its real operands (the output is overwritten by the call that follows) and keeps the fastest (a few
// percent on Gated DeltaNet 1.3B's products on an H100). Under LMSCOPE_CUDA_PROFILE each tuning prints the shape,
// the operands' alignment and every candidate's time and kernel configuration.
cublasLtMatmulAlgo_t fastest_gemm_algo(cublasLtHandle_t lt, void* workspace, cudaStream_t stream, const GemmPlan& p,
                                       const cublasLtMatmulHeuristicResult_t* results, int found, const void* a_ptr,
                                       const void* b_ptr, void* out, const void* one, const void* zero,
                                       const std::string& what) {
  const bool report = cuda::OpTimer::enabled();
  if (report) std::fprintf(stderr, "gemm tuning %s: %d candidate(s)\n", what.c_str(), found);
  if (found <= 1) return results[0].algo;
  cudaEvent_t start = nullptr, stop = nullptr;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  auto run = [&](const cublasLtMatmulAlgo_t& algo) {
    return cublasLtMatmul(lt, p.op, one, a_ptr, p.a, b_ptr, p.b, zero, out, p.d, out, p.d, &algo, workspace,
                          kWorkspaceBytes, stream);
  };
  int best = 0;
  float best_ms = 0, first_ms = 0;
  for (int i = 0; i < found; ++i) {
    if (results[i].state != CUBLAS_STATUS_SUCCESS || run(results[i].algo) != CUBLAS_STATUS_SUCCESS) continue;
    cudaEventRecord(start, stream);
    constexpr int kRuns = 3;
    bool ok = true;
    for (int r = 0; r < kRuns && ok; ++r) ok = run(results[i].algo) == CUBLAS_STATUS_SUCCESS;
    cudaEventRecord(stop, stream);
    check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    if (!ok) continue;
    if (report) {  // the candidate's kernel configuration, to tell slow ones apart
      std::int32_t tile = -1, splitk = -1, stages = -1;
      cublasLtMatmulAlgoConfigGetAttribute(&results[i].algo, CUBLASLT_ALGO_CONFIG_TILE_ID, &tile, sizeof tile, nullptr);
      cublasLtMatmulAlgoConfigGetAttribute(&results[i].algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &splitk, sizeof splitk, nullptr);
      cublasLtMatmulAlgoConfigGetAttribute(&results[i].algo, CUBLASLT_ALGO_CONFIG_STAGES_ID, &stages, sizeof stages, nullptr);
      std::fprintf(stderr, "  #%d %.3f ms (tile id %d, split-k %d, stages id %d, workspace %zu B)\n", i, ms / kRuns, tile,
                   splitk, stages, results[i].workspaceSize);
    }
    if (i == 0) first_ms = ms / kRuns;
    if (best_ms == 0 || ms / kRuns < best_ms) best = i, best_ms = ms / kRuns;
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  if (report) std::fprintf(stderr, "  heuristic's first %.3f ms, kept #%d %.3f ms\n", first_ms, best, best_ms);
  return results[best].algo;
}

// Rows of a product from 1024 up, in power-of-two bands: a new shape whose rows fall in the band of a tuned one
// reuses that algorithm (after cuBLASLt checks it for the new shape) instead of timing the candidates again. Padded
// scoring passes (WikiText-2's documents together) have a new row count almost every pass, and the tuning of each
// (8 candidates × 4 runs per product shape) cost more than the products.
std::int64_t tuning_band(std::int64_t rows) {
  if (rows < 1024) return rows;
  std::int64_t band = 1024;
  while (band < rows) band *= 2;
  return band;
}

}  // namespace

struct CudaBackend::State {
  int device = 0;
  bool bf16 = false;
  std::shared_ptr<StreamBox> box = std::make_shared<StreamBox>();
  cudaStream_t stream = nullptr;
  cudaMemPool_t pool = nullptr;
  cublasHandle_t blas = nullptr;
  cublasLtHandle_t lt = nullptr;
  Tensor workspace;
  std::map<GemmKey, GemmPlan> plans;
  std::map<GemmKey, cublasLtMatmulAlgo_t> tuned;  // by tuning_band of the rows
  // Pinned staging for host → device int32 copies; `staged` is recorded after each copy out of it.
  std::int32_t* pinned = nullptr;
  std::size_t pinned_count = 0;
  cudaEvent_t staged = nullptr;
};

CudaBackend::CudaBackend(int device, bool bf16) : s_(std::make_unique<State>()) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess || n == 0) {
    cudaGetLastError();
    throw BadInput(std::string("--backend cuda: no usable CUDA device (") +
                   (e != cudaSuccess ? cudaGetErrorString(e) : "no device") + ")");
  }
  if (device < 0 || device >= n) throw BadInput("--backend cuda: device " + std::to_string(device) + " does not exist");
  s_->device = device;
  s_->bf16 = bf16;
  check(cudaSetDevice(device), "cudaSetDevice");
  int pools = 0;
  check(cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, device), "cudaDeviceGetAttribute");
  if (!pools) throw BadInput("--backend cuda: the device or driver has no stream-ordered memory pools (CUDA 11.2+ needed)");
  check(cudaStreamCreateWithFlags(&s_->box->s, cudaStreamNonBlocking), "cudaStreamCreate");
  s_->stream = s_->box->s;
  check(cudaDeviceGetDefaultMemPool(&s_->pool, device), "cudaDeviceGetDefaultMemPool");
  std::uint64_t keep = UINT64_MAX;  // freed blocks stay in the pool for the next pass instead of going back to the driver
  check(cudaMemPoolSetAttribute(s_->pool, cudaMemPoolAttrReleaseThreshold, &keep), "cudaMemPoolSetAttribute");
  check(cudaEventCreateWithFlags(&s_->staged, cudaEventDisableTiming), "cudaEventCreate");
  check(cublasCreate(&s_->blas), "cublasCreate");
  check(cublasSetStream(s_->blas, s_->stream), "cublasSetStream");
  // float32 products (fp32 mode, and F32 weights in bf16 mode): no TF32 rounding inside the matrix products.
  check(cublasSetMathMode(s_->blas, CUBLAS_PEDANTIC_MATH), "cublasSetMathMode");
  if (bf16) {
    check(cublasLtCreate(&s_->lt), "cublasLtCreate");
    s_->workspace = alloc(DType::U8, {static_cast<std::int64_t>(kWorkspaceBytes)});
  }
}

CudaBackend::~CudaBackend() {
  if (s_->stream) cudaStreamSynchronize(s_->stream);
  for (auto& [key, p] : s_->plans) {
    cublasLtMatrixLayoutDestroy(p.a);
    cublasLtMatrixLayoutDestroy(p.b);
    cublasLtMatrixLayoutDestroy(p.d);
    cublasLtMatmulDescDestroy(p.op);
  }
  s_->workspace = Tensor{};
  if (s_->lt) cublasLtDestroy(s_->lt);
  if (s_->blas) cublasDestroy(s_->blas);
  if (s_->pinned) cudaFreeHost(s_->pinned);
  if (s_->staged) cudaEventDestroy(s_->staged);
}

cudaStream_t CudaBackend::stream() const { return s_->stream; }

DType CudaBackend::activation_dtype() const { return s_->bf16 ? DType::BF16 : DType::F32; }

std::int64_t CudaBackend::peak_memory_bytes() const {
  std::uint64_t v = 0;
  check(cudaMemPoolGetAttribute(s_->pool, cudaMemPoolAttrUsedMemHigh, &v), "cudaMemPoolGetAttribute");
  return static_cast<std::int64_t>(v);
}

void CudaBackend::reset_peak_memory() {
  check(cudaStreamSynchronize(s_->stream), "reset_peak_memory");
  std::uint64_t zero = 0;  // resets the high-water mark to what is in use now
  check(cudaMemPoolSetAttribute(s_->pool, cudaMemPoolAttrUsedMemHigh, &zero), "cudaMemPoolSetAttribute");
  cuda::OpTimer::reset_totals();  // what is measured from here on (LMSCOPE_CUDA_PROFILE) starts here too
}

Tensor CudaBackend::alloc(DType dtype, std::vector<std::int64_t> shape) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  const std::size_t bytes = (std::max<std::size_t>(t.nbytes(), 1) + 255) / 256 * 256;
  void* p = nullptr;
  check(cudaMallocAsync(&p, bytes, s_->stream), "allocating device memory", bytes);
  auto box = s_->box;
  t.storage = std::shared_ptr<void>(p, [box](void* q) { cudaFreeAsync(q, box->s); });
  t.data = p;
  return t;
}

Tensor CudaBackend::as_dtype(const Tensor& t, DType d) {
  if (t.dtype == d) return t;
  Tensor out = alloc(d, t.shape);
  launch("convert", [&] { cuda::convert(t.data, elem(t.dtype, "convert"), out.data, elem(d, "convert"), t.numel(), s_->stream); });
  return out;
}

Tensor CudaBackend::as_aligned_bf16(const Tensor& t) {
  if (t.dtype != DType::BF16) return as_dtype(t, DType::BF16);  // a fresh allocation: 256-byte aligned
  if (cuda_backend_detail::aligned16(t.data)) return t;
  Tensor out = alloc(DType::BF16, t.shape);
  copy_rows(t, out, 0);
  return out;
}

Tensor CudaBackend::stage_i32(std::span<const std::int32_t> values) {
  Tensor dev = alloc(DType::I32, {static_cast<std::int64_t>(values.size())});
  if (values.empty()) return dev;
  check(cudaEventSynchronize(s_->staged), "staging");  // the previous copy out of the pinned buffer is done
  if (s_->pinned_count < values.size()) {
    if (s_->pinned) cudaFreeHost(s_->pinned);
    s_->pinned = nullptr;
    s_->pinned_count = std::max<std::size_t>(values.size(), 1 << 16);
    check(cudaMallocHost(reinterpret_cast<void**>(&s_->pinned), s_->pinned_count * sizeof(std::int32_t)), "pinned staging",
          s_->pinned_count * sizeof(std::int32_t));
  }
  std::memcpy(s_->pinned, values.data(), values.size_bytes());
  check(cudaMemcpyAsync(dev.data, s_->pinned, values.size_bytes(), cudaMemcpyHostToDevice, s_->stream), "staging copy");
  check(cudaEventRecord(s_->staged, s_->stream), "staging");
  return dev;
}

Tensor CudaBackend::weight(const TensorView& w) {
  if (!dtype_is_float_weight(w.dtype))
    throw BadInput(w.file->path().string() + ": tensor '" + w.name + "' has dtype " + std::string(dtype_name(w.dtype)) +
                   ", expected F32, F16 or BF16");
  // bf16 mode: matrices (and tables) in bfloat16; vectors (norm weights, biases, gates' parameters) stay float32.
  const bool to_bf16 = s_->bf16 && w.shape.size() >= 2;
  if (to_bf16 && w.dtype == DType::BF16) {
    Tensor t = alloc(DType::BF16, w.shape);
    check(cudaMemcpyAsync(t.data, w.data, t.nbytes(), cudaMemcpyHostToDevice, s_->stream), "weight upload");
    check(cudaStreamSynchronize(s_->stream), "weight upload");
    return t;
  }
  Tensor f = alloc(DType::F32, w.shape);
  const std::vector<float> host = w.to_f32();
  upload(host, f);
  return to_bf16 ? as_dtype(f, DType::BF16) : f;
}

Tensor CudaBackend::weight_from_host(std::span<const float> values, std::vector<std::int64_t> shape) {
  const bool to_bf16 = s_->bf16 && shape.size() >= 2;  // as weight(): matrices in bf16 mode are bf16
  Tensor f = alloc(DType::F32, std::move(shape));
  upload(values, f);
  return to_bf16 ? as_dtype(f, DType::BF16) : f;
}

void CudaBackend::upload(std::span<const float> src, Tensor& dst) {
  expect((dst.dtype == DType::F32 || dst.dtype == DType::BF16) && static_cast<std::int64_t>(src.size()) == dst.numel(), "upload",
         "shape");
  Tensor f = dst.dtype == DType::F32 ? dst : alloc(DType::F32, dst.shape);
  check(cudaMemcpyAsync(f.data, src.data(), src.size_bytes(), cudaMemcpyHostToDevice, s_->stream), "upload");
  if (dst.dtype != DType::F32)
    launch("upload", [&] { cuda::convert(f.data, cuda::Elem::F32, dst.data, cuda::Elem::BF16, dst.numel(), s_->stream); });
  check(cudaStreamSynchronize(s_->stream), "upload");  // the host buffer may go away after return
}

void CudaBackend::download(const Tensor& src, std::span<float> dst) {
  expect(static_cast<std::int64_t>(dst.size()) == src.numel(), "download", "shape");
  if (src.dtype == DType::I8) {  // BitNet's int8 ternary weights: small integers, converted here
    std::vector<std::int8_t> bytes(dst.size());
    check(cudaMemcpyAsync(bytes.data(), src.data, bytes.size(), cudaMemcpyDeviceToHost, s_->stream), "download");
    check(cudaStreamSynchronize(s_->stream), "download");
    std::copy(bytes.begin(), bytes.end(), dst.begin());
    return;
  }
  const Tensor f = as_dtype(src, DType::F32);
  check(cudaMemcpyAsync(dst.data(), f.data, dst.size_bytes(), cudaMemcpyDeviceToHost, s_->stream), "download");
  check(cudaStreamSynchronize(s_->stream), "download");
}

void CudaBackend::embed(const Tensor& table, std::span<const std::int32_t> ids, Tensor& out) {
  const std::int64_t T = static_cast<std::int64_t>(ids.size()), H = table.cols();
  expect(out.rows() == T && out.cols() == H, "embed", "output shape");
  if (T == 0) return;
  const Tensor dev_ids = stage_i32(ids);
  launch("embed", [&] {
    cuda::embedding(table.data, elem(table.dtype, "embed"), dev_ids.as<std::int32_t>(), T, H, out.data, elem(out.dtype, "embed"),
                    s_->stream);
  });
}

void CudaBackend::rmsnorm(const Tensor& x, const Tensor& w, float eps, Tensor& out) {
  expect(w.numel() == x.cols() && out.numel() == x.numel(), "rmsnorm", "shape");
  const Tensor wf = as_dtype(w, DType::F32);
  launch("rmsnorm", [&] {
    cuda::rmsnorm(x.data, elem(x.dtype, "rmsnorm"), wf.as<float>(), eps, x.rows(), x.cols(), out.data, elem(out.dtype, "rmsnorm"),
                  s_->stream);
  });
}

void CudaBackend::layernorm(const Tensor& x, const Tensor& w, const Tensor* bias, float eps, Tensor& out) {
  expect(w.numel() == x.cols() && out.numel() == x.numel() && (!bias || bias->numel() == x.cols()), "layernorm", "shape");
  const Tensor wf = as_dtype(w, DType::F32);
  const Tensor bf = bias ? as_dtype(*bias, DType::F32) : Tensor{};
  launch("layernorm", [&] {
    cuda::layernorm(x.data, elem(x.dtype, "layernorm"), wf.as<float>(), bias ? bf.as<float>() : nullptr, eps, x.rows(), x.cols(),
                    out.data, elem(out.dtype, "layernorm"), s_->stream);
  });
}

void CudaBackend::add_rmsnorm(Tensor& x, const Tensor& r, const Tensor& w, float eps, Tensor& out) {
  expect(w.numel() == x.cols() && out.numel() == x.numel() && r.numel() == x.numel(), "add_rmsnorm", "shape");
  const Tensor wf = as_dtype(w, DType::F32);
  launch("add_rmsnorm", [&] {
    cuda::add_rmsnorm(x.data, elem(x.dtype, "add_rmsnorm"), r.data, elem(r.dtype, "add_rmsnorm"), wf.as<float>(), eps, x.rows(),
                      x.cols(), out.data, elem(out.dtype, "add_rmsnorm"), s_->stream);
  });
}

void CudaBackend::add(Tensor& acc, const Tensor& x) {
  expect(acc.numel() == x.numel(), "add", "shape");
  launch("add", [&] { cuda::add(acc.data, elem(acc.dtype, "add"), x.data, elem(x.dtype, "add"), acc.numel(), s_->stream); });
}

void CudaBackend::gemm_lt(const Tensor& w, std::int64_t w_row0, std::int64_t N, const Tensor& x, void* out, DType out_dtype,
                          std::int64_t ldd) {
  const std::int64_t T = x.rows(), K = x.cols();
  // "TxNxK", for the profile's rows and the tuning report (built only when profiling)
  const std::string dims = cuda::OpTimer::enabled()
                               ? std::to_string(T) + "x" + std::to_string(N) + "x" + std::to_string(K)
                               : std::string();
  // int8 operands (BitNet's integer products): int32 products and sums, exact
  const bool i8 = w.dtype == DType::I8;
  const char* out_name = i8 ? " ->i32" : out_dtype == DType::F32 ? " ->f32" : "";
  cuda::OpTimer timer(dims.empty() ? std::string() : "gemm " + dims + out_name);
  const void* a_ptr = static_cast<const unsigned char*>(w.data) + static_cast<std::size_t>(w_row0 * K) * (i8 ? 1 : 2);
  const std::size_t al_a = alignment_of(a_ptr), al_b = alignment_of(x.data), al_d = alignment_of(out);
  const GemmKey key{N, T, K, ldd, i8 ? 2 : out_dtype == DType::F32 ? 0 : 1, al_a, al_b, al_d};
  const float one_f = 1.0f, zero_f = 0.0f;
  const std::int32_t one_i = 1, zero_i = 0;
  const void* one = i8 ? static_cast<const void*>(&one_i) : &one_f;
  const void* zero = i8 ? static_cast<const void*>(&zero_i) : &zero_f;
  auto it = s_->plans.find(key);
  if (it == s_->plans.end()) {
    // Row-major out[T, N] = x[T, K] · w[N, K]ᵀ is column-major D[N, T] = op(A)·B with A the stored w (column-major
    // K x N, transposed) and B the stored x (column-major K x T): the "TN" product.
    GemmPlan p;
    const cudaDataType d_type = i8 ? CUDA_R_32I : out_dtype == DType::F32 ? CUDA_R_32F : CUDA_R_16BF;
    const cudaDataType ab_type = i8 ? CUDA_R_8I : CUDA_R_16BF;
    check(cublasLtMatmulDescCreate(&p.op, i8 ? CUBLAS_COMPUTE_32I : CUBLAS_COMPUTE_32F, i8 ? CUDA_R_32I : CUDA_R_32F),
          "cublasLtMatmulDescCreate");
    const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    check(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta), "cublasLt TRANSA");
    check(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb), "cublasLt TRANSB");
    check(cublasLtMatrixLayoutCreate(&p.a, ab_type, static_cast<std::uint64_t>(K), static_cast<std::uint64_t>(N), K), "layout A");
    check(cublasLtMatrixLayoutCreate(&p.b, ab_type, static_cast<std::uint64_t>(K), static_cast<std::uint64_t>(T), K), "layout B");
    check(cublasLtMatrixLayoutCreate(&p.d, d_type, static_cast<std::uint64_t>(N), static_cast<std::uint64_t>(T), ldd), "layout D");
    GemmKey band_key = key;
    std::get<1>(band_key) = tuning_band(T);
    bool reused = false;
    if (const auto t = s_->tuned.find(band_key); t != s_->tuned.end()) {
      cublasLtMatmulHeuristicResult_t checked{};
      reused = cublasLtMatmulAlgoCheck(s_->lt, p.op, p.a, p.b, p.d, p.d, &t->second, &checked) == CUBLAS_STATUS_SUCCESS &&
               checked.workspaceSize <= kWorkspaceBytes;
      if (reused) p.algo = t->second;
    }
    if (!reused) {
      cublasLtMatmulPreference_t pref = nullptr;
      check(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
      const std::uint64_t ws = kWorkspaceBytes;
      const std::uint32_t aa = static_cast<std::uint32_t>(al_a), ab = static_cast<std::uint32_t>(al_b),
                          ad = static_cast<std::uint32_t>(al_d);
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &aa, sizeof aa);
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &ab, sizeof ab);
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &ad, sizeof ad);
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &ad, sizeof ad);
      cublasLtMatmulHeuristicResult_t results[kGemmCandidates]{};
      int found = 0;
      const cublasStatus_t st =
          cublasLtMatmulAlgoGetHeuristic(s_->lt, p.op, p.a, p.b, p.d, p.d, pref, kGemmCandidates, results, &found);
      cublasLtMatmulPreferenceDestroy(pref);
      if (st != CUBLAS_STATUS_SUCCESS || found == 0) {
        cublasLtMatrixLayoutDestroy(p.a);
        cublasLtMatrixLayoutDestroy(p.b);
        cublasLtMatrixLayoutDestroy(p.d);
        cublasLtMatmulDescDestroy(p.op);
        throw InternalError(std::string("cuBLASLt has no ") + (i8 ? "int8" : "bf16") + " algorithm for a " + std::to_string(T) +
                            "x" + std::to_string(N) + "x" + std::to_string(K) + " product (" + cublasGetStatusString(st) + ")");
      }
      cuda::OpTimer tuning("gemm tuning");  // a scope of its own: not part of the product's self time
      p.algo = fastest_gemm_algo(s_->lt, s_->workspace.data, s_->stream, p, results, found, a_ptr, x.data, out, one, zero,
                                 dims.empty()
                                     ? std::string()
                                     : dims + (i8 ? " ->i32" : out_dtype == DType::F32 ? " ->f32" : " ->bf16") + ", alignment A/B/D " +
                                           std::to_string(al_a) + "/" + std::to_string(al_b) + "/" + std::to_string(al_d) +
                                           ", ldd " + std::to_string(ldd));
      s_->tuned[band_key] = p.algo;
    }
    it = s_->plans.emplace(key, p).first;
  }
  const GemmPlan& p = it->second;
  check(cublasLtMatmul(s_->lt, p.op, one, a_ptr, p.a, x.data, p.b, zero, out, p.d, out, p.d, &p.algo, s_->workspace.data,
                       kWorkspaceBytes, s_->stream),
        "cublasLtMatmul");
}

void CudaBackend::linear(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& out) {
  const std::int64_t T = x.rows(), K = x.cols(), N = w.rows();
  expect(w.cols() == K && out.rows() == T && out.cols() == N, "linear", "shape");
  if (T == 0) return;
  if (w.dtype == DType::BF16) {
    if (!s_->lt) throw InternalError("cuda linear: a bf16 weight on a backend in fp32 mode");
    const Tensor xb = as_dtype(x, DType::BF16);
    elem(out.dtype, "linear");
    gemm_lt(w, 0, N, xb, out.data, out.dtype, N);
  } else {
    expect(w.dtype == DType::F32, "linear", "weight dtype");
    const Tensor xf = as_dtype(x, DType::F32);
    Tensor of = out.dtype == DType::F32 ? out : alloc(DType::F32, out.shape);
    // Row-major out[T,N] = x[T,K] · w[N,K]ᵀ is column-major outᵀ[N,T] = w(ᵀ as stored) · xᵀ.
    const float one = 1.0f, zero = 0.0f;
    cuda::OpTimer timer("gemm f32");
    check(cublasSgemm(s_->blas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(N), static_cast<int>(T), static_cast<int>(K), &one,
                      w.as<float>(), static_cast<int>(K), xf.as<float>(), static_cast<int>(K), &zero, of.as<float>(),
                      static_cast<int>(N)),
          "linear");
    if (of.data != out.data)
      launch("linear", [&] { cuda::convert(of.data, cuda::Elem::F32, out.data, elem(out.dtype, "linear"), out.numel(), s_->stream); });
  }
  if (bias) {
    expect(bias->numel() == N, "linear", "bias shape");
    const Tensor bf = as_dtype(*bias, DType::F32);
    launch("linear bias", [&] { cuda::add_bias(out.data, elem(out.dtype, "linear"), bf.as<float>(), T, N, s_->stream); });
  }
}

// Positions restart every `period` rows (one sequence of a batch each), offset by pos0.
void CudaBackend::rope_rows(const char* op, Tensor& x, std::int64_t heads, std::int64_t head_dim, const Tensor& cos,
                            const Tensor& sin, std::int64_t pos0, std::int64_t period) {
  const std::int64_t half = cos.cols();
  expect(x.cols() == heads * head_dim && 2 * half <= head_dim && pos0 + period <= cos.rows(), op, "shape");
  expect(cos.dtype == DType::F32 && sin.dtype == DType::F32, op, "tables must be F32");
  launch("rope", [&] {
    cuda::rope(x.data, elem(x.dtype, "rope"), x.rows(), heads, head_dim, cos.as<float>(), sin.as<float>(), half, pos0, period,
               s_->stream);
  });
}

void CudaBackend::rope(Tensor& x, std::int64_t heads, std::int64_t head_dim, const Tensor& cos, const Tensor& sin,
                       std::int64_t pos0) {
  rope_rows("rope", x, heads, head_dim, cos, sin, pos0, x.rows());
}

void CudaBackend::rope_batch(Tensor& x, std::int64_t batch, std::int64_t heads, std::int64_t head_dim, const Tensor& cos,
                             const Tensor& sin) {
  const std::int64_t T = batch > 0 ? x.rows() / batch : 0;
  expect(batch > 0 && T * batch == x.rows(), "rope_batch", "rows must be batch x T");
  rope_rows("rope_batch", x, heads, head_dim, cos, sin, 0, T);
}

namespace {

bool split_decode_enabled() {
  const char* e = std::getenv("LMSCOPE_SPLIT_DECODE");
  return e == nullptr || std::string(e) != "0";
}

}  // namespace

// The decode kernels read 16-byte vectors of one element type (bf16 or float32).
bool CudaBackend::decode_kernel_applies(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                        const AttentionShape& s) const {
  const auto aligned = [](const void* p) { return alignment_of(p) >= 16; };
  return split_decode_enabled() && q.dtype == k.dtype && k.dtype == v.dtype && v.dtype == out.dtype &&
         (q.dtype == DType::BF16 || q.dtype == DType::F32) &&
         cuda::attention_decode_supported(s.head_dim, s.num_heads, s.num_kv_heads) && aligned(k.data) && aligned(v.data);
}

// `workspace` keeps the kernels' scratch alive until the launch.
cuda::AttentionDecodeArgs CudaBackend::decode_args(const Tensor& q, Tensor& out, const AttentionShape& s, int n,
                                                   std::int64_t longest_range, Tensor& workspace) {
  cuda::AttentionDecodeArgs a{};
  a.q = q.data;
  a.out = out.data;
  a.n = n;
  a.num_heads = s.num_heads;
  a.num_kv_heads = s.num_kv_heads;
  a.head_dim = s.head_dim;
  a.scale = s.scale;
  a.softcap = s.softcap;
  a.splits = cuda::attention_decode_splits(longest_range, n, s.num_kv_heads);
  workspace = alloc(DType::F32, {n * s.num_heads * a.splits * (s.head_dim + 2)});
  a.workspace = workspace.as<float>();
  return a;
}

// RoPE + cache writes for all rows in one launch, then the split-KV attention for all rows in one more (plus its
// merge), kMaxDecodeRows rows at a time; the generic per-row path where the kernels do not apply.
void CudaBackend::attention_decode_step(Tensor& q, Tensor& k, const Tensor& v, std::span<const KvDecodeSlot> slots,
                                        const AttentionShape& s, Tensor& out) {
  const auto n = static_cast<std::int64_t>(slots.size());
  expect(q.rows() == n && k.rows() == n && v.rows() == n && out.rows() == n && q.cols() == s.num_heads * s.head_dim &&
             k.cols() == s.num_kv_heads * s.head_dim && v.cols() == k.cols() && out.cols() == q.cols(),
         "attention_decode_step", "one row per sequence");
  // What every row shares is checked once (the first row's caches stand for the element type); each row's caches
  // then need that type, 16-byte alignment and room.
  const auto aligned = [](const Tensor& t) { return alignment_of(t.data) >= 16; };
  bool fused = n > 0 && v.dtype == k.dtype && decode_kernel_applies(q, *slots[0].k_cache, *slots[0].v_cache, out, s);
  for (const KvDecodeSlot& sl : slots) {
    fused = fused && sl.k_cache->dtype == q.dtype && sl.v_cache->dtype == q.dtype && sl.k_cache->dtype == k.dtype &&
            aligned(*sl.k_cache) && aligned(*sl.v_cache) && sl.write_row < sl.k_cache->rows() && sl.kv_len <= sl.k_cache->rows() &&
            (sl.cos == nullptr || (sl.cos->dtype == DType::F32 && sl.sin->dtype == DType::F32 && 2 * sl.cos->cols() <= s.head_dim &&
                                   sl.pos < sl.cos->rows() && sl.cos->cols() == slots[0].cos->cols()));
    fused = fused && (sl.cos == nullptr) == (slots[0].cos == nullptr);
  }
  if (!fused) {
    Backend::attention_decode_step(q, k, v, slots, s, out);
    return;
  }
  const cuda::Elem e = elem(q.dtype, "attention_decode_step");
  const std::int64_t row_bytes = k.cols() * static_cast<std::int64_t>(dtype_size(k.dtype));
  for (std::int64_t r0 = 0; r0 < n; r0 += cuda::kMaxDecodeRows) {
    const int m = static_cast<int>(std::min<std::int64_t>(cuda::kMaxDecodeRows, n - r0));
    Tensor qs = q.slice_rows(r0, m), os = out.slice_rows(r0, m);
    cuda::RopeKvAppendArgs ra{};
    ra.q = qs.data;
    ra.k = k.slice_rows(r0, m).data;
    ra.v = v.slice_rows(r0, m).data;
    ra.n = m;
    ra.num_heads = s.num_heads;
    ra.num_kv_heads = s.num_kv_heads;
    ra.head_dim = s.head_dim;
    ra.half = slots[0].cos ? slots[0].cos->cols() : 0;
    std::int64_t longest = 1;
    for (int i = 0; i < m; ++i) {
      const KvDecodeSlot& sl = slots[static_cast<std::size_t>(r0 + i)];
      ra.row[i] = {sl.cos ? sl.cos->as<float>() : nullptr, sl.sin ? sl.sin->as<float>() : nullptr, sl.pos,
                   static_cast<char*>(sl.k_cache->data) + sl.write_row * row_bytes,
                   static_cast<char*>(sl.v_cache->data) + sl.write_row * row_bytes};
      longest = std::max(longest, sl.kv_len);
    }
    launch("rope_kv_append", [&] { cuda::rope_kv_append(ra, e, s_->stream); });
    Tensor ws;
    cuda::AttentionDecodeArgs a = decode_args(qs, os, s, m, longest, ws);
    for (int i = 0; i < m; ++i) {
      const KvDecodeSlot& sl = slots[static_cast<std::size_t>(r0 + i)];
      a.seq[i] = {sl.k_cache->data, sl.v_cache->data, 0, sl.kv_len};
    }
    launch("attention decode", [&] { cuda::attention_decode(a, e, s_->stream); });
  }
}

void CudaBackend::attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionShape& s, Tensor& out) {
  expect(q.cols() == s.num_heads * s.head_dim && out.rows() == q.rows() && k.cols() == s.num_kv_heads * s.head_dim &&
             s.kv_len <= k.rows() && s.q_pos0 + q.rows() <= s.kv_len,
         "attention", "shape");
  // One query row (a decode step): keys split across the SMs, in bf16 or float32 alike (H200, Llama-3.2-1B, 8
  // prompts of 16K: 225 instead of 325 ms per item). LMSCOPE_SPLIT_DECODE=0 turns it off, for comparisons.
  if (q.rows() == 1 && decode_kernel_applies(q, k, v, out, s)) {
    const std::int64_t first = s.window > 0 ? std::max<std::int64_t>(0, s.q_pos0 - s.window + 1) : 0;
    Tensor ws;
    cuda::AttentionDecodeArgs a = decode_args(q, out, s, 1, s.q_pos0 + 1 - first, ws);
    a.seq[0] = {k.data, v.data, first, s.q_pos0 + 1};
    launch("attention decode", [&] { cuda::attention_decode(a, elem(q.dtype, "attention"), s_->stream); });
    return;
  }
  const bool all_bf16 = q.dtype == DType::BF16 && k.dtype == DType::BF16 && v.dtype == DType::BF16 && out.dtype == DType::BF16;
  const auto aligned = [](const Tensor& t) { return alignment_of(t.data) >= 16; };
  if (all_bf16 && cuda::attention_bf16_supported(s.head_dim) && aligned(q) && aligned(k) && aligned(v) && aligned(out)) {
    cuda::AttentionBf16Args a{q.data, k.data, v.data, out.data, q.rows(), s.num_heads, s.num_kv_heads, s.head_dim,
                              s.q_pos0, s.kv_len, s.window, s.scale, 1, 0, s.softcap};
    launch("attention", [&] { cuda::attention_bf16(a, s_->stream); });
    return;
  }
  // float32 streaming kernel (fp32 mode, and head dims the tiled kernel does not cover)
  const Tensor qf = as_dtype(q, DType::F32), kf = as_dtype(k, DType::F32), vf = as_dtype(v, DType::F32);
  Tensor of = out.dtype == DType::F32 ? out : alloc(DType::F32, out.shape);
  cuda::AttentionArgs a{qf.as<float>(), kf.as<float>(), vf.as<float>(), of.as<float>(), q.rows(), s.num_heads, s.num_kv_heads,
                        s.head_dim, s.q_pos0, s.kv_len, s.window, s.scale, s.softcap};
  launch("attention", [&] { cuda::attention_f32(a, s_->stream); });
  if (of.data != out.data)
    launch("attention", [&] { cuda::convert(of.data, cuda::Elem::F32, out.data, elem(out.dtype, "attention"), out.numel(), s_->stream); });
}

void CudaBackend::attention_batch(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionShape& s, std::int64_t batch,
                                  Tensor& out) {
  expect(batch >= 1 && q.rows() % batch == 0 && k.rows() % batch == 0 && v.rows() == k.rows() && out.rows() == q.rows(),
         "attention_batch", "rows must split into batch blocks");
  const std::int64_t tq = q.rows() / batch, tk = k.rows() / batch;
  expect(q.cols() == s.num_heads * s.head_dim && k.cols() == s.num_kv_heads * s.head_dim && s.kv_len <= tk &&
             s.q_pos0 + tq <= s.kv_len,
         "attention_batch", "shape");
  const bool all_bf16 = q.dtype == DType::BF16 && k.dtype == DType::BF16 && v.dtype == DType::BF16 && out.dtype == DType::BF16;
  const auto aligned = [](const Tensor& t) { return alignment_of(t.data) >= 16; };
  if (batch == 1 || !all_bf16 || !cuda::attention_bf16_supported(s.head_dim) || !aligned(q) || !aligned(k) || !aligned(v) ||
      !aligned(out)) {
    Backend::attention_batch(q, k, v, s, batch, out);
    return;
  }
  // One launch over all sequences: batch x heads x query blocks, so short sequences still fill the GPU.
  cuda::AttentionBf16Args a{q.data, k.data, v.data, out.data, tq, s.num_heads, s.num_kv_heads, s.head_dim,
                            s.q_pos0, s.kv_len, s.window, s.scale, batch, tk, s.softcap};
  launch("attention", [&] { cuda::attention_bf16(a, s_->stream); });
}

void CudaBackend::copy_rows(const Tensor& src, Tensor& dst, std::int64_t dst_row) {
  expect(src.cols() == dst.cols() && dst_row + src.rows() <= dst.rows(), "copy_rows", "shape");
  const Tensor s = as_dtype(src, dst.dtype);
  check(cudaMemcpyAsync(static_cast<unsigned char*>(dst.data) + static_cast<std::size_t>(dst_row * dst.cols()) * dtype_size(dst.dtype),
                        s.data, s.nbytes(), cudaMemcpyDeviceToDevice, s_->stream),
        "copy_rows");
}

void CudaBackend::glu(const Tensor& gate, const Tensor& up, Activation f, Tensor& out) {
  expect(gate.numel() == up.numel() && out.numel() == gate.numel(), "glu", "shape");
  const Tensor u = as_dtype(up, gate.dtype);
  launch(f == Activation::Silu ? "swiglu" : "glu", [&] {
    cuda::glu(gate.data, u.data, elem(gate.dtype, "glu"), out.data, elem(out.dtype, "glu"), gate.numel(), activation_code(f), s_->stream);
  });
}

void CudaBackend::fold_vocabulary(const Tensor& x, const Tensor& w, const Tensor& dev_targets, float softcap,
                                  const cuda::VocabScoreState& state) {
  const std::int64_t T = x.rows(), H = x.cols(), V = w.rows();
  const bool bf16 = w.dtype == DType::BF16;
  // Chunks of [T, C] float32 logits of at most ~128 MiB: wide enough (2048 columns at 16K rows) for the GEMM to
  // fill the GPU; the one-pass reduction reads each chunk once.
  const std::int64_t C = std::min(V, (vocab_chunk(T, V, 1 << 25) + 7) / 8 * 8);  // rows 32-byte aligned
  Tensor buf = alloc(DType::F32, {T, C});
  launch("token_logprobs", [&] { cuda::vocab_scores_init(state, T, s_->stream); });
  const Tensor xin = as_dtype(x, bf16 ? DType::BF16 : DType::F32);
  if (bf16 && !s_->lt) throw InternalError("cuda token_logprobs: a bf16 LM head on a backend in fp32 mode");
  const float one = 1.0f, zero = 0.0f;
  for (std::int64_t c0 = 0; c0 < V; c0 += C) {
    const std::int64_t n = std::min(C, V - c0);
    if (bf16) {
      gemm_lt(w, c0, n, xin, buf.data, DType::F32, C);
    } else {
      check(cublasSgemm(s_->blas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(T), static_cast<int>(H), &one,
                        w.as<float>() + c0 * H, static_cast<int>(H), xin.as<float>(), static_cast<int>(H), &zero, buf.as<float>(),
                        static_cast<int>(C)),
            "token_logprobs chunk");
    }
    launch("token_logprobs", [&] {
      cuda::vocab_scores_update(buf.as<float>(), C, T, n, c0, dev_targets.as<std::int32_t>(), state, softcap, s_->stream);
    });
  }
}

void CudaBackend::token_logprobs(const Tensor& x, const Tensor& w, std::span<const std::int32_t> targets,
                                 std::span<double> logprobs, std::span<std::uint8_t> greedy, float softcap) {
  const std::int64_t T = x.rows(), H = x.cols(), V = w.rows();
  expect(w.cols() == H && static_cast<std::int64_t>(targets.size()) == T && logprobs.size() == targets.size() &&
             greedy.size() == targets.size(),
         "token_logprobs", "shape");
  if (T == 0) return;
  for (auto t : targets) expect(t < V, "token_logprobs", "target outside the vocabulary");
  const Tensor dev_targets = stage_i32(targets);
  Tensor st_max = alloc(DType::F64, {T}), st_sum = alloc(DType::F64, {T}), st_arg = alloc(DType::I64, {T}),
         st_target = alloc(DType::F32, {T});
  const cuda::VocabScoreState state{st_max.as<double>(), st_sum.as<double>(), st_arg.as<long long>(), st_target.as<float>()};
  fold_vocabulary(x, w, dev_targets, softcap, state);
  std::vector<double> mx(static_cast<std::size_t>(T)), sum(mx.size());
  std::vector<long long> arg(mx.size());
  std::vector<float> tl(mx.size());
  check(cudaMemcpyAsync(mx.data(), st_max.data, T * sizeof(double), cudaMemcpyDeviceToHost, s_->stream), "scores");
  check(cudaMemcpyAsync(sum.data(), st_sum.data, T * sizeof(double), cudaMemcpyDeviceToHost, s_->stream), "scores");
  check(cudaMemcpyAsync(arg.data(), st_arg.data, T * sizeof(long long), cudaMemcpyDeviceToHost, s_->stream), "scores");
  check(cudaMemcpyAsync(tl.data(), st_target.data, T * sizeof(float), cudaMemcpyDeviceToHost, s_->stream), "scores");
  check(cudaStreamSynchronize(s_->stream), "scores");
  for (std::size_t t = 0; t < mx.size(); ++t) {
    const bool scored = targets[t] >= 0;
    logprobs[t] = scored ? tl[t] - (mx[t] + std::log(sum[t])) : 0.0;
    greedy[t] = scored && arg[t] == targets[t];
  }
}

void CudaBackend::token_argmax(const Tensor& x, const Tensor& w, float softcap, std::span<std::int32_t> next) {
  const std::int64_t T = x.rows();
  expect(w.cols() == x.cols() && static_cast<std::int64_t>(next.size()) == T, "token_argmax", "shape");
  if (T == 0) return;
  const std::vector<std::int32_t> none(static_cast<std::size_t>(T), -1);
  const Tensor dev_targets = stage_i32(none);
  Tensor st_max = alloc(DType::F64, {T}), st_sum = alloc(DType::F64, {T}), st_arg = alloc(DType::I64, {T}),
         st_target = alloc(DType::F32, {T});
  const cuda::VocabScoreState state{st_max.as<double>(), st_sum.as<double>(), st_arg.as<long long>(), st_target.as<float>()};
  fold_vocabulary(x, w, dev_targets, softcap, state);
  std::vector<long long> arg(static_cast<std::size_t>(T));  // 8 bytes per sequence cross to the host
  check(cudaMemcpyAsync(arg.data(), st_arg.data, T * sizeof(long long), cudaMemcpyDeviceToHost, s_->stream), "argmax");
  check(cudaStreamSynchronize(s_->stream), "argmax");
  for (std::size_t t = 0; t < arg.size(); ++t) next[t] = static_cast<std::int32_t>(arg[t]);
}

void CudaBackend::compare_logits(const Tensor& base, const Tensor& model, std::span<const std::int32_t> targets,
                                 std::span<LogitsComparison> out) {
  const std::int64_t R = model.rows(), V = model.cols();
  expect(base.shape == model.shape && base.dtype == DType::F32 && model.dtype == DType::F32 &&
             static_cast<std::int64_t>(targets.size()) == R && out.size() == targets.size(),
         "compare_logits", "two float32 logits tensors of one shape and a target per row");
  if (R == 0) return;
  const Tensor dev_targets = stage_i32(targets);
  Tensor kl = alloc(DType::F64, {R}), nll = alloc(DType::F64, {R}), base_nll = alloc(DType::F64, {R}), same = alloc(DType::U8, {R});
  const cuda::LogitsComparisonOut o{kl.as<double>(), nll.as<double>(), base_nll.as<double>(), same.as<unsigned char>()};
  launch("compare logits", [&] {
    cuda::compare_logits(base.as<float>(), model.as<float>(), R, V, dev_targets.as<std::int32_t>(), o, s_->stream);
  });
  std::vector<double> h_kl(static_cast<std::size_t>(R)), h_nll(h_kl.size()), h_base(h_kl.size());
  std::vector<unsigned char> h_same(h_kl.size());
  check(cudaMemcpyAsync(h_kl.data(), kl.data, R * sizeof(double), cudaMemcpyDeviceToHost, s_->stream), "compare logits");
  check(cudaMemcpyAsync(h_nll.data(), nll.data, R * sizeof(double), cudaMemcpyDeviceToHost, s_->stream), "compare logits");
  check(cudaMemcpyAsync(h_base.data(), base_nll.data, R * sizeof(double), cudaMemcpyDeviceToHost, s_->stream), "compare logits");
  check(cudaMemcpyAsync(h_same.data(), same.data, R, cudaMemcpyDeviceToHost, s_->stream), "compare logits");
  check(cudaStreamSynchronize(s_->stream), "compare logits");
  for (std::size_t r = 0; r < out.size(); ++r) out[r] = LogitsComparison{h_kl[r], h_nll[r], h_base[r], h_same[r] != 0};
}

void CudaBackend::finish() { check(cudaStreamSynchronize(s_->stream), "finish"); }

}  // namespace lmscope
