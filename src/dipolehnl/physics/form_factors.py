"""Nuclear and nucleon electromagnetic form factors (PHYSICS.md eqs. 9–10).

All functions take Q² in GeV² (arrays) and return dimensionless arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import numpy as np
from numpy.typing import ArrayLike

from dipolehnl.constants import FM_TO_INV_GEV, M_PROTON_GEV, MU_PROTON, NUCLEON_DIPOLE_MASS_GEV
from dipolehnl.errors import InputError
from dipolehnl.physics.nuclei import Nucleus, fourier_bessel_tables

FormFactor = Callable[[np.ndarray], np.ndarray]


def fourier_bessel_form_factor(
    Q2_GeV2: ArrayLike, R_fm: ArrayLike, coefficients: ArrayLike, norm: ArrayLike | None = None
) -> np.ndarray:
    """Charge form factor from a Fourier–Bessel density (de Vries et al. 1987; PHYSICS.md eq. 9).

    F(Q) = | Σ_n a_n (−1)^n j0(qR)/(n²π² − q²R²) | / | Σ_n a_n (−1)^n/(n²π²) |, q = Q·(5.0677 fm⁻¹/GeV).
    Only non-zero a_n enter (as in DarkNews).  At qR = nπ the n-th term takes its
    limit −1/(2 n² π²)·(−1)^n·(−1)^n... evaluated exactly (removable 0/0).

    Several nuclei at once: ``R_fm`` per point (broadcast with Q²), ``coefficients`` of shape
    (..., n_terms) per point (zero-padded), and ``norm`` the denominator per point
    (:func:`fourier_bessel_norm` of each point's coefficients; computed here for one set).
    """
    Q2 = np.asarray(Q2_GeV2, dtype=float)
    coeff = np.asarray(coefficients, dtype=float)
    if norm is None:
        rows = coeff.reshape(-1, coeff.shape[-1])
        norm = np.reshape([fourier_bessel_norm(r) for r in rows], coeff.shape[:-1])
    x = np.sqrt(np.maximum(Q2, 0.0)) * FM_TO_INV_GEV * np.asarray(R_fm, dtype=float)  # qR, dimensionless
    x = np.broadcast_to(x, np.broadcast_shapes(x.shape, coeff.shape[:-1]))
    n_terms = coeff.shape[-1]
    shared = coeff.ndim == 1
    # per point: the coefficients term by term, contiguous (n_terms, ...)
    per_point = None
    if not shared:
        per_point = np.ascontiguousarray(np.moveaxis(np.broadcast_to(coeff, x.shape + (n_terms,)), -1, 0))
    j0 = np.where(x > 1e-8, np.sin(x) / np.where(x > 1e-8, x, 1.0), 1.0 - x * x / 6.0)
    x2 = x * x
    num = np.zeros(x.shape)
    with np.errstate(divide="ignore", invalid="ignore"):  # poles x = nπ: replaced below
        for i in range(n_terms):
            a = coeff[i] if shared else per_point[i]  # type: ignore[index]
            if not np.any(a != 0.0):
                continue
            n = i + 1
            npi = n * math.pi
            sign = -1.0 if n % 2 else 1.0
            num += a * sign * (j0 / (npi * npi - x2))  # a point whose a_n is 0 adds exactly 0
    # points within 1e-6 of a pole x = nπ (rare) take that term's limit
    n_pole = np.rint(x / math.pi)
    near_any = (np.abs(x - n_pole * math.pi) < 1e-6) & (n_pole >= 1) & (n_pole <= n_terms)
    if np.any(near_any):
        k = np.flatnonzero(near_any.ravel())
        rows_k = np.broadcast_to(coeff, x.shape + (n_terms,)).reshape(-1, n_terms)[k]
        num.ravel()[k] = _fourier_bessel_sum_near_poles(x.ravel()[k], j0.ravel()[k], rows_k)
    return np.abs(num / np.asarray(norm, dtype=float))


def _fourier_bessel_sum_near_poles(x: np.ndarray, j0: np.ndarray, coeff: np.ndarray) -> np.ndarray:
    """Σ_n a_n (−1)^n j0(x)/(n²π² − x²) at points x (1-D), each with its coefficients (rows
    of ``coeff``), with the removable 0/0 at x = nπ taken as its limit."""
    num = np.zeros_like(x)
    for i in range(coeff.shape[-1]):
        a = coeff[:, i]
        n = i + 1
        npi = n * math.pi
        sign = -1.0 if n % 2 else 1.0
        diff = npi * npi - x * x
        near = np.abs(x - npi) < 1e-6
        # j0(x)/(n²π² − x²) → (−1)^n/(nπ)·(x−nπ)/(−2nπ (x−nπ)) = −(−1)^n/(2n²π²) at x = nπ
        term = np.where(near, -sign / (2.0 * npi * npi), j0 / np.where(near, 1.0, diff))
        num += a * sign * term
    return num


def fourier_bessel_norm(coefficients: ArrayLike) -> float:
    """Σ_n a_n (−1)^n/(n²π²) over the non-zero a_n of one nucleus: the Fourier–Bessel form
    factor's value at Q² = 0 before normalisation."""
    den = 0.0
    for i, a in enumerate(np.asarray(coefficients, dtype=float).tolist()):
        if a == 0.0:
            continue
        n = i + 1
        npi = n * math.pi
        sign = -1.0 if n % 2 else 1.0
        den += a * sign / (npi * npi)
    return den


def symmetrized_fermi_form_factor(Q2_GeV2: ArrayLike, A: ArrayLike) -> np.ndarray:
    """Symmetrised Fermi form factor, a = 0.523 fm, r0 = 1.03 A^{1/3} fm, zero for Q ≥ 5 GeV
    (DarkNews ``nuclear_F1_Fsym_EM``; PHYSICS.md eq. 9).  ``A`` may be given per point."""
    Q = np.sqrt(np.maximum(np.asarray(Q2_GeV2, dtype=float), 0.0))
    a = 0.523 * FM_TO_INV_GEV
    r0_all = 1.03 * np.asarray(A, dtype=float) ** (1.0 / 3.0) * FM_TO_INV_GEV
    out = np.zeros_like(Q)
    small = Q < 1e-6
    ok = (Q < 5.0) & ~small
    q = Q[ok]
    r0 = np.broadcast_to(r0_all, Q.shape)[ok]
    out[ok] = (
        3.0
        * math.pi
        * a
        / (r0**2 + math.pi**2 * a**2)
        * (math.pi * a / np.tanh(math.pi * a * q) * np.sin(q * r0) - r0 * np.cos(q * r0))
        / (q * r0 * np.sinh(math.pi * q * a))
    )
    out[small] = 1.0
    return out


@cache
def nuclear_form_factor(nucleus: Nucleus) -> FormFactor:
    """The coherent charge form factor F_A(Q²) used for ``nucleus``: Fourier–Bessel where
    tabulated, symmetrised Fermi otherwise (as DarkNews)."""
    table = fourier_bessel_table(nucleus)
    if table is not None:
        R, coeffs = table
        return lambda Q2: fourier_bessel_form_factor(Q2, R, coeffs)
    A = nucleus.A
    return lambda Q2: symmetrized_fermi_form_factor(Q2, A)


def fourier_bessel_table(nucleus: Nucleus) -> tuple[float, tuple[float, ...]] | None:
    """(R in fm, (a_1, ..., a_n)) of ``nucleus``'s Fourier–Bessel charge density, or None
    where none is tabulated (the form factor is then the symmetrised Fermi one)."""
    return fourier_bessel_tables().get(nucleus.name.lower())


def has_fourier_bessel(nucleus: Nucleus) -> bool:
    """True if a Fourier–Bessel table exists for ``nucleus``."""
    return fourier_bessel_table(nucleus) is not None


def _dipole(Q2: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + Q2 / NUCLEON_DIPOLE_MASS_GEV**2) ** 2


def proton_F1(Q2_GeV2: ArrayLike) -> np.ndarray:
    """Proton Dirac form factor F1 = D (1 + τ μ_p)/(1 + τ), τ = Q²/4m_p² (PHYSICS.md eq. 10)."""
    Q2 = np.asarray(Q2_GeV2, dtype=float)
    tau = Q2 / (4.0 * M_PROTON_GEV**2)
    return _dipole(Q2) * (1.0 + tau * MU_PROTON) / (1.0 + tau)


def proton_F2(Q2_GeV2: ArrayLike) -> np.ndarray:
    """Proton Pauli form factor F2 = D (μ_p − 1)/(1 + τ) (PHYSICS.md eq. 10)."""
    Q2 = np.asarray(Q2_GeV2, dtype=float)
    tau = Q2 / (4.0 * M_PROTON_GEV**2)
    return _dipole(Q2) * (MU_PROTON - 1.0) / (1.0 + tau)


# ---------------------------------------------------------------- neutron (docs/physics.md, n-el)
#: neutron mass (GeV), PDG 2022 (= DarkNews ``const.m_neutron``)
M_NEUTRON_GEV: float = 0.93956542052
#: neutron magnetic moment in nuclear magnetons, μ_n = κ_n (PDG 2022: −1.91304276)
MU_NEUTRON: float = -1.91304276
#: Galster et al., Nucl. Phys. B32 (1971) 221: G_E^n = −μ_n τ G_D/(1 + 5.6 τ)
GALSTER_B: float = 5.6

NEUTRON_ELECTRIC_MODELS: tuple[str, ...] = ("galster", "zero")


def neutron_sachs(Q2_GeV2: ArrayLike, electric: str = "galster") -> tuple[np.ndarray, np.ndarray]:
    """Neutron Sachs form factors (G_E^n, G_M^n) at Q² (GeV²).

    G_M^n = μ_n D (dipole, as the proton's), G_E^n = −μ_n τ D/(1 + 5.6 τ) (Galster 1971) for
    ``electric="galster"`` or 0 for ``"zero"``; τ = Q²/4m_n², D = (1 + Q²/0.843²)⁻².
    """
    if electric not in NEUTRON_ELECTRIC_MODELS:
        raise InputError(
            f"unknown neutron electric form factor {electric!r}; choose one of {', '.join(NEUTRON_ELECTRIC_MODELS)}"
        )
    Q2 = np.asarray(Q2_GeV2, dtype=float)
    tau = Q2 / (4.0 * M_NEUTRON_GEV**2)
    D = _dipole(Q2)
    GM = MU_NEUTRON * D
    GE = -MU_NEUTRON * tau * D / (1.0 + GALSTER_B * tau) if electric == "galster" else np.zeros_like(Q2)
    return GE, GM


def neutron_F1(Q2_GeV2: ArrayLike, electric: str = "galster") -> np.ndarray:
    """Neutron Dirac form factor F1 = (G_E + τ G_M)/(1 + τ); F1(0) = 0."""
    Q2 = np.asarray(Q2_GeV2, dtype=float)
    tau = Q2 / (4.0 * M_NEUTRON_GEV**2)
    GE, GM = neutron_sachs(Q2, electric)
    return (GE + tau * GM) / (1.0 + tau)


def neutron_F2(Q2_GeV2: ArrayLike, electric: str = "galster") -> np.ndarray:
    """Neutron Pauli form factor F2 = (G_M − G_E)/(1 + τ); F2(0) = κ_n = μ_n."""
    Q2 = np.asarray(Q2_GeV2, dtype=float)
    tau = Q2 / (4.0 * M_NEUTRON_GEV**2)
    GE, GM = neutron_sachs(Q2, electric)
    return (GM - GE) / (1.0 + tau)
