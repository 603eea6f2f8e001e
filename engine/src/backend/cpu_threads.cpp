#include "backend/cpu_threads.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include "backend/openblas_core.h"

namespace lmscope {

int threads_for_load(int processors, double load_average) {
  if (!(load_average >= 0)) return std::max(processors, 1);  // unreadable: OpenMP's default
  const double busy = std::floor(load_average + 0.5);
  return static_cast<int>(std::clamp(static_cast<double>(processors) - busy, 1.0, static_cast<double>(std::max(processors, 1))));
}

int use_idle_processors() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("OMP_NUM_THREADS") != nullptr) return;  // the user's choice (the tests set it to 1)
    double load = -1;
    std::ifstream in("/proc/loadavg");
    if (!(in >> load)) return;
    const int n = threads_for_load(omp_get_num_procs(), load);
    omp_set_num_threads(n);
    openblas_set_threads(n);  // the pthread build's pool is sized at load time, apart from OpenMP's
  });
  return omp_get_max_threads();
}

}  // namespace lmscope
