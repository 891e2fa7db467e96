"""Analytic estimate of the HNL lab-frame decay length over (m_N, d) (the dashed lines of Fig. 3).

λ(m, d) = (p̃/m) cτ(m, d), where cτ is the proper decay length of
:func:`dipolehnl.physics.decays.ctau_m` in the chosen convention, and p̃(m) a typical HNL
momentum: the median of p = √(E² − m²) for neutrino energies E distributed as
φ_νμ(E) σ_coh,¹²C(E) above threshold (FHC ν_μ flux, coherent upscattering on carbon; the
HNL takes almost all of the neutrino energy in coherent scattering, so E_N ≈ E).  Since p
is monotonic in E, p̃ = √(Ẽ² − m²) with Ẽ the median energy.  cτ ∝ 1/d², so the iso-line
of decay length λ is d_λ(m) = d₀ √(λ(m, d₀)/λ).  See ``dipolehnl.plots.decay_length`` for
how well it follows the simulated median.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dipolehnl.errors import InputError

if TYPE_CHECKING:
    from dipolehnl.physics.model import Convention

#: Target nucleus of the analytic momentum estimate (carbon-12) and the upscattering regimes summed.
ANALYTIC_TARGET_PDG: int = 1000060120
ANALYTIC_REGIMES: tuple[str, ...] = ("coherent",)
_N_ENERGY = 400
_D_REF = 1.0e-6  # GeV^-1, reference coupling of the analytic estimate (the result does not depend on it)


@lru_cache(maxsize=4096)
def _median_energy(
    mass_GeV: float,
    convention: str | Convention,
    mode: str,
    flavor: str,
    target_pdg: int,
    regimes: tuple[str, ...],
    experiment: str = "t2k-nd280",
) -> float:
    from dipolehnl.experiment import load_experiment
    from dipolehnl.physics import xsec
    from dipolehnl.physics.model import HNLModel, check_convention

    flux = load_experiment(experiment).flux(mode, flavor)
    chans = [ch for ch in xsec.channels(target_pdg) if ch.regime in regimes]
    if not chans:
        raise InputError(f"no upscattering channel {regimes} for nucleus {target_pdg}")
    e_th = min(xsec.threshold_energy(mass_GeV, ch.M_GeV) for ch in chans)
    e_max = flux.max_energy_GeV
    if not e_th < e_max:
        return float("nan")
    # geometric grid above threshold (σ rises steeply there) plus the flux bin edges (φ steps)
    grid = np.geomspace(e_th, e_max, _N_ENERGY)
    edges = np.asarray(flux.edges_GeV)
    E = np.unique(np.concatenate([grid, edges[(edges > e_th) & (edges < e_max)]]))
    model = HNLModel(mass_GeV, _D_REF, convention=check_convention(convention))
    # the flux is constant on [lo, hi) bins: evaluate it at the midpoint of every interval
    mid = 0.5 * (E[1:] + E[:-1])
    # per nucleus; 8 Gauss-Legendre panels in ln Q² are accurate to < 1e-6 here (32 is the default)
    sig = np.zeros_like(E)
    for ch in chans:
        sig = sig + np.asarray(xsec.total_xsec_cm2(ch, model, E, panels=8), dtype=float)
    f = np.asarray(flux(mid), dtype=float) * 0.5 * (sig[1:] + sig[:-1]) * np.diff(E)
    total = f.sum()
    if not total > 0:
        return float("nan")
    cum = np.concatenate([[0.0], np.cumsum(f)]) / total
    return float(np.interp(0.5, cum, E))


def median_momentum_GeV(
    mass_GeV: ArrayLike,
    convention: str | Convention = "consistent",
    mode: str = "fhc",
    flavor: str = "numu",
    target_pdg: int = ANALYTIC_TARGET_PDG,
    regimes: tuple[str, ...] = ANALYTIC_REGIMES,
    experiment: str = "t2k-nd280",
) -> NDArray[np.float64] | float:
    """Median HNL momentum (GeV) of the production, p̃ = √(Ẽ² − m²) (module docstring).

    Ẽ: median of E under φ(E) σ(E), φ the flux ``mode``/``flavor`` of ``experiment`` (a
    shipped name or an experiment file), σ the upscattering
    cross section per nucleus ``target_pdg`` summed over ``regimes`` ("coherent", "p-el"),
    integrated on a fine grid above threshold; NaN if the flux cannot produce the mass.
    """
    m = np.asarray(mass_GeV, dtype=float)
    reg = tuple(sorted(regimes))
    flat = [
        _median_energy(float(x), convention, mode, flavor, int(target_pdg), reg, str(experiment)) for x in m.ravel()
    ]
    E = np.array(flat).reshape(m.shape)
    p = np.sqrt(np.maximum(E * E - m * m, 0.0))
    return float(p) if p.ndim == 0 else p


def analytic_decay_length_m(
    mass_GeV: ArrayLike, d_GeVinv: ArrayLike, convention: str | Convention = "consistent", **kwargs: Any
) -> NDArray[np.float64] | float:
    """λ = (p̃/m) cτ(m, d) in metres (broadcast over mass and coupling; ``kwargs`` go to
    :func:`median_momentum_GeV`)."""
    from dipolehnl.physics import decays
    from dipolehnl.physics.model import HNLModel, check_convention

    m, d = np.broadcast_arrays(np.asarray(mass_GeV, dtype=float), np.asarray(d_GeVinv, dtype=float))
    mu = np.unique(m)
    p = np.atleast_1d(median_momentum_GeV(mu, convention, **kwargs))
    ctau_ref = np.array(
        [decays.ctau_m(HNLModel(float(x), _D_REF, convention=check_convention(convention))) for x in mu]
    )
    lam_ref = dict(zip(mu.tolist(), (p / mu * ctau_ref).tolist()))
    out = np.array([lam_ref[x] for x in m.ravel()]).reshape(m.shape) * (_D_REF / d) ** 2
    return float(out) if out.ndim == 0 else out


def iso_decay_length_coupling(
    lambda_m: float, masses_GeV: ArrayLike, convention: str | Convention = "consistent", **kwargs: Any
) -> NDArray[np.float64]:
    """The coupling d(m) (GeV^-1) at which the analytic decay length equals ``lambda_m`` (m)."""
    if not lambda_m > 0:
        raise InputError(f"decay length must be positive, got {lambda_m}")
    m = np.asarray(masses_GeV, dtype=float)
    lam_ref = np.asarray(analytic_decay_length_m(m, _D_REF, convention, **kwargs), dtype=float)
    return _D_REF * np.sqrt(lam_ref / float(lambda_m))


def iso_lines(
    lengths_m, masses_GeV: ArrayLike, convention: str | Convention = "consistent"
) -> dict[float, NDArray[np.float64]]:
    """Decay length (m) → coupling d(m) (GeV^-1) of the analytic iso-line at ``masses_GeV``."""
    m = np.asarray(masses_GeV, dtype=float)
    return {float(lam): iso_decay_length_coupling(float(lam), m, convention) for lam in lengths_m}
