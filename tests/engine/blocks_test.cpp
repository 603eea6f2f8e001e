// Shared decoder blocks on their own: the KV cache's sliding-window ring and fla's BitLinear projection.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "backend/cpu_backend.h"
#include "models/kv_cache.h"
#include "models/projection.h"

namespace lmscope {
namespace {

CpuBackend cpu;

Tensor random_tensor(std::vector<std::int64_t> shape, std::mt19937& rng) {
  Tensor t = cpu.alloc(DType::F32, std::move(shape));
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.as<float>()[i] = n(rng);
  return t;
}

std::vector<float> values(const Tensor& t) { return {t.as<float>(), t.as<float>() + t.numel()}; }

TEST(KvCacheRing, KeepsOnlyTheWindowAndGivesWindowedAttention) {
  // 2 query heads over 1 KV head of 4 dims; window 5; the sequence arrives as 3 tokens, then 1 at a time, then 7,
  // then 1 at a time: every ring position is overwritten several times.
  std::mt19937 rng(9);
  const std::int64_t T = 31, w = 5, hd = 4;
  const Tensor q = random_tensor({T, 2 * hd}, rng), k = random_tensor({T, hd}, rng), v = random_tensor({T, hd}, rng);
  AttentionShape shape;
  shape.num_heads = 2;
  shape.num_kv_heads = 1;
  shape.head_dim = hd;
  shape.scale = 0.5f;
  // reference: all keys kept, the window applied by the mask
  Tensor expected = cpu.alloc(DType::F32, {T, 2 * hd});
  AttentionShape full = shape;
  full.kv_len = T;
  full.window = w;
  cpu.attention(q, k, v, full, expected);

  KvCache ring(hd, w);
  std::vector<float> got;
  std::int64_t t = 0;
  for (std::int64_t piece : {3, 1, 1, 1, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}) {
    Tensor out = cpu.alloc(DType::F32, {piece, 2 * hd});
    ring.attend(cpu, q.slice_rows(t, piece), k.slice_rows(t, piece), v.slice_rows(t, piece), shape, out);
    const auto o = values(out);
    got.insert(got.end(), o.begin(), o.end());
    t += piece;
  }
  ASSERT_EQ(t, T);
  EXPECT_EQ(ring.length(), T);
  EXPECT_EQ(ring.capacity(), w);  // O(window) memory
  const auto want = values(expected);
  double diff = 0;
  for (std::size_t i = 0; i < want.size(); ++i) diff = std::max(diff, std::fabs(static_cast<double>(got[i]) - want[i]));
  EXPECT_LT(diff, 1e-5);

  KvCache growing(hd, 0);
  Tensor out = cpu.alloc(DType::F32, {T, 2 * hd});
  growing.attend(cpu, q, k, v, shape, out);
  EXPECT_GE(growing.capacity(), T);
}

TEST(BitLinearProjection, NormQuantiseAndTernaryWeights) {
  // fla's BitLinear: y = quant8(rmsnorm(x; w_norm, eps 1e-6)) · ternary(W)ᵀ, computed here independently in double
  std::mt19937 rng(4);
  const std::int64_t T = 3, in = 16, out_f = 5;
  const Tensor x = random_tensor({T, in}, rng), w = random_tensor({out_f, in}, rng), nw = random_tensor({in}, rng);
  Projection p;
  p.bitlinear = true;
  p.input_norm = nw;
  p.weight = cpu.quantize_weight_ternary(w, &p.out_scale);
  Tensor y = cpu.alloc(DType::F32, {T, out_f});
  project(cpu, p, x, y);

  double mean_abs = 0;
  for (float e : values(w)) mean_abs += std::fabs(e);
  mean_abs /= static_cast<double>(w.numel());
  int nonzero = 0;
  for (std::int64_t r = 0; r < T; ++r) {
    std::vector<double> xn(static_cast<std::size_t>(in));
    double ss = 0;
    for (std::int64_t c = 0; c < in; ++c) ss += std::pow(x.as<float>()[r * in + c], 2);
    double mx = 0;
    for (std::int64_t c = 0; c < in; ++c) {
      xn[c] = x.as<float>()[r * in + c] / std::sqrt(ss / in + 1e-6) * nw.as<float>()[c];
      mx = std::max(mx, std::fabs(xn[c]));
    }
    for (auto& e : xn) e = std::round(e * 127 / mx) * mx / 127;
    for (std::int64_t o = 0; o < out_f; ++o) {
      double acc = 0;
      for (std::int64_t c = 0; c < in; ++c) {
        const double tern = std::clamp(std::nearbyint(w.as<float>()[o * in + c] / mean_abs), -1.0, 1.0);
        nonzero += tern != 0;
        acc += xn[c] * tern * mean_abs;
      }
      EXPECT_NEAR(y.as<float>()[r * out_f + o], acc, 1e-4) << r << "," << o;
    }
  }
  EXPECT_GT(nonzero, 0);
}

}  // namespace
}  // namespace lmscope
