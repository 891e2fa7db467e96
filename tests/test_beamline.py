"""Beamline model (beam/beamline.py): the flux fall-off g against closed forms and quadrature,
the sub-segment decay integral against quadrature, the earth of the beamline detector, and
the wiring into presets and the generator (preset ``paper`` unchanged)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from dipolehnl.beam.beamline import FLUX_TABLE_RTOL, Beamline, for_preset, modulate_segments
from dipolehnl.config import get_preset
from dipolehnl.detector.geometry import Detector, Volume
from dipolehnl.detector.materials import Material
from dipolehnl.detector.shapes import Box
from dipolehnl.errors import InputError
from dipolehnl.physics import nuclear


def _line_source_closed_form(bl: Beamline, x) -> float:
    """(1/L) ∫_0^L dz / ((z − z0)² + ρ²) = [atan((L − z0)/ρ) + atan(z0/ρ)]/(L ρ) (A = 1)."""
    r = np.asarray(x, float) - bl.target_m
    z0 = float(r @ bl.axis)
    rho = math.sqrt(max(float(r @ r) - z0 * z0, 0.0))
    L = bl.decay_volume_length_m
    return (math.atan((L - z0) / rho) + math.atan(z0 / rho)) / (L * rho)


POINTS = [[0.0, 0.0, -100.0], [0.0, 0.0, -166.0], [30.0, -10.0, -120.0], [0.0, 25.0, -60.0], [3.0, 1.0, 5.0]]


def test_flux_factor_is_one_at_the_detector_and_matches_the_line_source_closed_form():
    bl = Beamline(gamma_range=(0.0, 0.0))  # A(θ) = 1: pure 1/D² from a uniform line source
    g = bl.flux_factor(POINTS)
    ref = np.array([_line_source_closed_form(bl, p) for p in POINTS]) / _line_source_closed_form(bl, [0, 0, 0])
    np.testing.assert_allclose(g, ref, rtol=2e-6)
    assert Beamline().flux_factor([[0.0, 0.0, 0.0]])[0] == pytest.approx(1.0, abs=1e-14)


def test_flux_factor_with_the_angular_factor_matches_quadrature():
    bl = Beamline()

    def F(x):
        def f(z):
            r = np.asarray(x, float) - (bl.target_m + z * bl.axis)
            D2 = float(r @ r)
            th = math.atan2(math.sqrt(max(D2 - float(r @ bl.axis) ** 2, 0.0)), float(r @ bl.axis))
            return float(bl.angular_factor(th)) / D2

        return integrate.quad(f, 0.0, bl.decay_volume_length_m, epsrel=1e-10, limit=200)[0]

    ref = np.array([F(p) for p in POINTS]) / F([0.0, 0.0, 0.0])
    np.testing.assert_allclose(bl.flux_factor(POINTS), ref, rtol=1e-5)


@pytest.mark.parametrize("gammas", [None, (0.0, 0.0), (50.0, 50.0)])
def test_tabulated_flux_factor_matches_the_exact_one_in_the_earth(gammas):
    bl = Beamline() if gammas is None else Beamline(gamma_range=gammas)
    w = bl.lateral_half_width_m
    rng = np.random.default_rng(7)
    x = rng.uniform([-w, -w, bl.rock_start_z_m], [w, w, 10.0], (4000, 3))
    x[:1000, :2] *= 0.05  # near the beam line, where the angular factor varies fastest
    x = np.concatenate([x, np.zeros((1, 3)), [[0.0, 0.0, bl.rock_start_z_m]]])
    np.testing.assert_allclose(bl.flux_factor_fast(x), bl.flux_factor(x), rtol=FLUX_TABLE_RTOL, atol=0.0)


def test_tabulated_flux_factor_falls_back_to_the_exact_one_outside_its_table():
    bl = Beamline()
    far = np.array([[500.0, 0.0, -150.0], [0.0, 0.0, 400.0], [0.0, 0.0, -200.0]])
    np.testing.assert_array_equal(bl.flux_factor_fast(far), bl.flux_factor(far))


def test_angular_factor_is_the_pion_average_of_the_decay_distribution():
    bl = Beamline()
    g1, g2 = bl.gammas
    assert g1 == pytest.approx(math.hypot(1.0, 0.13957039) / 0.13957039)
    for th in (0.0, 0.02, 0.0436, 0.1, 0.3):
        # dN/dΩ ∝ γ²/(1 + γ²θ²)², γ log-uniform: weight dγ/γ
        num = integrate.quad(lambda g, th=th: g / (1 + g * g * th * th) ** 2, g1, g2)[0]
        den = integrate.quad(lambda g: g, g1, g2)[0]
        assert float(bl.angular_factor(th)) == pytest.approx(num / den, rel=1e-9)


def _ray(bl, x_dec, u, a, b, n, lam):
    off = np.array([0, 1], dtype=np.int64)
    o, a2, b2, n2, _ = modulate_segments(
        bl, np.array([x_dec]), np.array([u]), off, np.array([a]), np.array([b]), np.array([n]), np.array([0])
    )
    assert o[-1] == a2.size and np.all(b2 - a2 <= bl.step_m * (1 + 1e-12))
    np.testing.assert_allclose(a2[1:], b2[:-1])
    return float(np.sum(n2 * (np.exp(-a2 / lam) - np.exp(-b2 / lam))))


@pytest.mark.parametrize("lam", [30.0, 500.0, 1e5])
def test_sub_segment_decay_integral_matches_quadrature(lam):
    x_dec = np.array([0.2, -0.1, 1.0])
    u = np.array([0.08, 0.05, 1.0])
    u /= np.linalg.norm(u)
    a, b, n = 12.0, 165.0, 2.0
    exact = integrate.quad(
        lambda s: n * float(Beamline().flux_factor(x_dec - s * u)[0]) * math.exp(-s / lam) / lam,
        a,
        b,
        epsrel=1e-10,
        limit=400,
    )[0]
    coarse = _ray(Beamline(), x_dec, u, a, b, n, lam)
    fine = _ray(Beamline(step_m=2.0), x_dec, u, a, b, n, lam)
    assert coarse == pytest.approx(exact, rel=3e-3)  # the default 10 m step
    assert fine == pytest.approx(exact, rel=3e-4)
    assert abs(fine - exact) < abs(coarse - exact)  # O(step²) discretisation error


def test_without_fall_off_the_split_segments_give_the_same_decay_integral():
    bl = Beamline(flux_falloff=False)
    for lam in (5.0, 300.0):
        whole = 2.0 * (math.exp(-12.0 / lam) - math.exp(-165.0 / lam))
        assert _ray(bl, [0, 0, 0], [0, 0, 1.0], 12.0, 165.0, 2.0, lam) == pytest.approx(whole, rel=1e-12)


def test_beamline_earth_starts_at_the_muon_pit_and_is_wide():
    rock = Material.from_components("ROCK", [[1000080160, 1.0]])
    air = Material.from_components("AIR", [[1000070140, 1.0]])
    det = Detector(
        "toy",
        [
            Volume("surr_earth", Box([0, 0, -142.0], [24, 24, 300.0]), rock, 2.9, "rock"),
            Volume("hall", Box([0, 0, 0], [19, 19, 37.0]), air, 0.001, "hall"),
        ],
    )
    bl = Beamline()
    new = bl.detector(det)
    assert bl.rock_start_z_m == pytest.approx(118.0 - 284.9)
    names = [
        new.volumes[i].name if i >= 0 else None
        for i in new.volume_at([[0, 0, -200.0], [0, 0, -160.0], [60.0, -60.0, -100.0], [0, 0, 0], [15.0, 0, 7.9]])
    ]
    assert names == [None, "beamline_earth", "beamline_earth", "hall", "beamline_earth"]
    with pytest.raises(InputError):
        bl.detector(Detector("norock", [det.volumes[1]]))
    with pytest.raises(InputError):
        Beamline(rock_start_from_target_m=50.0)  # inside the decay volume


def test_presets_paper_keeps_siren_and_darknews_default_uses_the_beamline():
    from dipolehnl.experiment import load_experiment

    exp = load_experiment("t2k-nd280")
    paper, default = get_preset("paper"), get_preset("default")
    assert paper.nuclear == nuclear.DARKNEWS and paper.beamline is None
    assert default.nuclear == nuclear.RECOMMENDED and default.beamline == {}
    det, bl = for_preset(paper, exp)
    assert det is exp.detector and bl is None
    det, bl = for_preset(default, exp)
    assert bl == Beamline(distance_m=284.9, decay_volume_length_m=96.0)
    assert [v.name for v in det.volumes if v.subsystem == "rock"] == ["beamline_earth"]
    with pytest.raises(InputError):
        for_preset(default.with_(beamline={"no_such_field": 1}), exp)


def test_paper_preset_sample_is_the_plain_generator_on_the_siren_detector():
    """Preset ``paper`` runs the generator exactly as before the options existed: the
    experiment's detector, DarkNews's channels (a single proton channel), no flux factor."""
    from dipolehnl.experiment import load_experiment
    from dipolehnl.generate.api import flux_components, simulate
    from dipolehnl.generate.sampling import GeneratorSettings, generate
    from dipolehnl.physics.model import HNLModel

    exp = load_experiment("t2k-nd280")
    p = get_preset("paper")
    s = simulate("t2k-nd280", 0.3, 1e-6, n_events=400, seed=3, preset="paper")
    model = HNLModel.for_flavor(0.3, 1e-6, "mu", convention=p.convention)
    det = exp.detector.with_material_densities(p.material_densities_g_cm3)
    ref = generate(
        det,
        model,
        flux_components(exp, "fhc", "both", p),
        GeneratorSettings(n_events=400, seed=3),
        fiducial=dict(exp.fiducial_volumes),
    )
    np.testing.assert_array_equal(s.weights(), ref.weights())
    assert "proton:p-el" in set(s.columns["channel"]) and not any(":n-el" in c for c in s.columns["channel"])


def test_sub_segment_densities_are_n_times_the_flux_factor_at_their_midpoints_inside_and_outside_the_table():
    bl = Beamline()
    x_dec = np.array([[0.3, -0.2, 120.0], [1.0, 2.0, -3.0]])  # the first ray starts beyond the table
    u = np.array([[0.0, 0.0, 1.0], [0.05, -0.02, 1.0]])
    u /= np.linalg.norm(u, axis=1)[:, None]
    off = np.array([0, 1, 3], dtype=np.int64)
    a, b, n = np.array([0.0, 0.5, 20.0]), np.array([140.0, 7.5, 160.0]), np.array([2.0, 3.0, 5.0])
    o2, a2, b2, n2, v2 = modulate_segments(bl, x_dec, u, off, a, b, n, np.array([4, 5, 6]))
    ray = np.repeat([0, 1], np.diff(o2))
    x_mid = x_dec[ray] - 0.5 * (a2 + b2)[:, None] * u[ray]
    g = bl.flux_factor(x_mid)
    seg_of = np.where(ray == 0, 0, np.where(b2 <= b[1] + 1e-12, 1, 2))
    np.testing.assert_allclose(n2, n[seg_of] * g, rtol=FLUX_TABLE_RTOL)
    np.testing.assert_array_equal(v2, np.array([4, 5, 6])[seg_of])
    assert np.all(np.diff(o2) == [14, 1 + 14])


def test_the_compiled_split_refuses_inconsistent_segments():
    """modulate_segments checks what the compiled kernel does not (it indexes without bounds
    checks): offsets against the segments and the rays, finite ends; an InputError, never a
    read or write out of bounds."""
    from dipolehnl.beam.beamline import modulate_segments
    from dipolehnl.errors import InputError

    bl = Beamline()
    x = np.zeros((2, 3))
    u = np.tile([0.0, 0.0, 1.0], (2, 1))
    a, b, n, v = np.array([0.0, 10.0, 5.0]), np.array([10.0, 40.0, 30.0]), np.ones(3), np.zeros(3, dtype=np.int64)
    off, *_ = modulate_segments(bl, x, u, np.array([0, 2, 3]), a, b, n, v)
    assert off[-1] == np.maximum(np.ceil((b - a) / bl.step_m), 1).sum() > 3
    for bad_off in ([0, 2, 5], [1, 2, 3], [0, 3, 2], [0, -1, 3]):
        with pytest.raises(InputError):
            modulate_segments(bl, x, u, np.array(bad_off), a, b, n, v)
    with pytest.raises(InputError):
        modulate_segments(bl, x[:1], u[:1], np.array([0, 2, 3]), a, b, n, v)
    with pytest.raises(InputError):
        modulate_segments(bl, x, u, np.array([0, 2, 3]), a, np.array([1.0, np.nan, 2.0]), n, v)
    with pytest.raises(InputError):  # the compiled table lookup reads three coordinates per point
        bl.flux_factor_fast(np.zeros((4, 2)))
