"""End-to-end workflows: ``reproduce`` (all analyses, validation, figures, report) and the
pieces the CLI exposes separately (``figures``, ``kaon-validation``).

Everything is written below one output directory; scans are cached in ``DIR/.cache`` so
that re-running (or running ``figures`` after ``reproduce``) reuses finished masses.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dipolehnl.analysis.results import write_scan_outputs
from dipolehnl.analysis.scan import DEFAULT_COUPLINGS_GEVINV, ScanResult, ScanSettings, run_scans
from dipolehnl.config import single_differences
from dipolehnl.io import write_text_atomic
from dipolehnl.report.claims import PAPER_CLAIMS  # noqa: F401  (re-exported)
from dipolehnl.report.context import TABLE_MASSES_MEV, edge_at  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReproduceSettings:
    """Grids and sizes of a ``reproduce`` run (``fast`` is for tests and quick looks)."""

    main: ScanSettings
    study: ScanSettings  # reduced grid for the one-difference-at-a-time study
    vertex_events: int = 20000
    electron: ScanSettings | None = None  # the d_eN scans (coupling to nu_e), a new result

    @classmethod
    def full(cls) -> ReproduceSettings:
        return cls(
            ScanSettings(),
            ScanSettings(
                masses_GeV=tuple(np.geomspace(0.03, 1.2, 8)),
                couplings_GeVinv=DEFAULT_COUPLINGS_GEVINV,
                n_events=5000,
                refine=False,
            ),
            electron=ScanSettings(
                masses_GeV=tuple(np.geomspace(0.01, 2.0, 30)), n_events=6000, refine=False, coupling_flavor="e"
            ),
        )

    @classmethod
    def fast(cls) -> ReproduceSettings:
        c = tuple(np.geomspace(1e-8, 1e-4, 60))
        return cls(
            ScanSettings(masses_GeV=tuple(np.geomspace(0.02, 1.5, 8)), couplings_GeVinv=c, n_events=1500, refine=False),
            ScanSettings(masses_GeV=tuple(np.geomspace(0.05, 1.0, 4)), couplings_GeVinv=c, n_events=1000, refine=False),
            vertex_events=3000,
            electron=ScanSettings(
                masses_GeV=tuple(np.geomspace(0.02, 1.5, 6)),
                couplings_GeVinv=c,
                n_events=1000,
                refine=False,
                coupling_flavor="e",
            ),
        )


# ---------------------------------------------------------------- pieces
#: analyses scanned together (one simulation per mass and detector) for each preset
MAIN_SCANS = {"default": ("t2k2019", "t2k-full", "t2k+t2k2"), "paper": ("t2k2019", "t2k+t2k2")}
#: analyses scanned for the coupling to nu_e (d_eN; preset default): not in the paper
ELECTRON_SCANS = ("t2k2019", "t2k+t2k2")


def main_scans(
    cfg: ReproduceSettings, cache: Path, executor=None, progress: bool = False, timings: dict | None = None
) -> dict[str, dict[str, ScanResult]]:
    """The scans of :data:`MAIN_SCANS` (preset → analysis → result), cached under ``cache``:
    ``reproduce`` and ``figures`` share them."""
    out = {}
    for preset, names in MAIN_SCANS.items():
        t = time.perf_counter()
        out[preset] = dict(
            zip(names, run_scans(list(names), preset, cfg.main, cache_dir=cache, executor=executor, progress=progress))
        )
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
    return {
        "files": files,
        "masses_MeV": list(masses),
        "ratio_to_AFH2022": ratios,
        "ratio_to_AFH2022_darknews": ratios_dn,
        "settings": res.settings,
    }


#: Fig. 2: HNL masses (GeV) and coupling (GeV^-1) of the vertex maps (the paper's).
VERTEX_MASSES_GEV = (0.05, 0.25, 0.6)
VERTEX_COUPLING_GEVINV = 3.87e-7


def vertex_samples(
    masses_GeV=VERTEX_MASSES_GEV,
    coupling_GeVinv: float = VERTEX_COUPLING_GEVINV,
    preset: str = "default",
    n_events: int = 20000,
    seed: int = 1,
) -> dict:
    """Event samples of Fig. 2: (detector, mass) → sample, FHC, the preset's flavours."""
    from dipolehnl.generate.api import simulate
    from dipolehnl.plots.vertices import EXPERIMENTS

    return {
        (exp, float(m)): simulate(
            exp, float(m), coupling_GeVinv, mode="fhc", n_events=n_events, seed=seed, preset=preset
        )
        for exp in EXPERIMENTS
        for m in masses_GeV
    }


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
    maps = {
        key: vertex_maps(s, s.weights() * channel.selection_factor(s), DEFAULT_Z_RANGE_M, DEFAULT_Y_RANGE_M)
        for key, s in samples.items()
    }
    detectors = {det: s.detector for (det, _), s in samples.items()}
    pot = {
        "t2k-nd280": load_analysis("t2k2019").total_pot("fhc", "t2k-nd280"),
        "t2k-nd280-upgrade": load_analysis("t2k+t2k2").total_pot("fhc"),
    }
    fvs = {exp: s.fiducial_shapes for (exp, _), s in samples.items()}
    return plot_vertices(out_dir, maps, detectors, couplings.pop(), pot, fvs)


def decay_length_figure(out_dir: Path, scan: ScanResult) -> list:
    """Fig. 3 with the analytic iso-lines in the convention of the scan's preset."""
    from dipolehnl.analysis.decay_length import iso_lines
    from dipolehnl.plots.decay_length import ISO_LENGTHS_M, iso_line_masses_GeV, plot_decay_length

    m = iso_line_masses_GeV(scan.masses_GeV)
    return plot_decay_length(scan, out_dir, (m, iso_lines(ISO_LENGTHS_M, m, scan.preset.convention)))


def make_figures(
    out_dir: Path,
    constraint: ScanResult,
    sensitivity: ScanResult | None,
    paper: ScanResult | None = None,
    vertex_events: int = 20000,
    electron: dict[str, ScanResult] | None = None,
    miniboone_regions: dict | None = None,
    modelling_band=None,
) -> list[str]:
    """Figures 1–4 (PNG and PDF) into ``out_dir``; ``electron``: the d_eN scans
    (analysis → result), drawn as extra curves in Fig. 4; ``modelling_band``: (m_MeV, d_low,
    d_high) of the constraint's modelling-uncertainty band (``analysis.modelling.band_curve``)."""
    from dipolehnl.plots.constraints import plot_constraints
    from dipolehnl.plots.geometry import plot_geometry

    files = []
    files += plot_geometry(out_dir)
    files += vertex_figure(out_dir, vertex_samples(n_events=vertex_events))
    files += decay_length_figure(out_dir, constraint)
    extra = (
        {"2019, paper preset": (paper, {"color": "0.2", "linestyle": "-.", "linewidth": 1.0})}
        if paper is not None
        else {}
    )
    if electron:
        if "t2k2019" in electron:
            extra[r"2019, coupling to $\nu_e$ ($d_{eN}$)"] = (
                electron["t2k2019"],
                {"color": "#7b3294", "linestyle": "-", "linewidth": 1.1},
            )
        if "t2k+t2k2" in electron:
            extra[r"T2K+T2K-II 95% CL, $d_{eN}$"] = (
                electron["t2k+t2k2"],
                {"color": "#7b3294", "linestyle": "--", "linewidth": 1.1},
            )
    files += plot_constraints(
        out_dir,
        constraint,
        sensitivity,
        extra=extra or None,
        miniboone_regions=miniboone_regions,  # issue 10: our MiniBooNE regions
        modelling_band=modelling_band,
    )  # issue 13: modelling-uncertainty band
    return [str(f) for f in files]


# ---------------------------------------------------------------- reproduce
def _section(markdown: str) -> dict:
    """A report section {"title", "body"} from Markdown that starts with a ``## title`` line."""
    head, _, body = markdown.strip("\n").partition("\n")
    return {"title": head.lstrip("#").strip(), "body": body.strip("\n")}


def reproduce(out_dir: str | Path, fast: bool = False, executor=None, progress: bool = False) -> dict:
    """Run the three analyses (presets ``default`` and ``paper``), the one-difference study,
    the kaon validation and all figures; write ``report.md`` and ``report.html``.  Without an
    ``executor``, one local process pool serves every scan of the run."""
    if executor is None:
        from dipolehnl.analysis.execution import LocalExecutor

        with LocalExecutor() as ex:
            return reproduce(out_dir, fast, ex, progress)
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
        electron = dict(
            zip(
                ELECTRON_SCANS,
                timed(
                    "scans, d_eN (preset default)",
                    run_scans,
                    list(ELECTRON_SCANS),
                    "default",
                    cfg.electron,
                    cache_dir=cache,
                    executor=executor,
                    progress=progress,
                ),
            )
        )
    # --- modelling uncertainty (analysis/modelling.py): study, band in summary.json and Fig. 4 ---
    from dipolehnl.analysis import modelling

    mstudy = timed(
        "modelling-uncertainty study",
        modelling.run_study,
        modelling.reproduce_settings(cfg.main, fast),
        cache_dir=cache,
        executor=executor,
        progress=progress,
    )
    mbands = {name: mstudy.summary(name, res.masses_GeV) for name, res in default.items() if name in mstudy.edges}
    # --- end modelling uncertainty ---
    summaries = {}
    for preset, group in (("default", default), ("paper", paper)):
        for name, res in group.items():
            summaries[(name, preset)] = write_scan_outputs(
                res,
                out / "scans" / f"{name}_{preset}",
                modelling_band=mbands.get(name) if preset == "default" else None,
            )
    for name, res in electron.items():
        summaries[(name, "default, d_eN")] = write_scan_outputs(res, out / "scans" / f"{name}_default_dE")

    # one difference at a time (reduced grid), for the constraint and the sensitivity
    def study():
        rows = {}
        base = run_scans(
            ["t2k2019", "t2k+t2k2"], "default", cfg.study, cache_dir=cache, executor=executor, progress=progress
        )
        rows["default"] = base
        for label, p in single_differences().items():
            if label.startswith("asimov"):
                rows[label] = [
                    base[0],
                    dataclasses.replace(base[1], analysis=dataclasses.replace(base[1].analysis, asimov_q=p.asimov_q)),
                ]
                continue
            rows[label] = run_scans(
                ["t2k2019", "t2k+t2k2"], p, cfg.study, cache_dir=cache, executor=executor, progress=progress
            )
        rows["paper (all)"] = run_scans(
            ["t2k2019", "t2k+t2k2"], "paper", cfg.study, cache_dir=cache, executor=executor, progress=progress
        )
        return rows

    diffs = timed("one-difference study", study)
    kaon = timed("kaon validation", kaon_outputs, out)
    # --- MiniBooNE excess fit with the same engine (issue 10) ---
    from dipolehnl.analysis.miniboone_fit import reproduce_miniboone

    mb_section, mb_regions = timed(
        "MiniBooNE fit (both conventions)",
        reproduce_miniboone,
        out,
        out / "figures",
        {"default": default, "paper": paper},
        fast,
        executor,
    )
    # --- end MiniBooNE ---
    timed(
        "figures",
        make_figures,
        out / "figures",
        default["t2k2019"],
        default["t2k+t2k2"],
        paper["t2k2019"],
        cfg.vertex_events,
        electron,
        mb_regions,
        modelling.band_curve(mstudy, default["t2k2019"]),
    )
    # report sections added by other studies: [{"title": ..., "body": Markdown}] (see dipolehnl.report)
    extra_sections: list[dict] = [
        _section(mb_section),  # issue 10: the MiniBooNE section
        _section(modelling.markdown_section(mstudy)),
    ]  # issue 13: modelling uncertainty
    wall = time.perf_counter() - t0
    write_report(out, scans, diffs, kaon, cfg, timings, wall, summaries, fast, electron, extra_sections)
    return {"wall_time_s": wall, "timings_s": timings, "out": str(out)}


# ---------------------------------------------------------------- report
REPORT_TITLE = "dipolehnl: ND280 constraints on dipole-portal HNLs"


def write_report(
    out: Path,
    scans: dict,
    study: dict,
    kaon: dict,
    cfg: ReproduceSettings,
    timings: dict,
    wall: float,
    summaries: dict,
    fast: bool = False,
    electron: dict | None = None,
    extra_sections: list | None = None,
) -> dict:
    """Build the report context from the results and write ``report.md`` and ``report.html``
    (see :mod:`dipolehnl.report`); returns the context."""
    from dipolehnl.report import build_context, render_markdown, to_html

    ctx = build_context(
        scans,
        study,
        kaon,
        cfg,
        timings,
        wall_s=wall,
        summaries=summaries,
        fast=fast,
        electron=electron,
        extra_sections=extra_sections or (),
        vertex={"d_GeVinv": VERTEX_COUPLING_GEVINV, "masses_GeV": VERTEX_MASSES_GEV},
    )
    text = render_markdown(ctx)
    write_text_atomic(out / "report.md", text)
    write_text_atomic(out / "report.html", to_html(text, REPORT_TITLE))
    return ctx
