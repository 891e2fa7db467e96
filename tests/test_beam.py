"""Tests of dipolehnl.beam: T2K flux tables, sampling, parser errors, kaon component, flux errors."""

from __future__ import annotations

import hashlib
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from dipolehnl.beam import (
    FLAVORS,
    BeamFlux,
    FluxComponent,
    flux_error_table,
    flux_fractional_error,
    kaon_numu_flux,
    load_flux,
    read_flux_table,
)
from dipolehnl.errors import InputError

FLUX_FILES = {
    "fhc": "t2k_nd280_fhc_plus250kA_2020.txt",
    "rhc": "t2k_nd280_rhc_minus250kA.txt",
}
DATA_FILES = [
    "t2k_nd280_fhc_plus250kA_2020.txt",
    "t2k_nd280_rhc_minus250kA.txt",
    "t2k_nd280_numu_from_kaons_log10.txt",
    "t2k_nd280_kaon_rhc_to_fhc_ratio.txt",
    "t2k_nd280_numu_flux_fractional_error.txt",
]


def _pkg_data(name: str) -> bytes:
    return files("dipolehnl").joinpath("beam", "data", name).read_bytes()


def _direct_table(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Independent reading of a T2K table: (lo, hi, values (n, 4))."""
    lo, hi, vals = [], [], []
    for line in text.splitlines()[3:]:
        t = line.split()
        if not t:
            continue
        lo.append(float(t[1]))
        hi.append(float(t[3]))
        vals.append([float(x) for x in t[4:8]])
    return np.array(lo), np.array(hi), np.array(vals)


# --------------------------------------------------------------------------------------
# package data
# --------------------------------------------------------------------------------------
def test_package_data_has_provenance_readme_with_hashes():
    readme = files("dipolehnl").joinpath("beam", "data", "README.md").read_text()
    for name in DATA_FILES:
        digest = hashlib.sha256(_pkg_data(name)).hexdigest()
        assert name in readme
        assert digest in readme, f"sha256 of {name} not recorded in beam/data/README.md"


@pytest.mark.parametrize("name", DATA_FILES)
def test_package_data_identical_to_reference(name, reference_dir):
    assert _pkg_data(name) == (reference_dir / "flux" / name).read_bytes()


# --------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["fhc", "rhc"])
def test_totals_match_direct_sum(mode):
    lo, hi, vals = _direct_table(_pkg_data(FLUX_FILES[mode]).decode())
    flux = load_flux(mode)
    assert isinstance(flux, BeamFlux) and flux.mode == mode
    for j, fl in enumerate(FLAVORS):
        expected = np.sum((hi - lo) * vals[:, j] * 20.0 / 1e21)
        assert flux.component(fl).integral() == pytest.approx(expected, rel=1e-12)
        # per-bin densities
        np.testing.assert_allclose(flux[fl].density_per_cm2_GeV_POT, vals[:, j] * 20 / 1e21, rtol=1e-14)


def test_fhc_numu_total_order_of_magnitude():
    # ~1.9e13 numu per cm^2 per 1e21 POT at ND280
    total = load_flux("fhc").component("numu").integral() * 1e21
    assert 1.5e13 < total < 2.5e13


def test_variable_bin_widths():
    edges = load_flux("fhc").edges_GeV
    w = np.diff(edges)
    assert edges[0] == 0.0 and edges[-1] == pytest.approx(30.0)
    below = edges[:-1] < 0.8 - 1e-9
    np.testing.assert_allclose(w[below], 0.01, atol=1e-12)
    assert below.sum() == 80
    above = w[~below]
    assert np.all(np.diff(above) >= -1e-12), "bins get wider above 0.8 GeV"
    assert set(np.round(above, 6)) == {0.02, 0.05, 0.1, 0.2, 0.5, 1.0}
    np.testing.assert_allclose(edges, load_flux("rhc").edges_GeV)


def test_component_call_and_outside():
    c = load_flux("fhc").component("numu")
    # bin 0.60-0.61 GeV: value from the table
    lo, hi, vals = _direct_table(_pkg_data(FLUX_FILES["fhc"]).decode())
    i = int(np.argmin(abs(lo - 0.60)))
    assert c(0.605) == pytest.approx(vals[i, 0] * 20 / 1e21)
    assert c(lo[i]) == pytest.approx(vals[i, 0] * 20 / 1e21)  # lower edge belongs to the bin
    out = c(np.array([-1.0, 30.0, 31.0]))
    np.testing.assert_array_equal(out, 0.0)
    assert isinstance(c(0.5), float)


def test_flavor_aliases_and_unknown():
    f = load_flux("rhc")
    assert f.component("anti-numu") is f.component("numubar") is f.component(-14)
    assert f.component(12) is f.component("nue")
    with pytest.raises(InputError):
        f.component("nutau")


def test_unknown_mode():
    with pytest.raises(InputError, match="mode"):
        load_flux("neutrino")
    with pytest.raises(InputError):
        kaon_numu_flux("xhc")
    assert load_flux("FHC").mode == "fhc"


def test_max_energy():
    f = load_flux("fhc")
    # last non-zero numu bin is 23-24 GeV in the FHC table
    assert f.max_energy_GeV == pytest.approx(24.0)
    assert f.component("numubar").max_energy_GeV == pytest.approx(21.0)


def test_integral_partial_and_mean_energy():
    c = load_flux("fhc").component("numu")
    total = c.integral()
    assert c.integral(None, 0.4) + c.integral(0.4, None) == pytest.approx(total, rel=1e-12)
    # half a bin
    assert c.integral(0.600, 0.605) == pytest.approx(0.005 * c(0.6), rel=1e-12)
    assert c.integral(1.0, 0.5) == 0.0
    # mean energy by brute force on a fine grid
    E = np.linspace(0, 30, 3_000_001)
    mid = 0.5 * (E[1:] + E[:-1])
    phi = c(mid)
    assert c.mean_energy() == pytest.approx(np.sum(mid * phi) / np.sum(phi), rel=1e-6)
    assert 0.7 < c.mean_energy() < 1.0


def test_sample_normalisation_and_shape():
    c = load_flux("fhc").component("numu")
    rng = np.random.default_rng(12345)
    n = 400_000
    E = c.sample(rng, n)
    assert E.shape == (n,)
    assert E.min() >= 0 and E.max() <= c.max_energy_GeV
    # never drawn where the flux is zero
    assert np.all(c(E) > 0)
    # fraction in a few windows agrees with the integral (binomial errors)
    total = c.integral()
    for a, b in [(0.0, 0.4), (0.4, 0.8), (0.8, 1.2), (1.2, 3.0), (3.0, 30.0)]:
        p = c.integral(a, b) / total
        frac = np.mean((E >= a) & (E < b))
        assert abs(frac - p) < 5 * np.sqrt(p * (1 - p) / n) + 1e-12
    assert E.mean() == pytest.approx(c.mean_energy(), rel=5e-3)
    # reproducible
    np.testing.assert_array_equal(c.sample(np.random.default_rng(1), 10), c.sample(np.random.default_rng(1), 10))


def test_sample_within_bin_is_uniform():
    comp = FluxComponent(np.array([0.0, 1.0, 3.0, 4.0]), np.array([1.0, 0.0, 2.0]))
    E = comp.sample(np.random.default_rng(3), 200_000)
    assert not np.any((E > 1.0) & (E < 3.0))
    # weights 1 : 0 : 2
    assert np.mean(E < 1.0) == pytest.approx(1 / 3, abs=0.005)
    inside = E[E < 1.0]
    assert inside.mean() == pytest.approx(0.5, abs=0.005)
    with pytest.raises(InputError):
        FluxComponent(np.array([0.0, 1.0]), np.array([0.0])).sample(np.random.default_rng(0), 3)


def test_restricted():
    c = load_flux("fhc").component("numu")
    r = c.restricted(0.3053)
    assert r.edges_GeV[0] == pytest.approx(0.3053)
    assert r.integral() == pytest.approx(c.integral(0.3053), rel=1e-12)
    assert r(0.2) == 0.0 and r(0.306) == c(0.306)
    assert r.mean_energy() > c.mean_energy()
    r2 = c.restricted(0.5, 1.0)
    assert r2.integral() == pytest.approx(c.integral(0.5, 1.0), rel=1e-12)
    assert np.all(r2.sample(np.random.default_rng(0), 1000) >= 0.5)
    with pytest.raises(InputError):
        c.restricted(40.0)


def test_component_validation():
    with pytest.raises(InputError):
        FluxComponent(np.array([0.0, 1.0, 0.5]), np.array([1.0, 1.0]))
    with pytest.raises(InputError):
        FluxComponent(np.array([0.0, 1.0]), np.array([-1.0]))
    with pytest.raises(InputError):
        FluxComponent(np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    c = load_flux("fhc").component("numu")
    with pytest.raises(ValueError):
        c.density_per_cm2_GeV_POT[0] = 1.0  # read-only


# --------------------------------------------------------------------------------------
# parser
# --------------------------------------------------------------------------------------
HEADER = "          Flux [/cm^2/50MeV/1E21POT]\nBin#   Energy [GeV]  numu  anti-numu nue anti-nue\n------------------\n"


def _write(tmp_path, body: str, header: str = HEADER) -> Path:
    p = tmp_path / "flux.txt"
    p.write_text(header + body)
    return p


def test_read_flux_table_roundtrip(tmp_path):
    p = _write(tmp_path, "1  0.00 - 0.10  1e10 2e10 3e8 4e8\n2  0.10 - 0.30  5e10 6e10 7e8 8e8\n")
    f = read_flux_table(p, mode="fhc")
    np.testing.assert_allclose(f.edges_GeV, [0.0, 0.1, 0.3])
    assert f.component("numu").integral() == pytest.approx((0.1 * 1e10 + 0.2 * 5e10) * 20 / 1e21)
    assert f.component("nuebar")(0.2) == pytest.approx(8e8 * 20 / 1e21)
    # no header, comments allowed
    p2 = tmp_path / "plain.txt"
    p2.write_text("# my flux\n1 0 - 1 1 1 1 1\n")
    assert read_flux_table(p2).component("nue").integral() == pytest.approx(20 / 1e21)


def test_read_flux_table_reference_equals_shipped(reference_dir):
    f = read_flux_table(reference_dir / "flux" / FLUX_FILES["rhc"], "rhc")
    g = load_flux("rhc")
    for fl in FLAVORS:
        np.testing.assert_array_equal(f[fl].density_per_cm2_GeV_POT, g[fl].density_per_cm2_GeV_POT)


@pytest.mark.parametrize(
    "body, match",
    [
        ("1  0.00 - 0.10  1e10 2e10 3e8\n", r"flux\.txt:4: expected 8 columns"),
        ("1  0.00 - 0.10  1e10 2e10 3e8 4e8 5\n", r"flux\.txt:4: expected 8 columns"),
        ("1  0.00 - 0.10  1e10 abc 3e8 4e8\n", r"flux\.txt:4: non-numeric"),
        ("x  0.00 - 0.10  1e10 2e10 3e8 4e8\n", r"flux\.txt:4: bin number"),
        ("1  0.00 - 0.10  1e10 -2e10 3e8 4e8\n", r"flux\.txt:4: negative"),
        ("1  0.10 - 0.00  1e10 2e10 3e8 4e8\n", r"flux\.txt:4: bin upper edge"),
        ("1  0.00 - 0.10  1 1 1 1\n2  0.20 - 0.30  1 1 1 1\n", r"flux\.txt:5: bins are not contiguous"),
        ("1  0.00 - 0.10  1 1 1 1\n2  0.05 - 0.30  1 1 1 1\n", r"flux\.txt:5: bins are not contiguous"),
        ("1  0.00 - 0.10  1 1 nan 1\n", r"flux\.txt:4: non-finite"),
        ("", r"no flux bins"),
    ],
)
def test_read_flux_table_errors(tmp_path, body, match):
    with pytest.raises(InputError, match=match):
        read_flux_table(_write(tmp_path, body))


def test_read_flux_table_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_flux_table(tmp_path / "nope.txt")


# --------------------------------------------------------------------------------------
# kaon component and errors
# --------------------------------------------------------------------------------------
def _two_col(name: str) -> np.ndarray:
    return np.loadtxt(_pkg_data(name).decode().splitlines())


def test_kaon_flux_at_table_points():
    tab = _two_col("t2k_nd280_numu_from_kaons_log10.txt")
    k = kaon_numu_flux("fhc")
    for E, lv in tab[[0, 5, 17, -1]]:
        assert k(E) == pytest.approx(10**lv * 20 / 1e21, rel=1e-12)
    np.testing.assert_allclose(k.E_GeV, tab[:, 0])
    np.testing.assert_allclose(k.density_per_cm2_GeV_POT, 10 ** tab[:, 1] * 20 / 1e21, rtol=1e-12)


def test_kaon_flux_log_linear_between_points_and_zero_outside():
    tab = _two_col("t2k_nd280_numu_from_kaons_log10.txt")
    k = kaon_numu_flux("fhc")
    (E1, l1), (E2, l2) = tab[3], tab[4]
    Em = 0.25 * E1 + 0.75 * E2
    assert k(Em) == pytest.approx(10 ** (0.25 * l1 + 0.75 * l2) * 20 / 1e21, rel=1e-12)
    np.testing.assert_array_equal(k(np.array([0.0, tab[0, 0] - 1e-6, tab[-1, 0] + 1e-6, 20.0])), 0.0)


def test_kaon_rhc_is_fhc_times_ratio():
    ratio = _two_col("t2k_nd280_kaon_rhc_to_fhc_ratio.txt")
    f, r = kaon_numu_flux("fhc"), kaon_numu_flux("rhc")
    E = np.array([0.1, 0.5, 1.0, 2.5, 9.0])
    np.testing.assert_allclose(r(E), f(E) * np.interp(E, ratio[:, 0], ratio[:, 1]), rtol=1e-12)
    # at a ratio-table node the factor is the node value
    i = 20
    assert r(ratio[i, 0]) == pytest.approx(f(ratio[i, 0]) * ratio[i, 1], rel=1e-12)
    # held constant below the first ratio point (0.025 GeV < first flux point, so check the factor)
    assert r.ratio(0.0) == pytest.approx(ratio[0, 1]) and r.ratio(100.0) == pytest.approx(ratio[-1, 1])
    np.testing.assert_allclose(r.density_per_cm2_GeV_POT, r(r.E_GeV), rtol=1e-12)


def test_kaon_integral():
    k = kaon_numu_flux("fhc")
    E = np.linspace(k.E_GeV[0], k.E_GeV[-1], 2_000_001)
    brute = np.trapezoid(k(E), E)
    assert k.integral() == pytest.approx(brute, rel=1e-6)
    assert k.integral(1.0, 2.0) + k.integral(2.0, None) == pytest.approx(k.integral(1.0), rel=1e-12)
    kr = kaon_numu_flux("rhc")
    assert kr.integral() == pytest.approx(np.trapezoid(kr(E), E), rel=1e-6)
    b = k.binned(np.linspace(0.0, 10.0, 41))
    assert b.integral() == pytest.approx(k.integral(), rel=1e-9)


def test_flux_fractional_error():
    tab = _two_col("t2k_nd280_numu_flux_fractional_error.txt")
    assert flux_fractional_error(tab[4, 0]) == pytest.approx(tab[4, 1])
    mid = 0.5 * (tab[2, 0] + tab[3, 0])
    assert flux_fractional_error(mid) == pytest.approx(0.5 * (tab[2, 1] + tab[3, 1]))
    assert flux_fractional_error(0.0) == pytest.approx(tab[0, 1])
    assert flux_fractional_error(50.0) == pytest.approx(tab[-1, 1])
    vals = flux_fractional_error(np.linspace(0, 5, 50))
    assert np.all((vals > 0.05) & (vals < 0.2))
    E, f = flux_error_table()
    np.testing.assert_allclose(E, tab[:, 0])
