"""The MiniBooNE excess fit (analysis/miniboone_fit.py, ``dipolehnl miniboone-fit``).

The rate check is an independent numerical integral of the decay rate in the tank (method
below), not a comparison with earlier output of the package.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dipolehnl.analysis import miniboone as mb
from dipolehnl.analysis import miniboone_fit as mbf
from dipolehnl.cli import main
from dipolehnl.constants import HBARC_GEV_M
from dipolehnl.errors import InputError

N_A = 6.02214076e23


# ---------------------------------------------------------------------------------------
# The rate of N -> nu gamma decays in the tank against a hand calculation
# ---------------------------------------------------------------------------------------
def _sphere_exit(x, u, r):
    """Distance along u from x (inside the sphere |x| < r about the origin) to its surface."""
    b = np.sum(x * u, axis=-1)
    c = np.sum(x * x, axis=-1) - r * r
    return -b + np.sqrt(b * b - c)


def _box_exit(x, u, lo, hi):
    """Distance along u from x (inside the box) to its surface (slab method)."""
    with np.errstate(divide="ignore"):
        t_lo = (lo - x) / u
        t_hi = (hi - x) / u
    t = np.where(u > 0, t_hi, np.where(u < 0, t_lo, np.inf))
    return np.min(t, axis=-1)


def _hand_rate_per_pot(model, pdg, medium, n_cm3, exp):
    """Decays in the oil sphere per POT from coherent upscattering on one nucleus that is only
    in one medium ('oil' or 'dirt'), for the nu-mode nu_mu + nu_mubar flux:

        R = ∫dE φ(E) ∫ dQ² dσ/dQ² ∫_0^{2π} dϕ/2π ∫_{r<6.1 m} d³x ∫_0^∞ ds n(x − s u) e^{−s/λ}/λ

    u = the HNL direction from 2 → 2 kinematics on a nucleus at rest (E_N = E − Q²/2M,
    cos θ = (2 E E_N − m² − Q²)/(2 E p_N)), λ = (p_N/m) ħc/Γ_tot.  Backward from a decay
    point x: the oil until the 6.1 m sphere, the hall air until the 9.1 m sphere, then the
    dirt box |x|,|y| < 50 m, −550 < z < 50 m, so the line integral is
    oil:  n (1 − e^{−s_oil/λ});   dirt: n (e^{−s_hall/λ} − e^{−s_box/λ}).
    Quadrature: E Gauss-Legendre (2 nodes per 50 MeV flux bin up to 3 GeV), ln Q² Gauss-Legendre
    (16 nodes), ϕ 8 midpoints, x in the sphere Gauss-Legendre in r³, cos θ_x, ϕ_x (8 × 8 × 8).
    """
    from dipolehnl.physics import decays, xsec

    ch = xsec.channel(pdg, "coherent")
    M, m = ch.M_GeV, model.mass_GeV
    phi_nu = lambda E: np.asarray(exp.flux("nu", "numu")(E)) + np.asarray(exp.flux("nu", "numubar")(E))
    gl3x, gl3w = np.polynomial.legendre.leggauss(2)
    edges = np.arange(0.0, 3.0 + 1e-9, 0.05)
    E = (0.5 * (edges[1:] - edges[:-1])[:, None] * gl3x + 0.5 * (edges[1:] + edges[:-1])[:, None]).ravel()
    wE = (0.5 * (edges[1:] - edges[:-1])[:, None] * gl3w).ravel()
    e_th = xsec.threshold_energy(m, M)
    keep = E > e_th * 1.0001
    E, wE = E[keep], wE[keep] * phi_nu(E[keep])
    q2lo, q2hi = xsec.q2_limits(E, m, M)
    lnlo, lnhi = np.log(q2lo), np.log(np.minimum(q2hi, ch.Q2_cap_GeV2))
    ok = lnhi > lnlo
    E, wE, lnlo, lnhi = E[ok], wE[ok], lnlo[ok], lnhi[ok]
    gx, gw = np.polynomial.legendre.leggauss(16)
    lnq = 0.5 * (lnhi - lnlo)[:, None] * gx + 0.5 * (lnhi + lnlo)[:, None]
    Q2 = np.exp(lnq)
    EE = np.broadcast_to(E[:, None], Q2.shape)
    w = (
        wE[:, None] * 0.5 * (lnhi - lnlo)[:, None] * gw * Q2 * xsec.dsigma_dQ2_cm2(ch, model, EE, Q2)
    )  # cm² per POT-flux
    E_N = EE - Q2 / (2 * M)
    p_N = np.sqrt(E_N**2 - m * m)
    cos = np.clip((2 * EE * E_N - m * m - Q2) / (2 * EE * p_N), -1, 1)
    lam = p_N / m * HBARC_GEV_M / decays.gamma_total(model)
    w, cos, lam = w.ravel(), cos.ravel(), lam.ravel()
    # decay points in the oil sphere
    R = 6.1
    rx, rw = np.polynomial.legendre.leggauss(8)
    r3 = 0.5 * (rx + 1) * R**3
    r = np.cbrt(r3)
    wr = 0.5 * rw * R**3 / 3.0  # ∫ r² dr = ∫ d(r³)/3
    ct = rx
    wct = rw
    ph = (np.arange(8) + 0.5) * 2 * np.pi / 8
    wph = np.full(8, 2 * np.pi / 8)
    Rg, Cg, Pg = np.meshgrid(r, ct, ph, indexing="ij")
    Wg = (wr[:, None, None] * wct[None, :, None] * wph[None, None, :]).ravel()
    sg = np.sqrt(1 - Cg**2)
    X = np.stack([Rg * sg * np.cos(Pg), Rg * sg * np.sin(Pg), Rg * Cg], axis=-1).reshape(-1, 3)  # m
    total = 0.0
    nphi = 8
    for k in range(nphi):
        a = (k + 0.5) * 2 * np.pi / nphi
        sn = np.sqrt(1 - cos**2)
        back = -np.stack([sn * np.cos(a), sn * np.sin(a), cos], axis=1)  # backward ray direction
        for i0 in range(0, cos.size, 256):
            b = back[i0 : i0 + 256][:, None, :]
            xx = np.broadcast_to(X[None, :, :], (b.shape[0], X.shape[0], 3))
            bb = np.broadcast_to(b, xx.shape)
            L = lam[i0 : i0 + 256][:, None]
            if medium == "oil":
                J = n_cm3 * -np.expm1(-_sphere_exit(xx, bb, 6.1) / L)
            else:
                s_h = _sphere_exit(xx, bb, 9.1)
                s_b = _box_exit(xx, bb, np.array([-50.0, -50.0, -550.0]), np.array([50.0, 50.0, 50.0]))
                J = n_cm3 * (np.exp(-s_h / L) - np.exp(-s_b / L))
            total += float(np.sum(w[i0 : i0 + 256] * (J @ Wg))) / nphi
    return total * 1.0e6  # d³x in m³ → cm³


def test_single_photon_rate_against_hand_integral():
    """Decays N → νγ in the tank per POT at m = 50 MeV, d = 1e-6 GeV⁻¹ (λ ≈ 0.2–1 km, so the
    dirt up to 550 m upstream and the oil both contribute), for two channels whose nucleus
    lives in one medium only: C12 (oil, ρ = 0.85 g/cm³, 85.617% C) and Si28 (dirt SiO₂,
    ρ = 2.9 g/cm³, 46.743% Si).  Engine: the event sample's weights of that channel ×
    BR(N→νγ); hand: :func:`_hand_rate_per_pot` × Γ_γ/Γ_tot with Γ_γ = d² m³/4π (Dirac)."""
    from dipolehnl.experiment import load_experiment
    from dipolehnl.generate.sampling import GeneratorSettings, generate
    from dipolehnl.physics import decays
    from dipolehnl.physics.model import HNLModel

    exp = load_experiment("miniboone")
    m_GeV, d = 0.05, 1.0e-6
    model = HNLModel.for_flavor(m_GeV, d, "mu", majorana=False, convention="consistent")
    gamma_photon = d * d * m_GeV**3 / (4 * math.pi)  # closed form (consistent, Dirac)
    assert decays.gamma_nu_gamma(model) == pytest.approx(gamma_photon, rel=1e-12)
    br = gamma_photon / decays.gamma_total(model)
    comps = {"nu:numu": exp.flux("nu", "numu"), "nu:numubar": exp.flux("nu", "numubar")}
    s = generate(exp.detector, model, comps, GeneratorSettings(n_events=40000, seed=7), fiducial=exp.shapes(["tank"]))
    w = s.weights()
    n_C = 0.85 * 0.8561715 * N_A / 12.0
    n_Si = 2.9 * 0.4674349 * N_A / 27.9769265
    for label, pdg, medium, n in (
        ("C12:coherent", 1000060120, "oil", n_C),
        ("Si28:coherent", 1000140280, "dirt", n_Si),
    ):
        sel = s.columns["channel"] == label
        engine = float(w[sel].sum()) * br
        err = s.mc_error(np.where(sel, w, 0.0)) * br
        hand = _hand_rate_per_pot(model, pdg, medium, n, exp) * br
        assert engine > 0 and hand > 0
        assert abs(engine - hand) < 3 * err + 0.03 * hand, (label, engine, hand, err)


# ---------------------------------------------------------------------------------------
# Reconstruction once per sample equals the per-weight reconstruction
# ---------------------------------------------------------------------------------------
def test_single_photon_bins_match_reconstruction():
    rng = np.random.default_rng(3)
    n = 3000
    E = rng.uniform(0.05, 1.5, n)
    c = rng.uniform(0.3, 1.0, n)
    ph = rng.uniform(0, 2 * np.pi, n)
    s = np.sqrt(1 - c * c)
    p4 = np.column_stack([E, E * s * np.cos(ph), E * s * np.sin(ph), E * c])
    x = rng.uniform(-4, 4, (n, 3))
    w = rng.uniform(0.5, 1.0, n)
    h = mb.reconstruct_single_photon(p4, x, w, seed=5)
    b = mb.single_photon_bins(p4, x, seed=5)
    h2 = b.histograms(w)
    np.testing.assert_allclose(h2.enu_qe, h.enu_qe, rtol=1e-12)
    np.testing.assert_allclose(h2.costheta, h.costheta, rtol=1e-12)
    # a second weight vector needs no new reconstruction: linear in the weights
    np.testing.assert_allclose(b.histograms(2 * w).enu_qe, 2 * h.enu_qe, rtol=1e-12)
    # the factor is the conversion probability times the efficiency
    d = p4[:, 1:] / E[:, None]
    np.testing.assert_allclose(b.factor, mb.conversion_probability(x, d) * mb.load_shower_efficiency()(E), rtol=1e-12)


def test_fiducial_fraction_counts_the_fiducial_loss_once():
    """For conversion points uniform in the oil the 'conversion' treatment divides the
    efficiency's fiducial part out: (5.0/6.1)³ of uniform vertices lie inside r < 5 m."""
    assert mbf.fiducial_fraction("conversion") == pytest.approx((5.0 / 6.1) ** 3)
    assert mbf.fiducial_fraction("efficiency") == 1.0
    rng = np.random.default_rng(1)
    x = rng.uniform(-6.1, 6.1, (400000, 3))
    x = x[np.linalg.norm(x, axis=1) < 6.1]
    assert np.mean(np.linalg.norm(x, axis=1) < 5.0) == pytest.approx((5.0 / 6.1) ** 3, abs=3e-3)


# ---------------------------------------------------------------------------------------
# χ² behaviour, regions, files
# ---------------------------------------------------------------------------------------
def test_oscillation_only_chi2_behaviour():
    """No HNL: the χ² is the released-data χ² of background + the fixed oscillation
    component, which is lower than background only (the excess is partly explained)."""
    bkg_only = mb.chi2_enu(np.zeros(11))
    with_osc = mb.chi2_enu(mb.oscillation_prediction())
    assert with_osc < bkg_only
    s = mbf.FitSettings(fit="enu", masses_MeV=(10.0, 20.0), couplings_GeVinv=(1e-9, 1e-8))
    fake = [
        mbf.MassHistograms(
            m, np.zeros((2, 11)), np.zeros((2, 20)), np.zeros((2, 23)), np.zeros(2), np.zeros(2), 1.0, 100, 0.0
        )
        for m in s.masses_MeV
    ]
    g = mbf.chi2_grids(fake, s)
    np.testing.assert_allclose(g["enu"], with_osc, rtol=1e-12)
    assert float(g["enu_no_hnl"]) == pytest.approx(with_osc)
    # adding the observed excess as signal lowers the E_nu^QE chi2 far below the no-HNL value
    rel = mb.load_release()
    excess = np.clip(rel.nue_data - rel.nue_background - mb.oscillation_prediction(), 0, None)
    assert mb.chi2_enu(excess + mb.oscillation_prediction()) < with_osc - 9.0


def test_region_polygons_on_a_paraboloid():
    """Δχ² = ((log m − 2)² + (log d + 6)²)/σ² has circular regions of radius σ √level: the
    contour area (decades²) must be π σ² level within the grid resolution."""
    m = np.logspace(1, 3, 80)
    d = np.logspace(-8, -4, 160)
    X, Y = np.meshgrid(np.log10(m), np.log10(d), indexing="ij")
    sig = 0.2
    dch = ((X - 2) ** 2 + (Y + 6) ** 2) / sig**2
    for thr in mbf.DCHI2_LEVELS.values():
        polys, holes = mbf.region_polygons(m, d, dch, thr)
        assert len(polys) == 1 and holes == 0
        from dipolehnl.analysis.limits import polygon_area

        area = polygon_area(np.log10(polys[0]))
        assert area == pytest.approx(math.pi * sig**2 * thr, rel=0.02)


@pytest.fixture(scope="module")
def small_fit(tmp_path_factory):
    out = tmp_path_factory.mktemp("mbfit")
    rc = main(
        [
            "miniboone-fit",
            "--out",
            str(out),
            "--masses",
            "20:800:6",
            "--couplings",
            "1e-8:3e-5:30",
            "--events",
            "800",
            "--seed",
            "3",
        ]
    )
    assert rc == 0
    return out


def test_region_files_format(small_fit):
    for fit in ("enu", "costheta"):
        for lv in ("95cl", "997cl"):
            p = small_fit / f"preferred_region_{fit}_{lv}.csv"
            lines = p.read_text().splitlines()
            assert lines[0] == "path,m_MeV,d_GeVinv"
            polys = mbf.read_region_csv(p)
            ids = [int(line.split(",")[0]) for line in lines[1:]]
            assert ids == sorted(ids)  # one block per path id
            for poly in polys:
                assert poly.shape[1] == 2 and poly.shape[0] >= 4
                np.testing.assert_allclose(poly[0], poly[-1], rtol=1e-5)  # closed contour
                assert np.all(np.isfinite(poly)) and np.all(poly > 0)
                assert 20 * 0.999 <= poly[:, 0].min() and poly[:, 0].max() <= 800 * 1.001
    grid = (small_fit / "chi2_grid.csv").read_text().splitlines()
    assert grid[0].split(",")[:2] == ["m_MeV", "d_GeVinv"] and len(grid) == 1 + 6 * 30
    summ = json.loads((small_fit / "summary.json").read_text())
    assert summ["delta_chi2_thresholds"]["95% CL"] == pytest.approx(5.991, abs=1e-3)
    assert summ["delta_chi2_thresholds"]["99.7% CL"] == pytest.approx(11.83, abs=1e-2)
    for fit in ("enu", "costheta"):
        bf = summ["best_fit"][fit]
        assert bf["chi2"] <= bf["chi2_no_hnl"] + 1e-9
        assert math.isfinite(bf["chi2"]) and summ["wall_time_s"] > 0
    assert "nan" not in (small_fit / "chi2_grid.csv").read_text().lower()


@pytest.mark.parametrize(
    "args, msg",
    [
        (["--fit", "angles"], "unknown fit"),
        (["--sin2-2theta", "1.5"], "sin^2(2 theta_mue)"),
        (["--sin2-2theta", "nan"], "sin^2(2 theta_mue)"),
        (["--dm2", "0"], "Delta m^2"),
        (["--dm2", "1000"], "Delta m^2"),
        (["--masses", "10,-1"], "mass grid"),
        (["--masses", "10"], "masses_MeV"),
    ],
)
def test_cli_bad_input(tmp_path, capsys, args, msg):
    rc = main(["miniboone-fit", "--out", str(tmp_path / "o")] + args)
    err = capsys.readouterr().err
    assert rc == 2
    assert msg in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_verdict_and_markdown(small_fit):
    """The verdict on a fit whose region is read back from files: overlap numbers are
    fractions, and a scan that excludes everything excludes 100% of our regions."""
    s = mbf.FitSettings(masses_MeV=(20.0, 800.0), couplings_GeVinv=(1e-8, 3e-5))
    res = mbf.FitResult(
        s,
        np.array([20.0, 800.0]),
        np.array([1e-8, 3e-5]),
        {
            "enu": np.array([[0.0, 1.0], [2.0, 3.0]]),
            "enu_no_hnl": np.array(30.0),
            "costheta": np.array([[0.0, 1.0], [2.0, 3.0]]),
            "costheta_no_hnl": np.array(40.0),
        },
        [],
    )
    for fit in ("enu", "costheta"):
        res.regions[fit] = {
            lv: mbf.read_region_csv(small_fit / f"preferred_region_{fit}_{lv}.csv") for lv in mbf.DCHI2_LEVELS
        }

    class Everything:
        def excluded_predicate(self, level):
            return lambda m, d: np.ones(np.shape(m), bool)

    v = mbf.miniboone_verdict({"consistent": res}, {"all": (Everything(), None)})
    for r in v["fits"]["consistent"]["regions"].values():
        if r.get("empty"):
            continue
        assert 0.0 <= r["overlap_over_union"] <= 1.0
        assert r["fraction_excluded"]["all"] == 1.0
    md = mbf.verdict_markdown(v, mbf.pi0_estimate(50.0, 1e-6, upscatter_decays_per_pot=3e-16))
    assert md.startswith("## MiniBooNE") and "Ref. [31]" in md and "π⁰" in md


def test_settings_validation():
    with pytest.raises(InputError):
        mbf.FitSettings(fiducial_treatment="both")
    with pytest.raises(InputError):
        mbf.FitSettings(couplings_GeVinv=(1e-6, 1e-7))
    with pytest.raises(InputError):
        mbf.FitSettings(convention="other")


def test_pi0_branching_ratio_limits():
    """I(0) = 1 (massless N: the Dalitz integral ∫(1−t)³dt = 1/4), zero above m_π⁰, ∝ d²."""
    m_pi = 0.1349768
    br0 = mbf.pi0_dalitz_branching_ratio(1e-6, 1e-6, c=1.0)
    assert br0 == pytest.approx(0.98823 * 1e-12 * m_pi**2 / (24 * math.pi**2), rel=1e-6)
    assert mbf.pi0_dalitz_branching_ratio(140.0, 1e-6) == 0.0
    assert mbf.pi0_dalitz_branching_ratio(50.0, 2e-6) == pytest.approx(4 * mbf.pi0_dalitz_branching_ratio(50.0, 1e-6))
    est = mbf.pi0_estimate(50.0, 1e-6, upscatter_decays_per_pot=1e-16)
    assert 0 < est["decay_probability"] < 1 and est["ratio_to_upscattering"] > 0


# ---------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------
def test_figures_spectra_and_fig4(tmp_path, small_fit):
    from dipolehnl.analysis.execution import LocalExecutor
    from dipolehnl.analysis.scan import ScanSettings, run_scan
    from dipolehnl.plots.constraints import plot_constraints
    from dipolehnl.plots.miniboone import plot_miniboone_spectra

    s = mbf.FitSettings(masses_MeV=(30.0, 300.0), couplings_GeVinv=tuple(np.geomspace(1e-8, 3e-5, 12)), n_events=300)
    res = mbf.run_fit(s)
    paths = plot_miniboone_spectra(tmp_path, res, label="(test)")
    assert sorted(p.name for p in paths) == ["fig_miniboone_spectra.pdf", "fig_miniboone_spectra.png"]
    assert all(p.stat().st_size > 5000 for p in paths)
    scan = run_scan(
        "t2k2019",
        "default",
        ScanSettings(
            masses_GeV=(0.03, 0.3), couplings_GeVinv=tuple(np.geomspace(1e-8, 1e-4, 10)), n_events=200, refine=False
        ),
        executor=LocalExecutor(1),
    )
    regions = {"ours, E fit 95% CL": mbf.read_region_csv(small_fit / "preferred_region_enu_95cl.csv")}
    paths = plot_constraints(tmp_path / "f4", scan, miniboone_regions=regions)
    assert sorted(p.name for p in paths) == ["fig4_constraints.pdf", "fig4_constraints.png"]


def test_fit_definition_matches_experiment_and_release():
    """The fit file's exposures are the release's; its volumes are the experiment's spheres."""
    from dipolehnl.experiment import load_experiment

    d = mbf.fit_definition()
    assert mbf.exposure_pot("nu") == mb.load_release("nu").pot == 18.75e20
    assert mbf.exposure_pot("nubar") == mb.load_release("nubar").pot == 11.27e20
    exp = load_experiment(d["experiment"])
    assert exp.fiducial_volumes[d["decay_volume"]].radius_m == pytest.approx(6.1)
    assert exp.fiducial_volumes[d["shower_volume"]].radius_m == pytest.approx(5.0)
    assert exp.flavors("nu") == exp.flavors("nubar") == ("numu", "numubar", "nue", "nuebar")


def test_reproduce_section(tmp_path, monkeypatch):
    """The reproduce hook: both conventions on a tiny grid, files under OUT/miniboone/, the
    spectra figures, the Markdown section and our 95% CL regions for Fig. 4."""
    tiny = {"masses_MeV": (20.0, 60.0, 200.0), "couplings_GeVinv": tuple(np.geomspace(1e-8, 3e-5, 12)), "n_events": 300}
    monkeypatch.setitem(mbf.REPRODUCE_GRID, True, tiny)
    md, regions = mbf.reproduce_miniboone(tmp_path, tmp_path / "figures", {}, fast=True)
    for conv in ("consistent", "darknews"):
        assert (tmp_path / "miniboone" / conv / "summary.json").is_file()
        assert (tmp_path / "figures" / f"fig_miniboone_spectra_{conv}.png").is_file()
    v = json.loads((tmp_path / "miniboone" / "verdict.json").read_text())
    assert set(v["fits"]) == {"consistent", "darknews"} and "pi0" in v and "br_ee" in v
    assert md.startswith("## MiniBooNE") and "not modelled" in md and "| darknews |" in md
    assert len(regions) == 2 and all(isinstance(p, list) for p in regions.values())
