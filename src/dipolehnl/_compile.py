"""The compiled (numba) kernels of the package, their argument types, and their compilation
shared among the workers of a process pool.

Every kernel is compiled once per machine and cached on disk (``cache=True``); a fresh
install pays the compilation (4–6 s in all on one core, ``benchmarks/bench_compile.py``).  The
kernels write into arrays their callers allocate: a kernel that allocates compiles numba's
allocation code with it (0.1–0.25 s per kind of array).
Without coordination every worker of a pool would compile every kernel at the same time; with
:func:`compile_share` each worker compiles its share (balanced by the estimated times below)
as it starts, and loads the others' from the cache when it first needs them (compiling them
itself only if they are not there yet).  Where the cache already holds a kernel, ``compile``
only loads it.

``KERNELS`` lists every kernel with the argument types it is called with;
tests/test_execution.py checks that running the package's code paths compiles no other
version of any kernel.
"""

from __future__ import annotations

import importlib

#: (module, function, argument types, estimated compilation seconds on one core), in the order
#: a scan first calls them
KERNELS: tuple[tuple[str, str, str, float], ...] = (
    (
        "dipolehnl.detector._kernels",
        "grid_pass",
        "(f8[:, ::1], f8[:, ::1], f8[::1], f8[::1], i8[::1], i4[:, :, ::1], f8, i8[::1], f8[::1], f8[::1], i8[::1],"
        " i8[:, ::1], f8[:, ::1])",
        3.2,
    ),
    (
        "dipolehnl.beam._kernels",
        "split_and_modulate",
        "(f8[:, ::1], f8[:, ::1], i8[::1], f8[::1], f8[::1], f8[::1], i8[::1], f8, f8[::1], f8[::1],"
        " f8, f8, f8, f8, f8[:, ::1], f8[::1], f8[::1], f8[::1], i8[::1], i8[::1], f8[:, ::1])",
        1.4,
    ),
    (
        "dipolehnl.generate._kernels",
        "decay_integral",
        "(i8[::1], f8[::1], f8[::1], f8[::1], i8[::1], f8[::1], f8[::1], f8[:, :, ::1], f8[:, ::1], i8[:, ::1],"
        " f8[:, ::1])",
        1.4,
    ),
    ("dipolehnl.detector._kernels", "sweep_breakpoints", "(f8[:, ::1], f8[:, ::1], f8)", 1.4),
)

#: kernels the pool workers do not compile as they start: only detectors with shapes other
#: than boxes need the sweep tracer (MiniBooNE's tank, user detectors); it is compiled where
#: it is first used
ON_DEMAND: frozenset[str] = frozenset({"sweep_breakpoints"})


def _shares(parts: int) -> list[list[int]]:
    """Kernel indices per part (all but :data:`ON_DEMAND`), each part in the order of
    ``KERNELS``: the longest compilation first, each kernel goes to the part with the least
    estimated time so far."""
    load = [0.0] * parts
    out: list[list[int]] = [[] for _ in range(parts)]
    eager = [i for i in range(len(KERNELS)) if KERNELS[i][1] not in ON_DEMAND]
    for i in sorted(eager, key=lambda i: -KERNELS[i][3]):
        p = min(range(parts), key=load.__getitem__)
        out[p].append(i)
        load[p] += KERNELS[i][3]
    return [sorted(x) for x in out]


#: (part, parts) of the kernel share this process compiled (pool workers), else None
SHARE: tuple[int, int] | None = None


def compile_share(part: int, parts: int) -> None:
    """Compile (or load from the cache) share ``part`` of ``parts`` of the kernels."""
    global SHARE
    if parts < 1 or not 0 <= part < parts:
        return
    SHARE = (part, parts)
    for i in _shares(parts)[part]:
        _compile(i)


def compile_all() -> None:
    """Compile (or load from the cache) every kernel."""
    for i in range(len(KERNELS)):
        _compile(i)


def _compile(i: int) -> None:
    module, name, signature, _ = KERNELS[i]
    getattr(importlib.import_module(module), name).compile(signature)


def worker_share(_: object = None) -> tuple[int, int] | None:
    """:data:`SHARE` of this process (a task for a pool: which share did its worker compile?)."""
    return SHARE
