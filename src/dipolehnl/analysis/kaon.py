"""Validation with HNLs from kaon decays (arXiv:2412.15051, Supplemental Material, App. A).

The paper checks its treatment of ND280 by reproducing the |U_μN|² limits of
Ref. [41] (C. A. Argüelles, N. Foppiani, M. Hostert, PRD 105, 095006 (2022),
arXiv:2109.03831; "AFH2022" below) on HNLs produced by mass mixing in K⁺ → μ⁺ N and
decaying through a transition magnetic moment μ_tr = 10⁻⁶ GeV⁻¹ (d = μ_tr/2 = 5×10⁻⁷
GeV⁻¹) to ν e⁺e⁻ inside the gaseous TPCs.  This module is that calculation, done
semi-analytically.

Production (Shrock, Phys. Lett. B 96, 159 (1980); PRD 24, 1232 (1981))
---------------------------------------------------------------------
The HNL flux is the ν_μ-from-kaon flux φ_K(E) at ND280 scaled by

    ρ = Γ(K→μN)/Γ(K→μν) = |U|² [a + b − (a − b)²] λ^{1/2}(1, a, b) / [a (1 − a)²],
    a = m_μ²/m_K²,  b = m_N²/m_K²,

with λ the Källén function, and ρ = 0 for m_N ≥ m_K − m_μ.  The paper writes
a = m_μ/m_K, b = m_N/m_K, but the two-body rate Γ(K→ℓN) ∝ |U|² m_K [m_ℓ² + m_N² −
(m_ℓ² − m_N²)²/m_K²] λ^{1/2}(1, m_ℓ²/m_K², m_N²/m_K²) needs the *squared* ratios (only
then does ρ → |U|² as m_N → 0); AFH2022's code (``Rapp``) uses the squares too.

The HNL is given the energy of the parent neutrino, E_N = E_ν, momentum
p = √(E² − m_N²) (E > m_N) -- the simplest reading of "scaling the spectrum"; the
kaon-frame kinematics of the massive daughter and the changed angular acceptance are
neglected, as in the paper and in AFH2022 (which evaluates φ_K at p_N instead; the
difference matters only near threshold).

Flight and decay
----------------
Kaons decay in the decay volume that starts at the target (96 m; the ``beam.source`` of
the experiment file); ND280's centre is 284.9 m from the target (``beam.distance_m``), so
by default the production distance D to the ND280 centre is uniform in [188.9, 284.9] m
and the decay probability (:mod:`dipolehnl.physics.meson_decays`) is averaged over it.  HNLs fly
along the beam (z).  A fiducial volume (FV) of area A (x·y) between the planes z₁ < z₂
(detector coordinates, origin at the ND280 centre) sees

    P(λ) = ⟨exp(−(D+z₁)/λ) − exp(−(D+z₂)/λ)⟩_D
         = S(λ) · T(λ),   S = λ/(D₂−D₁) [e^{−D₁/λ} − e^{−D₂/λ}],  T = e^{−z₁/λ} − e^{−z₂/λ},

with λ = (p/m) cτ the lab decay length (:func:`decay_probability`).  The number of
signal events is

    N = Σ_modes POT_mode Σ_FV A_FV ∫ dE φ_K,mode(E) ρ(m_N) P(λ(p(E))) × w(m_N),

where the weight w is one of the :data:`SIGNAL_VARIANTS`:

* ``'decays'``     -- 1: decays in the FV (the paper's words: "compute the number of decays that occur
  within the fiducial volumes");
* ``'br_ee'``      -- BR(N → ν e⁺e⁻);
* ``'br_ee_eff'``  -- BR(N → ν e⁺e⁻) × the T2K 2019 e⁺e⁻ selection efficiency (:mod:`dipolehnl.analysis.efficiency`).

The total width is the dipole width only (the mixing-induced weak widths, ∝ G_F² m⁵ |U|²,
are < 10⁻⁴ of it for |U|² < 10⁻⁴), so N is linear in |U|² and the 90% CL, zero
background limit is |U|²_lim = s_up / N(|U|² = 1), s_up = −ln(0.1) = 2.303.
docs/kaon_validation.md compares the variants and conventions with the AFH2022 curves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dipolehnl.analysis.efficiency import load_efficiency
from dipolehnl.analysis.limits import load_external_limit
from dipolehnl.analysis.statistics import poisson_zero_background_limit
from dipolehnl.beam.flux import check_mode, kaon_numu_flux
from dipolehnl.constants import M_KAON_GEV, M_MU_GEV
from dipolehnl.detector.shapes import Box
from dipolehnl.errors import InputError
from dipolehnl.io import write_text_atomic
from dipolehnl.physics import decays, meson_decays
from dipolehnl.physics.meson_decays import _production_interval, hnl_flux_ratio, kallen, shrock_factor  # noqa: F401
from dipolehnl.physics.model import HNLModel, check_convention

FloatArray = NDArray[np.float64]

SignalVariant = Literal["decays", "br_ee", "br_ee_eff"]
#: What is counted per HNL decay in a fiducial volume (see module docstring).
SIGNAL_VARIANTS: tuple[str, ...] = ("decays", "br_ee", "br_ee_eff")

#: Transition magnetic moment of the validation, DarkNews's mu_tr (GeV^-1); d = mu_tr / 2.
MU_TR_VALIDATION_GEVINV: float = 1.0e-6
#: The experiment whose beam geometry (distance to the target, decay volume) and fiducial
#: volumes the validation uses, and the analyses whose exposures it takes.
EXPERIMENT = "t2k-nd280"
EXPOSURE_ANALYSES: tuple[tuple[str, str, str], ...] = (
    ("2019", "t2k2019", "t2k-nd280"),
    ("T2K+T2K-II", "t2k+t2k2", "t2k-nd280-upgrade"),
)


def default_production_distance_m(experiment: str = EXPERIMENT) -> tuple[float, float]:
    """Production distances to the detector centre (m): kaon decays uniform over the decay
    volume, [distance − decay volume length, distance] of the experiment file (T2K ND280:
    [188.9, 284.9] m)."""
    from dipolehnl.experiment import load_experiment

    exp = load_experiment(experiment)
    if exp.decay_volume_length_m is None:
        return (exp.distance_m, exp.distance_m)
    return (exp.distance_m - exp.decay_volume_length_m, exp.distance_m)


#: Kinematic end point of K -> mu N (GeV).
M_N_MAX_GEV: float = M_KAON_GEV - M_MU_GEV
#: Default mass grid (GeV): log-spaced over the range of the AFH2022 curves and up to the end point.
DEFAULT_MASSES_GEV: FloatArray = np.geomspace(0.015, 0.385, 160)
#: Bundled comparison curves (names in :func:`dipolehnl.analysis.limits.load_external_limits`).
REFERENCE_CURVES: dict[str, str] = {"2019": "AFH2022_T2K2019_Umu2", "T2K+T2K-II": "AFH2022_T2K_plus_T2KII_Umu2"}

# Energy integration: Gauss-Legendre on sub-intervals whose ends include the kaon-flux
# table nodes and the 50 MeV grid of the RHC/FHC ratio table (kinks of the integrand).
_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
_RATIO_GRID_GEV = np.arange(0.025, 10.0, 0.05)


# ---------------------------------------------------------------------------------------
# Exposures
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KaonExposure:
    """A data set: protons on target per beam mode and the fiducial volumes that count.

    Attributes
    ----------
    name: label ('2019', 'T2K+T2K-II', ...).
    pot_by_mode: {'fhc' | 'rhc': POT}; each mode uses its own kaon ν_μ flux
        (:func:`dipolehnl.beam.flux.kaon_numu_flux`; RHC = FHC × the RHC/FHC ratio table).
    experiment: experiment whose (box) fiducial volumes are used ('t2k-nd280' or 't2k-nd280-upgrade').
    fiducial_names: which of them (None: all).
    boxes: explicit fiducial boxes (name -> Box, m), overriding ``experiment``.
    """

    name: str
    pot_by_mode: Mapping[str, float]
    experiment: str = "t2k-nd280"
    fiducial_names: tuple[str, ...] | None = None
    boxes: Mapping[str, Box] | None = None

    def __post_init__(self) -> None:
        pots = {check_mode(k): float(v) for k, v in dict(self.pot_by_mode).items()}
        if not pots or any(not math.isfinite(v) or v < 0 for v in pots.values()):
            raise InputError(f"exposure {self.name!r}: POT must be finite and >= 0 for modes fhc/rhc")
        object.__setattr__(self, "pot_by_mode", pots)

    @property
    def total_pot(self) -> float:
        return float(sum(self.pot_by_mode.values()))

    def fiducial_boxes(self) -> dict[str, Box]:
        """The fiducial volumes (name -> Box, m) of this exposure."""
        boxes = dict(self.boxes) if self.boxes is not None else dict(_shipped_fiducial_volumes(self.experiment))
        if self.fiducial_names is not None:
            missing = [n for n in self.fiducial_names if n not in boxes]
            if missing:
                raise InputError(f"exposure {self.name!r}: unknown fiducial volume(s) {missing} (have {sorted(boxes)})")
            boxes = {n: boxes[n] for n in self.fiducial_names}
        if not boxes:
            raise InputError(f"exposure {self.name!r} has no fiducial volume")
        return boxes


def decay_probability(
    decay_length_m: ArrayLike, z1_m: float, z2_m: float, production_distance_m: float | Sequence[float] | None = None
) -> FloatArray:
    """:func:`dipolehnl.physics.meson_decays.decay_probability` with the production distances
    of the experiment file by default (:func:`default_production_distance_m`)."""
    if production_distance_m is None:
        production_distance_m = default_production_distance_m()
    return meson_decays.decay_probability(decay_length_m, z1_m, z2_m, production_distance_m)


@cache
def _shipped_fiducial_volumes(experiment: str) -> tuple[tuple[str, Box], ...]:
    """Box fiducial volumes of an experiment, loaded once per process (the slab formula of
    :func:`decay_probability` needs boxes)."""
    from dipolehnl.experiment import load_experiment

    fvs = load_experiment(experiment).fiducial_volumes
    for name, shape in fvs.items():
        if not isinstance(shape, Box):
            raise InputError(f"kaon validation: fiducial volume {name!r} of {experiment} is not a box")
    return tuple(fvs.items())  # type: ignore[arg-type]


def exposure_from_analysis(label: str, analysis: str, experiment: str) -> KaonExposure:
    """A kaon exposure with the POT per beam mode of an analysis file (summed over its data
    sets) and the fiducial volumes of ``experiment`` that the analysis uses: the 2019
    search (``t2k2019``: 12.34e20 FHC + 6.29e20 RHC POT, TPC1-3) and the T2K + T2K-II
    projection (``t2k+t2k2``: 1e22 POT per mode, TPC1-3 and both HA-TPCs of the upgrade)."""
    from dipolehnl.analysis.analyses import load_analysis

    a = load_analysis(analysis)
    modes = dict.fromkeys(d.mode for d in a.datasets)
    fvs = tuple(dict.fromkeys(f for d in a.datasets if d.experiment == experiment for f in d.fiducial_volumes))
    return KaonExposure(label, {m: a.total_pot(m) for m in modes}, experiment, fvs or None)


@cache
def default_exposures() -> tuple[KaonExposure, ...]:
    """The paper's two exposures (:data:`EXPOSURE_ANALYSES`), from the analysis files."""
    return tuple(exposure_from_analysis(*e) for e in EXPOSURE_ANALYSES)


# ---------------------------------------------------------------------------------------
# Event rates
# ---------------------------------------------------------------------------------------
def _energy_nodes(m_GeV: float, E_table: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Gauss-Legendre points and weights (GeV) on [max(m, E_min), E_max] of the kaon flux table."""
    lo, hi = max(m_GeV, float(E_table[0])), float(E_table[-1])
    if not hi > lo:
        return np.zeros(0), np.zeros(0)
    pts = np.unique(np.concatenate([E_table, _RATIO_GRID_GEV, [lo, hi]]))
    pts = pts[(pts >= lo) & (pts <= hi)]
    a, b = pts[:-1, None], pts[1:, None]
    x = 0.5 * (b - a) * _GL_X[None, :] + 0.5 * (a + b)
    w = 0.5 * (b - a) * _GL_W[None, :]
    return x.ravel(), w.ravel()


def signal_weight(model: HNLModel, signal: str, efficiency: str = "t2k2019") -> float:
    """Weight per decay in a fiducial volume for a signal variant (see :data:`SIGNAL_VARIANTS`)."""
    if signal == "decays":
        return 1.0
    if signal == "br_ee":
        return decays.br_ee(model)
    if signal == "br_ee_eff":
        return decays.br_ee(model) * float(load_efficiency(efficiency)(model.mass_GeV))
    raise InputError(f"unknown signal variant {signal!r}; choose one of {', '.join(SIGNAL_VARIANTS)}")


def events_per_unit_U2(
    m_N_GeV: float,
    exposure: KaonExposure,
    *,
    convention: str = "consistent",
    d_GeVinv: float = MU_TR_VALIDATION_GEVINV / 2.0,
    majorana: bool = False,
    signal: str = "br_ee_eff",
    production_distance_m: float | Sequence[float] | None = None,
    efficiency: str = "t2k2019",
) -> float:
    """Expected signal events for |U_μN|² = 1 (the rate is linear in |U|², see module docstring).

    N/|U|² = Σ_modes POT Σ_FV A_FV[cm²] ∫ dE φ_K(E)[cm⁻² GeV⁻¹ POT⁻¹] (ρ/|U|²) P(λ(p)) w,
    with p = √(E² − m²) and λ = (p/m) cτ (:func:`dipolehnl.physics.decays.decay_length_m`).
    Zero at and above the end point m_K − m_μ.  ``production_distance_m``: (min, max) or one
    number (m); None: :func:`default_production_distance_m`.
    """
    if production_distance_m is None:
        production_distance_m = default_production_distance_m()
    m = float(m_N_GeV)
    if not (math.isfinite(m) and m > 0):
        raise InputError(f"HNL mass must be > 0 GeV, got {m_N_GeV!r}")
    rho = float(shrock_factor(m))
    if rho == 0.0:
        return 0.0
    model = HNLModel(m, d_GeVinv, majorana=majorana, convention=check_convention(convention))
    weight = signal_weight(model, signal, efficiency)
    boxes = exposure.fiducial_boxes()
    total = 0.0
    for mode, pot in exposure.pot_by_mode.items():
        if pot == 0:
            continue
        flux = kaon_numu_flux(mode)
        E, w = _energy_nodes(m, flux.E_GeV)
        if E.size == 0:
            continue
        p = np.sqrt(np.clip(E * E - m * m, 0.0, None))
        lam = decays.decay_length_m(model, p)
        phi = np.asarray(flux(E), dtype=float)
        for box in boxes.values():
            lo, hi = box.lower_m, box.upper_m
            area_cm2 = float((hi[0] - lo[0]) * (hi[1] - lo[1])) * 1.0e4
            prob = decay_probability(lam, float(lo[2]), float(hi[2]), production_distance_m)
            total += pot * area_cm2 * float(np.sum(w * phi * prob))
    return total * rho * weight


# ---------------------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KaonValidationResult:
    """|U_μN|² limits from K → μN, N → ν e⁺e⁻ in the ND280 TPCs (one per exposure).

    Attributes
    ----------
    masses_GeV: HNL masses (GeV), shape (n,).
    limits_Umu2: exposure name -> |U_μN|² limit at each mass (inf where no signal).
    events_per_Umu2: exposure name -> expected events for |U_μN|² = 1.
    settings: everything the numbers depend on (convention, coupling, signal variant, CL, ...).
    """

    masses_GeV: FloatArray
    limits_Umu2: Mapping[str, FloatArray]
    events_per_Umu2: Mapping[str, FloatArray]
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def masses_MeV(self) -> FloatArray:
        return self.masses_GeV * 1.0e3

    @property
    def exposures(self) -> tuple[str, ...]:
        return tuple(self.limits_Umu2)

    def limit_at(self, exposure: str, m_MeV: ArrayLike) -> FloatArray | float:
        """Log-log interpolation of the limit of ``exposure`` at masses in MeV
        (NaN outside the grid or where infinite)."""
        if exposure not in self.limits_Umu2:
            raise InputError(f"no exposure {exposure!r} in this result (have {', '.join(self.limits_Umu2)})")
        lim = np.asarray(self.limits_Umu2[exposure], dtype=float)
        ok = np.isfinite(lim) & (lim > 0)
        x = np.log10(np.asarray(m_MeV, dtype=float))
        mx = np.log10(self.masses_MeV[ok])
        y = np.interp(x, mx, np.log10(lim[ok]))
        out = np.where((x < mx[0]) | (x > mx[-1]), np.nan, 10.0**y)
        return float(out) if out.ndim == 0 else out


def kaon_validation(
    masses_GeV: ArrayLike | None = None,
    convention: str = "consistent",
    *,
    signal: str = "br_ee_eff",
    d_GeVinv: float = MU_TR_VALIDATION_GEVINV / 2.0,
    majorana: bool = False,
    production_distance_m: float | Sequence[float] | None = None,
    exposures: Sequence[KaonExposure] | None = None,
    cl: float = 0.90,
    efficiency: str = "t2k2019",
) -> KaonValidationResult:
    """The supplemental-Fig.-1 calculation: |U_μN|² limits for each exposure.

    Parameters
    ----------
    masses_GeV: HNL masses (GeV); default :data:`DEFAULT_MASSES_GEV` (15-385 MeV).
    convention: width convention, 'consistent' (default: Ref. [41]'s d = μ_tr/2 with Γ_γ = d²m³/4π,
        which the bundled AFH2022 curves follow) or 'darknews' (the paper's SIREN/DarkNews set-up;
        see docs/kaon_validation.md).
    signal: 'decays', 'br_ee' or 'br_ee_eff' (default, Ref. [41]'s treatment; see :data:`SIGNAL_VARIANTS`).
    d_GeVinv: dipole coupling d = μ_tr/2 (GeV⁻¹), default 5e-7 (μ_tr = 1e-6).
    majorana: Dirac (False, the paper's and Ref. [41]'s choice) or Majorana HNL.
    production_distance_m: (min, max) distance kaon-decay point -> ND280 centre (m), or one number;
        default from the experiment file (:func:`default_production_distance_m`).
    exposures: data sets; default :func:`default_exposures` (from the analysis files): 2019
        (12.34e20 FHC + 6.29e20 RHC POT, TPC1-3) and T2K+T2K-II (1e22 + 1e22 POT, TPC1-3 +
        both HA-TPCs of the upgrade).
    cl: confidence level of the zero-background Poisson limit (0.90: 2.303 events).
    efficiency: efficiency table for ``signal='br_ee_eff'``.
    """
    m = DEFAULT_MASSES_GEV if masses_GeV is None else np.atleast_1d(np.asarray(masses_GeV, dtype=float))
    if m.ndim != 1 or m.size == 0 or np.any(~np.isfinite(m)) or np.any(m <= 0):
        raise InputError("masses must be a non-empty 1-D array of positive, finite values (GeV)")
    check_convention(convention)
    if production_distance_m is None:
        production_distance_m = default_production_distance_m()
    if exposures is None:
        exposures = default_exposures()
    if signal not in SIGNAL_VARIANTS:
        raise InputError(f"unknown signal variant {signal!r}; choose one of {', '.join(SIGNAL_VARIANTS)}")
    d1, d2 = _production_interval(production_distance_m)
    names = [e.name for e in exposures]
    if not names or len(set(names)) != len(names):
        raise InputError("exposures must be non-empty with distinct names")
    s_up = float(poisson_zero_background_limit(cl))
    limits: dict[str, FloatArray] = {}
    events: dict[str, FloatArray] = {}
    for exp in exposures:
        n = np.array(
            [
                events_per_unit_U2(
                    mi,
                    exp,
                    convention=convention,
                    d_GeVinv=d_GeVinv,
                    majorana=majorana,
                    signal=signal,
                    production_distance_m=(d1, d2),
                    efficiency=efficiency,
                )
                for mi in m
            ]
        )
        with np.errstate(divide="ignore"):
            lim = np.where(n > 0, s_up / np.where(n > 0, n, 1.0), np.inf)
        events[exp.name] = n
        limits[exp.name] = lim
    settings: dict[str, Any] = {
        "convention": str(convention),
        "signal": signal,
        "d_GeVinv": float(d_GeVinv),
        "mu_tr_GeVinv": 2.0 * float(d_GeVinv),
        "majorana": bool(majorana),
        "production_distance_m": (d1, d2),
        "cl": float(cl),
        "signal_events_upper_limit": s_up,
        "efficiency": efficiency if signal == "br_ee_eff" else None,
        "hnl_energy": "E_N = E_nu (parent neutrino energy), p = sqrt(E^2 - m^2)",
        "exposures": {
            e.name: {
                "pot_by_mode": dict(e.pot_by_mode),
                "experiment": e.experiment if e.boxes is None else "explicit boxes",
                "fiducial_volumes": list(e.fiducial_boxes()),
            }
            for e in exposures
        },
    }
    return KaonValidationResult(masses_GeV=m.copy(), limits_Umu2=limits, events_per_Umu2=events, settings=settings)


def compare_with_reference(
    result: KaonValidationResult,
    masses_MeV: ArrayLike = (30.0, 50.0, 100.0, 150.0, 200.0, 230.0, 250.0),
    references: Mapping[str, str] = REFERENCE_CURVES,
) -> dict[str, FloatArray]:
    """Ratio (our limit)/(bundled AFH2022 limit) at ``masses_MeV`` for each exposure with a reference curve."""
    m = np.asarray(masses_MeV, dtype=float)
    out: dict[str, FloatArray] = {}
    for exp, ref_name in references.items():
        if exp not in result.limits_Umu2:
            continue
        ref = np.asarray(load_external_limit(ref_name).value_at(m), dtype=float)
        out[exp] = np.asarray(result.limit_at(exp, m), dtype=float) / ref
    return out


# ---------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------
def _fmt(x: float) -> str:
    return "inf" if not math.isfinite(x) else f"{x:.6e}"


def write_kaon_validation_csv(
    result: KaonValidationResult, out_dir: str | Path, stem: str = "kaon_validation"
) -> list[Path]:
    """Write ``<stem>.csv`` (atomically): mass, |U|² limit and events per unit |U|² per exposure.

    '#' header lines give the units and every setting; infinite limits are written 'inf'.
    """
    out = Path(out_dir) / f"{stem}.csv"
    s = result.settings
    dist_lo_m, dist_hi_m = s.get("production_distance_m", (float("nan"), float("nan")))
    lines = [
        "# dipolehnl kaon-decay validation (arXiv:2412.15051 Suppl. Fig. 1; Ref. [41] = arXiv:2109.03831)",
        "# HNLs from K+ -> mu+ N (mixing |U_muN|^2), decaying in the ND280 TPC fiducial volumes",
        "# units: m_N in GeV and MeV; Umu2 dimensionless; events_per_Umu2 = expected signal events for |U_muN|^2 = 1",
        f"# convention = {s.get('convention')}; d = {s.get('d_GeVinv')} GeV^-1 (mu_tr = {s.get('mu_tr_GeVinv')}); "
        f"majorana = {s.get('majorana')}",
        f"# signal = {s.get('signal')} (decays | br_ee | br_ee_eff); efficiency = {s.get('efficiency')}",
        f"# production distance kaon decay -> ND280 centre, uniform in [{dist_lo_m:g}, {dist_hi_m:g}] m; "
        f"{s.get('hnl_energy')}",
        f"# limit: {s.get('cl')} CL, zero background, "
        f"{s.get('signal_events_upper_limit', float('nan')):.4f} signal events",
    ]
    for name, e in s.get("exposures", {}).items():
        pots = ", ".join(f"{k.upper()} {v:.4g} POT" for k, v in e["pot_by_mode"].items())
        lines.append(
            f"# exposure {name}: {pots}; {e['experiment']} fiducial volumes {', '.join(e['fiducial_volumes'])}"
        )
    cols = ["m_GeV", "m_MeV"]
    for name in result.exposures:
        cols += [f"Umu2_limit_{name}", f"events_per_Umu2_{name}"]
    lines.append(",".join(cols))
    for i, m in enumerate(result.masses_GeV):
        row = [f"{m:.6e}", f"{m * 1e3:.6f}"]
        for name in result.exposures:
            row += [_fmt(float(result.limits_Umu2[name][i])), _fmt(float(result.events_per_Umu2[name][i]))]
        lines.append(",".join(row))
    write_text_atomic(out, "\n".join(lines) + "\n")
    return [out]
