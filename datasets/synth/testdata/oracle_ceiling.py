"""Expected oracle metrics for single latent scores, for ceiling_test.go.

The label of a sample with latent l is clip(round(5*(l + e)) / 5, -3, 3),
e ~ N(0, sigma^2); the oracle predicts l. For each case this prints the
exact expectation (a sum over the grid, written independently of the Go
code) and checks it against a Monte-Carlo draw of 2,000,000 labels.
Run with /usr/bin/python3 (numpy).
"""
import math

import numpy as np

CASES = [(0.0, 0.3), (0.5, 0.3), (-0.1, 0.3), (2.9, 0.3), (-3.0, 0.3), (1.25, 0.6), (0.37, 0.0), (0.07, 0.0)]


def phi(x):
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def grid(l, sigma):
    """P(label = k/5) for k = -15..15."""
    out = {}
    for k in range(-15, 16):
        lo = -math.inf if k == -15 else (k - 0.5) / 5
        hi = math.inf if k == 15 else (k + 0.5) / 5
        if sigma == 0:
            out[k] = 1.0 if lo <= l < hi else 0.0
        else:
            out[k] = phi((hi - l) / sigma) - phi((lo - l) / sigma)
    return out


def exact(l, sigma):
    p = grid(l, sigma)
    mae = sum(pk * abs(k / 5 - l) for k, pk in p.items())
    has0 = sum(pk for k, pk in p.items() if (k >= 0) == (l >= 0))
    hit = sum(pk for k, pk in p.items() if k != 0 and (k > 0) == (l > 0))
    n0 = sum(pk for k, pk in p.items() if k != 0)
    c = round(min(max(l, -3), 3))  # Python's round is half-even
    acc7 = sum(pk for k, pk in p.items() if round(k / 5) == c)
    # No label is 0 when n0 == 0; the Go code reports 0 then.
    return mae, has0, hit / n0 if n0 else 0.0, acc7


def monte_carlo(l, sigma, n=2_000_000, seed=7):
    rng = np.random.default_rng(seed)
    y = np.clip(np.round(5 * (l + sigma * rng.standard_normal(n))) / 5, -3, 3)
    mae = np.mean(np.abs(y - l))
    has0 = np.mean((y >= 0) == (l >= 0))
    nz = y != 0
    non0 = np.mean((y[nz] > 0) == (l > 0)) if nz.any() else 0.0
    acc7 = np.mean(np.round(y) == np.round(np.clip(l, -3, 3)))
    return mae, has0, non0, acc7


for l, s in CASES:
    e = exact(l, s)
    m = monte_carlo(l, s)
    assert all(abs(a - b) < 3e-3 for a, b in zip(e, m)), (l, s, e, m)
    print("{latent: %g, sigma: %g, want: Ceiling{MAE: %.6f, Acc2Has0: %.6f, Acc2Non0: %.6f, Acc7: %.6f}}," % ((l, s) + e))
