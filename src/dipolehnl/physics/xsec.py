"""Upscattering ν A → N A through the dipole coupling (PHYSICS.md §3).

Two regimes per nucleus (eq. 8):

* ``coherent``: target = whole nucleus, M = M_A, n_T = 1, Ẑ = Z, F1 = F_A(Q²), F2 = 0;
  skipped for hydrogen.
* ``p-el``: elastic on the Z protons, each a free proton at rest (M = m_p, n_T = Z, Ẑ = 1,
  dipole nucleon form factors).  No Pauli blocking or binding, as in DarkNews.
* ``n-el`` (only with ``NuclearOptions(neutron_elastic=True)``): elastic on the A − Z
  neutrons (M = m_n, n_T = A − Z, Ẑ = 1, neutron F1, F2: magnetic moment + Galster G_E).

:class:`~dipolehnl.physics.nuclear.NuclearOptions` (a field of :class:`Channel`, default
DarkNews's treatment) selects a spin-0 hadronic current for ``coherent`` and Fermi-gas Pauli
blocking for ``p-el``/``n-el`` on nuclei with A > 1 (docs/physics.md).

The differential cross section is eq. (6)–(7) with the exact kinematic limits of eq. (11);
totals integrate dσ/d ln Q² by composite Gauss–Legendre quadrature in ln Q² up to
Q²_cap = 4 GeV² (coherent) or 25 GeV² (p-el, n-el), as DarkNews.  ν̄ primaries have the same
cross sections (the dipole interaction conserves CP); the HNL helicity flips sign with the
neutrino's, which leaves lab-frame decay distributions unchanged for a Dirac N̄.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal, overload

import numpy as np
from numpy.typing import ArrayLike

from dipolehnl.constants import E_EM, HBARC2_GEV2_CM2, M_PROTON_GEV
from dipolehnl.errors import InputError
from dipolehnl.physics.form_factors import (
    M_NEUTRON_GEV,
    NEUTRON_ELECTRIC_MODELS,
    fourier_bessel_form_factor,
    fourier_bessel_norm,
    fourier_bessel_table,
    neutron_F1,
    neutron_F2,
    proton_F1,
    proton_F2,
    symmetrized_fermi_form_factor,
)
from dipolehnl.physics.model import HNLModel
from dipolehnl.physics.nuclear import (
    DARKNEWS,
    NuclearOptions,
    fermi_momentum_GeV,
    pauli_suppression,
    three_momentum_transfer_GeV,
)
from dipolehnl.physics.nuclei import Nucleus, fourier_bessel_tables, nucleus

Regime = Literal["coherent", "p-el", "n-el"]
REGIMES: tuple[str, ...] = ("coherent", "p-el", "n-el")
Q2_CAP_GEV2 = {"coherent": 4.0, "p-el": 25.0, "n-el": 25.0}


@dataclass(frozen=True)
class Channel:
    """One upscattering channel: coherent on a nucleus, or elastic on its protons (or neutrons).

    ``options`` (default: DarkNews's treatment) selects the coherent hadronic current and
    Pauli blocking; see :class:`~dipolehnl.physics.nuclear.NuclearOptions`.
    """

    nucleus: Nucleus
    regime: Regime
    options: NuclearOptions = DARKNEWS

    @property
    def M_GeV(self) -> float:
        """Mass of the scattering centre: nucleus (coherent), proton (p-el) or neutron (n-el)."""
        if self.regime == "coherent":
            return self.nucleus.mass_GeV
        return M_PROTON_GEV if self.regime == "p-el" else M_NEUTRON_GEV

    @property
    def Z_hat(self) -> int:
        """Charge of the scattering centre (Ẑ); 1 for n-el, whose form factors carry the charge."""
        return self.nucleus.Z if self.regime == "coherent" else 1

    @property
    def n_targets(self) -> int:
        """Scattering centres per nucleus (n_T): 1, Z or A − Z."""
        if self.regime == "coherent":
            return 1
        return self.nucleus.Z if self.regime == "p-el" else self.nucleus.A - self.nucleus.Z

    @property
    def Q2_cap_GeV2(self) -> float:
        return Q2_CAP_GEV2[self.regime]

    @property
    def label(self) -> str:
        return f"{self.nucleus.name}:{self.regime}"

    @property
    def spin_zero(self) -> bool:
        """True if dσ/dQ² uses the spin-0 hadronic current (coherent with ``nucleus_spin="zero"``)."""
        return self.regime == "coherent" and self.options.nucleus_spin == "zero"

    @property
    def fermi_momentum_GeV(self) -> float | None:
        """k_F of the Pauli blocking applied to this channel, or None (not blocked: coherent,
        free hydrogen, or ``pauli_blocking=False``)."""
        if self.regime == "coherent" or not self.options.pauli_blocking or self.nucleus.A < 2:
            return None
        return fermi_momentum_GeV(self.nucleus)

    def form_factors(self, Q2_GeV2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(F1, F2) at Q² (GeV²) (:meth:`ChannelSet.form_factors`)."""
        Q2 = np.asarray(Q2_GeV2, dtype=float)
        return _single(self).form_factors(np.zeros(Q2.shape, dtype=np.int64), Q2)

    def pauli_factor(self, Q2_GeV2: np.ndarray) -> np.ndarray | float:
        """Pauli-blocking factor S(|q⃗|) at Q² (1 where not blocked); |q⃗| for a nucleon at rest."""
        kF = self.fermi_momentum_GeV
        if kF is None:
            return 1.0
        return pauli_suppression(three_momentum_transfer_GeV(Q2_GeV2, self.M_GeV), kF)


@cache
def channels(pdg: int, options: NuclearOptions = DARKNEWS) -> tuple[Channel, ...]:
    """Channels of a nucleus: (coherent, p-el[, n-el]), or only p-el for hydrogen (eq. 8).

    ``n-el`` is present if ``options.neutron_elastic`` and the nucleus has neutrons."""
    nuc = nucleus(pdg)
    if nuc.is_proton:
        return (Channel(nuc, "p-el", options),)
    out = [Channel(nuc, "coherent", options), Channel(nuc, "p-el", options)]
    if options.neutron_elastic and nuc.A > nuc.Z:
        out.append(Channel(nuc, "n-el", options))
    return tuple(out)


def channel(pdg: int, regime: str, options: NuclearOptions = DARKNEWS) -> Channel:
    """The channel of nucleus ``pdg`` in ``regime`` under ``options``."""
    for ch in channels(pdg, options):
        if ch.regime == regime:
            return ch
    avail = ", ".join(ch.regime for ch in channels(pdg, options))
    raise InputError(
        f"no {regime!r} channel for {nucleus(pdg).name} (available: {avail}; H1 has p-el only, "
        "n-el needs NuclearOptions(neutron_elastic=True))"
    )


# ---------------------------------------------------------------- kinematics (eq. 11)
def kallen(a: ArrayLike, b: ArrayLike, c: ArrayLike) -> np.ndarray:
    """Källén function λ(a,b,c) = a² + b² + c² − 2ab − 2ac − 2bc."""
    a, b, c = (np.asarray(v, dtype=float) for v in (a, b, c))
    return a * a + b * b + c * c - 2 * a * b - 2 * a * c - 2 * b * c


@overload
def threshold_energy(m_GeV: float, M_GeV: float) -> float: ...
@overload
def threshold_energy(m_GeV: float, M_GeV: np.ndarray) -> np.ndarray: ...
def threshold_energy(m_GeV: float, M_GeV: float | np.ndarray) -> float | np.ndarray:
    """E_th = m + m²/(2M): lowest neutrino energy that can produce N on a target at rest (M
    a float, or an array of target masses)."""
    return m_GeV + m_GeV * m_GeV / (2.0 * M_GeV)


def q2_limits(E_GeV: ArrayLike, m_GeV: float, M_GeV: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Q²_min, Q²_max) in GeV² for ν(E) + A(M, at rest) → N(m) + A (eq. 11); NaN below threshold.

    Q²_max = [(s−M²)(s−M²+m²) + (s−M²)√λ]/(2s) − m², Q²_min = m⁴M²/(s Q²_max).
    """
    E = np.asarray(E_GeV, dtype=float)
    M2, m2 = M_GeV * M_GeV, m_GeV * m_GeV
    s = M2 + 2.0 * E * M_GeV
    lam = kallen(s, M2, m2)
    above = (E > threshold_energy(m_GeV, M_GeV)) & (lam > 0)
    sq = np.sqrt(np.where(above, lam, 0.0))
    q2max = ((s - M2) * (s - M2 + m2) + (s - M2) * sq) / (2.0 * s) - m2
    q2min = m2 * m2 * M2 / (s * np.where(above, q2max, 1.0))
    return np.where(above, q2min, np.nan), np.where(above, q2max, np.nan)


# ---------------------------------------------------------------- dσ/dQ² (eqs. 6–7)
def _msq_bracket(s, t, M, m, F1, F2):
    """The curly bracket of eq. (7) divided by √λ-independent prefactor pieces,
    { F2² t[√λ P2 + h Q2] + 8F1F2M² t[√λ P12 + h Q12] + 8F1²M²[√λ A + h B] }, as its parts
    even and odd in the helicity h: returns (even, odd, √λ), bracket = even + h × odd."""
    M2, m2 = M * M, m * m
    m4 = m2 * m2
    M4 = M2 * M2
    lam = kallen(s, M2, m2)
    sl = np.sqrt(np.maximum(lam, 0.0))
    A = -2 * M4 * t - t * (m4 + 2 * s * (s + t) - m2 * (2 * s + t)) + 2 * M2 * (t * (2 * s + t) - m4)
    B = (
        2 * M2 * m4 * (M2 + m2 - s)
        + (M2 + m2 - s) * (2 * M4 + m4 - 2 * m2 * s + 2 * s * s - 4 * M2 * (m2 + s)) * t
        - (2 * M4 + m4 - m2 * s + 2 * s * s - M2 * (3 * m2 + 4 * s)) * t * t
    )
    c1 = 8 * F1 * F1 * M2
    even = c1 * sl * A
    odd = c1 * B
    nz = F2 != 0
    if np.any(nz):  # the F2 terms, only where F2 ≠ 0 (nucleon channels)
        every = bool(np.all(nz))

        def at(v):
            return v if every or np.ndim(v) == 0 else v[nz]

        s_, t_, M_, sl_, F1_, F2_ = (at(v) for v in (s, t, M, sl, F1, F2))
        M2_ = M_ * M_
        t2, t3 = t_ * t_, t_ * t_ * t_
        P2 = -4 * M2_ * m4 + 4 * (M2_ - s_) * (M2_ + m2 - s_) * t_ - (m2 - 4 * s_) * t2 + t3
        Q2_ = (
            4 * M2_ * m4 * (M2_ + m2 - s_)
            - 4 * (M2_ - s_) * ((M_ - m) ** 2 - s_) * ((M_ + m) ** 2 - s_) * t_
            - (M2_ + m2 - s_) * (m2 + 4 * s_) * t2
            + (m2 + s_ - M2_) * t3
        )
        P12 = -2 * m4 + m2 * t_ + t2
        Q12 = (2 * m2 - t_) * (m4 - s_ * t_ + M2_ * (m2 + t_) - m2 * (s_ + t_))
        c2 = F2_ * F2_ * t_
        c12 = 8 * F1_ * F2_ * M2_ * t_
        if every:
            even = even + c2 * sl_ * P2 + c12 * sl_ * P12
            odd = odd + c2 * Q2_ + c12 * Q12
        else:
            even, odd = np.array(even, dtype=float), np.array(odd, dtype=float)
            even[nz] = even[nz] + c2 * sl_ * P2 + c12 * sl_ * P12
            odd[nz] = odd[nz] + c2 * Q2_ + c12 * Q12
    return even, odd, sl


def _spin_half_minus_zero(s, t, M, m, F1, sl):
    """Eq. (7)'s bracket (F2 = 0) minus its spin-0 counterpart, in the bracket's
    normalisation: 8F1²M²[√λ D_A + h D_B] with (docs/physics.md, "Spin-0 nuclei")
    D_A = t(t − m²)(t + 2m²)/2,  D_B = t(t − 2m²)[m²(s − M² − m²) + t(s − M² + m²)]/2;
    returned as its parts even and odd in h: (8F1²M² √λ D_A, 8F1²M² D_B)."""
    m2 = m * m
    DA = t * (t - m2) * (t + 2 * m2) / 2
    DB = t * (t - 2 * m2) * (m2 * (s - M * M - m2) + t * (s - M * M + m2)) / 2
    c = 8 * F1 * F1 * M * M
    return c * sl * DA, c * DB


def dsigma_dQ2_cm2(
    channel: Channel,
    model: HNLModel,
    E_GeV: ArrayLike,
    Q2_GeV2: ArrayLike,
    helicity: int | None = None,
) -> np.ndarray:
    """dσ/dQ² in cm²/GeV² per nucleus (eqs. 6–7), broadcasting E and Q².

    ``helicity``: +1 (helicity flip), −1 (helicity conserving), or None for the sum over
    the helicities of ``model.convention`` (both in ``consistent``, +1 in ``darknews``).
    Zero outside the kinematic limits and below threshold.  ``channel.options`` selects the
    spin-0 coherent current (eq. 7 minus :func:`_spin_half_minus_zero`, with the spin-0
    flux factor) and multiplies p-el/n-el on bound nucleons by S(|q⃗|).
    """
    hels = model.helicities if helicity is None else (int(helicity),)
    return _dsigma_dQ2(channel, model, E_GeV, Q2_GeV2, (tuple(hels),))[0]


def dsigma_dQ2_by_helicity_cm2(
    channel: Channel,
    model: HNLModel,
    E_GeV: ArrayLike,
    Q2_GeV2: ArrayLike,
    helicities: tuple[int, ...] | None = None,
) -> dict[int, np.ndarray]:
    """dσ/dQ² (cm²/GeV²) for each helicity separately (default: those of
    ``model.convention``), sharing the kinematics and form factors:
    ``{h: dsigma_dQ2_cm2(channel, model, E, Q², helicity=h)}``."""
    hels = tuple(int(h) for h in (model.helicities if helicities is None else helicities))
    return dict(zip(hels, _dsigma_dQ2(channel, model, E_GeV, Q2_GeV2, tuple((h,) for h in hels))))


def _dsigma_dQ2(channel, model, E_GeV, Q2_GeV2, groups) -> list[np.ndarray]:
    """dσ/dQ² summed over the helicities of each group in ``groups`` (e.g. ((1, -1),) or
    ((1,), (-1,))): one result per group, kinematics and form factors computed once."""
    return _single(channel).dsigma_dQ2(None, model, E_GeV, Q2_GeV2, groups)


#: form-factor kinds of a :class:`ChannelSet` (n-el: _NEUTRON + position of its G_E model)
_FB, _FERMI, _PROTON, _NEUTRON = 0, 1, 2, 3


class ChannelSet:
    """Several channels evaluated together: dσ/dQ² (eqs. 6–7) for events of different
    channels in one vectorised pass, ``index`` giving each event's channel (position in
    ``channels``).  An event generator's batches mix dozens of channels (every nucleus,
    coherent and elastic); evaluated one channel at a time, NumPy's per-call overhead
    (~0.4 ms) dominates.  One channel alone (:func:`dsigma_dQ2_cm2`,
    :meth:`Channel.form_factors`) is a set of one: the formulas are written once, here.
    """

    def __init__(self, channels: Sequence[Channel]) -> None:
        chs = tuple(channels)
        if not chs:
            raise InputError("a channel set needs at least one channel")
        self.channels = chs
        self.M_GeV = np.array([c.M_GeV for c in chs], dtype=float)
        self.Z_hat = np.array([c.Z_hat for c in chs], dtype=np.int64)
        self.n_targets = np.array([c.n_targets for c in chs], dtype=np.int64)
        self.spin_zero = np.array([c.spin_zero for c in chs], dtype=bool)
        kF = [c.fermi_momentum_GeV for c in chs]
        self.kF_GeV = np.array([np.nan if k is None else k for k in kF], dtype=float)
        # form factors: coherent, the nucleus's Fourier-Bessel table (or the symmetrised Fermi
        # form factor, where none is tabulated or the options ask for it); elastic, the nucleon's
        self._kind = np.empty(len(chs), dtype=np.int64)
        n_terms = max((len(t[1]) for t in fourier_bessel_tables().values()), default=1)
        self._fb_R = np.ones(len(chs))
        self._fb_coeff = np.zeros((len(chs), n_terms))
        self._fb_norm = np.ones(len(chs))
        self._A = np.array([c.nucleus.A for c in chs], dtype=float)
        for i, c in enumerate(chs):
            if c.regime == "coherent":
                table = fourier_bessel_table(c.nucleus) if c.options.form_factor != "fermi" else None
                if table is None:
                    self._kind[i] = _FERMI
                else:
                    self._kind[i] = _FB
                    self._fb_R[i] = table[0]
                    self._fb_coeff[i, : len(table[1])] = table[1]
                    self._fb_norm[i] = fourier_bessel_norm(table[1])
            elif c.regime == "n-el":  # one kind per neutron G_E model
                self._kind[i] = _NEUTRON + NEUTRON_ELECTRIC_MODELS.index(c.options.neutron_electric)
            else:
                self._kind[i] = _PROTON

    def __len__(self) -> int:
        return len(self.channels)

    def form_factors(self, index: np.ndarray, Q2_GeV2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(F1, F2) at Q² for events of channels ``index`` (same shape)."""
        Q2 = np.asarray(Q2_GeV2, dtype=float)
        F1, F2 = np.zeros(Q2.shape), np.zeros(Q2.shape)
        kind = self._kind[index]
        for k in np.unique(kind).tolist():
            every = bool(np.all(kind == k))
            sel = Ellipsis if every else kind == k
            q, ix = Q2[sel], index[sel]
            if ix.size and np.all(ix == ix.flat[0]):  # one channel: its parameters, not per point
                ix = ix.flat[0]
            if k == _FB:
                F1[sel] = fourier_bessel_form_factor(q, self._fb_R[ix], self._fb_coeff[ix], self._fb_norm[ix])
            elif k == _FERMI:
                F1[sel] = symmetrized_fermi_form_factor(q, self._A[ix])
            elif k == _PROTON:
                F1[sel], F2[sel] = proton_F1(q), proton_F2(q)
            else:  # n-el, with the G_E model of the kind
                el = NEUTRON_ELECTRIC_MODELS[k - _NEUTRON]
                F1[sel], F2[sel] = neutron_F1(q, el), neutron_F2(q, el)
        return F1, F2

    def dsigma_dQ2(
        self,
        index: ArrayLike | None,
        model: HNLModel,
        E_GeV: ArrayLike,
        Q2_GeV2: ArrayLike,
        groups: Sequence[tuple[int, ...]],
    ) -> list[np.ndarray]:
        """dσ/dQ² (cm²/GeV² per nucleus) of event i in channel ``channels[index[i]]``
        (``index`` broadcast with E and Q²; None for a set of one channel), summed over the
        helicities of each group in ``groups``; zero outside the kinematic limits."""
        E, Q2 = np.broadcast_arrays(np.asarray(E_GeV, dtype=float), np.asarray(Q2_GeV2, dtype=float))
        if index is None:
            if len(self) != 1:
                raise InputError("give every event's channel (index) for a set of several channels")
            index = np.zeros(E.shape, dtype=np.int64)
        index = np.broadcast_to(np.asarray(index, dtype=np.int64), E.shape)
        if index.size and (index.min() < 0 or index.max() >= len(self)):
            raise InputError(f"channel indices must lie in 0..{len(self) - 1}")
        M, Z_hat, n_targets = self.M_GeV[index], self.Z_hat[index], self.n_targets[index]
        m = model.mass_GeV
        s = M * M + 2.0 * E * M
        t = -Q2
        q2min, q2max = q2_limits(E, m, M)
        inside = (Q2 >= q2min * (1 - 1e-12)) & (Q2 <= q2max * (1 + 1e-12))
        Q2_in = np.where(inside, Q2, 0.0)
        mu = model.mu_tr_GeVinv
        F1, F2 = self.form_factors(index, Q2_in)
        kF = self.kF_GeV[index]
        blocked = np.isfinite(kF)
        pauli: float | np.ndarray = 1.0
        if blocked.any():  # Channel.pauli_factor per event
            S = pauli_suppression(three_momentum_transfer_GeV(Q2_in, M), np.where(blocked, kF, 1.0))
            pauli = np.where(blocked, S, 1.0)
        even, odd, sl = _msq_bracket(s, t, M, m, F1, F2)
        sz = self.spin_zero[index]
        if sz.any():
            even0, odd0 = _spin_half_minus_zero(s, t, M, m, F1, sl)
            even, odd = np.where(sz, even - even0, even), np.where(sz, odd - odd0, odd)
        out = []
        for hels in groups:
            total = np.zeros_like(E)
            for h in hels:
                total = total + (even + h * odd)
            # eq. (6): 1/(32π) averages a spin-½ target; a spin-0 target has no spin to average
            # (the spin-0 |M|² is half the bracket's normalisation, so the factor is the same)
            with np.errstate(divide="ignore", invalid="ignore"):
                msq = E_EM**2 * mu * mu * Z_hat**2 / (4 * M * M * t * t * sl) * total
                res = n_targets * msq / (32.0 * math.pi * (s - M * M) ** 2) * HBARC2_GEV2_CM2
            res = res * pauli
            out.append(np.where(inside & (sl > 0), np.maximum(res, 0.0), 0.0))
        return out


@cache
def _single(channel: Channel) -> ChannelSet:
    return ChannelSet((channel,))


# ---------------------------------------------------------------- σ(E)
_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)


def _lnq2_nodes(E: np.ndarray, m: float, ch: Channel, panels: int):
    """Quadrature nodes in u = ln Q² for each E: (Q² nodes (nE, K), weights (nE, K))."""
    q2min, q2max = q2_limits(E, m, ch.M_GeV)
    ok = np.isfinite(q2min)
    hi = np.log(np.minimum(np.where(ok, q2max, 1.0), ch.Q2_cap_GeV2))
    lo = np.log(np.where(ok, q2min, 0.5))
    lo = np.minimum(lo, hi)
    edges = np.linspace(0.0, 1.0, panels + 1)
    x = ((edges[:-1, None] + edges[1:, None]) / 2 + (edges[1:, None] - edges[:-1, None]) / 2 * _GL_X[None, :]).ravel()
    w = ((edges[1:, None] - edges[:-1, None]) / 2 * _GL_W[None, :]).ravel()
    width = (hi - lo)[:, None]
    u = lo[:, None] + width * x[None, :]
    weights = np.where(ok[:, None], width * w[None, :], 0.0)
    return np.exp(u), weights


def total_xsec_cm2(
    channel: Channel,
    model: HNLModel,
    E_GeV: ArrayLike,
    helicity: int | None = None,
    panels: int = 32,
) -> np.ndarray:
    """σ(E) in cm² per nucleus for one channel, vectorised over E (0 below threshold).

    Integrates Q² dσ/dQ² over ln Q² ∈ [ln Q²_min, ln min(Q²_max, Q²_cap)] with
    ``panels`` × 8-point Gauss–Legendre.
    """
    E = np.atleast_1d(np.asarray(E_GeV, dtype=float))
    Q2, w = _lnq2_nodes(E, model.mass_GeV, channel, panels)
    dsig = dsigma_dQ2_cm2(channel, model, E[:, None], Q2, helicity)
    out = np.sum(dsig * Q2 * w, axis=1)
    return out.reshape(np.shape(E_GeV)) if np.ndim(E_GeV) else out[0]


@dataclass(frozen=True)
class XsecTable:
    """σ(E) in cm² per nucleus on an energy grid, per nucleus and regime."""

    energies_GeV: np.ndarray
    pdg: tuple[int, ...]
    coherent_cm2: np.ndarray  #: shape (n_nuclei, n_E)
    incoherent_cm2: np.ndarray  #: shape (n_nuclei, n_E), p-el: Z σ_p (× Pauli blocking if selected)
    neutron_cm2: np.ndarray | None = None  #: shape (n_nuclei, n_E), n-el; None if not selected

    @property
    def total_cm2(self) -> np.ndarray:
        tot = self.coherent_cm2 + self.incoherent_cm2
        return tot if self.neutron_cm2 is None else tot + self.neutron_cm2


def xsec_table(
    model: HNLModel,
    pdgs: Iterable[int],
    energies_GeV: Sequence[float],
    helicity: int | None = None,
    options: NuclearOptions = DARKNEWS,
) -> XsecTable:
    """Coherent, p-el (and n-el) σ(E) for many nuclei at once.

    Without Pauli blocking the proton cross section is computed once and multiplied by Z
    (eq. 8); with it, p-el is computed per nucleus (k_F depends on A).
    """
    E = np.asarray(energies_GeV, dtype=float)
    pdg_list = tuple(nucleus(p).pdg for p in pdgs)
    sigma_p = total_xsec_cm2(channel(1000010010, "p-el"), model, E, helicity)
    coh = np.zeros((len(pdg_list), E.size))
    inc = np.zeros_like(coh)
    neu = np.zeros_like(coh) if options.neutron_elastic else None
    for i, p in enumerate(pdg_list):
        nuc = nucleus(p)
        if nuc.is_proton:
            inc[i] = sigma_p
            continue
        coh[i] = total_xsec_cm2(channel(p, "coherent", options), model, E, helicity)
        pel = channel(p, "p-el", options)
        inc[i] = nuc.Z * sigma_p if pel.fermi_momentum_GeV is None else total_xsec_cm2(pel, model, E, helicity)
        if neu is not None and nuc.A > nuc.Z:
            neu[i] = total_xsec_cm2(channel(p, "n-el", options), model, E, helicity)
    return XsecTable(E, pdg_list, coh, inc, neu)
