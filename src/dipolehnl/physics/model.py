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

from dipolehnl.constants import M_E_GEV
from dipolehnl.errors import InputError, check_positive

@dataclass(frozen=True)
class Convention:
    """The physics choices that distinguish the two conventions, as data (no string branches).

    Attributes
    ----------
    name: ``"consistent"`` or ``"darknews"`` (see module docstring).
    photon_width_factor: Γ(N→νγ) = photon_width_factor × d² m³/(4π) for a Dirac HNL
        (×2 Majorana); 1 (consistent) or 1/2 (DarkNews's μ² m³/(32π), μ = 2d).
    ee_width_factor: Γ(N→νℓ⁺ℓ⁻) = (α/3π) I(m_ℓ/m) × ee_width_factor × d² m³/(4π);
        1 (consistent: the photon width's normalisation) or 1/4 (DarkNews: μ² m³/(64π)).
    ee_width_majorana_doubles: whether Γ_ℓℓ doubles for a Majorana HNL as Γ_γ does
        (consistent) or not (DarkNews 0.4.8).
    dimuon_in_total: whether Γ(N→νμ⁺μ⁻) is part of the total width.
    helicities: HNL helicities produced in upscattering: (+1, −1) or (+1,) (``noHC=True``).
    pair_polarisation_sign: the polarisation entering N→νe⁺e⁻ is sign × h: −1 (γ* follows
        PHYSICS.md eq. 3, angular momentum) or +1 (eq. 5 as printed).
    """

    name: str
    photon_width_factor: float
    ee_width_factor: float
    ee_width_majorana_doubles: bool
    dimuon_in_total: bool
    helicities: tuple[int, ...]
    pair_polarisation_sign: int

    def __str__(self) -> str:
        return self.name


CONVENTIONS: dict[str, Convention] = {
    "consistent": Convention("consistent", photon_width_factor=1.0, ee_width_factor=1.0,
                             ee_width_majorana_doubles=True, dimuon_in_total=True, helicities=(1, -1),
                             pair_polarisation_sign=-1),
    "darknews": Convention("darknews", photon_width_factor=0.5, ee_width_factor=0.25,
                           ee_width_majorana_doubles=False, dimuon_in_total=False, helicities=(1,),
                           pair_polarisation_sign=1),
}


def check_convention(convention: "str | Convention") -> Convention:
    """The :class:`Convention` of a name (or the object itself); InputError if unknown."""
    if isinstance(convention, Convention):
        return convention
    if convention not in CONVENTIONS:
        raise InputError(f"unknown convention {convention!r}; choose one of {', '.join(CONVENTIONS)}")
    return CONVENTIONS[convention]


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
    d_GeVinv: transition dipole coupling d_μN in GeV^-1 (> 0).
    majorana: Majorana (True) or Dirac (False, default) HNL.
    convention: a :class:`Convention` (a name is accepted and converted); see module docstring.
    """

    mass_GeV: float
    d_GeVinv: float
    majorana: bool = False
    convention: Convention = "consistent"  # type: ignore[assignment]  # a name is converted

    def __post_init__(self) -> None:
        m = check_positive("mass", self.mass_GeV)
        check_positive("coupling", self.d_GeVinv)
        object.__setattr__(self, "convention", check_convention(self.convention))
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
        return self.convention.helicities

    def with_coupling(self, d_GeVinv: float) -> "HNLModel":
        """Same model at another coupling."""
        return HNLModel(self.mass_GeV, d_GeVinv, self.majorana, self.convention)
