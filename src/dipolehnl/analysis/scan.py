"""Parameter scans over (m_N, d_μN): expected signal, test statistic and contours.

One event sample per mass and detector serves every data set (flux components are
weights) and every coupling (exact reweighting, ``EventSample.reweight_matrix``).  Masses
are independent tasks, run by an executor (``dipolehnl.analysis.execution``); each finished
mass is written atomically to a cache keyed by a hash of all settings, so an interrupted
scan resumes where it stopped and a changed setting never mixes with old results.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from dipolehnl import __version__
from dipolehnl.analysis.analyses import Analysis, Level, load_analysis
from dipolehnl.analysis.presets import Preset, get_preset
from dipolehnl.errors import InputError

log = logging.getLogger(__name__)

DEFAULT_MASSES_GEV = tuple(np.geomspace(0.01, 2.0, 60))
DEFAULT_COUPLINGS_GEVINV = tuple(np.geomspace(1e-8, 1e-4, 200))
DEFAULT_EVENTS = 10000
SHARE_STRIDE = 20  # production shares are computed at every SHARE_STRIDE-th coupling
#: adaptive refinement: add events until the relative MC error of each data-set group's
#: expected signal is below REFINE_TARGET wherever that signal is within REFINE_WINDOW events
REFINE_TARGET = 0.019
REFINE_WINDOW = (1.0, 100.0)


@dataclass(frozen=True)
class ScanSettings:
    """Grid and Monte Carlo settings of a scan (masses in GeV, couplings in GeV⁻¹)."""

    masses_GeV: tuple[float, ...] = DEFAULT_MASSES_GEV
    couplings_GeVinv: tuple[float, ...] = DEFAULT_COUPLINGS_GEVINV
    n_events: int = DEFAULT_EVENTS
    seed: int = 2412
    majorana: bool = False
    refine: bool = True

    def __post_init__(self) -> None:
        for name, vals in (("mass", self.masses_GeV), ("coupling", self.couplings_GeVinv)):
            arr = np.asarray(vals, dtype=float)
            if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
                raise InputError(f"{name} grid must be a non-empty list of positive finite numbers")
        if np.any(np.diff(self.couplings_GeVinv) <= 0):
            raise InputError("couplings must be strictly increasing")
        if int(self.n_events) < 100:
            raise InputError(f"a scan needs at least 100 events per mass, got {self.n_events}")

    def mass_seed(self, mass_GeV: float) -> int:
        """Seed of one mass: depends only on the scan seed and the mass (not on the grid)."""
        return zlib.crc32(f"{self.seed}:{mass_GeV:.12e}".encode())


@dataclass
class MassResult:
    """Scan output at one mass (arrays over data sets × couplings)."""

    mass_GeV: float
    signal: np.ndarray  # (n_datasets, n_couplings) expected selected events
    signal_flux_minus: np.ndarray
    signal_flux_plus: np.ndarray
    mc_error: np.ndarray  # (n_couplings,) absolute MC error of the total signal
    median_decay_length_m: np.ndarray  # (n_couplings,) weighted median over selected events
    share_couplings: np.ndarray  # couplings at which shares are given
    share_names: tuple[str, ...]
    shares: np.ndarray  # (n_share_couplings, n_subsystems) fraction of the total signal
    n_events: int
    wall_time_s: float

    def to_npz(self) -> dict:
        d = dataclasses.asdict(self)
        d["share_names"] = np.array(self.share_names)
        return d

    @classmethod
    def from_npz(cls, z) -> "MassResult":
        kw = {f.name: z[f.name] for f in dataclasses.fields(cls)}
        kw["share_names"] = tuple(str(s) for s in kw["share_names"])
        for k in ("mass_GeV", "wall_time_s"):
            kw[k] = float(kw[k])
        kw["n_events"] = int(kw["n_events"])
        return cls(**kw)


@dataclass(frozen=True)
class MassTask:
    """Everything a worker needs for one mass (picklable).  Several analyses share the
    simulation of every detector they have in common."""

    analysis_docs: tuple[str, ...]  # the analyses as JSON (so that workers never depend on paths)
    preset: Preset
    settings: ScanSettings
    mass_GeV: float


def _analysis_to_json(a: Analysis) -> str:
    return json.dumps(dataclasses.asdict(a), sort_keys=True, default=str)


def _analysis_from_json(text: str) -> Analysis:
    from dipolehnl.analysis.analyses import DataSet, SelectionConfig

    d = json.loads(text)
    d["selection"] = SelectionConfig(**d["selection"])
    d["datasets"] = tuple(DataSet(**{**x, "tpcs": tuple(x["tpcs"])}) for x in d["datasets"])
    d["cl"], d["sigma"] = tuple(d["cl"]), tuple(d["sigma"])
    return Analysis(**d)


def with_preset(analysis: Analysis, preset: Preset) -> Analysis:
    """The analysis with the preset's statistical choices (Asimov statistic)."""
    return dataclasses.replace(analysis, asimov_q=preset.asimov_q)


_DETECTORS: dict = {}


def _detector(name: str, gas: float | None):
    from dipolehnl.detector import load_detector

    key = (name, gas)
    if key not in _DETECTORS:
        _DETECTORS[key] = load_detector(name, tpc_gas_density_g_cm3=gas)
    return _DETECTORS[key]


def run_mass(task: MassTask) -> tuple[MassResult, ...]:
    """Simulate one mass once per detector and evaluate every coupling for every analysis."""
    from dipolehnl.analysis.selection import Selection
    from dipolehnl.beam.flux import flux_fractional_error, load_flux
    from dipolehnl.generate.api import weighted_median_columns
    from dipolehnl.generate.generator import GeneratorSettings, generate
    from dipolehnl.physics.model import HNLModel

    t0 = time.perf_counter()
    analyses = [_analysis_from_json(doc) for doc in task.analysis_docs]
    preset, st = task.preset, task.settings
    couplings = np.asarray(st.couplings_GeVinv, dtype=float)
    K = couplings.size
    d_gen = float(np.sqrt(couplings[0] * couplings[-1]))
    model = HNLModel(task.mass_GeV, d_gen, majorana=st.majorana, convention=preset.convention)
    sel_cfg = analyses[0].selection
    for a in analyses[1:]:
        if (a.selection.cos_theta_min, a.selection.opening_angle_max_deg, a.selection.efficiency,
                a.selection.efficiency_outside) != (sel_cfg.cos_theta_min, sel_cfg.opening_angle_max_deg,
                                                    sel_cfg.efficiency, sel_cfg.efficiency_outside):
            raise InputError("analyses scanned together must share their selection")
    selection = Selection(cos_theta_min=sel_cfg.cos_theta_min, opening_angle_max_deg=sel_cfg.opening_angle_max_deg,
                          efficiency=sel_cfg.efficiency_function(), br_ee=preset.br_ee)
    share_idx = np.unique(np.r_[np.arange(0, K, SHARE_STRIDE), K - 1])
    acc = [_Accumulator(len(a.datasets), K, share_idx.size) for a in analyses]
    n_events = 0
    detectors = dict.fromkeys(ds.detector for a in analyses for ds in a.datasets)
    for det_name in detectors:
        groups = [[(i, ds) for i, ds in enumerate(a.datasets) if ds.detector == det_name] for a in analyses]
        comps = {}
        for grp in groups:
            for _, ds in grp:
                flux = load_flux(ds.mode)
                for f in preset.flavors_for(ds.mode):
                    comps[f"{ds.mode}:{f}"] = flux.component(f)
        tpcs = tuple(dict.fromkeys(t for grp in groups for _, ds in grp for t in ds.tpcs))
        det = _detector(det_name, preset.tpc_gas_density_g_cm3)

        def dataset_vectors(smp, grp):
            """Per-event selected events (for each data set's POT) per unit coupling factor."""
            base = smp.selection_factor() * smp.kin_weight
            out = []
            for i, ds in grp:
                names_ = [f"{ds.mode}:{f}" for f in preset.flavors_for(ds.mode)]
                out.append((i, base * smp.flux_factor(names_) * np.isin(smp.columns["tpc"], ds.tpcs) * ds.pot))
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
                err = np.sqrt(np.maximum(_stratified_variance(Wm, smp.columns["stratum"]), 0.0))
                bad = (S > REFINE_WINDOW[0]) & (S < REFINE_WINDOW[1]) & (err > REFINE_TARGET * S)
                if bad.any():
                    cols.append(Wm[:, bad])
                    worst = max(worst, float(np.max(err[bad] / S[bad])))
            if not cols:
                return None
            return np.concatenate(cols, axis=1), (worst / REFINE_TARGET) ** 2 - 1.0

        sample = generate(det, model, comps, selection, GeneratorSettings(n_events=st.n_events, seed=st.mass_seed(task.mass_GeV)),
                          fiducial=tpcs, allocation_couplings=couplings, refine=refine if st.refine else None)
        n_events += sample.n
        R = last["R"] if last.get("sample") is sample else sample.coupling_matrix(couplings)  # (n, K)
        ferr = np.asarray(flux_fractional_error(sample.columns["E_nu_GeV"]), dtype=float)
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
            ac.var += _stratified_variance(W, sample.columns["stratum"])
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


def _stratified_variance(W: np.ndarray, stratum: np.ndarray) -> np.ndarray:
    """Variance of Σ_i W[i, k] for stratified samples: Σ_s n_s/(n_s−1) [Σ W² − (Σ W)²/n_s]."""
    n_s = np.bincount(stratum)
    onehot_sum = np.zeros((n_s.size, W.shape[1]))
    onehot_sq = np.zeros_like(onehot_sum)
    np.add.at(onehot_sum, stratum, W)
    np.add.at(onehot_sq, stratum, W * W)
    f = np.where(n_s > 1, n_s / np.maximum(n_s - 1, 1), 1.0)[:, None]
    return np.sum(f * (onehot_sq - onehot_sum**2 / np.maximum(n_s, 1)[:, None]), axis=0)


# ---------------------------------------------------------------- contours
def excluded_intervals(couplings: np.ndarray, stat: np.ndarray, threshold: float) -> list[tuple[float, float, bool, bool]]:
    """Intervals of d where ``stat >= threshold``, edges interpolated (log–log where possible).

    Returns (d_low, d_high, low_is_grid_edge, high_is_grid_edge) per interval.
    """
    ex = stat >= threshold
    out = []
    k = 0
    K = couplings.size
    while k < K:
        if not ex[k]:
            k += 1
            continue
        j = k
        while j + 1 < K and ex[j + 1]:
            j += 1
        lo = couplings[k] if k == 0 else _crossing(couplings[k - 1], couplings[k], stat[k - 1], stat[k], threshold)
        hi = couplings[j] if j == K - 1 else _crossing(couplings[j], couplings[j + 1], stat[j], stat[j + 1], threshold)
        out.append((float(lo), float(hi), k == 0, j == K - 1))
        k = j + 1
    return out


def _crossing(d1, d2, s1, s2, thr) -> float:
    x1, x2 = math.log(d1), math.log(d2)
    if s1 > 0 and s2 > 0:
        y1, y2, t = math.log(s1), math.log(s2), math.log(thr)
    else:
        y1, y2, t = s1, s2, thr
    if y2 == y1:
        return math.sqrt(d1 * d2)
    return math.exp(x1 + (t - y1) * (x2 - x1) / (y2 - y1))


@dataclass
class ScanResult:
    """A finished scan: per-mass results plus the analysis and settings."""

    analysis: Analysis
    preset: Preset
    settings: ScanSettings
    masses: list[MassResult]
    wall_time_s: float = 0.0
    cached_masses: int = 0

    @property
    def masses_GeV(self) -> np.ndarray:
        return np.array([r.mass_GeV for r in self.masses])

    @property
    def couplings(self) -> np.ndarray:
        return np.asarray(self.settings.couplings_GeVinv, dtype=float)

    def signal(self, which: str = "nominal") -> np.ndarray:
        """Expected signal (n_masses, n_datasets, n_couplings); which: nominal, flux_minus, flux_plus."""
        attr = {"nominal": "signal", "flux_minus": "signal_flux_minus", "flux_plus": "signal_flux_plus"}[which]
        return np.stack([getattr(r, attr) for r in self.masses])

    def statistic(self, which: str = "nominal") -> np.ndarray:
        """The analysis test statistic (n_masses, n_couplings)."""
        s = self.signal(which)
        return np.asarray(self.analysis.test_statistic(np.moveaxis(s, 1, 0)))

    def contour(self, level: Level, which: str = "nominal") -> list[dict]:
        """Rows {m_MeV, d_low_GeVinv, d_high_GeVinv, ...}; one per excluded interval, and one
        with empty edges for a mass where nothing is excluded."""
        stat = self.statistic(which)
        rows = []
        for i, m in enumerate(self.masses_GeV):
            ivs = excluded_intervals(self.couplings, stat[i], level.threshold)
            if not ivs:
                rows.append({"m_MeV": 1e3 * m, "d_low_GeVinv": None, "d_high_GeVinv": None,
                             "low_at_grid_edge": None, "high_at_grid_edge": None})
            for lo, hi, elo, ehi in ivs:
                rows.append({"m_MeV": 1e3 * m, "d_low_GeVinv": lo, "d_high_GeVinv": hi,
                             "low_at_grid_edge": elo, "high_at_grid_edge": ehi})
        return rows

    def excluded_predicate(self, level: Level, which: str = "nominal") -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """f(m_MeV, d) → excluded?, bilinear in (log m, log d) of log(statistic/threshold)."""
        from scipy.interpolate import RegularGridInterpolator

        stat = self.statistic(which)
        with np.errstate(divide="ignore"):
            z = np.log(np.maximum(stat, 1e-300) / level.threshold)
        if self.masses_GeV.size < 2:
            raise InputError("need at least two masses to interpolate the exclusion")
        interp = RegularGridInterpolator((np.log(1e3 * self.masses_GeV), np.log(self.couplings)), z,
                                         bounds_error=False, fill_value=-np.inf)

        def f(m_MeV, d):
            m_MeV, d = np.broadcast_arrays(np.asarray(m_MeV, float), np.asarray(d, float))
            pts = np.stack([np.log(m_MeV).ravel(), np.log(d).ravel()], axis=1)
            return (interp(pts) >= 0).reshape(m_MeV.shape)

        return f


# ---------------------------------------------------------------- driver
def settings_hash(analyses: Analysis | Sequence[Analysis], preset: Preset, settings: ScanSettings) -> str:
    """Hash of everything that determines the results (cache key)."""
    group = [analyses] if isinstance(analyses, Analysis) else list(analyses)
    doc = {"analyses": [_analysis_to_json(a) for a in group], "preset": dataclasses.asdict(preset),
           "settings": dataclasses.asdict(settings), "version": __version__}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_scan(
    analysis: str | Analysis,
    preset: str | Preset = "default",
    settings: ScanSettings | None = None,
    cache_dir: str | Path | None = None,
    executor=None,
    progress: bool = False,
) -> ScanResult:
    """Run (or resume) a scan of one analysis.  ``executor``: an object with
    ``map(fn, tasks)`` yielding results in order (default: a local process pool)."""
    return run_scans([analysis], preset, settings, cache_dir, executor, progress)[0]


def run_scans(
    analyses: Sequence[str | Analysis],
    preset: str | Preset = "default",
    settings: ScanSettings | None = None,
    cache_dir: str | Path | None = None,
    executor=None,
    progress: bool = False,
) -> list[ScanResult]:
    """Scan several analyses together: every (mass, detector) is simulated once and serves
    all their data sets.  The first analysis drives the adaptive refinement (its expected
    signal gets < 2% MC error wherever it is 1–100 events); put the constraint first.  Finished masses are cached atomically under
    ``cache_dir/<settings hash>/`` and reused when the same scan is run again."""
    from dipolehnl.analysis.execution import LocalExecutor

    t0 = time.perf_counter()
    p = get_preset(preset)
    group = [with_preset(load_analysis(a) if not isinstance(a, Analysis) else a, p) for a in analyses]
    if not group:
        raise InputError("no analysis to scan")
    st = settings or ScanSettings()
    from dipolehnl.analysis.cache import cache_key, entry_path, load_entry, save_entry  # hardening: content-hashed cache
    from dipolehnl.bounds import check_scan_grid

    check_scan_grid(st.masses_GeV, st.couplings_GeVinv, st.n_events, min_masses=1)  # before any computation
    key = cache_key(group, p, st)
    cache = Path(cache_dir) / key if cache_dir is not None else None
    lock = None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        lock = _claim_cache(cache)
    docs = tuple(_analysis_to_json(a) for a in group)
    results: dict[int, tuple[MassResult, ...]] = {}
    todo = []
    for i, m in enumerate(st.masses_GeV):
        hit = load_entry(entry_path(cache, m), key, m, len(group)) if cache is not None else None
        if hit is not None:
            results[i] = hit
            continue
        todo.append((i, MassTask(docs, p, st, float(m))))
    cached = len(results)
    ex = executor or LocalExecutor()
    tasks = [t for _, t in todo]
    if hasattr(ex, "map_completed"):  # cache every mass as soon as it finishes
        it = ((todo[k], res) for k, res in ex.map_completed(run_mass, tasks))
    else:
        it = zip(todo, ex.map(run_mass, tasks))
    if progress:
        from tqdm import tqdm

        names = "+".join(a.name for a in group)
        it = tqdm(it, total=len(todo), desc=f"scan {names} [{p.name}]", unit="mass")
    for (i, task), res in it:
        results[i] = res
        if cache is not None:
            save_entry(entry_path(cache, task.mass_GeV), key, task.mass_GeV, res)
    if lock is not None:
        lock.close()  # releases this scan's claim on the cache (also released if the scan fails)
    wall = time.perf_counter() - t0
    return [ScanResult(a, p, st, [results[i][j] for i in range(len(st.masses_GeV))], wall, cached)
            for j, a in enumerate(group)]


def _claim_cache(cache: Path):
    """Register a running scan in ``cache`` and remove the temporary files (``.mass_*.tmp``)
    that a killed scan left there (a kill during an atomic write).

    Every scan holds a shared lock on ``cache/.lock`` while it runs; temporaries are removed
    only when an exclusive lock can be taken, i.e. when no other scan writes into the cache.
    Returns the claim (``close()`` or dropping it releases the lock, also when the scan
    fails), or None where file locks are unavailable (then nothing is removed; stale
    temporaries are ignored anyway).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return None
    try:
        fh = open(cache / ".lock", "a")
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # another scan is running on this cache: its temporaries are live
        else:
            for tmp in cache.glob(".mass_*.tmp"):
                log.info("removing %s, left by an interrupted scan", tmp)
                tmp.unlink(missing_ok=True)
        fcntl.flock(fh, fcntl.LOCK_SH)
    except OSError:  # no locking on this file system
        fh.close()
        return None
    return _CacheClaim(fh)


class _CacheClaim:
    """The open lock file of a running scan (see :func:`_claim_cache`)."""

    def __init__(self, fh) -> None:
        self._fh = fh

    def close(self) -> None:
        self._fh.close()

    __del__ = close
