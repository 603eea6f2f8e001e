#include "result_statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

namespace lmscope::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void require_same_length(std::size_t a, std::size_t b, const char* what) {
  if (a != b) throw std::invalid_argument(std::string(what) + ": the two lists differ in length");
}

// The continued fraction of I_x(a, b) (converges fast for x < (a + 1) / (a + b + 2)), evaluated by the modified
// Lentz method: terms d_{2m} = m(b − m)x / ((a + 2m − 1)(a + 2m)), d_{2m+1} = −(a + m)(a + b + m)x / ((a + 2m)(a + 2m + 1)).
double beta_fraction(double a, double b, double x) {
  constexpr double tiny = 1e-300, eps = 1e-16;
  auto guard = [](double v) { return std::fabs(v) < tiny ? tiny : v; };
  double c = 1.0, d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0)), h = d;
  for (int m = 1; m <= 1000; ++m) {
    const double even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
    d = 1.0 / guard(1.0 + even * d);
    c = guard(1.0 + even / c);
    h *= d * c;
    const double odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
    d = 1.0 / guard(1.0 + odd * d);
    c = guard(1.0 + odd / c);
    const double step = d * c;
    h *= step;
    if (std::fabs(step - 1.0) < eps) break;
  }
  return h;
}

// Ranks 1..n, ties sharing their average rank.
std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return v[i] < v[j]; });
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) r[order[k]] = rank;
    i = j + 1;
  }
  return r;
}

// The pairs with both values finite.
void finite_pairs(std::span<const double> x, std::span<const double> y, std::vector<double>& fx, std::vector<double>& fy) {
  require_same_length(x.size(), y.size(), "correlation");
  for (std::size_t i = 0; i < x.size(); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i])) {
      fx.push_back(x[i]);
      fy.push_back(y[i]);
    }
}

Correlation correlate(const std::vector<double>& x, const std::vector<double>& y) {
  Correlation c;
  c.n = x.size();
  if (c.n < 3) {
    c.r = kNaN;
    return c;
  }
  const double n = static_cast<double>(c.n);
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n, my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < c.n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx == 0 || syy == 0) {
    c.r = kNaN;
    return c;
  }
  c.r = std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
  if (std::fabs(c.r) == 1.0) {
    c.p_value = 0.0;
    return c;
  }
  const double df = n - 2.0;
  c.p_value = student_t_two_sided_p(c.r * std::sqrt(df / (1.0 - c.r * c.r)), df);
  return c;
}

}  // namespace

GroupSummary summarize(std::span<const double> values, bool lower_is_better) {
  GroupSummary s;
  double sum = 0;
  for (double v : values)
    if (std::isfinite(v)) {
      s.best = s.n == 0 ? v : (lower_is_better ? std::min(s.best, v) : std::max(s.best, v));
      sum += v;
      ++s.n;
    }
  if (s.n == 0) {
    s.mean = s.best = kNaN;
    return s;
  }
  s.mean = sum / static_cast<double>(s.n);
  if (s.n > 1) {
    double ss = 0;
    for (double v : values)
      if (std::isfinite(v)) ss += (v - s.mean) * (v - s.mean);
    s.stddev = std::sqrt(ss / static_cast<double>(s.n - 1));
  }
  return s;
}

double incomplete_beta(double a, double b, double x) {
  if (!(a > 0) || !(b > 0) || !(x >= 0 && x <= 1)) throw std::invalid_argument("incomplete_beta: needs a, b > 0 and 0 <= x <= 1");
  if (x == 0 || x == 1) return x;
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  // The fraction converges quickly on one side of the mean; the other side comes from I_x(a, b) = 1 − I_{1−x}(b, a).
  if (x < (a + 1.0) / (a + b + 2.0)) return std::exp(log_front) * beta_fraction(a, b, x) / a;
  return 1.0 - std::exp(log_front) * beta_fraction(b, a, 1.0 - x) / b;
}

double student_t_two_sided_p(double t, double df) {
  if (!(df > 0)) throw std::invalid_argument("student_t_two_sided_p: needs df > 0");
  if (!std::isfinite(t)) return std::isnan(t) ? kNaN : 0.0;
  return incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
}

Correlation pearson(std::span<const double> x, std::span<const double> y) {
  std::vector<double> fx, fy;
  finite_pairs(x, y, fx, fy);
  return correlate(fx, fy);
}

Correlation spearman(std::span<const double> x, std::span<const double> y) {
  std::vector<double> fx, fy;
  finite_pairs(x, y, fx, fy);
  return correlate(ranks(fx), ranks(fy));
}

PairedDifference paired_bootstrap(std::span<const double> a, std::span<const double> b, double confidence, int resamples,
                                  std::uint64_t seed) {
  require_same_length(a.size(), b.size(), "paired_bootstrap");
  if (!(confidence > 0 && confidence < 1) || resamples < 1) throw std::invalid_argument("paired_bootstrap: bad confidence or resamples");
  std::vector<double> diff;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::isfinite(a[i]) && std::isfinite(b[i])) diff.push_back(a[i] - b[i]);
  PairedDifference out;
  out.n = diff.size();
  if (diff.empty()) {
    out.mean = out.low = out.high = kNaN;
    return out;
  }
  const double n = static_cast<double>(diff.size());
  out.mean = std::accumulate(diff.begin(), diff.end(), 0.0) / n;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, diff.size() - 1);
  std::vector<double> means(static_cast<std::size_t>(resamples));
  for (double& m : means) {
    double s = 0;
    for (std::size_t i = 0; i < diff.size(); ++i) s += diff[pick(rng)];
    m = s / n;
  }
  std::sort(means.begin(), means.end());
  // Percentiles with linear interpolation between order statistics (numpy's default).
  auto quantile = [&](double q) {
    const double pos = q * static_cast<double>(means.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const std::size_t hi = std::min(lo + 1, means.size() - 1);
    return means[lo] + (pos - static_cast<double>(lo)) * (means[hi] - means[lo]);
  };
  out.low = quantile((1.0 - confidence) / 2.0);
  out.high = quantile(1.0 - (1.0 - confidence) / 2.0);
  return out;
}

McNemar mcnemar(const std::vector<bool>& a_correct, const std::vector<bool>& b_correct) {
  require_same_length(a_correct.size(), b_correct.size(), "mcnemar");
  McNemar m;
  for (std::size_t i = 0; i < a_correct.size(); ++i) {
    m.only_a += a_correct[i] && !b_correct[i];
    m.only_b += !a_correct[i] && b_correct[i];
  }
  const std::int64_t n = m.only_a + m.only_b, k = std::min(m.only_a, m.only_b);
  if (n == 0) return m;
  // P(X <= k) for X ~ Binomial(n, 1/2), each term C(n, i) / 2^n in log space; doubled for two sides.
  double tail = 0;
  for (std::int64_t i = 0; i <= k; ++i)
    tail += std::exp(std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(i) + 1) -
                     std::lgamma(static_cast<double>(n - i) + 1) - static_cast<double>(n) * std::log(2.0));
  m.p_value = std::min(1.0, 2.0 * tail);
  return m;
}

}  // namespace lmscope::analysis
