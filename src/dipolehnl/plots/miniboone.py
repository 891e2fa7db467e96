"""MiniBooNE spectra at the best fit: E_ν^QE (the release's binning) and cos θ (the
digitised distribution), stacked background + oscillation + HNL against the data points
with their statistical errors (√n) — the plot every MiniBooNE paper shows.

Draws what it is given (a :class:`dipolehnl.analysis.miniboone_fit.FitResult`); computes
nothing but the stacks.  E_ν^QE is drawn as events per MeV so that the wide bins read right.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from dipolehnl.plots.style import (
    DOUBLE_COLUMN_IN,
    new_figure,
    save_figure,
    style_context,
)

BKG_COLOR = "#9ecae1"
OSC_COLOR = "#fdae6b"
HNL_COLOR = "#d62728"


def _stairs(ax, edges, bottom, height, color, label, per=None):
    w = np.ones_like(height) if per is None else per
    ax.stairs((bottom + height) / w, edges, baseline=bottom / w, fill=True, color=color, label=label, linewidth=0)


def plot_miniboone_spectra(
    out_dir: str | os.PathLike[str], result, *, stem: str = "fig_miniboone_spectra", label: str = ""
) -> list[Path]:
    """Two panels (E_ν^QE, cos θ) at each fit's best-fit point; writes ``<stem>.png/.pdf``."""
    from dipolehnl.analysis import miniboone as mb
    from dipolehnl.analysis import miniboone_fit as mbf

    s = result.settings
    rel = mb.load_release(s.mode)
    cos = mb.load_costheta()
    osc_e = (
        mb.oscillation_prediction(s.sin2_2theta, s.dm2_eV2, s.mode) if s.include_oscillation else np.zeros(rel.n_nue)
    )
    osc_c = (
        mbf.oscillation_costheta(s.sin2_2theta, s.dm2_eV2, s.costheta_oscillation)
        if s.include_oscillation
        else np.zeros(cos.data.size)
    )
    with style_context():
        fig = new_figure(DOUBLE_COLUMN_IN, 2.8)
        axes = fig.subplots(1, 2)
        for ax, fit in zip(axes, ("enu", "costheta")):
            if fit not in s.fits:
                ax.set_axis_off()
                continue
            bf = result.best_fit(fit)
            i, k = bf["index"]
            hnl = result.spectra_at(fit, i, k)[fit]
            if fit == "enu":
                edges = rel.enu_edges_MeV
                per = np.diff(edges)
                bkg, osc, data = rel.nue_background, osc_e, rel.nue_data
                ax.set_xlabel(r"$E_\nu^{QE}$ (MeV)")
                ax.set_ylabel("events / MeV")
            else:
                edges = cos.edges
                per = None
                bkg, osc, data = cos.background, osc_c, cos.data
                ax.set_xlabel(r"$\cos\theta$")
                ax.set_ylabel("events / bin")
            _stairs(ax, edges, np.zeros_like(bkg), bkg, BKG_COLOR, "background (MiniBooNE)", per)
            _stairs(
                ax,
                edges,
                bkg,
                osc,
                OSC_COLOR,
                rf"oscillation ($\sin^2 2\theta$={s.sin2_2theta:g}, $\Delta m^2$={s.dm2_eV2:g} eV$^2$)",
                per,
            )
            _stairs(
                ax,
                edges,
                bkg + osc,
                hnl,
                HNL_COLOR,
                r"HNL, $m_N$={:.0f} MeV, $d$={:.2g} GeV$^{{-1}}$".format(bf["m_MeV"], bf["d_GeVinv"]),
                per,
            )
            c = 0.5 * (edges[1:] + edges[:-1])
            w = np.ones_like(data) if per is None else per
            ax.errorbar(
                c, data / w, yerr=np.sqrt(data) / w, fmt="o", color="black", markersize=2.5, linewidth=0.8, label="data"
            )
            ax.set_xlim(edges[0], edges[-1] if fit == "costheta" else 1500.0)
            ax.set_ylim(bottom=0)
            name = r"$E_\nu^{QE}$" if fit == "enu" else r"$\cos\theta$"
            ax.set_title(
                f"{name} fit {label}: " + r"$\chi^2$" + f" = {bf['chi2']:.1f} / {bf['n_bins']} bins "
                f"(no HNL {bf['chi2_no_hnl']:.1f})",
                fontsize=6.5,
            )
            ax.legend(fontsize=5.5, frameon=False, loc="upper left" if fit == "costheta" else "upper right")
        return save_figure(fig, out_dir, stem)
