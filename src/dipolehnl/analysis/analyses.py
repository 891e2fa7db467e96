"""Analysis definitions (TOML): exposures, backgrounds, selection and statistic.

An analysis is one TOML file; users can write their own without code.  The shipped
ones (``dipolehnl/analysis/data/analyses``) are ``t2k2019`` (the 2019 ND280 constraint),
``t2k-full`` (the full ND280 data set through 2023) and ``t2k+t2k2`` (T2K + T2K-II
sensitivity).  Format (see docs/analysis.md)::

    name = "t2k2019"
    description = "..."
    statistic = "poisson_zero_background"      # or "asimov"
    asimov_q = "discovery"                     # asimov only: "discovery" or "exclusion"
    one_sided = true                           # threshold convention for cl levels (asimov)
    cl = [0.95]                                # confidence levels (optional if sigma given)
    sigma = [5.0]                              # significance levels (optional)

    [selection]
    channel = "ee"                             # or "single_photon" (analysis.channels)
    cos_theta_min = 0.992                      # ee: HNL direction w.r.t. the beam axis
    opening_angle_max_deg = 90.0               # ee: e+ e- opening angle
    efficiency = "t2k2019"                     # shipped table name, a path (relative to the TOML file) or "none"
    efficiency_outside = "hold"                # "hold" or "zero" outside the table's range
    # single_photon: photon_energy_min_GeV, photon_angle_max_deg, mean_free_path_X0 (9/7), max_path_m

    [[dataset]]
    name = "nd280-fhc"
    experiment = "t2k-nd280"                   # shipped experiment or experiment file (relative path)
    mode = "fhc"                               # a beam mode of the experiment
    pot = 12.34e20
    background = 0.563                         # expected background events, or instead:
    # background_scaling = { reference_pot = 12.34e20, reference_background = 0.563, reference_n_fiducial_volumes = 3 }
    observed = 0                               # optional; absent = Asimov data (= background)
    fiducial_volumes = ["TPC1", "TPC2", "TPC3"]   # fiducial volumes of the experiment

The file is validated by one pydantic model (:class:`AnalysisSpec`, JSON schema in
docs/analysis.md); data sets then against the loaded experiment (modes and fiducial volumes).
``background_scaling`` computes background = reference_background x (pot /
reference_pot) x (len(fiducial_volumes) / reference_n_fiducial_volumes); the last is optional
(default: no volume scaling).  This is the paper's "scales linearly with the POT and
total TPC volume", with the volume ratio of the upgrade counted as 5 TPCs / 3 TPCs.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import AfterValidator, BeforeValidator, Field, StrictBool
from pydantic_core import PydanticCustomError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from dipolehnl.analysis import statistics as st
from dipolehnl.analysis.channels import Channel, EeChannel, SinglePhotonChannel
from dipolehnl.analysis.efficiency import EFFICIENCY_FILES, OUTSIDE_CHOICES, SelectionEfficiency, load_efficiency
from dipolehnl.bounds import POT_MAX
from dipolehnl.errors import InputError
from dipolehnl.experiment import available_experiments, load_experiment
from dipolehnl.specs import Integer, Name, Number, Spec, fail, json_schema, tagged_union, validate

STATISTICS: tuple[str, ...] = ("poisson_zero_background", "asimov")
ASIMOV_Q: tuple[str, ...] = ("discovery", "exclusion")


# ---------------------------------------------------------------------------------------
# Data classes
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SelectionConfig:
    """The analysis's signal channel and its cuts (``[selection]``; see
    :mod:`dipolehnl.analysis.channels`).

    ``ee``: cos θ_N > cos_theta_min, e⁺e⁻ opening angle < opening_angle_max_deg (deg),
    × BR(ee) (the preset's choice), × efficiency(m_N).
    ``single_photon``: E_γ > photon_energy_min_GeV, photon angle < photon_angle_max_deg
    (deg), × BR(νγ), × conversion probability (mean free path mean_free_path_X0 X₀, path
    up to max_path_m m, in conversion_subsystems only if given), × efficiency(E_γ) (table
    abscissa: photon energy in MeV).
    ``efficiency``: a shipped table name, a path (relative to the analysis file) or "none".
    """

    cos_theta_min: float = 0.992
    opening_angle_max_deg: float = 90.0
    efficiency: str = "t2k2019"
    efficiency_outside: str = "hold"
    base_dir: str = ""
    channel: str = "ee"
    photon_energy_min_GeV: float = 0.0
    photon_angle_max_deg: float = 180.0
    mean_free_path_X0: float = 9.0 / 7.0
    max_path_m: float = math.inf
    conversion_subsystems: tuple[str, ...] | None = None

    def efficiency_function(self) -> SelectionEfficiency | None:
        """The efficiency table (abscissa in GeV -> fraction), or None for "none" (1)."""
        ref = self.efficiency
        if ref == "none":
            return None
        outside = self.efficiency_outside  # validated by the loader
        if ref in EFFICIENCY_FILES or Path(ref).is_absolute():
            return load_efficiency(ref, outside)  # type: ignore[arg-type]
        return load_efficiency(Path(self.base_dir) / ref, outside)  # type: ignore[arg-type]

    def make_channel(self, br_ee: str = "model") -> Channel:
        """The :class:`~dipolehnl.analysis.channels.Channel` of this selection (``br_ee``:
        the preset's BR(ee) choice, used by the ``ee`` channel)."""
        if self.channel == "ee":
            return EeChannel(self.cos_theta_min, self.opening_angle_max_deg, self.efficiency_function(), br_ee)
        return SinglePhotonChannel(
            self.photon_energy_min_GeV,
            self.photon_angle_max_deg,
            self.mean_free_path_X0,
            self.max_path_m,
            self.efficiency_function(),
            tuple(self.conversion_subsystems) if self.conversion_subsystems else None,
        )

    def key(self) -> tuple[Any, ...]:
        """Everything that determines the channel (analyses scanned together must agree)."""
        return dataclasses.astuple(dataclasses.replace(self, base_dir=""))


def default_channel(preset: Preset | str | None = None) -> Channel:
    """The e⁺e⁻ channel of the shipped analyses for a preset.

    Parameters
    ----------
    preset : Preset or str, optional
        Physics preset (default ``"default"``): its cuts, BR(ee) choice and efficiency
        extrapolation.

    Returns
    -------
    Channel
        An :class:`~dipolehnl.analysis.channels.EeChannel`: cos θ_N > 0.992, opening angle
        < 90°, the T2K 2019 efficiency (held at its end values).

    Raises
    ------
    InputError
        For an unknown preset.
    """
    from dipolehnl.config import get_preset

    p = get_preset(preset or "default")
    eff = load_efficiency("t2k2019", outside=p.efficiency_outside)  # type: ignore[arg-type]
    return EeChannel(p.cos_theta_min, p.opening_angle_max_deg, eff, p.br_ee)


@dataclass(frozen=True)
class DataSet:
    """One data set: an experiment, a beam mode of it and its exposure.

    Attributes
    ----------
    name: label.
    experiment: a shipped experiment name (e.g. 't2k-nd280') or the absolute path of an
        experiment file (:mod:`dipolehnl.experiment`).
    mode: a beam mode of the experiment (e.g. 'fhc').
    pot: protons on target.
    background: expected background events (in all ``fiducial_volumes`` together, after selection).
    observed: observed events, or None for an Asimov data set (observed = background).
    fiducial_volumes: fiducial volumes of the experiment used, e.g. ('TPC1', 'TPC2', 'TPC3').
    """

    name: str
    experiment: str
    mode: str
    pot: float
    background: float
    observed: int | None
    fiducial_volumes: tuple[str, ...]

    @property
    def is_asimov(self) -> bool:
        """Whether the data set is an Asimov data set (no observed count)."""
        return self.observed is None


@dataclass(frozen=True)
class Level:
    """A confidence level: label, confidence level, and the threshold on the analysis statistic.

    For 'poisson_zero_background' the threshold is the upper limit on the total signal
    (events); for 'asimov' it is the threshold on the summed q.
    """

    label: str
    cl: float
    sigma: float | None
    threshold: float


@dataclass(frozen=True)
class Analysis:
    """A validated analysis definition (see the module docstring for the TOML format).

    Attributes
    ----------
    name, description : str
        From the file.
    statistic : {"poisson_zero_background", "asimov"}
        The test statistic.
    cl : tuple of float
        Confidence levels of the contours.
    sigma : tuple of float
        Significances (one-sided Gaussian σ) of further contours.
    selection : SelectionConfig
        The signal channel and its cuts.
    datasets : tuple of DataSet
        Experiments, beam modes and exposures.
    asimov_q : str
        The Asimov q (``"discovery"`` or ``"exclusion"``) for statistic ``asimov``.
    one_sided : bool
        One-sided thresholds.
    source : str
        The file the analysis was read from.
    """

    name: str
    description: str
    statistic: str
    cl: tuple[float, ...]
    sigma: tuple[float, ...]
    selection: SelectionConfig
    datasets: tuple[DataSet, ...]
    asimov_q: str = "discovery"
    one_sided: bool = True
    source: str = ""

    @property
    def backgrounds(self) -> NDArray[np.float64]:
        """Expected background per data set."""
        return np.array([d.background for d in self.datasets])

    def total_pot(self, mode: str | None = None, experiment: str | None = None) -> float:
        """Sum of the POT over data sets.

        Parameters
        ----------
        mode : str, optional
            Only data sets of this beam mode.
        experiment : str, optional
            Only data sets of this experiment.

        Returns
        -------
        float
            Protons on target.
        """
        return float(
            sum(
                d.pot
                for d in self.datasets
                if (mode is None or d.mode == mode) and (experiment is None or d.experiment == experiment)
            )
        )

    def levels(self) -> list[Level]:
        """The requested confidence levels, with thresholds for this analysis's statistic.

        Returns
        -------
        list of Level
            One per entry of :attr:`cl`, then one per entry of :attr:`sigma`.

        Raises
        ------
        InputError
            If a level has no finite threshold.
        """
        out: list[Level] = []
        for c in self.cl:
            out.append(Level(f"{100 * c:g}% CL", c, None, self._threshold(c, None)))
        for z in self.sigma:
            c = float(st.sigma_to_cl(z, one_sided=True))
            out.append(Level(f"{z:g} sigma", c, z, self._threshold(c, z)))
        return out

    def _threshold(self, cl: float, sigma: float | None) -> float:
        if self.statistic == "poisson_zero_background":
            n_obs = sum(d.observed or 0 for d in self.datasets)
            return float(st.poisson_upper_limit(n_obs, 0.0, cl))
        if sigma is not None:
            return float(st.q_threshold(sigma=sigma))
        return float(st.q_threshold(cl=cl, one_sided=self.one_sided))

    def test_statistic(self, signal: ArrayLike) -> NDArray[np.float64] | float:
        """The test statistic for expected signals.

        'poisson_zero_background': the total signal Σ_i s_i (background ignored).
        'asimov': Σ_i q(s_i, b_i) with the chosen q (``asimov_q``).

        Parameters
        ----------
        signal : array_like
            Expected signal events per data set, shape (n_datasets, ...).

        Returns
        -------
        numpy.ndarray or float
            The statistic, shape ``signal.shape[1:]``.

        Raises
        ------
        InputError
            If the leading axis is not the number of data sets.
        """
        s = np.asarray(signal, dtype=float)
        if s.shape[:1] != (len(self.datasets),):
            raise InputError(f"analysis {self.name}: signal must have a leading axis of length {len(self.datasets)}")
        if self.statistic == "poisson_zero_background":
            out = s.sum(axis=0)
            return float(out) if np.ndim(out) == 0 else out
        b = self.backgrounds.reshape((-1,) + (1,) * (s.ndim - 1))
        return st.q_asimov(s, b, self.asimov_q, axis=0)  # type: ignore[arg-type]

    def excluded(self, signal: ArrayLike, level: Level) -> NDArray[np.bool_] | bool:
        """Whether expected signals are excluded at a level.

        Parameters
        ----------
        signal : array_like
            Expected signal events per data set, shape (n_datasets, ...).
        level : Level
            One of :meth:`levels`.

        Returns
        -------
        numpy.ndarray of bool or bool
            True where the statistic reaches the level's threshold.

        Raises
        ------
        InputError
            If the leading axis is not the number of data sets.
        """
        out = np.asarray(self.test_statistic(signal)) >= level.threshold
        return bool(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------------------
def _analyses_dir() -> Traversable:
    return files("dipolehnl") / "analysis" / "data" / "analyses"


def available_analyses() -> list[str]:
    """Names of the shipped analyses.

    Returns
    -------
    list of str
        Sorted file stems of ``dipolehnl/analysis/data/analyses/*.toml``.
    """
    return sorted(e.name[:-5] for e in _analyses_dir().iterdir() if e.name.endswith(".toml"))


# ---------------------------------------------------------------------------------------
# The schema (one pydantic model; base and value types shared in dipolehnl.specs)
# ---------------------------------------------------------------------------------------
def _number_list(v: Any) -> Any:
    """``cl``/``sigma``: a list of numbers (a single number is a list of one)."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return [v]
    if not isinstance(v, list) or any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in v):
        raise PydanticCustomError("number_list", "expected a list of numbers, got {got}", {"got": repr(v)[:60]})
    return v


def _unique(names: list[str]) -> list[str]:
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise PydanticCustomError("duplicate", "duplicate fiducial volume {dup}", {"dup": ", ".join(map(repr, dup))})
    return names


class EeSelectionSpec(Spec):
    """``channel = "ee"``: an e⁺e⁻ pair (see :class:`SelectionConfig`)."""

    channel: Literal["ee"] = "ee"
    cos_theta_min: Number = Field(ge=-1, le=1, description="cos θ_N > this: HNL direction w.r.t. the beam axis")
    opening_angle_max_deg: Number = Field(gt=0, le=180, description="e⁺e⁻ opening angle < this, deg")
    efficiency: str = Field(
        description="efficiency vs m_N: a shipped table name, a path (relative to the analysis file) or 'none'"
    )
    efficiency_outside: Literal[OUTSIDE_CHOICES] = Field(  # type: ignore[valid-type]
        "hold", description="outside the table's range: hold the end values or zero"
    )


class SinglePhotonSelectionSpec(Spec):
    """``channel = "single_photon"``: N → νγ with the photon converting in the detector."""

    channel: Literal["single_photon"]
    photon_energy_min_GeV: Number = Field(0.0, ge=0, description="E_γ > this, GeV")
    photon_angle_max_deg: Number = Field(180.0, gt=0, le=180, description="photon angle to the beam axis < this, deg")
    mean_free_path_X0: Number = Field(
        9.0 / 7.0, gt=0, description="photon conversion mean free path, radiation lengths"
    )
    max_path_m: Number | None = Field(
        None, gt=0, description="longest conversion path, m (default: to the edge of the detector)"
    )
    conversion_subsystems: list[Name] | None = Field(
        None, min_length=1, description="only the material of these subsystems converts (default: all)"
    )
    efficiency: str = Field(
        "none",
        description="efficiency vs photon energy (MeV): a shipped table name, a path "
        "(relative to the analysis file) or 'none'",
    )
    efficiency_outside: Literal[OUTSIDE_CHOICES] = Field(  # type: ignore[valid-type]
        "hold", description="outside the table's range: hold the end values or zero"
    )


if TYPE_CHECKING:
    from importlib.abc import Traversable

    from dipolehnl.config import Preset

    SelectionSpec = EeSelectionSpec | SinglePhotonSelectionSpec
else:
    SelectionSpec = tagged_union(
        "channel", {"ee": EeSelectionSpec, "single_photon": SinglePhotonSelectionSpec}, default="ee"
    )


class BackgroundScalingSpec(Spec):
    """background = reference_background × pot / reference_pot [× n_fiducial_volumes / reference_n_fiducial_volumes]."""

    reference_pot: Number = Field(gt=0, description="POT of the reference measurement")
    reference_background: Number = Field(ge=0, description="expected background events at reference_pot")
    reference_n_fiducial_volumes: Integer | None = Field(
        None, gt=0, description="fiducial volumes of the reference (absent: no volume scaling)"
    )


class DataSetSpec(Spec):
    """``[[dataset]]``: an experiment, one of its beam modes and the exposure; exactly one of
    ``background`` and ``background_scaling``."""

    name: str
    experiment: str = Field(description="a shipped experiment or an experiment file (path relative to this file)")
    mode: str = Field(description="a beam mode of the experiment")
    pot: Number = Field(gt=0, le=POT_MAX, description="protons on target (at most 1e25, docs/robustness.md)")
    background: Number | None = Field(None, ge=0, description="expected background events (after selection)")
    background_scaling: BackgroundScalingSpec | None = None
    observed: Integer | None = Field(None, ge=0, lt=2**53, description="observed events (absent: Asimov data)")
    fiducial_volumes: Annotated[list[str], AfterValidator(_unique)] = Field(
        min_length=1, description="fiducial volumes of the experiment"
    )


class AnalysisSpec(Spec):
    """An analysis file (see the module docstring and docs/analysis.md)."""

    name: str
    description: str = ""
    statistic: Literal[STATISTICS]  # type: ignore[valid-type]
    asimov_q: Literal[ASIMOV_Q] = Field(  # type: ignore[valid-type]
        "discovery", description="asimov only: the q of the Asimov data set"
    )
    one_sided: StrictBool = Field(True, description="threshold convention of the cl levels (asimov)")
    cl: Annotated[list[Annotated[Number, Field(gt=0, lt=1)]], BeforeValidator(_number_list)] = Field(
        default_factory=list, description="confidence levels"
    )
    sigma: Annotated[list[Annotated[Number, Field(gt=0)]], BeforeValidator(_number_list)] = Field(
        default_factory=list, description="significance levels"
    )
    selection: SelectionSpec
    dataset: list[DataSetSpec] = Field(min_length=1)


def analysis_json_schema() -> dict[str, Any]:
    """The JSON schema of an analysis file (generated from :class:`AnalysisSpec`)."""
    return json_schema(AnalysisSpec)


def _selection(sel: EeSelectionSpec | SinglePhotonSelectionSpec, base_dir: str) -> SelectionConfig:
    common = {"efficiency": sel.efficiency, "efficiency_outside": sel.efficiency_outside, "base_dir": base_dir}
    if isinstance(sel, EeSelectionSpec):
        return SelectionConfig(
            cos_theta_min=sel.cos_theta_min, opening_angle_max_deg=sel.opening_angle_max_deg, **common
        )
    return SelectionConfig(
        channel="single_photon",
        photon_energy_min_GeV=sel.photon_energy_min_GeV,
        photon_angle_max_deg=sel.photon_angle_max_deg,
        mean_free_path_X0=sel.mean_free_path_X0,
        max_path_m=math.inf if sel.max_path_m is None else sel.max_path_m,
        conversion_subsystems=tuple(sel.conversion_subsystems) if sel.conversion_subsystems else None,
        **common,
    )


def _dataset(ds: DataSetSpec, i: int, source: str, base_dir: str) -> DataSet:
    """A data set validated against its experiment (loaded here)."""
    where = f"dataset[{i}]."
    try:
        exp = load_experiment(ds.experiment, base_dir or None)
    except InputError as exc:
        raise fail(source, where + "experiment", str(exc)) from None
    exp_key = ds.experiment if ds.experiment in available_experiments() else exp.source
    from dipolehnl.detector.fiducial import require_fiducial

    try:  # one line up front, not a failure in the middle of a scan
        require_fiducial(exp.fiducial_volumes, f"experiment {exp.name!r}", exp.source)
    except InputError as exc:
        raise fail(source, where + "experiment", str(exc)) from None
    mode = ds.mode.lower()
    if mode not in exp.modes:
        raise fail(
            source, where + "mode", f"unknown beam mode {mode!r} of {exp.name} (expected one of {', '.join(exp.modes)})"
        )
    allowed = tuple(exp.fiducial_volumes)
    for t in ds.fiducial_volumes:
        if t not in allowed:
            raise fail(
                source,
                where + "fiducial_volumes",
                f"unknown fiducial volume {t!r} of {exp.name} (expected some of {', '.join(allowed)})",
            )
    tpcs = tuple(ds.fiducial_volumes)
    sc = ds.background_scaling
    if ds.background is not None and sc is None:
        background = ds.background
    elif sc is not None and ds.background is None:
        ref_n = sc.reference_n_fiducial_volumes
        background = sc.reference_background * ds.pot / sc.reference_pot * (len(tpcs) / ref_n if ref_n else 1.0)
    else:
        raise fail(source, where + "background", "give exactly one of 'background' and 'background_scaling'")
    if not math.isfinite(background):
        raise fail(source, where + "background", f"must be finite, got {background}")
    return DataSet(ds.name, exp_key, mode, ds.pot, float(background), ds.observed, tpcs)


def parse_analysis(doc: dict[str, Any], source: str, base_dir: str = "") -> Analysis:
    """Validate a parsed TOML document and build an :class:`Analysis`.

    Parameters
    ----------
    doc : dict
        The parsed TOML document.
    source : str
        Name of the document in error messages.
    base_dir : str
        Directory relative file names (efficiency tables, experiment files) are taken
        relative to.

    Returns
    -------
    Analysis
        The validated analysis.

    Raises
    ------
    InputError
        For an invalid document: one line naming the file and the key.
    """
    spec = validate(AnalysisSpec, doc, source)
    if not spec.cl and not spec.sigma:
        raise fail(source, "cl", "give at least one confidence level (cl) or significance (sigma)")
    selection = _selection(spec.selection, base_dir)
    eff = selection.efficiency
    try:
        selection.efficiency_function()
    except InputError as exc:
        raise fail(source, "selection.efficiency", str(exc)) from None
    except OSError as exc:  # the efficiency table exists but cannot be read
        raise fail(source, "selection.efficiency", f"cannot read {eff!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise fail(
            source, "selection.efficiency", f"{eff!r} is not a text file ({exc.reason} at byte {exc.start})"
        ) from None

    datasets = tuple(_dataset(ds, i, source, base_dir) for i, ds in enumerate(spec.dataset))
    names = [d.name for d in datasets]
    if len(set(names)) != len(names):
        raise fail(source, "dataset", "data set names must be unique")
    cl, sigma = tuple(spec.cl), tuple(spec.sigma)
    analysis = Analysis(
        spec.name,
        spec.description,
        spec.statistic,
        cl,
        sigma,
        selection,
        datasets,
        spec.asimov_q,
        spec.one_sided,
        source,
    )
    try:  # every level must have a threshold (e.g. sigma = 9 is a confidence level of 1.0 in double precision)
        analysis.levels()
    except InputError as exc:
        raise fail(source, "sigma" if sigma else "cl", str(exc)) from None
    return analysis


@cache
def _load_shipped(name: str) -> Analysis:
    text = _analyses_dir().joinpath(f"{name}.toml").read_text()
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{name}.toml: invalid TOML: {exc}") from None
    return parse_analysis(doc, f"{name}.toml")


def load_analysis(name_or_path: str | Path) -> Analysis:
    """Load a shipped analysis or an analysis TOML file (``dh.load_analysis``).

    Parameters
    ----------
    name_or_path : str or Path
        A shipped name (:func:`available_analyses`: ``t2k2019``, ``t2k-full``,
        ``t2k+t2k2``) or the path of an analysis TOML file (docs/analysis.md).

    Returns
    -------
    Analysis
        The validated analysis (shipped ones are cached).

    Raises
    ------
    InputError
        For an unknown name, a missing file, invalid TOML or an invalid analysis.
    """
    key = str(name_or_path)
    if key in available_analyses():
        return _load_shipped(key)
    p = Path(name_or_path)
    if not p.is_file():
        raise InputError(
            f"unknown analysis {key!r}: expected one of {', '.join(available_analyses())} or a path to a TOML file"
        )
    from dipolehnl.io import read_user_text

    text = read_user_text(p, "analysis file")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{p}: invalid TOML: {exc}") from None
    return parse_analysis(doc, str(p), str(p.parent))
