#include "backend/cuda_backend.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cmath>
#include <string>

#include "backend/vocab_chunks.h"
#include "lmscope/error.h"
#include "lmscope_kernels/ops.h"

namespace lmscope {
namespace {

void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw BadInput(std::string("GPU out of memory (") + what + "): use a smaller batch or sequence, or a smaller model");
  }
  throw InternalError(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(e));
}

void check(cublasStatus_t e, const char* what) {
  if (e != CUBLAS_STATUS_SUCCESS) throw InternalError(std::string("cuBLAS error in ") + what + ": " + cublasGetStatusString(e));
}

void expect(bool ok, const char* op, const char* what) {
  if (!ok) throw InternalError(std::string("cuda ") + op + ": " + what);
}

// Runs a kernel launcher, turning its std::runtime_error into the engine's InternalError.
template <typename F>
void launch(const char* what, F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    throw InternalError(std::string(what) + ": " + e.what());
  }
}

}  // namespace

struct CudaBackend::State {
  int device = 0;
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  Tensor ids;  // device copy of the token ids of the last embed()
};

CudaBackend::CudaBackend(int device) : s_(std::make_unique<State>()) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess || n == 0) {
    cudaGetLastError();
    throw BadInput(std::string("--backend cuda: no usable CUDA device (") +
                   (e != cudaSuccess ? cudaGetErrorString(e) : "no device") + ")");
  }
  if (device < 0 || device >= n) throw BadInput("--backend cuda: device " + std::to_string(device) + " does not exist");
  s_->device = device;
  check(cudaSetDevice(device), "cudaSetDevice");
  check(cudaStreamCreateWithFlags(&s_->stream, cudaStreamNonBlocking), "cudaStreamCreate");
  check(cublasCreate(&s_->blas), "cublasCreate");
  check(cublasSetStream(s_->blas, s_->stream), "cublasSetStream");
  // float32 verification mode: no TF32 rounding inside the matrix products.
  check(cublasSetMathMode(s_->blas, CUBLAS_PEDANTIC_MATH), "cublasSetMathMode");
}

CudaBackend::~CudaBackend() {
  if (s_->blas) cublasDestroy(s_->blas);
  if (s_->stream) cudaStreamDestroy(s_->stream);
}

Tensor CudaBackend::alloc(DType dtype, std::vector<std::int64_t> shape) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  void* p = nullptr;
  check(cudaMalloc(&p, std::max<std::size_t>(t.nbytes(), 256)), "cudaMalloc");
  t.storage = std::shared_ptr<void>(p, [](void* q) { cudaFree(q); });
  t.data = p;
  return t;
}

Tensor CudaBackend::weight(const TensorView& w) {
  if (!dtype_is_float_weight(w.dtype))
    throw BadInput(w.file->path().string() + ": tensor '" + w.name + "' has dtype " + std::string(dtype_name(w.dtype)) +
                   ", expected F32, F16 or BF16");
  Tensor t = alloc(DType::F32, w.shape);
  const std::vector<float> host = w.to_f32();
  upload(host, t);
  return t;
}

void CudaBackend::upload(std::span<const float> src, Tensor& dst) {
  expect(dst.dtype == DType::F32 && static_cast<std::int64_t>(src.size()) == dst.numel(), "upload", "shape");
  check(cudaMemcpyAsync(dst.data, src.data(), src.size_bytes(), cudaMemcpyHostToDevice, s_->stream), "upload");
  check(cudaStreamSynchronize(s_->stream), "upload");  // the host buffer may go away after return
}

void CudaBackend::download(const Tensor& src, std::span<float> dst) {
  expect(src.dtype == DType::F32 && static_cast<std::int64_t>(dst.size()) == src.numel(), "download", "shape");
  check(cudaMemcpyAsync(dst.data(), src.data, dst.size_bytes(), cudaMemcpyDeviceToHost, s_->stream), "download");
  check(cudaStreamSynchronize(s_->stream), "download");
}

void CudaBackend::embed(const Tensor& table, std::span<const std::int32_t> ids, Tensor& out) {
  const std::int64_t T = static_cast<std::int64_t>(ids.size()), H = table.cols();
  expect(out.rows() == T && out.cols() == H, "embed", "output shape");
  if (s_->ids.numel() < T) s_->ids = alloc(DType::I32, {std::max<std::int64_t>(T, 1024)});
  check(cudaMemcpyAsync(s_->ids.data, ids.data(), ids.size_bytes(), cudaMemcpyHostToDevice, s_->stream), "embed ids");
  check(cudaStreamSynchronize(s_->stream), "embed ids");  // pageable host memory: finish before returning
  launch("embed", [&] { cuda::embedding_f32(table.as<float>(), s_->ids.as<std::int32_t>(), T, H, out.as<float>(), s_->stream); });
}

void CudaBackend::rmsnorm(const Tensor& x, const Tensor& w, float eps, Tensor& out) {
  expect(w.numel() == x.cols() && out.numel() == x.numel(), "rmsnorm", "shape");
  launch("rmsnorm", [&] { cuda::rmsnorm_f32(x.as<float>(), w.as<float>(), eps, x.rows(), x.cols(), out.as<float>(), s_->stream); });
}

void CudaBackend::add(Tensor& acc, const Tensor& x) {
  expect(acc.numel() == x.numel(), "add", "shape");
  launch("add", [&] { cuda::add_f32(acc.as<float>(), x.as<float>(), acc.numel(), s_->stream); });
}

void CudaBackend::linear(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& out) {
  const std::int64_t T = x.rows(), K = x.cols(), N = w.rows();
  expect(w.cols() == K && out.rows() == T && out.cols() == N, "linear", "shape");
  if (T == 0) return;
  // Row-major out[T,N] = x[T,K] · w[N,K]ᵀ is column-major outᵀ[N,T] = w(ᵀ as stored) · xᵀ.
  const float one = 1.0f, zero = 0.0f;
  check(cublasSgemm(s_->blas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(N), static_cast<int>(T), static_cast<int>(K), &one,
                    w.as<float>(), static_cast<int>(K), x.as<float>(), static_cast<int>(K), &zero, out.as<float>(),
                    static_cast<int>(N)),
        "linear");
  if (bias) {
    expect(bias->numel() == N, "linear", "bias shape");
    launch("linear bias", [&] { cuda::add_bias_f32(out.as<float>(), bias->as<float>(), T, N, s_->stream); });
  }
}

void CudaBackend::rope(Tensor& x, std::int64_t heads, std::int64_t head_dim, const Tensor& cos, const Tensor& sin,
                       std::int64_t pos0) {
  const std::int64_t half = cos.cols();
  expect(x.cols() == heads * head_dim && 2 * half <= head_dim && pos0 + x.rows() <= cos.rows(), "rope", "shape");
  launch("rope", [&] { cuda::rope_f32(x.as<float>(), x.rows(), heads, head_dim, cos.as<float>(), sin.as<float>(), half, pos0, s_->stream); });
}

void CudaBackend::attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionShape& s, Tensor& out) {
  expect(q.cols() == s.num_heads * s.head_dim && out.rows() == q.rows() && k.cols() == s.num_kv_heads * s.head_dim &&
             s.kv_len <= k.rows() && s.q_pos0 + q.rows() <= s.kv_len,
         "attention", "shape");
  cuda::AttentionArgs a{q.as<float>(), k.as<float>(), v.as<float>(), out.as<float>(), q.rows(), s.num_heads, s.num_kv_heads,
                        s.head_dim, s.q_pos0, s.kv_len, s.window, s.scale};
  launch("attention", [&] { cuda::attention_f32(a, s_->stream); });
}

void CudaBackend::copy_rows(const Tensor& src, Tensor& dst, std::int64_t dst_row) {
  expect(src.cols() == dst.cols() && dst_row + src.rows() <= dst.rows() && src.dtype == dst.dtype, "copy_rows", "shape");
  check(cudaMemcpyAsync(static_cast<unsigned char*>(dst.data) + static_cast<std::size_t>(dst_row * dst.cols()) * dtype_size(dst.dtype),
                        src.data, src.nbytes(), cudaMemcpyDeviceToDevice, s_->stream),
        "copy_rows");
}

void CudaBackend::swiglu(const Tensor& gate, const Tensor& up, Tensor& out) {
  expect(gate.numel() == up.numel() && out.numel() == gate.numel(), "swiglu", "shape");
  launch("swiglu", [&] { cuda::swiglu_f32(gate.as<float>(), up.as<float>(), out.as<float>(), gate.numel(), s_->stream); });
}

void CudaBackend::token_logprobs(const Tensor& x, const Tensor& w, std::span<const std::int32_t> targets,
                                 std::span<double> logprobs, std::span<std::uint8_t> greedy) {
  const std::int64_t T = x.rows(), H = x.cols(), V = w.rows();
  expect(w.cols() == H && static_cast<std::int64_t>(targets.size()) == T && logprobs.size() == targets.size() &&
             greedy.size() == targets.size(),
         "token_logprobs", "shape");
  if (T == 0) return;
  for (auto t : targets) expect(t < V, "token_logprobs", "target outside the vocabulary");
  const std::int64_t C = vocab_chunk(T, V);
  Tensor buf = alloc(DType::F32, {T, C});
  Tensor dev_targets = alloc(DType::I32, {T});
  Tensor st_max = alloc(DType::F64, {T}), st_sum = alloc(DType::F64, {T}), st_arg = alloc(DType::I64, {T}),
         st_target = alloc(DType::F32, {T});
  const cuda::VocabScoreState state{st_max.as<double>(), st_sum.as<double>(), st_arg.as<long long>(), st_target.as<float>()};
  check(cudaMemcpyAsync(dev_targets.data, targets.data(), targets.size_bytes(), cudaMemcpyHostToDevice, s_->stream), "targets");
  launch("token_logprobs", [&] { cuda::vocab_scores_init(state, T, s_->stream); });
  const float one = 1.0f, zero = 0.0f;
  for (std::int64_t c0 = 0; c0 < V; c0 += C) {
    const std::int64_t n = std::min(C, V - c0);
    check(cublasSgemm(s_->blas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(T), static_cast<int>(H), &one,
                      w.as<float>() + c0 * H, static_cast<int>(H), x.as<float>(), static_cast<int>(H), &zero, buf.as<float>(),
                      static_cast<int>(C)),
          "token_logprobs chunk");
    launch("token_logprobs", [&] {
      cuda::vocab_scores_update(buf.as<float>(), C, T, n, c0, dev_targets.as<std::int32_t>(), state, s_->stream);
    });
  }
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

}  // namespace lmscope
