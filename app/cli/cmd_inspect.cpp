#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "lmscope/checkpoint.h"
#include "lmscope/json_input.h"

namespace lmscope::cli {
namespace {

std::string human_bytes(std::uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string with_commas(std::int64_t n) {
  std::string s = std::to_string(n), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

std::string layer_list(const std::vector<std::int64_t>& layers) {
  std::string s;
  for (auto l : layers) s += (s.empty() ? "" : ", ") + std::to_string(l);
  return s;
}

// "gated delta rule; softmax attention in layers 1, 3"
std::string mixer_text(const ModelSpec& s) {
  std::string m = s.mixer;
  if (!s.attention_layers.empty())
    m += "; softmax attention in layer" + std::string(s.attention_layers.size() == 1 ? " " : "s ") + layer_list(s.attention_layers);
  return m;
}

std::string rope_text(const ModelSpec& s) {
  if (!s.uses_rope) return "none (no attention layers)";
  return describe_rope(s.rope) + (s.attention_layers.empty() ? "" : " in the attention layers");
}

const double kTernaryIdealBits = std::log2(3.0);

// What a front end needs to check a RoPE override before running it: the method, base, original context, and (for
// models whose attention heads are the spec's heads) the rotary dimension, whose half is the number of LongRoPE
// factors. Hybrids' attention layers have their own head size, which the spec does not carry: no rotary_dim there.
nlohmann::json rope_json(const ModelSpec& s) {
  if (!s.uses_rope) return {{"type", "none"}, {"description", "none"}};
  nlohmann::json r{{"type", rope_type_name(s.rope.type)},
                   {"theta", s.rope.theta},
                   {"description", describe_rope(s.rope)},
                   {"partial_rotary_factor", s.rope.partial_rotary_factor}};
  if (s.rope.original_max_position_embeddings) r["original_max_position_embeddings"] = *s.rope.original_max_position_embeddings;
  if (s.attention_layers.empty() && s.head_dim > 0) r["rotary_dim"] = rope_rotary_dim(s.rope, s.head_dim);
  return r;
}

}  // namespace

nlohmann::json inspect_json(const Checkpoint& ck) {
  const ModelSpec& s = ck.spec();
  const auto& sum = ck.summary();
  std::string dtypes;
  for (const auto& [name, n] : sum.dtypes) dtypes += (dtypes.empty() ? "" : "+") + name;
  nlohmann::json j = {
      {"model", ck.dir().string()},
      {"model_type", s.model_type},
      {"family", s.family},
      {"layout", s.layout},
      {"architectures", s.architectures},
      {"forced_family", s.forced_family},
      {"parameters", sum.parameter_count},
      {"dtype", dtypes},
      {"layers", s.num_layers},
      {"hidden_size", s.hidden_size},
      {"heads", s.num_heads},
      {"kv_heads", s.num_kv_heads},
      {"head_dim", s.head_dim},
      {"intermediate_size", s.intermediate_size},
      {"vocab_size", s.vocab_size},
      {"tied_embeddings", s.tie_word_embeddings},
      {"window_size", s.window_size},
      {"context_length", s.max_position_embeddings},
      {"rope", rope_json(s)},
      {"mixer", s.mixer},
      {"attention_layers", s.attention_layers},
      {"details", nlohmann::json::object()},
      {"bytes_on_disk", sum.bytes_on_disk},
      {"files", sum.files.size()},
  };
  for (const auto& [key, value] : s.details) j["details"][key] = value;
  if (sum.ternary_tensors > 0)
    j["ternary_packed"] = {{"ternary_parameters", sum.ternary_parameters},
                           {"ternary_tensors", sum.ternary_tensors},
                           {"unquantised_bytes", sum.unquantised_bytes},
                           {"bytes_2bit", ternary_packed_bytes(sum, 2.0)},
                           {"bytes_ideal", ternary_packed_bytes(sum, kTernaryIdealBits)}};
  return j;
}

int cmd_inspect(const Argv& argv) {
  Args args("inspect", argv, {"model", "force-family"}, {"json"});
  const Checkpoint ck = open_checkpoint(args);
  const ModelSpec& s = ck.spec();
  const auto& sum = ck.summary();
  std::string dtypes;
  for (const auto& [name, n] : sum.dtypes) dtypes += (dtypes.empty() ? "" : "+") + name;

  if (args.flag("json")) {
    std::printf("%s\n", dump_json(inspect_json(ck), 2).c_str());
    return 0;
  }
  std::printf("model          %s\n", ck.dir().string().c_str());
  std::printf("family         %s (model_type '%s', %s layout%s)\n", s.family.c_str(), s.model_type.c_str(), s.layout.c_str(),
              s.architectures.empty() ? "" : (", " + s.architectures.front()).c_str());
  std::printf("parameters     %s\n", with_commas(sum.parameter_count).c_str());
  std::printf("dtype          %s\n", dtypes.c_str());
  if (s.intermediate_size > 0)
    std::printf("layers         %lld (hidden %lld, MLP %lld)\n", static_cast<long long>(s.num_layers),
                static_cast<long long>(s.hidden_size), static_cast<long long>(s.intermediate_size));
  else
    std::printf("layers         %lld (hidden %lld, no MLP)\n", static_cast<long long>(s.num_layers),
                static_cast<long long>(s.hidden_size));
  std::printf("mixer          %s\n", mixer_text(s).c_str());
  if (s.mixer == "attention")
    std::printf("heads          %lld query / %lld key-value, head_dim %lld%s\n", static_cast<long long>(s.num_heads),
                static_cast<long long>(s.num_kv_heads), static_cast<long long>(s.head_dim),
                s.window_size ? (", sliding window " + std::to_string(s.window_size)).c_str() : "");
  for (const auto& [key, value] : s.details) std::printf("%-14s %s\n", key.c_str(), value.c_str());
  std::printf("vocabulary     %lld (%s embeddings)\n", static_cast<long long>(s.vocab_size),
              s.tie_word_embeddings ? "tied" : "untied");
  std::printf("RoPE           %s\n", rope_text(s).c_str());
  if (s.max_position_embeddings > 0)
    std::printf("context        %lld tokens\n", static_cast<long long>(s.max_position_embeddings));
  else
    std::printf("context        not set in config.json (evaluation uses lm-eval's default, 2048)\n");
  std::printf("size on disk   %s in %zu file%s\n", human_bytes(sum.bytes_on_disk).c_str(), sum.files.size(),
              sum.files.size() == 1 ? "" : "s");
  if (sum.ternary_tensors > 0)
    std::printf("ternary-packed %s at 2 bits per ternary weight (%s at log2(3) = 1.58 bits): %s ternary weights in %lld "
                "matrices with one float32 scale each, the other %s parameters as stored (%s)\n",
                human_bytes(ternary_packed_bytes(sum, 2.0)).c_str(),
                human_bytes(ternary_packed_bytes(sum, kTernaryIdealBits)).c_str(), with_commas(sum.ternary_parameters).c_str(),
                static_cast<long long>(sum.ternary_tensors), with_commas(sum.parameter_count - sum.ternary_parameters).c_str(),
                human_bytes(sum.unquantised_bytes).c_str());
  return 0;
}

}  // namespace lmscope::cli
