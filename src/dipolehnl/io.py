"""File input and output that never leaves a half-written result.

* :func:`atomic_path` / :func:`write_text_atomic`: one file, written to a temporary in the
  same directory and renamed into place.
* :func:`output_lock`: an exclusive lock on an output directory (``DIR/.lock``) held for a
  whole run; a second run into the same directory is refused with one line.
* :func:`atomic_output_set`: a set of files (one scan's CSVs and ``summary.json``) staged in
  a temporary directory and committed together, with a manifest (run id, settings hash,
  SHA-256 of every file) in ``summary.json``; see the function for the guarantees.
* :func:`check_finite`: no Infinity/NaN in any number written.
* :func:`os_errors`: ``OSError`` (no permission, no space, path too long, parent is a
  file) → :class:`OutputError`, one line naming what could not be written where.
* :func:`read_user_text`: bounded reading of user files.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it to ``path``.

    On any exception the temporary file is removed, so no half-written output remains.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp creates 0600; outputs are ordinary files
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def read_user_text(path: str | os.PathLike[str], what: str, max_bytes: int | None = None) -> str:
    """Text of a user-supplied file; an unreadable, binary, non-regular or too large file
    raises :class:`~dipolehnl.errors.InputError` with one line naming ``what`` and the path.

    At most ``max_bytes`` bytes are read (default ``bounds.MAX_USER_FILE_BYTES``), so that
    ``/dev/zero`` or a huge file is refused instead of filling the memory.
    """
    from dipolehnl.bounds import MAX_USER_FILE_BYTES
    from dipolehnl.errors import InputError

    limit = MAX_USER_FILE_BYTES if max_bytes is None else int(max_bytes)
    p = Path(path)
    try:
        if p.exists() and not p.is_file():
            raise InputError(f"cannot read {what} {p}: not a regular file")
        with open(p, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError(f"{what} {p} is larger than the limit of {limit:,} bytes (docs/robustness.md)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:  # a binary file given by mistake
        raise InputError(f"cannot read {what} {p}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None


def numeric_rows(text: str, source: str) -> Iterator[tuple[int, str, list[float]]]:
    """(line number, line, numbers) of every data row of a text table whose columns are
    separated by blanks or commas ('#' comments and blank lines skipped); a non-numeric entry
    is an InputError naming ``source`` and the line."""
    from dipolehnl.errors import InputError

    for lineno, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        try:
            vals = [float(t) for t in s.replace(",", " ").split()]
        except ValueError:
            raise InputError(f"{source}:{lineno}: non-numeric value in {s!r}") from None
        yield lineno, s, vals


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


# ---------------------------------------------------------------- I/O errors
@contextmanager
def os_errors(what: str, path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn an ``OSError`` raised inside into :class:`~dipolehnl.errors.OutputError`: one line
    naming ``what`` could not be written and where (no permission, no space left, name too
    long, a parent that is a file...)."""
    from dipolehnl.errors import OutputError

    try:
        yield
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(describe_os_error(exc, f"cannot write {what}", path)) from None


def describe_os_error(exc: OSError, doing: str, path: str | os.PathLike[str] | None = None) -> str:
    """One line: ``doing PATH: reason``, the path being the one the system named, if any."""
    where = exc.filename if exc.filename is not None else path
    reason = exc.strerror or str(exc) or type(exc).__name__
    if (
        isinstance(exc, (FileExistsError, NotADirectoryError))
        and path is not None
        and exc.filename is not None
        and os.fspath(exc.filename) != os.fspath(path)
    ):
        return f"{doing} {path}: {exc.filename} is not a directory"
    return f"{doing} {where}: {reason}" if where is not None else f"{doing}: {reason}"


def ensure_directory(path: str | os.PathLike[str], what: str = "output directory") -> Path:
    """Create ``path`` (and parents) if needed; an existing non-directory or a failure is
    an :class:`~dipolehnl.errors.OutputError` (one line)."""
    from dipolehnl.errors import OutputError

    d = Path(path)
    with os_errors(what, d):
        if d.exists() and not d.is_dir():
            raise OutputError(f"cannot write {what} {d}: it exists and is not a directory")
        d.mkdir(parents=True, exist_ok=True)
        if not os.access(d, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied", str(d))
    return d


# ---------------------------------------------------------------- finiteness
def check_finite(obj: Any, what: str, _where: str = "") -> Any:
    """Return ``obj`` if every number in it (nested dicts, lists, tuples, numpy arrays) is
    finite; else raise :class:`~dipolehnl.errors.OutputError` naming the first offending
    entry, so that no Infinity/NaN is ever written."""
    import math

    import numpy as np

    from dipolehnl.errors import OutputError

    def bad(loc: str, v: Any) -> OutputError:
        return OutputError(
            f"{what}: the result {loc or 'value'} = {v} is not finite; an input is outside its "
            "supported range (docs/robustness.md)"
        )

    if isinstance(obj, dict):
        for k, v in obj.items():
            check_finite(v, what, f"{_where}.{k}" if _where else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            check_finite(v, what, f"{_where}[{i}]")
    elif isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fc" and not np.all(np.isfinite(obj)):
            idx = tuple(int(i) for i in np.argwhere(~np.isfinite(obj))[0])
            raise bad(f"{_where}{list(idx)}", obj[idx])
    elif isinstance(obj, (float, np.floating)) and not math.isfinite(float(obj)):
        raise bad(_where, obj)
    return obj


_NON_FINITE_CELLS = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


def check_finite_csv(text: str, what: str) -> str:
    """Return the CSV ``text`` if no cell is NaN or infinite; else :class:`OutputError`."""
    import csv
    import io as _io

    from dipolehnl.errors import OutputError

    for lineno, row in enumerate(csv.reader(_io.StringIO(text)), start=1):
        for col, cell in enumerate(row):
            if cell.strip().lower() in _NON_FINITE_CELLS:
                raise OutputError(
                    f"{what}: line {lineno}, column {col + 1} is {cell}, not a finite number; an "
                    "input is outside its supported range (docs/robustness.md)"
                )
    return text


# ---------------------------------------------------------------- directory lock
_HELD_LOCKS: dict[str, list] = {}  # realpath -> [open lock file, depth]
LOCK_NAME = ".lock"


@contextmanager
def output_lock(directory: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold an exclusive lock on ``directory/.lock`` (created) for the duration.

    A second run (another process) asking for the same directory is refused at once with
    :class:`~dipolehnl.errors.OutputError` (one line): two runs never interleave their
    outputs.  Re-entrant within a process.  On acquiring it, leftovers of killed runs are
    cleaned: temporaries ``.*.tmp`` are removed and staged output sets are completed
    (if fully staged) or removed (see :func:`atomic_output_set`).  Where the file system has
    no locks (``flock``), the directory is used unlocked.
    """
    from dipolehnl.errors import OutputError

    d = ensure_directory(directory)
    key = os.path.realpath(d)
    if key in _HELD_LOCKS:
        _HELD_LOCKS[key][1] += 1
        try:
            yield d
        finally:
            _HELD_LOCKS[key][1] -= 1
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        fcntl = None  # type: ignore[assignment]
    with os_errors("the lock file", d / LOCK_NAME):
        fh = open(d / LOCK_NAME, "a")
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise OutputError(
                    f"{d} is in use by another dipolehnl run (it holds {d / LOCK_NAME}): wait for "
                    "it to finish or choose another output directory"
                ) from None
            except OSError:  # no locking on this file system
                pass
        _HELD_LOCKS[key] = [fh, 1]
        try:
            _clean_leftovers(d)
            yield d
        finally:
            del _HELD_LOCKS[key]
    finally:
        fh.close()  # releases the lock


def _clean_leftovers(d: Path) -> None:
    import shutil

    def staged_at(stage: Path) -> float:  # complete sets in the order they were staged: the last one wins
        try:
            return (stage / _COMPLETE).stat().st_mtime
        except OSError:
            return 0.0

    for stage in sorted(d.glob(f"{_STAGE_PREFIX}*"), key=staged_at):
        if stage.is_dir() and (stage / _COMPLETE).exists():
            log.warning("completing the output set staged by an interrupted run in %s", stage)
            _commit(stage, d)
        else:
            log.info("removing %s, left by an interrupted run", stage)
            shutil.rmtree(stage, ignore_errors=True)
    for tmp in d.glob(".*.tmp"):
        if tmp.is_file():
            log.info("removing %s, left by an interrupted run", tmp)
            tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------- atomic output sets
_STAGE_PREFIX = ".staging-"
_COMPLETE = ".complete"
_REPLACES = ".replaces"
MANIFEST_FILE = "summary.json"


class OutputSet:
    """Files of one output set, staged in a temporary directory (see :func:`atomic_output_set`)."""

    def __init__(self, stage: Path, run_id: str, settings_hash: str | None) -> None:
        self.stage = stage
        self.run_id = run_id
        self.settings_hash = settings_hash
        self.files: dict[str, str] = {}  # name -> sha256

    def write_text(self, name: str, text: str) -> None:
        """Stage ``name`` (CSV files are checked for non-finite cells first)."""
        import hashlib

        if name.endswith(".csv"):
            check_finite_csv(text, name)
        data = text.encode("utf-8")
        with os_errors(name, self.stage.parent / name):
            (self.stage / name).write_text(text)
        self.files[name] = hashlib.sha256(data).hexdigest()

    def write_manifest(self, obj: dict, name: str = MANIFEST_FILE) -> dict:
        """Stage the manifest file: ``obj`` plus ``files`` (the set's file names, this one
        last, unless ``obj`` lists them; the next set into the directory removes those it lacks)
        and ``manifest`` = {run_id, settings_hash, created_utc, files: {name: sha256}} (checked
        finite; written last on commit)."""
        import datetime

        doc = dict(obj)
        doc.setdefault("files", [*self.files, name])
        doc["manifest"] = {
            "run_id": self.run_id,
            "settings_hash": self.settings_hash,
            "created_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "files_sha256": dict(self.files),
        }
        check_finite(doc, name)
        text = json.dumps(doc, indent=2, allow_nan=False) + "\n"
        with os_errors(name, self.stage.parent / name):
            (self.stage / name).write_text(text)
        self.files[name] = ""
        return doc


@contextmanager
def atomic_output_set(directory: str | os.PathLike[str], settings_hash: str | None = None) -> Iterator[OutputSet]:
    """Write a set of files into ``directory`` so that no reader sees a mix of two runs.

    The files are staged in ``directory/.staging-<run id>/``; when the block ends without an
    error the set is committed: a ``.complete`` marker is written, the old
    ``summary.json`` (the previous set's manifest) is removed, the new files are renamed
    into place, files of the previous set that the new one lacks are removed, and the new
    ``summary.json`` is renamed into place last.  Hence: **whenever ``summary.json`` exists,
    the files it lists are exactly the ones of its run** (their SHA-256 are in its
    ``manifest``).  A run killed while committing leaves no ``summary.json``; the next run
    that locks the directory completes the commit (or, if the set was not fully staged,
    removes it).  On an error nothing in ``directory`` changes.  The directory is locked
    (:func:`output_lock`) for the duration.
    """
    import shutil
    import uuid

    with output_lock(directory) as d:
        run_id = uuid.uuid4().hex[:16]
        stage = d / f"{_STAGE_PREFIX}{run_id}"
        with os_errors("output set", stage):
            stage.mkdir()
        try:
            s = OutputSet(stage, run_id, settings_hash)
            yield s
            with os_errors("output set", d):
                (stage / _REPLACES).write_text(json.dumps(_previous_set(d)))
                names = sorted(p.name for p in stage.iterdir() if p.name not in (_COMPLETE, _REPLACES))
                (stage / _COMPLETE).write_text(json.dumps(names))  # the new set, for a commit resumed later
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        # fully staged: from here an interrupted commit (Ctrl-C, a failed rename) keeps the
        # staging directory, and the next run on this directory completes it
        _commit(stage, d)


def _previous_set(d: Path) -> list[str]:
    try:
        old = json.loads((d / MANIFEST_FILE).read_text())
        return [str(n) for n in old.get("files", [])] if isinstance(old, dict) else []
    except (OSError, ValueError):
        return []


def _commit(stage: Path, d: Path) -> None:
    """Move a fully staged set into ``d`` (idempotent: a kill part-way is completed by
    calling it again)."""
    import shutil

    with os_errors("output set", d):
        try:
            replaces = json.loads((stage / _REPLACES).read_text())
        except (OSError, ValueError):
            replaces = []
        (d / MANIFEST_FILE).unlink(missing_ok=True)
        try:
            new = set(json.loads((stage / _COMPLETE).read_text())) | {MANIFEST_FILE}
        except (OSError, ValueError):
            new = None
        staged = sorted(p.name for p in stage.iterdir() if p.name not in (_COMPLETE, _REPLACES, MANIFEST_FILE))
        for name in staged:
            os.replace(stage / name, d / name)
        if new is None:  # pragma: no cover - marker unreadable: keep everything rather than guess
            new = set(replaces)
        for name in replaces:
            if name not in new and "/" not in name and not name.startswith("."):
                (d / name).unlink(missing_ok=True)
        if (stage / MANIFEST_FILE).exists():
            os.replace(stage / MANIFEST_FILE, d / MANIFEST_FILE)
        shutil.rmtree(stage, ignore_errors=True)


def check_finite_frame(frame, what: str, missing_allowed: tuple[str, ...] = ("production_vertex",)) -> None:
    """No ±inf anywhere in a table's float columns, and no NaN except in columns whose names
    start with one of ``missing_allowed`` (documented "no value", e.g. the production point
    of an entry without weight); else :class:`~dipolehnl.errors.OutputError`."""
    import numpy as np

    from dipolehnl.errors import OutputError

    for col in frame.columns:
        v = np.asarray(frame[col])
        if v.dtype.kind != "f":
            continue
        bad = np.isinf(v) if str(col).startswith(missing_allowed) else ~np.isfinite(v)
        if bad.any():
            i = int(np.argmax(bad))
            raise OutputError(
                f"{what}: column {col}, row {i} is {v[i]}, not a finite number; an input is outside "
                "its supported range (docs/robustness.md)"
            )
