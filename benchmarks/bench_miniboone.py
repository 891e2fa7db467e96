"""Benchmark: the MiniBooNE E_nu^QE fit on the default 40 x 200 (m_N, d) grid.

One event sample per mass (10^4 events), exact reweighting to the 200 couplings, the
release-covariance chi^2 at every grid point, the Delta chi^2 regions.  Target (issue 10):
under 2 minutes on 2 cores.  Run: ``python benchmarks/bench_miniboone.py [--workers 2]``.
"""

from __future__ import annotations

import argparse
import time

from dipolehnl.analysis import miniboone_fit as mbf


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--events", type=int, default=10000)
    a = ap.parse_args()
    s = mbf.FitSettings(fit="enu", workers=a.workers, n_events=a.events)
    mbf.simulate_mass(100.0, mbf.with_grid(s, couplings_GeVinv=s.couplings_GeVinv[:4]))  # warm the compiled kernel
    t0 = time.perf_counter()
    res = mbf.run_fit(s)
    wall = time.perf_counter() - t0
    bf = res.best_fit("enu")
    print(
        f"MiniBooNE E_nu^QE fit, {len(s.masses_MeV)} x {len(s.couplings_GeVinv)} grid, {a.events} events/mass, "
        f"{a.workers} workers: {wall:.1f} s (target < 120 s); best fit m = {bf['m_MeV']:.4g} MeV, "
        f"d = {bf['d_GeVinv']:.3g} GeV^-1, chi2 = {bf['chi2']:.2f}"
    )


if __name__ == "__main__":
    main()
