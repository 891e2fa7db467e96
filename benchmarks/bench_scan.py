"""Benchmark of parameter scans: per-stage times on one worker, and the full default scan.

1. Stages: ``--masses`` masses of the default grid (spread over it) run one after the other
   in this process, the first of them cold (imports, detector grids, flux tables: "first
   mass").  For each stage (sampling, tracing, decay integrals,
   refinement, statistics, other; ``dipolehnl.generate._timing``) its wall time, share,
   events per second, CPU seconds per mass; the largest relative MC error where 1–100
   events are expected.  ``--profile FILE`` writes a cProfile of this part (``python -m
   pstats FILE``).
2. Full scan: ``scan --analysis t2k2019`` (60 masses x 200 couplings) on ``--workers``
   processes (default: all cores) without cache: wall time, then contours, CSV and JSON
   outputs (``write_scan_outputs``; figures are not timed yet); ``--all`` also scans the
   three analyses together.  ``--skip-full`` skips it.
Peak memory: largest resident set size of this process and of its workers.

Run: ``python benchmarks/bench_scan.py [--masses 12] [--profile scan.prof] [--skip-full]``.
"""

from __future__ import annotations

import argparse
import cProfile
import resource
import tempfile
import time

import numpy as np


def peak_rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return own / 1024.0, children / 1024.0


def stages(n_masses: int, profile: str | None) -> None:
    t_import = time.perf_counter()
    from dipolehnl.analysis.analyses import load_analysis
    from dipolehnl.analysis.scan_settings import MassTask, ScanSettings, _analysis_to_json, with_preset
    from dipolehnl.analysis.scan_worker import run_mass
    from dipolehnl.config import get_preset
    from dipolehnl.generate import _timing

    t_import = time.perf_counter() - t_import
    p = get_preset("default")
    a = with_preset(load_analysis("t2k2019"), p)
    st = ScanSettings()
    idx = np.unique(np.linspace(0, len(st.masses_GeV) - 1, n_masses).round().astype(int))
    tasks = [MassTask((_analysis_to_json(a),), p, st, float(st.masses_GeV[i])) for i in idx]
    prof = cProfile.Profile() if profile else None
    _timing.reset()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    first_wall = first_cpu = 0.0
    n_events, worst = 0, 0.0
    for j, t in enumerate(tasks):
        w, c = time.perf_counter(), time.process_time()
        if prof:
            prof.enable()
        (r,) = run_mass(t)
        if prof:
            prof.disable()
        if j == 0:
            first_wall, first_cpu = time.perf_counter() - w, time.process_time() - c
        n_events += r.n_events
        S = r.signal.sum(axis=0)
        k = (S > 1) & (S < 100)
        if k.any():
            worst = max(worst, float(np.max(r.mc_error[k] / S[k])))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(f"stages: {len(tasks)} masses of t2k2019 [default] on one worker (imports {t_import:.2f} s before):")
    print(
        f"  {wall:.2f} s wall, {cpu:.2f} s CPU ({cpu / len(tasks):.2f} s CPU per mass; "
        f"first mass {first_wall:.2f} s wall, {first_cpu:.2f} s CPU), {n_events} events, "
        f"{n_events / wall:.0f} events/s; max rel. MC error where 1-100 events: {worst:.2%}"
    )
    total = sum(_timing.SECONDS.values())
    print(f"  {'stage':<16}{'wall s':>8}{'share':>8}{'events/s':>12}")
    for name in ("sampling", "tracing", "decay integrals", "refinement", "statistics", "other"):
        sec = _timing.SECONDS.get(name, 0.0)
        ev = _timing.EVENTS.get(name, 0) or n_events
        print(f"  {name:<16}{sec:8.2f}{sec / total:8.1%}{ev / sec if sec > 0 else float('nan'):12.0f}")
    own, _ = peak_rss_mb()
    print(f"  peak memory of this process: {own:.0f} MB")
    if prof:
        prof.dump_stats(profile)
        print(f"  profile written to {profile}")


def full_scan(workers: int | None, all_three: bool) -> None:
    from dipolehnl.analysis.execution import LocalExecutor
    from dipolehnl.analysis.results import max_rel_mc_error, write_scan_outputs
    from dipolehnl.analysis.scan import run_scan, run_scans

    with LocalExecutor(workers) as ex:  # one pool for both parts; closed (workers reaped) before memory is read
        t0 = time.perf_counter()
        r = run_scan("t2k2019", "default", executor=ex)
        t_scan = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as out:
            t1 = time.perf_counter()
            write_scan_outputs(r, out)  # contours, CSV and JSON summaries (no figures)
            t_out = time.perf_counter() - t1
        print(
            f"full scan t2k2019 [default], 60 masses x 200 couplings on {ex.workers} workers: {t_scan:.1f} s wall "
            f"(+ {t_out:.1f} s contours and CSV/JSON outputs); "
            f"max rel. MC error where 1-100 events: {max_rel_mc_error(r):.2%}"
        )
        if all_three:
            t0 = time.perf_counter()
            run_scans(["t2k2019", "t2k-full", "t2k+t2k2"], "default", executor=ex)
            print(f"all three analyses [default]: {time.perf_counter() - t0:.1f} s wall")
    own, children = peak_rss_mb()
    print(f"peak memory: this process {own:.0f} MB, largest worker {children:.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--masses", type=int, default=12, help="masses for the per-stage part (default 12)")
    ap.add_argument("--profile", default=None, help="write a cProfile of the per-stage part to this file")
    ap.add_argument("--workers", type=int, default=None, help="processes of the full scan (default: all cores)")
    ap.add_argument("--skip-full", action="store_true", help="only the per-stage part")
    ap.add_argument("--all", action="store_true", help="also scan the three analyses together")
    args = ap.parse_args()
    stages(args.masses, args.profile)
    if not args.skip_full:
        full_scan(args.workers, args.all)


if __name__ == "__main__":
    main()
