"""Regressions of issue 11: never a silently wrong or half-written result.

One test (or parametrised case) per failure reported there: stale or foreign cache
entries, output directories mixing runs or stopping half-way, detector files without
fiducial volumes, slow or noisy Ctrl-C, Infinity/NaN from extreme inputs, unbounded work,
and I/O failures reported as internal errors.  Grids are tiny (a few masses x 20
couplings, 300 events) so that the file runs in well under a minute.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dipolehnl.analysis.execution import LocalExecutor
from dipolehnl.analysis.scan import ScanSettings, run_scan
from dipolehnl.analysis.scan_cache import cache_key, mass_file
from dipolehnl.cli import main
from dipolehnl.errors import InputError, OutputError

SRC = str(Path(__file__).resolve().parents[1] / "src")
ENV = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
COUPLINGS = tuple(np.geomspace(1e-7, 1e-4, 20))
TINY = ScanSettings(masses_GeV=(0.05, 0.15, 0.3), couplings_GeVinv=COUPLINGS, n_events=300, seed=5, refine=False)
SCAN = [
    "scan",
    "--analysis",
    "t2k2019",
    "--masses",
    "0.05,0.15,0.3",
    "--couplings",
    "1e-7:1e-4:20",
    "--events",
    "300",
    "--quiet",
]
RATE = ["rate", "--mass", "0.2", "--coupling", "1e-6", "--pot", "1e21", "--events", "300"]


def cli(capsys, argv) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(capsys, argv, *fragments, code: int = 2) -> str:
    got, out, err = cli(capsys, argv)
    assert got == code, f"exit {got} for {argv}: {err}"
    assert err.count("\n") == 1 and err.endswith("\n") and "Traceback" not in err, repr(err)
    assert "internal error" not in err
    for frag in fragments:
        assert frag.lower() in err.lower(), f"{frag!r} not in {err!r}"
    return err


def run_cli_process(argv, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dipolehnl.cli", *map(str, argv)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=kw.pop("timeout", 300),
        **kw,
    )


def manifest_matches(out: Path) -> dict:
    """summary.json's manifest names exactly the output files and their SHA-256."""
    summary = json.loads((out / "summary.json").read_text())
    man = summary["manifest"]
    assert set(man["files_sha256"]) == set(summary["files"]) - {"summary.json"}
    for name, digest in man["files_sha256"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name
    visible = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    assert visible == set(summary["files"])
    return summary


def leftovers(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.name.endswith(".tmp") or ".staging-" in p.name)


# ================================================================== 1. stale results
def _analysis_with_own_efficiency(tmp_path: Path, scale: float = 1.0) -> Path:
    from importlib.resources import files

    src = files("dipolehnl").joinpath("analysis", "data", "efficiency", "t2k2019_hnl_ee_selection_efficiency.txt")
    lines = []
    for line in src.read_text().splitlines():
        tok = line.split()
        if tok and not line.lstrip().startswith("#") and all(_isnum(t) for t in tok):
            line = " ".join([tok[0]] + [f"{float(t) * scale:.6g}" for t in tok[1:]])
        lines.append(line)
    (tmp_path / "eff.txt").write_text("\n".join(lines) + "\n")
    toml = files("dipolehnl").joinpath("analysis", "data", "analyses", "t2k2019.toml").read_text()
    toml = toml.replace('efficiency = "t2k2019"', 'efficiency = "eff.txt"')
    assert 'efficiency = "eff.txt"' in toml
    (tmp_path / "mine.toml").write_text(toml)
    return tmp_path / "mine.toml"


def _isnum(t: str) -> bool:
    try:
        float(t)
        return True
    except ValueError:
        return False


def test_changed_efficiency_file_contents_are_not_served_from_the_cache(tmp_path):
    """Issue 11.1: editing the analysis's own efficiency file in place gives new numbers
    (1/4 of the efficiency -> exactly 1/4 of the signal, same events), not the cached ones."""
    ana = _analysis_with_own_efficiency(tmp_path)
    cache = tmp_path / "cache"
    first = run_scan(str(ana), "default", TINY, cache_dir=cache, executor=LocalExecutor(1))
    again = run_scan(str(ana), "default", TINY, cache_dir=cache, executor=LocalExecutor(1))
    assert again.cached_masses == 3  # unchanged file: the cache is used
    _analysis_with_own_efficiency(tmp_path, scale=0.25)  # same path, new contents
    changed = run_scan(str(ana), "default", TINY, cache_dir=cache, executor=LocalExecutor(1))
    assert changed.cached_masses == 0
    np.testing.assert_allclose(changed.signal(), 0.25 * first.signal(), rtol=1e-5)
    assert first.signal().max() > 0


def test_cache_key_hashes_the_experiment_files_and_every_file_they_name(tmp_path):
    """Issue 11.1 with experiment files: the key covers the contents of the experiment file,
    its detector file and flux tables, and the analysis's efficiency table; changing any of
    them (in place, same path) changes the key, an unrelated file does not."""
    from dipolehnl.analysis.analyses import load_analysis
    from dipolehnl.analysis.scan_cache import referenced_files
    from dipolehnl.config import get_preset

    toy = Path(__file__).parent / "data" / "toy"
    for f in toy.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    p = get_preset("default")
    files = {Path(k).name for k in referenced_files(load_analysis(tmp_path / "toy-photon.toml"))}
    assert {"toy-experiment.toml", "toy-detector.toml", "toy-flux.txt", "toy-photon-efficiency.txt"} <= files

    def key():
        return cache_key([load_analysis(tmp_path / "toy-ee.toml")], p, TINY)

    k0 = key()
    (tmp_path / "README.md").write_text("unrelated\n")
    assert key() == k0
    seen = {k0}
    for name in ("toy-flux.txt", "toy-detector.toml", "toy-experiment.toml"):
        f = tmp_path / name
        f.write_text(f.read_text() + "\n# edited\n")
        seen.add(key())
    assert len(seen) == 4
    shipped = set(referenced_files(load_analysis("t2k2019")))
    assert {Path(k).name for k in shipped} >= {
        "t2k-nd280.toml",
        "nd280.toml",
        "t2k_nd280_fhc_plus250kA_2020.txt",
        "t2k_nd280_rhc_minus250kA.txt",
        "t2k_nd280_numu_flux_fractional_error.txt",
        "t2k2019_hnl_ee_selection_efficiency.txt",
    }


def test_experiment_files_edited_in_place_are_read_again(tmp_path):
    """The results must come from the contents the cache key hashed: a loaded experiment is
    not reused after its flux table (or any file it names) is edited in place."""
    from dipolehnl.experiment import load_experiment

    toy = Path(__file__).parent / "data" / "toy"
    for f in toy.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    exp = tmp_path / "toy-experiment.toml"
    before = load_experiment(exp)
    assert load_experiment(exp) is before  # unchanged files: the loaded experiment is reused
    flux = tmp_path / "toy-flux.txt"
    rows = [line.split() for line in flux.read_text().splitlines() if line.strip() and not line.startswith("#")]
    flux.write_text("".join(f"{lo} {hi} {2 * float(v)!r}\n" for lo, hi, v in rows))
    after = load_experiment(exp)
    np.testing.assert_allclose(
        after.flux("nu", "numu").density_per_cm2_GeV_POT, 2 * before.flux("nu", "numu").density_per_cm2_GeV_POT
    )


def _cached_scan(tmp_path, seed):
    st = ScanSettings(**{**TINY.__dict__, "seed": seed})
    res = run_scan("t2k2019", "default", st, cache_dir=tmp_path, executor=LocalExecutor(1))
    from dipolehnl.analysis.analyses import load_analysis
    from dipolehnl.analysis.scan import with_preset
    from dipolehnl.config import get_preset

    p = get_preset("default")
    return res, st, tmp_path / cache_key([with_preset(load_analysis("t2k2019"), p)], p, st)


def test_cache_key_covers_the_scan_method_constants(monkeypatch):
    """A cache made with other refinement targets, exact-coupling strides or azimuth sectors
    is not reused: the key changes with each of them."""
    from dipolehnl.analysis import scan_settings as ss
    from dipolehnl.analysis.analyses import load_analysis
    from dipolehnl.config import get_preset

    p = get_preset("default")
    group = [load_analysis("t2k2019")]
    seen = {cache_key(group, p, TINY)}
    for name, value in (("REFINE_TARGET", 0.05), ("EXACT_STRIDE", 1), ("AZIMUTH_SECTORS", 1)):
        with monkeypatch.context() as m:
            m.setattr(ss, name, value)
            seen.add(cache_key(group, p, TINY))
    assert len(seen) == 4 and cache_key(group, p, TINY) in seen


def test_cache_entry_copied_from_another_settings_hash_is_recomputed(tmp_path, caplog):
    """Issue 11.1: an entry copied in from another key is not used (warning, recomputed)."""
    a, st_a, dir_a = _cached_scan(tmp_path, seed=5)
    b, st_b, dir_b = _cached_scan(tmp_path, seed=6)
    assert dir_a != dir_b
    m = TINY.masses_GeV[1]
    mass_file(dir_b, m).write_bytes(mass_file(dir_a, m).read_bytes())  # foreign entry under b's key
    with caplog.at_level(logging.WARNING, logger="dipolehnl"):
        b2 = run_scan("t2k2019", "default", st_b, cache_dir=tmp_path, executor=LocalExecutor(1))
    assert b2.cached_masses == 2
    assert any("recomputing" in r.getMessage() for r in caplog.records)
    assert b2.signal().tobytes() == b.signal().tobytes()
    assert not np.array_equal(b2.signal()[1], a.signal()[1])


def test_cache_entry_under_another_mass_name_is_recomputed(tmp_path, caplog):
    """Issue 11.1: an entry saved under another mass's file name is not used."""
    a, st, d = _cached_scan(tmp_path, seed=5)
    m0, m1 = TINY.masses_GeV[0], TINY.masses_GeV[1]
    mass_file(d, m1).write_bytes(mass_file(d, m0).read_bytes())
    with caplog.at_level(logging.WARNING, logger="dipolehnl"):
        again = run_scan("t2k2019", "default", st, cache_dir=tmp_path, executor=LocalExecutor(1))
    assert again.cached_masses == 2
    assert any("recomputing" in r.getMessage() for r in caplog.records)
    assert again.signal().tobytes() == a.signal().tobytes()


def test_cache_entry_records_its_key_and_mass(tmp_path):
    _, st, d = _cached_scan(tmp_path, seed=5)
    with np.load(mass_file(d, TINY.masses_GeV[2])) as z:
        assert str(z["__key__"]) == d.name
        assert float(z["__mass_GeV__"]) == TINY.masses_GeV[2]


# ================================================================== 2. output sets
@pytest.mark.parametrize(
    "masses,frag", [("0.3", "at least 2 masses"), ("0.3,0.3", "duplicate"), ("0.3,0.1,0.2", "increasing order")]
)
def test_bad_mass_grid_refused_before_any_computation(capsys, tmp_path, masses, frag):
    """Issue 11.2: one mass, duplicate or unsorted masses: one line, exit 2, nothing written
    (not even the output directory), no computation."""
    out = tmp_path / "out"
    argv = list(SCAN) + ["--out", out]
    argv[argv.index("--masses") + 1] = masses
    t = time.perf_counter()
    assert_one_line_error(capsys, argv, frag)
    assert time.perf_counter() - t < 5
    assert not out.exists()


def test_second_run_into_a_locked_out_is_refused(tmp_path):
    """Issue 11.2: while a run holds --out, another scan into it is refused with one line
    and exit 2, and writes nothing there."""
    from dipolehnl.io import output_lock

    out = tmp_path / "out"
    with output_lock(out):  # another run holds the directory
        r = run_cli_process(SCAN + ["--out", out, "--workers", "1"], timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "in use by another dipolehnl run" in r.stderr and "Traceback" not in r.stderr
    assert sorted(p.name for p in out.iterdir()) == [".lock"]


def test_two_scans_with_different_seeds_into_one_out_never_mix(tmp_path):
    """Issue 11.2: each complete run leaves a set whose manifest (run id, SHA-256 of every
    file) matches the files; the second run's files all belong to the second run."""
    out = tmp_path / "out"
    r1 = run_cli_process(SCAN + ["--out", out, "--workers", "1", "--seed", "1"])
    assert r1.returncode == 0, r1.stderr
    s1 = manifest_matches(out)
    r2 = run_cli_process(SCAN + ["--out", out, "--workers", "1", "--seed", "2"])
    assert r2.returncode == 0, r2.stderr
    s2 = manifest_matches(out)
    assert s1["settings"]["seed"] == 1 and s2["settings"]["seed"] == 2
    assert s1["manifest"]["run_id"] != s2["manifest"]["run_id"]
    assert s1["manifest"]["settings_hash"] != s2["manifest"]["settings_hash"]
    assert (
        s1["manifest"]["files_sha256"]["expected_events.csv"] != s2["manifest"]["files_sha256"]["expected_events.csv"]
    )
    assert leftovers(out) == []


_KILL_DURING_COMMIT = r"""
import os, sys
from pathlib import Path
from dipolehnl import io
n_kill = int(sys.argv[2])
real, calls = os.replace, []
def replace(a, b):
    calls.append(b)
    if len(calls) == n_kill:
        os._exit(9)  # as SIGKILL: no cleanup at all
    return real(a, b)
io.os.replace = replace
with io.atomic_output_set(sys.argv[1], settings_hash="new") as s:
    for name in ("a.csv", "b.csv", "c.csv"):
        s.write_text(name, "x,y\n1,%s\n" % sys.argv[3])
    s.write_manifest({"files": ["a.csv", "b.csv", "c.csv", "summary.json"], "run": sys.argv[3]})
"""


@pytest.mark.parametrize("n_kill", [1, 2, 3, 4])
def test_kill_during_the_output_phase_of_a_rerun(tmp_path, n_kill):
    """Issue 11.2: a run killed while committing its outputs over a previous set never leaves
    a summary.json that disagrees with the files; the next run on the directory completes
    the staged set, and no temporary remains."""
    from dipolehnl.io import atomic_output_set, output_lock

    out = tmp_path / "out"
    with atomic_output_set(out, settings_hash="old") as s:  # the previous, complete run
        for name in ("a.csv", "b.csv", "c.csv", "old_only.csv"):
            s.write_text(name, "x,y\n1,old\n")
        s.write_manifest({"files": ["a.csv", "b.csv", "c.csv", "old_only.csv", "summary.json"], "run": "old"})
    manifest_matches(out)
    r = subprocess.run(
        [sys.executable, "-c", _KILL_DURING_COMMIT, str(out), str(n_kill), "new"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 9, r.stderr
    if (out / "summary.json").exists():  # a reader who sees a summary sees a consistent set
        manifest_matches(out)
    with output_lock(out):  # the next run on the directory
        pass
    s = manifest_matches(out)
    assert s["run"] == "new" and not (out / "old_only.csv").exists()
    assert leftovers(out) == []


def test_stale_temporaries_and_unfinished_staging_are_removed(tmp_path):
    from dipolehnl.analysis.results import write_scan_outputs

    res = run_scan("t2k2019", "default", TINY, executor=LocalExecutor(1))
    out = tmp_path / "out"
    out.mkdir()
    (out / ".expected_events.csv.k1ll3d.tmp").write_text("half")
    (out / ".staging-deadbeef").mkdir()
    (out / ".staging-deadbeef" / "expected_events.csv").write_text("half a set")  # not marked complete
    write_scan_outputs(res, out)
    manifest_matches(out)
    assert leftovers(out) == []


# ================================================================== 3. detector files without fiducial volumes
@pytest.fixture()
def siren(reference_dir):
    return reference_dir / "detector"


@pytest.mark.parametrize("name", ["siren_ND280-v1_densities.dat", "siren_ND280UPGRD-v1_densities.dat"])
def test_siren_fiducial_line_is_used(capsys, siren, name):
    """Issue 11.3: a SIREN file's 'fiducial' line is the fiducial volume 'fiducial' (ND280: in
    TPC3's gas; the upgrade: a 3.5 x 3.6 x 7 m box over several media)."""
    code, out, err = cli(capsys, RATE + ["--detector", siren / name, "--json"])
    assert code == 0, err
    r = json.loads(out)
    assert list(r["fiducial_volumes"]) == ["fiducial"] and np.isfinite(r["selected_events"])
    assert r["decays_in_fiducial"] > 0


def _toy_experiment_without_fiducial_volumes(tmp_path: Path, detector_fv: bool = False) -> Path:
    """The toy experiment of tests/data/toy with its [fiducial_volumes] removed (and, with
    ``detector_fv``, a fiducial volume 'core' in the detector file instead)."""
    toy = Path(__file__).parent / "data" / "toy"
    for f in toy.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    exp = tmp_path / "toy-experiment.toml"
    text = exp.read_text()
    exp.write_text(text[: text.index("[fiducial_volumes.")])
    if detector_fv:
        from dipolehnl.detector import Detector, dump_detector_toml, load_detector
        from dipolehnl.detector.shapes import Box

        det = load_detector(tmp_path / "toy-detector.toml")
        dump_detector_toml(
            Detector(det.name, list(det.volumes), {"core": Box((0, 0, 0), (1, 1, 1))}, det.description),
            tmp_path / "toy-detector.toml",
        )
    return exp


@pytest.mark.parametrize("command", ["rate", "simulate"])
def test_set_up_without_fiducial_volume_is_refused_with_a_hint(capsys, tmp_path, command):
    """Issue 11.3: an experiment file without fiducial volumes whose detector has none:
    one line saying how to add them, exit 2 (was: internal error ZeroDivisionError)."""
    exp = _toy_experiment_without_fiducial_volumes(tmp_path)
    argv = (
        RATE
        if command == "rate"
        else ["simulate", "--mass", "0.2", "--coupling", "1e-6", "--events", "300", "--out", tmp_path / "ev.parquet"]
    )
    assert_one_line_error(
        capsys,
        argv + ["--experiment", exp, "--mode", "nu"],
        "no analysis fiducial volume",
        "--fiducial",
        "[fiducial_volumes",
    )
    assert not (tmp_path / "ev.parquet").exists()


def test_scan_of_an_experiment_without_fiducial_volume_is_refused_up_front(capsys, tmp_path):
    """Issue 11.3: scan on an analysis whose experiment has no fiducial volumes: refused
    before any computation, one line naming the analysis file and key; nothing written."""
    _toy_experiment_without_fiducial_volumes(tmp_path)
    argv = list(SCAN) + ["--out", tmp_path / "out"]
    argv[argv.index("--analysis") + 1] = tmp_path / "toy-ee.toml"
    t = time.perf_counter()
    assert_one_line_error(capsys, argv, "toy-ee.toml", "dataset[0].experiment", "no analysis fiducial volume")
    assert time.perf_counter() - t < 5
    assert not (tmp_path / "out").exists()


def test_experiment_without_fiducial_volumes_uses_the_detectors(capsys, tmp_path):
    """An experiment file without [fiducial_volumes] takes its detector's own."""
    exp = _toy_experiment_without_fiducial_volumes(tmp_path, detector_fv=True)
    code, out, err = cli(capsys, RATE + ["--experiment", exp, "--mode", "nu", "--json"])
    assert code == 0, err
    assert list(json.loads(out)["fiducial_volumes"]) == ["core"]


def test_toml_detector_without_fiducial_volume_uses_the_experiments(capsys, tmp_path):
    """--detector FILE without fiducial volumes: the experiment's are used (and --fiducial
    replaces them)."""
    from dipolehnl.detector import Detector, dump_detector_toml, load_detector

    det = load_detector("nd280")
    dump_detector_toml(Detector(det.name, list(det.volumes), {}, det.description), tmp_path / "nofv.toml")
    code, out, err = cli(capsys, RATE + ["--detector", tmp_path / "nofv.toml", "--json"])
    assert code == 0, err
    assert list(json.loads(out)["fiducial_volumes"]) == ["TPC1", "TPC2", "TPC3"]


def test_fiducial_option_attaches_volumes(capsys, siren):
    """--fiducial NAME=CX,CY,CZ,LX,LY,LZ makes the upgrade SIREN file usable; its TPC1 box
    gives the same expected events as the shipped model's TPC1 within the MC errors."""
    fv = "TPC1=0,0,-0.375,1.70,1.96,0.563"
    code, out, err = cli(
        capsys, RATE + ["--detector", siren / "siren_ND280UPGRD-v1_densities.dat", "--fiducial", fv, "--json"]
    )
    assert code == 0, err
    r = json.loads(out)
    assert list(r["fiducial_volumes"]) == ["TPC1"] and r["selected_events"] > 0 and np.isfinite(r["rel_mc_error"])


@pytest.mark.parametrize(
    "spec,frag",
    [
        ("TPC1=0,0,0", "six finite numbers"),
        ("=0,0,0,1,1,1", "NAME="),
        ("X=0,0,0,1,1,nan", "six finite"),
        ("X=0,0,100,1,1,1", "not inside"),
    ],
)
def test_bad_fiducial_option(capsys, spec, frag):
    assert_one_line_error(capsys, RATE + ["--fiducial", spec], frag)


# ================================================================== 4. Ctrl-C
def _interrupt_scan(out: Path, extra: list[str]) -> tuple[subprocess.CompletedProcess, float, int, int]:
    argv = [
        sys.executable,
        "-m",
        "dipolehnl.cli",
        "scan",
        "--analysis",
        "t2k2019",
        "--masses",
        "0.05:0.8:8",
        "--couplings",
        "1e-7:1e-4:20",
        "--events",
        "20000",
        "--quiet",
        "--out",
        str(out),
        *extra,
    ]
    p = subprocess.Popen(argv, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t = time.monotonic()
    while not glob.glob(str(out / ".cache/*/mass_*.npz")) and p.poll() is None and time.monotonic() - t < 240:
        time.sleep(0.1)
    assert p.poll() is None, "scan finished before it could be interrupted"
    n_before = len(glob.glob(str(out / ".cache/*/mass_*.npz")))
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    o, e = p.communicate(timeout=60)
    dt = time.monotonic() - t0
    return (
        subprocess.CompletedProcess(argv, p.returncode, o, e),
        dt,
        n_before,
        len(glob.glob(str(out / ".cache/*/mass_*.npz"))),
    )


def _check_interrupted(out, r, dt, n_before, n_after):
    assert r.returncode == 130, r.stderr
    assert dt < 2.0 + 1.0, f"took {dt:.1f} s to stop"  # 2 s, plus interpreter start-up slack on a loaded machine
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("dipolehnl: interrupted") and "Traceback" not in r.stderr
    assert 1 <= n_before <= n_after < 8  # finished masses kept, the rest not computed
    assert not (out / "summary.json").exists() and leftovers(out) == []


def test_ctrl_c_stops_the_process_pool_promptly_and_keeps_finished_masses(tmp_path):
    """Issue 11.4: SIGINT to a running scan on the process pool: exit 130 within 2 s, one
    line, the finished masses in the cache, and a rerun resumes from them."""
    out = tmp_path / "out"
    r, dt, n_before, n_after = _interrupt_scan(out, ["--workers", "2"])
    _check_interrupted(out, r, dt, n_before, n_after)
    time.sleep(1.0)
    alive = subprocess.run(["pgrep", "-f", f"{out}"], capture_output=True, text=True).stdout.split()
    assert alive == []


@pytest.mark.slow(reason="starts a dask LocalCluster (about 10 s on two cores)")
def test_ctrl_c_stops_dask_promptly_and_quietly(tmp_path):
    pytest.importorskip("dask.distributed", reason="dask.distributed is not installed")
    out = tmp_path / "out"
    r, dt, n_before, n_after = _interrupt_scan(out, ["--dask-local", "2"])
    _check_interrupted(out, r, dt, n_before, n_after)


def test_dask_worker_side_input_error_is_one_line(capfd):
    """Issue 11.4: an InputError raised in a dask worker reaches the caller as that
    InputError, and dask prints nothing (no traceback) unless --verbose."""
    pytest.importorskip("dask.distributed", reason="dask.distributed is not installed")
    from dipolehnl.analysis.execution import DaskExecutor
    from dipolehnl.bounds import check_seed

    with DaskExecutor(local_workers=1) as ex:
        with pytest.raises(InputError, match="seed must be"):
            list(ex.map_completed(check_seed, [-1]))
    _, err = capfd.readouterr()
    assert "Traceback" not in err and "distributed" not in err, err


# ================================================================== 5. Infinity/NaN
@pytest.mark.parametrize(
    "argv,frag",
    [
        (["width", "--mass", "0.2", "--coupling", "1e308"], "coupling"),
        (["width", "--mass", "0.2", "--coupling", "1e-300"], "coupling"),
        (["xsec", "--mass", "0.2", "--coupling", "1e-6", "--target", "1000060120", "--energy", "1e308"], "energy"),
        (RATE[:-4] + ["--pot", "1e308", "--events", "300"], "POT"),
        (RATE + ["--gas-density", "1e308"], "gas density"),
    ],
)
def test_extreme_physical_inputs_are_refused_not_infinite(capsys, argv, frag):
    """Issue 11.5: values that used to give Infinity/NaN (or an internal error) are refused
    with the supported range."""
    err = assert_one_line_error(capsys, argv, frag)
    assert " in " in err  # states the range


def test_extreme_detector_density_is_refused(capsys, tmp_path):
    from dipolehnl.detector import dump_detector_toml, load_detector

    det = load_detector("nd280")
    text_path = tmp_path / "dense.toml"
    dump_detector_toml(det, text_path)
    text = text_path.read_text()
    i = text.index("density_g_cm3 = ")
    j = text.index("\n", i)
    text_path.write_text(text[:i] + "density_g_cm3 = 1e308" + text[j:])
    assert_one_line_error(capsys, RATE + ["--detector", text_path], "density")


def test_absurd_coupling_grid_is_refused(capsys, tmp_path):
    """Issue 11.5: --couplings 1e-300:1e300:5 exited 0 claiming a world-leading range."""
    argv = list(SCAN) + ["--out", tmp_path / "out"]
    argv[argv.index("--couplings") + 1] = "1e-300:1e300:5"
    assert_one_line_error(capsys, argv, "coupling")
    assert not (tmp_path / "out").exists()


def test_range_limits_give_finite_results(capsys):
    """At the edges of the supported ranges every number printed is finite."""
    for d in ("1e-15", "1"):
        code, out, err = cli(capsys, ["width", "--mass", "0.2", "--coupling", d, "--json"])
        assert code == 0, err
        vals = json.loads(out)
        assert all(np.isfinite(v) for v in vals.values() if isinstance(v, float))
    code, out, err = cli(
        capsys, ["xsec", "--mass", "0.2", "--coupling", "1", "--target", "1000822080", "--energy", "1000", "--json"]
    )
    assert code == 0, err
    assert all(np.isfinite(v) for v in json.loads(out).values() if isinstance(v, float))


def test_final_finiteness_check():
    from dipolehnl.io import check_finite, check_finite_csv

    with pytest.raises(OutputError, match=r"a\.b\[1\]"):
        check_finite({"a": {"b": [1.0, float("inf")]}}, "x")
    with pytest.raises(OutputError, match="line 3, column 2"):
        check_finite_csv("m,d\n1,2\n3,nan\n", "x.csv")
    assert check_finite({"a": np.ones(3), "b": "text", "c": None}, "x")["b"] == "text"


# ================================================================== 6. unbounded work
@pytest.mark.parametrize(
    "argv,frag",
    [
        (RATE[:-1] + ["1000000000000"], "limit"),
        (SCAN[:-1] + ["--masses", "0.1:1:1000000000", "--out", "OUT"], "limit"),
        (SCAN[:-1] + ["--events", "1000000000000", "--out", "OUT"], "limit"),
        (SCAN[:-1] + ["--couplings", "1e-8:1e-4:20000", "--out", "OUT"], "limit"),
        (SCAN[:-1] + ["--events", "1000000", "--couplings", "1e-8:1e-4:200", "--out", "OUT"], "limit"),
    ],
)
def test_unbounded_work_is_refused_up_front(capsys, tmp_path, argv, frag):
    """Issue 11.6: refused at once with the stated limit (was: ran until memory/time ran out)."""
    argv = [tmp_path / "out" if a == "OUT" else a for a in argv]
    t = time.perf_counter()
    assert_one_line_error(capsys, argv, frag)
    assert time.perf_counter() - t < 5
    assert not (tmp_path / "out").exists()


def test_huge_flux_file_is_refused(capsys, tmp_path):
    """Issue 11.6: a 400 000-bin flux file."""
    big = tmp_path / "flux.txt"
    with open(big, "w") as fh:
        fh.write("Bin#   Energy [GeV]     numu      anti-numu nue       anti-nue\n---\n")
        fh.writelines(f"{i + 1} {i * 1e-4:.4f} - {(i + 1) * 1e-4:.4f} 1e9 1e9 1e7 1e6\n" for i in range(400_000))
    t = time.perf_counter()
    assert_one_line_error(capsys, RATE + ["--flux-file", big], "flux file", "limit")
    assert time.perf_counter() - t < 5


def test_flux_file_with_too_many_bins_is_refused(capsys, tmp_path):
    small = tmp_path / "flux.txt"
    with open(small, "w") as fh:
        fh.write("Bin#   Energy [GeV]     numu      anti-numu nue       anti-nue\n---\n")
        fh.writelines(f"{i + 1} {i * 1e-3:.3f} - {(i + 1) * 1e-3:.3f} 1e9 1e9 1e7 1e6\n" for i in range(6000))
    assert_one_line_error(capsys, RATE + ["--flux-file", small], "5,000")


def test_flux_file_dev_zero_is_refused(capsys):
    """Issue 11.6: --flux-file /dev/zero (read forever before)."""
    assert_one_line_error(capsys, RATE + ["--flux-file", "/dev/zero"], "/dev/zero", "not a regular file")


# ================================================================== 7. I/O failures
@pytest.mark.parametrize("command", ["scan", "simulate", "kaon-validation"])
@pytest.mark.parametrize("where", ["parent_is_file", "too_long", "dev_full"])
def test_unwritable_outputs_are_one_line_exit_2(capsys, tmp_path, command, where):
    """Issue 11.7: no permission is not testable as root; a parent that is a file, an
    over-long name and /dev/full: one line naming what could not be written where, exit 2,
    nothing half-written."""
    (tmp_path / "file").write_text("a file")
    target = {
        "parent_is_file": tmp_path / "file" / "out",
        "too_long": tmp_path / ("x" * 300),
        "dev_full": Path("/dev/full"),
    }[where]
    if command == "scan":
        argv = SCAN + ["--out", target]
    elif command == "simulate":
        target = Path(f"{target}.parquet") if where != "dev_full" else Path("/dev/full/ev.parquet")
        argv = ["simulate", "--mass", "0.2", "--coupling", "1e-6", "--events", "300", "--out", target]
    else:
        argv = ["kaon-validation", "--quiet", "--out", target]
    err = assert_one_line_error(capsys, argv, "cannot write")
    assert str(target)[:40] in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_disk_full_while_writing_outputs(monkeypatch, capsys, tmp_path):
    """Issue 11.7: a full disk while writing a scan's outputs: one line, exit 2, no file of
    the set and no temporary."""
    import errno

    real = Path.write_text

    def full(self, *a, **k):
        if self.suffix == ".csv":
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, *a, **k)

    out = tmp_path / "out"
    monkeypatch.setattr(Path, "write_text", full)
    assert_one_line_error(capsys, SCAN + ["--out", out, "--workers", "1"], "cannot write", "no space left")
    monkeypatch.undo()
    assert sorted(p.name for p in out.iterdir()) == [".cache", ".lock"] and leftovers(out) == []


def test_negative_seed_is_refused(capsys, tmp_path):
    """Issue 11.7: --seed -1 was an internal error."""
    assert_one_line_error(capsys, RATE + ["--seed=-1"], "seed")
    assert_one_line_error(capsys, SCAN + ["--seed=-1", "--out", tmp_path / "o"], "seed")


def test_interrupt_during_commit_is_completed_by_the_next_run(tmp_path, monkeypatch):
    """Ctrl-C (or a failing rename) while committing a fully staged set keeps the staging
    directory, and the next run on the directory completes the set."""
    from dipolehnl import io
    from dipolehnl.io import atomic_output_set, output_lock

    out = tmp_path / "out"
    real, calls = os.replace, []

    def replace(a, b):
        calls.append(b)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(a, b)

    monkeypatch.setattr(io.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        with atomic_output_set(out, settings_hash="h") as s:
            for name in ("a.csv", "b.csv"):
                s.write_text(name, f"x\n{name}\n")
            s.write_manifest({"files": ["a.csv", "b.csv", "summary.json"]})
    monkeypatch.undo()
    assert not (out / "summary.json").exists()
    with output_lock(out):
        pass
    manifest_matches(out)
    assert leftovers(out) == []


def test_miniboone_fit_refuses_a_locked_out_and_writes_one_set_with_a_manifest(tmp_path):
    """miniboone-fit: a second run into a held --out is refused (one line, exit 2, nothing
    written); a completed run leaves one output set whose manifest matches its files."""
    from dipolehnl.io import output_lock

    args = ["miniboone-fit", "--masses", "10:100:3", "--couplings", "1e-7:1e-5:12", "--events", "300", "--fit", "enu"]
    out = tmp_path / "fit"
    with output_lock(out):
        r = run_cli_process(args + ["--out", out], timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "in use by another dipolehnl run" in r.stderr and "Traceback" not in r.stderr
    assert sorted(p.name for p in out.iterdir()) == [".lock"]
    r = run_cli_process(args + ["--out", out], timeout=300)
    assert r.returncode == 0, r.stderr
    doc = manifest_matches(out)
    assert set(doc["manifest"]["files_sha256"]) == {
        "preferred_region_enu_95cl.csv",
        "preferred_region_enu_997cl.csv",
        "chi2_grid.csv",
    }
    assert leftovers(out) == []
