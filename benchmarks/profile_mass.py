"""Profile the per-mass scan worker serially on a few masses (one process, one thread).

Prints CPU seconds (time.process_time) per mass and in total; ``--profile FILE`` writes a
cProfile file (view with ``python -m pstats FILE`` or snakeviz).  Example:

    python benchmarks/profile_mass.py --masses 8 --profile /tmp/mass.prof
"""

from __future__ import annotations

import argparse
import cProfile
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--analysis", default="t2k2019")
    ap.add_argument("--masses", type=int, default=8, help="masses spread over the default grid")
    ap.add_argument("--profile", default=None)
    args = ap.parse_args()
    from dipolehnl.analysis.analyses import load_analysis
    from dipolehnl.analysis.scan_settings import MassTask, ScanSettings, _analysis_to_json, with_preset
    from dipolehnl.analysis.scan_worker import run_mass
    from dipolehnl.config import get_preset

    p = get_preset("default")
    a = with_preset(load_analysis(args.analysis), p)
    st = ScanSettings()
    idx = np.unique(np.linspace(0, len(st.masses_GeV) - 1, args.masses).round().astype(int))
    tasks = [MassTask((_analysis_to_json(a),), p, st, float(st.masses_GeV[i])) for i in idx]
    run_mass(tasks[0])  # warm-up: caches not counted
    prof = cProfile.Profile() if args.profile else None
    tot = 0.0
    for t in tasks:
        c0 = time.process_time()
        if prof:
            prof.enable()
        (r,) = run_mass(t)
        if prof:
            prof.disable()
        dt = time.process_time() - c0
        tot += dt
        S = r.signal.sum(axis=0)
        k = (S > 1) & (S < 100)
        err = float(np.max(r.mc_error[k] / S[k])) if k.any() else 0.0
        print(f"m={t.mass_GeV:.4g} GeV: {dt:.2f} s CPU, {r.n_events} events, max rel err (1-100) {err:.3%}")
    print(f"total {tot:.2f} s CPU over {len(tasks)} masses ({tot / len(tasks):.2f} s/mass)")
    if prof:
        prof.dump_stats(args.profile)


if __name__ == "__main__":
    main()
