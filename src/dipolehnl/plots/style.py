"""Publication style shared by all figures: fonts, sizes, saving, material colours.

Figures are built with :class:`matplotlib.figure.Figure` on an explicit Agg canvas
(:func:`new_figure`), never through ``pyplot``, so nothing needs a display and no global
figure state is kept.  The style is applied either globally (:func:`apply_style`) or,
as the plotting functions of this package do, for one figure only (:func:`style_context`).

Sizes: single-column figures are :data:`SINGLE_COLUMN_IN` = 3.4 in wide, double-column
ones :data:`DOUBLE_COLUMN_IN` = 7 in.  Fonts are DejaVu Serif (shipped with matplotlib,
so present on a bare machine) with DejaVu math, 8 pt text and 7 pt ticks/legends.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.typing import ColorType, RcKeyType

from dipolehnl.errors import InputError
from dipolehnl.io import atomic_path

#: Width of a single-column figure (inches).
SINGLE_COLUMN_IN: float = 3.4
#: Width of a double-column figure (inches).
DOUBLE_COLUMN_IN: float = 7.0
#: Resolution of the PNG files (dots per inch).
PNG_DPI: int = 200

#: rcParams of the publication style.
PUBLICATION_RC: dict[RcKeyType, Any] = {
    "font.family": "serif",
    "font.serif": ["DejaVu Serif"],
    "mathtext.fontset": "dejavuserif",
    "font.size": 8.0,
    "axes.labelsize": 8.0,
    "axes.titlesize": 8.0,
    "legend.fontsize": 7.0,
    "xtick.labelsize": 7.0,
    "ytick.labelsize": 7.0,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.2,
    "patch.linewidth": 0.6,
    "xtick.direction": "in",
    "ytick.direction": "in",
    "xtick.top": True,
    "ytick.right": True,
    "xtick.minor.visible": True,
    "ytick.minor.visible": True,
    "xtick.major.size": 3.5,
    "ytick.major.size": 3.5,
    "xtick.minor.size": 2.0,
    "ytick.minor.size": 2.0,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.minor.width": 0.5,
    "ytick.minor.width": 0.5,
    "legend.frameon": False,
    "legend.handlelength": 2.2,
    "figure.dpi": 100,
    "savefig.dpi": PNG_DPI,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.03,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "axes.unicode_minus": True,
}

#: Colour of every material of the shipped detector models (SIREN material names).
MATERIAL_COLORS: dict[str, str] = {
    "ROCK": "#8c6d46",
    "AIR": "#eeeeee",
    "IRON": "#505050",
    "ALUM": "#a9bccf",
    "LEAD": "#34346b",
    "BRASS": "#d4a017",
    "SCINT": "#74c476",
    "WATER": "#4a90d9",
    "H2OSCINT": "#1f8a8a",
    "FGDbox": "#f4a582",
    "old_TPC_padding": "#c7a3d9",
    "TPC_padding": "#9e86c8",
    "GAS": "#fff4b8",
    "sFGD_box": "#fdbf6f",
    "sFGD_cubes": "#e6550d",
    "TOF_scint": "#6a3d9a",
}

#: Human-readable legend labels of the materials.
MATERIAL_LABELS: dict[str, str] = {
    "ROCK": "rock",
    "AIR": "air",
    "IRON": "iron (magnet yoke)",
    "ALUM": "aluminium (coils)",
    "LEAD": "lead",
    "BRASS": "brass",
    "SCINT": "scintillator",
    "WATER": "water",
    "H2OSCINT": "scintillator + water",
    "FGDbox": "FGD box",
    "old_TPC_padding": "TPC shell",
    "TPC_padding": "HA-TPC shell",
    "GAS": r"TPC gas (Ar:CF$_4$:iC$_4$H$_{10}$)",
    "sFGD_box": "SuperFGD box",
    "sFGD_cubes": "SuperFGD cubes",
    "TOF_scint": "ToF scintillator",
}

#: Colour of the fiducial-volume outlines; no material uses it (tests look for it in the PNG).
FIDUCIAL_COLOR: str = "#e6007e"

# Fallback palette for unknown materials (Okabe-Ito and tab10-like hues, none near FIDUCIAL_COLOR).
_FALLBACK_PALETTE: tuple[str, ...] = (
    "#0072b2",
    "#009e73",
    "#56b4e9",
    "#f0e442",
    "#d55e00",
    "#999933",
    "#88ccee",
    "#44aa99",
    "#117733",
    "#ddcc77",
    "#882255",
    "#aa4499",
    "#bbbbbb",
    "#332288",
    "#cc6677",
    "#8da0cb",
)


def material_color(name: str) -> str:
    """Colour (hex) of a material: :data:`MATERIAL_COLORS`, else a deterministic pick.

    Unknown names get a colour from a fixed palette chosen by the MD5 hash of the name,
    so the same name always gets the same colour, across runs and machines.
    """
    if name in MATERIAL_COLORS:
        return MATERIAL_COLORS[name]
    digest = hashlib.md5(str(name).encode("utf-8")).digest()
    return _FALLBACK_PALETTE[int.from_bytes(digest[:4], "big") % len(_FALLBACK_PALETTE)]


def material_label(name: str) -> str:
    """Legend label of a material (its name if unknown)."""
    return MATERIAL_LABELS.get(name, str(name))


def color_distance(a: ColorType, b: ColorType) -> float:
    """Euclidean distance of two colours in RGB (0-1 per channel), for tests and checks."""
    ra, rb = to_rgb(a), to_rgb(b)
    return float(sum((x - y) ** 2 for x, y in zip(ra, rb)) ** 0.5)


def apply_style() -> None:
    """Apply :data:`PUBLICATION_RC` to matplotlib's global rcParams."""
    matplotlib.rcParams.update(PUBLICATION_RC)


@contextmanager
def style_context() -> Iterator[None]:
    """The publication style for the duration of a ``with`` block (global rcParams restored after)."""
    with matplotlib.rc_context(PUBLICATION_RC):
        yield


def new_figure(width_in: float = SINGLE_COLUMN_IN, height_in: float | None = None, **kwargs: Any) -> Figure:
    """A Figure on an Agg canvas (no pyplot, no display); height defaults to 0.75 x width."""
    h = 0.75 * width_in if height_in is None else height_in
    fig = Figure(figsize=(width_in, h), **kwargs)
    FigureCanvasAgg(fig)
    return fig


def save_figure(
    fig: Figure,
    out_dir: str | os.PathLike[str],
    stem: str,
    formats: Sequence[str] = ("png", "pdf"),
    dpi: int = PNG_DPI,
) -> list[Path]:
    """Write ``<out_dir>/<stem>.<fmt>`` for each format, atomically; return the paths.

    Each file is written to a temporary name (``dipolehnl.io.atomic_path``, suffix .tmp,
    so the format is passed explicitly) and renamed.  PDFs carry no creation date, so
    identical figures give identical files.
    """
    if not stem or os.sep in stem or (os.altsep and os.altsep in stem):
        raise InputError(f"figure stem must be a plain file name, got {stem!r}")
    out: list[Path] = []
    for fmt in formats:
        f = str(fmt).lower().lstrip(".")
        if f not in ("png", "pdf", "svg"):
            raise InputError(f"unsupported figure format {fmt!r} (png, pdf, svg)")
        path = Path(out_dir) / f"{stem}.{f}"
        meta: dict[str, Any] = {"CreationDate": None} if f == "pdf" else {}
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=f, dpi=dpi, bbox_inches="tight", metadata=meta or None)
        out.append(path)
    return out


def hex_color(c: ColorType) -> str:
    """Any matplotlib colour as '#rrggbb'."""
    return to_hex(c, keep_alpha=False)
