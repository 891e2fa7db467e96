"""Ray-tracing benchmark: rays from the TPC fiducial volumes of ``nd280`` pointing upstream.

These are the rays that matter for the HNL signal (production in the P0D and in ~300 m
of rock upstream, decay in a TPC): origins uniform in the three TPC fiducial volumes,
directions uniform in a cone of half-angle 0.3 rad around -z, traced to the edge of the
world. Prints rays/s (single core) of both tracing methods (``grid``: boxes only, the
default for the shipped ND280 models; ``sweep``: any shapes) and checks they agree.

    python benchmarks/bench_raytrace.py [--rays 100000] [--repeat 3] [--model nd280]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from dipolehnl.detector import load_detector


def upstream_rays(det_name: str, n: int, half_angle_rad: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Origins uniform in the fiducial volumes, directions uniform in a cone around -z."""
    det = load_detector(det_name)
    rng = np.random.default_rng(seed)
    fvs = list(det.fiducial_volumes.values())
    which = rng.integers(0, len(fvs), n)
    lo = np.array([fv.lower_m for fv in fvs])[which]
    hi = np.array([fv.upper_m for fv in fvs])[which]
    origins = lo + rng.random((n, 3)) * (hi - lo)
    cos_t = 1.0 - rng.random(n) * (1.0 - np.cos(half_angle_rad))
    sin_t = np.sqrt(1.0 - cos_t**2)
    phi = 2.0 * np.pi * rng.random(n)
    directions = np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), -cos_t], axis=1)
    return origins, directions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rays", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--model", default="nd280")
    ap.add_argument("--half-angle", type=float, default=0.3, help="cone half-angle around -z, rad")
    ap.add_argument("--chunk-size", type=int, default=None)
    args = ap.parse_args()

    det = load_detector(args.model)
    origins, directions = upstream_rays(args.model, args.rays, args.half_angle, seed=1)
    print(
        f"model {args.model}: {det.n_volumes} volumes; {args.rays} rays from the TPC fiducial volumes, "
        f"within {args.half_angle} rad of -z"
    )
    cols = {}
    for method in ("grid", "sweep"):
        det.trace(origins[:1000], directions[:1000], method=method)  # warm-up (compiled kernels, grid)
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            seg = det.trace(origins, directions, chunk_size=args.chunk_size, method=method)
            times.append(time.perf_counter() - t0)
            cols[method] = seg.total_column_g_cm2()
            n_seg = seg.n_segments
            del seg
        best = min(times)
        print(
            f"{method:>5}: best {best:.3f} s (all {', '.join(f'{t:.3f}' for t in times)}), "
            f"{args.rays / best:,.0f} rays/s, {n_seg / args.rays:.1f} segments per ray"
        )
    rel = np.max(np.abs(cols["grid"] - cols["sweep"]) / np.maximum(cols["sweep"], 1e-300))
    print(f"median total column: {np.median(cols['grid']):.4g} g/cm^2; grid vs sweep max rel. difference {rel:.1e}")


if __name__ == "__main__":
    main()
