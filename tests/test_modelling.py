"""Modelling-uncertainty study (analysis/modelling.py): the total band against its closed
form, interpolation, the report section, summary.json and Fig. 4 with the band."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dipolehnl.analysis import modelling
from dipolehnl.analysis.execution import LocalExecutor
from dipolehnl.analysis.results import lower_edge, write_scan_outputs
from dipolehnl.analysis.scan import ScanSettings
from dipolehnl.plots import constraints as fc


def test_total_band_is_the_quadrature_of_log_shifts_per_side():
    shifts = [np.array([0.10, -0.20, np.nan]), np.array([-0.05, 0.30, 0.0]), np.array([0.20, 0.0, 0.0])]
    down, up = modelling.total_band(shifts)
    up0 = math.expm1(math.sqrt(math.log(1.1) ** 2 + math.log(1.2) ** 2))
    down0 = 1 - math.exp(-abs(math.log(0.95)))
    assert up[0] == pytest.approx(up0, rel=1e-12) and down[0] == pytest.approx(down0, rel=1e-12)
    assert up[1] == pytest.approx(0.3, rel=1e-12) and down[1] == pytest.approx(0.2, rel=1e-12)
    assert up[2] == 0.0 and down[2] == 0.0  # nan (no edge) ignored


def _study():
    return modelling.ModellingStudy(
        masses_GeV=np.array([0.03, 0.3]),
        edges={"t2k2019": np.array([1e-6, 2e-7]), "t2k+t2k2": np.array([5e-7, np.nan])},
        shifts={
            "a": {"t2k2019": np.array([0.1, -0.1]), "t2k+t2k2": np.array([0.2, np.nan])},
            "b": {"t2k2019": np.array([-0.3, 0.0]), "t2k+t2k2": np.array([0.0, np.nan])},
        },
        wall_s=12.0,
        n_scans=3,
        n_events=300,
    )


def test_band_interpolates_in_log_mass_and_holds_at_the_ends():
    s = _study()
    lo, hi = s.band_at("t2k2019", [0.01, 0.03, math.sqrt(0.03 * 0.3), 1.0])
    lo0, hi0 = s.band("t2k2019")
    np.testing.assert_allclose(lo, [lo0[0], lo0[0], 0.5 * (lo0[0] + lo0[1]), lo0[1]])
    np.testing.assert_allclose(hi, [hi0[0], hi0[0], 0.5 * (hi0[0] + hi0[1]), hi0[1]])
    doc = s.summary("t2k2019", [0.03, 0.3])
    assert json.loads(json.dumps(doc))["relative_up"] == pytest.approx([0.1, 0.0])
    assert doc["variations"] == ["a", "b"]


def test_markdown_section_lists_every_variation_and_the_band():
    md = modelling.markdown_section(_study())
    assert md.startswith("## Modelling uncertainty")
    assert "| a | +10% | -10% | +20% | — |" in md.replace("−", "-")
    assert "**total band**" in md and "+10% / −30%" in md


@pytest.fixture(scope="module")
def small_study():
    st = ScanSettings(
        masses_GeV=(0.2, 0.5), couplings_GeVinv=tuple(np.geomspace(1e-8, 1e-4, 30)), n_events=300, refine=False
    )
    var = tuple(v for v in modelling.VARIATIONS if v.flux or v.analysis)
    return modelling.run_study(st, executor=LocalExecutor(1), variations=var)


def test_study_flux_rows_are_the_flux_contours_and_summary_and_figure_carry_the_band(small_study, tmp_path):
    s = small_study
    assert set(s.shifts) == {"flux −1σ", "flux +1σ", "efficiency zero outside its table"} and s.n_scans == 2
    # a lower flux can only weaken the limit, a higher one strengthen it
    ok = np.isfinite(s.shifts["flux −1σ"]["t2k2019"])
    assert ok.any()
    assert np.all(s.shifts["flux −1σ"]["t2k2019"][ok] >= 0) and np.all(s.shifts["flux +1σ"]["t2k2019"][ok] <= 0)
    # zero efficiency outside 150–475 MeV can only weaken it
    e = s.shifts["efficiency zero outside its table"]["t2k2019"]
    assert np.all(e[np.isfinite(e)] >= -1e-12)
    res = s.base[0]
    assert res.analysis.name == "t2k2019"
    summ = write_scan_outputs(res, tmp_path / "scan", modelling_band=s.summary("t2k2019", res.masses_GeV))
    on_disk = json.loads((tmp_path / "scan" / "summary.json").read_text())
    assert on_disk["modelling_band"]["variations"] == list(s.shifts) and "modelling_band" in summ
    m, lo, hi = modelling.band_curve(s, res)
    edge = lower_edge(res, res.analysis.levels()[0])
    fin = np.isfinite(edge)
    assert np.all(lo[fin] <= edge[fin]) and np.all(hi[fin] >= edge[fin])
    paths = fc.plot_constraints(tmp_path / "fig", res, modelling_band=(m, lo, hi), show_external=False)
    assert all(p.stat().st_size > 0 for p in paths)


def test_a_variation_that_removes_the_limit_is_reported_and_left_out_of_the_band():
    s = _study()
    s.shifts["c"] = {"t2k2019": np.array([np.inf, 0.0]), "t2k+t2k2": np.array([0.0, np.nan])}
    md = modelling.markdown_section(s)
    assert "| c | no limit | +0% |" in md
    np.testing.assert_allclose(s.band("t2k2019")[1], _study().band("t2k2019")[1])
    assert s.summary("t2k2019")["no_limit"] == {"c": [30.0]}


def test_lower_edge_mc_error_is_the_relative_error_over_the_log_slope():
    """Signal A d^n with relative MC error ε at every coupling: the lower edge moves by
    σ(ln d) = ε/n, for the 2019 constraint (S) and the T2K + T2K-II sensitivity (q(S))."""
    from dipolehnl.analysis.analyses import load_analysis
    from dipolehnl.analysis.contours import MassResult, ScanResult
    from dipolehnl.analysis.results import lower_edge_mc_error
    from dipolehnl.config import get_preset

    d = np.geomspace(1e-8, 1e-4, 60)
    for name in ("t2k2019", "t2k+t2k2"):
        an = load_analysis(name)
        rows = []
        for m, n, eps in ((0.1, 4.0, 0.02), (0.3, 2.0, 0.05)):
            s_tot = 3.0 * (d / 1e-6) ** n
            per_ds = np.outer(np.full(len(an.datasets), 1.0 / len(an.datasets)), s_tot)
            rows.append(
                MassResult(m, per_ds, per_ds, per_ds, eps * s_tot, d, d[:1], ("rock",), np.ones((1, 1)), 300, 0.0)
            )
        st = ScanSettings(masses_GeV=(0.1, 0.3), couplings_GeVinv=tuple(d), n_events=300, refine=False)
        sig = lower_edge_mc_error(ScanResult(an, get_preset("default"), st, rows), an.levels()[0])
        np.testing.assert_allclose(sig, [0.02 / 4.0, 0.05 / 2.0], rtol=1e-9)


def test_study_gives_the_mc_sigma_of_simulated_shifts_and_the_noise_of_the_band(small_study):
    s = small_study
    # the flux and the efficiency variation reuse the default events: no independent noise
    assert np.all(np.isnan(s.shift_mc_sigma["flux −1σ"]["t2k2019"]))
    assert np.all(np.isnan(s.shift_mc_sigma["efficiency zero outside its table"]["t2k2019"]))
    assert np.all(s.band_noise("t2k2019") == 0.0)
    summ = s.summary("t2k2019")
    assert summ["band_mc_noise"] == [0.0, 0.0] and "shift_mc_sigma" in summ


@pytest.fixture(scope="module")
def pauli_study():
    d = tuple(np.geomspace(1e-8, 1e-4, 60))
    st = ScanSettings(masses_GeV=(0.1,), couplings_GeVinv=d, n_events=300, refine=False)
    var = tuple(v for v in modelling.VARIATIONS if v.label == "no Pauli blocking")
    return modelling.run_study(st, executor=LocalExecutor(1), variations=var)


def test_a_simulated_variation_carries_the_mc_sigma_of_both_edges(pauli_study):
    from dipolehnl.analysis.results import lower_edge_mc_error

    s = pauli_study
    (label,) = s.shifts
    sig = s.shift_mc_sigma[label]["t2k2019"]
    s0 = lower_edge_mc_error(s.base[0], s.base[0].analysis.levels()[0])
    assert np.isfinite(sig).all() and np.all(sig > s0)  # the default's own error and the variation's
    np.testing.assert_allclose(s.band_noise("t2k2019"), sig, rtol=1e-12)
    assert " ± " in modelling.markdown_section(s)
