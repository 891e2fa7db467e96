"""Scan results and contours: per-mass results, the excluded intervals in d (edges
interpolated log–log) and the :class:`ScanResult` of a finished scan."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dipolehnl.analysis.analyses import Analysis, Level
from dipolehnl.analysis.scan_settings import ScanSettings
from dipolehnl.config import Preset
from dipolehnl.errors import InputError


@dataclass
class MassResult:
    """Scan output at one mass (arrays over data sets × couplings)."""

    mass_GeV: float
    signal: np.ndarray  # (n_datasets, n_couplings) expected selected events
    signal_flux_minus: np.ndarray
    signal_flux_plus: np.ndarray
    mc_error: np.ndarray  # (n_couplings,) absolute MC error of the total signal
    median_decay_length_m: np.ndarray  # (n_couplings,) weighted median over selected events
    share_couplings: np.ndarray  # couplings at which shares are given
    share_names: tuple[str, ...]
    shares: np.ndarray  # (n_share_couplings, n_subsystems) fraction of the total signal
    n_events: int
    wall_time_s: float

    def to_npz(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["share_names"] = np.array(self.share_names)
        return d

    @classmethod
    def from_npz(cls, z: Mapping[str, Any]) -> MassResult:
        kw = {f.name: z[f.name] for f in dataclasses.fields(cls)}
        kw["share_names"] = tuple(str(s) for s in kw["share_names"])
        for k in ("mass_GeV", "wall_time_s"):
            kw[k] = float(kw[k])
        kw["n_events"] = int(kw["n_events"])
        return cls(**kw)


def excluded_intervals(
    couplings: np.ndarray, stat: np.ndarray, threshold: float
) -> list[tuple[float, float, bool, bool]]:
    """Intervals of d where ``stat >= threshold``, edges interpolated (log–log where possible).

    Returns (d_low, d_high, low_is_grid_edge, high_is_grid_edge) per interval.
    """
    ex = stat >= threshold
    out = []
    k = 0
    K = couplings.size
    while k < K:
        if not ex[k]:
            k += 1
            continue
        j = k
        while j + 1 < K and ex[j + 1]:
            j += 1
        lo = couplings[k] if k == 0 else _crossing(couplings[k - 1], couplings[k], stat[k - 1], stat[k], threshold)
        hi = couplings[j] if j == K - 1 else _crossing(couplings[j], couplings[j + 1], stat[j], stat[j + 1], threshold)
        out.append((float(lo), float(hi), k == 0, j == K - 1))
        k = j + 1
    return out


def _crossing(d1: float, d2: float, s1: float, s2: float, thr: float) -> float:
    x1, x2 = math.log(d1), math.log(d2)
    if s1 > 0 and s2 > 0:
        y1, y2, t = math.log(s1), math.log(s2), math.log(thr)
    else:
        y1, y2, t = s1, s2, thr
    if y2 == y1:
        return math.sqrt(d1 * d2)
    return math.exp(x1 + (t - y1) * (x2 - x1) / (y2 - y1))


@dataclass
class ScanResult:
    """A finished scan: per-mass results plus the analysis and settings.

    Attributes
    ----------
    analysis : Analysis
        The analysis scanned.
    preset : Preset
        The physics preset.
    settings : ScanSettings
        Grids and sizes.
    masses : list of MassResult
        Per-mass results (expected signal per data set and coupling).
    wall_time_s : float
        Wall time of the scan (s).
    cached_masses : int
        Masses taken from the cache.
    """

    analysis: Analysis
    preset: Preset
    settings: ScanSettings
    masses: list[MassResult]
    wall_time_s: float = 0.0
    cached_masses: int = 0

    @property
    def masses_GeV(self) -> np.ndarray:
        """The scanned masses (GeV)."""
        return np.array([r.mass_GeV for r in self.masses])

    @property
    def couplings(self) -> np.ndarray:
        """The coupling grid (GeV^-1)."""
        return np.asarray(self.settings.couplings_GeVinv, dtype=float)

    def signal(self, which: str = "nominal") -> np.ndarray:
        """Expected signal events.

        Parameters
        ----------
        which : {"nominal", "flux_minus", "flux_plus"}
            Nominal flux or the flux shifted by ∓1σ.

        Returns
        -------
        numpy.ndarray
            Shape (n_masses, n_datasets, n_couplings).

        Raises
        ------
        KeyError
            For another ``which``.
        """
        attr = {"nominal": "signal", "flux_minus": "signal_flux_minus", "flux_plus": "signal_flux_plus"}[which]
        return np.stack([getattr(r, attr) for r in self.masses])

    def statistic(self, which: str = "nominal") -> np.ndarray:
        """The analysis test statistic on the grid.

        Parameters
        ----------
        which : {"nominal", "flux_minus", "flux_plus"}
            Which signal (see :meth:`signal`).

        Returns
        -------
        numpy.ndarray
            Shape (n_masses, n_couplings).
        """
        s = self.signal(which)
        return np.asarray(self.analysis.test_statistic(np.moveaxis(s, 1, 0)))

    def contour(self, level: Level, which: str = "nominal") -> list[dict[str, Any]]:
        """The excluded coupling intervals at every mass.

        Parameters
        ----------
        level : Level
            A level of the analysis (``result.analysis.levels()``).
        which : {"nominal", "flux_minus", "flux_plus"}
            Which signal (see :meth:`signal`).

        Returns
        -------
        list of dict
            Rows ``{m_MeV, d_low_GeVinv, d_high_GeVinv, low_at_grid_edge,
            high_at_grid_edge}``: one per excluded interval, and one with empty (None) edges
            for a mass where nothing is excluded.
        """
        stat = self.statistic(which)
        rows = []
        for i, m in enumerate(self.masses_GeV):
            ivs = excluded_intervals(self.couplings, stat[i], level.threshold)
            if not ivs:
                rows.append(
                    {
                        "m_MeV": 1e3 * m,
                        "d_low_GeVinv": None,
                        "d_high_GeVinv": None,
                        "low_at_grid_edge": None,
                        "high_at_grid_edge": None,
                    }
                )
            for lo, hi, elo, ehi in ivs:
                rows.append(
                    {
                        "m_MeV": 1e3 * m,
                        "d_low_GeVinv": lo,
                        "d_high_GeVinv": hi,
                        "low_at_grid_edge": elo,
                        "high_at_grid_edge": ehi,
                    }
                )
        return rows

    def excluded_predicate(
        self, level: Level, which: str = "nominal"
    ) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """An interpolated exclusion test.

        Parameters
        ----------
        level : Level
            A level of the analysis.
        which : {"nominal", "flux_minus", "flux_plus"}
            Which signal (see :meth:`signal`).

        Returns
        -------
        callable
            ``f(m_MeV, d_GeVinv) → bool array``: excluded?, bilinear in (log m, log d) of
            log(statistic/threshold); False outside the grid.

        Raises
        ------
        InputError
            With fewer than two masses.
        """
        stat = self.statistic(which)
        with np.errstate(divide="ignore"):
            z = np.log(np.maximum(stat, 1e-300) / level.threshold)
        if self.masses_GeV.size < 2:
            raise InputError("need at least two masses to interpolate the exclusion")
        lm, ld = np.log(1e3 * self.masses_GeV), np.log(self.couplings)

        def f(m_MeV: np.ndarray, d: np.ndarray) -> np.ndarray:
            m_MeV, d = np.broadcast_arrays(np.asarray(m_MeV, float), np.asarray(d, float))
            return (_bilinear(lm, ld, z, np.log(m_MeV).ravel(), np.log(d).ravel()) >= 0).reshape(m_MeV.shape)

        return f


def _bilinear(xg: np.ndarray, yg: np.ndarray, z: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of z (len(xg), len(yg)) on the ascending grid (xg, yg) at the
    points (x, y); −inf outside the grid (or at NaN)."""
    ix = np.clip(np.searchsorted(xg, x, side="right") - 1, 0, xg.size - 2)
    iy = np.clip(np.searchsorted(yg, y, side="right") - 1, 0, yg.size - 2)
    tx = (x - xg[ix]) / (xg[ix + 1] - xg[ix])
    ty = (y - yg[iy]) / (yg[iy + 1] - yg[iy])
    with np.errstate(invalid="ignore"):
        v = (z[ix, iy] * (1 - tx) + z[ix + 1, iy] * tx) * (1 - ty) + (
            z[ix, iy + 1] * (1 - tx) + z[ix + 1, iy + 1] * tx
        ) * ty
    inside = (x >= xg[0]) & (x <= xg[-1]) & (y >= yg[0]) & (y <= yg[-1])
    return np.where(inside, v, -np.inf)
