// The analysis views' statistics against scipy: the expected numbers are what
// tools/eval_reference/statistics_reference.py prints (scipy 1.17.1) for the same inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "result_statistics.h"

namespace lmscope::analysis {
namespace {

const std::vector<double> kPpl{12.1, 10.4, 15.3, 9.8, 11.0, 13.7, 10.4, 14.2};  // 10.4 twice: a tie for Spearman
const std::vector<double> kPasskey{0.55, 0.71, 0.32, 0.80, 0.62, 0.41, 0.69, 0.38};

TEST(ResultStatistics, CorrelationsAndTheirPValuesAreScipys) {
  const auto p = pearson(kPpl, kPasskey);
  EXPECT_EQ(p.n, 8u);
  EXPECT_NEAR(p.r, -0.98907653528437167, 1e-14);
  EXPECT_NEAR(p.p_value / 3.231888888539617e-06, 1.0, 1e-9);
  const auto s = spearman(kPpl, kPasskey);
  EXPECT_NEAR(s.r, -0.9940297973880049, 1e-14);
  EXPECT_NEAR(s.p_value / 5.2961535156448348e-07, 1.0, 1e-9);
  const std::vector<double> u{1, 2, 3, 4, 5}, v{2, 1, 4, 3, 5};
  const auto small = pearson(u, v);
  EXPECT_NEAR(small.r, 0.8, 1e-15);
  EXPECT_NEAR(small.p_value, 0.10408803866182782, 1e-12);
}

TEST(ResultStatistics, UndefinedCorrelationsSayNotANumber) {
  const std::vector<double> two{1, 2}, constant{3, 3, 3}, varying{1, 2, 3};
  EXPECT_TRUE(std::isnan(pearson(two, two).r));
  EXPECT_TRUE(std::isnan(pearson(constant, varying).r));
  EXPECT_EQ(pearson(constant, varying).p_value, 1.0);
  // Non-finite values drop their pair; what is left is correlated as usual.
  const std::vector<double> x{1, 2, NAN, 3, 4}, y{2, 4, 5, 6, 8.5};
  EXPECT_EQ(pearson(x, y).n, 4u);
  EXPECT_THROW(pearson(two, varying), std::invalid_argument);
}

TEST(ResultStatistics, IncompleteBetaAndStudentTAreScipys) {
  EXPECT_NEAR(incomplete_beta(2.5, 0.5, 0.3), 0.018927124071945658, 1e-14);
  EXPECT_NEAR(incomplete_beta(10, 3, 0.9), 0.88913002225500004, 1e-14);
  EXPECT_NEAR(incomplete_beta(0.5, 0.5, 0.01), 0.063768560858519854, 1e-14);
  EXPECT_NEAR(incomplete_beta(30, 40, 0.45), 0.64474800855856662, 1e-13);
  EXPECT_NEAR(student_t_two_sided_p(2.1, 6), 0.080477687604654416, 1e-13);
  EXPECT_NEAR(student_t_two_sided_p(0.3, 3), 0.78376329203991901, 1e-13);
  EXPECT_NEAR(student_t_two_sided_p(-4.0, 20), 0.00070352329312831866, 1e-15);
  EXPECT_NEAR(student_t_two_sided_p(1.0, 1), 0.5, 1e-14);
}

TEST(ResultStatistics, McNemarIsTheExactBinomialTest) {
  auto test = [](int only_a, int only_b, int both) {
    std::vector<bool> a, b;
    for (int i = 0; i < only_a; ++i) a.push_back(true), b.push_back(false);
    for (int i = 0; i < only_b; ++i) a.push_back(false), b.push_back(true);
    for (int i = 0; i < both; ++i) a.push_back(i % 2 == 0), b.push_back(i % 2 == 0);
    return mcnemar(a, b);
  };
  const auto m = test(7, 2, 30);
  EXPECT_EQ(m.only_a, 7);
  EXPECT_EQ(m.only_b, 2);
  EXPECT_NEAR(m.p_value, 0.1796875, 1e-14);
  EXPECT_NEAR(test(130, 100, 5).p_value, 0.055613577781392379, 1e-12);
  EXPECT_EQ(test(0, 0, 8).p_value, 1.0);
  EXPECT_EQ(test(5, 5, 0).p_value, 1.0);
}

TEST(ResultStatistics, SummariesPickTheBestByDirection) {
  const auto ppl = summarize(kPpl, true);
  EXPECT_EQ(ppl.n, 8u);
  EXPECT_DOUBLE_EQ(ppl.best, 9.8);
  EXPECT_NEAR(ppl.mean, 12.1125, 1e-12);
  EXPECT_NEAR(ppl.stddev, 2.0524810769964654, 1e-12);  // numpy.std(kPpl, ddof=1)
  EXPECT_DOUBLE_EQ(summarize(kPasskey, false).best, 0.80);
  const std::vector<double> with_nan{1.0, NAN, 3.0};
  EXPECT_EQ(summarize(with_nan, true).n, 2u);
  EXPECT_TRUE(std::isnan(summarize(std::vector<double>{}, true).mean));
}

TEST(ResultStatistics, PairedBootstrapBracketsTheMeanDifference) {
  std::vector<double> a, b;
  for (int i = 0; i < 400; ++i) {
    a.push_back(std::sin(i * 0.7) + 0.1);
    b.push_back(std::sin(i * 0.7) + 0.05 * std::cos(i * 1.3));
  }
  const auto d = paired_bootstrap(a, b);
  EXPECT_EQ(d.n, 400u);
  EXPECT_LT(d.low, d.mean);
  EXPECT_GT(d.high, d.mean);
  // Against the normal approximation mean ± 1.96·sd/√n of the differences.
  double sd = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sd += std::pow(a[i] - b[i] - d.mean, 2);
  sd = std::sqrt(sd / 399.0) / std::sqrt(400.0);
  EXPECT_NEAR(d.high - d.low, 2 * 1.96 * sd, 0.15 * 2 * 1.96 * sd);
  EXPECT_EQ(paired_bootstrap(a, b).low, d.low);  // seeded: the same interval again
  const std::vector<double> same(10, 2.0), less(10, 1.5);
  const auto c = paired_bootstrap(same, less);
  EXPECT_DOUBLE_EQ(c.low, 0.5);
  EXPECT_DOUBLE_EQ(c.high, 0.5);
}

}  // namespace
}  // namespace lmscope::analysis
