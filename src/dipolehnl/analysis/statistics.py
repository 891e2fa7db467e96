"""Closed-form counting statistics for limits and sensitivities (vectorised).

Notation: ``s`` expected signal events, ``b`` expected background events, ``n`` observed
events, ``cl`` confidence level (e.g. 0.95).  References: G. Cowan, K. Cranmer,
E. Gross, O. Vitells, "Asymptotic formulae for likelihood-based tests of new physics",
EPJC 71, 1554 (2011), arXiv:1007.1727 (CCGV below); PDG Review "Statistics", Sec. 40.4.

What arXiv:2412.15051 uses
--------------------------
* 2019 constraint: Poisson likelihood, zero events observed, background ignored:
  exclude where s > -ln(1 - cl) (= 3.00 events at 95% CL):
  :func:`poisson_zero_background_limit`.
* T2K + T2K-II sensitivity: Asimov data set, likelihood-ratio statistic summed over
  data sets, at 95% CL and 5 sigma.  The reference README prints
  q = 2[(s+b) ln(1+s/b) - s], which is the *discovery*-type Asimov statistic
  (:func:`q_asimov_discovery`); the exclusion-type one, for Asimov data equal to the
  background, is q = 2[s - b ln(1+s/b)] (:func:`q_asimov_exclusion`).  Both are here;
  the analysis definition chooses.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dipolehnl.errors import InputError

QKind = Literal["exclusion", "discovery"]

_SERIES_X = 1.0e-4  # below this s/b the q formulas use their Taylor series


def _check_cl(cl: ArrayLike) -> NDArray[np.float64]:
    c = np.asarray(cl, dtype=float)
    if np.any(~np.isfinite(c)) or np.any(c <= 0) or np.any(c >= 1):
        raise InputError(f"confidence level must be in (0, 1), got {cl!r}")
    return c


def _nonneg(name: str, x: ArrayLike) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=float)
    if np.any(np.isnan(a)) or np.any(a < 0):
        raise InputError(f"{name} must be >= 0 (and not NaN)")
    return a


def _scalar_or_array(a: NDArray[np.float64]) -> NDArray[np.float64] | float:
    return float(a) if np.ndim(a) == 0 else a


# ---------------------------------------------------------------------------------------
# Poisson limits
# ---------------------------------------------------------------------------------------
def poisson_zero_background_limit(cl: ArrayLike = 0.95) -> NDArray[np.float64] | float:
    """Upper limit on the signal mean for zero observed events and no background.

    P(0 | s) = exp(-s) = 1 - cl  =>  s_up = -ln(1 - cl)   (2.996 at 95% CL, 2.303 at 90%).
    """
    c = _check_cl(cl)
    return _scalar_or_array(-np.log1p(-c))


def poisson_upper_limit(
    n_obs: ArrayLike, background: ArrayLike = 0.0, cl: ArrayLike = 0.95
) -> NDArray[np.float64] | float:
    """Classical (Neyman) upper limit on the signal mean s for a Poisson count.

    s_up solves P(N <= n_obs | s_up + b) = 1 - cl.  With the identity
    P(N <= n | mu) = 1 - F_chi2(2 mu; 2n + 2) this is
    s_up = F^-1_chi2(cl; 2 n_obs + 2) / 2 - b   (PDG review "Statistics", Poisson upper limits),
    clipped at 0 when the background alone is already disfavoured (an empty
    classical interval; no Feldman-Cousins or CLs treatment here).
    For n_obs = 0, b = 0 it equals :func:`poisson_zero_background_limit`.
    """
    n = np.asarray(n_obs, dtype=float)
    if np.any(n < 0) or np.any(n != np.round(n)):
        raise InputError(f"observed counts must be non-negative integers, got {n_obs!r}")
    b = _nonneg("background", background)
    c = _check_cl(cl)
    if np.all(n == 0):  # P(N = 0 | mu) = e^-mu: no import of scipy.special (0.3 s) needed
        mu_up = poisson_zero_background_limit(c) + np.zeros_like(n)
    else:
        from scipy.special import gammaincinv  # (scipy.stats would add ~1.3 s of imports)

        mu_up = gammaincinv(n + 1.0, c)  # F^-1_chi2(c; 2n + 2)/2: the chi2 quantile as a gamma quantile
    return _scalar_or_array(np.maximum(mu_up - b, 0.0))


# ---------------------------------------------------------------------------------------
# Asimov test statistics
# ---------------------------------------------------------------------------------------
def _x_minus_log1p(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """x - ln(1+x), with its series x^2/2 - x^3/3 + x^4/4 for small x."""
    small = x < _SERIES_X
    xs = np.where(small, x, 0.0)
    series = xs**2 / 2 - xs**3 / 3 + xs**4 / 4
    xl = np.where(small, 1.0, x)
    return np.where(small, series, xl - np.log1p(xl))


def _one_plus_x_log1p_minus_x(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """(1+x) ln(1+x) - x, with its series x^2/2 - x^3/6 + x^4/12 for small x."""
    small = x < _SERIES_X
    xs = np.where(small, x, 0.0)
    series = xs**2 / 2 - xs**3 / 6 + xs**4 / 12
    xl = np.where(small, 1.0, x)
    return np.where(small, series, (1 + xl) * np.log1p(xl) - xl)


def _sum(q: NDArray[np.float64], axis: int | tuple[int, ...] | None) -> NDArray[np.float64] | float:
    return _scalar_or_array(np.asarray(q) if axis is None else np.sum(q, axis=axis))


def q_asimov_exclusion(
    s: ArrayLike, b: ArrayLike, axis: int | tuple[int, ...] | None = None
) -> NDArray[np.float64] | float:
    """Asimov exclusion statistic: q = 2[s - b ln(1 + s/b)]  (CCGV, Asimov data set for upper limits).

    This is -2 ln[L(s+b) / L(b)] for the Asimov data set n = b (background only),
    testing the signal-plus-background hypothesis; for b -> 0 it tends to 2s.
    ``axis``: if given, q is summed over that axis (independent data sets); if None
    the result is elementwise.
    """
    s_ = _nonneg("signal", s)
    b_ = _nonneg("background", b)
    s_, b_ = np.broadcast_arrays(s_, b_)
    pos = b_ > 0
    bb = np.where(pos, b_, 1.0)
    q = np.where(pos, 2.0 * bb * _x_minus_log1p(s_ / bb), 2.0 * s_)
    return _sum(q, axis)


def q_asimov_discovery(
    s: ArrayLike, b: ArrayLike, axis: int | tuple[int, ...] | None = None
) -> NDArray[np.float64] | float:
    """Asimov discovery-type statistic: q = 2[(s+b) ln(1 + s/b) - s]  (CCGV, median discovery significance).

    This is -2 ln[L(b) / L(s+b)] for the Asimov data set n = s + b, testing the
    background-only hypothesis (the median discovery significance is sqrt(q)).  It is
    the formula printed in the reference README for the paper's sensitivity.  For
    b -> 0 it diverges (q = inf for s > 0, 0 for s = 0).  ``axis`` as in
    :func:`q_asimov_exclusion`.
    """
    s_ = _nonneg("signal", s)
    b_ = _nonneg("background", b)
    s_, b_ = np.broadcast_arrays(s_, b_)
    pos = b_ > 0
    bb = np.where(pos, b_, 1.0)
    q = np.where(pos, 2.0 * bb * _one_plus_x_log1p_minus_x(s_ / bb), np.where(s_ > 0, np.inf, 0.0))
    return _sum(q, axis)


def q_asimov(
    s: ArrayLike, b: ArrayLike, kind: QKind, axis: int | tuple[int, ...] | None = None
) -> NDArray[np.float64] | float:
    """Dispatch to :func:`q_asimov_exclusion` (kind='exclusion') or :func:`q_asimov_discovery`."""
    if kind == "exclusion":
        return q_asimov_exclusion(s, b, axis)
    if kind == "discovery":
        return q_asimov_discovery(s, b, axis)
    raise InputError(f"unknown Asimov statistic {kind!r}: expected 'exclusion' or 'discovery'")


def q_threshold(
    cl: ArrayLike | None = None, sigma: ArrayLike | None = None, one_sided: bool = True
) -> NDArray[np.float64] | float:
    """Threshold on a likelihood-ratio statistic q (Wilks / chi^2 with one degree of freedom).

    * ``cl`` given, one-sided (half chi^2_1, the usual upper-limit convention):
      q = [Phi^-1(cl)]^2  (2.706 at 95%).
    * ``cl`` given, two-sided: q = F^-1_chi2_1(cl)  (3.841 at 95%).
    * ``sigma`` given: q = sigma^2 (25.0 for 5 sigma), since the significance is
      Z = sqrt(q) in both conventions (one-sided p = 1 - Phi(Z), two-sided 2[1 - Phi(Z)]).

    Exactly one of ``cl`` and ``sigma`` must be given.
    """
    if (cl is None) == (sigma is None):
        raise InputError("give exactly one of cl and sigma")
    if sigma is not None:
        z = np.asarray(sigma, dtype=float)
        if np.any(~np.isfinite(z)) or np.any(z <= 0):
            raise InputError(f"sigma must be > 0, got {sigma!r}")
        return _scalar_or_array(z**2)
    assert cl is not None  # exactly one of cl and sigma is given, and it is not sigma
    c = _check_cl(cl)
    from scipy.special import ndtri

    if one_sided:
        return _scalar_or_array(ndtri(c) ** 2)
    return _scalar_or_array(ndtri(0.5 * (1.0 + c)) ** 2)  # chi2 with one dof is Z²: P(Z² <= x) = 2Φ(√x) − 1


def sigma_to_cl(sigma: ArrayLike, one_sided: bool = True) -> NDArray[np.float64] | float:
    """Confidence level of a Z-sigma threshold: Phi(Z) one-sided, 1 - 2[1 - Phi(Z)] two-sided."""
    z = np.asarray(sigma, dtype=float)
    from scipy.special import ndtr

    cl = ndtr(z) if one_sided else 1.0 - 2.0 * ndtr(-z)
    return _scalar_or_array(np.asarray(cl))


# ---------------------------------------------------------------------------------------
# Inversion: signal giving a target q
# ---------------------------------------------------------------------------------------
def _solve_increasing(f_at, target: NDArray[np.float64], hi: NDArray[np.float64]) -> NDArray[np.float64]:
    """Root x in [0, hi] of f_at(index, x) = target[index] for every index of ``target``
    (f increasing in x, f(0) <= target <= f(hi)), by ``scipy.optimize.brentq`` to relative
    precision 4 × machine epsilon."""
    from scipy.optimize import brentq

    out = np.zeros(target.shape)
    for idx in np.ndindex(target.shape):
        t, h = float(target[idx]), float(hi[idx])
        if not np.isfinite(h) or h <= 0:
            continue
        g = lambda x, i=idx, t=t: f_at(i, x) - t
        if g(0.0) >= 0:
            continue
        out[idx] = brentq(g, 0.0, h, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
    return out


def signal_for_q(b: ArrayLike, q_target: ArrayLike, kind: QKind = "exclusion") -> NDArray[np.float64] | float:
    """Expected signal s >= 0 with q_asimov(s, b) = q_target, for one data set (vectorised).

    Both statistics increase monotonically in s (dq/ds = 2s/(s+b) resp. 2 ln(1+s/b)).
    Special cases: b = 0 gives s = q/2 for 'exclusion' and s = 0 for 'discovery'.
    Solved per element by ``scipy.optimize.brentq`` (relative precision ~1e-15).
    """
    if kind not in ("exclusion", "discovery"):
        raise InputError(f"unknown Asimov statistic {kind!r}: expected 'exclusion' or 'discovery'")
    b_ = _nonneg("background", b)
    qt = _nonneg("q_target", q_target)
    b_, qt = np.broadcast_arrays(b_, qt)
    b_ = b_.astype(float)
    qt = qt.astype(float)

    def f(s: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(q_asimov(s, b_, kind))

    # upper bracket: grow until q(hi) >= target
    hi = np.maximum(qt, 1.0) * (1.0 + b_)
    for _ in range(200):
        short = f(hi) < qt
        if not np.any(short):
            break
        hi = np.where(short, 4.0 * hi, hi)
    s = _solve_increasing(lambda i, x: float(q_asimov(x, b_[i], kind)), qt, hi)
    s = np.where(qt == 0, 0.0, s)
    if kind == "exclusion":
        s = np.where(b_ == 0, qt / 2.0, s)
    else:
        s = np.where(b_ == 0, 0.0, s)
    return _scalar_or_array(s)


def signal_scale_for_q(
    s: ArrayLike, b: ArrayLike, q_target: float, kind: QKind = "exclusion", axis: int = 0
) -> NDArray[np.float64] | float:
    """Scale mu >= 0 with sum_i q_asimov(mu s_i, b_i) = q_target (sum over ``axis``).

    Useful for contours of combined data sets: ``s`` are the per-data-set signal
    predictions at some coupling; the returned mu says how much the signal must grow
    (or may shrink) to reach the threshold.  Returns inf where all s_i along the axis are 0.
    """
    s_ = _nonneg("signal", s)
    b_ = _nonneg("background", b)
    s_, b_ = np.broadcast_arrays(s_, b_)
    qt = float(q_target)
    if qt < 0:
        raise InputError("q_target must be >= 0")
    s_m = np.moveaxis(s_, axis, 0)
    b_m = np.moveaxis(b_, axis, 0)
    shape = s_m.shape[1:]
    target = np.full(shape, qt)
    total_s = s_m.sum(axis=0)

    def f(mu: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(q_asimov(mu[None, ...] * s_m, b_m, kind, axis=0))

    safe = total_s > 0
    hi = np.where(safe, np.maximum(qt, 1.0) * (1.0 + b_m.sum(axis=0)) / np.where(safe, total_s, 1.0), 1.0)
    for _ in range(400):
        short = (f(hi) < target) & safe
        if not np.any(short):
            break
        hi = np.where(short, 4.0 * hi, hi)
    idx_all = (slice(None),)
    mu = _solve_increasing(
        lambda i, x: float(q_asimov(x * s_m[idx_all + i], b_m[idx_all + i], kind, axis=0)),
        target,
        np.where(safe, hi, 0.0),
    )
    mu = np.where(safe, mu, np.inf)
    if qt == 0:
        mu = np.where(safe, 0.0, mu)
    return _scalar_or_array(mu)
