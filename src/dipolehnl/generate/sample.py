"""The weighted event sample: per-event kinematics and weights, exact reweighting in the
coupling and the flux components, production shares (docs/method.md).

An :class:`EventSample` knows nothing about analyses: it holds the upscattering and decay
kinematics of both decay modes (N → νγ and N → νe⁺e⁻), the production volume, subsystem
and material, and the fiducial volume of every decay.  Selections are applied afterwards
by the analysis stage (signal channels), which this module does not know about.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dipolehnl.beam.flux import FluxComponent
from dipolehnl.detector.geometry import Detector, check_offsets
from dipolehnl.detector.shapes import Shape
from dipolehnl.errors import InputError
from dipolehnl.generate.stratified import stratified_variance
from dipolehnl.physics.model import HNLModel

if TYPE_CHECKING:
    import pandas as pd

    from dipolehnl.generate.sampling import GeneratorSettings

Array = NDArray[np.float64]


@dataclass
class Segments:
    """Per-event backward-ray segments with non-zero density (CSR): the exact decay integral."""

    offsets: NDArray[np.int64]
    a_m: Array
    b_m: Array
    n_cm3: Array
    volume: NDArray[np.int64]

    def decay_integral(self, lam_m: Array) -> Array:
        """J = Σ n (e^{−a/λ} − e^{−b/λ}) per event, for λ (n_events,), in cm^-3."""
        return _segment_sum(self, lam_m, per_segment=False)

    def subset(self, rows: NDArray[np.int64]) -> Segments:
        """The segments of the events ``rows`` (in that order)."""
        rows = np.asarray(rows, dtype=np.int64)
        counts = np.diff(self.offsets)[rows]
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        idx = np.repeat(self.offsets[:-1][rows] - offsets[:-1], counts) + np.arange(offsets[-1])
        return Segments(offsets, self.a_m[idx], self.b_m[idx], self.n_cm3[idx], self.volume[idx])

    def decay_integral_scaled(self, lam0_m: Array, scale: Array) -> Array:
        """J at λ = lam0[i]/scale[k] for every event i and k: (n_events, K), in cm^-3."""
        return self.decay_integral_by_group(np.zeros(self.a_m.size, dtype=np.int64), 1, lam0_m, scale)[:, :, 0]

    def decay_integral_by_group(self, group: NDArray[np.int64], n_groups: int, lam0_m: Array, scale: Array) -> Array:
        """J split by segment group (``group`` per segment, 0 to n_groups − 1) at λ =
        lam0[i]/scale[k]: (n_events, K, n_groups), in cm^-3 (``generate._kernels.decay_integral``)."""
        from dipolehnl.generate._kernels import decay_integral

        lam0 = np.ascontiguousarray(lam0_m, dtype=float)
        sc = np.asarray(scale, dtype=float)
        group = np.ascontiguousarray(group, dtype=np.int64)
        off = np.ascontiguousarray(self.offsets, dtype=np.int64)
        n_seg = self.a_m.size
        # the compiled kernel does not check indices: the layout is checked here
        check_offsets(off, lam0.size, n_seg)
        if any(v.size != n_seg for v in (self.b_m, self.n_cm3, group)):
            raise InputError("a, b, n and group must have one entry per segment")
        if n_groups < 1 or (n_seg and (group.min() < 0 or group.max() >= n_groups)):
            raise InputError(f"segment groups must lie in 0..{n_groups - 1}")
        order = None
        if np.any(np.diff(sc) < 0):  # the kernel takes the scales in ascending order
            order = np.argsort(sc, kind="stable")
            sc = sc[order]
        out = np.zeros((lam0.size, sc.size, n_groups))
        decay_integral(
            off,
            np.ascontiguousarray(self.a_m, dtype=float),
            np.ascontiguousarray(self.b_m, dtype=float),
            np.ascontiguousarray(self.n_cm3, dtype=float),
            group,
            lam0,
            np.ascontiguousarray(sc),
            out,
        )
        if order is not None:
            unsorted = np.empty_like(out)
            unsorted[:, order] = out
            out = unsorted
        return out


def _checked_couplings(couplings: ArrayLike) -> np.ndarray:
    """Couplings (GeV^-1) as a 1-D float array; InputError unless positive and finite."""
    c = np.asarray(couplings, dtype=float)
    if c.ndim != 1 or np.any(~np.isfinite(c)) or np.any(c <= 0):
        raise InputError("couplings must be positive and finite")
    return c


def _segment_sum(seg: Segments, lam_m: Array, per_segment: bool) -> Array:
    """Per-segment contributions n (e^{−a/λ} − e^{−b/λ}) (per_segment) or their sum per event,
    for one λ per event."""
    lam = np.asarray(lam_m, dtype=float)
    counts = np.diff(seg.offsets)
    lam_seg = np.repeat(lam, counts)
    contrib: Array = seg.n_cm3 * (np.exp(-seg.a_m / lam_seg) - np.exp(-seg.b_m / lam_seg))
    if per_segment:
        return contrib
    out = np.zeros(counts.size)
    nonempty = counts > 0
    if contrib.shape[0]:
        out[nonempty] = np.add.reduceat(contrib, seg.offsets[:-1][nonempty], axis=0)
    return out


@dataclass
class EventSample:
    """Weighted HNL decays inside fiducial volumes, for one detector, model and flux set.

    Per-event arrays (length ``n``) are in :attr:`columns`; weights in events per POT
    follow from :meth:`weights`.  ``kin_weight`` × φ_k(E) × (d/d₀)² J(λ) is the weight for
    flux component k at coupling d (events per POT of decays in the fiducial volume, all
    decay modes), with J the exact decay integral of the event's backward ray and d₀ the
    model's coupling.  Nothing that was sampled depends on d, so every coupling is exact.

    Attributes
    ----------
    model : HNLModel
        The model the sample was generated with.
    detector : Detector
        The detector (with the densities used).
    fiducial_names : tuple of str
        Names of the fiducial volumes.
    flux_components : dict of str to FluxComponent
        The flux components (``"fhc:numu"``, ...).
    columns : dict of str to numpy.ndarray
        Per-event columns (docs/events.md).
    segments : Segments
        Backward-ray segments of every event (the exact decay integral).
    kin_weight : numpy.ndarray
        Weight without flux and decay integral, per event.
    flux_density : numpy.ndarray
        φ_k(E_i), shape (n, n_components).
    settings : GeneratorSettings
        Numerical settings (events, seed).
    strata : dict of str to int
        Events per stratum (channel and fiducial volume).
    fiducial_shapes : dict of str to Shape
        The fiducial volumes' shapes (m).
    """

    model: HNLModel
    detector: Detector
    fiducial_names: tuple[str, ...]
    flux_components: dict[str, FluxComponent]
    columns: dict[str, np.ndarray]
    segments: Segments
    kin_weight: Array  # (n,) everything but φ(E) and J: cm² GeV cm³ / (stratum size)
    flux_density: Array  # (n, n_components) φ_k(E_i)
    settings: GeneratorSettings
    strata: dict[str, int] = field(default_factory=dict)
    fiducial_shapes: dict[str, Shape] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of events."""
        return int(self.kin_weight.shape[0])

    @property
    def base_weight(self) -> Array:
        """Weight per unit flux density at the model's coupling: kin_weight × J(λ₀)."""
        w: Array = self.kin_weight * self.columns["decay_integral_cm3"]
        return w

    @property
    def component_names(self) -> tuple[str, ...]:
        """Names of the flux components, in column order of :attr:`flux_density`."""
        return tuple(self.flux_components)

    def flux_factor(self, components: Sequence[str] | None = None) -> Array:
        """Flux density summed over flux components, per event.

        Parameters
        ----------
        components : sequence of str, optional
            Flux components to include (default: all of the sample).

        Returns
        -------
        numpy.ndarray
            Σ_k φ_k(E_i) (per cm² per GeV per POT), shape (n,).

        Raises
        ------
        InputError
            For a component not in the sample.
        """
        names = self.component_names
        if components is None:
            total: Array = self.flux_density.sum(axis=1)
            return total
        idx = []
        for c in components:
            if c not in names:
                raise InputError(f"flux component {c!r} not in this sample ({', '.join(names)})")
            idx.append(names.index(c))
        chosen: Array = self.flux_density[:, idx].sum(axis=1)
        return chosen

    def weights(self, coupling: float | None = None, components: Sequence[str] | None = None) -> Array:
        """Events per POT of HNL decays (all modes) in the fiducial volumes, per event.

        Parameters
        ----------
        coupling : float, optional
            Reweight exactly to another d (GeV^-1) at the same mass.
        components : sequence of str, optional
            Flux components to include (default: all of the sample).

        Returns
        -------
        numpy.ndarray
            Weights, shape (n,).

        Raises
        ------
        InputError
            For a non-positive coupling or an unknown component.
        """
        if coupling is None or coupling == self.model.d_GeVinv:
            return self.base_weight * self.flux_factor(components)
        return self.kin_weight * self.flux_factor(components) * self.coupling_matrix([coupling])[:, 0]

    def weights_grid(self, couplings: ArrayLike, components: Sequence[str] | None = None) -> Array:
        """Weights at many couplings (exact reweighting).

        Parameters
        ----------
        couplings : sequence of float
            Couplings d in GeV^-1 (positive).
        components : sequence of str, optional
            Flux components to include (default: all).

        Returns
        -------
        numpy.ndarray
            Events per POT, shape (n_events, n_couplings).

        Raises
        ------
        InputError
            For non-positive couplings or an unknown component.
        """
        return (self.kin_weight * self.flux_factor(components))[:, None] * self.coupling_matrix(couplings)

    def coupling_matrix(self, couplings: ArrayLike, rows: NDArray[np.int64] | None = None) -> Array:
        """The coupling dependence of every event's weight.

        Parameters
        ----------
        couplings : sequence of float
            Couplings d in GeV^-1 (positive, finite).
        rows : numpy.ndarray of int, optional
            Only these events (the matrix is then (len(rows), n_couplings)).

        Returns
        -------
        numpy.ndarray
            (d/d₀)² J(λ₀ d₀²/d²) in cm⁻³, shape (n_events, n_couplings): weights at
            coupling d are ``kin_weight × flux × coupling_matrix``.

        Raises
        ------
        InputError
            For non-positive or non-finite couplings.
        """
        c = _checked_couplings(couplings)
        r2 = (c / self.model.d_GeVinv) ** 2  # σ ∝ d², λ ∝ 1/d²
        if rows is None:
            return r2[None, :] * self.segments.decay_integral_scaled(self.columns["decay_length_m"], r2)
        rows = np.asarray(rows, dtype=np.int64)
        return r2[None, :] * self.segments.subset(rows).decay_integral_scaled(self.columns["decay_length_m"][rows], r2)

    def mc_error(self, w: Array) -> float:
        """Monte Carlo standard error of a sum of per-event weights.

        Parameters
        ----------
        w : numpy.ndarray
            Per-event weights of this sample, shape (n,).

        Returns
        -------
        float
            Standard error of Σ w (stratified sampling,
            :func:`dipolehnl.generate.stratified.stratified_variance`).
        """
        var = float(stratified_variance(np.asarray(w, dtype=float), self.columns["stratum"]))
        return float(math.sqrt(max(var, 0.0)))

    def production_material(self) -> np.ndarray:
        """Material of every event's production volume.

        Returns
        -------
        numpy.ndarray
            Material names ('' where none), shape (n,).
        """
        return self.columns["production_material"]

    def production_fractions(self) -> tuple[tuple[str, ...], Array]:
        """Exact share of every event's weight produced in each detector subsystem.

        Returns
        -------
        names : tuple of str
            Subsystem names.
        fractions : numpy.ndarray
            Shares, shape (n_events, n_subsystems); rows sum to 1 (0 without material).
        """
        names, frac = self.production_fractions_at(np.array([self.model.d_GeVinv]))
        return names, frac[:, 0, :]

    def production_fractions_at(
        self, couplings: ArrayLike, rows: NDArray[np.int64] | None = None
    ) -> tuple[tuple[str, ...], Array]:
        """Production shares per event and subsystem at other couplings.

        Parameters
        ----------
        couplings : sequence of float
            Couplings d in GeV^-1.
        rows : numpy.ndarray of int, optional
            Only these events (n_events = len(rows)).

        Returns
        -------
        names : tuple of str
            Subsystem names.
        fractions : numpy.ndarray
            Shares, shape (n_events, n_couplings, n_subsystems).
        """
        subsystems, acc = self.subsystem_coupling_matrix(couplings, rows)
        J = acc.sum(axis=2, keepdims=True)
        out = np.divide(acc, J, out=np.zeros_like(acc), where=J > 0)
        return subsystems, out

    def subsystem_coupling_matrix(
        self, couplings: ArrayLike, rows: NDArray[np.int64] | None = None
    ) -> tuple[tuple[str, ...], Array]:
        """:meth:`coupling_matrix` split by the detector subsystem of the production volume.

        Parameters
        ----------
        couplings : sequence of float
            Couplings d in GeV^-1 (positive, finite).
        rows : numpy.ndarray of int, optional
            Only these events (n_events = len(rows)).

        Returns
        -------
        names : tuple of str
            Subsystem names (sorted).
        matrix : numpy.ndarray
            (d/d₀)² J_s(λ₀ d₀²/d²) in cm⁻³ with J_s the decay integral over the segments of
            subsystem s, shape (n_events, n_couplings, n_subsystems); its sum over subsystems
            is :meth:`coupling_matrix`.

        Raises
        ------
        InputError
            For non-positive or non-finite couplings.
        """
        c = _checked_couplings(couplings)
        subsystems = tuple(sorted({v.subsystem for v in self.detector.volumes}))
        index = {s: i for i, s in enumerate(subsystems)}
        vol_sub = np.array([index[v.subsystem] for v in self.detector.volumes], dtype=np.int64)
        seg = self.segments if rows is None else self.segments.subset(rows)
        lam0 = self.columns["decay_length_m"] if rows is None else self.columns["decay_length_m"][rows]
        if lam0.size == 0:  # no events (e.g. none selected)
            return subsystems, np.zeros((0, c.size, len(subsystems)))
        r2 = (c / self.model.d_GeVinv) ** 2  # σ ∝ d², λ ∝ 1/d²
        acc = seg.decay_integral_by_group(vol_sub[seg.volume], len(subsystems), lam0, r2)
        return subsystems, r2[None, :, None] * acc

    def to_frame(
        self,
        coupling: float | None = None,
        components: Sequence[str] | None = None,
        extra: Mapping[str, np.ndarray] | None = None,
    ) -> pd.DataFrame:
        """The events as a pandas DataFrame (one row per event; see docs/events.md).

        Parameters
        ----------
        coupling : float, optional
            Coupling (GeV^-1) of the ``weight`` column (default: the model's).
        components : sequence of str, optional
            Flux components of the weights (default: all).
        extra : mapping of str to array, optional
            Further per-event columns (e.g. an analysis channel's cut flags and
            ``weight_selected``), added after ``weight``.

        Returns
        -------
        pandas.DataFrame
            ``weight`` (events per POT), the extra columns, then the sample's columns
            (vectors split into ``_E/_px/_py/_pz`` or ``_x/_y/_z``).

        Raises
        ------
        InputError
            For a non-positive coupling or an unknown component.
        """
        import pandas as pd

        w = self.weights(coupling, components)
        data = {"weight": w, **{k: np.asarray(v) for k, v in (extra or {}).items()}}
        skip = {"decay_integral_cm3"}
        for k, v in self.columns.items():
            if k in skip:
                continue
            if v.ndim == 2:
                for j, ax in enumerate(("E", "px", "py", "pz") if v.shape[1] == 4 else ("x", "y", "z")):
                    data[f"{k}_{ax}"] = v[:, j]
            else:
                data[k] = v
        return pd.DataFrame(data)
