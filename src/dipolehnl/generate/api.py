"""High-level simulation API: experiment (beam, detector, fiducial volumes) + model → :class:`EventSample`,
and summaries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dipolehnl.config import COUPLING_FLAVORS, Preset, get_preset
from dipolehnl.detector import Detector, load_detector
from dipolehnl.errors import InputError
from dipolehnl.generate.sample import EventSample
from dipolehnl.generate.sampling import GeneratorSettings, generate
from dipolehnl.physics.model import HNLModel

if TYPE_CHECKING:
    from dipolehnl.beam.flux import FluxComponent
    from dipolehnl.experiment import Experiment

#: ``flavor`` choices of :func:`simulate`: one neutrino flavour, or "both" (ν_α and ν̄_α of
#: every coupled flavour α, as the preset selects them).
FLAVOR_CHOICES = ("numu", "numubar", "nue", "nuebar", "nutau", "nutaubar", "both")


def flux_components(
    experiment: str | Experiment,
    mode: str,
    flavor: str = "both",
    preset: Preset | str | None = None,
    flux_file: str | None = None,
    coupling_flavors: Sequence[str] = ("mu",),
) -> dict[str, FluxComponent]:
    """Flux components of one beam mode of an experiment.

    Parameters
    ----------
    experiment : str or Experiment
        A shipped experiment name, an experiment file, or a loaded experiment.
    mode : str
        Beam mode (e.g. ``"fhc"``).
    flavor : str
        One neutrino flavour (:data:`FLAVOR_CHOICES`), or ``"both"``: ν_α and ν̄_α for
        every coupled flavour α (``coupling_flavors``), as the preset selects them
        (``paper``: only the mode's dominant one, ν_μ in FHC and ν̄_μ in RHC).
    preset : Preset or str, optional
        Physics preset (default ``"default"``).
    flux_file : str, optional
        A table in the T2K release format (validated) used instead of the experiment's
        flux of that mode.
    coupling_flavors : sequence of str
        The model's coupled flavours (``"e"``, ``"mu"``, ``"tau"``).

    Returns
    -------
    dict of str to FluxComponent
        ``{"fhc:numu": FluxComponent, ...}`` (neutrinos per cm² per GeV per POT).

    Raises
    ------
    InputError
        For an unknown experiment, mode or flavour, an invalid flux file, or a flavour the
        experiment has no flux for.
    """
    from dipolehnl.beam.flux import read_flux_table

    exp = resolve_experiment(experiment)
    mode = exp.check_mode(mode)
    if flavor not in FLAVOR_CHOICES:
        raise InputError(f"unknown flavor {flavor!r}; choose one of {', '.join(FLAVOR_CHOICES)}")
    if flux_file:
        table = read_flux_table(flux_file, mode)
        fluxes = dict(table.components)
    else:
        fluxes = exp.fluxes[mode]
    if flavor == "both":
        flavors = get_preset(preset or "default").flavors_for(fluxes, coupling_flavors)
        wanted = [f for a in coupling_flavors for f in COUPLING_FLAVORS[a]]
    else:
        flavors = (flavor,)
        wanted = [flavor]
    missing = [f for f in wanted if f not in fluxes] if not flavors else [f for f in flavors if f not in fluxes]
    if missing or not flavors:
        raise InputError(
            f"experiment {exp.name!r}, mode {mode}: no flux for {', '.join(missing)} (has {', '.join(fluxes)})"
        )
    return {f"{mode}:{f}": fluxes[f] for f in flavors}


def resolve_experiment(experiment: str | Experiment) -> Experiment:
    """An experiment from a shipped name or a file path (or the experiment itself).

    Parameters
    ----------
    experiment : str or Experiment
        A shipped name, an experiment ``.toml`` file, or a loaded experiment.

    Returns
    -------
    Experiment
        The loaded :class:`~dipolehnl.experiment.Experiment`.

    Raises
    ------
    InputError
        For an unknown name or an invalid file.
    """
    from dipolehnl.experiment import Experiment, load_experiment

    return experiment if isinstance(experiment, Experiment) else load_experiment(experiment)


def resolve_detector(
    experiment: str | Experiment,
    preset: Preset | str = "default",
    detector: str | Detector | None = None,
    material_densities_g_cm3: Mapping[str, float] | None = None,
) -> Detector:
    """The detector of a simulation, with the preset's material densities.

    Parameters
    ----------
    experiment : str or Experiment
        The experiment whose detector is used unless ``detector`` is given.
    preset : Preset or str
        Physics preset; its material densities are applied.
    detector : str, Path or Detector, optional
        A detector (shipped name, file or object) used instead of the experiment's.
    material_densities_g_cm3 : mapping of str to float, optional
        Material → density (g/cm³), overriding the preset's.

    Returns
    -------
    Detector
        The detector with the densities applied.

    Raises
    ------
    InputError
        For an unknown experiment, detector, preset or material, or an invalid density.
    """
    p = get_preset(preset)
    dens = {**p.material_densities_g_cm3, **dict(material_densities_g_cm3 or {})}
    if detector is None:
        det = resolve_experiment(experiment).detector
    else:
        det = detector if isinstance(detector, Detector) else load_detector(detector)
    return det.with_material_densities(dens) if dens else det


def simulate(
    experiment: str | Experiment,
    mass_GeV: float,
    coupling_GeVinv: float,
    mode: str = "fhc",
    flavor: str = "both",
    n_events: int = 20000,
    seed: int = 12345,
    preset: Preset | str = "default",
    majorana: bool = False,
    material_densities_g_cm3: Mapping[str, float] | None = None,
    allocation_couplings: Sequence[float] | None = None,
    flux_file: str | None = None,
    coupling_flavor: str = "mu",
    detector: str | Detector | None = None,
    fiducial_volumes: Sequence[str] | None = None,
) -> EventSample:
    """Generate weighted HNL decays in the fiducial volumes of an experiment.

    Parameters
    ----------
    experiment : str or Experiment
        A shipped experiment name (``dipolehnl experiments``), an experiment TOML file, or
        a loaded :class:`~dipolehnl.experiment.Experiment`.
    mass_GeV : float
        HNL mass m_N in GeV.
    coupling_GeVinv : float
        Dipole coupling d_α in GeV⁻¹, α = ``coupling_flavor``.
    mode : str
        Beam mode of the experiment (default ``"fhc"``).
    flavor : str
        Flux components: one neutrino flavour or ``"both"`` (see :func:`flux_components`).
    n_events : int
        Number of weighted events (≥ 10).
    seed : int
        Seed of the random generator: the same seed gives an identical sample.
    preset : Preset or str
        Physics preset (``"default"`` or ``"paper"``): convention, densities, flavours.
    majorana : bool
        Majorana (True) or Dirac (False) HNL.
    material_densities_g_cm3 : mapping of str to float, optional
        Material → density (g/cm³) overrides.
    allocation_couplings : sequence of float, optional
        Couplings (GeV⁻¹) the stratified allocation optimises for (default: the model's).
    flux_file : str, optional
        Flux table (T2K release format) used instead of the experiment's.
    coupling_flavor : {"e", "mu", "tau"}
        The neutrino flavour the HNL couples to.
    detector : str or Detector, optional
        Use this detector instead of the experiment's (then its own fiducial volumes, if
        it has any).
    fiducial_volumes : sequence of str, optional
        Fiducial volumes to simulate (default: all).

    Returns
    -------
    EventSample
        Weighted events; weights are events per POT (:class:`~dipolehnl.generate.sample.EventSample`),
        exactly reweightable in the coupling.

    Raises
    ------
    InputError
        For an invalid mass, coupling, preset, flavour, mode, detector, fiducial volume,
        event count or flux file.

    Examples
    --------
    >>> import dipolehnl as dh
    >>> sample = dh.simulate("t2k-nd280", 0.3, 1e-6, n_events=2000, seed=1)  # doctest: +SKIP
    """
    p = get_preset(preset)
    exp = resolve_experiment(experiment)
    model = HNLModel.for_flavor(mass_GeV, coupling_GeVinv, coupling_flavor, majorana=majorana, convention=p.convention)
    det = resolve_detector(exp, p, detector, material_densities_g_cm3)
    beamline = None
    if p.beamline is not None and any(v.subsystem == "rock" for v in det.volumes):
        from dipolehnl.beam.beamline import for_preset

        det, beamline = for_preset(p, exp, det)  # the preset's earth and flux fall-off
    fvs = dict(det.fiducial_volumes) if (detector is not None and det.fiducial_volumes) else dict(exp.fiducial_volumes)
    if fiducial_volumes:
        missing = [n for n in fiducial_volumes if n not in fvs]
        if missing:
            raise InputError(f"unknown fiducial volume {missing[0]!r} (have {', '.join(fvs)})")
        fvs = {n: fvs[n] for n in fiducial_volumes}
    from dipolehnl.detector.fiducial import require_fiducial

    require_fiducial(
        fvs,
        f"detector {det.name!r}" if detector is not None else f"experiment {exp.name!r}",
        detector if detector is not None else exp.source,
    )  # one line, not a ZeroDivisionError
    comps = flux_components(exp, mode, flavor, p, flux_file, model.coupling_flavors)
    settings = GeneratorSettings(n_events=n_events, seed=seed, nuclear=p.nuclear, beamline=beamline)
    return generate(det, model, comps, settings, fiducial=fvs, allocation_couplings=allocation_couplings)


def write_events_parquet(
    sample: EventSample,
    path: str | Path,
    metadata: dict[str, Any] | None = None,
    extra_columns: dict[str, Any] | None = None,
) -> None:
    """Write one row per event to Parquet, atomically (docs/events.md).

    Parameters
    ----------
    sample : EventSample
        The events.
    path : str or Path
        Output file.
    metadata : dict, optional
        Extra entries of the JSON schema metadata (key ``dipolehnl``), which holds the
        model, detector, seed and units.
    extra_columns : dict, optional
        Per-event columns added to the sample's (e.g. a channel's cut flags and
        ``weight_selected``).

    Raises
    ------
    OSError
        If the file cannot be written (no partial file is left behind).
    """
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from dipolehnl.io import atomic_path

    table = pa.Table.from_pandas(sample.to_frame(extra=extra_columns), preserve_index=False)
    meta = {
        "mass_GeV": sample.model.mass_GeV,
        "coupling_GeVinv": sample.model.d_GeVinv,
        "majorana": sample.model.majorana,
        "convention": sample.model.convention.name,
        "detector": sample.detector.name,
        "flux_components": list(sample.component_names),
        "n_events": sample.n,
        "seed": sample.settings.seed,
        "weight_unit": "events per POT",
        "units": "GeV, m; four-momenta (E, px, py, pz) in GeV; beam along +z",
    }
    meta.update(metadata or {})
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"dipolehnl": json.dumps(meta).encode()})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
