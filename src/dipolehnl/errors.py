"""Exceptions.  The CLI turns :class:`InputError` into one line on stderr and exit code 2."""

from __future__ import annotations

import math


class DipoleHNLError(Exception):
    """Base class of all errors raised by dipolehnl."""


class InputError(DipoleHNLError, ValueError):
    """A user-supplied value or file is invalid (bad mass, unknown detector, malformed file...)."""


def check_positive(name: str, value: object) -> float:
    """Return ``float(value)`` if it is finite and > 0, else raise :class:`InputError`
    naming ``name``."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise InputError(f"{name} must be positive and finite, got {value!r}")
    return v


class OutputError(InputError):
    """An output could not be written (no permission, no space, path too long, parent is a
    file, directory in use by another run).  The user's environment, not a bug: the CLI
    prints one line and exits with code 2, like for bad input."""
