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
    format = "t2k"                      # "t2k": T2K release table (column below); "bins": rows "E_lo E_hi value";
                                        # "bnb": rows "E_lo E_hi numu numubar nue nuebar" (BNB tables)
    column = "numu"                     # t2k and bnb: numu, numubar, nue or nuebar
    units = "cm-2 (50 MeV)-1 (1e21 POT)-1"   # or "cm-2 GeV-1 POT-1", "m-2 GeV-1 POT-1"

    [detector]
    file = "../detector/models/nd280.toml"   # a detector TOML file or a SIREN *_densities.dat file
    # materials = "..."                 # SIREN only: the materials file (default: next to it)

    [fiducial_volumes.TPC1]             # any shape the geometry supports, in any medium (absent: the detector's own)
    shape = "box"                       # box (the default): center_m, size_m; sphere: center_m, radius_m;
    center_m = [0.0, 0.0, -0.375]       # cylinder: center_m, radius_m, length_m, axis ("x", "y", "z")
    size_m = [1.7, 1.96, 0.563]

Errors name the file and the key (``InputError``: one line, exit code 2 in the CLI).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import Field

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from dipolehnl.beam.flux import FLAVORS as T2K_COLUMNS
from dipolehnl.beam.flux import T2K_TABLE_TO_PER_GEV_PER_POT, FluxComponent
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
    format: Literal["t2k", "bins", "bnb"] = Field(
        "t2k",
        description="'t2k': the T2K release table (bin  lo - hi  numu numubar nue nuebar); "
        "'bins': rows 'E_lo_GeV E_hi_GeV value' ('#' comments); "
        "'bnb': rows 'E_lo_GeV E_hi_GeV numu numubar nue nuebar' ('#' comments)",
    )
    column: Literal["numu", "numubar", "nue", "nuebar"] | None = Field(
        None, description="t2k and bnb formats: the column of this flavour (default: the flavour itself)"
    )
    units: Literal["cm-2 (50 MeV)-1 (1e21 POT)-1", "cm-2 GeV-1 POT-1", "m-2 GeV-1 POT-1"] = Field(
        "cm-2 (50 MeV)-1 (1e21 POT)-1", description="units of the tabulated values (densities)"
    )


class SourceSpec(Spec):
    """Optional geometry of the neutrino source."""

    decay_volume_length_m: Number | None = Field(None, gt=0, description="length of the meson decay volume, m")


class BeamSpec(Spec):
    """The beam: modes → flavour → flux file; distance to the source."""

    distance_m: Number = Field(gt=0, description="distance from the neutrino source (target) to the detector centre, m")
    source: SourceSpec | None = None
    flux_fractional_error: str | None = Field(
        None,
        description="optional table 'E_GeV fractional_error' (relative path) of the flux normalisation "
        "uncertainty, interpolated linearly and held at its ends; absent: no flux band",
    )
    modes: dict[
        str,
        Annotated[
            dict[Literal["numu", "numubar", "nue", "nuebar", "nutau", "nutaubar"], FluxFileSpec], Field(min_length=1)
        ],
    ] = Field(min_length=1, description="beam mode (e.g. fhc, rhc) → flavour → flux file")


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
        default_factory=dict,
        description="name → solid: shape = 'box' (default; center_m, size_m), 'sphere' (center_m, radius_m) or "
        "'cylinder' (center_m, radius_m, length_m, axis); absent: the detector's own (a TOML "
        "detector's [fiducial_volumes], a SIREN file's 'fiducial' line)",
    )


def experiment_json_schema() -> dict[str, Any]:
    """The JSON schema of an experiment file.

    Returns
    -------
    dict
        The schema generated from :class:`ExperimentSpec` (pydantic).
    """
    return json_schema(ExperimentSpec)


# ---------------------------------------------------------------------------------------
# The loaded experiment
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Experiment:
    """A validated, loaded experiment (from :func:`load_experiment`).

    Attributes
    ----------
    name, description : str
        From the file.
    source : str
        The file (path or shipped name).
    detector : Detector
        The loaded :class:`~dipolehnl.detector.geometry.Detector`.
    fiducial_volumes : dict of str to Shape
        Name → shape (m), in file order.
    fluxes : dict
        Mode → flavour → :class:`~dipolehnl.beam.flux.FluxComponent` (cm⁻² GeV⁻¹ POT⁻¹).
    distance_m : float
        Source-to-detector distance (m).
    decay_volume_length_m : float or None
        Length of the source (decay volume, m), if the file gives it.
    spec : ExperimentSpec or None
        The validated file contents.
    flux_error_table : tuple of arrays or None
        (E in GeV, fractional 1σ flux error), if the file gives one.
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

    def flux_fractional_error(self, E_GeV: ArrayLike) -> NDArray[np.float64]:
        """Fractional 1σ flux uncertainty from the experiment's table.

        Parameters
        ----------
        E_GeV : array_like
            Neutrino energies in GeV.

        Returns
        -------
        numpy.ndarray
            The fractional error at each energy (linear interpolation; 0 without a table).
        """
        E = np.asarray(E_GeV, dtype=float)
        if self.flux_error_table is None:
            return np.zeros_like(E)
        xp, fp = self.flux_error_table
        return np.asarray(np.interp(E, xp, fp), dtype=float)

    @property
    def modes(self) -> tuple[str, ...]:
        """Beam modes of the experiment (e.g. ``("fhc", "rhc")``)."""
        return tuple(self.fluxes)

    def flavors(self, mode: str) -> tuple[str, ...]:
        """Neutrino flavours with a flux in one beam mode.

        Parameters
        ----------
        mode : str
            A beam mode (case-insensitive).

        Returns
        -------
        tuple of str
            Flavours, e.g. ``("numu", "numubar")``.

        Raises
        ------
        InputError
            For a mode the experiment does not have.
        """
        return tuple(self.fluxes[self.check_mode(mode)])

    def check_mode(self, mode: str) -> str:
        """A beam mode of this experiment, normalised.

        Parameters
        ----------
        mode : str
            A beam mode (case and surrounding spaces are ignored).

        Returns
        -------
        str
            The mode in lower case.

        Raises
        ------
        InputError
            For a mode the experiment does not have.
        """
        m = str(mode).strip().lower()
        if m not in self.fluxes:
            raise InputError(f"experiment {self.name!r} has no beam mode {mode!r} (has {', '.join(self.fluxes)})")
        return m

    def flux(self, mode: str, flavor: str) -> FluxComponent:
        """The flux of one flavour in one beam mode.

        Parameters
        ----------
        mode : str
            A beam mode.
        flavor : str
            A neutrino flavour (``"numu"``, ``"numubar"``, ...).

        Returns
        -------
        FluxComponent
            The flux in neutrinos per cm² per GeV per POT.

        Raises
        ------
        InputError
            For an unknown mode or a flavour without flux.
        """
        m = self.check_mode(mode)
        if flavor not in self.fluxes[m]:
            raise InputError(f"experiment {self.name!r}, mode {m}: no {flavor} flux (has {', '.join(self.fluxes[m])})")
        return self.fluxes[m][flavor]

    def shapes(self, names: Iterable[str]) -> dict[str, Shape]:
        """Fiducial volumes by name.

        Parameters
        ----------
        names : iterable of str
            Fiducial-volume names of this experiment.

        Returns
        -------
        dict of str to Shape
            The shapes, in the order of ``names``.

        Raises
        ------
        InputError
            For an unknown name.
        """
        out = {}
        for n in names:
            if n not in self.fiducial_volumes:
                raise InputError(
                    f"experiment {self.name!r} has no fiducial volume {n!r} (has {', '.join(self.fiducial_volumes)})"
                )
            out[n] = self.fiducial_volumes[n]
        return out

    def summary(self) -> dict[str, Any]:
        """Modes, flavours and fiducial volumes (``dipolehnl experiments``).

        Returns
        -------
        dict
            JSON-ready summary: name, description, detector, distances, modes and their
            flavours, fiducial volumes with their shapes and volumes (m³).
        """
        return {
            "name": self.name,
            "description": self.description,
            "detector": self.detector.name,
            "distance_m": self.distance_m,
            "decay_volume_length_m": self.decay_volume_length_m,
            "modes": {m: list(f) for m, f in self.fluxes.items()},
            "fiducial_volumes": {
                n: {**s.to_dict(), "volume_m3": s.volume_m3} for n, s in self.fiducial_volumes.items()
            },
        }


def _experiments_dir() -> Path:
    return Path(str(files("dipolehnl").joinpath("experiments")))


def available_experiments() -> list[str]:
    """Names of the shipped experiments.

    Returns
    -------
    list of str
        Sorted file stems of ``dipolehnl/experiments/*.toml``.
    """
    return sorted(p.stem for p in _experiments_dir().glob("*.toml"))


def parse_experiment(doc: dict[str, Any], source: str, base_dir: Path) -> Experiment:
    """Validate a parsed TOML document and load the detector and fluxes it names.

    Parameters
    ----------
    doc : dict
        The parsed TOML document.
    source : str
        Name of the document in error messages.
    base_dir : Path
        Directory that relative file names in the document are taken relative to.

    Returns
    -------
    Experiment
        The loaded experiment.

    Raises
    ------
    InputError
        For an invalid document (one line naming the file and the key), a missing or
        invalid detector or flux file, or a fiducial volume outside the detector.
    """
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
    if not spec.fiducial_volumes:  # the detector's own; none at all is refused where they are used
        shapes = dict(det.fiducial_volumes)
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
            raise InputError(
                f"{source}: beam.flux_fractional_error: file not found: {spec.beam.flux_fractional_error!r}"
            )
        try:
            err = _two_columns(read_user_text(path, "flux error file"), str(path))
        except InputError as exc:
            raise InputError(f"{source}: beam.flux_fractional_error: {exc}") from None
    return Experiment(
        spec.name,
        spec.description,
        source,
        det,
        shapes,
        fluxes,
        spec.beam.distance_m,
        src.decay_volume_length_m if src else None,
        spec,
        err,
    )


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
def _read_table(path: str, fmt: str, stamp: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    from dipolehnl.beam.flux import read_flux_file  # ``stamp``: mtime and size, so that an edited file is read again

    return read_flux_file(path, fmt)


def _load_flux(f: FluxFileSpec, flavor: str, mode: str, where: str, base_dir: Path) -> FluxComponent:
    path = base_dir / f.file
    if not path.is_file():
        raise InputError(f"{where}.file: file not found: {f.file!r}")
    try:
        edges, raw = _read_table(str(path.resolve()), f.format, _stat(path))
        if f.format in ("t2k", "bnb"):
            col = f.column or flavor
            if col not in T2K_COLUMNS:
                raise InputError(
                    f"the {f.format} table has no column {col!r} (give column = one of {', '.join(T2K_COLUMNS)})"
                )
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


def experiment_path(ref: str) -> Path:
    """The file of an experiment reference: a shipped name or a path."""
    return _experiments_dir() / f"{ref}.toml" if ref in available_experiments() else Path(ref)


def referenced_files(path: str | Path) -> list[Path]:
    """The experiment file ``path`` and every file it names: the detector file, the SIREN
    materials file (given, or next to the densities file), the flux-error table and the
    flux tables, resolved against the file's folder (read from the TOML without validating
    it; files that do not exist are listed too)."""
    from dipolehnl.detector.siren import default_materials_path

    p = Path(path)
    out = [p]
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return out  # loading reports it
    base = p.parent
    det = doc.get("detector") if isinstance(doc.get("detector"), dict) else {}
    beam = doc.get("beam") if isinstance(doc.get("beam"), dict) else {}
    if isinstance(det.get("file"), str):
        out.append(base / det["file"])
        if isinstance(det.get("materials"), str):
            out.append(base / det["materials"])
        elif det["file"].endswith(".dat"):
            out.append(default_materials_path(base / det["file"]))
    if isinstance(beam.get("flux_fractional_error"), str):
        out.append(base / beam["flux_fractional_error"])
    modes = beam.get("modes")
    if not isinstance(modes, dict):
        modes = {}
    for flavs in modes.values():
        for f in flavs.values() if isinstance(flavs, dict) else ():
            if isinstance(f, dict) and isinstance(f.get("file"), str):
                out.append(base / f["file"])
    return list(dict.fromkeys(out))


def _stat(path: str | Path) -> tuple[int, int] | None:
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


@lru_cache(maxsize=64)
def _load_cached(key: str, is_shipped: bool, stamp: tuple[object, ...]) -> Experiment:
    # ``stamp``: (path, mtime, size) of every file involved, so that a file edited in place
    # is read again (scan cache keys hash the contents: results must come from them)
    if is_shipped:
        return _parse_file(_experiments_dir() / f"{key}.toml", f"{key}.toml")
    return _parse_file(Path(key), key)


def load_experiment(name_or_path: str | Path, base_dir: str | Path | None = None) -> Experiment:
    """Load a shipped experiment or an experiment TOML file.

    Parameters
    ----------
    name_or_path : str or Path
        A shipped name (:func:`available_experiments`, e.g. ``"t2k-nd280"``) or the path of
        an experiment ``.toml`` file (docs/experiments.md).
    base_dir : str or Path, optional
        Directory a relative ``name_or_path`` is taken relative to.

    Returns
    -------
    Experiment
        The validated experiment (cached: loading the same file again is free).

    Raises
    ------
    InputError
        For an unknown name, a path that is not a ``.toml`` file, or an invalid file.
    """
    key = str(name_or_path)
    shipped = key in available_experiments()
    if shipped:
        path = _experiments_dir() / f"{key}.toml"
    else:
        path = Path(key)
        if base_dir is not None and not path.is_absolute():
            path = Path(base_dir) / path
        if path.suffix != ".toml" or not path.is_file():
            raise InputError(
                f"unknown experiment {key!r}: expected one of {', '.join(available_experiments())} "
                "or a path to an experiment .toml file"
            )
        key = str(path.resolve())
    stamp = tuple((str(f), _stat(f)) for f in referenced_files(path))
    return _load_cached(key, shipped, stamp)


def experiments_summary() -> list[dict[str, Any]]:
    """Summaries of all shipped experiments.

    Returns
    -------
    list of dict
        :meth:`Experiment.summary` of every shipped experiment.
    """
    return [load_experiment(n).summary() for n in available_experiments()]


if __name__ == "__main__":  # pragma: no cover - prints the JSON schema for docs/experiments.md
    print(json.dumps(experiment_json_schema(), indent=2, ensure_ascii=False))
