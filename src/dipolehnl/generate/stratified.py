"""Stratified Monte Carlo: per-stratum sums, the variance of a stratified estimate, and
Neyman allocation (one implementation for the generator, rate summaries and scans).

A stratified sample has n_s events in stratum s, each with weight W_i (already divided by
n_s, so the estimate of the total is Σ_i W_i).  Its variance is estimated by

    Var(Σ W) = Σ_s n_s/(n_s − 1) [Σ_{i∈s} W_i² − (Σ_{i∈s} W_i)²/n_s]      (n_s > 1),

and Σ_{i∈s} W_i² − (Σ W_i)² for a stratum of one event (no variance information: 0).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def stratum_sums(
    W: Array, stratum: NDArray[np.int64], n_strata: int | None = None
) -> tuple[NDArray[np.int64], Array, Array]:
    """(n_s, Σ W, Σ W²) per stratum for weights W of shape (n,) or (n, K)."""
    W = np.asarray(W, dtype=float)
    stratum = np.asarray(stratum, dtype=np.int64)
    n_s = np.bincount(stratum, minlength=n_strata or 0).astype(np.int64)
    if W.ndim == 1:
        s1 = np.bincount(stratum, W, n_s.size).astype(np.float64)
        return n_s, s1, np.bincount(stratum, W * W, n_s.size).astype(np.float64)
    if stratum.shape != W.shape[:1]:
        raise ValueError(f"one stratum per event needed: {stratum.shape[0]} strata for {W.shape[0]} events")
    from dipolehnl.generate._kernels import stratum_moments

    s1 = np.zeros((n_s.size, W.shape[1]))
    s2 = np.zeros((n_s.size, W.shape[1]))
    # (bincount above refused negative strata; s1 has a row for the largest one)
    stratum_moments(np.ascontiguousarray(stratum), W, s1, s2)
    return n_s, s1, s2


def stratified_variance(W: Array, stratum: NDArray[np.int64], counts: NDArray[np.int64] | None = None) -> Array:
    """Variance of Σ_i W[i] (per column for W of shape (n, K); a float for W of shape (n,)).

    ``counts``: events per stratum n_s when ``W`` holds only some of the events (those left
    out have W = 0 and enter only through n_s); default: counted from ``stratum``."""
    n_s, s1, s2 = stratum_sums(W, stratum, None if counts is None else len(counts))
    if counts is not None:
        n_s = np.asarray(counts)
    f = np.where(n_s > 1, n_s / np.maximum(n_s - 1, 1), 1.0)
    f = f.reshape((-1,) + (1,) * (s1.ndim - 1))
    nn = np.maximum(n_s, 1).reshape(f.shape)
    return np.sum(f * (s2 - s1**2 / nn), axis=0)


def _worst_column_sd(contrib: Array, stratum: NDArray[np.int64], n_strata: int) -> tuple[Array, Array]:
    """(σ_s, n_s): each stratum's standard deviation per event at the column of ``contrib``
    (per-event contributions (n, K), already divided by n_s) with the largest relative error
    of the total, and the stratum sizes."""
    n_s = np.bincount(stratum, minlength=n_strata).astype(float)
    f = contrib * n_s[stratum][:, None]  # per-event integrand estimates
    _, s1, s2 = stratum_sums(f, stratum, n_strata)
    mean = s1 / np.maximum(n_s, 1)[:, None]
    sd = np.sqrt(np.maximum(s2 / np.maximum(n_s, 1)[:, None] - mean**2, 0.0))
    var_total = np.sum(sd**2 / np.maximum(n_s, 1)[:, None], axis=0)
    total = np.abs(mean.sum(axis=0))
    worst = int(np.argmax(np.divide(np.sqrt(var_total), total, out=np.zeros_like(total), where=total > 0)))
    return sd[:, worst], n_s


def neyman_scores(contrib: Array, stratum: NDArray[np.int64], n_strata: int) -> Array:
    """Share of new events per stratum ∝ its standard deviation (per event) at the worst
    column of ``contrib`` (per-event contributions (n, K), already divided by n_s)."""
    score, _ = _worst_column_sd(contrib, stratum, n_strata)
    return score / score.sum() if score.sum() > 0 else np.full(n_strata, 1.0 / n_strata)


def neyman_refinement(contrib: Array, stratum: NDArray[np.int64], n_strata: int, variance_ratio: float) -> Array:
    """Events to add per stratum (real numbers) so that the variance at the worst column of
    ``contrib`` (per-event contributions (n, K), already divided by n_s) falls to
    ``variance_ratio`` × its present value with the fewest events: with σ_s the stratum's
    standard deviation per event, the variance Σ_s σ_s²/n_s' is smallest for a given total
    when the strata below the Neyman allocation are filled up to it, n_s' = max(n_s, c σ_s)
    (Lagrange: σ_s/n_s' equal wherever events are added); c is set by the target."""
    sd, n_s = _worst_column_sd(contrib, stratum, n_strata)
    ok = (sd > 0) & (n_s > 0)
    if not ok.any():
        return np.zeros(n_strata)
    sd, n = sd[ok], n_s[ok]
    target = float(variance_ratio) * float(np.sum(sd**2 / n))

    def variance(c: float) -> float:
        return float(np.sum(sd**2 / np.maximum(n, c * sd)))

    lo, hi = 0.0, float(np.max(n / sd))  # variance(hi) is the present one
    while variance(hi) > target:
        lo, hi = hi, 2.0 * hi
    for _ in range(80):
        c = 0.5 * (lo + hi)
        if variance(c) > target:
            lo = c
        else:
            hi = c
    out = np.zeros(n_strata)
    out[ok] = np.maximum(hi * sd - n, 0.0)
    return out
