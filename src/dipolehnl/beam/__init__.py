"""Neutrino fluxes at ND280: T2K FHC/RHC tables, the kaon component and the flux errors.

Units: energies in GeV, flux densities per cm^2 per GeV per POT (see :mod:`dipolehnl.beam.flux`).
"""

from __future__ import annotations

from dipolehnl.beam.flux import (
    FLAVORS,
    MODES,
    T2K_TABLE_TO_PER_GEV_PER_POT,
    BeamFlux,
    FluxComponent,
    KaonFlux,
    check_mode,
    flux_error_table,
    flux_fractional_error,
    kaon_numu_flux,
    load_flux,
    read_flux_table,
)

__all__ = [
    "FLAVORS",
    "MODES",
    "T2K_TABLE_TO_PER_GEV_PER_POT",
    "BeamFlux",
    "FluxComponent",
    "KaonFlux",
    "check_mode",
    "flux_error_table",
    "flux_fractional_error",
    "kaon_numu_flux",
    "load_flux",
    "read_flux_table",
]
