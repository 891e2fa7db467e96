"""Resumable scans: a scan killed with SIGKILL mid-way and run again gives exactly the files
of an uninterrupted run, leaves no temporary file, and a quiet run prints nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")

N_MASSES = 4
ARGS = [
    "scan",
    "--analysis",
    "t2k2019",
    "--masses",
    "0.03,0.1,0.3,0.6",
    "--couplings",
    "1e-7:1e-4:16",
    "--events",
    "300",
    "--workers",
    "1",
    "--quiet",
]
TIMING_KEYS = {"wall_time_s", "masses_from_cache", "manifest"}  # manifest: run id and time


def command(out: Path) -> list[str]:
    return [sys.executable, "-m", "dipolehnl.cli", *ARGS, "--out", str(out)]


def cached(out: Path) -> list[Path]:
    return sorted(out.glob(".cache/*/mass_*.npz"))


def run_to_completion(out: Path) -> subprocess.CompletedProcess:
    r = subprocess.run(command(out), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "" and r.stdout == ""  # --quiet: silent on success
    return r


def outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}


def temporaries(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.name.endswith(".tmp")]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """An uninterrupted run."""
    out = tmp_path_factory.mktemp("uninterrupted")
    run_to_completion(out)
    return out


def test_sigkill_mid_scan_then_rerun_gives_identical_files(tmp_path, reference):
    out = tmp_path / "killed"
    with open(tmp_path / "stderr.txt", "w") as err:
        proc = subprocess.Popen(command(out), stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 180
        while not cached(out):
            if proc.poll() is not None:
                pytest.fail(
                    f"scan ended (code {proc.returncode}) before caching a mass: "
                    f"{(tmp_path / 'stderr.txt').read_text()}"
                )
            if time.monotonic() > deadline:
                pytest.fail("no mass cached within 180 s")
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL  # really killed mid-scan, not finished
    n_done = len(cached(out))
    assert 1 <= n_done < N_MASSES
    assert not (out / "summary.json").exists() and not (out / "expected_events.csv").exists()
    # what a kill during np.savez leaves behind: a half-written temporary in the cache
    cache_dir = cached(out)[0].parent
    stale = cache_dir / f".mass_{0.6:.9e}.npz.k1ll3d.tmp"
    stale.write_bytes(b"PK\x03\x04 half-written")

    run_to_completion(out)

    got, ref = outputs(out), outputs(reference)
    assert sorted(got) == sorted(ref)
    assert any(name.endswith(".csv") for name in ref)
    for name in ref:
        if name.endswith(".csv"):
            assert got[name] == ref[name], f"{name} differs after kill + resume"
    s_got, s_ref = json.loads(got["summary.json"]), json.loads(ref["summary.json"])
    assert s_got["masses_from_cache"] == n_done and s_ref["masses_from_cache"] == 0
    assert {k: v for k, v in s_got.items() if k not in TIMING_KEYS} == {
        k: v for k, v in s_ref.items() if k not in TIMING_KEYS
    }
    # the caches hold the same masses with the same numbers
    assert [p.name for p in cached(out)] == [p.name for p in cached(reference)]
    assert [p.parent.name for p in cached(out)] == [p.parent.name for p in cached(reference)]
    for a, b in zip(cached(out), cached(reference)):
        with np.load(a) as za, np.load(b) as zb:
            assert sorted(za.files) == sorted(zb.files)
            for k in za.files:
                if not k.endswith("wall_time_s"):
                    assert za[k].tobytes() == zb[k].tobytes(), (a.name, k)
    # no temporary file anywhere: stale ones in the cache are cleaned up by the rerun
    assert temporaries(out) == []
    assert temporaries(reference) == []


def test_rerun_uses_the_cache_and_changed_settings_do_not(tmp_path, reference):
    """Same command → every mass from the cache, same files; another seed → a new cache."""
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(reference, out)
    run_to_completion(out)
    s = json.loads((out / "summary.json").read_text())
    assert s["masses_from_cache"] == N_MASSES
    for name, data in outputs(reference).items():
        if name.endswith(".csv"):
            assert (out / name).read_bytes() == data
    r = subprocess.run(command(out) + ["--seed", "99"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "summary.json").read_text())["masses_from_cache"] == 0
    assert len({p.parent for p in cached(out)}) == 2  # the old cache is kept, never mixed


def test_stale_temporaries_removed_only_when_no_other_scan_runs(tmp_path):
    """A temporary in the cache is removed at scan start, unless another scan (holding the
    cache's lock) may still be writing it."""
    fcntl = pytest.importorskip("fcntl")
    from dipolehnl.analysis.execution import LocalExecutor
    from dipolehnl.analysis.scan import ScanSettings, run_scan

    st = ScanSettings(
        masses_GeV=(0.05, 0.25), couplings_GeVinv=tuple(np.geomspace(1e-7, 1e-4, 8)), n_events=300, seed=3, refine=False
    )
    first = run_scan("t2k2019", "default", st, cache_dir=tmp_path, executor=LocalExecutor(1))
    (cache_dir,) = {p.parent for p in tmp_path.glob("*/mass_*.npz")}
    live = cache_dir / f".mass_{0.05:.9e}.npz.live1234.tmp"
    live.write_bytes(b"being written by another scan")
    with open(cache_dir / ".lock", "a") as other:  # another scan running on this cache
        fcntl.flock(other, fcntl.LOCK_SH)
        again = run_scan("t2k2019", "default", st, cache_dir=tmp_path, executor=LocalExecutor(1))
        assert live.exists()
    assert again.cached_masses == 2
    final = run_scan("t2k2019", "default", st, cache_dir=tmp_path, executor=LocalExecutor(1))
    assert not live.exists()
    assert final.cached_masses == 2 and final.signal().tobytes() == first.signal().tobytes()


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the pool's processes")
def test_pool_workers_exit_when_the_scan_is_killed(tmp_path):
    """SIGKILL of a scan on a process pool leaves no orphaned worker waiting for work forever."""
    argv = command(tmp_path)
    argv[argv.index("--workers") + 1] = "2"
    argv[argv.index("--masses") + 1] = "0.03,0.1,0.3,0.6,0.8,1.0"
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while not cached(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        workers = _children(proc.pid)
        assert proc.poll() is None and workers, "the scan should be running on a pool"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in workers if _alive(p)]
    for p in left:  # do not leave them behind even when the test fails
        os.kill(p, signal.SIGKILL)
    assert not left, f"orphaned pool processes {left}"
