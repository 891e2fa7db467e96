"""The per-mass worker of a scan: simulate one mass once per experiment and evaluate every
coupling for every analysis (expected signal, flux band, MC error, decay lengths, production
shares).

Cost control (issue 12): the exact decay integrals are evaluated only for events that pass
some analysis's selection (the others weigh 0), and only at the couplings where it matters
(``scan_settings.COARSE_STRIDE``/``EXACT_STRIDE``/``EXACT_WINDOW``: every second coupling
near 0.1–1000 expected events, which contains every contour and the 1–100-event refinement
window, and a coarse pass elsewhere); the other couplings are interpolated in ln(value)
against the coupling (``_fill``).  Columns already computed for
the earlier events of a sample are kept when the refinement appends events.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np

from dipolehnl.analysis.contours import MassResult
from dipolehnl.analysis.scan_settings import (
    AZIMUTH_SECTORS,
    COARSE_STRIDE,
    EXACT_STRIDE,
    EXACT_WINDOW,
    REFINE_AIM,
    REFINE_TARGET,
    REFINE_WINDOW,
    SHARE_STRIDE,
    SHARE_WINDOW,
    MassTask,
    _analysis_from_json,
)
from dipolehnl.errors import InputError
from dipolehnl.generate._timing import stage
from dipolehnl.generate.stratified import stratified_variance

_DETECTORS: dict = {}


def _detector(experiment, densities: Mapping[str, float], preset=None):
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
    with stage("other"):  # set-up, energy proposals, selections (time not in a nested stage)
        return _run_mass(task)


def _run_mass(task: MassTask) -> tuple[MassResult, ...]:
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
    model = HNLModel.for_flavor(
        task.mass_GeV, d_gen, st.coupling_flavor, majorana=st.majorana, convention=preset.convention
    )
    sel_cfg = analyses[0].selection
    for a in analyses[1:]:
        if a.selection.key() != sel_cfg.key():
            raise InputError("analyses scanned together must share their selection")
    channel = sel_cfg.make_channel(preset.br_ee)
    share_idx = np.unique(np.r_[np.arange(0, K, SHARE_STRIDE), K - 1])
    coarse = np.unique(np.r_[np.arange(0, K, COARSE_STRIDE), K - 1, share_idx])
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

        # the closures below are used within this pass of the loop only; their loop variables are
        # bound as default arguments so that they cannot see a later pass's values
        def dataset_vectors(smp, grp, flavors=flavors):
            """Per-event selected events (for each data set's POT) per unit coupling factor."""
            base = channel.selection_factor(smp) * smp.kin_weight
            out = []
            for i, ds in grp:
                names_ = [f"{ds.mode}:{f}" for f in flavors[ds.mode]]
                in_fv = np.isin(smp.columns["fiducial_volume"], ds.fiducial_volumes)
                out.append((i, base * smp.flux_factor(names_) * in_fv * ds.pot))
            return out

        cols = _Columns(couplings)

        def evaluate(smp, groups=groups, cols=cols, dataset_vectors=dataset_vectors):
            """Bind the sample; per analysis the data-set vectors and their sum over the selected
            events (None for an analysis without data sets here); the exactly evaluated couplings."""
            vecs = [dataset_vectors(smp, grp) for grp in groups]
            sel = np.zeros(smp.n, dtype=bool)
            for vs in vecs:
                for _, v in vs:
                    sel |= v != 0
            cols.bind(smp, np.flatnonzero(sel))
            tots = [sum(v for _, v in vs)[cols.rows] if vs else None for vs in vecs]
            Rc = cols.matrix(coarse)
            S = np.zeros(coarse.size)
            for tot in tots:
                if tot is not None:
                    S = np.maximum(S, tot @ Rc)
            return vecs, tots, _exact_columns(S, coarse, K)

        def refine(smp, cols=cols, evaluate=evaluate):
            """Contributions at couplings where an analysis's signal from this detector is within
            REFINE_WINDOW with an MC error above the target, and the size factor needed."""
            _, tots, ks = evaluate(smp)
            Rm = cols.matrix(ks)
            counts = np.bincount(smp.columns["stratum"])
            stratum = smp.columns["stratum"][cols.rows]
            out, worst = [], 0.0
            for tot in tots:  # every analysis with data sets on this detector
                if tot is None:
                    continue
                Wm = tot[:, None] * Rm
                S = Wm.sum(axis=0)
                err = np.sqrt(np.maximum(stratified_variance(Wm, stratum, counts), 0.0))
                bad = (S > REFINE_WINDOW[0]) & (S < REFINE_WINDOW[1]) & (err > REFINE_TARGET * S)
                if bad.any():
                    full = np.zeros((smp.n, int(bad.sum())))
                    full[cols.rows] = Wm[:, bad]
                    out.append(full)
                    worst = max(worst, float(np.max(err[bad] / S[bad])))
            if not out:
                return None
            return np.concatenate(out, axis=1), (worst / (REFINE_AIM * REFINE_TARGET)) ** 2 - 1.0

        gen = GeneratorSettings(
            n_events=st.n_events,
            seed=st.mass_seed(task.mass_GeV),
            nuclear=preset.nuclear,
            beamline=beamline,
            cos_theta_min=max(channel.min_cos_theta_N, -1.0),  # HNLs the selection rejects are not traced
            # φ sectors with the beamline's flux, where the refinement can fill the 4× more strata
            azimuth_sectors=AZIMUTH_SECTORS if beamline is not None and st.refine else 1,
        )
        sample = generate(
            det, model, comps, gen, fiducial=fvs, allocation_couplings=couplings, refine=refine if st.refine else None
        )
        n_events += sample.n
        vecs, tots, ks = evaluate(sample)
        rows = cols.rows
        R = cols.matrix(ks)  # (selected events, exact couplings)
        counts = np.bincount(sample.columns["stratum"])
        stratum = sample.columns["stratum"][rows]
        ferr = np.asarray(exp.flux_fractional_error(sample.columns["E_nu_GeV"][rows]), dtype=float)
        pos = np.searchsorted(ks, share_idx)
        # production shares where this detector's signal could sit at a lower edge (the outputs
        # use the share coupling nearest to each edge); elsewhere they stay 0
        s_share = np.zeros(share_idx.size)
        for tot in tots:
            if tot is not None:
                s_share = np.maximum(s_share, tot @ R[:, pos])
        need = (s_share >= SHARE_WINDOW[0]) & (s_share <= SHARE_WINDOW[1])
        with stage("decay integrals"):  # (events, share couplings, subsystems)
            names, part = sample.subsystem_coupling_matrix(couplings[share_idx[need]], rows)
        parts = np.zeros((rows.size, share_idx.size, len(names)))
        parts[:, need] = part
        with stage("statistics"):
            for vs, v_tot, ac in zip(vecs, tots, acc):
                if v_tot is None:
                    continue
                for i, v in vs:
                    v = v[rows]
                    ac.signal[i] += _fill(v @ R, ks, K)
                    ac.sig_lo[i] += _fill((v * (1 - ferr)) @ R, ks, K)
                    ac.sig_hi[i] += _fill((v * (1 + ferr)) @ R, ks, K)
                W = v_tot[:, None] * R
                ac.var += _fill(stratified_variance(W, stratum, counts), ks, K)
                ac.lam.append(sample.columns["decay_length_m"][rows])
                ac.w.append((ks, W))
                for j, nm in enumerate(names):
                    ac.shares.setdefault(nm, np.zeros(share_idx.size))
                    ac.shares[nm] += v_tot @ parts[:, :, j]
    wall = time.perf_counter() - t0
    with stage("statistics"):
        return tuple(
            ac.result(task.mass_GeV, couplings, d_gen, share_idx, n_events, wall, weighted_median_columns) for ac in acc
        )


class _Accumulator:
    """Per-analysis sums over detectors at one mass."""

    def __init__(self, nds: int, K: int, n_share: int) -> None:
        self.signal = np.zeros((nds, K))
        self.sig_lo = np.zeros((nds, K))
        self.sig_hi = np.zeros((nds, K))
        self.var = np.zeros(K)
        self.lam: list[np.ndarray] = []
        self.w: list[tuple[np.ndarray, np.ndarray]] = []  # (exact coupling indices, weights there)
        self.shares: dict[str, np.ndarray] = {}

    def result(self, mass, couplings, d_gen, share_idx, n_events, wall, median_fn) -> MassResult:
        lam0 = np.concatenate(self.lam)
        K = couplings.size
        if lam0.size == 0:  # no event passes the selection: no decay length anywhere
            self.lam, self.w = [np.zeros(1)], [(np.arange(K), np.zeros((1, K)))]
            lam0 = self.lam[0]
        exact = np.ones(K, dtype=bool)
        for ks, _ in self.w:
            exact &= np.isin(np.arange(K), ks)
        ke = np.flatnonzero(exact)
        W = np.concatenate([w[:, np.searchsorted(ks, ke)] for ks, w in self.w])
        med_ke = median_fn(lam0, W) * (d_gen / couplings[ke]) ** 2
        with np.errstate(invalid="ignore"):
            med = _fill(med_ke, ke, K, nan_gaps=True)
        names = tuple(sorted(self.shares))
        shares = np.stack([self.shares[n] for n in names], axis=1)
        tot = shares.sum(axis=1, keepdims=True)
        shares = np.divide(shares, tot, out=np.zeros_like(shares), where=tot > 0)
        return MassResult(
            mass,
            self.signal,
            self.sig_lo,
            self.sig_hi,
            np.sqrt(self.var),
            med,
            couplings[share_idx],
            names,
            shares,
            n_events,
            wall,
        )


class _Columns:
    """Columns of the coupling matrix (``EventSample.coupling_matrix``) for the selected
    events ``rows`` of one sample, each computed once.  Binding a sample that extends the
    previous one (the same first events, as the refinement of ``generate`` makes) keeps the
    columns of the earlier events and computes only those of the new ones."""

    def __init__(self, couplings: np.ndarray) -> None:
        self.c = couplings
        self.sample = None
        self.rows = np.zeros(0, dtype=np.int64)
        self.cols: dict[int, np.ndarray] = {}

    def bind(self, smp, rows: np.ndarray) -> None:
        old = self.sample
        if old is smp:
            return
        if old is not None and _extends(smp, old) and np.array_equal(rows[rows < old.n], self.rows) and self.cols:
            new_rows = rows[rows >= old.n]
            ks = sorted(self.cols)
            with stage("decay integrals", events=new_rows.size):
                M = smp.coupling_matrix(self.c[ks], new_rows)
            for j, k in enumerate(ks):
                self.cols[k] = np.concatenate([self.cols[k], M[:, j]])
        else:
            self.cols = {}
        self.sample, self.rows = smp, rows

    def matrix(self, ks: np.ndarray) -> np.ndarray:
        missing = [int(k) for k in ks if int(k) not in self.cols]
        if missing:
            assert self.sample is not None, "bind() a sample first"
            with stage("decay integrals", events=self.rows.size):
                M = self.sample.coupling_matrix(self.c[missing], self.rows)
            for j, k in enumerate(missing):
                self.cols[k] = M[:, j]
        if len(ks) == 0:
            return np.zeros((self.rows.size, 0))
        # (K, n) rows then its transpose: an F-ordered (n, K) matrix built with contiguous copies
        return np.array([self.cols[int(k)] for k in ks]).T


def _extends(new, old) -> bool:
    """True if ``new`` holds the events of ``old`` first, unchanged (same decay lengths and rays)."""
    n = old.n
    return (
        new is not old
        and new.model is old.model
        and new.n >= n
        and np.array_equal(new.columns["decay_length_m"][:n], old.columns["decay_length_m"])
        and np.array_equal(new.segments.offsets[: n + 1], old.segments.offsets)
    )


def _exact_columns(S: np.ndarray, coarse: np.ndarray, K: int) -> np.ndarray:
    """Coupling indices to evaluate exactly: the coarse ones, and every EXACT_STRIDE-th index of
    the coarse intervals whose end values reach into EXACT_WINDOW, widened by one interval on
    each side."""
    lo, hi = EXACT_WINDOW
    hit = (np.maximum(S[:-1], S[1:]) >= lo) & (np.minimum(S[:-1], S[1:]) <= hi)
    hit = hit | np.r_[hit[1:], False] | np.r_[False, hit[:-1]]
    ks = [coarse]
    for j in np.flatnonzero(hit):
        ks.append(np.arange(coarse[j], coarse[j + 1], EXACT_STRIDE))
    return np.unique(np.concatenate(ks))


def not_a_knot_spline(x: np.ndarray, y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The not-a-knot cubic spline through (x, y) (x ascending, at least four knots) at t in
    [x[0], x[-1]]: the cubic whose third derivative is continuous at x[1] and x[-2], as
    ``scipy.interpolate.CubicSpline(x, y)`` (tests/test_scan_speed.py compares them); here
    because importing ``scipy.interpolate`` (or ``scipy.linalg``) costs each scan worker
    0.3–0.5 s.

    Slopes s_i from the tridiagonal system Δ_i s_{i−1} + 2(Δ_{i−1} + Δ_i) s_i + Δ_{i−1}
    s_{i+1} = 3(Δ_i m_{i−1} + Δ_{i−1} m_i) (Δ_i = x_{i+1} − x_i, m_i the secant slopes), closed
    by the not-a-knot rows Δ_1 s_0 + (Δ_0 + Δ_1) s_1 = r_0 and its mirror at the end; then the
    cubic Hermite form on each interval.  Subtracting the not-a-knot rows from their
    neighbours eliminates s_0 and s_{n−1}: the remaining system is strictly diagonally
    dominant, and it is solved without pivoting (``_solve_tridiagonal``)."""
    x, y, t = (np.asarray(v, dtype=float) for v in (x, y, t))
    n = x.size
    if n < 4:
        raise ValueError("a not-a-knot spline needs at least four knots")
    dx = np.diff(x)
    m = np.diff(y) / dx
    d0, d1 = x[2] - x[0], x[-1] - x[-3]
    r0 = ((dx[0] + 2.0 * d0) * dx[1] * m[0] + dx[0] ** 2 * m[1]) / d0
    r_end = (dx[-1] ** 2 * m[-2] + (2.0 * d1 + dx[-1]) * dx[-2] * m[-1]) / d1
    # rows 1..n−2 for s_1..s_{n−2}: lower[i] s_{i−1} + diag[i] s_i + upper[i] s_{i+1} = rhs[i]
    lower = dx[1:]  # row i (1..n−2): Δ_i (lower and upper are only read)
    diag = 2.0 * (dx[:-1] + dx[1:])
    upper = dx[:-1]  # row i: Δ_{i−1}
    rhs = 3.0 * (dx[1:] * m[:-1] + dx[:-1] * m[1:])
    # row 1 minus the first not-a-knot row, row n−2 minus the last one (s_0, s_{n−1} drop out)
    diag[0] -= d0
    rhs[0] -= r0
    diag[-1] -= d1
    rhs[-1] -= r_end
    inner = _solve_tridiagonal(lower, diag, upper, rhs)
    s = np.empty(n)
    s[1:-1] = inner
    s[0] = (r0 - d0 * inner[0]) / dx[1]
    s[-1] = (r_end - d1 * inner[-1]) / dx[-2]
    i = np.clip(np.searchsorted(x, t, side="right") - 1, 0, n - 2)
    h = dx[i]
    c2 = (3.0 * m[i] - 2.0 * s[i] - s[i + 1]) / h
    c3 = (s[i] + s[i + 1] - 2.0 * m[i]) / h**2
    w = t - x[i]
    out: np.ndarray = y[i] + w * (s[i] + w * (c2 + w * c3))
    return out


def _solve_tridiagonal(lower: np.ndarray, diag: np.ndarray, upper: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solution of lower[i] s_{i−1} + diag[i] s_i + upper[i] s_{i+1} = rhs[i] (lower[0] and
    upper[−1] unused) by elimination without pivoting (Thomas algorithm), stable for the
    strictly diagonally dominant systems of ``not_a_knot_spline``."""
    n = diag.size
    c = np.empty(n)
    d = np.empty(n)
    c[0] = upper[0] / diag[0]
    d[0] = rhs[0] / diag[0]
    for i in range(1, n):
        piv = diag[i] - lower[i] * c[i - 1]
        c[i] = upper[i] / piv
        d[i] = (rhs[i] - lower[i] * d[i - 1]) / piv
    out = np.empty(n)
    out[-1] = d[-1]
    for i in range(n - 2, -1, -1):
        out[i] = d[i] - c[i] * out[i + 1]
    return out


def _fill(y: np.ndarray, ks: np.ndarray, K: int, nan_gaps: bool = False) -> np.ndarray:
    """Values (..., len(ks)) at coupling indices ``ks`` → (..., K).  The others are interpolated
    in ln y against the index (the coupling grid is geometric): with a not-a-knot cubic spline
    through each run of at least four consecutive positive values (error O(h⁴): a power law
    d^n is reproduced exactly and a fall-off e^{−(d/d₀)²} to 1e-4 at stride 2), and linearly
    in a gap next to a zero (which stays zero) or, with ``nan_gaps``, an undefined value (NaN,
    a gap between two of them stays undefined)."""
    y = np.asarray(y, dtype=float)
    if len(ks) == K:
        return y
    out = np.zeros(y.shape[:-1] + (K,))
    out[..., ks] = y
    gaps = np.setdiff1d(np.arange(K), ks)
    j = np.searchsorted(ks, gaps)  # gap between ks[j - 1] and ks[j] (j == len(ks): beyond the last)
    tiny = 1e-300
    flat_y, flat_o = y.reshape(-1, len(ks)), out.reshape(-1, K)
    for r in range(flat_y.shape[0]):
        row = flat_y[r]
        ok = np.isfinite(row) if nan_gaps else np.ones(row.size, dtype=bool)
        if not ok.any():
            flat_o[r, gaps] = np.nan
            continue
        ly_knots = np.log(np.maximum(np.where(ok, row, tiny), tiny))
        ly = np.interp(gaps, ks[ok], ly_knots[ok])
        # cubic spline per run of consecutive positive, defined knots
        pos = ok & (row > tiny)
        edges = np.flatnonzero(np.diff(np.r_[0, pos.astype(np.int8), 0]))
        for a, b in zip(edges[::2], edges[1::2]):  # knots a..b-1 positive
            if b - a < 4:
                continue
            inner = (j > a) & (j < b)  # both neighbours in the run
            if inner.any():
                ly[inner] = not_a_knot_spline(ks[a:b], ly_knots[a:b], gaps[inner])
        flat_o[r, gaps] = np.where(ly < np.log(tiny) + 1.0, 0.0, np.exp(ly))
        if nan_gaps and not ok.all():  # undefined next to an undefined neighbour
            flat_o[r, gaps[np.interp(gaps, ks, (~ok).astype(float)) > 0]] = np.nan
    return out
