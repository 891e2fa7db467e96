"""The per-mass worker of a scan: simulate one mass once per experiment and evaluate every
coupling for every analysis (expected signal, flux band, MC error, decay lengths, production
shares)."""
from __future__ import annotations

import time

import numpy as np

from dipolehnl.analysis.contours import MassResult
from dipolehnl.analysis.scan_settings import (REFINE_TARGET, REFINE_WINDOW, SHARE_STRIDE, MassTask,
                                              _analysis_from_json)
from dipolehnl.errors import InputError
from dipolehnl.generate.stratified import stratified_variance

_DETECTORS: dict = {}


def _detector(experiment, densities: dict, preset=None):
    """The experiment's detector with the preset's material densities and beamline earth, and
    the preset's beamline (or None) (cached per process)."""
    from dipolehnl.beam.beamline import for_preset

    bl_key = None if preset is None or preset.beamline is None else tuple(sorted(preset.beamline.items()))
    key = (experiment.source, tuple(sorted(densities.items())), bl_key)
    if key not in _DETECTORS:
        det, bl = for_preset(preset, experiment) if preset is not None else (experiment.detector, None)
        _DETECTORS[key] = (det.with_material_densities(densities) if densities else det, bl)
    return _DETECTORS[key]


def run_mass(task: MassTask) -> tuple[MassResult, ...]:
    """Simulate one mass once per detector and evaluate every coupling for every analysis."""
    from dipolehnl.analysis.summary import weighted_median_columns
    from dipolehnl.experiment import load_experiment
    from dipolehnl.generate.sampling import GeneratorSettings, generate
    from dipolehnl.physics.model import HNLModel

    t0 = time.perf_counter()
    analyses = [_analysis_from_json(doc) for doc in task.analysis_docs]
    preset, st = task.preset, task.settings
    couplings = np.asarray(st.couplings_GeVinv, dtype=float)
    K = couplings.size
    d_gen = float(np.sqrt(couplings[0] * couplings[-1]))
    model = HNLModel.for_flavor(task.mass_GeV, d_gen, st.coupling_flavor, majorana=st.majorana,
                                convention=preset.convention)
    sel_cfg = analyses[0].selection
    for a in analyses[1:]:
        if a.selection.key() != sel_cfg.key():
            raise InputError("analyses scanned together must share their selection")
    channel = sel_cfg.make_channel(preset.br_ee)
    share_idx = np.unique(np.r_[np.arange(0, K, SHARE_STRIDE), K - 1])
    acc = [_Accumulator(len(a.datasets), K, share_idx.size) for a in analyses]
    n_events = 0
    experiments = dict.fromkeys(ds.experiment for a in analyses for ds in a.datasets)
    for exp_key in experiments:
        exp = load_experiment(exp_key)
        groups = [[(i, ds) for i, ds in enumerate(a.datasets) if ds.experiment == exp_key] for a in analyses]
        flavors = {m: preset.flavors_for(exp.fluxes[m], (st.coupling_flavor,)) for m in exp.modes}
        comps = {}
        for grp in groups:
            for _, ds in grp:
                for f in flavors[ds.mode]:
                    comps[f"{ds.mode}:{f}"] = exp.flux(ds.mode, f)
        if not comps:
            raise InputError(f"experiment {exp.name!r} has no flux of the flavour coupled by d_{st.coupling_flavor}")
        fvs = exp.shapes(dict.fromkeys(t for grp in groups for _, ds in grp for t in ds.fiducial_volumes))
        det, beamline = _detector(exp, preset.material_densities_g_cm3, preset)

        def dataset_vectors(smp, grp):
            """Per-event selected events (for each data set's POT) per unit coupling factor."""
            base = channel.selection_factor(smp) * smp.kin_weight
            out = []
            for i, ds in grp:
                names_ = [f"{ds.mode}:{f}" for f in flavors[ds.mode]]
                in_fv = np.isin(smp.columns["fiducial_volume"], ds.fiducial_volumes)
                out.append((i, base * smp.flux_factor(names_) * in_fv * ds.pot))
            return out

        last: dict = {}

        def refine(smp):
            """Contributions at couplings where an analysis's signal from this detector is within
            REFINE_WINDOW with an MC error above the target, and the size factor needed."""
            Rm = smp.coupling_matrix(couplings)
            last["sample"], last["R"] = smp, Rm
            cols, worst = [], 0.0
            for grp in groups[:1]:  # the first analysis of a group drives the refinement
                if not grp:
                    continue
                Wm = sum(v for _, v in dataset_vectors(smp, grp))[:, None] * Rm
                S = Wm.sum(axis=0)
                err = np.sqrt(np.maximum(stratified_variance(Wm, smp.columns["stratum"]), 0.0))
                bad = (S > REFINE_WINDOW[0]) & (S < REFINE_WINDOW[1]) & (err > REFINE_TARGET * S)
                if bad.any():
                    cols.append(Wm[:, bad])
                    worst = max(worst, float(np.max(err[bad] / S[bad])))
            if not cols:
                return None
            return np.concatenate(cols, axis=1), (worst / REFINE_TARGET) ** 2 - 1.0

        gen = GeneratorSettings(n_events=st.n_events, seed=st.mass_seed(task.mass_GeV), nuclear=preset.nuclear,
                                beamline=beamline)
        sample = generate(det, model, comps, gen,
                          fiducial=fvs, allocation_couplings=couplings, refine=refine if st.refine else None)
        n_events += sample.n
        R = last["R"] if last.get("sample") is sample else sample.coupling_matrix(couplings)  # (n, K)
        ferr = np.asarray(exp.flux_fractional_error(sample.columns["E_nu_GeV"]), dtype=float)
        names, frac = sample.production_fractions_at(couplings[share_idx])
        for grp, ac in zip(groups, acc):
            if not grp:
                continue
            v_tot = np.zeros(sample.n)
            for i, v in dataset_vectors(sample, grp):
                ac.signal[i] = v @ R
                ac.sig_lo[i] = (v * (1 - ferr)) @ R
                ac.sig_hi[i] = (v * (1 + ferr)) @ R
                v_tot += v
            W = v_tot[:, None] * R
            ac.var += stratified_variance(W, sample.columns["stratum"])
            ac.lam.append(sample.columns["decay_length_m"])
            ac.w.append(W)
            for j, nm in enumerate(names):
                ac.shares.setdefault(nm, np.zeros(share_idx.size))
                ac.shares[nm] += np.einsum("n,nk,nk->k", v_tot, R[:, share_idx], frac[:, :, j])
    wall = time.perf_counter() - t0
    return tuple(ac.result(task.mass_GeV, couplings, d_gen, share_idx, n_events, wall, weighted_median_columns) for ac in acc)


class _Accumulator:
    """Per-analysis sums over detectors at one mass."""

    def __init__(self, nds: int, K: int, n_share: int) -> None:
        self.signal = np.zeros((nds, K))
        self.sig_lo = np.zeros((nds, K))
        self.sig_hi = np.zeros((nds, K))
        self.var = np.zeros(K)
        self.lam: list[np.ndarray] = []
        self.w: list[np.ndarray] = []
        self.shares: dict[str, np.ndarray] = {}

    def result(self, mass, couplings, d_gen, share_idx, n_events, wall, median_fn) -> MassResult:
        lam0 = np.concatenate(self.lam)
        med = median_fn(lam0, np.concatenate(self.w)) * (d_gen / couplings) ** 2
        names = tuple(sorted(self.shares))
        shares = np.stack([self.shares[n] for n in names], axis=1)
        tot = shares.sum(axis=1, keepdims=True)
        shares = np.divide(shares, tot, out=np.zeros_like(shares), where=tot > 0)
        return MassResult(mass, self.signal, self.sig_lo, self.sig_hi, np.sqrt(self.var), med, couplings[share_idx],
                          names, shares, n_events, wall)
