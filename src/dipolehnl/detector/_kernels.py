"""Compiled kernel of the ray tracer (numba): the painter's-rule sweep along each ray
(:meth:`dipolehnl.detector.geometry.Detector.trace`)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def sweep_breakpoints(t_in, t_out, snap):  # pragma: no cover - compiled
    """Visible segments of C rays through V convex volumes (the painter's rule).

    ``t_in``, ``t_out`` (C, V): each ray's entry and exit parameters of each volume (clipped
    to the ray; hit where t_in < t_out).  Between consecutive breakpoints (entries and exits,
    sorted along the ray) the open volumes are those entered and not yet left; the visible
    one is the open volume of highest index.  Intervals no longer than ``snap`` are dropped
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
    ev_v = np.empty(2 * nv, np.int64)
    hits = np.empty(nv, np.int64)
    pos = np.empty(nv, np.int64)  # position of a hit volume in ``hits``
    is_open = np.zeros(nv, np.bool_)
    for r in range(c):
        nh = 0
        for j in range(nv):
            if t_in[r, j] < t_out[r, j]:
                ev_t[2 * nh] = t_in[r, j]
                ev_v[2 * nh] = j
                ev_t[2 * nh + 1] = t_out[r, j]
                ev_v[2 * nh + 1] = j
                hits[nh] = j  # ascending
                pos[j] = nh
                nh += 1
        if nh == 0:
            continue
        order = np.argsort(ev_t[: 2 * nh])
        top = -1
        for e in range(2 * nh):
            k = order[e]
            j = ev_v[k]
            if is_open[j]:
                is_open[j] = False
                if j == top:  # every open volume has a lower index: search below it
                    top = -1
                    for q in range(pos[j] - 1, -1, -1):
                        if is_open[hits[q]]:
                            top = hits[q]
                            break
            else:
                is_open[j] = True
                if j > top:
                    top = j
            if e + 1 < 2 * nh and top >= 0:
                ta = ev_t[k]
                tb = ev_t[order[e + 1]]
                if tb - ta > snap:
                    ray[n_out] = r
                    t0[n_out] = ta
                    t1[n_out] = tb
                    vol[n_out] = top
                    n_out += 1
        for q in range(nh):
            is_open[hits[q]] = False
    return ray[:n_out], t0[:n_out], t1[:n_out], vol[:n_out]
