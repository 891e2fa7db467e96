"""Materials: nuclear composition by mass fraction.

A :class:`Material` knows only its composition; the density belongs to the volume
that is filled with it (``g/cm^3``), so the same material can appear at several
densities (e.g. TPC gas at the physical 0.001855 g/cm^3 or at the paper's 1.855).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dipolehnl.errors import InputError
from dipolehnl.physics.nuclei import Nucleus, nucleus

#: Mass fractions must add up to 1 within this tolerance; they are then renormalised.
FRACTION_SUM_TOLERANCE = 1e-3


@dataclass(frozen=True, eq=False, init=False, repr=False)
class Material:
    """A mixture of nuclei.

    Attributes
    ----------
    name: material name (e.g. ``"ROCK"``).
    pdg: nuclear PDG codes 10LZZZAAAI, int64 (K,); the proton 2212 is stored as 1000010010.
    mass_fraction: mass fraction of each nucleus (K,), positive, renormalised to sum to 1.
    nuclei: the :class:`~dipolehnl.physics.nuclei.Nucleus` of each component.

    Construction validates: at least one component, no duplicates, known nuclei,
    fractions finite and > 0 and summing to 1 within ``FRACTION_SUM_TOLERANCE``.
    """

    name: str
    pdg: NDArray[np.int64]
    mass_fraction: NDArray[np.float64]
    nuclei: tuple[Nucleus, ...] = field(compare=False)

    def __init__(self, name: str, pdg: ArrayLike, mass_fraction: ArrayLike) -> None:
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"material name must be a non-empty string, got {name!r}")
        object.__setattr__(self, "name", name)
        where = f"material {name!r}"
        try:
            pdg_in = np.asarray(pdg).reshape(-1)
            frac = np.asarray(mass_fraction, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise InputError(f"{where}: pdg codes and mass fractions must be numbers") from None
        if pdg_in.size == 0:
            raise InputError(f"{where}: no components")
        if pdg_in.shape != frac.shape:
            raise InputError(f"{where}: {pdg_in.size} PDG codes but {frac.size} mass fractions")
        if pdg_in.dtype.kind not in "iu":
            if pdg_in.dtype.kind != "f" or not np.all(np.isfinite(pdg_in)) or np.any(pdg_in != np.round(pdg_in)):
                raise InputError(f"{where}: PDG codes must be integers, got {pdg_in.tolist()}")
        nuclei = [_lookup(int(p), where) for p in pdg_in]
        pdg = np.array([n.pdg for n in nuclei], dtype=np.int64)
        if len(set(pdg.tolist())) != pdg.size:
            raise InputError(f"{where}: duplicate nucleus in {pdg.tolist()}")
        if not np.all(np.isfinite(frac)) or np.any(frac <= 0.0):
            raise InputError(f"{where}: mass fractions must be finite and > 0, got {frac.tolist()}")
        total = float(frac.sum())
        if abs(total - 1.0) > FRACTION_SUM_TOLERANCE:
            raise InputError(
                f"{where}: mass fractions sum to {total:.6g}, not 1 (tolerance {FRACTION_SUM_TOLERANCE:g})"
            )
        if abs(total - 1.0) > 1e-12:  # leave fractions that already sum to 1 (to rounding) untouched
            frac = frac / total
        pdg.flags.writeable = False
        frac.flags.writeable = False
        object.__setattr__(self, "pdg", pdg)
        object.__setattr__(self, "mass_fraction", frac)
        object.__setattr__(self, "nuclei", tuple(nuclei))

    @classmethod
    def from_components(cls, name: str, components: Iterable[Sequence[float]]) -> Material:
        """Build from ``[[pdg, mass_fraction], ...]`` pairs."""
        rows = [list(r) for r in components]
        try:
            pdg = [int(r[0]) for r in rows]
            frac = [float(r[1]) for r in rows]
            if any(len(r) != 2 for r in rows):
                raise ValueError
        except (TypeError, ValueError, IndexError):
            raise InputError(f"material {name!r}: components must be [pdg, mass_fraction] pairs") from None
        return cls(name=name, pdg=np.array(pdg, dtype=np.int64), mass_fraction=np.array(frac))

    @property
    def atomic_mass_g(self) -> NDArray[np.float64]:
        """Mass of one atom of each component (K,), g."""
        return np.array([n.atomic_mass_g for n in self.nuclei])

    @property
    def radiation_length_g_cm2(self) -> float:
        """Radiation length X₀ in g/cm² (docs/physics.md, "Photon conversion"): the PDG fit
        X₀ = 716.4 A / (Z (Z + 1) ln(287/√Z)) g/cm² per element (within 2.5% of the
        tabulated values for Z > 2), combined as 1/X₀ = Σ_j w_j / X₀_j."""
        inv = 0.0
        for n, w in zip(self.nuclei, self.mass_fraction):
            x0 = 716.4 * n.A / (n.Z * (n.Z + 1) * math.log(287.0 / math.sqrt(n.Z)))
            inv += float(w) / x0
        return 1.0 / inv

    def number_densities_cm3(self, density_g_cm3: float) -> NDArray[np.float64]:
        """Number of nuclei per cm^3 of each component (K,) at mass density ``density_g_cm3``.

        ``n_i = rho * w_i / m_i`` with ``m_i`` the atomic mass in grams
        (``rho N_A w_i / A_i`` up to the mass defect).
        """
        rho = float(density_g_cm3)
        if not math.isfinite(rho) or rho < 0.0:
            raise InputError(f"material {self.name!r}: density must be finite and >= 0 g/cm^3, got {density_g_cm3!r}")
        return rho * self.mass_fraction / self.atomic_mass_g

    def components(self) -> list[tuple[int, float]]:
        """``[(pdg, mass_fraction), ...]``."""
        return [(int(p), float(w)) for p, w in zip(self.pdg, self.mass_fraction)]

    def same_composition(self, other: Material, rtol: float = 1e-12) -> bool:
        """Same name, nuclei and mass fractions (within ``rtol``)."""
        return (
            self.name == other.name
            and np.array_equal(self.pdg, other.pdg)
            and np.allclose(self.mass_fraction, other.mass_fraction, rtol=rtol, atol=0.0)
        )

    def __repr__(self) -> str:
        parts = ", ".join(f"{n.name}:{w:.4g}" for n, w in zip(self.nuclei, self.mass_fraction))
        return f"Material({self.name!r}, {parts})"


def _lookup(pdg: int, where: str) -> Nucleus:
    try:
        return nucleus(pdg)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
