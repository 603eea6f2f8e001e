// This program's own path, for starting more of itself (--gpus workers) or naming itself in scripts (slurm).
#pragma once

#include <string>

namespace lmscope::cli {

std::string self_executable();

}  // namespace lmscope::cli
