"""dipolehnl: dipole-portal heavy neutral leptons at neutrino experiments.

Units used throughout the package (and stated in every name or docstring):
energies, masses and momenta in GeV; couplings d in GeV^-1; lengths in m; cross
sections in cm^2; densities in g/cm^3; fluxes per cm^2 per GeV per POT.

Coupling convention: L ⊃ d ν̄ σ_{μν} F^{μν} N + h.c. (DarkNews ``mu_tr_mu4`` = 2 d).
"""
from __future__ import annotations


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
        try:
            import tomllib
        except ModuleNotFoundError:  # Python < 3.11
            import tomli as tomllib  # type: ignore[no-redef]
        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, KeyError, ValueError, ImportError):
        return "0+unknown"


__version__ = _version()

from dipolehnl.errors import DipoleHNLError, InputError

__all__ = ["DipoleHNLError", "InputError", "__version__"]
