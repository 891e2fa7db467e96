"""dipolehnl: dipole-portal heavy neutral leptons at neutrino experiments.

Units used throughout the package (and stated in every name or docstring):
energies, masses and momenta in GeV; couplings d in GeV^-1; lengths in m; cross
sections in cm^2; densities in g/cm^3; fluxes per cm^2 per GeV per POT.

Coupling convention: L ⊃ Σ_α d_α ν̄_α σ_{μν} F^{μν} N + h.c. (DarkNews ``mu_tr_e4``,
``mu_tr_mu4``, ``mu_tr_tau4`` = 2 d_e, 2 d_μ, 2 d_τ).

The curated API (``import dipolehnl as dh``)::

    model = dh.HNLModel(0.2, 1e-6)                       # m_N in GeV, d_μN in GeV^-1
    exp = dh.load_experiment("t2k-nd280")                # or an experiment TOML file
    sample = dh.simulate(exp, 0.2, 1e-6, mode="fhc")     # weighted events (per POT)
    summary = dh.rate(sample, pot=12.34e20)              # selected events, cut flow, MC error
    analysis = dh.load_analysis("t2k2019")               # or an analysis TOML file
    result = dh.scan("t2k2019")                          # (m_N, d) scan, contours

Everything else lives in the sub-packages (``physics``, ``beam``, ``detector``,
``generate``, ``analysis``, ``plots``) and is importable from there.
"""

from __future__ import annotations

import sys
from typing import Any

from dipolehnl.errors import DipoleHNLError, InputError


def _version() -> str:
    """The version in pyproject.toml (the single source): from the installed package's
    metadata, else (a source tree that is not installed) read from pyproject.toml."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dipolehnl")
    except PackageNotFoundError:
        pass
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    try:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, KeyError, ValueError, ImportError):
        return "0+unknown"


__version__ = _version()
__all__ = [
    "DipoleHNLError",
    "HNLModel",
    "InputError",
    "__version__",
    "load_analysis",
    "load_experiment",
    "rate",
    "scan",
    "simulate",
]

_LAZY = {
    "HNLModel": ("dipolehnl.physics.model", "HNLModel"),
    "load_experiment": ("dipolehnl.experiment", "load_experiment"),
    "simulate": ("dipolehnl.generate.api", "simulate"),
    "rate": ("dipolehnl.analysis.summary", "rate_summary"),
    "load_analysis": ("dipolehnl.analysis.analyses", "load_analysis"),
    "scan": ("dipolehnl.analysis.scan", "run_scan"),
}


def __getattr__(name: str) -> Any:
    """The curated API, imported on first use (``import dipolehnl`` stays fast)."""
    if name in _LAZY:
        from importlib import import_module

        mod, attr = _LAZY[name]
        value = getattr(import_module(mod), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dipolehnl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
