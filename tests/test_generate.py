"""Event generator: closed-form decay weights, a toy geometry against direct integration,
decay kinematics, reweighting and reproducibility."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from dipolehnl.beam.flux import FluxComponent
from dipolehnl.detector.geometry import Detector, Volume
from dipolehnl.detector.materials import Material
from dipolehnl.detector.shapes import Box
from dipolehnl.errors import InputError
from dipolehnl.generate import kinematics as kin
from dipolehnl.generate.sample import Segments
from dipolehnl.generate.sampling import GeneratorSettings, generate
from dipolehnl.physics import decays, xsec
from dipolehnl.physics.model import HNLModel
from dipolehnl.physics.nuclei import HYDROGEN_PDG

C12 = 1000060120
SLAB = (-6.0, -4.0)  # production slab, z range (m)
FV = (-0.25, 0.25)  # fiducial slab, z range (m)
RHO = 2.0  # g/cm3 of carbon


def toy_detector() -> Detector:
    carbon = Material.from_components("CARBON", [[C12, 1.0]])
    gas = Material.from_components("GAS", [[1000180400, 1.0]])
    vols = [
        Volume("slab", Box([0, 0, sum(SLAB) / 2], [2000, 2000, SLAB[1] - SLAB[0]]), carbon, RHO, "rock"),
        Volume("gas", Box([0, 0, 0], [2000, 2000, 1.0]), gas, 0.0, "TPC"),
    ]
    return Detector("toy", vols, {"FV": Box([0, 0, 0], [1.0, 1.0, FV[1] - FV[0]])})


FLUX = {"flat": FluxComponent(np.array([1.0, 2.0]), np.array([1.0]), flavor="numu", mode="toy")}


def direct_rate(model: HNLModel) -> float:
    """Decays per POT in the FV by direct quadrature over E and ln Q² (infinite slabs):
    n A_FV ∫dz_p ∫dE φ ∫dQ² dσ/dQ² [e^{−(f0−z)/Λ} − e^{−(f1−z)/Λ}], Λ = λ cosθ."""
    n_C = RHO / (12.0 * 1.66053906660e-24 * (11.177929229074 / 0.9314941024228 / 12.0))  # per cm3
    area_cm2 = 1.0e4
    z0, z1 = SLAB
    f0, f1 = FV

    def geometric(lam_cos):
        L = lam_cos
        F = lambda f: L * (math.exp(-(f - z1) / L) - math.exp(-(f - z0) / L))
        return (F(f0) - F(f1)) * 100.0  # z in m -> cm

    total = 0.0
    xg, wg = np.polynomial.legendre.leggauss(24)
    for ch, n_centres in ((xsec.channel(C12, "coherent"), n_C), (xsec.channel(HYDROGEN_PDG, "p-el"), 6 * n_C)):
        for x, w in zip(xg, wg):
            E = 1.5 + 0.5 * x
            q2min, q2max = xsec.q2_limits(E, model.mass_GeV, ch.M_GeV)
            hi = min(float(q2max), ch.Q2_cap_GeV2)

            def f(u, ch=ch, E=E):
                Q2 = math.exp(u)
                ds = float(xsec.dsigma_dQ2_cm2(ch, model, E, Q2)) * Q2
                E_N, p_N, cos = kin.upscatter_lab(np.array(E), np.array(Q2), model.mass_GeV, ch.M_GeV)
                if cos <= 0:
                    return 0.0
                lam = float(decays.decay_length_m(model, p_N))
                return ds * geometric(lam * float(cos))

            val, _ = integrate.quad(f, math.log(float(q2min)), math.log(hi), limit=300, epsrel=1e-6)
            total += 0.5 * w * val * n_centres * area_cm2
    return total


def _relerr(w):
    return math.sqrt(float((w**2).sum())) / float(w.sum())


@pytest.mark.parametrize("d,sectors", [(3.5e-6, 1), (1.5e-5, 1), (3.5e-6, 4)])
def test_toy_geometry_rate_matches_direct_integration(d, sectors):
    model = HNLModel(0.1, d)
    st = GeneratorSettings(n_events=6000, seed=11, azimuth_sectors=sectors)
    sample = generate(toy_detector(), model, FLUX, st)
    w = sample.weights()
    expected = direct_rate(model)
    assert w.sum() == pytest.approx(expected, rel=4 * _relerr(w) + 1e-3)
    assert len(sample.strata) == 3 * sectors  # coherent on C and Ar, elastic on protons; × sectors


def test_azimuth_sectors_agree_where_production_depends_on_the_azimuth():
    """Rock on one side only (x > 0, so that backward rays see it for some azimuths only): the
    rate with 4 azimuth sectors equals the rate with one, within their MC errors."""
    carbon = Material.from_components("CARBON", [[C12, 1.0]])
    gas = Material.from_components("GAS", [[1000180400, 1.0]])
    vols = [
        Volume("slab", Box([25.0, 0, -15.0], [50.0, 2000, 30.0]), carbon, RHO, "rock"),
        Volume("gas", Box([0, 0, 0], [2000, 2000, 1.0]), gas, 0.0, "TPC"),
    ]
    det = Detector("half", vols, {"FV": Box([0, 0, 0], [1.0, 1.0, FV[1] - FV[0]])})
    model = HNLModel(0.1, 3.5e-6)
    rates = []
    for sectors in (1, 4):
        w = generate(det, model, FLUX, GeneratorSettings(n_events=6000, seed=3, azimuth_sectors=sectors)).weights()
        rates.append((w.sum(), _relerr(w) * w.sum()))
    (a, ea), (b, eb) = rates
    assert abs(a - b) < 4 * math.hypot(ea, eb)
    for bad in (0, 2.5, "4", True):
        with pytest.raises(InputError):
            GeneratorSettings(azimuth_sectors=bad)


def test_reweighting_matches_direct_integration_and_regeneration():
    det = toy_detector()
    base = generate(
        det,
        HNLModel(0.1, 3.5e-6),
        FLUX,
        GeneratorSettings(n_events=6000, seed=5),
        allocation_couplings=[1e-6, 3.5e-6, 1.2e-5],
    )
    for d in (1e-6, 1.2e-5):
        rew = base.weights(coupling=d)
        regen = generate(det, HNLModel(0.1, d), FLUX, GeneratorSettings(n_events=6000, seed=99)).weights()
        sigma = math.hypot(_relerr(rew) * rew.sum(), _relerr(regen) * regen.sum())
        assert abs(rew.sum() - regen.sum()) < 4 * sigma
        assert rew.sum() == pytest.approx(direct_rate(HNLModel(0.1, d)), rel=4 * _relerr(rew) + 1e-3)
    grid = base.weights_grid([1e-6, 1.2e-5])
    np.testing.assert_allclose(grid[:, 1], base.weights(coupling=1.2e-5), rtol=1e-10)


def test_decay_probability_in_a_slab_closed_form():
    # one segment [a, b]: J = n (e^{-a/λ} - e^{-b/λ}); several λ regimes incl. Taylor and skip
    seg = Segments(
        np.array([0, 1, 3]),
        np.array([2.0, 0.0, 1.0]),
        np.array([3.0, 1.0, 301.0]),
        np.array([1.0, 5.0, 2.0]),
        np.array([0, 0, 1]),
    )
    lam0 = np.array([1.0, 10.0])
    scale = np.geomspace(1e-9, 1e3, 60)
    got = seg.decay_integral_scaled(lam0, scale)
    for i, (s0, s1) in enumerate([(0, 1), (1, 3)]):
        for k, sc in enumerate(scale):
            lam = lam0[i] / sc
            exact = sum(
                seg.n_cm3[s] * math.exp(-seg.a_m[s] / lam) * -math.expm1(-(seg.b_m[s] - seg.a_m[s]) / lam)
                for s in range(s0, s1)
            )
            # in the far-tail regime both are < 1e-25 of the near-field value
            assert got[i, k] == pytest.approx(exact, rel=1e-9, abs=1e-25)
    np.testing.assert_allclose(
        seg.decay_integral(lam0), seg.decay_integral_scaled(lam0, np.array([1.0]))[:, 0], rtol=1e-10
    )


def test_same_seed_identical_and_other_seed_different():
    det = toy_detector()
    kw = dict(flux_components=FLUX, settings=GeneratorSettings(n_events=400, seed=3))
    a = generate(det, HNLModel(0.1, 3.5e-6), **kw)
    b = generate(det, HNLModel(0.1, 3.5e-6), **kw)
    np.testing.assert_array_equal(a.weights(), b.weights())
    np.testing.assert_array_equal(a.columns["p_eminus"], b.columns["p_eminus"])
    c = generate(det, HNLModel(0.1, 3.5e-6), FLUX, GeneratorSettings(n_events=400, seed=4))
    assert not np.array_equal(a.weights(), c.weights())


def _msq(p):
    return p[:, 0] ** 2 - np.sum(p[:, 1:] ** 2, axis=1)


@pytest.mark.parametrize("convention", ["consistent", "darknews"])
def test_event_four_momenta_conserve_energy_and_momentum(convention):
    model = HNLModel(0.3, 3e-6, convention=convention)
    s = generate(toy_detector(), model, FLUX, GeneratorSettings(n_events=500, seed=2))
    c = s.columns
    pN = c["p_N"]
    np.testing.assert_allclose(c["p_eminus"] + c["p_eplus"] + c["p_nu_ee_mode"], pN, atol=1e-10)
    np.testing.assert_allclose(c["p_gamma"] + c["p_nu_gamma_mode"], pN, atol=1e-10)
    np.testing.assert_allclose(_msq(pN), model.mass_GeV**2, rtol=1e-9)
    np.testing.assert_allclose(_msq(c["p_eminus"]), 0.51099895e-3**2, rtol=1e-3, atol=1e-9)
    np.testing.assert_allclose(_msq(c["p_gamma"]), 0.0, atol=1e-9)
    # upscattering: Q² and elastic recoil from the four-vectors
    E = c["E_nu_GeV"]
    k = np.stack([E, 0 * E, 0 * E, E], axis=1)
    q = k - pN
    np.testing.assert_allclose(-_msq(q), c["Q2_GeV2"], rtol=1e-6)
    from dipolehnl.physics.nuclei import nucleus

    M = np.array([0.93827208816 if p == 2212 else nucleus(int(p)).mass_GeV for p in c["target_pdg"]])
    recoil_E = E + M - pN[:, 0]
    np.testing.assert_allclose(recoil_E**2 - np.sum(q[:, 1:] ** 2, axis=1), M**2, rtol=1e-9)


def test_decay_distributions_isotropy_polarization_and_boost():
    rng = np.random.default_rng(0)
    m, n = 0.25, 200_000
    # Majorana (h = 0): isotropic photon and pair
    g, _ = kin.decay_nu_gamma(rng, m, np.zeros(n))
    c = g[:, 3] / (m / 2)
    assert abs(c.mean()) < 0.01 and abs((c**2).mean() - 1 / 3) < 0.01
    # Dirac h = ±1: <cos θ_γ> = -h/3 (1 - h cos)
    for h in (1.0, -1.0):
        g, _ = kin.decay_nu_gamma(rng, m, np.full(n, h))
        assert (g[:, 3] / (m / 2)).mean() == pytest.approx(-h / 3, abs=0.01)
    # pair: rest-frame direction of (e+ + e-) with the 'consistent' sign (h_pair = -h) follows
    # the photon, i.e. goes backward for h = +1
    em, ep, nu = kin.decay_nu_ee(rng, m, np.full(n, -1.0))
    pair = em + ep
    cos_pair = pair[:, 3] / np.linalg.norm(pair[:, 1:], axis=1)
    assert cos_pair.mean() < -0.25
    em0, ep0, nu0 = kin.decay_nu_ee(rng, m, np.zeros(n))
    pair0 = em0 + ep0
    assert abs((pair0[:, 3] / np.linalg.norm(pair0[:, 1:], axis=1)).mean()) < 0.01
    # m_ee² spectrum against dI/dx: compare CDF at a few points
    x = (_msq(pair0)) / m**2
    r = 0.51099895e-3 / m
    for xq in (1e-4, 1e-3, 1e-2, 0.1, 0.5):
        frac = float(np.mean(x < xq))
        num, _ = integrate.quad(
            lambda lx: float(decays.dilepton_spectrum(math.exp(lx), r)) * math.exp(lx),
            math.log(4 * r * r),
            math.log(xq),
        )
        assert frac == pytest.approx(num / float(decays.dilepton_integral(r)), abs=0.005)
    # boost: the rest-frame HNL boosted gives its lab four-momentum
    u = kin.direction(np.array([0.6]), np.array([1.0]))
    gam = np.array([3.0])
    lab = kin.to_lab(np.array([[m, 0.0, 0.0, 0.0]]), u, gam)
    p = m * math.sqrt(gam[0] ** 2 - 1)
    np.testing.assert_allclose(lab[0], [gam[0] * m, *(p * u[0])], rtol=1e-12)


def test_production_shares_of_no_events_are_empty():
    """A subset without events (e.g. nothing selected at a mass) gives an empty share array."""
    s = generate(toy_detector(), HNLModel(0.1, 1e-6), FLUX, GeneratorSettings(n_events=200, seed=3))
    names, frac = s.production_fractions_at([1e-6, 2e-6], np.array([], dtype=np.int64))
    assert frac.shape == (0, 2, len(names))
    names_all, frac_all = s.production_fractions_at([1e-6], np.arange(s.n))
    assert names_all == names and np.allclose(frac_all.sum(axis=2)[frac_all.sum(axis=2) > 0], 1.0)


def test_production_shares_are_the_subsystem_parts_of_the_decay_integral():
    """Shares and their unnormalised parts (``subsystem_coupling_matrix``) against a direct
    sum over each event's segments, n (e^{-a/λ} - e^{-b/λ}) by subsystem."""
    s = generate(toy_detector(), HNLModel(0.1, 1e-6), FLUX, GeneratorSettings(n_events=300, seed=4))
    couplings = np.array([3e-7, 1e-6, 8e-6])
    rows = np.arange(0, s.n, 3)
    names, frac = s.production_fractions_at(couplings, rows)
    names_p, parts = s.subsystem_coupling_matrix(couplings, rows)
    assert names_p == names and parts.shape == frac.shape
    sub_of = np.array([names.index(v.subsystem) for v in s.detector.volumes])
    seg = s.segments
    for r, i in enumerate(rows):
        sl = slice(seg.offsets[i], seg.offsets[i + 1])
        a, b, n, v = seg.a_m[sl], seg.b_m[sl], seg.n_cm3[sl], seg.volume[sl]
        for k, d in enumerate(couplings):
            lam = s.columns["decay_length_m"][i] * (1e-6 / d) ** 2
            part = np.zeros(len(names))
            np.add.at(part, sub_of[v], n * (np.exp(-a / lam) - np.exp(-b / lam)))
            want = part / part.sum() if part.sum() > 0 else part
            np.testing.assert_allclose(frac[r, k], want, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(parts[r, k], (d / 1e-6) ** 2 * part, rtol=1e-9, atol=1e-300)
    # the parts add up to the coupling matrix (the scan takes both from one evaluation)
    np.testing.assert_allclose(parts.sum(axis=2), s.coupling_matrix(couplings, rows), rtol=1e-12, atol=0)
    with pytest.raises(InputError):
        s.subsystem_coupling_matrix([1e-6, -1e-6])
