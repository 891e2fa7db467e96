"""Reader of SIREN detector models (``*_densities.dat`` + ``*_materials.dat``).

Densities file, one object per line (``#`` starts a comment)::

    object box  cx cy cz  rx ry rz  Lx Ly Lz  name  MATERIAL  constant  rho
    detector    x y z
    fiducial box  cx cy cz  rx ry rz  Lx Ly Lz

with the centre and full side lengths in m, the rotation angles (must be 0 here) and
the density in g/cm^3. Only ``object box`` with zero rotation and a ``constant``
density is supported; anything else raises :class:`InputError` naming the line. The
``detector`` line is the detector origin in the file's coordinates: volumes are shifted
so that it becomes the origin. The ``fiducial`` line is kept (``SirenDensities.fiducial``)
and becomes the analysis fiducial volume ``fiducial`` (in whatever medium it lies) unless
``fiducial_volumes`` are given. Volumes are kept in file order, which is
their precedence (later wins), as in SIREN.

Materials file: a header ``NAME n_components`` followed by ``n`` lines
``PDG-code  mass_fraction``. The component count may be missing from the header (two
materials of the ND280 upgrade file); it is then the number of numeric lines that follow.

Subsystems are assigned from the volume names by :data:`SUBSYSTEM_RULES`.
"""

from __future__ import annotations

import fnmatch
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dipolehnl.detector.geometry import Detector, Volume
from dipolehnl.detector.materials import Material
from dipolehnl.detector.shapes import Box
from dipolehnl.errors import InputError
from dipolehnl.io import read_user_text

#: (glob pattern on the volume name, subsystem); the first match wins (case-sensitive).
SUBSYSTEM_RULES: tuple[tuple[str, str], ...] = (
    ("surr_earth", "rock"),
    ("det_hall", "hall"),
    ("UA1_*", "magnet"),
    ("lead_plate*", "P0D"),
    ("pod*", "P0D"),
    ("water_bag*", "P0D"),
    ("brass_plate*", "P0D"),
    ("PODCAL*", "P0D"),
    ("new_TPC_*_top", "HATPC"),  # upgrade: high-angle TPCs (the ND280 TPC1-3 gas is also named new_TPC_gas*)
    ("new_TPC_*_bot", "HATPC"),
    ("*TPC*", "TPC"),
    ("FGD*", "FGD"),
    ("ECAL*", "ECAL"),
    ("sFGD*", "SuperFGD"),
    ("TOF*", "ToF"),
)
#: Subsystem of names that match no rule.
DEFAULT_SUBSYSTEM = "other"


def subsystem_for(name: str, rules: tuple[tuple[str, str], ...] = SUBSYSTEM_RULES) -> str:
    """Subsystem of a volume called ``name`` according to ``rules``."""
    for pattern, subsystem in rules:
        if fnmatch.fnmatchcase(name, pattern):
            return subsystem
    return DEFAULT_SUBSYSTEM


@dataclass(frozen=True)
class SirenObject:
    """One ``object box`` line: centre and full sizes in m, density in g/cm^3."""

    line: int
    name: str
    material: str
    center_m: tuple[float, float, float]
    size_m: tuple[float, float, float]
    density_g_cm3: float


@dataclass(frozen=True)
class SirenDensities:
    """Content of a ``*_densities.dat`` file (objects in file order)."""

    path: Path
    objects: tuple[SirenObject, ...]
    detector_origin_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    fiducial: Box | None = None
    header: tuple[str, ...] = field(default_factory=tuple)


def _strip(line: str) -> str:
    return line.split("#", 1)[0].strip()


def _floats(tokens: list[str], where: str, what: str) -> list[float]:
    try:
        vals = [float(t) for t in tokens]
    except ValueError:
        raise InputError(f"{where}: {what} must be numbers, got {' '.join(tokens)!r}") from None
    if not all(math.isfinite(v) for v in vals):
        raise InputError(f"{where}: {what} must be finite, got {' '.join(tokens)!r}")
    return vals


def read_siren_densities(path: str | os.PathLike[str]) -> SirenDensities:
    """Parse a SIREN ``*_densities.dat`` file (see the module docstring)."""
    path = Path(path)
    text = read_user_text(path, "SIREN densities file")
    header: list[str] = []
    in_header = True
    objects: list[SirenObject] = []
    origin = (0.0, 0.0, 0.0)
    fiducial: Box | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = _strip(raw)
        if not line:
            if in_header and raw.strip().startswith("#"):
                header.append(raw.strip().lstrip("#").rstrip())
            elif in_header and not raw.strip() and header:
                in_header = False  # the header is the first block of comment lines
            continue
        in_header = False
        where = f"{path}, line {lineno}"
        tok = line.split()
        key = tok[0]
        if key in ("object", "fiducial"):
            if len(tok) < 2 or tok[1] != "box":
                shape = tok[1] if len(tok) > 1 else "(none)"
                raise InputError(f"{where}: {key} shape {shape!r} is not supported (only 'box')")
            expected = 15 if key == "object" else 11
            if len(tok) != expected:
                fmt = (
                    "object box cx cy cz rx ry rz Lx Ly Lz name MATERIAL constant rho"
                    if key == "object"
                    else "fiducial box cx cy cz rx ry rz Lx Ly Lz"
                )
                raise InputError(f"{where}: expected {expected} fields '{fmt}', got {len(tok)}")
            nums = _floats(tok[2:11], where, "centre, rotation and size")
            center, rot, size = nums[0:3], nums[3:6], nums[6:9]
            if any(r != 0.0 for r in rot):
                raise InputError(f"{where}: rotated boxes are not supported (rotation {rot})")
            try:
                box = Box(center_m=center, size_m=size)
            except InputError as exc:
                raise InputError(f"{where}: {exc}") from None
            if key == "fiducial":
                fiducial = box
                continue
            name, material, dtype, rho_s = tok[11:15]
            if dtype != "constant":
                raise InputError(f"{where}: density distribution {dtype!r} is not supported (only 'constant')")
            rho = _floats([rho_s], where, "density")[0]
            if rho < 0.0:
                raise InputError(f"{where}: negative density {rho} g/cm^3")
            objects.append(
                SirenObject(
                    line=lineno,
                    name=name,
                    material=material,
                    center_m=(center[0], center[1], center[2]),
                    size_m=(size[0], size[1], size[2]),
                    density_g_cm3=rho,
                )
            )
        elif key == "detector":
            if len(tok) != 4:
                raise InputError(f"{where}: expected 'detector x y z', got {line!r}")
            x, y, z = _floats(tok[1:4], where, "detector origin")
            origin = (x, y, z)
        else:
            raise InputError(f"{where}: unknown keyword {key!r} (expected 'object', 'detector' or 'fiducial')")
    if not objects:
        raise InputError(f"{path}: no 'object' lines")
    return SirenDensities(
        path=path, objects=tuple(objects), detector_origin_m=origin, fiducial=fiducial, header=tuple(header)
    )


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def read_siren_material_components(path: str | os.PathLike[str]) -> dict[str, tuple[int, list[tuple[int, float]]]]:
    """Parse a SIREN materials file into ``{name: (line, [(pdg, mass_fraction), ...])}`` (no nucleus check)."""
    path = Path(path)
    text = read_user_text(path, "SIREN materials file")
    lines = [(i, _strip(raw)) for i, raw in enumerate(text.splitlines(), start=1)]
    lines = [(i, s) for i, s in lines if s]
    out: dict[str, tuple[int, list[tuple[int, float]]]] = {}
    k = 0
    while k < len(lines):
        lineno, line = lines[k]
        tok = line.split()
        where = f"{path}, line {lineno}"
        if _is_number(tok[0]):
            raise InputError(f"{where}: component line {line!r} outside a material (expected 'NAME n_components')")
        name = tok[0]
        if len(tok) > 2:
            raise InputError(f"{where}: expected 'NAME n_components', got {line!r}")
        declared: int | None = None
        if len(tok) == 2:
            try:
                declared = int(tok[1])
            except ValueError:
                raise InputError(f"{where}: component count of {name!r} must be an integer, got {tok[1]!r}") from None
        comps: list[tuple[int, float]] = []
        k += 1
        while k < len(lines) and _is_number(lines[k][1].split()[0]):
            cl, cline = lines[k]
            ctok = cline.split()
            if len(ctok) != 2:
                raise InputError(f"{path}, line {cl}: expected 'PDG mass_fraction', got {cline!r}")
            try:
                comps.append((int(ctok[0]), float(ctok[1])))
            except ValueError:
                raise InputError(f"{path}, line {cl}: expected 'PDG mass_fraction', got {cline!r}") from None
            if not -(2**63) <= comps[-1][0] < 2**63:  # would overflow int64
                raise InputError(f"{path}, line {cl}: {ctok[0]} is not a nuclear PDG code")
            k += 1
        if declared is not None and declared != len(comps):
            raise InputError(f"{where}: material {name!r} declares {declared} components but has {len(comps)}")
        if not comps:
            raise InputError(f"{where}: material {name!r} has no components")
        if name in out:
            raise InputError(f"{where}: material {name!r} defined twice")
        out[name] = (lineno, comps)
    return out


def read_siren_materials(path: str | os.PathLike[str]) -> dict[str, Material]:
    """Parse a SIREN materials file into validated :class:`Material` objects."""
    out: dict[str, Material] = {}
    for name, (lineno, comps) in read_siren_material_components(path).items():
        try:
            out[name] = Material.from_components(name, comps)
        except InputError as exc:
            raise InputError(f"{path}, line {lineno}: {exc}") from None
    return out


def default_materials_path(densities_path: str | os.PathLike[str]) -> Path:
    """The materials file next to a densities file: ``X_densities.dat`` -> ``X_materials.dat``."""
    p = Path(densities_path)
    if not p.name.endswith("_densities.dat"):
        raise InputError(
            f"cannot guess the materials file of {p} (name does not end in '_densities.dat'): give it explicitly"
        )
    return p.with_name(p.name[: -len("_densities.dat")] + "_materials.dat")


def load_siren_detector(
    densities_path: str | os.PathLike[str],
    materials_path: str | os.PathLike[str] | None = None,
    *,
    name: str | None = None,
    fiducial_volumes: dict[str, Box] | None = None,
    tpc_gas_density_g_cm3: float | None = None,
    description: str | None = None,
) -> Detector:
    """Build a :class:`Detector` from SIREN ``*_densities.dat`` and ``*_materials.dat`` files.

    ``materials_path`` defaults to the file next to ``densities_path``; ``name`` to the
    densities file name without ``_densities.dat``. ``tpc_gas_density_g_cm3`` (g/cm^3), if
    given, replaces the density of every TPC gas volume. ``fiducial_volumes`` are the
    analysis fiducial volumes (default: the file's ``fiducial`` line, as ``fiducial``).
    """
    dens = read_siren_densities(densities_path)
    mpath = Path(materials_path) if materials_path is not None else default_materials_path(densities_path)
    raw = read_siren_material_components(mpath)
    materials: dict[str, Material] = {}
    shift = np.asarray(dens.detector_origin_m)
    volumes: list[Volume] = []
    seen: set[str] = set()
    for obj in dens.objects:
        where = f"{dens.path}, line {obj.line}"
        if obj.name in seen:
            raise InputError(f"{where}: duplicate volume name {obj.name!r}")
        seen.add(obj.name)
        if obj.material not in raw:
            raise InputError(f"{where}: material {obj.material!r} is not defined in {mpath}")
        if obj.material not in materials:
            mline, comps = raw[obj.material]
            try:
                materials[obj.material] = Material.from_components(obj.material, comps)
            except InputError as exc:
                raise InputError(f"{mpath}, line {mline}: {exc}") from None
        try:
            volumes.append(
                Volume(
                    name=obj.name,
                    shape=Box(center_m=np.asarray(obj.center_m) - shift, size_m=obj.size_m),
                    material=materials[obj.material],
                    density_g_cm3=obj.density_g_cm3,
                    subsystem=subsystem_for(obj.name),
                )
            )
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
    if name is None:
        stem = Path(densities_path).name
        name = stem[: -len("_densities.dat")] if stem.endswith("_densities.dat") else Path(densities_path).stem
    if description is None:
        description = "\n".join(line.strip() for line in dens.header if line.strip())
    if tpc_gas_density_g_cm3 is not None:
        volumes = [v.with_density(tpc_gas_density_g_cm3) if v.is_tpc_gas else v for v in volumes]
    if fiducial_volumes is None and dens.fiducial is not None:
        # the file's 'fiducial' line is the analysis fiducial volume 'fiducial' (any medium;
        # shifted like the volumes so that the 'detector' origin becomes the origin)
        fiducial_volumes = {
            "fiducial": Box(center_m=np.asarray(dens.fiducial.center_m) - shift, size_m=dens.fiducial.size_m)
        }
    return Detector(name=name, volumes=volumes, fiducial_volumes=dict(fiducial_volumes or {}), description=description)
