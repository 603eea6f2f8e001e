// The main job on what ships with the project. Until trained demo models exist, the model is a small Llama with
// random weights that this command writes on first use: the numbers show the pipeline working end to end, not
// a trained model's quality.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include "cli/args.h"
#include "cli/commands.h"
#include "lmscope/error.h"
#include "lmscope/model.h"
#include "lmscope/random_checkpoint.h"

namespace lmscope::cli {
namespace {

// Our own text, scored as UTF-8 bytes (the demo model's vocabulary is the 256 byte values).
constexpr std::string_view kDemoText =
    "A workbench for language models reads a checkpoint folder, runs the model over a text, and reports how "
    "surprised the model was by every byte. Lower surprise means a better model of the text. The same numbers, "
    "computed the same way for every family, make comparisons fair.";
constexpr std::string_view kPrompt = "A workbench for language models";

std::string printable(const std::vector<std::int32_t>& bytes) {
  std::string s;
  for (auto b : bytes) {
    if (b >= 32 && b < 127) {
      s += static_cast<char>(b);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", b);
      s += buf;
    }
  }
  return s;
}

// Installed (bin/lmscope-cli beside share/lmscope/): the shipped config and a per-user cache folder for the weights.
// In a build tree: the source tree's config and the build folder.
std::filesystem::path installed_share() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const auto share = exe.parent_path().parent_path() / "share" / "lmscope";
  return std::filesystem::exists(share / "demo" / "tiny-llama.json") ? share : std::filesystem::path{};
}

std::filesystem::path ensure_demo_model() {
  const auto share = installed_share();
  std::filesystem::path config = LMSCOPE_DEMO_CONFIG, base = LMSCOPE_DEMO_DIR;
  if (!share.empty()) {
    config = share / "demo" / "tiny-llama.json";
    const char* cache = std::getenv("XDG_CACHE_HOME");
    const char* home = std::getenv("HOME");
    base = cache && *cache ? std::filesystem::path(cache) / "lmscope" / "demo"
           : home && *home ? std::filesystem::path(home) / ".cache" / "lmscope" / "demo"
                           : std::filesystem::temp_directory_path() / "lmscope-demo";
  }
  const std::filesystem::path dir = base / "tiny-llama-random";
  if (std::filesystem::exists(dir / "model.safetensors")) return dir;
  std::ifstream in(config);
  if (!in) throw BadInput(config.string() + ": demo model configuration not found");
  std::ostringstream cfg;
  cfg << in.rdbuf();
  std::fprintf(stderr, "writing the demo checkpoint (random weights, seed 1) to %s\n", dir.string().c_str());
  write_random_checkpoint(cfg.str(), dir, {});
  return dir;
}

}  // namespace

int cmd_demo(const Argv& argv) {
  Args args("demo", argv, {"model", "backend"}, {});
  const bool builtin = !args.has("model");
  const std::filesystem::path dir = builtin ? ensure_demo_model() : std::filesystem::path(args.required("model"));
  const Checkpoint ck = Checkpoint::open(dir);
  const auto model = load_model(ck, load_options_from_args(args));
  const auto& s = model->spec();
  if (s.vocab_size < 256) throw BadInput("demo: the model needs a byte-level vocabulary (>= 256 tokens)");

  std::printf("lmscope demo\n");
  std::printf("model   %s\n", dir.string().c_str());
  if (builtin)
    std::printf("        a small Llama with RANDOM weights written by lmscope itself (trained demo models come later):\n"
                "        expect about ln(256) = 5.55 nats per byte, i.e. no better than chance\n");
  std::printf("        %s, %lld parameters, %lld layers, RoPE %s, backend %s\n", s.family.c_str(),
              static_cast<long long>(ck.summary().parameter_count), static_cast<long long>(s.num_layers),
              describe_rope(s.rope).c_str(), model->backend_name().c_str());

  const std::vector<std::int32_t> ids(kDemoText.begin(), kDemoText.end());
  const auto t0 = std::chrono::steady_clock::now();
  double nll = 0;
  for (double lp : next_token_logprobs(*model, ids)) nll -= lp;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double mean = nll / static_cast<double>(ids.size() - 1);
  std::printf("score   %zu bytes of built-in text: %.4f nats/byte, %.4f bits/byte, byte perplexity %.2f (%.0f tokens/s)\n",
              ids.size() - 1, mean, mean / std::log(2.0), std::exp(mean), static_cast<double>(ids.size()) / secs);

  const std::vector<std::int32_t> prompt(kPrompt.begin(), kPrompt.end());
  const auto cont = generate_greedy(*model, prompt, 32);
  std::printf("greedy  \"%s\" -> \"%s\"\n", std::string(kPrompt).c_str(), printable(cont).c_str());
  return 0;
}

}  // namespace lmscope::cli
