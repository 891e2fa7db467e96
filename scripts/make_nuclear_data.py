"""Regenerate ``src/dipolehnl/physics/data/{nuclei.csv,fourier_bessel.json}``.

Provenance
----------
* Atomic masses: AME2020 (W.J. Huang et al., Chin. Phys. C45 030002; M. Wang et al.,
  Chin. Phys. C45 030003, 2021), file ``mass.mas20`` as distributed with DarkNews 0.4.8
  (``DarkNews/include/aux_data/mass20_1.txt``).  The nuclear mass is
  ``M_atom - Z m_e + B_e(Z)`` with the electron binding energy of Lunney, Pearson and
  Thibault, Rev. Mod. Phys. 75, 1021 (2003): ``B_e = 14.4381 Z^2.39 + 1.55468e-6 Z^5.35 eV``,
  exactly as DarkNews computes it (PHYSICS.md eq. 8).
* Fourier-Bessel charge-density coefficients: H. de Vries, C.W. de Jager, C. de Vries,
  At. Data Nucl. Data Tables 36, 495 (1987), as tabulated in DarkNews
  (``DarkNews/const_dics.py::fourier_bessel_dic``: a_1..a_n, then R in fm).

Run with DarkNews installed: ``python scripts/make_nuclear_data.py``.
"""

from __future__ import annotations

import csv
import json
from importlib.resources import files
from itertools import islice
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "dipolehnl" / "physics" / "data"
ATOMIC_UNIT_GEV = 0.9314941024228  # m(C12)/12 in GeV, as in DarkNews
M_E_GEV = 0.5109989500015e-3


def main() -> None:
    from DarkNews.const_dics import fourier_bessel_dic

    rows = []
    with files("DarkNews.include.aux_data").joinpath("mass20_1.txt").open() as ame:
        for line in islice(ame, 36, None):
            z = int(line[12:15])
            if z >= 93:
                continue
            a = int(line[16:20])
            symbol = line[20:22].strip()
            atomic = (float(line[106:109]) + 1e-6 * float(line[110:116] + "." + line[117:124])) * ATOMIC_UNIT_GEV
            b_e = (14.4381 * z**2.39 + 1.55468e-6 * z**5.35) * 1e-9
            nuclear = atomic - z * M_E_GEV + b_e
            rows.append((symbol, z, a, f"{atomic:.12f}", f"{nuclear:.12f}"))
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "nuclei.csv", "w", newline="") as fh:
        fh.write("# AME2020 atomic masses (Huang et al., Wang et al., Chin. Phys. C45 030002/3, 2021);\n")
        fh.write("# nuclear mass = atomic - Z m_e + B_e(Z) (Lunney et al. 2003), as DarkNews 0.4.8. Units: GeV.\n")
        w = csv.writer(fh)
        w.writerow(["symbol", "Z", "A", "atomic_mass_GeV", "nuclear_mass_GeV"])
        w.writerows(rows)
    fb = {}
    for name, coeffs in sorted(fourier_bessel_dic.items()):
        fb[name] = {"R_fm": float(coeffs[-1]), "a": [float(c) for c in coeffs[:-1]]}
    doc = {
        "_source": "de Vries, de Jager, de Vries, At. Data Nucl. Data Tables 36, 495 (1987), "
        "as tabulated in DarkNews 0.4.8 const_dics.fourier_bessel_dic",
        "nuclei": fb,
    }
    (OUT / "fourier_bessel.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {len(rows)} nuclei and {len(fb)} Fourier-Bessel tables to {OUT}")


if __name__ == "__main__":
    main()
