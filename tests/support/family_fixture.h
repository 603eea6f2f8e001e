// Shared by the family tests: a checkpoint of random weights for a config, token ids that cover the vocabulary,
// and the check that feeding a sequence in pieces (chunked form, single tokens = recurrent form, short runs) gives
// the logits of one full pass.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lmscope/checkpoint.h"
#include "lmscope/model.h"
#include "lmscope/random_checkpoint.h"
#include "support/test_support.h"

namespace lmscope::test {

struct RandomModelFixture {
  TempDir dir;
  Checkpoint ck;
  explicit RandomModelFixture(const nlohmann::json& config)
      : ck([&] {
          RandomCheckpointOptions o;
          o.stddev = 0.2f;  // larger than real init so the logits are far from uniform
          write_random_checkpoint(config.dump(), dir.path, o);
          return Checkpoint::open(dir.path);
        }()) {}
  // The same weights under another config (switches that add no tensors).
  Checkpoint with_config(const nlohmann::json& config, const TempDir& other) const {
    std::filesystem::copy(dir.path / "model.safetensors", other.path / "model.safetensors");
    write_text(other.path / "config.json", config.dump());
    return Checkpoint::open(other.path);
  }
};

inline std::vector<std::int32_t> some_ids(std::size_t n, std::int64_t vocab) {
  std::vector<std::int32_t> ids(n);
  for (std::size_t i = 0; i < n; ++i) ids[i] = static_cast<std::int32_t>((i * 37 + 11) % static_cast<std::size_t>(vocab));
  return ids;
}

// Feeds ids in pieces — 70 tokens (two chunks of the chunked forms), single tokens (the recurrent forms), a few
// short runs — and returns, per position, the largest difference of its logits from one full pass (empty when the
// sizes disagree, which the expectations here report).
inline std::vector<double> pieces_vs_full_by_position(const Model& m, const std::vector<std::int32_t>& ids) {
  const auto full = compute_logits(m, ids);
  auto seq = m.new_sequence();
  std::vector<float> got, step;
  std::size_t i = 0;
  for (std::size_t piece : {70, 1, 1, 9, 1, 3}) {
    piece = std::min(piece, ids.size() - i);
    seq->append(std::span(ids).subspan(i, piece), AppendOutput{&step, false, nullptr});
    got.insert(got.end(), step.begin(), step.end());
    i += piece;
  }
  for (; i < ids.size(); ++i) {
    seq->append(std::span(ids).subspan(i, 1), AppendOutput{&step, false, nullptr});
    got.insert(got.end(), step.begin(), step.end());
  }
  EXPECT_EQ(seq->length(), static_cast<std::int64_t>(ids.size()));
  EXPECT_EQ(got.size(), full.size());
  if (ids.empty() || got.size() != full.size()) return {};
  const std::size_t V = full.size() / ids.size();
  std::vector<double> diff(ids.size(), 0.0);
  for (std::size_t t = 0; t < ids.size(); ++t)
    for (std::size_t v = 0; v < V; ++v)
      diff[t] = std::max(diff[t], static_cast<double>(std::fabs(got[t * V + v] - full[t * V + v])));
  return diff;
}

// The largest difference over every position (1e9 when the sizes disagree).
inline double pieces_vs_full(const Model& m, const std::vector<std::int32_t>& ids) {
  const auto diff = pieces_vs_full_by_position(m, ids);
  return diff.empty() ? 1e9 : *std::max_element(diff.begin(), diff.end());
}

// A named config for the parameterised family tests; the name is the test's.
struct ConfigVariant {
  std::string name;
  nlohmann::json config;
};
inline void PrintTo(const ConfigVariant& v, std::ostream* os) { *os << v.name; }
inline std::string variant_name(const testing::TestParamInfo<ConfigVariant>& info) { return info.param.name; }

}  // namespace lmscope::test
