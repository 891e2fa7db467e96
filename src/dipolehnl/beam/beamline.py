"""Beamline model of preset ``default``: where the earth is and how the flux falls off away
from the detector (docs/physics.md, "Beamline model").

The shipped detector models (SIREN's) put a 24 m × 24 m × 300 m rock box around the detector
that starts 7 m upstream of the target, and the generator takes the flux to be the detector's
everywhere.  :class:`Beamline` replaces both approximations:

* **Earth** (:meth:`Beamline.detector`): the volumes of subsystem ``rock`` are replaced by one
  box of rock that starts at the downstream end of the muon pit (``rock_start_from_target_m``
  from the target) and extends ``lateral_half_width_m`` to each side of the beam line (the
  detector hall and everything inside it still take precedence).
* **Flux** (:meth:`Beamline.flux_factor`): the flux at a production point x relative to the
  detector's, g(x) = F(x)/F(0), with F the flux of a line source (the decay volume,
  uniform along the beam axis from the target over ``decay_volume_length_m``):

      F(x) = (1/L) ∫_0^L dz  A(θ(x, z)) / D(x, z)²,
      A(θ) = 1/[(1 + γ₁²θ²)(1 + γ₂²θ²)],

  D the distance from the source point s(z) = T + z b̂ (T: target, b̂: beam axis) to x and θ
  the angle between x − s(z) and b̂.  A is the lab angular distribution of neutrinos from
  relativistic pion decays, dN/dΩ ∝ [γ²(1 − β cos θ)]⁻² → 4γ²/(1 + γ²θ²)² (β → 1),
  averaged over pions with γ log-uniform in [γ₁, γ₂]: ∫ γ dγ/(1 + γ²θ²)² ∝ A(θ) (closed
  form).  Default γ₁, γ₂: pion momenta 1 and 6 GeV (the horn-focused parents of the
  0.3–1.5 GeV neutrinos at 2.5°); γ₁ = γ₂ = γ is a single pion energy.  The energy spectrum
  is taken to be the detector's everywhere and neutrino directions parallel to the detector
  axis (+z); docs/physics.md gives the size of these approximations.

Frame: the detector's (origin at its centre, +z from the target to the detector, +y up).
The target is at (0, 0, −distance_m); the beam axis points from it ``off_axis_deg`` below
the direction to the detector (the T2K beam is aimed 2.5° away from Super-Kamiokande, mostly
downward; ND280 lies on the line to Super-Kamiokande).

Along a backward ray the generator splits every segment into sub-segments of at most
``step_m`` and gives each the density n × g(x_mid) (:func:`modulate_segments`); the decay
integral Σ n g (e^{−a/λ} − e^{−b/λ}) then contains the flux variation to O(step²) (the
exponential stays exact within each sub-segment).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dipolehnl.detector.geometry import Detector, Volume, check_offsets
from dipolehnl.detector.shapes import Box
from dipolehnl.errors import InputError

if TYPE_CHECKING:
    from dipolehnl.experiment import Experiment

Array = NDArray[np.float64]

#: T2K: the muon monitor (MUMON) is 118 m downstream of the target, right behind the beam dump
#: at the end of the 96 m decay volume (K. Abe et al., Nucl. Instrum. Meth. A659 (2011) 106,
#: arXiv:1106.1238 (beam-line section); K. Suzuki et al., PTEP 2015 053C01, arXiv:1412.0194).  Earth is
#: taken to begin there.
T2K_ROCK_START_FROM_TARGET_M: float = 118.0
#: ND280 off-axis angle (arXiv:1106.1238; arXiv:2412.15051 Sec. III)
T2K_OFF_AXIS_DEG: float = 2.5
#: half-width of the earth to each side of the beam line (no box edges within the HNL cone:
#: 0.2 rad × 167 m = 33 m; beyond ~50 m the off-axis fall-off leaves < 1% of the flux)
DEFAULT_LATERAL_HALF_WIDTH_M: float = 100.0
#: longest sub-segment along a backward ray (discretisation error ≤ 2.6e-3 at λ = 30 m, 5e-4 at
#: λ ≥ 500 m; docs/physics.md, tests/test_beamline.py)
DEFAULT_STEP_M: float = 10.0
#: Gauss–Legendre nodes of the line-source integral
N_SOURCE_NODES: int = 48


M_PION_GEV = 0.13957039  # PDG 2022


def _gamma(p_GeV: float) -> float:
    return math.hypot(p_GeV, M_PION_GEV) / M_PION_GEV


@dataclass(frozen=True)
class Beamline:
    """Source and earth geometry of a beamline (m, degrees); see the module docstring."""

    distance_m: float = 284.9
    decay_volume_length_m: float = 96.0
    off_axis_deg: float = T2K_OFF_AXIS_DEG
    rock_start_from_target_m: float = T2K_ROCK_START_FROM_TARGET_M
    lateral_half_width_m: float = DEFAULT_LATERAL_HALF_WIDTH_M
    #: pion Lorentz factors (γ₁, γ₂) of the angular factor A(θ) (see module docstring)
    gamma_range: tuple[float, float] = (None, None)  # type: ignore[assignment]  # None: p_π = 1, 6 GeV
    step_m: float = DEFAULT_STEP_M
    flux_falloff: bool = True  # False: the detector's flux everywhere (earth geometry only)

    def __post_init__(self) -> None:
        for name in ("distance_m", "decay_volume_length_m", "lateral_half_width_m", "step_m"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise InputError(f"beamline {name} must be a positive number, got {v!r}")
        if not 0 <= self.off_axis_deg < 90:
            raise InputError(f"beamline off_axis_deg must be in [0, 90), got {self.off_axis_deg!r}")
        if not self.decay_volume_length_m < self.rock_start_from_target_m < self.distance_m:
            raise InputError("beamline: the earth must start after the decay volume and before the detector")

    @classmethod
    def for_experiment(cls, experiment: Experiment, **changes: Any) -> Beamline:
        """T2K's beamline with the experiment file's distance and decay-volume length."""
        kw: dict[str, Any] = {"distance_m": float(experiment.distance_m)}
        decay_volume_length_m = getattr(experiment, "decay_volume_length_m", None)
        if decay_volume_length_m:
            kw["decay_volume_length_m"] = float(decay_volume_length_m)
        kw.update(changes)
        return cls(**kw)

    def with_(self, **changes) -> Beamline:
        return replace(self, **changes)

    # ------------------------------------------------------------ geometry
    @property
    def target_m(self) -> Array:
        return np.array([0.0, 0.0, -self.distance_m])

    @property
    def axis(self) -> Array:
        """Unit vector of the beam axis (rotated from +z towards −y by the off-axis angle)."""
        a = math.radians(self.off_axis_deg)
        return np.array([0.0, -math.sin(a), math.cos(a)])

    @property
    def gammas(self) -> tuple[float, float]:
        """(γ₁, γ₂) of the angular factor; default: pions of 1 and 6 GeV/c."""
        g1, g2 = self.gamma_range
        return (float(g1) if g1 is not None else _gamma(1.0), float(g2) if g2 is not None else _gamma(6.0))

    def angular_factor(self, theta_rad: ArrayLike) -> Array:
        """A(θ) = 1/[(1 + γ₁²θ²)(1 + γ₂²θ²)] (A(0) = 1)."""
        t2 = np.asarray(theta_rad, dtype=float) ** 2
        g1, g2 = self.gammas
        return 1.0 / ((1.0 + g1 * g1 * t2) * (1.0 + g2 * g2 * t2))

    @property
    def rock_start_z_m(self) -> float:
        """z of the upstream face of the earth in the detector frame."""
        return self.rock_start_from_target_m - self.distance_m

    def detector(self, det: Detector) -> Detector:
        """``det`` with its ``rock`` volumes replaced by one laterally wide rock box from the
        muon pit to the downstream end of the old rock (lowest precedence)."""
        rock = [v for v in det.volumes if v.subsystem == "rock"]
        if not rock:
            raise InputError(f"detector {det.name!r} has no rock volume to replace")
        z_hi = max(float(v.shape.bounds_m[1][2]) for v in rock)
        w = self.lateral_half_width_m
        box = Box.from_bounds((-w, -w, self.rock_start_z_m), (w, w, z_hi))
        new = Volume("beamline_earth", box, rock[0].material, rock[0].density_g_cm3, "rock")
        vols = [new] + [v for v in det.volumes if v.subsystem != "rock"]
        note = (
            f"beamline earth: rock from {self.rock_start_from_target_m:g} m after the target "
            f"(z = {self.rock_start_z_m:g} m) to z = {z_hi:g} m, |x|, |y| <= {w:g} m"
        )
        return Detector(det.name, vols, dict(det.fiducial_volumes), f"{det.description}\n{note}")

    # ------------------------------------------------------------ flux
    def _source_flux(self, x_m: ArrayLike) -> Array:
        """F(x) (m⁻², per unit source strength), Gauss–Legendre over the decay volume in
        panels of ≤ 12 m."""
        x = np.atleast_2d(np.asarray(x_m, dtype=float)) - self.target_m
        along = x @ self.axis  # distance along the beam axis from the target
        rho = np.sqrt(np.maximum(np.einsum("ni,ni->n", x, x) - along**2, 0.0))  # from the axis
        return self._source_flux_axial(along, rho)

    def _source_flux_axial(self, along_m: Array, rho_m: Array) -> Array:
        """F at distance ``along_m`` along the axis from the target and ``rho_m`` from the axis
        (what F depends on: the source is a line on the axis): a source point at z on the
        axis is seen at D² = (along − z)² + ρ² under θ = atan2(ρ, along − z)."""
        L = self.decay_volume_length_m
        n_pan = max(1, int(math.ceil(L / 12.0)))
        t, w = np.polynomial.legendre.leggauss(max(4, N_SOURCE_NODES // n_pan))
        edges = np.linspace(0.0, L, n_pan + 1)
        z = (0.5 * (edges[1:] - edges[:-1])[:, None] * (t[None, :] + 1.0) + edges[:-1, None]).ravel()
        wz = (0.5 * (edges[1:] - edges[:-1])[:, None] * w[None, :]).ravel() / L
        out = np.zeros(along_m.shape[0])
        for i0 in range(0, out.size, 65536):
            dz = along_m[i0 : i0 + 65536, None] - z[None, :]  # (n, Q)
            r2 = rho_m[i0 : i0 + 65536, None] ** 2
            A = self.angular_factor(np.arctan2(np.sqrt(r2), dz))
            out[i0 : i0 + 65536] = (A / (dz**2 + r2)) @ wz
        return out

    def flux_factor(self, x_m: ArrayLike) -> Array:
        """g(x) = F(x)/F(detector centre) (dimensionless), 1 at the origin; 1 everywhere if
        ``flux_falloff`` is off.  Exact (quadrature at every point); the generator uses
        :meth:`flux_factor_fast`."""
        x = np.atleast_2d(np.asarray(x_m, dtype=float))
        if not self.flux_falloff:
            return np.ones(x.shape[0])
        return self._source_flux(x) / self._source_flux(np.zeros((1, 3)))[0]

    def flux_factor_fast(self, x_m: ArrayLike) -> Array:
        """g(x) interpolated from a table (:class:`FluxFactorTable`, built once per beamline
        and process); points outside the table get the exact :meth:`flux_factor`.  Relative
        error below :data:`FLUX_TABLE_RTOL` (tests/test_beamline.py)."""
        x = np.atleast_2d(np.asarray(x_m, dtype=float))
        if x.ndim != 2 or x.shape[1] != 3:
            raise InputError(f"points must have shape (N, 3), got {x.shape}")
        if not self.flux_falloff:
            return np.ones(x.shape[0])
        from dipolehnl.beam._kernels import table_flux_factor

        t = _flux_table(self)
        out: Array = table_flux_factor(
            np.ascontiguousarray(x), self.target_m, self.axis, t.a0_m, t.da_m, t.w_step, t.rho0_m, t.ln_g
        )
        outside = np.isnan(out)
        if outside.any():
            out[outside] = self.flux_factor(x[outside])
        return out


#: interpolation error of :meth:`Beamline.flux_factor_fast` (tested)
FLUX_TABLE_RTOL: float = 5e-4


@dataclass(frozen=True)
class FluxFactorTable:
    """ln g on a grid in (a, w) with a the distance along the beam axis from the target
    (uniform, ``step_m``) and w = asinh(ρ/ρ₀) with ρ the distance from the axis (uniform):
    fine near the axis, where the angular factor varies on the scale ρ ~ a/γ₂.  Bilinear
    interpolation of ln g (g > 0 and smooth: the earth begins after the decay volume ends),
    evaluated by ``beam._kernels._table_g`` for the generator and :meth:`Beamline.flux_factor_fast`."""

    a0_m: float
    da_m: float
    w_step: float
    rho0_m: float
    ln_g: Array  # (n_a, n_w)

    @classmethod
    def build(cls, bl: Beamline, a_range_m: tuple[float, float], rho_max_m: float) -> FluxFactorTable:
        da, rho0, n_w = 0.5, 2.0, 160
        n_a = int(math.ceil((a_range_m[1] - a_range_m[0]) / da)) + 2
        w_max = math.asinh(rho_max_m / rho0)
        a = a_range_m[0] + da * np.arange(n_a)
        w = np.linspace(0.0, w_max, n_w)
        rho = rho0 * np.sinh(w)
        if not bl.flux_falloff:
            g = np.ones((n_a, n_w))
        else:  # F at (a, ρ) over F at the detector centre (:meth:`Beamline.flux_factor`)
            aa, rr = np.broadcast_arrays(a[:, None], rho[None, :])
            g = bl._source_flux_axial(aa.ravel(), rr.ravel()).reshape(n_a, n_w) / bl._source_flux(np.zeros((1, 3)))[0]
        return cls(float(a[0]), da, float(w[1] - w[0]), rho0, np.log(g))


@lru_cache(maxsize=8)
def _flux_table(bl: Beamline) -> FluxFactorTable:
    """The table of a beamline: from the earth's upstream face (less the lateral reach) to
    50 m past the detector, out to 1.5 × the earth's half-diagonal from the axis."""
    w = bl.lateral_half_width_m
    slope = math.sin(math.radians(bl.off_axis_deg))
    a_lo = max(bl.decay_volume_length_m, bl.rock_start_from_target_m - 1.5 * w * slope - 5.0)
    return FluxFactorTable.build(bl, (a_lo, bl.distance_m + 50.0), 1.5 * math.sqrt(2.0) * w + 10.0)


def modulate_segments(
    beamline: Beamline,
    x_dec_m: Array,
    u: Array,
    offsets: NDArray[np.int64],
    a_m: Array,
    b_m: Array,
    n_cm3: Array,
    volume: NDArray[np.int64],
):
    """Split backward-ray segments [a, b] (m from the decay point x_dec along −u) into
    sub-segments of at most ``beamline.step_m`` with density n × g(x_mid)
    (:meth:`Beamline.flux_factor_fast`; compiled, ``beam._kernels``).  Returns (offsets, a,
    b, n, volume) in the same CSR layout."""
    from dipolehnl.beam._kernels import split_and_modulate

    if not beamline.flux_falloff:  # g = 1: a table of zeros in ln g covering any point
        table = FluxFactorTable(-1e12, 1e12, 1.0, 1e12, np.zeros((3, 2)))
    else:
        table = _flux_table(beamline)
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    a_m, b_m = np.ascontiguousarray(a_m, dtype=float), np.ascontiguousarray(b_m, dtype=float)
    n_cm3 = np.ascontiguousarray(n_cm3, dtype=float)
    x_dec_m, u = np.ascontiguousarray(x_dec_m, dtype=float), np.ascontiguousarray(u, dtype=float)
    # the compiled kernel does not check indices: the layout is checked here
    if x_dec_m.ndim != 2 or x_dec_m.shape[1] != 3 or u.shape != x_dec_m.shape:
        raise InputError(f"decay points and directions must have one shape (N, 3), got {x_dec_m.shape} and {u.shape}")
    check_offsets(offsets, x_dec_m.shape[0], a_m.size)
    if not (np.all(np.isfinite(a_m)) and np.all(np.isfinite(b_m))):
        raise InputError("segment ends must be finite")
    pieces = np.maximum(np.ceil((b_m - a_m) / float(beamline.step_m)), 1.0).astype(np.int64)  # as the kernel
    off = np.concatenate([[0], np.cumsum(pieces)])[offsets]
    total = int(off[-1]) if off.size else 0
    a2, b2, n2, x_mid = np.empty(total), np.empty(total), np.empty(total), np.empty((total, 3))
    v2, parent = np.empty(total, dtype=np.int64), np.empty(total, dtype=np.int64)
    written = split_and_modulate(
        x_dec_m,
        u,
        offsets,
        a_m,
        b_m,
        n_cm3,
        np.ascontiguousarray(volume, dtype=np.int64),
        float(beamline.step_m),
        beamline.target_m,
        beamline.axis,
        table.a0_m,
        table.da_m,
        table.w_step,
        table.rho0_m,
        table.ln_g,
        a2,
        b2,
        n2,
        v2,
        parent,
        x_mid,
    )
    if written != total:  # the sizes above and the kernel's disagree (inconsistent offsets)
        raise InputError("segment offsets do not match the segments")
    outside = np.isnan(n2)
    if outside.any():  # beyond the table: the exact flux factor
        n2[outside] = n_cm3[parent[outside]] * beamline.flux_factor(x_mid[outside])
    return off, a2, b2, n2, v2


def for_preset(preset, experiment, detector: Detector | None = None) -> tuple[Detector, Beamline | None]:
    """(detector, beamline) of an experiment under a preset: the detector (``detector`` or the
    experiment's) with the beamline earth, and the :class:`Beamline` whose flux fall-off the
    generator applies; or the detector unchanged and None (preset ``beamline = None``, SIREN)."""
    det = experiment.detector if detector is None else detector
    overrides = getattr(preset, "beamline", None)
    if overrides is None:
        return det, None
    try:
        bl = Beamline.for_experiment(experiment, **dict(overrides))
    except TypeError as exc:
        raise InputError(f"preset {preset.name!r}: bad beamline setting: {exc}") from None
    return bl.detector(det), bl
