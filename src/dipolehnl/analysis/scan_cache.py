"""The scan cache: a directory per settings hash (``cache_dir/<hash>/``), one atomically
written file per finished mass, and the lock that lets concurrent scans share it."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from dipolehnl import __version__
from dipolehnl.analysis.analyses import Analysis
from dipolehnl.analysis.contours import MassResult
from dipolehnl.analysis.scan_settings import ScanSettings, _analysis_to_json
from dipolehnl.config import Preset

log = logging.getLogger(__name__)


def settings_hash(analyses: Analysis | Sequence[Analysis], preset: Preset, settings: ScanSettings) -> str:
    """Hash of everything that determines the results (cache key)."""
    group = [analyses] if isinstance(analyses, Analysis) else list(analyses)
    doc = {"analyses": [_analysis_to_json(a) for a in group], "preset": dataclasses.asdict(preset),
           "settings": dataclasses.asdict(settings), "version": __version__}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


def mass_file(cache: Path, mass_GeV: float) -> Path:
    """The cache file of one mass."""
    return cache / f"mass_{mass_GeV:.9e}.npz"


def load_mass(cache: Path, mass_GeV: float, n_analyses: int) -> tuple[MassResult, ...] | None:
    """The cached results of one mass (one per analysis), or None if absent or unreadable."""
    f = mass_file(cache, mass_GeV)
    if not f.exists():
        return None
    try:
        with np.load(f) as z:
            return tuple(MassResult.from_npz({k[len(f"a{j}_"):]: z[k] for k in z.files if k.startswith(f"a{j}_")})
                         for j in range(n_analyses))
    except Exception:  # noqa: BLE001 - unreadable cache entry: recompute it
        log.warning("ignoring unreadable cache file %s", f)
        return None


def store_mass(cache: Path, mass_GeV: float, results: Sequence[MassResult]) -> None:
    """Write the results of one mass atomically."""
    from dipolehnl.io import atomic_path

    payload = {f"a{j}_{k}": v for j, r in enumerate(results) for k, v in r.to_npz().items()}
    with atomic_path(mass_file(cache, mass_GeV)) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **payload)


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
