"""Kinematics: upscattering ν A → N A in the lab, and polarized HNL decays.

Four-vectors are arrays ``(..., 4)`` = (E, px, py, pz) in GeV.  The HNL helicity ``h``
(+1 helicity flip, −1 helicity conserving, 0 for an unpolarized Majorana HNL) fixes the
decay angular distributions of PHYSICS.md eqs. (3) and (5).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from dipolehnl.constants import M_E_GEV
from dipolehnl.physics.decays import dilepton_spectrum

Array = NDArray[np.float64]


# ---------------------------------------------------------------- upscattering
def upscatter_lab(E_GeV: Array, Q2_GeV2: Array, m_GeV: float, M_GeV: float | Array) -> tuple[Array, Array, Array]:
    """HNL energy, momentum and polar angle for ν(E) + A(M at rest) → N(m) + A.

    E_N = E − Q²/(2M) (elastic recoil), cos θ_N = (2 E E_N − m² − Q²)/(2 E p_N).
    Returns (E_N, p_N, cos θ_N).
    """
    E_N = E_GeV - Q2_GeV2 / (2.0 * M_GeV)
    p_N = np.sqrt(np.maximum(E_N * E_N - m_GeV * m_GeV, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = (2.0 * E_GeV * E_N - m_GeV * m_GeV - Q2_GeV2) / (2.0 * E_GeV * p_N)
    return E_N, p_N, np.clip(cos, -1.0, 1.0)


def direction(cos_theta: Array, phi: Array) -> Array:
    """Unit vectors (N, 3) from polar cosine and azimuth about +z."""
    sin = np.sqrt(np.maximum(1.0 - cos_theta * cos_theta, 0.0))
    return np.stack([sin * np.cos(phi), sin * np.sin(phi), cos_theta], axis=-1)


def orthonormal_frame(u: Array) -> tuple[Array, Array]:
    """Two unit vectors (e1, e2) completing the unit vectors ``u`` (N, 3) to right-handed frames."""
    helper = np.where(np.abs(u[:, 2:3]) < 0.9, np.array([[0.0, 0.0, 1.0]]), np.array([[1.0, 0.0, 0.0]]))
    e1 = np.cross(helper, u)
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    e2 = np.cross(u, e1)
    return e1, e2


def to_lab(p_rest: Array, u: Array, gamma: Array, frame: tuple[Array, Array] | None = None) -> Array:
    """Boost four-vectors ``p_rest`` (N, 4) given in the HNL rest frame, with the local z axis
    along the HNL flight direction ``u`` (N, 3), to the lab (HNL Lorentz factor ``gamma``).
    ``frame``: :func:`orthonormal_frame` of ``u`` if already computed (several boosts of one
    event)."""
    e1, e2 = orthonormal_frame(u) if frame is None else frame
    bg = np.sqrt(np.maximum(gamma * gamma - 1.0, 0.0))
    E, px, py, pz = p_rest[:, 0], p_rest[:, 1], p_rest[:, 2], p_rest[:, 3]
    E_lab = gamma * E + bg * pz
    pz_lab = gamma * pz + bg * E
    vec = px[:, None] * e1 + py[:, None] * e2 + pz_lab[:, None] * u
    return np.concatenate([E_lab[:, None], vec], axis=1)


def _boost_along(p: Array, n: Array, beta: Array) -> Array:
    """Boost four-vectors p (N, 4) by velocity ``beta`` along unit vectors ``n`` (N, 3)."""
    gamma = 1.0 / np.sqrt(1.0 - beta * beta)
    pl = np.sum(p[:, 1:] * n, axis=1)
    E = gamma * (p[:, 0] + beta * pl)
    pl_new = gamma * (pl + beta * p[:, 0])
    vec = p[:, 1:] + (pl_new - pl)[:, None] * n
    return np.concatenate([E[:, None], vec], axis=1)


def isotropic(rng: np.random.Generator, n: int) -> Array:
    """n isotropic unit vectors."""
    return direction(rng.uniform(-1.0, 1.0, n), rng.uniform(0.0, 2 * np.pi, n))


# ---------------------------------------------------------------- N → ν γ
def sample_photon_cos(rng: np.random.Generator, h: Array) -> Array:
    """cos θ_γ in the N rest frame relative to the N flight direction, dΓ/dcos ∝ 1 − h cos
    (PHYSICS.md eq. 3; h = 0 flat, Majorana).  Inverse CDF, valid for −1 ≤ h ≤ 1."""
    u = rng.uniform(0.0, 1.0, h.shape)
    hh = np.where(np.abs(h) < 1e-12, 1e-12, h)
    # CDF F(c) = (c+1)/2 − h(c²−1)/4 → h c² − 2c + (4u − 2 − h) = 0, root in [−1, 1]
    disc = np.sqrt(np.maximum(4.0 - 4.0 * hh * (4.0 * u - 2.0 - hh), 0.0))
    c = (2.0 - disc) / (2.0 * hh)
    return np.where(np.abs(h) < 1e-12, 2.0 * u - 1.0, np.clip(c, -1.0, 1.0))


def decay_nu_gamma(rng: np.random.Generator, m_GeV: float, h: Array) -> tuple[Array, Array]:
    """Rest-frame four-momenta (γ, ν) of N → ν γ (local z = N flight direction)."""
    n: int = h.shape[0]
    cos = sample_photon_cos(rng, h)
    k = direction(cos, rng.uniform(0.0, 2 * np.pi, n)) * (m_GeV / 2.0)
    gam = np.concatenate([np.full((n, 1), m_GeV / 2.0), k], axis=1)
    nu = np.concatenate([np.full((n, 1), m_GeV / 2.0), -k], axis=1)
    return gam, nu


# ---------------------------------------------------------------- N → ν e⁺e⁻
class DileptonMassSampler:
    """Inverse-CDF sampler of x = m_ee²/m² from dI/dx (PHYSICS.md eq. 5) on a fine log grid."""

    def __init__(self, m_GeV: float, lepton_mass_GeV: float = M_E_GEV, n_grid: int = 4000) -> None:
        r = lepton_mass_GeV / m_GeV
        self.x_min = 4 * r * r
        u = np.linspace(np.log(self.x_min), 0.0, n_grid)
        x = np.exp(u)
        dens = dilepton_spectrum(x, r) * x  # dI/d ln x
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(u))])
        self._u, self._cdf = u, cdf / cdf[-1]

    def sample(self, rng: np.random.Generator, n: int) -> Array:
        return np.exp(np.interp(rng.uniform(0.0, 1.0, n), self._cdf, self._u))


def _dilepton_candidates(rng: np.random.Generator, m: float, me: float, x: Array):
    """Unpolarized phase-space candidates at fixed x: returns k2 (e⁻), k3 (e⁺), k4 (ν) in the
    N rest frame (local z = N flight direction)."""
    n = x.shape[0]
    t = x * m * m
    q_abs = (m * m - t) / (2 * m)
    Eq = (m * m + t) / (2 * m)
    n_star = isotropic(rng, n)  # γ* direction in the N frame
    n_e = isotropic(rng, n)  # e⁻ direction in the γ* frame
    sqrt_t = np.sqrt(t)
    pe = np.sqrt(np.maximum(t / 4 - me * me, 0.0))
    k2 = np.concatenate([(sqrt_t / 2)[:, None], pe[:, None] * n_e], axis=1)
    k3 = np.concatenate([(sqrt_t / 2)[:, None], -pe[:, None] * n_e], axis=1)
    beta = q_abs / Eq
    k2 = _boost_along(k2, n_star, beta)
    k3 = _boost_along(k3, n_star, beta)
    k4 = np.concatenate([q_abs[:, None], -q_abs[:, None] * n_star], axis=1)
    return k2, k3, k4


def _mdot(a: Array, b: Array) -> Array:
    return a[:, 0] * b[:, 0] - np.sum(a[:, 1:] * b[:, 1:], axis=1)


def dilepton_matrix_element(
    k2: Array, k3: Array, k4: Array, m: float, h: Array, me: float = M_E_GEV
) -> tuple[Array, Array]:
    """(N0, ΔN) of PHYSICS.md eq. (5): Σ|M|² ∝ (N0 + ΔN)/t², N(k1) → e⁻(k2) e⁺(k3) ν(k4),
    with P_i = h m |k⃗_i| cos θ_i = h m k_i,z in the N rest frame (z = N flight direction)."""
    k23, k24, k34 = _mdot(k2, k3), _mdot(k2, k4), _mdot(k3, k4)
    me2 = me * me
    N0 = (
        4 * k23**2 * (k24 + k34)
        + 4 * k23 * (k24**2 + k34**2 + 3 * me2 * (k24 + k34))
        + 8 * me2 * (k24**2 + k34**2 + k24 * k34)
        + 8 * me2 * me2 * (k24 + k34)
    )
    P3 = h * m * k3[:, 3]
    P4 = h * m * k4[:, 3]
    dN = (
        4 * k23 * k34 * P3
        - 4 * k23 * k24 * (P3 + P4)
        - 4 * me2 * k23 * P4
        + 4 * me2 * k34 * (P3 - P4)
        - 4 * me2 * k24 * (P3 + 2 * P4)
        - 4 * me2 * me2 * P4
    )
    return N0, dN


def decay_nu_ee(
    rng: np.random.Generator, m_GeV: float, h: Array, sampler: DileptonMassSampler | None = None, me: float = M_E_GEV
) -> tuple[Array, Array, Array]:
    """Rest-frame four-momenta (e⁻, e⁺, ν) of N → ν e⁺e⁻ through an off-shell photon with the
    full polarized distribution of PHYSICS.md eq. (5).

    Exact sampling: x = m_ee²/m² from its marginal dI/dx; at fixed x the angular density is
    ∝ N0 + ΔN.  With k24 + k34 = (m² − t)/2 fixed, N0 is largest where k24·k34 is smallest,
    N0_max(x), and |ΔN| ≤ N0 (the rate is positive for h = ±1), so candidates with uniform
    orientations are accepted with probability (N0 + ΔN)/(2 N0_max).
    """
    sampler = sampler or DileptonMassSampler(m_GeV, me)
    n = h.shape[0]
    out2, out3, out4 = np.empty((n, 4)), np.empty((n, 4)), np.empty((n, 4))
    todo = np.arange(n)
    x = sampler.sample(rng, n)
    m = m_GeV
    for _ in range(200):
        if todo.size == 0:
            break
        xs = x[todo]
        k2, k3, k4 = _dilepton_candidates(rng, m, me, xs)
        N0, dN = dilepton_matrix_element(k2, k3, k4, m, h[todo], me)
        t = xs * m * m
        k23 = (t - 2 * me * me) / 2
        S = (m * m - t) / 2
        beta2 = np.maximum(1.0 - 4 * me * me / t, 0.0)
        P_min = S * S * (1 - beta2) / 4
        me2 = me * me
        n0max = (
            4 * k23**2 * S + 4 * k23 * (S * S - 2 * P_min + 3 * me2 * S) + 8 * me2 * (S * S - P_min) + 8 * me2 * me2 * S
        )
        acc = rng.uniform(0.0, 1.0, todo.size) * 2.0 * n0max <= N0 + dN
        idx = todo[acc]
        out2[idx], out3[idx], out4[idx] = k2[acc], k3[acc], k4[acc]
        todo = todo[~acc]
    if todo.size:
        raise RuntimeError("e+e- decay sampling did not converge")  # pragma: no cover
    return out2, out3, out4


def opening_angle_cos(a: Array, b: Array) -> Array:
    """Cosine of the angle between the three-momenta of four-vectors a and b (N, 4)."""
    pa, pb = a[:, 1:], b[:, 1:]
    return np.sum(pa * pb, axis=1) / (np.linalg.norm(pa, axis=1) * np.linalg.norm(pb, axis=1))
