"""Tests of dipolehnl.analysis.limits: parsing, interpolation, polygons, fractions."""
from __future__ import annotations

from importlib.resources import files

import numpy as np
import pytest

from dipolehnl.analysis.limits import (
    ExternalLimit,
    excluded_limits,
    fraction_excluded,
    load_external_limit,
    load_external_limits,
    points_in_polygon,
    polygon_area,
    polygon_is_simple,
    read_external_limit,
    region_grid,
    strongest_external,
)
from dipolehnl.errors import InputError


EXCLUDED = {"Borexino", "CHARM-II", "LSND", "MINERvA", "NOMAD", "SN1987A", "SuperK"}
PREFERRED = {
    "MiniBooNE_CosTheta_95CL",
    "MiniBooNE_CosTheta_99.7CL",
    "MiniBooNE_EnuQE_95CL",
    "MiniBooNE_EnuQE_95CL_island",
    "MiniBooNE_EnuQE_99.7CL",
}
UMU2 = {"AFH2022_T2K2019_Umu2", "AFH2022_T2K_plus_T2KII_Umu2", "PS191_Umu2"}


def _rows(name: str) -> np.ndarray:
    text = files("dipolehnl").joinpath("analysis", "data", "limits", f"{name}.csv").read_text()
    return np.array([[float(x) for x in ln.split(",")] for ln in text.splitlines() if ln and ln[0].isdigit()])


def test_package_copies_identical_to_reference(reference_dir):
    for p in sorted((reference_dir / "limits").glob("*.csv")):
        assert files("dipolehnl").joinpath("analysis", "data", "limits", p.name).read_bytes() == p.read_bytes()


def test_kinds_and_flags():
    lims = load_external_limits()
    assert set(lims) == EXCLUDED | PREFERRED | UMU2
    for n in EXCLUDED:
        assert lims[n].kind == "excluded_above_curve"
    for n in PREFERRED:
        assert lims[n].kind == "preferred_region"
    for n in UMU2:
        assert lims[n].kind == "Umu2" and lims[n].shape == "graph"
    assert not lims["LSND"].drawn_in_paper and not lims["SN1987A"].drawn_in_paper
    assert all(lims[n].drawn_in_paper for n in EXCLUDED - {"LSND", "SN1987A"})
    assert lims["SuperK"].shape == "closed"
    assert {n for n in EXCLUDED if lims[n].shape == "open_above"} == EXCLUDED - {"SuperK"}
    assert lims["MiniBooNE_EnuQE_99.7CL"].shape == "open_below"
    assert all(lims[n].shape == "closed" for n in PREFERRED - {"MiniBooNE_EnuQE_99.7CL"})
    assert "Plestid" in lims["Borexino"].note
    assert "GeV^-1" in lims["MINERvA"].units
    assert {lim.name for lim in excluded_limits()} == EXCLUDED - {"LSND", "SN1987A"}
    assert {lim.name for lim in excluded_limits(include_not_drawn=True)} == EXCLUDED


@pytest.mark.parametrize("name", ["Borexino", "MINERvA", "NOMAD", "SN1987A"])
def test_interpolation_at_nodes_returns_node_values(name):
    lim = load_external_limit(name)
    rows = _rows(name)
    np.testing.assert_allclose(lim.excluded_d(rows[:, 0]), rows[:, 1], rtol=1e-12)
    np.testing.assert_allclose(lim.value_at(rows[:, 0]), rows[:, 1], rtol=1e-12)


@pytest.mark.parametrize("name", ["MINERvA", "NOMAD"])
def test_log_log_interpolation_between_nodes_and_nan_outside(name):
    lim = load_external_limit(name)
    rows = _rows(name)
    (m1, d1), (m2, d2) = rows[10], rows[11]
    m = np.sqrt(m1 * m2)  # midpoint in log m
    assert lim.excluded_d(m) == pytest.approx(np.sqrt(d1 * d2), rel=1e-12)
    assert np.isnan(lim.excluded_d(rows[0, 0] * 0.99)) and np.isnan(lim.excluded_d(rows[-1, 0] * 1.01))
    assert lim.excludes(m, 2 * np.sqrt(d1 * d2)) and not lim.excludes(m, 0.5 * np.sqrt(d1 * d2))
    assert lim.excludes(m, 1e3)  # far above the curve: still excluded
    assert not lim.excludes(rows[-1, 0] * 1.5, 1e-3)  # outside the mass range
    assert lim.excluded_d_max(m) == np.inf


def test_umu2_curves_sorted_and_interpolated():
    lim = load_external_limit("AFH2022_T2K2019_Umu2")
    rows = _rows("AFH2022_T2K2019_Umu2")
    order = np.argsort(rows[:, 0])
    assert np.any(np.diff(rows[:, 0]) < 0)  # the file has two points out of order
    np.testing.assert_allclose(lim.value_at(rows[order, 0]), rows[order, 1], rtol=1e-12)
    assert np.isnan(lim.value_at(10.0))
    with pytest.raises(InputError):
        lim.excluded_d(100.0)
    with pytest.raises(InputError):
        lim.contains(100.0, 1e-10)


def test_charm2_vertical_edge():
    lim = load_external_limit("CHARM-II")
    rows = _rows("CHARM-II")
    # monotone part: node values
    mono = rows[rows[:, 0] < 137]
    np.testing.assert_allclose(lim.excluded_d(mono[:, 0]), mono[:, 1], rtol=1e-12)
    # at the edge m = 137 MeV the lowest point of the vertical segment
    assert lim.excluded_d(137.0) == pytest.approx(3.8515e-07, rel=1e-9)
    assert np.isnan(lim.excluded_d(140.0))
    assert lim.excludes(100.0, 1e-5) and not lim.excludes(100.0, 1e-7) and not lim.excludes(145.0, 1e-5)


def test_lsnd_vertical_edge():
    lim = load_external_limit("LSND")
    assert lim.excludes(60.0, 1e-5) and not lim.excludes(60.0, 1e-6) and not lim.excludes(75.0, 1e-4)
    assert lim.excluded_d(47.245) == pytest.approx(1.713e-06)


def test_superk_closed_region():
    lim = load_external_limit("SuperK")
    rows = _rows("SuperK")
    assert polygon_is_simple(lim.polygon_log)
    assert len(lim.polygon_log) == len(rows)
    # every file point is a vertex of the re-ordered polygon
    v = {tuple(np.round(p, 12)) for p in lim.polygon_log}
    assert all(tuple(np.round(np.log10(r), 12)) in v for r in rows)
    # lower edge at the lower-branch nodes
    for m, d in [(10.8038, 4.71487e-07), (44.1986, 4.67808e-07), (83.9237, 8.60074e-07)]:
        assert lim.excluded_d(m) == pytest.approx(d, rel=1e-9)
    # upper edge: the top at 1e-5 on the left, the right branch further right
    assert lim.excluded_d_max(30.0) == pytest.approx(1e-5)
    assert lim.excluded_d_max(87.3186) == pytest.approx(3.40597e-06, rel=1e-9)
    assert lim.excludes(30.0, 1e-6) and lim.excludes(90.0, 1.5e-6)
    assert not lim.excludes(90.0, 5e-6)  # right of the right branch
    assert not lim.excludes(30.0, 1e-7)  # below
    assert not lim.excludes(30.0, 2e-5)  # above the closed top (not extended)
    assert not lim.excludes(110.0, 1.5e-6)
    assert lim.log_area > 0


@pytest.mark.parametrize("name", sorted(PREFERRED - {"MiniBooNE_EnuQE_99.7CL"}))
def test_preferred_regions_simple_with_positive_area(name):
    lim = load_external_limit(name)
    assert polygon_is_simple(lim.polygon_log)
    assert lim.log_area > 0
    x, y = lim.points_for_plot()
    assert x[0] == x[-1] and y[0] == y[-1]


def test_point_in_energy_fit_region():
    r = load_external_limit("MiniBooNE_EnuQE_95CL")
    # m = 300 MeV: the band spans about 4.1e-7 .. 7.7e-7 GeV^-1 (lower and upper branch of the file)
    assert r.contains(300.0, 6e-7)
    assert r.contains(30.0, 4.5e-7)
    assert r.contains(650.0, 2.5e-6)
    assert not r.contains(300.0, 2e-6)
    assert not r.contains(300.0, 1e-7)
    assert not r.contains(1000.0, 1e-6)
    assert not r.contains(5.0, 1e-6)
    np.testing.assert_array_equal(r.contains([300.0, 300.0], [6e-7, 2e-6]), [True, False])
    island = load_external_limit("MiniBooNE_EnuQE_95CL_island")
    assert island.contains(757.0, 3.91e-6) and not island.contains(757.0, 3.5e-6)
    cos = load_external_limit("MiniBooNE_CosTheta_95CL")
    assert cos.contains(700.0, 2.5e-6) and not cos.contains(400.0, 1e-6)


def test_area_against_grid_count():
    r = load_external_limit("MiniBooNE_EnuQE_95CL")
    m, d, cell = region_grid(r, n=400)
    assert m.size * cell == pytest.approx(r.log_area, rel=0.02)


def test_polygon_helpers_on_a_square():
    sq = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    assert polygon_area(sq) == pytest.approx(1.0)
    np.testing.assert_array_equal(points_in_polygon([0.5, 1.5, 0.5], [0.5, 0.5, -0.1], sq), [True, False, False])
    assert polygon_is_simple(sq)
    bowtie = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert not polygon_is_simple(bowtie)


def test_open_997_energy_boundary_nests_the_95_region():
    r997 = load_external_limit("MiniBooNE_EnuQE_99.7CL")
    r95 = load_external_limit("MiniBooNE_EnuQE_95CL")
    pts = r95.polygon_log
    m, d = 10 ** pts[:, 0], 10 ** pts[:, 1]
    inside_range = (m > r997.m_MeV.min() * 1.001) & (m < r997.m_MeV.max())
    assert np.all(r997.contains(m[inside_range], d[inside_range] * 0.99))
    assert np.isnan(r997.log_area)
    with pytest.raises(InputError, match="d_floor"):
        fraction_excluded(r997, lambda m, d: d > 0)
    f = fraction_excluded(r997, lambda m, d: d > 1e-6, d_floor_GeVinv=1e-7)
    assert 0 < f < 1


def test_strongest_external():
    d, names = strongest_external(np.array([1.0, 10.0, 100.0, 500.0, 1500.0, 3000.0]), return_names=True)
    assert names.tolist() == ["CHARM-II", "Borexino", "MINERvA", "NOMAD", "NOMAD", ""]
    assert np.isnan(d[-1])
    mn = load_external_limit("MINERvA")
    assert d[2] == pytest.approx(mn.excluded_d(100.0))
    # at every mass the strongest is the minimum over drawn limits
    m = np.geomspace(0.2, 2000, 60)
    all_d = np.array([lim.excluded_d(m) for lim in excluded_limits()])
    expect = np.where(np.all(np.isnan(all_d), axis=0), np.nan, np.nanmin(np.where(np.isnan(all_d), np.inf, all_d), axis=0))
    np.testing.assert_allclose(strongest_external(m), expect)
    # SN1987A (not drawn) is stronger at 300 MeV when included
    assert strongest_external(300.0, include_not_drawn=True) < strongest_external(300.0)
    assert isinstance(strongest_external(300.0), float)


def test_fraction_excluded():
    r = load_external_limit("MiniBooNE_EnuQE_95CL")
    assert fraction_excluded(r, lambda m, d: np.ones_like(m, dtype=bool)) == 1.0
    assert fraction_excluded(r, lambda m, d: np.zeros_like(m, dtype=bool)) == 0.0
    # a predicate splitting the log-area: compare to the grid-free area of the clipped polygon
    half = fraction_excluded(r, lambda m, d: m > 100.0, n=300)
    assert 0.2 < half < 0.9
    # scalar predicate works too (called point by point) and is deterministic
    f1 = fraction_excluded(r, lambda m, d: bool(m > 100.0), n=60)
    f2 = fraction_excluded(r, lambda m, d: m > 100.0, n=60)
    assert f1 == f2
    # external limits exclude most, not all, of the energy-fit region (paper: a part near 500 MeV survived)
    ext = fraction_excluded(
        ["MiniBooNE_EnuQE_95CL", "MiniBooNE_EnuQE_95CL_island"],
        lambda m, d: np.nan_to_num(strongest_external(m), nan=np.inf) < d,
    )
    assert 0.5 < ext < 1.0


def test_read_external_limit_user_file(tmp_path):
    p = tmp_path / "my.csv"
    p.write_text("# Mine: test curve\n# kind: excluded_above_curve\nm_MeV,d_GeVinv\n10,1e-6\n100,1e-7\n")
    lim = read_external_limit(p)
    assert lim.name == "my" and lim.note == "test curve"
    assert lim.excluded_d(np.sqrt(1000.0)) == pytest.approx(np.sqrt(1e-13))
    bad = tmp_path / "bad.csv"
    bad.write_text("# Bad: x\n# kind: excluded_above_curve\nm_MeV,d_GeVinv\n10,abc\n100,1e-7\n")
    with pytest.raises(InputError, match=r"bad\.csv:4"):
        read_external_limit(bad)
    bad.write_text("# Bad: x\n# kind: weird\nm_MeV,d_GeVinv\n10,1e-6\n100,1e-7\n")
    with pytest.raises(InputError, match="unknown kind"):
        read_external_limit(bad)
    bad.write_text("# Bad: x\nm_MeV,d\n10,-1\n100,1e-7\n")
    with pytest.raises(InputError, match="> 0"):
        read_external_limit(bad)
    with pytest.raises(InputError):
        load_external_limit("nope")
    with pytest.raises(InputError):
        ExternalLimit("x", "bogus", np.array([1.0, 2.0]), np.array([1.0, 2.0]))
