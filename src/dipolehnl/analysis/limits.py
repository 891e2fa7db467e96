"""Other experiments' limits and the MiniBooNE preferred regions (arXiv:2412.15051, Fig. 4).

Data: ``dipolehnl/analysis/data/limits/*.csv``, copies of the digitised curves of the
reproduction's reference folder, and ``registry.toml``, the registry of those curves
(validated by :class:`LimitRegistry`, listed in docs/limits.md): for every curve its source
(paper, arXiv id, figure), the variable and units the source plots, the source's coupling and
width convention, the conversion that produced the CSV, ``factor_to_ours`` (applied at load
time; 1 for every bundled curve), confidence level, excluded side, and for the curves whose
public copies disagree (CHARM-II, NOMAD, MINERvA) the alternatives with their factors.

API: :func:`load_registry`, :func:`registry_entry`, :func:`limit_in_our_convention`
(optionally one alternative), :func:`limit_alternatives`, :func:`strongest_external` and
:func:`world_leading_mass_ranges` (``alternative=`` label), :func:`world_leading_alternatives`
(nominal and every alternative), :func:`registry_markdown` (docs/limits.md).

Every CSV file starts with '#' lines::

    # <name>: <note>
    # kind: excluded_above_curve | preferred_region      (absent for the |U|^2 curves)
    # units: ...
    m_MeV,<value column>

Masses are in MeV, couplings d_muN in GeV^-1, |U_muN|^2 dimensionless.

Geometry (all of it in log space, x = log10(m/MeV), y = log10 value)
--------------------------------------------------------------------
The files are digitised drawings, not all of them graphs of a function, so every
limit is turned into a polygon in log space:

* ``excluded_above_curve``, open curve (Borexino, CHARM-II, LSND, MINERvA, NOMAD,
  SN1987A): the points in file order, closed over the top at ``OPEN_EXTENT_DECADES``
  above the highest point.  The excluded region is everything above the curve within
  the curve's mass range; couplings above the closure are clamped to it, so they count
  as excluded.  CHARM-II and LSND end in an almost vertical, slightly non-monotonic
  right edge (m = 137-139 MeV, resp. 66-70 MeV): the polygon handles it, whereas a
  plain interpolation in m would not.
* ``excluded_above_curve`` whose note says "closed region" (SuperK): the points are
  digitiser output sorted by mass, the lower and the upper-right branch interleaved.
  They are re-ordered into an x-monotone polygon: points above the straight line (in
  log space) from the leftmost to the rightmost point form the upper chain (traversed
  right to left), the others the lower chain (left to right).  Only the inside is
  excluded (the region is *not* extended above its top edge at d = 1e-5 GeV^-1).
* ``preferred_region`` that turns back in mass (MiniBooNE_*_95CL, CosTheta_99.7CL,
  the 95% island): a closed contour in file order.
* ``preferred_region`` whose masses increase monotonically (MiniBooNE_EnuQE_99.7CL):
  only the upper-left boundary of the region was digitised.  The 99.7% CL region must
  contain the 95% CL one, which lies *below* this curve, so the region is taken as
  everything below the curve within its mass range (shape ``'open_below'``); its
  log-area is undefined unless a floor is given.
* ``Umu2`` curves (supplemental Fig. 1): graphs, sorted by mass (AFH2022_T2K2019 has
  two digitised points out of order), log-log interpolated.

Point-in-polygon tests use the even-odd rule (compiled, ``points_in_polygon``; the same
answers as ``matplotlib.path.Path.contains_points``), self-intersection checks matplotlib's
``Path.intersects_path``; areas are the shoelace formula.

``excluded_d(m)`` is the lower edge of a region at mass m (the minimum over the
polygon's edges crossing the vertical line), which is log-log interpolation for an
ordinary curve; NaN outside the mass range.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dipolehnl.constants import E_EM, M_E_GEV
from dipolehnl.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LimitKind = Literal["excluded_above_curve", "preferred_region", "Umu2"]
KINDS: tuple[str, ...] = ("excluded_above_curve", "preferred_region", "Umu2")
SHAPES: tuple[str, ...] = ("open_above", "closed", "open_below", "graph")

#: How far (in decades) open curves are closed above (excluded limits) or below (open preferred boundaries).
OPEN_EXTENT_DECADES: float = 12.0

_CLAMP_EPS = 1e-9
_CHUNK = 2048  # points per block of the vectorised boundary envelope (bounds memory)


# ---------------------------------------------------------------------------------------
# Polygon helpers (log space)
# ---------------------------------------------------------------------------------------
def _edges(poly: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    p1 = poly
    p2 = np.roll(poly, -1, axis=0)
    return p1[:, 0], p1[:, 1], p2[:, 0], p2[:, 1]


def points_in_polygon(x: ArrayLike, y: ArrayLike, poly: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Point-in-polygon test by the even-odd rule, vectorised over the points.

    ``poly`` has shape (k, 2) and is closed implicitly (last vertex joined to the first).  A
    point is inside if a ray from it towards +x crosses the boundary an odd number of times
    (an edge counts where its ends lie on either side of the point's y: the half-open rule
    y1 > y ≠ y2 > y, so that a vertex is not counted twice).  Points exactly on an edge may
    fall on either side.  Compiled (``analysis._kernels.crossings_odd``); the same answer as
    ``matplotlib.path.Path.contains_points`` (tests/test_limits.py), without importing
    matplotlib where no figure is drawn.
    """
    from dipolehnl.analysis._kernels import crossings_odd

    X, Y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    p = np.ascontiguousarray(poly, dtype=float)
    if p.ndim != 2 or p.shape[1] != 2:
        raise InputError(f"a polygon must have shape (k, 2), got {p.shape}")
    out = np.zeros(X.size, dtype=np.uint8)
    if p.shape[0] >= 3:
        crossings_odd(np.ascontiguousarray(X.ravel()), np.ascontiguousarray(Y.ravel()), p, out)
    return out.astype(bool).reshape(X.shape)


def polygon_area(poly: NDArray[np.float64]) -> float:
    """Unsigned area of a simple polygon (here in decades^2): the shoelace formula (Green's theorem)."""
    x1, y1, x2, y2 = _edges(np.asarray(poly, dtype=float))
    return float(abs(np.sum(x1 * y2 - x2 * y1)) / 2.0)


def _envelope(x: ArrayLike, poly: NDArray[np.float64], lower: bool) -> NDArray[np.float64]:
    """Lowest (or highest) y of the polygon boundary on the vertical line at x; NaN if none."""
    X = np.asarray(x, dtype=float)
    Xr = X.ravel()
    x1, y1, x2, y2 = (a[None, :] for a in _edges(poly))
    lo_x, hi_x = np.minimum(x1, x2), np.maximum(x1, x2)
    vertical = x2 == x1
    dx = np.where(vertical, 1.0, x2 - x1)
    y_vert = np.minimum(y1, y2) if lower else np.maximum(y1, y2)
    fill = np.inf if lower else -np.inf
    out = np.empty(Xr.shape)
    for i in range(0, Xr.size, _CHUNK):
        Xf = Xr[i : i + _CHUNK, None]
        hit = (Xf >= lo_x) & (Xf <= hi_x)
        y = np.where(vertical, y_vert, y1 + (Xf - x1) * (y2 - y1) / dx)
        y = np.where(hit, y, fill)
        out[i : i + _CHUNK] = y.min(axis=1) if lower else y.max(axis=1)
    out = np.where(np.isfinite(out), out, np.nan)
    return out.reshape(X.shape)


def polygon_is_simple(poly: NDArray[np.float64]) -> bool:
    """True if no two non-adjacent edges of the polygon intersect (checks; ``Path.intersects_path``)."""
    from matplotlib.path import Path as MplPath

    p = np.asarray(poly, dtype=float)
    k = len(p)
    if k < 4:
        return True
    closed = np.vstack([p, p[:1]])
    for i in range(k):
        edge = MplPath(closed[i : i + 2])
        # the edges that share no vertex with edge i: from i+2 up to i-2 (cyclically)
        idx = np.arange(i + 2, i + k - 1) % k
        if idx.size == 0:
            continue
        # consecutive runs of that cyclic index list form at most two open chains
        breaks = np.flatnonzero(np.diff(idx) != 1) + 1
        for run in np.split(idx, breaks):
            chain = closed[np.append(run, run[-1] + 1)]
            if edge.intersects_path(MplPath(chain), filled=False):
                return False
    return True


def _x_monotone_polygon(pts: NDArray[np.float64]) -> NDArray[np.float64]:
    """Order boundary points of an x-monotone region into a polygon (see module docstring)."""
    x, y = pts[:, 0], pts[:, 1]
    xl, xr = x.min(), x.max()
    yl = y[x == xl].mean()
    yr = y[x == xr].mean()
    line = yl + (x - xl) * (yr - yl) / (xr - xl)
    above = y > line
    lower = pts[~above][np.lexsort((pts[~above, 1], pts[~above, 0]))]
    upper = pts[above][np.lexsort((-pts[above, 1], -pts[above, 0]))]
    return np.vstack([lower, upper])


# ---------------------------------------------------------------------------------------
# External limit
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExternalLimit:
    """One digitised limit or preferred region.

    Attributes
    ----------
    name: file stem, e.g. ``'MINERvA'``, ``'MiniBooNE_EnuQE_95CL'``.
    kind: 'excluded_above_curve', 'preferred_region' or 'Umu2'.
    m_MeV: masses of the points (MeV), in file order.
    value: d_muN in GeV^-1 (or |U_muN|^2 for 'Umu2'), in file order.
    note: the description on the file's first line.
    drawn_in_paper: False for limits the paper's Fig. 4 does not draw (LSND, SN1987A).
    shape: 'open_above' (excluded above an open curve), 'closed' (polygon),
        'open_below' (preferred region below an open boundary), 'graph' (|U|^2 curve).
    units: the file's units line.
    source: file name.
    polygon_log: (k, 2) array of (log10 m/MeV, log10 value) vertices; for the open
        shapes it includes the closure at ``OPEN_EXTENT_DECADES``.
    """

    name: str
    kind: str
    m_MeV: NDArray[np.float64]
    value: NDArray[np.float64]
    note: str = ""
    drawn_in_paper: bool = True
    shape: str = "open_above"
    units: str = ""
    source: str = ""
    polygon_log: NDArray[np.float64] = field(default_factory=lambda: np.empty((0, 2)), repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"limit {self.name!r}: unknown kind {self.kind!r}, expected one of {', '.join(KINDS)}")
        if self.shape not in SHAPES:
            raise InputError(f"limit {self.name!r}: unknown shape {self.shape!r}")
        m = np.array(self.m_MeV, dtype=float)
        v = np.array(self.value, dtype=float)
        if m.ndim != 1 or m.shape != v.shape or m.size < 2:
            raise InputError(f"limit {self.name!r}: need at least two (m, value) points")
        if np.any(~np.isfinite(m)) or np.any(~np.isfinite(v)) or np.any(m <= 0) or np.any(v <= 0):
            raise InputError(f"limit {self.name!r}: masses and values must be finite and > 0 (log scale)")
        m.setflags(write=False)
        v.setflags(write=False)
        object.__setattr__(self, "m_MeV", m)
        object.__setattr__(self, "value", v)
        if len(self.polygon_log) == 0:
            object.__setattr__(self, "polygon_log", self._build_polygon())
        poly = np.array(self.polygon_log, dtype=float)
        poly.setflags(write=False)
        object.__setattr__(self, "polygon_log", poly)

    # -- construction -------------------------------------------------------------------
    def _build_polygon(self) -> NDArray[np.float64]:
        lx, ly = np.log10(self.m_MeV), np.log10(self.value)
        pts = np.column_stack([lx, ly])
        if self.shape == "graph":
            order = np.argsort(lx, kind="stable")
            return pts[order]
        if self.shape == "closed":
            if self.kind == "excluded_above_curve":
                return _x_monotone_polygon(pts)
            if np.allclose(pts[0], pts[-1]):
                pts = pts[:-1]
            return pts
        if self.shape == "open_above":
            top = ly.max() + OPEN_EXTENT_DECADES
            return np.vstack([pts, [[lx[-1], top], [lx[0], top]]])
        # open_below
        bottom = ly.min() - OPEN_EXTENT_DECADES
        return np.vstack([pts, [[lx[-1], bottom], [lx[0], bottom]]])

    # -- properties ---------------------------------------------------------------------
    @property
    def is_closed(self) -> bool:
        return self.shape == "closed"

    @property
    def m_range_MeV(self) -> tuple[float, float]:
        return float(self.m_MeV.min()), float(self.m_MeV.max())

    @property
    def log_area(self) -> float:
        """Area of the region in (log10 m, log10 d) space, decades^2; NaN for open shapes."""
        if self.shape != "closed":
            return float("nan")
        return polygon_area(self.polygon_log)

    def _require(self, *kinds: str) -> None:
        if self.kind not in kinds:
            raise InputError(f"{self.name} is a {self.kind!r} limit; this needs one of {', '.join(kinds)}")

    def _inside(self, m_MeV: ArrayLike, y: ArrayLike) -> NDArray[np.bool_]:
        x = np.log10(np.asarray(m_MeV, dtype=float))
        yy = np.log10(np.asarray(y, dtype=float))
        x, yy = np.broadcast_arrays(x, yy)
        poly = self.polygon_log
        if self.shape == "open_above":
            yy = np.minimum(yy, poly[:, 1].max() - _CLAMP_EPS)
        elif self.shape == "open_below":
            yy = np.maximum(yy, poly[:, 1].min() + _CLAMP_EPS)
        return points_in_polygon(x, yy, poly)

    # -- queries ------------------------------------------------------------------------
    def excluded_d(self, m_MeV: ArrayLike) -> NDArray[np.float64] | float:
        """Smallest excluded coupling d (GeV^-1) at mass m (MeV): the lower edge of the region.

        Log-log interpolation along the region's boundary; NaN outside its mass range.
        """
        self._require("excluded_above_curve")
        out = 10.0 ** _envelope(np.log10(np.asarray(m_MeV, dtype=float)), self.polygon_log, lower=True)
        return float(out) if np.ndim(out) == 0 else out

    def excluded_d_max(self, m_MeV: ArrayLike) -> NDArray[np.float64] | float:
        """Largest excluded coupling at mass m: inf for open curves, the upper edge for closed regions; NaN outside."""
        self._require("excluded_above_curve")
        x = np.log10(np.asarray(m_MeV, dtype=float))
        up = _envelope(x, self.polygon_log, lower=True if self.shape == "open_above" else False)
        out = np.where(np.isnan(up), np.nan, np.inf) if self.shape == "open_above" else 10.0**up
        return float(out) if np.ndim(out) == 0 else out

    def excludes(self, m_MeV: ArrayLike, d_GeVinv: ArrayLike) -> NDArray[np.bool_] | bool:
        """True where (m in MeV, d in GeV^-1) lies in this excluded region (point in polygon, log space)."""
        self._require("excluded_above_curve")
        out = self._inside(m_MeV, d_GeVinv)
        return bool(out) if np.ndim(out) == 0 else out

    def contains(self, m_MeV: ArrayLike, d_GeVinv: ArrayLike) -> NDArray[np.bool_] | bool:
        """True where (m in MeV, d in GeV^-1) lies in this region (any kind but 'Umu2')."""
        self._require("preferred_region", "excluded_above_curve")
        out = self._inside(m_MeV, d_GeVinv)
        return bool(out) if np.ndim(out) == 0 else out

    def value_at(self, m_MeV: ArrayLike) -> NDArray[np.float64] | float:
        """Log-log interpolation of a graph-like curve ('Umu2', or an open excluded curve); NaN outside."""
        if self.shape == "graph":
            x = np.log10(np.asarray(m_MeV, dtype=float))
            px, py = self.polygon_log[:, 0], self.polygon_log[:, 1]
            y = np.interp(x, px, py)
            out = np.where((x < px[0]) | (x > px[-1]), np.nan, 10.0**y)
            return float(out) if np.ndim(out) == 0 else out
        return self.excluded_d(m_MeV)

    def scaled(self, factor: float, name: str | None = None) -> ExternalLimit:
        """The same curve with every value multiplied by ``factor`` (a shift by log10(factor) in log space)."""
        if not (np.isfinite(factor) and factor > 0):
            raise InputError(f"limit {self.name!r}: scale factor must be finite and > 0, got {factor!r}")
        if factor == 1.0 and name is None:
            return self
        poly = np.array(self.polygon_log, dtype=float)
        poly[:, 1] += np.log10(factor)
        return replace(self, name=name or self.name, value=self.value * factor, polygon_log=poly)

    def points_for_plot(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(m in MeV, value) vertices to draw: the polygon for closed regions, the curve otherwise."""
        if self.shape == "closed":
            p = np.vstack([self.polygon_log, self.polygon_log[:1]])
        elif self.shape == "graph":
            p = self.polygon_log
        else:
            p = self.polygon_log[:-2]
        return 10.0 ** p[:, 0], 10.0 ** p[:, 1]


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------
def _parse_limit_text(text: str, source: str, name: str) -> ExternalLimit:
    header: list[str] = []
    rows: list[tuple[float, float]] = []
    column_line_seen = False
    for lineno, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            header.append(s.lstrip("#").strip())
            continue
        if not column_line_seen:
            column_line_seen = True
            cols = [c.strip() for c in s.split(",")]
            if len(cols) == 2 and cols[0] == "m_MeV":
                continue  # column names
        parts = s.split(",")
        if len(parts) != 2:
            raise InputError(f"{source}:{lineno}: expected 2 comma-separated columns 'm_MeV,value', got {s!r}")
        try:
            rows.append((float(parts[0]), float(parts[1])))
        except ValueError:
            raise InputError(f"{source}:{lineno}: non-numeric value in {s!r}") from None
    if len(rows) < 2:
        raise InputError(f"{source}: need at least two data rows")
    note = header[0].split(":", 1)[1].strip() if header and ":" in header[0] else (header[0] if header else "")
    kind = "Umu2"
    units = ""
    for h in header[1:]:
        key, _, val = h.partition(":")
        key = key.strip().lower()
        if key == "kind":
            kind = val.strip()
        elif key == "units":
            units = val.strip()
    if kind not in KINDS:
        raise InputError(f"{source}: unknown kind {kind!r}, expected one of {', '.join(KINDS[:2])}")
    a = np.array(rows)
    m, v = a[:, 0], a[:, 1]
    if kind == "Umu2":
        shape = "graph"
    elif kind == "excluded_above_curve":
        shape = "closed" if "closed region" in note.lower() else "open_above"
    else:
        shape = "open_below" if np.all(np.diff(m) > 0) else "closed"
    drawn = "not drawn" not in note.lower()
    return ExternalLimit(name, kind, m, v, note=note, drawn_in_paper=drawn, shape=shape, units=units, source=source)


def read_external_limit(path: str | Path) -> ExternalLimit:
    """Read a limit file in the format described in the module docstring."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise InputError(f"cannot read limit file {p}: {exc.strerror or exc}") from None
    return _parse_limit_text(text, str(p), p.stem)


# ---------------------------------------------------------------------------------------
# Registry: provenance, conventions and conversions of the bundled curves
# ---------------------------------------------------------------------------------------
#: Bohr magneton in natural Heaviside-Lorentz units, mu_B = e/(2 m_e) with e = sqrt(4 pi alpha): 296.304 GeV^-1.
MU_B_GEVINV: float = E_EM / (2.0 * M_E_GEV)
#: d per unit of a moment in mu_B, for L ⊃ (mu_tr/2) nubar sigma F N + h.c. (d = mu_tr/2): 148.152 GeV^-1.
D_PER_MU_B_GEVINV: float = MU_B_GEVINV / 2.0
#: Factor (GeV^-1 per unit of the public file) used for CHARM-II by the plotting code of arXiv:2412.15051.
PAPER_CHARM2_FACTOR_GEVINV: float = 93.4376

REGISTRY_FILE = "registry.toml"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class LimitAlternative(_Frozen):
    """One alternative reading of an ambiguous curve: d_alternative = factor x d_nominal."""

    label: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.+-]+$")
    factor: float = Field(gt=0, allow_inf_nan=False)
    reason: str = Field(min_length=1)


class RegistryEntry(_Frozen):
    """Provenance and conventions of one bundled curve (one ``[[limit]]`` of registry.toml)."""

    file: str = Field(pattern=r"^[A-Za-z0-9_.+-]+\.csv$")
    role: Literal["exclusion", "preferred", "validation"]
    description: str = Field(min_length=1)
    source_paper: str = Field(min_length=1)
    arxiv: str = Field(pattern=r"^(\d{4}\.\d{4,5}|[a-z-]+/\d{7})$")
    figure: str = Field(min_length=1)
    source_verified: bool
    redrawn_in: str = Field(min_length=1)
    original_variable: str = Field(min_length=1)
    original_units: str = Field(min_length=1)
    coupling_convention: str = Field(min_length=1)
    width_convention: str = Field(min_length=1)
    conversion: str = Field(min_length=1)
    factor_to_ours: float = Field(gt=0, allow_inf_nan=False)
    confidence_level: float | None = Field(default=None, gt=0, lt=1)
    cl_note: str = ""
    excluded_side: Literal["above", "inside", "none"]
    preferred_side: Literal["inside", "below", "none"] = "none"
    drawn_in_paper: bool
    ambiguous: bool
    alternatives: tuple[LimitAlternative, ...] = ()
    notes: str = ""

    @property
    def name(self) -> str:
        return self.file[:-4]

    @model_validator(mode="after")
    def _consistent(self) -> RegistryEntry:
        if self.ambiguous != bool(self.alternatives):
            raise ValueError(
                f"{self.file}: ambiguous = {self.ambiguous} but {len(self.alternatives)} alternatives given"
            )
        if self.role == "preferred":
            if self.excluded_side != "none" or self.preferred_side == "none":
                raise ValueError(f"{self.file}: a preferred region needs excluded_side = 'none' and a preferred_side")
        elif self.excluded_side == "none" or self.preferred_side != "none":
            raise ValueError(f"{self.file}: an exclusion needs an excluded_side and preferred_side = 'none'")
        if self.confidence_level is None and not self.cl_note:
            raise ValueError(f"{self.file}: without confidence_level, cl_note must say why")
        return self


class RegistryConvention(_Frozen):
    coupling: str
    width: str
    units: str
    magnetic_moment: str


class LimitRegistry(_Frozen):
    """The whole registry file, validated."""

    convention: RegistryConvention
    limit: tuple[RegistryEntry, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> LimitRegistry:
        files_ = [e.file for e in self.limit]
        if len(set(files_)) != len(files_):
            raise ValueError("registry: a file has more than one entry")
        labels = [a.label for _, a in self.alternatives()]
        if len(set(labels)) != len(labels):
            raise ValueError("registry: alternative labels must be unique")
        return self

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.limit]

    def entry(self, name: str) -> RegistryEntry:
        for e in self.limit:
            if e.name == name:
                return e
        raise InputError(f"no registry entry for limit {name!r}: expected one of {', '.join(self.names)}")

    def alternatives(self) -> list[tuple[str, LimitAlternative]]:
        """(curve name, alternative) for every alternative of every ambiguous curve."""
        return [(e.name, a) for e in self.limit for a in e.alternatives]

    def curve_of_alternative(self, label: str) -> str:
        for name, a in self.alternatives():
            if a.label == label:
                return name
        known = ", ".join(a.label for _, a in self.alternatives())
        raise InputError(f"unknown limit alternative {label!r}: expected one of {known}")


def parse_registry(text: str, source: str = REGISTRY_FILE) -> LimitRegistry:
    """Validate registry TOML text; bad content raises InputError naming the file and the field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML: {exc}") from None
    try:
        return LimitRegistry.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise InputError(f"{source}: {loc}: {err['msg']}") from None


@lru_cache(maxsize=1)
def load_registry() -> LimitRegistry:
    """The bundled registry (analysis/data/limits/registry.toml), checked against the CSV files:
    every CSV has exactly one entry and every entry a CSV."""
    root = files("dipolehnl") / "analysis" / "data" / "limits"
    reg = parse_registry(root.joinpath(REGISTRY_FILE).read_text(encoding="utf-8"), REGISTRY_FILE)
    csvs = {e.name for e in root.iterdir() if e.name.endswith(".csv")}
    listed = {e.file for e in reg.limit}
    if csvs != listed:
        raise InputError(
            f"{REGISTRY_FILE}: entries and CSV files differ (no entry: {sorted(csvs - listed)}, "
            f"no file: {sorted(listed - csvs)})"
        )
    return reg


def registry_entry(name: str) -> RegistryEntry:
    """The registry entry of the bundled curve ``name`` (file stem)."""
    return load_registry().entry(name)


def limit_in_our_convention(name: str, alternative: str | None = None) -> ExternalLimit:
    """Bundled curve ``name`` in our convention (d_muN in GeV^-1, L ⊃ d nubar sigma F N + h.c.);
    with ``alternative`` (a label of that curve's registry alternatives) scaled by its factor."""
    lim = load_external_limit(name)
    if alternative is None:
        return lim
    entry = registry_entry(name)
    for a in entry.alternatives:
        if a.label == alternative:
            return lim.scaled(a.factor, name=name)
    raise InputError(
        f"limit {name!r} has no alternative {alternative!r}"
        + (
            f": expected one of {', '.join(a.label for a in entry.alternatives)}"
            if entry.alternatives
            else " (it is not ambiguous)"
        )
    )


def limit_alternatives(name: str) -> dict[str, ExternalLimit]:
    """``{'nominal': curve, label: alternative curve, ...}`` for one bundled curve (only 'nominal'
    if the curve is not ambiguous)."""
    out = {"nominal": limit_in_our_convention(name)}
    for a in registry_entry(name).alternatives:
        out[a.label] = limit_in_our_convention(name, a.label)
    return out


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def registry_markdown(registry: LimitRegistry | None = None) -> str:
    """docs/limits.md, generated from the registry (``python -m dipolehnl.analysis.limits > docs/limits.md``)."""
    reg = registry or load_registry()
    c = reg.convention
    lines = [
        "# External limits: registry",
        "",
        "<!-- Generated from src/dipolehnl/analysis/data/limits/registry.toml by",
        "     dipolehnl.analysis.limits.registry_markdown(); do not edit by hand:",
        "     python -m dipolehnl.analysis.limits > docs/limits.md -->",
        "",
        "Every curve bundled in `dipolehnl/analysis/data/limits/` with its source, the variable and",
        "units the source plots, the source's coupling and width convention, the conversion that",
        "brought it to ours, its confidence level and which side is excluded. Ambiguous curves (public",
        "copies disagree) list alternatives; `world_leading_ranges(result, level, alternatives=True)`",
        "recomputes the world-leading verdicts with each of them.",
        "",
        "## Our convention",
        "",
        f"* coupling: {c.coupling}",
        f"* width: {c.width}",
        f"* units: {c.units}",
        f"* magnetic moments: {c.magnetic_moment}",
        f"* computed: μ_B = e/(2m_e) = {MU_B_GEVINV:.6g} GeV⁻¹, μ_B/2 = {D_PER_MU_B_GEVINV:.6g} GeV⁻¹; "
        f"the paper's CHARM-II factor {PAPER_CHARM2_FACTOR_GEVINV:g} GeV⁻¹ is "
        f"(μ_B/2)/{D_PER_MU_B_GEVINV / PAPER_CHARM2_FACTOR_GEVINV:.5g}",
        "",
        "## Summary",
        "",
        "| curve | role | source | arXiv | CL | excluded side | drawn in the paper | factor to ours | ambiguous |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e in reg.limit:
        side = e.excluded_side if e.role != "preferred" else f"none (preferred {e.preferred_side})"
        cl = f"{100 * e.confidence_level:g}%" if e.confidence_level is not None else "not stated"
        src = _md(e.source_paper) + ("" if e.source_verified else " (unverified)")
        amb = ", ".join(f"{a.label} (×{a.factor:.6g})" for a in e.alternatives) or "no"
        lines.append(
            f"| {e.name} | {e.role} | {src} | {e.arxiv} | {cl} | {side} | {'yes' if e.drawn_in_paper else 'no'} "
            f"| {e.factor_to_ours:g} | {_md(amb)} |"
        )
    lines += ["", "## Ambiguous curves", ""]
    amb_entries = [e for e in reg.limit if e.ambiguous]
    lines += ["| curve | alternative | d_alt / d_nominal | reason |", "|---|---|---|---|"]
    for e in amb_entries:
        for a in e.alternatives:
            lines.append(f"| {e.name} | {a.label} | {a.factor:.6g} | {_md(a.reason)} |")
    lines += ["", "## Entries", ""]
    fields = [
        ("description", "what"),
        ("source_paper", "source"),
        ("arxiv", "arXiv"),
        ("figure", "figure"),
        ("source_verified", "source named by the bundled copy"),
        ("redrawn_in", "digitised from"),
        ("original_variable", "original variable"),
        ("original_units", "original units"),
        ("coupling_convention", "coupling convention"),
        ("width_convention", "width convention"),
        ("conversion", "conversion applied"),
        ("factor_to_ours", "factor applied at load time"),
        ("confidence_level", "confidence level"),
        ("cl_note", "CL note"),
        ("excluded_side", "excluded side"),
        ("preferred_side", "preferred side"),
        ("drawn_in_paper", "drawn in the paper (Fig. 4; suppl. Fig. 1 for |U|²)"),
        ("notes", "notes"),
    ]
    for e in reg.limit:
        lines += [f"### {e.name}", "", f"File `{e.file}`, role `{e.role}`.", ""]
        for key, label in fields:
            v = getattr(e, key)
            if v is None or v == "" or (key == "preferred_side" and v == "none"):
                continue
            if isinstance(v, bool):
                v = "yes" if v else "no"
            lines.append(f"* {label}: {v}")
        for a in e.alternatives:
            lines.append(f"* alternative `{a.label}`: d × {a.factor:.6g}: {a.reason}")
        lines.append("")
    return "\n".join(lines)


@lru_cache(maxsize=1)
def _load_raw() -> tuple[ExternalLimit, ...]:
    root = files("dipolehnl") / "analysis" / "data" / "limits"
    out = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".csv"):
            out.append(_parse_limit_text(entry.read_text(), entry.name, entry.name[:-4]))
    return tuple(out)


@lru_cache(maxsize=1)
def _load_all() -> tuple[ExternalLimit, ...]:
    """The bundled curves brought to our convention (``factor_to_ours`` of the registry)."""
    reg = load_registry()
    return tuple(lim.scaled(reg.entry(lim.name).factor_to_ours) for lim in _load_raw())


def load_external_limits() -> dict[str, ExternalLimit]:
    """All shipped limits and preferred regions in our convention, name -> :class:`ExternalLimit`."""
    return {lim.name: lim for lim in _load_all()}


def load_external_limit(name: str) -> ExternalLimit:
    lims = load_external_limits()
    if name not in lims:
        raise InputError(f"unknown external limit {name!r}: expected one of {', '.join(lims)}")
    return lims[name]


def excluded_limits(include_not_drawn: bool = False, alternative: str | None = None) -> list[ExternalLimit]:
    """The 'excluded_above_curve' limits; by default only those drawn in the paper's Fig. 4.

    ``alternative``: the label of one ambiguous-curve alternative of the registry (e.g.
    ``'NOMAD_without_sqrt2'``); that curve is replaced by its alternative, the others are nominal.
    """
    swap: tuple[str, ExternalLimit] | None = None
    if alternative is not None:
        name = load_registry().curve_of_alternative(alternative)
        swap = (name, limit_in_our_convention(name, alternative))
    return [
        (swap[1] if swap is not None and lim.name == swap[0] else lim)
        for lim in _load_all()
        if lim.kind == "excluded_above_curve" and (include_not_drawn or lim.drawn_in_paper)
    ]


def strongest_external(
    m_MeV: ArrayLike, include_not_drawn: bool = False, return_names: bool = False, alternative: str | None = None
) -> NDArray[np.float64] | float | tuple[NDArray[np.float64], NDArray[np.str_]]:
    """Lowest excluded coupling d (GeV^-1) at mass m among the external limits; NaN where none applies.

    By default only the limits drawn in the paper's Fig. 4 (not LSND, SN1987A), in our
    convention; ``alternative`` replaces one ambiguous curve by that alternative (see
    :func:`excluded_limits`).  With ``return_names`` also the name of the strongest limit at
    each mass ('' where none).
    """
    lims = excluded_limits(include_not_drawn, alternative)
    m = np.asarray(m_MeV, dtype=float)
    table = np.stack([np.asarray(lim.excluded_d(m), dtype=float).reshape(m.shape) for lim in lims])
    filled = np.where(np.isnan(table), np.inf, table)
    best = filled.argmin(axis=0)
    d = np.take_along_axis(filled, best[None, ...], axis=0)[0]
    d = np.where(np.isinf(d), np.nan, d)
    if return_names:
        names = np.array([lim.name for lim in lims])[best]
        names = np.where(np.isnan(d), "", names)
        return d, names
    return float(d) if d.ndim == 0 else d


def mass_ranges(m_MeV: ArrayLike, mask: ArrayLike) -> list[tuple[float, float]]:
    """Runs of consecutive True entries of ``mask`` as (first, last) masses of each run."""
    m = np.asarray(m_MeV, dtype=float)
    b = np.asarray(mask, dtype=bool)
    if m.shape != b.shape or m.ndim != 1:
        raise InputError("mass_ranges: masses and mask must be 1-D arrays of the same length")
    edges = np.diff(np.concatenate([[0], b.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [(float(m[i]), float(m[j])) for i, j in zip(starts, stops)]


def world_leading_mass_ranges(
    m_MeV: ArrayLike, d_lower_GeVinv: ArrayLike, alternative: str | None = None, include_not_drawn: bool = False
) -> list[tuple[float, float]]:
    """Mass ranges (MeV, at the resolution of ``m_MeV``) where a lower edge of an excluded band,
    ``d_lower_GeVinv`` (NaN where nothing is excluded), lies below every external limit (in our
    convention, with ``alternative`` applied if given); a mass no external limit covers counts."""
    m = np.asarray(m_MeV, dtype=float)
    ours = np.asarray(d_lower_GeVinv, dtype=float)
    ext = np.asarray(strongest_external(m, include_not_drawn, alternative=alternative), dtype=float).reshape(m.shape)
    better = np.isfinite(ours) & (np.isnan(ext) | (ours < ext))
    return mass_ranges(m, better)


def world_leading_alternatives(
    m_MeV: ArrayLike, d_lower_GeVinv: ArrayLike, include_not_drawn: bool = False
) -> dict[str, list[tuple[float, float]]]:
    """World-leading ranges with the nominal curves (key ``'nominal'``) and with each ambiguous
    alternative of the registry in turn (key: the alternative's label)."""
    out = {"nominal": world_leading_mass_ranges(m_MeV, d_lower_GeVinv, None, include_not_drawn)}
    for _, alt in load_registry().alternatives():
        out[alt.label] = world_leading_mass_ranges(m_MeV, d_lower_GeVinv, alt.label, include_not_drawn)
    return out


# ---------------------------------------------------------------------------------------
# Fractions of preferred regions
# ---------------------------------------------------------------------------------------
def _as_regions(region: ExternalLimit | str | Sequence[ExternalLimit | str]) -> list[ExternalLimit]:
    items: Iterable[ExternalLimit | str] = [region] if isinstance(region, (str, ExternalLimit)) else region
    out = [load_external_limit(r) if isinstance(r, str) else r for r in items]
    if not out:
        raise InputError("no region given")
    return out


def region_grid(
    region: ExternalLimit | str | Sequence[ExternalLimit | str], n: int = 200, d_floor_GeVinv: float | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Points of an n x n grid of equal cells in log space that lie inside the region (union).

    Returns (m_MeV, d_GeVinv, cell_area in decades^2) of the inside cell centres.  Open
    regions ('open_below') need ``d_floor_GeVinv``, the lower end of the grid.
    """
    regs = _as_regions(region)
    if n < 2:
        raise InputError("grid size n must be >= 2")
    xs: list[NDArray[np.float64]] = []
    ys: list[NDArray[np.float64]] = []
    for r in regs:
        p = r.polygon_log
        if r.shape == "open_below":
            if d_floor_GeVinv is None:
                raise InputError(f"{r.name} is only an upper boundary; give d_floor_GeVinv to bound it")
            p = p[:-2]
            ys.append(np.array([np.log10(d_floor_GeVinv)]))
        elif r.shape == "open_above":
            p = p[:-2]
        xs.append(p[:, 0])
        ys.append(p[:, 1])
    x0, x1 = min(a.min() for a in xs), max(a.max() for a in xs)
    y0, y1 = min(np.min(a) for a in ys), max(np.max(a) for a in ys)
    dx, dy = (x1 - x0) / n, (y1 - y0) / n
    gx = x0 + (np.arange(n) + 0.5) * dx
    gy = y0 + (np.arange(n) + 0.5) * dy
    X, Y = np.meshgrid(gx, gy, indexing="ij")
    X, Y = X.ravel(), Y.ravel()
    inside = np.zeros(X.shape, dtype=bool)
    for r in regs:
        inside |= np.asarray(r.contains(10.0**X, 10.0**Y), dtype=bool)
    if d_floor_GeVinv is not None:
        inside &= Y >= np.log10(d_floor_GeVinv)
    return 10.0 ** X[inside], 10.0 ** Y[inside], dx * dy


def fraction_excluded(
    region: ExternalLimit | str | Sequence[ExternalLimit | str],
    excluded_mask_fn: Callable[[NDArray[np.float64], NDArray[np.float64]], ArrayLike],
    n: int = 200,
    d_floor_GeVinv: float | None = None,
) -> float:
    """Fraction of a region's area in (log10 m, log10 d) for which ``excluded_mask_fn(m_MeV, d_GeVinv)`` is true.

    Deterministic: the predicate is evaluated at the centres of an n x n grid of equal
    cells over the region's bounding box in log space, keeping the cells whose centre is
    inside the region (a list of regions means their union, e.g. a 95% CL region and
    its island).  The predicate is called once with 1-D arrays; if it does not return an
    array of the same shape it is called point by point.  Accuracy ~ perimeter/n.
    """
    m, d, _ = region_grid(region, n, d_floor_GeVinv)
    if m.size == 0:
        raise InputError("the region contains no grid point; increase n")
    try:
        res = np.asarray(excluded_mask_fn(m, d))
        if res.shape != m.shape:
            raise ValueError
    except (ValueError, TypeError):
        res = np.array([bool(excluded_mask_fn(mi, di)) for mi, di in zip(m, d)])
    return float(np.mean(res.astype(bool)))


if __name__ == "__main__":  # python -m dipolehnl.analysis.limits > docs/limits.md
    import sys

    sys.stdout.write(registry_markdown())
