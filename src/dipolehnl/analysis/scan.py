"""Parameter scans over (m_N, d_αN): expected signal, test statistic and contours.

The pieces: :mod:`~dipolehnl.analysis.scan_settings` (grid, tasks),
:mod:`~dipolehnl.analysis.scan_worker` (one mass), :mod:`~dipolehnl.analysis.scan_cache`
(resumable cache), :mod:`~dipolehnl.analysis.contours` (results and contours); this module
drives them (:func:`run_scan`, :func:`run_scans`) and re-exports their public names.

One event sample per mass and detector serves every data set (flux components are
weights) and every coupling (exact reweighting, ``EventSample.reweight_matrix``).  Masses
are independent tasks, run by an executor (``dipolehnl.analysis.execution``); each finished
mass is written atomically to a cache keyed by a hash of all settings and the contents of
every file they reference (:func:`~dipolehnl.analysis.scan_cache.cache_key`), so an
interrupted scan resumes where it stopped and a changed setting or file never mixes with
old results.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from dipolehnl.analysis.analyses import Analysis, load_analysis
from dipolehnl.analysis.contours import MassResult, ScanResult, excluded_intervals
from dipolehnl.analysis.execution import Executor
from dipolehnl.analysis.scan_cache import _claim_cache, cache_key, load_mass, settings_hash, store_mass
from dipolehnl.analysis.scan_settings import (
    DEFAULT_COUPLINGS_GEVINV,
    DEFAULT_EVENTS,
    DEFAULT_MASSES_GEV,
    REFINE_TARGET,
    REFINE_WINDOW,
    SHARE_STRIDE,
    MassTask,
    ScanSettings,
    _analysis_to_json,
    with_preset,
)
from dipolehnl.analysis.scan_worker import run_mass
from dipolehnl.config import Preset, get_preset
from dipolehnl.errors import InputError

# the scan's public names, including those re-exported from the modules it is built from
__all__ = [
    "DEFAULT_COUPLINGS_GEVINV",
    "DEFAULT_EVENTS",
    "DEFAULT_MASSES_GEV",
    "REFINE_TARGET",
    "REFINE_WINDOW",
    "SHARE_STRIDE",
    "MassResult",
    "MassTask",
    "ScanResult",
    "ScanSettings",
    "cache_key",
    "excluded_intervals",
    "load_mass",
    "run_mass",
    "run_scan",
    "run_scans",
    "settings_hash",
    "store_mass",
    "with_preset",
]

log = logging.getLogger(__name__)


def run_scan(
    analysis: str | Analysis,
    preset: str | Preset = "default",
    settings: ScanSettings | None = None,
    cache_dir: str | Path | None = None,
    executor: Executor | None = None,
    progress: bool = False,
) -> ScanResult:
    """Run (or resume) a scan of one analysis over (m_N, d) (``dh.scan``).

    Parameters
    ----------
    analysis : str or Analysis
        A shipped analysis name, an analysis TOML file, or a loaded analysis.
    preset : str or Preset
        Physics preset (``"default"`` or ``"paper"``).
    settings : ScanSettings, optional
        Mass and coupling grids, events per mass, refinement (default: ``ScanSettings()``).
    cache_dir : str or Path, optional
        Directory of the resumable cache of finished masses.
    executor : Executor, optional
        An object with ``map(fn, tasks)`` yielding results in order (default: a local
        process pool; see :mod:`dipolehnl.analysis.execution`).
    progress : bool
        Show a progress bar.

    Returns
    -------
    ScanResult
        Expected signal per mass, data set and coupling; contours via
        :meth:`~dipolehnl.analysis.contours.ScanResult.contour`.

    Raises
    ------
    InputError
        For an unknown or invalid analysis or preset, invalid settings, or a cache
        directory in use by another scan.
    """
    return run_scans([analysis], preset, settings, cache_dir, executor, progress)[0]


def run_scans(
    analyses: Sequence[str | Analysis],
    preset: str | Preset = "default",
    settings: ScanSettings | None = None,
    cache_dir: str | Path | None = None,
    executor: Executor | None = None,
    progress: bool = False,
) -> list[ScanResult]:
    """Scan several analyses together: every (mass, detector) is simulated once and serves
    all their data sets.

    Every analysis drives the adaptive refinement: each detector's sample grows until the
    expected signal of every analysis with data sets there has < 1.9% MC error wherever it is
    1–100 events.  Finished masses are
    cached atomically under ``cache_dir/<cache key>/`` and reused when the same scan is
    run again (entries are verified on load).  The grid is checked
    (``dipolehnl.bounds.check_scan_grid``) before any computation.

    Parameters
    ----------
    analyses : sequence of str or Analysis
        Analyses (names, files or objects); at least one.
    preset : str or Preset
        Physics preset.
    settings : ScanSettings, optional
        Grids and sizes (default: ``ScanSettings()``).
    cache_dir : str or Path, optional
        Directory of the resumable cache.
    executor : Executor, optional
        An object with ``map(fn, tasks)`` (default: a local process pool).
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ScanResult
        One per analysis, in order.

    Raises
    ------
    InputError
        For no analysis, an unknown or invalid analysis or preset, or invalid settings.
    """
    from dipolehnl.analysis.execution import LocalExecutor

    t0 = time.perf_counter()
    p = get_preset(preset)
    group = [with_preset(load_analysis(a) if not isinstance(a, Analysis) else a, p) for a in analyses]
    if not group:
        raise InputError("no analysis to scan")
    st = settings or ScanSettings()
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
        cached_res = load_mass(cache, m, len(group), key) if cache is not None else None
        if cached_res is not None:
            results[i] = cached_res
            continue
        todo.append((i, MassTask(docs, p, st, float(m))))
    cached = len(results)
    own = executor is None  # an executor made here is closed here
    ex: Executor = executor or LocalExecutor()
    try:
        tasks = [t for _, t in todo]
        it: Iterator[tuple[tuple[int, MassTask], tuple[MassResult, ...]]]
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
                store_mass(cache, task.mass_GeV, res, key)
    finally:
        if own and hasattr(ex, "close"):
            ex.close()
    if lock is not None:
        lock.close()  # releases this scan's claim on the cache (also released if the scan fails)
    wall = time.perf_counter() - t0
    return [
        ScanResult(a, p, st, [results[i][j] for i in range(len(st.masses_GeV))], wall, cached)
        for j, a in enumerate(group)
    ]
