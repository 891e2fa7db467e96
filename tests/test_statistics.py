"""Tests of dipolehnl.analysis.statistics against scipy and direct likelihoods."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats
from scipy.special import gammaln

from dipolehnl.analysis import statistics as st
from dipolehnl.errors import InputError


def poisson_logpmf_real(n, mu):
    """ln P(n | mu) for real n >= 0 (Asimov data), via the gamma function."""
    n = np.asarray(n, dtype=float)
    return np.where(n > 0, n * np.log(np.where(mu > 0, mu, 1.0)), 0.0) - mu - gammaln(n + 1)


def test_zero_background_limit():
    assert st.poisson_zero_background_limit() == pytest.approx(2.9957322735539909)
    assert st.poisson_zero_background_limit(0.9) == pytest.approx(np.log(10))
    assert round(st.poisson_zero_background_limit(0.95), 2) == 3.00
    np.testing.assert_allclose(st.poisson_zero_background_limit([0.9, 0.95]), -np.log([0.1, 0.05]))
    for bad in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(InputError):
            st.poisson_zero_background_limit(bad)


@pytest.mark.parametrize("n", [0, 1, 2, 5, 10, 30])
@pytest.mark.parametrize("cl", [0.9, 0.95, 0.99])
def test_poisson_upper_limit_cdf(n, cl):
    s = st.poisson_upper_limit(n, 0.0, cl)
    assert stats.poisson.cdf(n, s) == pytest.approx(1 - cl, rel=1e-9)
    # independent root finding
    s_brent = optimize.brentq(lambda mu: stats.poisson.cdf(n, mu) - (1 - cl), 1e-9, 200.0, xtol=1e-13)
    assert s == pytest.approx(s_brent, rel=1e-9)


def test_poisson_upper_limit_background_and_vectorised():
    assert st.poisson_upper_limit(0, 0.0) == pytest.approx(st.poisson_zero_background_limit())
    # background subtracted, clipped at zero
    s = st.poisson_upper_limit(2, 1.5, 0.95)
    assert stats.poisson.cdf(2, s + 1.5) == pytest.approx(0.05, rel=1e-9)
    assert st.poisson_upper_limit(0, 5.0, 0.95) == 0.0
    v = st.poisson_upper_limit(np.array([0, 1, 3]), np.array([0.0, 0.2, 0.5]), 0.95)
    assert v.shape == (3,)
    np.testing.assert_allclose(stats.poisson.cdf([0, 1, 3], v + [0.0, 0.2, 0.5]), 0.05, rtol=1e-9)
    with pytest.raises(InputError):
        st.poisson_upper_limit(1.5)
    with pytest.raises(InputError):
        st.poisson_upper_limit(-1)
    with pytest.raises(InputError):
        st.poisson_upper_limit(1, -0.1)


@pytest.mark.parametrize("b", [0.015, 0.3, 0.563, 1.0, 6.1, 100.0])
@pytest.mark.parametrize("s", [1e-3, 0.1, 1.0, 3.0, 20.0])
def test_q_exclusion_equals_direct_likelihood_ratio(s, b):
    # Asimov data n = b; q = -2 ln [L(s+b) / L(b)]
    direct = -2 * (poisson_logpmf_real(b, s + b) - poisson_logpmf_real(b, b))
    assert st.q_asimov_exclusion(s, b) == pytest.approx(
        direct, rel=1e-9, abs=1e-10
    )  # direct form loses ~1e-13 to cancellation


@pytest.mark.parametrize("b", [0.015, 0.3, 0.563, 1.0, 6.1, 100.0])
@pytest.mark.parametrize("s", [1e-3, 0.1, 1.0, 3.0, 20.0])
def test_q_discovery_equals_direct_likelihood_ratio(s, b):
    # Asimov data n = s + b; q = -2 ln [L(b) / L(s+b)]
    direct = -2 * (poisson_logpmf_real(s + b, b) - poisson_logpmf_real(s + b, s + b))
    assert st.q_asimov_discovery(s, b) == pytest.approx(
        direct, rel=1e-9, abs=1e-10
    )  # direct form loses ~1e-13 to cancellation


def test_q_integer_asimov_against_scipy_logpmf():
    # for integer Asimov data scipy.stats.poisson.logpmf applies directly
    b, s = 3.0, 2.5
    direct = -2 * (stats.poisson.logpmf(3, s + b) - stats.poisson.logpmf(3, b))
    assert st.q_asimov_exclusion(s, b) == pytest.approx(direct, rel=1e-12)
    b, s = 2.0, 3.0
    direct = -2 * (stats.poisson.logpmf(5, b) - stats.poisson.logpmf(5, s + b))
    assert st.q_asimov_discovery(s, b) == pytest.approx(direct, rel=1e-12)


def test_q_limits_and_small_signal_series():
    assert st.q_asimov_exclusion(2.0, 0.0) == 4.0
    assert st.q_asimov_exclusion(2.0, 1e-12) == pytest.approx(4.0, rel=1e-9)
    assert st.q_asimov_discovery(2.0, 0.0) == np.inf
    assert st.q_asimov_discovery(0.0, 0.0) == 0.0
    assert st.q_asimov_exclusion(0.0, 1.0) == 0.0
    # s << b: both tend to s^2 / b
    for s, b in [(1e-6, 1.0), (1e-5, 0.5), (1.01e-4, 1.0), (0.99e-4, 1.0)]:
        assert st.q_asimov_exclusion(s, b) == pytest.approx(s**2 / b * (1 - 2 * s / (3 * b)), rel=1e-6)
        assert st.q_asimov_discovery(s, b) == pytest.approx(s**2 / b * (1 - s / (3 * b)), rel=1e-6)
    # continuity across the series switch
    x = np.array([0.99999e-4, 1.00001e-4])
    q = st.q_asimov_exclusion(x, 1.0)
    assert q[1] / q[0] == pytest.approx((x[1] / x[0]) ** 2, rel=1e-5)
    # discovery q >= exclusion q
    s = np.linspace(0.01, 10, 50)
    assert np.all(st.q_asimov_discovery(s, 0.5) >= st.q_asimov_exclusion(s, 0.5))


def test_q_sum_over_datasets():
    s = np.array([[1.0, 2.0, 3.0], [0.5, 0.0, 1.0]])  # (datasets, points)
    b = np.array([[0.9], [6.1]])
    summed = st.q_asimov_exclusion(s, b, axis=0)
    np.testing.assert_allclose(summed, st.q_asimov_exclusion(s[0], 0.9) + st.q_asimov_exclusion(s[1], 6.1))
    summed_d = st.q_asimov_discovery(s, b, axis=0)
    np.testing.assert_allclose(summed_d, st.q_asimov_discovery(s[0], 0.9) + st.q_asimov_discovery(s[1], 6.1))
    assert st.q_asimov_exclusion(s, b).shape == (2, 3)
    assert st.q_asimov(s, b, "exclusion", axis=0) == pytest.approx(summed)
    with pytest.raises(InputError):
        st.q_asimov(s, b, "other")
    with pytest.raises(InputError):
        st.q_asimov_exclusion(-1.0, 1.0)


def test_q_threshold():
    assert st.q_threshold(0.95) == pytest.approx(2.7055, abs=1e-4)
    assert st.q_threshold(0.95, one_sided=False) == pytest.approx(3.8415, abs=1e-4)
    assert st.q_threshold(sigma=5) == pytest.approx(25.0)
    assert st.q_threshold(sigma=5, one_sided=False) == pytest.approx(25.0)
    # consistency: one-sided at cl equals sigma^2 with sigma = Phi^-1(cl)
    assert st.q_threshold(0.99) == pytest.approx(stats.norm.ppf(0.99) ** 2)
    assert st.q_threshold(0.9, one_sided=False) == pytest.approx(stats.chi2.ppf(0.9, 1))
    # two-sided chi2_1 at the 5 sigma two-sided CL is 25
    assert st.q_threshold(st.sigma_to_cl(5, one_sided=False), one_sided=False) == pytest.approx(25.0, rel=1e-6)
    np.testing.assert_allclose(st.q_threshold(sigma=[1, 2, 3]), [1, 4, 9])
    with pytest.raises(InputError):
        st.q_threshold()
    with pytest.raises(InputError):
        st.q_threshold(0.95, sigma=2)


@pytest.mark.parametrize("kind", ["exclusion", "discovery"])
def test_signal_for_q(kind):
    b = np.array([0.015, 0.1, 0.563, 1.0, 6.1, 50.0])
    for qt in (st.q_threshold(0.95), 3.841, 25.0):
        s = st.signal_for_q(b, qt, kind)
        np.testing.assert_allclose(st.q_asimov(s, b, kind), qt, rtol=1e-10)
        for bi, si in zip(b, s):
            ref = optimize.brentq(
                lambda x, bi=bi, qt=qt: st.q_asimov(x, bi, kind) - qt, 1e-12, 1e4, xtol=1e-14, rtol=1e-14
            )
            assert si == pytest.approx(ref, rel=1e-9)
    assert st.signal_for_q(0.0, 2.706, kind) == (1.353 if kind == "exclusion" else 0.0)
    assert st.signal_for_q(1.0, 0.0, kind) == 0.0
    assert isinstance(st.signal_for_q(1.0, 2.7, kind), float)


def test_signal_for_q_small_background_exclusion_approaches_zero_background():
    # b -> 0: exclusion-type 95% one-sided threshold needs s = q/2 = 1.35 (not 3.00: asymptotics)
    assert st.signal_for_q(1e-9, st.q_threshold(0.95), "exclusion") == pytest.approx(st.q_threshold(0.95) / 2, rel=1e-6)


def test_signal_scale_for_q():
    s = np.array([[1.0, 2.0, 0.0], [0.5, 0.0, 0.0]])
    b = np.array([[0.9], [6.1]])
    mu = st.signal_scale_for_q(s, b, 2.706, "exclusion")
    assert mu.shape == (3,)
    np.testing.assert_allclose(st.q_asimov_exclusion(mu[:2] * s[:, :2], b, axis=0), 2.706, rtol=1e-10)
    assert mu[2] == np.inf
    mu_d = st.signal_scale_for_q(s, b, 25.0, "discovery")
    np.testing.assert_allclose(st.q_asimov_discovery(mu_d[:2] * s[:, :2], b, axis=0), 25.0, rtol=1e-10)
    # single data set agrees with signal_for_q
    assert st.signal_scale_for_q(np.array([2.0]), np.array([0.5]), 3.0) * 2.0 == pytest.approx(
        st.signal_for_q(0.5, 3.0), rel=1e-10
    )
