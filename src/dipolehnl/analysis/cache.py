"""Scan cache: content-hashed keys and self-verifying entries.

A scan caches each finished mass in ``CACHE_DIR/<key>/mass_<m>.npz``.  The key
(:func:`cache_key`) is a SHA-256 over everything that can change a result:

* the scan settings, the preset and the analyses (all their values),
* the package version,
* the **contents** of every file the analyses reference (efficiency tables, and any
  other value that names an existing file: detector, flux, experiment files), and of the
  package's own data files (flux tables, detector models, efficiency tables, physics
  tables), so that editing a file in place never reuses results computed with the old
  one.

Every entry records its key and its mass (``__key__``, ``__mass_GeV__``) and is checked
on load (:func:`load_entry`): an entry copied from another key, or saved under another
mass's name, or unreadable, is ignored with a warning and the mass is recomputed.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from importlib.resources import files
from pathlib import Path
from typing import Any, Sequence

import numpy as np

log = logging.getLogger(__name__)

#: package data directories whose contents enter every key
_PACKAGE_DATA = (("analysis", "data"), ("beam", "data"), ("detector", "models"), ("physics", "data"))
_DIGESTS: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256


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
                h.update(f"{p.relative_to(d.parent).as_posix()}\0{file_digest(p)}\0".encode())
    return h.hexdigest()


def _strings(obj: Any):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _strings(v)


def referenced_files(analysis) -> dict[str, str]:
    """``{path: sha256}`` of every file an analysis references: any string value that names
    an existing file, as given or relative to the analysis file's directory."""
    doc = dataclasses.asdict(analysis) if dataclasses.is_dataclass(analysis) else dict(analysis)
    bases = {str(v) for k, v in _items(doc) if k == "base_dir" and v}
    src = doc.get("source") or ""
    if src:
        bases.add(str(Path(src).parent))
    out: dict[str, str] = {}
    for s in _strings(doc):
        if not s or "\n" in s or len(s) > 4096:
            continue
        cands = [Path(s)] if Path(s).is_absolute() else [Path(s)] + [Path(b) / s for b in sorted(bases)]
        for c in cands:
            try:
                if c.is_file():
                    out[os.path.realpath(c)] = file_digest(c)
                    break
            except OSError:
                continue
    return dict(sorted(out.items()))


def _items(obj: Any):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield k, v
            yield from _items(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _items(v)


def cache_key(analyses: Sequence, preset, settings) -> str:
    """Cache key of a scan of ``analyses`` (a group scanned together) with ``preset`` and
    ``settings``: the settings hash plus the contents of every referenced file and of the
    package data (16 hex digits)."""
    from dipolehnl import __version__
    from dipolehnl.analysis.scan import settings_hash

    group = list(analyses)
    doc = {
        "settings_hash": settings_hash(group, preset, settings),
        "version": __version__,
        "files": [sorted(referenced_files(a).values()) for a in group],
        "package_data": _package_data_digest(),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def entry_path(cache: Path, mass_GeV: float) -> Path:
    return cache / f"mass_{mass_GeV:.9e}.npz"


def load_entry(path: Path, key: str, mass_GeV: float, n_analyses: int):
    """The cached results of one mass (a tuple of ``MassResult``, one per analysis), or None
    if there is no entry or it does not hold this key and mass (then a warning is logged
    and the mass is recomputed)."""
    from dipolehnl.analysis.scan import MassResult

    if not path.exists():
        return None
    try:
        with np.load(path) as z:
            got_key = str(z["__key__"]) if "__key__" in z.files else None
            got_mass = float(z["__mass_GeV__"]) if "__mass_GeV__" in z.files else None
            if got_key != key or got_mass != float(mass_GeV):
                log.warning("cache entry %s holds %s, not key %s at m = %.9g GeV: recomputing this mass", path,
                            f"key {got_key} at m = {got_mass} GeV" if got_key else "no key", key, mass_GeV)
                return None
            res = tuple(MassResult.from_npz({k[len(f"a{j}_"):]: z[k] for k in z.files if k.startswith(f"a{j}_")})
                        for j in range(n_analyses))
    except Exception:  # noqa: BLE001 - unreadable or incomplete entry: recompute it
        log.warning("ignoring unreadable cache entry %s: recomputing this mass", path)
        return None
    if any(r.mass_GeV != float(mass_GeV) for r in res):
        log.warning("cache entry %s holds another mass: recomputing this mass", path)
        return None
    return res


def save_entry(path: Path, key: str, mass_GeV: float, results) -> None:
    """Write one mass's results atomically, recording ``key`` and ``mass_GeV``."""
    from dipolehnl.io import atomic_path

    payload: dict[str, Any] = {f"a{j}_{k}": v for j, r in enumerate(results) for k, v in r.to_npz().items()}
    payload["__key__"] = np.array(key)
    payload["__mass_GeV__"] = np.array(float(mass_GeV))
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **payload)
