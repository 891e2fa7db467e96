"""Figure 1: side view (z horizontal, y vertical) of ND280 and its upgrade.

The view is the x = 0 slice of the detector model, coloured by material.  The slice is
evaluated with :meth:`dipolehnl.detector.Detector.volume_at`, so the precedence rule of
the model (a later volume hides earlier ones) is applied exactly: the (z, y) plane is cut
into the cells of the grid of all box faces crossing the slice (plus a uniform grid if
the model has non-box solids), and every cell is painted with the material of the
volume visible at its centre.  For box-only models this is exact at any zoom.

The analysis fiducial volumes (``Detector.fiducial_volumes``) are outlined dashed in
:data:`~dipolehnl.plots.style.FIDUCIAL_COLOR` and labelled; the legend lists every
material of the models (including the upstream rock, outside the zoomed window).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.patches import Patch, Rectangle
from numpy.typing import NDArray

from dipolehnl.detector import Box, Detector, load_detector
from dipolehnl.errors import InputError
from dipolehnl.plots.style import (
    DOUBLE_COLUMN_IN,
    FIDUCIAL_COLOR,
    material_color,
    material_label,
    new_figure,
    save_figure,
    style_context,
)

#: Default zoom window (m): the UA1 magnet and everything inside it.
DEFAULT_Z_RANGE_M: tuple[float, float] = (-4.5, 4.5)
DEFAULT_Y_RANGE_M: tuple[float, float] = (-3.5, 3.5)
#: Panel titles of the shipped models.
DETECTOR_TITLES: dict[str, str] = {"nd280": "ND280", "nd280-upgrade": "ND280 upgrade"}
#: Labels of the fiducial volumes of the shipped models.
FIDUCIAL_LABELS: dict[str, str] = {
    "TPC1": "TPC1",
    "TPC2": "TPC2",
    "TPC3": "TPC3",
    "HATPC_top": "HA-TPC top",
    "HATPC_bottom": "HA-TPC bottom",
}


def slice_cells(
    detector: Detector,
    z_range_m: tuple[float, float] = DEFAULT_Z_RANGE_M,
    y_range_m: tuple[float, float] = DEFAULT_Y_RANGE_M,
    x_m: float = 0.0,
    step_m: float = 0.01,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Cells of the x = ``x_m`` slice: (z edges, y edges, visible volume index per cell).

    The edges are the window bounds and every box face (in z and y) of a volume that
    crosses the slice inside the window; if a non-box volume crosses the window a uniform
    grid of spacing ``step_m`` is added.  ``index[i, j]`` is the volume seen at the centre
    of cell (y bin i, z bin j), -1 outside every volume.  Lengths in m.
    """
    (z0, z1), (y0, y1) = (map(float, z_range_m)), (map(float, y_range_m))
    if not (z1 > z0 and y1 > y0):
        raise InputError(f"empty window z {z_range_m}, y {y_range_m}")
    zs: list[float] = [z0, z1]
    ys: list[float] = [y0, y1]
    curved = False
    for v in detector.volumes:
        lo, hi = v.shape.bounds_m
        if not (lo[0] <= x_m <= hi[0]) or hi[2] < z0 or lo[2] > z1 or hi[1] < y0 or lo[1] > y1:
            continue
        if isinstance(v.shape, Box):
            zs += [float(lo[2]), float(hi[2])]
            ys += [float(lo[1]), float(hi[1])]
        else:
            curved = True
    if curved:
        zs += list(np.arange(z0, z1, step_m))
        ys += list(np.arange(y0, y1, step_m))
    z_edges = np.unique(np.clip(zs, z0, z1))
    y_edges = np.unique(np.clip(ys, y0, y1))
    zc = 0.5 * (z_edges[1:] + z_edges[:-1])
    yc = 0.5 * (y_edges[1:] + y_edges[:-1])
    Z, Y = np.meshgrid(zc, yc)
    pts = np.column_stack([np.full(Z.size, float(x_m)), Y.ravel(), Z.ravel()])
    index = detector.volume_at(pts).reshape(Y.shape)
    return z_edges, y_edges, index


def _materials_of(detectors: Sequence[Detector]) -> list[str]:
    names: list[str] = []
    for det in detectors:
        for v in det.volumes:
            if v.material.name not in names:
                names.append(v.material.name)
    return names


def _draw_detector(
    ax: Axes,
    det: Detector,
    materials: list[str],
    z_range_m: tuple[float, float],
    y_range_m: tuple[float, float],
) -> None:
    z_edges, y_edges, vol_index = slice_cells(det, z_range_m, y_range_m)
    mat_of_volume = np.array([materials.index(v.material.name) for v in det.volumes] + [-1])
    mat_index = np.where(vol_index >= 0, mat_of_volume[vol_index], -1)
    colors = ["#ffffff"] + [material_color(m) for m in materials]  # index -1 -> white
    cmap = ListedColormap(colors)
    norm = BoundaryNorm(np.arange(-1.5, len(materials) + 0.5, 1.0), cmap.N)
    ax.pcolormesh(
        z_edges,
        y_edges,
        mat_index,
        cmap=cmap,
        norm=norm,
        shading="flat",
        rasterized=True,
        antialiased=False,
        linewidth=0,
    )
    # fiducial volumes: outline and label
    for name, box in det.fiducial_volumes.items():
        lo, hi = box.bounds_m  # a box: its corners; another shape: its bounding box
        ax.add_patch(
            Rectangle(
                (lo[2], lo[1]),
                hi[2] - lo[2],
                hi[1] - lo[1],
                fill=False,
                edgecolor=FIDUCIAL_COLOR,
                linewidth=1.1,
                linestyle=(0, (4.0, 2.0)),
                zorder=5,
            )
        )
        label = FIDUCIAL_LABELS.get(name, name)
        ax.text(
            0.5 * (lo[2] + hi[2]),
            0.5 * (lo[1] + hi[1]),
            label,
            ha="center",
            va="center",
            fontsize=6.0,
            color="black",
            zorder=6,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.75},
        )
    ax.set_xlim(*z_range_m)
    ax.set_ylim(*y_range_m)
    ax.set_aspect("equal")
    ax.set_ylabel(r"$y$ (m)")


def plot_geometry(
    out_dir: str | os.PathLike[str],
    detectors: Sequence[str] = ("nd280", "nd280-upgrade"),
    *,
    z_range_m: tuple[float, float] = DEFAULT_Z_RANGE_M,
    y_range_m: tuple[float, float] = DEFAULT_Y_RANGE_M,
    stem: str = "fig1_geometry",
) -> list[Path]:
    """Draw the x = 0 side view of each detector (one panel each, top to bottom).

    Writes ``<stem>.png`` and ``<stem>.pdf`` in ``out_dir`` (atomically) and returns
    their paths.  ``detectors`` are shipped model names or detector files (see
    :func:`dipolehnl.detector.load_detector`); the zoom window is in metres.
    """
    names = list(detectors)
    if not names:
        raise InputError("no detector to draw")
    dets = [load_detector(n) for n in names]
    materials = _materials_of(dets)
    zspan = z_range_m[1] - z_range_m[0]
    yspan = y_range_m[1] - y_range_m[0]
    panel_w = 4.3  # inches of axes width; height follows the equal aspect
    panel_h = panel_w * yspan / zspan
    with style_context():
        fig = new_figure(DOUBLE_COLUMN_IN, len(dets) * (panel_h + 0.18) + 0.55)
        left, right = 0.75 / DOUBLE_COLUMN_IN, (0.75 + panel_w) / DOUBLE_COLUMN_IN
        axes = fig.subplots(len(dets), 1, sharex=True, squeeze=False)[:, 0]
        fig.subplots_adjust(left=left, right=right, top=0.985, bottom=0.5 / fig.get_figheight(), hspace=0.06)
        for i, (ax, name, det) in enumerate(zip(axes, names, dets)):
            _draw_detector(ax, det, materials, z_range_m, y_range_m)
            title = DETECTOR_TITLES.get(name, det.name)
            ax.text(
                0.985,
                0.985,
                title,
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=7.5,
                fontweight="bold",
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "0.6", "linewidth": 0.5},
                zorder=7,
            )
            # beam direction (along +z) in the band of hall air above the yoke
            y_arrow = y_range_m[1] - 0.03 * yspan
            z_a = z_range_m[0] + 0.03 * zspan
            ax.annotate(
                "",
                xy=(z_a + 0.13 * zspan, y_arrow),
                xytext=(z_a, y_arrow),
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.0, "mutation_scale": 8},
                zorder=7,
            )
            ax.text(z_a + 0.145 * zspan, y_arrow, r"$\nu$ beam", ha="left", va="center", fontsize=7, zorder=7)
            ax.tick_params(which="both", labelbottom=(i == len(dets) - 1))
        axes[-1].set_xlabel(r"$z$ (m)")
        handles = [
            Patch(facecolor=material_color(m), edgecolor="0.35", linewidth=0.4, label=material_label(m))
            for m in materials
        ]
        handles.append(
            Patch(
                facecolor="none",
                edgecolor=FIDUCIAL_COLOR,
                linewidth=1.1,
                linestyle=(0, (4.0, 2.0)),
                label="analysis fiducial volume",
            )
        )
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(right + 0.015, 0.985),
            frameon=False,
            fontsize=7,
            handlelength=1.6,
            handleheight=1.1,
            borderaxespad=0.0,
            title="material (x = 0 slice)",
            title_fontsize=7,
            alignment="left",
        )
        note = (
            "Not shown: the rock (2.9 g/cm$^3$)\n"
            "fills $z \\in [-292, -18.5]$ m upstream\n"
            "of the 19 m $\\times$ 19 m $\\times$ 37 m hall\n"
            "that holds the magnet."
        )
        fig.text(right + 0.015, 0.5 / fig.get_figheight(), note, ha="left", va="bottom", fontsize=6.2, color="0.25")
        return save_figure(fig, out_dir, stem)
