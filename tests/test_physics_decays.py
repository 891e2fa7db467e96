"""Decay widths: closed forms, the PHYSICS.md table (DarkNews 0.4.8 numbers), live DarkNews."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from dipolehnl.constants import ALPHA_EM, M_E_GEV, M_MU_GEV
from dipolehnl.errors import InputError
from dipolehnl.physics import decays
from dipolehnl.physics.model import HNLModel

from .conftest import darknews_model

# PHYSICS.md §2 table, mu_tr = 1e-6 (d = 5e-7): (type, m, Γ_γ, Γ_ee, BR consistent, BR paper-code)
TABLE = [
    ("dirac", 0.02, 7.9577e-20, 1.3371e-22, 3.3492e-03, 4.4131e-03),
    ("dirac", 0.05, 1.2434e-18, 2.9690e-21, 4.7528e-03, 5.8147e-03),
    ("dirac", 0.1, 9.9472e-18, 2.9087e-20, 5.8144e-03, 6.8741e-03),
    ("dirac", 0.2, 7.9577e-17, 2.7540e-19, 6.8740e-03, 7.9315e-03),
    ("dirac", 0.5, 1.2434e-15, 5.1853e-18, 8.2715e-03, 9.3260e-03),
    ("dirac", 1.0, 9.9472e-15, 4.6821e-17, 9.3260e-03, 1.0378e-02),
    ("majorana", 0.02, 1.5915e-19, 1.3371e-22, 3.3492e-03, 4.4131e-03),
    ("majorana", 0.2, 1.5915e-16, 2.7540e-19, 6.8740e-03, 7.9315e-03),
    ("majorana", 1.0, 1.9894e-14, 4.6821e-17, 9.3260e-03, 1.0378e-02),
]


@pytest.mark.parametrize("kind,m,g_gamma,g_ee,br_cons,br_paper", TABLE)
def test_physics_md_table(kind, m, g_gamma, g_ee, br_cons, br_paper):
    dn = HNLModel(m, 5e-7, majorana=(kind == "majorana"), convention="darknews")
    assert decays.gamma_nu_gamma(dn) == pytest.approx(g_gamma, rel=1e-4)
    assert decays.gamma_nu_ee(dn) == pytest.approx(g_ee, rel=1e-4)
    assert decays.br_ee(dn) == pytest.approx(g_ee / (g_gamma + g_ee), rel=1e-4)
    # consistent: BR = x/(1+x), x = alpha I / 3 pi (no mu mu channel below 2 m_mu)
    cons = HNLModel(m, 5e-7, majorana=(kind == "majorana"), convention="consistent")
    if m < 2 * M_MU_GEV:
        assert decays.br_ee(cons) == pytest.approx(br_cons, rel=1e-4)
    assert decays.br_ee_paper_code(m) == pytest.approx(br_paper, rel=1e-3)


def test_consistent_normalisation_is_the_literature_value():
    # Gamma = d^2 m^3/(4 pi) (Magill, Plestid, Pospelov, Tsai 2018) for a Dirac HNL
    m, d = 0.3, 2e-7
    cons = HNLModel(m, d)
    assert decays.gamma_nu_gamma(cons) == pytest.approx(d * d * m**3 / (4 * math.pi), rel=1e-14)
    assert decays.gamma_nu_gamma(HNLModel(m, d, majorana=True)) == pytest.approx(2 * decays.gamma_nu_gamma(cons))
    # PHYSICS.md §5: consistent = DarkNews x2 (gamma) and x4 (ee, Dirac) / x8 (ee, Majorana)
    dn = HNLModel(m, d, convention="darknews")
    assert decays.gamma_nu_gamma(cons) == pytest.approx(2 * decays.gamma_nu_gamma(dn))
    assert decays.gamma_nu_ee(cons) == pytest.approx(4 * decays.gamma_nu_ee(dn))
    dnm = HNLModel(m, d, majorana=True, convention="darknews")
    assert decays.gamma_nu_ee(HNLModel(m, d, majorana=True)) == pytest.approx(8 * decays.gamma_nu_ee(dnm))


@pytest.mark.parametrize("m", [1.1e-3, 1.5e-3, 0.005, 0.03, 0.2, 0.8, 5.0])
def test_ee_over_gamma_against_numerical_integration_of_the_spectrum(m):
    """Γ_ee/Γ_γ = (α/3π) ∫ x⁻¹(1−x)²(1+x/2)(1+2r²/x)√(1−4r²/x) dx, integrated independently."""
    r = M_E_GEV / m
    f = lambda x: (1 - x) ** 2 * (1 + x / 2) * (1 + 2 * r * r / x) * math.sqrt(max(0.0, 1 - 4 * r * r / x)) / x
    # integrate in ln x for the 1/x behaviour
    val, err = integrate.quad(
        lambda u: f(math.exp(u)) * math.exp(u), math.log(4 * r * r), 0.0, limit=200, epsabs=0, epsrel=1e-10
    )
    model = HNLModel(m, 1e-7)
    assert decays.gamma_nu_ee(model) / decays.gamma_nu_gamma(model) == pytest.approx(
        ALPHA_EM / (3 * math.pi) * val, rel=1e-8
    )
    assert float(decays.dilepton_integral(r)) == pytest.approx(val, rel=1e-8)


def test_dilepton_integral_limits():
    # small r: I -> ln(1/r^2) - 3 ; threshold: I -> 0
    r = 1e-6
    assert float(decays.dilepton_integral(r)) == pytest.approx(math.log(1 / r**2) - 3, rel=1e-9)
    assert float(decays.dilepton_integral(0.4999999)) == pytest.approx(0.0, abs=1e-6)
    assert float(decays.dilepton_integral(0.6)) == 0.0


def test_decay_length():
    model = HNLModel(0.2, 5e-7, convention="darknews")
    # PHYSICS.md: c tau(Γ_γ only) = 248.0 cm at m = 0.2; with ee the total is 0.35% larger
    g_gamma = decays.gamma_nu_gamma(model)
    assert 1.973269804e-16 / g_gamma == pytest.approx(2.480, rel=1e-3)
    lab = decays.decay_length_m(model, np.array([0.2, 2.0]))
    assert lab[1] == pytest.approx(10 * decays.ctau_m(model))
    assert lab[0] == pytest.approx(decays.ctau_m(model))


def test_mu_mu_channel_opens_at_twice_the_muon_mass():
    below = HNLModel(2 * M_MU_GEV * 0.999, 1e-6)
    above = HNLModel(0.5, 1e-6)
    assert decays.gamma_total(below) == pytest.approx(decays.gamma_nu_gamma(below) + decays.gamma_nu_ee(below))
    assert decays.gamma_total(above) > decays.gamma_nu_gamma(above) + decays.gamma_nu_ee(above)


@pytest.mark.parametrize("m", [-0.1, 0.0, 1.0e-3, 6.0, float("nan"), float("inf")])
def test_bad_masses(m):
    with pytest.raises(InputError):
        HNLModel(m, 1e-6)


@pytest.mark.darknews
def test_widths_against_live_darknews(darknews):
    """≥ 20 points, m = 10 MeV – 1.5 GeV: Γ_γ within 0.5%, Γ_ee within 1% (convention darknews)."""
    import numpy as np
    from DarkNews import pdg, processes

    np.random.seed(2412)  # DarkNews's vegas draws from numpy's global generator
    masses = [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5]
    n_gamma = n_ee = 0
    for kind in ("dirac", "majorana"):
        for m in masses:
            mu = 1e-6
            dnm = darknews_model(darknews, m, mu, kind)
            ours = HNLModel(m, mu / 2, majorana=(kind == "majorana"), convention="darknews")
            g = processes.FermionSinglePhotonDecay(pdg.neutrino4, pdg.nulight, dnm, h_parent=-1).total_width()
            assert decays.gamma_nu_gamma(ours) == pytest.approx(g, rel=5e-3)
            n_gamma += 1
            # the 3-body width by DarkNews's own vegas integration of its matrix element
            dec = processes.FermionDileptonDecay(
                pdg.neutrino4, pdg.nulight, pdg.electron, pdg.positron, dnm, h_parent=-1
            )
            gee = dec.total_width(NINT=10, NEVAL=10000, NINT_warmup=5, NEVAL_warmup=2000)
            assert decays.gamma_nu_ee(ours) == pytest.approx(gee, rel=1e-2), (kind, m)
            n_ee += 1
    assert n_gamma >= 20 and n_ee >= 20
