"""Event selection of the e⁺e⁻ search in the TPCs (paper Sec. IV)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from dipolehnl.errors import InputError


@dataclass(frozen=True)
class Selection:
    """Selection applied as flags and an efficiency column (never destructively).

    Attributes
    ----------
    cos_theta_min: HNL direction within cos θ_N > cos_theta_min of the beam (+z); 0.992.
    opening_angle_max_deg: opening angle between e⁺ and e⁻ below this (degrees); 90.
    efficiency: callable m_GeV -> efficiency (T2K 2019, see ``analysis.efficiency``),
        or None for 1.
    br_ee: "model" (Γ_ee/Γ_total of the model's convention) or "paper-code" (the closed
        form of the paper's analysis code, ``decays.br_ee_paper_code``).
    """

    cos_theta_min: float = 0.992
    opening_angle_max_deg: float = 90.0
    efficiency: Callable[[float], float] | None = None
    br_ee: str = "model"

    def __post_init__(self) -> None:
        if not -1.0 <= self.cos_theta_min <= 1.0:
            raise InputError(f"cos_theta_min must be in [-1, 1], got {self.cos_theta_min}")
        if not 0.0 < self.opening_angle_max_deg <= 180.0:
            raise InputError(f"opening_angle_max_deg must be in (0, 180], got {self.opening_angle_max_deg}")
        if self.br_ee not in ("model", "paper-code"):
            raise InputError(f"br_ee must be 'model' or 'paper-code', got {self.br_ee!r}")

    @property
    def cos_opening_min(self) -> float:
        return math.cos(math.radians(self.opening_angle_max_deg))

    def efficiency_at(self, m_GeV: float) -> float:
        return 1.0 if self.efficiency is None else float(self.efficiency(m_GeV))


def default_selection() -> Selection:
    """The paper's selection with the T2K 2019 efficiency (held at its end values)."""
    from dipolehnl.analysis.efficiency import load_efficiency

    return Selection(efficiency=load_efficiency("t2k2019"))
