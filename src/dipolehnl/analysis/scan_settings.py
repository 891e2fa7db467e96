"""Scan settings: the (m_N, d) grid, Monte Carlo sizes and refinement targets, and the
picklable task of one mass (analyses travel as JSON, so workers never depend on paths)."""

from __future__ import annotations

import dataclasses
import json
import zlib
from dataclasses import dataclass

import numpy as np

from dipolehnl.analysis.analyses import Analysis
from dipolehnl.config import Preset
from dipolehnl.errors import InputError

DEFAULT_MASSES_GEV = tuple(np.geomspace(0.01, 2.0, 60))
DEFAULT_COUPLINGS_GEVINV = tuple(np.geomspace(1e-8, 1e-4, 200))
#: events per mass and detector before the adaptive refinement (which adds, per detector, what
#: every analysis with data sets there needs to reach REFINE_TARGET; with the refinement sized
#: by the Neyman prediction a small start is cheapest: 4000 instead of 10000 gives the same
#: precision with 32% less CPU time for the 2019 scan and 39% for the paper preset's pair)
DEFAULT_EVENTS = 4000
SHARE_STRIDE = 20  # production shares are computed at every SHARE_STRIDE-th coupling
#: ... where a detector's expected signal is within SHARE_WINDOW events: the share coupling
#: nearest to any lower edge (≈ 3 events) is (the outputs give the shares there); a detector
#: with less than 1e-3 events there changes the shares by less than 1e-3
SHARE_WINDOW = (1e-3, 1e4)
#: adaptive refinement: add events until the relative MC error of each data-set group's
#: expected signal is below REFINE_TARGET wherever that signal is within REFINE_WINDOW events
REFINE_TARGET = 0.019
REFINE_WINDOW = (1.0, 100.0)
#: a refinement round adds the fewest events (Neyman allocation onto the strata below it,
#: ``generate.stratified.neyman_refinement``) that bring the worst error to REFINE_AIM ×
#: REFINE_TARGET: the margin absorbs the noise of the error estimate, so that one round
#: usually suffices instead of a second small one
REFINE_AIM = 0.95
#: couplings evaluated exactly (scan_worker): a coarse pass at every COARSE_STRIDE-th coupling
#: (and the last) finds where some analysis's expected signal from a detector lies within
#: EXACT_WINDOW events; every EXACT_STRIDE-th coupling of those coarse intervals, and of one
#: more interval on each side, is evaluated exactly.  The other couplings are interpolated
#: in ln(value) against the coupling index (the grid is geometric): a cubic spline through
#: each run of positive exact values (error < 1e-4 relative within the window at stride 2,
#: measured on scans; tests/test_scan_speed.py), log-linearly next to zeros or undefined values.
COARSE_STRIDE = 10
#: with a beamline (preset ``default``), each (channel, fiducial volume) stratum of a scan's
#: sample is split into this many sectors of the HNL azimuth φ about the beam axis
#: (``GeneratorSettings.azimuth_sectors``): HNLs made in the rock reach the detector along
#: directions whose backward rays cross more or less of the beam (the beamline flux falls off
#: sideways), and the allocation then follows them.  Four sectors: 9–13% less CPU time per scan
#: at the same precision.  Without a beamline (SIREN's box, uniform flux: preset ``paper``)
#: the sectors gain nothing and cost 14% (more, smaller strata): one sector.  Without the
#: refinement (the reduced grids of the studies, 1500 events for 4 × 129 strata) the pilot's
#: minimum of 4 events per stratum would take the whole sample: one sector.
AZIMUTH_SECTORS = 4
EXACT_STRIDE = 2
EXACT_WINDOW = (0.1, 1000.0)


@dataclass(frozen=True)
class ScanSettings:
    """Grid and Monte Carlo settings of a scan (masses in GeV, couplings in GeV⁻¹)."""

    masses_GeV: tuple[float, ...] = DEFAULT_MASSES_GEV
    couplings_GeVinv: tuple[float, ...] = DEFAULT_COUPLINGS_GEVINV
    n_events: int = DEFAULT_EVENTS
    seed: int = 2412
    majorana: bool = False
    refine: bool = True
    coupling_flavor: str = "mu"  # the flavour α of the scanned coupling d_α ("e", "mu", "tau")

    def __post_init__(self) -> None:
        for name, vals in (("mass", self.masses_GeV), ("coupling", self.couplings_GeVinv)):
            arr = np.asarray(vals, dtype=float)
            if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
                raise InputError(f"{name} grid must be a non-empty list of positive finite numbers")
        if np.any(np.diff(self.couplings_GeVinv) <= 0):
            raise InputError("couplings must be strictly increasing")
        if self.coupling_flavor not in ("e", "mu", "tau"):
            raise InputError(f"unknown coupling flavour {self.coupling_flavor!r}; choose one of e, mu, tau")
        if int(self.n_events) < 100:
            raise InputError(f"a scan needs at least 100 events per mass, got {self.n_events}")

    def mass_seed(self, mass_GeV: float) -> int:
        """Seed of one mass: depends only on the scan seed and the mass (not on the grid)."""
        return zlib.crc32(f"{self.seed}:{mass_GeV:.12e}".encode())


@dataclass(frozen=True)
class MassTask:
    """Everything a worker needs for one mass (picklable).  Several analyses share the
    simulation of every detector they have in common."""

    analysis_docs: tuple[str, ...]  # the analyses as JSON (so that workers never depend on paths)
    preset: Preset
    settings: ScanSettings
    mass_GeV: float


def _analysis_to_json(a: Analysis) -> str:
    return json.dumps(dataclasses.asdict(a), sort_keys=True, default=str)


def _analysis_from_json(text: str) -> Analysis:
    from dipolehnl.analysis.analyses import DataSet, SelectionConfig

    d = json.loads(text)
    d["selection"] = SelectionConfig(**d["selection"])
    d["datasets"] = tuple(DataSet(**{**x, "fiducial_volumes": tuple(x["fiducial_volumes"])}) for x in d["datasets"])
    d["cl"], d["sigma"] = tuple(d["cl"]), tuple(d["sigma"])
    return Analysis(**d)


def with_preset(analysis: Analysis, preset: Preset) -> Analysis:
    """The analysis with the preset's statistical choices (Asimov statistic)."""
    return dataclasses.replace(analysis, asimov_q=preset.asimov_q)
