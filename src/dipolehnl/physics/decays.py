"""HNL decay widths, branching ratios and decay lengths (PHYSICS.md §2).

Channels: N → ν γ (two-body) and N → ν ℓ⁺ℓ⁻ through an off-shell photon.
``consistent`` includes ℓ = e and, above 2 m_μ, ℓ = μ in the total width (same formula
with m_μ); hadronic γ* channels are neglected (they are further suppressed and well
below the percent level of Γ_total).  ``darknews`` reproduces DarkNews 0.4.8: only
νγ and ν e⁺e⁻, with its normalisations.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from dipolehnl.constants import ALPHA_EM, HBARC_GEV_M, M_E_GEV, M_MU_GEV
from dipolehnl.physics.model import HNLModel


def dilepton_integral(r: ArrayLike) -> np.ndarray:
    """I(r) of PHYSICS.md eq. (4), r = m_ℓ/m_N, β = √(1−4r²):

    I(r) = (1 − 4r⁶) ln[(1+β)/(1−β)] − (3 − 5r² + 2r⁴) β,  0 for r ≥ 1/2.

    (α/3π) I(r) is the ratio Γ(N→νℓℓ)/Γ(N→νγ) for a dipole transition; it equals
    ∫ dx x⁻¹(1−x)²(1+x/2)(1+2r²/x)√(1−4r²/x) over x = m_ℓℓ²/m² ∈ [4r², 1].
    """
    r = np.asarray(r, dtype=float)
    out = np.zeros_like(r)
    ok = r < 0.5
    rr = r[ok]
    r2 = rr * rr
    beta = np.sqrt(1.0 - 4.0 * r2)
    # ln[(1+β)/(1−β)] = ln[(1+β)²/(4r²)], stable for small r
    log_term = 2.0 * np.log1p(beta) - np.log(4.0 * r2)
    out[ok] = (1.0 - 4.0 * r2**3) * log_term - (3.0 - 5.0 * r2 + 2.0 * r2 * r2) * beta
    return out


def dilepton_spectrum(x: ArrayLike, r: float) -> np.ndarray:
    """dI/dx, the e⁺e⁻ invariant-mass spectrum (PHYSICS.md eq. 5), x = m_ee²/m_N².

    (α/3π) Γ_γ · dI/dx = dΓ(N→νℓℓ)/dx; zero outside [4r², 1].
    """
    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    ok = (x > 4 * r * r) & (x < 1.0)
    xx = x[ok]
    out[ok] = (1 - xx) ** 2 * (1 + xx / 2) * (1 + 2 * r * r / xx) * np.sqrt(1 - 4 * r * r / xx) / xx
    return out


def gamma_nu_gamma(model: HNLModel) -> float:
    """Γ(N → ν γ) in GeV (PHYSICS.md eq. 2).

    consistent: d² m³/(4π) Dirac, twice that Majorana.
    darknews: μ² m³/(32π) = d² m³/(8π) Dirac, twice that Majorana.
    """
    m, d = model.mass_GeV, model.total_coupling_GeVinv
    g = model.convention.photon_width_factor * d * d * m**3 / (4.0 * math.pi)
    return 2.0 * g if model.majorana else g


def gamma_nu_ll(model: HNLModel, lepton_mass_GeV: float = M_E_GEV) -> float:
    """Γ(N → ν ℓ⁺ℓ⁻) in GeV through an off-shell photon (PHYSICS.md eq. 4).

    consistent: (α/3π) I(m_ℓ/m) Γ_γ(consistent) for Dirac and Majorana alike.
    darknews: (α/3π) I(m_ℓ/m) μ² m³/(64π) = (α/3π) I d² m³/(16π), Dirac and Majorana.
    """
    m, d = model.mass_GeV, model.total_coupling_GeVinv
    ratio = ALPHA_EM / (3.0 * math.pi) * float(dilepton_integral(lepton_mass_GeV / m))
    conv = model.convention
    g = ratio * conv.ee_width_factor * d * d * m**3 / (4.0 * math.pi)
    return 2.0 * g if (model.majorana and conv.ee_width_majorana_doubles) else g


def gamma_nu_ee(model: HNLModel) -> float:
    """Γ(N → ν e⁺e⁻) in GeV."""
    return gamma_nu_ll(model, M_E_GEV)


def gamma_total(model: HNLModel) -> float:
    """Total width in GeV: νγ + νe⁺e⁻ (+ νμ⁺μ⁻ in convention ``consistent``)."""
    total = gamma_nu_gamma(model) + gamma_nu_ee(model)
    if model.convention.dimuon_in_total:
        total += gamma_nu_ll(model, M_MU_GEV)
    return total


def br_ee(model: HNLModel) -> float:
    """BR(N → ν e⁺e⁻) = Γ_ee/Γ_total (DarkNews has no BR; PHYSICS.md builds it the same way)."""
    return gamma_nu_ee(model) / gamma_total(model)


def br_ee_paper_code(mass_GeV: float) -> float:
    """The closed form of the paper's analysis code, attributed to Ref. [41], *as written*:

    x = α L/(3π) with L = (2 − r⁶/8) arccosh(1/r) − (24 − 10r² + r⁴)/8 · √(1 − r²),
    r = m_e/m_N, taken as Γ_ee/Γ_γ, so BR = x/(1 + x) (this reproduces the paper-code
    column of PHYSICS.md §2).  As written the log is 2 ln 2 too large (it should use
    r = 2 m_e/m): relative to the consistent BR it is 11% high at 1 GeV, 18% at
    100 MeV and 46% at 10 MeV.
    Used only by preset ``paper``.
    """
    r = M_E_GEV / mass_GeV
    L = (2 - r**6 / 8) * math.acosh(1 / r) - (24 - 10 * r**2 + r**4) / 8 * math.sqrt(1 - r * r)
    x = ALPHA_EM * L / (3 * math.pi)
    return x / (1.0 + x)


def ctau_m(model: HNLModel) -> float:
    """Proper decay length c τ = ħc/Γ_total in metres."""
    return HBARC_GEV_M / gamma_total(model)


def decay_length_m(model: HNLModel, momentum_GeV: ArrayLike) -> np.ndarray:
    """Lab-frame mean decay length β γ c τ = (p/m) c τ in metres for HNL momentum p (GeV)."""
    return np.asarray(momentum_GeV, dtype=float) / model.mass_GeV * ctau_m(model)
