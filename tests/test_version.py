"""One version, set in pyproject.toml, seen by the package, CITATION.cff and CHANGELOG.md."""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

import dipolehnl

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _pyproject_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_version_is_the_pyproject_version():
    assert dipolehnl.__version__ == _pyproject_version()


def test_fallback_reads_pyproject_when_not_installed(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert dipolehnl._version() == _pyproject_version()


def test_citation_and_changelog_carry_the_version():
    yaml = pytest.importorskip("yaml", reason="PyYAML parses CITATION.cff")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert str(cff["version"]) == _pyproject_version()
    assert cff["license"] == "MIT"
    for key in ("message", "title", "authors", "abstract"):
        assert cff[key]
    assert any("2412.15051" in r.get("url", "") for r in cff["references"])
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
    assert re.search(rf"^## \[{re.escape(_pyproject_version())}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M)


def test_license_is_the_declared_mit():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "the dipolehnl authors" in text
    assert tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["license"]["text"] == "MIT"
