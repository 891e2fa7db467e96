"""Couplings per flavour: d_e, d_mu, d_tau (widths sum d_alpha^2; production by nu_alpha
scales with d_alpha^2; the flux components follow the non-zero couplings)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from dipolehnl.analysis.execution import LocalExecutor
from dipolehnl.analysis.scan import ScanSettings, run_scans
from dipolehnl.cli import main
from dipolehnl.errors import InputError
from dipolehnl.experiment import load_experiment
from dipolehnl.generate.api import simulate
from dipolehnl.physics import decays
from dipolehnl.physics.model import HNLModel

TOY = Path(__file__).parent / "data" / "toy"


def test_constructor_paths():
    assert HNLModel(0.1, 2e-6) == HNLModel(0.1, None, d_mu_GeVinv=2e-6) == HNLModel.for_flavor(0.1, 2e-6, "mu")
    e = HNLModel.for_flavor(0.1, 2e-6, "e")
    assert e.coupling_flavors == ("e",) and e.d_GeVinv == 2e-6 and e.mu_tr_GeVinv == 4e-6
    mixed = HNLModel(0.1, None, d_e_GeVinv=3e-6, d_mu_GeVinv=4e-6)
    assert mixed.d_GeVinv == pytest.approx(5e-6, rel=1e-15)
    assert mixed.flavor_fraction("e") == pytest.approx(9 / 25) and mixed.flavor_fraction("tau") == 0.0
    assert mixed.with_coupling(1e-5).d_e_GeVinv == pytest.approx(6e-6)
    with pytest.raises(InputError):
        HNLModel(0.1, None, d_e_GeVinv=0.0, d_mu_GeVinv=0.0)
    with pytest.raises(InputError):
        HNLModel(0.1, None, d_e_GeVinv=-1e-6, d_mu_GeVinv=1e-6)
    with pytest.raises(InputError):
        HNLModel.for_flavor(0.1, 1e-6, "x")


@pytest.mark.parametrize("convention", ["consistent", "darknews"])
def test_widths_sum_the_squared_couplings(convention):
    """Gamma(N -> nu_alpha gamma) = d_alpha^2 m^3/(4 pi) (consistent): the total over alpha is
    (sum d_alpha^2) m^3/(4 pi); the same for every mode and in both conventions."""
    m = 0.3
    d_e, d_mu, d_tau = 1e-6, 2e-6, 0.5e-6
    mixed = HNLModel(m, None, convention=convention, d_e_GeVinv=d_e, d_mu_GeVinv=d_mu, d_tau_GeVinv=d_tau)
    parts = [HNLModel.for_flavor(m, d, a, convention=convention) for a, d in (("e", d_e), ("mu", d_mu), ("tau", d_tau))]
    for fn in (decays.gamma_nu_gamma, decays.gamma_nu_ee, decays.gamma_total):
        assert fn(mixed) == pytest.approx(sum(fn(p) for p in parts), rel=1e-12)
    if convention == "consistent":  # closed form, PHYSICS.md eq. 2
        assert decays.gamma_nu_gamma(mixed) == pytest.approx(
            (d_e**2 + d_mu**2 + d_tau**2) * m**3 / (4 * math.pi), rel=1e-12
        )


@pytest.fixture()
def twin_experiment(tmp_path):
    """The toy experiment with a nu_e flux identical to its nu_mu flux."""
    for f in TOY.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    text = (tmp_path / "toy-experiment.toml").read_text()
    text = text.replace(
        "[detector]",
        '[beam.modes.nu.nue]\nfile = "toy-flux.txt"\nformat = "bins"\nunits = "cm-2 GeV-1 POT-1"\n\n[detector]',
    )
    (tmp_path / "twin.toml").write_text(text)
    return load_experiment(tmp_path / "twin.toml")


def test_d_e_uses_the_nu_e_flux(twin_experiment):
    """With phi_nue = phi_numu the d_e and d_mu samples are the same (same seed), and their
    flux components are the nu_e resp. nu_mu ones."""
    mu = simulate(twin_experiment, 0.1, 2e-6, mode="nu", n_events=800, seed=4, coupling_flavor="mu")
    e = simulate(twin_experiment, 0.1, 2e-6, mode="nu", n_events=800, seed=4, coupling_flavor="e")
    assert mu.component_names == ("nu:numu",) and e.component_names == ("nu:nue",)
    np.testing.assert_allclose(e.weights(), mu.weights(), rtol=1e-12)


def test_mixed_couplings_split_production_by_flavour(twin_experiment):
    """d_e = d_mu = d/sqrt(2) with identical fluxes: widths and the summed production equal
    those of d_mu = d alone; each component carries half."""
    d = 2e-6
    mixed = HNLModel(0.1, None, d_e_GeVinv=d / math.sqrt(2), d_mu_GeVinv=d / math.sqrt(2))
    single = HNLModel(0.1, d)
    assert mixed.d_GeVinv == pytest.approx(d, rel=1e-15)
    from dipolehnl.generate.sampling import GeneratorSettings, generate

    exp = twin_experiment
    comps2 = {"nu:numu": exp.flux("nu", "numu"), "nu:nue": exp.flux("nu", "nue")}
    a = generate(exp.detector, mixed, comps2, GeneratorSettings(n_events=3000, seed=8), fiducial=exp.fiducial_volumes)
    b = generate(
        exp.detector,
        single,
        {"nu:numu": exp.flux("nu", "numu")},
        GeneratorSettings(n_events=3000, seed=9),
        fiducial=exp.fiducial_volumes,
    )
    wa, wb = a.weights(), b.weights()
    assert a.weights(components=["nu:nue"]).sum() == pytest.approx(0.5 * wa.sum(), rel=1e-12)
    assert abs(wa.sum() - wb.sum()) < 4 * math.hypot(a.mc_error(wa), b.mc_error(wb))


def test_cli_coupling_flavor(capsys):
    def width(flavor):
        assert main(["width", "--mass", "0.2", "--coupling", "1e-6", "--coupling-flavor", flavor, "--json"]) == 0
        return json.loads(capsys.readouterr()[0])

    e, mu = width("e"), width("mu")
    assert e["gamma_total_GeV"] == mu["gamma_total_GeV"] and e["coupling_flavor"] == "e"
    code = main(
        [
            "rate",
            "--mass",
            "0.2",
            "--coupling",
            "1e-6",
            "--pot",
            "1e21",
            "--events",
            "300",
            "--coupling-flavor",
            "e",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr()[0])
    assert code == 0 and out["flux_components"] == ["fhc:nue", "fhc:nuebar"]
    code = main(
        ["rate", "--mass", "0.2", "--coupling", "1e-6", "--pot", "1e21", "--events", "300", "--coupling-flavor", "tau"]
    )
    err = capsys.readouterr()[1]
    assert code == 2 and "nutau" in err and err.count("\n") == 1


def test_d_e_scan_and_report_section():
    """The d_eN scan of the shipped analyses runs on the T2K nu_e/nu_e-bar columns and the
    report section is built from it; the nu_e flux is ~1% of nu_mu, so the reach is weaker."""
    st = ScanSettings(
        masses_GeV=(0.1, 0.4), couplings_GeVinv=tuple(np.geomspace(1e-8, 1e-4, 30)), n_events=300, refine=False
    )
    st_e = ScanSettings(**{**st.__dict__, "coupling_flavor": "e"})
    mu = dict(
        zip(("t2k2019", "t2k+t2k2"), run_scans(["t2k2019", "t2k+t2k2"], "default", st, executor=LocalExecutor(1)))
    )
    e = dict(
        zip(("t2k2019", "t2k+t2k2"), run_scans(["t2k2019", "t2k+t2k2"], "default", st_e, executor=LocalExecutor(1)))
    )
    # at the smallest coupling (long-lived), signal ratio e/mu ~ flux ratio: well below 1
    s_e, s_mu = e["t2k2019"].signal().sum(axis=1)[:, 0], mu["t2k2019"].signal().sum(axis=1)[:, 0]
    assert np.all(s_e < 0.2 * s_mu) and np.all(s_e > 0)
    from dipolehnl.report.context import electron_section
    from dipolehnl.report.render import environment

    section = electron_section(mu, e)
    assert [r["analysis"] for r in section["rows"]] == ["t2k2019", "t2k+t2k2"]
    text = environment().get_template("partials/electron.md.j2").render(electron=section)
    assert "d_eN" in text and "t2k2019" in text and "t2k+t2k2" in text


@pytest.mark.darknews
def test_photon_width_per_flavour_against_live_darknews(darknews):
    """DarkNews sums |mu_tr_alpha4|^2 over the light flavours for N -> nu gamma; ours with
    d_alpha = mu_tr_alpha4 / 2 (convention darknews) agrees within 0.5%."""
    from DarkNews import model, pdg, processes

    for m in (0.02, 0.2, 1.0):
        for mu_e, mu_mu, mu_tau in ((1e-6, 0.0, 0.0), (0.0, 0.0, 2e-6), (1e-6, 2e-6, 0.5e-6)):
            kw = {k: v for k, v in (("mu_tr_e4", mu_e), ("mu_tr_mu4", mu_mu), ("mu_tr_tau4", mu_tau)) if v}
            dnm = model.GenericHNLModel(m4=m, HNLtype="dirac", **kw)
            g = processes.FermionSinglePhotonDecay(pdg.neutrino4, pdg.nulight, dnm, h_parent=-1).total_width()
            ours = HNLModel(
                m, None, convention="darknews", d_e_GeVinv=mu_e / 2, d_mu_GeVinv=mu_mu / 2, d_tau_GeVinv=mu_tau / 2
            )
            assert decays.gamma_nu_gamma(ours) == pytest.approx(g, rel=5e-3), (m, kw)
