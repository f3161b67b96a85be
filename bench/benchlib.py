"""Shared by the benchmarks (run as scripts: `python bench/bench_x.py`)."""

from __future__ import annotations

import time
from collections.abc import Callable


def rate(fn: Callable[[], int], seconds: float) -> float:
    """Items per second of `fn` (which returns how many it handled) over `seconds`."""
    done = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        done += fn()
    return done / elapsed
