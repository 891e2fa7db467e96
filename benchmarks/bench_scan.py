"""Benchmark: full default scans (60 masses x 200 couplings) on all cores.

Prints the wall time of ``t2k2019`` alone and of all three analyses scanned together,
and the peak memory (resident set size of this process and its workers).
Run: ``python benchmarks/bench_scan.py``.
"""
from __future__ import annotations

import resource
import time

from dipolehnl.analysis.execution import LocalExecutor
from dipolehnl.analysis.results import max_rel_mc_error
from dipolehnl.analysis.scan import run_scan, run_scans


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def main() -> None:
    ex = LocalExecutor()
    t0 = time.perf_counter()
    r = run_scan("t2k2019", "default", executor=ex)
    print(f"t2k2019 [default], 60 masses x 200 couplings: {time.perf_counter() - t0:.1f} s wall on {ex.workers} workers; "
          f"max rel. MC error where 1-100 events: {max_rel_mc_error(r):.2%}")
    t0 = time.perf_counter()
    run_scans(["t2k2019", "t2k-full", "t2k+t2k2"], "default", executor=ex)
    print(f"all three analyses [default]: {time.perf_counter() - t0:.1f} s wall")
    print(f"peak memory (largest process): {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
