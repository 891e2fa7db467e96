"""Detector geometry: overlapping volumes with precedence, point location and ray tracing.

Precedence rule
---------------
Volumes may overlap. Where they do, the volume listed **later** wins (this is the rule
SIREN applies to the ``*_densities.dat`` files this package ships: each sector gets a
level equal to its position in the file, and the highest level is the one seen; see
``docs/validation/siren_column_depth.md``). The nd280 model is thus built like a
painter's picture: rock, then the hall inside it, the magnet yoke inside the hall, ...,
and the TPC gas last inside its shell.

Units: lengths in m, densities in g/cm^3, number densities in cm^-3, column densities
in g/cm^2, volumes in m^3. Beam along +z.

Ray tracing
-----------
:meth:`Detector.trace` returns, for each ray ``origin + t * direction`` (directions are
normalised, so ``t`` is a distance in m) and ``t`` in ``[0, t_max]``, the ordered list of
segments of constant (visible) volume, in CSR layout (:class:`Segments`).  Two exact
methods give the same segments (a property test compares them):

* **grid** (detectors made of boxes only, the default there): the planes of all box faces
  cut space into a rectilinear grid whose cells each lie inside or outside every box; each
  cell is labelled once with its visible volume (the painter's rule), and a compiled 3D
  digital differential analyser (``detector._kernels.grid_pass``) steps each ray from plane
  crossing to plane crossing;
* **sweep** (any shapes): every candidate volume is intersected with every ray (vectorised
  per chunk of rays); a compiled sweep (``detector._kernels.sweep_breakpoints``) sorts the
  entry/exit parameters of the hit volumes along each ray and keeps, between two consecutive
  breakpoints, the open volume of highest index as the visible (latest) one.

Boxes are closed: a ray running exactly along a face shared by two boxes sees the later of
them.  Segments shorter than :data:`SNAP_M` (1 nm; they only arise from rounding where two
faces coincide) are dropped and the neighbours joined, and adjacent segments of the same
volume are merged.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dipolehnl.detector._kernels import grid_pass, sweep_breakpoints
from dipolehnl.detector.materials import Material
from dipolehnl.detector.shapes import Box, Shape, as_points
from dipolehnl.errors import InputError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Subsystems whose volumes of material :data:`TPC_GAS_MATERIAL` are TPC drift gas.
TPC_SUBSYSTEMS: tuple[str, ...] = ("TPC", "HATPC")
#: Material name of the TPC drift gas (Ar:CF4:iC4H10 95:3:2 in the shipped models).
TPC_GAS_MATERIAL = "GAS"
#: Segments shorter than this (m) are rounding artefacts of coincident faces: dropped.
SNAP_M = 1e-9
#: Centimetres per metre.
CM_PER_M = 100.0
#: Rays per tracing chunk = this / number of volumes (bounded to [256, 16384]); keeps the
#: per-chunk work arrays at a few MB.
DEFAULT_CHUNK_ELEMENTS = 262_144
#: Largest number of cells of the painter's grid that traces rays through detectors made of
#: boxes only (``Detector._box_grid``; int32 labels: 4 bytes per cell).
MAX_TRACE_GRID_CELLS = 8_000_000
#: Largest number of cells of the exact box-grid decomposition used for effective volumes.
MAX_GRID_CELLS = 20_000_000


@dataclass(frozen=True, eq=False)
class Volume:
    """A solid filled with one material at constant density.

    Attributes
    ----------
    name: unique name within a detector.
    shape: the solid (:class:`~dipolehnl.detector.shapes.Box`, ``Cylinder``, ``Sphere``), m.
    material: its composition.
    density_g_cm3: mass density, g/cm^3 (finite, >= 0).
    subsystem: label such as ``"rock"``, ``"P0D"``, ``"TPC"`` (free text, see ``siren.SUBSYSTEM_RULES``).
    """

    name: str
    shape: Shape
    material: Material
    density_g_cm3: float
    subsystem: str = "other"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError(f"volume name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.shape, Shape):
            raise InputError(f"volume {self.name!r}: shape must be a Box, Cylinder or Sphere")
        if not isinstance(self.material, Material):
            raise InputError(f"volume {self.name!r}: material must be a Material")
        try:
            rho = float(self.density_g_cm3)
        except (TypeError, ValueError):
            raise InputError(f"volume {self.name!r}: density must be a number, got {self.density_g_cm3!r}") from None
        from dipolehnl.bounds import DENSITY_MAX_G_CM3

        if not math.isfinite(rho) or rho < 0.0 or rho > DENSITY_MAX_G_CM3:
            raise InputError(
                f"volume {self.name!r}: density must be finite and in [0, {DENSITY_MAX_G_CM3:g}] g/cm^3, "
                f"got {self.density_g_cm3!r}"
            )
        object.__setattr__(self, "density_g_cm3", rho)
        if not isinstance(self.subsystem, str) or not self.subsystem:
            raise InputError(f"volume {self.name!r}: subsystem must be a non-empty string")

    @property
    def is_tpc_gas(self) -> bool:
        """TPC drift gas: subsystem in :data:`TPC_SUBSYSTEMS` and material :data:`TPC_GAS_MATERIAL`."""
        return self.subsystem in TPC_SUBSYSTEMS and self.material.name.upper() == TPC_GAS_MATERIAL

    def number_densities_cm3(self) -> FloatArray:
        """Number density of each nucleus of the material (K,), cm^-3."""
        return self.material.number_densities_cm3(self.density_g_cm3)

    def with_density(self, density_g_cm3: float) -> Volume:
        """Copy with another density (g/cm^3)."""
        return replace(self, density_g_cm3=density_g_cm3)


def check_offsets(offsets: IntArray, n_rows: int, n_items: int) -> None:
    """The CSR layout of :class:`Segments` and of the generator's segments: ``offsets`` (n_rows
    + 1,) start at 0, do not decrease and end at ``n_items`` (row i holds items offsets[i] to
    offsets[i + 1]).  The compiled kernels index without bounds checks, so their callers check
    this first; :class:`~dipolehnl.errors.InputError` otherwise."""
    if (
        offsets.ndim != 1
        or offsets.size != n_rows + 1
        or offsets[0] != 0
        or offsets[-1] != n_items
        or np.any(np.diff(offsets) < 0)
    ):
        raise InputError(
            f"segment offsets must start at 0, not decrease and end at {n_items} for {n_rows} rows "
            f"(got {offsets.size} offsets)"
        )


@dataclass(frozen=True, eq=False)
class Segments:
    """Ray-tracing result in CSR layout (all arrays read-only).

    Segments of ray ``i`` are ``offsets[i]:offsets[i+1]``, ordered by increasing ``t``.

    Attributes
    ----------
    offsets: (N+1,) int64.
    ray: (S,) int32, index of the ray of each segment.
    t_start_m, t_end_m: (S,) float64, ray parameter (distance from the origin, m).
    volume: (S,) int32, index of the visible volume in ``Detector.volumes``.
    volume_density_g_cm3: (V,) density of every volume of the detector, g/cm^3.
    """

    offsets: IntArray
    ray: NDArray[np.int32]
    t_start_m: FloatArray
    t_end_m: FloatArray
    volume: NDArray[np.int32]
    volume_density_g_cm3: FloatArray

    def __post_init__(self) -> None:
        for name in ("offsets", "ray", "t_start_m", "t_end_m", "volume", "volume_density_g_cm3"):
            getattr(self, name).flags.writeable = False

    @property
    def n_rays(self) -> int:
        return int(self.offsets.shape[0] - 1)

    @property
    def n_segments(self) -> int:
        return int(self.ray.shape[0])

    def __len__(self) -> int:
        return self.n_segments

    @property
    def length_m(self) -> FloatArray:
        """Length of each segment (S,), m."""
        return self.t_end_m - self.t_start_m

    def counts(self) -> IntArray:
        """Number of segments of each ray (N,)."""
        return np.diff(self.offsets)

    def column_density_g_cm2(self) -> FloatArray:
        """Column density of each segment (S,), g/cm^2: density x length."""
        return self.volume_density_g_cm3[self.volume] * self.length_m * CM_PER_M

    def total_column_g_cm2(self) -> FloatArray:
        """Column density summed along each ray (N,), g/cm^2."""
        out = np.bincount(self.ray, weights=self.column_density_g_cm2(), minlength=self.n_rays)
        return out.astype(np.float64, copy=False)

    def column_by_volume_g_cm2(self, n_volumes: int | None = None) -> FloatArray:
        """Column density per ray and per volume, (N, V) g/cm^2 (dense; use for few rays)."""
        nv = int(self.volume_density_g_cm3.shape[0]) if n_volumes is None else n_volumes
        out = np.zeros((self.n_rays, nv))
        np.add.at(out, (self.ray, self.volume), self.column_density_g_cm2())
        return out

    def nucleus_column_cm2(self, number_density_matrix_cm3: FloatArray) -> FloatArray:
        """Number of nuclei per cm^2 of each kind along each segment, (S, K).

        ``number_density_matrix_cm3`` is :meth:`Detector.number_density_matrix_cm3` (V, K).
        """
        return number_density_matrix_cm3[self.volume] * (self.length_m * CM_PER_M)[:, None]

    def for_ray(self, i: int) -> slice:
        """Slice of the segments of ray ``i``."""
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))


@dataclass(frozen=True)
class EffectiveVolumes:
    """Visible volume of each detector volume after precedence.

    ``volume_m3`` (V,) m^3; ``error_m3`` (V,) its 1-sigma Monte Carlo error (0 where the
    result is exact); ``exact`` (V,) whether it was computed exactly (box-grid decomposition).
    """

    volume_m3: FloatArray
    error_m3: FloatArray
    exact: NDArray[np.bool_]


@dataclass(frozen=True)
class TargetNuclei:
    """Number of nuclei of each kind in the visible part of each volume.

    ``pdg`` (K,) nuclear PDG codes (sorted), ``count`` (V, K) numbers of nuclei,
    ``error`` (V, K) 1-sigma Monte Carlo error (0 where exact), ``volume_names`` (V,),
    ``subsystems`` (V,).
    """

    pdg: IntArray
    count: FloatArray
    error: FloatArray
    volume_names: tuple[str, ...]
    subsystems: tuple[str, ...]

    def total(self) -> FloatArray:
        """Nuclei of each kind in the whole detector (K,)."""
        return self.count.sum(axis=0)

    def by_subsystem(self) -> dict[str, FloatArray]:
        """Nuclei of each kind summed per subsystem: {subsystem: (K,)}."""
        out: dict[str, FloatArray] = {}
        for i, s in enumerate(self.subsystems):
            out[s] = out.get(s, np.zeros(self.pdg.shape[0])) + self.count[i]
        return out


@dataclass(eq=False)
class Detector:
    """A set of volumes with precedence (later wins) and analysis fiducial volumes.

    Attributes
    ----------
    name: model name (e.g. ``"nd280"``).
    volumes: in precedence order (a later volume hides earlier ones where they overlap).
    fiducial_volumes: fiducial volumes by name (any shape, m, in any medium; experiment
        files define their own, see :mod:`dipolehnl.experiment`). Each must lie inside the
        detector's bounding box; otherwise :class:`InputError`.
    description: free text (provenance).
    """

    name: str
    volumes: Sequence[Volume]
    fiducial_volumes: Mapping[str, Shape] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError(f"detector name must be a non-empty string, got {self.name!r}")
        vols = tuple(self.volumes)
        if not vols:
            raise InputError(f"detector {self.name!r} has no volumes")
        seen: set[str] = set()
        for v in vols:
            if not isinstance(v, Volume):
                raise InputError(f"detector {self.name!r}: volumes must be Volume objects, got {type(v).__name__}")
            if v.name in seen:
                raise InputError(f"detector {self.name!r}: duplicate volume name {v.name!r}")
            seen.add(v.name)
        by_name: dict[str, Material] = {}
        for v in vols:  # materials are identified by name (detector files, `materials`)
            m = by_name.setdefault(v.material.name, v.material)
            if m is not v.material and not m.same_composition(v.material):
                raise InputError(f"detector {self.name!r}: two different materials are named {m.name!r}")
        self.volumes = vols
        fvs = dict(self.fiducial_volumes)
        for k, box in fvs.items():
            if not isinstance(k, str) or not k:
                raise InputError(f"detector {self.name!r}: fiducial volume names must be non-empty strings")
            if not isinstance(box, Shape):
                raise InputError(f"detector {self.name!r}: fiducial volume {k!r} must be a Box, Cylinder or Sphere")
        self.fiducial_volumes = fvs
        self._build_cache()
        for k, b in fvs.items():
            self._check_fiducial(k, b)

    # ------------------------------------------------------------------ basics
    def _build_cache(self) -> None:
        vols = self.volumes
        self._is_box = np.array([isinstance(v.shape, Box) for v in vols])
        self._lo = np.array([v.shape.bounds_m[0] for v in vols])
        self._hi = np.array([v.shape.bounds_m[1] for v in vols])
        self._density = np.array([v.density_g_cm3 for v in vols])
        self._index = {v.name: i for i, v in enumerate(vols)}
        self.__dict__.pop("_grid_cache", None)  # the painter's grid (_box_grid) is rebuilt on demand

    def __len__(self) -> int:
        return len(self.volumes)

    def __iter__(self) -> Iterator[Volume]:
        return iter(self.volumes)

    @property
    def n_volumes(self) -> int:
        return len(self.volumes)

    @property
    def volume_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.volumes)

    @property
    def densities_g_cm3(self) -> FloatArray:
        """Density of each volume (V,), g/cm^3 (a copy)."""
        return self._density.copy()

    @property
    def bounds_m(self) -> tuple[FloatArray, FloatArray]:
        """Bounding box of everything, (lower, upper) corners in m."""
        return self._lo.min(axis=0), self._hi.max(axis=0)

    def volume_index(self, name: str) -> int:
        """Index of the volume called ``name`` (InputError if absent)."""
        try:
            return self._index[name]
        except KeyError:
            raise InputError(f"detector {self.name!r} has no volume {name!r}") from None

    def volume(self, name: str) -> Volume:
        return self.volumes[self.volume_index(name)]

    @property
    def materials(self) -> dict[str, Material]:
        """Materials used, by name, in order of first use."""
        out: dict[str, Material] = {}
        for v in self.volumes:
            out.setdefault(v.material.name, v.material)
        return out

    def tpc_gas_volumes(self) -> list[int]:
        """Indices of the TPC gas volumes."""
        return [i for i, v in enumerate(self.volumes) if v.is_tpc_gas]

    def with_tpc_gas_density(self, density_g_cm3: float) -> Detector:
        """Copy in which every TPC gas volume has density ``density_g_cm3`` (g/cm^3)."""
        vols = [v.with_density(density_g_cm3) if v.is_tpc_gas else v for v in self.volumes]
        desc = self.description
        note = f"TPC gas density set to {float(density_g_cm3):g} g/cm^3"
        desc = f"{desc}\n{note}" if desc else note
        return Detector(self.name, vols, dict(self.fiducial_volumes), desc)

    def with_material_densities(self, densities_g_cm3: Mapping[str, float]) -> Detector:
        """Copy in which every volume of material ``name`` has density ``densities_g_cm3[name]``
        (g/cm^3); InputError for a material the detector does not use."""
        mats = self.materials
        for name in densities_g_cm3:
            if name not in mats:
                raise InputError(f"detector {self.name!r} has no material {name!r} (has {', '.join(mats)})")
        vols = [
            v.with_density(float(densities_g_cm3[v.material.name])) if v.material.name in densities_g_cm3 else v
            for v in self.volumes
        ]
        note = "densities set: " + ", ".join(f"{k} {float(v):g} g/cm^3" for k, v in densities_g_cm3.items())
        desc = f"{self.description}\n{note}" if self.description else note
        return Detector(self.name, vols, dict(self.fiducial_volumes), desc)

    def fiducial_medium_volume(self, fiducial_name: str) -> int:
        """Index of the volume visible at the centre of fiducial volume ``fiducial_name``
        (its medium; -1 outside every volume)."""
        try:
            shape = self.fiducial_volumes[fiducial_name]
        except KeyError:
            raise InputError(
                f"detector {self.name!r} has no fiducial volume {fiducial_name!r} "
                f"(available: {', '.join(self.fiducial_volumes) or 'none'})"
            ) from None
        lo, hi = shape.bounds_m
        return int(self.volume_at(0.5 * (lo + hi))[0])

    def _check_fiducial(self, name: str, shape: Shape) -> None:
        lo, hi = shape.bounds_m
        dlo, dhi = self.bounds_m
        if np.any(lo < dlo - SNAP_M) or np.any(hi > dhi + SNAP_M):
            raise InputError(f"detector {self.name!r}: fiducial volume {name!r} ({shape!r}) is not inside the detector")

    # --------------------------------------------------------- nuclei, volumes
    @property
    def nuclei_pdg(self) -> IntArray:
        """Sorted PDG codes of every nucleus present (K,)."""
        return np.unique(np.concatenate([v.material.pdg for v in self.volumes]))

    def number_density_matrix_cm3(self) -> FloatArray:
        """Number density of each nucleus (columns: :attr:`nuclei_pdg`) in each volume, (V, K) cm^-3."""
        pdg = self.nuclei_pdg
        out = np.zeros((self.n_volumes, pdg.shape[0]))
        for i, v in enumerate(self.volumes):
            out[i, np.searchsorted(pdg, v.material.pdg)] = v.number_densities_cm3()
        return out

    def volume_at(self, points: ArrayLike) -> IntArray:
        """Index of the visible (latest containing) volume at each point (N,); -1 outside all."""
        p = as_points(points)
        out = np.full(p.shape[0], -1, dtype=np.int64)
        todo = np.arange(p.shape[0])
        for i in range(self.n_volumes - 1, -1, -1):
            if todo.size == 0:
                break
            q = p[todo]
            near = np.flatnonzero(np.all((q >= self._lo[i]) & (q <= self._hi[i]), axis=1))
            if near.size == 0:
                continue
            if not self._is_box[i]:
                near = near[self.volumes[i].shape.contains(q[near])]
            out[todo[near]] = i
            keep = np.ones(todo.size, dtype=bool)
            keep[near] = False
            todo = todo[keep]
        return out

    def effective_volume_m3(
        self, *, n_mc: int = 200_000, seed: int = 20240817, return_error: bool = False
    ) -> FloatArray | EffectiveVolumes:
        """Visible volume of each volume (V,), m^3, after precedence.

        Exact for every box that no later non-box volume overlaps (decomposition of space
        into the grid of all box faces, each cell painted with its latest box). Other
        volumes use ``n_mc`` uniform points inside the volume's solid: the visible
        fraction times the solid's volume, with a binomial 1-sigma error (returned with
        ``return_error=True`` as :class:`EffectiveVolumes`).
        """
        n = self.n_volumes
        vol = np.zeros(n)
        err = np.zeros(n)
        exact = np.zeros(n, dtype=bool)
        boxes = np.flatnonzero(self._is_box)
        curved = np.flatnonzero(~self._is_box)
        painted = self._painter_grid(boxes, MAX_GRID_CELLS)
        if painted is not None:
            edges, label = painted
            dx, dy, dz = (np.diff(e) for e in edges)
            # Sum cell volumes per label, one z-row at a time to bound memory.
            acc = np.zeros(n + 1)
            area = np.multiply.outer(dx, dy)
            for iz in range(dz.size):
                acc += np.bincount(label[:, :, iz].ravel() + 1, weights=area.ravel() * dz[iz], minlength=n + 1)
            for i in boxes.tolist():
                later_curved = curved[curved > i]
                if later_curved.size == 0 or not np.any(self._bbox_overlap(i, later_curved)):
                    vol[i] = acc[i + 1]
                    exact[i] = True
        rng = np.random.default_rng(seed)
        for i in np.flatnonzero(~exact).tolist():
            shape = self.volumes[i].shape
            pts = shape.sample(n_mc, rng)
            p = float(np.mean(self.volume_at(pts) == i))
            vol[i] = p * shape.volume_m3
            err[i] = shape.volume_m3 * math.sqrt(p * (1.0 - p) / n_mc)
        if return_error:
            return EffectiveVolumes(volume_m3=vol, error_m3=err, exact=exact)
        return vol

    def _bbox_overlap(self, i: int, others: IntArray) -> NDArray[np.bool_]:
        ov = np.minimum(self._hi[i], self._hi[others]) - np.maximum(self._lo[i], self._lo[others])
        return np.all(ov > 0.0, axis=1)

    def target_nuclei(self, *, n_mc: int = 200_000, seed: int = 20240817) -> TargetNuclei:
        """Number of nuclei of each kind in the visible part of each volume (:class:`TargetNuclei`)."""
        ev = self.effective_volume_m3(n_mc=n_mc, seed=seed, return_error=True)
        assert isinstance(ev, EffectiveVolumes)
        m = self.number_density_matrix_cm3() * 1e6  # per m^3
        return TargetNuclei(
            pdg=self.nuclei_pdg,
            count=m * ev.volume_m3[:, None],
            error=m * ev.error_m3[:, None],
            volume_names=self.volume_names,
            subsystems=tuple(v.subsystem for v in self.volumes),
        )

    # ------------------------------------------------------------- ray tracing
    def trace(
        self,
        origins: ArrayLike,
        directions: ArrayLike,
        t_max_m: float | ArrayLike = np.inf,
        *,
        chunk_size: int | None = None,
        method: str = "auto",
    ) -> Segments:
        """Segments of constant visible volume along each ray, for ``t`` in ``[0, t_max_m]``.

        ``origins`` (N, 3) m; ``directions`` (N, 3), normalised here (so ``t`` is in m);
        ``t_max_m`` scalar or (N,), >= 0 (``inf``: to the edge of the world). Parts of a
        ray outside every volume are omitted; see :class:`Segments`.  ``method``: ``"grid"``
        steps through the painter's grid of a detector made of boxes only (a cell per
        product of the intervals between box faces, labelled with its visible volume);
        ``"sweep"`` intersects every volume with every ray and sorts the breakpoints (any
        shapes); ``"auto"`` (default): grid where possible.  Both give the same segments.
        """
        if method not in ("auto", "grid", "sweep"):
            raise InputError(f"unknown tracing method {method!r}; choose auto, grid or sweep")
        o, d, tmax = self._rays(origins, directions, t_max_m)
        grid = self._box_grid() if method != "sweep" else None
        if method == "grid" and grid is None:
            raise InputError(f"detector {self.name!r} cannot be traced on a grid (not all volumes are boxes)")
        if grid is not None:  # all volumes are boxes: one pass through the painter's grid
            px, py, pz, label = grid
            ray, t0, t1, vol, _ = grid_trace(o, d, tmax, px, py, pz, label, SNAP_M)
        else:
            ray, t0, t1, vol = self._trace_sweep(o, d, tmax, chunk_size)
        return self._segments(o.shape[0], ray, t0, t1, vol)

    def trace_where(
        self, origins: ArrayLike, directions: ArrayLike, value: ArrayLike, column: ArrayLike
    ) -> tuple[Segments, FloatArray]:
        """The segments of :meth:`trace` (to the edge of the world, ``method="auto"``) in the
        volumes v where ``value[v, column[ray]] > 0``, and that value per segment.

        ``value`` (volumes, columns), e.g. the number density of each scattering channel's
        targets in each volume; ``column`` (N,) the column of each ray.  On a painter's grid
        the other segments are skipped while tracing (the event generator's rays cross ~5×
        more segments than they keep); otherwise they are traced and filtered out.
        """
        o, d, tmax = self._rays(origins, directions, np.inf)
        val = np.ascontiguousarray(value, dtype=np.float64)
        col = np.ascontiguousarray(column, dtype=np.int64)
        if val.ndim != 2 or val.shape[0] != len(self.volumes) or val.shape[1] < 1:
            raise InputError(f"value must have shape ({len(self.volumes)}, columns >= 1), got {val.shape}")
        if col.shape != (o.shape[0],):
            raise InputError(f"column must have one entry per ray ({o.shape[0]}), got shape {col.shape}")
        if col.size and (col.min() < 0 or col.max() >= val.shape[1]):
            raise InputError(f"columns must lie in 0..{val.shape[1] - 1}")
        if np.any(np.isnan(val)):
            raise InputError("value must not be NaN")
        grid = self._box_grid()
        if grid is not None:
            px, py, pz, label = grid
            ray, t0, t1, vol, kept = grid_trace(o, d, tmax, px, py, pz, label, SNAP_M, val, col)
        else:
            ray, t0, t1, vol = self._trace_sweep(o, d, tmax, None)
            every = val[vol, col[ray]]
            keep = every > 0
            ray, t0, t1, vol, kept = ray[keep], t0[keep], t1[keep], vol[keep], every[keep]
        return self._segments(o.shape[0], ray, t0, t1, vol), kept

    def _rays(
        self, origins: ArrayLike, directions: ArrayLike, t_max_m: float | ArrayLike
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Checked origins, unit directions and t_max (N,) of a trace."""
        o = as_points(origins, "origins")
        d = as_points(directions, "directions")
        if o.shape != d.shape:
            raise InputError(f"origins {o.shape} and directions {d.shape} differ in shape")
        if not np.all(np.isfinite(o)) or not np.all(np.isfinite(d)):
            raise InputError("origins and directions must be finite")
        norm = np.linalg.norm(d, axis=1)
        if np.any(norm == 0.0):
            raise InputError("directions must be non-zero vectors")
        d = d / norm[:, None]
        n = o.shape[0]
        if n >= 2**31:
            raise InputError("trace at most 2**31 - 1 rays per call")
        tmax = np.broadcast_to(np.asarray(t_max_m, dtype=np.float64), (n,))
        if np.any(np.isnan(tmax)) or np.any(tmax < 0.0):
            raise InputError("t_max_m must be >= 0 (and not NaN)")
        return o, d, np.ascontiguousarray(tmax)

    def _segments(self, n: int, ray: IntArray, t0: FloatArray, t1: FloatArray, vol: IntArray) -> Segments:
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(ray, minlength=n), out=offsets[1:])
        return Segments(
            offsets=offsets,
            ray=ray.astype(np.int32),
            t_start_m=t0,
            t_end_m=t1,
            volume=vol.astype(np.int32),
            volume_density_g_cm3=self._density.copy(),
        )

    def _trace_sweep(
        self, o: FloatArray, d: FloatArray, tmax: FloatArray, chunk_size: int | None
    ) -> tuple[IntArray, FloatArray, FloatArray, IntArray]:
        """(ray, t0, t1, volume) of the segments by the breakpoint sweep, in chunks of rays."""
        if chunk_size is None:
            chunk_size = DEFAULT_CHUNK_ELEMENTS // max(self.n_volumes, 1)
        chunk_size = int(min(16384, max(256, chunk_size)))
        parts = [(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, np.int64))]
        for start in range(0, o.shape[0], chunk_size):
            stop = min(o.shape[0], start + chunk_size)
            c_ray, c_t0, c_t1, c_vol = self._trace_chunk(o[start:stop], d[start:stop], tmax[start:stop])
            parts.append((c_ray + start, c_t0, c_t1, c_vol))
        ray, t0, t1, vol = (np.concatenate([p[j] for p in parts]) for j in range(4))
        return ray, t0, t1, vol

    def _painter_grid(self, boxes: IntArray, max_cells: int) -> tuple[list[FloatArray], NDArray[np.int32]] | None:
        """The planes of all faces of the boxes ``boxes`` (indices, ascending) along x, y, z
        and the grid of cells between them, each labelled with the latest of these boxes
        containing it (−1: none; every cell lies inside or outside each box); None if there
        are no boxes or more than ``max_cells`` cells."""
        if boxes.size == 0:
            return None
        planes = [np.unique(np.concatenate([self._lo[boxes, k], self._hi[boxes, k]])) for k in range(3)]
        shape = tuple(p.size - 1 for p in planes)
        if not all(c > 0 for c in shape) or math.prod(shape) > max_cells:
            return None
        label = np.full(shape, -1, dtype=np.int32)
        for v in boxes.tolist():  # later volumes paint over earlier ones
            sl = tuple(
                slice(int(np.searchsorted(planes[k], self._lo[v, k])), int(np.searchsorted(planes[k], self._hi[v, k])))
                for k in range(3)
            )
            label[sl] = v
        return planes, label

    def _box_grid(self) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.int32]] | None:
        """The painter's grid (:meth:`_painter_grid`) of a detector made of boxes only, built
        once; None if some volume is not a box or the grid would exceed
        :data:`MAX_TRACE_GRID_CELLS`."""
        cached = self.__dict__.get("_grid_cache", False)
        if cached is not False:
            return cached
        grid = None
        if self.n_volumes and bool(np.all(self._is_box)):
            painted = self._painter_grid(np.arange(self.n_volumes), MAX_TRACE_GRID_CELLS)
            if painted is not None:
                (px, py, pz), label = painted
                grid = (px, py, pz, label)
        self.__dict__["_grid_cache"] = grid
        return grid

    def column_density_g_cm2(
        self, origins: ArrayLike, directions: ArrayLike, t_max_m: float | ArrayLike = np.inf
    ) -> FloatArray:
        """Total column density along each ray (N,), g/cm^2 (shortcut for ``trace(...).total_column_g_cm2()``)."""
        return self.trace(origins, directions, t_max_m).total_column_g_cm2()

    def _candidates(self, o: FloatArray, d: FloatArray, tmax: FloatArray) -> IntArray:
        """Volumes whose bounding box meets the bounding box of the chunk's clipped rays."""
        wlo, whi = self.bounds_m
        t_in, t_out = _box_slabs(o, d, wlo[None, :], whi[None, :])
        a = np.maximum(t_in[:, 0], 0.0)
        b = np.minimum(t_out[:, 0], tmax)
        hit = a <= b
        if not np.any(hit):
            return np.zeros(0, dtype=np.int64)
        p0 = o[hit] + a[hit, None] * d[hit]
        p1 = o[hit] + b[hit, None] * d[hit]
        lo = np.minimum(p0.min(axis=0), p1.min(axis=0))
        hi = np.maximum(p0.max(axis=0), p1.max(axis=0))
        keep = np.all((self._lo <= hi) & (self._hi >= lo), axis=1)
        return np.flatnonzero(keep)

    def _intersect_candidates(self, o: FloatArray, d: FloatArray, cand: IntArray) -> tuple[FloatArray, FloatArray]:
        c = o.shape[0]
        t_in = np.empty((c, cand.size))
        t_out = np.empty((c, cand.size))
        isbox = self._is_box[cand]
        bcols = np.flatnonzero(isbox)
        if bcols.size:
            bi = cand[bcols]
            a, b = _box_slabs(o, d, self._lo[bi], self._hi[bi])
            t_in[:, bcols] = a
            t_out[:, bcols] = b
        for col in np.flatnonzero(~isbox):
            a1, b1 = self.volumes[int(cand[col])].shape.intersect(o, d)
            t_in[:, col] = a1
            t_out[:, col] = b1
        return t_in, t_out

    def _trace_chunk(
        self, o: FloatArray, d: FloatArray, tmax: FloatArray
    ) -> tuple[IntArray, FloatArray, FloatArray, IntArray]:
        empty = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, np.int64))
        cand = self._candidates(o, d, tmax)
        if cand.size == 0:
            return empty
        t_in, t_out = self._intersect_candidates(o, d, cand)
        np.maximum(t_in, 0.0, out=t_in)
        np.minimum(t_out, tmax[:, None], out=t_out)
        ray, seg_t0, seg_t1, label = sweep_breakpoints(t_in, t_out, SNAP_M)
        return _merge(ray, seg_t0, seg_t1, cand[label])


#: output room per ray of grid_trace's first pass, for all segments (False) and for the
#: segments kept by a filter (True): 1.25 × the segments per ray of the last call with at least
#: _GRID_HINT_MIN_RAYS rays of that kind.  With room for all segments the rays are traced once
#: instead of counted first; a call that overflows is traced again with room for all.
_GRID_SEGMENTS_PER_RAY = {False: 16.0, True: 16.0}
_GRID_HINT_MIN_RAYS = 1000
#: largest first-pass room (segments; 160 MB of outputs): beyond it the rays are counted first
_GRID_ROOM_MAX = 2**22


def grid_trace(
    o: FloatArray,
    d: FloatArray,
    tmax: FloatArray,
    px: FloatArray,
    py: FloatArray,
    pz: FloatArray,
    label: NDArray[np.int32],
    snap: float,
    keep_value: FloatArray | None = None,
    column: IntArray | None = None,
) -> tuple[IntArray, FloatArray, FloatArray, IntArray, FloatArray]:
    """Segments (ray, t0, t1, volume, value) of rays through the painter's grid (planes
    ``px``, ``py``, ``pz``; ``label`` per cell): the compiled digital differential analyser
    (``detector._kernels.grid_pass``), run again with more room if the output overflowed.
    With ``keep_value`` (volumes, columns) and ``column`` per ray (checked by the caller:
    the kernel does not check indices), only segments with keep_value[volume, column] > 0,
    and that value; otherwise all segments (value empty)."""
    o, d, tmax = (np.ascontiguousarray(v, dtype=float) for v in (o, d, tmax))
    label = np.ascontiguousarray(label, dtype=np.int32)
    allp = np.ascontiguousarray(np.concatenate([px, py, pz]), dtype=float)
    off = np.cumsum([0, px.size, py.size, pz.size]).astype(np.int64)
    filtered = keep_value is not None
    kv = np.ascontiguousarray(keep_value, dtype=float) if filtered else np.zeros((0, 1))
    col = np.ascontiguousarray(column if filtered else [], dtype=np.int64)
    room = int(o.shape[0] * _GRID_SEGMENTS_PER_RAY[filtered]) + 64
    if room > _GRID_ROOM_MAX:  # many rays: count first rather than allocate on a guess
        room = 0
    while True:  # one pass if the output has room (usually), else a second with room for all
        ray, t0, t1, vol = (
            np.empty(room, dtype=np.int64),
            np.empty(room),
            np.empty(room),
            np.empty(room, dtype=np.int64),
        )
        value = np.empty(room if filtered else 0)
        n = grid_pass(o, d, tmax, allp, off, label, snap, ray, t0, t1, vol, kv, col, value)
        if n <= room:
            break
        room = n
    if o.shape[0] >= _GRID_HINT_MIN_RAYS:
        _GRID_SEGMENTS_PER_RAY[filtered] = max(1.25 * n / o.shape[0], 1.0)
    if room > 2 * n + 64:  # much room left over: copies, so that the buffers are freed
        return ray[:n].copy(), t0[:n].copy(), t1[:n].copy(), vol[:n].copy(), value[:n].copy()
    return ray[:n], t0[:n], t1[:n], vol[:n], value[:n]


def _box_slabs(o: FloatArray, d: FloatArray, lo: FloatArray, hi: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Entry/exit parameters (C, V) of C lines through V axis-aligned boxes [lo, hi] (V, 3).

    Misses get ``t_in > t_out``; lines parallel to a pair of faces are handled exactly.
    """
    c = o.shape[0]
    v = lo.shape[0]
    t_in = np.full((c, v), -np.inf)
    t_out = np.full((c, v), np.inf)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv = 1.0 / d
        for k in range(3):
            a = (lo[None, :, k] - o[:, k, None]) * inv[:, k, None]
            b = (hi[None, :, k] - o[:, k, None]) * inv[:, k, None]
            par = d[:, k] == 0.0
            if np.any(par):
                ins = (o[par, k, None] >= lo[None, :, k]) & (o[par, k, None] <= hi[None, :, k])
                # parallel to the slab: all of the line inside it, or none (empty: t_in = +inf)
                a[par] = np.where(ins, -np.inf, np.inf)
                b[par] = np.inf
            np.maximum(t_in, np.minimum(a, b), out=t_in)
            np.minimum(t_out, np.maximum(a, b), out=t_out)
    return t_in, t_out


def _merge(
    ray: IntArray, t0: FloatArray, t1: FloatArray, vol: IntArray
) -> tuple[IntArray, FloatArray, FloatArray, IntArray]:
    """Join rounding gaps (< SNAP_M) and merge adjacent segments of one volume (sorted input)."""
    if ray.size <= 1:
        return ray, t0, t1, vol
    same_ray = ray[1:] == ray[:-1]
    touching = same_ray & (t0[1:] - t1[:-1] <= SNAP_M)
    # close tiny gaps left by dropped rounding slivers
    t0 = t0.copy()
    t0[1:][touching] = t1[:-1][touching]
    cont = touching & (vol[1:] == vol[:-1])
    if not np.any(cont):
        return ray, t0, t1, vol
    first = np.concatenate(([True], ~cont))
    starts = np.flatnonzero(first)
    ends = np.concatenate((starts[1:], [ray.size])) - 1
    return ray[starts], t0[starts], t1[ends], vol[starts]


def _box_corners(box: Box) -> FloatArray:
    lo, hi = box.bounds_m
    idx = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)])
    return np.where(idx == 0, lo, hi)
