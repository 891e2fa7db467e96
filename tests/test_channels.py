"""Signal channels: the single-photon channel's conversion probability and radiation
lengths against closed forms and published values; the ee channel's cut flow."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dipolehnl.analysis.analyses import default_channel
from dipolehnl.analysis.channels import Channel, EeChannel, SinglePhotonChannel
from dipolehnl.beam.flux import FluxComponent
from dipolehnl.detector import Box, Detector, Material, Volume
from dipolehnl.generate.sampling import GeneratorSettings, generate
from dipolehnl.physics import decays
from dipolehnl.physics.model import HNLModel


@pytest.mark.parametrize(
    "name,components,x0_pdg",
    [
        # PDG "Atomic and nuclear properties of materials": X0 in g/cm^2
        ("argon", [[1000180400, 1.0]], 19.55),
        ("iron", [[1000260560, 1.0]], 13.84),
        ("lead", [[1000822080, 1.0]], 6.37),
        ("water", [[1000010010, 0.111894], [1000080160, 0.888106]], 36.08),
        ("carbon", [[1000060120, 1.0]], 42.70),
    ],
)
def test_radiation_length_against_pdg(name, components, x0_pdg):
    assert Material.from_components(name, components).radiation_length_g_cm2 == pytest.approx(x0_pdg, rel=0.03)


@pytest.fixture(scope="module")
def slab_sample():
    """Decays in a 2 m long iron-free world: a gas box with an iron slab 0.5 m behind it."""
    gas = Material.from_components("GAS", [[1000180400, 1.0]])
    iron = Material.from_components("FE", [[1000260560, 1.0]])
    det = Detector(
        "slab",
        [
            Volume("world", Box((0, 0, 0), (40, 40, 40)), gas, 0.0, "void"),
            Volume("target", Box((0, 0, -5), (4, 4, 2)), iron, 7.874, "target"),
            Volume("gas", Box((0, 0, 0), (4, 4, 1)), gas, 0.001662, "tpc"),
            Volume("slab", Box((0, 0, 1.0), (4, 4, 0.02)), iron, 7.874, "slab"),
        ],
    )
    flux = FluxComponent(np.array([0.5, 3.0]), np.array([1e-9]), flavor="numu", mode="nu")
    model = HNLModel(0.2, 1e-6)
    return generate(
        det,
        model,
        {"nu:numu": flux},
        GeneratorSettings(n_events=500, seed=3),
        fiducial={"fv": Box((0, 0, 0), (1, 1, 0.5))},
    )


def test_conversion_probability_closed_form(slab_sample):
    """Forward photons cross the 2 cm iron slab (and ~0.7 m of argon gas): P = 1 − exp(−7/9 t/X0)."""
    ch = SinglePhotonChannel(mean_free_path_X0=9 / 7)
    p = ch.conversion_probability(slab_sample)
    c = slab_sample.columns
    x = c["decay_vertex_m"]
    u = c["p_gamma"][:, 1:] / np.linalg.norm(c["p_gamma"][:, 1:], axis=1)[:, None]
    fe_x0 = Material.from_components("FE", [[1000260560, 1.0]]).radiation_length_g_cm2
    ar_x0 = Material.from_components("GAS", [[1000180400, 1.0]]).radiation_length_g_cm2
    fwd = u[:, 2] > 0.999  # along the axis: path lengths by hand
    assert fwd.sum() > 10
    gas_len_cm = (0.5 - x[fwd, 2]) / u[fwd, 2] * 100
    slab_cm = 2.0 / u[fwd, 2]
    t = 7.874 * slab_cm / fe_x0 + 0.001662 * gas_len_cm / ar_x0
    np.testing.assert_allclose(p[fwd], -np.expm1(-t * 7 / 9), rtol=1e-9)
    assert np.all((p >= 0) & (p <= 1))


def test_single_photon_factor_and_cut_flow(slab_sample):
    ch = SinglePhotonChannel(photon_energy_min_GeV=0.1, photon_angle_max_deg=10.0)
    assert isinstance(ch, Channel)
    stages = ch.cut_flow(slab_sample)
    assert [s for s, _ in stages] == ["photon_cuts", "nu_gamma", "converted", "selected"]
    br = decays.gamma_nu_gamma(slab_sample.model) / decays.gamma_total(slab_sample.model)
    E = slab_sample.columns["p_gamma"][:, 0]
    np.testing.assert_allclose(stages[1][1], br * stages[0][1])
    assert np.all(stages[0][1][E <= 0.1] == 0)
    np.testing.assert_array_equal(ch.selection_factor(slab_sample), stages[-1][1])


def test_ee_channel_is_the_default_selection(slab_sample):
    ch = default_channel()
    assert isinstance(ch, EeChannel) and isinstance(ch, Channel)
    f = ch.flags(slab_sample)
    want = decays.br_ee(slab_sample.model) * f["pass_forward"] * f["pass_opening_angle"] * ch.efficiency_at(0.2)
    np.testing.assert_array_equal(ch.selection_factor(slab_sample), want)
    assert ch.efficiency_at(0.2) == pytest.approx(float(ch.efficiency(0.2)))
    assert math.isclose(ch.cos_opening_min, 0.0, abs_tol=1e-15)


def test_conversion_only_in_chosen_subsystems(slab_sample):
    """Counting only the iron slab: t = ρ ℓ / X0(Fe) along forward photons."""
    p = SinglePhotonChannel(conversion_subsystems=("slab",)).conversion_probability(slab_sample)
    c = slab_sample.columns
    u = c["p_gamma"][:, 1:] / np.linalg.norm(c["p_gamma"][:, 1:], axis=1)[:, None]
    fwd = u[:, 2] > 0.999
    fe_x0 = Material.from_components("FE", [[1000260560, 1.0]]).radiation_length_g_cm2
    np.testing.assert_allclose(p[fwd], -np.expm1(-7.874 * 2.0 / u[fwd, 2] / fe_x0 * 7 / 9), rtol=1e-9)
    none = SinglePhotonChannel(conversion_subsystems=("nothing",)).conversion_probability(slab_sample)
    assert np.all(none == 0)
