"""Benchmark: HepMC3 writing speed.

Prints events/s for writing one sample as plain and gzip-compressed HepMC3 (both decay
modes), and the file sizes.  Run: ``python benchmarks/bench_hepmc3.py [n_events]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from dipolehnl.generate.api import simulate
from dipolehnl.generate.hepmc3 import write_events_hepmc3


def main(n: int = 20000) -> None:
    sample = simulate("t2k-nd280", 0.3, 1e-6, n_events=n, seed=1)
    with tempfile.TemporaryDirectory() as d:
        write_events_hepmc3(sample, Path(d) / "warm.hepmc3", pot=1e21)  # import pyhepmc, warm caches
        for name, mode in (("events.hepmc3", "sampled"), ("events.hepmc3.gz", "sampled"), ("events_ee.hepmc3", "ee")):
            path = Path(d) / name
            t0 = time.perf_counter()
            out = write_events_hepmc3(sample, path, pot=1e21, decay_mode=mode)
            dt = time.perf_counter() - t0
            print(
                f"{name:18s} mode={mode:7s}: {out['n_events']} events in {dt:.2f} s "
                f"({out['n_events'] / dt:,.0f} events/s), {path.stat().st_size / 1e6:.1f} MB"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
