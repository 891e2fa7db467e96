"""A toy experiment defined purely by files under tests/data/toy (no code): the CLI runs
``rate`` and ``scan`` on it; fiducial volumes of other shapes are sampled correctly."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from dipolehnl.cli import main
from dipolehnl.detector.shapes import Cylinder
from dipolehnl.experiment import load_experiment
from dipolehnl.generate.sampling import GeneratorSettings, generate
from dipolehnl.physics.model import HNLModel

TOY = Path(__file__).parent / "data" / "toy"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_toy_experiment_loads_from_files():
    exp = load_experiment(TOY / "toy-experiment.toml")
    assert exp.name == "toy" and exp.modes == ("nu",) and exp.flavors("nu") == ("numu",)
    assert list(exp.fiducial_volumes) == ["tank", "ball"]
    assert exp.fiducial_volumes["ball"].volume_m3 == pytest.approx(4 / 3 * np.pi * 0.8**3)
    # 'bins' format in cm^-2 GeV^-1 POT^-1: the file's numbers, unchanged
    flux = exp.flux("nu", "numu")
    assert flux(0.55) == pytest.approx(2e-9) and flux(5.0) == 0.0


def test_rate_on_toy_experiment(capsys):
    code, out, err = run(
        capsys,
        "rate",
        "--experiment",
        TOY / "toy-experiment.toml",
        "--mode",
        "nu",
        "--mass",
        "0.05",
        "--coupling",
        "1e-6",
        "--pot",
        "1e20",
        "--events",
        "1500",
        "--json",
    )
    assert code == 0, err
    d = json.loads(out)
    assert set(d["fiducial_volumes"]) == {"tank", "ball"}
    assert d["selected_events"] > 0 and d["flux_components"] == ["nu:numu"]
    # production in the toy's own regions only
    assert set(d["production_share"]) <= {"rock", "tank", "argon"}


@pytest.mark.parametrize("analysis", ["toy-ee.toml", "toy-photon.toml"])
def test_scan_on_toy_experiment(capsys, tmp_path, analysis):
    code, _, err = run(
        capsys,
        "scan",
        "--analysis",
        TOY / analysis,
        "--masses",
        "0.02:0.5:3",
        "--couplings",
        "1e-8:1e-4:30",
        "--events",
        "300",
        "--workers",
        "1",
        "--out",
        tmp_path,
        "--quiet",
    )
    assert code == 0, err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["analysis"] == analysis.removesuffix(".toml")
    rows = list(csv.DictReader(open(tmp_path / "contour_90cl.csv")))
    assert len(rows) >= 3
    if analysis == "toy-photon.toml":  # 1e20 POT on a 150 m^3 tank: a band is excluded at every mass
        assert all(r["d_low_GeVinv"] for r in rows)


def test_uniform_sampling_in_any_shape_is_volume_weighted():
    """A cylinder and its two halves give the same decay rate (the per-event weight carries
    the shape's volume; points are uniform in it)."""
    exp = load_experiment(TOY / "toy-experiment.toml")
    model = HNLModel(0.1, 2e-6)
    comps = {"nu:numu": exp.flux("nu", "numu")}
    whole = {"tank": Cylinder((0, 0, 0), 2.5, 7.0, "z")}
    halves = {"up": Cylinder((0, 0, -1.75), 2.5, 3.5, "z"), "down": Cylinder((0, 0, 1.75), 2.5, 3.5, "z")}
    a = generate(exp.detector, model, comps, GeneratorSettings(n_events=4000, seed=1), fiducial=whole)
    b = generate(exp.detector, model, comps, GeneratorSettings(n_events=4000, seed=2), fiducial=halves)
    wa, wb = a.weights(), b.weights()
    sigma = np.hypot(a.mc_error(wa), b.mc_error(wb))
    assert abs(wa.sum() - wb.sum()) < 4 * sigma
    assert np.all(whole["tank"].contains(a.columns["decay_vertex_m"]))
    for name, shape in halves.items():
        k = b.columns["fiducial_volume"] == name
        assert np.all(shape.contains(b.columns["decay_vertex_m"][k]))


def test_experiments_command_lists_shipped(capsys):
    code, out, _ = run(capsys, "experiments", "--json")
    assert code == 0
    d = {e["name"]: e for e in json.loads(out)}
    assert set(d) >= {"t2k-nd280", "t2k-nd280-upgrade"}
    assert d["t2k-nd280"]["modes"] == {m: ["numu", "numubar", "nue", "nuebar"] for m in ("fhc", "rhc")}
    assert set(d["t2k-nd280-upgrade"]["fiducial_volumes"]) == {"TPC1", "TPC2", "TPC3", "HATPC_top", "HATPC_bottom"}
    code, out, _ = run(capsys, "experiments")
    assert code == 0 and "t2k-nd280" in out


def test_rate_with_the_channel_of_an_analysis(capsys):
    """``--analysis`` takes the signal channel from an analysis file (here single photons
    converting in the water tank: nothing from the argon ball)."""
    code, out, err = run(
        capsys,
        "rate",
        "--experiment",
        TOY / "toy-experiment.toml",
        "--mode",
        "nu",
        "--mass",
        "0.05",
        "--coupling",
        "1e-6",
        "--pot",
        "1e20",
        "--events",
        "1000",
        "--json",
        "--analysis",
        TOY / "toy-photon.toml",
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["channel"] == "single_photon" and "br_nu_gamma" in d
    assert d["fiducial_volumes"]["ball"]["selected"] == 0.0 < d["fiducial_volumes"]["tank"]["selected"]
