# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled kernels of the event sample (Cython, built when the package is installed): the
exact decay integral (``decay_integral``) and per-stratum moments of weights
(``stratum_moments``).

J(λ) = Σ_s n_s (e^{−a_s/λ} − e^{−b_s/λ}) over the backward-ray segments of one event.
Evaluated for many λ per event (coupling scans), this is the hot loop of the package:
the NumPy version of it (kept in ``generate.sample._segment_sum``) takes ~8 s for 2·10⁴ events
× 200 couplings (benchmarks/bench_generate.py).  Exactness is kept:

* λ ≥ 10 × (far end of the ray b_max): J = Σ_{k=1}^{10} (−1)^{k+1} M_k/λ^k with
  M_k = Σ n (b^k − a^k)/k! (an alternating series; the truncation error is below the first
  omitted term, M_11/λ^11 ≤ (b_max/λ)^10/11! × M_1/λ × b_max/(b − a) < 3·10⁻¹⁸ × b_max/(b − a)
  relative, i.e. < 10⁻¹³ for any segment thicker than 1/30000 of the ray);
* once a/λ > 60 along a ray, the remaining segments contribute < e⁻⁶⁰ × (density
  contrast ≲ 10⁴) of the first one and are skipped;
* consecutive segments within GROUP_M (thin detector layers; of one output group) form
  runs; where λ ≥ 10 × a run's extent, the run contributes e^{−A/λ} Σ_k (−1)^{k+1} M_k^A/λ^k
  with moments M_k^A = Σ n ((b − A)^k − (a − A)^k)/k! about its start A (exact to the same
  bound as the whole-ray series): one exponential per run instead of one per segment;
* along a ray, e^{−a/λ} and e^{−b/λ} of a segment follow from e^{−b/λ} of the previous one
  by factors e^{−g/λ} (g the gap between them, 0 when they touch) and e^{−L/λ} (L its
  length); each distinct length of an event (up to LENGTH_CACHE at a time: detector layers
  repeat, and so do the equal sub-segments of the beamline split) is exponentiated once per
  λ, not once per segment, where at least CACHE_MIN_COLUMNS values of λ are evaluated
  segment by segment.  A chain of m factors carries a relative rounding error below
  m × 2⁻⁵³ (< 10⁻¹³ for the longest rays); n (e^{−a/λ} − e^{−b/λ}) is formed as
  n e^{−a/λ} × (−expm1(−L/λ)), without cancellation for thin segments.
"""


from libc.math cimport exp, expm1, fabs
from libc.stdint cimport int64_t

import numpy as np

TAYLOR_RATIO = 10.0
TAYLOR_TERMS = 10
SKIP_EXPONENT = 60.0
#: largest extent (m) of a run of consecutive segments summed with its local Taylor series
#: (used for λ ≥ TAYLOR_RATIO × the run's extent; same error bound as the whole-ray series)
GROUP_M = 1.0
#: lengths (of segments or of the gaps between them) that agree to this relative precision
#: share their factor e^{−L/λ} (an error below SAME_LENGTH_RTOL × L/λ ≤ 6·10⁻¹¹ in the exponent
#: of a term that is not skipped)
SAME_LENGTH_RTOL = 1e-12
#: distinct lengths whose factors an event keeps at a time (the oldest is replaced)
LENGTH_CACHE = 4
#: segments with fewer values of λ to evaluate one by one take their exponentials directly
#: (the cache's lookups would cost more than they save)
CACHE_MIN_COLUMNS = 6

cdef double C_TAYLOR_RATIO = TAYLOR_RATIO
cdef int C_TAYLOR_TERMS = TAYLOR_TERMS
cdef double C_SKIP_EXPONENT = SKIP_EXPONENT
cdef double C_GROUP_M = GROUP_M
cdef double C_SAME_LENGTH_RTOL = SAME_LENGTH_RTOL
cdef int C_LENGTH_CACHE = LENGTH_CACHE
cdef Py_ssize_t C_CACHE_MIN_COLUMNS = CACHE_MIN_COLUMNS


cdef inline void _add_moments(double* mom, double n_s, double a_s, double b_s) noexcept nogil:
    """mom[k] += n (b^{k+1} − a^{k+1})/(k+1)!, k < TAYLOR_TERMS (positions about any origin)."""
    cdef double pa = a_s
    cdef double pb = b_s
    cdef int k
    for k in range(C_TAYLOR_TERMS):
        mom[k] += n_s * (pb - pa)
        pa *= a_s / (k + 2)
        pb *= b_s / (k + 2)


cdef inline double _series(const double* mom, double inv) noexcept nogil:
    """Σ_k (−1)^k mom[k] λ^{−(k+1)} (Horner), the decay integral of the segments of ``mom``."""
    cdef double acc = 0.0
    cdef int j
    for j in range(C_TAYLOR_TERMS - 1, -1, -1):
        acc = mom[j] - inv * acc
    return inv * acc


cdef inline Py_ssize_t _length_slot(
    double x, Py_ssize_t k_lo, Py_ssize_t k_hi, const double* inv, double* lens, double[:, ::1] fac,
    double[:, ::1] q, Py_ssize_t* state, Py_ssize_t keep,
) noexcept nogil:
    """Slot of the length ``x`` in the event's cache: ``fac[slot, k]`` = e^{−x inv_k} and
    ``q[slot, k]`` = −expm1(−x inv_k) for k_lo <= k < k_hi (computed on a miss, into the
    oldest slot other than ``keep``; state[0] counts the slots in use, state[1] is the next
    to replace)."""
    cdef Py_ssize_t c, k
    cdef double y, f
    for c in range(state[0]):
        if fabs(x - lens[c]) <= C_SAME_LENGTH_RTOL * x:
            return c
    c = state[1]
    if c == keep:
        c = (c + 1) % C_LENGTH_CACHE
    state[1] = (c + 1) % C_LENGTH_CACHE
    if state[0] < C_LENGTH_CACHE:
        state[0] += 1
    lens[c] = x
    for k in range(k_lo, k_hi):
        y = x * inv[k]
        f = exp(-y)
        fac[c, k] = f
        q[c, k] = 1.0 - f if y > 0.5 else -expm1(-y)  # no cancellation for thin segments
    return c


def decay_integral(
    const int64_t[::1] offsets,
    const double[::1] a,
    const double[::1] b,
    const double[::1] n,
    const int64_t[::1] group,
    const double[::1] lam0,
    const double[::1] scale,
    double[:, :, ::1] out,
):
    """J split by segment group: for every event i, λ = lam0[i] / scale[k] and group g (e.g.
    the subsystem of the production volume; all 0 for the total), the sum over the event's
    segments of group g of n (e^{−a/λ} − e^{−b/λ}), added to ``out`` (n_events, n_scale,
    n_groups), which the caller zeroes.  ``scale`` must be ascending (λ descending in k).

    Per event, the values of λ are processed together segment by segment (the innermost loop
    runs over k): the whole-ray series for λ ≥ TAYLOR_RATIO × b_max (a first range of k), a
    run's series for λ ≥ TAYLOR_RATIO × its extent (a first range of the rest), segment by
    segment otherwise, and a column stops once a/λ > SKIP_EXPONENT (a last range of k, growing
    along the ray)."""
    cdef Py_ssize_t n_ev = offsets.shape[0] - 1
    cdef Py_ssize_t n_k = scale.shape[0]
    cdef Py_ssize_t n_groups = out.shape[2]
    cdef Py_ssize_t i, k, s, e, qq, r, nr, s0, s1, first, last, g, j, k_ray, k_run, k_end, cg, cl, ok_lo, k_mid
    cdef Py_ssize_t longest = 0
    cdef double bmax, A, ext, a_s, n_s, gap, ea
    for i in range(n_ev):
        longest = max(longest, offsets[i + 1] - offsets[i])
    cdef double[:, ::1] mom = np.zeros((n_groups, C_TAYLOR_TERMS))
    cdef int64_t[::1] seen = np.zeros(n_groups, np.int64)  # last event (+1) with segments of group g
    cdef int64_t[::1] glist = np.zeros(n_groups, np.int64)
    cdef Py_ssize_t n_present
    cdef int64_t[:, ::1] ws_i = np.zeros((max(longest, 1), 2), np.int64)
    cdef double[:, ::1] ws_f = np.zeros((max(longest, 1), C_TAYLOR_TERMS + 2))
    cdef double[:, ::1] ws_k = np.zeros((3, max(n_k, 1)))
    cdef double[:, ::1] fac = np.zeros((C_LENGTH_CACHE, max(n_k, 1)))
    cdef double[:, ::1] q = np.zeros((C_LENGTH_CACHE, max(n_k, 1)))
    cdef double[::1] lens = np.zeros(C_LENGTH_CACHE)
    cdef Py_ssize_t state[2]
    cdef double* lam = &ws_k[0, 0]
    cdef double* inv = &ws_k[1, 0]
    # per column: e^{−b/λ} of the previous segment, for k >= ok_lo (the columns that summed it
    # segment by segment; not after a run's series)
    cdef double* pe = &ws_k[2, 0]
    with nogil:
        for i in range(n_ev):
            s0 = offsets[i]
            s1 = offsets[i + 1]
            if s1 == s0:
                continue
            bmax = 0.0
            for s in range(s0, s1):
                if b[s] > bmax:
                    bmax = b[s]
            k_ray = 0  # columns k < k_ray: the whole-ray series
            for k in range(n_k):
                lam[k] = lam0[i] / scale[k]
                inv[k] = 1.0 / lam[k]
                if lam[k] >= C_TAYLOR_RATIO * bmax:
                    k_ray = k + 1
            ok_lo = n_k  # columns k >= ok_lo hold e^{−b/λ} of the last segment they summed in pe[k]
            if k_ray > 0:
                # moments M_{k+1} = Σ n (b^{k+1} − a^{k+1}) / (k+1)! of each group the event has
                # (glist[:n_present]), computed only when a column uses them
                n_present = 0
                for s in range(s0, s1):
                    g = group[s]
                    if seen[g] != i + 1:
                        seen[g] = i + 1
                        glist[n_present] = g
                        n_present += 1
                        for j in range(C_TAYLOR_TERMS):
                            mom[g, j] = 0.0
                    _add_moments(&mom[g, 0], n[s], a[s], b[s])
                for k in range(k_ray):
                    for j in range(n_present):
                        g = glist[j]
                        out[i, k, g] += _series(&mom[g, 0], inv[k])
            if k_ray == n_k:
                continue
            # runs of consecutive segments of one group within GROUP_M: A (ws_f[r, T]), extent
            # (ws_f[r, T + 1]), segments ws_i[r, 0] to ws_i[r, 1] (exclusive); their local
            # moments about A (ws_f[r, :T]) follow below where a column uses them
            nr = 0
            s = s0
            while s < s1:
                A = a[s]
                e = s + 1
                while e < s1 and b[e] - A <= C_GROUP_M and group[e] == group[s]:
                    e += 1
                ws_i[nr, 0] = s
                ws_i[nr, 1] = e
                ws_f[nr, C_TAYLOR_TERMS] = A
                ws_f[nr, C_TAYLOR_TERMS + 1] = b[e - 1] - A
                nr += 1
                s = e
            state[0] = 0
            state[1] = 0
            k_end = n_k  # columns k >= k_end are done (a/λ > SKIP_EXPONENT)
            for r in range(nr):
                A = ws_f[r, C_TAYLOR_TERMS]
                while k_end > k_ray and A * inv[k_end - 1] > C_SKIP_EXPONENT:
                    k_end -= 1
                if k_end == k_ray:
                    break
                first = ws_i[r, 0]
                last = ws_i[r, 1]
                k_run = k_ray  # columns k_ray <= k < k_run: the run's series
                if last - first > 1:
                    ext = ws_f[r, C_TAYLOR_TERMS + 1]
                    while k_run < k_end and lam[k_run] >= C_TAYLOR_RATIO * ext:
                        k_run += 1
                if k_run > k_ray:  # the run's local moments
                    for j in range(C_TAYLOR_TERMS):
                        ws_f[r, j] = 0.0
                    for qq in range(first, last):
                        _add_moments(&ws_f[r, 0], n[qq], a[qq] - A, b[qq] - A)
                g = group[first]
                for k in range(k_ray, k_run):
                    out[i, k, g] += exp(-A * inv[k]) * _series(&ws_f[r, 0], inv[k])
                if k_run > ok_lo:  # those columns did not sum the previous segment
                    ok_lo = k_run
                for s in range(first, last):
                    a_s = a[s]
                    n_s = n[s]
                    g = group[s]
                    while k_end > k_ray and a_s * inv[k_end - 1] > C_SKIP_EXPONENT:
                        k_end -= 1
                    if k_run >= k_end:
                        break
                    # columns k >= ok_lo summed segment s − 1 (ending at b[s − 1]) last: pe[k]
                    gap = a_s - b[s - 1] if s > s0 else 0.0
                    k_mid = min(max(ok_lo, k_run), k_end)
                    if k_end - k_run < C_CACHE_MIN_COLUMNS:  # few columns: the exponentials directly
                        for k in range(k_run, k_end):
                            ea = pe[k] if k >= k_mid and gap <= 0.0 else exp(-a_s * inv[k])
                            pe[k] = exp(-b[s] * inv[k])
                            out[i, k, g] += n_s * (ea - pe[k])
                        ok_lo = k_run
                        continue
                    cg = _length_slot(gap, k_ray, k_end, inv, &lens[0], fac, q, state, -1) if gap > 0.0 else -1
                    cl = _length_slot(b[s] - a_s, k_ray, k_end, inv, &lens[0], fac, q, state, cg)
                    for k in range(k_run, k_mid):
                        ea = exp(-a_s * inv[k])
                        out[i, k, g] += n_s * ea * q[cl, k]
                        pe[k] = ea * fac[cl, k]
                    if cg >= 0:
                        for k in range(k_mid, k_end):
                            ea = pe[k] * fac[cg, k]
                            out[i, k, g] += n_s * ea * q[cl, k]
                            pe[k] = ea * fac[cl, k]
                    else:
                        for k in range(k_mid, k_end):
                            ea = pe[k]
                            out[i, k, g] += n_s * ea * q[cl, k]
                            pe[k] = ea * fac[cl, k]
                    ok_lo = k_run


def stratum_moments(const int64_t[::1] stratum, const double[:, :] W, double[:, ::1] s1, double[:, ::1] s2):
    """s1[stratum[i], k] += W[i, k] and s2[stratum[i], k] += W[i, k]² for every event i and
    column k (the caller zeroes s1, s2 and checks 0 <= stratum < s1.shape[0]).  Events are
    added in ascending order within each stratum; W may be C- or Fortran-ordered (the loop
    follows its memory layout)."""
    cdef Py_ssize_t n = W.shape[0]
    cdef Py_ssize_t n_k = W.shape[1]
    cdef Py_ssize_t i, k
    cdef int64_t g
    cdef double w
    with nogil:
        if W.strides[0] < W.strides[1] and n_k > 1:  # column-ordered: one column at a time
            for k in range(n_k):
                for i in range(n):
                    w = W[i, k]
                    g = stratum[i]
                    s1[g, k] += w
                    s2[g, k] += w * w
        else:
            for i in range(n):
                g = stratum[i]
                for k in range(n_k):
                    w = W[i, k]
                    s1[g, k] += w
                    s2[g, k] += w * w
