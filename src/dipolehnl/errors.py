"""Exceptions.  The CLI turns :class:`InputError` into one line on stderr and exit code 2."""
from __future__ import annotations


class DipoleHNLError(Exception):
    """Base class of all errors raised by dipolehnl."""


class InputError(DipoleHNLError, ValueError):
    """A user-supplied value or file is invalid (bad mass, unknown detector, malformed file...)."""
