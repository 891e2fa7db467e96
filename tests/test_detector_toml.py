"""TOML detector format: round trip, validation, shipped models, load_detector."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import tomllib

from dipolehnl.detector import (
    PAPER_TPC_GAS_DENSITY_G_CM3,
    Box,
    Cylinder,
    Detector,
    Material,
    Sphere,
    Volume,
    available_detectors,
    dump_detector_toml,
    dumps_detector_toml,
    load_detector,
    load_detector_toml,
    loads_detector_toml,
)
from dipolehnl.errors import InputError

MODELS = Path(__file__).resolve().parents[1] / "src" / "dipolehnl" / "detector" / "models"


def assert_same_detector(a: Detector, b: Detector) -> None:
    assert a.name == b.name and a.description == b.description
    assert a.volume_names == b.volume_names
    for va, vb in zip(a.volumes, b.volumes):
        assert va.subsystem == vb.subsystem
        assert va.density_g_cm3 == vb.density_g_cm3
        assert va.material.same_composition(vb.material, rtol=0.0)
        assert va.shape.to_dict() == vb.shape.to_dict()
    assert {k: v.to_dict() for k, v in a.fiducial_volumes.items()} == {
        k: v.to_dict() for k, v in b.fiducial_volumes.items()
    }


def test_round_trip_all_shapes(tmp_path):
    gas = Material("GAS", np.array([1000180400, 1000060120]), np.array([0.95, 0.05]))
    rock = Material('weird name "x"', np.array([1000140280, 1000080160]), np.array([0.4674349, 0.5325651]))
    det = Detector(
        "round-trip",
        [
            Volume("world", Box(center_m=(0, 0, -1.5), size_m=(20, 20.5, 1e-3 + 30)), rock, 2.9, "rock"),
            Volume("ball", Sphere(center_m=(1, 2, 3), radius_m=0.1 + 0.2), rock, 1e-5, "other"),
            Volume("pipe", Cylinder(center_m=(0, 0, 0), radius_m=1.5, length_m=2.0, axis="x"), gas, 0.0, "beam pipe"),
            Volume("tpc", Box(center_m=(0, 0, 5), size_m=(2, 2, 2)), gas, 0.001855, "TPC"),
        ],
        {"FV one": Box(center_m=(0, 0, 5), size_m=(1, 1, 1))},
        description='multi\nline "description" \\ with ünïcode',
    )
    p = tmp_path / "d.toml"
    dump_detector_toml(det, p, header="provenance line 1\nline 2")
    text = p.read_text()
    assert text.startswith("# provenance line 1\n# line 2\n")
    tomllib.loads(text)  # valid TOML
    back = load_detector_toml(p)
    assert_same_detector(det, back)
    assert dumps_detector_toml(back, header="provenance line 1\nline 2") == text
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("name", ["nd280", "nd280-upgrade"])
def test_shipped_models_round_trip(tmp_path, name):
    det = load_detector(name)
    dump_detector_toml(det, tmp_path / "x.toml")
    assert_same_detector(det, load_detector(tmp_path / "x.toml"))


def test_shipped_models_content():
    assert available_detectors() == ["nd280", "nd280-upgrade"]
    nd = load_detector("nd280")
    assert set(nd.fiducial_volumes) == {"TPC1", "TPC2", "TPC3"}
    up = load_detector("nd280-upgrade")
    assert set(up.fiducial_volumes) == {"TPC1", "TPC2", "TPC3", "HATPC_top", "HATPC_bottom"}
    for det in (nd, up):
        for fv_name, fv in det.fiducial_volumes.items():
            gas = det.volumes[det.fiducial_medium_volume(fv_name)]
            assert gas.is_tpc_gas and gas.density_g_cm3 == 0.001855
            # inside the gas box, and everything in it is that gas
            assert gas.shape.contains_box(fv)
            pts = fv.sample(2000, np.random.default_rng(0))
            assert np.all(det.volume_at(pts) == det.fiducial_medium_volume(fv_name))
    np.testing.assert_allclose(up.fiducial_volumes["HATPC_top"].center_m, [0, 0.74, -2.205])
    np.testing.assert_allclose(up.fiducial_volumes["HATPC_bottom"].size_m, [1.59, 0.27, 1.71])
    np.testing.assert_allclose(nd.fiducial_volumes["TPC3"].center_m, [0, 0, 2.355])
    for f in ("nd280.toml", "nd280-upgrade.toml"):
        head = (MODELS / f).read_text().splitlines()[:10]
        assert any("sha256" in line for line in head)


def test_gas_density_override():
    paper = load_detector("nd280-upgrade", tpc_gas_density_g_cm3=PAPER_TPC_GAS_DENSITY_G_CM3)
    gas = paper.tpc_gas_volumes()
    assert len(gas) == 5
    assert {paper.volumes[i].density_g_cm3 for i in gas} == {1.855}
    assert {paper.volumes[i].name for i in gas} == {
        "new_TPC_gas",
        "new_TPC_gas_2",
        "new_TPC_gas_3",
        "new_TPC_gas_top",
        "new_TPC_gas_bot",
    }
    # nothing else changed
    phys = load_detector("nd280-upgrade")
    for i, (a, b) in enumerate(zip(paper.volumes, phys.volumes)):
        if i not in gas:
            assert a.density_g_cm3 == b.density_g_cm3
    with pytest.raises(InputError):
        load_detector("nd280", tpc_gas_density_g_cm3=-1.0)


def test_unknown_detector_lists_available():
    with pytest.raises(InputError, match="nd280, nd280-upgrade"):
        load_detector("sk")
    with pytest.raises(InputError, match="not found"):
        load_detector("/nonexistent/x.toml")


# ------------------------------------------------------------------ validation
BASE = """
format = "dipolehnl-detector"
format_version = 1
[detector]
name = "t"
[materials.ROCK]
components = [[1000140280, 0.4674349], [1000080160, 0.5325651]]
[materials.GAS]
components = [[1000180400, 1.0]]
[[volumes]]
name = "world"
subsystem = "rock"
material = "ROCK"
density_g_cm3 = 2.9
shape = "box"
center_m = [0.0, 0.0, 0.0]
size_m = [10.0, 10.0, 10.0]
[[volumes]]
name = "gas"
subsystem = "TPC"
material = "GAS"
density_g_cm3 = 0.001855
shape = "box"
center_m = [0.0, 0.0, 0.0]
size_m = [2.0, 2.0, 2.0]
"""


def test_base_is_valid():
    det = loads_detector_toml(BASE + "[fiducial_volumes.FV]\ncenter_m = [0.0, 0.0, 0.0]\nsize_m = [1.0, 1.0, 1.0]\n")
    assert det.volume_names == ("world", "gas")
    assert det.fiducial_medium_volume("FV") == 1


@pytest.mark.parametrize(
    "old,new,match",
    [
        ('material = "GAS"', 'material = "STEEL"', "unknown material 'STEEL'"),
        ("density_g_cm3 = 2.9", "density_g_cm3 = -2.9", r"test\.toml: volumes\[0\]\.density_g_cm3: must be >= 0"),
        ("density_g_cm3 = 2.9", "density_g_cm3 = nan", r"volumes\[0\]\.density_g_cm3: must be finite"),
        ("density_g_cm3 = 2.9", 'density_g_cm3 = "heavy"', r"volumes\[0\]\.density_g_cm3: expected a number"),
        ("size_m = [2.0, 2.0, 2.0]", "size_m = [2.0, 0.0, 2.0]", r"volumes\[1\]\.size_m\[1\]: must be > 0.*'gas'"),
        ("size_m = [2.0, 2.0, 2.0]", "size_m = [2.0, inf, 2.0]", "finite"),
        ("size_m = [2.0, 2.0, 2.0]", "size_m = [2.0, 2.0]", "3 numbers"),
        ('name = "gas"', 'name = "world"', "duplicate volume name 'world'"),
        (
            'shape = "box"\ncenter_m = [0.0, 0.0, 0.0]\nsize_m = [2.0',
            'shape = "cone"\ncenter_m = [0.0, 0.0, 0.0]\nsize_m = [2.0',
            "unknown shape 'cone'",
        ),
        ('[[volumes]]\nname = "gas"', '[[volumes]]\ncolour = 1\nname = "gas"', "unknown key"),
        ("[1000180400, 1.0]", "[1000180400, 0.5]", "sum to"),
        ("[1000180400, 1.0]", "[1000189990, 1.0]", "unknown nucleus"),
        ("[1000180400, 1.0]", '["Ar", 1.0]', r"materials\.GAS\.components\[0\]: expected \[integer PDG code"),
        ('name = "t"', "", r"detector\.name: missing key"),
        ("format_version = 1", "format_version = 2", "format_version 2"),
        ("[detector]", "[detectr]\n[detector]", "unknown key"),
    ],
)
def test_invalid_files(old, new, match):
    assert old in BASE
    text = BASE.replace(old, new, 1) if old != "size_m = [2.0, 2.0, 2.0]" else _replace_last(BASE, old, new)
    with pytest.raises(InputError, match=match) as err:
        loads_detector_toml(text, source="test.toml")
    assert str(err.value).startswith("test.toml: ")  # the file, then the key


def _replace_last(s: str, old: str, new: str) -> str:
    i = s.rindex(old)
    return s[:i] + new + s[i + len(old) :]


@pytest.mark.parametrize(
    "fv,match",
    [
        ("center_m = [0.0, 0.0, 30.0]\nsize_m = [1.0, 1.0, 1.0]", "not inside the detector"),
        ("center_m = [0.0, 0.0, 0.0]\nsize_m = [1.0, -1.0, 1.0]", r"fiducial_volumes\.FV\.size_m\[1\]: must be > 0"),
        ("center_m = [0.0, 0.0, 0.0]", r"fiducial_volumes\.FV\.size_m: missing key"),
    ],
)
def test_invalid_fiducial(fv, match):
    with pytest.raises(InputError, match=match):
        loads_detector_toml(BASE + "[fiducial_volumes.FV]\n" + fv + "\n")


def test_fiducial_in_any_medium_accepted():
    text = BASE.replace('subsystem = "TPC"', 'subsystem = "FGD"')
    det = loads_detector_toml(text + "[fiducial_volumes.FV]\ncenter_m = [0.0, 0.0, 0.0]\nsize_m = [1.0, 1.0, 1.0]\n")
    assert det.volumes[det.fiducial_medium_volume("FV")].subsystem == "FGD"


def test_invalid_toml_syntax(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[detector\nname = 1")
    with pytest.raises(InputError, match="invalid TOML"):
        load_detector_toml(p)
    with pytest.raises(InputError, match="cannot read"):
        load_detector_toml(tmp_path / "missing.toml")


def test_fiducial_volumes_of_any_shape_round_trip():
    text = BASE + (
        '[fiducial_volumes.ball]\nshape = "sphere"\ncenter_m = [0.0, 0.0, 3.0]\nradius_m = 0.5\n'
        '[fiducial_volumes.can]\nshape = "cylinder"\ncenter_m = [0.0, 0.0, -3.0]\nradius_m = 0.5\n'
        'length_m = 1.0\naxis = "x"\n'
    )
    det = loads_detector_toml(text, source="t.toml")
    assert det.fiducial_volumes["ball"].volume_m3 == pytest.approx(4 / 3 * math.pi * 0.125)
    back = loads_detector_toml(dumps_detector_toml(det), source="back.toml")
    assert {n: s.to_dict() for n, s in back.fiducial_volumes.items()} == {
        n: s.to_dict() for n, s in det.fiducial_volumes.items()
    }
