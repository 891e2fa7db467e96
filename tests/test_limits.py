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


def test_points_in_polygon_is_matplotlibs_even_odd_rule():
    """The NumPy crossing-number test against matplotlib's ``Path.contains_points`` on every
    shipped region, at random points around each (none on an edge), in several chunks."""
    from matplotlib.path import Path as MplPath

    from dipolehnl.analysis.limits import load_external_limits

    lims = load_external_limits()
    rng = np.random.default_rng(21)
    checked = 0
    for lim in lims.values() if isinstance(lims, dict) else lims:
        poly = lim.polygon_log
        if poly is None or len(poly) < 3:
            continue
        lo, hi = poly.min(axis=0), poly.max(axis=0)
        pts = lo + (hi - lo) * rng.uniform(-0.1, 1.1, (5000, 2))
        got = points_in_polygon(pts[:, 0], pts[:, 1], poly)
        want = MplPath(np.vstack([poly, poly[:1]]), closed=True).contains_points(pts)
        np.testing.assert_array_equal(got, want, err_msg=lim.name)
        assert 0 < got.mean() < 1
        checked += 1
    assert checked >= 10
    # broadcasting keeps the shape of the points; a polygon of another shape is refused
    sq = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    assert points_in_polygon(np.full((2, 3), 0.5), 0.5, sq).shape == (2, 3)
    with pytest.raises(InputError):
        points_in_polygon([0.5], [0.5], sq.ravel())
    # the test runs compiled (an extension module built when the package is installed)
    import dipolehnl.analysis._kernels as kernels

    assert kernels.__file__.endswith((".so", ".pyd"))


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
    expect = np.where(
        np.all(np.isnan(all_d), axis=0), np.nan, np.nanmin(np.where(np.isnan(all_d), np.inf, all_d), axis=0)
    )
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


# ---------------------------------------------------------------------------------------
# Registry of the bundled curves: provenance, conventions, conversions, alternatives
# ---------------------------------------------------------------------------------------
import math  # noqa: E402
from pathlib import Path  # noqa: E402

from dipolehnl.analysis.limits import (  # noqa: E402
    D_PER_MU_B_GEVINV,
    MU_B_GEVINV,
    PAPER_CHARM2_FACTOR_GEVINV,
    limit_alternatives,
    limit_in_our_convention,
    load_registry,
    mass_ranges,
    parse_registry,
    registry_entry,
    registry_markdown,
    world_leading_alternatives,
    world_leading_mass_ranges,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "limits.md"

# CODATA 2018 SI values, independent of the package's natural-unit constants
MU_B_J_PER_T = 9.2740100783e-24
MU0_SI = 1.25663706212e-6  # N/A^2
EV_J = 1.602176634e-19
HBARC_EV_M = 197.3269804e-9


def _mu_b_GeVinv_from_si() -> float:
    """mu_B in GeV^-1 via SI: 1 T in natural Heaviside-Lorentz units is sqrt(B^2/mu0) as an
    energy density (J/m^3 -> GeV^4 with hbar c), so mu_B[GeV^-1] = mu_B[J/T] / (1 T in GeV^2)."""
    j_per_m3_in_GeV4 = (1.0 / EV_J) * 1e-9 * (HBARC_EV_M * 1e-9) ** 3  # 1 J/m^3 in GeV^4
    tesla_in_GeV2 = math.sqrt(1.0 / MU0_SI * j_per_m3_in_GeV4)
    return MU_B_J_PER_T / EV_J * 1e-9 / tesla_in_GeV2


def test_bohr_magneton_in_GeVinv_against_si():
    assert MU_B_GEVINV == pytest.approx(_mu_b_GeVinv_from_si(), rel=2e-9)
    assert MU_B_GEVINV == pytest.approx(296.304, abs=1e-3)
    assert D_PER_MU_B_GEVINV == pytest.approx(_mu_b_GeVinv_from_si() / 2, rel=2e-9)


def test_registry_validates_and_matches_the_files():
    reg = load_registry()
    root = files("dipolehnl").joinpath("analysis", "data", "limits")
    csvs = {e.name for e in root.iterdir() if e.name.endswith(".csv")}
    assert {e.file for e in reg.limit} == csvs  # every CSV an entry, every entry a CSV
    assert len(reg.limit) == len(csvs)
    lims = load_external_limits()
    assert set(reg.names) == set(lims)
    for e in reg.limit:
        lim = lims[e.name]
        assert e.drawn_in_paper == lim.drawn_in_paper, e.name
        assert {"exclusion": "excluded_above_curve", "preferred": "preferred_region", "validation": "Umu2"}[
            e.role
        ] == lim.kind, e.name
        side = e.excluded_side if e.role != "preferred" else e.preferred_side
        expect = {"open_above": "above", "graph": "above", "open_below": "below"}.get(lim.shape)
        if lim.shape == "closed":
            expect = "inside"
        assert side == expect, e.name
        if e.role == "preferred":
            assert e.confidence_level == (0.95 if "95CL" in e.name else 0.997), e.name
        assert e.ambiguous == bool(e.alternatives)
    assert {e.name for e in reg.limit if e.ambiguous} == {"CHARM-II", "NOMAD", "MINERvA"}


def test_conversion_factors_against_closed_forms():
    mu_b = _mu_b_GeVinv_from_si()
    (charm,) = registry_entry("CHARM-II").alternatives
    # standard: moment x mu_B with L ⊃ (mu/2) nubar sigma F N, d = x mu_B/2; the paper used 93.4376 per unit
    assert charm.factor == pytest.approx((mu_b / 2) / PAPER_CHARM2_FACTOR_GEVINV, rel=1e-6)
    assert 1.55 < charm.factor < 1.65  # "a factor 1.6 between public copies"
    assert str(PAPER_CHARM2_FACTOR_GEVINV) in registry_entry("CHARM-II").conversion
    (nomad,) = registry_entry("NOMAD").alternatives
    assert nomad.factor == pytest.approx(1 / math.sqrt(2), rel=1e-7)
    minerva = {a.label: a.factor for a in registry_entry("MINERvA").alternatives}
    assert sorted(minerva.values()) == pytest.approx([1 / 1.37, 1.37], rel=1e-6)
    # the curves already in our convention need no load-time factor
    assert all(e.factor_to_ours == 1.0 for e in load_registry().limit)
    # |U|^2 validation curves: mu_tr = 1e-6 GeV^-1 in DarkNews normalisation is d = 5e-7 GeV^-1
    assert "5×10⁻⁷" in registry_entry("AFH2022_T2K2019_Umu2").coupling_convention


def test_curve_alternatives_are_exact_rescalings():
    rows = _rows("NOMAD")
    alts = limit_alternatives("NOMAD")
    assert set(alts) == {"nominal", "NOMAD_without_sqrt2"}
    assert alts["nominal"] is load_external_limit("NOMAD")
    np.testing.assert_allclose(
        alts["NOMAD_without_sqrt2"].excluded_d(rows[:, 0]), rows[:, 1] / math.sqrt(2), rtol=1e-12
    )
    m, d = 500.0, float(alts["nominal"].excluded_d(500.0))
    assert not alts["nominal"].excludes(m, 0.8 * d) and alts["NOMAD_without_sqrt2"].excludes(m, 0.8 * d)
    # a closed region moves as a whole
    sk = limit_in_our_convention("SuperK")
    assert set(limit_alternatives("SuperK")) == {"nominal"}
    up = sk.scaled(2.0)
    assert up.excluded_d(30.0) == pytest.approx(2 * sk.excluded_d(30.0), rel=1e-12)
    assert up.excluded_d_max(30.0) == pytest.approx(2 * sk.excluded_d_max(30.0), rel=1e-12)
    assert up.log_area == pytest.approx(sk.log_area, rel=1e-12)
    with pytest.raises(InputError, match="not ambiguous"):
        limit_in_our_convention("SuperK", "NOMAD_without_sqrt2")
    with pytest.raises(InputError, match="no alternative"):
        limit_in_our_convention("NOMAD", "bogus")
    with pytest.raises(InputError, match="unknown limit alternative"):
        strongest_external(300.0, alternative="bogus")
    with pytest.raises(InputError):
        sk.scaled(0.0)


def test_docs_limits_md_in_sync_with_registry():
    assert DOCS.read_text(encoding="utf-8") == registry_markdown(), (
        "docs/limits.md is out of date: python -m dipolehnl.analysis.limits > docs/limits.md"
    )
    for e in load_registry().limit:
        assert f"### {e.name}" in registry_markdown()


_GOOD_ENTRY = """
[convention]
coupling = "c"
width = "w"
units = "u"
magnetic_moment = "m"

[[limit]]
file = "X.csv"
role = "exclusion"
description = "x"
source_paper = "p"
arxiv = "1234.56789"
figure = "f"
source_verified = true
redrawn_in = "r"
original_variable = "d"
original_units = "GeV"
coupling_convention = "c"
width_convention = "w"
conversion = "none"
factor_to_ours = 1.0
confidence_level = 0.9
excluded_side = "above"
drawn_in_paper = true
ambiguous = false
"""


def test_parse_registry_rejects_bad_entries():
    assert parse_registry(_GOOD_ENTRY, "r.toml").entry("X").confidence_level == 0.9
    bad = {
        "ambiguous = false": "ambiguous = true",  # ambiguous without alternatives
        "factor_to_ours = 1.0": "factor_to_ours = -1.0",
        'excluded_side = "above"': 'excluded_side = "left"',
        'arxiv = "1234.56789"': 'arxiv = "soon"',
        "confidence_level = 0.9": "confidence_level = 95",
        'conversion = "none"': 'conversion = "none"\nfactor = 2',  # unknown key
        'role = "exclusion"': 'role = "preferred"',  # preferred needs preferred_side
    }
    for old, new in bad.items():
        with pytest.raises(InputError, match=r"^r\.toml: "):
            parse_registry(_GOOD_ENTRY.replace(old, new), "r.toml")
    with pytest.raises(InputError, match="cl_note"):
        parse_registry(_GOOD_ENTRY.replace("confidence_level = 0.9\n", ""), "r.toml")
    with pytest.raises(InputError, match="not valid TOML"):
        parse_registry("[[limit]\n", "r.toml")
    with pytest.raises(InputError, match="more than one entry"):
        parse_registry(_GOOD_ENTRY + _GOOD_ENTRY.split("[[limit]]")[1].join(["[[limit]]", ""]), "r.toml")


def test_mass_ranges_runs():
    m = np.arange(1.0, 9.0)
    assert mass_ranges(m, [1, 1, 0, 0, 1, 0, 1, 1]) == [(1.0, 2.0), (5.0, 5.0), (7.0, 8.0)]
    assert mass_ranges(m, np.zeros(8)) == []
    assert mass_ranges(m, np.ones(8)) == [(1.0, 8.0)]
    with pytest.raises(InputError):
        mass_ranges(m, [True])


def test_alternatives_move_world_leading_verdicts_in_the_expected_direction():
    m = np.geomspace(1.0, 2000.0, 400)
    ext, names = strongest_external(m, return_names=True)
    ours = 0.8 * np.where(np.isnan(ext), 1e-6, ext)  # 20% below the strongest nominal limit everywhere
    nominal = world_leading_mass_ranges(m, ours)
    assert nominal == [(m[0], m[-1])]
    wl = world_leading_alternatives(m, ours)
    assert wl["nominal"] == nominal
    reg = load_registry()
    assert set(wl) == {"nominal"} | {a.label for _, a in reg.alternatives()}

    def covered(ranges):
        return np.zeros(m.size, bool) | np.any(
            [(m >= a) & (m <= b) for a, b in ranges] or [np.zeros(m.size, bool)], axis=0
        )

    for curve, alt in reg.alternatives():
        got = covered(wl[alt.label])
        lim = load_external_limit(curve)
        d_alt = alt.factor * np.asarray(lim.excluded_d(m))
        # independent expectation: world-leading unless the rescaled curve now lies below our edge
        expect = ~(np.isfinite(d_alt) & (d_alt <= ours))
        np.testing.assert_array_equal(got, expect, err_msg=alt.label)
        if alt.factor > 1:
            assert got.all()  # a weaker alternative never removes world-leading masses
    # the √2 of NOMAD decides the verdict wherever NOMAD is the strongest limit
    lost = ~covered(wl["NOMAD_without_sqrt2"])
    assert lost.any()
    assert lost[names == "NOMAD"].all()  # and near the NOMAD/MINERvA crossing also a little more
    # a 37% stronger MINERvA removes at least its own masses (0.8 > 1/1.37)
    assert (~covered(wl["MINERvA_other_copy_stronger"]))[names == "MINERvA"].all()
    # CHARM-II /1.6 weaker: unchanged here (already world-leading everywhere)
    assert wl["CHARM-II_muB_over_2"] == nominal


class _StubResult:
    """The part of a ScanResult that world_leading_ranges / miniboone_allowed_coverage use."""

    def __init__(self, m_MeV, d_low):
        self.masses_GeV = np.asarray(m_MeV) / 1e3
        self.masses = list(range(len(m_MeV)))
        self._rows = [
            {"m_MeV": float(mm), "d_low_GeVinv": float(d) if np.isfinite(d) else None}
            for mm, d in zip(1e3 * self.masses_GeV, d_low)
        ]
        self._d = dict(zip(1e3 * self.masses_GeV, d_low))

    def contour(self, level, which="nominal"):
        return self._rows

    def excluded_predicate(self, level, which="nominal"):
        ms = np.array(sorted(self._d))
        ds = np.array([self._d[x] for x in ms])

        def pred(m, d):
            edge = np.interp(np.log(m), np.log(ms), np.nan_to_num(ds, nan=np.inf))
            return np.asarray(d) > edge

        return pred


def test_results_world_leading_ranges_with_alternatives():
    from dipolehnl.analysis.analyses import Level
    from dipolehnl.analysis.results import miniboone_allowed_coverage, world_leading_ranges

    m = np.geomspace(100.0, 1000.0, 60)
    ext = strongest_external(m)
    d_low = np.where(m > 390.0, 0.8 * np.nan_to_num(ext, nan=1e-6), np.nan)
    res = _StubResult(m, d_low)
    lv = Level("95% CL", 0.95, None, 3.0)
    plain = world_leading_ranges(res, lv)
    assert isinstance(plain, list) and plain == world_leading_mass_ranges(m, d_low)
    alt = world_leading_ranges(res, lv, alternatives=True)
    assert alt["nominal"] == plain
    assert alt["NOMAD_without_sqrt2"] != plain
    cov = miniboone_allowed_coverage(res, lv)
    cov_alt = miniboone_allowed_coverage(res, lv, alternatives=True)
    assert cov_alt["nominal"] == cov
    assert set(cov_alt) == {"nominal"} | {a.label for _, a in load_registry().alternatives()}


# ---------------------------------------------------------------------------------------
# Geometry through matplotlib.path: same answers as an independent even-odd implementation
# ---------------------------------------------------------------------------------------
def _even_odd_reference(x, y, poly):
    """Textbook ray casting (W. R. Franklin's pnpoly), one point at a time."""
    inside = False
    k = len(poly)
    j = k - 1
    for i in range(k):
        xi, yi = poly[i]
        xj, yj = poly[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _even_odd_many(x, y, poly):
    """The same crossing rule, vectorised over the points (loop over the edges)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    inside = np.zeros(x.shape, bool)
    for i in range(len(poly)):
        (xi, yi), (xj, yj) = poly[i], poly[i - 1]
        if yi == yj:
            continue
        inside ^= ((yi > y) != (yj > y)) & (x < (xj - xi) * (y - yi) / (yj - yi) + xi)
    return inside


@pytest.mark.parametrize("name", sorted(EXCLUDED | PREFERRED))
def test_points_in_polygon_agrees_with_even_odd_reference(name):
    lim = load_external_limit(name)
    poly = np.asarray(lim.polygon_log)
    rng = np.random.default_rng(3)
    core = poly if lim.shape == "closed" else poly[:-2]
    lo, hi = core.min(axis=0), core.max(axis=0)
    pad = 0.1 * (hi - lo) + 0.05
    pts = rng.uniform(lo - pad, hi + pad, size=(3000, 2))
    got = points_in_polygon(pts[:, 0], pts[:, 1], poly)
    ref = _even_odd_many(pts[:, 0], pts[:, 1], poly)
    np.testing.assert_array_equal(got, ref)
    few = pts[:200]
    np.testing.assert_array_equal(ref[:200], [_even_odd_reference(px, py, poly) for px, py in few])


def test_fraction_excluded_agrees_with_reference_grid_count():
    regs = ["MiniBooNE_EnuQE_95CL", "MiniBooNE_EnuQE_95CL_island"]
    polys = [np.asarray(load_external_limit(r).polygon_log) for r in regs]
    n = 200
    allp = np.vstack(polys)
    (x0, y0), (x1, y1) = allp.min(axis=0), allp.max(axis=0)
    gx = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    gy = y0 + (np.arange(n) + 0.5) * (y1 - y0) / n
    X, Y = np.meshgrid(gx, gy, indexing="ij")
    X, Y = X.ravel(), Y.ravel()
    inside = np.any([_even_odd_many(X, Y, p) for p in polys], axis=0)
    ref = np.mean(Y[inside] > -6.0)  # predicate: d > 1e-6 GeV^-1
    got = fraction_excluded(regs, lambda m, d: d > 1e-6, n=n)
    assert got == ref
    _, _, cell = region_grid(regs, n=n)
    assert cell == pytest.approx((x1 - x0) * (y1 - y0) / n**2)


def test_polygon_is_simple_on_random_polygons():
    rng = np.random.default_rng(11)

    def crosses(p):
        k = len(p)
        e = [(p[i], p[(i + 1) % k]) for i in range(k)]

        def orient(a, b, c):
            return np.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))

        for i in range(k):
            for j in range(i + 2, k):
                if i == 0 and j == k - 1:
                    continue
                (a, b), (c, d) = e[i], e[j]
                if orient(a, b, c) * orient(a, b, d) < 0 and orient(c, d, a) * orient(c, d, b) < 0:
                    return True
        return False

    for _ in range(60):
        p = rng.uniform(0, 1, size=(int(rng.integers(4, 9)), 2))
        assert polygon_is_simple(p) == (not crosses(p))
    star = np.array([[np.cos(t), np.sin(t)] for t in np.linspace(0, 2 * np.pi, 6)[:-1]])
    assert polygon_is_simple(star) and not polygon_is_simple(star[[0, 2, 4, 1, 3]])


def test_exclusion_interpolation_is_scipys_bilinear_interpolation():
    """contours._bilinear (the exclusion test's interpolation, there to spare the import of
    scipy.interpolate) against RegularGridInterpolator (linear, -inf outside) on an
    irregular grid, at points inside, on the edges and outside."""
    from scipy.interpolate import RegularGridInterpolator

    from dipolehnl.analysis.contours import _bilinear

    rng = np.random.default_rng(14)
    xg, yg = np.sort(rng.uniform(0, 5, 9)), np.sort(rng.uniform(-3, 3, 13))
    z = rng.normal(size=(9, 13))
    x = np.r_[rng.uniform(-1, 6, 2000), xg[[0, -1]], xg[[0, -1]]]
    y = np.r_[rng.uniform(-4, 4, 2000), yg[[0, -1]], yg[[-1, 0]]]
    want = RegularGridInterpolator((xg, yg), z, bounds_error=False, fill_value=-np.inf)(np.c_[x, y])
    got = _bilinear(xg, yg, z, x, y)
    assert np.array_equal(np.isinf(got), np.isinf(want)) and np.isinf(want).sum() > 100
    np.testing.assert_allclose(got[np.isfinite(want)], want[np.isfinite(want)], rtol=1e-12, atol=1e-12)
