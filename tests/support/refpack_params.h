// Shared by the parameterised golden tests: names for test parameters, and skipping a backend this machine lacks.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <tuple>

#include "backend/backend.h"

namespace lmscope::test {

// A GoogleTest name from free text: every character that is not a letter or digit becomes '_'.
inline std::string gtest_name(std::string s) {
  for (auto& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

// Parameters (refpack case, backend) and their test name "<case>_<backend>".
using CaseAndBackend = std::tuple<std::string, std::string>;
inline std::string case_and_backend_name(const testing::TestParamInfo<CaseAndBackend>& info) {
  return gtest_name(std::get<0>(info.param) + "_" + std::get<1>(info.param));
}

inline bool backend_available(const std::string& backend) {
  const auto all = available_backends();
  return std::find(all.begin(), all.end(), backend) != all.end();
}

}  // namespace lmscope::test

// Skips the current test when `backend` is not usable here (a CUDA build on a machine without a GPU).
#define LMSCOPE_REQUIRE_BACKEND(backend)                                                          \
  do {                                                                                            \
    if (!lmscope::test::backend_available(backend))                                               \
      GTEST_SKIP() << "skipped: backend " << (backend) << " not available here (no GPU)";         \
  } while (0)
