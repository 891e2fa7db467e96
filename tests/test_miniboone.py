"""MiniBooNE building blocks (dipolehnl.analysis.miniboone, dipolehnl.beam.bnb, the shipped
data and detector model), checked against published numbers and closed forms.

Independent references used below:
* MiniBooNE 2020 release / PRD 103, 052002 (2021), arXiv:2006.16883: 3202 observed and
  2668.1 predicted nu_e-like events (200-3000 MeV); nu-mode two-neutrino best fit
  (Delta m^2, sin^2 2theta) = (0.043 eV^2, 0.807); the nu-mode excess is several sigma.
* BNB flux release (PRD 79, 072002 (2009), arXiv:0806.1449): nu_mu flux in nu mode
  5.19e-10 per cm^2 per POT, mean nu_mu energy about 0.8 GeV.
* PDG "Atomic and nuclear properties": X0 = 63.04 (H), 42.70 (C), 34.24 (O),
  44.77 (polyethylene, CH2) g/cm^2; pair-conversion mean free path 9/7 X0.
The tests read only package data shipped with dipolehnl.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import re
from importlib.resources import files

import numpy as np
import pytest

from dipolehnl.analysis import miniboone as mb
from dipolehnl.errors import InputError

DATA = files("dipolehnl").joinpath("experiments", "data", "miniboone")
FOLDERS = ["flux", "detector", "release_2020", "digitized_2020", "efficiency"]


# ---------------------------------------------------------------------------------------
# Shipped data: hashes recorded in the READMEs
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("folder", FOLDERS)
def test_readme_hashes_match_shipped_files(folder):
    readme = DATA.joinpath(folder, "README.md").read_text()
    entries = re.findall(r"^\* `([^`]+)`(?: \(uncompressed content\))? `([0-9a-f]{64})`", readme, flags=re.M)
    if folder == "detector":
        entries = [("miniboone.toml", re.findall(r"^`([0-9a-f]{64})`", readme, flags=re.M)[-1])]
    assert entries, f"no hashes in {folder}/README.md"
    for name, digest in entries:
        raw = DATA.joinpath(folder, *name.split("/")).read_bytes()
        if name.endswith(".gz"):
            raw = gzip.decompress(raw)
        assert hashlib.sha256(raw).hexdigest() == digest, f"{folder}/{name}"


# ---------------------------------------------------------------------------------------
# Release and the collaboration's chi^2
# ---------------------------------------------------------------------------------------
def test_release_totals_and_excess():
    rel = mb.load_release("nu")
    assert rel.enu_edges_MeV.tolist() == [200, 300, 375, 475, 550, 675, 800, 950, 1100, 1250, 1500, 3000]
    assert rel.nue_data.sum() == 3202.0
    assert rel.nue_background.sum() == pytest.approx(2668.1, abs=0.05)
    assert rel.excess.sum() == pytest.approx(3202.0 - 2668.1, abs=0.05)  # 533.9 events
    assert rel.fractional_covariance.shape == (30, 30)
    np.testing.assert_allclose(rel.fractional_covariance, rel.fractional_covariance.T, atol=1e-12)
    assert rel.pot == 18.75e20
    nubar = mb.load_release("nubar")
    assert (nubar.n_nue, nubar.n_numu, nubar.pot) == (11, 8, 11.27e20)


def _chi2_by_loops(rel, signal, stat):
    """The release's recipe written out element by element (independent of the module)."""
    ne, nm = 11, 8
    pred = list(signal) + list(rel.nue_background) + list(rel.numu_prediction)
    F = rel.fractional_covariance
    M = [[F[i][j] * pred[i] * pred[j] for j in range(30)] for i in range(30)]
    if stat == "signal":
        for i in range(ne):
            M[i][i] += signal[i]

    def src(k):  # collapsed bin -> rows of the 30-bin vector
        return [k, k + ne] if k < ne else [k + ne]

    C = np.array([[sum(M[a][b] for a in src(i) for b in src(j)) for j in range(ne + nm)] for i in range(ne + nm)])
    if stat == "pearson":
        C += np.diag(list(np.asarray(signal) + rel.nue_background) + list(rel.numu_prediction))
    d = np.array(list(rel.nue_data - signal - rel.nue_background) + list(rel.numu_data - rel.numu_prediction))
    return float(d @ np.linalg.inv(C) @ d)


@pytest.mark.parametrize("stat", ["signal", "pearson"])
def test_background_only_chi2_matches_the_written_out_recipe(stat):
    rel = mb.load_release("nu")
    ours = mb.chi2_enu(np.zeros(11), stat=stat)
    assert ours == pytest.approx(_chi2_by_loops(rel, np.zeros(11), stat), rel=1e-9)
    sig = mb.oscillation_prediction(0.807, 0.043)
    assert mb.chi2_enu(sig, stat=stat) == pytest.approx(_chi2_by_loops(rel, sig, stat), rel=1e-9)


def test_extra_statistical_variance_lowers_the_background_only_chi2():
    s = np.zeros(11)
    base = mb.chi2_enu(s, stat="signal")
    assert mb.chi2_enu(s, stat="pearson") < base
    assert mb.chi2_enu(s, stat="cnp") < base


def test_oscillation_best_fit_in_the_published_neighbourhood():
    """Grid minimum of the two-neutrino fit vs the published nu-mode best fit
    (0.043 eV^2, 0.807): the published point must sit within Delta chi^2 < 1 of our
    minimum, and the background-only hypothesis must be worse by more than the 99% CL
    two-parameter threshold (9.21)."""
    s2 = np.linspace(0.05, 1.0, 39)
    dm2 = np.geomspace(0.01, 1.0, 41)
    grid = np.array([[mb.chi2_enu(mb.oscillation_prediction(a, d)) for d in dm2] for a in s2])
    i, j = np.unravel_index(np.argmin(grid), grid.shape)
    chi2_min = grid[i, j]
    chi2_pub = mb.chi2_enu(mb.oscillation_prediction(0.807, 0.043))
    chi2_bkg = mb.chi2_enu(np.zeros(11))
    assert chi2_pub - chi2_min < 1.0
    assert 0.02 < dm2[j] < 0.1
    assert chi2_bkg - chi2_pub > 9.21


def test_oscillation_prediction_limits():
    nt = mb.load_fullosc_ntuple("nu")
    edges = mb.load_release("nu").enu_edges_MeV
    full, _ = np.histogram(nt.ereco_MeV, bins=edges, weights=nt.weight)
    full /= nt.n_rows
    # fast oscillations average sin^2 to 1/2 (up to the ntuple's finite statistics,
    # about 1500 rows per bin: 0.35/sqrt(1500) ~ 1% per bin, 0.3% in total)
    fast = mb.oscillation_prediction(1.0, 100.0)
    np.testing.assert_allclose(fast, 0.5 * full, rtol=0.05)
    assert fast.sum() == pytest.approx(0.5 * full.sum(), rel=0.01)
    # small phase: P -> sin^2 2theta (1.267 dm2 L/E)^2, linear in sin^2 2theta
    a = mb.oscillation_prediction(6e-4, 1.3)
    np.testing.assert_allclose(mb.oscillation_prediction(3e-4, 1.3), a / 2, rtol=1e-12)
    assert np.all(a >= 0) and np.all(a < full)
    nb = mb.oscillation_prediction(1.0, 100.0, "nubar")
    assert nb.shape == (11,) and np.all(nb > 0)


@pytest.mark.parametrize(
    "s2,dm2",
    [
        (-0.1, 1.0),
        (1.1, 1.0),
        (float("nan"), 1.0),
        (0.5, 0.0),
        (0.5, -1.0),
        (0.5, 101.0),
        (0.5, float("inf")),
        ("x", 1.0),
    ],
)
def test_bad_oscillation_parameters_raise_input_error(s2, dm2):
    with pytest.raises(InputError):
        mb.oscillation_prediction(s2, dm2)
    with pytest.raises(InputError):
        mb.chi2_enu_hnl(np.zeros(11), sin2_2theta=s2, dm2_eV2=dm2)


def test_chi2_input_errors():
    with pytest.raises(InputError):
        mb.chi2_enu(np.zeros(10))
    with pytest.raises(InputError):
        mb.chi2_enu(-np.ones(11))
    with pytest.raises(InputError):
        mb.chi2_enu(np.full(11, np.nan))
    with pytest.raises(InputError):
        mb.chi2_enu(np.zeros(11), stat="poisson")
    with pytest.raises(InputError):
        mb.load_release("numu")


def test_hnl_plus_oscillation_is_the_signal_block():
    osc = mb.oscillation_prediction()
    hnl = np.linspace(10, 50, 11)
    assert mb.chi2_enu_hnl(hnl) == pytest.approx(mb.chi2_enu(hnl + osc), rel=1e-12)
    assert mb.chi2_enu_hnl(hnl, include_oscillation=False) == pytest.approx(mb.chi2_enu(hnl), rel=1e-12)
    assert (mb.DEFAULT_SIN2_2THETA_MUE, mb.DEFAULT_DM2_EV2) == (6.0e-4, 1.3)


# ---------------------------------------------------------------------------------------
# cos(theta) fit
# ---------------------------------------------------------------------------------------
def test_digitized_spectra():
    c = mb.load_costheta()
    assert c.edges.size == 21 and c.edges[0] == -1.0 and c.edges[-1] == 1.0
    # the excess of the 200-1250 MeV window: published 560.6 events
    assert c.data.sum() - c.background.sum() == pytest.approx(560.6, abs=5.0)
    e = mb.load_evis()
    assert e.edges.size == 24 and e.edges[0] == pytest.approx(0.1) and e.edges[-1] == pytest.approx(1.25)
    assert e.data.sum() == pytest.approx(c.data.sum(), rel=0.01)


def test_costheta_chi2_uncertainty_model_by_hand():
    c = mb.load_costheta()
    n, b = c.data, c.background
    cnp = 3.0 / (1.0 / n + 2.0 / b)
    assert mb.chi2_costheta(np.zeros(20), fractional_syst=0.0) == pytest.approx(np.sum((n - b) ** 2 / cnp), rel=1e-12)
    f = 0.13
    assert mb.chi2_costheta(np.zeros(20)) == pytest.approx(np.sum((n - b) ** 2 / (cnp + (f * b) ** 2)), rel=1e-12)
    # a fully correlated normalisation term can only lower chi^2
    assert mb.chi2_costheta(np.zeros(20), normalization_syst=0.1) < mb.chi2_costheta(np.zeros(20))
    excess = np.clip(n - b, 0.0, None)  # one bin has a (digitised) deficit of 0.85 events
    assert mb.chi2_costheta(excess, fractional_syst=0.0) == pytest.approx(
        np.sum((n - b - excess) ** 2 / (3.0 / (1.0 / n + 2.0 / (b + excess)))), rel=1e-12
    )
    with pytest.raises(InputError):
        mb.chi2_costheta(np.zeros(20), fractional_syst=-0.1)
    with pytest.raises(InputError):
        mb.chi2_costheta(np.zeros(19))


# ---------------------------------------------------------------------------------------
# Shower reconstruction helpers
# ---------------------------------------------------------------------------------------
def test_enu_qe_against_hand_calculation():
    # nu mode, E_e = 0.5 GeV, cos theta = 0.8, E_B = 34 MeV (M_n = 0.93956542, M_p = 0.93827209):
    # Mb = M_n - E_B = 0.90556542; Mb^2 = 0.82004873; M_p^2 = 0.88035451; p cos = 0.39999979
    # num = 2 Mb E - (Mb^2 + m_e^2 - M_p^2) = 0.90556542 + 0.06030552 = 0.96587094
    # den = 2 (Mb - E + p cos) = 2 (0.90556542 - 0.5 + 0.39999979) = 1.61113042
    assert mb.enu_qe_GeV(0.5, 0.8, "nu") == pytest.approx(0.96587094 / 1.61113042, rel=1e-7)  # 0.599499
    # nubar mode, E_B = 30 MeV, n <-> p: Mb = 0.93827209 - 0.030 = 0.90827209; Mb^2 = 0.82495819;
    # M_n^2 = 0.88278318; num = 0.90827209 + 0.05782473 = 0.96609682; den = 1.61654376
    assert mb.enu_qe_GeV(0.5, 0.8, "nubar") == pytest.approx(0.96609682 / 1.61654376, rel=1e-7)  # 0.597631
    # a backward 1 GeV shower has no CCQE solution
    assert np.isnan(mb.enu_qe_GeV(1.0, -1.0))
    assert mb.BINDING_ENERGY_GEV == {"nu": 0.034, "nubar": 0.030}


def test_radiation_lengths_against_pdg():
    for pdg, x0 in [(1000010010, 63.04), (1000060120, 42.70), (1000080160, 34.24)]:
        assert mb.radiation_length_g_cm2([(pdg, 1.0)]) == pytest.approx(x0, rel=2e-3)
    assert mb.radiation_length_g_cm2(mb.MINERAL_OIL_COMPONENTS) == pytest.approx(44.77, rel=2e-3)  # CH2


def test_conversion_mean_free_path_closed_form():
    lam = mb.photon_conversion_length_cm()
    assert lam == pytest.approx(9.0 / 7.0 * 44.77 / 0.85, rel=2e-3)  # 67.7 cm
    assert mb.photon_conversion_length_cm(0.845) == pytest.approx(lam * 0.85 / 0.845, rel=1e-12)
    L = lam / 100.0
    x = np.array([[0, 0, 0], [0, 0, -5.5], [0, 0, -8.0], [0, 0, 5.5], [0, 0, -8.0], [0, 4.0, 0]], float)
    d = np.array([[0, 0, 1], [0, 0, 1], [0, 0, 1], [0, 0, 1], [1, 0, 0], [0, 1, 0]], float)
    expect = [
        1 - math.exp(-5.0 / L),  # from the centre: 5 m of fiducial oil
        math.exp(-0.5 / L) - math.exp(-10.5 / L),  # 0.5 m of oil before the fiducial sphere
        math.exp(-1.1 / L) - math.exp(-11.1 / L),  # starts in the hall: 1.1 m of oil first
        0.0,  # outward from outside the fiducial sphere
        0.0,  # misses the tank
        1 - math.exp(-1.0 / L),  # 1 m of fiducial oil left
    ]
    np.testing.assert_allclose(mb.conversion_probability(x, d), expect, rtol=1e-12, atol=1e-15)


def test_conversion_probability_against_monte_carlo():
    rng = np.random.default_rng(7)
    n = 400
    x = rng.uniform(-7.0, 7.0, size=(n, 3))
    d = rng.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1)[:, None]
    p = mb.conversion_probability(x, d)
    lam = mb.photon_conversion_length_cm() / 100.0
    # sample the conversion point along the ray: the distance travelled *in oil* is exponential
    m = 4000
    s = rng.exponential(lam, size=(n, m))
    t = np.linspace(0.0, 20.0, 20001)
    mc = np.empty(n)
    for k in range(n):
        pts = x[k] + t[:, None] * d[k]
        r = np.linalg.norm(pts, axis=1)
        oil_path = np.concatenate([[0.0], np.cumsum((r[1:] <= 6.1) * np.diff(t))])
        # the point where the oil path length reaches s; conversion only while in oil
        idx = np.searchsorted(oil_path, s[k])
        inside = idx < t.size
        r_conv = np.where(inside, r[np.minimum(idx, t.size - 1)], np.inf)
        mc[k] = np.mean(r_conv < 5.0)
    err = np.sqrt(np.maximum(p * (1 - p), 1e-4) / m)
    assert np.all(np.abs(mc - p) < 5 * err + 2e-3)


def test_shower_efficiency_interpolation():
    eff = mb.load_shower_efficiency()
    np.testing.assert_allclose(eff([0.35, 1.2]), [0.139, 0.082])
    assert eff(0.2) == pytest.approx(0.5 * (0.089 + 0.135))
    assert eff(0.01) == 0.0
    assert eff(5.0) == pytest.approx(0.026)


def test_energy_resolution_formula():
    assert mb.energy_resolution_sigma_GeV(1.0) == pytest.approx(math.hypot(0.12, 0.01))
    assert mb.energy_resolution_sigma_GeV(0.25) == pytest.approx(0.25 * math.hypot(0.12 / 0.5, 0.01))


def _photons(n, E=0.5, cos=0.85):
    sin = math.sqrt(1 - cos**2)
    p4 = np.tile([E, E * sin, 0.0, E * cos], (n, 1))
    return p4, np.zeros((n, 3)), np.full(n, 2.0)


def test_reconstruct_single_photon_without_smearing():
    p4, x, w = _photons(10)
    h = mb.reconstruct_single_photon(
        p4,
        x,
        w,
        stochastic=0.0,
        constant=0.0,
        angular_sigma_deg=0.0,
        apply_efficiency=False,
        require_fiducial_conversion=False,
    )
    enu = mb.enu_qe_GeV(0.5, 0.85)  # 0.61 GeV: bin 550-675 MeV (index 4)
    assert 0.55 < enu < 0.675
    assert h.enu_qe[4] == pytest.approx(20.0) and h.enu_qe.sum() == pytest.approx(20.0)
    assert h.costheta[18] == pytest.approx(20.0) and h.costheta.sum() == pytest.approx(20.0)
    assert h.evis[8] == pytest.approx(20.0)  # 0.50-0.55 GeV
    h2 = mb.reconstruct_single_photon(p4, x, w, stochastic=0.0, constant=0.0, angular_sigma_deg=0.0)
    conv = 1 - math.exp(-500.0 / mb.photon_conversion_length_cm())
    assert h2.total == pytest.approx(20.0 * conv * 0.131 + 20.0 * conv * (0.123 - 0.131) * 0.5, rel=1e-9)


def test_reconstruct_single_photon_smearing_is_seeded():
    p4, x, w = _photons(2000)
    a = mb.reconstruct_single_photon(p4, x, w, seed=3)
    b = mb.reconstruct_single_photon(p4, x, w, seed=3)
    np.testing.assert_array_equal(a.enu_qe, b.enu_qe)
    assert a.total == pytest.approx(b.total)
    # smearing only moves events between bins (all stay inside 200-3000 MeV here)
    assert a.enu_qe.sum() == pytest.approx(a.total, rel=1e-12)
    assert np.count_nonzero(a.enu_qe) > 1


def test_reconstruct_single_photon_input_errors():
    p4, x, w = _photons(3)
    with pytest.raises(InputError):
        mb.reconstruct_single_photon(p4[:, :3], x, w)
    with pytest.raises(InputError):
        mb.reconstruct_single_photon(p4, x, -w)
    with pytest.raises(InputError):
        mb.reconstruct_single_photon(p4, x[:2], w)
    with pytest.raises(InputError):
        mb.reconstruct_single_photon(p4 * np.nan, x, w)
    empty = mb.reconstruct_single_photon(np.zeros((0, 4)), np.zeros((0, 3)), np.zeros(0))
    assert empty.total == 0.0 and empty.enu_qe.shape == (11,)


# ---------------------------------------------------------------------------------------
# Detector model and flux
# ---------------------------------------------------------------------------------------
def test_detector_toml_loads_with_the_existing_loader():
    from dipolehnl.detector import load_detector

    det = load_detector(str(DATA.joinpath("detector", "miniboone.toml")))
    assert det.volume_names == ("dirt", "hall_air", "mineral_oil")
    oil = det.volume("mineral_oil")
    assert oil.shape.radius_m == 6.1 and oil.density_g_cm3 == 0.85
    o = np.array([[0.0, 0.0, -600.0]])
    dz = np.array([[0.0, 0.0, 1.0]])
    expect = 100 * (540.9 * 2.9 + 6.0 * 0.001225 + 12.2 * 0.85 + 40.9 * 2.9)
    assert det.column_density_g_cm2(o, dz)[0] == pytest.approx(expect, rel=1e-9)
    assert mb.OIL_RADIUS_M == oil.shape.radius_m and mb.OIL_DENSITY_G_CM3 == oil.density_g_cm3


def test_bnb_flux():
    from dipolehnl.beam.bnb import load_bnb_flux

    nu = load_bnb_flux("nu")
    assert nu["numu"].integral() == pytest.approx(5.19e-10, rel=2e-3)
    assert nu["numu"].mean_energy() == pytest.approx(0.8, abs=0.05)
    assert nu.edges_GeV[0] == 0.0 and nu.edges_GeV[-1] == pytest.approx(10.0)
    nubar = load_bnb_flux("nubar")
    assert nubar["numubar"].integral() > 5 * nubar["numu"].integral()
    with pytest.raises(InputError):
        load_bnb_flux("dump")
