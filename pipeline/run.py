"""A run: ingest the inbox for each date of a range, build gold, load it in one transaction.

``run_range(settings, D, D)`` is the nightly run for logical date D; a backfill is the same call
over a range. The warehouse load is one transaction for every table the run produces, so a failed
run leaves the warehouse exactly as it was; only ``ops_runs`` records that it failed.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import overload

import polars as pl

from pipeline.errors import KohdeError
from pipeline.gold import (
    SNAPSHOT_TABLES,
    Facts,
    Silver,
    advance_state,
    attribution_models,
    build_current,
    build_facts,
    build_snapshots,
    first_run_steps,
    open_silver,
)
from pipeline.incremental import (
    Derived,
    RowHashes,
    changed_since,
    discard_parts,
    event_since,
    keyed_changes,
    month_digests,
    publish_state,
    row_hashes,
)
from pipeline.ingest.files import FileResult, inbox_files, ingest_files
from pipeline.lake import Lake
from pipeline.settings import Settings
from pipeline.sources import sources
from pipeline.transforms.attribution import ORDER, RULE_BASED_MODELS, WON_DEAL
from pipeline.warehouse import Keys, OneOf, Since, TableLoad, Warehouse
from pipeline.warehouse import tables as table_definitions

Progress = Callable[[str], None]


@dataclass
class RunReport:
    """What a run did, for the CLI summary and ``ops_runs``."""

    run_id: str
    command: str
    start: date
    end: date
    files: list[FileResult] = field(default_factory=list)
    rows_loaded_per_table: dict[str, int] = field(default_factory=dict)
    status: str = "running"
    error: str | None = None
    silver: str | None = None  # how silver was read: incremental from the lake's state, or full and why

    @property
    def read(self) -> list[FileResult]:
        """Files parsed by this run (not skipped as already ingested)."""
        return [f for f in self.files if not f.skipped]

    def totals(self) -> dict[str, int]:
        """Row accounting summed over the files this run parsed."""
        read = self.read
        return {
            "files_read": len(read),
            "files_skipped": len(self.files) - len(read),
            "rows_read": sum(f.rows_read for f in read),
            "rows_loaded": sum(f.rows_loaded for f in read),
            "rows_quarantined": sum(f.rows_quarantined for f in read),
            "rows_duplicate": sum(f.rows_duplicate for f in read),
            "rows_warned": sum(f.rows_warned for f in read),
        }


def dates_between(start: date, end: date) -> list[date]:
    """Every date of the closed range."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def ingest_range(settings: Settings, start: date, end: date, progress: Progress | None = None,
                 only_sources: list[str] | None = None) -> list[FileResult]:
    """Ingest every inbox file of every date in the range (the per-source Airflow task calls this)."""
    files = inbox_files(settings.inbox, dates_between(start, end), only_sources or sources())
    if progress:
        progress(f"ingest {start}..{end}: {len(files)} files")
    return ingest_files(Lake(settings.lake), files, chunk_bytes=settings.ingest_chunk_mb * 2**20)


def build_and_load(settings: Settings, start: date, end: date, files: list[FileResult],
                   progress: Progress | None = None, run_id: str | None = None) -> tuple[dict[str, int], str]:
    """Build gold for the range from silver and replace it in the warehouse in one transaction.

    The current tables describe the newest data the lake holds: a re-run or backfill of older
    dates (a restated export, a year of history loaded late) must not roll them back to its end
    date. Snapshots are those of the range's dates. Returns the rows loaded per table and how
    silver was read (incremental or full, and why). The truth of the event entities and what the
    next night derives from (``pipeline.incremental``) are written to the lake while the warehouse
    loads, and become the lake's state only after the warehouse commit; a failed load removes them.

    fct_touchpoints and fct_attribution are replaced from their change windows on, fct_orders
    from the first month whose rows differ from those the state's run loaded, and dim_customer's
    rows by key where they differ, only when the run was built on the lake's state and the
    warehouse was last loaded with that same state (``ops_gold_state``); every other table, and
    those four otherwise, is replaced whole.
    """
    lake = Lake(settings.lake)
    current_as_of = max(end, lake.latest_extract_date() or end)
    dates = dates_between(start, end)
    steps = first_run_steps(lake, current_as_of, settings) if dates == [current_as_of] else []
    for number, step in enumerate(steps, 1):
        if progress:
            progress(f"first run: the lake's state as of {step} ({number}/{len(steps)})")
        with work_folder(settings) as work:
            advance_state(lake, step, settings, labels=step == steps[-1], work=work)
    with work_folder(settings) as work:
        return _build_and_load(settings, lake, current_as_of, dates, steps, work, progress, run_id)


@contextmanager
def work_folder(settings: Settings) -> Iterator[Path]:
    """A folder of its own under ``<home>/work`` for what a run's build reads again (``Silver.keep``), removed after."""
    folder = settings.home / "work" / uuid.uuid4().hex
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        with suppress(OSError):  # and ``work`` itself unless another run's folder is in it
            folder.parent.rmdir()


def _build_and_load(settings: Settings, lake: Lake, current_as_of: date, dates: list[date], steps: list[date],
                    work: Path, progress: Progress | None, run_id: str | None) -> tuple[dict[str, int], str]:
    """``build_and_load`` after the first run's steps: the tables built with ``work`` as the run's work folder."""
    silver, how = open_silver(lake, current_as_of, dates, settings)
    silver.work = work
    if steps:
        how = f"first run, the state built in {len(steps)} steps to {steps[-1]}; {how}"
    if progress:
        progress(f"transform as of {current_as_of} ({how})")
    facts = build_facts(silver, current_as_of, settings)
    tables = build_current(silver, current_as_of, settings, facts)
    snapshots = build_snapshots(silver, dates, settings, facts)
    state_id = f"{current_as_of.isoformat()}-{uuid.uuid4().hex[:12]}" if settings.incremental else None
    tables = {name: stable_floats(frame) for name, frame in tables.items()}
    # fct_orders' digests as the attribution window took them, while they are of the same rows (stable_floats rounded none)
    digests = {name: facts.order_digests if tables[name] is facts.orders and facts.order_digests is not None
               else month_digests(tables[name], day) for name, day in MONTHLY_TABLES.items()} if state_id else {}
    hashes = {name: row_hashes(tables[name], primary_key(name)) for name in KEYED_TABLES} if state_id else {}
    # the state's parts are written while the warehouse loads; the state is published only after its commit
    with ThreadPoolExecutor(max_workers=1) as writer:
        parts = writer.submit(silver.state_parts, state_id, facts.derived, digests, hashes) if state_id else None
        try:
            counts, partial = _load(settings, lake, silver, facts, tables, snapshots, dates, state_id, current_as_of,
                                    digests, hashes, run_id, progress)
        except BaseException:
            if parts is not None:
                with suppress(Exception):  # the load's error is the one to report
                    discard_parts(lake, parts.result())
            raise
        if parts is not None:
            publish_state(lake, parts.result())
    return counts, how + _rebuilt(facts.derived) + ("; facts loaded from their change windows" if partial else "")


def _rebuilt(derived: Derived | None) -> str:
    """For the run log: the conversions whose rule-based credit a night computed again (``attribution_changes``)."""
    if derived is None or derived.rebuilt_all:
        return ""
    if derived.rebuilt is None:
        return "; no order's credit rebuilt"
    return f"; {derived.rebuilt.order_ids.height:,} orders' credit rebuilt (the first dated {derived.rebuilt.since})"


def _collected(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """A table's rows: a lazy one (fct_touchpoints, fct_attribution on an incremental run) collected when loaded."""
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def _load(settings: Settings, lake: Lake, silver: Silver, facts: Facts, tables: dict[str, pl.DataFrame | pl.LazyFrame],
          snapshots: dict[str, pl.DataFrame | pl.LazyFrame], dates: list[date], state_id: str | None, current_as_of: date,
          digests: dict[str, dict[str, str]], hashes: dict[str, pl.DataFrame], run_id: str | None,
          progress: Progress | None) -> tuple[dict[str, int], bool]:
    """The warehouse transaction of ``build_and_load``: rows loaded per table, and whether facts were loaded in part."""
    with Warehouse.connect(settings.warehouse_url) as warehouse:
        warehouse.upgrade()
        loaded_with = warehouse.query("SELECT state_id FROM ops_gold_state")["state_id"].to_list()
        partial = facts.on_state is not None and loaded_with == [facts.on_state]
        loads = _fact_loads(tables, facts, settings) if partial else []
        if partial and silver.increment is not None:
            loads += _monthly_loads(tables, silver.increment.state.digests, digests)
            loads += _keyed_loads(lake, tables, silver.increment.state.loaded, hashes)
        # a lazy table (fct_touchpoints, fct_attribution of an incremental run) is streamed into the warehouse
        loads += [TableLoad(name, frame, "all") for name, frame in tables.items()
                  if not (partial and (name in PARTIAL_TABLES or name in MONTHLY_TABLES or name in KEYED_TABLES))]
        loads += [TableLoad(name, stable_floats(frame), {"as_of_date": dates}) for name, frame in snapshots.items()]
        loads.append(TableLoad("ops_gold_state", pl.DataFrame(
            {"state_id": [state_id] if state_id else [], "as_of_date": [current_as_of] if state_id else [],
             "run_id": [run_id] if state_id else []},
            schema={"state_id": pl.Utf8, "as_of_date": pl.Date, "run_id": pl.Utf8}), "all"))
        loads += _ops_loads(lake, dates)  # ops_quarantine last (tests/dags/test_airflow_killed_load.py waits there)
        if progress:
            progress(f"load {len(loads)} tables" + (" (facts from their change windows)" if partial else ""))
        return warehouse.load(loads), partial


# the tables an incremental run may replace from their change windows on (see _fact_loads)
PARTIAL_TABLES = ("fct_touchpoints", "fct_attribution")
# the tables an incremental run replaces from the first month of this date column whose rows changed (_monthly_loads)
MONTHLY_TABLES = {"fct_orders": "order_date"}


def _monthly_loads(tables: dict[str, pl.DataFrame | pl.LazyFrame], loaded: dict[str, dict[str, str]],
                   digests: dict[str, dict[str, str]]) -> list[TableLoad]:
    """The loads of ``MONTHLY_TABLES``: from the earliest month whose rows differ from what the warehouse holds on.

    ``loaded``: the ``month_digests`` of the rows the state's run loaded (what the warehouse holds,
    since it holds that state); none differ: no load. A table without them, or whose rows without
    a date differ, is replaced whole.
    """
    loads: list[TableLoad] = []
    for name, day in MONTHLY_TABLES.items():
        since = changed_since(loaded[name], digests[name]) if name in loaded else "all"
        if since == "all":
            loads.append(TableLoad(name, _collected(tables[name]), "all"))
        elif since is not None:
            loads.append(TableLoad(name, _collected(tables[name].filter(pl.col(day) >= since)), {day: Since(since)}))
    return loads


# the tables an incremental run loads by primary key: the rows new or changed since the state's run, and the keys gone
KEYED_TABLES = ("dim_customer",)


def primary_key(table: str) -> tuple[str, ...]:
    """A warehouse table's primary key columns."""
    return tuple(table_definitions()[table].primary_key)


def _keyed_loads(lake: Lake, tables: dict[str, pl.DataFrame | pl.LazyFrame], loaded: dict[str, RowHashes],
                 hashes: dict[str, pl.DataFrame]) -> list[TableLoad]:
    """The loads of ``KEYED_TABLES``: the rows whose hash differs from what the state's run loaded, and the keys gone.

    ``loaded``: the ``row_hashes`` files of what the warehouse holds, since it holds that state.
    None differ: no load. A table without them, or hashed by another polars version, is replaced whole.
    """
    loads: list[TableLoad] = []
    for name in KEYED_TABLES:
        before = loaded.get(name)
        if before is None or before.polars != pl.__version__:
            loads.append(TableLoad(name, _collected(tables[name]), "all"))
            continue
        key = primary_key(name)
        changed, gone = keyed_changes(lake.read(lake.root / before.path), hashes[name], key)
        if changed.height or gone.height:
            rows = tables[name].lazy().join(changed.lazy(), on=list(key), how="semi").collect()
            loads.append(TableLoad(name, rows, Keys(gone)))
    return loads


def _fact_loads(tables: dict[str, pl.DataFrame | pl.LazyFrame], facts: Facts, settings: Settings) -> list[TableLoad]:
    """The partial loads of the two fact tables an incremental run may replace in part.

    fct_touchpoints from the touch window on; fct_attribution's rule-based rows of the orders and the
    won deals the run rebuilt (``Derived.rebuilt``, ``won_rebuilt``; whole when the state kept none),
    its data-driven rows whole. None rebuilt: no load.
    """
    loads: list[TableLoad] = []
    if facts.touch_window is not None:
        # touch_date >= the window, as a filter on ts that skips the state's earlier parts unread
        touches = tables["fct_touchpoints"].lazy().filter(event_since("touchpoint", facts.touch_window)).collect()
        loads.append(TableLoad("fct_touchpoints", touches, {"touch_date": Since(facts.touch_window)}))
    attribution = tables["fct_attribution"].lazy()
    models = attribution_models(settings)
    rule_based = [m for m in models if m in RULE_BASED_MODELS]
    data_driven = [m for m in models if m not in RULE_BASED_MODELS]
    derived = facts.derived
    assert derived is not None, "a run built on a state derives what the next one needs"
    for kind, rebuilt, whole in ((ORDER, derived.rebuilt, derived.rebuilt_all),
                                 (WON_DEAL, derived.won_rebuilt, derived.won_rebuilt_all)):
        rows = attribution.filter((pl.col("conversion_type") == kind) & pl.col("model").is_in(rule_based))
        if whole:
            loads.append(TableLoad("fct_attribution", rows.collect(), {"conversion_type": [kind], "model": rule_based}))
        elif rebuilt is not None:  # the rebuilt conversions' rows only
            ids = rebuilt.order_ids
            loads.append(TableLoad(
                "fct_attribution",
                rows.filter(pl.col("order_date") >= rebuilt.since).join(ids.lazy(), on="order_id", how="semi").collect(),
                {"conversion_type": [kind], "model": rule_based, "order_date": Since(rebuilt.since),
                 "order_id": OneOf(ids["order_id"])}))
    if data_driven:
        loads.append(TableLoad("fct_attribution", attribution.filter(pl.col("model").is_in(data_driven)).collect(),
                               {"model": data_driven}))
    return loads


FLOAT_DECIMALS = 9


@overload
def stable_floats(frame: pl.DataFrame) -> pl.DataFrame: ...
@overload
def stable_floats(frame: pl.LazyFrame) -> pl.LazyFrame: ...
@overload
def stable_floats(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame: ...
def stable_floats(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    """Round every float column to 9 decimals so a re-run leaves the warehouse equal.

    Parallel float sums differ in their last bits from run to run; money is decimal and never rounded here.
    """
    floats = [name for name, dtype in frame.collect_schema().items() if dtype in (pl.Float64, pl.Float32)]
    return frame.with_columns(pl.col(floats).round(FLOAT_DECIMALS)) if floats else frame


def _ops_loads(lake: Lake, dates: list[date]) -> list[TableLoad]:
    manifest = lake.manifest(extract_dates=dates)
    manifest_frame = pl.DataFrame(
        {
            "file_sha256": [m.file_sha256 for m in manifest],
            "source": [m.source for m in manifest],
            "source_format": [m.source_format for m in manifest],
            "original_name": [m.original_name for m in manifest],
            "size_bytes": [m.size_bytes for m in manifest],
            "extract_date": [m.extract_date for m in manifest],
            "encoding": [m.encoding for m in manifest],
            "encoding_fallback": [m.encoding_fallback for m in manifest],
            "rows_read": [m.rows_read for m in manifest],
            "rows_loaded": [m.rows_loaded for m in manifest],
            "rows_quarantined": [m.rows_quarantined for m in manifest],
            "rows_duplicate": [m.rows_duplicate for m in manifest],
            "furniture_rows": [m.furniture_rows for m in manifest],
        },
        schema_overrides={"extract_date": pl.Date, "size_bytes": pl.Int64, "rows_read": pl.Int64,
                          "rows_loaded": pl.Int64, "rows_quarantined": pl.Int64, "rows_duplicate": pl.Int64,
                          "furniture_rows": pl.Int64, "encoding_fallback": pl.Boolean},
    )
    quarantine = pl.concat([lake.quarantine(on=d) for d in dates], how="vertical_relaxed")
    return [
        TableLoad("ops_file_manifest", manifest_frame, {"extract_date": dates}),
        TableLoad("ops_quarantine", quarantine, {"extract_date": dates}),
    ]


def run_range(settings: Settings, start: date, end: date, *, command: str = "run",
              progress: Progress | None = None) -> RunReport:
    """Ingest, transform and load every date of [start, end]; record the run in ``ops_runs``."""
    if end < start:
        raise KohdeError(f"end date {end} is before start date {start}")
    report = RunReport(run_id=_run_id(command, start, end), command=command, start=start, end=end)
    started = datetime.now(UTC)
    with Warehouse.connect(settings.warehouse_url) as warehouse:
        warehouse.upgrade()
        _record(warehouse, report, started, None)
    try:
        report.files = ingest_range(settings, start, end, progress)
        report.rows_loaded_per_table, report.silver = build_and_load(settings, start, end, report.files, progress,
                                                                     report.run_id)
        report.status = "succeeded"
    except KohdeError as exc:
        report.status = "failed"
        report.error = str(exc)
        raise
    except Exception as exc:
        report.status = "failed"
        report.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        raise
    finally:
        with Warehouse.connect(settings.warehouse_url) as warehouse:
            _record(warehouse, report, started, datetime.now(UTC))
            _close_interrupted(warehouse, report, started)
    return report


def _close_interrupted(warehouse: Warehouse, report: RunReport, started: datetime) -> None:
    """Runs of the same dates still 'running' from before this one were killed (an Airflow try, a lost worker).

    Only one run writes the warehouse at a time (the one-slot pool; a DuckDB file has one writer), so
    once this run ends an older 'running' row of its dates will never end: it becomes 'interrupted'.
    """
    stale = warehouse.query(
        "SELECT * FROM ops_runs WHERE status = 'running' AND start_date = :start AND end_date = :end "
        "AND started_at < :started AND run_id <> :run_id",
        {"start": report.start, "end": report.end, "started": started, "run_id": report.run_id},
    )
    if stale.height:
        closed = stale.with_columns(
            pl.lit("interrupted").alias("status"),
            pl.lit(f"interrupted: it never ended; run {report.run_id} of the same dates ran after it").alias("error"),
        )
        warehouse.load([TableLoad("ops_runs", closed, {"run_id": closed["run_id"].to_list()})])


def _run_id(command: str, start: date, end: date) -> str:
    return f"{command}_{start.isoformat()}_{end.isoformat()}_{uuid.uuid4().hex[:8]}"


def _record(warehouse: Warehouse, report: RunReport, started: datetime, ended: datetime | None) -> None:
    totals = report.totals()
    steps = {
        "ingest": {f"{f.source}/{f.extract_date.isoformat()}/{f.original_name}": {  # one entry per inbox file
            "format": f.source_format, "read": f.rows_read, "loaded": f.rows_loaded,
            "quarantined": f.rows_quarantined, "duplicates": f.rows_duplicate, "warned": f.rows_warned,
            "forgotten": f.rows_forgotten,
            "skipped": f.skipped, "warnings": f.warnings}
            for f in sorted(report.files, key=lambda f: not f.skipped)},  # a parsed file wins over its skipped copy
        "load": report.rows_loaded_per_table,
        "silver": report.silver,
    }
    row = pl.DataFrame(
        {
            "run_id": [report.run_id], "command": [report.command], "start_date": [report.start],
            "end_date": [report.end], "started_at": [started], "ended_at": [ended], "status": [report.status],
            **{k: [v] for k, v in totals.items()},
            "error": [report.error], "steps_json": [json.dumps(steps, sort_keys=True)],
        },
        schema_overrides={"started_at": pl.Datetime("us", "UTC"), "ended_at": pl.Datetime("us", "UTC"),
                          "error": pl.Utf8},
    )
    warehouse.load([TableLoad("ops_runs", row, {"run_id": [report.run_id]})])


__all__ = ["RunReport", "SNAPSHOT_TABLES", "build_and_load", "dates_between", "ingest_range", "run_range"]
