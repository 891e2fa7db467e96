"""HepMC3 event output (NuHepMC 1.0.0 conventions where they apply; docs/events.md).

One HepMC3 event per entry of an :class:`~dipolehnl.generate.sample.EventSample`
(event number = row of the sample, as in the Parquet output), except entries of weight 0
whose backward ray crosses no material (they have no production point and are omitted):

* primary vertex (status 1) at the HNL production point: incoming neutrino (status 4),
  target at rest (status 20, NuHepMC P.R.1), outgoing HNL (status 2) and recoiling target
  (status 1, four-momentum p_ν + p_A − p_N, so the vertex conserves four-momentum);
* HNL decay vertex (status 30, declared per NuHepMC G.R.9) at the decay point, with the
  decay products (status 1).

Units (E.R.4): GeV and mm.  Vertex positions are the generator's detector coordinates
(metres) × 1000; the time coordinate is c·t in mm, 0 at production and L E_N/|p_N| at the
decay (the HNL's flight time).  The beam is along +z.

Particle numbers: ν_e/ν_μ/ν_τ ±12/±14/±16, nuclei 100ZZZAAA0, the proton 2212, e∓ ±11,
μ∓ ±13, γ 22, and the HNL **5914** (−5914 for the Dirac antiparticle produced by ν̄).
5914 is not a PDG code: it is the code DarkNews uses for the lightest HNL ``N4``, so files
from both tools agree; it is declared as NuHepMC G.R.11 requires.  A Dirac N decays to
the neutrino of the beam's lepton number (N → ν_μ, N̄ → ν̄_μ); a Majorana N to ν or ν̄
with probability 1/2 each.

Decay modes (``decay_mode``):

``"sampled"`` (default)
    every event carries one physical decay, drawn per event with a seeded generator:
    ν e⁺e⁻ with probability BR(ee) of the model, ν μ⁺μ⁻ with Γ_μμ/Γ_total (where the
    convention counts it in the total width, ``Convention.dimuon_in_total``, above 2 m_μ;
    kinematics drawn here with the same polarized matrix element), ν γ otherwise.  Weights
    are unchanged, so the ``CV`` weights sum exactly to the expected number of HNL decays
    (all modes) in the fiducial volumes,
    ``rate_summary(sample, pot).data["decays_in_fiducial"]``.
``"ee"``
    every event is N → ν e⁺e⁻ with ``CV`` = weight × BR(ee): the ``CV`` weights sum to
    BR(ee) × decays in the fiducial volumes.

Weights (G.R.7): ``CV`` = expected events for ``NuHepMC.Exposure.POT`` protons on
target (events per POT × POT).  A second weight ``selected`` is written when the caller
passes a signal channel's per-event factor (``selected_factor``: BR × cuts × efficiency,
e.g. a signal channel's ``selection_factor(sample)``, computed by the caller: this module
knows nothing of selections).  It is nonzero only for events of the decay
mode that channel selects (``selected_decay_mode``, ``"nu_ee"`` or ``"nu_gamma"``):
``selected`` = weight × factor / BR(mode) in mode ``sampled`` (so its sum equals the
channel's selected events in expectation) and weight × factor in mode ``ee`` (exactly the
selected events that ``rate`` reports).

NuHepMC 1.0.0: followed are G.R.1-4, G.R.6-11, G.C.1 (POT exposure), G.C.3 (citations),
G.C.4 (beam histograms), G.C.5 (HNL description), G.S.1, G.S.2, E.R.1-9, E.C.1 (process
ids: 150 coherent on a nucleus, 250 elastic on a proton, 251 elastic on a neutron, the "neutral" blocks), V.R.1 and
P.R.1.  Not followed: G.R.5 (flux-averaged total cross section) - an event here is an HNL
decay in a fiducial volume, whose rate folds the flux with the cross sections on every
nucleus along the beam line (rock and detector) and the survival and decay
probabilities; there is no single target or cross section to divide by, so the
normalisation is absolute: Σ CV = expected events for the stated POT.  E.R.7 is followed
except for the elastic nucleon channels, whose target is written as a free proton 2212 or neutron 2112
(the generator treats the protons of every nucleus as free and does not record the host
nucleus).  E.C.2/E.C.3 (per-event cross sections) are not written.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from dipolehnl.constants import M_E_GEV, M_MU_GEV, M_PROTON_GEV
from dipolehnl.errors import InputError, check_positive
from dipolehnl.generate import kinematics as kin
from dipolehnl.generate.sample import EventSample
from dipolehnl.physics import decays
from dipolehnl.physics.nuclei import nucleus

#: Particle number of the HNL (DarkNews's ``N4``; not a PDG code, declared per G.R.11).
HNL_PDG = 5914
NEUTRINO_PDG = {"nue": 12, "nuebar": -12, "numu": 14, "numubar": -14, "nutau": 16, "nutaubar": -16}
PHOTON_PDG, ELECTRON_PDG, MUON_PDG, PROTON_PDG = 22, 11, 13, 2212
#: NuHepMC E.C.1 process ids: "low-energy nuclear scattering" and "quasielastic", neutral blocks.
PROCESS_IDS = {"coherent": 150, "p-el": 250, "n-el": 251}
NEUTRON_PDG = 2112
VERTEX_PRIMARY, VERTEX_HNL_DECAY = 1, 30
PARTICLE_FINAL, PARTICLE_DECAYED, PARTICLE_BEAM, PARTICLE_TARGET = 1, 2, 4, 20
DECAY_MODES = ("sampled", "ee")
NUHEPMC_VERSION = (1, 0, 0)
PAPER_ARXIV = "2412.15051"
#: G.C.4 bin contents: neutrinos per cm² per GeV per 10²¹ POT (HepMC3 writes vector
#: attributes with six decimals, so per-POT densities ~1e-12 would be lost).
FLUX_UNIT = "/cm2/GeV/1e21POT"
FLUX_SCALE = 1.0e21
_MODE_NAMES = ("nu_gamma", "nu_ee", "nu_mumu")
#: decay modes a signal channel may select (``selected_decay_mode``)
SELECTED_DECAY_MODES = ("nu_ee", "nu_gamma")


def _open_output(tmp: Path, gz: bool):
    return gzip.open(tmp, "wb") if gz else open(tmp, "wb")


def _flux_histograms(sample: EventSample) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Flux density per beam PDG code (components of one flavour summed on their union grid)."""
    by_pdg: dict[int, list] = {}
    for name, comp in sample.flux_components.items():
        pdg = NEUTRINO_PDG.get(comp.flavor)
        if pdg is None:
            raise InputError(
                f"flux component {name!r} has flavour {comp.flavor!r}; HepMC3 output needs one of "
                f"{', '.join(NEUTRINO_PDG)}"
            )
        by_pdg.setdefault(pdg, []).append(comp)
    out = {}
    for pdg, comps in by_pdg.items():
        edges = np.unique(np.concatenate([np.asarray(c.edges_GeV) for c in comps]))
        centres = 0.5 * (edges[1:] + edges[:-1])
        out[pdg] = (edges, np.sum([np.asarray(c(centres), dtype=float) for c in comps], axis=0))
    return out


def _attr_value(v: Any) -> Any:
    """A value pyhepmc stores as a typed attribute (non-scalars → JSON text)."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    if isinstance(v, str):
        return v
    return json.dumps(v, default=str)


def run_info(
    sample: EventSample,
    pot: float,
    decay_mode: str,
    seed: int,
    coupling: float | None = None,
    metadata: Mapping[str, Any] | None = None,
    weight_names: Sequence[str] = ("CV", "selected"),
):
    """The run information of :func:`write_events_hepmc3` (all run attributes).

    Parameters
    ----------
    sample : EventSample
        The event sample written.
    pot : float
        Protons on target of the ``CV`` weights.
    decay_mode : {"sampled", "ee"}
        Decay mode of the file.
    seed : int
        Seed of the decay-mode draws.
    coupling : float, optional
        Coupling d (GeV⁻¹) the weights are reweighted to.
    metadata : mapping, optional
        Extra attributes, stored as ``dipolehnl.Metadata.<key>``.
    weight_names : sequence of str
        Names of the event weights.

    Returns
    -------
    pyhepmc.GenRunInfo
        Tools, weight names and attributes.
    """
    import pyhepmc

    from dipolehnl import __version__

    model = sample.model if coupling is None else sample.model.with_coupling(coupling)
    ri = pyhepmc.GenRunInfo()
    ri.tools = [
        (
            "dipolehnl",
            __version__,
            f"dipole-portal HNL upscattering and decay in fiducial volumes (arXiv:{PAPER_ARXIV})",
        )
    ]
    ri.weight_names = list(weight_names)
    a: dict[str, Any] = {}
    a["NuHepMC.Version.Major"], a["NuHepMC.Version.Minor"], a["NuHepMC.Version.Patch"] = NUHEPMC_VERSION
    a["NuHepMC.Conventions"] = ["G.C.1", "G.C.3", "G.C.4", "G.C.5", "G.S.1", "G.S.2", "E.C.1"]
    a["NuHepMC.Units.CrossSection.Unit"] = "pb"
    a["NuHepMC.Units.CrossSection.TargetScale"] = "PerAtom"
    # G.R.8 processes
    a["NuHepMC.ProcessIDs"] = list(PROCESS_IDS.values())
    a["NuHepMC.ProcessInfo[150].Name"] = "nuA_coherent_dipole"
    a["NuHepMC.ProcessInfo[150].Description"] = (
        f"nu A -> N A, coherent on the nucleus through the transition magnetic moment (photon exchange, nuclear "
        f"form factor); arXiv:{PAPER_ARXIV}"
    )
    a["NuHepMC.ProcessInfo[250].Name"] = "nup_elastic_dipole"
    a["NuHepMC.ProcessInfo[250].Description"] = (
        f"nu p -> N p, elastic on a proton (Dirac and Pauli form factors) through the transition magnetic moment; "
        f"arXiv:{PAPER_ARXIV}"
    )
    a["NuHepMC.ProcessInfo[251].Name"] = "nun_elastic_dipole"
    a["NuHepMC.ProcessInfo[251].Description"] = (
        f"nu n -> N n, elastic on a neutron (magnetic moment, Galster electric form factor) through the transition "
        f"magnetic moment; arXiv:{PAPER_ARXIV}"
    )
    # G.R.9 / G.R.10 status codes (complete lists, G.S.2)
    a["NuHepMC.VertexStatusIDs"] = [VERTEX_PRIMARY, VERTEX_HNL_DECAY]
    a[f"NuHepMC.VertexStatusInfo[{VERTEX_PRIMARY}].Name"] = "PrimaryVertex"
    a[f"NuHepMC.VertexStatusInfo[{VERTEX_PRIMARY}].Description"] = "HNL production (upscattering) point"
    a[f"NuHepMC.VertexStatusInfo[{VERTEX_HNL_DECAY}].Name"] = "HNLDecay"
    a[f"NuHepMC.VertexStatusInfo[{VERTEX_HNL_DECAY}].Description"] = "HNL decay point (inside a fiducial volume)"
    a["NuHepMC.ParticleStatusIDs"] = [PARTICLE_FINAL, PARTICLE_DECAYED, PARTICLE_BEAM, PARTICLE_TARGET]
    for code, name, desc in (
        (PARTICLE_FINAL, "UndecayedPhysical", "outgoing particle"),
        (PARTICLE_DECAYED, "DecayedPhysical", "the HNL, decayed at the decay vertex"),
        (PARTICLE_BEAM, "IncomingBeam", "the incoming neutrino"),
        (PARTICLE_TARGET, "Target", "the target nucleus (or proton) at rest"),
    ):
        a[f"NuHepMC.ParticleStatusInfo[{code}].Name"] = name
        a[f"NuHepMC.ParticleStatusInfo[{code}].Description"] = desc
    # G.R.11 / G.C.5 the HNL
    a["NuHepMC.AdditionalParticleNumbers"] = [HNL_PDG]
    a[f"NuHepMC.AdditionalParticleNumber[{HNL_PDG}].Name"] = "HNL"
    a[f"NuHepMC.AdditionalParticleInfo[{HNL_PDG}].Description"] = (
        f"heavy neutral lepton N coupled to nu_{'/nu_'.join(model.coupling_flavors)} by a transition magnetic "
        f"moment ({'Majorana' if model.majorana else 'Dirac'}; -{HNL_PDG} is the Dirac antiparticle); "
        "code as DarkNews N4"
    )
    width = decays.gamma_total(model)
    for key, val in (
        ("Mass_GeV", model.mass_GeV),
        ("Width_GeV", width),
        ("Spin", 0.5),
        ("Charge", 0.0),
        ("ctau_m", decays.ctau_m(model)),
    ):
        a[f"NuHepMC.AdditionalParticleNumber[{HNL_PDG}].dipolehnl.{key}"] = float(val)
    # G.C.1 exposure; G.C.3 citations
    a["NuHepMC.Exposure.POT"] = float(pot)
    a["NuHepMC.Citations.Generator.arXiv"] = [PAPER_ARXIV]
    # G.C.4 beam histograms
    a["NuHepMC.Beam.EnergyUnit"] = "GEV"
    a["NuHepMC.Beam.FluxUnit"] = FLUX_UNIT
    for pdg, (edges, dens) in _flux_histograms(sample).items():
        a[f"NuHepMC.Beam[{pdg}].Type"] = "Histogram"
        a[f"NuHepMC.Beam[{pdg}].Histogram.BinEdges"] = [float(x) for x in edges]
        a[f"NuHepMC.Beam[{pdg}].Histogram.BinContent"] = [float(x) * FLUX_SCALE for x in dens]
        a[f"NuHepMC.Beam[{pdg}].Histogram.ContentIsPerWidth"] = True
    # G.S.1 provenance
    st = sample.settings
    a["NuHepMC.Provenance.NEvents"] = int(sample.n)
    a["NuHepMC.Provenance.RNGState"] = f"numpy default_rng seed {st.seed} (generation); [{seed}, 1] (decay modes)"
    a["NuHepMC.Provenance.Settings"] = json.dumps(
        {
            "n_events": st.n_events,
            "seed": st.seed,
            "n_q2_bins": st.n_q2_bins,
            "pilot_fraction": st.pilot_fraction,
            "min_share": st.min_share,
            "detector": sample.detector.name,
            "fiducial_volumes": list(sample.fiducial_names),
            "flux_components": list(sample.component_names),
            "strata": sample.strata,
            "convention": asdict(model.convention),
        }
    )
    # dipolehnl: model, weights, selection
    br_mumu = _br_mumu(model)
    a.update(
        {
            "dipolehnl.Version": __version__,
            "dipolehnl.Model.Mass_GeV": float(model.mass_GeV),
            "dipolehnl.Model.Coupling_GeVinv": float(model.d_GeVinv or 0.0),  # always set after __post_init__
            "dipolehnl.Model.Couplings_GeVinv": json.dumps(model.couplings_GeVinv),
            "dipolehnl.Model.Majorana": bool(model.majorana),
            "dipolehnl.Model.Convention": model.convention.name,
            "dipolehnl.Model.CouplingDefinition": (
                "L = sum_a d_a nubar_a sigma_{mu nu} F^{mu nu} N + h.c. (DarkNews mu_tr_a4 = 2 d_a)"
            ),
            "dipolehnl.BR_ee": float(decays.br_ee(model)),
            "dipolehnl.BR_mumu": float(br_mumu),
            "dipolehnl.DecayMode": decay_mode,
            "dipolehnl.DecayModeSeed": int(seed),
            "dipolehnl.Seed": int(st.seed),
            "dipolehnl.POT": float(pot),
            "dipolehnl.Detector": sample.detector.name,
            "dipolehnl.FiducialVolumes": list(sample.fiducial_names),
            "dipolehnl.Weight.CV": (
                "expected HNL decays in the fiducial volumes for NuHepMC.Exposure.POT protons on target"
                + (" (all decay modes)" if decay_mode == "sampled" else " x BR(ee)")
            ),
            "dipolehnl.Units": "GeV, mm; vertex time = c t in mm from the HNL production; beam along +z",
        }
    )
    if "selected" in weight_names:
        a["dipolehnl.Weight.selected"] = (
            "expected selected events of the caller's signal channel (weight x channel "
            "factor, / BR of the mode when decays are sampled) for events of the "
            "selected decay mode, 0 otherwise"
        )
    for k, v in (metadata or {}).items():
        a[f"dipolehnl.Metadata.{k}"] = _attr_value(v)
    for k, v in a.items():
        ri.attributes[k] = v
    return ri


def _br_mumu(model) -> float:
    """Γ(N → ν μ⁺μ⁻)/Γ_total where the model's total width includes it
    (``Convention.dimuon_in_total``), else 0."""
    if not model.convention.dimuon_in_total or model.mass_GeV <= 2 * M_MU_GEV:
        return 0.0
    return decays.gamma_nu_ll(model, M_MU_GEV) / decays.gamma_total(model)


def _target_mass_GeV(pdg: int) -> float:
    if pdg == PROTON_PDG:
        return M_PROTON_GEV
    if pdg == NEUTRON_PDG:
        from dipolehnl.physics.form_factors import M_NEUTRON_GEV

        return M_NEUTRON_GEV
    return nucleus(pdg).mass_GeV


def write_events_hepmc3(
    sample: EventSample,
    path: str | Path,
    pot: float = 1.0,
    metadata: Mapping[str, Any] | None = None,
    *,
    decay_mode: str = "sampled",
    seed: int | None = None,
    coupling: float | None = None,
    selected_factor: np.ndarray | None = None,
    selected_decay_mode: str = "nu_ee",
) -> dict:
    """Write one HepMC3 event per sample entry to ``path`` (gzip if it ends in ``.gz``), atomically.

    Parameters
    ----------
    sample : EventSample
        Weighted HNL decays from :func:`dipolehnl.simulate`.
    path : str or Path
        Output file (HepMC3 ASCII; ``.gz`` compresses).
    pot : float
        Protons on target: ``CV`` weights are expected events for this exposure.
    metadata : mapping, optional
        Extra run-info attributes, stored as ``dipolehnl.Metadata.<key>``.
    decay_mode : {"sampled", "ee"}
        One decay drawn per event with the branching ratios, or N → ν e⁺e⁻ for every event
        with the weight × BR(ee) (module docstring).
    seed : int, optional
        Seed of the decay-mode and Majorana ν/ν̄ draws (default: the sample's seed).
    coupling : float, optional
        Reweight exactly to this coupling d (GeV⁻¹) at the same mass.
    selected_factor : array of shape (n,), optional
        Per-event factor of a signal channel (BR × cuts × efficiency, in [0, 1]), e.g.
        ``channel.selection_factor(sample)``; adds the event weight ``selected``.
    selected_decay_mode : {"nu_ee", "nu_gamma"}
        The decay mode that channel selects.

    Returns
    -------
    dict
        ``n_events``, ``sum_cv``, ``sum_selected`` (0 without ``selected_factor``) and
        events per decay mode.

    Raises
    ------
    InputError
        For a non-positive POT, an unknown decay mode or flux flavour, or a
        ``selected_factor`` of the wrong shape or outside [0, 1].
    """
    import pyhepmc

    from dipolehnl.io import atomic_path

    pot = check_positive("POT", pot)
    if decay_mode not in DECAY_MODES:
        raise InputError(f"unknown decay mode {decay_mode!r}; choose one of {', '.join(DECAY_MODES)}")
    seed = int(sample.settings.seed if seed is None else seed)
    model = sample.model if coupling is None else sample.model.with_coupling(check_positive("coupling", coupling))
    c = sample.columns
    n = sample.n
    m = model.mass_GeV
    if selected_decay_mode not in SELECTED_DECAY_MODES:
        raise InputError(
            f"unknown selected decay mode {selected_decay_mode!r}; choose one of {', '.join(SELECTED_DECAY_MODES)}"
        )
    if selected_factor is not None:
        selected_factor = np.asarray(selected_factor, dtype=float)
        if selected_factor.shape != (n,) or not np.all((selected_factor >= 0) & (selected_factor <= 1)):
            raise InputError(f"selected_factor must be {n} values in [0, 1] (one per event)")
    rng = np.random.default_rng([seed, 1])

    w = sample.weights(coupling) * pot
    br_ee, br_mumu = float(decays.br_ee(model)), _br_mumu(model)
    br_mode = {1: br_ee, 0: 1.0 - br_ee - br_mumu}
    sel_mode = _MODE_NAMES.index(selected_decay_mode)
    if decay_mode == "ee":
        mode = np.ones(n, dtype=np.int64)
        cv = w * br_ee
        sel_scale = 1.0 if sel_mode == 1 else 0.0
    else:
        u = rng.uniform(0.0, 1.0, n)
        mode = np.where(u < br_ee, 1, np.where(u < br_ee + br_mumu, 2, 0)).astype(np.int64)
        cv = w
        sel_scale = 1.0 / br_mode[sel_mode] if br_mode[sel_mode] > 0 else 0.0
    if selected_factor is None:
        selected = np.zeros(n)
    else:
        selected = np.where(mode == sel_mode, w * selected_factor * sel_scale, 0.0)

    p_N = np.asarray(c["p_N"], dtype=float)
    pabs = np.linalg.norm(p_N[:, 1:], axis=1)
    # decay products per mode: list of (pdg sign rule, four-momenta)
    prod_gamma = (c["p_gamma"], c["p_nu_gamma_mode"])
    prod_ee = (c["p_eminus"], c["p_eplus"], c["p_nu_ee_mode"])
    mumu = np.nonzero(mode == 2)[0]
    p_mum = np.zeros((n, 4))
    p_mup = np.zeros((n, 4))
    p_numu = np.zeros((n, 4))
    if mumu.size:
        h = np.zeros(mumu.size) if model.majorana else np.asarray(c["helicity"], dtype=float)[mumu]
        h_pair = model.convention.pair_polarisation_sign * h  # as the generator's e+e- decays
        r_m, r_p, r_nu = kin.decay_nu_ee(rng, m, h_pair, kin.DileptonMassSampler(m, M_MU_GEV), me=M_MU_GEV)
        udir = p_N[mumu, 1:] / pabs[mumu, None]
        gam = p_N[mumu, 0] / m
        p_mum[mumu], p_mup[mumu], p_numu[mumu] = (kin.to_lab(r, udir, gam) for r in (r_m, r_p, r_nu))
    nu_pdg = np.array([NEUTRINO_PDG.get(f, 0) for f in c["flavor"]], dtype=np.int64)
    if np.any(nu_pdg == 0):
        raise InputError(
            f"unknown neutrino flavour in the sample; HepMC3 output needs one of {', '.join(NEUTRINO_PDG)}"
        )
    lepton_sign = np.sign(nu_pdg)
    if model.majorana:
        hnl_pdg = np.full(n, HNL_PDG)
        decay_nu = np.abs(nu_pdg) * np.where(rng.uniform(0.0, 1.0, n) < 0.5, 1, -1)
    else:
        hnl_pdg = HNL_PDG * lepton_sign
        decay_nu = nu_pdg
    target = np.asarray(c["target_pdg"], dtype=np.int64)
    masses = {int(t): _target_mass_GeV(int(t)) for t in np.unique(target)}
    M = np.array([masses[int(t)] for t in target])
    E_nu = np.asarray(c["E_nu_GeV"], dtype=float)
    p_nu_in = np.stack([E_nu, np.zeros(n), np.zeros(n), E_nu], axis=1)
    p_target = np.stack([M, np.zeros(n), np.zeros(n), np.zeros(n)], axis=1)
    p_recoil = p_nu_in + p_target - p_N
    proc = np.array([PROCESS_IDS[str(ch).rsplit(":", 1)[-1]] for ch in c["channel"]], dtype=np.int64)
    x_prod = np.asarray(c["production_vertex_m"], dtype=float) * 1000.0
    x_dec = np.asarray(c["decay_vertex_m"], dtype=float) * 1000.0
    with np.errstate(invalid="ignore"):
        ct_dec = np.linalg.norm(x_dec - x_prod, axis=1) * p_N[:, 0] / pabs
    fiducial, prod_vol, q2 = c["fiducial_volume"], c["production_volume"], c["Q2_GeV2"]

    weight_names = ("CV",) if selected_factor is None else ("CV", "selected")
    ri = run_info(sample, pot, decay_mode, seed, coupling, metadata, weight_names)
    order = [1, 2, 3, 0]  # (E, px, py, pz) → HepMC (px, py, pz, E)

    def particle(p4, pdg, status, mass):
        part = pyhepmc.GenParticle(tuple(p4[order]), int(pdg), status)
        part.generated_mass = mass
        return part

    # entries with no material on the backward ray (J = 0) have weight 0 and no production point
    keep = np.all(np.isfinite(x_prod), axis=1)
    if np.any(cv[~keep] != 0):  # pragma: no cover - J = 0 implies weight 0
        raise RuntimeError("an entry without production point has a non-zero weight")
    gz = str(path).endswith(".gz")
    with atomic_path(path) as tmp, _open_output(tmp, gz) as fh, pyhepmc.open(fh, "w") as out:
        for i in np.nonzero(keep)[0]:
            evt = pyhepmc.GenEvent(pyhepmc.Units.GEV, pyhepmc.Units.MM)
            evt.run_info = ri
            evt.event_number = int(i)  # row of the sample (and of the Parquet output)
            v1 = pyhepmc.GenVertex((x_prod[i, 0], x_prod[i, 1], x_prod[i, 2], 0.0))
            v1.status = VERTEX_PRIMARY
            v2 = pyhepmc.GenVertex((x_dec[i, 0], x_dec[i, 1], x_dec[i, 2], ct_dec[i]))
            v2.status = VERTEX_HNL_DECAY
            v1.add_particle_in(particle(p_nu_in[i], nu_pdg[i], PARTICLE_BEAM, 0.0))
            v1.add_particle_in(particle(p_target[i], target[i], PARTICLE_TARGET, M[i]))
            hnl = particle(p_N[i], hnl_pdg[i], PARTICLE_DECAYED, m)
            v1.add_particle_out(hnl)
            v1.add_particle_out(particle(p_recoil[i], target[i], PARTICLE_FINAL, M[i]))
            v2.add_particle_in(hnl)
            k = mode[i]
            if k == 0:
                v2.add_particle_out(particle(prod_gamma[0][i], PHOTON_PDG, PARTICLE_FINAL, 0.0))
                v2.add_particle_out(particle(prod_gamma[1][i], decay_nu[i], PARTICLE_FINAL, 0.0))
            elif k == 1:
                v2.add_particle_out(particle(prod_ee[0][i], ELECTRON_PDG, PARTICLE_FINAL, M_E_GEV))
                v2.add_particle_out(particle(prod_ee[1][i], -ELECTRON_PDG, PARTICLE_FINAL, M_E_GEV))
                v2.add_particle_out(particle(prod_ee[2][i], decay_nu[i], PARTICLE_FINAL, 0.0))
            else:
                v2.add_particle_out(particle(p_mum[i], MUON_PDG, PARTICLE_FINAL, M_MU_GEV))
                v2.add_particle_out(particle(p_mup[i], -MUON_PDG, PARTICLE_FINAL, M_MU_GEV))
                v2.add_particle_out(particle(p_numu[i], decay_nu[i], PARTICLE_FINAL, 0.0))
            evt.add_vertex(v1)
            evt.add_vertex(v2)
            evt.weights = [float(cv[i])] if selected_factor is None else [float(cv[i]), float(selected[i])]
            at = evt.attributes
            at["signal_process_id"] = int(proc[i])
            at["lab_pos"] = [float(x_prod[i, 0]), float(x_prod[i, 1]), float(x_prod[i, 2])]
            at["dipolehnl.decay_mode"] = _MODE_NAMES[k]
            at["dipolehnl.fiducial_volume"] = str(fiducial[i])
            at["dipolehnl.production_volume"] = str(prod_vol[i]) or "none"
            at["dipolehnl.Q2_GeV2"] = float(q2[i])
            out.write(evt)
    counts = np.bincount(mode[keep], minlength=3)
    return {
        "n_events": int(keep.sum()),
        "n_skipped_zero_weight": int(n - keep.sum()),
        "sum_cv": float(cv[keep].sum()),
        "sum_selected": float(selected[keep].sum()),
        **{f"n_{name}": int(counts[j]) for j, name in enumerate(_MODE_NAMES)},
    }
