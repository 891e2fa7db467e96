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
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter
from numpy.typing import ArrayLike, NDArray

from dipolehnl.errors import InputError
from dipolehnl.plots.style import SINGLE_COLUMN_IN, new_figure, save_figure, style_context

#: Decay lengths (m) of the analytic iso-lines and their labels.
ISO_LENGTHS_M: tuple[float, ...] = (1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3)
ISO_LABELS: dict[float, str] = {1e-2: "1 cm", 1e-1: "10 cm", 1.0: "1 m", 10.0: "10 m", 100.0: "100 m", 1e3: "1 km"}
#: Target nucleus of the analytic momentum estimate (carbon-12) and the upscattering regimes summed.
ANALYTIC_TARGET_PDG: int = 1000060120
ANALYTIC_REGIMES: tuple[str, ...] = ("coherent",)
#: Default colour range (m); values outside get the end colours (colour bar with arrows).
COLOR_RANGE_M: tuple[float, float] = (1e-3, 1e7)
_N_ENERGY = 400
_D_REF = 1.0e-6  # GeV^-1, reference coupling of the analytic estimate (the result does not depend on it)


@lru_cache(maxsize=4096)
def _median_energy(mass_GeV: float, convention: str, mode: str, flavor: str, target_pdg: int,
                   regimes: tuple[str, ...]) -> float:
    from dipolehnl.beam.flux import load_flux
    from dipolehnl.physics import xsec
    from dipolehnl.physics.model import HNLModel

    flux = load_flux(mode).component(flavor)
    chans = [ch for ch in xsec.channels(target_pdg) if ch.regime in regimes]
    if not chans:
        raise InputError(f"no upscattering channel {regimes} for nucleus {target_pdg}")
    e_th = min(xsec.threshold_energy(mass_GeV, ch.M_GeV) for ch in chans)
    e_max = flux.max_energy_GeV
    if not e_th < e_max:
        return float("nan")
    # geometric grid above threshold (σ rises steeply there) plus the flux bin edges (φ steps)
    grid = np.geomspace(e_th, e_max, _N_ENERGY)
    edges = np.asarray(flux.edges_GeV)
    E = np.unique(np.concatenate([grid, edges[(edges > e_th) & (edges < e_max)]]))
    model = HNLModel(mass_GeV, _D_REF, convention=convention)
    # the flux is constant on [lo, hi) bins: evaluate it at the midpoint of every interval
    mid = 0.5 * (E[1:] + E[:-1])
    # per nucleus; 8 Gauss-Legendre panels in ln Q² are accurate to < 1e-6 here (32 is the default)
    sig = sum(np.asarray(xsec.total_xsec_cm2(ch, model, E, panels=8), dtype=float) for ch in chans)
    f = np.asarray(flux(mid), dtype=float) * 0.5 * (sig[1:] + sig[:-1]) * np.diff(E)
    total = f.sum()
    if not total > 0:
        return float("nan")
    cum = np.concatenate([[0.0], np.cumsum(f)]) / total
    return float(np.interp(0.5, cum, E))


def median_momentum_GeV(mass_GeV: ArrayLike, convention: str = "consistent", mode: str = "fhc",
                        flavor: str = "numu", target_pdg: int = ANALYTIC_TARGET_PDG,
                        regimes: tuple[str, ...] = ANALYTIC_REGIMES) -> NDArray[np.float64] | float:
    """Median HNL momentum (GeV) of the production, p̃ = √(Ẽ² − m²) (module docstring).

    Ẽ: median of E under φ(E) σ(E), φ the flux ``mode``/``flavor``, σ the upscattering
    cross section per nucleus ``target_pdg`` summed over ``regimes`` ("coherent", "p-el"),
    integrated on a fine grid above threshold; NaN if the flux cannot produce the mass.
    """
    m = np.asarray(mass_GeV, dtype=float)
    reg = tuple(sorted(regimes))
    flat = [_median_energy(float(x), convention, mode, flavor, int(target_pdg), reg) for x in m.ravel()]
    E = np.array(flat).reshape(m.shape)
    p = np.sqrt(np.maximum(E * E - m * m, 0.0))
    return float(p) if p.ndim == 0 else p


def analytic_decay_length_m(mass_GeV: ArrayLike, d_GeVinv: ArrayLike, convention: str = "consistent",
                            **kwargs: Any) -> NDArray[np.float64] | float:
    """λ = (p̃/m) cτ(m, d) in metres (broadcast over mass and coupling; ``kwargs`` go to
    :func:`median_momentum_GeV`)."""
    from dipolehnl.physics import decays
    from dipolehnl.physics.model import HNLModel

    m, d = np.broadcast_arrays(np.asarray(mass_GeV, dtype=float), np.asarray(d_GeVinv, dtype=float))
    mu = np.unique(m)
    p = np.atleast_1d(median_momentum_GeV(mu, convention, **kwargs))
    ctau_ref = np.array([decays.ctau_m(HNLModel(float(x), _D_REF, convention=convention)) for x in mu])
    lam_ref = dict(zip(mu.tolist(), (p / mu * ctau_ref).tolist()))
    out = np.array([lam_ref[x] for x in m.ravel()]).reshape(m.shape) * (_D_REF / d) ** 2
    return float(out) if out.ndim == 0 else out


def iso_decay_length_coupling(lambda_m: float, masses_GeV: ArrayLike, convention: str = "consistent",
                              **kwargs: Any) -> NDArray[np.float64]:
    """The coupling d(m) (GeV^-1) at which the analytic decay length equals ``lambda_m`` (m)."""
    if not lambda_m > 0:
        raise InputError(f"decay length must be positive, got {lambda_m}")
    m = np.asarray(masses_GeV, dtype=float)
    lam_ref = np.asarray(analytic_decay_length_m(m, _D_REF, convention, **kwargs), dtype=float)
    return _D_REF * np.sqrt(lam_ref / float(lambda_m))


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
    ax.text(xd, yd, text, rotation=angle, rotation_mode="anchor", ha="center", va="center", fontsize=6.0,
            color="black", zorder=6,
            bbox={"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})


def plot_decay_length(scan, out_dir: str | os.PathLike[str], analytic: bool = True, *,
                      color_range_m: tuple[float, float] | None = COLOR_RANGE_M,
                      stem: str = "fig3_decay_length") -> list[Path]:
    """Draw Fig. 3 from a :class:`~dipolehnl.analysis.scan.ScanResult`; write ``<stem>.png``
    and ``<stem>.pdf`` in ``out_dir`` and return their paths.

    ``analytic``: also draw the dashed analytic iso-lines (module docstring) in the
    convention of ``scan.preset``.  ``color_range_m``: range of the logarithmic colour
    scale in metres (None: the decades spanned by the data, at most 12).
    """
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
    convention = getattr(getattr(scan, "preset", None), "convention", "consistent")
    with style_context():
        fig = new_figure(SINGLE_COLUMN_IN, 2.75)
        ax = fig.add_subplot(1, 1, 1)
        mesh = ax.pcolormesh(m_edges, d_edges, np.ma.masked_invalid(med.T), cmap="viridis",
                             norm=LogNorm(vmin, vmax), shading="flat", rasterized=True, linewidth=0,
                             antialiased=False, zorder=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(m_edges[0], m_edges[-1])
        ax.set_ylim(d_edges[0], d_edges[-1])
        if analytic:
            mline = np.geomspace(m_edges[0], m_edges[-1], 100) / 1e3
            halo = [patheffects.withStroke(linewidth=2.0, foreground="white", alpha=0.7)]
            n_iso = len(ISO_LENGTHS_M)
            for k, lam in enumerate(ISO_LENGTHS_M):
                d_iso = iso_decay_length_coupling(lam, mline, convention)
                ok = np.isfinite(d_iso)
                ax.plot(1e3 * mline[ok], d_iso[ok], color="black", linestyle=(0, (4.0, 2.0)), linewidth=0.9,
                        path_effects=halo, zorder=5)
                _label_line(ax, 1e3 * mline[ok], d_iso[ok], ISO_LABELS.get(lam, f"{lam:g} m"),
                            frac=0.62 - 0.3 * k / max(n_iso - 1, 1))
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
        ax.text(0.97, 0.97, note, transform=ax.transAxes, ha="right", va="top", fontsize=5.6, zorder=7,
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "0.6", "linewidth": 0.4,
                      "alpha": 0.9})
        return save_figure(fig, out_dir, stem)
