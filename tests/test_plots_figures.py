"""Figures 2-4 (vertices, decay length, constraints): files written, and one physics check each."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.path import Path as MplPath

from dipolehnl import workflows
from dipolehnl.analysis.analyses import default_channel
from dipolehnl.analysis.decay_length import (
    ANALYTIC_TARGET_PDG,
    analytic_decay_length_m,
    iso_decay_length_coupling,
    median_momentum_GeV,
)
from dipolehnl.analysis.execution import LocalExecutor
from dipolehnl.analysis.scan import ScanSettings, run_scan
from dipolehnl.analysis.summary import rate_summary
from dipolehnl.analysis.vertices import vertex_maps
from dipolehnl.errors import InputError
from dipolehnl.generate.api import simulate
from dipolehnl.physics import decays
from dipolehnl.physics.model import HNLModel
from dipolehnl.plots import constraints as fc
from dipolehnl.plots import decay_length as fd
from dipolehnl.plots import geometry as fg
from dipolehnl.plots import vertices as fv

TINY = ScanSettings(
    masses_GeV=(0.03, 0.2, 0.5), couplings_GeVinv=tuple(np.geomspace(1e-8, 1e-4, 20)), n_events=300, refine=False
)


@pytest.fixture(scope="module")
def constraint_scan():
    return run_scan("t2k2019", "default", TINY, executor=LocalExecutor(1))


@pytest.fixture(scope="module")
def sensitivity_scan():
    return run_scan("t2k+t2k2", "default", TINY, executor=LocalExecutor(1))


@pytest.fixture(scope="module")
def samples():
    return {
        (exp, m): simulate(exp, m, 3.87e-7, mode="fhc", n_events=300, seed=3)
        for exp in fv.EXPERIMENTS
        for m in (0.05, 0.6)
    }


def _check_files(paths, stem):
    assert sorted(p.name for p in paths) == [f"{stem}.pdf", f"{stem}.png"]
    png, pdf = sorted(paths, key=lambda p: p.suffix != ".png")
    assert png.stat().st_size > 5_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.stat().st_size > 5_000 and pdf.read_bytes()[:5] == b"%PDF-"
    assert not list(png.parent.glob("*.tmp"))


# ---------------------------------------------------------------- Fig. 2
def test_vertices_figure(tmp_path, samples):
    paths = workflows.vertex_figure(tmp_path, samples)
    _check_files(paths, "fig2_vertices")
    # samples at different couplings cannot be drawn together (production vertices follow their own decay length)
    other = dict(samples)
    other[("t2k-nd280", 0.05)] = simulate("t2k-nd280", 0.05, 1e-6, mode="fhc", n_events=100, seed=3)
    with pytest.raises(InputError):
        workflows.vertex_figure(tmp_path / "x", other)


def test_vertex_maps_normalisation_and_rock_share(samples):
    for smp in samples.values():
        sel = smp.weights() * default_channel().selection_factor(smp)
        vm = vertex_maps(smp, sel, fg.DEFAULT_Z_RANGE_M, fg.DEFAULT_Y_RANGE_M)
        area = np.diff(vm.z_edges)[0] * np.diff(vm.y_edges)[0]
        # every selected decay is inside a fiducial volume, inside the window: the map integrates to 1
        assert vm.decay.sum() * area == pytest.approx(1.0, rel=1e-9)
        # ... and nothing lies outside the fiducial boxes (bin centres well away from them are empty)
        zc = 0.5 * (vm.z_edges[1:] + vm.z_edges[:-1])
        yc = 0.5 * (vm.y_edges[1:] + vm.y_edges[:-1])
        Z, Y = np.meshgrid(zc, yc)
        near = np.zeros(Z.shape, dtype=bool)
        for box in smp.fiducial_shapes.values():
            lo, hi = box.lower_m, box.upper_m
            near |= (Z > lo[2] - 0.1) & (Z < hi[2] + 0.1) & (Y > lo[1] - 0.1) & (Y < hi[1] + 0.1)
        assert vm.decay[~near].sum() == 0.0
        # production inside the window + outside (rock, far away) = 1; the rock share is the exact one
        assert 0.0 <= vm.in_window <= 1.0 + 1e-12
        assert vm.rock_share == pytest.approx(
            rate_summary(smp, 1.0).data["production_share"]["rock"], rel=1e-9, abs=1e-12
        )
        assert vm.events_per_pot == pytest.approx(float(sel.sum()), rel=1e-12)

    # light HNLs come from the rock, heavy ones from the detector
    def rock(smp):
        sel = smp.weights() * default_channel().selection_factor(smp)
        return vertex_maps(smp, sel, fg.DEFAULT_Z_RANGE_M, fg.DEFAULT_Y_RANGE_M).rock_share

    assert rock(samples[("t2k-nd280", 0.05)]) > 0.9
    assert rock(samples[("t2k-nd280", 0.6)]) < 0.01


# ---------------------------------------------------------------- Fig. 3
def test_decay_length_figure(tmp_path, constraint_scan):
    _check_files(workflows.decay_length_figure(tmp_path, constraint_scan), "fig3_decay_length")


def test_decay_length_figure_blank_cells_and_one_mass(tmp_path, constraint_scan):
    import copy

    scan = copy.deepcopy(constraint_scan)
    scan.masses[1].median_decay_length_m[:5] = np.nan  # no signal: left blank
    scan.masses = scan.masses[1:2]
    _check_files(fd.plot_decay_length(scan, tmp_path, None), "fig3_decay_length")


def test_analytic_iso_line_has_its_decay_length():
    masses = np.array([0.012, 0.08, 0.3, 0.7, 1.8])
    for lam in (1.0, 1e-2, 1e3):
        d = iso_decay_length_coupling(lam, masses, "consistent")
        assert np.all(np.isfinite(d)) and np.all(d > 0)
        np.testing.assert_allclose(analytic_decay_length_m(masses, d, "consistent"), lam, rtol=1e-12)
        # the same through the physics API: (p/m) c tau with the median momentum
        p = median_momentum_GeV(masses, "consistent")
        direct = [decays.decay_length_m(HNLModel(float(m), float(di)), pi) for m, di, pi in zip(masses, d, p)]
        np.testing.assert_allclose(direct, lam, rtol=1e-10)
    # the darknews width is half the consistent one (Dirac, nu gamma dominates): twice the decay length
    d1 = iso_decay_length_coupling(1.0, masses, "consistent")
    assert np.all(analytic_decay_length_m(masses, d1, "darknews") > 1.9)


def test_median_momentum_is_the_median():
    """p~ splits φ σ_coh in half: compare with a brute-force weighted median on a fine linear grid."""
    from dipolehnl.beam.flux import load_flux
    from dipolehnl.physics import xsec

    m = 0.25
    flux = load_flux("fhc").component("numu")
    ch = xsec.channel(ANALYTIC_TARGET_PDG, "coherent")
    E = np.linspace(xsec.threshold_energy(m, ch.M_GeV), flux.max_energy_GeV, 20001)[1:]
    w = np.asarray(flux(E)) * xsec.total_xsec_cm2(ch, HNLModel(m, 1e-6), E, panels=8)
    c = np.cumsum(w) / w.sum()
    e_med = E[np.searchsorted(c, 0.5)]
    assert median_momentum_GeV(m) == pytest.approx(math.sqrt(e_med**2 - m**2), rel=2e-3)


# ---------------------------------------------------------------- Fig. 4
def _edges_by_mass(rows):
    out: dict[float, list[float]] = {}
    for r in rows:
        out.setdefault(float(r["m_MeV"]), [])
        if r["d_low_GeVinv"] is not None:
            out[float(r["m_MeV"])] += [r["d_low_GeVinv"], r["d_high_GeVinv"]]
    return out


def test_constraint_polygon_vertices_on_contour_edges(constraint_scan):
    lev = constraint_scan.analysis.levels()[0]
    rows = constraint_scan.contour(lev)
    shape = fc.scan_shape(constraint_scan, lev)
    assert shape.loops
    edges = _edges_by_mass(rows)
    masses = np.array(sorted(edges))
    n_apex = 0
    for loop in shape.loops:
        for m, d in loop:
            at = np.isclose(masses, m, rtol=1e-12)
            if at.any():
                ref = np.array(edges[float(masses[at][0])])
                assert np.isclose(ref, d, rtol=1e-9).any(), (m, d)
            else:  # notch apex between two scan masses
                n_apex += 1
                assert masses[0] < m < masses[-1]
    # the tiny scan's 200 MeV mass has two intervals (rock and detector production): one notch
    n_split = sum(1 for m in masses if len(edges[m]) > 2)
    assert n_apex == n_split
    # the filled area contains the middle of every interval and nothing in the gaps (tested just
    # beside the scan mass, where no boundary edge runs)
    polys = [MplPath(np.log(np.vstack([lp, lp[:1]]))) for lp in shape.loops]

    def inside(m, d):
        return sum(p.contains_point((math.log(m), math.log(d))) for p in polys) % 2 == 1

    for m in masses[1:-1]:
        e = edges[m]
        for lo, hi in zip(e[::2], e[1::2]):
            assert inside(m * (1 - 1e-3), math.sqrt(lo * hi)) or inside(m * (1 + 1e-3), math.sqrt(lo * hi))
        for hi, lo_next in zip(e[1::2], e[2::2]):
            g = math.sqrt(hi * lo_next)
            assert not inside(m * (1 - 1e-3), g) and not inside(m * (1 + 1e-3), g)


def test_exclusion_boundary_synthetic_split_and_hole():
    rows = []
    for m, ivs in (
        (10, [(1e-7, 1e-4)]),
        (20, [(1e-7, 1e-6), (1e-5, 1e-4)]),
        (40, [(2e-7, 1e-6), (1e-5, 1e-4)]),
        (80, [(3e-7, 1e-4)]),
        (160, []),
        (320, [(1e-6, 2e-6)]),
    ):
        if not ivs:
            rows.append({"m_MeV": m, "d_low_GeVinv": None, "d_high_GeVinv": None})
        for lo, hi in ivs:
            rows.append({"m_MeV": m, "d_low_GeVinv": lo, "d_high_GeVinv": hi})
    shape = fc.exclusion_boundary(rows, (1e-8, 1e-4))
    # one region with a hole (20-40 MeV between the two intervals): two loops; 320 MeV is isolated
    assert len(shape.loops) == 2
    assert len(shape.lines) == 1 and np.allclose(shape.lines[0][:, 0], 320)
    polys = [MplPath(np.log(np.vstack([lp, lp[:1]]))) for lp in shape.loops]

    def inside(m, d):
        return sum(p.contains_point((math.log(m), math.log(d))) for p in polys) % 2 == 1

    assert inside(30, 5e-7) and inside(30, 3e-5) and not inside(30, 3e-6)  # the hole is empty
    assert inside(15, 3e-6) and inside(60, 3e-6)  # split and merge notches close around the hole
    assert not inside(120, 1e-6) and not inside(10.5, 5e-8)
    # strokes leave out the grid edge d = 1e-4 and the first mass
    for s in shape.strokes:
        seg_top = np.isclose(s[:-1, 1], 1e-4) & np.isclose(s[1:, 1], 1e-4)
        assert not seg_top.any()


def test_constraints_figure(tmp_path, constraint_scan, sensitivity_scan):
    extra = {"paper-like overlay": (constraint_scan, {"color": "black", "linestyle": "-."})}
    paths = fc.plot_constraints(tmp_path, constraint_scan, sensitivity_scan, extra=extra)
    _check_files(paths, "fig4_constraints")
    # without external limits and sensitivity, and for a scan with a single mass
    import copy

    one = copy.deepcopy(constraint_scan)
    one.masses = one.masses[:1]
    _check_files(fc.plot_constraints(tmp_path / "b", one, show_external=False), "fig4_constraints")
