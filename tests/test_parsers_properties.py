"""Property tests (hypothesis) of the input parsers: flux tables, detector TOML, analysis TOML.

Round trips: what is written is read back exactly.  Robustness: arbitrary or mutated input
either parses or raises :class:`InputError`, never another exception (which the CLI would
report as an internal error instead of a one-line input error).
"""

from __future__ import annotations

import json
import math
import sys
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dipolehnl.analysis.analyses import load_analysis, parse_analysis
from dipolehnl.beam.flux import FLAVORS, T2K_TABLE_TO_PER_GEV_PER_POT, read_flux_table
from dipolehnl.detector import (
    Box,
    Cylinder,
    Detector,
    Material,
    Sphere,
    Volume,
    dumps_detector_toml,
    loads_detector_toml,
)
from dipolehnl.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("parsers")


# ------------------------------------------------------------------ flux tables
finite_value = st.one_of(
    st.just(0.0),
    st.floats(min_value=1e-30, max_value=1e30, allow_nan=False, allow_infinity=False),
    st.integers(0, 10**12).map(float),
)


@st.composite
def flux_tables(draw):
    n = draw(st.integers(1, 30))
    start = draw(st.integers(0, 1000)) * 1e-3
    widths = draw(st.lists(st.integers(1, 5000), min_size=n, max_size=n))
    edges = [start]
    for w in widths:
        edges.append(edges[-1] + w * 1e-3)
    values = draw(st.lists(st.lists(finite_value, min_size=4, max_size=4), min_size=n, max_size=n))
    style = draw(st.sampled_from(["repr", "sci"]))
    header = draw(st.booleans())
    comments = draw(st.booleans())
    return edges, values, style, header, comments


def _fmt(x: float, style: str) -> str:
    return repr(float(x)) if style == "repr" else f"{x:.6e}"


def format_flux_table(edges, values, style, header, comments) -> str:
    lines = []
    if header:
        lines += [
            "                        Flux [/cm^2/50MeV/1E21POT]",
            "Bin#   Energy [GeV]     numu      anti-numu nue       anti-nue",
            "-" * 64,
        ]
    for i, row in enumerate(values):
        if comments and i % 3 == 0:
            lines += ["# a comment line", ""]
        lines.append(f"{i + 1}\t{repr(edges[i])} - {repr(edges[i + 1])}   " + "  ".join(_fmt(v, style) for v in row))
    return "\n".join(lines) + "\n"


@SETTINGS
@given(flux_tables())
def test_flux_table_round_trip(workdir, table):
    edges, values, style, header, comments = table
    path = workdir / "flux.txt"
    path.write_text(format_flux_table(*table))
    flux = read_flux_table(path, "fhc")
    np.testing.assert_array_equal(flux.edges_GeV, np.array(edges))
    written = np.array([[float(_fmt(v, style)) for v in row] for row in values])  # the numbers in the file
    for j, fl in enumerate(FLAVORS):
        comp = flux.component(fl)
        np.testing.assert_array_equal(comp.edges_GeV, np.array(edges))
        np.testing.assert_array_equal(comp.density_per_cm2_GeV_POT, written[:, j] * T2K_TABLE_TO_PER_GEV_PER_POT)


def _read_flux_text(workdir: Path, text: str):
    path = workdir / "garbage_flux.txt"
    path.write_text(text, encoding="utf-8")
    try:
        return read_flux_table(path)
    except InputError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg.strip(), "an input error is one line"
        return None


token = st.one_of(
    st.sampled_from(
        ["-", "--", "---", "#", "nan", "inf", "-inf", "1e999", "0x10", "1_0", "+", "e", "1.2.3", "", "1,5"]
    ),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6),
)
garbage_line = st.one_of(
    st.lists(token, max_size=10).map(" ".join),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60),
)


@SETTINGS
@given(st.lists(garbage_line, max_size=8))
def test_flux_garbage_raises_input_error_only(workdir, lines):
    _read_flux_text(workdir, "\n".join(lines))


@SETTINGS
@given(flux_tables(), st.lists(st.tuples(st.integers(0, 40), garbage_line), min_size=1, max_size=3))
def test_flux_table_with_garbage_lines(workdir, table, insertions):
    lines = format_flux_table(*table).splitlines()
    for pos, line in insertions:
        lines.insert(min(pos, len(lines)), line)
    _read_flux_text(workdir, "\n".join(lines))


@SETTINGS
@given(flux_tables(), st.integers(0, 10**6), st.sampled_from(["drop", "swap", "negate", "nan", "dup"]))
def test_flux_table_corruptions_are_input_errors(workdir, table, where, how):
    """Non-monotonic or missing bins, negative or non-finite flux, wrong column count."""
    edges, values, style, header, comments = table
    text_lines = format_flux_table(edges, values, style, False, False).splitlines()
    i = where % len(text_lines)
    tok = text_lines[i].split()
    if how == "drop":  # one column fewer
        tok = tok[:-1]
    elif how == "swap":  # bin edges in the wrong order (or a zero-width bin)
        tok[1], tok[3] = tok[3], tok[1]
    elif how == "negate":
        tok[4 + where % 4] = "-1.5e+10"
    elif how == "nan":
        tok[4 + where % 4] = "nan"
    else:  # a bin given twice: not contiguous
        assume(len(text_lines) >= 1)
        text_lines.insert(i, text_lines[i])
    if how != "dup":
        text_lines[i] = " ".join(tok)
    path = workdir / "corrupt_flux.txt"
    path.write_text("\n".join(text_lines) + "\n")
    with pytest.raises(InputError):
        read_flux_table(path)


def test_binary_flux_file_is_input_error(workdir):
    path = workdir / "binary.txt"
    path.write_bytes(b"\xff\xfe\x00\x89PNG\r\n\x1a\n")
    with pytest.raises(InputError, match="not a UTF-8 text file"):
        read_flux_table(path)


# ------------------------------------------------------------------ detector TOML
NUCLEI = [
    1000010010,
    1000060120,
    1000070140,
    1000080160,
    1000110230,
    1000130270,
    1000140280,
    1000180400,
    1000260560,
    1000290630,
    1000822080,
]
coord = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)
length = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False, allow_infinity=False)
density = st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=25.0, allow_nan=False))
label = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12).filter(str.strip)


@st.composite
def materials(draw, name):
    pdg = draw(st.lists(st.sampled_from(NUCLEI), min_size=1, max_size=4, unique=True))
    w = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=len(pdg), max_size=len(pdg))))
    w = w / w.sum()
    return Material(name, pdg, w)


@st.composite
def shapes(draw):
    kind = draw(st.sampled_from(["box", "box", "cylinder", "sphere"]))
    c = [draw(coord) for _ in range(3)]
    if kind == "box":
        return Box(center_m=c, size_m=[draw(length) for _ in range(3)])
    if kind == "cylinder":
        return Cylinder(center_m=c, radius_m=draw(length), length_m=draw(length), axis=draw(st.sampled_from("xyz")))
    return Sphere(center_m=c, radius_m=draw(length))


@st.composite
def detectors(draw):
    mat_names = draw(st.lists(label.filter(lambda s: s != "GAS"), min_size=1, max_size=3, unique=True))
    mats = [draw(materials(n)) for n in mat_names]
    names = draw(st.lists(label, min_size=1, max_size=5, unique=True))
    vols = [Volume(n, draw(shapes()), draw(st.sampled_from(mats)), draw(density), draw(label)) for n in names]
    fiducials = {}
    if draw(st.booleans()):  # a TPC gas box with a fiducial volume inside, listed last
        gas = Material("GAS", [1000180400], [1.0])
        c = [draw(coord) for _ in range(3)]
        s = [draw(length) for _ in range(3)]
        vols.append(Volume("tpc gas", Box(center_m=c, size_m=s), gas, 0.001855, "TPC"))
        fiducials[draw(label)] = Box(center_m=c, size_m=[0.5 * x for x in s])
    return Detector(draw(label), vols, fiducials, draw(st.text(max_size=40).filter(lambda t: "\x00" not in t)))


@SETTINGS
@given(detectors())
def test_detector_toml_round_trip(det):
    text = dumps_detector_toml(det, header="generated by hypothesis\nline two")
    back = loads_detector_toml(text, source="roundtrip.toml")
    assert back.name == det.name and back.description == det.description
    assert back.volume_names == det.volume_names
    for a, b in zip(det.volumes, back.volumes):
        assert a.shape.to_dict() == b.shape.to_dict()
        assert a.density_g_cm3 == b.density_g_cm3 and a.subsystem == b.subsystem
        assert a.material.name == b.material.name
        assert a.material.components() == b.material.components()
    assert list(back.fiducial_volumes) == list(det.fiducial_volumes)
    for k, box in det.fiducial_volumes.items():
        assert back.fiducial_volumes[k].to_dict() == box.to_dict()
    assert dumps_detector_toml(back, header="generated by hypothesis\nline two") == text  # a fixed point


def toml_text(doc: dict) -> str:
    """A TOML document for any tree of dict/list/str/int/float/bool (inline tables)."""

    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, float):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{value(str(k))} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(type(v))

    return "\n".join(f"{value(str(k))} = {value(v)}" for k, v in doc.items()) + "\n"


HUGE = st.sampled_from([2**63, -(2**63) - 1, 10**400, -(10**400)])  # TOML integers are unbounded
leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    HUGE,
    st.floats(),
    st.text(max_size=8),
    st.lists(st.one_of(st.integers(-(10**20), 10**20), HUGE, st.floats(), st.text(max_size=3)), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _mutate(doc, path, new):
    """Copy of ``doc`` with the node at ``path`` replaced by ``new`` (None: deleted)."""
    doc = json.loads(json.dumps(doc))
    if not path:
        return doc
    node = doc
    for k in path[:-1]:
        node = node[k]
    if new is None:
        del node[path[-1]]
    else:
        node[path[-1]] = new
    return doc


def _detector_doc(det: Detector) -> dict:
    return tomllib.loads(dumps_detector_toml(det))


BASE_DETECTOR = Detector(
    "base",
    [
        Volume(
            "world",
            Box(center_m=[0.0, 0.0, 0.0], size_m=[20.0, 20.0, 20.0]),
            Material("ROCK", [1000140280, 1000080160], [0.4674349, 0.5325651]),
            2.9,
            "rock",
        ),
        Volume(
            "magnet",
            Cylinder(center_m=[0.0, 0.0, 0.0], radius_m=5.0, length_m=8.0, axis="z"),
            Material("FE", [1000260560], [1.0]),
            7.87,
            "magnet",
        ),
        Volume(
            "gas",
            Box(center_m=[0.0, 0.0, 0.5], size_m=[2.0, 2.5, 3.0]),
            Material("GAS", [1000180400], [1.0]),
            0.001855,
            "TPC",
        ),
    ],
    {"TPC1": Box(center_m=[0.0, 0.25, 0.5], size_m=[1.0, 1.0, 1.0])},
)


@SETTINGS
@given(st.data())
def test_mutated_detector_documents_raise_input_error_only(data):
    doc = json.loads(json.dumps(_detector_doc(BASE_DETECTOR)))
    paths = list(_paths(doc))[1:]
    for _ in range(data.draw(st.integers(1, 3))):
        paths = list(_paths(doc))[1:]
        path = data.draw(st.sampled_from(paths))
        doc = _mutate(doc, path, data.draw(leaf))
    try:
        loads_detector_toml(toml_text(doc), source="mutated.toml")
    except InputError as exc:
        assert str(exc).startswith("mutated.toml") and "\n" not in str(exc)


@SETTINGS
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_detector_garbage_text_raises_input_error_only(text):
    try:
        loads_detector_toml(text, source="garbage.toml")
    except InputError:
        pass


# ------------------------------------------------------------------ analysis TOML
T2K2019_DOC = tomllib.loads(files("dipolehnl").joinpath("analysis", "data", "analyses", "t2k2019.toml").read_text())
positive = st.floats(min_value=1e-3, max_value=1e25, allow_nan=False, allow_infinity=False)


@st.composite
def analysis_docs(draw):
    statistic = draw(st.sampled_from(["poisson_zero_background", "asimov"]))
    doc = {
        "name": draw(label),
        "description": draw(st.text(max_size=30)),
        "statistic": statistic,
        "cl": draw(st.lists(st.floats(0.01, 0.999), min_size=1, max_size=3)),
        "sigma": draw(st.lists(st.floats(0.5, 7.0), max_size=2)),
        "selection": {
            "cos_theta_min": draw(st.floats(-1.0, 1.0)),
            "opening_angle_max_deg": draw(st.floats(0.5, 180.0)),
            "efficiency": "t2k2019",
            "efficiency_outside": draw(st.sampled_from(["hold", "zero"])),
        },
        "dataset": [],
    }
    if statistic == "asimov":
        doc["asimov_q"] = draw(st.sampled_from(["discovery", "exclusion"]))
    names = draw(st.lists(label, min_size=1, max_size=3, unique=True))
    for n in names:
        det = draw(st.sampled_from(["t2k-nd280", "t2k-nd280-upgrade"]))
        tpcs = ["TPC1", "TPC2", "TPC3"] + (["HATPC_top", "HATPC_bottom"] if det == "t2k-nd280-upgrade" else [])
        ds = {
            "name": n,
            "experiment": det,
            "mode": draw(st.sampled_from(["fhc", "rhc", "FHC"])),
            "pot": draw(st.one_of(positive, st.integers(1, 10**18))),
            "fiducial_volumes": draw(st.lists(st.sampled_from(tpcs), min_size=1, unique=True)),
        }
        if draw(st.booleans()):
            ds["background"] = draw(st.floats(0.0, 1e3))
        else:
            ds["background_scaling"] = {
                "reference_pot": draw(positive),
                "reference_background": draw(st.floats(0.0, 10.0)),
                "reference_n_fiducial_volumes": draw(st.integers(1, 5)),
            }
        if draw(st.booleans()):
            ds["observed"] = draw(st.integers(0, 100))
        doc["dataset"].append(ds)
    return doc


@SETTINGS
@given(analysis_docs())
def test_valid_analysis_files_parse(workdir, doc):
    path = workdir / "analysis.toml"
    path.write_text(toml_text(doc))
    a = load_analysis(path)
    assert a.name == doc["name"] and a.statistic == doc["statistic"]
    assert a.cl == tuple(doc["cl"]) and a.sigma == tuple(doc["sigma"])
    assert a.selection.cos_theta_min == doc["selection"]["cos_theta_min"]
    assert len(a.datasets) == len(doc["dataset"])
    for ds, d in zip(a.datasets, doc["dataset"]):
        assert ds.name == d["name"] and ds.experiment == d["experiment"] and ds.mode == d["mode"].lower()
        assert ds.pot == float(d["pot"]) and ds.fiducial_volumes == tuple(d["fiducial_volumes"])
        assert ds.observed == d.get("observed")
        if "background" in d:
            assert ds.background == d["background"]
        assert ds.background >= 0
    levels = a.levels()
    assert len(levels) == len(doc["cl"]) + len(doc["sigma"])
    assert all(math.isfinite(lv.threshold) for lv in levels)


@SETTINGS
@given(st.data())
def test_mutated_analysis_documents_raise_input_error_only(data):
    doc = json.loads(json.dumps(T2K2019_DOC))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(list(_paths(doc))[1:]))
        doc = _mutate(doc, path, data.draw(leaf))
    doc = tomllib.loads(toml_text(doc))  # what a TOML file can hold
    try:
        a = parse_analysis(doc, "mutated.toml")
    except InputError as exc:
        assert str(exc).startswith("mutated.toml") and "\n" not in str(exc)
        return
    for level in a.levels():  # an accepted analysis is usable
        assert not math.isnan(level.threshold)


# ------------------------------------------------------------------ cases found by the properties above
def _base_toml() -> str:
    return dumps_detector_toml(BASE_DETECTOR)


@pytest.mark.parametrize(
    "old,new,match",
    [
        ("[1000180400, 1.0]", "[99999999999999999999999, 1.0]", "not a nuclear PDG code"),
        ("[1000180400, 1.0]", "[1000180400, 1" + "0" * 400 + "]", "out of range"),
        ("density_g_cm3 = 2.9", "density_g_cm3 = 1" + "0" * 400, "out of range"),
        ("size_m = [2.0, 2.5, 3.0]", "size_m = [2, 2, 1" + "0" * 400 + "]", "out of range"),
        ("radius_m = 5.0", "radius_m = 1" + "0" * 400, "out of range"),
        ('material = "GAS"', "material = []", r"volumes\[2\]\.material: expected a string"),
        ('shape = "box"', "shape = []", r"volumes\[0\]\.shape: expected a string"),
        ('axis = "z"', "axis = []", r"volumes\[1\]\.axis: unknown axis"),
        ("radius_m = 5.0", 'radius_m = "5"', r"volumes\[1\]\.radius_m: expected a number"),
        ("size_m = [2.0, 2.5, 3.0]", 'size_m = [2.0, "2.5", 3.0]', r"volumes\[2\]\.size_m\[1\]: expected a number"),
        ("size_m = [2.0, 2.5, 3.0]", "size_m = [2.0, 2.5]", r"volumes\[2\]\.size_m: expected 3 numbers"),
        (
            "center_m = [0.0, 0.25, 0.5]",
            "center_m = [0.0, true, 0.5]",
            r"fiducial_volumes\.TPC1\.center_m\[1\]: expected a number",
        ),
    ],
)
def test_detector_values_of_the_wrong_toml_type(old, new, match):
    text = _base_toml()
    assert old in text
    with pytest.raises(InputError, match=match) as err:
        loads_detector_toml(text.replace(old, new, 1), source="bad.toml")
    assert str(err.value).startswith("bad.toml: ")  # the file, then the key


def test_two_different_materials_with_one_name_are_rejected():
    """The TOML writer identifies materials by name: such a detector could not be written faithfully."""
    h = Material("GAS", [1000010010], [1.0])
    gas = BASE_DETECTOR.volumes[-1]
    with pytest.raises(InputError, match="two different materials are named 'GAS'"):
        Detector("clash", [Volume("h", Box(center_m=[0.0, 0.0, 0.0], size_m=[1.0, 1.0, 1.0]), h, 1.0), gas])
    same = Material("GAS", [1000180400], [1.0])  # an equal composition under the same name is fine
    Detector("ok", [Volume("h", Box(center_m=[0.0, 0.0, 0.0], size_m=[1.0, 1.0, 1.0]), same, 1.0), gas])


@pytest.mark.parametrize(
    "old,new,match",
    [
        ("pot = 12.34e20", "pot = 1" + "0" * 400, "out of range"),
        ("cl = [0.95]", "cl = [1" + "0" * 400 + "]", "out of range"),
        ("observed = 0", "observed = 1" + "0" * 400, "observed"),
        ("sigma = []", "sigma = [9]", "sigma"),
        ("sigma = []", "sigma = [inf]", "sigma"),
    ],
)
def test_analysis_numbers_out_of_range(workdir, old, new, match):
    text = files("dipolehnl").joinpath("analysis", "data", "analyses", "t2k2019.toml").read_text()
    assert old in text
    path = workdir / "bad_analysis.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(InputError, match=match):
        load_analysis(path)


@pytest.mark.parametrize("reader", ["flux", "detector", "siren", "analysis"])
def test_binary_files_are_input_errors(workdir, reader):
    from dipolehnl.detector import load_detector_toml, read_siren_densities

    path = workdir / f"binary_{reader}_densities.dat"
    path.write_bytes(b"\xff\xfe\x00\x89PNG\r\n\x1a\n")
    fn = {
        "flux": read_flux_table,
        "detector": load_detector_toml,
        "siren": read_siren_densities,
        "analysis": load_analysis,
    }[reader]
    with pytest.raises(InputError, match="not a (UTF-8 )?text file"):
        fn(path)


siren_line = st.one_of(
    garbage_line,
    st.lists(token, min_size=1, max_size=16).map(lambda t: " ".join(["object", "box"] + t)),
    st.lists(st.one_of(token, st.floats(-10, 10).map(repr)), min_size=13, max_size=13).map(
        lambda t: " ".join(["object", "box"] + t[:9] + ["n" + t[9], "M", "constant", t[12]])
    ),
)


@SETTINGS
@given(st.lists(siren_line, max_size=6), st.lists(garbage_line, max_size=6))
def test_siren_garbage_raises_input_error_only(workdir, dens_lines, mat_lines):
    from dipolehnl.detector import load_siren_detector

    dens, mats = workdir / "g_densities.dat", workdir / "g_materials.dat"
    dens.write_text("\n".join(dens_lines), encoding="utf-8")
    mats.write_text("\n".join(["M 1", "1000060120 1.0"] + mat_lines), encoding="utf-8")
    try:
        load_siren_detector(dens, mats)
    except InputError as exc:
        assert "\n" not in str(exc).strip()
