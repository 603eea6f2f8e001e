#include "backend/cpu_backend.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "backend/vocab_chunks.h"
#include "backend/activation_math.h"
#include "backend/cpu_expect.h"
#include "backend/cpu_threads.h"
#include "backend/cpu_vector_loops.h"
#include "backend/openblas_core.h"
#include "lmscope/error.h"

namespace lmscope {

using cpu::expect;
using cpu::expect_f32;
using cpu::worth_threads;
using cpu::activation_value;
using cpu::max_and_sum_exp;
using cpu::rmsnorm_row;
using cpu::RowLogits;
using cpu::silu_product;
using cpu::softmax_exp_row;

CpuBackend::CpuBackend() {
  openblas_use_best_core();
  use_idle_processors();
}

Tensor CpuBackend::alloc(DType dtype, std::vector<std::int64_t> shape) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  const std::size_t bytes = std::max<std::size_t>(t.nbytes(), 64);
  void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (p == nullptr) throw BadInput("out of host memory allocating " + std::to_string(bytes) + " bytes");
  t.storage = std::shared_ptr<void>(p, std::free);
  t.data = p;
  return t;
}

Tensor CpuBackend::weight(const TensorView& w) {
  // float32 weights aligned in the map are used in place: no copy, the map stays alive through `storage`.
  if (w.dtype == DType::F32 && reinterpret_cast<std::uintptr_t>(w.data) % alignof(float) == 0) {
    Tensor t;
    t.dtype = DType::F32;
    t.shape = w.shape;
    t.storage = std::shared_ptr<void>(w.file, const_cast<unsigned char*>(w.data));
    t.data = const_cast<unsigned char*>(w.data);
    return t;
  }
  Tensor t = alloc(DType::F32, w.shape);
  const auto n = static_cast<std::size_t>(t.numel());
  if (!dtype_is_float_weight(w.dtype))
    throw BadInput(w.file->path().string() + ": tensor '" + w.name + "' has dtype " + std::string(dtype_name(w.dtype)) +
                   ", expected F32, F16 or BF16");
  convert_to_f32(w.dtype, w.data, t.as<float>(), n);
  return t;
}

void CpuBackend::upload(std::span<const float> src, Tensor& dst) {
  expect_f32(dst, "upload");
  expect(static_cast<std::int64_t>(src.size()) == dst.numel(), "upload", "size mismatch");
  std::memcpy(dst.data, src.data(), src.size_bytes());
}

void CpuBackend::download(const Tensor& src, std::span<float> dst) {
  expect_f32(src, "download");
  expect(static_cast<std::int64_t>(dst.size()) == src.numel(), "download", "size mismatch");
  std::memcpy(dst.data(), src.data, dst.size_bytes());
}

void CpuBackend::embed(const Tensor& table, std::span<const std::int32_t> ids, Tensor& out) {
  expect_f32(table, "embed");
  const std::int64_t H = table.cols(), V = table.rows();
  expect(out.rows() == static_cast<std::int64_t>(ids.size()) && out.cols() == H, "embed", "output shape");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    expect(ids[i] >= 0 && ids[i] < V, "embed", "token id out of range");
    std::memcpy(out.as<float>() + i * H, table.as<float>() + ids[i] * H, H * sizeof(float));
  }
}

void CpuBackend::rmsnorm(const Tensor& x, const Tensor& w, float eps, Tensor& out) {
  expect_f32(x, "rmsnorm");
  const std::int64_t T = x.rows(), C = x.cols();
  expect(w.numel() == C && out.numel() == x.numel(), "rmsnorm", "shape");
  const float* xs = x.as<float>();
  const float* ws = w.as<float>();
  float* os = out.as<float>();
#pragma omp parallel for if (worth_threads(T * C))
  for (std::int64_t t = 0; t < T; ++t) rmsnorm_row(xs + t * C, ws, eps, C, os + t * C);
}

void CpuBackend::layernorm(const Tensor& x, const Tensor& w, const Tensor* bias, float eps, Tensor& out) {
  expect_f32(x, "layernorm");
  const std::int64_t T = x.rows(), C = x.cols();
  expect(w.numel() == C && out.numel() == x.numel() && (!bias || bias->numel() == C), "layernorm", "shape");
  const float* xs = x.as<float>();
  const float* ws = w.as<float>();
  const float* bs = bias ? bias->as<float>() : nullptr;
  float* os = out.as<float>();
#pragma omp parallel for if (worth_threads(T * C))
  for (std::int64_t t = 0; t < T; ++t) {
    const float* r = xs + t * C;
    double sum = 0;
    for (std::int64_t c = 0; c < C; ++c) sum += r[c];
    const double mean = sum / static_cast<double>(C);
    double ss = 0;
    for (std::int64_t c = 0; c < C; ++c) ss += (r[c] - mean) * (r[c] - mean);
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(C) + eps);
    for (std::int64_t c = 0; c < C; ++c)
      os[t * C + c] = static_cast<float>((r[c] - mean) * inv) * ws[c] + (bs ? bs[c] : 0.0f);
  }
}

void CpuBackend::add(Tensor& acc, const Tensor& x) {
  expect(acc.numel() == x.numel(), "add", "shape");
  float* a = acc.as<float>();
  const float* b = x.as<float>();
  const std::int64_t n = acc.numel();
  for (std::int64_t i = 0; i < n; ++i) a[i] += b[i];
}

void CpuBackend::linear(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& out) {
  expect_f32(x, "linear");
  expect_f32(w, "linear");
  const std::int64_t T = x.rows(), K = x.cols(), N = w.rows();
  expect(w.cols() == K, "linear", "inner dimensions differ");
  expect(out.rows() == T && out.cols() == N, "linear", "output shape");
  if (T == 0) return;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(T), static_cast<int>(N), static_cast<int>(K), 1.0f,
              x.as<float>(), static_cast<int>(K), w.as<float>(), static_cast<int>(K), 0.0f, out.as<float>(),
              static_cast<int>(N));
  if (bias != nullptr) {
    expect(bias->numel() == N, "linear", "bias shape");
    float* o = out.as<float>();
    const float* b = bias->as<float>();
    for (std::int64_t t = 0; t < T; ++t)
      for (std::int64_t n = 0; n < N; ++n) o[t * N + n] += b[n];
  }
}

void CpuBackend::rope(Tensor& x, std::int64_t heads, std::int64_t head_dim, const Tensor& cos, const Tensor& sin,
                      std::int64_t pos0) {
  const std::int64_t T = x.rows(), half = cos.cols();
  expect(x.cols() == heads * head_dim && 2 * half <= head_dim, "rope", "shape");
  expect(pos0 + T <= cos.rows(), "rope", "positions beyond the table");
  float* xs = x.as<float>();
  const float* cs = cos.as<float>();
  const float* sn = sin.as<float>();
  for (std::int64_t t = 0; t < T; ++t) {
    const float* c = cs + (pos0 + t) * half;
    const float* s = sn + (pos0 + t) * half;
    for (std::int64_t h = 0; h < heads; ++h) {
      float* v = xs + t * heads * head_dim + h * head_dim;
      // rotate half: pairs (i, i + half); dims past 2 * half (partial rotary) pass through unchanged
      for (std::int64_t i = 0; i < half; ++i) {
        const float a = v[i], b = v[i + half];
        v[i] = a * c[i] - b * s[i];
        v[i + half] = b * c[i] + a * s[i];
      }
    }
  }
}

void CpuBackend::attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionShape& s, Tensor& out) {
  const std::int64_t Tq = q.rows(), nh = s.num_heads, nkv = s.num_kv_heads, hd = s.head_dim;
  expect(nkv > 0 && nh % nkv == 0, "attention", "num_heads must be a multiple of num_kv_heads");
  expect(q.cols() == nh * hd && out.cols() == nh * hd && out.rows() == Tq, "attention", "q/out shape");
  expect(k.cols() == nkv * hd && v.cols() == nkv * hd && s.kv_len <= k.rows() && s.kv_len <= v.rows(), "attention",
         "k/v shape");
  expect(s.q_pos0 + Tq <= s.kv_len, "attention", "queries beyond the keys");
  const std::int64_t group = nh / nkv;
  // A block of query rows of one head at a time: scores S = Q·Kᵀ and the output P·V as two GEMMs over the keys the
  // block sees (causal, and the window's left edge), the softmax between them row by row. Inside the parallel loop
  // the GEMMs run single-threaded (OpenBLAS's OpenMP build does so by itself inside a parallel region).
  constexpr std::int64_t kBlock = 64;
  const std::int64_t blocks = (Tq + kBlock - 1) / kBlock;
  const float* qs = q.as<float>();
  const float* ks = k.as<float>();
  const float* vs = v.as<float>();
  float* os = out.as<float>();
  const int ldq = static_cast<int>(nh * hd), ldkv = static_cast<int>(nkv * hd);
  const auto first_key = [&](std::int64_t pos) { return s.window > 0 ? std::max<std::int64_t>(0, pos - s.window + 1) : 0; };
#pragma omp parallel if (worth_threads(nh * Tq * s.kv_len * hd / 2))
  {
    std::vector<float> scores;
    std::vector<float> row_sum(static_cast<std::size_t>(kBlock));
#pragma omp for collapse(2) schedule(dynamic, 1)
    for (std::int64_t h = 0; h < nh; ++h) {
      for (std::int64_t b = 0; b < blocks; ++b) {
        const std::int64_t i0 = b * kBlock, n = std::min(kBlock, Tq - i0), kvh = h / group;
        const std::int64_t c0 = first_key(s.q_pos0 + i0), L = s.q_pos0 + i0 + n - c0;
        scores.resize(static_cast<std::size_t>(n * L));
        float* S = scores.data();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n), static_cast<int>(L), static_cast<int>(hd),
                    s.scale, qs + i0 * ldq + h * hd, ldq, ks + c0 * ldkv + kvh * hd, ldkv, 0.0f, S, static_cast<int>(L));
        for (std::int64_t r = 0; r < n; ++r) {
          float* row = S + r * L;
          const std::int64_t pos = s.q_pos0 + i0 + r, lo = first_key(pos) - c0, hi = pos - c0;  // keys [lo, hi]
          if (s.softcap > 0)
            for (std::int64_t j = lo; j <= hi; ++j) row[j] = s.softcap * std::tanh(row[j] / s.softcap);
          row_sum[static_cast<std::size_t>(r)] = softmax_exp_row(row, lo, hi, L);
        }
        float* o = os + i0 * ldq + h * hd;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(hd), static_cast<int>(L),
                    1.0f, S, static_cast<int>(L), vs + c0 * ldkv + kvh * hd, ldkv, 0.0f, o, ldq);
        for (std::int64_t r = 0; r < n; ++r) {
          const float inv = 1.0f / row_sum[static_cast<std::size_t>(r)];
          for (std::int64_t d = 0; d < hd; ++d) o[r * ldq + d] *= inv;
        }
      }
    }
  }
}

void CpuBackend::copy_rows(const Tensor& src, Tensor& dst, std::int64_t dst_row) {
  expect(src.cols() == dst.cols() && dst_row + src.rows() <= dst.rows() && src.dtype == dst.dtype, "copy_rows", "shape");
  std::memcpy(static_cast<unsigned char*>(dst.data) + static_cast<std::size_t>(dst_row * dst.cols()) * dtype_size(dst.dtype),
              src.data, src.nbytes());
}

void CpuBackend::glu(const Tensor& gate, const Tensor& up, Activation f, Tensor& out) {
  expect(gate.numel() == up.numel() && out.numel() == gate.numel(), "glu", "shape");
  const float* g = gate.as<float>();
  const float* u = up.as<float>();
  float* o = out.as<float>();
  const std::int64_t n = gate.numel();
  if (f == Activation::Silu) {  // the common case, vectorised; threads over blocks of 16K values
    constexpr std::int64_t kPiece = 1 << 14;
#pragma omp parallel for if (worth_threads(n))
    for (std::int64_t i0 = 0; i0 < n; i0 += kPiece) silu_product(g + i0, u + i0, o + i0, std::min(kPiece, n - i0));
    return;
  }
  for (std::int64_t i = 0; i < n; ++i) o[i] = activation_value(g[i], f) * u[i];
}

void CpuBackend::token_logprobs(const Tensor& x, const Tensor& w, std::span<const std::int32_t> targets,
                                std::span<double> logprobs, std::span<std::uint8_t> greedy, float softcap) {
  const std::int64_t T = x.rows(), H = x.cols(), V = w.rows();
  expect(w.cols() == H, "token_logprobs", "inner dimensions differ");
  expect(static_cast<std::int64_t>(targets.size()) == T && logprobs.size() == targets.size() && greedy.size() == targets.size(),
         "token_logprobs", "one target per row");
  const std::int64_t C = vocab_chunk(T, V);
  Tensor buf = alloc(DType::F32, {T, C});
  std::vector<RowScore> rows(static_cast<std::size_t>(T));
  for (std::int64_t c0 = 0; c0 < V; c0 += C) {
    const std::int64_t n = std::min(C, V - c0);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(T), static_cast<int>(n), static_cast<int>(H), 1.0f,
                x.as<float>(), static_cast<int>(H), w.as<float>() + c0 * H, static_cast<int>(H), 0.0f, buf.as<float>(),
                static_cast<int>(C));  // the first n of each row's C columns
#pragma omp parallel for if (worth_threads(T * n))
    for (std::int64_t t = 0; t < T; ++t) {
      float* r = buf.as<float>() + t * C;
      if (softcap > 0)
        for (std::int64_t v = 0; v < n; ++v) r[v] = softcap * std::tanh(r[v] / softcap);
      // e^x in double, not the float exp_approx: the log-likelihood of given logits is exact to 1e-9 (tests and the
      // store's numbers rely on it)
      const RowLogits chunk = max_and_sum_exp(r, n);
      RowScore& row = rows[static_cast<std::size_t>(t)];
      row.merge(chunk.max, chunk.sum_exp, c0 + chunk.argmax);
      const std::int32_t target = targets[static_cast<std::size_t>(t)];
      if (target >= c0 && target < c0 + n) row.target = r[target - c0];
    }
  }
  for (std::int64_t t = 0; t < T; ++t) {
    const auto i = static_cast<std::size_t>(t);
    const bool scored = targets[i] >= 0;
    expect(!scored || targets[i] < V, "token_logprobs", "target outside the vocabulary");
    logprobs[i] = scored ? rows[i].logprob() : 0.0;
    greedy[i] = scored && rows[i].argmax == targets[i];
  }
}

void CpuBackend::token_argmax(const Tensor& x, const Tensor& w, float softcap, std::span<std::int32_t> next) {
  const std::int64_t T = x.rows(), H = x.cols(), V = w.rows();
  expect(w.cols() == H && static_cast<std::int64_t>(next.size()) == T, "token_argmax", "shape");
  const std::int64_t C = vocab_chunk(T, V);
  Tensor buf = alloc(DType::F32, {T, C});
  std::vector<float> best(static_cast<std::size_t>(T), -std::numeric_limits<float>::infinity());
  std::vector<std::int64_t> arg(static_cast<std::size_t>(T), 0);
  for (std::int64_t c0 = 0; c0 < V; c0 += C) {
    const std::int64_t n = std::min(C, V - c0);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(T), static_cast<int>(n), static_cast<int>(H), 1.0f,
                x.as<float>(), static_cast<int>(H), w.as<float>() + c0 * H, static_cast<int>(H), 0.0f, buf.as<float>(),
                static_cast<int>(C));
    for (std::int64_t t = 0; t < T; ++t) {
      const float* r = buf.as<float>() + t * C;
      auto& b = best[static_cast<std::size_t>(t)];
      for (std::int64_t v = 0; v < n; ++v) {
        const float z = softcap > 0 ? softcap * std::tanh(r[v] / softcap) : r[v];
        if (z > b) {  // strictly greater: the first index of the max, as torch.argmax
          b = z;
          arg[static_cast<std::size_t>(t)] = c0 + v;
        }
      }
    }
  }
  for (std::int64_t t = 0; t < T; ++t) next[static_cast<std::size_t>(t)] = static_cast<std::int32_t>(arg[static_cast<std::size_t>(t)]);
}

void CpuBackend::activate(Tensor& x, Activation f) {
  expect_f32(x, "activate");
  float* v = x.as<float>();
  const std::int64_t n = x.numel();
  for (std::int64_t i = 0; i < n; ++i) v[i] = activation_value(v[i], f);
}

void CpuBackend::softcap(Tensor& x, float cap) {
  expect_f32(x, "softcap");
  expect(cap > 0, "softcap", "the cap must be positive");
  float* v = x.as<float>();
  const std::int64_t n = x.numel();
  for (std::int64_t i = 0; i < n; ++i) v[i] = cap * std::tanh(v[i] / cap);
}

void CpuBackend::scale(Tensor& x, float s) {
  expect_f32(x, "scale");
  float* v = x.as<float>();
  const std::int64_t n = x.numel();
  for (std::int64_t i = 0; i < n; ++i) v[i] *= s;
}

void CpuBackend::fill(Tensor& x, float value) {
  expect_f32(x, "fill");
  std::fill(x.as<float>(), x.as<float>() + x.numel(), value);
}

}  // namespace lmscope
