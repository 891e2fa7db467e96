"""Compiled kernel of the beamline flux fall-off along backward rays (numba):
:func:`dipolehnl.beam.beamline.modulate_segments` with the tabulated flux factor."""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _table_g(x0, x1, x2, axis, a0, da, w_step, rho0, ln_g):  # pragma: no cover - compiled
    """g at the point (x0, x1, x2) relative to the target: bilinear in the table ``ln_g`` over
    (distance along ``axis`` − a0)/da and asinh(distance from the axis/rho0)/w_step
    (:class:`dipolehnl.beam.beamline.FluxFactorTable`); NaN outside the table."""
    n_a, n_w = ln_g.shape
    along = x0 * axis[0] + x1 * axis[1] + x2 * axis[2]
    perp = math.sqrt(max(x0 * x0 + x1 * x1 + x2 * x2 - along * along, 0.0))
    fa = (along - a0) / da
    fw = math.asinh(perp / rho0) / w_step
    if not (fa >= 0.0 and fa <= n_a - 1 and fw <= n_w - 1):
        return np.nan
    ia = min(int(fa), n_a - 2)
    iw = min(int(fw), n_w - 2)
    ta = fa - ia
    tw = fw - iw
    v = (ln_g[ia, iw] * (1 - tw) + ln_g[ia, iw + 1] * tw) * (1 - ta) + (
        ln_g[ia + 1, iw] * (1 - tw) + ln_g[ia + 1, iw + 1] * tw
    ) * ta
    return math.exp(v)


@njit(cache=True)
def table_flux_factor(x, target, axis, a0, da, w_step, rho0, ln_g):  # pragma: no cover - compiled
    """g at the points x (N, 3) from the table (:func:`_table_g`); NaN outside it."""
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = _table_g(
            x[i, 0] - target[0], x[i, 1] - target[1], x[i, 2] - target[2], axis, a0, da, w_step, rho0, ln_g
        )
    return out


@njit(cache=True)
def split_and_modulate(
    x_dec, u, offsets, a, b, n, volume, step, target, axis, a0, da, w_step, rho0, ln_g, a2, b2, n2, v2, parent, xm
):  # pragma: no cover - compiled
    """Split segments [a, b] of ray i (from x_dec[i] along −u[i]) into max(ceil((b − a)/step),
    1) equal sub-segments with density n × g(x_mid), g from the table (:func:`_table_g`).
    Sub-segments whose midpoint lies outside the table get g = NaN (the caller evaluates them
    exactly).  Writes (a, b, n, volume, parent segment, x_mid) of the sub-segments, in the
    order of the segments, into ``a2``, ``b2``, ``n2``, ``v2``, ``parent``, ``xm``, which the
    caller sizes (``beam.beamline.modulate_segments``: it also forms their offsets)."""
    n_ray = offsets.shape[0] - 1
    o = 0
    for i in range(n_ray):
        for s in range(offsets[i], offsets[i + 1]):
            L = b[s] - a[s]
            k = max(int(math.ceil(L / step)), 1)
            h = L / k
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
