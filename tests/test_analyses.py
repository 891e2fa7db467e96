"""Tests of the selection efficiency and the analysis definitions (TOML)."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from dipolehnl.analysis import statistics as st
from dipolehnl.analysis.analyses import Analysis, available_analyses, load_analysis
from dipolehnl.analysis.efficiency import SelectionEfficiency, load_efficiency
from dipolehnl.errors import InputError

# Reference README, "Exposures and backgrounds" (numbers typed in independently of the TOML files)
POT_2019 = {"fhc": 12.34e20, "rhc": 6.29e20}
B_2019 = {"fhc": 0.563, "rhc": 0.015}
POT_FULL = {"fhc": 19.7e20, "rhc": 16.3e20}
POT_T2K2_TOTAL = 1e22


# --------------------------------------------------------------------------------------
# efficiency
# --------------------------------------------------------------------------------------
def _eff_table() -> np.ndarray:
    text = (
        files("dipolehnl")
        .joinpath("analysis", "data", "efficiency", "t2k2019_hnl_ee_selection_efficiency.txt")
        .read_text()
    )
    return np.loadtxt(text.splitlines())


def test_efficiency_copy_keeps_reference_content(reference_dir):
    ref = (reference_dir / "analysis" / "t2k2019_hnl_ee_selection_efficiency.txt").read_text()
    ours = (
        files("dipolehnl")
        .joinpath("analysis", "data", "efficiency", "t2k2019_hnl_ee_selection_efficiency.txt")
        .read_text()
    )
    assert ours.endswith(ref)
    assert "Provenance" in ours and "PRD 100, 052006" in ours


def test_efficiency_min_of_channels_and_interpolation():
    tab = _eff_table()
    eff = load_efficiency("t2k2019")
    mins = np.minimum(tab[:, 1], tab[:, 2])
    np.testing.assert_allclose(eff(tab[:, 0] / 1e3), mins)
    # between nodes: linear
    m = 0.5 * (tab[8, 0] + tab[9, 0])
    assert eff(m / 1e3) == pytest.approx(0.5 * (mins[8] + mins[9]))
    # min of the interpolated channels equals the interpolated min (e channel is smaller everywhere)
    grid = np.linspace(150, 475, 500)
    np.testing.assert_allclose(
        eff(grid / 1e3), np.minimum(np.interp(grid, tab[:, 0], tab[:, 1]), np.interp(grid, tab[:, 0], tab[:, 2]))
    )
    assert isinstance(eff(0.3), float)


def test_efficiency_outside():
    tab = _eff_table()
    hold = load_efficiency()
    zero = load_efficiency(outside="zero")
    assert hold(0.05) == pytest.approx(min(tab[0, 1:])) and hold(0.9) == pytest.approx(min(tab[-1, 1:]))
    assert zero(0.149) == 0.0 and zero(0.476) == 0.0
    assert zero(0.150) == pytest.approx(min(tab[0, 1:])) and zero(0.475) == pytest.approx(min(tab[-1, 1:]))
    assert hold.with_outside("zero")(0.1) == 0.0
    with pytest.raises(InputError):
        load_efficiency(outside="extrapolate")  # type: ignore[arg-type]


def test_efficiency_user_file_and_errors(tmp_path):
    p = tmp_path / "eff.txt"
    p.write_text("# m eff\n100 0.5\n200 0.3\n")
    e = load_efficiency(p)
    assert e(0.15) == pytest.approx(0.4)
    p.write_text("100 0.5 0.4\n200 0.3\n")
    with pytest.raises(InputError, match=r"eff\.txt:2"):
        load_efficiency(p)
    p.write_text("100 0.5\n200 x\n")
    with pytest.raises(InputError, match=r"eff\.txt:2: non-numeric"):
        load_efficiency(p)
    p.write_text("100 0.5\n200 1.3\n")
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        load_efficiency(p)
    with pytest.raises(InputError, match="unknown efficiency"):
        load_efficiency("t2k2030")
    with pytest.raises(InputError):
        SelectionEfficiency(np.array([2.0, 1.0]), np.array([[0.1, 0.1]]))


# --------------------------------------------------------------------------------------
# shipped analyses
# --------------------------------------------------------------------------------------
def test_available_analyses():
    assert available_analyses() == ["t2k+t2k2", "t2k-full", "t2k2019"]


def test_t2k2019():
    a = load_analysis("t2k2019")
    assert isinstance(a, Analysis)
    assert a.statistic == "poisson_zero_background" and a.cl == (0.95,) and a.sigma == ()
    assert a.selection.cos_theta_min == 0.992 and a.selection.opening_angle_max_deg == 90.0
    assert a.selection.efficiency == "t2k2019" and a.selection.efficiency_outside == "hold"
    assert [(d.experiment, d.mode) for d in a.datasets] == [("t2k-nd280", "fhc"), ("t2k-nd280", "rhc")]
    for d in a.datasets:
        assert d.pot == pytest.approx(POT_2019[d.mode], rel=1e-12)
        assert d.background == pytest.approx(B_2019[d.mode], rel=1e-12)
        assert d.observed == 0 and not d.is_asimov
        assert d.fiducial_volumes == ("TPC1", "TPC2", "TPC3")
    (lvl,) = a.levels()
    assert lvl.threshold == pytest.approx(-np.log(0.05))
    # exclusion when the total expected signal exceeds 3.00 events
    s = np.array([[2.0, 1.0, 0.5], [1.1, 1.0, 0.5]])
    np.testing.assert_array_equal(a.excluded(s, lvl), [True, False, False])
    assert a.total_pot() == pytest.approx(12.34e20 + 6.29e20)
    assert isinstance(a.selection.efficiency_function()(0.3), float)


def test_t2k_full_backgrounds_scaled_by_pot():
    a = load_analysis("t2k-full")
    assert a.statistic == "asimov"
    assert len(a.datasets) == 2
    for d in a.datasets:
        assert d.experiment == "t2k-nd280" and d.is_asimov
        assert d.pot == pytest.approx(POT_FULL[d.mode], rel=1e-12)
        assert d.background == pytest.approx(B_2019[d.mode] * POT_FULL[d.mode] / POT_2019[d.mode], rel=1e-12)
    assert a.datasets[0].background == pytest.approx(0.8988, abs=1e-4)
    assert a.datasets[1].background == pytest.approx(0.03887, abs=1e-5)


def test_t2k_plus_t2k2():
    a = load_analysis("t2k+t2k2")
    assert a.statistic == "asimov" and a.cl == (0.95,) and a.sigma == (5.0,)
    nd = [d for d in a.datasets if d.experiment == "t2k-nd280"]
    up = [d for d in a.datasets if d.experiment == "t2k-nd280-upgrade"]
    assert len(nd) == 2 and len(up) == 2
    for d in nd:
        assert d.pot == pytest.approx(POT_FULL[d.mode], rel=1e-12)
        assert d.background == pytest.approx(B_2019[d.mode] * POT_FULL[d.mode] / POT_2019[d.mode], rel=1e-12)
    for d in up:
        pot = POT_T2K2_TOTAL - POT_FULL[d.mode]
        assert d.pot == pytest.approx(pot, rel=1e-12)
        assert d.background == pytest.approx(B_2019[d.mode] * pot / POT_2019[d.mode] * 5.0 / 3.0, rel=1e-12)
        assert set(d.fiducial_volumes) == {"TPC1", "TPC2", "TPC3", "HATPC_top", "HATPC_bottom"}
    # about 2e22 POT in total (paper)
    assert a.total_pot() == pytest.approx(2e22, rel=1e-12)
    assert a.total_pot(experiment="t2k-nd280-upgrade") == pytest.approx(2e22 - 19.7e20 - 16.3e20)
    # levels: one-sided 95% CL and 5 sigma
    l95, l5 = a.levels()
    assert l95.threshold == pytest.approx(st.q_threshold(0.95)) and l5.threshold == pytest.approx(25.0)
    assert l5.sigma == 5.0
    # statistic sums over the four data sets with the chosen q
    s = np.array([1.0, 0.2, 3.0, 0.5])
    expected = sum(st.q_asimov_discovery(si, d.background) for si, d in zip(s, a.datasets))
    assert a.test_statistic(s) == pytest.approx(expected)
    assert a.excluded(s, l95) == (expected >= l95.threshold)
    grid = np.outer(s, [0.1, 1.0, 10.0])
    q = a.test_statistic(grid)
    assert q.shape == (3,) and np.all(np.diff(q) > 0)
    with pytest.raises(InputError):
        a.test_statistic(np.ones(3))


def test_reference_readme_numbers_match(reference_dir):
    """The README's exposure table as printed (parsed, not typed in) agrees with the shipped files."""
    text = (reference_dir / "README.md").read_text()
    assert "12.34×10²⁰" in text and "6.29×10²⁰" in text and "0.563 (ν)" in text and "0.015 (ν̄)" in text
    assert "10²² − 19.7×10²⁰" in text and "10²² − 16.3×10²⁰" in text and "×5/3" in text
    assert re.search(r"−ln 0\.05 ≈ 3\.00", text)


# --------------------------------------------------------------------------------------
# user TOML files and validation
# --------------------------------------------------------------------------------------
GOOD = """
name = "mine"
statistic = "asimov"
cl = [0.9, 0.95]
[selection]
cos_theta_min = 0.99
opening_angle_max_deg = 90
efficiency = "t2k2019"
[[dataset]]
name = "a"
experiment = "t2k-nd280"
mode = "fhc"
pot = 1e21
background = 0.5
fiducial_volumes = ["TPC2"]
"""


def _write(tmp_path, text: str) -> Path:
    p = tmp_path / "ana.toml"
    p.write_text(text)
    return p


def test_user_analysis(tmp_path):
    a = load_analysis(_write(tmp_path, GOOD))
    assert a.name == "mine" and a.cl == (0.9, 0.95) and a.asimov_q == "discovery" and a.one_sided
    assert a.selection.efficiency_outside == "hold"
    assert a.datasets[0].observed is None and a.datasets[0].fiducial_volumes == ("TPC2",)
    # efficiency from a file next to the TOML
    (tmp_path / "eff.txt").write_text("100 0.5\n200 0.3\n")
    a2 = load_analysis(
        _write(tmp_path, GOOD.replace('efficiency = "t2k2019"', 'efficiency = "eff.txt"\nefficiency_outside = "zero"'))
    )
    assert a2.selection.efficiency_function()(0.15) == pytest.approx(0.4)
    assert a2.selection.efficiency_function()(0.3) == 0.0
    # background from a scaling description
    a3 = load_analysis(
        _write(
            tmp_path,
            GOOD.replace(
                "background = 0.5",
                "background_scaling = { reference_pot = 5e20, reference_background = 0.2, "
                "reference_n_fiducial_volumes = 2 }",
            ),
        )
    )
    assert a3.datasets[0].background == pytest.approx(0.2 * 2 * 0.5)


@pytest.mark.parametrize(
    "old, new, match",
    [
        ('name = "mine"\n', "", r"ana\.toml: name: missing key"),
        ('statistic = "asimov"', 'statistic = "cls"', r"ana\.toml: statistic: unknown statistic"),
        ('mode = "fhc"', 'mode = "numode"', r"ana\.toml: dataset\[0\]\.mode: unknown beam mode"),
        ('experiment = "t2k-nd280"', 'experiment = "superk"', r"dataset\[0\]\.experiment: unknown experiment"),
        ("pot = 1e21", 'pot = "many"', r"dataset\[0\]\.pot: expected a number"),
        ("pot = 1e21", "pot = -1.0", r"dataset\[0\]\.pot: must be > 0"),
        ("pot = 1e21\n", "", r"dataset\[0\]\.pot: missing key"),
        (
            'fiducial_volumes = ["TPC2"]',
            'fiducial_volumes = ["HATPC_top"]',
            r"dataset\[0\]\.fiducial_volumes: unknown fiducial volume",
        ),
        ('fiducial_volumes = ["TPC2"]', "fiducial_volumes = []", r"dataset\[0\]\.fiducial_volumes"),
        ('fiducial_volumes = ["TPC2"]', 'fiducial_volumes = ["TPC2", "TPC2"]', r"duplicate"),
        ("background = 0.5\n", "", r"dataset\[0\]\.background: give exactly one"),
        (
            "background = 0.5",
            "background = 0.5\nbackground_scaling = { reference_pot = 1e20, reference_background = 1.0 }",
            r"exactly one",
        ),
        (
            "background = 0.5",
            "background_scaling = { reference_pot = 1e20 }",
            r"background_scaling\.reference_background: missing key",
        ),
        (
            "background = 0.5",
            "background_scaling = { reference_pot = 1e20, reference_background = 1.0, volume = 2 }",
            r"unknown key",
        ),
        ("background = 0.5", "background = 0.5\nobserved = 1.5", r"dataset\[0\]\.observed: expected an integer"),
        ("background = 0.5", "background = -0.5", r"background: must be >= 0"),
        ("cl = [0.9, 0.95]", "cl = [95]", r"ana\.toml: cl\[0\]: must be < 1"),
        ("cl = [0.9, 0.95]", "", r"give at least one"),
        ("cl = [0.9, 0.95]", 'cl = ["x"]', r"cl: expected a list of numbers"),
        ("cos_theta_min = 0.99", "cos_theta_min = 1.5", r"selection\.cos_theta_min"),
        ("cos_theta_min = 0.99\n", "", r"selection\.cos_theta_min: missing key"),
        ('efficiency = "t2k2019"', 'efficiency = "nothere"', r"selection\.efficiency"),
        (
            'efficiency = "t2k2019"',
            'efficiency = "t2k2019"\nefficiency_outside = "linear"',
            r"selection\.efficiency_outside",
        ),
        ('statistic = "asimov"', 'statistic = "asimov"\nasimov_q = "cls"', r"asimov_q"),
        ('statistic = "asimov"', 'statistic = "asimov"\nsurprise = 1', r"surprise: unknown key"),
        ("[[dataset]]", "[[datasetx]]", r"unknown key"),
    ],
)
def test_validation_errors(tmp_path, old, new, match):
    assert old in GOOD
    with pytest.raises(InputError, match=match):
        load_analysis(_write(tmp_path, GOOD.replace(old, new, 1)))


def test_invalid_toml_and_unknown_name(tmp_path):
    with pytest.raises(InputError, match="invalid TOML"):
        load_analysis(_write(tmp_path, "name = \n"))
    with pytest.raises(InputError, match="unknown analysis"):
        load_analysis("t2k2077")


def test_duplicate_dataset_names(tmp_path):
    ds = GOOD[GOOD.index("[[dataset]]") :]
    with pytest.raises(InputError, match="unique"):
        load_analysis(_write(tmp_path, GOOD + ds))
