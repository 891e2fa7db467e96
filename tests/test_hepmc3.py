"""HepMC3 output: read back with pyhepmc, four-momentum conservation at every vertex,
decay vertices inside the fiducial volumes, weights summing to the rates ``rate`` reports,
NuHepMC run metadata."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pytest

pyhepmc = pytest.importorskip("pyhepmc")

from dipolehnl import __version__  # noqa: E402
from dipolehnl.analysis.analyses import default_channel  # noqa: E402
from dipolehnl.analysis.summary import rate_summary  # noqa: E402
from dipolehnl.errors import InputError  # noqa: E402
from dipolehnl.generate import hepmc3  # noqa: E402
from dipolehnl.generate.api import simulate  # noqa: E402
from dipolehnl.physics import decays  # noqa: E402

POT = 1.0e21
MASS_GEV, COUPLING = 0.3, 1e-6


@pytest.fixture(scope="module")
def sample():
    return simulate("t2k-nd280", MASS_GEV, COUPLING, n_events=500, seed=1)


@pytest.fixture(scope="module")
def channel():
    return default_channel()


@pytest.fixture(scope="module")
def files(sample, channel, tmp_path_factory):
    d = tmp_path_factory.mktemp("hepmc3")
    out = {}
    factor = channel.selection_factor(sample)
    for mode, name in (("sampled", "events.hepmc3"), ("ee", "events_ee.hepmc3.gz")):
        path = d / name
        summary = hepmc3.write_events_hepmc3(
            sample, path, pot=POT, decay_mode=mode, metadata={"note": "test"}, selected_factor=factor
        )
        out[mode] = (path, summary, _read(path))
    return out


def _read(path):
    with pyhepmc.open(path) as f:
        return [evt for evt in f]


def _p4(part) -> np.ndarray:
    m = part.momentum
    return np.array([m.e, m.px, m.py, m.pz])


def _attr(holder, key, typ):
    return _get(holder.attributes, key, typ)


def _get(attributes, key, typ):
    """Typed value of an attribute (pyhepmc parses on first access and then returns the value)."""
    a = attributes[key]
    return a.astype(typ) if hasattr(a, "astype") else a


@pytest.mark.parametrize("mode", ["sampled", "ee"])
def test_one_event_per_entry_units_and_graph(files, sample, mode):
    _, summary, events = files[mode]
    # entries without material on the backward ray (weight 0, no production point) are omitted
    rows = np.nonzero(np.all(np.isfinite(sample.columns["production_vertex_m"]), axis=1))[0]
    assert np.all(sample.weights()[np.setdiff1d(np.arange(sample.n), rows)] == 0)
    assert len(events) == rows.size == summary["n_events"] == sample.n - summary["n_skipped_zero_weight"]
    assert [e.event_number for e in events] == list(rows)
    for e in events:
        assert e.momentum_unit == pyhepmc.Units.GEV and e.length_unit == pyhepmc.Units.MM
        statuses = sorted(v.status for v in e.vertices)
        assert statuses == [hepmc3.VERTEX_PRIMARY, hepmc3.VERTEX_HNL_DECAY]
        beam = [p for p in e.particles if p.status == 4]
        target = [p for p in e.particles if p.status == 20]
        assert len(beam) == 1 and len(target) == 1  # NuHepMC E.R.7
        assert abs(beam[0].pid) == 14
        hnl = [p for p in e.particles if abs(p.pid) == hepmc3.HNL_PDG]
        assert len(hnl) == 1 and hnl[0].status == 2
        # Dirac HNL: N from nu_mu, Nbar from nu_mubar; the decay neutrino keeps the lepton number
        decay = next(v for v in e.vertices if v.status == hepmc3.VERTEX_HNL_DECAY)
        nu_out = [p for p in decay.particles_out if abs(p.pid) == 14]
        assert len(nu_out) == 1
        assert np.sign(hnl[0].pid) == np.sign(beam[0].pid) == np.sign(nu_out[0].pid)
        for p in e.particles:
            if p.status not in (4, 20):  # outgoing: final (1) unless it decays (2)
                assert p.status == (1 if p.end_vertex is None else 2)


@pytest.mark.parametrize("mode", ["sampled", "ee"])
def test_four_momentum_conserved_at_every_vertex_and_on_shell(files, mode):
    _, _, events = files[mode]
    for e in events:
        for v in e.vertices:
            p_in = sum(_p4(p) for p in v.particles_in)
            p_out = sum(_p4(p) for p in v.particles_out)
            scale = p_in[0]
            np.testing.assert_allclose(p_out, p_in, rtol=0, atol=1e-9 * scale)
        for p in e.particles:
            E, px, py, pz = _p4(p)
            m2 = E * E - px * px - py * py - pz * pz
            # invariant mass equals the stated generated mass (to rounding of E² ~ (E scale)² 1e-15)
            assert abs(m2 - p.generated_mass**2) <= 1e-9 * max(E * E, 1e-6), (p.pid, m2, p.generated_mass)
        hnl = next(p for p in e.particles if abs(p.pid) == hepmc3.HNL_PDG)
        assert hnl.generated_mass == pytest.approx(MASS_GEV, rel=1e-15)


@pytest.mark.parametrize("mode", ["sampled", "ee"])
def test_decay_vertices_in_fiducial_volumes_and_on_the_flight_line(files, sample, mode):
    _, _, events = files[mode]
    shapes = sample.fiducial_shapes
    assert set(shapes) == set(sample.fiducial_names)
    for e in events:
        prod = next(v for v in e.vertices if v.status == hepmc3.VERTEX_PRIMARY)
        dec = next(v for v in e.vertices if v.status == hepmc3.VERTEX_HNL_DECAY)
        x_d_m = np.array([dec.position.x, dec.position.y, dec.position.z]) / 1000.0  # mm -> m
        name = _attr(e, "dipolehnl.fiducial_volume", str)
        assert shapes[name].contains(x_d_m[None, :])[0], (name, x_d_m)
        others = [k for k, s in shapes.items() if k != name and s.contains(x_d_m[None, :])[0]]
        assert not others, (name, others)
        # the decay point lies downstream of the production point along the HNL momentum,
        # reached at c t = L / beta
        hnl = next(p for p in e.particles if abs(p.pid) == hepmc3.HNL_PDG)
        p = _p4(hnl)
        dx = np.array(
            [dec.position.x - prod.position.x, dec.position.y - prod.position.y, dec.position.z - prod.position.z]
        )
        L = np.linalg.norm(dx)
        assert prod.position.t == 0.0
        if L > 1e-6:
            cos = dx @ p[1:] / (L * np.linalg.norm(p[1:]))
            assert cos == pytest.approx(1.0, abs=1e-9)
        assert dec.position.t == pytest.approx(L * p[0] / np.linalg.norm(p[1:]), rel=1e-12)
        lab = _attr(e, "lab_pos", list[float])
        np.testing.assert_allclose(lab, [prod.position.x, prod.position.y, prod.position.z], atol=1e-5)


def test_weights_sum_to_the_rates_that_rate_reports(files, sample, channel):
    rate = rate_summary(sample, POT, channel).data
    _, summary, events = files["sampled"]
    cv = np.array([e.weights[0] for e in events])
    # mode "sampled": CV = expected decays (all modes) in the fiducial volumes for POT
    assert cv.sum() == pytest.approx(rate["decays_in_fiducial"], rel=1e-12)
    assert summary["sum_cv"] == pytest.approx(rate["decays_in_fiducial"], rel=1e-12)
    fvs = np.array([_attr(e, "dipolehnl.fiducial_volume", str) for e in events])
    assert len(rate["fiducial_volumes"]) == len(sample.fiducial_names) > 1
    for name, row in rate["fiducial_volumes"].items():
        assert cv[fvs == name].sum() == pytest.approx(row["decays_in_fiducial"], rel=1e-12, abs=1e-300)
    # mode "sampled": "selected" sums to the selected events in expectation (5 sigma of its spread)
    sel = np.array([e.weights[1] for e in events])
    assert summary["sum_selected"] == pytest.approx(sel.sum(), rel=1e-12)
    # each event is selected with probability p = BR(ee) and then carries w f / p: variance sum (w f)^2 (1 - p) / p
    p = decays.br_ee(sample.model)
    wf = sample.weights() * POT * channel.selection_factor(sample)
    assert wf.sum() == pytest.approx(rate["selected_events"], rel=1e-12)
    assert abs(sel.sum() - rate["selected_events"]) <= 5 * math.sqrt(np.sum(wf**2) * (1 - p) / p)
    # mode "ee": CV = BR(ee) x decays; "selected" = the selected events of rate
    _, summary_ee, events_ee = files["ee"]
    cv_ee = np.array([e.weights[0] for e in events_ee])
    sel_ee = np.array([e.weights[1] for e in events_ee])
    assert cv_ee.sum() == pytest.approx(rate["br_ee"] * rate["decays_in_fiducial"], rel=1e-12)
    assert sel_ee.sum() == pytest.approx(rate["selected_events"], rel=1e-12)
    assert rate["selected_events"] > 0
    assert np.all(cv >= 0) and np.all(sel_ee <= cv_ee * (1 + 1e-15))
    assert all(e.weight_names == ["CV", "selected"] for e in events[:3])


def test_sampled_decay_modes_follow_the_branching_ratios(files, sample):
    _, summary, events = files["sampled"]
    modes = [_attr(e, "dipolehnl.decay_mode", str) for e in events]
    n_ee = modes.count("nu_ee")
    assert n_ee == summary["n_nu_ee"]
    # binomial: the count of e+e- events is within 5 sigma of n BR(ee)
    br_ee = decays.br_ee(sample.model)
    mu = sample.n * br_ee
    assert abs(n_ee - mu) <= 5 * math.sqrt(mu * (1 - br_ee)) + 1
    for e, mode in zip(events, modes):
        dec = next(v for v in e.vertices if v.status == hepmc3.VERTEX_HNL_DECAY)
        pids = sorted(abs(p.pid) for p in dec.particles_out)
        assert pids == {"nu_gamma": [14, 22], "nu_ee": [11, 11, 14], "nu_mumu": [13, 13, 14]}[mode]
        # the selected weight is nonzero only for e+e- events
        if mode != "nu_ee":
            assert e.weights[1] == 0.0
    _, _, events_ee = files["ee"]
    assert {_attr(e, "dipolehnl.decay_mode", str) for e in events_ee} == {"nu_ee"}


def test_mumu_decays_conserve_momentum(sample, tmp_path, monkeypatch):
    """ν μ⁺μ⁻ has a per-mille share at 0.3 GeV; force it to exercise its kinematics."""
    monkeypatch.setattr(hepmc3, "_br_mumu", lambda model: 0.5)
    path = tmp_path / "mumu.hepmc3"
    summary = hepmc3.write_events_hepmc3(sample, path, pot=POT)
    assert summary["n_nu_mumu"] > 150
    for e in _read(path):
        dec = next(v for v in e.vertices if v.status == hepmc3.VERTEX_HNL_DECAY)
        p_in = sum(_p4(p) for p in dec.particles_in)
        p_out = sum(_p4(p) for p in dec.particles_out)
        np.testing.assert_allclose(p_out, p_in, rtol=0, atol=1e-9 * p_in[0])
        for p in dec.particles_out:
            if abs(p.pid) == 13:
                E, px, py, pz = _p4(p)
                assert math.sqrt(E * E - px * px - py * py - pz * pz) == pytest.approx(0.1056583755, rel=1e-6)


def test_run_info_attributes(files, sample):
    path, _, events = files["sampled"]
    ri = events[0].run_info
    a = ri.attributes
    assert [t.name for t in ri.tools] == ["dipolehnl"] and ri.tools[0].version == __version__
    assert list(ri.weight_names) == ["CV", "selected"]
    assert (_get(a, "NuHepMC.Version.Major", int), _get(a, "NuHepMC.Version.Minor", int)) == (1, 0)
    assert _get(a, "NuHepMC.Exposure.POT", float) == POT
    assert _get(a, "dipolehnl.Model.Mass_GeV", float) == MASS_GEV
    assert _get(a, "dipolehnl.Model.Coupling_GeVinv", float) == COUPLING
    assert _get(a, "dipolehnl.Model.Majorana", bool) is False
    assert _get(a, "NuHepMC.Beam[14].Histogram.ContentIsPerWidth", bool) is True
    assert _get(a, "dipolehnl.Model.Convention", str) == sample.model.convention.name == "consistent"
    assert _get(a, "dipolehnl.Seed", int) == 1
    assert _get(a, "dipolehnl.DecayMode", str) == "sampled"
    assert _get(a, "dipolehnl.Version", str) == __version__
    assert _get(a, "dipolehnl.Metadata.note", str) == "test"
    assert _get(a, "dipolehnl.BR_ee", float) == pytest.approx(decays.br_ee(sample.model), rel=1e-12)
    # declared codes cover everything used (NuHepMC G.R.8-11)
    procs = set(_get(a, "NuHepMC.ProcessIDs", list[int]))
    vstat = set(_get(a, "NuHepMC.VertexStatusIDs", list[int]))
    pstat = set(_get(a, "NuHepMC.ParticleStatusIDs", list[int]))
    assert hepmc3.HNL_PDG in _get(a, "NuHepMC.AdditionalParticleNumbers", list[int])
    for e in events:
        assert _attr(e, "signal_process_id", int) in procs
        assert {v.status for v in e.vertices} <= vstat
        assert {p.status for p in e.particles} <= pstat
    for pid in procs:
        assert _get(a, f"NuHepMC.ProcessInfo[{pid}].Name", str)
    # G.C.4 beam histogram: content x width integrates to the flux of the sample per POT
    for comp in sample.flux_components.values():
        pdg = {"numu": 14, "numubar": -14}[comp.flavor]
        edges = np.array(_get(a, f"NuHepMC.Beam[{pdg}].Histogram.BinEdges", list[float]))
        content = np.array(_get(a, f"NuHepMC.Beam[{pdg}].Histogram.BinContent", list[float]))
        total = float(np.sum(content * np.diff(edges))) / hepmc3.FLUX_SCALE
        assert total == pytest.approx(comp.integral(), rel=1e-6)


def test_gzip_output_is_compressed(files, sample):
    path, _, events = files["ee"]
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    with gzip.open(path, "rt") as f:
        assert f.readline().startswith("HepMC::Version")
    assert len(events) == files["sampled"][1]["n_events"]


def test_bad_arguments_raise_one_line_errors_and_leave_no_file(sample, tmp_path):
    for kwargs in (
        {"pot": 0.0},
        {"pot": float("nan")},
        {"decay_mode": "photon"},
        {"selected_factor": np.ones(3)},
        {"selected_factor": np.full(sample.n, 2.0)},
        {"selected_decay_mode": "nu_mumu"},
    ):
        with pytest.raises(InputError):
            hepmc3.write_events_hepmc3(sample, tmp_path / "bad.hepmc3", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_reweighting_to_another_coupling_matches_rate(sample, tmp_path):
    d = 2 * COUPLING
    path = tmp_path / "d2.hepmc3"
    summary = hepmc3.write_events_hepmc3(sample, path, pot=POT, coupling=d)
    events = _read(path)
    assert sum(e.weights[0] for e in events) == pytest.approx(
        rate_summary(sample, POT, coupling=d).data["decays_in_fiducial"], rel=1e-12
    )
    assert events[0].run_info.attributes["dipolehnl.Model.Coupling_GeVinv"].astype(float) == d
    assert summary["n_events"] == len(events)


def test_majorana_hnl_is_self_conjugate_and_decays_to_nu_and_nubar(tmp_path):
    s = simulate("t2k-nd280", MASS_GEV, COUPLING, n_events=300, seed=3, majorana=True)
    path = tmp_path / "majorana.hepmc3"
    hepmc3.write_events_hepmc3(s, path, pot=POT)
    events = _read(path)
    signs = []
    for e in events:
        hnl = next(p for p in e.particles if abs(p.pid) == hepmc3.HNL_PDG)
        assert hnl.pid == hepmc3.HNL_PDG
        dec = next(v for v in e.vertices if v.status == hepmc3.VERTEX_HNL_DECAY)
        signs.append(next(np.sign(p.pid) for p in dec.particles_out if abs(p.pid) == 14))
    n_nu = signs.count(1)
    # nu or nubar with probability 1/2 each: within 5 sigma of n/2
    assert abs(n_nu - len(signs) / 2) <= 5 * math.sqrt(len(signs) / 4)
    assert _get(events[0].run_info.attributes, "dipolehnl.Model.Majorana", bool) is True


def test_without_a_channel_only_the_cv_weight_is_written(sample, tmp_path):
    path = tmp_path / "cv.hepmc3"
    summary = hepmc3.write_events_hepmc3(sample, path, pot=POT, decay_mode="ee")
    events = _read(path)
    assert list(events[0].run_info.weight_names) == ["CV"]
    assert all(len(e.weights) == 1 for e in events)
    assert summary["sum_selected"] == 0.0
    assert "dipolehnl.Weight.selected" not in events[0].run_info.attributes


def test_darknews_convention_has_no_dimuon_decays(tmp_path):
    """DarkNews's total width has no ν μ⁺μ⁻ (Convention.dimuon_in_total is False)."""
    s = simulate("t2k-nd280", 0.5, COUPLING, n_events=200, seed=2, preset="paper")
    assert s.model.convention.name == "darknews"
    path = tmp_path / "dn.hepmc3"
    summary = hepmc3.write_events_hepmc3(s, path, pot=POT)
    assert summary["n_nu_mumu"] == 0 and summary["n_nu_gamma"] > 0
    assert _get(_read(path)[0].run_info.attributes, "dipolehnl.BR_mumu", float) == 0.0


def test_cli_simulate_writes_hepmc3_by_extension(tmp_path, capsys):
    """``simulate --out x.hepmc3.gz --pot P``: the same events as the API with the default channel,
    CV weights for P protons on target; a bad extension or --pot with Parquet is one error line."""
    from dipolehnl.cli import main

    path = tmp_path / "cli.hepmc3.gz"
    args = [
        "simulate",
        "--experiment",
        "t2k-nd280",
        "--mass",
        str(MASS_GEV),
        "--coupling",
        str(COUPLING),
        "--events",
        "200",
        "--seed",
        "5",
    ]
    assert main(args + ["--out", str(path), "--pot", "2e20"]) == 0
    events = _read(path)
    s = simulate("t2k-nd280", MASS_GEV, COUPLING, n_events=200, seed=5)
    rate = rate_summary(s, 2e20, default_channel()).data
    assert sum(e.weights[0] for e in events) == pytest.approx(rate["decays_in_fiducial"], rel=1e-12)
    ri = events[0].run_info
    assert list(ri.weight_names) == ["CV", "selected"]
    assert _get(ri.attributes, "NuHepMC.Exposure.POT", float) == 2e20
    assert _get(ri.attributes, "dipolehnl.Metadata.channel", str) == "ee"
    capsys.readouterr()
    for bad in (
        ["--out", str(tmp_path / "x.txt")],
        ["--out", str(tmp_path / "x.parquet"), "--pot", "1e20"],
        ["--out", str(tmp_path / "y.hepmc3"), "--pot", "-1"],
    ):
        assert main(args + bad) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "error" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli.hepmc3.gz"]
