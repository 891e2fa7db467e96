"""Benchmark: event generation and exact reweighting.

Prints events/s for one (mass, coupling) point, and the time to evaluate a whole mass on
the default 200-coupling grid by reweighting.  Run: ``python benchmarks/bench_generate.py``.
"""

from __future__ import annotations

import time

from dipolehnl.analysis.scan import DEFAULT_COUPLINGS_GEVINV
from dipolehnl.analysis.summary import rate_summary
from dipolehnl.generate.api import simulate


def main() -> None:
    simulate("nd280", 0.3, 1e-6, n_events=500, seed=0)  # warm caches and the compiled kernel
    for det in ("nd280", "nd280-upgrade"):
        for m in (0.05, 0.3, 0.8):
            n = 20000
            t0 = time.perf_counter()
            s = simulate(det, m, 1e-6, n_events=n, seed=1, allocation_couplings=DEFAULT_COUPLINGS_GEVINV)
            t_gen = time.perf_counter() - t0
            t0 = time.perf_counter()
            W = s.weights_grid(DEFAULT_COUPLINGS_GEVINV)
            t_rw = time.perf_counter() - t0
            r = rate_summary(s, 12.34e20).to_json()
            print(
                f"{det:14s} m={m:4.2f} GeV: {n} events in {t_gen:.2f} s ({n / t_gen:,.0f} events/s); "
                f"reweighting to {len(DEFAULT_COUPLINGS_GEVINV)} couplings {t_rw:.2f} s "
                f"({W.size / t_rw:,.0f} event-couplings/s); rel. MC error {r['rel_mc_error']:.2%}"
            )


if __name__ == "__main__":
    main()
