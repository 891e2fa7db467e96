"""Materials: number densities against rho N_A w / A, validation."""

from __future__ import annotations

import numpy as np
import pytest

from dipolehnl.detector import Material
from dipolehnl.errors import InputError

N_A = 6.02214076e23  # per mol


def test_number_densities_water():
    water = Material("WATER", np.array([1000010010, 1000080160]), np.array([0.115, 0.885]))
    n = water.number_densities_cm3(1.0)
    # rho N_A w / A with A the atomic mass in g/mol: H1 1.007825, O16 15.994915
    expected = np.array([1.0 * N_A * 0.115 / 1.00782503, 1.0 * N_A * 0.885 / 15.99491462])
    np.testing.assert_allclose(n, expected, rtol=1e-6)


def test_number_density_scales_with_density():
    rock = Material.from_components("ROCK", [[1000140280, 0.4674349], [1000080160, 0.5325651]])
    np.testing.assert_allclose(rock.number_densities_cm3(2.9), 2.9 * rock.number_densities_cm3(1.0))
    # Si28: 2.9 g/cm3 * 0.4674349 * N_A / 27.9769265 g/mol
    assert rock.number_densities_cm3(2.9)[0] == pytest.approx(2.9 * 0.4674349 * N_A / 27.97692653, rel=1e-6)


def test_proton_code_and_renormalisation():
    m = Material("X", np.array([2212, 1000060120]), np.array([0.1, 0.9005]))
    assert m.pdg.tolist() == [1000010010, 1000060120]
    assert m.mass_fraction.sum() == pytest.approx(1.0, abs=1e-15)
    assert m.mass_fraction[0] == pytest.approx(0.1 / 1.0005)


@pytest.mark.parametrize(
    "pdg,frac,match",
    [
        ([1000060120], [0.5], "sum to"),
        ([1000060120, 1000080160], [1.2, -0.2], "> 0"),
        ([1000060120, 1000060120], [0.5, 0.5], "duplicate"),
        ([1009990990], [1.0], "unknown nucleus"),
        ([12345], [1.0], "not a nuclear PDG"),
        ([], [], "no components"),
        ([1000060120, 1000080160], [1.0], "PDG codes but"),
        ([1000060120], [np.nan], "finite"),
    ],
)
def test_invalid(pdg, frac, match):
    with pytest.raises(InputError, match=match):
        Material("BAD", np.array(pdg, dtype=np.int64), np.array(frac, dtype=float))


def test_negative_density():
    m = Material("C", np.array([1000060120]), np.array([1.0]))
    with pytest.raises(InputError):
        m.number_densities_cm3(-1.0)
