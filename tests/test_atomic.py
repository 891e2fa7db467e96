"""No output file is ever left half-written: a writer that fails mid-way leaves neither the
target nor a temporary file, and an existing complete file is kept unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from dipolehnl.analysis.execution import LocalExecutor
from dipolehnl.analysis.results import write_scan_outputs
from dipolehnl.analysis.scan import ScanSettings, run_scan
from dipolehnl.errors import OutputError
from dipolehnl.io import atomic_path, write_json_atomic, write_text_atomic

TINY = ScanSettings(
    masses_GeV=(0.05, 0.25), couplings_GeVinv=tuple(np.geomspace(1e-7, 1e-4, 16)), n_events=300, seed=3, refine=False
)


class DiskFull(OSError):
    pass


def temporaries(d: Path) -> list[Path]:
    return [p for p in d.rglob("*") if p.name.endswith(".tmp")]


def listing(d: Path) -> dict[str, bytes]:
    """The output files (not the lock file ``.lock`` that guards the directory)."""
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if not p.name.startswith(".")}


def hidden(d: Path) -> list[str]:
    """Anything hidden but the lock file: temporaries, staging directories."""
    return sorted(p.name for p in d.iterdir() if p.name.startswith(".") and p.name != ".lock")


# ------------------------------------------------------------------ io helpers
@pytest.mark.parametrize("exc", [DiskFull("no space left"), KeyboardInterrupt()])
def test_atomic_path_removes_the_temporary_on_failure(tmp_path, exc):
    target = tmp_path / "out.txt"
    with pytest.raises(type(exc)):
        with atomic_path(target) as tmp:
            tmp.write_text("half of it")
            assert tmp.parent == target.parent and tmp.name.startswith(".out.txt.") and tmp.name.endswith(".tmp")
            raise exc
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "out.json"
    write_json_atomic(target, {"complete": True})
    before = target.read_bytes()
    with pytest.raises(DiskFull):
        with atomic_path(target) as tmp:
            tmp.write_text('{"compl')
            raise DiskFull("no space left")
    assert target.read_bytes() == before
    assert temporaries(tmp_path) == []


def test_atomic_write_has_ordinary_permissions(tmp_path):
    write_text_atomic(tmp_path / "a.txt", "x")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~umask


# ------------------------------------------------------------------ scan outputs
@pytest.fixture(scope="module")
def scan_result():
    return run_scan("t2k2019", "default", TINY, executor=LocalExecutor(1))


@pytest.fixture(scope="module")
def reference_outputs(scan_result, tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("reference")
    summary = write_scan_outputs(scan_result, out)
    files = listing(out)
    assert sorted(files) == sorted(summary["files"])
    return files


def _fail_on_write(monkeypatch, n: int):
    """Make the n-th Path.write_text call (0-based) write half of its text, then fail."""
    real = Path.write_text
    calls = []

    def write_text(self, data, *args, **kwargs):
        calls.append(self.name)
        if len(calls) - 1 == n:
            real(self, data[: len(data) // 2], *args, **kwargs)
            raise DiskFull(f"no space left writing {self.name}")
        return real(self, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)
    return calls


@pytest.mark.parametrize("n", range(6))
def test_scan_outputs_failing_mid_way(monkeypatch, tmp_path, scan_result, reference_outputs, n):
    """Fresh directory: the output set is atomic, so a failure while writing any of its files
    leaves no file of the set at all, and no temporary or staging directory."""
    assert len(reference_outputs) == 6  # 5 CSV files and summary.json
    calls = _fail_on_write(monkeypatch, n)
    with pytest.raises(OutputError, match="cannot write .*no space left"):  # one line naming the file
        write_scan_outputs(scan_result, tmp_path)
    monkeypatch.undo()
    assert len(calls) == n + 1
    assert listing(tmp_path) == {}
    assert hidden(tmp_path) == [] and temporaries(tmp_path) == []


@pytest.mark.parametrize("n", [0, 3, 5])
def test_scan_outputs_failing_over_a_previous_run(monkeypatch, tmp_path, scan_result, reference_outputs, n):
    """Re-running into a directory with complete outputs: a failure leaves the previous set
    exactly as it was, and no temporary."""
    for name, data in reference_outputs.items():
        (tmp_path / name).write_bytes(data)
    _fail_on_write(monkeypatch, n)
    with pytest.raises(OutputError, match="no space left"):
        write_scan_outputs(scan_result, tmp_path)
    monkeypatch.undo()
    assert listing(tmp_path) == reference_outputs
    assert hidden(tmp_path) == [] and temporaries(tmp_path) == []


# ------------------------------------------------------------------ events (Parquet)
@pytest.fixture(scope="module")
def sample():
    from dipolehnl.generate.api import simulate

    return simulate("t2k-nd280", 0.3, 1e-6, n_events=300, seed=7)


def _failing_parquet_writer(monkeypatch):
    import pyarrow.parquet as pq

    written = []

    def write_table(table, where, *args, **kwargs):
        Path(where).write_bytes(b"PAR1 half a parquet file")
        written.append(Path(where))
        raise DiskFull("no space left")

    monkeypatch.setattr(pq, "write_table", write_table)
    return written


def test_parquet_failing_mid_way(monkeypatch, tmp_path, sample):
    from dipolehnl.generate.api import write_events_parquet

    written = _failing_parquet_writer(monkeypatch)
    with pytest.raises(DiskFull):
        write_events_parquet(sample, tmp_path / "events.parquet")
    assert written and written[0].name.endswith(".tmp") and written[0].parent == tmp_path
    assert list(tmp_path.iterdir()) == []


def test_parquet_failure_keeps_the_previous_file(monkeypatch, tmp_path, sample):
    pd = pytest.importorskip("pandas")
    from dipolehnl.generate.api import write_events_parquet

    target = tmp_path / "events.parquet"
    write_events_parquet(sample, target)
    before = target.read_bytes()
    _failing_parquet_writer(monkeypatch)
    with pytest.raises(DiskFull):
        write_events_parquet(sample, target)
    monkeypatch.undo()
    assert target.read_bytes() == before and len(pd.read_parquet(target)) == sample.n
    assert [p.name for p in tmp_path.iterdir()] == ["events.parquet"]


def test_cli_simulate_failure_leaves_nothing(monkeypatch, tmp_path, capsys):
    from dipolehnl.cli import main

    _failing_parquet_writer(monkeypatch)
    code = main(
        ["simulate", "--mass", "0.3", "--coupling", "1e-6", "--events", "300", "--out", str(tmp_path / "ev.parquet")]
    )
    _, err = capsys.readouterr()
    assert code != 0 and err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ detector files
def test_detector_toml_failure_leaves_nothing(monkeypatch, tmp_path):
    from dipolehnl.detector import dump_detector_toml, load_detector, toml_format

    det = load_detector("nd280")
    target = tmp_path / "det.toml"

    def fail(*args, **kwargs):
        raise DiskFull("no space left")

    monkeypatch.setattr(toml_format.os, "replace", fail)
    with pytest.raises(DiskFull):
        dump_detector_toml(det, target)
    assert list(tmp_path.iterdir()) == []
