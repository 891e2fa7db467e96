"""Convex solids for detector geometry: axis-aligned boxes, cylinders and spheres.

All lengths are in metres. Every method is vectorised over points / rays.

Ray convention
--------------
A ray (or rather a line) is ``p(t) = origin + t * direction``. :meth:`Shape.intersect`
returns, for each ray, the parameter interval ``[t_in, t_out]`` in which the *infinite
line* is inside the (closed) solid; ``t`` can be negative (the solid lies behind the
origin) and is measured in units of ``|direction|`` (metres for unit directions).
A miss is reported as ``t_in = +inf`` and ``t_out = -inf``, so ``t_in <= t_out`` is
exactly the hit test (and ``t_in < t_out`` the test for a chord of positive length;
a line grazing an edge or a face has ``t_in == t_out`` or a chord lying in the face).
Neither value is ever NaN for finite inputs.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dipolehnl.errors import InputError, check_positive

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

AXES: dict[str, int] = {"x": 0, "y": 1, "z": 2}


def _vec3(value: ArrayLike, what: str) -> FloatArray:
    """A finite 3-vector as a read-only float64 array, or :class:`InputError`."""
    try:
        arr = np.array(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be 3 numbers, got {value!r}") from None
    if arr.shape != (3,):
        raise InputError(f"{what} must be 3 numbers, got {value!r}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{what} must be finite, got {arr.tolist()}")
    arr.flags.writeable = False
    return arr


def as_points(points: ArrayLike, what: str = "points") -> FloatArray:
    """Coerce to a float64 array of shape (N, 3) (a single 3-vector becomes (1, 3))."""
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim == 1 and arr.shape[0] == 3:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise InputError(f"{what} must have shape (N, 3), got {arr.shape}")
    return arr


def _slab(o: FloatArray, d: FloatArray, lo: float, hi: float) -> tuple[FloatArray, FloatArray]:
    """Parameter interval of the slab lo <= o + t d <= hi (1-D, vectorised).

    Lines parallel to the slab (d == 0) get (-inf, inf) when inside it and the
    empty interval (inf, -inf) otherwise; no NaN is produced.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / d
        a = (lo - o) * inv
        b = (hi - o) * inv
    t0 = np.minimum(a, b)
    t1 = np.maximum(a, b)
    par = d == 0.0
    if np.any(par):
        inside = (o >= lo) & (o <= hi)
        t0 = np.where(par, np.where(inside, -np.inf, np.inf), t0)
        t1 = np.where(par, np.where(inside, np.inf, -np.inf), t1)
    return t0, t1


def _miss_to_convention(t_in: FloatArray, t_out: FloatArray) -> tuple[FloatArray, FloatArray]:
    miss = ~(t_in <= t_out)
    if np.any(miss):
        t_in = np.where(miss, np.inf, t_in)
        t_out = np.where(miss, -np.inf, t_out)
    return t_in, t_out


class Shape(ABC):
    """A closed convex solid (lengths in m)."""

    kind: ClassVar[str] = "shape"

    @abstractmethod
    def contains(self, points: ArrayLike) -> BoolArray:
        """Whether each point (N, 3) in m lies in the closed solid -> bool (N,)."""

    @abstractmethod
    def intersect(self, origins: ArrayLike, directions: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """``(t_in, t_out)`` (N,) of each line; misses are ``(+inf, -inf)`` (module docstring)."""

    @property
    @abstractmethod
    def volume_m3(self) -> float:
        """Volume in m^3."""

    @property
    @abstractmethod
    def bounds_m(self) -> tuple[FloatArray, FloatArray]:
        """Axis-aligned bounding box ``(lower corner, upper corner)`` in m."""

    @abstractmethod
    def sample(self, n: int, rng: np.random.Generator) -> FloatArray:
        """``n`` points uniformly distributed in the solid, shape (n, 3), m."""

    @abstractmethod
    def to_dict(self) -> dict[str, object]:
        """Plain description (used by the TOML writer)."""


@dataclass(frozen=True, eq=False, init=False, repr=False)
class Box(Shape):
    """Axis-aligned box: ``center_m`` (3,) and full side lengths ``size_m`` (3,), m."""

    kind: ClassVar[str] = "box"
    center_m: FloatArray
    size_m: FloatArray
    lower_m: FloatArray = field(compare=False)
    upper_m: FloatArray = field(compare=False)

    def __init__(self, center_m: ArrayLike, size_m: ArrayLike) -> None:
        c = _vec3(center_m, "box center_m")
        s = _vec3(size_m, "box size_m")
        if np.any(s <= 0.0):
            raise InputError(f"box size_m must be > 0 in every direction, got {s.tolist()}")
        lo = c - 0.5 * s
        hi = c + 0.5 * s
        lo.flags.writeable = False
        hi.flags.writeable = False
        object.__setattr__(self, "center_m", c)
        object.__setattr__(self, "size_m", s)
        object.__setattr__(self, "lower_m", lo)
        object.__setattr__(self, "upper_m", hi)

    @classmethod
    def from_bounds(cls, lower_m: ArrayLike, upper_m: ArrayLike) -> Box:
        """Box spanning ``lower_m`` to ``upper_m`` (corners, m)."""
        lo = _vec3(lower_m, "box lower corner")
        hi = _vec3(upper_m, "box upper corner")
        return cls(center_m=0.5 * (lo + hi), size_m=hi - lo)

    @property
    def bounds_m(self) -> tuple[FloatArray, FloatArray]:
        return self.lower_m, self.upper_m

    @property
    def volume_m3(self) -> float:
        return float(np.prod(self.size_m))

    def contains(self, points: ArrayLike) -> BoolArray:
        p = as_points(points)
        return np.all((p >= self.lower_m) & (p <= self.upper_m), axis=1)

    def contains_box(self, other: Box, tol_m: float = 1e-9) -> bool:
        """Whether ``other`` lies inside this box (faces may touch, within ``tol_m``)."""
        return bool(np.all(other.lower_m >= self.lower_m - tol_m) and np.all(other.upper_m <= self.upper_m + tol_m))

    def intersect(self, origins: ArrayLike, directions: ArrayLike) -> tuple[FloatArray, FloatArray]:
        o = as_points(origins, "origins")
        d = as_points(directions, "directions")
        t_in = np.full(o.shape[0], -np.inf)
        t_out = np.full(o.shape[0], np.inf)
        for k in range(3):
            a, b = _slab(o[:, k], d[:, k], self.lower_m[k], self.upper_m[k])
            t_in = np.maximum(t_in, a)
            t_out = np.minimum(t_out, b)
        return _miss_to_convention(t_in, t_out)

    def sample(self, n: int, rng: np.random.Generator) -> FloatArray:
        return self.lower_m + rng.random((n, 3)) * self.size_m

    def to_dict(self) -> dict[str, object]:
        return {"shape": "box", "center_m": self.center_m.tolist(), "size_m": self.size_m.tolist()}

    def __repr__(self) -> str:
        return f"Box(center_m={self.center_m.tolist()}, size_m={self.size_m.tolist()})"


@dataclass(frozen=True, eq=False, init=False, repr=False)
class Cylinder(Shape):
    """Right circular cylinder with its axis along ``axis`` ('x', 'y' or 'z').

    ``center_m`` is the centre of the cylinder (middle of the axis), ``radius_m`` its
    radius and ``length_m`` its full length along the axis, all in m.
    """

    kind: ClassVar[str] = "cylinder"
    center_m: FloatArray
    radius_m: float
    length_m: float
    axis: Literal["x", "y", "z"]

    def __init__(
        self, center_m: ArrayLike, radius_m: float, length_m: float, axis: Literal["x", "y", "z"] = "z"
    ) -> None:
        if axis not in AXES:
            raise InputError(f"cylinder axis must be 'x', 'y' or 'z', got {axis!r}")
        object.__setattr__(self, "center_m", _vec3(center_m, "cylinder center_m"))
        object.__setattr__(self, "radius_m", check_positive("cylinder radius_m", radius_m))
        object.__setattr__(self, "length_m", check_positive("cylinder length_m", length_m))
        object.__setattr__(self, "axis", axis)

    @property
    def _k(self) -> int:
        return AXES[self.axis]

    @property
    def _perp(self) -> tuple[int, int]:
        k = self._k
        return ((k + 1) % 3, (k + 2) % 3)

    @property
    def bounds_m(self) -> tuple[FloatArray, FloatArray]:
        half = np.full(3, self.radius_m)
        half[self._k] = 0.5 * self.length_m
        return self.center_m - half, self.center_m + half

    @property
    def volume_m3(self) -> float:
        return math.pi * self.radius_m**2 * self.length_m

    def contains(self, points: ArrayLike) -> BoolArray:
        p = as_points(points) - self.center_m
        i, j = self._perp
        return (p[:, i] ** 2 + p[:, j] ** 2 <= self.radius_m**2) & (np.abs(p[:, self._k]) <= 0.5 * self.length_m)

    def intersect(self, origins: ArrayLike, directions: ArrayLike) -> tuple[FloatArray, FloatArray]:
        o = as_points(origins, "origins") - self.center_m
        d = as_points(directions, "directions")
        i, j = self._perp
        t_in, t_out = _slab(o[:, self._k], d[:, self._k], -0.5 * self.length_m, 0.5 * self.length_m)
        a = d[:, i] ** 2 + d[:, j] ** 2
        b = o[:, i] * d[:, i] + o[:, j] * d[:, j]
        c = o[:, i] ** 2 + o[:, j] ** 2 - self.radius_m**2
        r0, r1 = _quadratic_interval(a, b, c)
        return _miss_to_convention(np.maximum(t_in, r0), np.minimum(t_out, r1))

    def sample(self, n: int, rng: np.random.Generator) -> FloatArray:
        r = self.radius_m * np.sqrt(rng.random(n))
        phi = 2.0 * math.pi * rng.random(n)
        out = np.empty((n, 3))
        i, j = self._perp
        out[:, i] = r * np.cos(phi)
        out[:, j] = r * np.sin(phi)
        out[:, self._k] = (rng.random(n) - 0.5) * self.length_m
        return out + self.center_m

    def to_dict(self) -> dict[str, object]:
        return {
            "shape": "cylinder",
            "center_m": self.center_m.tolist(),
            "radius_m": self.radius_m,
            "length_m": self.length_m,
            "axis": self.axis,
        }

    def __repr__(self) -> str:
        return (
            f"Cylinder(center_m={self.center_m.tolist()}, radius_m={self.radius_m}, "
            f"length_m={self.length_m}, axis={self.axis!r})"
        )


@dataclass(frozen=True, eq=False, init=False, repr=False)
class Sphere(Shape):
    """Sphere of radius ``radius_m`` centred at ``center_m`` (m)."""

    kind: ClassVar[str] = "sphere"
    center_m: FloatArray
    radius_m: float

    def __init__(self, center_m: ArrayLike, radius_m: float) -> None:
        object.__setattr__(self, "center_m", _vec3(center_m, "sphere center_m"))
        object.__setattr__(self, "radius_m", check_positive("sphere radius_m", radius_m))

    @property
    def bounds_m(self) -> tuple[FloatArray, FloatArray]:
        return self.center_m - self.radius_m, self.center_m + self.radius_m

    @property
    def volume_m3(self) -> float:
        return 4.0 / 3.0 * math.pi * self.radius_m**3

    def contains(self, points: ArrayLike) -> BoolArray:
        p = as_points(points) - self.center_m
        return np.einsum("ij,ij->i", p, p) <= self.radius_m**2

    def intersect(self, origins: ArrayLike, directions: ArrayLike) -> tuple[FloatArray, FloatArray]:
        o = as_points(origins, "origins") - self.center_m
        d = as_points(directions, "directions")
        a = np.einsum("ij,ij->i", d, d)
        b = np.einsum("ij,ij->i", o, d)
        c = np.einsum("ij,ij->i", o, o) - self.radius_m**2
        return _miss_to_convention(*_quadratic_interval(a, b, c))

    def sample(self, n: int, rng: np.random.Generator) -> FloatArray:
        v = rng.normal(size=(n, 3))
        v /= np.linalg.norm(v, axis=1)[:, None]
        return self.center_m + v * (self.radius_m * rng.random(n) ** (1.0 / 3.0))[:, None]

    def to_dict(self) -> dict[str, object]:
        return {"shape": "sphere", "center_m": self.center_m.tolist(), "radius_m": self.radius_m}

    def __repr__(self) -> str:
        return f"Sphere(center_m={self.center_m.tolist()}, radius_m={self.radius_m})"


def _quadratic_interval(a: FloatArray, b: FloatArray, c: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Interval where ``a t^2 + 2 b t + c <= 0`` for ``a >= 0``; (inf, -inf) if empty.

    ``a == 0`` (line parallel to the curved surface's axis) gives the whole line when
    ``c <= 0`` and nothing otherwise. Uses the cancellation-free form of the roots.
    """
    disc = b * b - a * c
    ok = (disc >= 0.0) & (a > 0.0)
    sq = np.sqrt(np.where(ok, disc, 0.0))
    q = -(b + np.copysign(sq, b))  # |q| = |b| + sqrt(disc)
    with np.errstate(divide="ignore", invalid="ignore"):
        r1 = q / np.where(ok, a, 1.0)
        r2 = np.where(q != 0.0, c / q, 0.0)
    t0 = np.where(ok, np.minimum(r1, r2), np.inf)
    t1 = np.where(ok, np.maximum(r1, r2), -np.inf)
    par = a == 0.0
    if np.any(par):
        inside = c <= 0.0
        t0 = np.where(par, np.where(inside, -np.inf, np.inf), t0)
        t1 = np.where(par, np.where(inside, np.inf, -np.inf), t1)
    return t0, t1


def shape_from_dict(spec: dict[str, object], where: str = "shape") -> Shape:
    """Build a shape from its :meth:`Shape.to_dict` description (InputError if malformed)."""
    kind = spec.get("shape")
    allowed: dict[str, set[str]] = {
        "box": {"shape", "center_m", "size_m"},
        "cylinder": {"shape", "center_m", "radius_m", "length_m", "axis"},
        "sphere": {"shape", "center_m", "radius_m"},
    }
    if kind not in allowed:
        raise InputError(f"{where}: unknown shape {kind!r} (expected one of {sorted(allowed)})")
    missing = (allowed[str(kind)] - {"axis"}) - set(spec)
    if missing:
        raise InputError(f"{where}: {kind} needs {sorted(missing)}")
    try:
        if kind == "box":
            return Box(center_m=spec["center_m"], size_m=spec["size_m"])  # type: ignore[arg-type]
        if kind == "cylinder":
            return Cylinder(
                center_m=spec["center_m"],  # type: ignore[arg-type]
                radius_m=spec["radius_m"],  # type: ignore[arg-type]
                length_m=spec["length_m"],  # type: ignore[arg-type]
                axis=spec.get("axis", "z"),  # type: ignore[arg-type]
            )
        return Sphere(center_m=spec["center_m"], radius_m=spec["radius_m"])  # type: ignore[arg-type]
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
