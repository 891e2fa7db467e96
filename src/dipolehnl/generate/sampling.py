"""Weighted event generation for HNLs that decay inside fiducial volumes.

Method (docs/method.md)
-----------------------
For a parallel beam of flux density φ(E) (per cm² per GeV per POT, uniform over the
transverse plane), an HNL produced at x_p with direction u and lab decay length λ decays
in [s, s + ds] with probability e^{−s/λ} ds/λ.  Substituting the decay point
x_d = x_p + s u (unit Jacobian at fixed u, s) gives the exact rate of decays inside a
fiducial volume V (per POT)

    R = Σ_c ∫ dE φ(E) ∫ d ln Q² dσ_c/d ln Q² ∫_V d³x_d J_c(x_d, u, λ),
    J_c = ∫_0^∞ ds n_c(x_d − s u) e^{−s/λ}/λ = Σ_segments n_c (e^{−a/λ} − e^{−b/λ}),

where n_c is the number density of scattering centres of channel c and the sum runs over
the segments [a, b] of constant material along the *backward* ray from x_d.  J is exact
(piecewise-constant densities): it already contains the survival probability to the
fiducial volume and the decay probability inside it, and it covers rock (λ ≫ m) and
detector (λ ≪ m) production alike, at any distance.  Monte Carlo integration is only over
E (importance sampled from φ σ_c), ln Q² (per-event tabulated proposal of dσ/d ln Q²) and
x_d (uniform in each fiducial volume) and the HNL azimuth φ; channels × fiducial volumes
(× sectors of φ, ``GeneratorSettings.azimuth_sectors``) are strata.

Reweighting to another coupling d' at the same mass is exact: σ ∝ d², λ ∝ 1/d², and J is
recomputed from the stored segments (``EventSample.weights``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dipolehnl.beam.flux import FluxComponent
from dipolehnl.detector.geometry import Detector
from dipolehnl.detector.shapes import Box, Shape
from dipolehnl.errors import InputError
from dipolehnl.generate import kinematics as kin
from dipolehnl.generate._timing import stage
from dipolehnl.generate.decay import decay_kinematics
from dipolehnl.generate.sample import EventSample, Segments, _segment_sum
from dipolehnl.generate.stratified import neyman_refinement, neyman_scores
from dipolehnl.physics import decays, xsec
from dipolehnl.physics.model import HNLModel
from dipolehnl.physics.nuclear import DARKNEWS, NuclearOptions
from dipolehnl.physics.nuclei import HYDROGEN_PDG, nucleus

if TYPE_CHECKING:
    from dipolehnl.beam.beamline import Beamline

log = logging.getLogger(__name__)
Array = NDArray[np.float64]


@dataclass(frozen=True)
class GeneratorSettings:
    """Numerical settings of :func:`generate`.

    n_events: events in total (all channels and fiducial volumes).
    seed: seed of ``numpy.random.default_rng``; same seed → identical sample.
    n_q2_bins: bins of the ln Q² proposal (per channel and energy node, :class:`_Q2Proposal`).
    pilot_fraction: share of events spread evenly over strata to learn the allocation.
    min_share: every stratum gets at least this fraction of an even share.
    cos_theta_min: HNLs whose direction has cos θ_N (to the beam axis +z) ≤ this value are
        drawn and counted in their stratum, but not traced: no production (J = 0), so they
        weigh 0 at every coupling.  A selection that requires cos θ_N > c (the e⁺e⁻ search:
        0.992) gives c here and skips the ray tracing of the events it would reject; the
        weights of the others are unchanged.  Untraced events have no production vertex
        (NaN, volume ""), so samples meant for event files keep the default −1: every event
        is traced.
    azimuth_sectors: each (channel, fiducial volume) stratum is split into this many strata
        by the HNL azimuth φ about +z (sector a: |φ − 2π a/n| < π/n, φ uniform within it,
        weight × 1/n).  Where the production along the backward ray depends on φ (a beam or
        rock that is not symmetric about the detector axis), the allocation can follow it.
    """

    n_events: int = 20000
    seed: int = 12345
    n_q2_bins: int = 32
    pilot_fraction: float = 0.25
    min_share: float = 0.05
    #: nuclear-physics options of the cross sections (preset ``paper``: ``nuclear.DARKNEWS``)
    nuclear: NuclearOptions = DARKNEWS
    #: beamline flux fall-off along the backward rays (``beam.beamline.Beamline``) or None
    #: (the detector's flux everywhere, as SIREN)
    beamline: Beamline | None = None
    cos_theta_min: float = -1.0
    azimuth_sectors: int = 1

    def __post_init__(self) -> None:
        if int(self.n_events) < 10:
            raise InputError(f"need at least 10 events, got {self.n_events}")
        sectors = self.azimuth_sectors
        if isinstance(sectors, bool) or not isinstance(sectors, (int, np.integer)) or sectors < 1:
            raise InputError(f"azimuth_sectors must be a positive integer, got {self.azimuth_sectors}")
        if not -1.0 <= self.cos_theta_min < 1.0:
            raise InputError(f"cos_theta_min must be in [-1, 1), got {self.cos_theta_min}")
        if not 0 < self.pilot_fraction <= 1:
            raise InputError("pilot_fraction must be in (0, 1]")


@dataclass(frozen=True)
class _Channel:
    """A stratum's physics channel: coherent on one nucleus, or elastic on protons."""

    label: str
    xs: xsec.Channel
    target_pdg: int  # nucleus whose density enters (coherent) or 2212 for the proton channel
    density_column: Array  # number density of scattering centres in every volume, cm^-3


#: width (GeV) of the k_F classes that share a blocked p-el/n-el channel: the ±5 MeV/c
#: uncertainty of the Moniz et al. k_F fits (fewer strata; k_F moves by < 5 MeV)
KF_CLASS_GEV: float = 0.005


def _channels(detector: Detector, model: HNLModel, E_max: float, options: NuclearOptions = DARKNEWS) -> list[_Channel]:
    """Channels of the detector's nuclei under the nuclear ``options``.

    Coherent channel per nucleus present (not H).  Without Pauli blocking and n-el
    (``nuclear.DARKNEWS``, spin ½ or 0) every proton scatters as a free one: a single proton
    channel with density Σ Z n_A.  With Pauli blocking or n-el the p-el (and n-el) cross
    section depends on the nucleus only through k_F and n_T = Z or A − Z: one channel per
    regime and k_F class (:data:`KF_CLASS_GEV` wide; the first nucleus of a class gives k_F),
    with density Σ_A n_A n_T(A)/n_T(representative) (exact since dσ/dQ² ∝ n_T at equal
    k_F; docs/physics.md, "Nuclear physics options").
    """
    pdgs = np.asarray(detector.nuclei_pdg)
    dens = np.asarray(detector.number_density_matrix_cm3())  # (V, K)
    out: list[_Channel] = []
    n_p = np.zeros(dens.shape[0])
    per_nucleus = options.pauli_blocking or options.neutron_elastic
    groups: dict[tuple, list] = {}  # (regime, k_F) -> [channel of the first nucleus, density]
    for k, p in enumerate(pdgs):
        nuc = nucleus(int(p))
        n_p += nuc.Z * dens[:, k]
        if not nuc.is_proton:
            ch = xsec.channel(int(p), "coherent", options)
            if E_max > xsec.threshold_energy(model.mass_GeV, ch.M_GeV):
                out.append(_Channel(f"{nuc.name}:coherent", ch, nuc.pdg, dens[:, k].copy()))
        if not per_nucleus:
            continue
        for c in xsec.channels(int(p), options):
            if c.regime == "coherent":
                continue
            kF = c.fermi_momentum_GeV
            key = (c.regime, None if kF is None else round(kF / KF_CLASS_GEV))
            if key not in groups:
                groups[key] = [c, np.zeros(dens.shape[0])]
            groups[key][1] += dens[:, k] * c.n_targets / groups[key][0].n_targets
    if not per_nucleus:
        ch_p = xsec.channel(HYDROGEN_PDG, "p-el")
        if E_max > xsec.threshold_energy(model.mass_GeV, ch_p.M_GeV):
            out.append(_Channel("proton:p-el", ch_p, 2212, n_p))
        return out
    for (regime, cls), (c, n_c) in groups.items():
        if E_max > xsec.threshold_energy(model.mass_GeV, c.M_GeV):
            # unblocked nucleons are alike: "proton:p-el" / "neutron:n-el"; else the class's first nucleus
            label = c.label if cls is not None else ("proton:p-el" if regime == "p-el" else "neutron:n-el")
            out.append(_Channel(label, c, 2212 if regime == "p-el" else 2112, n_c))
    return out


#: Share of events drawn from the "short-lived" component of the (E, depth) proposal:
#: E ∝ φ σ E² and decay depth ∝ exponentials from the fiducial volume's upstream face.
#: Short-lived HNLs reach a fiducial volume only if energetic (λ ∝ p) and produced just
#: upstream, so they decay near its entrance; the other component (E ∝ φ σ, uniform depth)
#: serves long-lived HNLs.  Weights use the exact joint mixture density.
SHORT_LIVED_SHARE = 0.4
DEPTH_SCALES_M = (0.005, 0.02, 0.08, 0.25)


@dataclass(frozen=True)
class _EnergyProposal:
    """Two piecewise-constant energy densities on a grid refined from the flux bins:
    ``pdf[0]`` ∝ φ_sum σ_c and ``pdf[1]`` ∝ φ_sum σ_c E² (per GeV)."""

    edges: Array
    pdf: tuple[Array, Array]
    cdf: tuple[Array, Array]

    @classmethod
    def build(cls, phi_sum: FluxComponent, channel: xsec.Channel, model: HNLModel, q2: _Q2Proposal) -> _EnergyProposal:
        """From φ_sum and σ(E) interpolated from the ln Q² proposal's nodes (``q2``): a proposal
        needs the shape of φσ, not its value (weights use the proposal's exact density)."""
        e_th = xsec.threshold_energy(model.mass_GeV, channel.M_GeV)
        fe = np.asarray(phi_sum.edges_GeV)
        fine = np.unique(np.concatenate([fe, 0.5 * (fe[1:] + fe[:-1]), [e_th]]))
        edges = fine[fine >= e_th]
        if edges.size < 2:
            raise InputError(f"m_N = {model.mass_GeV} GeV is above the reach of the flux (E_max = {fe[-1]} GeV)")
        centers = 0.5 * (edges[1:] + edges[:-1])
        mass = np.asarray(phi_sum(centers)) * q2.sigma_cm2(centers) * np.diff(edges)
        if not mass.sum() > 0:
            raise InputError(f"no flux above the production threshold {e_th:.4g} GeV for m_N = {model.mass_GeV} GeV")
        probs = (mass / mass.sum(), mass * centers**2 / (mass * centers**2).sum())
        width = np.diff(edges)
        pdf = (np.asarray(probs[0] / width, dtype=float), np.asarray(probs[1] / width, dtype=float))
        cdf = tuple(np.concatenate([[0.0], np.cumsum(p)]).astype(float) for p in probs)
        return cls(edges, pdf, (cdf[0], cdf[1]))

    def sample(self, rng: np.random.Generator, component: NDArray[np.int64]) -> Array:
        n = component.size
        u = rng.uniform(0.0, 1.0, n)
        k = np.empty(n, dtype=np.int64)
        for c in (0, 1):
            sel = component == c
            k[sel] = np.clip(np.searchsorted(self.cdf[c], u[sel], side="right") - 1, 0, self.pdf[c].size - 1)
        return rng.uniform(self.edges[k], self.edges[k + 1])

    def density(self, E: Array, component: int) -> Array:
        k = np.clip(np.searchsorted(self.edges, E, side="right") - 1, 0, self.pdf[component].size - 1)
        return self.pdf[component][k]


def _depth_sample(rng: np.random.Generator, n: int, z0: float, z1: float) -> Array:
    """Depths in [z0, z1] from an equal mixture of truncated exponentials (DEPTH_SCALES_M)."""
    L = z1 - z0
    ell = np.asarray(DEPTH_SCALES_M)[rng.integers(0, len(DEPTH_SCALES_M), n)]
    return z0 - ell * np.log1p(rng.uniform(0.0, 1.0, n) * np.expm1(-L / ell))


def _depth_density(z: Array, z0: float, z1: float) -> Array:
    """Density (1/m) of :func:`_depth_sample`."""
    L = z1 - z0
    return sum(np.exp(-(z - z0) / ell) / (ell * -np.expm1(-L / ell)) for ell in DEPTH_SCALES_M) / len(DEPTH_SCALES_M)


#: nodes in E of the ln Q² proposal tables (:class:`_Q2Proposal`), log-spaced in E − E_th
#: from Q2_NODE_FIRST × (E_max − E_th) to E_max − E_th
N_Q2_NODES = 32
Q2_NODE_FIRST = 1e-6


@dataclass(frozen=True)
class _Q2Proposal:
    """Proposal of u = ln Q² for one channel: at N_Q2_NODES energies E_j, a histogram of
    dσ/du (plus a 2% floor) in x = (u − u_min(E))/(u_max(E) − u_min(E)) ∈ [0, 1].  An event
    of energy E draws x from the histogram of the node nearest in ln(E − E_th); its density
    in u is prob[bin]/(n_bins Δx (u_max − u_min)), exact for the weights.  Built once per
    channel (N_Q2_NODES × n_bins evaluations of dσ/dQ² instead of n_bins per event)."""

    ln_de_nodes: Array  # ln(E_j − E_th)
    e_th_GeV: float
    prob: Array  # (nodes, bins), rows sum to 1
    cdf: Array  # (nodes, bins)
    sigma_nodes_cm2: Array  # σ(E_j), midpoint rule over the bins

    def sigma_cm2(self, E: Array) -> Array:
        """σ(E) interpolated linearly in (ln(E − E_th), ln σ) between the nodes (held at the end
        nodes; for proposals only)."""
        t = np.log(np.maximum(np.asarray(E, dtype=float) - self.e_th_GeV, 1e-300))
        ls = np.log(np.maximum(self.sigma_nodes_cm2, 1e-300))
        return np.where(np.asarray(E) > self.e_th_GeV, np.exp(np.interp(t, self.ln_de_nodes, ls)), 0.0)

    @classmethod
    def build_all(cls, chset: xsec.ChannelSet, model: HNLModel, e_max_GeV: float, n_bins: int) -> list[_Q2Proposal]:
        """The proposals of every channel of ``chset``, from one vectorised evaluation of
        dσ/dQ² on all of their (node, bin) points."""
        e_th = np.array([xsec.threshold_energy(model.mass_GeV, ch.M_GeV) for ch in chset.channels])
        de = (e_max_GeV - e_th)[:, None] * np.geomspace(Q2_NODE_FIRST, 1.0, N_Q2_NODES)[None, :]  # (channels, nodes)
        E = e_th[:, None] + de
        cap = np.array([ch.Q2_cap_GeV2 for ch in chset.channels])[:, None]
        lo, hi = _lnq2_range(model, E, chset.M_GeV[:, None], cap)
        x = (np.arange(n_bins) + 0.5) / n_bins
        Q2c = np.exp(lo[..., None] + (hi - lo)[..., None] * x)  # (channels, nodes, bins)
        index = np.arange(len(chset))[:, None, None]
        f = chset.dsigma_dQ2(index, model, E[..., None], Q2c, (model.helicities,))[0] * Q2c
        mass = f + 0.02 * f.mean(axis=-1, keepdims=True) + 1e-300
        prob = mass / mass.sum(axis=-1, keepdims=True)
        cdf = np.cumsum(prob, axis=-1)
        sigma = f.mean(axis=-1) * (hi - lo)  # ∫ dσ/du du
        sigma = np.where(np.isfinite(sigma), sigma, 0.0)
        return [cls(np.log(de[c]), float(e_th[c]), prob[c], cdf[c], sigma[c]) for c in range(len(chset))]

    def node(self, E: Array) -> NDArray[np.int64]:
        """Index of the node nearest in ln(E − E_th)."""
        t = np.log(np.maximum(E - self.e_th_GeV, 1e-300))
        mid = 0.5 * (self.ln_de_nodes[1:] + self.ln_de_nodes[:-1])
        return np.searchsorted(mid, t).astype(np.int64)


def _lnq2_range(model: HNLModel, E: Array, M_GeV: float | Array, Q2_cap_GeV2: float | Array) -> tuple[Array, Array]:
    """(u_min, u_max) of u = ln Q² at E on a target of mass M: the kinematic range, capped at
    the channel's Q²_cap (M and the cap per channel may be arrays broadcast with E)."""
    q2min, q2max = xsec.q2_limits(E, model.mass_GeV, M_GeV)
    lo = np.log(q2min)
    hi = np.maximum(np.log(np.minimum(q2max, Q2_cap_GeV2)), lo)
    return lo, hi


def _draw_lnq2(rng, channel: xsec.Channel, model: HNLModel, E: Array, proposal: _Q2Proposal) -> tuple[Array, Array]:
    """Draw u = ln Q² per event of one channel from its proposal table; returns (Q², proposal
    density q(u)).  The integrand follows for all channels at once (:func:`_lnq2_integrand`)."""
    lo, hi = _lnq2_range(model, E, channel.M_GeV, channel.Q2_cap_GeV2)
    j = proposal.node(E)
    n_bins = proposal.prob.shape[1]
    r = rng.uniform(0.0, 1.0, E.size)
    k = np.minimum((proposal.cdf[j] < r[:, None]).sum(axis=1), n_bins - 1)
    width = (hi - lo) / n_bins
    u = lo + width * (k + rng.uniform(0.0, 1.0, E.size))
    return np.exp(u), proposal.prob[j, k] / width


def _lnq2_integrand(
    chset: xsec.ChannelSet, index: NDArray[np.int64], model: HNLModel, E: Array, Q2: Array
) -> tuple[Array, Array]:
    """(f(u) = dσ/du summed over helicities, f_+(u)) per event, u = ln Q², for events of the
    channels ``chset.channels[index]``."""
    both = len(model.helicities) > 1
    parts = chset.dsigma_dQ2(index, model, E, Q2, ((1,), (-1,)) if both else ((1,),))
    f_plus = parts[0] * Q2
    f_tot = f_plus + parts[1] * Q2 if both else f_plus
    return f_tot, f_plus


def _trace_segments(
    detector: Detector,
    x_dec: Array,
    u: Array,
    density: Array,
    channel: NDArray[np.int64],
    beamline: Beamline | None = None,
) -> Segments:
    """Backward rays from the decay points; keep segments where the density of the ray's
    channel (``density`` (volumes, channels), ``channel`` per ray) is > 0.  With a
    ``beamline``, segments are split into sub-segments carrying n × g(x_mid)
    (``beam.beamline.modulate_segments``: the flux fall-off away from the detector)."""
    seg, n_cm3 = detector.trace_where(x_dec, -u, density, channel)  # only segments with n > 0
    offsets = seg.offsets
    a_m, b_m = seg.t_start_m, seg.t_end_m
    vol = seg.volume.astype(np.int64)
    if beamline is not None:
        from dipolehnl.beam.beamline import modulate_segments

        offsets, a_m, b_m, n_cm3, vol = modulate_segments(beamline, x_dec, u, offsets, a_m, b_m, n_cm3, vol)
    return Segments(offsets, a_m, b_m, n_cm3, vol)


def _sample_in_segments(rng, seg: Segments, lam: Array, J: Array) -> tuple[Array, NDArray[np.int64]]:
    """Production distance s and volume per event, from the exact density n(s) e^{−s/λ}/λ."""
    n = lam.size
    contrib = _segment_sum(seg, lam, per_segment=True)
    cum = np.cumsum(contrib)
    start = np.concatenate([[0.0], cum])[seg.offsets[:-1]]
    target = start + rng.uniform(0.0, 1.0, n) * J
    idx = np.searchsorted(cum, target, side="right")
    has = np.diff(seg.offsets) > 0
    idx = np.clip(idx, seg.offsets[:-1], np.maximum(seg.offsets[1:] - 1, seg.offsets[:-1]))
    s = np.full(n, np.nan)
    vol = np.full(n, -1, dtype=np.int64)
    i = np.flatnonzero(has)
    a, b, l = seg.a_m[idx[i]], seg.b_m[idx[i]], lam[i]
    v = rng.uniform(0.0, 1.0, i.size)
    # truncated exponential on [a, b]: s = a − λ ln(1 − v (1 − e^{−(b−a)/λ}))
    s[i] = a - l * np.log1p(v * np.expm1(-(b - a) / l))
    vol[i] = seg.volume[idx[i]]
    return s, vol


# ---------------------------------------------------------------- the generator
def generate(
    detector: Detector,
    model: HNLModel,
    flux_components: Mapping[str, FluxComponent],
    settings: GeneratorSettings | None = None,
    fiducial: Sequence[str] | Mapping[str, Shape] | None = None,
    allocation_couplings: ArrayLike | None = None,
    refine: Callable[[EventSample], Array | None] | None = None,
    max_refine_rounds: int = 6,
) -> EventSample:
    """Generate weighted HNL decays in the fiducial volumes of ``detector``.

    ``fiducial``: names of the detector's own fiducial volumes, or name → shape (m) of
    fiducial volumes of any shape in any medium (e.g. from an experiment file); default:
    all of the detector's.  Decay points are uniform in each (boxes: along the beam axis a
    mixture with exponentials from the upstream face, see ``SHORT_LIVED_SHARE``).
    ``flux_components``: name → flux (e.g. ``{"fhc:numu": ..., "fhc:numubar": ...}``); one
    sample serves all of them (E is drawn from their sum).  ``allocation_couplings``:
    couplings at which the events will be used (scan grid); strata get events in proportion
    to their largest share of the rate over these couplings.

    ``refine(sample)`` (optional) returns None when the sample is precise enough, or
    (contributions (n_events, K) at the couplings that are not, factor): each round then
    adds factor × (current size) events (clipped to 0.1–0.5: small steps, since the error
    estimate of a small sample is noisy and Neyman allocation often gains more than √N) to
    the strata in proportion
    to their standard deviation there (Neyman allocation), pooled with the earlier events of
    the same strata (exact: a stratum's proposal does not depend on its number of events).
    New events are appended after the earlier ones, which are kept unchanged (kinematics,
    decays, rays; only their weights change with the stratum sizes), so each round costs
    only its new events.
    """
    settings = settings or GeneratorSettings()
    if not flux_components:
        raise InputError("no flux components given")
    shapes = _fiducial_shapes(detector, fiducial)
    names = tuple(shapes)
    comps = dict(flux_components)
    phi_sum = _sum_flux(list(comps.values()))
    if model.mass_GeV >= phi_sum.max_energy_GeV:
        raise InputError(
            f"m_N = {model.mass_GeV} GeV is above the reach of the flux (E_max = {phi_sum.max_energy_GeV} GeV)"
        )
    rng = np.random.default_rng(settings.seed)
    channels = _channels(detector, model, phi_sum.max_energy_GeV, settings.nuclear)
    if not channels:
        raise InputError(f"m_N = {model.mass_GeV} GeV cannot be produced by this flux on any target")
    chset = xsec.ChannelSet([ch.xs for ch in channels])
    q2_proposals = _Q2Proposal.build_all(chset, model, phi_sum.max_energy_GeV, settings.n_q2_bins)
    proposals = [_EnergyProposal.build(phi_sum, ch.xs, model, q2) for ch, q2 in zip(channels, q2_proposals)]
    n_az = int(settings.azimuth_sectors)
    strata = [(c, t, a) for c in range(len(channels)) for t in range(len(names)) for a in range(n_az)]
    couplings = np.asarray(allocation_couplings if allocation_couplings is not None else [model.d_GeVinv], dtype=float)
    if couplings.size > 24:  # the allocation only needs the shape of the rate curve
        couplings = couplings[np.unique(np.linspace(0, couplings.size - 1, 24).round().astype(int))]

    # pilot: even allocation
    n_total = int(settings.n_events)
    n_pilot = max(len(strata) * 4, int(settings.pilot_fraction * n_total))
    alloc = np.full(len(strata), max(n_pilot // len(strata), 4))
    events = _generate_strata(
        rng, detector, model, channels, proposals, shapes, q2_proposals, chset, strata, alloc, settings
    )
    n_main = n_total - int(alloc.sum())
    if n_main > 0:
        share = _strata_rates(events, len(strata), model, couplings, phi_sum)
        tot = share.sum(axis=0, keepdims=True)
        share = np.divide(share, tot, out=np.zeros_like(share), where=tot > 0)
        score = share.max(axis=1)
        score = score / score.sum() if score.sum() > 0 else np.full(len(strata), 1.0 / len(strata))
        score = np.maximum(score, settings.min_share / len(strata))
        exact = n_main * score / score.sum()
        extra = np.floor(exact).astype(int)
        extra[np.argsort(extra - exact)[: n_main - int(extra.sum())]] += 1  # largest remainders
        if extra.sum() > 0:
            more = _generate_strata(
                rng, detector, model, channels, proposals, shapes, q2_proposals, chset, strata, extra, settings
            )
            events = _concat_all([events, more])
    with stage("sampling"):
        batch = _batch(events, strata, channels, shapes, detector, model, comps, rng)
    sample = _make_sample(batch, len(strata), strata, channels, shapes, detector, model, comps, settings)
    for _ in range(max_refine_rounds if refine is not None else 0):
        assert refine is not None  # the loop runs only with a refinement callback
        with stage("refinement"):
            request = refine(sample)
        if request is None:
            break
        contrib, factor = request
        stratum = sample.columns["stratum"]
        want = neyman_refinement(np.asarray(contrib, dtype=float), stratum, len(strata), 1.0 / (1.0 + max(factor, 0.0)))
        if want.sum() > 0:  # the fewest events that reach the target, in steps of 10–50% of the sample
            n_more = int(min(max(want.sum() / sample.n, 0.1), 0.5) * sample.n)
            exact = want * (n_more / want.sum())
        else:  # no variance information: in proportion to the standard deviations (or evenly)
            n_more = int(min(max(factor, 0.1), 0.5) * sample.n)
            exact = n_more * neyman_scores(np.asarray(contrib, dtype=float), stratum, len(strata))
        extra = np.floor(exact).astype(int)
        extra[np.argsort(extra - exact)[: n_more - int(extra.sum())]] += 1
        if not np.any(extra > 0):
            break
        new_events = _generate_strata(
            rng, detector, model, channels, proposals, shapes, q2_proposals, chset, strata, extra, settings
        )
        # the new events are appended: earlier events (kinematics, decays, rays) stay as they are
        with stage("refinement"):
            batch = _append_batch(batch, _batch(new_events, strata, channels, shapes, detector, model, comps, rng))
            sample = _make_sample(batch, len(strata), strata, channels, shapes, detector, model, comps, settings)
    return sample


def _sum_flux(components: list[FluxComponent]) -> FluxComponent:
    edges = np.unique(np.concatenate([np.asarray(c.edges_GeV) for c in components]))
    centers = 0.5 * (edges[1:] + edges[:-1])
    dens = np.sum([np.asarray(c(centers), dtype=float) for c in components], axis=0)
    return FluxComponent(edges, dens, flavor="sum", mode="sum")


def _generate_strata(
    rng,
    detector: Detector,
    model: HNLModel,
    channels: Sequence[_Channel],
    proposals: Sequence[_EnergyProposal],
    shapes: Mapping[str, Shape],
    q2_proposals: Sequence[_Q2Proposal],
    chset: xsec.ChannelSet,
    strata: Sequence[tuple[int, int, int]],
    counts: ArrayLike,
    settings: GeneratorSettings,
) -> dict[str, np.ndarray]:
    """``counts[i]`` events of each stratum ``strata[i]`` = (channel, fiducial volume), all
    strata in one vectorised pass (one ray trace for all events).  The events of a stratum
    are distributed exactly as if it were generated alone (its proposal does not depend on
    the others); the returned columns carry ``stratum`` (index into ``strata``)."""
    counts = np.asarray(counts, dtype=np.int64)
    stratum = np.repeat(np.arange(len(strata), dtype=np.int64), counts)
    n = stratum.size
    with stage("sampling", events=n):
        chan = np.array([c for c, _, _ in strata], dtype=np.int64)[stratum]
        fv = np.array([t for _, t, _ in strata], dtype=np.int64)[stratum]
        sector = np.array([a for _, _, a in strata], dtype=np.int64)[stratum]
        component = (rng.uniform(0.0, 1.0, n) < SHORT_LIVED_SHARE).astype(np.int64)
        E = np.empty(n)
        Q2, q = np.empty(n), np.empty(n)
        M = np.empty(n)
        q_E = np.empty((2, n))  # the two energy-proposal densities at E
        for c in np.unique(chan).tolist():
            sel = np.flatnonzero(chan == c)
            prop = proposals[c]
            E[sel] = prop.sample(rng, component[sel])
            Q2[sel], q[sel] = _draw_lnq2(rng, channels[c].xs, model, E[sel], q2_proposals[c])
            M[sel] = channels[c].xs.M_GeV
            q_E[0, sel], q_E[1, sel] = prop.density(E[sel], 0), prop.density(E[sel], 1)
        f, f_plus = _lnq2_integrand(chset, chan, model, E, Q2)  # every channel in one pass
        E_N, p_N, cos = kin.upscatter_lab(E, Q2, model.mass_GeV, M)
        n_az = int(settings.azimuth_sectors)
        # sector a: φ within π/n_az of 2π a/n_az (one sector: φ uniform in [0, 2π))
        phi = (2 * np.pi / n_az) * (sector + rng.uniform(0.0, 1.0, n)) - (np.pi / n_az if n_az > 1 else 0.0)
        u = kin.direction(cos, phi)
        x_dec = np.empty((n, 3))
        volume_over_q = np.empty(n)  # cm³ GeV: fiducial volume over the proposal density of (E, x)
        names = tuple(shapes)
        for t in np.unique(fv).tolist():
            sel = np.flatnonzero(fv == t)
            shape = shapes[names[t]]
            m = sel.size
            if isinstance(shape, Box):
                lo, hi = np.asarray(shape.lower_m), np.asarray(shape.upper_m)
                x = lo + (hi - lo) * rng.uniform(0.0, 1.0, (m, 3))
                short = component[sel] == 1
                x[short, 2] = _depth_sample(rng, int(short.sum()), lo[2], hi[2])
                area_cm2 = float((hi[0] - lo[0]) * (hi[1] - lo[1])) * 1.0e4
                # joint proposal density of (E, z) in 1/(GeV m), mixture of the two components
                q_Ez = (1.0 - SHORT_LIVED_SHARE) * q_E[0, sel] / (hi[2] - lo[2]) + SHORT_LIVED_SHARE * q_E[
                    1, sel
                ] * _depth_density(x[:, 2], lo[2], hi[2])
                volume_over_q[sel] = area_cm2 * 100.0 / q_Ez
            else:  # any other shape: decay points exactly uniform in it (the shape's own sampler)
                x = shape.sample(m, rng)
                qe = (1.0 - SHORT_LIVED_SHARE) * q_E[0, sel] + SHORT_LIVED_SHARE * q_E[1, sel]
                volume_over_q[sel] = shape.volume_m3 * 1.0e6 / qe
            x_dec[sel] = x
        lam = decays.decay_length_m(model, p_N)
    with stage("tracing", events=n):
        density = np.stack([ch.density_column for ch in channels], axis=1)  # (volumes, channels)
        if settings.cos_theta_min > -1.0:  # rays only for the HNLs a selection can accept
            traced = np.flatnonzero(cos > settings.cos_theta_min)
            sub = _trace_segments(detector, x_dec[traced], u[traced], density, chan[traced], settings.beamline)
            counts = np.zeros(n, dtype=np.int64)
            counts[traced] = np.diff(sub.offsets)
            offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
            seg = Segments(offsets, sub.a_m, sub.b_m, sub.n_cm3, sub.volume)
        else:
            seg = _trace_segments(detector, x_dec, u, density, chan, settings.beamline)
    J = seg.decay_integral(lam)
    # per-event weight without φ(E), J and 1/n_stratum: (f/q_Q) V / q(E, x)   [cm² GeV cm³]
    g = np.where(q > 0, f / np.where(q > 0, q, 1.0), 0.0) * volume_over_q / n_az  # φ density n_az/2π in a sector
    if len(model.helicities) > 1:
        h = np.where(rng.uniform(0.0, 1.0, n) * f < f_plus, 1.0, -1.0)
    else:
        h = np.ones(n)
    return {
        "stratum": stratum,
        "E_nu": E,
        "Q2": Q2,
        "E_N": E_N,
        "p_N": p_N,
        "cos_theta_N": cos,
        "u": u,
        "x_dec": x_dec,
        "lam": lam,
        "J": J,
        "g": g,
        "h": h,
        "seg_offsets": seg.offsets,
        "seg_a": seg.a_m,
        "seg_b": seg.b_m,
        "seg_n": seg.n_cm3,
        "seg_vol": seg.volume,
    }


def _concat_all(parts: Sequence[dict]) -> dict:
    """Events of several parts, in order (segment offsets shifted)."""
    out = {}
    for k in parts[0]:
        if k == "seg_offsets":
            shift = np.cumsum([0] + [p[k][-1] for p in parts[:-1]])
            out[k] = np.concatenate([parts[0][k][:1]] + [p[k][1:] + sh for p, sh in zip(parts, shift)])
        else:
            out[k] = np.concatenate([p[k] for p in parts])
    return out


def _strata_rates(events: dict, n_strata: int, model: HNLModel, couplings: Array, phi_sum: FluxComponent) -> Array:
    """Estimated rate (n_strata, K) of each stratum at each coupling (for the allocation only)."""
    seg = Segments(events["seg_offsets"], events["seg_a"], events["seg_b"], events["seg_n"], events["seg_vol"])
    r2 = (couplings / model.total_coupling_GeVinv) ** 2
    with stage("decay integrals"):
        J = seg.decay_integral_scaled(events["lam"], r2)
    w = (np.asarray(phi_sum(events["E_nu"])) * events["g"])[:, None] * J * r2[None, :]
    stratum = events["stratum"]
    n_per = np.bincount(stratum, minlength=n_strata)
    out = np.zeros((n_strata, couplings.size))
    np.add.at(out, stratum, w)
    return out / np.maximum(n_per, 1)[:, None]


def _batch(merged, strata, channels, shapes, detector, model, comps, rng) -> dict:
    """Columns of a batch of events (:func:`_generate_strata`), with their flavour labels,
    production vertices and decay kinematics drawn from ``rng``."""
    names = tuple(shapes)
    n = merged["E_nu"].size
    stratum = merged["stratum"]
    chan_idx = np.array([c for c, _, _ in strata], dtype=np.int64)[stratum]
    fv_idx = np.array([t for _, t, _ in strata], dtype=np.int64)[stratum]
    flux = np.stack(
        [np.asarray(c(merged["E_nu"]), dtype=float) * _coupling_share(model, c) for c in comps.values()], axis=1
    )
    seg = Segments(merged["seg_offsets"], merged["seg_a"], merged["seg_b"], merged["seg_n"], merged["seg_vol"])

    # flavour label ∝ φ_k(E) among the components
    tot = flux.sum(axis=1)
    cum = np.cumsum(flux, axis=1) / np.where(tot > 0, tot, 1.0)[:, None]
    comp_idx = np.minimum((cum < rng.uniform(0.0, 1.0, n)[:, None]).sum(axis=1), flux.shape[1] - 1)
    comp_names = list(comps)
    flavor = np.array([comps[comp_names[i]].flavor or comp_names[i] for i in comp_idx])

    # production vertex
    s_prod, vol_prod = _sample_in_segments(rng, seg, merged["lam"], merged["J"])
    x_prod = merged["x_dec"] - s_prod[:, None] * merged["u"]
    vol_names = np.array([v.name for v in detector.volumes] + [""])
    vol_sub = np.array([v.subsystem for v in detector.volumes] + [""])
    vol_mat = np.array([v.material.name for v in detector.volumes] + [""])

    decay_columns = decay_kinematics(rng, model, merged["h"], merged["u"], merged["E_N"], merged["p_N"])
    target_pdg = np.array([channels[c].target_pdg for c in range(len(channels))])[chan_idx]
    columns = {
        "stratum": stratum,
        "E_nu_GeV": merged["E_nu"],
        "flavor": flavor,
        "channel": np.array([channels[c].label for c in range(len(channels))])[chan_idx],
        "target_pdg": target_pdg,
        "Q2_GeV2": merged["Q2"],
        "helicity": merged["h"],
        "production_volume": vol_names[vol_prod],
        "production_subsystem": vol_sub[vol_prod],
        "production_material": vol_mat[vol_prod],
        "production_vertex_m": x_prod,
        "cos_theta_N": merged["cos_theta_N"],
        "decay_vertex_m": merged["x_dec"],
        "fiducial_volume": np.array(names)[fv_idx],
        "decay_length_m": merged["lam"],
        "decay_integral_cm3": merged["J"],
        **decay_columns,
    }
    return {"columns": columns, "segments": seg, "g": merged["g"], "flux": flux}


def _append_batch(a: dict, b: dict) -> dict:
    """Events of batch ``a`` followed by those of ``b``."""
    sa, sb = a["segments"], b["segments"]
    seg = Segments(
        np.concatenate([sa.offsets, sb.offsets[1:] + sa.offsets[-1]]),
        np.concatenate([sa.a_m, sb.a_m]),
        np.concatenate([sa.b_m, sb.b_m]),
        np.concatenate([sa.n_cm3, sb.n_cm3]),
        np.concatenate([sa.volume, sb.volume]),
    )
    cols = {k: np.concatenate([a["columns"][k], b["columns"][k]]) for k in a["columns"]}
    return {
        "columns": cols,
        "segments": seg,
        "g": np.concatenate([a["g"], b["g"]]),
        "flux": np.concatenate([a["flux"], b["flux"]]),
    }


def _make_sample(batch, n_strata, strata, channels, shapes, detector, model, comps, settings) -> EventSample:
    """The sample of a batch: weights divided by the final size of each stratum."""
    names = tuple(shapes)
    stratum = batch["columns"]["stratum"]
    n_per = np.bincount(stratum, minlength=n_strata)
    kin_w = batch["g"] / n_per[stratum]
    return EventSample(
        model=model,
        detector=detector,
        fiducial_names=names,
        flux_components=dict(comps),
        columns=batch["columns"],
        segments=batch["segments"],
        kin_weight=kin_w,
        flux_density=batch["flux"],
        settings=settings,
        strata={
            f"{channels[c].label}@{names[t]}" + (f"#φ{a}" if settings.azimuth_sectors > 1 else ""): int(k)
            for (c, t, a), k in zip(strata, n_per)
        },
        fiducial_shapes=dict(shapes),
    )


#: Neutrino flavour of a flux component → the coupling (d_α) that upscatters it.
_NU_TO_COUPLING = {"nue": "e", "nuebar": "e", "numu": "mu", "numubar": "mu", "nutau": "tau", "nutaubar": "tau"}


def _coupling_share(model: HNLModel, comp: FluxComponent) -> float:
    """d_α²/Σ d² for the flavour α of a flux component (1 for a single coupling; the cross
    sections are computed at the total coupling).  Components of unknown flavour count as ν_μ."""
    a = _NU_TO_COUPLING.get(comp.flavor, "mu")
    return model.flavor_fraction(a)


def _fiducial_shapes(detector: Detector, fiducial) -> dict[str, Shape]:
    """Name → shape of the fiducial volumes to fill (see :func:`generate`)."""
    if fiducial is None or (not isinstance(fiducial, Mapping) and not fiducial):
        return dict(detector.fiducial_volumes)
    if isinstance(fiducial, Mapping):
        out = dict(fiducial)
        for nm, sh in out.items():
            if not isinstance(sh, Shape):
                raise InputError(f"fiducial volume {nm!r} must be a Box, Cylinder or Sphere")
        return out
    out = {}
    for nm in fiducial:
        if nm not in detector.fiducial_volumes:
            raise InputError(
                f"unknown fiducial volume {nm!r}; {detector.name} has {', '.join(detector.fiducial_volumes)}"
            )
        out[nm] = detector.fiducial_volumes[nm]
    return out
