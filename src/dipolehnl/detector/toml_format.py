"""Human-readable TOML detector format (read with :mod:`tomllib`, written with ``tomli_w``).

Layout (``format_version = 1``)::

    # free comment lines (provenance)
    format = "dipolehnl-detector"
    format_version = 1

    [detector]
    name = "nd280"
    description = "..."

    [materials.ROCK]                       # one table per material
    components = [[1000140280, 0.4674349], [1000080160, 0.5325651]]   # [PDG, mass fraction]

    [fiducial_volumes.TPC1]                # optional fiducial volumes (experiment files define
    center_m = [0.0, 0.0, -0.375]          # their own): a box by default, or shape = "sphere" /
    size_m = [1.7, 1.96, 0.563]            # "cylinder" with its keys; inside the detector

    [[volumes]]                            # in precedence order: a later volume wins
    name = "surr_earth"
    subsystem = "rock"
    material = "ROCK"
    density_g_cm3 = 2.9
    shape = "box"                          # box (the default): center_m, size_m (full side lengths)
    center_m = [0.0, 0.0, -142.0]          # cylinder: center_m, radius_m, length_m, axis
    size_m = [24.0, 24.0, 300.0]           # sphere: center_m, radius_m

Lengths in m, densities in g/cm^3. One pydantic model (:class:`DetectorFileSpec`, built
from :mod:`dipolehnl.specs`; its JSON schema is in docs/detector.md) validates the file,
then the materials and volumes are built. Every problem raises one :class:`InputError`
line naming the file and the key, e.g. ``nd280.toml: volumes[3].density_g_cm3: must be >= 0,
got -1.0 (name 'hall')`` (unknown material or key, wrong TOML type, negative or non-finite
number, zero-size solid, duplicate names, fiducial volume outside the detector...).
"""

from __future__ import annotations

import math
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from dipolehnl.detector.geometry import Detector, Volume
from dipolehnl.detector.materials import Material
from dipolehnl.detector.shapes import Shape, shape_from_dict
from dipolehnl.errors import InputError
from dipolehnl.specs import (
    BoxSpec,
    CylinderSpec,
    Integer,
    Name,
    Number,
    ShapeSpec,
    Spec,
    SphereSpec,
    fail,
    json_schema,
    shape_keys,
    tagged_union,
    validate,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FORMAT_NAME: Final = "dipolehnl-detector"
FORMAT_VERSION: Final = 1


# ---------------------------------------------------------------------------- the schema
_DENSITY_MAX: float | None
try:  # the physical upper bound of a density, where the package defines one
    from dipolehnl.bounds import DENSITY_MAX_G_CM3 as _DENSITY_MAX
except ImportError:  # pragma: no cover - depends on the package version
    _DENSITY_MAX = None


def _integer(v: Any) -> Any:
    if isinstance(v, bool) or not isinstance(v, int):
        raise PydanticCustomError("int_type", "expected an integer")
    return v


def _pair(v: Any) -> Any:
    """A material component: [integer PDG code (int64), mass fraction]."""
    if not (isinstance(v, list) and len(v) == 2 and isinstance(v[0], int) and not isinstance(v[0], bool)):
        raise PydanticCustomError(
            "component", "expected [integer PDG code, mass fraction], got {got}", {"got": repr(v)[:60]}
        )
    if not -(2**63) <= v[0] < 2**63:  # would overflow int64
        raise PydanticCustomError("pdg", "{pdg} is not a nuclear PDG code", {"pdg": str(v[0])[:30]})
    return v


Component = Annotated[tuple[Integer, Number], BeforeValidator(_pair)]


class DetectorInfoSpec(Spec):
    """``[detector]``: the detector's name and description."""

    name: Name
    description: str = ""


class MaterialSpec(Spec):
    """``[materials.NAME]``: nuclei by PDG code (100ZZZAAA0) with mass fractions summing to 1."""

    components: list[Component] = Field(min_length=1, description="[PDG code, mass fraction] pairs")


class _VolumeKeys(Spec):
    name: Name = Field(description="unique name of the volume")
    subsystem: Name = Field("other", description="label such as 'rock', 'TPC', 'FGD' (free text)")
    material: str = Field(description="a material of [materials]")
    density_g_cm3: Number = Field(ge=0, le=_DENSITY_MAX, description="mass density, g/cm^3")


class BoxVolumeSpec(BoxSpec, _VolumeKeys):
    """A volume that is a box (``shape = "box"``, the default)."""


class SphereVolumeSpec(SphereSpec, _VolumeKeys):
    """A volume that is a sphere."""


class CylinderVolumeSpec(CylinderSpec, _VolumeKeys):
    """A volume that is a cylinder."""


if TYPE_CHECKING:
    VolumeSpec = BoxVolumeSpec | SphereVolumeSpec | CylinderVolumeSpec
else:
    VolumeSpec = tagged_union(
        "shape", {"box": BoxVolumeSpec, "sphere": SphereVolumeSpec, "cylinder": CylinderVolumeSpec}, default="box"
    )


class DetectorFileSpec(Spec):
    """A detector TOML file (lengths in m, densities in g/cm^3; see the module docstring)."""

    format: Literal["dipolehnl-detector"] = FORMAT_NAME
    format_version: Annotated[Literal[1], BeforeValidator(_integer)] = FORMAT_VERSION
    detector: DetectorInfoSpec
    materials: dict[str, MaterialSpec] = Field(description="name → composition")
    fiducial_volumes: dict[str, ShapeSpec] = Field(
        default_factory=dict, description="optional named fiducial volumes (inside the detector)"
    )
    volumes: list[VolumeSpec] = Field(
        min_length=1, description="in precedence order: a later volume wins where volumes overlap"
    )


def detector_json_schema() -> dict:
    """The JSON schema of a detector TOML file (generated from :class:`DetectorFileSpec`)."""
    return json_schema(DetectorFileSpec)


# ---------------------------------------------------------------------------- reading
def load_detector_toml(path: str | os.PathLike[str]) -> Detector:
    """Read and validate a detector TOML file (see the module docstring)."""
    from dipolehnl.io import read_user_text

    p = Path(path)
    return loads_detector_toml(read_user_text(p, "detector file"), source=str(p))


def loads_detector_toml(text: str, source: str = "<string>") -> Detector:
    """Parse a detector from TOML text; ``source`` names it in error messages."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: invalid TOML: {exc}") from None
    return detector_from_spec(validate(DetectorFileSpec, doc, source), source)


def detector_from_spec(spec: DetectorFileSpec, source: str = "<string>") -> Detector:
    """The :class:`Detector` of a validated file; the checks that need more than one key
    (materials, unique names, solids inside the detector) name the file and the key."""
    materials: dict[str, Material] = {}
    for mname, m in spec.materials.items():
        try:
            materials[mname] = Material.from_components(mname, [list(c) for c in m.components])
        except InputError as exc:
            raise fail(source, f"materials.{mname}.components", str(exc)) from None
    volumes: list[Volume] = []
    names: set[str] = set()
    for i, v in enumerate(spec.volumes):
        key, named = f"volumes[{i}]", f" (name {v.name!r})"
        if v.name in names:
            raise fail(source, f"{key}.name", f"duplicate volume name {v.name!r}")
        names.add(v.name)
        if v.material not in materials:
            raise fail(
                source,
                f"{key}.material",
                f"unknown material {v.material!r} (defined: {', '.join(materials) or 'none'}){named}",
            )
        try:
            volumes.append(
                Volume(
                    v.name, shape_from_dict(shape_keys(v), "shape"), materials[v.material], v.density_g_cm3, v.subsystem
                )
            )
        except InputError as exc:
            raise fail(source, key, f"{exc}{named}") from None
    fiducials: dict[str, Shape] = {}
    for fname, f in spec.fiducial_volumes.items():
        try:
            fiducials[fname] = shape_from_dict(shape_keys(f), "shape")
        except InputError as exc:
            raise fail(source, f"fiducial_volumes.{fname}", str(exc)) from None
    try:
        return Detector(
            name=spec.detector.name, volumes=volumes, fiducial_volumes=fiducials, description=spec.detector.description
        )
    except InputError as exc:
        raise fail(source, "fiducial_volumes", str(exc)) from None


def _is_real(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


# ---------------------------------------------------------------------------- writing
def dumps_detector_toml(detector: Detector, header: str = "") -> str:
    """TOML text of ``detector`` (written by ``tomli_w``); ``header`` lines are written as
    leading comments."""
    import tomli_w

    def num(x) -> float:
        v = float(x)
        if not math.isfinite(v):
            raise InputError(f"cannot write non-finite number {v!r}")
        return v

    def shape_table(shape, fiducial: bool) -> dict[str, Any]:
        d = shape.to_dict()
        if fiducial and d.get("shape") == "box":  # boxes: center_m and size_m only (the format's default)
            d.pop("shape")
        return {k: ([num(x) for x in v] if isinstance(v, list) else num(v) if _is_real(v) else v) for k, v in d.items()}

    doc: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "detector": {"name": detector.name, "description": detector.description},
        "materials": {
            name: {"components": [[int(p), num(w)] for p, w in mat.components()]}
            for name, mat in detector.materials.items()
        },
    }
    if detector.fiducial_volumes:
        doc["fiducial_volumes"] = {n: shape_table(sh, True) for n, sh in detector.fiducial_volumes.items()}
    doc["volumes"] = [
        {
            "name": v.name,
            "subsystem": v.subsystem,
            "material": v.material.name,
            "density_g_cm3": num(v.density_g_cm3),
            **shape_table(v.shape, False),
        }
        for v in detector.volumes
    ]
    head = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return head + ("\n" if header else "") + _one_line_arrays(tomli_w.dumps(doc))


_MULTILINE_ARRAY = re.compile(r"\[\n((?:[ \t]+[^\[\]\n]+,\n)+)[ \t]*\]")


def _one_line_arrays(text: str) -> str:
    """Write tomli_w's one-item-per-line arrays of numbers on one line (innermost first), so
    that 3-vectors and [PDG, fraction] pairs stay readable; the TOML value is unchanged."""
    while True:
        new = _MULTILINE_ARRAY.sub(
            lambda m: "[" + ", ".join(x.strip().rstrip(",") for x in m.group(1).splitlines()) + "]", text
        )
        if new == text:
            return text
        text = new


def dump_detector_toml(detector: Detector, path: str | os.PathLike[str], header: str = "") -> None:
    """Write ``detector`` to ``path`` (atomically: temporary file, then rename)."""
    p = Path(path)
    text = dumps_detector_toml(detector, header)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent if str(p.parent) else ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
