"""The curated top-level API (``import dipolehnl as dh``)."""

from __future__ import annotations

from importlib.resources import files

import dipolehnl as dh


def test_curated_names_resolve():
    for name in dh.__all__:
        assert getattr(dh, name) is not None
    assert dh.HNLModel(0.2, 1e-6).d_mu_GeVinv == 1e-6
    assert dh.load_experiment("t2k-nd280").name == "t2k-nd280"
    assert dh.load_analysis("t2k2019").name == "t2k2019"
    assert callable(dh.simulate) and callable(dh.rate) and callable(dh.scan)
    assert files("dipolehnl").joinpath("py.typed").is_file()


def test_simulate_and_rate_through_the_api():
    sample = dh.simulate("t2k-nd280", 0.3, 1e-6, n_events=300, seed=1)
    out = dh.rate(sample, pot=1e21).to_json()
    assert out["selected_events"] > 0 and set(out["fiducial_volumes"]) == {"TPC1", "TPC2", "TPC3"}
