#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "lmscope/error.h"
#include "lmscope/model.h"

namespace lmscope::cli {

int cmd_generate(const Argv& argv) {
  Args args("generate", argv, {"model", "tokens", "tokens-file", "max-new", "backend", "rope", "dtype", "force-family"}, {"stop-at-eos"});
  const auto ids = tokens_from_args(args);
  const std::int64_t max_new = args.integer("max-new", -1);
  if (max_new < 0) throw BadInput("generate: option --max-new N (N >= 0) is required");
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
