"""The five paper figures compared as images (pytest-mpl) with baselines in tests/baseline/.

Each figure is drawn by the package's own plotting function from small FIXED inputs built
here (synthetic vertex densities, scan signals and limits; no simulation), so a change of
a legend, an axis, a label or a colour map changes the image and fails the comparison
(RMS tolerance ``TOL``).  ``pytest`` runs with ``--mpl`` (pyproject addopts); regenerate
the baselines after an intended change of a figure with

    pytest tests/test_figures_images.py --mpl-generate-path=tests/baseline

and look at them before committing.  ``test_altered_figures_fail_the_comparison`` checks
that the comparison is sensitive: figures with a broken legend, axis or colour map
differ from the baselines by more than the tolerance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytest_mpl")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.testing.compare import compare_images  # noqa: E402

from dipolehnl.analysis.analyses import load_analysis  # noqa: E402
from dipolehnl.analysis.contours import MassResult, ScanResult  # noqa: E402
from dipolehnl.analysis.kaon import KaonValidationResult  # noqa: E402
from dipolehnl.analysis.scan_settings import ScanSettings  # noqa: E402
from dipolehnl.analysis.vertices import VertexMaps  # noqa: E402
from dipolehnl.config import get_preset  # noqa: E402
from dipolehnl.experiment import load_experiment  # noqa: E402
from dipolehnl.plots import constraints, decay_length, geometry, kaon, vertices  # noqa: E402

BASELINE = Path(__file__).parent / "baseline"
TOL = 2.0  # RMS difference of the 8-bit images
IMAGE = {"baseline_dir": "baseline", "tolerance": TOL, "style": "default", "savefig_kwargs": {"dpi": 100}}

MASSES_GEV = tuple(float(m) for m in np.geomspace(0.02, 1.5, 8))
COUPLINGS_GEVINV = tuple(float(d) for d in np.geomspace(1e-8, 1e-4, 60))


def _capture(monkeypatch, module) -> list[Figure]:
    """Replace ``module.save_figure`` so that the drawn Figure is kept instead of written."""
    figs: list[Figure] = []

    def keep(fig, out_dir, stem, *args, **kwargs):
        figs.append(fig)
        return []

    monkeypatch.setattr(module, "save_figure", keep)
    return figs


def _synthetic_scan(analysis: str, scale: float) -> ScanResult:
    """A ScanResult with a closed-form signal: production ∝ d² m^½, survival to the
    detector exp(−(d/d_up(m))²) with d_up ∝ m^−1.5; flux ∓1σ = ×0.8, ×1.2; decay length
    ∝ 1/(d² m⁴).  Not physics: a fixed, smooth input for the drawing code."""
    an = load_analysis(analysis)
    d = np.asarray(COUPLINGS_GEVINV)
    rows = []
    for m in MASSES_GEV:
        s_tot = scale * (d / 1e-7) ** 2 * (m / 0.2) ** 0.5 * np.exp(-((d / (3e-5 * (0.1 / m) ** 1.5)) ** 2))
        per_ds = np.outer(np.full(len(an.datasets), 1.0 / len(an.datasets)), s_tot)
        lam = 10.0 * (1e-6 / d) ** 2 * (0.1 / m) ** 4
        rows.append(
            MassResult(
                m, per_ds, 0.8 * per_ds, 1.2 * per_ds, 0.01 * s_tot, lam, d[:1], ("rock",), np.ones((1, 1)), 300, 0.0
            )
        )
    settings = ScanSettings(masses_GeV=MASSES_GEV, couplings_GeVinv=COUPLINGS_GEVINV, n_events=300, refine=False)
    return ScanResult(an, get_preset("default"), settings, rows)


def _blob(z, y, z0, y0, s):
    """A Gaussian spot cut at 3 σ (zero elsewhere, so the detector shows around it)."""
    zz, yy = np.meshgrid(0.5 * (z[1:] + z[:-1]), 0.5 * (y[1:] + y[:-1]))
    b = np.exp(-((zz - z0) ** 2 + (yy - y0) ** 2) / (2 * s * s))
    return np.where(b > np.exp(-4.5), b, 0.0)


# ------------------------------------------------------------------ the five figures
def draw_geometry(monkeypatch) -> Figure:
    figs = _capture(monkeypatch, geometry)
    geometry.plot_geometry("unused")  # the shipped ND280 and upgrade detector files
    return figs[0]


def draw_vertices(monkeypatch) -> Figure:
    figs = _capture(monkeypatch, vertices)
    z = np.linspace(*geometry.DEFAULT_Z_RANGE_M, 91)
    y = np.linspace(*geometry.DEFAULT_Y_RANGE_M, 71)
    maps, dets, fvs = {}, {}, {}
    for k, exp in enumerate(vertices.EXPERIMENTS):
        e = load_experiment(exp)
        dets[exp], fvs[exp] = e.detector, e.fiducial_volumes
        for j, m in enumerate((0.05, 0.6)):
            prod = _blob(z, y, -2.5 + j, 0.3 * k, 0.4) + 0.2 * _blob(z, y, 1.5, 1.5, 0.6)
            dec = _blob(z, y, 0.4 + j, 0.0, 0.3)
            maps[(exp, m)] = VertexMaps(
                z, y, prod / prod.sum(), dec / dec.sum(), 0.1 + 0.2 * j, 1e-21 * (1 + k + j), 0.9
            )
    pot = {exp: 1e21 for exp in vertices.EXPERIMENTS}
    vertices.plot_vertices("unused", maps, dets, 3.87e-7, pot, fvs)
    return figs[0]


def draw_decay_length(monkeypatch) -> Figure:
    figs = _capture(monkeypatch, decay_length)
    scan = _synthetic_scan("t2k2019", 50.0)
    m = decay_length.iso_line_masses_GeV(scan.masses_GeV)
    iso = {lam: np.sqrt(10.0 / lam) * 1e-6 * (0.1 / m) ** 2 for lam in decay_length.ISO_LENGTHS_M}
    decay_length.plot_decay_length(scan, "unused", (m, iso))
    return figs[0]


def draw_constraints(monkeypatch) -> Figure:
    figs = _capture(monkeypatch, constraints)
    constraints.plot_constraints("unused", _synthetic_scan("t2k2019", 50.0), _synthetic_scan("t2k+t2k2", 400.0))
    return figs[0]


def draw_kaon(monkeypatch) -> Figure:
    figs = _capture(monkeypatch, kaon)
    m = np.geomspace(0.02, 0.35, 12)
    lim19 = 1e-8 * (0.1 / m) ** 2
    res = KaonValidationResult(
        m,
        {"2019": lim19, "T2K+T2K-II": 0.2 * lim19},
        {"2019": 3.0 / lim19, "T2K+T2K-II": 15.0 / lim19},
        {"convention": "consistent", "d_GeVinv": 5e-7, "cl": 0.9},
    )
    kaon.plot_kaon_validation(res, "unused")
    return figs[0]


DRAW = {
    "geometry": draw_geometry,
    "vertices": draw_vertices,
    "decay_length": draw_decay_length,
    "constraints": draw_constraints,
    "kaon": draw_kaon,
}


@pytest.mark.mpl_image_compare(filename="fig1_geometry.png", **IMAGE)
def test_fig1_geometry(monkeypatch):
    return draw_geometry(monkeypatch)


@pytest.mark.mpl_image_compare(filename="fig2_vertices.png", **IMAGE)
def test_fig2_vertices(monkeypatch):
    return draw_vertices(monkeypatch)


@pytest.mark.mpl_image_compare(filename="fig3_decay_length.png", **IMAGE)
def test_fig3_decay_length(monkeypatch):
    return draw_decay_length(monkeypatch)


@pytest.mark.mpl_image_compare(filename="fig4_constraints.png", **IMAGE)
def test_fig4_constraints(monkeypatch):
    return draw_constraints(monkeypatch)


@pytest.mark.mpl_image_compare(filename="figS1_kaon_validation.png", **IMAGE)
def test_figS1_kaon_validation(monkeypatch):
    return draw_kaon(monkeypatch)


# ------------------------------------------------------------------ the comparison is sensitive
def _rms_vs_baseline(fig: Figure, name: str, tmp_path: Path) -> str | None:
    """matplotlib's comparison (as pytest-mpl does it) of ``fig`` with a baseline: None if
    within ``TOL``, else the failure message."""
    import matplotlib

    out = tmp_path / f"{name}-result.png"
    with matplotlib.style.context("default"):
        fig.savefig(out, dpi=100)
    return compare_images(str(BASELINE / name), str(out), tol=TOL)


def _drop_legend(fig: Figure) -> None:
    for ax in fig.axes:
        if ax.get_legend() is not None:
            ax.get_legend().remove()


def _linear_y(fig: Figure) -> None:
    fig.axes[0].set_yscale("linear")


def _other_colormap(fig: Figure) -> None:
    for ax in fig.axes:
        for coll in ax.collections:
            if hasattr(coll, "set_cmap") and coll.get_array() is not None:
                coll.set_cmap("plasma")


@pytest.mark.parametrize(
    "figure, baseline, alter",
    [
        ("constraints", "fig4_constraints.png", _drop_legend),
        ("kaon", "figS1_kaon_validation.png", _linear_y),
        ("decay_length", "fig3_decay_length.png", _other_colormap),
    ],
)
def test_altered_figures_fail_the_comparison(monkeypatch, tmp_path, figure, baseline, alter):
    if not (BASELINE / baseline).is_file():
        pytest.skip(f"no baseline {baseline}: generate with --mpl-generate-path=tests/baseline")
    # the unaltered figure matches its baseline with the same comparison ...
    assert _rms_vs_baseline(DRAW[figure](monkeypatch), baseline, tmp_path) is None
    # ... and a broken legend, axis or colour map does not
    fig = DRAW[figure](monkeypatch)
    alter(fig)
    msg = _rms_vs_baseline(fig, baseline, tmp_path)
    assert msg is not None and "RMS" in msg, msg
