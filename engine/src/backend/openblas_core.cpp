#include "backend/openblas_core.h"

#include <dlfcn.h>
#include <strings.h>

#include <cstdlib>
#include <mutex>

namespace lmscope {

std::string openblas_core_for_this_cpu() {
#if defined(__x86_64__) && defined(__GNUC__)
  // __builtin_cpu_supports also checks that the OS saves the vector registers (XCR0), not only CPUID.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  if (__builtin_cpu_supports("avx")) return "Sandybridge";
#endif
  return "";
}

int openblas_core_rank(const std::string& core) {
  struct Ranked {
    const char* name;
    int rank;
  };
  // OpenBLAS's x86-64 kernel-set names (gotoblas_corename), by the widest vector extension their GEMMs use.
  static constexpr Ranked kCores[] = {
      {"SkylakeX", 3},   {"Cooperlake", 3}, {"SapphireRapids", 3}, {"Haswell", 2},   {"Zen", 2},
      {"Excavator", 2},  {"Steamroller", 2}, {"Piledriver", 2},    {"Bulldozer", 2}, {"Sandybridge", 1},
      {"Prescott", 0},   {"Core2", 0},      {"Penryn", 0},         {"Dunnington", 0}, {"Nehalem", 0},
      {"Atom", 0},       {"Nano", 0},       {"Barcelona", 0},      {"Opteron", 0},   {"Opteron(SSE3)", 0},
      {"Bobcat", 0},     {"Katmai", 0},     {"Coppermine", 0},     {"Northwood", 0}, {"Banias", 0},
      {"Athlon", 0},     {"Unknown", 0}};
  for (const auto& c : kCores)
    if (strcasecmp(core.c_str(), c.name) == 0) return c.rank;
  return -1;
}

namespace {

// Looked up at run time: the entry points exist only in DYNAMIC_ARCH builds of OpenBLAS (and not in other BLAS).
template <typename F>
F blas_symbol(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
}

std::string choose_core() {
  const std::string picked = openblas_core_in_use();
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return picked;  // the user's choice
  const std::string best = openblas_core_for_this_cpu();
  const int have = openblas_core_rank(picked);
  if (best.empty() || have < 0 || have >= openblas_core_rank(best)) return picked;
  const auto quit = blas_symbol<void (*)()>("gotoblas_dynamic_quit");
  const auto init = blas_symbol<void (*)()>("gotoblas_dynamic_init");
  if (!quit || !init) return picked;
  // The library's own path for OPENBLAS_CORETYPE: init() reads it, picks that set and sets its blocking sizes.
  // No BLAS call has run yet in this process (the CPU backend calls this first), so no buffer is sized for the old set.
  setenv("OPENBLAS_CORETYPE", best.c_str(), 0);
  quit();
  init();
  unsetenv("OPENBLAS_CORETYPE");  // child processes (workers) decide for themselves, the same way
  // Silent (the same products by other kernels: results agree to float rounding); OPENBLAS_VERBOSE=2 shows the set.
  return openblas_core_in_use();
}

}  // namespace

std::string openblas_core_in_use() {
  const auto corename = blas_symbol<char* (*)()>("openblas_get_corename");
  const char* name = corename ? corename() : nullptr;
  return name ? name : "";
}

void openblas_set_threads(int n) {
  if (const auto set = blas_symbol<void (*)(int)>("openblas_set_num_threads")) set(n);
}

std::string openblas_use_best_core() {
  static std::once_flag once;
  static std::string core;
  std::call_once(once, [] { core = choose_core(); });
  return core;
}

}  // namespace lmscope
