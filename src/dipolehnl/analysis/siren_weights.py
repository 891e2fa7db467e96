"""How much SIREN's decay weight (as the paper, arXiv:2412.15051, used it) exceeds the exact one.

SIREN forces the HNL decay into the fiducial volume and weights it with the probability to
decay inside the volume's chord, without the probability to *survive* from the production
point to the volume (docs/method.md).  For one HNL made a distance ``a`` upstream of a fiducial
chord of length ``L`` with lab decay length λ:

    exact  P = e^{−a/λ} − e^{−(a+L)/λ}          (survival × decay inside, docs/method.md)
    SIREN  P_S = 1 − e^{−L/λ}                    (decay inside, survival omitted)
    P_S / P = e^{a/λ}

which grows as the HNL gets short-lived.  λ is the analytic lab-frame decay length of
:func:`dipolehnl.analysis.decay_length.analytic_decay_length_m` (median HNL momentum of the
FHC ν_μ flux on carbon) in the chosen convention.  :data:`REFERENCE_SETUP` is the one-segment
set-up the report quotes: the paper's widths (``darknews``), the paper's Fig.-2 coupling, an HNL
made in the material 1 m upstream of a TPC and the TPC fiducial length along the beam.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from dipolehnl.errors import InputError

#: The reference set-up of the report's statement (see module docstring).
REFERENCE_SETUP: dict = {
    "masses_MeV": (250.0, 500.0),
    "d_GeVinv": 3.87e-7,          # the coupling of the paper's Fig. 2
    "convention": "darknews",     # the paper's widths
    "distance_m": 1.0,            # production point → upstream face of the fiducial volume
    "length_m": 0.563,            # ND280 TPC fiducial length along the beam (detector/catalog.py)
}


def siren_over_exact(decay_length_m: ArrayLike, distance_m: float, length_m: float) -> np.ndarray:
    """(1 − e^{−L/λ}) / (e^{−a/λ} − e^{−(a+L)/λ}) = e^{a/λ} for λ = ``decay_length_m``."""
    if not (math.isfinite(distance_m) and distance_m >= 0 and math.isfinite(length_m) and length_m > 0):
        raise InputError(f"need distance >= 0 and length > 0 (m), got {distance_m!r}, {length_m!r}")
    lam = np.asarray(decay_length_m, dtype=float)
    if np.any(~(lam > 0)):
        raise InputError("decay lengths must be positive")
    a = distance_m / lam
    return np.exp(a)


def siren_weight_ratio(mass_GeV: ArrayLike, d_GeVinv: float, distance_m: float, length_m: float,
                       convention: str = "darknews") -> np.ndarray:
    """SIREN's decay weight over the exact one (module docstring) at each mass."""
    from dipolehnl.analysis.decay_length import analytic_decay_length_m

    m = np.atleast_1d(np.asarray(mass_GeV, dtype=float))
    lam = np.asarray(analytic_decay_length_m(m, d_GeVinv, convention), dtype=float)
    return siren_over_exact(lam, distance_m, length_m)


def reference_ratios(setup: dict | None = None) -> dict:
    """The ratio at the masses of :data:`REFERENCE_SETUP` (or ``setup``): the set-up plus
    ``ratios`` (one per mass)."""
    s = dict(REFERENCE_SETUP if setup is None else setup)
    r = siren_weight_ratio(np.asarray(s["masses_MeV"]) / 1e3, s["d_GeVinv"], s["distance_m"], s["length_m"],
                           s["convention"])
    s["ratios"] = [float(x) for x in r]
    return s
