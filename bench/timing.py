"""Timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import TypeVar

Result = TypeVar("Result")


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def best_of(repeat: int, function: Callable[[], Result], *, warm_up: bool = False) -> tuple[float, Result]:
    """(fastest wall time in seconds, result of the last call) over ``repeat`` calls, after one untimed call if ``warm_up``."""
    if warm_up:
        function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return min(times), result
