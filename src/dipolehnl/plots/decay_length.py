"""Figure 3: median lab-frame decay length of the selected HNLs over (m_N, d_μN).

Colour: ``MassResult.median_decay_length_m`` of a scan (the weighted median of the lab-frame
decay length λ = (p/m) cτ over the selected signal of all the analysis' data sets), on a
logarithmic scale in metres; blank where the scan has no signal (NaN).

Dashed lines: the analytic estimate λ(m, d) = (p̃/m) cτ(m, d) at 1 cm ... 1 km, where cτ is
the proper decay length of :func:`dipolehnl.physics.decays.ctau_m` in the convention of
the scan's preset, and p̃(m) a typical HNL momentum: the median of p = √(E² − m²) for
neutrino energies E distributed as φ_νμ(E) σ_coh,¹²C(E) above threshold (FHC ν_μ flux,
coherent upscattering on carbon; the HNL takes almost all of the neutrino energy in
coherent scattering, so E_N ≈ E).  Since p is monotonic in E, p̃ = √(Ẽ² − m²) with Ẽ the
median energy.  cτ ∝ 1/d², so the iso-line of decay length λ is
d_λ(m) = d₀ √(λ(m, d₀)/λ).

Coherent only (``regimes`` can add "p-el"): the selection cos θ_N > 0.992 keeps the
forward, coherent production, and with it the estimate follows the simulated median
within 10-20% below 150 MeV and above 500 MeV.  The coherent form factor pushes Ẽ up
steeply once m_N ≳ 250 MeV (Q²_min ≈ m⁴/4E² must stay below ~1/R²_C), hence the bend of
the lines between 250 and 500 MeV.

This is the *production* median; the colour is the median over the *selected* events,
which prefer decay lengths of the order of the distance to the TPCs (longer than the
production median where λ is short, because only the fastest HNLs reach the TPCs).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter
from numpy.typing import NDArray

from dipolehnl.errors import InputError
from dipolehnl.plots.style import SINGLE_COLUMN_IN, new_figure, save_figure, style_context

#: Decay lengths (m) of the analytic iso-lines and their labels.
ISO_LENGTHS_M: tuple[float, ...] = (1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3)
ISO_LABELS: dict[float, str] = {1e-2: "1 cm", 1e-1: "10 cm", 1.0: "1 m", 10.0: "10 m", 100.0: "100 m", 1e3: "1 km"}
#: Default colour range (m); values outside get the end colours (colour bar with arrows).
COLOR_RANGE_M: tuple[float, float] = (1e-3, 1e7)


def iso_line_masses_GeV(masses_GeV) -> NDArray[np.float64]:
    """100 masses (GeV) spanning the figure's mass axis for a scan with grid ``masses_GeV``."""
    edges = _log_edges(np.sort(np.asarray(masses_GeV, dtype=float)))
    return np.geomspace(edges[0], edges[-1], 100)


def _log_edges(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cell edges around increasing positive centres: geometric midpoints, half a step beyond the ends."""
    lx = np.log(np.asarray(x, dtype=float))
    if lx.size == 1:
        return np.exp(lx[0] + np.array([-0.05, 0.05]) * np.log(10.0))
    mid = 0.5 * (lx[1:] + lx[:-1])
    return np.exp(np.concatenate([[lx[0] - (mid[0] - lx[0])], mid, [lx[-1] + (lx[-1] - mid[-1])]]))


def _label_line(ax: Axes, x: NDArray[np.float64], y: NDArray[np.float64], text: str, frac: float) -> None:
    """Write ``text`` on the line (x, y) at fraction ``frac`` of its visible length, along it."""
    xl, yl = ax.get_xlim(), ax.get_ylim()
    vis = (x >= xl[0]) & (x <= xl[1]) & (y >= yl[0]) & (y <= yl[1])
    if vis.sum() < 2:
        return
    pts = ax.transData.transform(np.column_stack([x[vis], y[vis]]))
    seg = np.hypot(*np.diff(pts, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    k = int(np.clip(np.searchsorted(s, frac * s[-1]), 1, len(pts) - 1))
    dx, dy = pts[k] - pts[k - 1]
    angle = float(np.degrees(np.arctan2(dy, dx)))
    if angle > 90:
        angle -= 180
    elif angle < -90:
        angle += 180
    xd, yd = ax.transData.inverted().transform(0.5 * (pts[k] + pts[k - 1]))
    ax.text(
        xd,
        yd,
        text,
        rotation=angle,
        rotation_mode="anchor",
        ha="center",
        va="center",
        fontsize=6.0,
        color="black",
        zorder=6,
        bbox={"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
    )


def plot_decay_length(
    scan,
    out_dir: str | os.PathLike[str],
    iso_lines: tuple[NDArray[np.float64], dict[float, NDArray[np.float64]]] | None = None,
    *,
    color_range_m: tuple[float, float] | None = COLOR_RANGE_M,
    stem: str = "fig3_decay_length",
) -> list[Path]:
    """Draw Fig. 3 from a :class:`~dipolehnl.analysis.scan.ScanResult`; write ``<stem>.png``
    and ``<stem>.pdf`` in ``out_dir`` and return their paths.

    ``iso_lines``: (masses in GeV, {decay length in m: coupling in GeV^-1 at those masses})
    of the dashed analytic iso-lines (computed by
    :func:`dipolehnl.analysis.decay_length.iso_lines`), or None for none.
    ``color_range_m``: range of the logarithmic colour scale in metres (None: the decades
    spanned by the data, at most 12).
    """
    analytic = iso_lines is not None
    masses = np.asarray(scan.masses_GeV, dtype=float)
    couplings = np.asarray(scan.couplings, dtype=float)
    if masses.size == 0:
        raise InputError("the scan has no masses")
    order = np.argsort(masses)
    masses = masses[order]
    med = np.stack([np.asarray(scan.masses[i].median_decay_length_m, dtype=float) for i in order])  # (n_m, K)
    if med.shape != (masses.size, couplings.size):
        raise InputError(f"median decay lengths have shape {med.shape}, expected {(masses.size, couplings.size)}")
    med = np.where(np.isfinite(med) & (med > 0), med, np.nan)
    m_edges = 1e3 * _log_edges(masses)
    d_edges = _log_edges(couplings)
    finite = med[np.isfinite(med)]
    if color_range_m is not None:
        vmin, vmax = (float(v) for v in color_range_m)
        if not 0 < vmin < vmax:
            raise InputError(f"colour range must satisfy 0 < min < max, got {color_range_m}")
    elif finite.size:
        vmin = 10.0 ** np.floor(np.log10(finite.min()))
        vmax = 10.0 ** np.ceil(np.log10(finite.max()))
        vmin = max(vmin, vmax * 1e-12)
    else:
        vmin, vmax = 1e-3, 1e3
    convention = str(getattr(getattr(scan, "preset", None), "convention", "consistent"))
    with style_context():
        fig = new_figure(SINGLE_COLUMN_IN, 2.75)
        ax = fig.add_subplot(1, 1, 1)
        mesh = ax.pcolormesh(
            m_edges,
            d_edges,
            np.ma.masked_invalid(med.T),
            cmap="viridis",
            norm=LogNorm(vmin, vmax),
            shading="flat",
            rasterized=True,
            linewidth=0,
            antialiased=False,
            zorder=1,
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(m_edges[0], m_edges[-1])
        ax.set_ylim(d_edges[0], d_edges[-1])
        if iso_lines is not None:
            mline, lines = iso_lines
            mline = np.asarray(mline, dtype=float)
            halo = [patheffects.withStroke(linewidth=2.0, foreground="white", alpha=0.7)]
            n_iso = len(lines)
            for k, (lam, d_iso) in enumerate(sorted(lines.items())):
                d_iso = np.asarray(d_iso, dtype=float)
                ok = np.isfinite(d_iso)
                ax.plot(
                    1e3 * mline[ok],
                    d_iso[ok],
                    color="black",
                    linestyle=(0, (4.0, 2.0)),
                    linewidth=0.9,
                    path_effects=halo,
                    zorder=5,
                )
                _label_line(
                    ax,
                    1e3 * mline[ok],
                    d_iso[ok],
                    ISO_LABELS.get(lam, f"{lam:g} m"),
                    frac=0.62 - 0.3 * k / max(n_iso - 1, 1),
                )
        ax.set_xlabel(r"$m_N$ (MeV)")
        ax.set_ylabel(r"$d_{\mu N}$ (GeV$^{-1}$)")
        ticks = [t for t in (10, 20, 50, 100, 200, 500, 1000, 2000) if m_edges[0] <= t <= m_edges[-1]]
        if ticks:
            ax.xaxis.set_major_locator(FixedLocator(ticks))
            ax.xaxis.set_major_formatter(FixedFormatter([f"{t:g}" for t in ticks]))
            ax.xaxis.set_minor_formatter(NullFormatter())
        below = bool(finite.size and finite.min() < vmin)
        above = bool(finite.size and finite.max() > vmax)
        extend = "both" if below and above else "min" if below else "max" if above else "neither"
        cb = fig.colorbar(mesh, ax=ax, pad=0.03, fraction=0.06, extend=extend, extendfrac=0.03)
        cb.set_label(r"median lab-frame decay length $\lambda$ (m)")
        cb.ax.tick_params(which="both", direction="out")
        name = getattr(getattr(scan, "analysis", None), "name", "")
        note = f"{name}, {convention} widths" if name else f"{convention} widths"
        if analytic:
            note += "\ndashed: $(\\tilde p/m)\\,c\\tau$, $\\tilde p$ = median of $\\phi\\,\\sigma_{\\rm coh}$"
        ax.text(
            0.97,
            0.97,
            note,
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=5.6,
            zorder=7,
            bbox={
                "boxstyle": "round,pad=0.2",
                "facecolor": "white",
                "edgecolor": "0.6",
                "linewidth": 0.4,
                "alpha": 0.9,
            },
        )
        return save_figure(fig, out_dir, stem)
