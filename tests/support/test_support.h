// Helpers shared by the tests: where ../shared is, temporary folders, fixture checkpoints, comparisons.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lmscope/safetensors.h"

namespace lmscope::test {

// ../shared beside the checkout (LMSCOPE_SHARED overrides). Empty path when absent.
std::filesystem::path shared_dir();
// ../shared/refpack/<name>, or empty when absent.
std::filesystem::path refpack_case(const std::string& name);
// A reference case of our own (tools/refcases/make_reference_case.py) under tests/fixtures/refcases.
std::filesystem::path fixture_case(const std::string& name);

// Skips the current test with a message when a ../shared resource is missing.
#define LMSCOPE_REQUIRE_PATH(p, what)                                                                         \
  do {                                                                                                         \
    if ((p).empty() || !std::filesystem::exists(p))                                                            \
      GTEST_SKIP() << "skipped: " << (what) << " not found (../shared is absent; tests that need it skip)";  \
  } while (0)

struct TempDir {
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path path;
};

// A small Llama config (vocab 64, hidden 32, 2 layers, 4 heads / 2 KV, head_dim 8, max_pos 32) with `patch`
// merged over it.
nlohmann::json tiny_llama_config(const nlohmann::json& patch = nlohmann::json::object());

std::vector<float> read_f32(const SafetensorsFile& f, const std::string& name);
std::vector<std::int32_t> read_ids(const SafetensorsFile& f, const std::string& name);
double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b);
// Mean next-token NLL of ids under logits [T, V] (positions 0..T-2 predict 1..T-1).
double mean_nll(const std::vector<float>& logits, const std::vector<std::int32_t>& ids, std::int64_t vocab);

void write_text(const std::filesystem::path& p, const std::string& text);
std::string read_text(const std::filesystem::path& p);
// `documents` short notes in the WikiText raw layout (" = Note i = " headings), each long enough that a wikitext
// unit takes a few milliseconds: data for runs spread over several workers.
std::string wikitext_notes(int documents);

}  // namespace lmscope::test
