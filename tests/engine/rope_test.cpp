// RoPE scaling as a pure function. Expected values for the refpack's configurations (head_dim 32, theta 1e4,
// original context 64) come from ../shared/tools/reference/np_llama.py (float64), copied here as numbers.
#include <gtest/gtest.h>

#include <cmath>

#include "lmscope/error.h"
#include "lmscope/rope.h"

namespace lmscope {
namespace {

RopeConfig base(RopeType t, std::int64_t max_pos = 64) {
  RopeConfig c;
  c.type = t;
  c.theta = 10000.0;
  c.max_position_embeddings = max_pos;
  return c;
}

void expect_inv(const RopeFrequencies& f, double i0, double i5, double i10, double i15, double att) {
  ASSERT_EQ(f.inv_freq.size(), 16u);
  EXPECT_NEAR(f.inv_freq[0], i0, 1e-12 * i0);
  EXPECT_NEAR(f.inv_freq[5], i5, 1e-12 * i5);
  EXPECT_NEAR(f.inv_freq[10], i10, 1e-12 * i10);
  EXPECT_NEAR(f.inv_freq[15], i15, 1e-12 * i15);
  EXPECT_NEAR(f.attention_factor, att, 1e-12);
}

TEST(Rope, DefaultIsThetaToTheMinusTwoIOverD) {
  const auto f = rope_frequencies(base(RopeType::Default), 32, 10);
  for (std::size_t i = 0; i < 16; ++i) EXPECT_NEAR(f.inv_freq[i], std::pow(10000.0, -2.0 * i / 32), 1e-15);
  EXPECT_EQ(f.attention_factor, 1.0);
}

TEST(Rope, LinearDividesEveryFrequency) {
  auto c = base(RopeType::Linear);
  c.factor = 4;
  const auto f = rope_frequencies(c, 32, 10);
  const auto d = rope_frequencies(base(RopeType::Default), 32, 10);
  for (std::size_t i = 0; i < 16; ++i) EXPECT_NEAR(f.inv_freq[i], d.inv_freq[i] / 4, 1e-15);
}

TEST(Rope, StaticNtkStretchesTheBase) {
  auto c = base(RopeType::Ntk);
  c.factor = 4;
  const auto f = rope_frequencies(c, 32, 10);
  const double b = 10000.0 * std::pow(4.0, 32.0 / 30.0);
  for (std::size_t i = 0; i < 16; ++i) EXPECT_NEAR(f.inv_freq[i], std::pow(b, -2.0 * i / 32), 1e-15);
  // the lowest frequency (2i/d = (d-2)/d) is interpolated by exactly the factor
  EXPECT_NEAR(f.inv_freq[15] / rope_frequencies(base(RopeType::Default), 32, 10).inv_freq[15], 0.25, 1e-12);
}

TEST(Rope, DynamicNtkOnlyRescalesPastTheOriginalContext) {
  auto c = base(RopeType::Dynamic);
  c.factor = 4;
  EXPECT_EQ(rope_frequencies(c, 32, 64), rope_frequencies(base(RopeType::Default), 32, 64));
  expect_inv(rope_frequencies(c, 32, 200), 1.0, 0.026551687718093117, 0.0007049921206791369, 1.871873063198866e-05, 1.0);
  EXPECT_NE(rope_frequencies(c, 32, 200), rope_frequencies(c, 32, 201));
}

TEST(Rope, YarnMatchesTheReference) {
  auto c = base(RopeType::Yarn, 256);
  c.factor = 4;
  c.original_max_position_embeddings = 64;
  c.beta_fast = 32;
  c.beta_slow = 1;
  expect_inv(rope_frequencies(c, 32, 200), 1.0, 0.014058533129758726, 0.000790569415042095, 4.445698525097307e-05,
             1.138629436111989);
  c.attention_factor = 0.5;
  EXPECT_EQ(rope_frequencies(c, 32, 200).attention_factor, 0.5);
  c.attention_factor.reset();
  c.mscale = 1;
  c.mscale_all_dim = 1;
  EXPECT_NEAR(rope_frequencies(c, 32, 200).attention_factor, 1.0, 1e-15);
}

TEST(Rope, Llama3MatchesTheReference) {
  auto c = base(RopeType::Llama3);
  c.factor = 8;
  c.low_freq_factor = 1;
  c.high_freq_factor = 4;
  c.original_max_position_embeddings = 64;
  expect_inv(rope_frequencies(c, 32, 200), 1.0, 0.007029266564879363, 0.0003952847075210475, 2.2228492625486534e-05, 1.0);
}

TEST(Rope, LongRopeSwitchesFactorsPastTheOriginalContext) {
  auto c = base(RopeType::LongRope, 256);
  c.original_max_position_embeddings = 64;
  for (int i = 0; i < 16; ++i) {
    c.long_factor.push_back(1.0 + 0.4 * i);
    c.short_factor.push_back(1.0 + 0.05 * i);
  }
  expect_inv(rope_frequencies(c, 32, 200), 1.0, 0.0187447108396783, 0.0006324555320336759, 2.540399157198461e-05,
             1.1547005383792517);
  expect_inv(rope_frequencies(c, 32, 50), 1.0, 0.04498730601522793, 0.0021081851067789197, 0.00010161596628793844,
             1.1547005383792517);
  EXPECT_EQ(rope_frequencies(c, 32, 64), rope_frequencies(c, 32, 50));
}

TEST(Rope, PartialRotaryUsesFewerDimensions) {
  auto c = base(RopeType::Default);
  c.partial_rotary_factor = 0.5;
  EXPECT_EQ(rope_rotary_dim(c, 32), 16);
  EXPECT_EQ(rope_frequencies(c, 32, 8).inv_freq.size(), 8u);
}

TEST(Rope, ValidationNamesTheParameter) {
  auto c = base(RopeType::Linear);
  EXPECT_THROW(rope_frequencies(c, 32, 8), BadInput);  // no factor
  c.factor = -1;
  try {
    validate_rope(c, 32);
    FAIL();
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("factor"), std::string::npos);
  }
  auto l = base(RopeType::LongRope);
  l.short_factor = {1, 2};
  l.long_factor = {1, 2};
  EXPECT_THROW(validate_rope(l, 32), BadInput);
  auto y = base(RopeType::Llama3);
  y.factor = 8;
  EXPECT_THROW(validate_rope(y, 32), BadInput);
}

TEST(Rope, OverrideOnTheSameTypeKeepsOtherParameters) {
  auto c = base(RopeType::Yarn, 256);
  c.factor = 4;
  c.original_max_position_embeddings = 64;
  c.beta_fast = 16;
  const auto o = apply_rope_override(c, "yarn:factor=8");
  EXPECT_EQ(o.type, RopeType::Yarn);
  EXPECT_EQ(*o.factor, 8);
  EXPECT_EQ(*o.beta_fast, 16);
  EXPECT_EQ(*o.original_max_position_embeddings, 64);
}

TEST(Rope, OverrideWithAnotherTypeStartsFresh) {
  auto c = base(RopeType::Yarn, 256);
  c.theta = 500000;
  c.factor = 4;
  c.beta_fast = 16;
  const auto o = apply_rope_override(c, "ntk:factor=2,theta=20000");
  EXPECT_EQ(o.type, RopeType::Ntk);
  EXPECT_EQ(*o.factor, 2);
  EXPECT_EQ(o.theta, 20000);
  EXPECT_FALSE(o.beta_fast.has_value());
  EXPECT_EQ(apply_rope_override(c, "default").type, RopeType::Default);
  EXPECT_EQ(apply_rope_override(c, "default").theta, 500000);
  const auto l = apply_rope_override(c, "longrope:short_factor=1/2,long_factor=3/4,original_max=64");
  EXPECT_EQ(l.short_factor, (std::vector<double>{1, 2}));
  EXPECT_EQ(l.long_factor, (std::vector<double>{3, 4}));
  EXPECT_EQ(*l.original_max_position_embeddings, 64);
}

TEST(Rope, OverrideErrorsSayWhatIsWrong) {
  const auto c = base(RopeType::Default);
  auto message = [&](const char* spec) {
    try {
      apply_rope_override(c, spec);
    } catch (const BadInput& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message("rotary:factor=2").find("supported: default, linear, dynamic, yarn, longrope, llama3, ntk"), std::string::npos);
  EXPECT_NE(message("linear:factr=2").find("unknown parameter 'factr'"), std::string::npos);
  EXPECT_NE(message("linear:factor=two").find("must be a number"), std::string::npos);
  EXPECT_NE(message("linear:factor").find("key=value"), std::string::npos);
  EXPECT_NE(message("yarn:original_max=0").find("positive integer"), std::string::npos);
}

// Parameters that would load and then turn every logit into NaN (a factor of 1e-308, a NaN beta, an infinite factor)
// are refused naming the parameter.
TEST(Rope, NonFiniteOrDegenerateParametersAreRefused) {
  auto message = [](const RopeConfig& base, const char* spec) {
    try {
      rope_frequencies(apply_rope_override(base, spec), 64, 128);
    } catch (const BadInput& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  const auto c = base(RopeType::Default);
  EXPECT_NE(message(c, "linear:factor=1e-308").find("factor must be a number from 0.001"), std::string::npos);
  EXPECT_NE(message(c, "linear:factor=inf").find("factor"), std::string::npos);
  EXPECT_NE(message(c, "yarn:factor=4,beta_fast=nan").find("beta_fast"), std::string::npos);
  EXPECT_NE(message(c, "yarn:factor=4,mscale=nan,mscale_all_dim=1").find("mscale"), std::string::npos);
  EXPECT_NE(message(c, "longrope:short_factor=1/nan,long_factor=1/1").find("short_factor"), std::string::npos);
  EXPECT_NE(message(c, "yarn:original_max=1e300").find("positive integer"), std::string::npos);
  EXPECT_NE(message(c, "default:theta=nan").find("theta"), std::string::npos);
  EXPECT_NE(message(c, "default:theta=1e300").find("theta"), std::string::npos);
  EXPECT_EQ(message(c, "yarn:factor=4,original_max=64"), "accepted");
}

}  // namespace
}  // namespace lmscope
