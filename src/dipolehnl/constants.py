"""Physical constants, in one place.

Values follow DarkNews 0.4.8 (``DarkNews/const.py``) so that convention ``darknews``
reproduces it to machine precision; they agree with PDG 2022.
"""

from __future__ import annotations

import math

ALPHA_EM: float = 1.0 / 137.03599908421  #: fine-structure constant at Q^2 = 0
E_EM: float = math.sqrt(4.0 * math.pi * ALPHA_EM)  #: electric charge, e = sqrt(4 pi alpha)
M_E_GEV: float = 0.5109989500015e-3  #: electron mass
M_MU_GEV: float = 0.1056583755  #: muon mass
M_PROTON_GEV: float = 0.93827208816  #: proton mass
M_KAON_GEV: float = 0.493677  #: charged kaon mass (PDG)
HBARC_GEV_M: float = 1.973269804e-16  #: hbar c in GeV m
HBARC2_GEV2_CM2: float = 3.8937937211162957e-28  #: (hbar c)^2 in GeV^2 cm^2, = DarkNews invGeV2_to_cm2
FM_TO_INV_GEV: float = 5.067730716156395  #: 1 fm in GeV^-1
ATOMIC_MASS_UNIT_G: float = 1.66053906660e-24  #: 1 u in grams
GEV_PER_U: float = 0.9314941024228  #: 1 u in GeV (as DarkNews)
MU_PROTON: float = 2.792  #: proton magnetic moment (nuclear magnetons), as DarkNews
NUCLEON_DIPOLE_MASS_GEV: float = 0.843  #: vector dipole mass of the nucleon form factors
