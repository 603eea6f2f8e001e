// Throughput of scoring: forward passes plus the next-token log-likelihood of every position, on random tokens,
// the batch's sequences scored together (next_token_logprobs_batch). With --config, a checkpoint of random weights
// is written first (to /dev/shm, i.e. memory, where it exists; else the temporary folder), so full-size configs can
// be measured without downloads. With --generate N, the batched greedy decoder instead: prefill and decode rates,
// time per item and the decoding step's bandwidth (a lower bound) against the device's. A benchmark, not a test: it
// prints numbers and asserts nothing.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <vector>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "lmscope/error.h"
#include "lmscope/input_file.h"
#include "lmscope/model.h"
#include "lmscope/random_checkpoint.h"
#ifdef LMSCOPE_HAVE_CUDA
#include "lmscope_kernels/cuda_device.h"
#endif

namespace lmscope::cli {
namespace {

// Matmul FLOPs of one forward pass over T tokens (2 per multiply-add): every weight matrix once per token, the LM
// head included, plus causal softmax attention's QKᵀ and PV (T²/2 pairs per head, or T·window) in the layers that
// have it — all of them for attention models, the hybrid's attention layers (heads × head_dim = hidden size, as in
// fla's) otherwise. The linear mixers' own chunk products (state updates, intra-chunk scores) are not counted, so
// for those families the rate is a lower bound.
// The layers with softmax attention: all of an attention model's, a hybrid's listed ones.
double attention_layers(const ModelSpec& s) {
  return s.mixer == "attention" ? static_cast<double>(s.num_layers) : static_cast<double>(s.attention_layers.size());
}

double forward_flops(const ModelSpec& s, std::int64_t params, std::int64_t T) {
  const double embed = static_cast<double>(s.vocab_size * s.hidden_size);
  const double matmul_params = static_cast<double>(params) - (s.tie_word_embeddings ? 0.0 : embed);  // lm_head counted once
  const double window = s.window_size > 0 ? std::min<double>(static_cast<double>(s.window_size), static_cast<double>(T))
                                          : static_cast<double>(T) / 2;
  const double width = static_cast<double>(s.mixer == "attention" ? s.num_heads * s.head_dim : s.hidden_size);
  const double attn = 2.0 * 2.0 * static_cast<double>(T) * window * width * attention_layers(s);
  return 2.0 * matmul_params * static_cast<double>(T) + attn;
}

// The first GPU's dense bf16 rate and DRAM bandwidth for a bf16 run on the cuda backend; zeros otherwise (or for a
// GPU we know no rate for).
struct RunLimits {
  double bf16_tflops = 0, dram_gb_per_s = 0;
};
RunLimits bf16_run_limits(const std::string& backend, const std::string& dtype) {
#ifdef LMSCOPE_HAVE_CUDA
  if (backend != "cuda" || dtype != "bf16") return {};
  const auto devices = cuda::list_devices();
  if (devices.empty()) return {};
  const auto l = cuda::device_limits(devices.front());
  return {l.bf16_tflops, l.dram_gb_per_s};
#else
  (void)backend, (void)dtype;
  return {};
#endif
}

// " (48% of the device's 1070 dense bf16 TFLOP/s)": a rate as a share of the device's limit, "" when that is unknown.
std::string share_of(double rate, double limit, const char* unit) {
  if (limit <= 0) return "";
  char s[96];
  std::snprintf(s, sizeof s, " (%.0f%% of the device's %.0f %s)", 100.0 * rate / limit, limit, unit);
  return s;
}

// Bytes a decoding step must read at least: every weight once (a batch shares them) and each sequence's attention
// cache (keys and values of the attention layers, in the compute type) at `context` tokens. Recurrent states,
// activations and writes are not counted, so the bandwidth derived from it is a lower bound.
double decode_step_bytes(const ModelSpec& s, std::int64_t params, const std::string& dtype, std::int64_t batch, double context) {
  const double elem = dtype == "bf16" ? 2.0 : 4.0;
  const double kv_width = static_cast<double>(s.mixer == "attention" ? s.num_kv_heads * s.head_dim : s.hidden_size);
  const double seen = s.window_size > 0 ? std::min(context, static_cast<double>(s.window_size)) : context;
  return elem * static_cast<double>(params) + elem * 2.0 * attention_layers(s) * kv_width * seen * static_cast<double>(batch);
}

double peak_rss_gib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is in KiB on Linux
}

// Generation: B prompts of T random tokens prefilled (in chunks) and decoded together, `gen` tokens each, no stop
// condition. Prefill ends when the last prompt's first token is known (the decoder reports each prefill through
// after_step); every id is on the host then, so no extra synchronisation is needed for the timings.
int bench_generation(const Model& model, const Checkpoint& ck, const std::filesystem::path& dir, const std::string& dtype,
                     const std::vector<std::vector<std::int32_t>>& prompts, std::int64_t gen, std::int64_t prefill_chunk,
                     std::int64_t repeat, std::int64_t warmup) {
  using clock = std::chrono::steady_clock;
  const auto B = static_cast<std::int64_t>(prompts.size()), T = static_cast<std::int64_t>(prompts[0].size());
  std::vector<GreedyRequest> requests;
  for (const auto& p : prompts) requests.push_back({p, gen});
  struct Timing {
    double prefill_ms, total_ms, first_step_ms = 0, median_step_ms = 0;  // decoding steps after the prefill
  };
  std::int64_t checksum = 0;
  auto once = [&] {
    GreedyOptions o;
    o.prefill_chunk = prefill_chunk;
    std::int64_t calls = 0;
    const auto t0 = clock::now();
    auto t_prefill = t0, t_last = t0;
    std::vector<double> steps;
    o.after_step = [&](std::int64_t) {
      const auto now = clock::now();
      if (++calls == B) t_prefill = now;
      else if (calls > B) steps.push_back(std::chrono::duration<double, std::milli>(now - t_last).count());
      t_last = now;
    };
    for (const auto& out : generate_greedy_batch(model, requests, o))
      for (auto id : out) checksum += id;
    const auto t1 = clock::now();
    Timing t{std::chrono::duration<double, std::milli>(t_prefill - t0).count(), std::chrono::duration<double, std::milli>(t1 - t0).count()};
    if (!steps.empty()) {
      t.first_step_ms = steps.front();
      std::sort(steps.begin(), steps.end());
      t.median_step_ms = steps[steps.size() / 2];
    }
    return t;
  };
  for (std::int64_t i = 0; i < warmup; ++i) once();
  model.reset_peak_memory();
  std::vector<Timing> runs;
  for (std::int64_t i = 0; i < repeat; ++i) runs.push_back(once());
  std::sort(runs.begin(), runs.end(), [](const Timing& a, const Timing& b) { return a.total_ms < b.total_ms; });
  const Timing med = runs[runs.size() / 2];
  const double decode_ms = med.total_ms - med.prefill_ms;
  std::printf("model %s (%s, %lld parameters), backend %s, %s, generate: batch %lld x prompt %lld + %lld new tokens\n",
              dir.filename().string().c_str(), model.spec().family.c_str(), static_cast<long long>(ck.summary().parameter_count),
              model.backend_name().c_str(), dtype.c_str(), static_cast<long long>(B), static_cast<long long>(T),
              static_cast<long long>(gen));
  const std::int64_t peak_gpu = model.peak_memory_bytes();
  char gpu[64] = "";
  if (peak_gpu >= 0) std::snprintf(gpu, sizeof gpu, " | peak GPU memory %.2f GiB", static_cast<double>(peak_gpu) / (1 << 30));
  std::printf("prefill tokens/s %.1f | decode tokens/s %.1f | ms/item %.2f | ms total %.2f (median of %lld)%s | checksum %lld\n",
              static_cast<double>(B * T) / (med.prefill_ms / 1e3),
              gen > 1 ? static_cast<double>(B * (gen - 1)) / (decode_ms / 1e3) : 0.0, med.total_ms / static_cast<double>(B),
              med.total_ms, static_cast<long long>(repeat), gpu, static_cast<long long>(checksum));
  if (gen > 1) {
    // The median step sees about the prompt plus half the new tokens.
    const double gb = decode_step_bytes(model.spec(), ck.summary().parameter_count, dtype, B,
                                        static_cast<double>(T) + static_cast<double>(gen) / 2) / 1e9;
    const double rate = gb / (med.median_step_ms / 1e3);
    const double dram = bf16_run_limits(model.backend_name(), dtype).dram_gb_per_s;
    std::printf("decoding step ms: first %.2f, median %.2f | reads >= %.3g GB per step: >= %.3g GB/s%s\n",
                med.first_step_ms, med.median_step_ms, gb, rate, share_of(rate, dram, "GB/s DRAM").c_str());
  }
  return 0;
}

}  // namespace

int cmd_bench(const Argv& argv) {
  Args args("bench", argv, {"config", "model", "batch", "seq", "dtype", "backend", "repeat", "warmup", "rope", "micro-batch", "force-family",
                              "generate", "prefill-chunk"},
            {"allow-nonfinite"});
  // Stated limits: the batch of random ids is allocated up front.
  const std::int64_t B = args.integer_in("batch", 1, 1, 1 << 16), T = args.integer_in("seq", 512, 2, 1 << 24);
  const std::int64_t repeat = args.integer_in("repeat", 3, 1, 1 << 20), warmup = args.integer_in("warmup", 1, 0, 1 << 20);
  if (B * T > (1 << 26)) throw BadInput("bench: --batch × --seq is at most 67108864 tokens");
  if (args.has("config") == args.has("model")) throw BadInput("bench: give exactly one of --config FILE and --model DIR");
  const LoadOptions opts = load_options_from_args(args);
  const std::string dtype = !opts.dtype.empty() ? opts.dtype : opts.backend == "cuda" ? "bf16" : "fp32";
  if (dtype != "fp32" && dtype != "bf16") throw BadInput("bench: --dtype must be fp32 or bf16");
  if (opts.backend == "cpu" && dtype != "fp32") throw BadInput("bench: the cpu backend computes in fp32 only");
  const std::int64_t micro = args.integer_in("micro-batch", 0, 0, B);
  // --generate N: the batched greedy decoder instead of scoring (prefill of every prompt, then N tokens each).
  const std::int64_t gen = args.integer_in("generate", 0, 0, 1 << 16);
  const std::int64_t prefill_chunk = args.integer_in("prefill-chunk", GreedyOptions{}.prefill_chunk, 1, 1 << 24);

  std::filesystem::path dir;
  std::filesystem::path tmp;
  if (args.has("config")) {
    const auto text = read_input_file(args.required("config"), "the model configuration", kMaxConfigFileBytes);
    std::error_code ec;
    const std::filesystem::path base = std::filesystem::is_directory("/dev/shm", ec) ? std::filesystem::path("/dev/shm")
                                                                                     : std::filesystem::temp_directory_path();
    tmp = base / ("lmscope-bench-" + std::to_string(::getpid()));
    std::fprintf(stderr, "writing random weights for %s to %s\n", args.required("config").c_str(), tmp.string().c_str());
    RandomCheckpointOptions ro;
    ro.dtype = dtype == "bf16" ? DType::BF16 : DType::F32;  // what the backend computes with anyway
    write_random_checkpoint(text, tmp, ro);
    dir = tmp;
  } else {
    dir = args.required("model");
  }
  struct Cleanup {
    std::filesystem::path p;
    ~Cleanup() {
      std::error_code ec;
      if (!p.empty()) std::filesystem::remove_all(p, ec);
    }
  } cleanup{tmp};

  const Checkpoint ck = Checkpoint::open(dir, args.get("force-family", ""));
  const auto model = load_model(ck, opts);
  const auto& s = model->spec();
  std::mt19937 rng(1234);
  std::uniform_int_distribution<std::int32_t> tok(0, static_cast<std::int32_t>(s.vocab_size - 1));
  std::vector<std::vector<std::int32_t>> batch(static_cast<std::size_t>(B), std::vector<std::int32_t>(static_cast<std::size_t>(T)));
  for (auto& seq : batch)
    for (auto& t : seq) t = tok(rng);

  if (gen > 0) return bench_generation(*model, ck, dir, dtype, batch, gen, prefill_chunk, repeat, warmup);

  double checksum = 0;
  auto run_batch = [&] {  // fused scoring of the whole batch: next-token log-likelihoods, no [T, V] logits
    for (const auto& lps : next_token_logprobs_batch(*model, batch, micro))
      for (double lp : lps) checksum += lp;
  };
  for (std::int64_t i = 0; i < warmup; ++i) run_batch();
  model->reset_peak_memory();
  std::vector<double> ms;
  for (std::int64_t i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run_batch();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  const double med = ms[ms.size() / 2];
  const double tokens = static_cast<double>(B * T);
  const double flops = static_cast<double>(B) * forward_flops(s, ck.summary().parameter_count, T);
  std::printf("model %s (%s, %lld parameters), backend %s, %s, batch %lld x seq %lld\n", dir.filename().string().c_str(),
              s.family.c_str(), static_cast<long long>(ck.summary().parameter_count), model->backend_name().c_str(),
              dtype.c_str(), static_cast<long long>(B), static_cast<long long>(T));
  const std::int64_t peak_gpu = model->peak_memory_bytes();
  char gpu[64] = "";
  if (peak_gpu >= 0) std::snprintf(gpu, sizeof gpu, " | peak GPU memory %.2f GiB", static_cast<double>(peak_gpu) / (1 << 30));
  const double tflops = flops / (med / 1e3) / 1e12;
  const double peak = bf16_run_limits(model->backend_name(), dtype).bf16_tflops;
  std::printf("tokens/s %.1f | ms/batch %.2f (median of %lld) | %.3f TFLOP/s%s%s | peak host memory %.2f GiB | checksum %.3f\n",
              tokens / (med / 1e3), med, static_cast<long long>(repeat), tflops,
              share_of(tflops, peak, "dense bf16 TFLOP/s").c_str(), gpu, peak_rss_gib(),
              checksum / static_cast<double>(repeat + warmup) / tokens);
  return 0;
}

}  // namespace lmscope::cli
