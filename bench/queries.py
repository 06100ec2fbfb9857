"""Where a run's time goes: every polars query and warehouse insert, timed at the line of kohde that starts it.

``trace()`` wraps ``LazyFrame.collect``, ``LazyFrame.sink_parquet`` and the warehouse's per-table
inserts for the rest of the process, and prints each one that takes half a second or more as it
ends (seconds since tracing began, wall, process CPU, the largest resident memory sampled while it
ran, thread, site). ``QueryLog.summary()`` sums
them per site. Process CPU counts every thread, so a query that overlaps another (the CLV fit runs
in a thread of its own, the state's parts are written while the warehouse loads) shows some of the
other's CPU too; the wall times of one thread add up. A lazy table streamed into the warehouse is
computed while it is inserted, so its query's time is in its ``load`` line; likewise a traced call
made inside another in the same thread (PostgreSQL's insert of each streamed batch) is part of it.

Used by ``bench/scale.py --queries``: at the large scale, where polars' own profiler would hold a
row per node of each query in memory, this tells which of the night's steps grow faster than its data.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from bench.timing import rss_mb
from pipeline.warehouse import Warehouse

PIPELINE = Path(__file__).resolve().parents[1] / "pipeline"
PRINT_FROM_SECONDS = 0.5


@dataclass
class Query:
    """One timed call: where kohde started it, its thread, when it ended (since tracing began), wall, CPU, memory."""

    site: str
    thread: str
    ended_at: float
    seconds: float
    cpu_seconds: float
    peak_mb: float = 0.0  # the process's largest resident memory sampled while the call ran


def _site(depth: int) -> str:
    """The innermost kohde line on the stack above the wrapper and the kohde line that called it.

    ``file:line function <- file:line function``; a ``Silver.keep`` shows the name of what it keeps.
    """
    frame: Any = sys._getframe(depth)
    found: list[str] = []
    while frame is not None and len(found) < 2:
        name = frame.f_code.co_filename
        if name.startswith(str(PIPELINE)):
            function = frame.f_code.co_name
            if function == "keep" and isinstance(frame.f_locals.get("name"), str):
                function = f"keep[{frame.f_locals['name']}]"
            found.append(f"{Path(name).relative_to(PIPELINE.parent)}:{frame.f_lineno} {function}")
        frame = frame.f_back
    return " <- ".join(found) or "(outside pipeline/)"


class QueryLog:
    """The timed calls of one process, in the order they ended."""

    def __init__(self) -> None:
        self.queries: list[Query] = []
        self.started = time.perf_counter()
        self._lock = threading.Lock()
        self._originals: list[tuple[Any, str, Any]] = []
        self._running: dict[int, float] = {}  # id of each call running -> the largest RSS sampled during it
        self._depth = threading.local()  # calls: 1 while a traced call runs in the thread
        self._sampling = True
        threading.Thread(target=self._sample, name="query-rss", daemon=True).start()

    def _sample(self, every: float = 0.2) -> None:
        """Sample the process's resident memory into every running call's peak (``VmRSS``, no reset of ``VmHWM``)."""
        while self._sampling:
            rss = rss_mb()
            with self._lock:
                for call, peak in self._running.items():
                    self._running[call] = max(peak, rss)
            time.sleep(every)

    def wrap(self, owner: Any, name: str, label: Callable[..., str] | None = None) -> None:
        """Replace ``owner.name`` with a timed call; ``label(*args)`` names it (default: the calling kohde line)."""
        original = getattr(owner, name)
        self._originals.append((owner, name, original))
        log = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            if getattr(log._depth, "calls", 0):  # inside a traced call of this thread (PostgreSQL's insert per
                return original(*args, **kwargs)  # streamed batch): part of that call, not counted again
            site = label(*args) if label else _site(2)
            call = object()
            with log._lock:
                log._running[id(call)] = rss_mb()
            started, cpu = time.perf_counter(), time.process_time()
            log._depth.calls = 1
            try:
                return original(*args, **kwargs)
            finally:
                log._depth.calls = 0
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
                with log._lock:
                    peak = max(log._running.pop(id(call)), rss_mb())
                log.record(Query(site, threading.current_thread().name, time.perf_counter() - log.started,
                                 seconds, cpu, peak))

        setattr(owner, name, timed)

    def stop(self) -> None:
        """Put back what ``wrap`` replaced."""
        for owner, name, original in reversed(self._originals):
            setattr(owner, name, original)
        self._originals.clear()
        self._sampling = False

    def record(self, query: Query) -> None:
        """Keep a timed call; print it if it took ``PRINT_FROM_SECONDS`` or more."""
        with self._lock:
            self.queries.append(query)
        if query.seconds >= PRINT_FROM_SECONDS:
            print(f"    [{query.ended_at:8.1f} s] {query.seconds:7.2f} s wall {query.cpu_seconds:7.2f} s CPU "
                  f"{query.peak_mb:7,.0f} MB {query.thread[:12]:<12} {query.site}", flush=True)

    def progress(self, message: str) -> None:
        """A run's progress line (``run_range(progress=...)``), stamped like the queries."""
        print(f"    [{time.perf_counter() - self.started:8.1f} s] -- {message}", flush=True)

    def summary(self, top: int = 25) -> list[dict[str, Any]]:
        """Per site: calls, wall and CPU seconds, the largest resident memory during a call; the costliest first (CPU)."""
        sites: dict[str, dict[str, Any]] = {}
        for query in self.queries:
            site = sites.setdefault(query.site, {"site": query.site, "calls": 0, "seconds": 0.0, "cpu_seconds": 0.0,
                                                 "peak_mb": 0.0})
            site["calls"] += 1
            site["seconds"] += query.seconds
            site["cpu_seconds"] += query.cpu_seconds
            site["peak_mb"] = max(site["peak_mb"], query.peak_mb)
        return sorted(sites.values(), key=lambda s: -s["cpu_seconds"])[:top]


def _table(_: Any, __: Any, table: Any, *rest: Any) -> str:
    return f"load {table.name}"


def trace() -> QueryLog:
    """Time every polars query and warehouse insert of this process from now on."""
    log = QueryLog()
    log.wrap(pl.LazyFrame, "collect")
    log.wrap(pl.LazyFrame, "sink_parquet")
    for method in ("_stream", "_insert", "_upsert_duckdb"):
        log.wrap(Warehouse, method, _table)
    return log


def print_summary(log: QueryLog, top: int = 25) -> None:
    """Print ``log.summary(top)``."""
    print(f"  the {top} costliest sites (CPU s, wall s, calls, peak RSS MB during a call):", flush=True)
    for site in log.summary(top):
        print(f"    {site['cpu_seconds']:8.2f} {site['seconds']:8.2f} {site['calls']:4d} {site['peak_mb']:7,.0f}  "
              f"{site['site']}", flush=True)
