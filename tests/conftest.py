"""Shared test fixtures.  ``../shared`` may be read by tests (never by the package)."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
REFERENCE = SHARED / "reference"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE} (tests compare with ../shared/reference)")
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
