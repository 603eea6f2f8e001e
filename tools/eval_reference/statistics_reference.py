#!/usr/bin/env python3
"""The reference numbers of tests/ui/result_statistics_test.cpp, from scipy (pip install scipy numpy).

Prints, for the inputs the test uses, what scipy gives: Pearson and Spearman r with their two-sided p-values,
regularised incomplete beta values, Student t two-sided p-values and exact McNemar (binomial) p-values.
"""
from scipy import special, stats

x = [12.1, 10.4, 15.3, 9.8, 11.0, 13.7, 10.4, 14.2]
y = [0.55, 0.71, 0.32, 0.80, 0.62, 0.41, 0.69, 0.38]
r = stats.pearsonr(x, y)
print(f"pearson r={r.statistic:.17g} p={r.pvalue:.17g}")
s = stats.spearmanr(x, y)
print(f"spearman r={s.statistic:.17g} p={s.pvalue:.17g}")
u = [1, 2, 3, 4, 5]
v = [2, 1, 4, 3, 5]
r = stats.pearsonr(u, v)
print(f"pearson small r={r.statistic:.17g} p={r.pvalue:.17g}")
for a, b, z in [(2.5, 0.5, 0.3), (10, 3, 0.9), (0.5, 0.5, 0.01), (30, 40, 0.45)]:
    print(f"betainc({a}, {b}, {z}) = {special.betainc(a, b, z):.17g}")
for t, df in [(2.1, 6), (0.3, 3), (-4.0, 20), (1.0, 1)]:
    print(f"t={t} df={df} p={2 * stats.t.sf(abs(t), df):.17g}")
for k, n in [(2, 9), (100, 230), (0, 0), (5, 10)]:
    p = stats.binomtest(k, n, 0.5).pvalue if n > 0 else 1.0
    print(f"mcnemar only_b={k} n={n} p={p:.17g}")
