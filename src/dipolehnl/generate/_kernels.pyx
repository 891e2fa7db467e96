# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled kernel of the exact decay integral (Cython, built when the package is installed).

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


from libc.math cimport exp, fabs
from libc.stdint cimport int64_t

TAYLOR_RATIO = 10.0
TAYLOR_TERMS = 10
SKIP_EXPONENT = 60.0
#: largest extent (m) of a group of consecutive segments summed with its local Taylor series
#: (used for λ ≥ TAYLOR_RATIO × the group's extent; same error bound as the whole-ray series)
GROUP_M = 1.0
#: touching segments whose lengths agree to this relative precision (the equal sub-segments of
#: a beamline split) reuse e^{−h/λ}: e^{−b/λ} = e^{−a/λ} e^{−h/λ} (rounding ~1e-14 relative)
SAME_LENGTH_RTOL = 1e-12

cdef double C_TAYLOR_RATIO = TAYLOR_RATIO
cdef int C_TAYLOR_TERMS = TAYLOR_TERMS
cdef double C_SKIP_EXPONENT = SKIP_EXPONENT
cdef double C_GROUP_M = GROUP_M
cdef double C_SAME_LENGTH_RTOL = SAME_LENGTH_RTOL


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


def decay_integral(
    const int64_t[::1] offsets,
    const double[::1] a,
    const double[::1] b,
    const double[::1] n,
    const int64_t[::1] group,
    const double[::1] lam0,
    const double[::1] scale,
    double[:, :, ::1] out,
    double[:, ::1] mom,
    int64_t[:, ::1] ws_i,
    double[:, ::1] ws_f,
):
    """J split by segment group: for every event i, λ = lam0[i] / scale[k] and group g (e.g.
    the subsystem of the production volume; all 0 for the total), the sum over the event's
    segments of group g of n (e^{−a/λ} − e^{−b/λ}), added to ``out`` (n_events, n_scale,
    n_groups), which the caller zeroes.

    The caller also provides the scratch space: ``mom`` (n_groups, TAYLOR_TERMS), ``ws_i`` (m,
    2) int64 and ``ws_f`` (m, TAYLOR_TERMS + 2), m the largest number of segments of one event."""
    cdef Py_ssize_t n_ev = offsets.shape[0] - 1
    cdef Py_ssize_t n_k = scale.shape[0]
    cdef Py_ssize_t n_groups = mom.shape[0]
    cdef Py_ssize_t i, k, s, e, q, r, nr, s0, s1, first, last, g, j
    cdef double bmax, A, lam, inv, total, prev_b, prev_e, prev_len, prev_r, eA, ea, eb, L, a_s, b_s
    with nogil:
        for i in range(n_ev):
            s0 = offsets[i]
            s1 = offsets[i + 1]
            if s1 == s0:
                continue
            for g in range(n_groups):
                for j in range(C_TAYLOR_TERMS):
                    mom[g, j] = 0.0
            bmax = 0.0
            for s in range(s0, s1):
                _add_moments(&mom[group[s], 0], n[s], a[s], b[s])  # M_{k+1} = Σ n (b^{k+1} − a^{k+1}) / (k+1)!
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
                while e < s1 and b[e] - A <= C_GROUP_M and group[e] == group[s]:
                    e += 1
                for j in range(C_TAYLOR_TERMS):
                    ws_f[nr, j] = 0.0
                if e - s > 1:
                    for q in range(s, e):
                        _add_moments(&ws_f[nr, 0], n[q], a[q] - A, b[q] - A)
                ws_i[nr, 0] = s
                ws_i[nr, 1] = e
                ws_f[nr, C_TAYLOR_TERMS] = A
                ws_f[nr, C_TAYLOR_TERMS + 1] = b[e - 1] - A
                nr += 1
                s = e
            for k in range(n_k):
                lam = lam0[i] / scale[k]
                inv = 1.0 / lam
                if lam >= C_TAYLOR_RATIO * bmax:
                    for g in range(n_groups):
                        out[i, k, g] += _series(&mom[g, 0], inv)
                    continue
                prev_b = -1.0
                prev_e = 0.0
                prev_len = -1.0
                prev_r = 0.0
                for r in range(nr):
                    A = ws_f[r, C_TAYLOR_TERMS]
                    if A * inv > C_SKIP_EXPONENT:
                        break
                    first = ws_i[r, 0]
                    last = ws_i[r, 1]
                    if last - first > 1 and lam >= C_TAYLOR_RATIO * ws_f[r, C_TAYLOR_TERMS + 1]:
                        eA = prev_e if A == prev_b else exp(-A * inv)
                        out[i, k, group[first]] += eA * _series(&ws_f[r, 0], inv)
                        prev_b = -1.0
                        continue
                    for s in range(first, last):
                        a_s = a[s]
                        b_s = b[s]
                        if a_s * inv > C_SKIP_EXPONENT:
                            break
                        # e^{−a/λ} is the previous segment's e^{−b/λ} when they touch, and
                        # e^{−b/λ} = e^{−a/λ} × the previous ratio when they are also equally long
                        L = b_s - a_s
                        if a_s == prev_b:
                            ea = prev_e
                            if fabs(L - prev_len) <= C_SAME_LENGTH_RTOL * L:  # equal sub-segments
                                eb = ea * prev_r
                            else:
                                eb = exp(-b_s * inv)
                                prev_r = eb / ea if ea > 0.0 else exp(-L * inv)
                        else:
                            ea = exp(-a_s * inv)
                            eb = exp(-b_s * inv)
                            prev_r = eb / ea if ea > 0.0 else exp(-L * inv)
                        out[i, k, group[s]] += n[s] * (ea - eb)
                        prev_b = b_s
                        prev_e = eb
                        prev_len = L
