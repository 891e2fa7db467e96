"""The cost-saving pieces of scans (issue 12) against independent evaluations: the
decay-integral series against the closed form, refinement that appends events, the
interpolation used far from the contours, and stratum sums against a direct loop."""

from __future__ import annotations

import numpy as np
import pytest

from dipolehnl.analysis.scan_settings import COARSE_STRIDE, EXACT_STRIDE, EXACT_WINDOW, ScanSettings
from dipolehnl.analysis.scan_worker import _exact_columns, _fill
from dipolehnl.errors import InputError
from dipolehnl.generate.sample import Segments
from dipolehnl.generate.sampling import GeneratorSettings, generate
from dipolehnl.generate.stratified import stratified_variance, stratum_sums
from dipolehnl.physics.model import HNLModel
from tests.test_generate import FLUX, toy_detector


def _random_rays(rng, n_rays):
    offs, A, B, N = [0], [], [], []
    for _ in range(n_rays):
        pos = rng.uniform(0, 2)
        for _ in range(rng.integers(1, 60)):
            if rng.uniform() < 0.3:
                pos += rng.uniform(0, 1)  # a gap (zero density)
            t = 10 ** rng.uniform(-3, 0.5)
            A.append(pos)
            B.append(pos + t)
            N.append(10 ** rng.uniform(20, 24))
            pos += t
        offs.append(len(A))
    return Segments(np.array(offs), np.array(A), np.array(B), np.array(N), np.zeros(len(A), dtype=np.int64))


def test_decay_integral_grid_matches_closed_form_in_every_regime():
    rng = np.random.default_rng(5)
    seg = _random_rays(rng, 400)
    lam0 = 10 ** rng.uniform(-1, 3, 400)
    scale = np.geomspace(1e-6, 1e4, 120)
    got = seg.decay_integral_scaled(lam0, scale)
    o = seg.offsets
    for i in range(400):
        a, b, n = seg.a_m[o[i] : o[i + 1]], seg.b_m[o[i] : o[i + 1]], seg.n_cm3[o[i] : o[i + 1]]
        lam = lam0[i] / scale[:, None]
        exact = (n * np.exp(-a / lam) * -np.expm1(-(b - a) / lam)).sum(axis=1)
        # segments starting beyond 60 λ are dropped: < e^-30 × density contrast (1e4) when the ray starts within 30 λ
        near = a[0] / lam[:, 0] < 30.0
        np.testing.assert_allclose(got[i, near], exact[near], rtol=1e-9)
        taylor = lam[:, 0] >= 10 * b.max()  # the series path: exact to rounding
        np.testing.assert_allclose(got[i, taylor], exact[taylor], rtol=1e-12)
        assert np.all(got[i, ~near] <= exact[~near] * (1 + 1e-12))


def _check_against_closed_form(seg, groups, lam0, scale, rtol):
    """The total and the split by group (3 groups) of J against Σ n e^{−a/λ}(1 − e^{−(b−a)/λ})
    where the ray starts within 30 λ (segments beyond 60 λ are skipped: the split's tolerance
    is relative to the total)."""
    got = seg.decay_integral_scaled(lam0, scale)
    by = seg.decay_integral_by_group(groups, 3, lam0, scale)
    o = seg.offsets
    for i in range(lam0.size):
        sl = slice(o[i], o[i + 1])
        a, b, n = seg.a_m[sl], seg.b_m[sl], seg.n_cm3[sl]
        lam = lam0[i] / scale[:, None]
        terms = n * np.exp(-a / lam) * -np.expm1(-(b - a) / lam)
        near = a[0] / lam[:, 0] < 30.0
        np.testing.assert_allclose(got[i, near], terms.sum(axis=1)[near], rtol=rtol)
        for g in range(3):
            want = terms[:, groups[sl] == g].sum(axis=1)
            assert np.all(np.abs(by[i, near, g] - want[near]) <= rtol * (terms.sum(axis=1)[near] + want[near]))


def test_decay_integral_on_repeating_layers_with_gaps_against_the_closed_form():
    """Detector-like rays (layers of a few thicknesses repeating with gaps, runs of equal
    touching sub-segments), few and many couplings, scales in no order; the total and the
    split by group against the closed form."""
    rng = np.random.default_rng(12)
    offs, A, B, N = [0], [], [], []
    thick = rng.uniform(0.005, 0.05, 11)
    gaps = np.array([0.0, 0.0013, 0.004])
    for _ in range(150):
        pos = rng.uniform(0.0, 2.0)
        for j in range(int(rng.integers(5, 60))):
            if rng.uniform() < 0.1:  # a split segment: equal touching pieces
                h, k = rng.uniform(0.5, 3.0), int(rng.integers(2, 12))
                for m in range(k):
                    A.append(pos + m * h)
                    B.append(pos + (m + 1) * h)
                    N.append(10 ** rng.uniform(22, 23))
                pos += k * h
            else:
                L = thick[j % (2 + j // 20)]  # a cycle of two, then more thicknesses
                A.append(pos)
                B.append(pos + L)
                N.append(10 ** rng.uniform(21, 24))
                pos += L
            pos += gaps[j % 3]
        offs.append(len(A))
    seg = Segments(np.array(offs), np.array(A), np.array(B), np.array(N), np.zeros(len(A), dtype=np.int64))
    lam0 = 10 ** rng.uniform(-1.5, 2.5, 150)
    groups = (np.arange(len(A)) // 7 % 3).astype(np.int64)
    for n_scale in (9, 90):
        scale = rng.permutation(np.geomspace(1e-3, 1e3, n_scale))
        _check_against_closed_form(seg, groups, lam0, scale, rtol=1e-10)
    # one or two groups per event, changing from event to event (a group of an earlier event
    # is absent from the next: the kernel works only with the groups an event has)
    ray = np.repeat(np.arange(150), np.diff(offs))
    first_half = np.arange(len(A)) < np.repeat(np.array(offs[:-1]) + np.diff(offs) // 2, np.diff(offs))
    groups = np.where((ray % 2 == 0) & first_half, (ray + 1) % 3, ray % 3).astype(np.int64)
    _check_against_closed_form(seg, groups, lam0, np.geomspace(1e-3, 1e3, 40), rtol=1e-10)


def test_segments_subset_and_coupling_matrix_rows():
    rng = np.random.default_rng(6)
    seg = _random_rays(rng, 50)
    lam0 = 10 ** rng.uniform(-1, 3, 50)
    rows = np.array([3, 7, 8, 20, 49])
    scale = np.geomspace(1e-3, 1e3, 7)
    np.testing.assert_array_equal(
        seg.subset(rows).decay_integral_scaled(lam0[rows], scale), seg.decay_integral_scaled(lam0, scale)[rows]
    )


def test_refinement_appends_and_keeps_earlier_events():
    det, model = toy_detector(), HNLModel(0.1, 5e-6)
    st = GeneratorSettings(n_events=400, seed=11)
    calls = []

    def refine(smp):
        calls.append(smp.n)
        if len(calls) > 1:
            return None
        return smp.weights()[:, None], 0.5

    base = generate(det, model, FLUX, st)
    refined = generate(det, model, FLUX, st, refine=refine)
    again = generate(
        det,
        model,
        FLUX,
        st,
        refine=lambda s, c=[]: c.append(1) or (None if len(c) > 1 else (s.weights()[:, None], 0.5)),
    )
    n = base.n
    # one round: the events the Neyman prediction needs for a 1/1.5 variance, 10–50% of the sample
    assert n + 0.1 * n <= refined.n <= n + 0.5 * n and calls == [n, refined.n]
    for k, v in base.columns.items():  # earlier events: same kinematics, decays, vertices
        np.testing.assert_array_equal(refined.columns[k][:n], v)
    np.testing.assert_array_equal(refined.segments.offsets[: n + 1], base.segments.offsets)
    # weights follow the stratum sizes: kin_weight × n_stratum is the same per event
    n0 = np.bincount(base.columns["stratum"])[base.columns["stratum"]]
    n1 = np.bincount(refined.columns["stratum"])[refined.columns["stratum"][:n]]
    np.testing.assert_allclose(refined.kin_weight[:n] * n1, base.kin_weight * n0, rtol=1e-14)
    for k, v in refined.columns.items():  # same seed, same refined sample
        np.testing.assert_array_equal(again.columns[k], v)


def test_stratum_sums_and_counts_against_loop():
    rng = np.random.default_rng(2)
    s = rng.integers(0, 7, 300)
    W = rng.exponential(size=(300, 4))
    # any memory layout (the compiled kernel follows it): C, Fortran, a strided view
    for Wx in (W, np.asfortranarray(W), np.repeat(W, 2, axis=1)[:, ::2]):
        n_s, s1, s2 = stratum_sums(Wx, s, 9)
        assert s1.shape == s2.shape == (9, 4)
        for j in range(9):
            assert n_s[j] == np.sum(s == j)
            np.testing.assert_allclose(s1[j], W[s == j].sum(axis=0), rtol=1e-13)
            np.testing.assert_allclose(s2[j], (W[s == j] ** 2).sum(axis=0), rtol=1e-13)
    with pytest.raises(ValueError, match="one stratum per event"):
        stratum_sums(W[:-1], s)
    with pytest.raises(ValueError):  # negative strata (bincount)
        stratum_sums(W, -s)
    # events of zero weight left out, their number given: the same variance
    keep = rng.uniform(size=300) < 0.5
    W0 = np.where(keep[:, None], W, 0.0)
    np.testing.assert_allclose(
        stratified_variance(W0[keep], s[keep], np.bincount(s)), stratified_variance(W0, s), rtol=1e-12
    )


def test_exact_columns_cover_the_window_and_fill_interpolates_power_laws():
    K = 200
    coarse = np.unique(np.r_[np.arange(0, K, COARSE_STRIDE), K - 1])
    d = np.geomspace(1e-8, 1e-4, K)
    signal = 1e15 * d**2 * np.exp(-((d / 3e-5) ** 2))  # d^4-like rise times a fall-off at large d
    ks = _exact_columns(signal[coarse], coarse, K)
    inside = np.flatnonzero((signal > EXACT_WINDOW[0]) & (signal < EXACT_WINDOW[1]))
    # every EXACT_STRIDE-th coupling of the window is exact, the others have exact neighbours
    assert np.isin(inside[inside % EXACT_STRIDE == 0], ks).all() and len(ks) < K
    j = np.searchsorted(ks, inside)  # ks[j - 1] < i <= ks[j]
    assert (ks[j] - ks[np.maximum(j - 1, 0)] <= EXACT_STRIDE).all()
    filled = _fill(signal[ks], ks, K)
    np.testing.assert_array_equal(filled[ks], signal[ks])
    lo = (signal < EXACT_WINDOW[0]) & (d < 1e-5)  # pure power law there: interpolation exact
    np.testing.assert_allclose(filled[lo], signal[lo], rtol=1e-9)
    # in the window (the rise and the Gaussian fall-off of ln S) the cubic spline errs < 1e-4
    np.testing.assert_allclose(filled[inside], signal[inside], rtol=1e-4)
    assert _fill(np.zeros(len(ks)), ks, K).max() == 0.0
    med = _fill(np.where(np.arange(len(ks)) > len(ks) - 3, np.nan, 1.0), ks, K, nan_gaps=True)
    assert np.isnan(med[-1]) and med[0] == 1.0


def test_fill_keeps_zeros_and_interpolates_next_to_them_log_linearly():
    """A signal that vanishes beyond some coupling (all events decay before the detector):
    the spline stops at the last positive knot, the gaps after it stay zero, and no value
    overshoots the exact ones around it."""
    K = 50
    ks = np.arange(0, K, 2)
    x = np.arange(K, dtype=float)
    signal = np.where(x < 30, np.exp(-0.01 * x**2), 0.0)
    filled = _fill(signal[ks], ks, K)
    assert (filled[30:] == 0).all() and filled[29] < 1e-100  # between e^-7.8 and 0: log-linear
    np.testing.assert_allclose(filled[:29], signal[:29], rtol=2e-4)
    two_rows = _fill(np.stack([signal[ks], 2 * signal[ks]]), ks, K)  # rows are independent
    np.testing.assert_allclose(two_rows[1, :29], 2 * two_rows[0, :29], rtol=1e-12)


def test_decay_integral_grid_on_runs_of_equal_touching_segments():
    """The beamline split makes runs of touching sub-segments of equal length (the kernel then
    reuses e^{-h/λ}); against the closed form, and the subsystem split against the same."""
    rng = np.random.default_rng(8)
    offs, A, B, N = [0], [], [], []
    for _ in range(300):
        pos = rng.uniform(0, 3)
        for _ in range(rng.integers(1, 6)):
            k = int(rng.integers(1, 25))
            h = rng.uniform(0.5, 12.0)
            edges = pos + h * np.arange(k + 1)
            A += list(edges[:-1])
            B += list(edges[1:])
            N += list(10 ** rng.uniform(20, 23, k))
            pos = edges[-1] + (rng.uniform(0, 5) if rng.uniform() < 0.5 else 0.0)
        offs.append(len(A))
    seg = Segments(np.array(offs), np.array(A), np.array(B), np.array(N), np.zeros(len(A), dtype=np.int64))
    lam0 = 10 ** rng.uniform(-1, 4, 300)
    scale = np.geomspace(1e-4, 1e4, 90)
    _check_against_closed_form(seg, (np.arange(len(A)) % 3).astype(np.int64), lam0, scale, rtol=1e-9)


def test_weighted_median_columns_against_a_direct_definition():
    """Per column, the smallest x whose cumulative weight (x ascending) reaches half the total;
    NaN for an all-zero column."""
    from dipolehnl.analysis.summary import weighted_median, weighted_median_columns

    rng = np.random.default_rng(9)
    x = rng.exponential(1.0, 400)
    W = rng.exponential(1.0, (400, 12)) * (rng.uniform(size=(400, 12)) < 0.3)
    W[:, 3] = 0.0
    W[:, 5] = 0.0
    W[17, 5] = 2.0  # a single event carries the whole column
    got = weighted_median_columns(x, W)
    for k in range(12):
        if W[:, k].sum() == 0:
            assert np.isnan(got[k])
            continue
        xs = np.sort(x)
        cum = np.array([W[x <= v, k].sum() for v in xs])
        assert got[k] == xs[np.argmax(cum >= 0.5 * W[:, k].sum())]
        assert got[k] == weighted_median(x, W[:, k])
    assert got[5] == x[17]


def test_not_a_knot_spline_is_scipys_cubic_spline():
    """scan_worker.not_a_knot_spline (there to spare the workers the import of
    scipy.interpolate) against scipy.interpolate.CubicSpline (not-a-knot by default) on
    irregular knots, at the knots and between them; and a cubic is reproduced exactly."""
    from scipy.interpolate import CubicSpline

    from dipolehnl.analysis.scan_worker import not_a_knot_spline

    rng = np.random.default_rng(13)
    for n in (4, 5, 9, 40, 200):
        x = np.sort(rng.choice(np.arange(1000), n, replace=False)).astype(float)
        y = rng.normal(size=n).cumsum()
        t = np.r_[x, np.sort(rng.uniform(x[0], x[-1], 300))]
        want = CubicSpline(x, y)(t)
        np.testing.assert_allclose(not_a_knot_spline(x, y, t), want, rtol=0, atol=1e-12 * np.abs(want).max())
    x = np.array([0.0, 1.0, 3.0, 4.0, 7.0])
    np.testing.assert_allclose(
        not_a_knot_spline(x, x**3 - 2 * x, np.linspace(0, 7, 29)),
        (lambda t: t**3 - 2 * t)(np.linspace(0, 7, 29)),
        atol=1e-10,
    )
    with pytest.raises(ValueError):
        not_a_knot_spline(x[:3], x[:3], x[:3])


def test_scan_interpolation_between_exact_couplings_against_every_coupling_exact(monkeypatch):
    """One mass of the 2019 analysis (default preset, 100 MeV, where the window holds most of
    the grid): the same sample evaluated at every coupling and at every EXACT_STRIDE-th one
    with the spline between; the signal differs by < 1e-3 relative where 0.1-1000 events are
    expected (measured: < 1e-4), well below the 1.9% MC error of a scan."""
    import dipolehnl.analysis.scan_worker as sw
    from dipolehnl.analysis.analyses import load_analysis
    from dipolehnl.analysis.scan_settings import MassTask, ScanSettings, _analysis_to_json, with_preset
    from dipolehnl.config import get_preset

    p = get_preset("default")
    doc = _analysis_to_json(with_preset(load_analysis("t2k2019"), p))
    task = MassTask((doc,), p, ScanSettings(n_events=2000, refine=False), 0.1)
    (interp,) = sw.run_mass(task)
    monkeypatch.setattr(sw, "EXACT_STRIDE", 1)
    (exact,) = sw.run_mass(task)
    s_i, s_e = interp.signal.sum(axis=0), exact.signal.sum(axis=0)
    window = (s_e > EXACT_WINDOW[0]) & (s_e < EXACT_WINDOW[1])
    assert window.sum() > 50  # the test looks at many interpolated couplings
    np.testing.assert_allclose(s_i[window], s_e[window], rtol=1e-3)
    np.testing.assert_allclose(interp.mc_error[window], exact.mc_error[window], rtol=1e-2)


def test_untraced_backward_hnls_weigh_zero_and_leave_the_others_unchanged():
    """GeneratorSettings.cos_theta_min: with an even allocation (pilot_fraction 1, so the
    random numbers are the same), events with cos θ_N above the cut are identical to those of
    a full sample, those at or below it get no production (J = 0, weight 0)."""
    det, model = toy_detector(), HNLModel(0.3, 5e-6)
    full = generate(det, model, FLUX, GeneratorSettings(n_events=600, seed=4, pilot_fraction=1.0))
    cut = generate(det, model, FLUX, GeneratorSettings(n_events=600, seed=4, pilot_fraction=1.0, cos_theta_min=0.99))
    cos = full.columns["cos_theta_N"]
    fwd = cos > 0.99
    assert 0 < fwd.sum() < full.n  # the cut keeps some events and drops others
    np.testing.assert_array_equal(cut.columns["cos_theta_N"], cos)
    np.testing.assert_array_equal(cut.columns["decay_integral_cm3"][fwd], full.columns["decay_integral_cm3"][fwd])
    assert np.all(cut.columns["decay_integral_cm3"][~fwd] == 0) and np.all(cut.weights()[~fwd] == 0)
    np.testing.assert_array_equal(cut.weights()[fwd], full.weights()[fwd])
    with pytest.raises(InputError):
        GeneratorSettings(cos_theta_min=1.0)


def test_neyman_refinement_reaches_the_target_variance_with_the_fewest_events():
    """Strata with known per-event standard deviations σ_s (values m_s ± σ_s, n_s events): the
    added events bring Σ σ_s²/n_s' to the requested fraction of its present value, never take
    events away, and no other split of the same number of new events does better."""
    from dipolehnl.generate.stratified import neyman_refinement

    sig = np.array([1.0, 4.0, 0.5, 2.0, 0.0])
    n = np.array([40, 40, 100, 10, 20])
    stratum = np.repeat(np.arange(5), n)
    f = np.concatenate([m + s * np.where(np.arange(k) % 2 == 0, 1.0, -1.0) for m, s, k in zip([3, 1, 2, 5, 1], sig, n)])
    contrib = (f / n[stratum])[:, None]
    extra = neyman_refinement(contrib, stratum, 5, 0.25)
    var0 = np.sum(sig**2 / n)
    var = lambda x: np.sum(sig**2 / (n + x))  # noqa: E731
    assert np.all(extra >= 0) and extra[4] == 0  # no events where nothing varies
    assert var(extra) == pytest.approx(0.25 * var0, rel=1e-9)
    # the Lagrange condition: σ_s/n_s' equal in every stratum that gets events
    got = extra > 0
    ratio = sig[got] / (n + extra)[got]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
    total = extra.sum()
    rng = np.random.default_rng(2)
    for _ in range(200):  # any other split of the same total: a larger variance
        other = rng.dirichlet(np.ones(5)) * total
        assert var(other) >= var(extra) * (1 - 1e-12)
    prop = total * sig / sig.sum()  # the former allocation, ∝ σ_s
    assert var(prop) > var(extra)


def test_production_shares_at_the_edges_do_not_depend_on_the_share_window(monkeypatch):
    """Shares are computed only where a detector's signal is within SHARE_WINDOW; the rows the
    outputs give (at the share coupling nearest to each lower edge) are those of a scan that
    computes them at every share coupling."""
    import dipolehnl.analysis.scan_worker as sw
    from dipolehnl.analysis.results import production_share_rows
    from dipolehnl.analysis.scan import run_scan

    st = ScanSettings(masses_GeV=(0.05, 0.3), n_events=1000, refine=False)
    windowed = run_scan("t2k2019", "default", st)
    monkeypatch.setattr(sw, "SHARE_WINDOW", (0.0, np.inf))
    everywhere = run_scan("t2k2019", "default", st)
    level = windowed.analysis.levels()[0]
    assert production_share_rows(windowed, level) == production_share_rows(everywhere, level)
    assert any(np.all(s == 0) for r in windowed.masses for s in r.shares)  # some were skipped


def test_decay_integral_refuses_inconsistent_segments():
    """decay_integral_by_group checks what the compiled kernel does not (it indexes without
    bounds checks): offsets against the segments and the events, groups in range."""
    rng = np.random.default_rng(15)
    seg = _random_rays(rng, 5)
    lam0, scale = np.ones(5), np.ones(3)
    g = np.zeros(seg.a_m.size, dtype=np.int64)
    seg.decay_integral_by_group(g, 1, lam0, scale)
    with pytest.raises(InputError):
        seg.decay_integral_by_group(g, 1, np.ones(4), scale)
    with pytest.raises(InputError):
        seg.decay_integral_by_group(g + 1, 1, lam0, scale)
    with pytest.raises(InputError):
        seg.decay_integral_by_group(g[:-1], 1, lam0, scale)
    bad = Segments(seg.offsets[::-1].copy(), seg.a_m, seg.b_m, seg.n_cm3, seg.volume)
    with pytest.raises(InputError):
        bad.decay_integral_by_group(g, 1, lam0, scale)
