"""Modelling uncertainty of the limits (docs/physics.md, "Modelling uncertainty").

Each modelling choice of preset ``default`` is moved one at a time on a reduced grid (as the
one-difference study of ``workflows.reproduce``) and the relative change of the lower edge
of the excluded band (95% CL) of the 2019 constraint and of the T2K + T2K-II sensitivity is
recorded at the study masses:

    δ_v(m) = edge_v(m)/edge_default(m) − 1

(+∞ where the variation removes the limit at that mass: reported as "no limit", left out of
the band and listed in ``summary()['no_limit']``).

The **total band** is the quadrature sum, separately for upward and downward shifts,
of ln(1 + δ_v) over the variations v (a ±1σ pair such as the flux contributes one term on
each side; a one-sided alternative model contributes its whole shift to its side):

    band_up(m) = exp(√Σ_{δ_v>0} ln²(1 + δ_v)) − 1,   band_down(m) = 1 − exp(−√Σ_{δ_v<0} ln²(1 + δ_v)).

Alternative *models* (SIREN's box instead of the beamline, spin ½, no Pauli blocking, …)
are treated as if each were a 1σ displacement; the quadrature assumes them independent.
Between study masses the band is interpolated linearly in ln m (held beyond the ends).

Every shift of a variation with its own simulation is a difference of two reduced scans and
carries their Monte Carlo noise: σ(δ) = (1 + δ) √(σ_v² + σ_default²), with σ the relative MC
standard deviation of each lower edge (:func:`dipolehnl.analysis.results.lower_edge_mc_error`),
assuming the two scans' errors independent.  Both scans draw the same random numbers, so where
a variation hardly changes the proposals (spin ½: σ changes by ≤ 2e-4) their events nearly
coincide and σ(δ) is an upper bound.  The flux shifts and analysis-only variations (the
efficiency) reuse the default events: no σ is given.  The table shows δ ± σ(δ), and the noise
the total band inherits, √Σ_v σ(δ_v)²: a shift within about 2σ of zero is not a measured effect.

Cost: (number of variations that need a simulation) × (study masses) scans of one mass;
:func:`study_settings` (4 masses, 1500 events, no refinement): 9 scans, 1161 s wall on a
heavily shared 2-core machine (87–156 s per scan).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from dipolehnl.config import Preset, get_preset

#: masses (GeV) and Monte Carlo size of the study (kept cheap: it runs inside ``reproduce``)
STUDY_MASSES_GEV: tuple[float, ...] = (0.03, 0.1, 0.3, 0.7)
STUDY_EVENTS: int = 1500
ANALYSES: tuple[str, str] = ("t2k2019", "t2k+t2k2")


@dataclass(frozen=True)
class Variation:
    """One modelling choice moved away from preset ``default``: a preset change and/or an
    analysis change (``analysis``: Analysis → Analysis), or a flux shift of the default scan
    (``flux``: ``"flux_minus"``/``"flux_plus"``, no new simulation)."""

    label: str
    preset: Callable[[Preset], Preset] | None = None
    analysis: Callable | None = None
    flux: str | None = None


def _nuc(**kw):
    return lambda p: p.with_(nuclear=dataclasses.replace(p.nuclear, **kw))


def _efficiency_zero(a):
    return dataclasses.replace(a, selection=dataclasses.replace(a.selection, efficiency_outside="zero"))


#: the variations of the study (label → Variation)
VARIATIONS: tuple[Variation, ...] = (
    Variation("SIREN box instead of the beamline", preset=lambda p: p.with_(beamline=None)),
    Variation(
        "earth ±12 m wide (beamline)",
        preset=lambda p: p.with_(beamline={**(p.beamline or {}), "lateral_half_width_m": 12.0}),
    ),
    Variation(
        "flux fall-off: single pion energy (γ = 1/θ_OA)",
        preset=lambda p: p.with_(beamline={**(p.beamline or {}), "gamma_range": (22.9, 22.9)}),
    ),
    Variation("nucleus spin ½ (DarkNews)", preset=_nuc(nucleus_spin="half")),
    Variation("no Pauli blocking", preset=_nuc(pauli_blocking=False)),
    Variation("no neutron scattering", preset=_nuc(neutron_elastic=False)),
    Variation("form factors: symmetrised Fermi", preset=_nuc(form_factor="fermi")),
    Variation("flux −1σ", flux="flux_minus"),
    Variation("flux +1σ", flux="flux_plus"),
    Variation("efficiency zero outside its table", analysis=_efficiency_zero),
)


@dataclass
class ModellingStudy:
    """Result of :func:`run_study`: relative shifts δ (variation → analysis → (n_masses,)),
    the total band and the cost."""

    masses_GeV: np.ndarray
    edges: dict[str, np.ndarray]  # analysis → default lower edge (GeV⁻¹) at the study masses
    shifts: dict[str, dict[str, np.ndarray]]
    wall_s: float = 0.0
    n_scans: int = 0
    n_events: int = STUDY_EVENTS
    base: list | None = field(default=None, repr=False)  # the default scans (ScanResult per analysis)
    method: str = "quadrature sum of ln(1 + δ) separately for upward and downward shifts"
    timings_s: dict[str, float] = field(default_factory=dict)
    #: MC standard deviation of each shift (variation → analysis → (n_masses,)); nan: not
    #: estimated (flux shifts, which reuse the default events, or no edge)
    shift_mc_sigma: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def band(self, analysis: str) -> tuple[np.ndarray, np.ndarray]:
        """(band_down, band_up) relative (≥ 0) at the study masses (see module docstring)."""
        return total_band([s[analysis] for s in self.shifts.values()])

    def band_noise(self, analysis: str) -> np.ndarray:
        """√Σ_v σ(δ_v)² at the study masses: the MC noise the total band inherits from the
        simulated variations (relative)."""
        sig = [np.where(np.isfinite(v[analysis]), v[analysis], 0.0) for v in self.shift_mc_sigma.values()]
        return np.sqrt(np.sum(np.square(sig), axis=0)) if sig else np.zeros(len(self.masses_GeV))

    def band_at(self, analysis: str, masses_GeV) -> tuple[np.ndarray, np.ndarray]:
        """The band interpolated linearly in ln m to ``masses_GeV`` (held beyond the ends)."""
        lo, hi = self.band(analysis)
        x = np.log(self.masses_GeV)
        xm = np.log(np.asarray(masses_GeV, dtype=float))
        return np.interp(xm, x, lo), np.interp(xm, x, hi)

    def summary(self, analysis: str, masses_GeV=None) -> dict:
        """The band as summary.json carries it (relative, at the study masses and, if given,
        at ``masses_GeV``)."""
        lo, hi = self.band(analysis)
        out = {
            "method": self.method,
            "variations": list(self.shifts),
            "study_masses_MeV": [1e3 * float(m) for m in self.masses_GeV],
            "relative_down": _clean(lo),
            "relative_up": _clean(hi),
            "shifts": {k: _clean(v[analysis]) for k, v in self.shifts.items()},
            "shift_mc_sigma": {k: _clean(v[analysis]) for k, v in self.shift_mc_sigma.items()},
            "band_mc_noise": _clean(self.band_noise(analysis)),
            "no_limit": {
                k: [1e3 * float(m) for m, x in zip(self.masses_GeV, v[analysis]) if x == np.inf]
                for k, v in self.shifts.items()
                if np.any(v[analysis] == np.inf)
            },
        }
        if masses_GeV is not None:
            blo, bhi = self.band_at(analysis, masses_GeV)
            out["masses_MeV"] = [1e3 * float(m) for m in masses_GeV]
            out["relative_down_at_masses"] = _clean(blo)
            out["relative_up_at_masses"] = _clean(bhi)
        return out


def _clean(a) -> list:
    return [float(x) if np.isfinite(x) else None for x in np.asarray(a, dtype=float)]


def total_band(shifts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(down, up) ≥ 0 from relative shifts δ (list of (n,) arrays; nan entries ignored):
    quadrature of ln(1 + δ) per side (module docstring)."""
    if not shifts:
        return np.zeros(0), np.zeros(0)
    L = np.log1p(np.asarray(shifts, dtype=float))
    L = np.where(np.isfinite(L), L, 0.0)
    up = np.sqrt(np.sum(np.where(L > 0, L, 0.0) ** 2, axis=0))
    down = np.sqrt(np.sum(np.where(L < 0, L, 0.0) ** 2, axis=0))
    return 1.0 - np.exp(-down), np.expm1(up)


def _edges(result, which: str = "nominal") -> np.ndarray:
    from dipolehnl.analysis.results import lower_edge

    return lower_edge(result, result.analysis.levels()[0], which)


def _edge_sigmas(result) -> np.ndarray:
    from dipolehnl.analysis.results import lower_edge_mc_error

    return lower_edge_mc_error(result, result.analysis.levels()[0])


def study_settings(couplings_GeVinv=None, masses_GeV=STUDY_MASSES_GEV, n_events: int = STUDY_EVENTS):
    from dipolehnl.analysis.scan import DEFAULT_COUPLINGS_GEVINV, ScanSettings

    return ScanSettings(
        masses_GeV=tuple(masses_GeV),
        couplings_GeVinv=tuple(couplings_GeVinv or DEFAULT_COUPLINGS_GEVINV),
        n_events=n_events,
        refine=False,
    )


def run_study(
    settings=None,
    cache_dir=None,
    executor=None,
    progress: bool = False,
    variations: tuple[Variation, ...] = VARIATIONS,
    base: str | Preset = "default",
) -> ModellingStudy:
    """Run the study (see module docstring) on ``settings`` (default :func:`study_settings`)."""
    from dipolehnl.analysis.analyses import load_analysis
    from dipolehnl.analysis.scan import run_scans

    t0 = time.perf_counter()
    st = settings or study_settings()
    p0 = get_preset(base)
    analyses = [load_analysis(a) for a in ANALYSES]
    timings: dict[str, float] = {}

    def scan(preset, group):
        t = time.perf_counter()
        r = run_scans(group, preset, st, cache_dir=cache_dir, executor=executor, progress=progress)
        return r, time.perf_counter() - t

    base_res, timings["default"] = scan(p0, analyses)
    n_scans = 1
    edges = {a.name: _edges(r) for a, r in zip(analyses, base_res)}
    sig0 = {a.name: _edge_sigmas(r) for a, r in zip(analyses, base_res)}
    shifts: dict[str, dict[str, np.ndarray]] = {}
    sigmas: dict[str, dict[str, np.ndarray]] = {}
    for v in variations:
        if v.flux is not None:
            res = base_res
            new = {a.name: _edges(r, v.flux) for a, r in zip(analyses, res)}
        else:
            p = v.preset(p0) if v.preset is not None else p0
            grp = [v.analysis(a) for a in analyses] if v.analysis is not None else analyses
            res, timings[v.label] = scan(p, grp)
            n_scans += 1
            new = {a.name: _edges(r) for a, r in zip(analyses, res)}
        if v.preset is None:  # a flux shift or an analysis change: the default events, no independent noise
            sig = {k: np.full(len(st.masses_GeV), np.nan) for k in edges}
        else:
            sig = {
                a.name: (new[a.name] / edges[a.name]) * np.hypot(_edge_sigmas(r), sig0[a.name])
                for a, r in zip(analyses, res)
            }
        # a limit that disappears (edge → nan) is an infinite upward shift
        shifts[v.label] = {
            k: np.where(np.isfinite(edges[k]) & ~np.isfinite(new[k]), np.inf, new[k] / edges[k] - 1.0) for k in edges
        }
        sigmas[v.label] = sig
    return ModellingStudy(
        np.asarray(st.masses_GeV, dtype=float),
        edges,
        shifts,
        time.perf_counter() - t0,
        n_scans,
        int(st.n_events),
        base=list(base_res),
        timings_s=timings,
        shift_mc_sigma=sigmas,
    )


def band_curve(study: ModellingStudy, result, analysis: str | None = None):
    """(m_MeV, d_low, d_high): the lower edge of ``result`` (95% CL, GeV⁻¹) at its masses,
    scaled by (1 − band_down, 1 + band_up) interpolated from the study (for Fig. 4)."""
    name = analysis or result.analysis.name
    edge = _edges(result)
    lo, hi = study.band_at(name, result.masses_GeV)
    return 1e3 * np.asarray(result.masses_GeV, dtype=float), edge * (1.0 - lo), edge * (1.0 + hi)


def reproduce_settings(main_settings, fast: bool = False):
    """The study's grid inside ``reproduce``: :data:`STUDY_MASSES_GEV` and :data:`STUDY_EVENTS`
    (``fast``: 2 masses, 300 events) on the couplings of the main scans."""
    if fast:
        return study_settings(main_settings.couplings_GeVinv, (0.05, 0.3), 300)
    return study_settings(main_settings.couplings_GeVinv)


def _pct(x: float, sigma: float = math.nan) -> str:
    if x is not None and x == math.inf:
        return "no limit"
    if x is None or not math.isfinite(x):
        return "—"
    return f"{100 * x:+.0f}%" + (f" ± {100 * sigma:.0f}%" if sigma is not None and math.isfinite(sigma) else "")


def markdown_section(study: ModellingStudy) -> str:
    """The report's section: the shift of each variation and the total band (Markdown)."""
    ms = [f"{1e3 * m:.0f}" for m in study.masses_GeV]
    L = [
        "## Modelling uncertainty of the limits",
        "",
        "Each modelling choice of preset `default` moved one at a time (reduced grid: "
        f"{len(ms)} masses, {study.n_events} events per mass, no refinement). Entries: relative change of the "
        "lower edge of the 95% CL band (positive: weaker limit) of the 2019 constraint / the T2K + T2K-II sensitivity. "
        "Total: " + study.method + ' (alternative models counted as 1σ; docs/physics.md, "Modelling uncertainty").',
        "",
    ]
    L.append(
        "| variation | "
        + " | ".join(f"2019 @ {m} MeV" for m in ms)
        + " | "
        + " | ".join(f"T2K+T2K-II @ {m} MeV" for m in ms)
        + " |"
    )
    L.append("|" + "---|" * (1 + 2 * len(ms)))
    nan = np.full(len(ms), np.nan)
    for label, sh in study.shifts.items():
        sg = study.shift_mc_sigma.get(label, {})
        L.append(
            f"| {label} | "
            + " | ".join(_pct(x, e) for a in ANALYSES for x, e in zip(sh.get(a, nan), sg.get(a, nan)))
            + " |"
        )
    cells = []
    for a in ANALYSES:
        lo, hi = study.band(a)
        cells += [f"+{100 * h:.0f}% / −{100 * l:.0f}%" for l, h in zip(lo, hi)]
    L.append("| **total band** (up / down) | " + " | ".join(cells) + " |")
    L.append(
        "| MC noise in the total band (√Σσ²) | "
        + " | ".join(f"±{100 * x:.0f}%" for a in ANALYSES for x in study.band_noise(a))
        + " |"
    )
    L.append(
        "| default lower edge (GeV⁻¹) | "
        + " | ".join("—" if not np.isfinite(e) else f"{e:.3g}" for a in ANALYSES for e in study.edges[a])
        + " |"
    )
    L += [
        "",
        "'no limit': the variation removes the limit at that mass (not in the total band). '—': no limit in "
        "preset `default` either. ± : the Monte Carlo standard deviation of a shift, the two reduced scans' "
        "errors taken as independent (an upper bound where the variation hardly changes the events, as spin ½; "
        "the flux and efficiency rows reuse the default events: no ±). A shift within about 2σ of zero is not a "
        "measured effect, and the total band contains the MC noise of the row below it.",
        "",
        f"Cost: {study.n_scans} reduced scans, {study.wall_s:.0f} s. Fig. 4 draws the total band around the 2019 "
        "constraint; summary.json of the main scans (preset default) carries it as `modelling_band`.",
        "",
    ]
    return "\n".join(L)
