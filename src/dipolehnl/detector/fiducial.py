"""Fiducial volumes from the command line, and a clear refusal without any.

The generator produces HNL decays inside fiducial volumes (any shape, in any medium).  They
come from an experiment file (``[fiducial_volumes.NAME]``), from a detector TOML file
(``[fiducial_volumes.NAME]``), or from a SIREN ``*_densities.dat`` file's ``fiducial`` line
(a volume called ``fiducial``, ``detector.siren``).  ``--fiducial NAME=CX,CY,CZ,LX,LY,LZ``
(box centre and full sizes in m) replaces them; a set-up left without any is refused with
one line saying how to add them (:func:`require_fiducial`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from dipolehnl.errors import InputError

FIDUCIAL_HELP = (
    "give one with --fiducial NAME=CX,CY,CZ,LX,LY,LZ (box centre and full sizes in m), "
    "or add a [fiducial_volumes.NAME] table to the experiment file or the TOML detector file"
)


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
    """The detector (shipped name, path or Detector) with the fiducial volumes of ``specs``
    (``--fiducial`` values) instead of its own (:class:`InputError`, one line, for a bad
    value or a volume outside the detector)."""
    from dipolehnl.detector import Detector, load_detector

    det = detector if isinstance(detector, Detector) else load_detector(detector)
    if not specs:
        return det
    fvs = dict(parse_fiducial(s) for s in specs)
    if len(fvs) != len(specs):
        raise InputError("--fiducial: each fiducial volume needs its own name")
    try:
        return Detector(det.name, list(det.volumes), fvs, det.description)
    except InputError as exc:
        raise InputError(f"--fiducial: {exc}") from None


def require_fiducial(fiducial_volumes: Mapping, what: str, source=None) -> None:
    """:class:`InputError` (one line, saying how to add them) if ``fiducial_volumes`` of
    ``what`` (e.g. "experiment 'toy'", read from the file ``source``) is empty."""
    if fiducial_volumes:
        return
    note = ""
    if source is not None and str(source).endswith(".dat"):
        note = " (the SIREN file has no 'fiducial' line)"
    raise InputError(f"{what} has no analysis fiducial volume{note}: {FIDUCIAL_HELP}")
