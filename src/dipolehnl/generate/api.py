"""High-level simulation API: detector + beam + model → :class:`EventSample`, and summaries."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from dipolehnl.analysis.presets import Preset, get_preset
from dipolehnl.analysis.selection import Selection
from dipolehnl.beam.flux import MODES, load_flux
from dipolehnl.detector import Detector, load_detector
from dipolehnl.errors import InputError, check_positive
from dipolehnl.generate.generator import EventSample, GeneratorSettings, generate
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


def make_selection(preset: Preset | str = "default", efficiency: str | None = "t2k2019") -> Selection:
    """The e⁺e⁻ selection for a preset (T2K 2019 efficiency unless ``efficiency`` is None)."""
    from dipolehnl.analysis.efficiency import load_efficiency

    p = get_preset(preset)
    eff = load_efficiency(efficiency, outside=p.efficiency_outside) if efficiency else None
    return Selection(cos_theta_min=p.cos_theta_min, opening_angle_max_deg=p.opening_angle_max_deg,
                     efficiency=eff, br_ee=p.br_ee)


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
    from dipolehnl.detector.fiducial import require_fiducial

    require_fiducial(det, detector)  # one line, not a ZeroDivisionError, without fiducial volumes
    comps = flux_components(mode, flavor, p, flux_file)
    return generate(det, model, comps, make_selection(p), GeneratorSettings(n_events=n_events, seed=seed),
                    allocation_couplings=allocation_couplings)


def weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    """Median of ``x`` with non-negative weights ``w`` (nan if the weights sum to 0)."""
    if w.sum() <= 0:
        return float("nan")
    order = np.argsort(x)
    cw = np.cumsum(w[order])
    return float(x[order][np.searchsorted(cw, 0.5 * cw[-1])])


def weighted_median_columns(x: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Weighted median of ``x`` (n,) for every column of weights ``W`` (n, K); nan where a
    column sums to 0.  Sorts once."""
    order = np.argsort(x)
    cw = np.cumsum(W[order], axis=0)
    total = cw[-1]
    idx = np.array([np.searchsorted(cw[:, k], 0.5 * total[k]) for k in range(W.shape[1])])
    out = x[order][np.minimum(idx, x.size - 1)]
    return np.where(total > 0, out, np.nan)


@dataclass(frozen=True)
class RateSummary:
    """Expected events for an exposure (see :func:`rate_summary`)."""

    data: dict

    def to_json(self) -> dict:
        return self.data


def rate_summary(sample: EventSample, pot: float, coupling: float | None = None) -> RateSummary:
    """Expected selected events for ``pot`` protons on target, with the MC uncertainty, the
    production share per detector region (rock, each sub-system; exact, from the decay
    integrals), the weighted median lab-frame decay length of the selected HNLs, and the
    per-TPC cut flow: decays in the fiducial volume (all modes) → cos θ_N > cut → × BR(ee)
    → opening angle < cut → × efficiency."""
    pot = check_positive("POT", pot)
    c = sample.columns
    w = sample.weights(coupling) * pot
    fwd = w * c["pass_forward"]
    ee = fwd * sample.br_ee
    opening = ee * c["pass_opening_angle"]
    sel = opening * sample.efficiency
    total = float(sel.sum())
    rel = sample.mc_error(sel) / total if total > 0 else None  # undefined without signal (JSON null)
    basis = sel if total > 0 else w
    subsystems, frac = sample.production_fractions()
    share_w = (frac * basis[:, None]).sum(axis=0)
    share_w = share_w / share_w.sum() if share_w.sum() > 0 else share_w
    tpcs = {}
    for name in sample.fiducial_names:
        k = c["tpc"] == name
        tpcs[name] = {
            "decays_in_fiducial": float(w[k].sum()),
            "forward": float(fwd[k].sum()),
            "ee": float(ee[k].sum()),
            "opening_angle": float(opening[k].sum()),
            "selected": float(sel[k].sum()),
            "rel_mc_error": (sample.mc_error(np.where(k, sel, 0.0)) / float(sel[k].sum())) if sel[k].sum() > 0 else None,
        }
    d = sample.model.d_GeVinv if coupling is None else coupling
    lam = c["decay_length_m"] * (sample.model.d_GeVinv / d) ** 2
    data = {
        "selected_events": total,
        "rel_mc_error": rel,
        "median_decay_length_m": weighted_median(lam, basis) if basis.sum() > 0 else None,
        "production_share": {s: float(v) for s, v in zip(subsystems, share_w)},
        "tpcs": tpcs,
        "decays_in_fiducial": float(w.sum()),
        "br_ee": sample.br_ee,
        "efficiency": sample.efficiency,
        "pot": pot,
        "mass_GeV": sample.model.mass_GeV,
        "coupling_GeVinv": d,
        "convention": sample.model.convention,
        "majorana": sample.model.majorana,
        "detector": sample.detector.name,
        "flux_components": list(sample.component_names),
        "n_events": sample.n,
        "seed": sample.settings.seed,
    }
    return RateSummary(data)


def write_events_parquet(sample: EventSample, path, metadata: dict | None = None) -> None:
    """Write one row per event to Parquet atomically (schema metadata: settings as JSON)."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from dipolehnl.io import atomic_path

    table = pa.Table.from_pandas(sample.to_frame(), preserve_index=False)
    meta = {
        "mass_GeV": sample.model.mass_GeV, "coupling_GeVinv": sample.model.d_GeVinv,
        "majorana": sample.model.majorana, "convention": sample.model.convention,
        "detector": sample.detector.name, "flux_components": list(sample.component_names),
        "n_events": sample.n, "seed": sample.settings.seed, "br_ee": sample.br_ee,
        "efficiency": sample.efficiency, "weight_unit": "events per POT",
        "units": "GeV, m; four-momenta (E, px, py, pz) in GeV; beam along +z",
    }
    meta.update(metadata or {})
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"dipolehnl": json.dumps(meta).encode()})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
