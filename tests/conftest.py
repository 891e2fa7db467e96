"""Shared test fixtures.

Reference inputs the tests compare with (T2K flux releases, SIREN detector files, the
T2K 2019 efficiency, external-limit curves, the reference README) are vendored under
``tests/data/reference`` with their SHA-256 in ``tests/data/reference/SHA256SUMS``, so
that a fresh clone in any directory runs the whole suite.  The package never reads them.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
REFERENCE = DATA / "reference"


def verify_checksums(directory: Path) -> None:
    """Fail if any file listed in ``directory/SHA256SUMS`` is missing or altered."""
    for line in (directory / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        path = directory / name
        assert path.is_file(), f"vendored reference file missing: {path}"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"vendored reference file altered: {path}"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The vendored reference inputs, checked against their recorded hashes."""
    verify_checksums(REFERENCE)
    return REFERENCE


@pytest.fixture(scope="session")
def darknews():
    """The DarkNews package (the live reference for convention 'darknews')."""
    dn = pytest.importorskip("DarkNews", reason="DarkNews not installed: pip install -e '.[test]'")
    logging.getLogger("DarkNews").setLevel(logging.ERROR)
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("logger.DarkNews") or name.startswith("DarkNews"):
            logging.getLogger(name).setLevel(logging.ERROR)
    return dn


def darknews_model(dn, m4: float, mu_tr: float, hnltype: str = "dirac"):
    """A DarkNews GenericHNLModel with only m4 and mu_tr_mu4 set (PHYSICS.md §5 pitfall:
    not ThreePortalModel, which adds Z/Z' diagrams)."""
    from DarkNews import model

    return model.GenericHNLModel(m4=m4, mu_tr_mu4=mu_tr, HNLtype=hnltype)
