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


def reset_peak() -> None:
    """Reset this process's peak resident memory (Linux ``clear_refs`` 5), so the next step's peak is its own."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:  # not Linux, or not allowed: peaks then only grow, as ru_maxrss
        pass


def _status_mb(field: str) -> float | None:
    """A memory field of ``/proc/self/status`` (``VmHWM``, ``VmRSS``) in MB, None without /proc."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def step_peak_mb() -> float:
    """Peak resident memory since the last ``reset_peak`` (VmHWM), or ``peak_memory_mb`` without /proc."""
    peak = _status_mb("VmHWM")
    return peak_memory_mb() if peak is None else peak


def rss_mb() -> float:
    """Resident memory now (``VmRSS``), 0 without /proc."""
    return _status_mb("VmRSS") or 0.0
