"""Figure 2: where the selected HNLs are produced (upscattering) and where they decay.

A 2 x 3 grid of side views (z horizontal, y vertical, the detector window of Fig. 1):
rows ND280 upgrade (top) and ND280 (bottom), columns the HNL masses; all panels at one
coupling (3.87e-7 GeV^-1, as the paper), FHC beam (the flavours of the preset).

Every panel shows two weighted densities of the *selected* signal (event weight x
the channel's ``selection_factor``: decays in the TPC fiducial volumes, forward HNL,
BR(ee), opening-angle cut, efficiency), projected onto the (z, y) plane (integrated over
x) and normalised to the panel's total selected signal, so the unit is "fraction of the
selected events per m^2" and the colour scales are shared by all panels:

* the upscattering (production) vertices, ``production_vertex_m``, colour map
  :data:`PRODUCTION_CMAP`;
* the decay vertices, ``decay_vertex_m``, colour map :data:`DECAY_CMAP`, drawn on top.

Both use logarithmic colour scales over :data:`DYNAMIC_RANGE` decades.  The detector
(x = 0 slice) is drawn underneath in grey levels of its density, the analysis fiducial
volumes outlined dashed in :data:`~dipolehnl.plots.style.FIDUCIAL_COLOR`.  Production in
the rock upstream (z < -18.5 m) is outside the window; each panel states its share,
computed exactly from :meth:`EventSample.production_fractions` weighted by the selected
weight, and the expected number of selected events for the exposure of the detector
(given: the workflow takes the FHC POT of the analysis files, 12.34e20 POT for ND280
from ``t2k2019``, 1e22 POT for the upgrade from ``t2k+t2k2``).  This module only draws:
the maps are computed by :mod:`dipolehnl.analysis.vertices`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap, LogNorm
from matplotlib.patches import Circle, Rectangle

from dipolehnl.analysis.vertices import VertexMaps
from dipolehnl.detector.geometry import Detector
from dipolehnl.detector.shapes import Shape, Sphere
from dipolehnl.errors import InputError
from dipolehnl.plots.geometry import DEFAULT_Y_RANGE_M, DEFAULT_Z_RANGE_M, DETECTOR_TITLES, slice_cells
from dipolehnl.plots.style import DOUBLE_COLUMN_IN, FIDUCIAL_COLOR, new_figure, save_figure, style_context

#: Experiments drawn, top row first (the paper's order).
EXPERIMENTS: tuple[str, str] = ("t2k-nd280-upgrade", "t2k-nd280")
#: Decades shown by the logarithmic colour scales.
DYNAMIC_RANGE: float = 4.0
#: Colour maps of the upscattering and decay vertex densities.
PRODUCTION_CMAP = LinearSegmentedColormap.from_list(
    "production", ["#c6dbef", "#6baed6", "#2171b5", "#08306b", "#02102b"]
)
DECAY_CMAP = LinearSegmentedColormap.from_list("decay", ["#fee391", "#fe9929", "#e6550d", "#a63603", "#4a1300"])
#: Grey levels of the detector drawn underneath (log density, g/cm^3).
_BACKGROUND_CMAP = LinearSegmentedColormap.from_list("detector", ["#ffffff", "#bdbdbd"])
_BACKGROUND_NORM = LogNorm(1e-3, 12.0)


def _draw_background(ax: Axes, detector, z_range_m, y_range_m, fiducial_volumes) -> None:
    z_edges, y_edges, idx = slice_cells(detector, z_range_m, y_range_m)
    rho = np.asarray(detector.densities_g_cm3)
    dens = np.where(idx >= 0, rho[np.maximum(idx, 0)], np.nan)
    dens = np.ma.masked_invalid(np.clip(dens, _BACKGROUND_NORM.vmin, None))
    ax.pcolormesh(
        z_edges,
        y_edges,
        dens,
        cmap=_BACKGROUND_CMAP,
        norm=_BACKGROUND_NORM,
        shading="flat",
        rasterized=True,
        antialiased=False,
        linewidth=0,
        zorder=0,
    )
    style: dict[str, Any] = {
        "fill": False,
        "edgecolor": FIDUCIAL_COLOR,
        "linewidth": 0.7,
        "linestyle": (0, (3.0, 1.5)),
        "zorder": 4,
    }
    for shape in fiducial_volumes.values():
        lo, hi = shape.bounds_m
        if isinstance(shape, Sphere):  # its (z, y) outline; boxes and cylinders: their (z, y) extent
            ax.add_patch(Circle((shape.center_m[2], shape.center_m[1]), shape.radius_m, **style))
        else:
            ax.add_patch(Rectangle((lo[2], lo[1]), hi[2] - lo[2], hi[1] - lo[1], **style))


def _format_events(n: float) -> str:
    if not np.isfinite(n):
        return "n/a"
    if n >= 100:
        return f"{n:.0f}"
    if n >= 0.01:
        return f"{n:.2g}" if n < 10 else f"{n:.1f}"
    e = int(np.floor(np.log10(n))) if n > 0 else 0
    return rf"{n / 10**e:.1f}\times10^{{{e}}}" if n > 0 else "0"


def _format_share(f: float) -> str:
    """A production share as a percentage for the panel text."""
    if not np.isfinite(f):
        return "n/a"
    pct = 100.0 * f
    if pct == 0:
        return "0%"
    if pct < 0.01:
        return "< 0.01%"
    return f"{pct:.3g}%" if pct < 99.95 else f"{pct:.2f}%"


def _sci(x: float, digits: int = 4) -> str:
    """``x`` as mathtext a x 10^b (without the $)."""
    e = int(np.floor(np.log10(x)))
    mant = float(f"{x / 10**e:.{digits}g}")
    if mant >= 10:
        mant, e = mant / 10, e + 1
    return rf"10^{{{e}}}" if abs(mant - 1) < 1e-9 else rf"{mant:g}\times10^{{{e}}}"


def plot_vertices(
    out_dir: str | os.PathLike[str],
    maps: Mapping[tuple[str, float], VertexMaps],
    detectors: Mapping[str, Detector],
    coupling_GeVinv: float,
    pot_by_experiment: Mapping[str, float],
    fiducial_volumes: Mapping[str, Mapping[str, Shape]],
    *,
    stem: str = "fig2_vertices",
) -> list[Path]:
    """Draw Fig. 2 (upscattering and decay vertices of the selected signal); write
    ``<stem>.png`` and ``<stem>.pdf`` in ``out_dir`` and return their paths.

    ``maps``: (experiment name, mass in GeV) → :class:`~dipolehnl.analysis.vertices.VertexMaps`
    (computed by the workflow, ``dipolehnl.workflows.vertex_figure``), one row per
    experiment of :data:`EXPERIMENTS` and one column per mass; ``detectors``: experiment →
    Detector drawn underneath; ``coupling_GeVinv``: d of the samples (GeV^-1), for the
    caption; ``pot_by_experiment``: the exposure (POT) for the expected events in each panel;
    ``fiducial_volumes``: experiment → name → shape, outlined dashed.
    """
    masses = sorted({float(m) for _, m in maps})
    if not masses:
        raise InputError("no mass to draw")
    for det in EXPERIMENTS:
        for m in masses:
            if (det, m) not in maps:
                raise InputError(f"no vertex map for ({det}, {m} GeV)")
    z_range, y_range = DEFAULT_Z_RANGE_M, DEFAULT_Y_RANGE_M
    dets = dict(detectors)

    # shared colour scales: the largest density of each kind over all panels, DYNAMIC_RANGE decades
    pmax = max((float(v.production.max()) for v in maps.values()), default=0.0)
    dmax = max((float(v.decay.max()) for v in maps.values()), default=0.0)
    pmax = pmax if pmax > 0 else 1.0
    dmax = dmax if dmax > 0 else 1.0
    pnorm = LogNorm(pmax / 10**DYNAMIC_RANGE, pmax)
    dnorm = LogNorm(dmax / 10**DYNAMIC_RANGE, dmax)

    ncol = len(masses)
    zspan, yspan = z_range[1] - z_range[0], y_range[1] - y_range[0]
    left_in, right_in, cbar_in = 0.62, 0.08, 0.95
    panel_w = (DOUBLE_COLUMN_IN - left_in - right_in - cbar_in - 0.05 * (ncol - 1)) / ncol
    panel_h = panel_w * yspan / zspan
    top_in, bottom_in, gap_in = 0.22, 0.52, 0.06
    height = top_in + bottom_in + 2 * panel_h + gap_in
    with style_context():
        fig = new_figure(DOUBLE_COLUMN_IN, height)
        W = DOUBLE_COLUMN_IN
        axes = np.empty((2, ncol), dtype=object)
        for r in range(2):
            for j in range(ncol):
                x0 = left_in + j * (panel_w + 0.05)
                y0 = bottom_in + (1 - r) * (panel_h + gap_in)
                axes[r, j] = fig.add_axes((x0 / W, y0 / height, panel_w / W, panel_h / height))
        pm = dm = None
        for r, det in enumerate(EXPERIMENTS):
            for j, m in enumerate(masses):
                ax: Axes = axes[r, j]
                vm = maps[(det, m)]
                _draw_background(ax, dets[det], z_range, y_range, fiducial_volumes[det])
                prod = np.ma.masked_less_equal(vm.production, 0.0)
                dec = np.ma.masked_less_equal(vm.decay, 0.0)
                mesh: dict[str, Any] = {"shading": "flat", "rasterized": True, "linewidth": 0, "antialiased": False}
                pm = ax.pcolormesh(vm.z_edges, vm.y_edges, prod, cmap=PRODUCTION_CMAP, norm=pnorm, zorder=2, **mesh)
                dm = ax.pcolormesh(vm.z_edges, vm.y_edges, dec, cmap=DECAY_CMAP, norm=dnorm, zorder=3, **mesh)
                pot = float(pot_by_experiment[det])
                rock = _format_share(vm.rock_share)
                text = (
                    f"produced in rock: {rock}\n"
                    rf"$N_{{\rm sel}} = {_format_events(vm.events_per_pot * pot)}$ ({'$' + _sci(pot) + '$'} POT)"
                )
                ax.text(
                    0.025,
                    0.03,
                    text,
                    transform=ax.transAxes,
                    ha="left",
                    va="bottom",
                    fontsize=5.6,
                    zorder=6,
                    linespacing=1.25,
                    bbox={
                        "boxstyle": "round,pad=0.2",
                        "facecolor": "white",
                        "edgecolor": "0.6",
                        "linewidth": 0.4,
                        "alpha": 0.9,
                    },
                )
                ax.set_xlim(*z_range)
                ax.set_ylim(*y_range)
                ax.set_aspect("equal")
                ax.tick_params(which="both", labelbottom=(r == 1), labelleft=(j == 0), labelsize=6.5)
                if r == 1:
                    ax.set_xlabel(r"$z$ (m)")
                if j == 0:
                    ax.set_ylabel(f"{DETECTOR_TITLES.get(dets[det].name, det)}\n" + r"$y$ (m)", fontsize=7.5)
                if r == 0:
                    ax.set_title(rf"$m_N = {1e3 * m:.4g}$ MeV", fontsize=7.5, pad=3)
        # beam direction, once, in the top-left panel
        ax0 = axes[0, 0]
        ya = y_range[1] - 0.07 * yspan
        ax0.annotate(
            "",
            xy=(z_range[0] + 0.2 * zspan, ya),
            xytext=(z_range[0] + 0.04 * zspan, ya),
            arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 0.8, "mutation_scale": 6},
            zorder=7,
        )
        ax0.text(z_range[0] + 0.215 * zspan, ya, r"$\nu$ beam", ha="left", va="center", fontsize=6, zorder=7)
        # colour bars on the right, one per map
        x_cb = (left_in + ncol * panel_w + 0.05 * (ncol - 1) + 0.12) / W
        cb_h = panel_h / height
        cax1 = fig.add_axes((x_cb, (bottom_in + panel_h + gap_in) / height, 0.09 / W, cb_h))
        cax2 = fig.add_axes((x_cb, bottom_in / height, 0.09 / W, cb_h))
        assert pm is not None and dm is not None  # drawn in every panel (EXPERIMENTS is not empty)
        cb1 = fig.colorbar(pm, cax=cax1)
        cb2 = fig.colorbar(dm, cax=cax2)
        cb1.set_label("upscattering vertices\n(fraction of selected / m$^2$)", fontsize=6.5)
        cb2.set_label("decay vertices\n(fraction of selected / m$^2$)", fontsize=6.5)
        for cb in (cb1, cb2):
            cb.ax.tick_params(labelsize=6, which="both", direction="out", right=True, left=False)
        fig.text(
            left_in / W,
            0.0,
            rf"$d_{{\mu N}} = {_sci(coupling_GeVinv, 3)}$ GeV$^{{-1}}$, FHC beam; selected $e^+e^-$ signal; "
            "dashed: TPC fiducial volumes; grey: detector density (x = 0 slice)",
            ha="left",
            va="bottom",
            fontsize=6,
            color="0.25",
        )
        return save_figure(fig, out_dir, stem)
