"""Property tests (hypothesis) of the ray tracer on random box geometries.

Coordinates are multiples of 0.25 m so that coincident faces, nested and touching boxes
and axis-parallel rays grazing faces are frequent.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dipolehnl.detector import Box, Detector, Material, Volume

MATS = [
    Material("C", np.array([1000060120]), np.array([1.0])),
    Material("FE", np.array([1000260560]), np.array([1.0])),
]

quarter = st.integers(-16, 16).map(lambda i: i * 0.25)
size = st.integers(1, 24).map(lambda i: i * 0.25)


@st.composite
def box_volumes(draw, min_size=1, max_size=6):
    n = draw(st.integers(min_size, max_size))
    vols = []
    for i in range(n):
        c = [draw(quarter) for _ in range(3)]
        s = [draw(size) for _ in range(3)]
        rho = draw(st.sampled_from([0.5, 1.0, 2.0, 7.0]))
        vols.append(Volume(f"v{i}", Box(center_m=c, size_m=s), MATS[i % 2], rho))
    return vols


@st.composite
def rays(draw, n=12):
    o = np.array([[draw(quarter) for _ in range(3)] for _ in range(n)])
    axis_aligned = draw(st.booleans())
    if axis_aligned:
        d = np.zeros((n, 3))
        for i in range(n):
            d[i, draw(st.integers(0, 2))] = draw(st.sampled_from([-1.0, 1.0]))
    else:
        d = np.array([[draw(st.integers(-4, 4)) for _ in range(3)] for _ in range(n)], float)
        d[np.all(d == 0, axis=1)] = [0.0, 0.0, 1.0]
    return o, d


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(box_volumes(), rays())
def test_segments_contiguous_ordered_and_correct(vols, r):
    det = Detector("random", vols)
    o, d = r
    seg = det.trace(o, d)
    assert seg.offsets[0] == 0 and seg.offsets[-1] == len(seg)
    assert np.all(np.diff(seg.offsets) >= 0)
    assert np.all(np.diff(seg.ray) >= 0)
    assert np.all(seg.length_m > 0)
    same = seg.ray[1:] == seg.ray[:-1]
    assert np.all(seg.t_start_m[1:][same] >= seg.t_end_m[:-1][same])
    # adjacent pieces of one volume are merged
    touching = same & (seg.t_start_m[1:] == seg.t_end_m[:-1])
    assert not np.any(touching & (seg.volume[1:] == seg.volume[:-1]))
    # every segment is, at its midpoint and near both ends, in the volume it claims
    dn = d / np.linalg.norm(d, axis=1)[:, None]
    for f in (0.5, 0.01, 0.99):
        t = seg.t_start_m + f * seg.length_m
        pts = o[seg.ray] + t[:, None] * dn[seg.ray]
        np.testing.assert_array_equal(det.volume_at(pts), seg.volume)
    # total covered length = length of the union of the chords of all boxes
    for i in range(len(o)):
        chords = []
        for v in vols:
            a, b = v.shape.intersect(o[i : i + 1], dn[i : i + 1])
            a, b = max(a[0], 0.0), b[0]
            if a < b:
                chords.append((a, b))
        union = 0.0
        end = -np.inf
        for a, b in sorted(chords):
            if b > end:
                union += b - max(a, end)
                end = b
        sl = seg.for_ray(i)
        assert np.isclose(seg.length_m[sl].sum(), union, rtol=1e-12, atol=1e-9)


@SETTINGS
@given(box_volumes(), rays(), st.lists(st.floats(0.0, 1.0), min_size=12, max_size=12))
def test_column_additive_when_splitting(vols, r, frac):
    det = Detector("random", vols)
    o, d = r
    dn = d / np.linalg.norm(d, axis=1)[:, None]
    total = det.trace(o, dn, t_max_m=20.0).total_column_g_cm2()
    s = 20.0 * np.asarray(frac)
    first = det.trace(o, dn, t_max_m=s).total_column_g_cm2()
    second = det.trace(o + s[:, None] * dn, dn, t_max_m=20.0 - s).total_column_g_cm2()
    np.testing.assert_allclose(first + second, total, rtol=1e-9, atol=1e-7)


@SETTINGS
@given(box_volumes(), rays(), st.data())
def test_invariant_under_splitting_a_box(vols, r, data):
    det = Detector("random", vols)
    k = data.draw(st.integers(0, len(vols) - 1))
    axis = data.draw(st.integers(0, 2))
    v = vols[k]
    lo, hi = v.shape.bounds_m
    cut = lo[axis] + data.draw(st.floats(0.05, 0.95)) * (hi[axis] - lo[axis])
    hi1 = hi.copy()
    hi1[axis] = cut
    lo2 = lo.copy()
    lo2[axis] = cut
    halves = [
        Volume(v.name + "_a", Box.from_bounds(lo, hi1), v.material, v.density_g_cm3),
        Volume(v.name + "_b", Box.from_bounds(lo2, hi), v.material, v.density_g_cm3),
    ]
    split = Detector("split", vols[:k] + halves + vols[k + 1 :])
    o, d = r
    np.testing.assert_allclose(
        split.trace(o, d).total_column_g_cm2(), det.trace(o, d).total_column_g_cm2(), rtol=1e-9, atol=1e-7
    )
    ev, ev_split = det.effective_volume_m3(), split.effective_volume_m3()
    np.testing.assert_allclose(ev_split[k] + ev_split[k + 1], ev[k], rtol=1e-9, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(box_volumes(min_size=2, max_size=5))
def test_effective_volumes_exact_vs_monte_carlo(vols):
    det = Detector("random", vols)
    ev = det.effective_volume_m3()
    lo, hi = det.bounds_m
    rng = np.random.default_rng(0)
    n = 40_000
    pts = lo + rng.random((n, 3)) * (hi - lo)
    frac = np.bincount(det.volume_at(pts) + 1, minlength=len(vols) + 1)[1:] / n
    world = float(np.prod(hi - lo))
    mc = frac * world
    p = np.clip(ev / world, 0.0, 1.0)  # the binomial spread under the exact volumes (the observed
    err = world * np.sqrt(p * (1 - p) / n) + 1e-9  # fraction understates it for a few points)
    assert np.all(np.abs(mc - ev) < 5 * err + 1e-3 * world / n**0.5)
    # visible volumes never exceed the box volume and sum to the union's volume
    assert np.all(ev <= np.array([v.shape.volume_m3 for v in vols]) * (1 + 1e-12))


@SETTINGS
@given(box_volumes(), rays(), st.floats(0.0, 30.0))
def test_grid_and_sweep_tracing_agree(vols, r, t_max):
    """The painter's-grid tracer (boxes only) and the breakpoint sweep (any shapes) give the
    same segments, including rays that start on or run along faces."""
    det = Detector("random", vols)
    o, d = r
    for tm in (np.inf, t_max):
        a = det.trace(o, d, tm, method="grid")
        b = det.trace(o, d, tm, method="sweep")
        np.testing.assert_array_equal(a.offsets, b.offsets)
        np.testing.assert_array_equal(a.volume, b.volume)
        np.testing.assert_allclose(a.t_start_m, b.t_start_m, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(a.t_end_m, b.t_end_m, rtol=1e-12, atol=1e-12)
