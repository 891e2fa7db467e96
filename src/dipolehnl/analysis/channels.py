"""Signal channels: the selection stage that turns HNL decays in a fiducial volume into
selected events.  An event sample (``generate``) knows nothing about selections; a channel
reads its kinematics and returns a per-event factor (0…1, including the branching ratio).

Interface (:class:`Channel`)::

    factor = channel.selection_factor(sample)     # (n,) per event: BR × cuts × efficiency
    stages = channel.cut_flow(sample)             # ordered [(stage, cumulative factor (n,)), ...]

Two implementations, chosen in an analysis file (``[selection] channel = "ee"``):

``ee`` (:class:`EeChannel`, arXiv:2412.15051 Sec. IV, today's search)
    N → ν e⁺e⁻: HNL direction cos θ_N > ``cos_theta_min``, e⁺e⁻ opening angle below
    ``opening_angle_max_deg``, × BR(N→νe⁺e⁻) (of the model's convention, or the paper-code
    closed form), × an efficiency table versus HNL mass.
``single_photon`` (:class:`SinglePhotonChannel`)
    N → νγ with the photon showering: photon energy above ``photon_energy_min_GeV``, photon
    angle to the beam below ``photon_angle_max_deg``, × BR(N→νγ), × the probability that the
    photon converts in the detector along its path from the decay point,
    P = 1 − exp(−t/λ) with t the traversed depth in radiation lengths (Σ ρ ℓ / X₀ over the
    traced segments, up to ``max_path_m``, optionally only in ``conversion_subsystems``) and
    λ = ``mean_free_path_X0`` (9/7 X₀ for pair production at high energy), × an efficiency
    table versus photon energy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from dipolehnl.errors import InputError
from dipolehnl.generate import kinematics as kin
from dipolehnl.physics import decays

if TYPE_CHECKING:
    from dipolehnl.generate.sample import EventSample

Array = NDArray[np.float64]
CHANNELS: tuple[str, ...] = ("ee", "single_photon")
BR_EE_CHOICES: tuple[str, ...] = ("model", "paper-code")


@runtime_checkable
class Channel(Protocol):
    """A signal channel: what fraction of each HNL decay in the fiducial volume is selected."""

    @property
    def name(self) -> str:
        """Channel name (``ee``, ``single_photon``)."""
        ...

    @property
    def decay_mode(self) -> str:
        """The HNL decay mode the channel selects (``nu_ee`` or ``nu_gamma``; event-file labels)."""
        ...

    @property
    def min_cos_theta_N(self) -> float:
        """No HNL with cos θ_N (to the beam axis) at or below this value is ever selected (−1:
        any direction can be); the generator need not trace such events
        (``GeneratorSettings.cos_theta_min``)."""
        ...

    def selection_factor(self, sample: EventSample) -> Array:
        """Per-event factor turning decays (all modes) into selected events."""
        ...

    def cut_flow(self, sample: EventSample) -> list[tuple[str, Array]]:
        """Ordered stages (name, cumulative per-event factor); the last is ``selection_factor``."""
        ...

    def columns(self, sample: EventSample) -> dict[str, np.ndarray]:
        """Per-event columns for event files."""
        ...

    def summary(self, sample: EventSample) -> dict[str, float]:
        """Per-sample numbers of the selection (branching ratio, efficiency)."""
        ...


@dataclass(frozen=True)
class EeChannel:
    """The e⁺e⁻ selection (see module docstring); efficiency: callable m_GeV → efficiency or None (1)."""

    cos_theta_min: float = 0.992
    opening_angle_max_deg: float = 90.0
    efficiency: Callable[[float], float | Array] | None = None
    br_ee: str = "model"
    name: str = "ee"
    decay_mode: str = "nu_ee"

    def __post_init__(self) -> None:
        if not -1.0 <= self.cos_theta_min <= 1.0:
            raise InputError(f"cos_theta_min must be in [-1, 1], got {self.cos_theta_min}")
        if not 0.0 < self.opening_angle_max_deg <= 180.0:
            raise InputError(f"opening_angle_max_deg must be in (0, 180], got {self.opening_angle_max_deg}")
        if self.br_ee not in BR_EE_CHOICES:
            raise InputError(f"br_ee must be 'model' or 'paper-code', got {self.br_ee!r}")

    @property
    def cos_opening_min(self) -> float:
        return math.cos(math.radians(self.opening_angle_max_deg))

    @property
    def min_cos_theta_N(self) -> float:
        return self.cos_theta_min  # the forward cut: cos θ_N > cos_theta_min

    def efficiency_at(self, m_GeV: float) -> float:
        return 1.0 if self.efficiency is None else float(self.efficiency(m_GeV))

    def branching_ratio(self, sample: EventSample) -> float:
        m = sample.model
        return decays.br_ee(m) if self.br_ee == "model" else decays.br_ee_paper_code(m.mass_GeV)

    def flags(self, sample: EventSample) -> dict[str, NDArray[np.bool_]]:
        """Per-event cut flags ``pass_forward`` and ``pass_opening_angle``."""
        c = sample.columns
        cos_open = kin.opening_angle_cos(c["p_eminus"], c["p_eplus"])
        return {
            "pass_forward": c["cos_theta_N"] > self.cos_theta_min,
            "pass_opening_angle": cos_open > self.cos_opening_min,
        }

    def cut_flow(self, sample: EventSample) -> list[tuple[str, Array]]:
        f = self.flags(sample)
        br, eff = self.branching_ratio(sample), self.efficiency_at(sample.model.mass_GeV)
        fwd = f["pass_forward"].astype(float)
        ee = br * f["pass_forward"]
        opening = ee * f["pass_opening_angle"]
        return [("forward", fwd), ("ee", ee), ("opening_angle", opening), ("selected", opening * eff)]

    def selection_factor(self, sample: EventSample) -> Array:
        return self.cut_flow(sample)[-1][1]

    def columns(self, sample: EventSample) -> dict[str, np.ndarray]:
        """Per-event columns for event files: flags, BR and efficiency."""
        n = sample.n
        c = sample.columns
        cos_open = kin.opening_angle_cos(c["p_eminus"], c["p_eplus"])
        return {
            **self.flags(sample),
            "opening_angle_deg": np.degrees(np.arccos(np.clip(cos_open, -1, 1))),
            "br_ee": np.full(n, self.branching_ratio(sample)),
            "efficiency": np.full(n, self.efficiency_at(sample.model.mass_GeV)),
        }

    def summary(self, sample: EventSample) -> dict[str, float]:
        return {"br_ee": self.branching_ratio(sample), "efficiency": self.efficiency_at(sample.model.mass_GeV)}


@dataclass(frozen=True)
class SinglePhotonChannel:
    """The single-photon (N → νγ) selection (see module docstring).

    photon_energy_min_GeV: photon energy threshold (GeV).
    photon_angle_max_deg: largest photon angle to the beam axis (+z), degrees.
    mean_free_path_X0: photon conversion length in radiation lengths (9/7).
    max_path_m: photon path traced from the decay point (m); inf: to the edge of the detector.
    efficiency: callable E_γ (GeV) → efficiency, or None (1).
    conversion_subsystems: subsystems whose material counts for the conversion (e.g. the
        instrumented ones); None: every volume along the path.
    """

    photon_energy_min_GeV: float = 0.0
    photon_angle_max_deg: float = 180.0
    mean_free_path_X0: float = 9.0 / 7.0
    max_path_m: float = math.inf
    efficiency: Callable[[Array], Array | float] | None = None
    conversion_subsystems: tuple[str, ...] | None = None
    name: str = "single_photon"
    decay_mode: str = "nu_gamma"

    @property
    def min_cos_theta_N(self) -> float:
        return -1.0  # no cut on the HNL direction

    def __post_init__(self) -> None:
        if not (math.isfinite(self.photon_energy_min_GeV) and self.photon_energy_min_GeV >= 0):
            raise InputError(f"photon_energy_min_GeV must be >= 0, got {self.photon_energy_min_GeV}")
        if not 0.0 < self.photon_angle_max_deg <= 180.0:
            raise InputError(f"photon_angle_max_deg must be in (0, 180], got {self.photon_angle_max_deg}")
        if not (math.isfinite(self.mean_free_path_X0) and self.mean_free_path_X0 > 0):
            raise InputError(f"mean_free_path_X0 must be > 0, got {self.mean_free_path_X0}")
        if not self.max_path_m > 0:
            raise InputError(f"max_path_m must be > 0, got {self.max_path_m}")

    def branching_ratio(self, sample: EventSample) -> float:
        m = sample.model
        return decays.gamma_nu_gamma(m) / decays.gamma_total(m)

    def conversion_probability(self, sample: EventSample) -> Array:
        """P(photon converts along its path) = 1 − exp(−t/λ), t in X₀ (see module docstring)."""
        c = sample.columns
        det = sample.detector
        seg = det.trace(c["decay_vertex_m"], c["p_gamma"][:, 1:], self.max_path_m)
        x0 = np.array([v.material.radiation_length_g_cm2 for v in det.volumes])
        counts = np.array(
            [self.conversion_subsystems is None or v.subsystem in self.conversion_subsystems for v in det.volumes],
            dtype=float,
        )
        depth_seg = seg.column_density_g_cm2() / x0[seg.volume] * counts[seg.volume]
        depth = np.bincount(seg.ray, weights=depth_seg, minlength=sample.n)
        return -np.expm1(-depth / self.mean_free_path_X0)

    def cut_flow(self, sample: EventSample) -> list[tuple[str, Array]]:
        c = sample.columns
        pg = c["p_gamma"]
        E = pg[:, 0]
        cos = pg[:, 3] / np.maximum(np.linalg.norm(pg[:, 1:], axis=1), 1e-300)
        cuts = (E > self.photon_energy_min_GeV) & (cos >= math.cos(math.radians(self.photon_angle_max_deg)))
        gamma = self.branching_ratio(sample) * cuts
        conv = gamma * self.conversion_probability(sample)
        eff = np.ones(sample.n) if self.efficiency is None else np.asarray(self.efficiency(E), dtype=float)
        return [("photon_cuts", cuts.astype(float)), ("nu_gamma", gamma), ("converted", conv), ("selected", conv * eff)]

    def selection_factor(self, sample: EventSample) -> Array:
        return self.cut_flow(sample)[-1][1]

    def columns(self, sample: EventSample) -> dict[str, np.ndarray]:
        return {
            "conversion_probability": self.conversion_probability(sample),
            "br_nu_gamma": np.full(sample.n, self.branching_ratio(sample)),
        }

    def summary(self, sample: EventSample) -> dict[str, float]:
        return {"br_nu_gamma": self.branching_ratio(sample)}
