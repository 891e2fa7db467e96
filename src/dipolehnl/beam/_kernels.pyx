# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled kernel of the beamline flux fall-off along backward rays (Cython, built when the
package is installed): :func:`dipolehnl.beam.beamline.modulate_segments` with the tabulated
flux factor."""

from libc.math cimport NAN, asinh, ceil, exp, sqrt
from libc.stdint cimport int64_t

import numpy as np


cdef inline double _table_g(
    double x0, double x1, double x2, const double[::1] axis, double a0, double da, double w_step, double rho0,
    const double[:, ::1] ln_g,
) noexcept nogil:
    """g at the point (x0, x1, x2) relative to the target: bilinear in the table ``ln_g`` over
    (distance along ``axis`` − a0)/da and asinh(distance from the axis/rho0)/w_step
    (:class:`dipolehnl.beam.beamline.FluxFactorTable`); NaN outside the table."""
    cdef Py_ssize_t n_a = ln_g.shape[0]
    cdef Py_ssize_t n_w = ln_g.shape[1]
    cdef double along = x0 * axis[0] + x1 * axis[1] + x2 * axis[2]
    cdef double perp = sqrt(max(x0 * x0 + x1 * x1 + x2 * x2 - along * along, 0.0))
    cdef double fa = (along - a0) / da
    cdef double fw = asinh(perp / rho0) / w_step
    cdef Py_ssize_t ia, iw
    cdef double ta, tw, v
    if not (fa >= 0.0 and fa <= n_a - 1 and fw <= n_w - 1):
        return NAN
    ia = min(<Py_ssize_t>fa, n_a - 2)
    iw = min(<Py_ssize_t>fw, n_w - 2)
    ta = fa - ia
    tw = fw - iw
    v = (ln_g[ia, iw] * (1 - tw) + ln_g[ia, iw + 1] * tw) * (1 - ta) + (
        ln_g[ia + 1, iw] * (1 - tw) + ln_g[ia + 1, iw + 1] * tw
    ) * ta
    return exp(v)


def table_flux_factor(
    const double[:, ::1] x, const double[::1] target, const double[::1] axis, double a0, double da, double w_step,
    double rho0, const double[:, ::1] ln_g,
):
    """g at the points x (N, 3) from the table (:func:`_table_g`); NaN outside it."""
    out_arr = np.empty(x.shape[0])
    cdef double[::1] out = out_arr
    cdef Py_ssize_t i
    with nogil:
        for i in range(x.shape[0]):
            out[i] = _table_g(
                x[i, 0] - target[0], x[i, 1] - target[1], x[i, 2] - target[2], axis, a0, da, w_step, rho0, ln_g
            )
    return out_arr


def split_and_modulate(
    const double[:, ::1] x_dec,
    const double[:, ::1] u,
    const int64_t[::1] offsets,
    const double[::1] a,
    const double[::1] b,
    const double[::1] n,
    const int64_t[::1] volume,
    double step,
    const double[::1] target,
    const double[::1] axis,
    double a0,
    double da,
    double w_step,
    double rho0,
    const double[:, ::1] ln_g,
    double[::1] a2,
    double[::1] b2,
    double[::1] n2,
    int64_t[::1] v2,
    int64_t[::1] parent,
    double[:, ::1] xm,
):
    """Split segments [a, b] of ray i (from x_dec[i] along −u[i]) into max(ceil((b − a)/step),
    1) equal sub-segments with density n × g(x_mid), g from the table (:func:`_table_g`).
    Sub-segments whose midpoint lies outside the table get g = NaN (the caller evaluates them
    exactly).  Writes (a, b, n, volume, parent segment, x_mid) of the sub-segments, in the
    order of the segments, into ``a2``, ``b2``, ``n2``, ``v2``, ``parent``, ``xm``, which the
    caller sizes (``beam.beamline.modulate_segments``: it also forms their offsets); returns
    the number written, or −1 (and stops) where they would not fit."""
    cdef Py_ssize_t n_ray = offsets.shape[0] - 1
    cdef Py_ssize_t cap = min(a2.shape[0], b2.shape[0], n2.shape[0], v2.shape[0], parent.shape[0], xm.shape[0])
    cdef Py_ssize_t o = 0
    cdef Py_ssize_t i, s, j, k
    cdef bint bad = False
    cdef double L, h, lo, hi, mid, x0, x1, x2, g
    with nogil:
        for i in range(n_ray):
            for s in range(offsets[i], offsets[i + 1]):
                L = b[s] - a[s]
                k = max(<Py_ssize_t>ceil(L / step), 1)
                h = L / k
                if o + k > cap or s < 0 or s >= a.shape[0] or s >= b.shape[0] or s >= n.shape[0] or s >= volume.shape[0]:
                    bad = True
                    break
                for j in range(k):
                    lo = a[s] + j * h
                    hi = b[s] if j == k - 1 else lo + h
                    mid = 0.5 * (lo + hi)
                    x0 = x_dec[i, 0] - mid * u[i, 0] - target[0]
                    x1 = x_dec[i, 1] - mid * u[i, 1] - target[1]
                    x2 = x_dec[i, 2] - mid * u[i, 2] - target[2]
                    g = _table_g(x0, x1, x2, axis, a0, da, w_step, rho0, ln_g)
                    a2[o] = lo
                    b2[o] = hi
                    n2[o] = n[s] * g
                    v2[o] = volume[s]
                    parent[o] = s
                    xm[o, 0] = x0 + target[0]
                    xm[o, 1] = x1 + target[1]
                    xm[o, 2] = x2 + target[2]
                    o += 1
            if bad:
                break
    return -1 if bad else o
