# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled kernel of the analysis stage (Cython, built when the package is installed): the
even-odd point-in-polygon test (``analysis.limits.points_in_polygon``)."""

from libc.stdint cimport uint8_t


def crossings_odd(const double[::1] px, const double[::1] py, const double[:, ::1] poly, uint8_t[::1] out):
    """out[i] = 1 if a ray from (px[i], py[i]) towards +x crosses the closed polygon ``poly``
    (k, 2; last vertex joined to the first) an odd number of times, else 0.  An edge counts
    where its ends lie on either side of the point's y (y1 > y ≠ y2 > y: a vertex is not
    counted twice) and it crosses that y to the right of the point.  The caller checks the
    shapes (the kernel does not check indices)."""
    cdef Py_ssize_t n = px.shape[0]
    cdef Py_ssize_t k = poly.shape[0]
    cdef Py_ssize_t i, j, jp
    cdef double x, y, x1, y1, x2, y2
    cdef bint inside
    with nogil:
        for i in range(n):
            x = px[i]
            y = py[i]
            inside = False
            jp = k - 1
            for j in range(k):
                x1 = poly[jp, 0]
                y1 = poly[jp, 1]
                x2 = poly[j, 0]
                y2 = poly[j, 1]
                if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                    inside = not inside
                jp = j
            out[i] = inside
