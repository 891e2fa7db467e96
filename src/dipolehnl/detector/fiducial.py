"""Analysis fiducial volumes from the command line, and a clear refusal without any.

The generator produces HNL decays inside a detector's analysis fiducial volumes (boxes in
TPC gas).  Shipped models and TOML files carry them (``[fiducial_volumes.NAME]``); a
SIREN ``*_densities.dat`` file gets its ``fiducial`` line as a volume called ``fiducial``
when that box lies in TPC gas (``detector.siren``).  ``--fiducial NAME=CX,CY,CZ,LX,LY,LZ``
(box centre and full sizes in m) replaces them; a detector left without any is refused
with one line saying how to add them.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from dipolehnl.errors import InputError

FIDUCIAL_HELP = ("give one with --fiducial NAME=CX,CY,CZ,LX,LY,LZ (box centre and full sizes in m, inside TPC gas), "
                 "or add a [fiducial_volumes.NAME] table (center_m, size_m) to a TOML detector file")


def parse_fiducial(spec: str):
    """``NAME=CX,CY,CZ,LX,LY,LZ`` → (name, Box)."""
    from dipolehnl.detector.shapes import Box

    name, sep, nums = spec.partition("=")
    name = name.strip()
    try:
        vals = [float(x) for x in nums.split(",")] if sep else []
    except ValueError:
        vals = []
    if not name or len(vals) != 6 or not all(math.isfinite(v) for v in vals):
        raise InputError(f"--fiducial {spec!r}: expected NAME=CX,CY,CZ,LX,LY,LZ (six finite numbers, m)")
    try:
        return name, Box(center_m=tuple(vals[:3]), size_m=tuple(vals[3:]))
    except InputError as exc:
        raise InputError(f"--fiducial {spec!r}: {exc}") from None


def detector_with_fiducial(detector, specs: Sequence[str] | None = None):
    """The detector (name, path or Detector) with the fiducial volumes of ``specs`` (if any),
    refused with one line (:class:`InputError`) if it ends up without fiducial volumes."""
    from dipolehnl.detector import Detector, load_detector

    det = detector if isinstance(detector, Detector) else load_detector(detector)
    if specs:
        fvs = dict(parse_fiducial(s) for s in specs)
        if len(fvs) != len(specs):
            raise InputError("--fiducial: each fiducial volume needs its own name")
        det = Detector(det.name, list(det.volumes), fvs, det.description)
    require_fiducial(det, detector)
    return det


def require_fiducial(det, source=None) -> None:
    """:class:`InputError` (one line, saying how to add them) if ``det`` has no fiducial volumes."""
    if det.fiducial_volumes:
        return
    note = ""
    if source is not None and str(source).endswith(".dat"):
        try:
            from dipolehnl.detector.siren import read_siren_densities

            box = read_siren_densities(Path(str(source))).fiducial
            note = (" (its SIREN 'fiducial' line is not inside one TPC gas volume)" if box is not None
                    else " (the SIREN file has no 'fiducial' line)")
        except InputError:
            pass
    raise InputError(f"detector {det.name!r} has no analysis fiducial volume{note}: {FIDUCIAL_HELP}")
