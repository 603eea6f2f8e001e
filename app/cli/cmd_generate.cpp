#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "lmscope/error.h"
#include "lmscope/model.h"

namespace lmscope::cli {

// Tokens one generate call may ask for (each appends to the KV cache).
constexpr std::int64_t kMaxNewTokens = 1 << 16;

int cmd_generate(const Argv& argv) {
  Args args("generate", argv, {"model", "tokens", "tokens-file", "max-new", "backend", "rope", "dtype", "force-family"},
            {"stop-at-eos", "allow-nonfinite"});
  const auto ids = tokens_from_args(args);
  if (!args.has("max-new")) throw BadInput("generate: option --max-new N (N >= 0) is required");
  const std::int64_t max_new = args.integer_in("max-new", 0, 0, kMaxNewTokens);
  const Checkpoint ck = open_checkpoint(args);
  const auto model = load_model(ck, load_options_from_args(args));
  const auto out = generate_greedy(*model, ids, max_new, args.flag("stop-at-eos"));
  std::string json = "[";
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i) json += ',';
    json += std::to_string(out[i]);
  }
  std::printf("%s]\n", json.c_str());
  return 0;
}

}  // namespace lmscope::cli
