"""Compiled kernel of the exact decay integral (numba).

J(λ) = Σ_s n_s (e^{−a_s/λ} − e^{−b_s/λ}) over the backward-ray segments of one event.
Evaluated for many λ per event (coupling scans), this is the hot loop of the package:
the NumPy version of it (kept in ``generator._segment_sum``) takes ~8 s for 2·10⁴ events
× 200 couplings (benchmarks/bench_generate.py).  Exactness is kept:

* λ ≥ 10 × (far end of the ray b_max): J = Σ_{k=1}^{10} (−1)^{k+1} M_k/λ^k with
  M_k = Σ n (b^k − a^k)/k! (an alternating series; the truncation error is below the first
  omitted term, M_11/λ^11 ≤ (b_max/λ)^10/11! × M_1/λ × b_max/(b − a) < 3·10⁻¹⁸ × b_max/(b − a)
  relative, i.e. < 10⁻¹³ for any segment thicker than 1/30000 of the ray);
* once a/λ > 60 along a ray, the remaining segments contribute < e⁻⁶⁰ × (density
  contrast ≲ 10⁴) of the first one and are skipped;
* e^{−b/λ} of a segment is reused as e^{−a/λ} of the next when they touch;
* consecutive segments within GROUP_M (thin detector layers; of one output group) form
  runs; where λ ≥ 10 × a run's extent, the run contributes e^{−A/λ} Σ_k (−1)^{k+1} M_k^A/λ^k
  with moments M_k^A = Σ n ((b − A)^k − (a − A)^k)/k! about its start A (exact to the same
  bound as the whole-ray series): one exponential per run instead of one per segment;
* a touching segment as long as the previous one (the equal sub-segments of the beamline
  split) takes e^{−b/λ} = e^{−a/λ} × r with r = e^{−h/λ} of the previous segment, no
  exponential at all.
"""

from __future__ import annotations

import numpy as np
from numba import njit

TAYLOR_RATIO = 10.0
TAYLOR_TERMS = 10
SKIP_EXPONENT = 60.0
#: largest extent (m) of a run of consecutive segments summed with its local Taylor series
#: (used for λ ≥ TAYLOR_RATIO × the group's extent; same error bound as the whole-ray series)
GROUP_M = 1.0
#: touching segments whose lengths agree to this relative precision (the equal sub-segments of
#: a beamline split) reuse e^{−h/λ}: e^{−b/λ} = e^{−a/λ} e^{−h/λ} (rounding ~1e-14 relative)
SAME_LENGTH_RTOL = 1e-12


@njit(cache=True, inline="always")
def _add_moments(mom, n_s, a_s, b_s):  # pragma: no cover - compiled
    """mom[k] += n (b^{k+1} − a^{k+1})/(k+1)!, k < TAYLOR_TERMS (positions about any origin)."""
    pa = a_s
    pb = b_s
    for k in range(TAYLOR_TERMS):
        mom[k] += n_s * (pb - pa)
        pa *= a_s / (k + 2)
        pb *= b_s / (k + 2)


@njit(cache=True, inline="always")
def _series(mom, inv):  # pragma: no cover - compiled
    """Σ_k (−1)^k mom[k] λ^{−(k+1)} (Horner), the decay integral of the segments of ``mom``."""
    acc = 0.0
    for j in range(TAYLOR_TERMS - 1, -1, -1):
        acc = mom[j] - inv * acc
    return inv * acc


@njit(cache=True)
def decay_integral(offsets, a, b, n, group, lam0, scale, out, mom, ws_i, ws_f, ws_k):  # pragma: no cover - compiled
    """J split by segment group: for every event i, λ = lam0[i] / scale[k] and group g (e.g.
    the subsystem of the production volume; all 0 for the total), the sum over the event's
    segments of group g of n (e^{−a/λ} − e^{−b/λ}), added to ``out`` (n_events, n_scale,
    n_groups), which the caller zeroes.  ``scale`` must be ascending (λ descending in k).

    Per event, the columns k are processed together segment by segment (the innermost loop
    runs over k, whose iterations are independent), each column exactly as if alone: the
    whole-ray series for λ ≥ TAYLOR_RATIO × b_max (a first range of k), a run's series for
    λ ≥ TAYLOR_RATIO × its extent (a first range of the rest), segment by segment otherwise,
    and a column stops once a/λ > SKIP_EXPONENT (a last range of k, growing along the ray).

    The caller also provides the scratch space (a kernel that allocates compiles numba's
    allocation code with it, ~0.1–0.25 s per kind of array on a fresh install): ``mom``
    (n_groups, TAYLOR_TERMS), ``ws_i`` (m, 2) int64 and ``ws_f`` (m, TAYLOR_TERMS + 2), m the
    largest number of segments of one event, and ``ws_k`` (6, n_scale)."""
    n_ev = offsets.shape[0] - 1
    n_k = scale.shape[0]
    n_groups = mom.shape[0]
    lam = ws_k[0]
    inv = ws_k[1]
    pe = ws_k[2]  # per column: e^{−b/λ} of the last segment summed segment by segment,
    pr = ws_k[3]  # its ratio e^{−(b − a)/λ},
    pb = ws_k[4]  # its end b (−1: none, or a run's series since),
    pl = ws_k[5]  # and its length
    for i in range(n_ev):
        s0 = offsets[i]
        s1 = offsets[i + 1]
        if s1 == s0:
            continue
        for g in range(n_groups):
            for j in range(TAYLOR_TERMS):
                mom[g, j] = 0.0
        bmax = 0.0
        for s in range(s0, s1):
            _add_moments(mom[group[s]], n[s], a[s], b[s])  # M_{k+1} = Σ n (b^{k+1} − a^{k+1}) / (k+1)!
            if b[s] > bmax:
                bmax = b[s]
        # runs of consecutive segments of one group within GROUP_M: local moments about the
        # run's start A (ws_f[r, :T]), A (ws_f[r, T]), extent (ws_f[r, T + 1]), segments
        # ws_i[r, 0] to ws_i[r, 1] (exclusive)
        nr = 0
        s = s0
        while s < s1:
            A = a[s]
            e = s + 1
            while e < s1 and b[e] - A <= GROUP_M and group[e] == group[s]:
                e += 1
            for j in range(TAYLOR_TERMS):
                ws_f[nr, j] = 0.0
            if e - s > 1:
                for q in range(s, e):
                    _add_moments(ws_f[nr], n[q], a[q] - A, b[q] - A)
            ws_i[nr, 0] = s
            ws_i[nr, 1] = e
            ws_f[nr, TAYLOR_TERMS] = A
            ws_f[nr, TAYLOR_TERMS + 1] = b[e - 1] - A
            nr += 1
            s = e
        k_ray = 0  # columns k < k_ray: the whole-ray series
        for k in range(n_k):
            lam[k] = lam0[i] / scale[k]
            inv[k] = 1.0 / lam[k]
            if lam[k] >= TAYLOR_RATIO * bmax:
                for g in range(n_groups):
                    out[i, k, g] += _series(mom[g], inv[k])
                k_ray = k + 1
            pb[k] = -1.0
            pe[k] = 0.0
            pl[k] = -1.0
            pr[k] = 0.0
        k_end = n_k  # columns k >= k_end are done (a/λ > SKIP_EXPONENT)
        for r in range(nr):
            A = ws_f[r, TAYLOR_TERMS]
            while k_end > k_ray and A * inv[k_end - 1] > SKIP_EXPONENT:
                k_end -= 1
            if k_end == k_ray:
                break
            first = ws_i[r, 0]
            last = ws_i[r, 1]
            k_run = k_ray  # columns k_ray <= k < k_run: the run's series
            if last - first > 1:
                ext = ws_f[r, TAYLOR_TERMS + 1]
                while k_run < k_end and lam[k_run] >= TAYLOR_RATIO * ext:
                    k_run += 1
            g = group[first]
            for k in range(k_ray, k_run):
                eA = pe[k] if A == pb[k] else np.exp(-A * inv[k])
                out[i, k, g] += eA * _series(ws_f[r], inv[k])
                pb[k] = -1.0
            for s in range(first, last):
                a_s = a[s]
                b_s = b[s]
                n_s = n[s]
                L = b_s - a_s
                g = group[s]
                while k_end > k_ray and a_s * inv[k_end - 1] > SKIP_EXPONENT:
                    k_end -= 1
                for k in range(k_run, k_end):
                    # e^{−a/λ} is the previous segment's e^{−b/λ} when they touch, and
                    # e^{−b/λ} = e^{−a/λ} × the previous ratio when they are also equally long
                    if a_s == pb[k]:
                        ea = pe[k]
                        if abs(L - pl[k]) <= SAME_LENGTH_RTOL * L:  # equal sub-segments
                            eb = ea * pr[k]
                        else:
                            eb = np.exp(-b_s * inv[k])
                            pr[k] = eb / ea if ea > 0.0 else np.exp(-L * inv[k])
                    else:
                        ea = np.exp(-a_s * inv[k])
                        eb = np.exp(-b_s * inv[k])
                        pr[k] = eb / ea if ea > 0.0 else np.exp(-L * inv[k])
                    out[i, k, g] += n_s * (ea - eb)
                    pb[k] = b_s
                    pe[k] = eb
                    pl[k] = L
