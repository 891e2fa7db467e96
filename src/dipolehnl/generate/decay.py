"""Decay kinematics of the HNL in the lab, for both decay modes of every event.

Every event carries N → νγ and N → νe⁺e⁻ four-momenta (GeV), drawn from the polarized
rest-frame distributions of PHYSICS.md eqs. (3) and (5) (``generate.kinematics``) and
boosted along the HNL direction.  The polarisation entering N → νe⁺e⁻ is
``convention.pair_polarisation_sign`` × h (a Majorana HNL decays unpolarized, h = 0).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from dipolehnl.generate import kinematics as kin
from dipolehnl.physics.model import HNLModel

Array = NDArray[np.float64]


def decay_kinematics(
    rng: np.random.Generator, model: HNLModel, helicity: Array, u: Array, E_N_GeV: Array, p_N_GeV: Array
) -> dict[str, Array]:
    """Lab four-momenta (n, 4) in GeV of the HNL and of the products of both decay modes.

    ``helicity``: HNL helicity per event (±1); ``u``: HNL direction (n, 3); ``E_N_GeV``,
    ``p_N_GeV``: HNL energy and momentum.  Returns the columns ``p_N``, ``p_gamma``,
    ``p_nu_gamma_mode``, ``p_eminus``, ``p_eplus``, ``p_nu_ee_mode``.
    """
    m = model.mass_GeV
    h = helicity if not model.majorana else np.zeros(helicity.size)
    h_pair = model.convention.pair_polarisation_sign * h
    gam_r, nug_r = kin.decay_nu_gamma(rng, m, h)
    em_r, ep_r, nue_r = kin.decay_nu_ee(rng, m, h_pair)
    gamma_f = E_N_GeV / m
    frame = kin.orthonormal_frame(u)  # the rest frame's axes, shared by the five boosts
    return {
        "p_N": np.concatenate([E_N_GeV[:, None], p_N_GeV[:, None] * u], axis=1),
        "p_gamma": kin.to_lab(gam_r, u, gamma_f, frame),
        "p_nu_gamma_mode": kin.to_lab(nug_r, u, gamma_f, frame),
        "p_eminus": kin.to_lab(em_r, u, gamma_f, frame),
        "p_eplus": kin.to_lab(ep_r, u, gamma_f, frame),
        "p_nu_ee_mode": kin.to_lab(nue_r, u, gamma_f, frame),
    }
