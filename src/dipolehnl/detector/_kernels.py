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
        order = np.argsort(ev_t[: 2 * nh])
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
