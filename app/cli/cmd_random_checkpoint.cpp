#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/args.h"
#include "cli/commands.h"
#include "lmscope/error.h"
#include "lmscope/random_checkpoint.h"

namespace lmscope::cli {

int cmd_random_checkpoint(const Argv& argv) {
  Args args("random-checkpoint", argv, {"config", "out", "seed", "dtype", "shards"}, {});
  const std::string config = args.required("config");
  std::ifstream in(config);
  if (!in) throw BadInput(config + ": cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  RandomCheckpointOptions o;
  o.seed = static_cast<std::uint64_t>(args.integer("seed", 1));
  const auto dt = dtype_from_name(args.get("dtype", "F32"));
  if (!dt || !dtype_is_float_weight(*dt)) throw BadInput("random-checkpoint: --dtype must be F32, F16 or BF16");
  o.dtype = *dt;
  o.shards = static_cast<int>(args.integer("shards", 1));
  const std::string out = args.required("out");
  const auto params = write_random_checkpoint(text.str(), out, o);
  std::fprintf(stderr, "wrote %s: %lld parameters of random weights (seed %llu)\n", out.c_str(),
               static_cast<long long>(params), static_cast<unsigned long long>(o.seed));
  return 0;
}

}  // namespace lmscope::cli
