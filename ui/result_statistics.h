// Statistics for the analysis views (issue 18): a group of results summarised, the correlation of two metrics across
// settings, and paired comparisons of two models or settings on the same items — so a student can say whether a
// difference is real. Plain C++ without Qt, checked against scipy (tools/eval_reference/statistics_reference.py).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace lmscope::analysis {

struct GroupSummary {
  std::size_t n = 0;
  double mean = 0, best = 0;
  double stddev = 0;  // sample standard deviation (n − 1); 0 below two values
};
// `best` is the minimum when lower is better (perplexity), else the maximum (accuracy). NaNs are left out.
GroupSummary summarize(std::span<const double> values, bool lower_is_better);

struct Correlation {
  std::size_t n = 0;   // pairs used (those with both values finite)
  double r = 0;        // NaN when undefined: fewer than 3 pairs, or a variable that does not vary
  double p_value = 1;  // two-sided, Student's t with n − 2 degrees of freedom (scipy's pearsonr and spearmanr)
};
Correlation pearson(std::span<const double> x, std::span<const double> y);
// Pearson's r of the ranks; tied values share their average rank.
Correlation spearman(std::span<const double> x, std::span<const double> y);

// The regularised incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1.
double incomplete_beta(double a, double b, double x);
// P(|T| >= |t|) for Student's t with df > 0 degrees of freedom.
double student_t_two_sided_p(double t, double df);

struct PairedDifference {
  std::size_t n = 0;
  double mean = 0;           // mean of a[i] − b[i]
  double low = 0, high = 0;  // percentile bootstrap interval of that mean (items resampled with replacement)
};
PairedDifference paired_bootstrap(std::span<const double> a, std::span<const double> b, double confidence = 0.95,
                                  int resamples = 10000, std::uint64_t seed = 1234);

struct McNemar {
  std::int64_t only_a = 0, only_b = 0;  // items right under a and wrong under b, and the reverse
  double p_value = 1;                   // exact two-sided binomial test of only_a against only_b at p = 1/2
};
McNemar mcnemar(const std::vector<bool>& a_correct, const std::vector<bool>& b_correct);

}  // namespace lmscope::analysis
