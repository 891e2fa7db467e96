"""HNL model parameters and the two physics conventions.

Coupling: ``L ⊃ Σ_α d_α ν̄_α σ_{μν} F^{μν} N + h.c.`` with d_α in GeV^-1 (α = e, μ, τ).
DarkNews's ``mu_tr_e4``, ``mu_tr_mu4``, ``mu_tr_tau4`` equal 2 d_e, 2 d_μ, 2 d_τ
(PHYSICS.md eq. 1).

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

import math
from dataclasses import dataclass
from typing import Any

from dipolehnl.constants import M_E_GEV
from dipolehnl.errors import InputError, check_positive


@dataclass(frozen=True)
class Convention:
    """The physics choices that distinguish the two conventions, as data (no string branches).

    Attributes
    ----------
    name : str
        ``"consistent"`` or ``"darknews"`` (see module docstring).
    photon_width_factor : float
        Γ(N→νγ) = photon_width_factor × d² m³/(4π) for a Dirac HNL (×2 Majorana);
        1 (consistent) or 1/2 (DarkNews's μ² m³/(32π), μ = 2d).
    ee_width_factor : float
        Γ(N→νℓ⁺ℓ⁻) = (α/3π) I(m_ℓ/m) × ee_width_factor × d² m³/(4π); 1 (consistent: the
        photon width's normalisation) or 1/4 (DarkNews: μ² m³/(64π)).
    ee_width_majorana_doubles : bool
        Whether Γ_ℓℓ doubles for a Majorana HNL as Γ_γ does (consistent) or not
        (DarkNews 0.4.8).
    dimuon_in_total : bool
        Whether Γ(N→νμ⁺μ⁻) is part of the total width.
    helicities : tuple of int
        HNL helicities produced in upscattering: (+1, −1) or (+1,) (``noHC=True``).
    pair_polarisation_sign : int
        The polarisation entering N→νe⁺e⁻ is sign × h: −1 (γ* follows PHYSICS.md eq. 3,
        angular momentum) or +1 (eq. 5 as printed).
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
    "consistent": Convention(
        "consistent",
        photon_width_factor=1.0,
        ee_width_factor=1.0,
        ee_width_majorana_doubles=True,
        dimuon_in_total=True,
        helicities=(1, -1),
        pair_polarisation_sign=-1,
    ),
    "darknews": Convention(
        "darknews",
        photon_width_factor=0.5,
        ee_width_factor=0.25,
        ee_width_majorana_doubles=False,
        dimuon_in_total=False,
        helicities=(1,),
        pair_polarisation_sign=1,
    ),
}


def check_convention(convention: str | Convention) -> Convention:
    """The :class:`Convention` of a name (or the object itself).

    Parameters
    ----------
    convention : str or Convention
        ``"consistent"``, ``"darknews"`` or a :class:`Convention`.

    Returns
    -------
    Convention
        The convention object.

    Raises
    ------
    InputError
        For an unknown name.
    """
    if isinstance(convention, Convention):
        return convention
    if convention not in CONVENTIONS:
        raise InputError(f"unknown convention {convention!r}; choose one of {', '.join(CONVENTIONS)}")
    return CONVENTIONS[convention]


#: Coupling flavours of the model (d_e, d_μ, d_τ).
COUPLING_FLAVOR_NAMES: tuple[str, ...] = ("e", "mu", "tau")

#: lightest mass for which N → ν e⁺e⁻ is open (GeV)
MIN_MASS_GEV: float = 2.0 * M_E_GEV
#: heaviest mass supported (GeV)
MAX_MASS_GEV: float = 5.0


@dataclass(frozen=True)
class HNLModel:
    """A dipole-portal HNL coupled to the active neutrinos through d_e, d_μ, d_τ.

    Widths sum over the flavours of the final neutrino, so they depend on d_GeVinv² =
    Σ_α d_α² (docs/physics.md); upscattering of ν_α (ν̄_α) scales with d_α².

    Parameters
    ----------
    mass_GeV : float
        HNL mass m_N in GeV, 2 m_e < m_N ≤ 5 GeV.
    d_GeVinv : float, optional
        The total coupling √(d_e² + d_μ² + d_τ²) in GeV^-1 (> 0).  As a constructor
        argument without ``d_mu_GeVinv`` it is d_μN (the coupling of the paper):
        ``HNLModel(m, d)`` is an HNL coupled to ν_μ only.
    majorana : bool
        Majorana (True) or Dirac (False, default) HNL.
    convention : Convention or str
        A :class:`Convention` (a name is accepted and converted); see the module docstring.
    d_e_GeVinv, d_mu_GeVinv, d_tau_GeVinv : float
        Transition dipole couplings to ν_e, ν_μ, ν_τ in GeV^-1 (≥ 0; DarkNews's
        ``mu_tr_e4``, ``mu_tr_mu4``, ``mu_tr_tau4`` divided by 2).

    Raises
    ------
    InputError
        For a mass outside (2 m_e, 5 GeV], a negative, non-finite or non-numeric coupling,
        no positive coupling, both ``d_GeVinv`` and inconsistent per-flavour couplings, or an
        unknown convention.

    Examples
    --------
    >>> HNLModel(0.2, 1e-6).d_mu_GeVinv
    1e-06
    >>> HNLModel(0.2, d_e_GeVinv=3e-7, d_mu_GeVinv=4e-7).d_GeVinv
    5e-07
    """

    mass_GeV: float
    d_GeVinv: float | None = None
    majorana: bool = False
    convention: Convention = "consistent"  # type: ignore[assignment]  # a name is converted
    d_e_GeVinv: float = 0.0
    d_mu_GeVinv: float | None = None
    d_tau_GeVinv: float = 0.0

    def __post_init__(self) -> None:
        m = check_positive("mass", self.mass_GeV)
        from dipolehnl.bounds import check_coupling

        object.__setattr__(self, "convention", check_convention(self.convention))
        d_mu = self.d_mu_GeVinv
        if d_mu is None:
            d_mu = 0.0 if self.d_GeVinv is None else self.d_GeVinv
        elif self.d_GeVinv is not None and not math.isclose(
            self.d_GeVinv, math.sqrt(self.d_e_GeVinv**2 + d_mu**2 + self.d_tau_GeVinv**2), rel_tol=1e-12
        ):
            raise InputError("give either the couplings per flavour or d_GeVinv (= d_mu), not both")
        vals = {}
        for name, v in (("d_e", self.d_e_GeVinv), ("d_mu", d_mu), ("d_tau", self.d_tau_GeVinv)):
            try:
                fv = float(v)
            except (TypeError, ValueError):
                raise InputError(f"coupling {name} must be a number, got {v!r}") from None
            if not math.isfinite(fv) or fv < 0:
                raise InputError(
                    f"coupling {name} must be positive and finite (or 0: no coupling to that flavour), got {v!r}"
                )
            if fv > 0:
                check_coupling(fv, f"coupling {name}")  # dipolehnl.bounds: results stay finite
            vals[name] = fv
        nonzero = [v for v in vals.values() if v > 0]
        if not nonzero:
            check_positive("coupling", 0.0 if self.d_GeVinv is None else self.d_GeVinv)
            raise InputError("at least one coupling d_e, d_mu, d_tau must be positive")
        total = nonzero[0] if len(nonzero) == 1 else math.sqrt(sum(v * v for v in nonzero))
        object.__setattr__(self, "d_e_GeVinv", vals["d_e"])
        object.__setattr__(self, "d_mu_GeVinv", vals["d_mu"])
        object.__setattr__(self, "d_tau_GeVinv", vals["d_tau"])
        object.__setattr__(self, "d_GeVinv", total)
        if m <= MIN_MASS_GEV:
            raise InputError(f"mass {m} GeV is below the e+e- threshold 2 m_e = {MIN_MASS_GEV:.6g} GeV")
        if m > MAX_MASS_GEV:
            raise InputError(f"mass {m} GeV is above the supported maximum {MAX_MASS_GEV} GeV")

    @classmethod
    def for_flavor(cls, mass_GeV: float, d_GeVinv: float, flavor: str = "mu", **kw: Any) -> HNLModel:
        """An HNL coupled to one flavour.

        Parameters
        ----------
        mass_GeV : float
            HNL mass in GeV.
        d_GeVinv : float
            Coupling d_α in GeV^-1.
        flavor : {"e", "mu", "tau"}
            The flavour α.
        **kw
            Further :class:`HNLModel` arguments (``majorana``, ``convention``).

        Returns
        -------
        HNLModel
            The model with d_α = ``d_GeVinv`` and the other couplings 0.

        Raises
        ------
        InputError
            For an unknown flavour or an invalid mass or coupling.
        """
        if flavor not in COUPLING_FLAVOR_NAMES:
            raise InputError(f"unknown coupling flavour {flavor!r}; choose one of {', '.join(COUPLING_FLAVOR_NAMES)}")
        return cls(
            mass_GeV,
            None,
            d_e_GeVinv=d_GeVinv if flavor == "e" else 0.0,
            d_mu_GeVinv=d_GeVinv if flavor == "mu" else 0.0,
            d_tau_GeVinv=d_GeVinv if flavor == "tau" else 0.0,
            **kw,
        )

    @property
    def total_coupling_GeVinv(self) -> float:
        """The total coupling d = sqrt(Σ_α d_α²) in GeV^-1: ``d_GeVinv``, which construction always sets."""
        d = self.d_GeVinv
        if d is None:  # pragma: no cover - __post_init__ sets it
            raise AssertionError("HNLModel.d_GeVinv is set in __post_init__")
        return d

    @property
    def couplings_GeVinv(self) -> dict[str, float]:
        """{"e": d_e, "mu": d_μ, "tau": d_τ} in GeV^-1."""
        return {"e": self.d_e_GeVinv, "mu": float(self.d_mu_GeVinv or 0.0), "tau": self.d_tau_GeVinv}

    @property
    def coupling_flavors(self) -> tuple[str, ...]:
        """Flavours with a non-zero coupling."""
        return tuple(a for a, d in self.couplings_GeVinv.items() if d > 0)

    def flavor_fraction(self, flavor: str) -> float:
        """The share of the upscattering strength of flavour α, d_α² / Σ d².

        Parameters
        ----------
        flavor : {"e", "mu", "tau"}
            The flavour α.

        Returns
        -------
        float
            d_α² / Σ_β d_β² (1 for the only coupled flavour).

        Raises
        ------
        KeyError
            For an unknown flavour.
        """
        d = self.couplings_GeVinv[flavor]
        return 1.0 if d == self.d_GeVinv else (d / self.total_coupling_GeVinv) ** 2

    @property
    def mu_tr_GeVinv(self) -> float:
        """DarkNews's total transition moment 2 d (``mu_tr_mu4`` for a ν_μ-only HNL)."""
        return 2.0 * self.total_coupling_GeVinv

    @property
    def helicities(self) -> tuple[int, ...]:
        """HNL helicities produced in upscattering: (+1, -1) in ``consistent``, (+1,) in ``darknews``."""
        return self.convention.helicities

    def with_coupling(self, d_GeVinv: float) -> HNLModel:
        """The same model at another total coupling, the flavour ratios kept.

        Parameters
        ----------
        d_GeVinv : float
            New total coupling in GeV^-1.

        Returns
        -------
        HNLModel
            A new model (mass, nature and convention unchanged).

        Raises
        ------
        InputError
            For a non-positive or non-finite coupling.
        """
        c = self.couplings_GeVinv
        if len(self.coupling_flavors) == 1:
            a = self.coupling_flavors[0]
            new = {k: (d_GeVinv if k == a else 0.0) for k in c}
        else:
            r = d_GeVinv / self.total_coupling_GeVinv
            new = {k: v * r for k, v in c.items()}
        return HNLModel(self.mass_GeV, None, self.majorana, self.convention, new["e"], new["mu"], new["tau"])
