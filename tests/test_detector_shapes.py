"""Shapes: containment, chords against hand geometry, miss convention, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dipolehnl.detector import Box, Cylinder, Sphere
from dipolehnl.errors import InputError


def chord(shape, o, d):
    t_in, t_out = shape.intersect(np.atleast_2d(o), np.atleast_2d(d))
    return float(t_in[0]), float(t_out[0])


class TestBox:
    box = Box(center_m=(1.0, 2.0, 3.0), size_m=(2.0, 4.0, 6.0))  # x in [0,2], y in [0,4], z in [0,6]

    def test_volume_bounds(self):
        assert self.box.volume_m3 == pytest.approx(48.0)
        lo, hi = self.box.bounds_m
        np.testing.assert_allclose(lo, [0, 0, 0])
        np.testing.assert_allclose(hi, [2, 4, 6])

    def test_contains_closed(self):
        pts = [[1, 2, 3], [0, 0, 0], [2, 4, 6], [2.0001, 2, 3], [1, -1e-9, 3]]
        assert self.box.contains(pts).tolist() == [True, True, True, False, False]

    def test_axis_chords(self):
        # along z through the box from z = -10: enters at t = 10, leaves at t = 16
        assert chord(self.box, [1, 2, -10], [0, 0, 1]) == pytest.approx((10.0, 16.0))
        # backwards from inside: the line is inside for t in [-3, 3] (origin at the centre)
        assert chord(self.box, [1, 2, 3], [0, 0, -1]) == pytest.approx((-3.0, 3.0))

    def test_diagonal_chord(self):
        # body diagonal of a unit cube from corner to corner: length sqrt(3)
        cube = Box(center_m=(0.5, 0.5, 0.5), size_m=(1, 1, 1))
        d = np.array([1.0, 1.0, 1.0]) / math.sqrt(3)
        t_in, t_out = chord(cube, [-1, -1, -1], d)
        assert t_out - t_in == pytest.approx(math.sqrt(3))
        assert t_in == pytest.approx(math.sqrt(3))

    def test_oblique_chord_hand(self):
        # slab 0<=x<=2 crossed at 60 deg from the x axis: chord 2 / cos(60deg) = 4 (if y, z stay inside)
        big = Box(center_m=(1, 0, 0), size_m=(2, 100, 100))
        d = np.array([math.cos(math.pi / 3), math.sin(math.pi / 3), 0.0])
        t_in, t_out = chord(big, [0, 0, 0], d)
        assert t_out - t_in == pytest.approx(4.0)

    def test_miss_convention(self):
        t_in, t_out = chord(self.box, [5, 5, 5], [1, 0, 0])
        assert t_in == math.inf and t_out == -math.inf
        # parallel to a face, outside the slab: miss, no NaN
        t_in, t_out = chord(self.box, [1, 10, -1], [0, 0, 1])
        assert t_in == math.inf and t_out == -math.inf
        # parallel, origin on the face plane x = 0: inside (closed box)
        t_in, t_out = chord(self.box, [0, 2, -1], [0, 0, 1])
        assert (t_in, t_out) == pytest.approx((1.0, 7.0))

    def test_vectorised(self):
        o = np.array([[1, 2, -10], [5, 5, 5], [1, 2, 3]], float)
        d = np.array([[0, 0, 1], [1, 0, 0], [1, 0, 0]], float)
        t_in, t_out = self.box.intersect(o, d)
        assert t_in.shape == (3,)
        assert np.all(np.isfinite(t_in[[0, 2]]))
        assert t_in[1] > t_out[1]

    @pytest.mark.parametrize(
        "center,size",
        [
            ((0, 0, 0), (1, 0, 1)),
            ((0, 0, 0), (1, -1, 1)),
            ((0, np.nan, 0), (1, 1, 1)),
            ((0, 0, 0), (1, np.inf, 1)),
            ((0, 0), (1, 1, 1)),
        ],
    )
    def test_invalid(self, center, size):
        with pytest.raises(InputError):
            Box(center_m=center, size_m=size)

    def test_sample_inside(self):
        pts = self.box.sample(1000, np.random.default_rng(1))
        assert self.box.contains(pts).all()


class TestCylinder:
    cyl = Cylinder(center_m=(0, 0, 0), radius_m=1.0, length_m=4.0, axis="z")

    def test_volume_bounds(self):
        assert self.cyl.volume_m3 == pytest.approx(4 * math.pi)
        lo, hi = self.cyl.bounds_m
        np.testing.assert_allclose(lo, [-1, -1, -2])
        np.testing.assert_allclose(hi, [1, 1, 2])

    def test_chords(self):
        # across the axis at impact parameter b: chord 2 sqrt(1 - b^2)
        for b in (0.0, 0.5, 0.9):
            t_in, t_out = chord(self.cyl, [-5, b, 0], [1, 0, 0])
            assert t_out - t_in == pytest.approx(2 * math.sqrt(1 - b * b))
        # along the axis: the full length
        assert chord(self.cyl, [0.3, 0.3, -10], [0, 0, 1]) == pytest.approx((8.0, 12.0))
        # along the axis outside the radius: miss
        t_in, t_out = chord(self.cyl, [2, 0, -10], [0, 0, 1])
        assert t_in > t_out

    def test_other_axes(self):
        cx = Cylinder(center_m=(1, 1, 1), radius_m=0.5, length_m=2.0, axis="x")
        assert chord(cx, [-5, 1, 1], [1, 0, 0]) == pytest.approx((5.0, 7.0))
        assert cx.contains([[1.9, 1.2, 1.2], [1.9, 1.5, 1.5]]).tolist() == [True, False]
        cy = Cylinder(center_m=(0, 0, 0), radius_m=1.0, length_m=1.0, axis="y")
        t_in, t_out = chord(cy, [0, 0, -3], [0, 0, 1])
        assert t_out - t_in == pytest.approx(2.0)

    def test_invalid(self):
        with pytest.raises(InputError):
            Cylinder(center_m=(0, 0, 0), radius_m=0.0, length_m=1.0)
        with pytest.raises(InputError):
            Cylinder(center_m=(0, 0, 0), radius_m=1.0, length_m=-1.0)
        with pytest.raises(InputError):
            Cylinder(center_m=(0, 0, 0), radius_m=1.0, length_m=1.0, axis="w")  # type: ignore[arg-type]

    def test_sample_inside(self):
        pts = self.cyl.sample(1000, np.random.default_rng(2))
        assert self.cyl.contains(pts).all()


class TestSphere:
    sph = Sphere(center_m=(0, 0, 1), radius_m=2.0)

    def test_chords(self):
        for b in (0.0, 1.0, 1.9):
            t_in, t_out = chord(self.sph, [-10, b, 1], [1, 0, 0])
            assert t_out - t_in == pytest.approx(2 * math.sqrt(4 - b * b))
        t_in, t_out = chord(self.sph, [-10, 2.5, 1], [1, 0, 0])
        assert t_in == math.inf and t_out == -math.inf

    def test_volume_contains(self):
        assert self.sph.volume_m3 == pytest.approx(32 * math.pi / 3)
        assert self.sph.contains([[0, 0, 3], [0, 0, 3.01]]).tolist() == [True, False]

    def test_unnormalised_direction(self):
        # t is in units of |direction|
        t_in, t_out = chord(self.sph, [-10, 0, 1], [2, 0, 0])
        assert (t_in, t_out) == pytest.approx((4.0, 6.0))

    def test_invalid(self):
        with pytest.raises(InputError):
            Sphere(center_m=(0, 0, 0), radius_m=-1)
        with pytest.raises(InputError):
            Sphere(center_m=(0, 0, math.inf), radius_m=1)
