"""Compare the contours of two scan output directories (``dipolehnl scan --out``).

For every contour CSV present in both (contour_*.csv), prints per mass the relative
difference of the lower edge d_low (and of the upper edge where below the grid's top),
the largest of them, and the summaries' MC precision and wall time.  Exit status 1 if a
lower edge differs by more than ``--tol`` (default 2%).

Where both directories hold ``expected_events.csv``, each lower edge also gets its Monte
Carlo standard deviation (relative MC error of the test statistic over its logarithmic slope
in d at the edge) and the difference in units of the two runs' combined standard deviation:
runs with different random numbers differ by about that much even when nothing else changed.

Run: ``python benchmarks/compare_contours.py BEFORE_DIR AFTER_DIR [--tol 0.02] [--quiet]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path


def _rows(path: Path) -> dict[float, dict]:
    with path.open() as f:
        return {round(float(r["m_MeV"]), 6): r for r in csv.DictReader(f)}


def _rel(a: str, b: str) -> float:
    if a in ("", "nan") and b in ("", "nan"):
        return 0.0
    if a in ("", "nan") or b in ("", "nan"):
        return math.inf
    x, y = float(a), float(b)
    return abs(y - x) / abs(x)


def _edge_sigma(directory: Path) -> dict[float, float]:
    """MC standard deviation of ln d_low per mass (MeV) from ``expected_events.csv``:
    σ(ln d) = (σ_S/S) / |d ln T/d ln d| at the lower edge of ``contour_95cl.csv`` (T the test
    statistic; slope and relative error interpolated between the grid couplings around d_low)."""
    ev, edges = directory / "expected_events.csv", directory / "contour_95cl.csv"
    if not ev.exists() or not edges.exists():
        return {}
    per_mass: dict[float, list] = {}
    with ev.open() as f:
        for r in csv.DictReader(f):
            per_mass.setdefault(round(float(r["m_MeV"]), 6), []).append(
                (float(r["d_GeVinv"]), float(r["test_statistic"]), float(r["rel_mc_error"]))
            )
    out = {}
    for m, r in _rows(edges).items():
        if r["d_low_GeVinv"] in ("", "nan") or m not in per_mass:
            continue
        d0 = float(r["d_low_GeVinv"])
        pts = sorted(per_mass[m])
        for (d1, t1, e1), (d2, t2, e2) in zip(pts, pts[1:]):
            if d1 <= d0 <= d2 and t1 > 0 and t2 > 0 and t1 != t2:
                slope = abs(math.log(t2 / t1) / math.log(d2 / d1))
                out[m] = 0.5 * (e1 + e2) / slope
                break
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--tol", type=float, default=0.02)
    ap.add_argument("--quiet", action="store_true", help="only the largest differences")
    args = ap.parse_args()
    before, after = Path(args.before), Path(args.after)
    sig_a, sig_b = _edge_sigma(before), _edge_sigma(after)
    worst_all = 0.0
    worst_pull = (0.0, None)
    for f in sorted(before.glob("contour_*.csv")):
        g = after / f.name
        if not g.exists():
            print(f"{f.name}: missing in {after}")
            continue
        a, b = _rows(f), _rows(g)
        worst_low = worst_high = 0.0
        for m in sorted(a):
            if m not in b:
                print(f"{f.name}: mass {m} MeV missing in {after}")
                worst_low = math.inf
                continue
            dl = _rel(a[m]["d_low_GeVinv"], b[m]["d_low_GeVinv"])
            dh = _rel(a[m]["d_high_GeVinv"], b[m]["d_high_GeVinv"])
            worst_low, worst_high = max(worst_low, dl), max(worst_high, dh)
            pull = ""
            if f.name == "contour_95cl.csv" and m in sig_a and m in sig_b and math.isfinite(dl) and dl > 0:
                p = abs(math.log(float(b[m]["d_low_GeVinv"]) / float(a[m]["d_low_GeVinv"])))
                p /= math.hypot(sig_a[m], sig_b[m])
                pull = f"  MC sigma of d_low {sig_a[m]:.2%} / {sig_b[m]:.2%}, difference {p:.2f} sigma"
                if p > worst_pull[0]:
                    worst_pull = (p, m)
            if not args.quiet:
                print(
                    f"{f.name} m={m:9.3f} MeV  d_low {a[m]['d_low_GeVinv']:>12} -> {b[m]['d_low_GeVinv']:>12}  "
                    f"rel {dl:.2e}   d_high rel {dh:.2e}{pull}"
                )
        print(f"{f.name}: max relative difference of lower edges {worst_low:.3%}, of upper edges {worst_high:.3%}")
        worst_all = max(worst_all, worst_low)
    for d in (before, after):
        s = d / "summary.json"
        if s.exists():
            doc = json.loads(s.read_text())
            print(
                f"{d}: max rel. MC error where 1-100 events {doc.get('max_rel_mc_error_where_signal_1_to_100'):.4f}, "
                f"events {doc.get('events_generated')}, wall {doc.get('wall_time_s', float('nan')):.1f} s"
            )
    if worst_pull[1] is not None:
        print(
            f"largest lower-edge difference in units of the two runs' combined MC standard deviation: "
            f"{worst_pull[0]:.2f} sigma (m = {worst_pull[1]:g} MeV)"
        )
    print(f"largest lower-edge difference {worst_all:.3%} (tolerance {args.tol:.0%})")
    return 0 if worst_all <= args.tol else 1


if __name__ == "__main__":
    sys.exit(main())
