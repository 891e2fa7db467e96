"""Every user-facing input is validated: one line on stderr, exit code 2, no traceback.

All cases go through the command line (``dipolehnl.cli.main``): CLI values, detector
files, flux files and analysis files.  Each invalid file is a valid file with one defect,
and the valid file itself is checked to run, so that the error is due to the defect.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from importlib.resources import files
from pathlib import Path

import pytest

from dipolehnl.cli import main
from dipolehnl.detector import Box, Detector, Material, Volume, dump_detector_toml

RATE = ["rate", "--mass", "0.2", "--coupling", "1e-6", "--pot", "1e21", "--events", "300"]


def run_cli(capsys, argv):
    with warnings.catch_warnings(record=True) as caught:  # a warning would be extra stderr lines for a user
        warnings.simplefilter("always")
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
    out, err = capsys.readouterr()
    shown = [w for w in caught if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning))]
    assert not shown, f"warnings printed for {argv}: {[str(w.message) for w in shown]}"
    return code, out, err


def assert_input_error(capsys, argv, *fragments):
    code, _, err = run_cli(capsys, argv)
    assert code == 2, f"exit code {code} for {argv}: {err}"
    assert err.count("\n") == 1 and err.endswith("\n"), f"not exactly one stderr line: {err!r}"
    assert "Traceback" not in err
    for frag in fragments:
        assert frag.lower() in err.lower(), f"{frag!r} not in {err!r}"
    return err


def rate(**options):
    argv = list(RATE)
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if flag in argv:
            argv[argv.index(flag) + 1] = str(value)
        else:
            argv += [flag, str(value)]
    return argv


# ------------------------------------------------------------------ CLI values
@pytest.mark.parametrize("value", ["0", "-1", "-0.2", "nan", "inf", "-inf"])
@pytest.mark.parametrize("what", ["mass", "coupling", "pot"])
def test_non_positive_or_non_finite_numbers(capsys, what, value):
    i = rate().index(f"--{what}")
    argv = rate()[:i] + [f"--{what}={value}"] + rate()[i + 2 :]  # '=' form: '-1e-6' is not taken for an option
    assert_input_error(capsys, argv, {"pot": "POT"}.get(what, what), "positive")


@pytest.mark.parametrize("value", ["abc", "", "1e-6x"])
def test_non_numbers(capsys, value):
    assert_input_error(capsys, rate(coupling=value), "coupling")


def test_unknown_detector(capsys):
    assert_input_error(capsys, rate(detector="nd999"), "unknown detector", "nd999")


def test_missing_detector_file(capsys, tmp_path):
    assert_input_error(capsys, rate(detector=tmp_path / "nowhere.toml"), "not found")


def test_unknown_mode(capsys):
    assert_input_error(capsys, rate(mode="xhc"), "xhc")


def test_unknown_analysis(capsys, tmp_path):
    assert_input_error(capsys, ["scan", "--analysis", "t2k2099", "--out", tmp_path], "unknown analysis", "t2k2099")


def test_unknown_preset_and_flavor(capsys):
    assert_input_error(capsys, rate(preset="fancy"), "fancy")
    assert_input_error(capsys, rate(flavor="nutau"), "nutau")


@pytest.mark.parametrize(
    "grid,frag",
    [
        (["--masses", "nan"], "mass"),
        (["--masses", "0.1,-1"], "mass"),
        (["--masses", "30"], "above"),
        (["--couplings", "0:1e-4:5"], "coupling"),
        (["--couplings", "1e-7:1e-4:x"], "coupling"),
        (["--couplings", "1e-6,1e-6"], "increasing"),
        (["--events", "50"], "100 events"),
    ],
)
def test_bad_scan_grid(capsys, tmp_path, grid, frag):
    argv = [
        "scan",
        "--analysis",
        "t2k2019",
        "--masses",
        "0.1,0.2",
        "--couplings",
        "1e-7:1e-4:8",
        "--events",
        "300",
        "--quiet",
        "--out",
        tmp_path,
    ]
    argv[argv.index(grid[0]) + 1] = grid[1]
    assert_input_error(capsys, argv, frag)
    assert not (tmp_path / "summary.json").exists()


def test_infinite_grid_bound_prints_one_line_only():
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "dipolehnl.cli",
            "scan",
            "--analysis",
            "t2k2019",
            "--couplings",
            "1e-7:inf:3",
            "--out",
            "unused",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr


# ------------------------------------------------------------------ flux files
EDGES = [round(0.1 * k, 1) for k in range(21)]  # 0 ... 2 GeV
GOOD_ROWS = [
    [f"{i + 1}", f"{EDGES[i]:.2f}", "-", f"{EDGES[i + 1]:.2f}", "1.5e+10", "2.0e+09", "3.1e+08", "4.0e+07"]
    for i in range(20)
]


def write_flux(path: Path, rows) -> Path:
    header = [
        "                        Flux [/cm^2/50MeV/1E21POT]",
        "Bin#   Energy [GeV]     numu      anti-numu nue       anti-nue",
        "-" * 64,
    ]
    path.write_text("\n".join(header + ["  ".join(r) for r in rows]) + "\n")
    return path


def test_valid_flux_file_runs(capsys, tmp_path):
    code, out, err = run_cli(capsys, rate(flux_file=write_flux(tmp_path / "flux.txt", GOOD_ROWS)))
    assert code == 0, err
    assert "selected events" in out


def test_mass_above_the_flux_reach(capsys, tmp_path):
    f = write_flux(tmp_path / "flux.txt", GOOD_ROWS)
    assert_input_error(capsys, rate(mass=4.9, flux_file=f), "4.9", "flux")


def _corrupt(rows, i, j, value):
    rows = [list(r) for r in rows]
    rows[i][j] = value
    return rows


@pytest.mark.parametrize(
    "rows,frag",
    [
        (_corrupt(GOOD_ROWS, 5, 3, "0.40"), "upper edge"),  # bin 0.5 - 0.4: edges decrease
        (GOOD_ROWS[:5] + GOOD_ROWS[6:], "contiguous"),  # a missing bin
        (GOOD_ROWS[::-1], "contiguous"),  # bins in decreasing order
        (GOOD_ROWS[:8] + [GOOD_ROWS[7]] + GOOD_ROWS[8:], "contiguous"),  # a repeated bin
        (_corrupt(GOOD_ROWS, 3, 4, "-1.5e+10"), "negative"),
        (_corrupt(GOOD_ROWS, 12, 7, "-1"), "negative"),
        ([r[:-1] for r in GOOD_ROWS], "columns"),  # 7 columns
        (GOOD_ROWS[:4] + [GOOD_ROWS[4] + ["9.9e+09"]] + GOOD_ROWS[5:], "columns"),  # 9 columns on one line
        (_corrupt(GOOD_ROWS, 2, 5, "abc"), "non-numeric"),
        (_corrupt(GOOD_ROWS, 2, 5, "nan"), "non-finite"),
        (_corrupt(GOOD_ROWS, 2, 0, "x"), "bin number"),
        ([], "no flux bins"),
    ],
)
def test_invalid_flux_files(capsys, tmp_path, rows, frag):
    f = write_flux(tmp_path / "bad_flux.txt", rows)
    err = assert_input_error(capsys, rate(flux_file=f), frag)
    assert "bad_flux.txt" in err  # the message names the file


def test_missing_flux_file(capsys, tmp_path):
    assert_input_error(capsys, rate(flux_file=tmp_path / "nowhere.txt"), "cannot read flux file")


# ------------------------------------------------------------------ detector files
@pytest.fixture(scope="module")
def detector_text(tmp_path_factory) -> str:
    rock = Material.from_components("ROCK", [[1000140280, 0.4674349], [1000080160, 0.5325651]])
    gas = Material.from_components("GAS", [[1000180400, 1.0]])
    det = Detector(
        "mini",
        [
            Volume("world", Box(center_m=[0.0, 0.0, 0.0], size_m=[20.0, 20.0, 20.0]), rock, 2.9, "rock"),
            Volume("gas", Box(center_m=[0.0, 0.0, 0.5], size_m=[2.0, 2.5, 3.0]), gas, 0.001855, "TPC"),
        ],
        fiducial_volumes={"TPC1": Box(center_m=[0.0, 0.25, 0.5], size_m=[1.0, 1.0, 1.0])},
    )
    path = tmp_path_factory.mktemp("det") / "mini.toml"
    dump_detector_toml(det, path)
    return path.read_text()


def test_valid_detector_file_runs(capsys, tmp_path, detector_text):
    (tmp_path / "mini.toml").write_text(detector_text)
    code, out, err = run_cli(capsys, rate(detector=tmp_path / "mini.toml"))
    assert code == 0, err
    assert "TPC1" in out


@pytest.mark.parametrize(
    "old,new,frags",
    [
        ('material = "GAS"', 'material = "STEEL"', ["unknown material", "STEEL"]),
        ("[1000180400, 1.0]", "[1000189990, 1.0]", ["unknown nucleus"]),
        ("density_g_cm3 = 2.9", "density_g_cm3 = -2.9", ["density", ">= 0"]),
        ("density_g_cm3 = 2.9", "density_g_cm3 = nan", ["density", "finite"]),
        ("size_m = [2.0, 2.5, 3.0]", "size_m = [2.0, 0.0, 3.0]", ["volumes[1].size_m[1]", "must be > 0"]),
        ("size_m = [2.0, 2.5, 3.0]", "size_m = [2.0, -2.5, 3.0]", ["volumes[1].size_m[1]", "must be > 0"]),
        ("size_m = [2.0, 2.5, 3.0]", "size_m = [2.0, inf, 3.0]", ["size_m", "finite"]),
        ("size_m = [2.0, 2.5, 3.0]", "size_m = [nan, 2.5, 3.0]", ["size_m", "finite"]),
        ("center_m = [0.0, 0.0, 0.5]", "center_m = [0.0, inf, 0.5]", ["center_m", "finite"]),
        ("center_m = [0.0, 0.25, 0.5]", "center_m = [0.0, 0.25, 50.0]", ["TPC1", "not inside the detector"]),
        ('name = "gas"', 'name = "world"', ["duplicate volume name", "world"]),
        ("format_version = 1", "format_version = 7", ["format_version"]),
        ('shape = "box"\ncenter_m = [0.0, 0.0, 0.5]', 'shape = "cone"\ncenter_m = [0.0, 0.0, 0.5]', ["unknown shape"]),
        ("size_m = [2.0, 2.5, 3.0]", "size_m = [2.0, 2.5]", ["3 numbers"]),
        ("density_g_cm3 = 2.9", 'density_g_cm3 = "2.9"', ["volumes[0].density_g_cm3", "expected a number"]),
        ("[[volumes]]", '[[volumes]]\ncolour = "red"', ["unknown key"]),
        ("[[volumes]]", "[[volumes", ["invalid TOML"]),
    ],
)
def test_invalid_detector_files(capsys, tmp_path, detector_text, old, new, frags):
    assert detector_text.count(old) == 1 or old == "[[volumes]]", old
    f = tmp_path / "bad_detector.toml"
    f.write_text(detector_text.replace(old, new, 1))
    err = assert_input_error(capsys, rate(detector=f), *frags)
    assert "bad_detector.toml" in err  # the message names the file


def test_detector_with_duplicate_material_table_is_invalid_toml(capsys, tmp_path, detector_text):
    f = tmp_path / "dup.toml"
    f.write_text(detector_text + "\n[materials.GAS]\ncomponents = [[1000180400, 1.0]]\n")
    assert_input_error(capsys, rate(detector=f), "invalid TOML")


# ------------------------------------------------------------------ analysis files
T2K2019 = files("dipolehnl").joinpath("analysis", "data", "analyses", "t2k2019.toml").read_text()
SCAN = ["scan", "--masses", "0.1", "--couplings", "1e-7:1e-4:8", "--events", "300", "--workers", "1", "--quiet"]


@pytest.mark.parametrize(
    "old,new,frags",
    [
        ('name = "t2k2019"\n', "", ["name", "missing key"]),
        ("pot = 12.34e20\n", "", ["dataset[0].pot", "missing key"]),
        ("cos_theta_min = 0.992", "# cos_theta_min", ["selection.cos_theta_min", "missing key"]),
        ('statistic = "poisson_zero_background"', "# no statistic", ["statistic", "missing key"]),
        ("pot = 12.34e20", 'pot = "lots"', ["dataset[0].pot", "expected a number"]),
        ("pot = 12.34e20", "pot = true", ["dataset[0].pot", "expected a number"]),
        ("pot = 12.34e20", "pot = 1979-05-27", ["dataset[0].pot", "expected a number"]),
        ("pot = 12.34e20", "pot = nan", ["dataset[0].pot", "finite"]),
        ("pot = 12.34e20", "pot = -1.0", ["dataset[0].pot", "> 0"]),
        ("observed = 0", "observed = 0.5", ["observed", "integer"]),
        (
            'fiducial_volumes = ["TPC1", "TPC2", "TPC3"]',
            'fiducial_volumes = "TPC1"',
            ["dataset[0].fiducial_volumes", "expected a list"],
        ),
        ('fiducial_volumes = ["TPC1", "TPC2", "TPC3"]', 'fiducial_volumes = ["TPC9"]', ["fiducial_volumes", "TPC9"]),
        ('name = "t2k2019"', "name = 2019", ["name", "expected a string"]),
        ("cl = [0.95]", 'cl = "0.95"', ["cl", "list of numbers"]),
        ("cl = [0.95]", "cl = [1.5]", ["cl[0]", "must be < 1"]),
        ('experiment = "t2k-nd280"', 'experiment = "sk"', ["dataset[0].experiment", "unknown experiment"]),
        ('experiment = "t2k-nd280"', 'experiment = "nowhere.toml"', ["dataset[0].experiment", "nowhere.toml"]),
        ('channel = "ee"', 'channel = "mu_mu"', ["selection.channel", "unknown channel"]),
        ('mode = "fhc"', 'mode = "xhc"', ["mode", "xhc"]),
        ('efficiency = "t2k2019"', "efficiency = 5", ["selection.efficiency", "expected a string"]),
        ("[selection]", "colour = 1\n[selection]", ["colour", "unknown key"]),
        ("cl = [0.95]", "cl = [0.95", ["invalid TOML"]),
    ],
)
def test_invalid_analysis_files(capsys, tmp_path, old, new, frags):
    assert old in T2K2019, old
    f = tmp_path / "bad_analysis.toml"
    f.write_text(T2K2019.replace(old, new, 1))
    err = assert_input_error(capsys, SCAN + ["--analysis", f, "--out", tmp_path / "out"], *frags)
    assert "bad_analysis.toml" in err
    assert not (tmp_path / "out" / "summary.json").exists()


def test_valid_analysis_file_parses(tmp_path):
    from dipolehnl.analysis.analyses import load_analysis

    f = tmp_path / "mine.toml"
    f.write_text(T2K2019.replace('name = "t2k2019"', 'name = "mine"', 1))
    a = load_analysis(f)
    assert a.name == "mine" and len(a.datasets) == 2


# ------------------------------------------------------------------ experiment files
TOY = Path(__file__).parent / "data" / "toy"


@pytest.fixture()
def toy_dir(tmp_path):
    for f in TOY.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    return tmp_path


def test_valid_experiment_file_runs(capsys, toy_dir):
    code, out, err = run_cli(capsys, rate(experiment=toy_dir / "toy-experiment.toml", mode="nu"))
    assert code == 0, err


@pytest.mark.parametrize(
    "old,new,frags",
    [
        ('name = "toy"', "", ["name", "missing key"]),
        ('name = "toy"', 'name = "toy"\ncolour = "red"', ["colour", "unknown key"]),
        ("distance_m = 500.0", "distance_m = -5.0", ["beam.distance_m", "must be > 0"]),
        ("distance_m = 500.0", 'distance_m = "far"', ["beam.distance_m"]),
        ("[beam.modes.nu.numu]", "[beam.modes.nu.numuu]", ["beam.modes.nu", "numuu"]),
        ('file = "toy-flux.txt"', 'file = "nowhere.txt"', ["beam.modes.nu.numu.file", "not found"]),
        ('format = "bins"', 'format = "root"', ["beam.modes.nu.numu.format"]),
        ('units = "cm-2 GeV-1 POT-1"', 'units = "per furlong"', ["beam.modes.nu.numu.units"]),
        ('format = "bins"', 'format = "t2k"', ["beam.modes.nu.numu", "toy-flux.txt"]),
        ('file = "toy-detector.toml"', 'file = "nowhere.toml"', ["detector.file", "not found"]),
        ('shape = "sphere"', 'shape = "cone"', ["fiducial_volumes.ball.shape"]),
        ("radius_m = 0.8", "radius_m = -0.8", ["fiducial_volumes.ball.radius_m"]),
        ("radius_m = 0.8", "", ["fiducial_volumes.ball", "radius_m"]),
        (
            "center_m = [0.0, 0.0, 6.0]",
            "center_m = [0.0, 0.0, 60.0]",
            ["fiducial_volumes.ball", "not inside the detector"],
        ),
        ("center_m = [0.0, 0.0, 6.0]", "center_m = [0.0, 6.0]", ["fiducial_volumes.ball.center_m"]),
        ("[detector]", "[detector", ["invalid TOML"]),
    ],
)
def test_invalid_experiment_files(capsys, toy_dir, old, new, frags):
    text = (toy_dir / "toy-experiment.toml").read_text()
    assert old in text, old
    f = toy_dir / "bad_experiment.toml"
    f.write_text(text.replace(old, new, 1))
    err = assert_input_error(capsys, rate(experiment=f, mode="nu"), *frags)
    assert "bad_experiment.toml" in err  # the message names the file


def test_bad_flux_table_named_with_experiment_key(capsys, toy_dir):
    (toy_dir / "toy-flux.txt").write_text("0.0 0.1 1e-9\n0.2 0.3 1e-9\n")
    err = assert_input_error(
        capsys, rate(experiment=toy_dir / "toy-experiment.toml", mode="nu"), "beam.modes.nu.numu", "not contiguous"
    )
    assert "toy-experiment.toml" in err


def test_unknown_mode_of_experiment(capsys, toy_dir):
    assert_input_error(capsys, rate(experiment=toy_dir / "toy-experiment.toml", mode="fhc"), "no beam mode", "fhc")


def test_unknown_experiment(capsys):
    assert_input_error(capsys, rate(experiment="superk"), "unknown experiment", "superk")


@pytest.mark.parametrize(
    "old,new,frags",
    [
        ('experiment = "toy-experiment.toml"', 'experiment = "other.toml"', ["dataset[0].experiment", "other.toml"]),
        ('mode = "nu"', 'mode = "fhc"', ["dataset[0].mode", "fhc"]),
        ('fiducial_volumes = ["tank"]', 'fiducial_volumes = ["TPC1"]', ["dataset[0].fiducial_volumes", "TPC1"]),
        ("photon_angle_max_deg = 30.0", "photon_angle_max_deg = 300.0", ["selection.photon_angle_max_deg"]),
        ("mean_free_path_X0 = 1.2857142857142858", "mean_free_path_X0 = 0", ["selection.mean_free_path_X0"]),
        (
            'channel = "single_photon"',
            'channel = "single_photon"\ncos_theta_min = 0.9',
            ["selection.cos_theta_min", "unknown key"],
        ),
    ],
)
def test_invalid_toy_analysis_files(capsys, toy_dir, old, new, frags):
    text = (toy_dir / "toy-photon.toml").read_text()
    assert old in text, old
    f = toy_dir / "bad_analysis.toml"
    f.write_text(text.replace(old, new, 1))
    err = assert_input_error(capsys, SCAN + ["--analysis", f, "--out", toy_dir / "out"], *frags)
    assert "bad_analysis.toml" in err


# ------------------------------------------------------------------ ranges and limits (issue 11, docs/robustness.md)
@pytest.mark.parametrize(
    "key,value,frag",
    [
        ("coupling", "2", "[1e-15, 1]"),
        ("coupling", "1e-16", "[1e-15, 1]"),
        ("mass", "5.5", "maximum"),
        ("pot", "1e26", "1e+25"),
        ("gas_density", "51", "50"),
        ("events", "5000001", "5,000,000"),
        ("seed", "9223372036854775808", "seed"),
        ("fiducial", "TPC1=1,2,3", "NAME=CX"),
    ],
)
def test_values_outside_the_documented_ranges(capsys, key, value, frag):
    assert_input_error(capsys, rate(**{key: value}), frag)


def test_xsec_energy_range(capsys):
    assert_input_error(
        capsys,
        ["xsec", "--mass", "0.2", "--coupling", "1e-6", "--target", "1000060120", "--energy", "1001"],
        "energy",
        "1000",
    )


def test_analysis_pot_range(capsys, tmp_path):
    text = files("dipolehnl").joinpath("analysis", "data", "analyses", "t2k2019.toml").read_text()
    bad = tmp_path / "a.toml"
    bad.write_text(text.replace("pot = 12.34e20", "pot = 1e30", 1))
    assert "pot = 1e30" in bad.read_text()
    assert_input_error(
        capsys, ["scan", "--analysis", bad, "--masses", "0.1,0.2", "--out", tmp_path / "o"], "pot", "1e+25"
    )
