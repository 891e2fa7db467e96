"""Vertex maps of the selected signal (Fig. 2): production (upscattering) and decay vertices
of an event sample, weighted by the selected events, histogrammed in the (z, y) plane."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dipolehnl.errors import InputError
from dipolehnl.generate.sample import EventSample

#: Histogram bin size (m) in z and y.
BIN_M: float = 0.06


@dataclass(frozen=True)
class VertexMaps:
    """Weighted vertex densities of one sample in the (z, y) plane.

    ``production`` and ``decay`` are (n_y, n_z) arrays of the fraction of the selected
    signal per m^2 in each bin (``z_edges``/``y_edges`` in m); ``rock_share`` is the
    exact fraction of the selected signal produced in the rock; ``events_per_pot`` the
    selected events per POT; ``in_window`` the fraction of the production vertices inside
    the window.
    """

    z_edges: NDArray[np.float64]
    y_edges: NDArray[np.float64]
    production: NDArray[np.float64]
    decay: NDArray[np.float64]
    rock_share: float
    events_per_pot: float
    in_window: float


def vertex_maps(
    sample: EventSample,
    selected_weights: NDArray[np.float64],
    z_range_m: tuple[float, float],
    y_range_m: tuple[float, float],
    bin_m: float = BIN_M,
) -> VertexMaps:
    """Histogram the production and decay vertices of the selected signal of ``sample``.

    ``selected_weights``: per-event selected events per POT, ``sample.weights() ×
    channel.selection_factor(sample)``; events with zero weight (no target along the
    backward ray, hence no production vertex) are dropped.  Ranges and bin size in m.
    Densities are normalised to the total selected weight, per m^2 of the (z, y) plane.
    """
    if not bin_m > 0:
        raise InputError(f"bin size must be positive, got {bin_m}")
    w = np.asarray(selected_weights, dtype=float)
    c = sample.columns
    prod = np.asarray(c["production_vertex_m"], dtype=float)
    dec = np.asarray(c["decay_vertex_m"], dtype=float)
    ok = np.isfinite(w) & (w > 0) & np.all(np.isfinite(prod), axis=1)
    total = float(w[ok].sum())
    nz = max(1, int(round((z_range_m[1] - z_range_m[0]) / bin_m)))
    ny = max(1, int(round((y_range_m[1] - y_range_m[0]) / bin_m)))
    z_edges = np.linspace(z_range_m[0], z_range_m[1], nz + 1)
    y_edges = np.linspace(y_range_m[0], y_range_m[1], ny + 1)
    area = (z_edges[1] - z_edges[0]) * (y_edges[1] - y_edges[0])
    if total <= 0:
        zero = np.zeros((ny, nz))
        return VertexMaps(z_edges, y_edges, zero, zero.copy(), float("nan"), 0.0, float("nan"))
    wn = w[ok] / total

    def hist(pts: NDArray[np.float64]) -> NDArray[np.float64]:
        h, _, _ = np.histogram2d(pts[:, 1], pts[:, 2], bins=(y_edges, z_edges), weights=wn)
        return h / area

    hp = hist(prod[ok])
    hd = hist(dec[ok])
    names, frac = sample.production_fractions()
    rock = float((frac[ok, list(names).index("rock")] * wn).sum()) if "rock" in names else 0.0
    return VertexMaps(z_edges, y_edges, hp, hd, rock, total, float(hp.sum() * area))
