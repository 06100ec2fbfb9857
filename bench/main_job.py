"""The whole pipeline by step, each next to a reference measured in the same process.

Writes demo exports at a named scale into a temporary inbox, then times a backfill of the whole
period step by step, and one nightly run of the last day on top of it:

| step | kohde | reference |
|---|---|---|
| ingest (decode, parse, GX, Parquet) | ``ingest_range`` over every file | ``polars.read_csv`` of the same files as text |
| transform, current tables | ``build_current`` as of the last day | - |
| transform, snapshots | ``build_snapshots`` of every day | - |
| load | ``Warehouse.load`` of every table into a new DuckDB file | DuckDB ``INSERT ... SELECT`` of the same Arrow tables |

Peak memory is the process's high-water mark (ru_maxrss) after each step, so it only grows.
Scales: ``small`` = 10,000 customers over 90 days; ``--customers`` and ``--days`` override.
The medium and large scales of the scale issue (1M customers, 3 years) are in ``bench/scale.py``,
whose generator writes the history directly into the lake's clean zone.

Run: ``uv run python bench/main_job.py [--scale small] [--customers N] [--days D] [--seed S]``.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.timing import peak_memory_mb  # noqa: E402
from pipeline.demo import generate_demo  # noqa: E402
from pipeline.gold import Silver, build_current, build_snapshots  # noqa: E402
from pipeline.ingest.read import decode  # noqa: E402
from pipeline.lake import Lake  # noqa: E402
from pipeline.run import dates_between, ingest_range, run_range, stable_floats  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.warehouse import TableLoad, Warehouse  # noqa: E402

SCALES = {"small": (10_000, 90)}
T = TypeVar("T")



def timed(action: Callable[[], T]) -> tuple[T, float]:
    """(result, seconds) of one call."""
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def read_floor(inbox: Path) -> tuple[int, float]:
    """(rows, seconds): every inbox file decoded and read by polars with every column as text."""
    files = sorted(p for p in inbox.rglob("*") if p.is_file())

    def read_all() -> int:
        rows = 0
        for path in files:
            text = decode(path.read_bytes(), path.name).text
            separator = "\t" if text.count("\t") > text.count(",") else (";" if text.count(";") > text.count(",") else ",")
            frame = pl.read_csv(io.StringIO(text), separator=separator, infer_schema=False, has_header=False,
                                truncate_ragged_lines=True, quote_char='"')
            rows += frame.height
        return rows

    return timed(read_all)


def native_load(frames: dict[str, pl.DataFrame], folder: Path) -> float:
    """Seconds for DuckDB's own Arrow insert of the same tables into a new file."""
    import duckdb

    con = duckdb.connect(str(folder / "native.duckdb"))
    started = time.perf_counter()
    for name, frame in frames.items():
        con.register("arrow_table", frame.to_arrow())
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM arrow_table")
        con.unregister("arrow_table")
    seconds = time.perf_counter() - started
    con.close()
    return seconds


@dataclass
class Step:
    """One measured step."""

    name: str
    seconds: float
    rows: int | None = None
    reference: str = "-"
    ratio: float | None = None
    peak: float = field(default_factory=peak_memory_mb)

    def markdown(self) -> str:
        """The step as a Markdown table row."""
        rate = f"{self.rows / self.seconds:,.0f}" if self.rows else "-"
        rows = f"{self.rows:,}" if self.rows else "-"
        ratio = "-" if self.ratio is None else f"{self.ratio:.1f}"
        return f"| {self.name} | {self.seconds:.2f} | {rows} | {rate} | {self.reference} | {ratio} | {self.peak:,.0f} MB |"


def main() -> int:
    """Run every step and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--customers", type=int)
    parser.add_argument("--days", type=int)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 5))
    args = parser.parse_args()
    customers, days = SCALES[args.scale]
    customers, days = args.customers or customers, args.days or days
    end = args.start + timedelta(days=days - 1)
    steps: list[Step] = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        inbox = root / "inbox"
        _, seconds = timed(lambda: generate_demo(inbox, args.start, days, customers, args.seed))
        files = sum(1 for p in inbox.rglob("*") if p.is_file())
        size_mb = sum(p.stat().st_size for p in inbox.rglob("*") if p.is_file()) / 1e6
        print(f"{customers:,} customers, {days} days, seed {args.seed}: {files:,} files, {size_mb:.1f} MB, "
              f"written in {seconds:.1f} s", flush=True)
        settings = Settings.from_env({"KOHDE_HOME": str(root / "home"), "KOHDE_INBOX": str(inbox)})

        floor_rows, floor_seconds = read_floor(inbox)
        results, seconds = timed(lambda: ingest_range(settings, args.start, end))
        steps.append(Step("ingest", seconds, sum(r.rows_read for r in results),
                          f"polars.read_csv as text {floor_seconds:.2f} s ({floor_rows:,} lines)", seconds / floor_seconds))

        lake = Lake(settings.lake)
        silver, seconds = timed(lambda: Silver(lake, end))
        steps.append(Step("read silver", seconds))
        current, seconds = timed(lambda: build_current(silver, end, settings))
        steps.append(Step("transform: current tables", seconds, sum(f.height for f in current.values())))
        snapshots, seconds = timed(lambda: build_snapshots(silver, dates_between(args.start, end), settings))
        steps.append(Step(f"transform: snapshots x {days} days", seconds, sum(f.height for f in snapshots.values())))

        frames = {name: stable_floats(frame) for name, frame in {**current, **snapshots}.items()}
        with Warehouse.connect(f"duckdb:///{root / 'bench.duckdb'}") as warehouse:
            warehouse.upgrade()
            _, seconds = timed(lambda: warehouse.load([TableLoad(n, f, "all") for n, f in frames.items()]))
        native = native_load(frames, root)
        steps.append(Step("load (DuckDB)", seconds, sum(f.height for f in frames.values()),
                          f"DuckDB Arrow insert {native:.2f} s", seconds / native))

        nightly_home = Settings.from_env({"KOHDE_HOME": str(root / "nightly"), "KOHDE_INBOX": str(inbox)})
        run_range(nightly_home, args.start, end - timedelta(days=1), command="backfill")
        _, seconds = timed(lambda: run_range(nightly_home, end, end))
        steps.append(Step("nightly run of the last day (all steps)", seconds))

    print("| step | seconds | rows | rows/s | reference | kohde / reference | peak RSS so far |")
    print("|---|---|---|---|---|---|---|")
    for step in steps:
        print(step.markdown())
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip finalisation: duckdb's nanobind leak report after GX, as in pipeline.cli.entry
