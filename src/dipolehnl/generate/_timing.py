"""Per-process wall time of the stages of event generation and scans (benchmarks/bench_scan.py).

``with stage("tracing"): ...`` adds the wall time of the block to ``SECONDS["tracing"]``,
exclusive of nested stages (so the stages of one process add up to the time spent in them).
The cost is two ``perf_counter`` calls per block.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

SECONDS: dict[str, float] = {}
EVENTS: dict[str, int] = {}
_stack: list[list[float]] = []  # per open stage: [start, time spent in nested stages]


@contextmanager
def stage(name: str, events: int = 0):
    t0 = time.perf_counter()
    _stack.append([t0, 0.0])
    try:
        yield
    finally:
        _, nested = _stack.pop()
        dt = time.perf_counter() - t0
        SECONDS[name] = SECONDS.get(name, 0.0) + dt - nested
        EVENTS[name] = EVENTS.get(name, 0) + int(events)
        if _stack:
            _stack[-1][1] += dt


def reset() -> None:
    SECONDS.clear()
    EVENTS.clear()
