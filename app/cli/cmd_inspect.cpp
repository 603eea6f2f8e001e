#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "lmscope/checkpoint.h"

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

}  // namespace

int cmd_inspect(const Argv& argv) {
  Args args("inspect", argv, {"model"}, {"json"});
  const Checkpoint ck = Checkpoint::open(args.required("model"));
  const ModelSpec& s = ck.spec();
  const auto& sum = ck.summary();
  std::string dtypes;
  for (const auto& [name, n] : sum.dtypes) dtypes += (dtypes.empty() ? "" : "+") + name;

  if (args.flag("json")) {
    nlohmann::json j = {
        {"model", ck.dir().string()},
        {"model_type", s.model_type},
        {"family", s.family},
        {"layout", s.layout},
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
        {"rope", {{"type", rope_type_name(s.rope.type)}, {"theta", s.rope.theta}, {"description", describe_rope(s.rope)}}},
        {"bytes_on_disk", sum.bytes_on_disk},
        {"files", sum.files.size()},
    };
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("model          %s\n", ck.dir().string().c_str());
  std::printf("family         %s (model_type '%s', %s layout)\n", s.family.c_str(), s.model_type.c_str(), s.layout.c_str());
  std::printf("parameters     %s\n", with_commas(sum.parameter_count).c_str());
  std::printf("dtype          %s\n", dtypes.c_str());
  std::printf("layers         %lld (hidden %lld, MLP %lld)\n", static_cast<long long>(s.num_layers),
              static_cast<long long>(s.hidden_size), static_cast<long long>(s.intermediate_size));
  std::printf("heads          %lld query / %lld key-value, head_dim %lld%s\n", static_cast<long long>(s.num_heads),
              static_cast<long long>(s.num_kv_heads), static_cast<long long>(s.head_dim),
              s.window_size ? (", sliding window " + std::to_string(s.window_size)).c_str() : "");
  std::printf("vocabulary     %lld (%s embeddings)\n", static_cast<long long>(s.vocab_size),
              s.tie_word_embeddings ? "tied" : "untied");
  std::printf("RoPE           %s\n", describe_rope(s.rope).c_str());
  std::printf("context        %lld tokens\n", static_cast<long long>(s.max_position_embeddings));
  std::printf("size on disk   %s in %zu file%s\n", human_bytes(sum.bytes_on_disk).c_str(), sum.files.size(),
              sum.files.size() == 1 ? "" : "s");
  return 0;
}

}  // namespace lmscope::cli
