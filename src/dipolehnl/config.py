"""Presets (``dipolehnl.config``): every choice that distinguishes our best physics from the paper's, in one place.

``default``
    convention ``consistent`` (widths from the production Lagrangian, both HNL helicities),
    BR(N→νe⁺e⁻) = Γ_ee/Γ_total, all four flux components (ν_μ and ν̄_μ in both beam modes),
    the physical TPC gas density of the shipped detector models (0.001855 g/cm³), the
    exclusion-type Asimov statistic q = 2[s − b ln(1 + s/b)] for sensitivities, the
    recommended nuclear physics (``nuclear.RECOMMENDED``: spin-0 coherent current, Pauli
    blocking, elastic scattering on neutrons) and the beamline model (``beam.beamline``:
    earth from the muon pit on, laterally wide, flux falling off from the decay volume).
``paper``
    the choices of arXiv:2412.15051 as its text and public analysis code document them:
    convention ``darknews``, the paper-code closed form for BR(ee), only the dominant flux
    component of each beam mode (FHC ν_μ and RHC ν̄_μ), density 1.855 g/cm³ for the
    material ``GAS`` (the TPC gas) in both detectors (SIREN's upgrade-file defect;
    see the reference README for why the ND280 results used it too), and the Asimov
    statistic as printed, 2[(s + b) ln(1 + s/b) − s], DarkNews's nuclear treatment
    (``nuclear.DARKNEWS``) and SIREN's rock box with the detector's flux everywhere.
Both use cos θ_N > 0.992, opening angle < 90°, and the T2K 2019 efficiency held at its end
values outside 150–475 MeV.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from dipolehnl.errors import InputError
from dipolehnl.physics.model import Convention, check_convention
from dipolehnl.physics.nuclear import DARKNEWS, RECOMMENDED, NuclearOptions

if TYPE_CHECKING:
    from dipolehnl.beam.flux import FluxComponent

PAPER_GAS_DENSITY_G_CM3 = 1.855
FLUX_COMPONENT_CHOICES: tuple[str, ...] = ("all", "dominant")
#: Coupling flavour α of d_α → the neutrino flavours it upscatters (ν_α, ν̄_α).
COUPLING_FLAVORS: dict[str, tuple[str, str]] = {
    "e": ("nue", "nuebar"),
    "mu": ("numu", "numubar"),
    "tau": ("nutau", "nutaubar"),
}


@dataclass(frozen=True)
class Preset:
    """A set of physics and analysis choices (see module docstring)."""

    name: str
    convention: Convention = "consistent"  # type: ignore[assignment]  # a name is converted
    br_ee: str = "model"  # "model" | "paper-code"
    #: material name → density (g/cm³) set in every volume of that material (empty: the
    #: detector model's own densities)
    material_densities_g_cm3: Mapping[str, float] = field(default_factory=dict)
    #: flux components used in every beam mode, for the coupled flavour α: "all" (ν_α and ν̄_α)
    #: or "dominant" (only the one with the larger integrated flux in that mode)
    flux_components: str = "all"
    asimov_q: str = "exclusion"  # "exclusion" | "discovery"
    cos_theta_min: float = 0.992
    opening_angle_max_deg: float = 90.0
    efficiency_outside: str = "hold"
    #: nuclear-physics options of the upscattering cross sections (physics/nuclear.py)
    nuclear: NuclearOptions = RECOMMENDED
    #: beamline model (beam/beamline.py): None = the detector file's rock and the detector's
    #: flux everywhere (SIREN); a mapping = ``Beamline`` fields changed from the experiment's
    #: beamline ({} = as documented in docs/physics.md)
    beamline: Mapping[str, object] | None = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "convention", check_convention(self.convention))
        object.__setattr__(self, "material_densities_g_cm3", dict(self.material_densities_g_cm3))
        if not isinstance(self.nuclear, NuclearOptions):
            raise InputError(f"nuclear must be a NuclearOptions, got {self.nuclear!r}")
        if self.beamline is not None:
            object.__setattr__(self, "beamline", dict(self.beamline))
        if self.flux_components not in FLUX_COMPONENT_CHOICES:
            raise InputError(
                f"flux_components must be one of {', '.join(FLUX_COMPONENT_CHOICES)}, got {self.flux_components!r}"
            )

    def flavors_for(
        self, fluxes: Mapping[str, FluxComponent], coupling_flavors: Sequence[str] = ("mu",)
    ) -> tuple[str, ...]:
        """Flux flavours used in one beam mode: for every coupled flavour α (``"e"``, ``"mu"``,
        ``"tau"``), ν_α and ν̄_α that the mode has (``fluxes``: flavour → flux), or only the
        one with the larger integrated flux (``flux_components = "dominant"``)."""
        out: list[str] = []
        for a in coupling_flavors:
            pair = [f for f in COUPLING_FLAVORS[a] if f in fluxes]
            if self.flux_components == "dominant" and pair:
                pair = [max(pair, key=lambda f: fluxes[f].integral())]
            out += pair
        return tuple(out)

    def with_(self, **changes) -> Preset:
        """A copy with some choices changed (used to measure each single difference)."""
        return replace(self, **changes)


PRESETS: dict[str, Preset] = {
    "default": Preset("default"),
    "paper": Preset(
        "paper",
        convention=check_convention("darknews"),
        br_ee="paper-code",
        material_densities_g_cm3={"GAS": PAPER_GAS_DENSITY_G_CM3},
        flux_components="dominant",
        asimov_q="discovery",
        nuclear=DARKNEWS,
        beamline=None,
    ),
}


def get_preset(name: str | Preset) -> Preset:
    """Look up a preset by name."""
    if isinstance(name, Preset):
        return name
    try:
        return PRESETS[name]
    except KeyError:
        raise InputError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None


def single_differences() -> dict[str, Preset]:
    """``default`` with one ``paper`` choice switched on at a time (for the report)."""
    d, p = PRESETS["default"], PRESETS["paper"]
    return {
        "convention=darknews": d.with_(name="default+darknews", convention=p.convention),
        "br_ee=paper-code": d.with_(name="default+paper-BR", br_ee=p.br_ee),
        "flux=numu(FHC)+numubar(RHC)": d.with_(name="default+paper-flux", flux_components=p.flux_components),
        "gas=1.855 g/cm3": d.with_(name="default+dense-gas", material_densities_g_cm3=p.material_densities_g_cm3),
        "asimov=discovery": d.with_(name="default+discovery-q", asimov_q=p.asimov_q),
    }
