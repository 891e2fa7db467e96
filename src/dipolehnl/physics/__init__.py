"""Dipole-portal physics: model, widths, nuclei, form factors, cross sections."""
