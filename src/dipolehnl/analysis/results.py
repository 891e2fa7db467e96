"""Scan results → files (CSV, JSON) and headline numbers.

Files written by :func:`write_scan_outputs` into ``DIR``:

``expected_events.csv``
    m_MeV, d_GeVinv, the expected signal of every data set, the total, its relative MC
    error, the test statistic, and the median lab-frame decay length of the signal (the
    last two empty where the expected signal is zero).
``contour_95cl.csv`` (and ``contour_5sigma.csv`` for sensitivities)
    m_MeV, d_low_GeVinv, d_high_GeVinv: one row per excluded interval of d at each mass
    (a mass with several disjoint intervals has several rows; empty edges where nothing is
    excluded), plus flags telling whether an edge is the end of the coupling grid.
``contour_*_flux_minus.csv``, ``contour_*_flux_plus.csv``
    the same with the signal scaled by (1 ∓ / ± fractional flux error of each event's E_ν).
``production_shares.csv``
    per mass, the share of the signal produced in each region (rock, each sub-system) at
    the lower edge of the first contour.
``summary.json``
    analysis, preset, settings, wall time, world-leading mass range(s), MiniBooNE
    coverage, MC precision, file names, and ``manifest`` (run id, settings hash, SHA-256 of
    every other file of the set).

The set is written atomically (``dipolehnl.io.atomic_output_set``): whenever
``summary.json`` exists, the files it lists belong to its run.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Literal, overload

import numpy as np

from dipolehnl import __version__
from dipolehnl.analysis.analyses import Level
from dipolehnl.analysis.limits import (
    fraction_excluded,
    load_registry,
    region_grid,
    strongest_external,
    world_leading_alternatives,
    world_leading_mass_ranges,
)
from dipolehnl.analysis.scan import REFINE_TARGET, ScanResult

MINIBOONE_REGIONS = {
    "energy_fit_95CL": ["MiniBooNE_EnuQE_95CL", "MiniBooNE_EnuQE_95CL_island"],
    "angle_fit_95CL": ["MiniBooNE_CosTheta_95CL"],
}


def level_slug(level: Level) -> str:
    """File-name tag of a level: ``95cl``, ``5sigma``."""
    return f"{level.sigma:g}sigma" if level.sigma is not None else f"{100 * level.cl:g}cl"


def _csv_text(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else (f"{v:.6g}" if isinstance(v, float) else v) for v in r])
    return buf.getvalue()


def lower_edge(result: ScanResult, level: Level, which: str = "nominal") -> np.ndarray:
    """Lowest excluded coupling at every mass (nan where nothing is excluded)."""
    out = np.full(len(result.masses), np.nan)
    by_mass: dict[float, list[float]] = {}
    for row in result.contour(level, which):
        if row["d_low_GeVinv"] is not None:
            by_mass.setdefault(row["m_MeV"], []).append(row["d_low_GeVinv"])
    for i, m in enumerate(1e3 * result.masses_GeV):
        if m in by_mass:
            out[i] = min(by_mass[m])
    return out


def lower_edge_mc_error(result: ScanResult, level: Level, which: str = "nominal") -> np.ndarray:
    """Relative Monte Carlo standard deviation of :func:`lower_edge` at every mass (nan where
    nothing is excluded or the edge is the grid's first coupling).

    A relative error ε of the signal S moves the crossing of the threshold by
    σ(ln d_low) = ε / |d ln S/d ln d| (the same for any test statistic that is a function of S:
    its own slope and error carry the same factor d ln q/d ln S).  ε and the slope are taken
    between the two grid couplings around the edge."""
    out = np.full(len(result.masses), np.nan)
    edges = lower_edge(result, level, which)
    d = result.couplings
    for i, (mr, e) in enumerate(zip(result.masses, edges)):
        if not np.isfinite(e):
            continue
        k = int(np.searchsorted(d, e))
        if k < 1 or k >= d.size:
            continue
        S = mr.signal.sum(axis=0)
        if S[k - 1] <= 0 or S[k] <= 0 or S[k] == S[k - 1]:
            continue
        eps = 0.5 * (mr.mc_error[k - 1] / S[k - 1] + mr.mc_error[k] / S[k])
        slope = abs(math.log(S[k] / S[k - 1]) / math.log(d[k] / d[k - 1]))
        out[i] = eps / slope
    return out


@overload
def world_leading_ranges(
    result: ScanResult, level: Level, alternatives: Literal[False] = False
) -> list[tuple[float, float]]: ...


@overload
def world_leading_ranges(
    result: ScanResult, level: Level, alternatives: Literal[True]
) -> dict[str, list[tuple[float, float]]]: ...


def world_leading_ranges(
    result: ScanResult, level: Level, alternatives: bool = False
) -> list[tuple[float, float]] | dict[str, list[tuple[float, float]]]:
    """Mass ranges (MeV, at the grid's resolution) where this result excludes couplings below
    every bundled external limit drawn in the paper's Fig. 4, the limits in our convention
    (see docs/limits.md).

    With ``alternatives=True``: a dict with the ranges for the nominal curves (``'nominal'``)
    and, for each ambiguous curve of the registry, with that curve replaced by each of its
    alternatives (key: the alternative's label, e.g. ``'NOMAD_without_sqrt2'``).
    """
    m = 1e3 * result.masses_GeV
    ours = lower_edge(result, level)
    if alternatives:
        return world_leading_alternatives(m, ours)
    return world_leading_mass_ranges(m, ours)


def miniboone_coverage(result: ScanResult, level: Level, which: str = "nominal") -> dict[str, float]:
    """Fraction (of the log-area) of the MiniBooNE 95% CL preferred regions excluded at ``level``."""
    pred = result.excluded_predicate(level, which)
    return {k: float(fraction_excluded(v, pred, n=200)) for k, v in MINIBOONE_REGIONS.items()}


# --- cached grid of the allowed part (report: the ambiguity section evaluates every alternative)
@lru_cache(maxsize=64)
def _allowed_grid(region_key: str, alternative: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid points of a MiniBooNE region (those of :func:`fraction_excluded`, n = 200) and
    whether the bundled external limits (``alternative`` reading) leave each one allowed."""
    m, d, _ = region_grid(MINIBOONE_REGIONS[region_key], 200)
    ext = np.asarray(strongest_external(m, alternative=alternative), dtype=float)
    return m, d, np.isnan(ext) | (d < ext)


def _allowed_coverage(pred, alternative: str | None) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for k in MINIBOONE_REGIONS:
        m, d, allowed = _allowed_grid(k, alternative)
        f_allowed = float(np.mean(allowed)) if m.size else 0.0
        both = float(np.mean(allowed & np.asarray(pred(m, d), dtype=bool))) if m.size else 0.0
        out[k] = float(both / f_allowed) if f_allowed > 0 else None
    return out


# --- end cached grid


def miniboone_allowed_coverage(
    result: ScanResult, level: Level, alternatives: bool = False
) -> dict[str, float | None] | dict[str, dict[str, float | None]]:
    """Fraction of the part of each MiniBooNE 95% CL region that the bundled external limits
    (drawn in the paper's Fig. 4, in our convention) leave allowed, which this result excludes
    at ``level``.  With ``alternatives=True``: ``{'nominal': {...}, label: {...}, ...}`` with each
    ambiguous-curve alternative of the registry in turn."""
    pred = result.excluded_predicate(level)
    if not alternatives:
        return _allowed_coverage(pred, None)
    out = {"nominal": _allowed_coverage(pred, None)}
    for _, alt in load_registry().alternatives():
        out[alt.label] = _allowed_coverage(pred, alt.label)
    return out


def expected_events_rows(result: ScanResult) -> tuple[list[str], list[list]]:
    names = [ds.name for ds in result.analysis.datasets]
    sig = result.signal()
    stat = result.statistic()
    header = (
        ["m_MeV", "d_GeVinv"]
        + [f"signal_{n}" for n in names]
        + ["signal_total", "rel_mc_error", "test_statistic", "median_decay_length_m"]
    )
    rows: list[list[float | None]] = []
    for i, r in enumerate(result.masses):
        tot = sig[i].sum(axis=0)
        rel = np.divide(r.mc_error, tot, out=np.full_like(tot, np.nan), where=tot > 0)
        for k, d in enumerate(result.couplings):
            med = float(r.median_decay_length_m[k])
            row: list[float | None] = [1e3 * r.mass_GeV, float(d)]
            row += [float(sig[i, j, k]) for j in range(len(names))]
            row += [
                float(tot[k]),
                float(rel[k]) if tot[k] > 0 else None,  # empty: undefined without signal
                float(stat[i, k]),
                med if tot[k] > 0 and math.isfinite(med) else None,
            ]
            rows.append(row)
    return header, rows


def max_rel_mc_error(result: ScanResult, window: tuple[float, float] = (1.0, 100.0)) -> float:
    """Largest relative MC error of the total signal over grid points with signal in ``window``."""
    worst = 0.0
    for r in result.masses:
        tot = r.signal.sum(axis=0)
        k = (tot > window[0]) & (tot < window[1])
        if k.any():
            worst = max(worst, float(np.max(r.mc_error[k] / tot[k])))
    return worst


def production_share_rows(result: ScanResult, level: Level) -> tuple[list[str], list[list]]:
    names = sorted({n for r in result.masses for n in r.share_names})
    edge = lower_edge(result, level)
    rows: list[list[float | None]] = []
    for i, r in enumerate(result.masses):
        if not np.isfinite(edge[i]):
            rows.append([1e3 * r.mass_GeV, None, *([None] * len(names))])
            continue
        k = int(np.argmin(np.abs(np.log(r.share_couplings / edge[i]))))
        share = dict(zip(r.share_names, r.shares[k]))
        rows.append([1e3 * r.mass_GeV, float(edge[i]), *(float(share.get(n, 0.0)) for n in names)])
    return ["m_MeV", "d_GeVinv"] + [f"share_{n}" for n in names], rows


def summarize(result: ScanResult) -> dict:
    """Headline numbers of a scan (the content of summary.json)."""
    levels = result.analysis.levels()
    main = levels[0]
    ranges = world_leading_ranges(result, main)
    widest = max(ranges, key=lambda r: r[1] / r[0]) if ranges else None
    summary = {
        "analysis": result.analysis.name,
        "description": result.analysis.description,
        "preset": asdict(result.preset),
        "dipolehnl_version": __version__,
        "settings": {
            "n_masses": len(result.masses),
            "mass_range_MeV": [1e3 * min(result.masses_GeV), 1e3 * max(result.masses_GeV)],
            "n_couplings": int(result.couplings.size),
            "coupling_range_GeVinv": [float(result.couplings[0]), float(result.couplings[-1])],
            "n_events_per_mass": result.settings.n_events,
            "seed": result.settings.seed,
            "majorana": result.settings.majorana,
            "statistic": result.analysis.statistic,
            "asimov_q": result.analysis.asimov_q,
            "datasets": [asdict(ds) for ds in result.analysis.datasets],
        },
        "levels": [{"label": lv.label, "cl": lv.cl, "sigma": lv.sigma, "threshold": lv.threshold} for lv in levels],
        "wall_time_s": result.wall_time_s,
        "masses_from_cache": result.cached_masses,
        "events_generated": int(sum(r.n_events for r in result.masses)),
        "world_leading_MeV": list(widest) if widest else None,
        "world_leading_ranges_MeV": [list(r) for r in ranges],
        "world_leading_note": "masses (grid points) where the lower edge of the excluded band is below every "
        "bundled external limit drawn in the paper's Fig. 4",
        "miniboone_fraction_excluded": {lv.label: miniboone_coverage(result, lv) for lv in levels},
        "miniboone_fraction_of_externally_allowed_part_excluded": {
            lv.label: miniboone_allowed_coverage(result, lv) for lv in levels
        },
        "miniboone_fraction_excluded_flux_band": {
            which: miniboone_coverage(result, main, which) for which in ("flux_minus", "flux_plus")
        },
        "max_rel_mc_error_where_signal_1_to_100": max_rel_mc_error(result),
        "mc_error_target": REFINE_TARGET,
    }
    return summary


def write_scan_outputs(result: ScanResult, out_dir: str | Path, modelling_band: dict | None = None) -> dict:
    """Write every output file as one atomic set (``dipolehnl.io.atomic_output_set``:
    staged, then committed together with ``summary.json`` last) and return the summary.
    ``modelling_band``: the modelling-uncertainty band of this analysis
    (``analysis.modelling``), stored in summary.json."""
    from dipolehnl.analysis.scan_cache import cache_key
    from dipolehnl.io import atomic_output_set

    out = Path(out_dir)
    files = []
    with atomic_output_set(out, settings_hash=cache_key([result.analysis], result.preset, result.settings)) as outset:
        header, rows = expected_events_rows(result)
        outset.write_text("expected_events.csv", _csv_text(header, rows))
        files.append("expected_events.csv")
        cols = ["m_MeV", "d_low_GeVinv", "d_high_GeVinv", "low_at_grid_edge", "high_at_grid_edge"]
        for lv in result.analysis.levels():
            for which, suffix in (("nominal", ""), ("flux_minus", "_flux_minus"), ("flux_plus", "_flux_plus")):
                name = f"contour_{level_slug(lv)}{suffix}.csv"
                rows = [[r[c] for c in cols] for r in result.contour(lv, which)]
                outset.write_text(name, _csv_text(cols, rows))
                files.append(name)
        header, rows = production_share_rows(result, result.analysis.levels()[0])
        outset.write_text("production_shares.csv", _csv_text(header, rows))
        files.append("production_shares.csv")
        summary = summarize(result)
        # --- modelling-uncertainty band (analysis/modelling.py) ---
        if modelling_band is not None:
            summary["modelling_band"] = modelling_band
        # --- end modelling-uncertainty band ---
        summary["files"] = files + ["summary.json"]
        summary = outset.write_manifest(_jsonable(summary))
    return summary


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
