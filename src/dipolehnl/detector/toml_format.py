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
    shape = "box"                          # box: center_m, size_m (full side lengths)
    center_m = [0.0, 0.0, -142.0]          # cylinder: center_m, radius_m, length_m, axis
    size_m = [24.0, 24.0, 300.0]           # sphere: center_m, radius_m

Lengths in m, densities in g/cm^3. Loading validates everything and raises
:class:`InputError` naming the file and the offending entry (unknown material or key,
negative density, zero-size or non-finite box, duplicate names, fiducial volume outside
the detector...).
"""
from __future__ import annotations

import math
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dipolehnl.detector.geometry import Detector, Volume
from dipolehnl.detector.materials import Material
from dipolehnl.detector.shapes import Shape, shape_from_dict
from dipolehnl.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FORMAT_NAME = "dipolehnl-detector"
FORMAT_VERSION = 1

_TOP_KEYS = {"format", "format_version", "detector", "materials", "fiducial_volumes", "volumes"}
_DETECTOR_KEYS = {"name", "description"}
_MATERIAL_KEYS = {"components"}
_VOLUME_KEYS = {"name", "subsystem", "material", "density_g_cm3"}
_SHAPE_KEYS = {"shape", "center_m", "size_m", "radius_m", "length_m", "axis"}


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
    try:
        return _detector_from_doc(doc)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {unknown} (allowed: {sorted(allowed)})")


def _table(doc: Mapping[str, Any], key: str, where: str, required: bool = True) -> dict[str, Any]:
    val = doc.get(key)
    if val is None:
        if required:
            raise InputError(f"missing [{key}] table" if where == "" else f"{where}: missing {key!r}")
        return {}
    if not isinstance(val, dict):
        raise InputError(f"{where or key}: {key!r} must be a table")
    return val


def _detector_from_doc(doc: Mapping[str, Any]) -> Detector:
    _check_keys(doc, _TOP_KEYS, "top level")
    fmt = doc.get("format", FORMAT_NAME)
    if fmt != FORMAT_NAME:
        raise InputError(f"format is {fmt!r}, expected {FORMAT_NAME!r}")
    version = doc.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise InputError(f"format_version {version!r} is not supported (expected {FORMAT_VERSION})")
    det = _table(doc, "detector", "")
    _check_keys(det, _DETECTOR_KEYS, "[detector]")
    name = det.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError("[detector] needs a non-empty string 'name'")
    description = det.get("description", "")
    if not isinstance(description, str):
        raise InputError("[detector] description must be a string")

    materials: dict[str, Material] = {}
    for mname, mtab in _table(doc, "materials", "").items():
        where = f"[materials.{mname}]"
        if not isinstance(mtab, dict):
            raise InputError(f"{where} must be a table with 'components'")
        _check_keys(mtab, _MATERIAL_KEYS, where)
        comps = mtab.get("components")
        if not isinstance(comps, list) or not comps:
            raise InputError(f"{where}: 'components' must be a non-empty list of [pdg, mass_fraction]")
        for c in comps:
            if not (isinstance(c, list) and len(c) == 2 and isinstance(c[0], int) and not isinstance(c[0], bool)
                    and _is_real(c[1])):
                raise InputError(f"{where}: component {c!r} is not [integer PDG code, mass fraction]")
            if not -(2**63) <= c[0] < 2**63:  # would overflow int64
                raise InputError(f"{where}: {c[0]} is not a nuclear PDG code")
        comps = [[c[0], _float(c[1], where, "mass fraction")] for c in comps]
        try:
            materials[mname] = Material.from_components(mname, comps)
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None

    raw_vols = doc.get("volumes")
    if not isinstance(raw_vols, list) or not raw_vols:
        raise InputError("no [[volumes]]")
    volumes: list[Volume] = []
    names: set[str] = set()
    for i, vt in enumerate(raw_vols):
        where = f"[[volumes]] #{i + 1}"
        if not isinstance(vt, dict):
            raise InputError(f"{where} must be a table")
        vname = vt.get("name")
        if isinstance(vname, str):
            where = f"volume {vname!r} ([[volumes]] #{i + 1})"
        _check_keys(vt, _VOLUME_KEYS | _SHAPE_KEYS, where)
        if not isinstance(vname, str) or not vname.strip():
            raise InputError(f"{where}: needs a non-empty string 'name'")
        if vname in names:
            raise InputError(f"{where}: duplicate volume name {vname!r}")
        names.add(vname)
        mat = vt.get("material")
        if not isinstance(mat, str) or mat not in materials:
            raise InputError(
                f"{where}: unknown material {mat!r} (defined: {', '.join(materials) or 'none'})"
            )
        rho_raw = vt.get("density_g_cm3")
        if not _is_real(rho_raw):
            raise InputError(f"{where}: 'density_g_cm3' must be a number, got {rho_raw!r}")
        rho = _float(rho_raw, where, "density_g_cm3")
        if not math.isfinite(rho) or rho < 0:
            raise InputError(f"{where}: density_g_cm3 must be finite and >= 0, got {rho!r}")
        subsystem = vt.get("subsystem", "other")
        if not isinstance(subsystem, str) or not subsystem:
            raise InputError(f"{where}: 'subsystem' must be a non-empty string")
        shape = shape_from_dict(_shape_spec(vt, where), where)
        volumes.append(Volume(vname, shape, materials[mat], rho, subsystem))

    fiducials: dict[str, Shape] = {}
    for fname, ft in _table(doc, "fiducial_volumes", "", required=False).items():
        where = f"[fiducial_volumes.{fname}]"
        if not isinstance(ft, dict):
            raise InputError(f"{where} must be a table with center_m and size_m (or a shape)")
        _check_keys(ft, set(_SHAPE_KEYS), where)
        spec = _shape_spec(ft, where)
        if "shape" not in spec:  # the default: a box
            if "center_m" not in ft or "size_m" not in ft:
                raise InputError(f"{where}: needs center_m and size_m")
            spec["shape"] = "box"
        fiducials[fname] = shape_from_dict(spec, where)
    return Detector(name=name, volumes=volumes, fiducial_volumes=fiducials, description=description)


def _is_real(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _float(x: int | float, where: str, key: str) -> float:
    """A TOML number as a float (TOML integers are unbounded: too large ones are an InputError)."""
    try:
        return float(x)
    except OverflowError:
        raise InputError(f"{where}: {key} is out of range ({len(str(x))}-digit integer)") from None


def _shape_spec(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The shape keys of a volume (or fiducial volume) table with their TOML types checked
    and numbers as floats; the values themselves are validated by the shapes."""
    spec: dict[str, Any] = {}
    for k in _SHAPE_KEYS:
        if k not in table:
            continue
        v = table[k]
        if k in ("shape", "axis"):
            if not isinstance(v, str):
                raise InputError(f"{where}: {k!r} must be a string, got {v!r}")
        elif k in ("center_m", "size_m"):
            if not isinstance(v, list) or not all(_is_real(x) for x in v):
                raise InputError(f"{where}: {k} must be 3 numbers, got {v!r}")
            v = [_float(x, where, k) for x in v]
        else:
            if not _is_real(v):
                raise InputError(f"{where}: {k} must be a number, got {v!r}")
            v = _float(v, where, k)
        spec[k] = v
    return spec


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
        return {k: ([num(x) for x in v] if isinstance(v, list) else num(v) if _is_real(v) else v)
                for k, v in d.items()}

    doc: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "detector": {"name": detector.name, "description": detector.description},
        "materials": {name: {"components": [[int(p), num(w)] for p, w in mat.components()]}
                      for name, mat in detector.materials.items()},
    }
    if detector.fiducial_volumes:
        doc["fiducial_volumes"] = {n: shape_table(sh, True) for n, sh in detector.fiducial_volumes.items()}
    doc["volumes"] = [{"name": v.name, "subsystem": v.subsystem, "material": v.material.name,
                       "density_g_cm3": num(v.density_g_cm3), **shape_table(v.shape, False)}
                      for v in detector.volumes]
    head = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return head + ("\n" if header else "") + _one_line_arrays(tomli_w.dumps(doc))


_MULTILINE_ARRAY = re.compile(r"\[\n((?:[ \t]+[^\[\]\n]+,\n)+)[ \t]*\]")


def _one_line_arrays(text: str) -> str:
    """Write tomli_w's one-item-per-line arrays of numbers on one line (innermost first), so
    that 3-vectors and [PDG, fraction] pairs stay readable; the TOML value is unchanged."""
    while True:
        new = _MULTILINE_ARRAY.sub(lambda m: "[" + ", ".join(x.strip().rstrip(",") for x in m.group(1).splitlines()) + "]",
                                   text)
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
