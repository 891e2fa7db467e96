"""HNL model parameters and the two physics conventions.

Coupling: ``L ⊃ d ν̄_μ σ_{αβ} F^{αβ} N + h.c.`` with d in GeV^-1.  DarkNews's
``mu_tr_mu4`` equals 2 d (PHYSICS.md eq. 1).

Conventions (PHYSICS.md, introduction and §5):

``consistent`` (default)
    Widths derived from the same Lagrangian as production:
    Γ(N→νγ) = d² m³ / (4π) (Dirac; ×2 Majorana), Γ(N→ν e⁺e⁻) = (α/3π) I(r) Γ(N→νγ);
    production summed over both HNL helicities (helicity flip h=+1 and conserving h=-1).
``darknews``
    DarkNews 0.4.8 literally (as the paper's SIREN simulation used it): Γ_γ = μ² m³/(32π)
    (Dirac; ×2 Majorana), Γ_ee = (α/3π) I(r) μ² m³/(64π) for both Dirac and Majorana,
    production helicity-flip only (``noHC=True``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dipolehnl.constants import M_E_GEV
from dipolehnl.errors import InputError, check_positive

Convention = Literal["consistent", "darknews"]
CONVENTIONS: tuple[str, ...] = ("consistent", "darknews")


def check_convention(convention: str) -> Convention:
    """Validate a convention name."""
    if convention not in CONVENTIONS:
        raise InputError(f"unknown convention {convention!r}; choose one of {', '.join(CONVENTIONS)}")
    return convention  # type: ignore[return-value]


#: lightest mass for which N → ν e⁺e⁻ is open (GeV)
MIN_MASS_GEV: float = 2.0 * M_E_GEV
#: heaviest mass supported (GeV)
MAX_MASS_GEV: float = 5.0


@dataclass(frozen=True)
class HNLModel:
    """A dipole-portal HNL coupled to ν_μ.

    Attributes
    ----------
    mass_GeV: HNL mass m_N in GeV, 2 m_e < m_N ≤ 5 GeV.
    d_GeVinv: transition dipole coupling d_μN in GeV^-1, 1e-15 ≤ d ≤ 1 (``dipolehnl.bounds``).
    majorana: Majorana (True) or Dirac (False, default) HNL.
    convention: ``"consistent"`` (default) or ``"darknews"``; see module docstring.
    """

    mass_GeV: float
    d_GeVinv: float
    majorana: bool = False
    convention: Convention = "consistent"

    def __post_init__(self) -> None:
        m = check_positive("mass", self.mass_GeV)
        from dipolehnl.bounds import check_coupling

        check_coupling(self.d_GeVinv)
        check_convention(self.convention)
        if m <= MIN_MASS_GEV:
            raise InputError(f"mass {m} GeV is below the e+e- threshold 2 m_e = {MIN_MASS_GEV:.6g} GeV")
        if m > MAX_MASS_GEV:
            raise InputError(f"mass {m} GeV is above the supported maximum {MAX_MASS_GEV} GeV")

    @property
    def mu_tr_GeVinv(self) -> float:
        """DarkNews's ``mu_tr_mu4`` = 2 d."""
        return 2.0 * self.d_GeVinv

    @property
    def helicities(self) -> tuple[int, ...]:
        """HNL helicities produced in upscattering: (+1, -1) in ``consistent``, (+1,) in ``darknews``."""
        return (1, -1) if self.convention == "consistent" else (1,)

    def with_coupling(self, d_GeVinv: float) -> "HNLModel":
        """Same model at another coupling."""
        return HNLModel(self.mass_GeV, d_GeVinv, self.majorana, self.convention)
