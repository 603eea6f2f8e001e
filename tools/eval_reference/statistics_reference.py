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

# tests/ui/analysis_test.cpp: the RoPE-study-like fixture (ppl@1024/2048 and passkey accuracy@1024/2048 of four
# complete settings, pairs in the order the test lists them) and the paired comparison's items.
import numpy as np

ppl = [20, 40, 18, 22, 19, 21, 25, 30]
pk = [1.0, 0.4, 1.0, 0.9, 0.9, 0.8, 0.8, 0.6]
r = stats.pearsonr(ppl, pk)
print(f"analysis pearson r={r.statistic:.17g} p={r.pvalue:.17g}")
s = stats.spearmanr(ppl, pk)
print(f"analysis spearman r={s.statistic:.17g} p={s.pvalue:.17g}")
print(f"analysis yarn std={np.std([18, 22, 19, 21], ddof=1):.17g} original std={np.std([20, 40], ddof=1):.17g}")
# paired items: 40 items; A right on items i % 3 != 0, B right on items i % 4 != 0
a = [1 if i % 3 else 0 for i in range(40)]
b = [1 if i % 4 else 0 for i in range(40)]
only_a = sum(1 for x, y in zip(a, b) if x and not y)
only_b = sum(1 for x, y in zip(a, b) if y and not x)
p = stats.binomtest(only_b, only_a + only_b, 0.5).pvalue
print(f"analysis mcnemar only_a={only_a} only_b={only_b} p={p:.17g}")
# continuous: loglik A = -1 - 0.05 i, B = -1.2 - 0.05 i + 0.3 sin(i)
la = [-1 - 0.05 * i for i in range(40)]
lb = [-1.2 - 0.05 * i + 0.3 * np.sin(i) for i in range(40)]
d = np.array(la) - np.array(lb)
bs = stats.bootstrap((d,), np.mean, method="percentile", n_resamples=10000, random_state=1)
print(f"analysis bootstrap mean={d.mean():.17g} low={bs.confidence_interval.low:.6g} high={bs.confidence_interval.high:.6g}")
