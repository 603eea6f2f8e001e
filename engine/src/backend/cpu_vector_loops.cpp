// Compiled with -fno-trapping-math (a float select is otherwise control flow to the vectoriser) and, with GCC,
// -fno-thread-jumps (engine/CMakeLists.txt says why).
#include "backend/cpu_vector_loops.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/fast_exp.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define LMSCOPE_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define LMSCOPE_VECTOR_CLONES
#endif

namespace lmscope::cpu {
namespace {

// The maximum of x[0, n) (NaNs ignored, -inf when empty) in 16 running lanes: GCC does not vectorise a max
// reduction of floats (std::max or `omp simd reduction(max)`: a scalar vmaxss chain, half the softmax's time), but
// does an elementwise select into an array.
inline float max_of(const float* x, std::int64_t n) {
  constexpr int kLanes = 16;
  float lanes[kLanes];
  for (float& l : lanes) l = -std::numeric_limits<float>::infinity();
  std::int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] = x[j + l] > lanes[l] ? x[j + l] : lanes[l];
  float m = -std::numeric_limits<float>::infinity();
  for (const float l : lanes) m = l > m ? l : m;
  for (; j < n; ++j) m = x[j] > m ? x[j] : m;
  return m;
}

}  // namespace

LMSCOPE_VECTOR_CLONES
float softmax_exp_row(float* row, std::int64_t lo, std::int64_t hi, std::int64_t L) {
  const float mx = max_of(row + lo, hi - lo + 1);
  for (std::int64_t j = 0; j < lo; ++j) row[j] = 0;
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (std::int64_t j = lo; j <= hi; ++j) sum += row[j] = exp_approx(row[j] - mx);
  for (std::int64_t j = hi + 1; j < L; ++j) row[j] = 0;
  return sum;
}

LMSCOPE_VECTOR_CLONES
void gated_recurrence_token(float* S, const float* g, bool per_channel, const float* q, const float* k, const float* v,
                            float scale, std::int64_t dk, std::int64_t dv, float* decay, float* o) {
  if (per_channel) {
#pragma omp simd
    for (std::int64_t e = 0; e < dk; ++e) decay[e] = exp_approx(g[e]);
  } else {
    const float d = exp_approx(g[0]);
    for (std::int64_t e = 0; e < dk; ++e) decay[e] = d;
  }
  for (std::int64_t j = 0; j < dv; ++j) o[j] = 0.0f;
  for (std::int64_t e = 0; e < dk; ++e) {
    const float de = decay[e], ke = k[e], qe = scale * q[e];
    float* row = S + e * dv;
#pragma omp simd
    for (std::int64_t j = 0; j < dv; ++j) {
      row[j] = de * row[j] + ke * v[j];
      o[j] += qe * row[j];
    }
  }
}

LMSCOPE_VECTOR_CLONES
void selective_scan_channels(const float* x, const float* delta, const float* bias, const float* A, const float* B,
                             const float* C, const float* D, const float* z, std::int64_t T, std::int64_t Dn, std::int64_t N,
                             std::int64_t d0, std::int64_t d1, float* h, float* out) {
  constexpr std::int64_t kWidth = 256;  // channels per pass: dt, u and y stay in L1
  float dt[kWidth], u[kWidth], y[kWidth];
  for (std::int64_t c0 = d0; c0 < d1; c0 += kWidth) {
    const std::int64_t w = std::min(kWidth, d1 - c0);
    for (std::int64_t t = 0; t < T; ++t) {
      const float* xt = x + t * Dn + c0;
#pragma omp simd
      for (std::int64_t i = 0; i < w; ++i) {
        dt[i] = softplus_approx(delta[t * Dn + c0 + i] + bias[c0 + i]);
        u[i] = dt[i] * xt[i];
        y[i] = 0.0f;
      }
      for (std::int64_t n = 0; n < N; ++n) {
        const float b = B[t * N + n], c = C[t * N + n];
        const float* an = A + n * Dn + c0;
        float* hn = h + n * Dn + c0;
#pragma omp simd
        for (std::int64_t i = 0; i < w; ++i) {
          hn[i] = exp_approx(dt[i] * an[i]) * hn[i] + u[i] * b;
          y[i] += c * hn[i];
        }
      }
      const float* zt = z + t * Dn + c0;
      float* ot = out + t * Dn + c0;
#pragma omp simd
      for (std::int64_t i = 0; i < w; ++i) ot[i] = (y[i] + D[c0 + i] * xt[i]) * (zt[i] / (1.0f + exp_approx(-zt[i])));
    }
  }
}

LMSCOPE_VECTOR_CLONES
void silu_product(const float* g, const float* u, float* o, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) o[i] = g[i] / (1.0f + exp_approx(-g[i])) * u[i];
}

LMSCOPE_VECTOR_CLONES
void rmsnorm_row(const float* x, const float* w, float eps, std::int64_t n, float* out) {
  double ss = 0;
#pragma omp simd reduction(+ : ss)
  for (std::int64_t c = 0; c < n; ++c) ss += static_cast<double>(x[c]) * x[c];
  const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
#pragma omp simd
  for (std::int64_t c = 0; c < n; ++c) out[c] = x[c] * inv * w[c];
}

LMSCOPE_VECTOR_CLONES
RowLogits max_and_sum_exp(const float* r, std::int64_t n) {
  RowLogits out;
  if (n <= 0) return out;
  const float mx = max_of(r, n);
  std::int64_t best = 0;
  while (best < n && !(r[best] == mx)) ++best;
  out.argmax = best < n ? best : 0;  // a NaN row: index 0, and the sum is NaN
  out.max = mx;
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (std::int64_t v = 0; v < n; ++v) sum += exp_nonpositive(static_cast<double>(r[v]) - mx);
  out.sum_exp = sum;
  return out;
}

}  // namespace lmscope::cpu
