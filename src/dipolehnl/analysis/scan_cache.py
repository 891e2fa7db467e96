"""The scan cache: content-hashed keys, self-verifying entries, and the lock that lets
concurrent scans share a cache directory.

A scan caches each finished mass in ``cache_dir/<key>/mass_<m>.npz``.  The key
(:func:`cache_key`) is a SHA-256 over everything that can change a result:

* the scan settings, the preset and the analyses, all their values
  (:func:`settings_hash`), and the package version;
* the **contents** of every file the analyses reference (:func:`referenced_files`): the
  experiment files of their data sets and every file those name (detector file, SIREN
  materials file, flux tables, flux-error table), and the efficiency table of the
  selection;
* the contents of the package's own data files (shipped experiments, flux tables,
  detector models, efficiency tables, physics tables),

so that editing a file in place never reuses results computed with the old one.

Every entry records its key and its mass (``__key__``, ``__mass_GeV__``) and is checked on
load (:func:`load_mass`): an entry copied from another key, saved under another mass's
name, or unreadable, is ignored with a warning and the mass is recomputed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from dipolehnl import __version__
from dipolehnl.analysis.analyses import Analysis
from dipolehnl.analysis.contours import MassResult
from dipolehnl.analysis.scan_settings import ScanSettings, _analysis_to_json
from dipolehnl.config import Preset

log = logging.getLogger(__name__)

#: package data directories whose contents enter every key
_PACKAGE_DATA = (("experiments",), ("analysis", "data"), ("beam", "data"), ("detector", "models"), ("physics", "data"))
_DIGESTS: dict[tuple[str, int, int], str] = {}  # (real path, size, mtime_ns) -> sha256


def settings_hash(analyses: Analysis | Sequence[Analysis], preset: Preset, settings: ScanSettings) -> str:
    """Hash of every value that determines the results: analyses, preset, settings, the scan
    method's constants (``scan_settings``: refinement target and window, exactly evaluated
    couplings, azimuth sectors) and the package version (file contents are added by
    :func:`cache_key`)."""
    from dipolehnl.analysis import scan_settings as ss

    group = [analyses] if isinstance(analyses, Analysis) else list(analyses)
    method = {
        k: getattr(ss, k)
        for k in (
            "REFINE_TARGET",
            "REFINE_AIM",
            "REFINE_WINDOW",
            "COARSE_STRIDE",
            "EXACT_STRIDE",
            "EXACT_WINDOW",
            "AZIMUTH_SECTORS",
            "SHARE_STRIDE",
            "SHARE_WINDOW",
        )
    }
    doc = {
        "analyses": [_analysis_to_json(a) for a in group],
        "preset": dataclasses.asdict(preset),
        "settings": dataclasses.asdict(settings),
        "method": method,
        "version": __version__,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's contents (memoised on path, size and modification time)."""
    p = os.path.realpath(path)
    st = os.stat(p)
    k = (p, st.st_size, st.st_mtime_ns)
    if k not in _DIGESTS:
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _DIGESTS[k] = h.hexdigest()
    return _DIGESTS[k]


def _package_data_digest() -> str:
    h = hashlib.sha256()
    root = files("dipolehnl")
    for parts in _PACKAGE_DATA:
        d = Path(str(root.joinpath(*parts)))
        if not d.is_dir():
            continue
        for p in sorted(d.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                h.update(f"{'/'.join(parts)}/{p.relative_to(d).as_posix()}\0{file_digest(p)}\0".encode())
    return h.hexdigest()


def _efficiency_file(analysis: Analysis) -> Path | None:
    from dipolehnl.analysis.efficiency import EFFICIENCY_FILES

    ref = analysis.selection.efficiency
    if ref == "none":
        return None
    if ref in EFFICIENCY_FILES:
        return Path(str(files("dipolehnl") / "analysis" / "data" / "efficiency" / EFFICIENCY_FILES[ref]))
    p = Path(ref)
    return p if p.is_absolute() else Path(analysis.selection.base_dir) / p


def referenced_files(analysis: Analysis) -> dict[str, str]:
    """``{real path: sha256}`` of every file an analysis references: the experiment file of
    each data set with the detector, materials, flux and flux-error files it names, and the
    selection's efficiency table."""
    from dipolehnl.experiment import experiment_path
    from dipolehnl.experiment import referenced_files as experiment_files

    paths: list[Path] = []
    for ref in dict.fromkeys(d.experiment for d in analysis.datasets):
        paths += experiment_files(experiment_path(ref))
    eff = _efficiency_file(analysis)
    if eff is not None:
        paths.append(eff)
    out: dict[str, str] = {}
    for p in paths:
        if p.is_file():  # a missing file was refused when the analysis was loaded
            out[os.path.realpath(p)] = file_digest(p)
    return dict(sorted(out.items()))


def cache_key(analyses: Analysis | Sequence[Analysis], preset: Preset, settings: ScanSettings) -> str:
    """Cache key of a scan of ``analyses`` (a group scanned together) with ``preset`` and
    ``settings``: :func:`settings_hash` plus the contents of every referenced file and of
    the package data (16 hex digits)."""
    group = [analyses] if isinstance(analyses, Analysis) else list(analyses)
    doc = {
        "settings_hash": settings_hash(group, preset, settings),
        "version": __version__,
        "files": [sorted(referenced_files(a).values()) for a in group],
        "package_data": _package_data_digest(),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def mass_file(cache: Path, mass_GeV: float) -> Path:
    """The cache file of one mass."""
    return cache / f"mass_{mass_GeV:.9e}.npz"


def load_mass(cache: Path, mass_GeV: float, n_analyses: int, key: str) -> tuple[MassResult, ...] | None:
    """The cached results of one mass (one ``MassResult`` per analysis), or None if there is
    no entry or it does not hold this ``key`` and mass or cannot be read (then a warning is
    logged and the mass is recomputed)."""
    f = mass_file(cache, mass_GeV)
    if not f.exists():
        return None
    try:
        with np.load(f) as z:
            got_key = str(z["__key__"]) if "__key__" in z.files else None
            got_mass = float(z["__mass_GeV__"]) if "__mass_GeV__" in z.files else None
            if got_key != key or got_mass != float(mass_GeV):
                log.warning(
                    "cache entry %s holds %s, not key %s at m = %.9g GeV: recomputing this mass",
                    f,
                    f"key {got_key} at m = {got_mass} GeV" if got_key else "no key",
                    key,
                    mass_GeV,
                )
                return None
            res = tuple(
                MassResult.from_npz({k[len(f"a{j}_") :]: z[k] for k in z.files if k.startswith(f"a{j}_")})
                for j in range(n_analyses)
            )
    except Exception:  # noqa: BLE001 - unreadable or incomplete entry: recompute it
        log.warning("ignoring unreadable cache entry %s: recomputing this mass", f)
        return None
    if any(r.mass_GeV != float(mass_GeV) for r in res):
        log.warning("cache entry %s holds another mass: recomputing this mass", f)
        return None
    return res


def store_mass(cache: Path, mass_GeV: float, results: Sequence[MassResult], key: str) -> None:
    """Write the results of one mass atomically, recording ``key`` and ``mass_GeV``."""
    from dipolehnl.io import atomic_path

    payload: dict[str, Any] = {f"a{j}_{k}": v for j, r in enumerate(results) for k, v in r.to_npz().items()}
    payload["__key__"] = np.array(key)
    payload["__mass_GeV__"] = np.array(float(mass_GeV))
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
