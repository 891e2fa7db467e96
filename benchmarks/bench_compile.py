"""Benchmark of the numba compilation a fresh install pays: the compile time of every kernel.

Runs one mass of ``scan --analysis t2k2019`` (presets ``default`` and ``paper``: the grid and
the sweep tracer) in a child process whose numba cache is an empty temporary directory (as
after ``pip install``), and prints, for every compiled function, the seconds its compilation
took (a kernel's time includes the kernels it calls that are compiled with it, which are
also listed), then the same
mass again in a second child that loads everything from that cache.  Then the start of a pool
of two workers on an empty cache: both compiling every kernel (no coordination) against each
compiling its share (``dipolehnl._compile.compile_share``, what ``LocalExecutor`` does) and
loading the rest: the wall time until both have every kernel.

Run: ``python benchmarks/bench_compile.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time

CHILD = textwrap.dedent(
    """
    import time
    t_start = time.perf_counter()
    import numba
    from numba.core.dispatcher import Dispatcher

    numba.set_num_threads(1)
    times = []
    depth = [0]
    orig = Dispatcher.compile

    def timed(self, sig):
        t = time.perf_counter()
        depth[0] += 1
        try:
            res = orig(self, sig)
        finally:
            depth[0] -= 1
        dt = time.perf_counter() - t
        if dt > 0.005:
            times.append((dt, depth[0] == 0, self.py_func.__module__, self.py_func.__name__))
        return res

    Dispatcher.compile = timed
    from dipolehnl.analysis.analyses import load_analysis
    from dipolehnl.analysis.scan_settings import MassTask, ScanSettings, _analysis_to_json, with_preset
    from dipolehnl.analysis.scan_worker import run_mass
    from dipolehnl.config import get_preset

    st = ScanSettings()
    for name in ("default", "paper"):
        p = get_preset(name)
        a = with_preset(load_analysis("t2k2019"), p)
        t = time.perf_counter()
        run_mass(MassTask((_analysis_to_json(a),), p, st, 0.1))
        print(f"  one mass (100 MeV) of t2k2019 [{name}]: {time.perf_counter() - t:.2f} s")
    own = [x for x in times if x[2].startswith("dipolehnl")]
    for dt, top, mod, fn in sorted(own, reverse=True):
        print(f"  {dt:6.2f} s  {mod}.{fn}{'' if top else ' (within the one above it)'}")
    print(f"  compilation of dipolehnl kernels: {sum(x[0] for x in own if x[1]):.2f} s; "
          f"whole process {time.perf_counter() - t_start:.2f} s")
    """
)


POOL_CHILD = textwrap.dedent(
    """
    import sys
    import numba
    numba.set_num_threads(1)
    from dipolehnl._compile import compile_all, compile_share
    if sys.argv[1] == "share":
        compile_share(int(sys.argv[2]), 2)
    compile_all()
    """
)


def pool_start(mode: str) -> float:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        t = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", POOL_CHILD, mode, str(i)], env=env) for i in range(2)]
        for p in procs:
            if p.wait() != 0:
                raise SystemExit(f"compiling child failed ({mode})")
        return time.perf_counter() - t


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        print("fresh numba cache (first run after install):")
        subprocess.run([sys.executable, "-c", CHILD], env=env, check=True)
        print("warm numba cache (second run):")
        subprocess.run([sys.executable, "-c", CHILD], env=env, check=True)
    every, share = pool_start("all"), pool_start("share")
    print(
        f"two workers on an empty cache until both have every kernel: each compiling all {every:.1f} s, "
        f"each its share {share:.1f} s"
    )


if __name__ == "__main__":
    main()
