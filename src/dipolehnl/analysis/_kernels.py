"""Compiled kernel of the scan summaries (numba): weighted medians of one set of values
under many sets of weights (:func:`dipolehnl.analysis.summary.weighted_median_columns`)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def weighted_median_sorted(x_sorted, W, order):  # pragma: no cover - compiled
    """For every column k of W (n, K): x_sorted[i] at the first i (in the order ``order`` of
    the rows, x_sorted = x[order]) where the running sum of W[order, k] reaches half of the
    column's total (NaN for a zero total) -- ``searchsorted(cumsum, total/2)``, row by row."""
    n, K = W.shape
    total = np.zeros(K)
    for i in range(n):
        for k in range(K):
            total[k] += W[order[i], k]
    out = np.full(K, np.nan)
    cw = np.zeros(K)
    done = np.zeros(K, np.bool_)
    left = 0
    for k in range(K):
        if total[k] > 0:
            left += 1
        else:
            done[k] = True
    for i in range(n):
        if left == 0:
            break
        r = order[i]
        for k in range(K):
            if not done[k]:
                cw[k] += W[r, k]
                if cw[k] >= 0.5 * total[k]:
                    out[k] = x_sorted[i]
                    done[k] = True
                    left -= 1
    for k in range(K):  # rounding: the running sum never reached half of the total
        if not done[k]:
            out[k] = x_sorted[n - 1]
    return out
