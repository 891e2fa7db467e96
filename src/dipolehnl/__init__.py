"""dipolehnl: dipole-portal heavy neutral leptons at neutrino experiments.

Units used throughout the package (and stated in every name or docstring):
energies, masses and momenta in GeV; couplings d in GeV^-1; lengths in m; cross
sections in cm^2; densities in g/cm^3; fluxes per cm^2 per GeV per POT.

Coupling convention: L ⊃ d ν̄ σ_{μν} F^{μν} N + h.c. (DarkNews ``mu_tr_mu4`` = 2 d).
"""
from __future__ import annotations

__version__ = "0.1.0"

from dipolehnl.errors import DipoleHNLError, InputError

__all__ = ["DipoleHNLError", "InputError", "__version__"]
