#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "lmscope/error.h"
#include "lmscope/input_file.h"
#include "lmscope/random_checkpoint.h"

namespace lmscope::cli {

int cmd_random_checkpoint(const Argv& argv) {
  Args args("random-checkpoint", argv, {"config", "out", "seed", "dtype", "shards"}, {});
  const std::string config = args.required("config");
  const auto text = read_input_file(config, "the model configuration", kMaxConfigFileBytes);
  RandomCheckpointOptions o;
  o.seed = static_cast<std::uint64_t>(args.integer("seed", 1));
  const auto dt = dtype_from_name(args.get("dtype", "F32"));
  if (!dt || !dtype_is_float_weight(*dt)) throw BadInput("random-checkpoint: --dtype must be F32, F16 or BF16");
  o.dtype = *dt;
  o.shards = static_cast<int>(args.integer_in("shards", 1, 1, 10000));
  const std::string out = args.required("out");
  const auto params = write_random_checkpoint(text, out, o);
  std::fprintf(stderr, "wrote %s: %lld parameters of random weights (seed %llu)\n", out.c_str(),
               static_cast<long long>(params), static_cast<unsigned long long>(o.seed));
  return 0;
}

}  // namespace lmscope::cli
