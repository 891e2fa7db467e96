"""Compare the contours of two scan output directories (``dipolehnl scan --out``).

For every contour CSV present in both (contour_*.csv), prints per mass the relative
difference of the lower edge d_low (and of the upper edge where below the grid's top),
the largest of them, and the summaries' MC precision and wall time.  Exit status 1 if a
lower edge differs by more than ``--tol`` (default 2%).

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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--tol", type=float, default=0.02)
    ap.add_argument("--quiet", action="store_true", help="only the largest differences")
    args = ap.parse_args()
    before, after = Path(args.before), Path(args.after)
    worst_all = 0.0
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
            if not args.quiet:
                print(
                    f"{f.name} m={m:9.3f} MeV  d_low {a[m]['d_low_GeVinv']:>12} -> {b[m]['d_low_GeVinv']:>12}  "
                    f"rel {dl:.2e}   d_high rel {dh:.2e}"
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
    print(f"largest lower-edge difference {worst_all:.3%} (tolerance {args.tol:.0%})")
    return 0 if worst_all <= args.tol else 1


if __name__ == "__main__":
    sys.exit(main())
