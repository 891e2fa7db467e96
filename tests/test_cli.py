"""Command-line interface: JSON contracts, errors (one line, exit code 2), outputs."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from dipolehnl.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_width_json(capsys):
    code, out, err = run(capsys, "width", "--mass", "0.2", "--coupling", "5e-7", "--convention", "darknews", "--json")
    assert code == 0
    d = json.loads(out)
    for key in ("gamma_nu_gamma_GeV", "gamma_nu_ee_GeV", "br_ee", "ctau_m"):
        assert key in d
    assert d["gamma_nu_gamma_GeV"] == pytest.approx(7.9577e-17, rel=1e-4)  # PHYSICS.md §2
    assert d["gamma_nu_ee_GeV"] == pytest.approx(2.7540e-19, rel=1e-4)


def test_xsec_json(capsys):
    code, out, _ = run(
        capsys,
        "xsec",
        "--mass",
        "0.2",
        "--coupling",
        "5e-7",
        "--target",
        "1000060120",
        "--energy",
        "1.0",
        "--convention",
        "darknews",
        "--json",
    )
    assert code == 0
    d = json.loads(out)
    for key in ("coherent_cm2", "incoherent_cm2", "total_cm2", "helicity_flip_cm2", "helicity_conserving_cm2"):
        assert key in d
    assert d["coherent_cm2"] == pytest.approx(2.392e-40, rel=2e-3)  # PHYSICS.md §4
    assert d["incoherent_cm2"] == pytest.approx(0.7969e-40, rel=2e-3)
    assert d["total_cm2"] == pytest.approx(d["helicity_flip_cm2"])  # darknews: noHC
    code, out, _ = run(
        capsys, "xsec", "--mass", "0.2", "--coupling", "5e-7", "--target", "1000060120", "--energy", "1.0", "--json"
    )
    d = json.loads(out)
    assert d["total_cm2"] == pytest.approx(d["helicity_flip_cm2"] + d["helicity_conserving_cm2"])


@pytest.mark.parametrize(
    "argv",
    [
        ["width", "--mass", "-0.1", "--coupling", "1e-6"],
        ["width", "--mass", "0", "--coupling", "1e-6"],
        ["width", "--mass", "0.1", "--coupling", "nan"],
        ["width", "--mass", "abc", "--coupling", "1e-6"],
        ["xsec", "--mass", "0.2", "--coupling", "1e-6", "--target", "1000060120", "--energy", "0.1"],
        ["xsec", "--mass", "0.2", "--coupling", "1e-6", "--target", "1000990990", "--energy", "1"],
        ["xsec", "--mass", "0.2", "--coupling", "1e-6", "--target", "42", "--energy", "1"],
        ["rate", "--detector", "nowhere", "--mass", "0.2", "--coupling", "1e-6", "--pot", "1e21"],
        ["rate", "--mass", "0.2", "--coupling", "1e-6", "--pot", "-5"],
        ["rate", "--mass", "30", "--coupling", "1e-6", "--pot", "1e21"],
        ["rate", "--mode", "xhc", "--mass", "0.2", "--coupling", "1e-6", "--pot", "1e21"],
    ],
)
def test_bad_input_one_line_exit_2(capsys, argv):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse-level errors (non-numbers, unknown choices)
        code = exc.code
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err


def test_simulate_parquet_and_reproducibility(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    args = [
        "simulate",
        "--experiment",
        "t2k-nd280",
        "--mode",
        "fhc",
        "--mass",
        "0.3",
        "--coupling",
        "1e-6",
        "--events",
        "600",
        "--seed",
        "7",
    ]
    assert main(args + ["--out", str(tmp_path / "a.parquet")]) == 0
    assert main(args + ["--out", str(tmp_path / "b.parquet")]) == 0
    h = [hashlib.sha256((tmp_path / f).read_bytes()).hexdigest() for f in ("a.parquet", "b.parquet")]
    assert h[0] == h[1]
    df = pd.read_parquet(tmp_path / "a.parquet")
    assert len(df) == 600
    for col in (
        "weight",
        "E_nu_GeV",
        "flavor",
        "target_pdg",
        "production_volume",
        "production_vertex_m_z",
        "p_N_E",
        "decay_vertex_m_z",
        "fiducial_volume",
        "p_eplus_E",
        "p_eminus_pz",
        "pass_forward",
        "pass_opening_angle",
        "efficiency",
    ):
        assert col in df.columns
    assert set(df["fiducial_volume"]) <= {"TPC1", "TPC2", "TPC3"}
    assert set(df["flavor"]) <= {"numu", "numubar"}
    # no temporary files left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.parquet", "b.parquet"]


def test_rate_json_contract(capsys):
    code, out, _ = run(
        capsys,
        "rate",
        "--experiment",
        "t2k-nd280-upgrade",
        "--mode",
        "rhc",
        "--mass",
        "0.3",
        "--coupling",
        "1e-6",
        "--pot",
        "1e21",
        "--events",
        "2000",
        "--json",
    )
    assert code == 0
    d = json.loads(out)
    for key in ("selected_events", "rel_mc_error", "median_decay_length_m", "production_share", "fiducial_volumes"):
        assert key in d
    assert set(d["fiducial_volumes"]) == {"TPC1", "TPC2", "TPC3", "HATPC_top", "HATPC_bottom"}
    assert "rock" in d["production_share"] and "P0D" not in d["production_share"]
    assert sum(d["production_share"].values()) == pytest.approx(1.0)
    for t in d["fiducial_volumes"].values():
        assert t["decays_in_fiducial"] >= t["forward"] >= t["ee"] >= t["opening_angle"] >= t["selected"] >= 0
    assert d["selected_events"] == pytest.approx(sum(t["selected"] for t in d["fiducial_volumes"].values()))


def test_console_script_no_traceback():
    r = subprocess.run(
        [sys.executable, "-m", "dipolehnl.cli", "width", "--mass", "-1", "--coupling", "1e-6"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
