"""Shipped detector models, their conversion from the SIREN files, and :func:`load_detector`.

The shipped models (``models/nd280.toml``, ``models/nd280-upgrade.toml``) are converted
from the SIREN detector files the paper (arXiv:2412.15051) simulated, by
:func:`convert_shipped_model`; regenerate them with::

    python -m dipolehnl.detector /path/to/siren/detector/files

Changes with respect to the SIREN files: subsystems are assigned from the volume names
(``siren.SUBSYSTEM_RULES``), the TPC gas density is the physical 0.001855 g/cm^3 in both
models (the upgrade file has 1.855 g/cm^3, a defect), and the analysis fiducial volumes
of the paper (its supplemental Table I, rows for the HA-TPCs swapped back) are added.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from dipolehnl.detector.geometry import Detector
from dipolehnl.detector.shapes import Box
from dipolehnl.detector.siren import load_siren_detector
from dipolehnl.detector.toml_format import dump_detector_toml, load_detector_toml, loads_detector_toml
from dipolehnl.errors import InputError

#: Physical density of the ND280 TPC gas, Ar:CF4:iC4H10 (95:3:2) near 1 atm, g/cm^3.
TPC_GAS_DENSITY_G_CM3 = 0.001855
#: The density the SIREN upgrade file gives to every TPC gas volume (a defect), g/cm^3;
#: the paper's results appear to rest on it. Pass it as ``tpc_gas_density_g_cm3`` to reproduce.
PAPER_TPC_GAS_DENSITY_G_CM3 = 1.855

_TPC_FV_SIZE_M = (1.70, 1.96, 0.563)
_HATPC_FV_SIZE_M = (1.59, 0.27, 1.71)
#: Analysis fiducial volumes of the ND280 TPCs (full sizes and centres in m).
ND280_FIDUCIAL_VOLUMES: dict[str, Box] = {
    "TPC1": Box(center_m=(0.0, 0.0, -0.375), size_m=_TPC_FV_SIZE_M),
    "TPC2": Box(center_m=(0.0, 0.0, 0.99), size_m=_TPC_FV_SIZE_M),
    "TPC3": Box(center_m=(0.0, 0.0, 2.355), size_m=_TPC_FV_SIZE_M),
}
#: Analysis fiducial volumes of the upgraded ND280 (TPC1-3 and the two high-angle TPCs).
UPGRADE_FIDUCIAL_VOLUMES: dict[str, Box] = {
    **ND280_FIDUCIAL_VOLUMES,
    "HATPC_top": Box(center_m=(0.0, 0.74, -2.205), size_m=_HATPC_FV_SIZE_M),
    "HATPC_bottom": Box(center_m=(0.0, -0.74, -2.205), size_m=_HATPC_FV_SIZE_M),
}


@dataclass(frozen=True)
class ShippedModel:
    """A model shipped in ``models/``: its TOML file and the SIREN files it comes from."""

    name: str
    toml_file: str
    siren_densities: str
    siren_materials: str
    fiducial_volumes: dict[str, Box] = field(default_factory=dict)
    summary: str = ""


SHIPPED_MODELS: dict[str, ShippedModel] = {
    "nd280": ShippedModel(
        name="nd280",
        toml_file="nd280.toml",
        siren_densities="siren_ND280-v1_densities.dat",
        siren_materials="siren_ND280-v1_materials.dat",
        fiducial_volumes=ND280_FIDUCIAL_VOLUMES,
        summary="T2K ND280 before the upgrade: P0D, 3 TPCs, 2 FGDs, ECALs, UA1 magnet, hall and 300 m of rock",
    ),
    "nd280-upgrade": ShippedModel(
        name="nd280-upgrade",
        toml_file="nd280-upgrade.toml",
        siren_densities="siren_ND280UPGRD-v1_densities.dat",
        siren_materials="siren_ND280UPGRD-v1_materials.dat",
        fiducial_volumes=UPGRADE_FIDUCIAL_VOLUMES,
        summary="upgraded ND280: SuperFGD, 2 high-angle TPCs, ToF, 3 TPCs, 2 FGDs, ECALs, magnet, hall, rock",
    ),
}


def available_detectors() -> list[str]:
    """Names of the shipped detector models."""
    return list(SHIPPED_MODELS)


def load_detector(
    name_or_path: str | os.PathLike[str],
    tpc_gas_density_g_cm3: float | None = None,
    *,
    materials_path: str | os.PathLike[str] | None = None,
) -> Detector:
    """Load a detector: a shipped model name, a ``.toml`` file or a SIREN ``*_densities.dat`` file.

    ``tpc_gas_density_g_cm3`` (g/cm^3), if given, sets the density of every TPC gas
    volume (subsystem TPC or HATPC, material GAS); e.g. ``PAPER_TPC_GAS_DENSITY_G_CM3``
    reproduces the paper's set-up. ``materials_path`` is the SIREN materials file
    (default: next to the densities file). Unknown names raise :class:`InputError`.
    """
    key = os.fspath(name_or_path)
    if key in SHIPPED_MODELS:
        model = SHIPPED_MODELS[key]
        text = (files("dipolehnl.detector") / "models" / model.toml_file).read_text(encoding="utf-8")
        det = loads_detector_toml(text, source=f"shipped model {key!r}")
    else:
        path = Path(key)
        if path.suffix == ".toml" and path.is_file():
            det = load_detector_toml(path)
        elif path.suffix == ".dat" and path.is_file():
            det = load_siren_detector(path, materials_path)
        else:
            what = "file not found" if path.suffix in (".toml", ".dat") else "unknown detector"
            raise InputError(
                f"{what}: {key!r} (available: {', '.join(available_detectors())}, "
                "or a path to a .toml detector file or a SIREN *_densities.dat file)"
            )
    if tpc_gas_density_g_cm3 is not None:
        if not det.tpc_gas_volumes():
            raise InputError(f"detector {det.name!r} has no TPC gas volume whose density could be set")
        det = det.with_tpc_gas_density(tpc_gas_density_g_cm3)
    return det


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def convert_shipped_model(name: str, siren_dir: str | os.PathLike[str]) -> tuple[Detector, str]:
    """Convert the SIREN files of shipped model ``name`` found in ``siren_dir``.

    Returns the :class:`Detector` (physical TPC gas density, analysis fiducial volumes)
    and the provenance header written at the top of the TOML file.
    """
    if name not in SHIPPED_MODELS:
        raise InputError(f"unknown shipped model {name!r} (available: {', '.join(available_detectors())})")
    model = SHIPPED_MODELS[name]
    d = Path(siren_dir)
    dens, mats = d / model.siren_densities, d / model.siren_materials
    siren_det = load_siren_detector(dens, mats)
    original = sorted({v.density_g_cm3 for v in siren_det.volumes if v.is_tpc_gas})
    det = load_siren_detector(
        dens,
        mats,
        name=name,
        fiducial_volumes=dict(model.fiducial_volumes),
        tpc_gas_density_g_cm3=TPC_GAS_DENSITY_G_CM3,
        description=f"{model.summary}\nconverted from SIREN {model.siren_densities}:\n{siren_det.description}",
    )
    header = "\n".join(
        [
            f"dipolehnl detector model {name!r}: {model.summary}.",
            "Converted by dipolehnl.detector.catalog.convert_shipped_model from the SIREN detector model",
            "files (SIREN project, resources/detectors/; the geometry simulated in arXiv:2412.15051):",
            f"  {model.siren_densities}  sha256 {_sha256(dens)}",
            f"  {model.siren_materials}  sha256 {_sha256(mats)}",
            "Changes: subsystems assigned from the volume names; TPC gas density set to the physical",
            f"  {TPC_GAS_DENSITY_G_CM3} g/cm^3 (the SIREN file has {', '.join(f'{x:g}' for x in original)} g/cm^3);"
            " only the materials used are kept;",
            "  analysis fiducial volumes added (paper's supplemental Table I, HA-TPC rows swapped back).",
            "Volumes are in precedence order: where volumes overlap, the one listed later wins (as in SIREN).",
            "Units: m, g/cm^3. Regenerate with: python -m dipolehnl.detector SIREN_DIR",
        ]
    )
    return det, header


def write_shipped_models(
    siren_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None
) -> list[Path]:
    """Regenerate every shipped model's TOML file (default: the package's ``models/``)."""
    target = Path(out_dir) if out_dir is not None else Path(__file__).with_name("models")
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in SHIPPED_MODELS.items():
        det, header = convert_shipped_model(name, siren_dir)
        path = target / model.toml_file
        dump_detector_toml(det, path, header=header)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m dipolehnl.detector SIREN_DIR [OUT_DIR]``: regenerate the shipped models."""
    args = sys.argv[1:] if argv is None else argv
    if not 1 <= len(args) <= 2:
        print("usage: python -m dipolehnl.detector SIREN_DIR [OUT_DIR]", file=sys.stderr)
        return 2
    try:
        for p in write_shipped_models(*args):
            print(p)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
