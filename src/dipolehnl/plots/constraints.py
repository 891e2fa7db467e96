"""Figure 4: constraints, sensitivities and preferred regions in the (m_N, d_μN) plane.

* Our T2K 2019 constraint (a scan of ``t2k2019``, 95% CL): filled red region; its flux
  uncertainty (the same contour with the flux at -1σ and +1σ) as thin dark-red lines.
* The T2K + T2K-II sensitivity (a scan of ``t2k+t2k2``): 95% CL dashed red, 5σ dotted red.
* Optional overlays (``extra``), e.g. the ``paper`` preset.
* Other experiments' limits (kind ``excluded_above_curve``, those the paper draws) as grey
  areas, labelled in place, and the MiniBooNE preferred regions (energy fit 95% CL with
  its island, angular fit 95% CL filled; their 99.7% CL boundaries as thin lines).

Regions from a scan (:func:`exclusion_boundary`)
------------------------------------------------
At every scan mass the excluded couplings are a union of intervals [d_low, d_high]
(``ScanResult.contour``).  Between two neighbouring masses the region is the union of the
quadrilaterals joining every interval to each overlapping interval at the next mass,
straight lines in (log m, log d).  Intervals at one mass are disjoint and their overlaps
with the next mass' intervals never cross, so in each mass strip the connected groups of
intervals form a staircase whose union is one simple polygon; where one interval overlaps
two at the other mass (a split or a merge of the region) the gap between them becomes a
notch whose apex is where the two quadrilateral edges bounding it cross.  The boundary of
the whole region is the set of all strip-polygon edges without the vertical interval edges
that two strips share; it is walked into closed loops (filled with the even-odd rule, so
holes stay empty).  Every boundary vertex at a scan mass is an interval edge of that mass;
the only other vertices are notch apices.  An interval without an overlapping neighbour
on either side is drawn as a vertical line.  Nothing is extrapolated beyond the masses
and couplings of the scan; boundary parts on the edge of the scan grid are filled but
not stroked.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter
from numpy.typing import NDArray

from dipolehnl.errors import InputError
from dipolehnl.plots.style import SINGLE_COLUMN_IN, new_figure, save_figure, style_context

#: Axis ranges of the figure.
M_RANGE_MEV: tuple[float, float] = (10.0, 2000.0)
D_RANGE_GEVINV: tuple[float, float] = (1e-8, 1e-4)
#: Colours of our results.
OUR_RED: str = "#d62728"
OUR_DARK_RED: str = "#7f0000"
#: External limits drawn (name -> label, grey shade, label position (m_MeV, d) or None = automatic).
EXTERNAL_STYLE: dict[str, tuple[str, str, tuple[float, float] | None]] = {
    "Borexino": ("Borexino", "#c8c8c8", (10.6, 2.2e-7)),
    "SuperK": ("Super-K", "#b4b4b4", (30.0, 3.0e-6)),
    "CHARM-II": ("CHARM-II", "#d7d7d7", (30.0, 3.0e-5)),
    "MINERvA": ("MINERvA", "#bebebe", (150.0, 2.0e-6)),
    "NOMAD": ("NOMAD", "#a8a8a8", (1250.0, 2.2e-5)),
}
#: MiniBooNE preferred regions: (names of the 95% CL parts, name of the 99.7% CL boundary, colour, label).
MINIBOONE_REGIONS: tuple[tuple[tuple[str, ...], str, str, str], ...] = (
    (
        ("MiniBooNE_EnuQE_95CL", "MiniBooNE_EnuQE_95CL_island"),
        "MiniBooNE_EnuQE_99.7CL",
        "#1f5fa8",
        r"MiniBooNE, $E_\nu^{\rm QE}$ fit",
    ),
    (("MiniBooNE_CosTheta_95CL",), "MiniBooNE_CosTheta_99.7CL", "#2a9d4a", r"MiniBooNE, $\cos\theta$ fit"),
)

_KEY_DIGITS = 12


@dataclass
class ExclusionShape:
    """The excluded region of one contour: closed ``loops`` and isolated vertical ``lines``
    as (k, 2) arrays of (m_MeV, d_GeVinv); ``strokes``: the boundary without the parts on the
    edge of the scan grid, as open or closed polylines of the same kind."""

    loops: list[NDArray[np.float64]] = field(default_factory=list)
    lines: list[NDArray[np.float64]] = field(default_factory=list)
    strokes: list[NDArray[np.float64]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.loops and not self.lines


def _intervals_by_mass(
    rows: Sequence[Mapping[str, Any]],
) -> tuple[NDArray[np.float64], list[list[tuple[float, float]]]]:
    """Contour rows -> (sorted masses in MeV, sorted (log d_low, log d_high) per mass)."""
    by_mass: dict[float, list[tuple[float, float]]] = {}
    for r in rows:
        m = float(r["m_MeV"])
        by_mass.setdefault(m, [])
        lo, hi = r.get("d_low_GeVinv"), r.get("d_high_GeVinv")
        if lo is None or hi is None:
            continue
        lo, hi = float(lo), float(hi)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo > 0 and hi >= lo):
            continue
        by_mass[m].append((math.log(lo), math.log(hi)))
    masses = np.array(sorted(by_mass))
    return masses, [sorted(by_mass[m]) for m in masses]


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _apex(x0: float, x1: float, y_hi0: float, y_hi1: float, y_lo0: float, y_lo1: float) -> tuple[float, float]:
    """Crossing of the line (x0, y_hi0)-(x1, y_hi1) with (x0, y_lo0)-(x1, y_lo1) (y_hi0 >= y_lo0, y_hi1 < y_lo1)."""
    den = (y_hi0 - y_lo0) + (y_lo1 - y_hi1)
    t = (y_hi0 - y_lo0) / den if den > 0 else 0.0
    return x0 + t * (x1 - x0), y_hi0 + t * (y_hi1 - y_hi0)


def _strip_groups(A: list[tuple[float, float]], B: list[tuple[float, float]]) -> list[tuple[list[int], list[int]]]:
    """Connected groups (indices into A, indices into B) of the overlap graph of two sorted interval lists."""
    groups: list[tuple[list[int], list[int]]] = []
    for i, a in enumerate(A):
        partners = [j for j, b in enumerate(B) if _overlap(a, b)]
        if not partners:
            continue
        if groups and (set(partners) & set(groups[-1][1])):
            ga, gb = groups[-1]
            ga.append(i)
            gb.extend(j for j in partners if j not in gb)
        else:
            groups.append(([i], list(partners)))
    return groups


def _strip_polygon(x0: float, x1: float, A, B, ia: list[int], ib: list[int]) -> list[tuple[float, float]]:
    """Union of the quadrilaterals of one staircase group, as a closed vertex list (see module doc)."""
    a = [A[i] for i in ia]
    b = [B[j] for j in ib]
    pts: list[tuple[float, float]] = [(x0, a[0][0]), (x1, b[0][0])]
    # right side, bottom to top, with a notch at every gap between consecutive b's
    for k, bk in enumerate(b):
        if k > 0:
            common = next(ai for ai in a if _overlap(ai, b[k - 1]) and _overlap(ai, bk))
            pts.append(_apex(x0, x1, common[1], b[k - 1][1], common[0], bk[0]))
            pts.append((x1, bk[0]))
        pts.append((x1, bk[1]))
    # left side, top to bottom, with a notch at every gap between consecutive a's
    for k in range(len(a) - 1, -1, -1):
        pts.append((x0, a[k][1]))
        pts.append((x0, a[k][0]))
        if k > 0:
            common = next(bj for bj in b if _overlap(bj, a[k - 1]) and _overlap(bj, a[k]))
            # notch opening to the left: lines from the b side towards a[k-1].hi and a[k].lo
            ax_, ay_ = _apex(x1, x0, common[1], a[k - 1][1], common[0], a[k][0])
            pts.append((ax_, ay_))
    return pts


def _key(p: tuple[float, float]) -> tuple[float, float]:
    return (round(p[0], _KEY_DIGITS), round(p[1], _KEY_DIGITS))


def _walk(segments: list[tuple[tuple[float, float], tuple[float, float]]]) -> list[list[tuple[float, float]]]:
    """Join segments that share end points into polylines (closed ones repeat their first point)."""
    adj: dict[tuple[float, float], list[int]] = {}
    for s, (p, q) in enumerate(segments):
        adj.setdefault(_key(p), []).append(s)
        adj.setdefault(_key(q), []).append(s)
    used = [False] * len(segments)

    def extend(path: list[tuple[float, float]]) -> None:
        while True:
            nxt = next((s for s in adj[_key(path[-1])] if not used[s]), None)
            if nxt is None:
                return
            used[nxt] = True
            p, q = segments[nxt]
            path.append(q if _key(p) == _key(path[-1]) else p)

    out = []
    # open chains first: start at vertices of odd degree
    for v, segs in adj.items():
        if len(segs) % 2 == 1:
            for s in segs:
                if not used[s]:
                    used[s] = True
                    p, q = segments[s]
                    path = [p, q] if _key(p) == v else [q, p]
                    extend(path)
                    out.append(path)
    for s in range(len(segments)):
        if not used[s]:
            used[s] = True
            path = list(segments[s])
            extend(path)
            out.append(path)
    return out


def exclusion_boundary(rows: Sequence[Mapping[str, Any]], d_grid: tuple[float, float] | None = None) -> ExclusionShape:
    """The excluded region of contour ``rows`` (``ScanResult.contour``) as loops, lines and strokes.

    ``d_grid``: (smallest, largest) coupling of the scan; boundary segments lying on it (and
    vertical segments at the first or last scan mass) are left out of ``strokes``.
    """
    masses, ivs = _intervals_by_mass(rows)
    out = ExclusionShape()
    if masses.size == 0:
        return out
    xs = np.log(masses)
    segs: list[tuple[tuple[float, float], tuple[float, float]]] = []
    left_used: list[set[int]] = [set() for _ in masses]  # intervals with a partner in the strip to their right
    right_used: list[set[int]] = [set() for _ in masses]  # ... in the strip to their left
    for i in range(masses.size - 1):
        A, B = ivs[i], ivs[i + 1]
        for ia, ib in _strip_groups(A, B):
            left_used[i].update(ia)
            right_used[i + 1].update(ib)
            poly = _strip_polygon(float(xs[i]), float(xs[i + 1]), A, B, ia, ib)
            for k in range(len(poly)):
                p, q = poly[k], poly[(k + 1) % len(poly)]
                if p[0] == q[0] and p[0] in (xs[i], xs[i + 1]):
                    continue  # vertical interval edges: added below, once, where they are boundary
                if _key(p) != _key(q):
                    segs.append((p, q))
    for i, x in enumerate(xs):
        for j, (lo, hi) in enumerate(ivs[i]):
            n_sides = (j in left_used[i]) + (j in right_used[i])
            if n_sides == 1:
                segs.append(((float(x), lo), (float(x), hi)))
            elif n_sides == 0:
                out.lines.append(np.array([[masses[i], math.exp(lo)], [masses[i], math.exp(hi)]]))
    for path in _walk(segs):
        arr = np.exp(np.array(path))
        if len(path) > 2 and _key(path[0]) == _key(path[-1]):
            out.loops.append(arr[:-1])
        else:  # cannot happen for a consistent region; keep it visible
            out.lines.append(arr)
    # strokes: the boundary without the parts on the edge of the grid
    y_edges = (math.log(d_grid[0]), math.log(d_grid[1])) if d_grid else None
    x_edges = (float(xs[0]), float(xs[-1]))

    def on_grid_edge(p, q) -> bool:
        if y_edges and any(abs(p[1] - y) < 1e-9 and abs(q[1] - y) < 1e-9 for y in y_edges):
            return True
        return masses.size > 1 and any(abs(p[0] - x) < 1e-12 and abs(q[0] - x) < 1e-12 for x in x_edges)

    stroke_segs = [(p, q) for p, q in segs if not on_grid_edge(p, q)]
    out.strokes = [np.exp(np.array(path)) for path in _walk(stroke_segs)]
    out.strokes += [ln for ln in out.lines]
    return out


def _level(scan, cl: float | None = None, sigma: float | None = None, label: str | None = None):
    """The level of ``scan.analysis`` with that label, or significance, or CL (first match)."""
    levels = list(scan.analysis.levels())
    for lev in levels:
        if label is not None and lev.label == label:
            return lev
        if label is None and sigma is not None and lev.sigma is not None and abs(lev.sigma - sigma) < 1e-9:
            return lev
        if label is None and sigma is None and cl is not None and lev.sigma is None and abs(lev.cl - cl) < 1e-9:
            return lev
    return None


def scan_shape(scan, level, which: str = "nominal") -> ExclusionShape:
    """:func:`exclusion_boundary` of one contour of a scan."""
    c = np.asarray(scan.couplings, dtype=float)
    return exclusion_boundary(scan.contour(level, which), (float(c[0]), float(c[-1])))


def _compound_path(loops: list[NDArray[np.float64]]) -> MplPath:
    verts, codes = [], []
    for lp in loops:
        verts.extend(lp.tolist() + [lp[0].tolist()])
        codes.extend([MplPath.MOVETO] + [MplPath.LINETO] * (len(lp) - 1) + [MplPath.CLOSEPOLY])
    return MplPath(np.array(verts), codes)


def _fill_shape(ax: Axes, shape: ExclusionShape, **kw: Any) -> None:
    if shape.loops:
        ax.add_patch(PathPatch(_compound_path(shape.loops), **kw))
    lw = kw.get("linewidth", 0.8)
    for ln in shape.lines:
        ax.plot(
            ln[:, 0],
            ln[:, 1],
            color=kw.get("facecolor", OUR_RED),
            linewidth=max(lw, 0.8),
            zorder=kw.get("zorder", 4),
            solid_capstyle="butt",
        )


def _stroke_shape(ax: Axes, shape: ExclusionShape, **kw: Any) -> None:
    for s in shape.strokes:
        ax.plot(s[:, 0], s[:, 1], **kw)


def _draw_external(ax: Axes, show_labels: bool = True) -> None:
    from dipolehnl.analysis.limits import load_external_limits

    lims = load_external_limits()
    for name, lim in lims.items():
        if lim.kind != "excluded_above_curve" or not lim.drawn_in_paper:
            continue
        label, shade, pos = EXTERNAL_STYLE.get(name, (name, "#b0b0b0", None))
        poly = 10.0 ** np.asarray(lim.polygon_log)
        ax.fill(poly[:, 0], poly[:, 1], facecolor=shade, edgecolor="none", alpha=0.75, zorder=1)
        m, d = lim.points_for_plot()
        ax.plot(m, d, color="0.35", linewidth=0.6, zorder=1.5)
        if lim.shape == "closed":
            ax.plot(np.r_[m, m[:1]], np.r_[d, d[:1]], color="0.35", linewidth=0.6, zorder=1.5)
        if show_labels:
            if pos is None:
                i = int(np.argmin(d))
                pos = (float(m[i]), float(d[i]) * 4.0)
            ax.text(
                pos[0],
                pos[1],
                label,
                fontsize=5.8,
                color="0.1",
                ha="left" if pos[0] < 11 else "center",
                va="center",
                zorder=6,
            )


def _draw_miniboone(ax: Axes, show_997: bool = True) -> list[Any]:
    from dipolehnl.analysis.limits import load_external_limits

    lims = load_external_limits()
    handles: list[Artist] = []
    for parts, outer, color, label in MINIBOONE_REGIONS:
        for nm in parts:
            if nm not in lims:
                continue
            m, d = lims[nm].points_for_plot()
            ax.fill(m, d, facecolor=color, alpha=0.28, edgecolor="none", zorder=5)
            ax.plot(m, d, color=color, linewidth=0.9, zorder=5.5)
        if show_997 and outer in lims:
            m, d = lims[outer].points_for_plot()
            ax.plot(m, d, color=color, linewidth=0.5, linestyle="-", alpha=0.9, zorder=5.5)
        handles.append(Patch(facecolor=(*_rgb(color), 0.28), edgecolor=color, linewidth=0.9, label=label + ", 95% CL"))
    if show_997:
        handles.append(Line2D([], [], color="0.3", linewidth=0.5, label="MiniBooNE, 99.7% CL"))
    return handles


def _rgb(c: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(c)


def plot_constraints(
    out_dir: str | os.PathLike[str],
    constraint,
    sensitivity=None,
    extra: Mapping[str, tuple[Any, Mapping[str, Any]]] | None = None,
    show_external: bool = True,
    *,
    stem: str = "fig4_constraints",
    miniboone_regions: Mapping[str, Sequence[Any]] | None = None,
    modelling_band: tuple[Any, Any, Any] | None = None,
) -> list[Path]:
    """Draw Fig. 4; write ``<stem>.png`` and ``<stem>.pdf`` in ``out_dir``; return the paths.

    ``constraint``: ScanResult of ``t2k2019`` (95% CL region filled, flux ±1σ contours as
    thin lines).  ``sensitivity``: ScanResult of ``t2k+t2k2`` (95% CL dashed, 5σ dotted).
    ``extra``: label -> (ScanResult, line style) overlays: the boundary of a level of the
    scan drawn with ``ax.plot`` keywords; the optional style keys ``level`` (a level label,
    e.g. "5 sigma") and ``which`` ("nominal", "flux_minus", "flux_plus") choose the contour
    (default: the 95% CL level, nominal).  ``show_external``: other experiments' limits and
    the MiniBooNE preferred regions.  ``miniboone_regions``: our recomputed MiniBooNE
    regions, label -> closed polygons ((k, 2) arrays of m_MeV, d_GeVinv), drawn as outlines.
    ``modelling_band``: (m_MeV, d_low, d_high) arrays, the
    modelling-uncertainty band of the constraint's lower edge (``analysis.modelling.band_curve``),
    drawn as a hatched band.
    """
    lev = _level(constraint, cl=0.95) or (constraint.analysis.levels()[0] if constraint.analysis.levels() else None)
    if lev is None:
        raise InputError(f"analysis {constraint.analysis.name!r} has no confidence level")
    with style_context():
        fig = new_figure(SINGLE_COLUMN_IN, 3.9)
        ax = fig.add_axes((0.17, 0.33, 0.79, 0.65))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(*M_RANGE_MEV)
        ax.set_ylim(*D_RANGE_GEVINV)
        handles: list[Any] = []
        if show_external:
            _draw_external(ax)
        # our constraint
        nominal = scan_shape(constraint, lev, "nominal")
        _fill_shape(ax, nominal, facecolor=OUR_RED, edgecolor="none", alpha=0.6, zorder=4)
        _stroke_shape(ax, nominal, color=OUR_RED, linewidth=1.0, zorder=4.2)
        handles.append(
            Patch(
                facecolor=(*_rgb(OUR_RED), 0.6),
                edgecolor=OUR_RED,
                linewidth=1.0,
                label=f"T2K 2019 (this work), {lev.label}",
            )
        )
        for which in ("flux_minus", "flux_plus"):
            _stroke_shape(ax, scan_shape(constraint, lev, which), color=OUR_DARK_RED, linewidth=0.45, zorder=4.3)
        handles.append(Line2D([], [], color=OUR_DARK_RED, linewidth=0.45, label=r"flux $\pm1\sigma$"))
        if modelling_band is not None:
            mb, lo, hi = (np.asarray(a, dtype=float) for a in modelling_band)
            ok = np.isfinite(lo) & np.isfinite(hi)
            ax.fill_between(
                mb,
                np.where(ok, lo, np.nan),
                np.where(ok, hi, np.nan),
                facecolor="none",
                edgecolor=OUR_DARK_RED,
                hatch="/////",
                linewidth=0.0,
                zorder=4.25,
            )
            handles.append(
                Patch(
                    facecolor="none",
                    edgecolor=OUR_DARK_RED,
                    hatch="/////",
                    linewidth=0.0,
                    label="modelling uncertainty (lower edge)",
                )
            )
        if sensitivity is not None:
            sensitivity_lines: list[tuple[dict[str, Any], Any, str]] = [
                ({"linestyle": (0, (4.0, 2.0))}, _level(sensitivity, cl=0.95), "95% CL"),
                ({"linestyle": (0, (1.0, 1.3))}, _level(sensitivity, sigma=5.0), r"5$\sigma$"),
            ]
            for kw, lv, lab in sensitivity_lines:
                if lv is None:
                    continue
                _stroke_shape(ax, scan_shape(sensitivity, lv), color=OUR_RED, linewidth=1.2, zorder=4.5, **kw)
                handles.append(Line2D([], [], color=OUR_RED, linewidth=1.2, label=f"T2K + T2K-II sens., {lab}", **kw))
        for label, (scan, style) in (extra or {}).items():
            st = dict(style)
            lv_label = st.pop("level", None)
            which = st.pop("which", "nominal")
            lv = _level(scan, label=lv_label) if lv_label else (_level(scan, cl=0.95) or scan.analysis.levels()[0])
            if lv is None:
                raise InputError(f"overlay {label!r}: no level {lv_label!r} in {scan.analysis.name}")
            st.setdefault("color", "black")
            st.setdefault("linewidth", 0.9)
            st.setdefault("zorder", 4.6)
            _stroke_shape(ax, scan_shape(scan, lv, which), **st)
            handles.append(Line2D([], [], label=label, **{k: v for k, v in st.items() if k != "zorder"}))
        if show_external:
            handles += _draw_miniboone(ax)
        # --- our MiniBooNE regions (issue 10) ---
        for k, (label, polys) in enumerate((miniboone_regions or {}).items()):
            region_style: dict[str, Any] = {
                "color": ("#1f3f99", "#b35806", "#1f3f99", "#b35806")[k % 4],
                "linewidth": 1.0,
                "linestyle": ("-", "-", (0, (3.0, 1.5)), (0, (3.0, 1.5)))[k % 4],
            }
            for poly in polys:
                ax.plot(np.asarray(poly)[:, 0], np.asarray(poly)[:, 1], zorder=5.8, **region_style)
            handles.append(Line2D([], [], label=label, **region_style))
        # --- end our MiniBooNE regions ---
        ax.set_xlabel(r"$m_N$ (MeV)")
        # overlays on the coupling to nu_e (their label names d_eN) widen the axis label
        with_e = any("d_{eN}" in lbl for lbl in (extra or {}))
        ax.set_ylabel(r"$d_{\mu N}$, $d_{eN}$ (GeV$^{-1}$)" if with_e else r"$d_{\mu N}$ (GeV$^{-1}$)")
        ticks = [10, 20, 50, 100, 200, 500, 1000, 2000]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FixedFormatter([f"{t:g}" for t in ticks]))
        ax.xaxis.set_minor_formatter(NullFormatter())
        # legend below the axes, so that it hides nothing
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.45, -0.13),
            ncol=2,
            fontsize=5.6,
            handlelength=2.2,
            labelspacing=0.3,
            columnspacing=1.0,
            borderaxespad=0.0,
            frameon=False,
        )
        return save_figure(fig, out_dir, stem)
