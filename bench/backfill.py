"""Backfill cost: a backfill over N days against one nightly run on the same data.

Writes the demo exports for ``--days`` days (default 365) into a temporary inbox, then:

- backfill: ``kohde backfill`` over all the days into an empty warehouse (timed, by phase);
- nightly: into a second empty home, a backfill of the first N-1 days (not timed), then the
  nightly run of the last day (timed, by phase).

Both homes read the same inbox. The ratio backfill / nightly says how the cost of a backfill
grows with its range: N would mean a backfill costs N nightly runs; the per-day snapshot work
(segments, goals, CLV fits, LTV:CAC per as-of date) is what remains proportional to N. Prints a
Markdown table.

Run: ``uv run python bench/backfill.py [--days 365] [--customers 2000] [--seed 7]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.demo import generate_demo  # noqa: E402
from pipeline.run import run_range  # noqa: E402
from pipeline.settings import Settings  # noqa: E402


class Phases:
    """Wall time between run_range's progress messages: ingest, transform, load."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = []

    def __call__(self, message: str) -> None:
        """Mark the start of the phase the message names."""
        self.marks.append((message.split()[0], time.perf_counter()))

    def split(self, started: float, ended: float) -> dict[str, float]:
        """Seconds per phase, named by the message that opened it."""
        points = [("start", started), *self.marks, ("end", ended)]
        phases: dict[str, float] = {}
        for (name, at), (_, until) in zip(points[1:-1], points[2:], strict=True):
            phases[name] = phases.get(name, 0.0) + until - at
        return phases


def timed_run(settings: Settings, start: date, end: date, command: str) -> tuple[float, dict[str, float]]:
    """(seconds, seconds per phase) of one run_range call."""
    phases = Phases()
    started = time.perf_counter()
    run_range(settings, start, end, command=command, progress=phases)
    ended = time.perf_counter()
    return ended - started, phases.split(started, ended)


def main() -> int:
    """Run both and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 11, 1))
    args = parser.parse_args()
    end = args.start + timedelta(days=args.days - 1)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        inbox = root / "inbox"
        generate_demo(inbox, args.start, args.days, args.customers, args.seed)
        files = sum(1 for p in inbox.rglob("*") if p.is_file())

        def settings(name: str) -> Settings:
            return Settings.from_env({"KOHDE_HOME": str(root / name), "KOHDE_INBOX": str(inbox)})

        backfill, backfill_phases = timed_run(settings("backfill"), args.start, end, "backfill")
        nightly_home = settings("nightly")
        run_range(nightly_home, args.start, end - timedelta(days=1), command="backfill")
        nightly, nightly_phases = timed_run(nightly_home, end, end, "run")
    print(f"{args.days} days, {args.customers:,} customers, seed {args.seed}: {files:,} export files")
    print("| run | total | ingest | transform | load | per day |")
    print("|---|---|---|---|---|---|")
    for name, seconds, phases, days in (("backfill", backfill, backfill_phases, args.days),
                                        ("nightly (last day)", nightly, nightly_phases, 1)):
        print(f"| {name} | {seconds:.1f} s | {phases.get('ingest', 0):.1f} s | {phases.get('transform', 0):.1f} s | "
              f"{phases.get('load', 0):.1f} s | {seconds / days:.2f} s |")
    print(f"ratio backfill / nightly: {backfill / nightly:.1f} for {args.days} days "
          f"({backfill / nightly / args.days:.3f} nightly runs per day)")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip finalisation: duckdb's nanobind leak report after GX, as in pipeline.cli.entry
