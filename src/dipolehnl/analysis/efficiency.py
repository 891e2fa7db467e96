"""Selection efficiency for e+e- pairs from HNL decays in the ND280 TPCs.

The shipped table ``data/efficiency/t2k2019_hnl_ee_selection_efficiency.txt`` is the
efficiency T2K reported for its 2019 HNL search (K. Abe et al., PRD 100, 052006 (2019))
for the K -> mu N and K -> e N production channels, 150-475 MeV.  arXiv:2412.15051
uses the smaller of the two at each mass, linearly interpolated, held constant at the
end values outside 150-475 MeV (``outside='hold'``); ``outside='zero'`` sets it to 0
there instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dipolehnl.errors import InputError

Outside = Literal["hold", "zero"]
OUTSIDE_CHOICES: tuple[str, ...] = ("hold", "zero")

#: Shipped efficiency tables: name -> file in dipolehnl/analysis/data/efficiency.
EFFICIENCY_FILES: dict[str, str] = {"t2k2019": "t2k2019_hnl_ee_selection_efficiency.txt"}


@dataclass(frozen=True)
class SelectionEfficiency:
    """Efficiency versus HNL mass, the minimum of the tabulated channels, linearly interpolated.

    Attributes
    ----------
    m_MeV: tabulated masses (MeV), increasing.
    channels: efficiencies, shape (n_channels, n_masses), e.g. rows (mu channel, e channel).
    outside: 'hold' (end values beyond the table, the paper's choice) or 'zero'.
    name: label (table name or file).
    """

    m_MeV: NDArray[np.float64]
    channels: NDArray[np.float64]
    outside: str = "hold"
    name: str = ""

    def __post_init__(self) -> None:
        m = np.array(self.m_MeV, dtype=float)
        ch = np.atleast_2d(np.array(self.channels, dtype=float))
        if m.ndim != 1 or m.size < 2 or ch.shape[1] != m.size:
            raise InputError(f"efficiency table {self.name!r}: need >= 2 masses and one value per mass and channel")
        if np.any(np.diff(m) <= 0):
            raise InputError(f"efficiency table {self.name!r}: masses must be strictly increasing")
        if np.any(~np.isfinite(ch)) or np.any(ch < 0) or np.any(ch > 1):
            raise InputError(f"efficiency table {self.name!r}: efficiencies must be in [0, 1]")
        if self.outside not in OUTSIDE_CHOICES:
            raise InputError(f"efficiency outside the table must be one of {OUTSIDE_CHOICES}, got {self.outside!r}")
        m.setflags(write=False)
        ch.setflags(write=False)
        object.__setattr__(self, "m_MeV", m)
        object.__setattr__(self, "channels", ch)

    @property
    def nodes(self) -> NDArray[np.float64]:
        """Node-wise minimum over channels (the values that are interpolated)."""
        return self.channels.min(axis=0)

    @property
    def mass_range_GeV(self) -> tuple[float, float]:
        return float(self.m_MeV[0]) / 1e3, float(self.m_MeV[-1]) / 1e3

    def __call__(self, m_GeV: ArrayLike) -> NDArray[np.float64] | float:
        """Efficiency at HNL mass m (GeV): linear interpolation of min over channels.

        (Interpolating the node-wise minimum; for the T2K table the e channel is the
        smaller one at every node, so this equals the minimum of the interpolated channels.)
        """
        m = np.asarray(m_GeV, dtype=float) * 1e3
        eff = np.interp(m, self.m_MeV, self.nodes)
        if self.outside == "zero":
            eff = np.where((m < self.m_MeV[0]) | (m > self.m_MeV[-1]), 0.0, eff)
        return float(eff) if np.ndim(eff) == 0 else eff

    def with_outside(self, outside: Outside) -> SelectionEfficiency:
        return SelectionEfficiency(self.m_MeV, self.channels, outside, self.name)


def _parse(text: str, source: str, outside: str) -> SelectionEfficiency:
    from dipolehnl.io import numeric_rows

    rows: list[list[float]] = []
    for lineno, s, vals in numeric_rows(text, source):
        if len(vals) < 2:
            raise InputError(f"{source}:{lineno}: expected 'mass_MeV eff_1 [eff_2 ...]', got {s!r}")
        if rows and len(vals) != len(rows[0]):
            raise InputError(f"{source}:{lineno}: expected {len(rows[0])} columns, got {len(vals)}")
        rows.append(vals)
    if len(rows) < 2:
        raise InputError(f"{source}: need at least two efficiency rows")
    a = np.array(rows)
    return SelectionEfficiency(a[:, 0], a[:, 1:].T, outside, source)


@cache
def _shipped_text(name: str) -> str:
    return (files("dipolehnl") / "analysis" / "data" / "efficiency" / EFFICIENCY_FILES[name]).read_text()


def load_efficiency(name_or_path: str | Path = "t2k2019", outside: Outside = "hold") -> SelectionEfficiency:
    """A shipped efficiency table by name ('t2k2019') or a user file.

    User file format: whitespace- or comma-separated rows ``mass_MeV eff_channel1 [eff_channel2 ...]``,
    '#' comments; the minimum over channels is used.
    """
    key = str(name_or_path)
    if key in EFFICIENCY_FILES:
        return _parse(_shipped_text(key), key, outside)
    p = Path(name_or_path)
    if not p.is_file():
        raise InputError(
            f"unknown efficiency {key!r}: expected one of {', '.join(EFFICIENCY_FILES)} or a path to a table file"
        )
    return _parse(p.read_text(), str(p), outside)
