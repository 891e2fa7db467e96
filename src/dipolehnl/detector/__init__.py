"""Detector geometry: shapes, materials, volumes with precedence, ray tracing, models.

Units: lengths in m, densities in g/cm^3, number densities in cm^-3, column densities
in g/cm^2. Beam along +z, ND280 basket centre at the origin, y up.

Typical use::

    from dipolehnl.detector import load_detector
    det = load_detector("nd280")                      # or "nd280-upgrade", a .toml, a SIREN .dat
    seg = det.trace(origins, directions)              # CSR segments of constant material
    seg.total_column_g_cm2()

Where volumes overlap, the volume listed later wins (SIREN's rule). See docs/detector.md.
"""

from __future__ import annotations

from dipolehnl.detector.catalog import (
    ND280_FIDUCIAL_VOLUMES,
    PAPER_TPC_GAS_DENSITY_G_CM3,
    SHIPPED_MODELS,
    TPC_GAS_DENSITY_G_CM3,
    UPGRADE_FIDUCIAL_VOLUMES,
    available_detectors,
    convert_shipped_model,
    load_detector,
    write_shipped_models,
)
from dipolehnl.detector.geometry import (
    TPC_GAS_MATERIAL,
    TPC_SUBSYSTEMS,
    Detector,
    EffectiveVolumes,
    Segments,
    TargetNuclei,
    Volume,
)
from dipolehnl.detector.materials import Material
from dipolehnl.detector.shapes import Box, Cylinder, Shape, Sphere
from dipolehnl.detector.siren import (
    SUBSYSTEM_RULES,
    load_siren_detector,
    read_siren_densities,
    read_siren_materials,
    subsystem_for,
)
from dipolehnl.detector.toml_format import (
    dump_detector_toml,
    dumps_detector_toml,
    load_detector_toml,
    loads_detector_toml,
)

__all__ = [
    "Box",
    "Cylinder",
    "Detector",
    "EffectiveVolumes",
    "Material",
    "ND280_FIDUCIAL_VOLUMES",
    "PAPER_TPC_GAS_DENSITY_G_CM3",
    "SHIPPED_MODELS",
    "SUBSYSTEM_RULES",
    "Segments",
    "Shape",
    "Sphere",
    "TPC_GAS_DENSITY_G_CM3",
    "TPC_GAS_MATERIAL",
    "TPC_SUBSYSTEMS",
    "TargetNuclei",
    "UPGRADE_FIDUCIAL_VOLUMES",
    "Volume",
    "available_detectors",
    "convert_shipped_model",
    "dump_detector_toml",
    "dumps_detector_toml",
    "load_detector",
    "load_detector_toml",
    "load_siren_detector",
    "loads_detector_toml",
    "read_siren_densities",
    "read_siren_materials",
    "subsystem_for",
    "write_shipped_models",
]
