"""Weighted event generation: upscattering, HNL flight and decay inside fiducial volumes."""
