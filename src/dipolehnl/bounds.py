"""Ranges of physical inputs and resource limits (one place; documented in docs/robustness.md).

Every value a user can give is checked against these before any computation, so that a
result is always finite and a run never grows until memory or time runs out.  A value
outside raises :class:`~dipolehnl.errors.InputError` naming the limit (the CLI prints one
line and exits with code 2).

Physical ranges (chosen so that every intermediate quantity stays within double precision;
all are far outside the physically interesting region):

========================  ==========================  =====================================
input                     allowed                     why
========================  ==========================  =====================================
HNL mass m_N              2 m_e < m_N <= 5 GeV        ``physics.model`` (e+e- threshold)
coupling d                1e-15 ... 1 GeV^-1          Γ ∝ d² m³ and the signal ∝ d⁴ stay
                                                      finite and non-zero
neutrino energy (xsec)    <= 1000 GeV                 cross sections finite (T2K flux < 30 GeV)
density (detector, gas)   <= 50 g/cm^3                densest element: 22.6 g/cm^3
POT (rate, analyses)      <= 1e25                     T2K + T2K-II total: ~2e22
========================  ==========================  =====================================

Resource limits (memory is dominated by events × couplings double matrices in scans):

========================================  =================
quantity                                  limit
========================================  =================
events, ``simulate``/``rate``             5 000 000
events per mass, ``scan``                 1 000 000
masses in a scan grid                     1 000
couplings in a scan grid                  10 000
masses × couplings (CSV rows)             1 000 000
events per mass × couplings               50 000 000 (≈ 400 MB per matrix)
flux file                                 2 MB, 5 000 bins
any other user file (detector, analysis)  20 MB
========================================  =================
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from dipolehnl.errors import InputError

#: dipole coupling d range, GeV^-1 (inclusive)
COUPLING_MIN_GEVINV: float = 1e-15
COUPLING_MAX_GEVINV: float = 1.0
#: largest neutrino energy accepted by ``xsec``, GeV
ENERGY_MAX_GEV: float = 1e3
#: largest mass density of a detector volume or the TPC gas, g/cm^3
DENSITY_MAX_G_CM3: float = 50.0
#: largest exposure, protons on target
POT_MAX: float = 1e25

#: events of one ``simulate``/``rate`` run
MAX_EVENTS: int = 5_000_000
#: starting events per mass (and detector) of a scan
MAX_SCAN_EVENTS: int = 1_000_000
MAX_MASSES: int = 1_000
MAX_COUPLINGS: int = 10_000
#: masses × couplings: rows of expected_events.csv
MAX_GRID_POINTS: int = 1_000_000
#: events per mass × couplings: size of the per-mass reweighting matrices
MAX_EVENTS_X_COUPLINGS: int = 50_000_000
#: flux files: bytes and energy bins
MAX_FLUX_FILE_BYTES: int = 2_000_000
MAX_FLUX_BINS: int = 5_000
#: any other user-supplied text file (detector, analysis, efficiency table), bytes
MAX_USER_FILE_BYTES: int = 20_000_000
#: seeds: 0 <= seed < 2**63
MAX_SEED: int = 2**63 - 1


def check_range(
    name: str, value: float, lo: float | None, hi: float | None, unit: str = "", lo_open: bool = False
) -> float:
    """``value`` as a float if finite and within [lo, hi] (``lo_open``: (lo, hi]), else
    :class:`InputError` stating the range."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    u = f" {unit}" if unit else ""
    ok = math.isfinite(v)
    if ok and lo is not None:
        ok = v > lo if lo_open else v >= lo
    if ok and hi is not None:
        ok = v <= hi
    if not ok:
        left = "(" if lo_open else "["
        rng = (
            f"{left}{lo:g}, {hi:g}]"
            if lo is not None and hi is not None
            else (f"<= {hi:g}" if hi is not None else f">= {lo:g}")
        )
        what = "positive, finite and in" if lo is not None and lo >= 0 else "finite and in"
        raise InputError(f"{name} must be {what} {rng}{u}, got {value!r}")
    return v


def check_coupling(value: float, name: str = "coupling") -> float:
    """A dipole coupling within [COUPLING_MIN_GEVINV, COUPLING_MAX_GEVINV] GeV^-1."""
    return check_range(name, value, COUPLING_MIN_GEVINV, COUPLING_MAX_GEVINV, "GeV^-1")


def check_density(value: float, name: str = "density") -> float:
    """A mass density in (0, DENSITY_MAX_G_CM3] g/cm^3."""
    return check_range(name, value, 0.0, DENSITY_MAX_G_CM3, "g/cm^3", lo_open=True)


def check_pot(value: float, name: str = "POT") -> float:
    """An exposure in (0, POT_MAX] protons on target."""
    return check_range(name, value, 0.0, POT_MAX, "", lo_open=True)


def check_energy(value: float, name: str = "energy") -> float:
    """A neutrino energy in (0, ENERGY_MAX_GEV] GeV."""
    return check_range(name, value, 0.0, ENERGY_MAX_GEV, "GeV", lo_open=True)


def check_events(n: int, limit: int = MAX_EVENTS, what: str = "events") -> int:
    if int(n) > limit:
        raise InputError(f"{what}: {n} is above the limit of {limit:,} (docs/robustness.md)")
    return int(n)


def check_seed(seed: int) -> int:
    if not 0 <= int(seed) <= MAX_SEED:
        raise InputError(f"seed must be an integer in [0, 2^63 - 1], got {seed}")
    return int(seed)


def check_scan_grid(
    masses_GeV: Sequence[float], couplings_GeVinv: Sequence[float], n_events: int, min_masses: int = 2
) -> None:
    """Every check of a scan grid that can be made before computing anything.

    Masses: at least ``min_masses`` (a contour needs two), strictly increasing (sorted and
    unique), each within the model's range; couplings: strictly increasing, each within
    the coupling range; sizes within the resource limits above.
    """
    from dipolehnl.physics.model import MAX_MASS_GEV, MIN_MASS_GEV

    m = [float(x) for x in masses_GeV]
    c = [float(x) for x in couplings_GeVinv]
    if len(m) > MAX_MASSES:
        raise InputError(f"mass grid: {len(m)} masses is above the limit of {MAX_MASSES:,} (docs/robustness.md)")
    if len(c) > MAX_COUPLINGS:
        raise InputError(
            f"coupling grid: {len(c)} couplings is above the limit of {MAX_COUPLINGS:,} (docs/robustness.md)"
        )
    if len(m) * len(c) > MAX_GRID_POINTS:
        raise InputError(
            f"grid of {len(m)} masses x {len(c)} couplings is above the limit of "
            f"{MAX_GRID_POINTS:,} points (docs/robustness.md)"
        )
    for x in m:
        if not math.isfinite(x) or x <= MIN_MASS_GEV:
            raise InputError(f"mass grid: {x:g} GeV is below the e+e- threshold 2 m_e = {MIN_MASS_GEV:.6g} GeV")
        if x > MAX_MASS_GEV:
            raise InputError(f"mass grid: {x:g} GeV is above the supported maximum {MAX_MASS_GEV:g} GeV")
    if len(m) < min_masses:
        raise InputError(f"a scan needs at least {min_masses} masses to draw contours, got {len(m)}")
    for a, b in zip(m, m[1:]):
        if a == b:
            raise InputError(f"mass grid: duplicate mass {a:g} GeV")
        if b < a:
            raise InputError(f"mass grid: masses must be in increasing order ({a:g} GeV is followed by {b:g} GeV)")
    if not c:
        raise InputError("coupling grid is empty")
    for a, b in zip(c, c[1:]):
        if b <= a:
            raise InputError("coupling grid: couplings must be strictly increasing")
    for x in c:
        check_coupling(x, "coupling grid value")
    n = int(n_events)
    check_events(n, MAX_SCAN_EVENTS, "events per mass")
    if n * len(c) > MAX_EVENTS_X_COUPLINGS:
        raise InputError(
            f"{n} events x {len(c)} couplings is above the limit of {MAX_EVENTS_X_COUPLINGS:,} "
            "(docs/robustness.md): use fewer events or couplings"
        )
