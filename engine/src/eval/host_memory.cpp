#include "eval/host_memory.h"

#include <sys/resource.h>

#include <fstream>
#include <string>

namespace lmscope::eval {

bool reset_host_peak() {
  std::ofstream f("/proc/self/clear_refs");
  if (!f) return false;
  f << "5";  // 5 = reset the peak RSS (Documentation/filesystems/proc.rst)
  f.flush();
  return static_cast<bool>(f);
}

std::int64_t host_peak_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // "VmHWM:   1234 kB"
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<std::int64_t>(ru.ru_maxrss) * 1024;
}

}  // namespace lmscope::eval
