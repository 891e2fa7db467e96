"""Compiled kernel of the ray tracer (numba): the painter's-rule sweep along each ray
(:meth:`dipolehnl.detector.geometry.Detector.trace`)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _highest_bit32(v):  # pragma: no cover - compiled
    """Index of the highest set bit of 0 < v < 2**32 (exact: v is exact as a float)."""
    return math.frexp(float(v))[1] - 1


@njit(cache=True)
def sweep_breakpoints(t_in, t_out, snap):  # pragma: no cover - compiled
    """Visible segments of C rays through V convex volumes (the painter's rule).

    ``t_in``, ``t_out`` (C, V): each ray's entry and exit parameters of each volume (clipped
    to the ray; hit where t_in < t_out).  Between consecutive breakpoints (entries and exits,
    sorted along the ray) the open volumes are those entered and not yet left; the visible
    one is the open volume of highest index (a bit set over the ray's hit volumes, whose
    highest set bit is found word by word).  Intervals no longer than ``snap`` are dropped
    (rounding slivers of coincident faces).  Returns (ray, t0, t1, volume) of the segments,
    ordered by ray and t (adjacent segments of one volume are not merged here)."""
    c, nv = t_in.shape
    total = 0
    for r in range(c):
        for j in range(nv):
            if t_in[r, j] < t_out[r, j]:
                total += 2
    ray = np.empty(total, np.int64)
    t0 = np.empty(total)
    t1 = np.empty(total)
    vol = np.empty(total, np.int64)
    n_out = 0
    ev_t = np.empty(2 * nv)
    ev_q = np.empty(2 * nv, np.int64)  # position of the event's volume among the ray's hits
    hits = np.empty(nv, np.int64)
    order = np.empty(2 * nv, np.int64)
    n_words = (nv + 63) // 64
    words = np.zeros(n_words, np.uint64)
    one = np.uint64(1)
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
            words[q >> 6] ^= one << np.uint64(q & 63)  # entry or exit: toggle
            if e + 1 < 2 * nh:
                ta = ev_t[k]
                tb = ev_t[order[e + 1]]
                if tb - ta > snap:
                    top = -1
                    for w in range((nh + 63) // 64 - 1, -1, -1):
                        x = words[w]
                        if x != 0:
                            hi = x >> np.uint64(32)
                            if hi != 0:
                                top = 64 * w + 32 + _highest_bit32(hi)
                            else:
                                top = 64 * w + _highest_bit32(x & np.uint64(0xFFFFFFFF))
                            break
                    if top >= 0:
                        ray[n_out] = r
                        t0[n_out] = ta
                        t1[n_out] = tb
                        vol[n_out] = hits[top]
                        n_out += 1
        for w in range(n_words):
            words[w] = 0
    return ray[:n_out], t0[:n_out], t1[:n_out], vol[:n_out]


@njit(cache=True)
def _locate(planes, x, d):  # pragma: no cover - compiled
    """Cell index (between planes[i] and planes[i+1]) of coordinate x for a ray moving with
    direction component d: on a plane, the cell the ray moves into (d = 0: the upper cell;
    the caller also looks at the lower one).  -1 / n_cells outside."""
    n = planes.shape[0]
    lo = 0  # binary search: i = (number of planes <= x) - 1, so planes[i] <= x < planes[i + 1]
    hi = n
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


@njit(cache=True)
def grid_pass(o, d, tmax, allp, off, label, snap, ray, t0, t1, vol, ws_i, ws_f):  # pragma: no cover - compiled
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
    (ray, t0, t1, volume, ordered by ray and t) into ``ray``, ``t0``, ``t1``, ``vol`` unless
    these are empty (the counting pass; ``detector.geometry.grid_trace`` runs both passes).
    ``ws_i`` (4, 3) int64 and ``ws_f`` (4, 3) are scratch space from the caller (a kernel that
    allocates compiles numba's allocation code with it)."""
    write = ray.shape[0] > 0  # not a literal argument: one compiled version serves both passes
    c = o.shape[0]
    nx, ny, nz = label.shape
    idx = ws_i[0]
    step = ws_i[1]
    alt = ws_i[2]  # the other side's cell index for a ray in a plane, else -2
    ncell = ws_i[3]
    tnext = ws_f[0]
    inv = ws_f[1]
    lo = ws_f[2]
    hi = ws_f[3]
    for k in range(3):
        lo[k] = allp[off[k]]
        hi[k] = allp[off[k + 1] - 1]
    ncell[0] = nx
    ncell[1] = ny
    ncell[2] = nz
    n_out = 0
    last_v = -1
    last_t1 = 0.0
    for r in range(c):
        # clip to the grid's bounding box
        ta = 0.0
        tb = tmax[r]
        miss = False
        for k in range(3):
            if d[r, k] == 0.0:
                inv[k] = np.inf
                if o[r, k] < lo[k] or o[r, k] > hi[k]:
                    miss = True
            else:
                inv[k] = 1.0 / d[r, k]
                a = (lo[k] - o[r, k]) * inv[k]
                b = (hi[k] - o[r, k]) * inv[k]
                if a > b:
                    a, b = b, a
                if a > ta:  # (conditionals instead of min/max: fewer functions to compile)
                    ta = a
                if b < tb:
                    tb = b
        if miss or not ta < tb:
            continue
        # starting cell
        for k in range(3):
            pl = allp[off[k] : off[k + 1]]
            x = o[r, k] + ta * d[r, k] if d[r, k] != 0.0 else o[r, k]
            i = _locate(pl, x, d[r, k])
            if i < 0:
                i = 0
            if i > ncell[k] - 1:
                i = ncell[k] - 1
            idx[k] = i
            alt[k] = -2
            if d[r, k] == 0.0:
                step[k] = 0
                tnext[k] = np.inf
                if pl[i] == x and i > 0:
                    alt[k] = i - 1
                elif i + 1 < pl.shape[0] and pl[i + 1] == x and i + 1 < ncell[k]:
                    alt[k] = i + 1
            elif d[r, k] > 0.0:
                step[k] = 1
                tnext[k] = (pl[i + 1] - o[r, k]) * inv[k]
            else:
                step[k] = -1
                tnext[k] = (pl[i] - o[r, k]) * inv[k]
        t = ta
        first = n_out
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
                joined = n_out > first and t - last_t1 <= snap  # no gap to the previous segment
                if joined and last_v == v:
                    if write:
                        t1[n_out - 1] = te  # continues the previous segment
                else:
                    if write:
                        ray[n_out] = r
                        t0[n_out] = last_t1 if joined else t  # a rounding gap is closed
                        t1[n_out] = te
                        vol[n_out] = v
                    n_out += 1
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
