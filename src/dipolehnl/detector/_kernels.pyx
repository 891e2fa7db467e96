# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled kernels of the ray tracer (Cython, built when the package is installed): the
painter's-grid digital differential analyser and the painter's-rule sweep along each ray
(:meth:`dipolehnl.detector.geometry.Detector.trace`)."""

from libc.math cimport INFINITY
from libc.stdint cimport int32_t, int64_t, uint64_t

import numpy as np


cdef inline int _highest_bit(uint64_t v) noexcept nogil:
    """Index of the highest set bit of v > 0 (binary search over the 64 bits)."""
    cdef int r = 0
    cdef int width = 32
    while width > 0:
        if v >> width:
            v >>= width
            r += width
        width >>= 1
    return r


def sweep_breakpoints(const double[:, ::1] t_in, const double[:, ::1] t_out, double snap):
    """Visible segments of C rays through V convex volumes (the painter's rule).

    ``t_in``, ``t_out`` (C, V): each ray's entry and exit parameters of each volume (clipped
    to the ray; hit where t_in < t_out).  Between consecutive breakpoints (entries and exits,
    sorted along the ray) the open volumes are those entered and not yet left; the visible
    one is the open volume of highest index (a bit set over the ray's hit volumes, whose
    highest set bit is found word by word).  Intervals no longer than ``snap`` are dropped
    (rounding slivers of coincident faces).  Returns (ray, t0, t1, volume) of the segments,
    ordered by ray and t (adjacent segments of one volume are not merged here)."""
    cdef Py_ssize_t c = t_in.shape[0]
    cdef Py_ssize_t nv = t_in.shape[1]
    cdef Py_ssize_t total = 0
    cdef Py_ssize_t r, j, e, k, q, w, nh, top, n_out = 0
    cdef double ta, tb
    cdef uint64_t x
    for r in range(c):
        for j in range(nv):
            if t_in[r, j] < t_out[r, j]:
                total += 2
    ray_a, t0_a, t1_a, vol_a = (
        np.empty(total, np.int64), np.empty(total), np.empty(total), np.empty(total, np.int64)
    )
    ev_t_a = np.empty(2 * nv)
    ev_q_a = np.empty(2 * nv, np.int64)  # position of the event's volume among the ray's hits
    hits_a = np.empty(nv, np.int64)
    order_a = np.empty(2 * nv, np.int64)
    cdef Py_ssize_t n_words = (nv + 63) // 64
    words_a = np.zeros(n_words, np.uint64)
    cdef int64_t[::1] ray = ray_a, vol = vol_a, ev_q = ev_q_a, hits = hits_a, order = order_a
    cdef double[::1] t0 = t0_a, t1 = t1_a, ev_t = ev_t_a
    cdef uint64_t[::1] words = words_a
    cdef uint64_t one = 1
    with nogil:
        for r in range(c):
            nh = 0
            for j in range(nv):
                if t_in[r, j] < t_out[r, j]:
                    ev_t[2 * nh] = t_in[r, j]
                    ev_q[2 * nh] = nh
                    ev_t[2 * nh + 1] = t_out[r, j]
                    ev_q[2 * nh + 1] = nh
                    hits[nh] = j  # ascending volume index
                    nh += 1
            if nh == 0:
                continue
            # order of the 2 nh events along the ray: insertion sort (a ray meets few volumes;
            # equal parameters keep their order of insertion, as a stable sort would)
            for e in range(2 * nh):
                k = e
                while k > 0 and ev_t[order[k - 1]] > ev_t[e]:
                    order[k] = order[k - 1]
                    k -= 1
                order[k] = e
            for e in range(2 * nh):
                k = order[e]
                q = ev_q[k]
                words[q >> 6] ^= one << <uint64_t>(q & 63)  # entry or exit: toggle
                if e + 1 < 2 * nh:
                    ta = ev_t[k]
                    tb = ev_t[order[e + 1]]
                    if tb - ta > snap:
                        top = -1
                        for w in range((nh + 63) // 64 - 1, -1, -1):
                            x = words[w]
                            if x != 0:
                                top = 64 * w + _highest_bit(x)
                                break
                        if top >= 0:
                            ray[n_out] = r
                            t0[n_out] = ta
                            t1[n_out] = tb
                            vol[n_out] = hits[top]
                            n_out += 1
            for w in range(n_words):
                words[w] = 0
    return ray_a[:n_out], t0_a[:n_out], t1_a[:n_out], vol_a[:n_out]


cdef inline Py_ssize_t _locate(const double* planes, Py_ssize_t n, double x, double d) noexcept nogil:
    """Cell index (between planes[i] and planes[i+1]) of coordinate x for a ray moving with
    direction component d: on a plane, the cell the ray moves into (d = 0: the upper cell;
    the caller also looks at the lower one).  -1 / n_cells outside."""
    cdef Py_ssize_t lo = 0  # binary search: i = (number of planes <= x) - 1, so planes[i] <= x < planes[i + 1]
    cdef Py_ssize_t hi = n
    cdef Py_ssize_t mid, i
    while lo < hi:
        mid = (lo + hi) // 2
        if planes[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    i = lo - 1
    if i >= 0 and planes[i] == x and d < 0:
        i -= 1
    if i > n - 2:
        i = n - 1 if x > planes[n - 1] or d >= 0 else n - 2
    return i


def grid_pass(
    const double[:, ::1] o,
    const double[:, ::1] d,
    const double[::1] tmax,
    const double[::1] allp,
    const int64_t[::1] off,
    const int32_t[:, :, ::1] label,
    double snap,
    int64_t[::1] ray,
    double[::1] t0,
    double[::1] t1,
    int64_t[::1] vol,
    const double[:, ::1] keep_density,
    const int64_t[::1] column,
    double[::1] density,
):
    """Segments of constant visible volume along rays through a rectilinear grid whose cells
    carry the visible volume (``label`` (nx, ny, nz), −1 for none; the planes of axis k are
    ``allp[off[k]:off[k + 1]]``, ascending, and contain every face of every box, so each cell
    is inside or outside each box).

    3D digital differential analyser: from the ray's first point in the grid, step to the
    nearest plane crossing of any axis; the segment between crossings takes its cell's label.
    A ray lying in a plane (direction component 0, coordinate on a plane) sees the higher
    label of the cells on both sides (boxes are closed, as in :func:`sweep_breakpoints`).
    Segments no longer than ``snap`` are dropped and their neighbours joined; consecutive
    segments of one volume are merged.  Returns the number of segments and writes them
    (ray, t0, t1, volume, ordered by ray and t) into ``ray``, ``t0``, ``t1``, ``vol`` as far
    as they have room (``detector.geometry.grid_trace`` runs the pass again with room for all
    when the returned number exceeds it; empty outputs: a counting pass).

    With a non-empty ``keep_density`` (volumes, columns) and ``column`` per ray, only the
    segments of volumes v with keep_density[v, column[ray]] > 0 are counted and written, with
    that value in ``density``; the others are traced (their ends still close rounding gaps)
    but not written, exactly as if they were filtered out afterwards."""
    cdef Py_ssize_t room = ray.shape[0]
    cdef bint filtered = keep_density.shape[0] > 0
    cdef bint keep, has_prev
    cdef double nv = 0.0
    cdef Py_ssize_t c = o.shape[0]
    cdef Py_ssize_t ncell[3]
    cdef Py_ssize_t idx[3]
    cdef Py_ssize_t step[3]
    cdef Py_ssize_t alt[3]  # the other side's cell index for a ray in a plane, else -2
    cdef double tnext[3]
    cdef double inv[3]
    cdef double lo[3]
    cdef double hi[3]
    cdef Py_ssize_t n_out = 0, last_v = -1, r, k, i, m, i0, i1, i2, v, npl
    cdef double last_t1 = 0.0, ta, tb, a, b, x, t, te, tmp
    cdef const double* pl
    cdef bint miss, ok, joined, out
    ncell[0] = label.shape[0]
    ncell[1] = label.shape[1]
    ncell[2] = label.shape[2]
    for k in range(3):
        lo[k] = allp[off[k]]
        hi[k] = allp[off[k + 1] - 1]
    with nogil:
        for r in range(c):
            # clip to the grid's bounding box
            ta = 0.0
            tb = tmax[r]
            miss = False
            for k in range(3):
                if d[r, k] == 0.0:
                    inv[k] = INFINITY
                    if o[r, k] < lo[k] or o[r, k] > hi[k]:
                        miss = True
                else:
                    inv[k] = 1.0 / d[r, k]
                    a = (lo[k] - o[r, k]) * inv[k]
                    b = (hi[k] - o[r, k]) * inv[k]
                    if a > b:
                        tmp = a
                        a = b
                        b = tmp
                    if a > ta:
                        ta = a
                    if b < tb:
                        tb = b
            if miss or not ta < tb:
                continue
            # starting cell
            for k in range(3):
                pl = &allp[off[k]]
                npl = off[k + 1] - off[k]
                x = o[r, k] + ta * d[r, k] if d[r, k] != 0.0 else o[r, k]
                i = _locate(pl, npl, x, d[r, k])
                if i < 0:
                    i = 0
                if i > ncell[k] - 1:
                    i = ncell[k] - 1
                idx[k] = i
                alt[k] = -2
                if d[r, k] == 0.0:
                    step[k] = 0
                    tnext[k] = INFINITY
                    if pl[i] == x and i > 0:
                        alt[k] = i - 1
                    elif i + 1 < npl and pl[i + 1] == x and i + 1 < ncell[k]:
                        alt[k] = i + 1
                elif d[r, k] > 0.0:
                    step[k] = 1
                    tnext[k] = (pl[i + 1] - o[r, k]) * inv[k]
                else:
                    step[k] = -1
                    tnext[k] = (pl[i] - o[r, k]) * inv[k]
            t = ta
            has_prev = False
            while t < tb:
                te = tb
                for k in range(3):
                    if tnext[k] < te:
                        te = tnext[k]
                v = label[idx[0], idx[1], idx[2]]
                if alt[0] >= -1 or alt[1] >= -1 or alt[2] >= -1:
                    for m in range(1, 8):  # the cells on the other side of each plane the ray lies in
                        i0 = idx[0]
                        i1 = idx[1]
                        i2 = idx[2]
                        ok = True
                        if m & 1:
                            ok = ok and alt[0] >= 0
                            i0 = alt[0]
                        if m & 2:
                            ok = ok and alt[1] >= 0
                            i1 = alt[1]
                        if m & 4:
                            ok = ok and alt[2] >= 0
                            i2 = alt[2]
                        if ok and label[i0, i1, i2] > v:
                            v = label[i0, i1, i2]
                if te - t > snap and v >= 0:
                    joined = has_prev and t - last_t1 <= snap  # no gap to the previous segment
                    keep = True
                    if filtered:
                        nv = keep_density[v, column[r]]
                        keep = nv > 0.0  # the same for every segment of volume v on this ray
                    if joined and last_v == v:
                        if keep and n_out <= room:
                            t1[n_out - 1] = te  # continues the previous segment
                    elif keep:
                        if n_out < room:
                            ray[n_out] = r
                            t0[n_out] = last_t1 if joined else t  # a rounding gap is closed
                            t1[n_out] = te
                            vol[n_out] = v
                            if filtered:
                                density[n_out] = nv
                        n_out += 1
                    has_prev = True
                    last_v = v
                    last_t1 = te
                if te >= tb:
                    break
                out = False
                for k in range(3):
                    if tnext[k] == te:
                        idx[k] += step[k]
                        if idx[k] < 0 or idx[k] >= ncell[k]:
                            out = True
                        elif step[k] > 0:
                            tnext[k] = (allp[off[k] + idx[k] + 1] - o[r, k]) * inv[k]
                        else:
                            tnext[k] = (allp[off[k] + idx[k]] - o[r, k]) * inv[k]
                if out:
                    break
                t = te
    return n_out
