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

Data sets are validated against the loaded experiment (modes and fiducial volumes).
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
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from dipolehnl.analysis import statistics as st
from dipolehnl.analysis.channels import CHANNELS, Channel, EeChannel, SinglePhotonChannel
from dipolehnl.analysis.efficiency import EFFICIENCY_FILES, OUTSIDE_CHOICES, SelectionEfficiency, load_efficiency
from dipolehnl.errors import InputError
from dipolehnl.experiment import available_experiments, load_experiment

STATISTICS: tuple[str, ...] = ("poisson_zero_background", "asimov")
ASIMOV_Q: tuple[str, ...] = ("discovery", "exclusion")

_TOP_KEYS = {"name", "description", "statistic", "asimov_q", "one_sided", "cl", "sigma", "selection", "dataset"}
_EE_KEYS = {"channel", "cos_theta_min", "opening_angle_max_deg", "efficiency", "efficiency_outside"}
_PHOTON_KEYS = {"channel", "photon_energy_min_GeV", "photon_angle_max_deg", "mean_free_path_X0", "max_path_m",
                "conversion_subsystems", "efficiency", "efficiency_outside"}
_DATASET_KEYS = {"name", "experiment", "mode", "pot", "background", "background_scaling", "observed",
                 "fiducial_volumes"}
_SCALING_KEYS = {"reference_pot", "reference_background", "reference_n_fiducial_volumes"}


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
        return SinglePhotonChannel(self.photon_energy_min_GeV, self.photon_angle_max_deg, self.mean_free_path_X0,
                                   self.max_path_m, self.efficiency_function(),
                                   tuple(self.conversion_subsystems) if self.conversion_subsystems else None)

    def key(self) -> tuple:
        """Everything that determines the channel (analyses scanned together must agree)."""
        return dataclasses.astuple(dataclasses.replace(self, base_dir=""))


def default_channel(preset=None) -> Channel:
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
            sum(d.pot for d in self.datasets
                if (mode is None or d.mode == mode) and (experiment is None or d.experiment == experiment))
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
def _analyses_dir():
    return files("dipolehnl").joinpath("analysis", "data", "analyses")


def available_analyses() -> list[str]:
    """Names of the shipped analyses.

    Returns
    -------
    list of str
        Sorted file stems of ``dipolehnl/analysis/data/analyses/*.toml``.
    """
    return sorted(e.name[:-5] for e in _analyses_dir().iterdir() if e.name.endswith(".toml"))


class _V:
    """Small validator that names the file and the key in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, msg: str) -> InputError:
        return InputError(f"{self.source}: {key}: {msg}")

    def get(self, table: dict[str, Any], key: str, where: str, typ: type | tuple[type, ...], required: bool = True, default: Any = None) -> Any:
        full = f"{where}{key}"
        if key not in table:
            if required:
                raise self.fail(full, "missing key")
            return default
        val = table[key]
        if typ in (float, (float,)):
            if isinstance(val, bool) or not isinstance(val, (int, float)):
                raise self.fail(full, f"expected a number, got {type(val).__name__} {val!r}")
            val = self.to_float(full, val)
            if not math.isfinite(val):
                raise self.fail(full, f"expected a finite number, got {val!r}")
            return val
        if typ is int:
            if isinstance(val, bool) or not isinstance(val, int):
                raise self.fail(full, f"expected an integer, got {type(val).__name__} {val!r}")
            return val
        if not isinstance(val, typ):
            names = typ.__name__ if isinstance(typ, type) else " or ".join(t.__name__ for t in typ)
            raise self.fail(full, f"expected {names}, got {type(val).__name__} {val!r}")
        return val

    def unknown(self, table: dict[str, Any], allowed: set[str], where: str) -> None:
        extra = sorted(set(table) - allowed)
        if extra:
            raise self.fail(f"{where}{extra[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def to_float(self, key: str, val: int | float) -> float:
        """A TOML number as a float (TOML integers are unbounded: too large ones are an error)."""
        try:
            return float(val)
        except OverflowError:
            raise self.fail(key, f"number out of range ({len(str(val))}-digit integer)") from None

    def number_list(self, table: dict[str, Any], key: str) -> tuple[float, ...]:
        val = table.get(key, [])
        if isinstance(val, (int, float)) and not isinstance(val, bool):
            val = [val]
        if not isinstance(val, list) or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in val):
            raise self.fail(key, f"expected a list of numbers, got {val!r}")
        return tuple(self.to_float(key, v) for v in val)


def _parse_dataset(v: _V, ds: Any, i: int, base_dir: str = "") -> DataSet:
    where = f"dataset[{i}]."
    if not isinstance(ds, dict):
        raise v.fail(f"dataset[{i}]", "expected a table ([[dataset]])")
    v.unknown(ds, _DATASET_KEYS, where)
    name = v.get(ds, "name", where, str)
    exp_ref = v.get(ds, "experiment", where, str)
    try:
        exp = load_experiment(exp_ref, base_dir or None)
    except InputError as exc:
        raise v.fail(where + "experiment", str(exc)) from None
    exp_key = exp_ref if exp_ref in available_experiments() else exp.source
    from dipolehnl.detector.fiducial import require_fiducial

    try:  # one line up front, not a failure in the middle of a scan
        require_fiducial(exp.fiducial_volumes, f"experiment {exp.name!r}", exp.source)
    except InputError as exc:
        raise v.fail(where + "experiment", str(exc)) from None
    mode = v.get(ds, "mode", where, str).lower()
    if mode not in exp.modes:
        raise v.fail(where + "mode", f"unknown beam mode {mode!r} of {exp.name} (expected one of {', '.join(exp.modes)})")
    pot = v.get(ds, "pot", where, float)
    from dipolehnl.bounds import POT_MAX

    if not 0 < pot <= POT_MAX:
        raise v.fail(where + "pot", f"must be > 0 and at most {POT_MAX:g}, got {pot}")
    tpcs_raw = v.get(ds, "fiducial_volumes", where, list)
    if not tpcs_raw or not all(isinstance(t, str) for t in tpcs_raw):
        raise v.fail(where + "fiducial_volumes", "expected a non-empty list of fiducial-volume names")
    allowed = tuple(exp.fiducial_volumes)
    for t in tpcs_raw:
        if t not in allowed:
            raise v.fail(where + "fiducial_volumes",
                         f"unknown fiducial volume {t!r} of {exp.name} (expected some of {', '.join(allowed)})")
    if len(set(tpcs_raw)) != len(tpcs_raw):
        raise v.fail(where + "fiducial_volumes", "duplicate fiducial volume")
    tpcs = tuple(tpcs_raw)
    has_b, has_scaling = "background" in ds, "background_scaling" in ds
    if has_b == has_scaling:
        raise v.fail(where + "background", "give exactly one of 'background' and 'background_scaling'")
    if has_b:
        background = v.get(ds, "background", where, float)
    else:
        sc = v.get(ds, "background_scaling", where, dict)
        w2 = where + "background_scaling."
        v.unknown(sc, _SCALING_KEYS, w2)
        ref_pot = v.get(sc, "reference_pot", w2, float)
        ref_b = v.get(sc, "reference_background", w2, float)
        ref_n = v.get(sc, "reference_n_fiducial_volumes", w2, int, required=False, default=None)
        if ref_pot <= 0:
            raise v.fail(w2 + "reference_pot", "must be > 0")
        if ref_b < 0:
            raise v.fail(w2 + "reference_background", "must be >= 0")
        if ref_n is not None and ref_n <= 0:
            raise v.fail(w2 + "reference_n_fiducial_volumes", "must be > 0")
        background = ref_b * pot / ref_pot * (len(tpcs) / ref_n if ref_n else 1.0)
    if background < 0:
        raise v.fail(where + "background", f"must be >= 0, got {background}")
    observed = v.get(ds, "observed", where, int, required=False, default=None)
    if observed is not None and not 0 <= observed < 2**53:
        raise v.fail(where + "observed", f"must be >= 0 (and < 2^53), got {observed}")
    return DataSet(name, exp_key, mode, pot, float(background), observed, tpcs)


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
    v = _V(source)
    v.unknown(doc, _TOP_KEYS, "")
    name = v.get(doc, "name", "", str)
    description = v.get(doc, "description", "", str, required=False, default="")
    statistic = v.get(doc, "statistic", "", str)
    if statistic not in STATISTICS:
        raise v.fail("statistic", f"unknown statistic {statistic!r} (expected one of {', '.join(STATISTICS)})")
    asimov_q = v.get(doc, "asimov_q", "", str, required=False, default="discovery")
    if asimov_q not in ASIMOV_Q:
        raise v.fail("asimov_q", f"unknown Asimov statistic {asimov_q!r} (expected one of {', '.join(ASIMOV_Q)})")
    one_sided = v.get(doc, "one_sided", "", bool, required=False, default=True)
    cl = v.number_list(doc, "cl")
    sigma = v.number_list(doc, "sigma")
    if not cl and not sigma:
        raise v.fail("cl", "give at least one confidence level (cl) or significance (sigma)")
    for c in cl:
        if not 0 < c < 1:
            raise v.fail("cl", f"confidence levels must be in (0, 1), got {c}")
    for z in sigma:
        if not z > 0:
            raise v.fail("sigma", f"significances must be > 0, got {z}")

    sel_doc = v.get(doc, "selection", "", dict)
    channel = v.get(sel_doc, "channel", "selection.", str, required=False, default="ee")
    if channel not in CHANNELS:
        raise v.fail("selection.channel", f"unknown channel {channel!r} (expected one of {', '.join(CHANNELS)})")
    v.unknown(sel_doc, _EE_KEYS if channel == "ee" else _PHOTON_KEYS, "selection.")
    eff = v.get(sel_doc, "efficiency", "selection.", str, required=channel == "ee", default="none")
    eff_out = v.get(sel_doc, "efficiency_outside", "selection.", str, required=False, default="hold")
    if eff_out not in OUTSIDE_CHOICES:
        raise v.fail("selection.efficiency_outside", f"expected one of {', '.join(OUTSIDE_CHOICES)}, got {eff_out!r}")
    if channel == "ee":
        cos_min = v.get(sel_doc, "cos_theta_min", "selection.", float)
        if not -1 <= cos_min <= 1:
            raise v.fail("selection.cos_theta_min", f"must be in [-1, 1], got {cos_min}")
        open_max = v.get(sel_doc, "opening_angle_max_deg", "selection.", float)
        if not 0 < open_max <= 180:
            raise v.fail("selection.opening_angle_max_deg", f"must be in (0, 180], got {open_max}")
        selection = SelectionConfig(cos_min, open_max, eff, eff_out, base_dir)
    else:
        e_min = v.get(sel_doc, "photon_energy_min_GeV", "selection.", float, required=False, default=0.0)
        if e_min < 0:
            raise v.fail("selection.photon_energy_min_GeV", f"must be >= 0, got {e_min}")
        ang = v.get(sel_doc, "photon_angle_max_deg", "selection.", float, required=False, default=180.0)
        if not 0 < ang <= 180:
            raise v.fail("selection.photon_angle_max_deg", f"must be in (0, 180], got {ang}")
        mfp = v.get(sel_doc, "mean_free_path_X0", "selection.", float, required=False, default=9.0 / 7.0)
        if not mfp > 0:
            raise v.fail("selection.mean_free_path_X0", f"must be > 0, got {mfp}")
        max_path = v.get(sel_doc, "max_path_m", "selection.", float, required=False, default=math.inf)
        if not max_path > 0:
            raise v.fail("selection.max_path_m", f"must be > 0, got {max_path}")
        subs = v.get(sel_doc, "conversion_subsystems", "selection.", list, required=False, default=None)
        if subs is not None and (not subs or not all(isinstance(x, str) and x for x in subs)):
            raise v.fail("selection.conversion_subsystems", "expected a non-empty list of subsystem names")
        selection = SelectionConfig(efficiency=eff, efficiency_outside=eff_out, base_dir=base_dir, channel="single_photon",
                                    photon_energy_min_GeV=e_min, photon_angle_max_deg=ang, mean_free_path_X0=mfp,
                                    max_path_m=max_path, conversion_subsystems=tuple(subs) if subs else None)
    try:
        selection.efficiency_function()
    except InputError as exc:
        raise v.fail("selection.efficiency", str(exc)) from None
    except OSError as exc:  # the efficiency table exists but cannot be read
        raise v.fail("selection.efficiency", f"cannot read {eff!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise v.fail("selection.efficiency", f"{eff!r} is not a text file ({exc.reason} at byte {exc.start})") from None

    ds_list = v.get(doc, "dataset", "", list)
    if not ds_list:
        raise v.fail("dataset", "at least one [[dataset]] is needed")
    datasets = tuple(_parse_dataset(v, ds, i, base_dir) for i, ds in enumerate(ds_list))
    names = [d.name for d in datasets]
    if len(set(names)) != len(names):
        raise v.fail("dataset", "data set names must be unique")
    analysis = Analysis(name, description, statistic, cl, sigma, selection, datasets, asimov_q, one_sided, source)
    try:  # every level must have a threshold (e.g. sigma = 9 is a confidence level of 1.0 in double precision)
        analysis.levels()
    except InputError as exc:
        raise v.fail("sigma" if sigma else "cl", str(exc)) from None
    return analysis


@lru_cache(maxsize=None)
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
        raise InputError(f"unknown analysis {key!r}: expected one of {', '.join(available_analyses())} or a path to a TOML file")
    from dipolehnl.io import read_user_text

    text = read_user_text(p, "analysis file")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{p}: invalid TOML: {exc}") from None
    return parse_analysis(doc, str(p), str(p.parent))
