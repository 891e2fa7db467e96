"""Executors: a real dask.distributed LocalCluster gives bit-identical scans to the serial
local executor; the CLI runs on dask; a bad scheduler is a clean one-line error (exit 2)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time

import numpy as np
import pytest

from dipolehnl.analysis.execution import DaskExecutor, LocalExecutor, make_executor
from dipolehnl.analysis.scan import MassResult, ScanSettings, run_scan
from dipolehnl.cli import main
from dipolehnl.errors import InputError

try:
    import dask.distributed  # noqa: F401

    HAVE_DASK = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_DASK = False

needs_dask = pytest.mark.skipif(
    not HAVE_DASK, reason="dask.distributed is not installed: pip install 'dask[distributed]'"
)

TINY = ScanSettings(
    masses_GeV=(0.05, 0.25), couplings_GeVinv=tuple(np.geomspace(1e-7, 1e-4, 16)), n_events=300, seed=3, refine=False
)
ARRAYS = [f.name for f in dataclasses.fields(MassResult) if f.name not in ("wall_time_s", "share_names")]
SCAN_ARGS = [
    "scan",
    "--analysis",
    "t2k2019",
    "--masses",
    "0.05,0.25",
    "--couplings",
    "1e-7:1e-4:16",
    "--events",
    "300",
    "--seed",
    "3",
    "--quiet",
]


def assert_bit_identical(a, b):
    assert len(a.masses) == len(b.masses)
    for ra, rb in zip(a.masses, b.masses):
        assert ra.share_names == rb.share_names
        for name in ARRAYS:
            x, y = np.asarray(getattr(ra, name)), np.asarray(getattr(rb, name))
            assert x.dtype == y.dtype and x.shape == y.shape, name
            assert x.tobytes() == y.tobytes(), f"{name} differs at m = {ra.mass_GeV} GeV"


@pytest.fixture(scope="module")
def serial_scan():
    return run_scan("t2k2019", "default", TINY, executor=LocalExecutor(1))


def test_local_executor_validates_and_keeps_order():
    with pytest.raises(InputError):
        LocalExecutor(0)
    assert list(LocalExecutor(1).map(abs, [-3, 1, -2])) == [3, 1, 2]
    assert isinstance(make_executor(workers=1), LocalExecutor)
    with pytest.raises(InputError, match="not both"):
        make_executor(dask_scheduler="tcp://127.0.0.1:1", dask_local=2)
    with pytest.raises(InputError, match="unknown executor"):
        make_executor("slurm")


@needs_dask
def test_dask_local_cluster_bit_identical_to_serial(serial_scan):
    with DaskExecutor(local_workers=2) as ex:
        assert len(ex.client.scheduler_info()["workers"]) == 2  # a real LocalCluster with 2 worker processes
        res = run_scan("t2k2019", "default", TINY, executor=ex)
    assert_bit_identical(serial_scan, res)
    assert res.signal().tobytes() == serial_scan.signal().tobytes()


@needs_dask
def test_cli_scan_on_dask_local_matches_local(tmp_path, capfd):
    assert main(SCAN_ARGS + ["--workers", "1", "--out", str(tmp_path / "local")]) == 0
    assert main(SCAN_ARGS + ["--dask-local", "2", "--out", str(tmp_path / "dask")]) == 0
    _, err = capfd.readouterr()  # file-descriptor level: includes the dask worker processes' output
    assert err == ""  # --quiet: nothing on stderr, not even dask's own logging
    csvs = sorted(p.name for p in (tmp_path / "local").glob("*.csv"))
    assert "expected_events.csv" in csvs
    assert csvs == sorted(p.name for p in (tmp_path / "dask").glob("*.csv"))
    for name in csvs:
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes(), name


@needs_dask
def test_unreachable_dask_scheduler_is_one_line_exit_2(tmp_path):
    t0 = time.monotonic()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "dipolehnl.cli",
            *SCAN_ARGS,
            "--out",
            str(tmp_path / "out"),
            "--dask-scheduler",
            "tcp://127.0.0.1:1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - t0
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert "dask scheduler" in r.stderr and "tcp://127.0.0.1:1" in r.stderr
    assert elapsed < 20, f"took {elapsed:.1f} s to give up"
    assert not (tmp_path / "out" / "summary.json").exists()


@needs_dask
@pytest.mark.parametrize("address", ["notanaddress", "foo://127.0.0.1:1"])
def test_malformed_dask_scheduler_address(address, tmp_path, capsys):
    assert main(SCAN_ARGS + ["--out", str(tmp_path), "--dask-scheduler", address]) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "Traceback" not in err and "dask scheduler" in err


def test_dask_missing_is_input_error(monkeypatch):
    """Without dask.distributed the dask options are an input error, not a traceback."""
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "dask.distributed" or name.startswith("dask"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(InputError, match="dask"):
        DaskExecutor(local_workers=2)


# ------------------------------------------------------------------ progress and logging
def _run_on_terminal(argv: list[str]) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal (80 columns); return (code, what it showed)."""
    pty = pytest.importorskip("pty")
    import fcntl
    import os
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # a new pty is 0 x 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "dipolehnl.cli", *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


PROGRESS_ARGS = [
    "scan",
    "--analysis",
    "t2k2019",
    "--masses",
    "0.05,0.25",
    "--couplings",
    "1e-7:1e-4:8",
    "--events",
    "300",
    "--workers",
    "1",
]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_progress_bar_with_eta_on_a_terminal_and_quiet_silences_it(tmp_path):
    import re

    code, shown = _run_on_terminal(PROGRESS_ARGS + ["--out", str(tmp_path)])
    assert code == 0, shown
    assert "scan t2k2019 [default]" in shown and "/2 [" in shown, shown  # a tqdm bar over the 2 masses
    assert re.search(r"<\d\d:\d\d", shown), shown  # with an ETA
    assert "wrote" in shown  # the closing summary line
    code, shown = _run_on_terminal(PROGRESS_ARGS + ["--quiet", "--out", str(tmp_path)])  # (from the cache)
    assert code == 0 and shown == ""


def test_verbose_logs_and_no_progress_bar_off_a_terminal(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "dipolehnl.cli", "-v", *PROGRESS_ARGS, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "%|" not in r.stderr  # stderr is not a terminal: no bar
    assert "INFO dipolehnl.analysis.execution: running 2 task(s) on 1 local process(es)" in r.stderr, r.stderr
    lines = r.stderr.splitlines()
    assert lines[-1].startswith("t2k2019 [default]: 2 masses") and all(ln.startswith("INFO ") for ln in lines[:-1])


def _pid(_: object) -> int:
    import os

    return os.getpid()


def _fail_on_two(x: int) -> int:
    if x == 2:
        raise ValueError("task 2 fails")
    return x


def test_local_executor_keeps_its_pool_between_maps_and_recovers_after_a_failure():
    with LocalExecutor(2) as ex:
        first = set(ex.map(_pid, range(6)))
        second = set(ex.map(_pid, range(6)))
        assert first == second and len(first) <= 2  # the same worker processes serve both maps
        assert set(i for i, _ in ex.map_completed(_pid, range(4))) == {0, 1, 2, 3}
        with pytest.raises(ValueError, match="task 2 fails"):
            list(ex.map(_fail_on_two, range(4)))
        assert list(ex.map(_fail_on_two, [0, 1, 3])) == [0, 1, 3]  # a new pool after the failure
        pool = ex._pool
    assert ex._pool is None and pool is not None
    with pytest.raises(RuntimeError):  # closed: no more work
        pool.submit(_pid, 0)


KERNELS_CHILD = """
import sys
import numpy as np
from dipolehnl.analysis.analyses import load_analysis
from dipolehnl.analysis.scan import ScanSettings
from dipolehnl.analysis.scan_settings import MassTask, _analysis_to_json, with_preset
from dipolehnl.analysis.scan_worker import run_mass
from dipolehnl.config import get_preset
from dipolehnl.detector import load_detector

for preset in ("default", "paper"):
    p = get_preset(preset)
    doc = _analysis_to_json(with_preset(load_analysis("t2k2019"), p))
    run_mass(MassTask((doc,), p, ScanSettings(n_events=300), 0.1))
rng = np.random.default_rng(1)
o = rng.uniform(-1, 1, (50, 3))
d = rng.normal(size=(50, 3))
d /= np.linalg.norm(d, axis=1)[:, None]
load_detector("nd280").trace(o, d, method="sweep")
for m in ("generate", "detector", "beam"):
    print(sys.modules["dipolehnl." + m + "._kernels"].__file__)
print("numba" in sys.modules, "scipy.interpolate" in sys.modules, "scipy.sparse" in sys.modules)
"""


def test_the_kernels_are_built_at_install_and_a_scan_compiles_nothing_at_run_time():
    """In a fresh process, a mass of a scan with the grid tracer and the beamline, one with
    SIREN's box and the sweep tracer run on the compiled extension modules built when the
    package is installed (setup.py, Cython): no JIT compiler is imported (nothing to compile
    on the first run after installing), nor scipy.interpolate (0.3-0.5 s per worker) or
    scipy.sparse (0.2-0.4 s: the per-stratum sums are a compiled kernel too)."""
    out = subprocess.run([sys.executable, "-c", KERNELS_CHILD], capture_output=True, text=True, check=True)
    *files, flags = out.stdout.strip().splitlines()
    assert len(files) == 3 and all(f.endswith((".so", ".pyd")) for f in files), files
    assert flags == "False False False"


def test_local_executor_started_early_preloads_and_stops_at_once():
    """start() spawns the workers (importing the given modules) before the first map; the
    results are the same; closing while they still import stops them at once."""
    ex = LocalExecutor(2)
    ex.start(preload=("dipolehnl.analysis.scan_worker",))
    assert ex._pool is not None and len(ex._warm) == 2
    t0 = time.monotonic()
    ex.close()
    assert time.monotonic() - t0 < 1.5 and ex._pool is None
    with LocalExecutor(2) as ex:
        ex.start(preload=("json",))
        assert list(ex.map(abs, [-1, -2, 3])) == [1, 2, 3]
    one = LocalExecutor(1)
    one.start(preload=("json",))  # one worker: runs in this process, nothing to start
    assert one._pool is None
    few = LocalExecutor(2)
    few.start(preload=("json",), tasks=1)  # no more processes than tasks
    assert len(few._warm) == 1 and len(few._pool._processes) == 1
    few.close()
