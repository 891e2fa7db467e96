"""The shared input-file models (dipolehnl.specs): one-line error messages naming the file
and the key, and the JSON schemas in the docs in sync with the models."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from dipolehnl.analysis.analyses import AnalysisSpec
from dipolehnl.detector.toml_format import DetectorFileSpec
from dipolehnl.errors import InputError
from dipolehnl.experiment import ExperimentSpec
from dipolehnl.specs import docs_schema, json_schemas, validate

DOCS = Path(__file__).resolve().parents[1] / "docs"


# ------------------------------------------------------------------ schemas in the docs
@pytest.mark.parametrize("page", ["experiments.md", "detector.md", "analysis.md"])
def test_docs_schema_in_sync_with_the_model(page):
    written = docs_schema((DOCS / page).read_text(encoding="utf-8"))
    assert written is not None, f"docs/{page} has no '## JSON schema' block"
    expected = json.loads(json.dumps(json_schemas()[page]))
    assert written == expected, f"docs/{page} is stale: run python -m dipolehnl.specs --write-docs docs"


@pytest.mark.parametrize("page", ["experiments.md", "detector.md", "analysis.md"])
def test_every_table_of_every_format_forbids_unknown_keys(page):
    schema = json_schemas()[page]
    tables = [schema, *schema["$defs"].values()]
    assert all(t.get("additionalProperties") is False for t in tables if t.get("type") == "object")
    assert "null" not in json.dumps(schema)  # TOML has no null: optional keys are absent ones


# ------------------------------------------------------------------ error messages
DETECTOR = {
    "detector": {"name": "d"},
    "materials": {"GAS": {"components": [[1000180400, 1.0]]}},
    "volumes": [
        {"name": "world", "material": "GAS", "density_g_cm3": 1.0, "center_m": [0, 0, 0], "size_m": [4, 4, 4]},
        {
            "name": "ball",
            "material": "GAS",
            "density_g_cm3": 1.0,
            "shape": "sphere",
            "center_m": [0, 0, 0],
            "radius_m": 1.0,
        },
    ],
}


def _detector(**volume_1):
    doc = json.loads(json.dumps(DETECTOR))
    doc["volumes"][1].update(volume_1)
    return {k: v for k, v in doc.items()}


def _error(model, doc) -> str:
    with pytest.raises(InputError) as err:
        validate(model, doc, "f.toml")
    msg = str(err.value)
    assert "\n" not in msg
    return msg


def test_valid_documents_validate():
    spec = validate(DetectorFileSpec, DETECTOR, "f.toml")
    assert spec.volumes[0].shape == "box" and spec.volumes[1].shape == "sphere"  # a box by default
    assert spec.volumes[1].radius_m == 1.0 and spec.volumes[0].subsystem == "other"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"radius_m": -1.0}, "f.toml: volumes[1].radius_m: must be > 0, got -1.0 (name 'ball')"),
        ({"radius_m": math.nan}, "f.toml: volumes[1].radius_m: must be finite, got nan (name 'ball')"),
        ({"radius_m": True}, "f.toml: volumes[1].radius_m: expected a number, got True (name 'ball')"),
        ({"radius_m": "1"}, "f.toml: volumes[1].radius_m: expected a number, got '1' (name 'ball')"),
        ({"radius_m": 10**400}, "f.toml: volumes[1].radius_m: number out of range (a 401-digit integer) (name 'ball')"),
        (
            {"size_m": [1, 1, 1]},
            (
                "f.toml: volumes[1].size_m: unknown key (allowed: name, subsystem, material, "
                "density_g_cm3, shape, center_m, radius_m) (name 'ball')"
            ),
        ),
        (
            {"shape": "cone"},
            ("f.toml: volumes[1].shape: unknown shape 'cone' (expected 'box', 'sphere', 'cylinder') (name 'ball')"),
        ),
        ({"shape": "cylinder"}, "f.toml: volumes[1].length_m: missing key (name 'ball')"),
        ({"center_m": [0, 0]}, "f.toml: volumes[1].center_m: expected 3 numbers [x, y, z], got [0, 0] (name 'ball')"),
        ({"density_g_cm3": -1}, "f.toml: volumes[1].density_g_cm3: must be >= 0, got -1 (name 'ball')"),
    ],
)
def test_detector_messages_name_the_file_the_key_and_the_volume(change, message):
    assert _error(DetectorFileSpec, _detector(**change)) == message


def test_an_unknown_key_is_reported_before_the_missing_key_it_stands_for():
    doc = {k: v for k, v in DETECTOR.items() if k != "volumes"} | {"volume": DETECTOR["volumes"]}
    assert _error(DetectorFileSpec, doc).startswith("f.toml: volume: unknown key (allowed: format, format_version,")


def test_key_paths_through_maps_and_tagged_unions():
    doc = {
        "name": "x",
        "statistic": "asimov",
        "cl": [0.9],
        "selection": {"channel": "single_photon", "cos_theta_min": 0.9},
        "dataset": [
            {
                "name": "a",
                "experiment": "t2k-nd280",
                "mode": "fhc",
                "pot": 1e20,
                "background": 0.0,
                "fiducial_volumes": ["TPC1"],
            }
        ],
    }
    assert _error(AnalysisSpec, doc).startswith("f.toml: selection.cos_theta_min: unknown key (allowed: channel, ")
    doc["selection"] = {"channel": 3}
    assert _error(AnalysisSpec, doc) == "f.toml: selection.channel: expected a string, got 3"
    doc["selection"] = {"cos_theta_min": 0.9, "opening_angle_max_deg": 90.0, "efficiency": "none"}  # ee by default
    assert validate(AnalysisSpec, doc, "f.toml").selection.channel == "ee"
    doc["cl"] = [1.0]
    assert _error(AnalysisSpec, doc) == "f.toml: cl[0]: must be < 1, got 1.0"
    doc["cl"], doc["dataset"][0]["fiducial_volumes"] = 0.9, ["TPC1", "TPC1"]
    assert (
        _error(AnalysisSpec, doc) == "f.toml: dataset[0].fiducial_volumes: duplicate fiducial volume 'TPC1' (name 'a')"
    )


def test_experiment_flavour_keys_and_fiducial_shapes():
    flux = {"file": "f.txt"}
    doc = {
        "name": "e",
        "beam": {"distance_m": 1.0, "modes": {"nu": {"numuu": flux}}},
        "detector": {"file": "d.toml"},
        "fiducial_volumes": {"fv": {"center_m": [0, 0, 0], "size_m": [1, 1, 1]}},
    }
    assert _error(ExperimentSpec, doc) == (
        "f.toml: beam.modes.nu.numuu: unknown key 'numuu' (expected 'numu', "
        "'numubar', 'nue', 'nuebar', 'nutau' or 'nutaubar')"
    )
    doc["beam"]["modes"] = {"nu": {}}
    assert _error(ExperimentSpec, doc) == "f.toml: beam.modes.nu: must not be empty"
    doc["beam"]["modes"] = {"nu": {"numu": flux}}
    assert validate(ExperimentSpec, doc, "f.toml").fiducial_volumes["fv"].shape == "box"
    doc["fiducial_volumes"]["fv"]["shape"] = "sphere"
    assert _error(ExperimentSpec, doc) == (
        "f.toml: fiducial_volumes.fv.size_m: unknown key (allowed: shape, center_m, radius_m)"
    )
    del doc["fiducial_volumes"]["fv"]["size_m"]
    assert _error(ExperimentSpec, doc) == "f.toml: fiducial_volumes.fv.radius_m: missing key"
