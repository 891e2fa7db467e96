"""SIREN reader: the reference files (if present), the shipped-model conversion, malformed input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dipolehnl.detector import (
    convert_shipped_model,
    load_detector,
    load_siren_detector,
    read_siren_densities,
    read_siren_materials,
    subsystem_for,
)
from dipolehnl.errors import InputError
from tests.conftest import REFERENCE, verify_checksums

REF = REFERENCE / "detector"  # vendored SIREN files (hashes in tests/data/reference/SHA256SUMS)
verify_checksums(REFERENCE)


ND280 = REF / "siren_ND280-v1_densities.dat"
UPGRADE = REF / "siren_ND280UPGRD-v1_densities.dat"


# ------------------------------------------------------------------ reference files
def test_read_nd280_reference():
    dens = read_siren_densities(ND280)
    assert len(dens.objects) == 128
    assert dens.objects[0].name == "surr_earth"
    assert dens.objects[0].center_m == (0.0, 0.0, -142.0)
    assert dens.objects[0].size_m == (24.0, 24.0, 300.0)
    assert dens.objects[0].density_g_cm3 == 2.9
    assert dens.detector_origin_m == (0.0, 0.0, 0.0)
    # the file's 'fiducial' line becomes the analysis fiducial volume 'fiducial' (it lies in TPC3's gas)
    assert dens.fiducial is not None
    np.testing.assert_allclose(dens.fiducial.size_m, [1.7, 1.96, 0.563])
    det = load_siren_detector(ND280)
    assert det.name == "siren_ND280-v1"
    assert list(det.fiducial_volumes) == ["fiducial"]
    fv = det.fiducial_volumes["fiducial"]
    np.testing.assert_allclose(fv.center_m, [0.0, 0.0, 2.355])
    assert det.volumes[det.fiducial_medium_volume("fiducial")].name == "new_TPC_gas_3"
    gas = [det.volumes[i] for i in det.tpc_gas_volumes()]
    assert [v.name for v in gas] == ["new_TPC_gas", "new_TPC_gas_2", "new_TPC_gas_3"]
    assert all(v.density_g_cm3 == 0.001855 for v in gas)
    counts: dict[str, int] = {}
    for v in det.volumes:
        counts[v.subsystem] = counts.get(v.subsystem, 0) + 1
    # 14 lead plates, 39 scintillator layers, 25 water bags, 25 brass plates, 4 P0D ECALs
    assert counts == {"rock": 1, "hall": 1, "magnet": 4, "P0D": 107, "TPC": 6, "FGD": 4, "ECAL": 5}


def test_read_upgrade_reference_missing_component_counts():
    mats = read_siren_materials(REF / "siren_ND280UPGRD-v1_materials.dat")
    # FGDbox and TPC_padding have no component count on their header line
    assert mats["FGDbox"].pdg.tolist() == [1000060120, 1000010010, 1000080160, 1000170350]
    assert len(mats["TPC_padding"].pdg) == 6
    assert mats["TPC_padding"].mass_fraction.sum() == pytest.approx(1.0)
    det = load_siren_detector(UPGRADE)
    # its 'fiducial' box (3.5 x 3.6 x 7 m, not in one gas volume) is a fiducial volume too: any medium
    assert list(det.fiducial_volumes) == ["fiducial"]
    np.testing.assert_allclose(det.fiducial_volumes["fiducial"].size_m, [3.5, 3.6, 7.0])
    by_sub: dict[str, list[str]] = {}
    for v in det.volumes:
        by_sub.setdefault(v.subsystem, []).append(v.name)
    assert by_sub["HATPC"] == ["new_TPC_shell_top", "new_TPC_gas_top", "new_TPC_shell_bot", "new_TPC_gas_bot"]
    assert by_sub["SuperFGD"] == ["sFGD_box", "sFGD_cubes"]
    assert len(by_sub["ToF"]) == 6 and len(by_sub["TPC"]) == 6 and len(by_sub["ECAL"]) == 6
    assert "P0D" not in by_sub
    # the known defect: 1.855 g/cm3 for every TPC gas volume
    gas = [det.volumes[i] for i in det.tpc_gas_volumes()]
    assert len(gas) == 5 and all(v.density_g_cm3 == 1.855 for v in gas)


@pytest.mark.parametrize("name", ["nd280", "nd280-upgrade"])
def test_conversion_reproduces_shipped_model(name):
    converted, header = convert_shipped_model(name, REF)
    shipped = load_detector(name)
    assert "sha256" in header
    assert converted.volume_names == shipped.volume_names
    for a, b in zip(converted.volumes, shipped.volumes):
        assert a.subsystem == b.subsystem
        assert a.density_g_cm3 == b.density_g_cm3
        assert a.material.same_composition(b.material)
        np.testing.assert_array_equal(a.shape.bounds_m[0], b.shape.bounds_m[0])
        np.testing.assert_array_equal(a.shape.bounds_m[1], b.shape.bounds_m[1])
    assert list(converted.fiducial_volumes) == list(shipped.fiducial_volumes)
    # and the shipped file records the hashes of the files it came from

    text = Path(__file__).resolve().parents[1].joinpath("src/dipolehnl/detector/models", f"{name}.toml")
    if text.is_file():
        body = text.read_text()
        for line in header.splitlines():
            assert f"# {line}".rstrip() in body


def test_shipped_equals_siren_except_gas_density():
    """The shipped upgrade model = the SIREN file with the TPC gas density fixed."""
    raw = load_siren_detector(UPGRADE)
    shipped = load_detector("nd280-upgrade")
    paper = load_detector("nd280-upgrade", tpc_gas_density_g_cm3=1.855)
    rng = np.random.default_rng(11)
    o = rng.uniform([-2, -2, -4], [2, 2, 4], (300, 3))
    d = rng.normal(size=(300, 3))
    np.testing.assert_allclose(paper.trace(o, d).total_column_g_cm2(), raw.trace(o, d).total_column_g_cm2(), rtol=1e-12)
    raw_nd = load_siren_detector(ND280)
    np.testing.assert_allclose(
        load_detector("nd280").trace(o, d).total_column_g_cm2(), raw_nd.trace(o, d).total_column_g_cm2(), rtol=1e-12
    )
    assert not np.allclose(shipped.trace(o, d).total_column_g_cm2(), raw.trace(o, d).total_column_g_cm2())


def test_load_detector_dat_path():
    det = load_detector(str(ND280))
    assert det.n_volumes == 128
    det = load_detector(UPGRADE, tpc_gas_density_g_cm3=0.001855)
    assert all(det.volumes[i].density_g_cm3 == 0.001855 for i in det.tpc_gas_volumes())
    det = load_detector(UPGRADE, materials_path=REF / "siren_ND280-v1_materials.dat")
    assert det.n_volumes == 34


# ------------------------------------------------------------------ synthetic files
MATERIALS = """\
# comment
ROCK 2   # SiO2
1000140280 0.4674349
1000080160 0.5325651
AIR   # count missing
1000070140 0.7562326
1000080160 0.2437674
"""


def write(tmp_path: Path, densities: str, materials: str = MATERIALS) -> Path:
    (tmp_path / "t_materials.dat").write_text(materials)
    p = tmp_path / "t_densities.dat"
    p.write_text(densities)
    return p


GOOD = """\
# Detector: test
object box 0 0 0   0 0 0   10 10 10   world ROCK constant 2.9
object box 0 0 1   0 0 0   2 2 2      hall  AIR  constant 0.001225  # comment
detector 0 0 0
fiducial box 0 0 0 0 0 0 1 1 1
"""


def test_synthetic_ok(tmp_path):
    det = load_siren_detector(write(tmp_path, GOOD))
    assert det.name == "t"
    assert det.volume_names == ("world", "hall")
    assert det.materials["AIR"].pdg.tolist() == [1000070140, 1000080160]
    assert det.description == "Detector: test"


def test_detector_origin_shift(tmp_path):
    det = load_siren_detector(write(tmp_path, GOOD.replace("detector 0 0 0", "detector 0 0 1")))
    np.testing.assert_allclose(det.volume("hall").shape.center_m, [0, 0, 0])


@pytest.mark.parametrize(
    "line,match",
    [
        ("object sphere 0 0 0 0 0 0 1 1 1 x ROCK constant 1", "line 3: object shape 'sphere'"),
        ("object box 0 0 0 0 0.1 0 1 1 1 x ROCK constant 1", "line 3: rotated"),
        ("object box 0 0 0 0 0 0 1 1 1 x ROCK radial_polynomial 1", "line 3: density distribution"),
        ("object box 0 0 0 0 0 0 1 1 1 x ROCK constant", "line 3: expected 15 fields"),
        ("object box 0 0 0 0 0 0 1 0 1 x ROCK constant 1", "line 3: box size_m"),
        ("object box 0 0 0 0 0 0 1 1 1 x ROCK constant -1", "line 3: negative density"),
        ("object box 0 0 0 0 0 0 1 1 1 x UNOBTAINIUM constant 1", "line 3: material 'UNOBTAINIUM'"),
        ("object box 0 0 0 0 0 0 1 1 1 world ROCK constant 1", "line 3: duplicate volume name"),
        ("object box 0 0 nan 0 0 0 1 1 1 x ROCK constant 1", "line 3: .*finite"),
        ("whatever 1 2 3", "line 3: unknown keyword"),
        ("fiducial sphere 0 0 0 1", "line 3: fiducial shape"),
    ],
)
def test_bad_densities_lines(tmp_path, line, match):
    text = "# h\nobject box 0 0 0 0 0 0 10 10 10 world ROCK constant 2.9\n" + line + "\n"
    with pytest.raises(InputError, match=match):
        load_siren_detector(write(tmp_path, text))


@pytest.mark.parametrize(
    "materials,match",
    [
        ("ROCK 3\n1000140280 0.5\n1000080160 0.5\n", "declares 3 components but has 2"),
        ("ROCK 2\n1000140280 0.5\n1000080160 0.4\n", "sum to"),
        ("ROCK 1\n1000999990 1.0\n", "unknown nucleus"),
        ("1000140280 0.5\n", "outside a material"),
        ("ROCK\n", "no components"),
        ("ROCK x\n1000140280 1\n", "must be an integer"),
    ],
)
def test_bad_materials(tmp_path, materials, match):
    with pytest.raises(InputError, match=match):
        load_siren_detector(write(tmp_path, "object box 0 0 0 0 0 0 1 1 1 w ROCK constant 1\n", materials))


def test_missing_files(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_siren_densities(tmp_path / "nope_densities.dat")
    p = tmp_path / "x_densities.dat"
    p.write_text(GOOD)
    with pytest.raises(InputError, match="cannot read SIREN materials"):
        load_siren_detector(p)
    q = tmp_path / "weird.dat"
    q.write_text(GOOD)
    with pytest.raises(InputError, match="give it explicitly"):
        load_siren_detector(q)


def test_subsystem_rules():
    cases = {
        "surr_earth": "rock",
        "det_hall": "hall",
        "UA1_coil": "magnet",
        "lead_plate_3": "P0D",
        "pod_12": "P0D",
        "water_bag": "P0D",
        "brass_plate_9": "P0D",
        "PODCAL_SIDE1": "P0D",
        "old_TPC_shell_2": "TPC",
        "new_TPC_gas_3": "TPC",
        "new_TPC_gas_top": "HATPC",
        "new_TPC_shell_bot": "HATPC",
        "FGDXYScint": "FGD",
        "ECAL_Top": "ECAL",
        "sFGD_cubes": "SuperFGD",
        "TOF_5": "ToF",
        "mystery": "other",
    }
    assert {k: subsystem_for(k) for k in cases} == cases
