"""HNLs from meson decays: production by mixing (Shrock factor) and the probability to decay
in a slab downstream of an extended source (arXiv:2412.15051, Supplemental Material, App. A;
used by the kaon-decay validation of the analysis stage).

Production (Shrock, Phys. Lett. B 96, 159 (1980); PRD 24, 1232 (1981)): for a pseudoscalar
P → ℓ N the HNL flux is the P → ℓ ν flux scaled by

    ρ = Γ(P→ℓN)/Γ(P→ℓν) = |U|² [a + b − (a − b)²] λ^{1/2}(1, a, b) / [a (1 − a)²],
    a = m_ℓ²/m_P²,  b = m_N²/m_P²,

with λ the Källén function, ρ = 0 for m_N ≥ m_P − m_ℓ (the squared mass ratios are needed
for ρ → |U|² as m_N → 0; the paper writes the ratios unsquared).

Decay probability: an HNL produced a distance D upstream of the detector centre (D uniform
in [D₁, D₂], the meson decay volume) flying along +z with lab decay length λ decays between
the planes z₁ < z₂ with probability P = S(λ) T(λ) (see :func:`decay_probability`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dipolehnl.constants import M_KAON_GEV, M_MU_GEV
from dipolehnl.errors import InputError

FloatArray = NDArray[np.float64]


# ---------------------------------------------------------------------------------------
# Production
# ---------------------------------------------------------------------------------------
def kallen(x: ArrayLike, y: ArrayLike, z: ArrayLike) -> FloatArray:
    """Källén function λ(x, y, z) = x² + y² + z² − 2xy − 2yz − 2zx."""
    x, y, z = (np.asarray(v, dtype=float) for v in (x, y, z))
    return x * x + y * y + z * z - 2.0 * (x * y + y * z + z * x)


def shrock_factor(
    m_N_GeV: ArrayLike, m_lepton_GeV: float = M_MU_GEV, m_meson_GeV: float = M_KAON_GEV
) -> FloatArray | float:
    """ρ/|U|² = Γ(P→ℓN)/(|U|² Γ(P→ℓν)) for a pseudoscalar P (Shrock 1980).

    ρ/|U|² = [a + b − (a − b)²] λ^{1/2}(1, a, b) / [a (1 − a)²], a = m_ℓ²/m_P²,
    b = m_N²/m_P²; 1 at m_N = 0 and 0 for m_N ≥ m_P − m_ℓ.  Masses in GeV.
    """
    m = np.asarray(m_N_GeV, dtype=float)
    if np.any(~np.isfinite(m)) or np.any(m < 0):
        raise InputError("HNL masses must be finite and >= 0 GeV")
    a = (m_lepton_GeV / m_meson_GeV) ** 2
    b = (m / m_meson_GeV) ** 2
    open_ = m < m_meson_GeV - m_lepton_GeV
    lam = np.where(open_, kallen(1.0, a, b), 0.0)
    out = np.where(open_, (a + b - (a - b) ** 2) * np.sqrt(np.clip(lam, 0.0, None)) / (a * (1.0 - a) ** 2), 0.0)
    return float(out) if out.ndim == 0 else out


def hnl_flux_ratio(m_N_GeV: ArrayLike, U2: ArrayLike = 1.0) -> FloatArray | float:
    """ρ = |U_μN|² × :func:`shrock_factor` for K⁺ → μ⁺ N: HNL flux / ν_μ-from-kaon flux."""
    out = np.asarray(U2, dtype=float) * np.asarray(shrock_factor(m_N_GeV))
    return float(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------------------------
# Decay probability
# ---------------------------------------------------------------------------------------
def _production_interval(production_distance_m: float | Sequence[float]) -> tuple[float, float]:
    if np.ndim(production_distance_m) == 0:
        d1 = d2 = float(production_distance_m)  # type: ignore[arg-type]
    else:
        vals = [float(v) for v in production_distance_m]  # type: ignore[union-attr]
        if len(vals) != 2:
            raise InputError(f"production distance must be a number or (min, max) in m, got {production_distance_m!r}")
        d1, d2 = vals
    if not (math.isfinite(d1) and math.isfinite(d2)) or d1 <= 0 or d2 < d1:
        raise InputError(f"production distance must satisfy 0 < min <= max (m), got {production_distance_m!r}")
    return d1, d2


def decay_probability(
    decay_length_m: ArrayLike,
    z1_m: float,
    z2_m: float,
    production_distance_m: float | Sequence[float],
) -> FloatArray:
    """Probability that an HNL decays between the planes z₁ < z₂ (m, ND280 coordinates).

    The HNL is produced a distance D upstream of the ND280 centre (z = 0) and flies along
    +z with lab decay length λ (m).  For D uniform in [D₁, D₂] (``production_distance_m``
    = (D₁, D₂); a single number means a point source)::

        P = ⟨e^{−(D+z₁)/λ} − e^{−(D+z₂)/λ}⟩_D = S(λ) T(λ),
        S = λ/(D₂−D₁) (e^{−D₁/λ} − e^{−D₂/λ})   (e^{−D₁/λ} if D₁ = D₂),
        T = e^{−z₁/λ} − e^{−z₂/λ},

    evaluated with expm1 so that it is accurate for λ ≫ D (P → (z₂−z₁)/λ) and
    underflows cleanly to 0 for λ ≪ D.  λ = 0 gives 0; λ = inf gives 0.
    """
    lam = np.asarray(decay_length_m, dtype=float)
    if np.any(np.isnan(lam)) or np.any(lam < 0):
        raise InputError("decay lengths must be >= 0 m")
    if not z2_m > z1_m:
        raise InputError(f"need z1 < z2, got z1 = {z1_m}, z2 = {z2_m} m")
    d1, d2 = _production_interval(production_distance_m)
    if d1 + z1_m <= 0:
        raise InputError(
            f"the fiducial volume (z1 = {z1_m} m) must lie downstream of the production point ({d1} m upstream)"
        )
    out = np.zeros_like(lam)
    ok = (lam > 0) & np.isfinite(lam)
    inv = 1.0 / lam[ok]
    # one exponential for the distance to the near face (d1 + z1 > 0), so nothing overflows
    near = np.exp(-(d1 + z1_m) * inv)
    window = -np.expm1(-(z2_m - z1_m) * inv)
    spread = -np.expm1(-(d2 - d1) * inv) * lam[ok] / (d2 - d1) if d2 > d1 else 1.0
    out[ok] = near * window * spread
    return out
