"""High-level simulation API: detector + beam + model → :class:`EventSample`, and summaries."""
from __future__ import annotations

from typing import Sequence

from dipolehnl.beam.flux import MODES, load_flux
from dipolehnl.config import Preset, get_preset
from dipolehnl.detector import Detector, load_detector
from dipolehnl.errors import InputError, check_positive
from dipolehnl.generate.sample import EventSample
from dipolehnl.generate.sampling import GeneratorSettings, generate
from dipolehnl.physics.model import HNLModel

FLAVOR_CHOICES = ("numu", "numubar", "both")


def flux_components(mode: str, flavor: str = "both", preset: Preset | str | None = None,
                    flux_file: str | None = None) -> dict:
    """Flux components ``{"fhc:numu": FluxComponent, ...}`` for a beam mode.

    ``flavor``: "numu", "numubar" or "both"; "both" with a preset means the preset's
    flavours for that mode (``paper``: ν_μ in FHC, ν̄_μ in RHC).  ``flux_file``: a table in
    the T2K release format (validated) used instead of the shipped flux of that mode.
    """
    from dipolehnl.beam.flux import read_flux_table

    mode = mode.lower()
    if mode not in MODES:
        raise InputError(f"unknown beam mode {mode!r}; choose one of {', '.join(MODES)}")
    if flavor not in FLAVOR_CHOICES:
        raise InputError(f"unknown flavor {flavor!r}; choose one of {', '.join(FLAVOR_CHOICES)}")
    flux = read_flux_table(flux_file, mode) if flux_file else load_flux(mode)
    if flavor == "both":
        flavors = get_preset(preset).flavors_for(mode) if preset is not None else ("numu", "numubar")
    else:
        flavors = (flavor,)
    return {f"{mode}:{f}": flux.component(f) for f in flavors}


def resolve_detector(detector: str | Detector, preset: Preset | str = "default",
                     tpc_gas_density_g_cm3: float | None = None) -> Detector:
    """Load a detector by name/path, applying the preset's (or an explicit) TPC gas density."""
    p = get_preset(preset)
    gas = tpc_gas_density_g_cm3 if tpc_gas_density_g_cm3 is not None else p.tpc_gas_density_g_cm3
    if isinstance(detector, Detector):
        return detector.with_tpc_gas_density(gas) if gas is not None else detector
    return load_detector(detector, tpc_gas_density_g_cm3=gas)


def simulate(
    detector: str | Detector,
    mass_GeV: float,
    coupling_GeVinv: float,
    mode: str = "fhc",
    flavor: str = "both",
    n_events: int = 20000,
    seed: int = 12345,
    preset: Preset | str = "default",
    majorana: bool = False,
    tpc_gas_density_g_cm3: float | None = None,
    allocation_couplings: Sequence[float] | None = None,
    flux_file: str | None = None,
) -> EventSample:
    """Generate weighted HNL decays in the TPC fiducial volumes of ``detector``.

    Masses in GeV, coupling in GeV⁻¹.  Weights are events per POT (see ``EventSample``).
    """
    p = get_preset(preset)
    model = HNLModel(mass_GeV, coupling_GeVinv, majorana=majorana, convention=p.convention)
    det = resolve_detector(detector, p, tpc_gas_density_g_cm3)
    comps = flux_components(mode, flavor, p, flux_file)
    return generate(det, model, comps, GeneratorSettings(n_events=n_events, seed=seed),
                    allocation_couplings=allocation_couplings)




def write_events_parquet(sample: EventSample, path, metadata: dict | None = None,
                         extra_columns: dict | None = None) -> None:
    """Write one row per event to Parquet atomically (schema metadata: settings as JSON).

    ``extra_columns``: per-event columns added to the sample's (e.g. a channel's cut flags
    and ``weight_selected``, see ``dipolehnl.workflows.simulate_events``).
    """
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from dipolehnl.io import atomic_path

    table = pa.Table.from_pandas(sample.to_frame(extra=extra_columns), preserve_index=False)
    meta = {
        "mass_GeV": sample.model.mass_GeV, "coupling_GeVinv": sample.model.d_GeVinv,
        "majorana": sample.model.majorana, "convention": sample.model.convention.name,
        "detector": sample.detector.name, "flux_components": list(sample.component_names),
        "n_events": sample.n, "seed": sample.settings.seed, "weight_unit": "events per POT",
        "units": "GeV, m; four-momenta (E, px, py, pz) in GeV; beam along +z",
    }
    meta.update(metadata or {})
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"dipolehnl": json.dumps(meta).encode()})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
