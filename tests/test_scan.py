"""Scans: contours, caching/resume, executors, outputs."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from dipolehnl.analysis.execution import LocalExecutor
from dipolehnl.analysis.results import write_scan_outputs
from dipolehnl.analysis.scan import ScanSettings, excluded_intervals, run_scan

SMALL = ScanSettings(
    masses_GeV=(0.05, 0.25), couplings_GeVinv=tuple(np.geomspace(1e-7, 1e-4, 24)), n_events=400, seed=7, refine=False
)


def test_excluded_intervals_power_laws():
    d = np.geomspace(1e-8, 1e-4, 41)
    # s = (d/1e-6)^4 up to 1e-5, then falls as (1e-5/d)^6 * 1e4: crossings at exact powers
    s = np.where(d <= 1e-5, (d / 1e-6) ** 4, 1e4 * (1e-5 / d) ** 6)
    ((lo, hi, elo, ehi),) = excluded_intervals(d, s, 3.0)
    assert lo == pytest.approx(1e-6 * 3.0**0.25, rel=1e-9)
    assert hi == pytest.approx(1e-5 * (1e4 / 3.0) ** (1 / 6), rel=1e-9)
    assert not elo and not ehi
    # two bands and an open top
    s2 = np.where(d < 1e-6, 10.0, 0.0) + np.where(d > 1e-5, 10.0, 0.0)
    ivs = excluded_intervals(d, s2, 3.0)
    assert len(ivs) == 2 and ivs[0][2] and ivs[1][3]
    assert excluded_intervals(d, np.zeros_like(d), 3.0) == []


def test_scan_cache_resume_and_invalidation(tmp_path):
    ex = LocalExecutor(1)
    a = run_scan("t2k2019", "default", SMALL, cache_dir=tmp_path, executor=ex)
    assert a.cached_masses == 0
    b = run_scan("t2k2019", "default", SMALL, cache_dir=tmp_path, executor=ex)
    assert b.cached_masses == 2
    np.testing.assert_array_equal(a.signal(), b.signal())
    c = run_scan("t2k2019", "default", ScanSettings(**{**SMALL.__dict__, "seed": 8}), cache_dir=tmp_path, executor=ex)
    assert c.cached_masses == 0  # a changed setting never reuses old results
    assert not np.array_equal(a.signal(), c.signal())
    # partially finished: drop one cached mass, re-run fills it in with identical numbers
    from dipolehnl.analysis.analyses import load_analysis
    from dipolehnl.analysis.scan import cache_key, with_preset
    from dipolehnl.config import get_preset

    p = get_preset("default")
    key = cache_key([with_preset(load_analysis("t2k2019"), p)], p, SMALL)
    files = sorted((tmp_path / key).glob("mass_*.npz"))
    assert len(files) == 2
    files[0].unlink()
    d = run_scan("t2k2019", "default", SMALL, cache_dir=tmp_path, executor=ex)
    assert d.cached_masses == 1
    np.testing.assert_array_equal(a.signal(), d.signal())


def test_process_pool_gives_identical_results():
    serial = run_scan("t2k2019", "default", SMALL, executor=LocalExecutor(1))
    pooled = run_scan("t2k2019", "default", SMALL, executor=LocalExecutor(2))
    np.testing.assert_array_equal(serial.signal(), pooled.signal())


def test_zero_background_statistic_and_outputs(tmp_path):
    res = run_scan("t2k2019", "default", SMALL, executor=LocalExecutor(1))
    level = res.analysis.levels()[0]
    assert level.threshold == pytest.approx(-math.log(0.05))
    stat = res.statistic()
    np.testing.assert_allclose(stat, res.signal().sum(axis=1))  # zero observed: Σ signal
    summary = write_scan_outputs(res, tmp_path)
    for f in (
        "expected_events.csv",
        "contour_95cl.csv",
        "contour_95cl_flux_minus.csv",
        "contour_95cl_flux_plus.csv",
        "production_shares.csv",
        "summary.json",
    ):
        assert (tmp_path / f).stat().st_size > 0
    rows = list(csv.DictReader(open(tmp_path / "contour_95cl.csv")))
    assert list(rows[0])[:3] == ["m_MeV", "d_low_GeVinv", "d_high_GeVinv"]
    ev = list(csv.DictReader(open(tmp_path / "expected_events.csv")))
    assert len(ev) == 2 * 24
    # the contour's lower edge sits where the tabulated total signal crosses -ln 0.05
    for row in rows:
        if row["d_low_GeVinv"] and row["low_at_grid_edge"] == "False":
            m = float(row["m_MeV"])
            pts = [
                (float(r["d_GeVinv"]), float(r["signal_total"])) for r in ev if float(r["m_MeV"]) == pytest.approx(m)
            ]
            below = max(p for p in pts if p[0] < float(row["d_low_GeVinv"]))
            above = min(p for p in pts if p[0] > float(row["d_low_GeVinv"]))
            assert below[1] < 3.0 <= above[1] * (1 + 1e-6)
    s = json.load(open(tmp_path / "summary.json"))
    for key in ("analysis", "wall_time_s", "world_leading_MeV", "miniboone_fraction_excluded", "settings"):
        assert key in s
    assert summary["analysis"] == "t2k2019"
