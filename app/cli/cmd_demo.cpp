// The main job on what ships: the three small demo models trained for lmscope (resources/models, trained by
// tools/train/train_demo.py; see resources/models/README.md) compared on our own text, a passkey grid and
// throughput. `demo` alone scores a built-in paragraph with the byte-level model and continues a prompt.
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
#include "cli/run_progress.h"
#include "lmscope/run/runner.h"
#include "lmscope/error.h"
#include "lmscope/model.h"

namespace lmscope::cli {
namespace {

// Our own text, scored as UTF-8 bytes by the byte-level demo model.
constexpr std::string_view kDemoText =
    "A workbench for language models reads a checkpoint folder, runs the model over a text, and reports how "
    "surprised the model was by every byte. Lower surprise means a better model of the text. The same numbers, "
    "computed the same way for every family, make comparisons fair.";
constexpr std::string_view kPrompt = "The boats came back to the harbour";

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

// Installed (bin/lmscope-cli beside share/lmscope/): share/lmscope/demo and share/lmscope/models. In a build tree:
// the source tree's resources/demo and resources/models.
struct DemoPlaces {
  std::filesystem::path resources;  // harbour.txt
  std::filesystem::path models;     // demo-llama, demo-gdn, demo-bytes
};

DemoPlaces demo_places() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  const auto share = ec ? std::filesystem::path{} : exe.parent_path().parent_path() / "share" / "lmscope";
  if (!share.empty() && std::filesystem::exists(share / "demo" / "harbour.txt")) return {share / "demo", share / "models"};
  return {LMSCOPE_DEMO_RESOURCES, LMSCOPE_DEMO_MODELS};
}

struct DemoModel {
  const char* folder;
  const char* name;
  const char* tokenizer;  // "" = the folder's own tokenizer files
};
constexpr DemoModel kDemoModels[] = {
    {"demo-llama", "demo-llama (Transformer, BPE)", ""},
    {"demo-gdn", "demo-gdn (Gated DeltaNet, BPE)", ""},
    {"demo-bytes", "demo-bytes (Transformer, bytes)", "bytes"},
};

std::filesystem::path demo_model_dir(const DemoPlaces& places, const char* folder) {
  const auto dir = places.models / folder;
  if (!std::filesystem::exists(dir / "config.json") || !std::filesystem::exists(dir / "model.safetensors"))
    throw BadInput(dir.string() + ": demo model not found (config.json and model.safetensors expected; the checkout "
                   "or package is incomplete)");
  return dir;
}

// --report: the demo models compared on what ships (perplexity vs length on our own text, a passkey grid,
// throughput), results in a store inside the report folder; figures and tables by the GUI's report export when
// the GUI is built (headless), else Markdown/CSV tables written here.
// The comparison the demo runs (also what the GUI's Run ▸ Demo launches, through --spec-out).
nlohmann::json demo_spec(const std::string& backend) {
  const auto places = demo_places();
  nlohmann::json models = nlohmann::json::array();
  for (const auto& m : kDemoModels) {
    nlohmann::json j = {{"path", demo_model_dir(places, m.folder).string()}, {"name", m.name}};
    if (*m.tokenizer) j["tokenizer"] = m.tokenizer;
    models.push_back(j);
  }
  // The BPE models were trained on 512-token windows and demo-bytes on 1024 bytes: the lengths reach 4x past that.
  return {
      {"lmscope_run", 1},
      {"name", "lmscope demo"},
      {"models", models},
      {"backend", backend},
      {"tasks",
       {{{"task", "ppl_vs_length"}, {"data", (places.resources / "harbour.txt").string()},
         {"lengths", {128, 256, 512, 1024, 2048}}},
        {{"task", "passkey"}, {"lengths", {256, 512, 1024, 2048}}, {"depths", {0.0, 0.5, 1.0}}, {"trials", 2}, {"seed", 1}},
        {{"task", "throughput"}, {"seq", {256}}, {"repeats", 2}}}}};
}

int demo_report(const std::filesystem::path& out, const std::string& backend) {
  std::filesystem::create_directories(out);
  const auto spec = demo_spec(backend);
  {
    std::ofstream f(out / "spec.json");
    f << spec.dump(2) << "\n";
  }
  run::RunOptions o;
  o.store_path = (out / "store.sqlite").string();
  ProgressPrinter printer(false);
  o.on_event = [&](const nlohmann::json& e) { printer(e); };
  const auto outcome = run::execute_run(run::parse_run_spec(spec, out.string(), "demo spec"), o);
  {
    std::ofstream f(out / "results.json");
    f << outcome.results.dump(2) << "\n";
  }
  std::error_code ec;
  const auto gui = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "lmscope";
  if (!ec && std::filesystem::exists(gui)) {
    const std::string cmd = "QT_QPA_PLATFORM=offscreen '" + gui.string() + "' --export-report '" + out.string() +
                            "' --store '" + o.store_path + "' >/dev/null 2>'" + (out / "report.log").string() + "'";
    if (std::system(cmd.c_str()) == 0) {
      std::printf("report  %s: figures (PNG, PDF, SVG) and tables (CSV, LaTeX, Markdown, JSON); index.md lists them\n",
                  out.string().c_str());
      return 0;
    }
    std::fprintf(stderr, "demo: the GUI's report export failed (see %s); writing tables only\n",
                 (out / "report.log").string().c_str());
  }
  // Without the GUI: one Markdown and one CSV table of every metric.
  std::ofstream md(out / "comparison.md"), csv(out / "comparison.csv");
  md << "| model | task | metric | value |\n| --- | --- | --- | --- |\n";
  csv << "model,task,metric,value\n";
  for (const auto& g : outcome.results["runs"])
    for (const auto& [task, m] : g["results"].items())
      for (const auto& [k, v] : m.items()) {
        if (!v.is_number()) continue;
        const auto name = g["lmscope"]["model"].get<std::string>();
        md << "| " << name << " | " << task << " | " << k.substr(0, k.find(',')) << " | " << v.dump() << " |\n";
        csv << '"' << name << "\"," << task << "," << k.substr(0, k.find(',')) << "," << v.dump() << "\n";
      }
  std::printf("report  %s: results.json, comparison.md, comparison.csv (figures need the GUI build)\n",
              out.string().c_str());
  return 0;
}

}  // namespace

int cmd_demo(const Argv& argv) {
  Args args("demo", argv, {"model", "backend", "report", "spec-out"}, {});
  if (auto spec_out = args.optional("spec-out")) {
    std::ofstream f(*spec_out);
    if (!f) throw BadInput("demo: cannot write --spec-out " + *spec_out);
    f << demo_spec(args.get("backend", "cpu")).dump(2) << "\n";
    std::printf("%s\n", spec_out->c_str());
    return 0;
  }
  if (auto report = args.optional("report")) {
    if (args.has("model")) throw BadInput("demo: --report compares the demo models; it takes no --model");
    return demo_report(*report, args.get("backend", "cpu"));
  }
  const bool builtin = !args.has("model");
  const std::filesystem::path dir = builtin ? demo_model_dir(demo_places(), "demo-bytes") : std::filesystem::path(args.required("model"));
  const Checkpoint ck = Checkpoint::open(dir);
  const auto model = load_model(ck, load_options_from_args(args));
  const auto& s = model->spec();
  if (s.vocab_size < 256) throw BadInput("demo: the model needs a byte-level vocabulary (>= 256 tokens)");

  std::printf("lmscope demo\n");
  std::printf("model   %s\n", dir.string().c_str());
  if (builtin)
    std::printf("        demo-bytes: a small byte-level Transformer trained for lmscope (a random model scores about\n"
                "        8 bits/byte); `lmscope-cli demo --report DIR` compares all three demo models\n");
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
