"""Nuclear-physics options of the upscattering cross sections (docs/physics.md, "Nuclear
physics options").

:class:`NuclearOptions` selects

* ``nucleus_spin``: the hadronic current of coherent scattering, ``"half"`` (a spin-½ Dirac
  nucleus with F1 = F_A, F2 = 0, as DarkNews) or ``"zero"`` (J^μ = Z e F_A(Q²)(p + p')^μ);
* ``pauli_blocking``: the Fermi-gas suppression S(|q|) of elastic scattering on nucleons
  bound in a nucleus (never on free hydrogen);
* ``neutron_elastic``: the ``n-el`` channel, elastic scattering on the A − Z bound neutrons
  through their magnetic moment (and Galster electric form factor, ``neutron_electric``).

The defaults reproduce DarkNews 0.4.8 (spin ½, no Pauli blocking, no neutrons), i.e. the
package's behaviour before these options existed.  :data:`RECOMMENDED` is the physically
preferred set (docs/physics.md explains the choice).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from dipolehnl.errors import InputError
from dipolehnl.physics.form_factors import NEUTRON_ELECTRIC_MODELS
from dipolehnl.physics.nuclei import Nucleus

NucleusSpin = Literal["half", "zero"]
NUCLEUS_SPINS: tuple[str, ...] = ("half", "zero")
FORM_FACTOR_MODELS: tuple[str, ...] = ("fourier-bessel", "fermi")


@dataclass(frozen=True)
class NuclearOptions:
    """Nuclear-physics choices of the upscattering cross sections.

    Attributes
    ----------
    nucleus_spin: ``"half"`` (default, DarkNews) or ``"zero"``: hadronic current of the
        coherent channel.
    pauli_blocking: multiply dσ/dQ² of the p-el (and n-el) channels of nuclei with A > 1 by
        the Fermi-gas factor :func:`pauli_suppression` (default False, as DarkNews).
    neutron_elastic: add the ``n-el`` channel on the A − Z neutrons (default False).
    neutron_electric: neutron electric form factor, ``"galster"`` (default) or ``"zero"``.
    form_factor: coherent form factor, ``"fourier-bessel"`` (default) or ``"fermi"``.
    """

    nucleus_spin: NucleusSpin = "half"
    pauli_blocking: bool = False
    neutron_elastic: bool = False
    neutron_electric: str = "galster"
    #: coherent charge form factor: ``"fourier-bessel"`` (de Vries et al. where tabulated,
    #: symmetrised Fermi otherwise; DarkNews) or ``"fermi"`` (symmetrised Fermi for every nucleus)
    form_factor: str = "fourier-bessel"

    def __post_init__(self) -> None:
        if self.form_factor not in FORM_FACTOR_MODELS:
            raise InputError(f"unknown form_factor {self.form_factor!r}; choose one of {', '.join(FORM_FACTOR_MODELS)}")
        if self.nucleus_spin not in NUCLEUS_SPINS:
            raise InputError(f"unknown nucleus_spin {self.nucleus_spin!r}; choose one of {', '.join(NUCLEUS_SPINS)}")
        if self.neutron_electric not in NEUTRON_ELECTRIC_MODELS:
            raise InputError(
                f"unknown neutron_electric {self.neutron_electric!r}; "
                f"choose one of {', '.join(NEUTRON_ELECTRIC_MODELS)}"
            )
        for name in ("pauli_blocking", "neutron_elastic"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise InputError(f"{name} must be true or false, got {getattr(self, name)!r}")


#: DarkNews 0.4.8's treatment (and the package's behaviour before these options): preset ``paper``
DARKNEWS: NuclearOptions = NuclearOptions()
#: the recommended choice for preset ``default`` (docs/physics.md, "Nuclear physics options")
RECOMMENDED: NuclearOptions = NuclearOptions(nucleus_spin="zero", pauli_blocking=True, neutron_elastic=True)


# ---------------------------------------------------------------- Fermi momenta
#: k_F (GeV) by mass number A.  A ≥ 6: Moniz, Sick, Whitney, Ficenec, Kephart, Trower,
#: Phys. Rev. Lett. 26 (1971) 445, Table I (quasi-elastic e-A fits, ±5 MeV/c): ⁶Li 169,
#: ¹²C 221, ²⁴Mg 235, ⁴⁰Ca 251, ^nat Ni (A = 58.7) 260, ⁸⁹Y 254, ^nat Sn (A = 118.7) 260,
#: ¹⁸¹Ta 265, ²⁰⁸Pb 265 MeV/c.  A = 2, 4: ²H 55, ⁴He 115 MeV/c (GENIE's "Default" Fermi
#: momentum table, from NeuGEN; Moniz has no value below ⁶Li).
FERMI_MOMENTUM_TABLE_GEV: tuple[tuple[float, float], ...] = (
    (2.0, 0.055),
    (4.0, 0.115),
    (6.0, 0.169),
    (12.0, 0.221),
    (24.0, 0.235),
    (40.0, 0.251),
    (58.7, 0.260),
    (89.0, 0.254),
    (118.7, 0.260),
    (181.0, 0.265),
    (208.0, 0.265),
)


def fermi_momentum_GeV(nucleus: Nucleus) -> float:
    """Fermi momentum k_F (GeV) of a nucleus: piecewise-linear in A through
    :data:`FERMI_MOMENTUM_TABLE_GEV`, constant beyond its ends (¹⁶O: 0.2257, ⁴⁰Ar: 0.251,
    ⁵⁶Fe: 0.259).  The same k_F is used for protons and neutrons (symmetric Fermi gas, as
    Moniz et al. fit it).  Raises for hydrogen, whose proton is free."""
    if nucleus.A < 2:
        raise InputError(f"{nucleus.name} has no bound nucleons: no Fermi momentum")
    A, kF = np.array(FERMI_MOMENTUM_TABLE_GEV).T
    return float(np.interp(nucleus.A, A, kF))


def pauli_suppression(q_GeV: ArrayLike, kF_GeV: ArrayLike) -> np.ndarray:
    """Fermi-gas Pauli-blocking factor S(|q|) (dimensionless, 0 ≤ S ≤ 1).

    The fraction of a Fermi sphere of radius k_F that a momentum transfer q⃗ moves out of
    it (1 − overlap of two spheres at distance |q|, summed over energy transfer):
    S = 3|q|/(4k_F) − |q|³/(16k_F³) for |q| < 2k_F, else 1.
    """
    q = np.abs(np.asarray(q_GeV, dtype=float))
    x = q / np.asarray(kF_GeV, dtype=float)
    return np.where(x < 2.0, 0.75 * x - x * x * x / 16.0, 1.0)  # x**3 would call pow(): 100x slower


def three_momentum_transfer_GeV(Q2_GeV2: ArrayLike, M_GeV: float | np.ndarray) -> np.ndarray:
    """|q⃗| (GeV) in the rest frame of a nucleon (mass M) struck elastically at rest:
    ω = Q²/(2M), |q⃗|² = Q² + ω²."""
    Q2 = np.asarray(Q2_GeV2, dtype=float)
    return np.sqrt(Q2 + (Q2 / (2.0 * M_GeV)) ** 2)
