"""Experiments as data: a TOML file names the beam, the detector and the fiducial volumes.

One pydantic model (:class:`ExperimentSpec`) validates the file; its JSON schema is in
docs/experiments.md (``python -m dipolehnl.experiment --schema`` prints it).  Paths in the
file are relative to the file.  Format::

    name = "t2k-nd280"
    description = "..."

    [beam]
    distance_m = 284.9                  # neutrino source (target) to the detector centre, m
    source = { decay_volume_length_m = 96.0 }   # optional source geometry (meson decay volume, m)

    [beam.modes.fhc.numu]               # one flux file per flavour: numu numubar nue nuebar nutau nutaubar
    file = "../beam/data/t2k_nd280_fhc_plus250kA_2020.txt"
    format = "t2k"                      # "t2k": T2K release table (column below); "bins": rows "E_lo E_hi value"
    column = "numu"                     # t2k only: numu, numubar, nue or nuebar
    units = "cm-2 (50 MeV)-1 (1e21 POT)-1"   # or "cm-2 GeV-1 POT-1", "m-2 GeV-1 POT-1"

    [detector]
    file = "../detector/models/nd280.toml"   # a detector TOML file or a SIREN *_densities.dat file
    # materials = "..."                 # SIREN only: the materials file (default: next to it)

    [fiducial_volumes.TPC1]             # any shape the geometry supports, in any medium
    shape = "box"                       # box (the default): center_m, size_m; sphere: center_m, radius_m;
    center_m = [0.0, 0.0, -0.375]       # cylinder: center_m, radius_m, length_m, axis ("x", "y", "z")
    size_m = [1.7, 1.96, 0.563]

Errors name the file and the key (``InputError``: one line, exit code 2 in the CLI).
"""
from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from dipolehnl.beam.flux import FLAVORS as T2K_COLUMNS
from dipolehnl.beam.flux import FluxComponent, T2K_TABLE_TO_PER_GEV_PER_POT, _parse_t2k_table
from dipolehnl.detector.geometry import Detector
from dipolehnl.detector.shapes import Shape, shape_from_dict
from dipolehnl.errors import InputError
from dipolehnl.specs import Name, Number, ShapeSpec, Spec, json_schema, shape_keys, validate

#: Neutrino flavours an experiment's beam may list.
FLAVORS: tuple[str, ...] = ("numu", "numubar", "nue", "nuebar", "nutau", "nutaubar")
#: Flux units → factor to neutrinos per cm² per GeV per POT.
FLUX_UNITS: dict[str, float] = {
    "cm-2 (50 MeV)-1 (1e21 POT)-1": T2K_TABLE_TO_PER_GEV_PER_POT,
    "cm-2 GeV-1 POT-1": 1.0,
    "m-2 GeV-1 POT-1": 1.0e-4,
}


# ---------------------------------------------------------------------------------------
# The schema (one pydantic model; base, value types and solids shared in dipolehnl.specs)
# ---------------------------------------------------------------------------------------
class FluxFileSpec(Spec):
    """One flavour's flux: a file (relative to the experiment file), its format and units."""

    file: str = Field(description="flux table, path relative to the experiment file")
    format: Literal["t2k", "bins"] = Field(
        "t2k", description="'t2k': the T2K release table (bin  lo - hi  numu numubar nue nuebar); "
                           "'bins': rows 'E_lo_GeV E_hi_GeV value' ('#' comments)")
    column: Literal["numu", "numubar", "nue", "nuebar"] | None = Field(
        None, description="t2k format: the column of this flavour (default: the flavour itself)")
    units: Literal["cm-2 (50 MeV)-1 (1e21 POT)-1", "cm-2 GeV-1 POT-1", "m-2 GeV-1 POT-1"] = Field(
        "cm-2 (50 MeV)-1 (1e21 POT)-1", description="units of the tabulated values (densities)")


class SourceSpec(Spec):
    """Optional geometry of the neutrino source."""

    decay_volume_length_m: Number | None = Field(None, gt=0, description="length of the meson decay volume, m")


class BeamSpec(Spec):
    """The beam: modes → flavour → flux file; distance to the source."""

    distance_m: Number = Field(gt=0, description="distance from the neutrino source (target) to the detector centre, m")
    source: SourceSpec | None = None
    flux_fractional_error: str | None = Field(
        None, description="optional table 'E_GeV fractional_error' (relative path) of the flux normalisation "
                          "uncertainty, interpolated linearly and held at its ends; absent: no flux band")
    modes: dict[str, Annotated[dict[Literal["numu", "numubar", "nue", "nuebar", "nutau", "nutaubar"], FluxFileSpec],
                               Field(min_length=1)]] = Field(
        min_length=1, description="beam mode (e.g. fhc, rhc) → flavour → flux file")


class DetectorSpec(Spec):
    """The detector: a TOML file or a SIREN densities file (+ materials)."""

    file: str = Field(description="detector TOML file or SIREN *_densities.dat file, relative to the experiment file")
    materials: str | None = Field(None, description="SIREN only: materials file (default: next to the densities file)")


#: A fiducial volume: a box (default), sphere or cylinder (m), in any medium of the detector.
FiducialVolumeSpec = ShapeSpec


class ExperimentSpec(Spec):
    """An experiment file (see the module docstring and docs/experiments.md)."""

    name: Name
    description: str = ""
    beam: BeamSpec
    detector: DetectorSpec
    fiducial_volumes: dict[str, FiducialVolumeSpec] = Field(
        min_length=1, description="name → solid: shape = 'box' (default; center_m, size_m), 'sphere' "
                                  "(center_m, radius_m) or 'cylinder' (center_m, radius_m, length_m, axis)")


def experiment_json_schema() -> dict:
    """The JSON schema of an experiment file (generated from :class:`ExperimentSpec`)."""
    return json_schema(ExperimentSpec)


# ---------------------------------------------------------------------------------------
# The loaded experiment
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Experiment:
    """A validated, loaded experiment.

    name, description: from the file; source: the file (path or shipped name).
    detector: the loaded :class:`~dipolehnl.detector.geometry.Detector`.
    fiducial_volumes: name → shape (m), in file order.
    fluxes: mode → flavour → :class:`~dipolehnl.beam.flux.FluxComponent` (cm⁻² GeV⁻¹ POT⁻¹).
    distance_m: source-to-detector distance (m); decay_volume_length_m: source length (m) or None.
    """

    name: str
    description: str
    source: str
    detector: Detector
    fiducial_volumes: dict[str, Shape]
    fluxes: dict[str, dict[str, FluxComponent]]
    distance_m: float
    decay_volume_length_m: float | None = None
    spec: ExperimentSpec | None = field(default=None, compare=False, repr=False)
    flux_error_table: tuple[np.ndarray, np.ndarray] | None = field(default=None, compare=False, repr=False)

    def flux_fractional_error(self, E_GeV) -> np.ndarray:
        """Fractional 1σ flux uncertainty at E (GeV) from the experiment's table (0 without one)."""
        E = np.asarray(E_GeV, dtype=float)
        if self.flux_error_table is None:
            return np.zeros_like(E)
        return np.interp(E, *self.flux_error_table)

    @property
    def modes(self) -> tuple[str, ...]:
        return tuple(self.fluxes)

    def flavors(self, mode: str) -> tuple[str, ...]:
        return tuple(self.fluxes[self.check_mode(mode)])

    def check_mode(self, mode: str) -> str:
        m = str(mode).strip().lower()
        if m not in self.fluxes:
            raise InputError(f"experiment {self.name!r} has no beam mode {mode!r} (has {', '.join(self.fluxes)})")
        return m

    def flux(self, mode: str, flavor: str) -> FluxComponent:
        """The flux of ``flavor`` in beam ``mode`` (InputError if the file has none)."""
        m = self.check_mode(mode)
        if flavor not in self.fluxes[m]:
            raise InputError(f"experiment {self.name!r}, mode {m}: no {flavor} flux (has {', '.join(self.fluxes[m])})")
        return self.fluxes[m][flavor]

    def shapes(self, names) -> dict[str, Shape]:
        """Fiducial volumes by name (InputError for unknown names)."""
        out = {}
        for n in names:
            if n not in self.fiducial_volumes:
                raise InputError(f"experiment {self.name!r} has no fiducial volume {n!r} "
                                 f"(has {', '.join(self.fiducial_volumes)})")
            out[n] = self.fiducial_volumes[n]
        return out

    def summary(self) -> dict:
        """Modes, flavours and fiducial volumes (``dipolehnl experiments``)."""
        return {"name": self.name, "description": self.description, "detector": self.detector.name,
                "distance_m": self.distance_m, "decay_volume_length_m": self.decay_volume_length_m,
                "modes": {m: list(f) for m, f in self.fluxes.items()},
                "fiducial_volumes": {n: {**s.to_dict(), "volume_m3": s.volume_m3}
                                     for n, s in self.fiducial_volumes.items()}}


def _experiments_dir() -> Path:
    return Path(str(files("dipolehnl").joinpath("experiments")))


def available_experiments() -> list[str]:
    """Names of the shipped experiments (``dipolehnl/experiments/*.toml``)."""
    return sorted(p.stem for p in _experiments_dir().glob("*.toml"))


def parse_experiment(doc: dict, source: str, base_dir: Path) -> Experiment:
    """Validate a parsed TOML document and load the detector and fluxes it names."""
    spec = validate(ExperimentSpec, doc, source)
    det = _load_detector(spec.detector, source, base_dir)
    shapes: dict[str, Shape] = {}
    lo, hi = det.bounds_m
    for name, fv in spec.fiducial_volumes.items():
        key = f"fiducial_volumes.{name}"
        try:
            shape = shape_from_dict(shape_keys(fv), key)
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from None
        flo, fhi = shape.bounds_m
        if np.any(flo < lo - 1e-9) or np.any(fhi > hi + 1e-9):
            raise InputError(f"{source}: {key}: not inside the detector {det.name!r}")
        shapes[name] = shape
    fluxes: dict[str, dict[str, FluxComponent]] = {}
    for mode, flavs in spec.beam.modes.items():
        m = mode.strip().lower()
        fluxes[m] = {fl: _load_flux(f, fl, m, f"{source}: beam.modes.{mode}.{fl}", base_dir) for fl, f in flavs.items()}
    src = spec.beam.source
    err = None
    if spec.beam.flux_fractional_error:
        from dipolehnl.beam.flux import _two_columns
        from dipolehnl.io import read_user_text

        path = base_dir / spec.beam.flux_fractional_error
        if not path.is_file():
            raise InputError(f"{source}: beam.flux_fractional_error: file not found: {spec.beam.flux_fractional_error!r}")
        try:
            err = _two_columns(read_user_text(path, "flux error file"), str(path))
        except InputError as exc:
            raise InputError(f"{source}: beam.flux_fractional_error: {exc}") from None
    return Experiment(spec.name, spec.description, source, det, shapes, fluxes, spec.beam.distance_m,
                      src.decay_volume_length_m if src else None, spec, err)


def _load_detector(d: DetectorSpec, source: str, base_dir: Path) -> Detector:
    from dipolehnl.detector.catalog import load_detector

    path = base_dir / d.file
    if not path.is_file():
        raise InputError(f"{source}: detector.file: file not found: {d.file!r}")
    mats = base_dir / d.materials if d.materials else None
    try:
        return load_detector(path, materials_path=mats)
    except InputError as exc:
        raise InputError(f"{source}: detector.file: {exc}") from None


@lru_cache(maxsize=64)
def _read_table(path: str, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    from dipolehnl.io import read_user_text

    text = read_user_text(Path(path), "flux file")
    if fmt == "t2k":
        return _parse_t2k_table(text, path)
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        tok = s.replace(",", " ").split()
        try:
            vals = [float(t) for t in tok]
        except ValueError:
            raise InputError(f"{path}:{lineno}: non-numeric value in {s!r}") from None
        if len(vals) != 3 or not all(math.isfinite(v) for v in vals):
            raise InputError(f"{path}:{lineno}: expected 'E_lo_GeV E_hi_GeV value', got {s!r}")
        if rows and not math.isclose(vals[0], rows[-1][1], rel_tol=1e-9, abs_tol=1e-12):
            raise InputError(f"{path}:{lineno}: bins are not contiguous")
        rows.append(vals)
    if not rows:
        raise InputError(f"{path}: no flux bins found")
    a = np.array(rows)
    return np.concatenate([a[:, 0], a[-1:, 1]]), a[:, 2:3]


def _load_flux(f: FluxFileSpec, flavor: str, mode: str, where: str, base_dir: Path) -> FluxComponent:
    path = base_dir / f.file
    if not path.is_file():
        raise InputError(f"{where}.file: file not found: {f.file!r}")
    try:
        edges, raw = _read_table(str(path.resolve()), f.format)
        if f.format == "t2k":
            col = f.column or flavor
            if col not in T2K_COLUMNS:
                raise InputError(f"the t2k table has no column {col!r} (give column = one of {', '.join(T2K_COLUMNS)})")
            values = raw[:, T2K_COLUMNS.index(col)]
        else:
            values = raw[:, 0]
        return FluxComponent(edges, values * FLUX_UNITS[f.units], flavor=flavor, mode=mode)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def _parse_file(path: Path, source: str) -> Experiment:
    from dipolehnl.io import read_user_text

    text = read_user_text(path, "experiment file")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: invalid TOML: {exc}") from None
    return parse_experiment(doc, source, path.parent)


@lru_cache(maxsize=None)
def _load_cached(key: str, is_shipped: bool) -> Experiment:
    if is_shipped:
        return _parse_file(_experiments_dir() / f"{key}.toml", f"{key}.toml")
    return _parse_file(Path(key), key)


def load_experiment(name_or_path: str | Path, base_dir: str | Path | None = None) -> Experiment:
    """A shipped experiment by name (:func:`available_experiments`) or an experiment TOML
    file by path (relative paths are taken relative to ``base_dir`` if given)."""
    key = str(name_or_path)
    if key in available_experiments():
        return _load_cached(key, True)
    p = Path(key)
    if base_dir is not None and not p.is_absolute():
        p = Path(base_dir) / p
    if p.suffix != ".toml" or not p.is_file():
        raise InputError(f"unknown experiment {key!r}: expected one of {', '.join(available_experiments())} "
                         "or a path to an experiment .toml file")
    return _load_cached(str(p.resolve()), False)


def experiments_summary() -> list[dict]:
    """Summaries of all shipped experiments."""
    return [load_experiment(n).summary() for n in available_experiments()]


if __name__ == "__main__":  # pragma: no cover - prints the JSON schema for docs/experiments.md
    print(json.dumps(experiment_json_schema(), indent=2, ensure_ascii=False))
