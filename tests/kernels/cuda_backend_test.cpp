// Every op of the CUDA backend against the CPU reference on fresh random inputs (float32 mode). Skips without a GPU.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "backend/cpu_backend.h"
#include "backend/cuda_backend.h"
#include "lmscope/error.h"
#include "lmscope_kernels/cuda_device.h"
#include "lmscope_kernels/ops.h"

namespace lmscope {
namespace {

class CudaOps : public testing::Test {
 protected:
  void SetUp() override {
    if (cuda::list_devices().empty()) GTEST_SKIP() << "no CUDA device (" << cuda::runtime_status() << "): skipping";
    gpu_ = std::make_unique<CudaBackend>(0);
  }

  // The same random values on both backends.
  std::pair<Tensor, Tensor> random(std::vector<std::int64_t> shape, float scale = 1.0f) {
    Tensor c = cpu_.alloc(DType::F32, shape), g = gpu_->alloc(DType::F32, shape);
    std::vector<float> v(static_cast<std::size_t>(c.numel()));
    std::normal_distribution<float> n(0.0f, scale);
    for (auto& x : v) x = n(rng_);
    cpu_.upload(v, c);
    gpu_->upload(v, g);
    return {c, g};
  }

  // Small integers (-3..3), the same on both backends: products are exact, so ties are real and argmax results
  // must agree exactly.
  std::pair<Tensor, Tensor> integers(std::vector<std::int64_t> shape) {
    Tensor c = cpu_.alloc(DType::F32, shape), g = gpu_->alloc(DType::F32, shape);
    std::vector<float> v(static_cast<std::size_t>(c.numel()));
    std::uniform_int_distribution<int> d(-3, 3);
    for (auto& x : v) x = static_cast<float>(d(rng_));
    cpu_.upload(v, c);
    gpu_->upload(v, g);
    return {c, g};
  }
  // Poisoned outputs: every element must be written.
  std::pair<Tensor, Tensor> output(std::vector<std::int64_t> shape) {
    Tensor c = cpu_.alloc(DType::F32, shape), g = gpu_->alloc(DType::F32, shape);
    std::vector<float> nan(static_cast<std::size_t>(c.numel()), std::numeric_limits<float>::quiet_NaN());
    cpu_.upload(nan, c);
    gpu_->upload(nan, g);
    return {c, g};
  }

  // The fused LM-head scoring of the same rows and head on the CPU and on `gpu`: log-probabilities within tol and
  // identical greedy flags (with integer inputs the ties are real, so the first index must win on both).
  void expect_same_scores(const Tensor& xc, const Tensor& wc, Backend& gpu, const Tensor& xg, const Tensor& wg,
                          const std::vector<std::int32_t>& targets, double tol) {
    std::vector<double> lc(targets.size()), lg(targets.size());
    std::vector<std::uint8_t> gc(targets.size()), gg(targets.size());
    cpu_.token_logprobs(xc, wc, targets, lc, gc);
    gpu.token_logprobs(xg, wg, targets, lg, gg);
    double worst = 0;
    std::size_t greedy_diff = 0;
    for (std::size_t i = 0; i < lc.size(); ++i) {
      worst = std::max(worst, std::fabs(lc[i] - lg[i]));
      greedy_diff += gc[i] != gg[i];
    }
    EXPECT_LT(worst, tol);
    EXPECT_EQ(greedy_diff, 0u);
  }

  void expect_close(const Tensor& c, const Tensor& g, double tol, const char* what) {
    std::vector<float> a(static_cast<std::size_t>(c.numel())), b(a.size());
    cpu_.download(c, a);
    gpu_->download(g, b);
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const double d = std::fabs(static_cast<double>(a[i]) - b[i]) / (1.0 + std::fabs(a[i]));
      if (!(d <= worst)) worst = d;  // NaN fails
    }
    EXPECT_LE(worst, tol) << what;
  }

  CpuBackend cpu_;
  std::unique_ptr<CudaBackend> gpu_;
  std::mt19937 rng_{42};
};

TEST_F(CudaOps, EmbedRmsnormAddSwiglu) {
  auto [tc, tg] = random({300, 96});
  std::vector<std::int32_t> ids{0, 299, 17, 17, 5};
  auto [ec, eg] = output({5, 96});
  cpu_.embed(tc, ids, ec);
  gpu_->embed(tg, ids, eg);
  expect_close(ec, eg, 0, "embed");

  auto [xc, xg] = random({33, 1000});
  auto [wc, wg] = random({1000});
  auto [oc, og] = output({33, 1000});
  cpu_.rmsnorm(xc, wc, 1e-5f, oc);
  gpu_->rmsnorm(xg, wg, 1e-5f, og);
  expect_close(oc, og, 1e-5, "rmsnorm");

  auto [yc, yg] = random({33, 1000});
  cpu_.add(xc, yc);
  gpu_->add(xg, yg);
  expect_close(xc, xg, 1e-6, "add");

  auto [sc, sg] = output({33, 1000});
  cpu_.swiglu(xc, yc, sc);
  gpu_->swiglu(xg, yg, sg);
  expect_close(sc, sg, 1e-5, "swiglu");
}

// Short rows take one warp per row, longer ones a block (kept in registers up to 4096 values, re-read beyond): every
// width around those limits, out of place and in place (the q/k norms), and both gated norms.
TEST_F(CudaOps, RmsnormOfEveryRowWidthAndTheGatedNorms) {
  for (std::int64_t C : {64, 100, 128, 512, 1000, 1024, 1025, 4096, 5000}) {
    const std::string at = "C=" + std::to_string(C);
    auto [xc, xg] = random({37, C});
    auto [wc, wg] = random({C});
    auto [gc, gg] = random({37, C}, 2.0f);
    auto [oc, og] = output({37, C});
    cpu_.rmsnorm(xc, wc, 1e-5f, oc);
    gpu_->rmsnorm(xg, wg, 1e-5f, og);
    expect_close(oc, og, 1e-5, ("rmsnorm " + at).c_str());
    cpu_.rmsnorm_gated(xc, wc, gc, 1e-5f, oc);
    gpu_->rmsnorm_gated(xg, wg, gg, 1e-5f, og);
    expect_close(oc, og, 1e-5, ("rmsnorm_gated " + at).c_str());
    cpu_.rmsnorm_of_gated(xc, wc, gc, 1e-5f, oc);
    gpu_->rmsnorm_of_gated(xg, wg, gg, 1e-5f, og);
    expect_close(oc, og, 1e-5, ("rmsnorm_of_gated " + at).c_str());
    cpu_.rmsnorm(xc, wc, 1e-5f, xc);
    gpu_->rmsnorm(xg, wg, 1e-5f, xg);
    expect_close(xc, xg, 1e-5, ("rmsnorm in place " + at).c_str());
  }
}

TEST_F(CudaOps, LinearWithAndWithoutBias) {
  for (auto [T, K, N] : {std::tuple{1, 64, 256}, std::tuple{37, 128, 96}, std::tuple{200, 512, 1000}}) {
    auto [xc, xg] = random({T, K});
    auto [wc, wg] = random({N, K}, 0.05f);
    auto [bc, bg] = random({N});
    auto [oc, og] = output({T, N});
    cpu_.linear(xc, wc, nullptr, oc);
    gpu_->linear(xg, wg, nullptr, og);
    expect_close(oc, og, 1e-5, "linear");
    cpu_.linear(xc, wc, &bc, oc);
    gpu_->linear(xg, wg, &bg, og);
    expect_close(oc, og, 1e-5, "linear+bias");
  }
}

TEST_F(CudaOps, RopeAtAnOffset) {
  auto [xc, xg] = random({20, 4 * 64});
  auto [cc, cg] = random({100, 24});  // partial rotary: 48 of 64 dims rotate
  auto [sc, sg] = random({100, 24});
  cpu_.rope(xc, 4, 64, cc, sc, 70);
  gpu_->rope(xg, 4, 64, cg, sg, 70);
  expect_close(xc, xg, 1e-6, "rope");
}

// Three sequences of 20 rows in one launch, each from position 0 (the CPU rotates them one by one).
TEST_F(CudaOps, RopeOfABatchStartsEachSequenceAtZero) {
  auto [xc, xg] = random({3 * 20, 4 * 64});
  auto [cc, cg] = random({100, 32});
  auto [sc, sg] = random({100, 32});
  cpu_.rope_batch(xc, 3, 4, 64, cc, sc);
  gpu_->rope_batch(xg, 3, 4, 64, cg, sg);
  expect_close(xc, xg, 1e-6, "rope_batch");  // a kernel that kept counting positions differs from row 20 on
}

TEST_F(CudaOps, AttentionCausalGqaWindowAndDecode) {
  struct Shape {
    std::int64_t Tq, nh, nkv, hd, q_pos0, window;
  };
  for (const Shape s : {Shape{1, 4, 4, 32, 0, 0}, Shape{200, 4, 2, 32, 0, 0}, Shape{300, 8, 2, 64, 0, 64},
                        Shape{1, 8, 2, 128, 299, 0}, Shape{5, 6, 3, 256, 140, 50}, Shape{130, 2, 1, 80, 0, 129}}) {
    const std::int64_t kv_len = s.q_pos0 + s.Tq, cap = kv_len + 7;
    auto [qc, qg] = random({s.Tq, s.nh * s.hd});
    auto [kc, kg] = random({cap, s.nkv * s.hd});
    auto [vc, vg] = random({cap, s.nkv * s.hd});
    auto [oc, og] = output({s.Tq, s.nh * s.hd});
    AttentionShape a{s.nh, s.nkv, s.hd, s.q_pos0, kv_len, s.window, static_cast<float>(1.0 / std::sqrt(double(s.hd)))};
    cpu_.attention(qc, kc, vc, a, oc);
    gpu_->attention(qg, kg, vg, a, og);
    expect_close(oc, og, 2e-5, ("attention Tq=" + std::to_string(s.Tq) + " hd=" + std::to_string(s.hd)).c_str());
  }
}

TEST_F(CudaOps, FusedTokenLogprobsAcrossChunks) {
  // Integer inputs make many tied logits (the first index must win). 40000 rows × 2501 columns: three vocabulary
  // chunks of 840 columns on the GPU, the last of 821 (odd: the reduction's tail past its four-float loads).
  for (const auto [T, V] : {std::pair<std::int64_t, std::int64_t>{30000, 1000}, {40000, 2501}}) {
    SCOPED_TRACE("V " + std::to_string(V));
    constexpr std::int64_t H = 64;
    auto [xc, xg] = integers({T, H});
    auto [wc, wg] = integers({V, H});
    std::vector<std::int32_t> targets(static_cast<std::size_t>(T));
    for (std::int64_t t = 0; t < T; ++t) targets[static_cast<std::size_t>(t)] = static_cast<std::int32_t>((t * 7919) % V);
    targets[3] = -1;
    targets[5] = static_cast<std::int32_t>(V - 1);
    expect_same_scores(xc, wc, *gpu_, xg, wg, targets, 1e-5);  // the GPU sums exponentials in float32 within a chunk
    std::vector<std::int32_t> nc(targets.size()), ng(targets.size());
    cpu_.token_argmax(xc, wc, 0.0f, nc);
    gpu_->token_argmax(xg, wg, 0.0f, ng);
    EXPECT_EQ(nc, ng);
  }
}

// One query row over a long range: the split-KV decode kernel (attention_decode.cu) against the CPU.
struct DecodeShape {
  std::int64_t nh, nkv, hd, q_pos0, window;
  float softcap;
};
const DecodeShape kDecodeShapes[] = {{32, 8, 64, 8191, 0, 0},   {14, 2, 64, 0, 0, 0},      {4, 4, 128, 5000, 1000, 0},
                                     {16, 2, 128, 3000, 0, 30}, {8, 4, 256, 1500, 0, 0},   {8, 1, 64, 16383, 4096, 0},
                                     {2, 2, 256, 63, 10, 50}};

TEST_F(CudaOps, DecodeAttentionSplitsLongRanges) {
  setenv("LMSCOPE_SPLIT_DECODE", "1", 1);  // on even if the environment turned it off
  for (const auto& s : kDecodeShapes) {
    const std::int64_t kv_len = s.q_pos0 + 1, cap = kv_len + 3;
    auto [qc, qg] = random({1, s.nh * s.hd});
    auto [kc, kg] = random({cap, s.nkv * s.hd});
    auto [vc, vg] = random({cap, s.nkv * s.hd});
    auto [oc, og] = output({1, s.nh * s.hd});
    AttentionShape a{s.nh, s.nkv, s.hd, s.q_pos0, kv_len, s.window, static_cast<float>(1.0 / std::sqrt(double(s.hd))), s.softcap};
    cpu_.attention(qc, kc, vc, a, oc);
    gpu_->attention(qg, kg, vg, a, og);
    expect_close(oc, og, 2e-5, ("decode attention pos=" + std::to_string(s.q_pos0) + " hd=" + std::to_string(s.hd) +
                                " G=" + std::to_string(s.nh / s.nkv)).c_str());
  }
}

// A decoding step of several sequences (Backend::attention_decode_step): the CUDA backend's three launches (RoPE +
// cache writes, split-KV attention, merge) against the CPU's per-row rope, copy_rows and attention. Sequences have
// their own caches and lengths (a one-key cache, ring-sized ones, long ones), 37 sequences cross the 32 rows one
// launch takes, and partial rotary and soft-capping are covered.
struct DecodeStepCase {
  std::int64_t n, nh, nkv, hd, half, max_len;
  float softcap;
};
const DecodeStepCase kDecodeStepCases[] = {{5, 32, 8, 64, 32, 3000, 0}, {37, 8, 2, 128, 16, 300, 0}, {3, 4, 4, 256, 0, 700, 30}};

template <typename Fixture>
void run_decode_step_case(Fixture& f, Backend& gpu, const DecodeStepCase& c, DType dtype, double tol) {
  std::mt19937 rng(7);
  const std::int64_t kvd = c.nkv * c.hd;
  auto [qc, qg] = f.make(gpu, {c.n, c.nh * c.hd}, dtype);
  auto [kc, kg] = f.make(gpu, {c.n, kvd}, dtype);
  auto [vc, vg] = f.make(gpu, {c.n, kvd}, dtype);
  auto [oc, og] = f.make(gpu, {c.n, c.nh * c.hd}, dtype);
  std::vector<Tensor> caches_c, caches_g;
  std::vector<std::int64_t> lens;
  std::uniform_int_distribution<std::int64_t> len(1, c.max_len);
  for (std::int64_t i = 0; i < c.n; ++i) {
    lens.push_back(i == 0 ? 1 : len(rng));  // keys already there + the new one
    for (int kv = 0; kv < 2; ++kv) {
      auto [cc, cg] = f.make(gpu, {lens.back() + 5, kvd}, dtype);
      caches_c.push_back(cc);
      caches_g.push_back(cg);
    }
  }
  const std::int64_t positions = c.max_len + 10, half = std::max<std::int64_t>(c.half, 1);
  auto [cosc, cosg] = f.make(gpu, {positions, half}, DType::F32);
  auto [sinc, sing] = f.make(gpu, {positions, half}, DType::F32);
  std::vector<KvDecodeSlot> sc, sg;
  for (std::int64_t i = 0; i < c.n; ++i) {
    const auto u = static_cast<std::size_t>(i);
    KvDecodeSlot a;
    a.write_row = (i % 3 == 1) ? 0 : lens[u] - 1;  // a ring slot at its start, or the next row of a growing cache
    a.kv_len = lens[u];
    a.pos = lens[u] - 1 + (i % 2) * 7;
    KvDecodeSlot b = a;
    a.k_cache = &caches_c[2 * u];
    a.v_cache = &caches_c[2 * u + 1];
    b.k_cache = &caches_g[2 * u];
    b.v_cache = &caches_g[2 * u + 1];
    if (c.half > 0) {
      a.cos = &cosc;
      a.sin = &sinc;
      b.cos = &cosg;
      b.sin = &sing;
    }
    sc.push_back(a);
    sg.push_back(b);
  }
  AttentionShape shape{c.nh, c.nkv, c.hd, 0, 0, 0, static_cast<float>(1.0 / std::sqrt(double(c.hd))), c.softcap};
  f.cpu().attention_decode_step(qc, kc, vc, sc, shape, oc);
  gpu.attention_decode_step(qg, kg, vg, sg, shape, og);
  const std::string what = "n=" + std::to_string(c.n) + " hd=" + std::to_string(c.hd);
  EXPECT_LE(f.error(oc, og, gpu), tol) << "decode step out, " << what;
  EXPECT_LE(f.error(qc, qg, gpu), tol) << "decode step rotated q, " << what;
  for (std::size_t j = 0; j < caches_c.size(); ++j) EXPECT_LE(f.error(caches_c[j], caches_g[j], gpu), tol) << "cache " << j << ", " << what;
}

// Makes the same values on the CPU (F32) and the GPU (`dtype`; bf16-representable so both see the same numbers).
struct DecodeStepFixture {
  CpuBackend& cpu_ref;
  std::mt19937& rng;
  CpuBackend& cpu() { return cpu_ref; }
  std::pair<Tensor, Tensor> make(Backend& gpu, std::vector<std::int64_t> shape, DType dtype) {
    Tensor c = cpu_ref.alloc(DType::F32, shape), g = gpu.alloc(dtype, shape);
    std::vector<float> v(static_cast<std::size_t>(c.numel()));
    std::normal_distribution<float> n(0.0f, 1.0f);
    for (auto& x : v) x = bf16_to_float(float_to_bf16(n(rng)));
    cpu_ref.upload(v, c);
    gpu.upload(v, g);
    return {c, g};
  }
  double error(const Tensor& c, const Tensor& g, Backend& gpu) {
    std::vector<float> a(static_cast<std::size_t>(c.numel())), b(a.size());
    cpu_ref.download(c, a);
    gpu.download(g, b);
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const double d = std::fabs(static_cast<double>(a[i]) - b[i]) / (1.0 + std::fabs(a[i]));
      if (!(d <= worst)) worst = d;  // NaN fails
    }
    return worst;
  }
};

TEST_F(CudaOps, DecodeStepOfSeveralSequencesMatchesTheCpu) {
  DecodeStepFixture f{cpu_, rng_};
  for (const auto& c : kDecodeStepCases) run_decode_step_case(f, *gpu_, c, DType::F32, 2e-5);
}

TEST_F(CudaOps, ConvolutionAndDeltaRuleStepsOfSeveralSequences) {
  for (std::int64_t n : {5, 33}) {
    const std::int64_t C = 200, K = 4, H = 2, HV = 4, dk = 64, dv = 96;
    auto [xc, xg] = random({n, C});
    auto [wc, wg] = random({C, K});
    auto [oc, og] = output({n, C});
    std::vector<Tensor> hc, hg;
    for (std::int64_t i = 0; i < n; ++i) {
      auto [a, b] = random({K - 1, C});
      hc.push_back(a);
      hg.push_back(b);
    }
    std::vector<Tensor*> pc, pg;
    for (std::size_t i = 0; i < hc.size(); ++i) {
      pc.push_back(&hc[i]);
      pg.push_back(&hg[i]);
    }
    cpu_.causal_conv1d_step_batch(xc, wc, pc, true, oc);
    gpu_->causal_conv1d_step_batch(xg, wg, pg, true, og);
    expect_close(oc, og, 1e-5, "conv step out");
    for (std::size_t i = 0; i < hc.size(); ++i) expect_close(hc[i], hg[i], 0, "conv step history");

    auto [qc, qg] = random({n, H * dk});
    auto [kc, kg] = random({n, H * dk});
    for (auto* t : {&qc, &kc}) cpu_.l2_normalize_heads(*t, dk, 1e-6f);
    for (auto* t : {&qg, &kg}) gpu_->l2_normalize_heads(*t, dk, 1e-6f);
    auto [vc, vg] = random({n, HV * dv});
    auto [bc, bg] = random({n, HV});
    cpu_.activate(bc, Activation::Sigmoid);
    gpu_->activate(bg, Activation::Sigmoid);
    auto [gc, gg] = random({n, HV}, 0.1f);
    cpu_.activate(gc, Activation::Relu);
    gpu_->activate(gg, Activation::Relu);
    cpu_.scale(gc, -1.0f);
    gpu_->scale(gg, -1.0f);
    std::vector<Tensor> sc, sg;
    for (std::int64_t i = 0; i < n; ++i) {
      auto [a, b] = random({HV, dk, dv}, 0.1f);
      sc.push_back(a);
      sg.push_back(b);
    }
    std::vector<Tensor*> qsc, qsg;
    for (std::size_t i = 0; i < sc.size(); ++i) {
      qsc.push_back(&sc[i]);
      qsg.push_back(&sg[i]);
    }
    auto [dc, dg] = output({n, HV * dv});
    const DeltaRuleShape shape{H, HV, dk, dv, 0.125f};
    cpu_.delta_rule_step_batch(qc, kc, vc, bc, &gc, shape, qsc, dc);
    gpu_->delta_rule_step_batch(qg, kg, vg, bg, &gg, shape, qsg, dg);
    expect_close(dc, dg, 1e-4, "delta rule step out");
    for (std::size_t i = 0; i < sc.size(); ++i) expect_close(sc[i], sg[i], 1e-4, "delta rule step state");
  }
}

TEST_F(CudaOps, TokenArgmaxAcrossChunksTakesTheFirstOfTies) {
  const std::int64_t T = 37, H = 64, V = 70000;  // several vocabulary chunks; rows like a decode step's batch
  auto [xc, xg] = integers({T, H});
  auto [wc, wg] = integers({V, H});
  for (float cap : {0.0f, 50.0f}) {  // 50: integer logits stay far apart after the cap (no near-ties from tanh rounding)
    std::vector<std::int32_t> nc(static_cast<std::size_t>(T), -1), ng(static_cast<std::size_t>(T), -1);
    cpu_.token_argmax(xc, wc, cap, nc);
    gpu_->token_argmax(xg, wg, cap, ng);
    EXPECT_EQ(nc, ng) << "softcap " << cap;
  }
}

TEST_F(CudaOps, CompareLogitsMatchesTheHostRowsAcrossBackends) {
  // Two CUDA backends, as two loaded models have: the second reads the first's memory after finish().
  CudaBackend other(0);
  const std::int64_t R = 19, V = 50000;
  auto [bc, bg] = random({R, V}, 3.0f);
  std::vector<float> hb(static_cast<std::size_t>(R * V)), hm(hb.size());
  cpu_.download(bc, hb);
  std::normal_distribution<float> n(0.0f, 0.5f);
  for (std::size_t i = 0; i < hm.size(); ++i) hm[i] = hb[i] + n(rng_);
  for (std::int64_t v = 0; v < V; v += 7) hm[static_cast<std::size_t>(3 * V + v)] = hb[static_cast<std::size_t>(3 * V + v)];
  // Row 5 identical in both: KL exactly 0. Row 6: a tie for the max in the base at 10 and 20.
  std::copy_n(hb.begin() + 5 * V, V, hm.begin() + 5 * V);
  hb[static_cast<std::size_t>(6 * V + 10)] = hb[static_cast<std::size_t>(6 * V + 20)] = 100.0f;
  Tensor base = other.alloc(DType::F32, {R, V}), model = gpu_->alloc(DType::F32, {R, V});
  other.upload(hb, base);
  gpu_->upload(hm, model);
  std::vector<std::int32_t> targets(static_cast<std::size_t>(R));
  for (std::int64_t r = 0; r < R; ++r) targets[static_cast<std::size_t>(r)] = r == 2 ? -1 : static_cast<std::int32_t>((r * 7919) % V);
  std::vector<LogitsComparison> got(static_cast<std::size_t>(R)), want(got.size());
  other.finish();
  gpu_->compare_logits(base, model, targets, got);
  Tensor cb = cpu_.alloc(DType::F32, {R, V}), cm = cpu_.alloc(DType::F32, {R, V});
  cpu_.upload(hb, cb);
  cpu_.upload(hm, cm);
  cpu_.compare_logits(cb, cm, targets, want);
  for (std::size_t r = 0; r < got.size(); ++r) {
    EXPECT_NEAR(got[r].kl, want[r].kl, 1e-6 * (1 + want[r].kl)) << "row " << r;
    EXPECT_NEAR(got[r].nll, want[r].nll, 1e-5 * (1 + want[r].nll)) << "row " << r;
    EXPECT_NEAR(got[r].base_nll, want[r].base_nll, 1e-5 * (1 + want[r].base_nll)) << "row " << r;
    EXPECT_EQ(got[r].same_top, want[r].same_top) << "row " << r;
  }
  EXPECT_EQ(got[5].kl, 0.0);
  EXPECT_TRUE(got[5].same_top);
  EXPECT_EQ(got[2].nll, 0.0);
  EXPECT_GT(got[0].kl, 0.01);
}

TEST_F(CudaOps, LinearAttentionOps) {
  // causal conv1d with the carried state, fed in two pieces
  for (bool silu : {false, true}) {
    auto [wc, wg] = random({96, 4});
    auto [stc, stg] = random({3, 96});
    for (std::int64_t T : {37, 2}) {
      auto [xc, xg] = random({T, 96});
      auto [oc, og] = output({T, 96});
      cpu_.causal_conv1d(xc, wc, stc, silu, oc);
      gpu_->causal_conv1d(xg, wg, stg, silu, og);
      expect_close(oc, og, 1e-5, "causal_conv1d");
      expect_close(stc, stg, 0, "causal_conv1d state");
    }
  }
  {
    auto [xc, xg] = random({17, 4 * 64});
    cpu_.l2_normalize_heads(xc, 64, 1e-6f);
    gpu_->l2_normalize_heads(xg, 64, 1e-6f);
    expect_close(xc, xg, 1e-5, "l2_normalize_heads");
    auto [yc, yg] = random({17, 4 * 48});
    cpu_.activate(yc, Activation::EluPlusOne);  // positive, as sum normalisation gets it
    gpu_->activate(yg, Activation::EluPlusOne);
    cpu_.sum_normalize_heads(yc, 48);
    gpu_->sum_normalize_heads(yg, 48);
    expect_close(yc, yg, 1e-5, "sum_normalize_heads");
  }
  for (Activation f : {Activation::Silu, Activation::Sigmoid, Activation::Relu, Activation::EluPlusOne,
                       Activation::Softplus, Activation::LogSigmoid}) {
    auto [xc, xg] = random({9, 100}, 3.0f);
    cpu_.activate(xc, f);
    gpu_->activate(xg, f);
    expect_close(xc, xg, 1e-6, "activate");
    cpu_.scale(xc, 0.3f);
    gpu_->scale(xg, 0.3f);
    expect_close(xc, xg, 1e-6, "scale");
  }
  {
    auto [ac, ag] = random({40, 6}, 10.0f);  // some above the softplus threshold of 20
    auto [lc, lg] = random({6});
    auto [bc, bg] = random({6});
    cpu_.decay_gate(ac, lc, bc);
    gpu_->decay_gate(ag, lg, bg);
    expect_close(ac, ag, 1e-5, "decay_gate");
    auto [xc, xg] = random({40, 200});
    auto [wc, wg] = random({200});
    auto [gc, gg] = random({40, 200});
    auto [oc, og] = output({40, 200});
    cpu_.rmsnorm_gated(xc, wc, gc, 1e-5f, oc);
    gpu_->rmsnorm_gated(xg, wg, gg, 1e-5f, og);
    expect_close(oc, og, 1e-5, "rmsnorm_gated");
    cpu_.quantize_activations_int8(xc);
    gpu_->quantize_activations_int8(xg);
    expect_close(xc, xg, 0, "quantize_activations_int8");
    cpu_.fill(xc, 0.25f);
    gpu_->fill(xg, 0.25f);
    expect_close(xc, xg, 0, "fill");
  }
}

TEST_F(CudaOps, DeltaRuleRecurrentAndChunked) {
  struct Shape {
    std::int64_t T, H, HV, dk, dv;
    bool gated;
  };
  for (const Shape s : {Shape{50, 2, 4, 64, 48, true}, Shape{33, 1, 1, 256, 40, false}, Shape{70, 3, 3, 32, 130, true}}) {
    auto [qc, qg] = random({s.T, s.H * s.dk});
    auto [kc, kg] = random({s.T, s.H * s.dk});
    cpu_.l2_normalize_heads(qc, s.dk, 1e-6f);
    gpu_->l2_normalize_heads(qg, s.dk, 1e-6f);
    cpu_.l2_normalize_heads(kc, s.dk, 1e-6f);
    gpu_->l2_normalize_heads(kg, s.dk, 1e-6f);
    auto [vc, vg] = random({s.T, s.HV * s.dv});
    auto [bc, bg] = random({s.T, s.HV});
    cpu_.activate(bc, Activation::Sigmoid);
    gpu_->activate(bg, Activation::Sigmoid);
    auto [gc, gg] = random({s.T, s.HV}, 0.1f);
    cpu_.activate(gc, Activation::Relu);
    gpu_->activate(gg, Activation::Relu);
    cpu_.scale(gc, -1.0f);  // log decays <= 0
    gpu_->scale(gg, -1.0f);
    auto [stc, stg] = random({s.HV, s.dk, s.dv}, 0.1f);
    auto [oc, og] = output({s.T, s.HV * s.dv});
    const DeltaRuleShape shape{s.H, s.HV, s.dk, s.dv, static_cast<float>(1.0 / std::sqrt(double(s.dk)))};
    cpu_.delta_rule_recurrent(qc, kc, vc, bc, s.gated ? &gc : nullptr, shape, stc, oc);
    gpu_->delta_rule_recurrent(qg, kg, vg, bg, s.gated ? &gg : nullptr, shape, stg, og);
    expect_close(oc, og, 1e-4, "delta_rule_recurrent out");
    expect_close(stc, stg, 1e-4, "delta_rule_recurrent state");
    // the chunked form from the updated state: the same function
    auto [o2c, o2g] = output({s.T, s.HV * s.dv});
    cpu_.delta_rule_chunked(qc, kc, vc, bc, s.gated ? &gc : nullptr, shape, 16, stc, o2c);
    gpu_->delta_rule_chunked(qg, kg, vg, bg, s.gated ? &gg : nullptr, shape, 16, stg, o2g);
    expect_close(o2c, o2g, 1e-4, "delta_rule_chunked out");
    expect_close(stc, stg, 1e-4, "delta_rule_chunked state");
  }
}

// --- bf16 mode: the tiled tensor-core attention, cuBLASLt products and the bf16 kernels ---
// Inputs are rounded to bf16 on the host first, so the CPU reference sees exactly the values the GPU multiplies;
// what remains is the GPU's own rounding (bf16 outputs: unit roundoff 2^-9 ≈ 2e-3; attention also rounds the softmax
// weights P to bf16 before P·V), hence relative tolerances of a few 2^-9.
class CudaBf16Ops : public CudaOps {
 protected:
  void SetUp() override {
    CudaOps::SetUp();
    if (!gpu_) return;
    bf_ = std::make_unique<CudaBackend>(0, true);
  }
  // The same bf16-representable random values: F32 on the CPU, `dtype` on the GPU.
  std::pair<Tensor, Tensor> random_bf(std::vector<std::int64_t> shape, DType dtype = DType::BF16, float scale = 1.0f) {
    Tensor c = cpu_.alloc(DType::F32, shape), g = bf_->alloc(dtype, shape);
    std::vector<float> v(static_cast<std::size_t>(c.numel()));
    std::normal_distribution<float> n(0.0f, scale);
    for (auto& x : v) x = bf16_to_float(float_to_bf16(n(rng_)));
    cpu_.upload(v, c);
    bf_->upload(v, g);
    return {c, g};
  }
  std::pair<Tensor, Tensor> output_bf(std::vector<std::int64_t> shape, DType dtype = DType::BF16) {
    Tensor c = cpu_.alloc(DType::F32, shape), g = bf_->alloc(dtype, shape);
    std::vector<float> nan(static_cast<std::size_t>(c.numel()), std::numeric_limits<float>::quiet_NaN());
    cpu_.upload(nan, c);
    bf_->upload(nan, g);
    return {c, g};
  }
  double rel_err(const Tensor& c, const Tensor& g) {
    std::vector<float> a(static_cast<std::size_t>(c.numel())), b(a.size());
    cpu_.download(c, a);
    bf_->download(g, b);
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const double d = std::fabs(static_cast<double>(a[i]) - b[i]) / (1.0 + std::fabs(a[i]));
      if (!(d <= worst)) worst = d;  // NaN fails
    }
    return worst;
  }
  // max |Δ| / max |reference|: the error against the output's scale (a bf16 product's error is relative to its
  // terms, not to a result that may cancel)
  double err_over_max(const Tensor& c, const Tensor& g) {
    std::vector<float> a(static_cast<std::size_t>(c.numel())), b(a.size());
    cpu_.download(c, a);
    bf_->download(g, b);
    double worst = 0, top = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
      if (!(d <= worst)) worst = d;  // NaN fails
      top = std::max(top, static_cast<double>(std::fabs(a[i])));
    }
    return worst / std::max(top, 1e-30);
  }
  std::unique_ptr<CudaBackend> bf_;
};

// The bf16 flash-attention kernels a test runs: mma.sync everywhere, and the Hopper wgmma kernel where it runs (an
// sm_90 device; head dims 64 and 128 — for other head dims attention_bf16 falls back to mma.sync, which the loop
// then covers twice). Sets the choice for the loop body and restores Auto after.
struct FlashKernels {
  std::vector<std::pair<cuda::AttentionBf16Kernel, const char*>> list{{cuda::AttentionBf16Kernel::MmaSync, "mma.sync"}};
  FlashKernels() {
    if (cuda::attention_bf16_wgmma_available(64)) list.emplace_back(cuda::AttentionBf16Kernel::Wgmma, "wgmma");
  }
  ~FlashKernels() { cuda::set_attention_bf16_kernel(cuda::AttentionBf16Kernel::Auto); }
};

TEST_F(CudaBf16Ops, FlashAttentionMatchesTheReference) {
  struct Shape {
    std::int64_t Tq, nh, nkv, hd, q_pos0, window;
  };
  FlashKernels kernels;
  for (const auto& [kernel, name] : kernels.list) {
    cuda::set_attention_bf16_kernel(kernel);
    for (const Shape s : {Shape{1, 4, 4, 32, 0, 0}, Shape{200, 4, 2, 32, 0, 0}, Shape{300, 8, 2, 64, 0, 64},
                          Shape{1, 8, 2, 128, 299, 0}, Shape{5, 6, 3, 64, 140, 50}, Shape{130, 2, 1, 128, 0, 129},
                          Shape{1000, 4, 1, 64, 0, 0}, Shape{64, 4, 2, 64, 500, 0}, Shape{77, 2, 2, 32, 33, 17},
                          Shape{700, 4, 1, 128, 0, 0}, Shape{333, 8, 2, 64, 1000, 300}, Shape{129, 4, 4, 128, 70, 0},
                          Shape{513, 2, 2, 64, 0, 1}}) {
      const std::int64_t kv_len = s.q_pos0 + s.Tq, cap = kv_len + 7;
      auto [qc, qg] = random_bf({s.Tq, s.nh * s.hd});
      auto [kc, kg] = random_bf({cap, s.nkv * s.hd});
      auto [vc, vg] = random_bf({cap, s.nkv * s.hd});
      auto [oc, og] = output_bf({s.Tq, s.nh * s.hd});
      AttentionShape a{s.nh, s.nkv, s.hd, s.q_pos0, kv_len, s.window, static_cast<float>(1.0 / std::sqrt(double(s.hd)))};
      cpu_.attention(qc, kc, vc, a, oc);
      bf_->attention(qg, kg, vg, a, og);
      EXPECT_LE(rel_err(oc, og), 1.2e-2) << name << " attention Tq=" << s.Tq << " hd=" << s.hd << " q_pos0=" << s.q_pos0
                                         << " window=" << s.window;
    }
  }
}

TEST_F(CudaBf16Ops, DecodeAttentionSplitsLongRanges) {
  setenv("LMSCOPE_SPLIT_DECODE", "1", 1);
  for (const auto& s : kDecodeShapes) {
    const std::int64_t kv_len = s.q_pos0 + 1, cap = kv_len + 3;
    auto [qc, qg] = random_bf({1, s.nh * s.hd});
    auto [kc, kg] = random_bf({cap, s.nkv * s.hd});
    auto [vc, vg] = random_bf({cap, s.nkv * s.hd});
    auto [oc, og] = output_bf({1, s.nh * s.hd});
    AttentionShape a{s.nh, s.nkv, s.hd, s.q_pos0, kv_len, s.window, static_cast<float>(1.0 / std::sqrt(double(s.hd))), s.softcap};
    cpu_.attention(qc, kc, vc, a, oc);
    bf_->attention(qg, kg, vg, a, og);
    EXPECT_LE(rel_err(oc, og), 1.2e-2) << "decode attention pos=" << s.q_pos0 << " hd=" << s.hd << " G=" << s.nh / s.nkv;
  }
}

// BitNet's product in both modes: the integer product is exact on the GPU (bf16, int8 or float32 operands), so both modes
// agree with the CPU's float32 product of the quantised values up to float32 roundings, in either rounding mode,
// with and without a bias, on an F32 or a BF16 output; the weight quantiser gives the CPU's values and scale.
TEST_F(CudaBf16Ops, BitLinearIsExactInBothModes) {
  // C = 320: bf16 mode keeps the ternary weights as int8 for an int8 product; C = 300 (not a multiple of 16): bf16
  for (const std::int64_t C : {300, 320}) {
    SCOPED_TRACE("C=" + std::to_string(C));
    const std::int64_t R = 37, N = 70;
    auto host = [&](std::vector<std::int64_t> shape, float sd) {
      std::vector<float> v(static_cast<std::size_t>(shape[0] * (shape.size() > 1 ? shape[1] : 1)));
      std::normal_distribution<float> n(0.0f, sd);
      for (auto& e : v) e = n(rng_);
      return v;
    };
    auto on = [](Backend& b, const std::vector<float>& v, std::vector<std::int64_t> shape) {
      Tensor t = b.alloc(DType::F32, std::move(shape));
      b.upload(v, t);
      return t;
    };
    auto fetch = [](Backend& b, const Tensor& t) {
      std::vector<float> v(static_cast<std::size_t>(t.numel()));
      b.download(t, v);
      return v;
    };
    CudaBackend* gpus[] = {gpu_.get(), bf_.get()};
    const std::vector<float> w = host({N, C}, 1.0f), bias = host({N}, 1.0f);
    float scale_c = 0;
    const Tensor tc = cpu_.quantize_weight_ternary(on(cpu_, w, {N, C}), &scale_c);
    for (CudaBackend* gpu : gpus) {
      const bool bf16 = gpu == bf_.get();
      float scale_g = 0;
      const Tensor tg = gpu->quantize_weight_ternary(on(*gpu, w, {N, C}), &scale_g);
      EXPECT_EQ(scale_g, scale_c) << (bf16 ? "bf16 mode" : "fp32 mode");
      EXPECT_EQ(tg.dtype, bf16 ? (C % 16 == 0 ? DType::I8 : DType::BF16) : DType::F32);
      EXPECT_EQ(fetch(*gpu, tg), fetch(cpu_, tc)) << "ternary weights, " << (bf16 ? "bf16 mode" : "fp32 mode");
      for (bool even : {false, true})
        for (bool with_bias : {false, true})
          for (DType out_t : {DType::F32, DType::BF16}) {
            const std::vector<float> x = host({R, C}, 3.0f);
            Tensor xc = on(cpu_, x, {R, C}), xg = on(*gpu, x, {R, C});
            const Tensor bc = on(cpu_, bias, {N}), bg = on(*gpu, bias, {N});
            Tensor oc = cpu_.alloc(DType::F32, {R, N}), og = gpu->alloc(out_t, {R, N});
            cpu_.bitlinear(xc, tc, scale_c, with_bias ? &bc : nullptr, even, oc);
            gpu->bitlinear(xg, tg, scale_c, with_bias ? &bg : nullptr, even, og);
            const std::vector<float> a = fetch(cpu_, oc), g = fetch(*gpu, og);
            // The GPU's integer product is exact, so the difference is the CPU's float32 rounding: its sum of C
            // products of the quantised values (xc now holds them) is within (C + 3)·2^-24·Σ|x·t| of the exact one,
            // then the scale, the bias and, for a bf16 output, one bf16 rounding (2^-9 relative). A bf16 rounding of
            // the quantised operands (q/s) would exceed this by far.
            const std::vector<float> xq = fetch(cpu_, xc), t = fetch(cpu_, tc);
            int bad = 0;
            double worst = 0;
            for (std::int64_t i = 0; i < R; ++i)
              for (std::int64_t j = 0; j < N; ++j) {
                double mag = 0;
                for (std::int64_t k = 0; k < C; ++k) mag += std::fabs(double(xq[i * C + k]) * t[j * C + k]);
                const double ref = a[i * N + j], got = g[i * N + j];
                const double bound = (C + 3) * std::ldexp(mag * scale_c, -24) + std::ldexp(std::fabs(ref), -22) +
                                     (out_t == DType::BF16 ? std::ldexp(std::fabs(ref), -8) : 0.0);
                const double d = std::fabs(ref - got);
                worst = std::max(worst, d / bound);
                if (!(d <= bound)) ++bad;  // NaN fails
              }
            EXPECT_EQ(bad, 0) << "worst difference " << worst << " of its bound; " << (bf16 ? "bf16 mode" : "fp32 mode")
                              << (even ? ", half to even" : "") << (with_bias ? ", bias" : "") << (out_t == DType::BF16 ? ", bf16 out" : "");
          }
    }
  }
}

// A BitLinear with its own RMSNorm runs as one pass of norm + quantiser: in fp32 mode it gives what the norm and the
// product give as separate ops, up to float32 roundings of the row's scale; in bf16 mode, from bf16 input, the CPU's
// float32 composition up to the output's rounding (the normalised row is not rounded to bf16 in between).
TEST_F(CudaBf16Ops, NormedBitLinearIsNormThenProduct) {
  for (const std::int64_t C : {264, 1800, 4000}) {  // the row kernel's register layouts: up to 1024, 2048, 4096 wide
    SCOPED_TRACE("C=" + std::to_string(C));
    const std::int64_t R = 45, N = 72;
    auto [wc, wg] = random_bf({N, C});
    float scale_c = 0, scale_g = 0;
    const Tensor tc = cpu_.quantize_weight_ternary(wc, &scale_c), tg = bf_->quantize_weight_ternary(wg, &scale_g);
    auto [nc, ng] = random_bf({C}, DType::F32, 0.5f);
    auto [bc, bg] = random_bf({N}, DType::F32);
    for (bool even : {false, true}) {
      auto [xc, xg] = random_bf({R, C}, DType::BF16, 3.0f);
      auto [oc, og] = output_bf({R, N});
      cpu_.normed_bitlinear(xc, nc, 1e-6f, tc, scale_c, &bc, even, oc);
      bf_->normed_bitlinear(xg, ng, 1e-6f, tg, scale_g, &bg, even, og);
      // An integer on a rounding boundary may land on the other side of it (the CPU's sum of squares is formed in
      // another order): one step of the row's grid, max|y|/127 · mean|w|, up to ~3e-2 of an output near zero at
      // C = 4000. At most two rows may show such a step; the rest agree to the bf16 output's rounding.
      auto expect_agree = [&](const std::vector<float>& a, const std::vector<float>& f, double rounding, const char* mode) {
        int stepped = 0;
        double worst = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
          const double d = std::fabs(double(a[i]) - f[i]) / (1.0 + std::fabs(a[i]));
          if (!(d <= rounding)) ++stepped;
          if (!(d <= worst)) worst = d;
        }
        EXPECT_LE(stepped, 2 * N) << mode << (even ? ", half to even" : "");
        EXPECT_LE(worst, 5e-2) << mode << (even ? ", half to even" : "");
      };
      std::vector<float> ref(static_cast<std::size_t>(R * N)), got(ref.size());
      cpu_.download(oc, ref);
      bf_->download(og, got);
      expect_agree(ref, got, 8e-3, "bf16 mode");

      std::vector<float> x(static_cast<std::size_t>(R * C)), w(static_cast<std::size_t>(N * C)), nw(static_cast<std::size_t>(C));
      cpu_.download(xc, x);
      cpu_.download(wc, w);
      cpu_.download(nc, nw);
      auto on = [&](const std::vector<float>& v, std::vector<std::int64_t> shape) {
        Tensor t = gpu_->alloc(DType::F32, std::move(shape));
        gpu_->upload(v, t);
        return t;
      };
      const Tensor x32 = on(x, {R, C}), n32 = on(nw, {C});
      float scale32 = 0;
      const Tensor t32 = gpu_->quantize_weight_ternary(on(w, {N, C}), &scale32);
      Tensor normed = gpu_->alloc(DType::F32, {R, C}), apart = gpu_->alloc(DType::F32, {R, N}), fused = gpu_->alloc(DType::F32, {R, N});
      gpu_->rmsnorm(x32, n32, 1e-6f, normed);
      gpu_->bitlinear(normed, t32, scale32, nullptr, even, apart);
      gpu_->normed_bitlinear(x32, n32, 1e-6f, t32, scale32, nullptr, even, fused);
      std::vector<float> a(static_cast<std::size_t>(R * N)), f(a.size());
      gpu_->download(apart, a);
      gpu_->download(fused, f);
      // The separate norm may reduce the row's sum of squares in another order (its warp form for short rows): the
      // scale moves in its last bits, and now and then an integer crosses a boundary as above.
      expect_agree(a, f, 1e-5, "fp32 mode");
    }
  }
}

TEST_F(CudaBf16Ops, DecodeStepOfSeveralSequencesMatchesTheCpu) {
  DecodeStepFixture f{cpu_, rng_};
  for (const auto& c : kDecodeStepCases) run_decode_step_case(f, *bf_, c, DType::BF16, 1.2e-2);
}

TEST_F(CudaBf16Ops, BatchedFlashAttentionMatchesPerSequence) {
  FlashKernels kernels;
  for (const auto& [kernel, name] : kernels.list) {
    cuda::set_attention_bf16_kernel(kernel);
    for (std::int64_t window : {0, 40}) {
      for (std::int64_t hd : {64, 128}) {
        const std::int64_t B = 3, T = 150, nh = 8, nkv = 2;
        auto [qc, qg] = random_bf({B * T, nh * hd});
        auto [kc, kg] = random_bf({B * T, nkv * hd});
        auto [vc, vg] = random_bf({B * T, nkv * hd});
        auto [oc, og] = output_bf({B * T, nh * hd});
        AttentionShape a{nh, nkv, hd, 0, T, window, static_cast<float>(1.0 / std::sqrt(double(hd)))};
        cpu_.attention_batch(qc, kc, vc, a, B, oc);  // the base class: one call per sequence
        bf_->attention_batch(qg, kg, vg, a, B, og);  // one launch
        EXPECT_LE(rel_err(oc, og), 1.2e-2) << name << " batched attention, hd " << hd << ", window " << window;
      }
    }
  }
}

// The chunked delta rule on tensor cores (bf16 mode; kernels/delta_rule_chunked.cu) against the CPU's chunked op:
// T not a multiple of the chunk (64), the state carried across two calls split inside a chunk, grouped value heads,
// with and without the gate, and every head_k_dim the kernel covers (256 and 512 as in GDN-1.3B). The inputs are
// bf16-representable (q and k after the l2 norm are not: the kernel rounds them); the kernel rounds its operands to
// bf16 (the chunk's inverse T, W, U, the state copy it multiplies and V'), accumulates in fp32 and keeps the state in
// fp32, so the error is a few bf16 roundings of values of order one: relative tolerance 2.5e-2 (about 12 · 2^-9);
// a wrong term gives errors of order one.
TEST_F(CudaBf16Ops, DeltaRuleChunkedTensorCores) {
  struct Shape {
    std::int64_t T, H, HV, dk, dv;
    bool gated;
    std::int64_t split;  // the first call's tokens (0: one call)
  };
  for (const Shape s : {Shape{150, 2, 4, 64, 64, true, 70}, Shape{200, 1, 1, 256, 128, false, 100},
                        Shape{197, 3, 3, 128, 192, true, 0}, Shape{40, 1, 2, 32, 64, true, 17},
                        Shape{300, 2, 2, 256, 512, true, 130}, Shape{64, 2, 2, 256, 512, false, 0}}) {
    auto [qc, qg] = random_bf({s.T, s.H * s.dk}, DType::F32);
    auto [kc, kg] = random_bf({s.T, s.H * s.dk}, DType::F32);
    cpu_.l2_normalize_heads(qc, s.dk, 1e-6f);
    bf_->l2_normalize_heads(qg, s.dk, 1e-6f);
    cpu_.l2_normalize_heads(kc, s.dk, 1e-6f);
    bf_->l2_normalize_heads(kg, s.dk, 1e-6f);
    auto [vc, vg] = random_bf({s.T, s.HV * s.dv}, DType::F32);
    auto [bc, bg] = random_bf({s.T, s.HV}, DType::F32);
    cpu_.activate(bc, Activation::Sigmoid);
    bf_->activate(bg, Activation::Sigmoid);
    auto [gc, gg] = random_bf({s.T, s.HV}, DType::F32, 0.1f);
    cpu_.activate(gc, Activation::Relu);
    bf_->activate(gg, Activation::Relu);
    cpu_.scale(gc, -1.0f);  // log decays <= 0
    bf_->scale(gg, -1.0f);
    auto [stc, stg] = random_bf({s.HV, s.dk, s.dv}, DType::F32, 0.1f);
    auto [oc, og] = output_bf({s.T, s.HV * s.dv}, DType::F32);
    const DeltaRuleShape shape{s.H, s.HV, s.dk, s.dv, static_cast<float>(1.0 / std::sqrt(double(s.dk)))};
    const std::int64_t split = s.split > 0 ? s.split : s.T;
    for (auto [t0, n] : {std::pair{std::int64_t{0}, split}, std::pair{split, s.T - split}}) {
      if (n == 0) continue;
      const Tensor gcs = gc.slice_rows(t0, n), ggs = gg.slice_rows(t0, n);
      Tensor ocs = oc.slice_rows(t0, n), ogs = og.slice_rows(t0, n);
      cpu_.delta_rule_chunked(qc.slice_rows(t0, n), kc.slice_rows(t0, n), vc.slice_rows(t0, n), bc.slice_rows(t0, n),
                              s.gated ? &gcs : nullptr, shape, 64, stc, ocs);
      bf_->delta_rule_chunked(qg.slice_rows(t0, n), kg.slice_rows(t0, n), vg.slice_rows(t0, n), bg.slice_rows(t0, n),
                              s.gated ? &ggs : nullptr, shape, 64, stg, ogs);
    }
    const double eo = rel_err(oc, og), es = rel_err(stc, stg);
    std::printf("delta_rule_chunked T=%lld H=%lld HV=%lld dk=%lld dv=%lld gated=%d split=%lld: out %.2e state %.2e\n",
                static_cast<long long>(s.T), static_cast<long long>(s.H), static_cast<long long>(s.HV),
                static_cast<long long>(s.dk), static_cast<long long>(s.dv), int(s.gated), static_cast<long long>(s.split), eo, es);
    EXPECT_LE(eo, 2.5e-2) << "delta_rule_chunked out, T=" << s.T << " dk=" << s.dk << " dv=" << s.dv;
    EXPECT_LE(es, 2.5e-2) << "delta_rule_chunked state, T=" << s.T << " dk=" << s.dk << " dv=" << s.dv;
  }
}

// The batched forms that score several sequences from empty states in one launch (the GDN mixer's forward_batch):
// against the CPU's defaults, which run each sequence alone. Tolerances as above (the delta rule) and float32
// rounding (the convolution).
TEST_F(CudaBf16Ops, BatchedConvAndDeltaRule) {
  // The register-window kernel (K 2..4; for bf16 with channels a multiple of 8, its 16-byte-vector form) and the
  // generic one; sequences of 150 rows start inside the 16-row groups, sequences of 7 rows lie several in one.
  for (const auto [B, T] : {std::pair<std::int64_t, std::int64_t>{3, 150}, {5, 7}})
    for (const DType io : {DType::F32, DType::BF16})
      for (const std::int64_t C : {96, 100})
        for (std::int64_t K : {4, 3, 2, 5})
          for (const bool with_bias : {false, true}) {  // the Mamba mixers' bias, added before the SiLU
            for (const bool silu : {true, false}) {
              auto [xc, xg] = random_bf({B * T, C}, io);
              auto [wc, wg] = random_bf({C, K}, DType::F32);
              auto [bc, bg] = random_bf({C}, DType::F32);
              auto [cc, cg] = output_bf({B * T, C}, io);
              cpu_.causal_conv1d_batch(xc, wc, with_bias ? &bc : nullptr, B, silu, cc);
              bf_->causal_conv1d_batch(xg, wg, with_bias ? &bg : nullptr, B, silu, cg);
              EXPECT_LE(rel_err(cc, cg), io == DType::BF16 ? 4e-3 : 1e-6)
                  << "causal_conv1d_batch, " << dtype_name(io) << " T " << T << " C " << C << " K " << K << " bias "
                  << with_bias << " silu " << silu;
            }
          }

  // the second shape has batch × HV × dv / 64 >= 132 CTAs for the state kernel: its 64-column form on an H100 (the
  // first takes the 32-column form), while each sequence alone takes the 32-column form
  using Shape = std::array<std::int64_t, 6>;  // B, T, H, HV, dk, dv
  for (auto [B, T, H, HV, dk, dv] : {Shape{3, 150, 2, 4, 64, 128}, Shape{6, 130, 2, 4, 128, 512}}) {
    auto [qc, qg] = random_bf({B * T, H * dk}, DType::F32);
    auto [kc, kg] = random_bf({B * T, H * dk}, DType::F32);
    for (Tensor* t : {&qc, &kc}) cpu_.l2_normalize_heads(*t, dk, 1e-6f);
    for (Tensor* t : {&qg, &kg}) bf_->l2_normalize_heads(*t, dk, 1e-6f);
    auto [vc, vg] = random_bf({B * T, HV * dv}, DType::F32);
    auto [bc, bg] = random_bf({B * T, HV}, DType::F32);
    cpu_.activate(bc, Activation::Sigmoid);
    bf_->activate(bg, Activation::Sigmoid);
    auto [gc, gg] = random_bf({B * T, HV}, DType::F32, 0.1f);
    cpu_.activate(gc, Activation::Relu);
    bf_->activate(gg, Activation::Relu);
    cpu_.scale(gc, -1.0f);
    bf_->scale(gg, -1.0f);
    const DeltaRuleShape shape{H, HV, dk, dv, 0.125f};
    for (bool gated : {true, false}) {
      auto [oc, og] = output_bf({B * T, HV * dv}, DType::F32);
      cpu_.delta_rule_chunked_batch(qc, kc, vc, bc, gated ? &gc : nullptr, shape, 64, B, oc);
      bf_->delta_rule_chunked_batch(qg, kg, vg, bg, gated ? &gg : nullptr, shape, 64, B, og);
      const double e = rel_err(oc, og);
      std::printf("delta_rule_chunked_batch B=%lld T=%lld dv=%lld gated=%d: out %.2e\n", static_cast<long long>(B),
                  static_cast<long long>(T), static_cast<long long>(dv), int(gated), e);
      EXPECT_LE(e, 2.5e-2) << "delta_rule_chunked_batch, gated " << gated;
      // each sequence alone through the same kernel agrees with its rows of the batch up to summation order
      Tensor st = bf_->alloc(DType::F32, {HV, dk, dv});
      for (std::int64_t s = 0; s < B; ++s) {
        bf_->fill(st, 0.0f);
        auto [unused, one] = output_bf({T, HV * dv}, DType::F32);
        const Tensor gs = gg.slice_rows(s * T, T);
        bf_->delta_rule_chunked(qg.slice_rows(s * T, T), kg.slice_rows(s * T, T), vg.slice_rows(s * T, T),
                                bg.slice_rows(s * T, T), gated ? &gs : nullptr, shape, 64, st, one);
        std::vector<float> batched(static_cast<std::size_t>(one.numel())), alone(batched.size());
        bf_->download(og.slice_rows(s * T, T), batched);
        bf_->download(one, alone);
        double worst = 0;
        for (std::size_t i = 0; i < alone.size(); ++i) worst = std::max(worst, std::fabs(double(batched[i]) - alone[i]));
        EXPECT_LE(worst, 1e-6) << "sequence " << s << " alone vs in the batch (the same arithmetic for every element)";
      }
    }
  }
}

TEST_F(CudaBf16Ops, LinearThroughCublasLt) {
  for (auto [T, K, N] : {std::tuple{1, 64, 256}, std::tuple{37, 128, 96}, std::tuple{200, 512, 1000}}) {
    auto [xc, xg] = random_bf({T, K});
    auto [wc, wg] = random_bf({N, K}, DType::BF16, 0.05f);
    auto [bc, bg] = random_bf({N}, DType::F32);
    auto [oc, og] = output_bf({T, N}, DType::F32);
    cpu_.linear(xc, wc, &bc, oc);
    bf_->linear(xg, wg, &bg, og);
    EXPECT_LE(rel_err(oc, og), 1e-5) << "bf16 linear, f32 out";  // exact products, f32 sums in another order
    auto [o2c, o2g] = output_bf({T, N});
    cpu_.linear(xc, wc, nullptr, o2c);
    bf_->linear(xg, wg, nullptr, o2g);
    EXPECT_LE(rel_err(o2c, o2g), 4e-3) << "bf16 linear, bf16 out";
  }
}

TEST_F(CudaBf16Ops, FusedNormRopeSwigluEmbed) {
  auto [tc, tg] = random_bf({300, 96});
  std::vector<std::int32_t> ids{0, 299, 17, 17, 5};
  auto [ec, eg] = output_bf({5, 96}, DType::F32);
  cpu_.embed(tc, ids, ec);
  bf_->embed(tg, ids, eg);
  EXPECT_EQ(rel_err(ec, eg), 0.0) << "embed";

  for (std::int64_t C : {1000, 2048, 5000}) {  // 5000: longer than the rows kept in registers
    auto [xc, xg] = random_bf({33, C}, DType::F32);
    auto [rc, rg] = random_bf({33, C});
    auto [wc, wg] = random_bf({C}, DType::F32);
    auto [oc, og] = output_bf({33, C});
    cpu_.add_rmsnorm(xc, rc, wc, 1e-5f, oc);
    bf_->add_rmsnorm(xg, rg, wg, 1e-5f, og);
    EXPECT_LE(rel_err(xc, xg), 1e-6) << "add_rmsnorm residual, C=" << C;
    EXPECT_LE(rel_err(oc, og), 4e-3) << "add_rmsnorm out, C=" << C;
  }
  // Mamba2's norm of y · silu(z) and the norm then gate, bf16 in and out: a warp per row in 16-byte vectors (widths of
  // a multiple of 8 up to 2048: 1, 2, 4 or 8 vectors per lane, some lanes idle), a block with 16-byte vectors (2056 to
  // 4096: one or two per thread), a warp or block of single values otherwise (1001, 4100, 8192).
  for (std::int64_t C : {128, 512, 1000, 1001, 2048, 2056, 3000, 4096, 4100, 8192}) {
    auto [yc, yg] = random_bf({33, C});
    auto [zc, zg] = random_bf({33, C});
    auto [wc, wg] = random_bf({C}, DType::F32);
    auto [oc, og] = output_bf({33, C});
    cpu_.rmsnorm_of_gated(yc, wc, zc, 1e-5f, oc);
    bf_->rmsnorm_of_gated(yg, wg, zg, 1e-5f, og);
    EXPECT_LE(rel_err(oc, og), 4e-3) << "rmsnorm_of_gated, C=" << C;
    cpu_.rmsnorm_gated(yc, wc, zc, 1e-5f, oc);
    bf_->rmsnorm_gated(yg, wg, zg, 1e-5f, og);
    EXPECT_LE(rel_err(oc, og), 4e-3) << "rmsnorm_gated, C=" << C;
  }

  // The gated units in 16-byte steps (33 × 1000 elements), bf16x2 steps (33 × 998) and single elements (33 × 1001).
  for (const std::int64_t C : {1000, 998, 1001}) {
    auto [gc, gg] = random_bf({33, C});
    auto [uc, ug] = random_bf({33, C});
    auto [sc, sg] = output_bf({33, C});
    cpu_.swiglu(gc, uc, sc);
    bf_->swiglu(gg, ug, sg);
    EXPECT_LE(rel_err(sc, sg), 4e-3) << "swiglu, C=" << C;
    cpu_.glu(gc, uc, Activation::ReluSquared, sc);
    bf_->glu(gg, ug, Activation::ReluSquared, sg);
    EXPECT_LE(rel_err(sc, sg), 4e-3) << "relu² glu, C=" << C;
  }

  auto [qc, qg] = random_bf({20, 4 * 64});
  auto [cc, cg] = random_bf({100, 24}, DType::F32);
  auto [snc, sng] = random_bf({100, 24}, DType::F32);
  cpu_.rope(qc, 4, 64, cc, snc, 70);
  bf_->rope(qg, 4, 64, cg, sng, 70);
  EXPECT_LE(rel_err(qc, qg), 1.2e-2) << "rope";  // |cos|, |sin| ~ N(0,1) here, so outputs reach several units
  // 8 pairs per thread (half a multiple of 8), three sequences restarting at position 0; half 20: the scalar kernel
  for (const std::int64_t half : {64, 8, 20}) {
    auto [bc, bg] = random_bf({3 * 20, 3 * 2 * half});
    auto [c2c, c2g] = random_bf({40, half}, DType::F32, 0.7f);
    auto [s2c, s2g] = random_bf({40, half}, DType::F32, 0.7f);
    cpu_.rope_batch(bc, 3, 3, 2 * half, c2c, s2c);
    bf_->rope_batch(bg, 3, 3, 2 * half, c2g, s2g);
    EXPECT_LE(rel_err(bc, bg), 1.2e-2) << "rope_batch, half " << half;
  }
}

TEST_F(CudaBf16Ops, FusedTokenLogprobsWithBf16Head) {
  const std::int64_t T = 3000, H = 64, V = 5000;
  // Small integers: exact in bf16 and in the products, so ties are real and argmax flags must agree exactly.
  auto integers = [&](std::vector<std::int64_t> shape) {
    Tensor c = cpu_.alloc(DType::F32, shape), g = bf_->alloc(DType::BF16, shape);
    std::vector<float> v(static_cast<std::size_t>(c.numel()));
    std::uniform_int_distribution<int> d(-3, 3);
    for (auto& x : v) x = static_cast<float>(d(rng_));
    cpu_.upload(v, c);
    bf_->upload(v, g);
    return std::pair{c, g};
  };
  auto [xc, xg] = integers({T, H});
  auto [wc, wg] = integers({V, H});
  std::vector<std::int32_t> targets(static_cast<std::size_t>(T));
  for (std::int64_t t = 0; t < T; ++t) targets[static_cast<std::size_t>(t)] = static_cast<std::int32_t>((t * 7919) % V);
  targets[3] = -1;
  expect_same_scores(xc, wc, *bf_, xg, wg, targets, 1e-5);
}

TEST_F(CudaBf16Ops, OutOfMemoryIsAClearBadInput) {
  try {
    bf_->alloc(DType::F32, {std::int64_t{1} << 40});  // 4 TiB
    FAIL() << "expected OutOfMemory";
  } catch (const OutOfMemory& e) {
    EXPECT_NE(std::string(e.what()).find("GPU out of memory"), std::string::npos) << e.what();
  }
  // the backend still works afterwards
  auto [xc, xg] = random_bf({4, 64});
  auto [wc, wg] = random_bf({8, 64});
  auto [oc, og] = output_bf({4, 8}, DType::F32);
  cpu_.linear(xc, wc, nullptr, oc);
  bf_->linear(xg, wg, nullptr, og);
  EXPECT_LE(rel_err(oc, og), 1e-5);
}

TEST_F(CudaOps, CopyRows) {
  auto [sc, sg] = random({3, 40});
  auto [dc, dg] = random({10, 40});
  cpu_.copy_rows(sc, dc, 6);
  gpu_->copy_rows(sg, dg, 6);
  expect_close(dc, dg, 0, "copy_rows");
}

}  // namespace
}  // namespace lmscope

namespace lmscope {
namespace {

// The ops the transformers families brought (issue 19): LayerNorm, the gated and plain activations (GeGLU's gelu,
// GPT-NeoX's exact gelu, BitNet's relu²), soft-capping of logits and of attention scores, and the BitNet activation
// quantiser's two rounding modes.
TEST_F(CudaOps, LayerNormActivationsAndSoftcap) {
  for (std::int64_t C : {128, 1000, 5000}) {  // one register pass, and rows longer than the kernel keeps in registers
    auto [xc, xg] = random({17, C}, 3.0f);
    auto [wc, wg] = random({C});
    auto [bc, bg] = random({C});
    auto [oc, og] = output({17, C});
    cpu_.layernorm(xc, wc, &bc, 1e-5f, oc);
    gpu_->layernorm(xg, wg, &bg, 1e-5f, og);
    expect_close(oc, og, 2e-5, ("layernorm C=" + std::to_string(C)).c_str());
    cpu_.layernorm(xc, wc, nullptr, 1e-5f, oc);
    gpu_->layernorm(xg, wg, nullptr, 1e-5f, og);
    expect_close(oc, og, 2e-5, "layernorm without bias");
  }
  for (Activation f : {Activation::Silu, Activation::GeluTanh, Activation::Gelu, Activation::ReluSquared}) {
    auto [gc, gg] = random({33, 301}, 2.0f);
    auto [uc, ug] = random({33, 301});
    auto [oc, og] = output({33, 301});
    cpu_.glu(gc, uc, f, oc);
    gpu_->glu(gg, ug, f, og);
    expect_close(oc, og, 1e-5, ("glu " + std::to_string(static_cast<int>(f))).c_str());
    cpu_.activate(gc, f);
    gpu_->activate(gg, f);
    expect_close(gc, gg, 1e-5, ("activate " + std::to_string(static_cast<int>(f))).c_str());
  }
  auto [zc, zg] = random({40, 1000}, 40.0f);
  cpu_.softcap(zc, 30.0f);
  gpu_->softcap(zg, 30.0f);
  expect_close(zc, zg, 1e-6, "softcap");
  for (bool even : {false, true}) {
    // values that land exactly on .5 after scaling: the two rounding modes differ there
    Tensor c = cpu_.alloc(DType::F32, {1, 4}), g = gpu_->alloc(DType::F32, {1, 4});
    const std::vector<float> v{127.0f, 0.5f, 1.5f, -2.5f};
    cpu_.upload(v, c);
    gpu_->upload(v, g);
    cpu_.quantize_activations_int8(c, even);
    gpu_->quantize_activations_int8(g, even);
    std::vector<float> a(4), b(4);
    cpu_.download(c, a);
    gpu_->download(g, b);
    EXPECT_EQ(a, b) << (even ? "half to even" : "half away from zero");
    EXPECT_EQ(a[1], even ? 0.0f : 1.0f);
    EXPECT_EQ(a[3], even ? -2.0f : -3.0f);
  }
}

TEST_F(CudaOps, SoftcappedAttentionAndLogprobs) {
  for (std::int64_t hd : {32, 64, 256}) {
    const std::int64_t T = 150, nh = 4, nkv = 2;
    auto [qc, qg] = random({T, nh * hd}, 3.0f);  // large scores, so the cap matters
    auto [kc, kg] = random({T, nkv * hd}, 3.0f);
    auto [vc, vg] = random({T, nkv * hd});
    auto [oc, og] = output({T, nh * hd});
    AttentionShape a{nh, nkv, hd, 0, T, 48, 0.25f};
    a.softcap = 50.0f;
    cpu_.attention(qc, kc, vc, a, oc);
    gpu_->attention(qg, kg, vg, a, og);
    expect_close(oc, og, 2e-5, ("softcapped attention hd=" + std::to_string(hd)).c_str());
  }
  const std::int64_t T = 300, H = 64, V = 3000;
  auto [xc, xg] = random({T, H}, 2.0f);
  auto [wc, wg] = random({V, H});
  std::vector<std::int32_t> targets(static_cast<std::size_t>(T));
  for (std::int64_t t = 0; t < T; ++t) targets[static_cast<std::size_t>(t)] = static_cast<std::int32_t>((t * 131) % V);
  std::vector<double> lc(targets.size()), lg(targets.size()), plain(targets.size());
  std::vector<std::uint8_t> gc(targets.size()), gg(targets.size());
  cpu_.token_logprobs(xc, wc, targets, lc, gc, 30.0f);
  gpu_->token_logprobs(xg, wg, targets, lg, gg, 30.0f);
  cpu_.token_logprobs(xc, wc, targets, plain, gc);
  double worst = 0, moved = 0;
  for (std::size_t i = 0; i < lc.size(); ++i) {
    worst = std::max(worst, std::fabs(lc[i] - lg[i]));
    moved = std::max(moved, std::fabs(lc[i] - plain[i]));
  }
  EXPECT_LT(worst, 1e-4);
  EXPECT_GT(moved, 0.1);  // the cap really changes these scores
}

class CudaBf16SoftcapOps : public CudaBf16Ops {};

TEST_F(CudaBf16SoftcapOps, FlashAttentionWithSoftcap) {
  FlashKernels kernels;
  for (const auto& [kernel, name] : kernels.list) {
    cuda::set_attention_bf16_kernel(kernel);
    for (std::int64_t hd : {32, 64, 128}) {
      const std::int64_t T = 200, nh = 4, nkv = 2;
      auto [qc, qg] = random_bf({T, nh * hd}, DType::BF16, 3.0f);
      auto [kc, kg] = random_bf({T, nkv * hd}, DType::BF16, 3.0f);
      auto [vc, vg] = random_bf({T, nkv * hd});
      auto [oc, og] = output_bf({T, nh * hd});
      AttentionShape a{nh, nkv, hd, 0, T, 0, 0.2f};
      a.softcap = 50.0f;
      cpu_.attention(qc, kc, vc, a, oc);
      bf_->attention(qg, kg, vg, a, og);
      EXPECT_LE(rel_err(oc, og), 1.2e-2) << name << " softcapped flash attention hd=" << hd;
    }
  }
}

// --- gated linear attention and state-space ops (cuda_backend_ssm.cpp): the kernels evaluate the recurrence token by
// token, the CPU reference its chunked form (chunk 16 here) for scoring and the recurrent form for single tokens:
// the same function in another order, so float32 results agree to rounding (1e-4 relative, as the delta rule). Every
// shape is scored from a random state, continued by single-token steps (decoding after a scored prefix), scored as
// a batch of sequences with different contents from zero states, and stepped as a decoding step of 5 and of 33
// sequences (two launches) with different states. ---

using Both = std::pair<Tensor, Tensor>;

std::vector<Tensor*> pointers(std::vector<Tensor>& ts) {
  std::vector<Tensor*> out;
  for (Tensor& t : ts) out.push_back(&t);
  return out;
}

class CudaSsmOps : public CudaOps {
 protected:
  // n random states of `shape` on both backends (different contents).
  std::pair<std::vector<Tensor>, std::vector<Tensor>> states(std::int64_t n, std::vector<std::int64_t> shape) {
    std::vector<Tensor> c, g;
    for (std::int64_t i = 0; i < n; ++i) {
      Both s = random(shape, 0.3f);
      c.push_back(s.first);
      g.push_back(s.second);
    }
    return {c, g};
  }
  Both activated(std::vector<std::int64_t> shape, Activation f, float scale = 1.0f) {
    Both t = random(std::move(shape), scale);
    cpu_.activate(t.first, f);
    gpu_->activate(t.second, f);
    return t;
  }
};

struct GlaCase {
  std::int64_t T, H, HV, dk, dv;
  bool per_channel;  // GLA / HGRN2: a decay per key channel; RetNet: one per head
  bool constant;     // RetNet: g has one row, the same decay at every token
};

TEST_F(CudaSsmOps, GatedLinearAttentionScoringBatchesAndSteps) {
  // GLA-like, RetNet-like (constant per-head decay), HGRN2-like (dk = dv = 128), grouped value heads, the largest
  // key dim (256) and odd dims; T odd and longer than one staged tile
  for (const GlaCase s : {GlaCase{37, 2, 2, 64, 96, true, false}, GlaCase{45, 4, 4, 32, 48, false, true},
                          GlaCase{70, 1, 1, 128, 128, true, false}, GlaCase{21, 1, 2, 256, 40, false, false},
                          GlaCase{33, 3, 3, 17, 19, true, false}, GlaCase{19, 2, 2, 256, 512, true, false}}) {
    SCOPED_TRACE("T=" + std::to_string(s.T) + " dk=" + std::to_string(s.dk) + " dv=" + std::to_string(s.dv));
    const LinearAttentionShape shape{s.H, s.HV, s.dk, s.dv, static_cast<float>(1.0 / std::sqrt(double(s.dk)))};
    auto gate = [&](std::int64_t rows) {  // log decays: logsigmoid, as GLA's
      return activated({s.constant ? 1 : rows, s.HV * (s.per_channel ? s.dk : 1)}, Activation::LogSigmoid, 2.0f);
    };
    auto inputs = [&](std::int64_t rows) {
      return std::tuple{random({rows, s.H * s.dk}), random({rows, s.H * s.dk}), random({rows, s.HV * s.dv}), gate(rows),
                        output({rows, s.HV * s.dv})};
    };
    Both st = random({s.HV, s.dk, s.dv}, 0.3f);
    {
      auto [q, k, v, g, o] = inputs(s.T);
      cpu_.gated_linear_attention(q.first, k.first, v.first, g.first, shape, 16, st.first, o.first);
      gpu_->gated_linear_attention(q.second, k.second, v.second, g.second, shape, 16, st.second, o.second);
      expect_close(o.first, o.second, 1e-4, "gla scoring out");
      expect_close(st.first, st.second, 1e-4, "gla scoring state");
    }
    for (int i = 0; i < 3; ++i) {
      auto [q, k, v, g, o] = inputs(1);
      cpu_.gated_linear_attention(q.first, k.first, v.first, g.first, shape, 0, st.first, o.first);
      gpu_->gated_linear_attention(q.second, k.second, v.second, g.second, shape, 0, st.second, o.second);
      expect_close(o.first, o.second, 1e-4, "gla step out");
      expect_close(st.first, st.second, 1e-4, "gla step state");
    }
    {
      const std::int64_t batch = 3;
      auto [q, k, v, g, o] = inputs(batch * s.T);
      cpu_.gated_linear_attention_batch(q.first, k.first, v.first, g.first, shape, 16, batch, o.first);
      gpu_->gated_linear_attention_batch(q.second, k.second, v.second, g.second, shape, 16, batch, o.second);
      expect_close(o.first, o.second, 1e-4, "gla batch out");
    }
    for (std::int64_t n : {5, 33}) {
      auto [q, k, v, g, o] = inputs(n);
      auto [sc, sg] = states(n, {s.HV, s.dk, s.dv});
      cpu_.gated_linear_attention_step_batch(q.first, k.first, v.first, g.first, shape, pointers(sc), o.first);
      gpu_->gated_linear_attention_step_batch(q.second, k.second, v.second, g.second, shape, pointers(sg), o.second);
      expect_close(o.first, o.second, 1e-4, "gla step batch out");
      for (std::size_t i = 0; i < sc.size(); ++i) expect_close(sc[i], sg[i], 1e-4, "gla step batch state");
    }
  }
}

struct ScanCase {
  std::int64_t T, Dn, N;
};

TEST_F(CudaSsmOps, SelectiveScanScoringBatchesAndSteps) {
  // Mamba's N = 16, and every lane layout: N ≤ 8, ≤ 32, 64, 128, 256 (odd sizes leave lanes idle)
  for (const ScanCase s : {ScanCase{45, 100, 16}, ScanCase{70, 37, 5}, ScanCase{33, 64, 27}, ScanCase{19, 50, 64},
                           ScanCase{17, 9, 100}, ScanCase{9, 20, 256}}) {
    SCOPED_TRACE("T=" + std::to_string(s.T) + " Dn=" + std::to_string(s.Dn) + " N=" + std::to_string(s.N));
    const Both A_log = random({s.Dn, s.N}, 0.5f), D = random({s.Dn});
    auto inputs = [&](std::int64_t rows) {
      return std::tuple{random({rows, s.Dn}), activated({rows, s.Dn}, Activation::Softplus), random({rows, s.N}),
                        random({rows, s.N}), output({rows, s.Dn})};
    };
    Both st = random({s.Dn, s.N}, 0.3f);
    for (std::int64_t T : {s.T, std::int64_t{1}, std::int64_t{1}, std::int64_t{1}}) {  // a prefix, then decoding steps
      auto [x, dt, B, C, o] = inputs(T);
      const std::int64_t chunk = T == 1 ? 0 : 16;
      cpu_.selective_scan(x.first, dt.first, A_log.first, B.first, C.first, D.first, chunk, st.first, o.first);
      gpu_->selective_scan(x.second, dt.second, A_log.second, B.second, C.second, D.second, chunk, st.second, o.second);
      expect_close(o.first, o.second, 1e-4, "selective_scan out");
      expect_close(st.first, st.second, 1e-4, "selective_scan state");
    }
    {
      const std::int64_t batch = 3;
      auto [x, dt, B, C, o] = inputs(batch * s.T);
      cpu_.selective_scan_batch(x.first, dt.first, A_log.first, B.first, C.first, D.first, 16, batch, o.first);
      gpu_->selective_scan_batch(x.second, dt.second, A_log.second, B.second, C.second, D.second, 16, batch, o.second);
      expect_close(o.first, o.second, 1e-4, "selective_scan batch out");
    }
    for (std::int64_t n : {5, 33}) {
      auto [x, dt, B, C, o] = inputs(n);
      auto [sc, sg] = states(n, {s.Dn, s.N});
      cpu_.selective_scan_step_batch(x.first, dt.first, A_log.first, B.first, C.first, D.first, pointers(sc), o.first);
      gpu_->selective_scan_step_batch(x.second, dt.second, A_log.second, B.second, C.second, D.second, pointers(sg), o.second);
      expect_close(o.first, o.second, 1e-4, "selective_scan step batch out");
      for (std::size_t i = 0; i < sc.size(); ++i) expect_close(sc[i], sg[i], 1e-4, "selective_scan step batch state");
    }
  }
}

// Mamba's scoring scan with the step size's bias + softplus and the output gate inside (one kernel on CUDA) against
// the CPU's composition of the separate ops, from random states, which both leave at the end: Mamba's N = 16, the
// other covered sizes, a partial block of channels, sequences long enough to run in several time chunks (then the
// state entering each chunk is composed from the earlier chunks' summaries), and a shape the kernel does not take
// (N = 5: the composed ops on the GPU).
TEST_F(CudaSsmOps, SelectiveScanGatedMatchesTheComposedOps) {
  struct Case {
    std::int64_t T, Dn, N, batch;
  };
  for (const Case s : {Case{45, 96, 16, 1}, Case{1000, 64, 16, 2}, Case{300, 40, 8, 3}, Case{77, 24, 32, 2},
                       Case{2, 8, 16, 4}, Case{33, 16, 5, 2}}) {
    SCOPED_TRACE("T=" + std::to_string(s.T) + " Dn=" + std::to_string(s.Dn) + " N=" + std::to_string(s.N) +
                 " batch=" + std::to_string(s.batch));
    const std::int64_t rows = s.batch * s.T;
    const Both x = random({rows, s.Dn}), delta = random({rows, s.Dn}), bias = random({s.Dn}, 0.5f),
               A_log = random({s.Dn, s.N}, 0.5f), B = random({rows, s.N}), C = random({rows, s.N}), D = random({s.Dn}),
               z = random({rows, s.Dn}, 2.0f);
    Both st = random({s.batch * s.Dn, s.N}, 0.3f), o = output({rows, s.Dn});
    cpu_.selective_scan_gated(x.first, delta.first, bias.first, A_log.first, B.first, C.first, D.first, z.first, 16,
                              s.batch, st.first, o.first);
    gpu_->selective_scan_gated(x.second, delta.second, bias.second, A_log.second, B.second, C.second, D.second, z.second,
                               16, s.batch, st.second, o.second);
    expect_close(o.first, o.second, 1e-4, "selective_scan_gated out");
    expect_close(st.first, st.second, 1e-4, "selective_scan_gated state");
  }
}

struct SsdCase {
  std::int64_t T, G, H, N, P;
  bool d_per_channel;
};

TEST_F(CudaSsmOps, SsdScoringBatchesAndSteps) {
  // Mamba2-130M's heads (N 128, P 64), groups > 1 with D per channel, the largest state (256), odd sizes
  for (const SsdCase s : {SsdCase{45, 1, 4, 128, 64, false}, SsdCase{37, 2, 6, 16, 30, true}, SsdCase{21, 1, 3, 256, 8, false},
                          SsdCase{70, 1, 2, 64, 17, true}, SsdCase{9, 3, 3, 33, 100, false}}) {
    SCOPED_TRACE("T=" + std::to_string(s.T) + " N=" + std::to_string(s.N) + " P=" + std::to_string(s.P));
    const LinearAttentionShape shape{s.G, s.H, s.N, s.P, 1.0f};
    const Both A_log = random({s.H}, 0.5f), D = random({s.d_per_channel ? s.H * s.P : s.H});
    auto inputs = [&](std::int64_t rows) {
      return std::tuple{random({rows, s.H * s.P}), activated({rows, s.H}, Activation::Softplus), random({rows, s.G * s.N}),
                        random({rows, s.G * s.N}), output({rows, s.H * s.P})};
    };
    Both st = random({s.H, s.N, s.P}, 0.3f);
    for (std::int64_t T : {s.T, std::int64_t{1}, std::int64_t{1}, std::int64_t{1}}) {
      auto [x, dt, B, C, o] = inputs(T);
      const std::int64_t chunk = T == 1 ? 0 : 16;
      cpu_.ssd(x.first, dt.first, A_log.first, B.first, C.first, D.first, shape, chunk, st.first, o.first);
      gpu_->ssd(x.second, dt.second, A_log.second, B.second, C.second, D.second, shape, chunk, st.second, o.second);
      expect_close(o.first, o.second, 1e-4, "ssd out");
      expect_close(st.first, st.second, 1e-4, "ssd state");
    }
    {
      const std::int64_t batch = 3;
      auto [x, dt, B, C, o] = inputs(batch * s.T);
      cpu_.ssd_batch(x.first, dt.first, A_log.first, B.first, C.first, D.first, shape, 16, batch, o.first);
      gpu_->ssd_batch(x.second, dt.second, A_log.second, B.second, C.second, D.second, shape, 16, batch, o.second);
      expect_close(o.first, o.second, 1e-4, "ssd batch out");
    }
    for (std::int64_t n : {5, 33}) {
      auto [x, dt, B, C, o] = inputs(n);
      auto [sc, sg] = states(n, {s.H, s.N, s.P});
      cpu_.ssd_step_batch(x.first, dt.first, A_log.first, B.first, C.first, D.first, shape, pointers(sc), o.first);
      gpu_->ssd_step_batch(x.second, dt.second, A_log.second, B.second, C.second, D.second, shape, pointers(sg), o.second);
      expect_close(o.first, o.second, 1e-4, "ssd step batch out");
      for (std::size_t i = 0; i < sc.size(); ++i) expect_close(sc[i], sg[i], 1e-4, "ssd step batch state");
    }
  }
}

// Key / state dims above 256: the kernels refuse them by name; the backend runs the CPU reference for them instead
// (and says so once on stderr), so the result is still right.
TEST_F(CudaSsmOps, ShapesNoKernelCoversAreRefusedByNameAndRunOnTheHost) {
  const std::int64_t T = 5, dk = 300, dv = 8;
  Both q = random({T, dk}), k = random({T, dk}), v = random({T, dv}), g = activated({T, dk}, Activation::LogSigmoid);
  Both st = random({1, dk, dv}, 0.3f), o = output({T, dv});
  const LinearAttentionShape shape{1, 1, dk, dv, 0.1f};
  cuda::GatedLinearAttentionArgs a{q.second.data, k.second.data, v.second.data, g.second.as<float>(), st.second.as<float>(),
                                   o.second.data, T, 1, 1, dk, dv};
  try {
    cuda::gated_linear_attention(a, cuda::Elem::F32, nullptr);
    ADD_FAILURE() << "head_k_dim 300 was not refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("gated_linear_attention"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(cuda::selective_scan_supported(257));
  EXPECT_FALSE(cuda::ssd_supported(512));
  cpu_.gated_linear_attention(q.first, k.first, v.first, g.first, shape, 16, st.first, o.first);
  gpu_->gated_linear_attention(q.second, k.second, v.second, g.second, shape, 16, st.second, o.second);
  expect_close(o.first, o.second, 1e-4, "gla dk 300 on the host");
  expect_close(st.first, st.second, 1e-4, "gla dk 300 state on the host");
}

TEST_F(CudaSsmOps, ForgetGateBiasAndTernaryWeights) {
  for (bool bounded : {false, true}) {
    Both f = random({23, 130}, 3.0f), lb = activated({130}, Activation::Sigmoid), k = output({23, 130});
    cpu_.forget_gate(f.first, bounded ? &lb.first : nullptr, k.first);
    gpu_->forget_gate(f.second, bounded ? &lb.second : nullptr, k.second);
    expect_close(f.first, f.second, 1e-5, "forget_gate g");
    expect_close(k.first, k.second, 1e-5, "forget_gate k");
  }
  {
    Both x = random({17, 33}), b = random({33});
    cpu_.add_bias(x.first, b.first);
    gpu_->add_bias(x.second, b.second);
    expect_close(x.first, x.second, 0, "add_bias");
  }
  // the quantised values are exactly the CPU's (a rounding step of difference would move a weight between −1, 0, 1)
  for (std::int64_t n : {64 * 300, 7, 1 << 20}) {
    Both w = random({n}, 0.02f);
    float sc = 0, sg = 0;
    const Tensor oc = cpu_.quantize_weight_ternary(w.first, &sc), og = gpu_->quantize_weight_ternary(w.second, &sg);
    expect_close(oc, og, 0, "quantize_weight_ternary");
    EXPECT_EQ(sc, sg) << "quantize_weight_ternary's scale, n " << n;
  }
}

// bf16 row operands and output (the bf16 backend), float32 state and arithmetic: against the CPU on the same
// bf16-representable inputs. What differs is the output's rounding to bf16 (unit roundoff u = 2^-9, relative) plus
// float32 reordering (~1e-6), so the bound is 2u = 3.9e-3 on the output and 1e-4 on the float32 state.
TEST_F(CudaBf16Ops, SsmKernelsOnBf16Operands) {
  constexpr double kOut = 2.0 / 512;
  {  // GLA, per-channel decay
    const std::int64_t T = 41, H = 2, dk = 64, dv = 48;
    const LinearAttentionShape shape{H, H, dk, dv, 0.125f};
    auto [qc, qg] = random_bf({T, H * dk});
    auto [kc, kg] = random_bf({T, H * dk});
    auto [vc, vg] = random_bf({T, H * dv});
    auto [gc, gg] = random_bf({T, H * dk}, DType::F32, 2.0f);
    cpu_.activate(gc, Activation::LogSigmoid);
    bf_->activate(gg, Activation::LogSigmoid);
    auto [sc, sg] = random_bf({H, dk, dv}, DType::F32, 0.3f);
    auto [oc, og] = output_bf({T, H * dv});
    cpu_.gated_linear_attention(qc, kc, vc, gc, shape, 16, sc, oc);
    bf_->gated_linear_attention(qg, kg, vg, gg, shape, 16, sg, og);
    EXPECT_LE(rel_err(oc, og), kOut) << "gla bf16 out";
    EXPECT_LE(rel_err(sc, sg), 1e-4) << "gla bf16 state";
  }
  {  // SSD (P = 40: a shape the chunked tensor-core kernel does not take, so the token-by-token one runs)
    const std::int64_t T = 37, G = 1, H = 4, N = 128, P = 40;
    const LinearAttentionShape shape{G, H, N, P, 1.0f};
    auto [xc, xg] = random_bf({T, H * P});
    auto [dc, dg] = random_bf({T, H}, DType::F32);
    cpu_.activate(dc, Activation::Softplus);
    bf_->activate(dg, Activation::Softplus);
    auto [ac, ag] = random_bf({H}, DType::F32, 0.5f);
    auto [Dc, Dg] = random_bf({H}, DType::F32);
    auto [Bc, Bg] = random_bf({T, G * N});
    auto [Cc, Cg] = random_bf({T, G * N});
    auto [sc, sg] = random_bf({H, N, P}, DType::F32, 0.3f);
    auto [oc, og] = output_bf({T, H * P});
    cpu_.ssd(xc, dc, ac, Bc, Cc, Dc, shape, 16, sc, oc);
    bf_->ssd(xg, dg, ag, Bg, Cg, Dg, shape, 16, sg, og);
    EXPECT_LE(rel_err(oc, og), kOut) << "ssd bf16 out";
    EXPECT_LE(rel_err(sc, sg), 1e-4) << "ssd bf16 state";
  }
  {  // selective scan
    const std::int64_t T = 29, Dn = 96, N = 16;
    auto [xc, xg] = random_bf({T, Dn});
    auto [dc, dg] = random_bf({T, Dn});
    cpu_.activate(dc, Activation::Softplus);  // bf16 on the GPU: softplus rounds its result there; the CPU gets it back
    bf_->activate(dg, Activation::Softplus);
    std::vector<float> dv(static_cast<std::size_t>(T * Dn));
    bf_->download(dg, dv);
    cpu_.upload(dv, dc);
    auto [ac, ag] = random_bf({Dn, N}, DType::F32, 0.5f);
    auto [Dc, Dg] = random_bf({Dn}, DType::F32);
    auto [Bc, Bg] = random_bf({T, N});
    auto [Cc, Cg] = random_bf({T, N});
    auto [sc, sg] = random_bf({Dn, N}, DType::F32, 0.3f);
    auto [oc, og] = output_bf({T, Dn});
    cpu_.selective_scan(xc, dc, ac, Bc, Cc, Dc, 16, sc, oc);
    bf_->selective_scan(xg, dg, ag, Bg, Cg, Dg, 16, sg, og);
    EXPECT_LE(rel_err(oc, og), kOut) << "selective_scan bf16 out";
    EXPECT_LE(rel_err(sc, sg), 1e-4) << "selective_scan bf16 state";
  }
  {  // the gated scoring scan: x, z, out bf16 (Δ, B, C float32, as Mamba's mixer gives them), two sequences in chunks
    const std::int64_t batch = 2, T = 700, Dn = 64, N = 16;
    auto [xc, xg] = random_bf({batch * T, Dn});
    auto [zc, zg] = random_bf({batch * T, Dn});
    auto [dc, dg] = random_bf({batch * T, Dn}, DType::F32);
    auto [bc, bg] = random_bf({Dn}, DType::F32, 0.5f);
    auto [ac, ag] = random_bf({Dn, N}, DType::F32, 0.5f);
    auto [Dc, Dg] = random_bf({Dn}, DType::F32);
    auto [Bc, Bg] = random_bf({batch * T, N}, DType::F32);
    auto [Cc, Cg] = random_bf({batch * T, N}, DType::F32);
    auto [sc, sg] = random_bf({batch * Dn, N}, DType::F32, 0.3f);
    auto [oc, og] = output_bf({batch * T, Dn});
    cpu_.selective_scan_gated(xc, dc, bc, ac, Bc, Cc, Dc, zc, 16, batch, sc, oc);
    bf_->selective_scan_gated(xg, dg, bg, ag, Bg, Cg, Dg, zg, 16, batch, sg, og);
    EXPECT_LE(rel_err(oc, og), kOut) << "selective_scan_gated bf16 out";
    EXPECT_LE(rel_err(sc, sg), 1e-4) << "selective_scan_gated bf16 state";
  }
}

// The chunked tensor-core form of GLA / RetNet / HGRN2 and SSD (bf16 mode, dims the kernel takes) against the CPU's
// float32 reference on the same bf16-representable inputs: scoring in two calls (the second continues the first's
// state), and `batch` sequences in one launch. Strong decays (logsigmoid of N(0, 8): e^{-600} within a chunk) check
// that no exponent overflows; N(0, 40) makes 16-token blocks steeper than the kernel's tensor-core bound (e^60), so
// their diagonal blocks take the element-by-element path. The bound is the delta rule's (CudaBf16Ops.DeltaRuleChunkedTensorCores): q, k, v, the
// decayed operands, P and the chunk states are rounded to bf16 (u = 2^-9) and summed over up to 64 terms (states:
// the delta rule's bound, relative to 1 + |s|). Outputs are bounded against their largest value (max|Δ| / max|o| ≤
// 5u): a bf16 product's error is relative to its terms, and outputs that cancel would make an elementwise relative
// bound meaningless (SSD's C·B has no 1/sqrt(N) scale, so its terms are ~sqrt(N); mamba-ssm's SSD rounds C·B to
// bf16 the same way before its product with x).
TEST_F(CudaBf16Ops, LinearAttentionChunkedTensorCores) {
  constexpr double kState = 2.5e-2, kOut = 5.0 / 512;
  struct GlaShape {
    std::int64_t T, H, HV, dk, dv;
    bool per_channel, constant;
    float gate_scale;
    std::int64_t split;
  };
  for (const GlaShape s : {GlaShape{150, 2, 2, 64, 64, true, false, 2.0f, 70}, GlaShape{200, 4, 4, 16, 32, true, false, 2.0f, 0},
                           GlaShape{130, 1, 1, 256, 512, true, false, 2.0f, 64}, GlaShape{97, 2, 2, 256, 512, false, true, 0.5f, 0},
                           GlaShape{129, 2, 2, 128, 128, true, false, 8.0f, 60}, GlaShape{64, 1, 2, 32, 96, false, false, 2.0f, 0},
                           GlaShape{90, 2, 2, 32, 64, true, false, 8.0f, 0}, GlaShape{100, 1, 1, 64, 64, true, false, 40.0f, 30}}) {
    SCOPED_TRACE("gla T=" + std::to_string(s.T) + " dk=" + std::to_string(s.dk) + " dv=" + std::to_string(s.dv));
    const LinearAttentionShape shape{s.H, s.HV, s.dk, s.dv, static_cast<float>(1.0 / std::sqrt(double(s.dk)))};
    auto [qc, qg] = random_bf({s.T, s.H * s.dk});
    auto [kc, kg] = random_bf({s.T, s.H * s.dk});
    auto [vc, vg] = random_bf({s.T, s.HV * s.dv});
    auto [gc, gg] = random_bf({s.constant ? 1 : s.T, s.HV * (s.per_channel ? s.dk : 1)}, DType::F32, s.gate_scale);
    cpu_.activate(gc, Activation::LogSigmoid);
    bf_->activate(gg, Activation::LogSigmoid);
    auto [stc, stg] = random_bf({s.HV, s.dk, s.dv}, DType::F32, 0.3f);
    auto [oc, og] = output_bf({s.T, s.HV * s.dv});
    const std::int64_t split = s.split > 0 ? s.split : s.T;
    for (auto [t0, n] : {std::pair{std::int64_t{0}, split}, std::pair{split, s.T - split}}) {
      if (n == 0) continue;
      const Tensor gcs = s.constant ? gc : gc.slice_rows(t0, n), ggs = s.constant ? gg : gg.slice_rows(t0, n);
      Tensor ocs = oc.slice_rows(t0, n), ogs = og.slice_rows(t0, n);
      cpu_.gated_linear_attention(qc.slice_rows(t0, n), kc.slice_rows(t0, n), vc.slice_rows(t0, n), gcs, shape, 64, stc, ocs);
      bf_->gated_linear_attention(qg.slice_rows(t0, n), kg.slice_rows(t0, n), vg.slice_rows(t0, n), ggs, shape, 64, stg, ogs);
    }
    const double eo = err_over_max(oc, og), es = rel_err(stc, stg);
    std::printf("linear_attention_chunked gla T=%lld H=%lld HV=%lld dk=%lld dv=%lld per_channel=%d gate_scale=%.1f: out %.2e of max|o| state %.2e\n",
                static_cast<long long>(s.T), static_cast<long long>(s.H), static_cast<long long>(s.HV),
                static_cast<long long>(s.dk), static_cast<long long>(s.dv), int(s.per_channel), s.gate_scale, eo, es);
    EXPECT_LE(eo, kOut) << "out";
    EXPECT_LE(es, kState) << "state";
    {  // three sequences in one launch, against the CPU's one at a time
      const std::int64_t batch = 3, rows = batch * s.T;
      auto [q3c, q3g] = random_bf({rows, s.H * s.dk});
      auto [k3c, k3g] = random_bf({rows, s.H * s.dk});
      auto [v3c, v3g] = random_bf({rows, s.HV * s.dv});
      auto [g3c, g3g] = random_bf({s.constant ? 1 : rows, s.HV * (s.per_channel ? s.dk : 1)}, DType::F32, s.gate_scale);
      cpu_.activate(g3c, Activation::LogSigmoid);
      bf_->activate(g3g, Activation::LogSigmoid);
      auto [o3c, o3g] = output_bf({rows, s.HV * s.dv});
      cpu_.gated_linear_attention_batch(q3c, k3c, v3c, g3c, shape, 64, batch, o3c);
      bf_->gated_linear_attention_batch(q3g, k3g, v3g, g3g, shape, 64, batch, o3g);
      EXPECT_LE(err_over_max(o3c, o3g), kOut) << "batch out";
    }
  }
  struct SsdShape {
    std::int64_t T, G, H, N, P;
    bool d_per_channel;
    std::int64_t split;
  };
  for (const SsdShape s : {SsdShape{150, 1, 4, 128, 64, false, 70}, SsdShape{77, 2, 6, 16, 32, true, 0},
                           SsdShape{260, 1, 3, 64, 64, false, 0}, SsdShape{40, 1, 2, 256, 32, true, 17},
                           SsdShape{90, 2, 2, 64, 64, false, 40}}) {  // the last: a group per head (q, k materialised)
    SCOPED_TRACE("ssd T=" + std::to_string(s.T) + " N=" + std::to_string(s.N) + " P=" + std::to_string(s.P));
    const LinearAttentionShape shape{s.G, s.H, s.N, s.P, 1.0f};
    auto [ac, ag] = random_bf({s.H}, DType::F32, 0.5f);
    auto [Dc, Dg] = random_bf({s.d_per_channel ? s.H * s.P : s.H}, DType::F32);
    auto inputs = [&](std::int64_t rows) {
      auto x = random_bf({rows, s.H * s.P});
      auto dt = random_bf({rows, s.H}, DType::F32);
      cpu_.activate(dt.first, Activation::Softplus);
      bf_->activate(dt.second, Activation::Softplus);
      return std::tuple{x, dt, random_bf({rows, s.G * s.N}), random_bf({rows, s.G * s.N}), output_bf({rows, s.H * s.P})};
    };
    auto [stc, stg] = random_bf({s.H, s.N, s.P}, DType::F32, 0.3f);
    auto [x, dt, B, C, o] = inputs(s.T);
    const std::int64_t split = s.split > 0 ? s.split : s.T;
    for (auto [t0, n] : {std::pair{std::int64_t{0}, split}, std::pair{split, s.T - split}}) {
      if (n == 0) continue;
      Tensor ocs = o.first.slice_rows(t0, n), ogs = o.second.slice_rows(t0, n);
      cpu_.ssd(x.first.slice_rows(t0, n), dt.first.slice_rows(t0, n), ac, B.first.slice_rows(t0, n), C.first.slice_rows(t0, n), Dc,
               shape, 64, stc, ocs);
      bf_->ssd(x.second.slice_rows(t0, n), dt.second.slice_rows(t0, n), ag, B.second.slice_rows(t0, n), C.second.slice_rows(t0, n),
               Dg, shape, 64, stg, ogs);
    }
    const double eo = err_over_max(o.first, o.second), es = rel_err(stc, stg);
    std::printf("linear_attention_chunked ssd T=%lld G=%lld H=%lld N=%lld P=%lld: out %.2e of max|y| state %.2e\n",
                static_cast<long long>(s.T), static_cast<long long>(s.G), static_cast<long long>(s.H),
                static_cast<long long>(s.N), static_cast<long long>(s.P), eo, es);
    EXPECT_LE(eo, kOut) << "out";
    EXPECT_LE(es, kState) << "state";
    {
      const std::int64_t batch = 3;
      auto [x3, dt3, B3, C3, o3] = inputs(batch * s.T);
      cpu_.ssd_batch(x3.first, dt3.first, ac, B3.first, C3.first, Dc, shape, 64, batch, o3.first);
      bf_->ssd_batch(x3.second, dt3.second, ag, B3.second, C3.second, Dg, shape, 64, batch, o3.second);
      EXPECT_LE(err_over_max(o3.first, o3.second), kOut) << "batch out";
    }
  }
}

// Each way the chunked kernels take the state through the chunks, called directly (the backend picks by shape, and
// the op tests' shapes are too small for most): the fused state + output kernel (mma.sync, and on an H200 the wgmma
// kernel for dk 256 with 64-column tiles, in both its forms), and the three-kernel form with the
// state pass cut into 1 (no split), 2, 3, 5 (a short last segment) and 12 (one chunk each) segments walked in
// parallel and then joined. For a decay per key channel (GLA), per head (RetNet-like: q and k materialised; dk 256
// with dv 96: the narrow column tile) and SSD's grouped heads (raw q and k scaled as used, D), two sequences with
// different contents, continuing a random state. Outputs and the final state must meet
// LinearAttentionChunkedTensorCores' bounds against the CPU's float32 reference. A join that drops a segment's decay
// or starts a segment from the wrong state moves every later output by the state's contribution (of the order of
// max|o| here: gate scale 0.3 keeps the decays mild so the carried state matters).
TEST_F(CudaBf16Ops, LinearAttentionChunkedStatePasses) {
  constexpr double kState = 2.5e-2, kOut = 5.0 / 512;
  constexpr std::int64_t T = 64 * 11 + 13, batch = 2;  // 12 chunks, the last partial
  struct Case {
    const char* name;
    std::int64_t H, HV, dk, dv;
    bool per_channel, ssd;
  };
  struct KernelsBack {  // the default choice back however the test ends
    ~KernelsBack() { cuda::set_linear_attention_chunked_kernel(cuda::LinearAttentionKernel::Auto); }
  } kernels_back;
  for (const Case c : {Case{"per channel", 2, 2, 64, 64, true, false}, Case{"per head", 2, 2, 128, 64, false, false},
                       Case{"per head dk 256", 1, 1, 256, 96, false, false}, Case{"ssd groups", 1, 3, 128, 64, false, true},
                       Case{"per head dk 256 dv 128", 2, 2, 256, 128, false, false},
                       Case{"per channel dk 256 dv 128", 2, 2, 256, 128, true, false}}) {
    SCOPED_TRACE(c.name);
    const float scale = c.ssd ? 1.0f : static_cast<float>(1.0 / std::sqrt(double(c.dk)));
    const LinearAttentionShape shape{c.H, c.HV, c.dk, c.dv, scale};
    const std::int64_t rows = batch * T;
    auto [qc, qg] = random_bf({rows, c.H * c.dk});
    auto [kc, kg] = random_bf({rows, c.H * c.dk});
    auto [vc, vg] = random_bf({rows, c.HV * c.dv});
    auto [gc, gg] = random_bf({rows, c.HV * (c.per_channel ? c.dk : 1)}, DType::F32, 0.3f);  // SSD: dt
    auto [ac, ag] = random_bf({c.HV}, DType::F32, 0.5f);
    auto [Dc, Dg] = random_bf({c.HV}, DType::F32);
    cpu_.activate(gc, c.ssd ? Activation::Softplus : Activation::LogSigmoid);
    bf_->activate(gg, c.ssd ? Activation::Softplus : Activation::LogSigmoid);
    std::vector<float> init(static_cast<std::size_t>(batch * c.HV * c.dk * c.dv));
    {
      std::normal_distribution<float> n(0.0f, 0.3f);
      for (auto& x : init) x = n(rng_);
    }
    // the reference: each sequence from its slice of the initial state
    Tensor oc = cpu_.alloc(DType::F32, {rows, c.HV * c.dv}), sc = cpu_.alloc(DType::F32, {batch * c.HV, c.dk, c.dv});
    cpu_.upload(init, sc);
    for (std::int64_t b = 0; b < batch; ++b) {
      Tensor st = sc.reshaped({batch * c.HV * c.dk, c.dv}).slice_rows(b * c.HV * c.dk, c.HV * c.dk), ob = oc.slice_rows(b * T, T);
      if (c.ssd)
        cpu_.ssd(vc.slice_rows(b * T, T), gc.slice_rows(b * T, T), ac, kc.slice_rows(b * T, T), qc.slice_rows(b * T, T), Dc,
                 shape, 64, st, ob);
      else
        cpu_.gated_linear_attention(qc.slice_rows(b * T, T), kc.slice_rows(b * T, T), vc.slice_rows(b * T, T),
                                    gc.slice_rows(b * T, T), shape, 64, st, ob);
    }
    using Pass = cuda::LinearAttentionChunkedArgs::StatePass;
    using Kernel = cuda::LinearAttentionKernel;
    // The fused pass with 32-column tiles (the batch-1 form where dv allows 64), with the widest tile on the kernel
    // Auto picks (mma.sync for grids this small), on mma.sync, on the wgmma kernel with one CTA / a cluster pair per
    // tile (on an H200 where it applies — dk 256, dv 128 —, else mma.sync); then the segmented pass in n segments.
    struct Way {
      std::string name;
      Pass pass;
      std::int64_t segments, fused_cols;
      Kernel kernel;
    };
    std::vector<Way> ways = {{"fused, 32 columns", Pass::Fused, 0, 32, Kernel::Auto},
                             {"fused", Pass::Fused, 0, 0, Kernel::Auto},
                             {"fused, mma.sync", Pass::Fused, 0, 0, Kernel::MmaSync},
                             {"fused, wgmma one CTA per tile", Pass::Fused, 0, 0, Kernel::Wgmma},
                             {"fused, wgmma CTA pairs", Pass::Fused, 0, 0, Kernel::WgmmaPair}};
    for (const std::int64_t n : {1, 2, 3, 5, 12})
      ways.push_back({std::to_string(n) + " segments", Pass::Segmented, n, 0, Kernel::Auto});
    for (const Way& way : ways) {
      SCOPED_TRACE(way.name);
      cuda::set_linear_attention_chunked_kernel(way.kernel);
      Tensor og = output_bf({rows, c.HV * c.dv}).second, sg = bf_->alloc(DType::F32, {batch * c.HV, c.dk, c.dv});
      bf_->upload(init, sg);
      cuda::LinearAttentionChunkedArgs a{};
      a.q = qg.data;
      a.k = kg.data;
      a.v = vg.data;
      a.g = gg.as<float>();
      a.g_cols = gg.cols();
      a.per_channel = c.per_channel;
      if (c.ssd) {
        a.A_log = ag.as<float>();
        a.D = Dg.as<float>();
      }
      a.state = sg.as<float>();
      a.out = og.data;
      a.T = T;
      a.H = c.H;
      a.HV = c.HV;
      a.dk = c.dk;
      a.dv = c.dv;
      a.scale = scale;
      a.batch = batch;
      a.state_pass = way.pass;
      a.state_segments = way.segments;
      a.fused_cols = way.fused_cols;
      const auto bytes = static_cast<std::int64_t>(cuda::linear_attention_chunked_workspace_bytes(a));
      Tensor work = bf_->alloc(DType::F32, {(bytes + 3) / 4});
      ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);  // the backend's stream does not wait for the default one
      cuda::linear_attention_chunked_bf16(a, work.data, nullptr);
      ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
      const double eo = err_over_max(oc, og), es = rel_err(sc, sg);
      std::printf("linear_attention_chunked %s, %s: out %.2e of max|o| state %.2e\n", c.name, way.name.c_str(), eo, es);
      EXPECT_LE(eo, kOut) << "out";
      EXPECT_LE(es, kState) << "state";
    }
  }
}

}  // namespace
}  // namespace lmscope
