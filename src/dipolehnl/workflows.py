"""End-to-end workflows: ``reproduce`` (all analyses, validation, figures, report) and the
pieces the CLI exposes separately (``figures``, ``kaon-validation``).

Everything is written below one output directory; scans are cached in ``DIR/.cache`` so
that re-running (or running ``figures`` after ``reproduce``) reuses finished masses.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import platform
import time
from dataclasses import dataclass
from pathlib import Path
import numpy as np

from dipolehnl import __version__
from dipolehnl.config import single_differences
from dipolehnl.analysis.results import (lower_edge, miniboone_allowed_coverage, miniboone_coverage,
                                        world_leading_ranges, write_scan_outputs)
from dipolehnl.analysis.scan import DEFAULT_COUPLINGS_GEVINV, ScanResult, ScanSettings, run_scans
from dipolehnl.io import write_text_atomic

log = logging.getLogger(__name__)

#: masses (MeV) of the report's limit table
TABLE_MASSES_MEV = (20, 50, 100, 150, 200, 300, 400, 500, 600, 743, 1000, 1500)
#: the paper's headline claims (arXiv:2412.15051, abstract and Sec. V)
PAPER_CLAIMS = {
    "t2k2019": {"world_leading_MeV": (390.0, 743.0), "miniboone": "disfavoured at 95% CL"},
    "t2k+t2k2": {"world_leading_MeV": (148.0, 860.0), "miniboone": "excluded at 5 sigma"},
}


@dataclass(frozen=True)
class ReproduceSettings:
    """Grids and sizes of a ``reproduce`` run (``fast`` is for tests and quick looks)."""

    main: ScanSettings
    study: ScanSettings  # reduced grid for the one-difference-at-a-time study
    vertex_events: int = 20000
    electron: ScanSettings | None = None  # the d_eN scans (coupling to nu_e), a new result

    @classmethod
    def full(cls) -> "ReproduceSettings":
        return cls(ScanSettings(), ScanSettings(masses_GeV=tuple(np.geomspace(0.03, 1.2, 8)),
                                                couplings_GeVinv=DEFAULT_COUPLINGS_GEVINV, n_events=5000, refine=False),
                   electron=ScanSettings(masses_GeV=tuple(np.geomspace(0.01, 2.0, 30)), n_events=6000, refine=False,
                                         coupling_flavor="e"))

    @classmethod
    def fast(cls) -> "ReproduceSettings":
        c = tuple(np.geomspace(1e-8, 1e-4, 60))
        return cls(ScanSettings(masses_GeV=tuple(np.geomspace(0.02, 1.5, 8)), couplings_GeVinv=c, n_events=1500,
                                refine=False),
                   ScanSettings(masses_GeV=tuple(np.geomspace(0.05, 1.0, 4)), couplings_GeVinv=c, n_events=1000,
                                refine=False),
                   vertex_events=3000,
                   electron=ScanSettings(masses_GeV=tuple(np.geomspace(0.02, 1.5, 6)), couplings_GeVinv=c,
                                         n_events=1000, refine=False, coupling_flavor="e"))


def edge_at(result: ScanResult, m_MeV: float, level=None) -> float:
    """Lower edge of the excluded band at ``m_MeV`` (log–log interpolation between grid
    masses where both have one; nan otherwise)."""
    level = level or result.analysis.levels()[0]
    m = 1e3 * result.masses_GeV
    e = lower_edge(result, level)
    if m_MeV < m[0] or m_MeV > m[-1]:
        return float("nan")
    j = int(np.searchsorted(m, m_MeV))
    if j < m.size and math.isclose(m[j], m_MeV, rel_tol=1e-9):
        return float(e[j])
    i = j - 1
    if not (np.isfinite(e[i]) and np.isfinite(e[j])):
        return float("nan")
    t = (math.log(m_MeV) - math.log(m[i])) / (math.log(m[j]) - math.log(m[i]))
    return float(math.exp((1 - t) * math.log(e[i]) + t * math.log(e[j])))


def _fmt(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return f"{x:.{digits}g}"


def _ranges(r: list[list[float]] | list[tuple[float, float]]) -> str:
    return ", ".join(f"{a:.0f} MeV" if math.isclose(a, b) else f"{a:.0f}–{b:.0f} MeV" for a, b in r) if r else "none"


# ---------------------------------------------------------------- pieces
#: analyses scanned together (one simulation per mass and detector) for each preset
MAIN_SCANS = {"default": ("t2k2019", "t2k-full", "t2k+t2k2"), "paper": ("t2k2019", "t2k+t2k2")}
#: analyses scanned for the coupling to nu_e (d_eN; preset default): not in the paper
ELECTRON_SCANS = ("t2k2019", "t2k+t2k2")


def main_scans(cfg: "ReproduceSettings", cache: Path, executor=None, progress: bool = False,
               timings: dict | None = None) -> dict[str, dict[str, ScanResult]]:
    """The scans of :data:`MAIN_SCANS` (preset → analysis → result), cached under ``cache``:
    ``reproduce`` and ``figures`` share them."""
    out = {}
    for preset, names in MAIN_SCANS.items():
        t = time.perf_counter()
        out[preset] = dict(zip(names, run_scans(list(names), preset, cfg.main, cache_dir=cache, executor=executor,
                                                progress=progress)))
        if timings is not None:
            timings[f"scans, preset {preset}"] = time.perf_counter() - t
    return out


def kaon_outputs(out_dir: Path, figures_dir: Path | None = None) -> dict:
    """The kaon-decay validation: CSV (in ``out_dir``), figure (in ``figures_dir``, default
    ``out_dir/figures``), and its ratios to the bundled AFH2022 curves."""
    from dipolehnl.analysis.kaon import compare_with_reference, kaon_validation, write_kaon_validation_csv
    from dipolehnl.plots.kaon import plot_kaon_validation

    res = kaon_validation()
    files = [str(p) for p in write_kaon_validation_csv(res, out_dir)]
    dn = kaon_validation(convention="darknews")
    files += [str(p) for p in plot_kaon_validation(res, figures_dir or out_dir / "figures", extra_results=(dn,))]
    masses = (30.0, 50.0, 100.0, 150.0, 200.0, 230.0, 250.0)
    ratios = {k: [float(x) for x in np.asarray(v).ravel()] for k, v in compare_with_reference(res, masses).items()}
    ratios_dn = {k: [float(x) for x in np.asarray(v).ravel()] for k, v in compare_with_reference(dn, masses).items()}
    return {"files": files, "masses_MeV": list(masses), "ratio_to_AFH2022": ratios, "ratio_to_AFH2022_darknews": ratios_dn}


#: Fig. 2: HNL masses (GeV) and coupling (GeV^-1) of the vertex maps (the paper's).
VERTEX_MASSES_GEV = (0.05, 0.25, 0.6)
VERTEX_COUPLING_GEVINV = 3.87e-7


def vertex_samples(masses_GeV=VERTEX_MASSES_GEV, coupling_GeVinv: float = VERTEX_COUPLING_GEVINV,
                   preset: str = "default", n_events: int = 20000, seed: int = 1) -> dict:
    """Event samples of Fig. 2: (detector, mass) → sample, FHC, the preset's flavours."""
    from dipolehnl.generate.api import simulate
    from dipolehnl.plots.vertices import EXPERIMENTS

    return {(exp, float(m)): simulate(exp, float(m), coupling_GeVinv, mode="fhc", n_events=n_events, seed=seed,
                                      preset=preset)
            for exp in EXPERIMENTS for m in masses_GeV}


def vertex_figure(out_dir: Path, samples: dict, preset: str = "default") -> list:
    """Fig. 2 from event samples ((experiment, mass GeV) → sample, all at one coupling): the
    e⁺e⁻ channel's selected weights, vertex maps, and the FHC exposures of the analysis
    files (ND280: ``t2k2019``; upgrade: ``t2k+t2k2``, all FHC POT of the programme)."""
    from dipolehnl.analysis.analyses import default_channel, load_analysis
    from dipolehnl.analysis.vertices import vertex_maps
    from dipolehnl.errors import InputError
    from dipolehnl.plots.geometry import DEFAULT_Y_RANGE_M, DEFAULT_Z_RANGE_M
    from dipolehnl.plots.vertices import plot_vertices

    channel = default_channel(preset)
    couplings = {float(s.model.d_GeVinv) for s in samples.values()}
    if len(couplings) != 1:  # production vertices follow each sample's own decay length: no reweighting
        raise InputError(f"vertex samples must share one coupling, got {sorted(couplings)}")
    maps = {key: vertex_maps(s, s.weights() * channel.selection_factor(s), DEFAULT_Z_RANGE_M, DEFAULT_Y_RANGE_M)
            for key, s in samples.items()}
    detectors = {det: s.detector for (det, _), s in samples.items()}
    pot = {"t2k-nd280": load_analysis("t2k2019").total_pot("fhc", "t2k-nd280"),
           "t2k-nd280-upgrade": load_analysis("t2k+t2k2").total_pot("fhc")}
    fvs = {exp: s.fiducial_shapes for (exp, _), s in samples.items()}
    return plot_vertices(out_dir, maps, detectors, couplings.pop(), pot, fvs)


def decay_length_figure(out_dir: Path, scan: ScanResult) -> list:
    """Fig. 3 with the analytic iso-lines in the convention of the scan's preset."""
    from dipolehnl.analysis.decay_length import iso_lines
    from dipolehnl.plots.decay_length import ISO_LENGTHS_M, iso_line_masses_GeV, plot_decay_length

    m = iso_line_masses_GeV(scan.masses_GeV)
    return plot_decay_length(scan, out_dir, (m, iso_lines(ISO_LENGTHS_M, m, scan.preset.convention)))


def make_figures(out_dir: Path, constraint: ScanResult, sensitivity: ScanResult | None,
                 paper: ScanResult | None = None, vertex_events: int = 20000,
                 electron: dict[str, ScanResult] | None = None, modelling_band=None) -> list[str]:
    """Figures 1–4 (PNG and PDF) into ``out_dir``; ``electron``: the d_eN scans
    (analysis → result), drawn as extra curves in Fig. 4; ``modelling_band``: (m_MeV, d_low,
    d_high) of the constraint's modelling-uncertainty band (``analysis.modelling.band_curve``)."""
    from dipolehnl.plots.constraints import plot_constraints
    from dipolehnl.plots.geometry import plot_geometry

    files = []
    files += plot_geometry(out_dir)
    files += vertex_figure(out_dir, vertex_samples(n_events=vertex_events))
    files += decay_length_figure(out_dir, constraint)
    extra = {"2019, paper preset": (paper, {"color": "0.2", "linestyle": "-.", "linewidth": 1.0})} if paper is not None else {}
    if electron:
        if "t2k2019" in electron:
            extra[r"2019, coupling to $\nu_e$ ($d_{eN}$)"] = (electron["t2k2019"],
                                                          {"color": "#7b3294", "linestyle": "-", "linewidth": 1.1})
        if "t2k+t2k2" in electron:
            extra[r"T2K+T2K-II 95% CL, $d_{eN}$"] = (electron["t2k+t2k2"],
                                                   {"color": "#7b3294", "linestyle": "--", "linewidth": 1.1})
    files += plot_constraints(out_dir, constraint, sensitivity, extra=extra or None, modelling_band=modelling_band)
    return [str(f) for f in files]


# ---------------------------------------------------------------- reproduce
def reproduce(out_dir: str | Path, fast: bool = False, executor=None, progress: bool = False) -> dict:
    """Run the three analyses (presets ``default`` and ``paper``), the one-difference study,
    the kaon validation and all figures; write ``report.md`` and ``report.html``."""
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cache = out / ".cache"
    cfg = ReproduceSettings.fast() if fast else ReproduceSettings.full()
    timings: dict[str, float] = {}

    def timed(label, fn, *a, **k):
        t = time.perf_counter()
        r = fn(*a, **k)
        timings[label] = time.perf_counter() - t
        return r

    scans = main_scans(cfg, cache, executor, progress, timings)
    default, paper = scans["default"], scans["paper"]
    electron: dict[str, ScanResult] = {}
    if cfg.electron is not None:
        electron = dict(zip(ELECTRON_SCANS, timed("scans, d_eN (preset default)", run_scans, list(ELECTRON_SCANS),
                                                  "default", cfg.electron, cache_dir=cache, executor=executor,
                                                  progress=progress)))
    # --- modelling uncertainty (analysis/modelling.py): study, band in summary.json and Fig. 4 ---
    from dipolehnl.analysis import modelling

    mstudy = timed("modelling-uncertainty study", modelling.run_study, modelling.reproduce_settings(cfg.main, fast),
                   cache_dir=cache, executor=executor, progress=progress)
    mbands = {name: mstudy.summary(name, res.masses_GeV) for name, res in default.items() if name in mstudy.edges}
    # --- end modelling uncertainty ---
    summaries = {}
    for preset, group in (("default", default), ("paper", paper)):
        for name, res in group.items():
            summaries[(name, preset)] = write_scan_outputs(res, out / "scans" / f"{name}_{preset}",
                                                           modelling_band=mbands.get(name) if preset == "default" else None)
    for name, res in electron.items():
        summaries[(name, "default, d_eN")] = write_scan_outputs(res, out / "scans" / f"{name}_default_dE")

    # one difference at a time (reduced grid), for the constraint and the sensitivity
    def study():
        rows = {}
        base = run_scans(["t2k2019", "t2k+t2k2"], "default", cfg.study, cache_dir=cache, executor=executor, progress=progress)
        rows["default"] = base
        for label, p in single_differences().items():
            if label.startswith("asimov"):
                rows[label] = [base[0], dataclasses.replace(base[1], analysis=dataclasses.replace(base[1].analysis, asimov_q=p.asimov_q))]
                continue
            rows[label] = run_scans(["t2k2019", "t2k+t2k2"], p, cfg.study, cache_dir=cache, executor=executor, progress=progress)
        rows["paper (all)"] = run_scans(["t2k2019", "t2k+t2k2"], "paper", cfg.study, cache_dir=cache, executor=executor,
                                        progress=progress)
        return rows

    diffs = timed("one-difference study", study)
    kaon = timed("kaon validation", kaon_outputs, out)
    timed("figures", make_figures, out / "figures", default["t2k2019"], default["t2k+t2k2"], paper["t2k2019"],
                 cfg.vertex_events, electron, modelling.band_curve(mstudy, default["t2k2019"]))
    wall = time.perf_counter() - t0
    report = _report(default, paper, summaries, diffs, kaon, cfg, timings, wall, fast, electron)
    report += "\n" + modelling.markdown_section(mstudy)  # modelling-uncertainty section (analysis/modelling.py)
    write_text_atomic(out / "report.md", report)
    from dipolehnl.markdown import to_html

    write_text_atomic(out / "report.html", to_html(report, "dipolehnl: ND280 constraints on dipole-portal HNLs"))
    return {"wall_time_s": wall, "timings_s": timings, "out": str(out)}


# ---------------------------------------------------------------- report
def _headline(res: ScanResult) -> dict:
    s = {}
    for lv in res.analysis.levels():
        s[lv.label] = {
            "ranges": world_leading_ranges(res, lv),
            "mb": miniboone_coverage(res, lv),
            "mb_allowed": miniboone_allowed_coverage(res, lv),
        }
    return s


def _report(default, paper, summaries, diffs, kaon, cfg, timings, wall, fast, electron=None) -> str:
    L: list[str] = []
    add = L.append
    add("# Dipole-portal HNLs at T2K ND280 and its upgrade: constraints and sensitivities")
    add("")
    add(f"Generated by `dipolehnl reproduce` (version {__version__}){' with --fast (coarse grids: not for physics)' if fast else ''}. "
        "Coupling convention L ⊃ d ν̄_μ σ_{αβ}F^{αβ} N + h.c. (d in GeV⁻¹; DarkNews's mu_tr_mu4 = 2d). "
        "Preset `default` is our best physics (convention `consistent`, all ν_μ and ν̄_μ flux components, physical TPC gas "
        "density 0.001855 g/cm³, exclusion-type Asimov statistic); preset `paper` reproduces the paper's choices "
        "(convention `darknews`, the paper-code BR(ee), FHC ν_μ + RHC ν̄_μ, gas density 1.855 g/cm³ in every TPC, the "
        "Asimov formula as printed). Decay weights are exact in both (see Methods).")
    add("")
    add("## Headline numbers")
    add("")
    add("| analysis | preset | level | world-leading (ours) | paper's claim | MiniBooNE energy-fit 95% region excluded | angle-fit region excluded | of the part other experiments allow: energy / angle |")
    add("|---|---|---|---|---|---|---|---|")
    for (name, preset), group in ((("t2k2019", "default"), default), (("t2k+t2k2", "default"), default),
                                  (("t2k2019", "paper"), paper), (("t2k+t2k2", "paper"), paper)):
        res = group[name]
        claim = PAPER_CLAIMS.get(name, {})
        for lv, h in _headline(res).items():
            cl = claim.get("world_leading_MeV")
            add(f"| {name} | {preset} | {lv} | {_ranges(h['ranges'])} | "
                f"{'%.0f–%.0f MeV' % cl if cl and lv == '95% CL' else ''} | {h['mb']['energy_fit_95CL']:.0%} | "
                f"{h['mb']['angle_fit_95CL']:.0%} | {_fmt(h['mb_allowed']['energy_fit_95CL'], 2)} / "
                f"{_fmt(h['mb_allowed']['angle_fit_95CL'], 2)} |")
    add("")
    add("The paper's claims: " + "; ".join(f"{k}: world-leading {v['world_leading_MeV'][0]:.0f}–{v['world_leading_MeV'][1]:.0f} MeV, "
                                          f"MiniBooNE solution {v['miniboone']}" for k, v in PAPER_CLAIMS.items()) + ". "
        "'World-leading' means: the lower edge of our excluded band lies below every bundled external limit drawn in the "
        "paper's Fig. 4, at the grid masses. The MiniBooNE columns give the fraction of each preferred region's area (in "
        "log m, log d) that we exclude, and that fraction for the part of the region not already excluded by the bundled "
        "limits.")
    add("")
    _verdicts(add, default, paper)
    add("## Limit at selected masses")
    add("")
    add("Lower edge of the excluded band (95% CL, GeV⁻¹), interpolated log–log between grid masses; '—': nothing excluded "
        "there (or outside the grid).")
    add("")
    groups = [("default", default), ("paper", paper)] + ([("default, d_eN", electron)] if electron else [])
    hdr = "| m_N (MeV) | " + " | ".join(f"{n} ({p})" for p, g in groups for n in g) + " |"
    add(hdr)
    add("|" + "---|" * (1 + sum(len(g) for _, g in groups)))
    for m in TABLE_MASSES_MEV:
        cells = [_fmt(edge_at(g[n], m)) for _, g in groups for n in g]
        add(f"| {m} | " + " | ".join(cells) + " |")
    add("")
    if electron:
        _electron(add, default, electron)
    _production(add, default["t2k2019"], paper["t2k2019"])
    _differences(add, diffs)
    _kaon(add, kaon)
    add("## Figures")
    add("")
    for stem, caption in (("fig1_geometry", "Detector models (side view, x = 0): ND280 (top) and its upgrade (bottom), coloured by material, with the TPC fiducial volumes."),
                          ("fig2_vertices", "Upscattering and decay vertices of selected signal at d = 3.87×10⁻⁷ GeV⁻¹ for three masses (preset default)."),
                          ("fig3_decay_length", "Median lab-frame decay length of the selected signal (2019 analysis, preset default); dashed: analytic estimate from the width and the flux."),
                          ("fig4_constraints", "Our 2019 constraint (filled, with the flux-uncertainty band), the T2K + T2K-II 95% CL sensitivity (dashed) and 5σ (dotted), the 2019 constraint with the paper's choices, the bundled external limits and the MiniBooNE preferred regions."),
                          ("figS1_kaon_validation", "Kaon-decay validation: |U_μN|² limits (90% CL) against the curves of Ref. [41].")):
        add(f"![{stem}](figures/{stem}.png)")
        add("")
        add(f"*{caption}*")
        add("")
    _methods(add)
    add("## Settings and timing")
    add("")
    st = cfg.main
    add(f"- main grid: {len(st.masses_GeV)} masses ({1e3 * st.masses_GeV[0]:.0f}–{1e3 * st.masses_GeV[-1]:.0f} MeV, log-spaced) × "
        f"{len(st.couplings_GeVinv)} couplings ({st.couplings_GeVinv[0]:.0e}–{st.couplings_GeVinv[-1]:.0e} GeV⁻¹); "
        f"{st.n_events} events per mass and detector, refined adaptively to < 2% MC error where 1–100 events are expected; seed {st.seed}")
    add(f"- one-difference study: {len(cfg.study.masses_GeV)} masses")
    for k, v in timings.items():
        add(f"- {k}: {v:.1f} s")
    add(f"- total wall time: {wall:.1f} s on {platform.machine()} ({platform.python_implementation()} {platform.python_version()})")
    add("- largest relative MC error of the expected signal where it is 1–100 events (the 2019 constraint drives "
        "the adaptive refinement; the others ride on the same samples): "
        + ", ".join(f"{n} [{p}] {s['max_rel_mc_error_where_signal_1_to_100']:.1%}" for (n, p), s in summaries.items()))
    add("- per-analysis outputs: `scans/<analysis>_<preset>/` (expected_events.csv, contour_*.csv, production_shares.csv, summary.json)")
    add("")
    return "\n".join(L) + "\n"


def _electron(add, default, electron) -> None:
    """The new result: the 2019 constraint and the T2K + T2K-II sensitivity on d_eN."""
    add("### New: the coupling to ν_e (d_eN)")
    add("")
    st = next(iter(electron.values())).settings
    rows = []
    for name, res in electron.items():
        lv = res.analysis.levels()[0]
        e = lower_edge(res, lv)
        mu = lower_edge(default[name], lv) if name in default else None
        ok = np.isfinite(e)
        best = int(np.nanargmin(np.where(ok, e, np.nan))) if ok.any() else None
        if best is None:
            rows.append(f"- {name} ({lv.label}): nothing excluded on the grid.")
            continue
        m_best = 1e3 * res.masses_GeV[best]
        ratio = ""
        if mu is not None:
            m_e, m_mu = 1e3 * res.masses_GeV, 1e3 * default[name].masses_GeV
            mu_at = np.exp(np.interp(np.log(m_e), np.log(m_mu), np.log(np.where(np.isfinite(mu), mu, np.nan))))
            r = e / mu_at
            r = r[np.isfinite(r)]
            if r.size:
                ratio = f"; d_eN / d_μN reach at equal mass: median {np.median(r):.2g} (range {r.min():.2g}–{r.max():.2g})"
        rows.append(f"- {name} ({lv.label}): excluded from {1e3 * res.masses_GeV[ok][0]:.0f} to "
                    f"{1e3 * res.masses_GeV[ok][-1]:.0f} MeV; strongest at m_N = {m_best:.0f} MeV, d_eN > "
                    f"{e[best]:.3g} GeV⁻¹{ratio}.")
    add("Not in the paper: the same analyses for an HNL coupled only to ν_e, with the ν_e and ν̄_e columns of the "
        f"T2K flux tables (preset default, {len(st.masses_GeV)} masses, {st.n_events} events per mass and detector). "
        "The d_eN columns of the table above are its lower edges; Fig. 4 draws both curves in purple.")
    add("")
    for r in rows:
        add(r)
    add("")


def _verdicts(add, default, paper) -> None:
    d19 = _headline(default["t2k2019"])["95% CL"]
    dsens = _headline(default["t2k+t2k2"])
    add("### Verdicts")
    add("")
    allowed = d19["mb_allowed"]
    add(f"- **ND280 2019 data with physical gas density (preset default)**: world-leading {_ranges(d19['ranges'])}; "
        f"excluded share of the MiniBooNE energy-fit (angle-fit) 95% region that other experiments still allow: "
        f"{_fmt(allowed['energy_fit_95CL'], 2)} ({_fmt(allowed['angle_fit_95CL'], 2)}). "
        + ("The 2019 data therefore do **not** disfavour the MiniBooNE dipole solution when the TPC gas has its physical density."
           if (allowed['energy_fit_95CL'] or 0) < 0.5 else "The 2019 data disfavour most of the allowed MiniBooNE region."))
    for lv, h in dsens.items():
        add(f"- **T2K + T2K-II sensitivity, {lv} (default)**: world-leading {_ranges(h['ranges'])}; MiniBooNE energy-fit "
            f"(angle-fit) region: {h['mb']['energy_fit_95CL']:.0%} ({h['mb']['angle_fit_95CL']:.0%}) covered; of the part still "
            f"allowed: {_fmt(h['mb_allowed']['energy_fit_95CL'], 2)} ({_fmt(h['mb_allowed']['angle_fit_95CL'], 2)}).")
    p19 = _headline(paper["t2k2019"])["95% CL"]
    add(f"- **With the paper's choices (preset paper)** the 2019 constraint is world-leading for {_ranges(p19['ranges'])} "
        f"(paper: 390–743 MeV) and covers {_fmt(p19['mb_allowed']['energy_fit_95CL'], 2)} "
        f"({_fmt(p19['mb_allowed']['angle_fit_95CL'], 2)}) of the still-allowed energy-fit (angle-fit) region. Remaining "
        "differences to the paper at high mass come from the decay weights: SIREN's weights exceed the exact survival × decay "
        "probability by factors that grow as the HNL gets short-lived (5.5× at 250 MeV to 40× at 500 MeV for the reference "
        "set-up), which is exactly where the paper's second 'bump' lies; our weights are exact (tested against closed forms).")
    add("")


def _production(add, res_default: ScanResult, res_paper: ScanResult) -> None:
    add("## Where the signal comes from")
    add("")
    add("Share of the selected 2019 signal produced in each region, at the lower edge of the excluded band (exact, from the "
        "decay integrals along each HNL's path).")
    add("")
    for label, res in (("default", res_default), ("paper", res_paper)):
        lv = res.analysis.levels()[0]
        edge = lower_edge(res, lv)
        names = sorted({n for r in res.masses for n in r.share_names})
        add(f"**preset {label}**")
        add("")
        add("| m_N (MeV) | d (GeV⁻¹) | " + " | ".join(names) + " |")
        add("|" + "---|" * (2 + len(names)))
        for i, r in enumerate(res.masses):
            if not np.isfinite(edge[i]) or (i % max(1, len(res.masses) // 12) and i != len(res.masses) - 1):
                continue
            k = int(np.argmin(np.abs(np.log(r.share_couplings / edge[i]))))
            sh = dict(zip(r.share_names, r.shares[k]))
            add(f"| {1e3 * r.mass_GeV:.0f} | {edge[i]:.3g} | " + " | ".join(f"{sh.get(n, 0):.0%}" for n in names) + " |")
        add("")
        turn = None
        for i, r in enumerate(res.masses):
            if np.isfinite(edge[i]):
                k = int(np.argmin(np.abs(np.log(r.share_couplings / edge[i]))))
                sh = dict(zip(r.share_names, r.shares[k]))
                if sh.get("rock", 0) < 0.5:
                    turn = 1e3 * r.mass_GeV
                    break
        add(f"Rock production dominates the lower edge of the band at low mass; the first grid mass where the detector "
            f"dominates is {'%.0f MeV' % turn if turn else 'beyond the excluded range'} (preset {label}; the paper: "
            f"turnover near 200 MeV, detector-dominated above ~300 MeV).")
        add("")


def _differences(add, diffs) -> None:
    add("## How each of the paper's choices moves the result")
    add("")
    add("One difference at a time on top of preset `default` (reduced mass grid). Entries: lower edge of the 95% CL band "
        "(GeV⁻¹) for the 2019 constraint, and the T2K + T2K-II 95% CL sensitivity; the world-leading ranges on this grid.")
    add("")
    masses = diffs["default"][0].masses_GeV * 1e3
    pick = [m for m in masses][:: max(1, len(masses) // 6)]
    add("| variant | " + " | ".join(f"2019 @ {m:.0f} MeV" for m in pick) + " | 2019 world-leading | T2K+T2K-II world-leading |")
    add("|" + "---|" * (3 + len(pick)))
    for label, (c19, sens) in diffs.items():
        lv = c19.analysis.levels()[0]
        cells = [_fmt(edge_at(c19, m, lv)) for m in pick]
        add(f"| {label} | " + " | ".join(cells) + f" | {_ranges(world_leading_ranges(c19, lv))} | "
            f"{_ranges(world_leading_ranges(sens, sens.analysis.levels()[0]))} |")
    add("")
    add("The gas-density rows quantify the density defect for both detectors: with 1.855 g/cm³ the TPC gas becomes a "
        "dominant target above ~300 MeV, with the physical density it is negligible except at the largest couplings "
        "(where HNLs made in the gas decay at once).")
    add("")


def _kaon(add, kaon) -> None:
    add("## Validation: HNLs from kaon decays (supplemental Fig. 1)")
    add("")
    r = kaon["ratio_to_AFH2022"]
    rd = kaon["ratio_to_AFH2022_darknews"]
    masses = kaon["masses_MeV"]
    keys = list(r)
    add("Ratio of our |U_μN|² limit (90% CL, μ_tr = 10⁻⁶ GeV⁻¹, decays × BR(ee) × efficiency in the TPC fiducial "
        "volumes) to the bundled curves of Ref. [41]:")
    add("")
    if masses:
        add("| m_N (MeV) | " + " | ".join(f"{k} (consistent)" for k in keys) + " | " + " | ".join(f"{k} (darknews)" for k in keys) + " |")
        add("|" + "---|" * (1 + 2 * len(keys)))
        for i, m in enumerate(masses):
            add(f"| {m:.0f} | " + " | ".join(_fmt(r[k][i], 2) for k in keys) + " | " + " | ".join(_fmt(rd[k][i], 2) for k in keys) + " |")
        add("")
    add("With the consistent widths (Γ_γ = d²m³/4π, d = μ_tr/2, as Ref. [41]'s code) the ratio is flat (≈1.7) up to "
        "~150 MeV; the DarkNews widths do not reproduce Ref. [41] anywhere. Above ~150 MeV our limit is stronger because "
        "we spread the kaon decays over the 96 m decay volume (Ref. [41]: one 280 m baseline), which matters once the "
        "decay length is short; in Ref. [41]'s own set-up the ratio stays at 1.5–1.7 up to 265 MeV. The T2K + T2K-II "
        "projection of Ref. [41] scales the 2019 curve by √(POT ratio) with three TPCs; ours counts the expected events "
        "in all five TPCs, hence the lower ratio. Details: docs/kaon_validation.md.")
    add("")


def _methods(add) -> None:
    add("## Methods in brief, and why results differ from the paper")
    add("")
    add("- **Exact decay weights.** For a decay point x in a fiducial volume and HNL direction u, the rate density is "
        "∫ds n(x − s u) e^{−s/λ}/λ = Σ_segments n (e^{−a/λ} − e^{−b/λ}) over the material along the backward ray (all "
        "300 m of rock included). This contains survival to and decay inside the volume exactly; it is tested against "
        "closed forms and a direct integration in a slab geometry. SIREN (as used by the paper) attaches no proper vertex "
        "weight to the decay, which overestimates short-lived signal.")
    add("- **TPC gas density.** The paper's geometry files put 1.855 g/cm³ (1000× the physical 0.001855 g/cm³) in the "
        "TPC gas; preset `default` uses the physical value.")
    add("- **Widths.** DarkNews's widths are 2× (γ) and 4× (ee, Dirac) below those of the production Lagrangian; "
        "preset `default` uses the consistent ones (shorter decay lengths, larger BR(ee)).")
    add("- **Production.** `consistent` adds the helicity-conserving part (up to tens of % near threshold); both beam modes "
        "use both ν_μ and ν̄_μ components.")
    add("- **Production in the TPC gas at large coupling.** Where the band reaches the top of the grid, nearly all of the "
        "signal is made in the TPC gas itself and decays within millimetres (rate ∝ d²). These events are counted like any "
        "other e⁺e⁻ pair in the fiducial volume; whether T2K's selection accepts a pair with an invisible nuclear recoil "
        "at its vertex is not modelled beyond the efficiency table.")
    add("- **Statistics.** 2019: zero events observed, background ignored, exclusion where the expected signal exceeds "
        "−ln 0.05 = 3.00. T2K + T2K-II: Asimov data = background, q = 2[s − b ln(1 + s/b)] summed over data sets "
        "(`default`), or the printed 2[(s + b) ln(1 + s/b) − s] (`paper`); 95% CL one-sided (q = 2.71) and 5σ (q = 25).")
    add("")
