"""Nuclear options in the generator's channels (generate/sampling.py ``_channels``): the
per-nucleus p-el and n-el channels carry exactly the scattering rate of every nucleus."""

from __future__ import annotations

import numpy as np
import pytest

from dipolehnl.detector.geometry import Detector, Volume
from dipolehnl.detector.materials import Material
from dipolehnl.detector.shapes import Box
from dipolehnl.errors import InputError
from dipolehnl.generate.sampling import _channels
from dipolehnl.physics import nuclear, xsec
from dipolehnl.physics.model import HNLModel
from dipolehnl.physics.nuclei import HYDROGEN_PDG, nucleus

H1, C12, O16, FE56, PB206, PB208 = HYDROGEN_PDG, 1000060120, 1000080160, 1000260560, 1000822060, 1000822080
E = np.array([0.5, 1.0, 3.0])
MODEL = HNLModel(0.1, 1e-6)


def toy() -> Detector:
    scint = Material.from_components("SCINT", [[C12, 0.9], [H1, 0.1]])
    rock = Material.from_components("ROCK", [[O16, 0.6], [FE56, 0.4]])
    lead = Material.from_components("LEAD", [[PB206, 0.3], [PB208, 0.7]])
    return Detector(
        "toy",
        [
            Volume("rock", Box([0, 0, -5], [4, 4, 4]), rock, 2.5, "rock"),
            Volume("scint", Box([0, 0, 0], [2, 2, 2]), scint, 1.0, "P0D"),
            Volume("lead", Box([0, 0, 3], [2, 2, 1]), lead, 11.0, "P0D"),
        ],
    )


def _rate(chs, regime):
    """Σ_channels n_c σ_c(E) per volume, (V, len(E)) in cm⁻¹."""
    out = 0.0
    for c in chs:
        if c.xs.regime == regime:
            out = out + c.density_column[:, None] * xsec.total_xsec_cm2(c.xs, MODEL, E)[None, :]
    return out


def _direct(det, regime, options):
    """Σ_A n_A σ_A(E) with every nucleus's own channel."""
    dens = det.number_density_matrix_cm3()
    out = 0.0
    for k, p in enumerate(det.nuclei_pdg):
        for c in xsec.channels(int(p), options):
            if c.regime == regime:
                out = out + dens[:, k, None] * xsec.total_xsec_cm2(c, MODEL, E)[None, :]
    return out


def test_darknews_channels_are_coherent_per_nucleus_and_one_free_proton_channel():
    det = toy()
    chs = _channels(det, MODEL, 10.0, nuclear.DARKNEWS)
    labels = [c.label for c in chs]
    assert labels[-1] == "proton:p-el" and sum(":p-el" in lab for lab in labels) == 1
    assert not any("n-el" in lab for lab in labels)
    dens = det.number_density_matrix_cm3()
    n_p = sum(nucleus(int(p)).Z * dens[:, k] for k, p in enumerate(det.nuclei_pdg))
    np.testing.assert_allclose(chs[-1].density_column, n_p)
    assert {c.target_pdg for c in chs[:-1]} == {int(p) for p in det.nuclei_pdg if p != H1}


@pytest.mark.parametrize(
    "options",
    [nuclear.NuclearOptions(neutron_elastic=True), nuclear.NuclearOptions(pauli_blocking=True), nuclear.RECOMMENDED],
)
def test_per_nucleus_channels_reproduce_every_nucleus(options):
    det = toy()
    chs = _channels(det, MODEL, 10.0, options)
    for regime in ("p-el", "n-el") if options.neutron_elastic else ("p-el",):
        np.testing.assert_allclose(_rate(chs, regime), _direct(det, regime, options), rtol=1e-12)
    assert ("n-el" in {c.xs.regime for c in chs}) == options.neutron_elastic
    np.testing.assert_allclose(_rate(chs, "coherent"), _direct(det, "coherent", options), rtol=1e-12)
    pel = [c for c in chs if c.xs.regime == "p-el"]
    if options.pauli_blocking:
        # Pb206 and Pb208 share k_F (Moniz table constant above A = 181): one p-el channel for
        # both; H1 (free), C12, O16, Fe56 one each
        assert sorted(c.xs.nucleus.name for c in pel) == ["C12", "Fe56", "H1", "O16", "Pb206"]
    else:  # unblocked protons are the same everywhere: one channel
        assert len(pel) == 1


def test_unblocked_protons_in_nuclei_scatter_as_free_protons():
    """Without Pauli blocking, Σ_A Z_A n_A σ_free-p equals the per-nucleus p-el channels."""
    det = toy()
    chs = _channels(det, MODEL, 10.0, nuclear.NuclearOptions(neutron_elastic=True))
    free = xsec.total_xsec_cm2(xsec.channel(H1, "p-el"), MODEL, E)
    dens = det.number_density_matrix_cm3()
    n_p = sum(nucleus(int(p)).Z * dens[:, k] for k, p in enumerate(det.nuclei_pdg))
    np.testing.assert_allclose(_rate(chs, "p-el"), n_p[:, None] * free[None, :], rtol=1e-10)


@pytest.mark.parametrize("spin", ["half", "zero"])
def test_fermi_form_factor_option_scales_the_coherent_cross_section_by_the_form_factor_ratio(spin):
    from dipolehnl.physics.form_factors import nuclear_form_factor, symmetrized_fermi_form_factor

    Q2 = np.array([1e-4, 3e-3, 2e-2])
    for pdg in (O16, PB208):
        nuc = nucleus(pdg)
        fb = xsec.channel(pdg, "coherent", nuclear.NuclearOptions(nucleus_spin=spin))
        fe = xsec.channel(pdg, "coherent", nuclear.NuclearOptions(nucleus_spin=spin, form_factor="fermi"))
        ratio = xsec.dsigma_dQ2_cm2(fe, MODEL, 1.0, Q2) / xsec.dsigma_dQ2_cm2(fb, MODEL, 1.0, Q2)
        expect = (symmetrized_fermi_form_factor(Q2, nuc.A) / nuclear_form_factor(nuc)(Q2)) ** 2
        np.testing.assert_allclose(ratio, expect, rtol=1e-10)
    with pytest.raises(InputError):
        nuclear.NuclearOptions(form_factor="gauss")


def test_k_F_classes_change_the_blocked_rate_by_less_than_the_k_F_uncertainty():
    """N14 (k_F 223 MeV) and O16 (226 MeV) share a class: O16 is blocked with N14's k_F.
    The summed p-el and n-el rates move by < 1% (k_F is known to ±5 MeV)."""
    air = Material.from_components("AIR", [[1000070140, 0.76], [O16, 0.24]])
    det = Detector("air", [Volume("air", Box([0, 0, 0], [2, 2, 2]), air, 1.2e-3, "hall")])
    chs = _channels(det, MODEL, 10.0, nuclear.RECOMMENDED)
    assert sum(c.xs.regime == "p-el" for c in chs) == 1
    for regime in ("p-el", "n-el"):
        np.testing.assert_allclose(_rate(chs, regime), _direct(det, regime, nuclear.RECOMMENDED), rtol=1e-2)
