"""Booster Neutrino Beam flux at MiniBooNE (neutrino and antineutrino mode).

The shipped tables (``dipolehnl/experiments/data/miniboone/flux/``, provenance in the
README there) hold the flux density in neutrinos per cm^2 per POT per GeV on 50 MeV bins
from 0 to 10 GeV, converted from the collaboration's 2009 release (per cm^2 per POT per
50 MeV bin) by dividing by 0.050 GeV.  The flux is given at the detector (541 m from the
target) and is treated as uniform over the detector and the upstream dirt, as for ND280.
"""

from __future__ import annotations

import io
from functools import cache
from importlib.resources import files

import numpy as np

from dipolehnl.beam.flux import FLAVORS, BeamFlux, FluxComponent
from dipolehnl.errors import InputError

#: Beam modes: 'nu' (neutrino mode, positive horn current), 'nubar' (antineutrino mode).
BNB_MODES: tuple[str, ...] = ("nu", "nubar")
_FILES = {"nu": "bnb_numode_flux_per_GeV.txt", "nubar": "bnb_nubarmode_flux_per_GeV.txt"}
#: Distance from the BNB target to the centre of the MiniBooNE tank (m).
BNB_BASELINE_M: float = 541.0


def check_bnb_mode(mode: str) -> str:
    """'nu' (aliases numode, fhc) or 'nubar' (nubarmode, rhc); anything else raises InputError."""
    m = str(mode).strip().lower()
    aliases = {"nu": "nu", "numode": "nu", "fhc": "nu", "nubar": "nubar", "nubarmode": "nubar", "rhc": "nubar"}
    if m not in aliases:
        raise InputError(f"unknown MiniBooNE (BNB) mode {mode!r}: expected one of {', '.join(BNB_MODES)}")
    return aliases[m]


def parse_bnb_table(text: str, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse a BNB flux table: rows ``E_lo_GeV E_hi_GeV numu numubar nue nuebar`` ('#'
    comments), contiguous bins; returns (edges (n+1,), values (n, 4)) as tabulated.

    The one reader of this format: :func:`load_bnb_flux` and experiment files
    (``format = "bnb"``, :mod:`dipolehnl.experiment`) both use it.  Errors name the source.
    """
    try:
        a = np.loadtxt(io.StringIO(text), comments="#", ndmin=2)
    except ValueError as exc:
        raise InputError(f"{source}: not a numeric table ({exc})") from None
    if a.size == 0 or a.shape[1] != 6:
        raise InputError(f"{source}: expected 6 columns 'E_lo_GeV E_hi_GeV numu numubar nue nuebar'")
    if not np.all(np.isfinite(a)) or np.any(a[:, 2:] < 0):
        raise InputError(f"{source}: flux values must be finite and non-negative")
    if np.any(a[:, 1] <= a[:, 0]) or np.any(np.abs(a[1:, 0] - a[:-1, 1]) > 1e-9):
        raise InputError(f"{source}: bins must be contiguous with E_hi > E_lo")
    return np.append(a[:, 0], a[-1, 1]), a[:, 2:]


@cache
def _load(mode: str) -> BeamFlux:
    name = _FILES[mode]
    text = (files("dipolehnl") / "experiments" / "data" / "miniboone" / "flux" / name).read_text()
    edges, raw = parse_bnb_table(text, name)
    comps = {fl: FluxComponent(edges, raw[:, j], flavor=fl, mode=mode) for j, fl in enumerate(FLAVORS)}
    return BeamFlux(mode=mode, components=comps, source=name)


def load_bnb_flux(mode: str = "nu") -> BeamFlux:
    """The BNB flux at MiniBooNE for ``mode`` 'nu' or 'nubar' (per cm^2 per GeV per POT)."""
    return _load(check_bnb_mode(mode))
