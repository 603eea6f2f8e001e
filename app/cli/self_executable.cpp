#include "cli/self_executable.h"

#include <filesystem>

#include "lmscope/error.h"

namespace lmscope::cli {

std::string self_executable() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw InternalError("cannot find this program's path (/proc/self/exe): " + ec.message());
  return p.string();
}

}  // namespace lmscope::cli
