"""Supplemental Fig. 1: |U_μN|² limits from kaon decays vs the bundled published curves.

Our curves (:func:`dipolehnl.analysis.kaon.kaon_validation`) for the 2019 data and the
T2K + T2K-II projection are drawn with the AFH2022 curves of the same data sets
(Ref. [41] of arXiv:2412.15051) and the PS191 curve, all 90% CL, μ_tr = 10⁻⁶ GeV⁻¹.
Log-log axes, m_N in MeV; no title (the caption goes in the paper).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter

from dipolehnl.analysis.kaon import KaonValidationResult
from dipolehnl.analysis.limits import load_external_limit
from dipolehnl.errors import InputError
from dipolehnl.plots.style import SINGLE_COLUMN_IN, new_figure, save_figure, style_context

#: Colours per data set (ours solid, the published curve of the same data set dashed).
EXPOSURE_COLORS: dict[str, str] = {"2019": "#c0392b", "T2K+T2K-II": "#1f5fa8"}
#: Bundled reference curves: (name, label, colour, line style).
REFERENCE_STYLE: tuple[tuple[str, str, str, object], ...] = (
    ("AFH2022_T2K2019_Umu2", "Ref. [41], T2K 2019", "#c0392b", (0, (4.0, 2.0))),
    ("AFH2022_T2K_plus_T2KII_Umu2", "Ref. [41], T2K + T2K-II", "#1f5fa8", (0, (4.0, 2.0))),
    ("PS191_Umu2", "PS191 (Ref. [41])", "0.35", (0, (1.0, 1.5))),
)
_EXTRA_STYLES: tuple[object, ...] = ((0, (6.0, 1.5, 1.0, 1.5)), (0, (2.0, 1.0)), (0, (8.0, 2.0)))
_EXPOSURE_LABELS: dict[str, str] = {"2019": "T2K 2019", "T2K+T2K-II": "T2K + T2K-II"}


def _label(result: KaonValidationResult, exposure: str, with_convention: bool) -> str:
    base = f"this work, {_EXPOSURE_LABELS.get(exposure, exposure)}"
    if with_convention:
        base += f" ({result.settings.get('convention', '?')})"
    return base


def plot_kaon_validation(
    result: KaonValidationResult,
    out_dir: str | os.PathLike[str],
    *,
    extra_results: Sequence[KaonValidationResult] = (),
    stem: str = "figS1_kaon_validation",
    y_range: tuple[float, float] = (1.0e-12, 1.0e-3),
    x_range_MeV: tuple[float, float] = (15.0, 400.0),
) -> list[Path]:
    """Draw our |U_μN|² limits with the AFH2022 and PS191 curves; write ``<stem>.png/.pdf``.

    ``result`` is drawn solid; each of ``extra_results`` (e.g. the other width
    convention) with its own line style, and then every label names the convention.
    Infinite limits (no signal) are not drawn.  Returns the written paths.
    """
    if not result.limits_Umu2:
        raise InputError("kaon validation result has no limits to plot")
    results = [result, *extra_results]
    with_conv = len(results) > 1
    with style_context():
        fig = new_figure(SINGLE_COLUMN_IN, 2.75)
        ax = fig.add_subplot(1, 1, 1)
        for k, res in enumerate(results):
            ls = "-" if k == 0 else _EXTRA_STYLES[(k - 1) % len(_EXTRA_STYLES)]
            for exp in res.exposures:
                lim = np.asarray(res.limits_Umu2[exp], dtype=float)
                ok = np.isfinite(lim)
                ax.plot(
                    res.masses_MeV[ok],
                    lim[ok],
                    color=EXPOSURE_COLORS.get(exp, "black"),
                    linestyle=ls,
                    linewidth=1.5 if k == 0 else 1.1,
                    label=_label(res, exp, with_conv),
                    zorder=4,
                )
        for name, label, color, ls in REFERENCE_STYLE:
            reference = load_external_limit(name)
            m, v = reference.points_for_plot()
            ax.plot(m, v, color=color, linestyle=ls, linewidth=1.0, label=label, zorder=3)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(*x_range_MeV)
        ax.set_ylim(*y_range)
        ax.set_xlabel(r"$m_N$ (MeV)")
        ax.set_ylabel(r"$|U_{\mu N}|^2$")
        ax.xaxis.set_major_locator(FixedLocator([20, 50, 100, 200, 400]))
        ax.xaxis.set_major_formatter(FixedFormatter(["20", "50", "100", "200", "400"]))
        ax.xaxis.set_minor_formatter(NullFormatter())
        s = result.settings
        note = (
            rf"$\mu_{{\rm tr}} = {2e6 * float(s.get('d_GeVinv', 5e-7)):g}\times 10^{{-6}}$ GeV$^{{-1}}$, "
            rf"{100 * float(s.get('cl', 0.9)):.0f}% CL"
        )
        if not with_conv:
            note += f"; widths: {s.get('convention', '?')}"
        ax.legend(
            loc="upper left",
            fontsize=6.0,
            handlelength=2.4,
            labelspacing=0.3,
            borderaxespad=0.4,
            title=note,
            title_fontsize=6.0,
            alignment="left",
        )
        return save_figure(fig, out_dir, stem)
