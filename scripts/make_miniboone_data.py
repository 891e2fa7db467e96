"""Regenerate the MiniBooNE package data ``src/dipolehnl/experiments/data/miniboone/``.

Usage: ``python scripts/make_miniboone_data.py REFERENCE_DIR`` where REFERENCE_DIR is the
project's collected MiniBooNE inputs (``reference/miniboone``: ``flux/``, ``detector/``,
``data_release_2020/``, ``digitized_2020/``, ``efficiency/``).  The package never reads
that folder; this script copies and converts what it needs, and the README of every data
folder states the source, the paper, the arXiv id, the transformation and the SHA-256 of
every source file.

Transformations
---------------
* flux: the BNB tables give neutrinos per cm^2 per POT *in each 50 MeV bin*; the shipped
  tables give the density per cm^2 per POT per GeV, i.e. value / 0.050 GeV.  Values are
  written with 6 significant digits (the source has 4), so the conversion is exact.
* data release: byte-for-byte copies; the two full-oscillation ntuples are gzipped
  (``gzip -n``, deterministic) and the SHA-256 of the *uncompressed* content is recorded,
  which equals the SHA-256 of the source file.
* digitised figures, efficiency: byte-for-byte copies.
* detector: written by hand (``miniboone.toml``); this script only prints the SHA-256 of
  the SIREN files it was transcribed from.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "src" / "dipolehnl" / "experiments" / "data" / "miniboone"
BIN_WIDTH_GEV = 0.050

RELEASE_FILES = {
    "numode": [
        "miniboone_binboundaries_nue_lowe.txt",
        "miniboone_nuedata_lowe.txt",
        "miniboone_nuebgr_lowe.txt",
        "miniboone_numudata.txt",
        "miniboone_numu.txt",
        "miniboone_full_fractcovmatrix_nu_lowe.txt",
    ],
    "nubarmode": [
        "miniboone_binboundaries_nue_lowe.txt",
        "miniboone_nuebardata_lowe.txt",
        "miniboone_nuebarbgr_lowe.txt",
        "miniboone_numubardata.txt",
        "miniboone_numubar.txt",
        "miniboone_full_fractcovmatrix_nubar_lowe.txt",
    ],
}
NTUPLES = {
    "numode": "miniboone_numunuefullosc_ntuple.txt",
    "nubarmode": "miniboone_numubarnuebarfullosc_ntuple.txt",
}
DIGITIZED = [
    "Costheta_bin_edges.dat",
    "cosTheta_data.dat",
    "cosTheta_bkg.dat",
    "Evis_bin_edges.dat",
    "Evis_data.dat",
    "Evis_bkg.dat",
]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def convert_flux(src: Path, dst: Path, mode_label: str) -> None:
    rows = []
    for line in src.read_text().splitlines():
        tok = line.split()
        if not tok or tok[0].startswith("#") or tok[0] == "Elo":
            continue
        rows.append([float(t) for t in tok])
    a = np.array(rows)
    if a.shape[1] != 6 or not np.allclose(np.diff(a[:, :2], axis=1), BIN_WIDTH_GEV):
        raise SystemExit(f"{src}: expected 6 columns and 50 MeV bins")
    with dst.open("w") as f:
        f.write(f"# Booster Neutrino Beam flux at MiniBooNE, {mode_label}; see README.md for provenance.\n")
        f.write("# Units: E in GeV; flux density in neutrinos per cm^2 per POT per GeV\n")
        f.write(f"# (source value per 50 MeV bin divided by {BIN_WIDTH_GEV} GeV).\n")
        f.write("# E_lo_GeV E_hi_GeV numu numubar nue nuebar\n")
        for r in a:
            dens = r[2:] / BIN_WIDTH_GEV
            f.write(f"{r[0]:.2f} {r[1]:.2f} " + " ".join(f"{x:.6e}" for x in dens) + "\n")


def main(ref: Path) -> None:
    (OUT / "flux").mkdir(parents=True, exist_ok=True)
    for mode in ("numode", "nubarmode"):
        src = ref / "flux" / f"bnb_{mode}_flux.dat"
        convert_flux(src, OUT / "flux" / f"bnb_{mode}_flux_per_GeV.txt", mode)
        print(f"flux/{src.name}  sha256 {sha256(src.read_bytes())}")
    for mode, names in RELEASE_FILES.items():
        d = OUT / "release_2020" / mode
        d.mkdir(parents=True, exist_ok=True)
        for n in names:
            shutil.copyfile(ref / "data_release_2020" / mode / n, d / n)
            print(f"release_2020/{mode}/{n}  sha256 {sha256((d / n).read_bytes())}")
        raw = (ref / "data_release_2020" / mode / NTUPLES[mode]).read_bytes()
        with (
            open(d / (NTUPLES[mode] + ".gz"), "wb") as fh,
            gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz,
        ):
            gz.write(raw)
        print(f"release_2020/{mode}/{NTUPLES[mode]}  {len(raw)} bytes  sha256 {sha256(raw)}")
    d = OUT / "digitized_2020"
    d.mkdir(parents=True, exist_ok=True)
    for n in DIGITIZED:
        shutil.copyfile(ref / "digitized_2020" / n, d / n)
        print(f"digitized_2020/{n}  sha256 {sha256((d / n).read_bytes())}")
    d = OUT / "efficiency"
    d.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ref / "efficiency" / "gamma_electron_efficiency.dat", d / "gamma_electron_efficiency.dat")
    print(
        f"efficiency/gamma_electron_efficiency.dat  sha256 {sha256((d / 'gamma_electron_efficiency.dat').read_bytes())}"
    )
    for n in ("siren_MiniBooNE-v1_densities.dat", "siren_MiniBooNE-v1_materials.dat"):
        print(f"detector source {n}  sha256 {sha256((ref / 'detector' / n).read_bytes())}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]))
