"""Benchmark: σ(E) table for 1 mass × 200 energies × 20 nuclei (coherent + incoherent).

Prints wall time and evaluations per second.  Run: ``python benchmarks/bench_xsec.py``.
"""

from __future__ import annotations

import time

import numpy as np

from dipolehnl.physics import xsec
from dipolehnl.physics.model import HNLModel
from dipolehnl.physics.nuclei import pdg_code

NUCLEI = [
    (1, 1),
    (6, 12),
    (7, 14),
    (8, 16),
    (9, 19),
    (13, 27),
    (14, 28),
    (14, 29),
    (14, 30),
    (17, 35),
    (18, 40),
    (22, 48),
    (24, 52),
    (26, 54),
    (26, 56),
    (29, 63),
    (29, 65),
    (30, 64),
    (30, 66),
    (82, 208),
]


def main() -> None:
    pdgs = [pdg_code(z, a) for z, a in NUCLEI]
    energies = np.geomspace(0.2, 10.0, 200)
    for convention in ("darknews", "consistent"):
        model = HNLModel(0.2, 1e-7, convention=convention)
        xsec.xsec_table(model, pdgs, energies[:5])  # warm caches (form-factor closures, masses)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            xsec.xsec_table(model, pdgs, energies)
            best = min(best, time.perf_counter() - t0)
        print(
            f"xsec_table[{convention}]: 1 mass x {energies.size} energies x {len(pdgs)} nuclei: "
            f"{best * 1e3:.0f} ms (best of 3)"
        )


if __name__ == "__main__":
    main()
