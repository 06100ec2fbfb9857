"""The nightly run at named scales, step by step, each step next to a reference measured in the same run.

1. Writes three years of history straight into the lake's clean zone (``bench/scale_data.py``:
   one extraction per day, the schema and lineage the ingest path writes, manifest entries) and
   the inbox files of ONE new day, written with the demo writers at the scale's daily volume.
2. Times each step of the nightly run of that day on top of the history: ingest (parse + GX
   validation + lake writes), reading silver, every gold builder of ``build_current`` and of
   ``build_snapshots`` for that one date (called as ``pipeline/gold.py`` calls them), the
   warehouse load (DuckDB), and then the whole nightly run (``run_range(settings, D, D)``) end to
   end, each measured night in a fresh process (kohde and Great Expectations imported before the
   clock starts: interpreter start-up is not counted; its peak RSS is the night's own).
3. References in the same process: ``polars.read_csv`` as text of the same inbox bytes (ingest),
   the equivalent DuckDB SQL on the same Parquet (fct_orders and fct_touchpoints from the clean
   zone; last-touch + linear attribution, RFM scores and channel ROI from the kohde facts written
   as Parquet), and DuckDB's own Arrow insert of the same tables (load).

Per step: wall seconds, rows out, rows/s, and the step's own peak RSS (``VmHWM`` reset before the
step, see ``bench/timing.py``). Scales (3 years of history each): small 10k customers / 200k
touchpoints / 30k orders; intermediate 100k / 2M / 300k; medium 1M / 20M / 3M; large 10x medium.

Run: ``uv run python bench/scale.py --scale small|intermediate|medium|large [--keep DIR]``.
``--keep DIR`` keeps the generated lake and inbox in DIR and reuses the history on the next run
with the same scale and seed (the new day is rolled back before the end-to-end run either way).
``--profile FILE`` also runs the nightly run under cProfile and prints its top functions.
``--days N`` writes N days of history of the same customers at the scale's daily volume: with
``--nightly-only``, what a longer history does to the night's time and peak memory.
``--repeat N`` runs the incremental night N times on the same state of D - 1 (restored between
runs) and prints its fastest, median and slowest: on a shared virtual machine one run's wall time
varies by a third or more. Each fresh-process night also reports the steal time of its run (the
share of the machine's CPU time the hypervisor gave to other guests, from ``/proc/stat``), and
has a machine yardstick as its reference: a fixed piece of polars and DuckDB work timed in the
same process just after the night (``machine_yardstick``), so night / yardstick compares runs
on machines, or hours, of different speed. ``--reuse-first-run`` (with ``--no-full-rebuild``) keeps
the first run's state of D - 1 under ``--keep`` and starts the next invocation's nights from it;
``--queries`` prints where each measured night's time goes (``bench/queries.py``). After each
measured night (outside its time) the warehouse's fct_orders is checked for its invariants
(``order_invariants``).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import os
import platform
import pstats
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.main_job import native_load, read_floor  # noqa: E402
from bench.queries import print_summary, trace  # noqa: E402
from bench.scale_data import SCALES, Scale, write_history, write_new_day  # noqa: E402
from bench.segments import duckdb_sql as segments_sql  # noqa: E402
from bench.timing import reset_peak, step_peak_mb  # noqa: E402
from pipeline import gold  # noqa: E402
from pipeline.incremental import STATE_COMPRESSION, LabelState, code_version, drop_state, plan_increment, publish_state, read_state  # noqa: E402
from pipeline.lake import Lake  # noqa: E402
from pipeline.run import ingest_range, run_range, stable_floats  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.silver import as_of as silver_as_of  # noqa: E402
from pipeline.silver import fx_rates  # noqa: E402
from pipeline.transforms.ad_spend import build_fct_ad_spend_daily  # noqa: E402
from pipeline.transforms.attribution import build_fct_attribution  # noqa: E402
from pipeline.transforms.budget_vs_actual import build_budget_vs_actual  # noqa: E402
from pipeline.transforms.campaign_lift import build_campaign_lift  # noqa: E402
from pipeline.transforms.campaigns import build_dim_campaign  # noqa: E402
from pipeline.transforms.channel_reallocation import build_channel_reallocation  # noqa: E402
from pipeline.transforms.channel_roi import build_channel_roi  # noqa: E402
from pipeline.transforms.clv import build_clv, build_ltv_cac, customer_value_and_cost  # noqa: E402
from pipeline.transforms.customers import build_dim_customer  # noqa: E402
from pipeline.transforms.goal_tracking import build_goal_tracking  # noqa: E402
from pipeline.transforms.intent_conversion import build_intent_conversion  # noqa: E402
from pipeline.transforms.orders import build_fct_orders  # noqa: E402
from pipeline.transforms.retargeting import build_retargeting  # noqa: E402
from pipeline.transforms.sales_costs import build_sales_costs  # noqa: E402
from pipeline.transforms.segment_economics import build_segment_economics  # noqa: E402
from pipeline.transforms.segment_migration import MIGRATION_LAG_DAYS, build_segment_migration, segment_labels_of  # noqa: E402
from pipeline.transforms.segment_quality import build_segment_quality  # noqa: E402
from pipeline.transforms.segments import build_rfm, build_segment_summary, rfm_segment_expr  # noqa: E402
from pipeline.transforms.touchpoints import build_fct_touchpoints  # noqa: E402
from pipeline.warehouse import TableLoad, Warehouse  # noqa: E402

START = date(2023, 11, 1)


@dataclass
class Step:
    """One measured step."""

    name: str
    seconds: float
    rows: int | None
    peak_mb: float
    reference: str = "-"
    reference_seconds: float | None = None
    cpu_seconds: float | None = None       # process CPU time (all threads): less sensitive to a busy machine
    reference_cpu_seconds: float | None = None
    steal_pct: float | None = None         # the machine's steal time during the step (fresh-process nights)
    disk_peaks_mb: dict[str, float] | None = None  # scratch folders' largest size during the step (fresh-process nights)

    @property
    def ratio(self) -> float | None:
        """Wall time of kohde over the reference."""
        return None if not self.reference_seconds else self.seconds / self.reference_seconds

    def markdown(self) -> str:
        """The step as a Markdown table row."""
        rows = f"{self.rows:,}" if self.rows else "-"
        rate = f"{self.rows / self.seconds:,.0f}" if self.rows and self.seconds > 0 else "-"
        ref = "-" if self.reference_seconds is None else f"{self.reference} {self.reference_seconds:.2f} s"
        ratio = "-" if self.ratio is None else f"{self.ratio:.2f}"
        cpu = "-" if self.cpu_seconds is None else f"{self.cpu_seconds:.2f}"
        if self.steal_pct is not None:
            cpu += f" (steal {self.steal_pct:.0f} %)"
        if self.reference_cpu_seconds:
            ref += f" (CPU {self.reference_cpu_seconds:.2f} s)"
            ratio += f" (CPU {(self.cpu_seconds or 0) / self.reference_cpu_seconds:.2f})"
        return f"| {self.name} | {self.seconds:.2f} | {cpu} | {rows} | {rate} | {self.peak_mb:,.0f} | {ref} | {ratio} |"


class Recorder:
    """Times steps, each with its own peak RSS."""

    def __init__(self) -> None:
        self.steps: list[Step] = []

    def run(self, name: str, action: Callable[[], Any], rows: Callable[[Any], int | None] | None = None) -> Any:
        """Run and record one step: seconds, rows out, its own peak RSS."""
        reset_peak()
        started, cpu = time.perf_counter(), time.process_time()
        result = action()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = step_peak_mb()
        count = rows(result) if rows else _rows(result)
        self.steps.append(Step(name, seconds, count, peak, cpu_seconds=cpu))
        print(f"  {name}: {seconds:.2f} s (CPU {cpu:.2f} s), {count if count is not None else '-'} rows, peak {peak:,.0f} MB",
              flush=True)
        return result

    def run_fresh(self, name: str, env: dict[str, str], day: date, limit_gb: float, queries: bool = False) -> str:
        """Run and record the nightly run of ``day`` in a fresh process; returns its silver report line.

        The process imports kohde and Great Expectations before the clock starts (interpreter start-up is not
        the run's cost) and holds nothing from the steps before, so its peak RSS is the night's own.
        ``queries``: the process also times every query where kohde starts it (``bench/queries.py``).
        """
        context = multiprocessing.get_context("spawn")
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_night_in_fresh_process, args=(env, day, limit_gb, send, queries))
        child.start()
        send.close()
        try:
            measured = receive.recv()
        except EOFError:
            measured = None
        child.join()
        if not measured:
            raise SystemExit(f"{name}: the fresh process ended with exit code {child.exitcode} and no result")
        steal = measured["steal"]
        yardstick, yardstick_cpu = measured["yardstick"]
        self.steps.append(Step(name, measured["seconds"], None, measured["peak_mb"], cpu_seconds=measured["cpu_seconds"],
                               steal_pct=steal, disk_peaks_mb=measured["disk_peaks_mb"], reference="machine yardstick",
                               reference_seconds=yardstick, reference_cpu_seconds=yardstick_cpu))
        stolen = "" if steal is None else f", steal {steal:.0f} %"
        scratch = ", ".join(f"{label} peak {mb:,.0f} MB" for label, mb in measured["disk_peaks_mb"].items())
        print(f"  {name}: {measured['seconds']:.2f} s (CPU {measured['cpu_seconds']:.2f} s{stolen}), fresh process, "
              f"peak {measured['peak_mb']:,.0f} MB, {scratch}; machine yardstick {yardstick:.2f} s (CPU {yardstick_cpu:.2f} s), "
              f"night / yardstick {measured['seconds'] / yardstick:.2f}", flush=True)
        broken = {rule: rows for rule, rows in measured["checks"].items() if rows}
        print(f"  fct_orders invariants after it: {'held' if not broken else f'BROKEN, rows by rule {broken}'}", flush=True)
        return str(measured["silver"])

    def reference(self, name: str, label: str, seconds: float, cpu_seconds: float | None = None) -> None:
        """Attach a reference time to a recorded step."""
        for step in self.steps:
            if step.name == name:
                step.reference, step.reference_seconds, step.reference_cpu_seconds = label, seconds, cpu_seconds


YARDSTICK_ROWS = 4_000_000
YARDSTICK_CUSTOMERS = 500_000


def machine_yardstick(folder: Path) -> tuple[float, float]:
    """A fixed piece of work like the night's, timed in the night's own process: (wall, CPU seconds).

    Seeded rows (``YARDSTICK_ROWS`` orders of ``YARDSTICK_CUSTOMERS`` text customer ids, a day and an
    amount) that polars groups by customer, sorts, joins the sums back to, writes to Parquet and reads
    back, and DuckDB groups too. The work is the same on every machine and every run, so the night
    divided by it compares nights measured on machines of different speed, or on one host whose speed
    per core changes by the hour (the eleventh part of docs/benchmarks.md: the same night took
    61-92 s on one machine in one day).
    """
    rng = np.random.default_rng(0)
    frame = pl.DataFrame({
        "customer_id": rng.integers(0, YARDSTICK_CUSTOMERS, YARDSTICK_ROWS),
        "day": rng.integers(0, 1095, YARDSTICK_ROWS),
        "amount": rng.integers(1, 100_000, YARDSTICK_ROWS),
    }).with_columns(pl.format("customer-{}", pl.col("customer_id")).alias("customer_id"),
                    pl.col("day").cast(pl.Int32), pl.col("amount").cast(pl.Decimal(18, 2)) / 100)
    path = folder / f"yardstick-{os.getpid()}.parquet"
    started, cpu = time.perf_counter(), time.process_time()
    sums = frame.group_by("customer_id").agg(pl.col("amount").sum(), pl.len(), pl.col("day").max().alias("last_day"))
    frame.sort("customer_id", "day").join(sums, on="customer_id", how="left").write_parquet(path)
    pl.read_parquet(path)
    duckdb.sql("SELECT customer_id, sum(amount), count(*) FROM frame GROUP BY ALL").arrow()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    path.unlink()
    return seconds, cpu


def _night_in_fresh_process(env: dict[str, str], day: date, limit_gb: float, send: Any, queries: bool = False) -> None:
    """The child of ``Recorder.run_fresh``: one measured ``run_range(D, D)``, its figures sent back.

    The machine yardstick runs right after the night, in the same process, once its time and peak
    are taken: run before, it left about 700 MB resident that counted in the night's peak.
    """
    watchdog(limit_gb)
    import great_expectations  # noqa: F401  (imported once per nightly process, before the clock starts)

    settings = Settings.from_env(env)
    scratch = disk_peaks({"work folder": Path(settings.home) / "work",
                          "DuckDB spill": Path(settings.home) / "warehouse.duckdb.tmp"})
    log = trace() if queries else None
    jiffies = cpu_jiffies()
    started, cpu = time.perf_counter(), time.process_time()
    report = run_range(settings, day, day, progress=log.progress if log else None)
    seconds, cpu_seconds, peak = time.perf_counter() - started, time.process_time() - cpu, step_peak_mb()
    if log:
        log.stop()
        print_summary(log)
    steal = steal_pct(jiffies, cpu_jiffies())
    checks = order_invariants(Path(settings.warehouse_url.removeprefix("duckdb:///")))
    send.send({"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mb": peak, "silver": report.silver,
               "steal": steal, "disk_peaks_mb": dict(scratch), "yardstick": machine_yardstick(Path(settings.home)),
               "checks": checks})
    send.close()
    sys.stdout.flush()
    os._exit(0)  # skip finalisation, as in pipeline.cli.entry


ORDER_INVARIANTS = """
    WITH revenue AS (
        SELECT is_first_order,
               row_number() OVER (PARTITION BY customer_id ORDER BY ordered_at, order_id, source_system) = 1 AS earliest
        FROM fct_orders WHERE is_revenue AND customer_id IS NOT NULL
    )
    SELECT
        (SELECT count(*) FROM revenue WHERE earliest <> is_first_order),
        (SELECT count(*) FROM fct_orders WHERE is_first_order AND NOT is_revenue),
        (SELECT count(*) FROM fct_orders WHERE currency_code = 'EUR'
            AND (net_revenue_eur IS DISTINCT FROM net_revenue OR gross_eur IS DISTINCT FROM gross))
"""


def order_invariants(warehouse: Path) -> dict[str, int]:
    """Rows of a DuckDB warehouse's fct_orders that break what every night must leave, by rule (0: none).

    ``first order``: a customer's revenue orders whose is_first_order is not "the earliest by
    ordered_at, order_id, source system"; ``first order not revenue``; ``EUR amount``: an EUR
    order whose EUR amounts differ from its own. Checked after each measured night (outside its
    time): a row pasted to the wrong order at one scale only shows here, and in the nights' change
    windows (docs/benchmarks.md, fifteenth part).
    """
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute(ORDER_INVARIANTS).fetchone()
    assert row is not None
    return dict(zip(("first order", "first order not revenue", "EUR amount"), map(int, row), strict=True))


def disk_peaks(folders: dict[str, Path], every: float = 1.0) -> dict[str, float]:
    """The largest size (MB) each folder reached, sampled every ``every`` seconds by a daemon thread.

    The night's scratch space (its work folder, DuckDB's spill) is removed when the run ends, so its
    size is what a user must leave free on the disk, and only a sample taken while it runs shows it.
    The returned dict is updated in place.
    """
    peaks = dict.fromkeys(folders, 0.0)

    def size(folder: Path) -> int:
        total = 0
        for root, _, files in os.walk(folder):
            for name in files:
                try:
                    total += os.stat(os.path.join(root, name)).st_size
                except OSError:  # removed between the listing and the stat
                    pass
        return total

    def watch() -> None:
        while True:
            for label, folder in folders.items():
                peaks[label] = max(peaks[label], size(folder) / 1e6)
            time.sleep(every)
    threading.Thread(target=watch, daemon=True).start()
    return peaks


def _rows(result: Any) -> int | None:
    if isinstance(result, pl.DataFrame):
        return result.height
    if isinstance(result, tuple) and result and isinstance(result[0], pl.DataFrame):
        return result[0].height
    return None


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    """(result, seconds) of one call."""
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def watchdog(limit_gb: float) -> None:
    """Exit the process (code 3) when its RSS passes ``limit_gb``: the machine is shared, OOM must not hit others.

    The process also volunteers as the kernel OOM killer's first choice.
    """
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass
    def watch() -> None:
        while True:
            with open("/proc/self/status") as handle:
                rss = next((int(line.split()[1]) for line in handle if line.startswith("VmRSS:")), 0) / 1024 / 1024
            if rss > limit_gb:
                print(f"ABORTED: resident memory {rss:.1f} GB passed the --max-rss-gb {limit_gb} limit", flush=True)
                os._exit(3)
            time.sleep(0.2)
    threading.Thread(target=watch, daemon=True).start()


# -- the gold builders one by one (as pipeline/gold.py calls them) ------------------------------------


def current_steps(rec: Recorder, silver: gold.Silver, as_of: date, settings: Settings) -> dict[str, pl.DataFrame]:
    """``gold.build_current`` with every builder timed on its own (versioning an entity counts to its first user)."""
    fx = silver.fx(as_of)
    orders = rec.run("fct_orders (+ versions of order)", lambda: build_fct_orders(silver.as_of("order", as_of), fx).collect())
    ad_spend = rec.run("fct_ad_spend_daily (+ versions)", lambda: build_fct_ad_spend_daily(silver.as_of("ad_daily", as_of), fx).collect())
    touchpoints = rec.run("fct_touchpoints (+ versions)", lambda: build_fct_touchpoints(
        silver.as_of("touchpoint", as_of), gold.channel_rules(settings)).collect())
    contacts = rec.run("versions of contact, deal", lambda: (silver.as_of("contact", as_of), silver.as_of("deal", as_of)))[0]
    attribution = rec.run(f"fct_attribution ({len(gold.attribution_models(settings))} models)", lambda: build_fct_attribution(
        orders.lazy(), touchpoints.lazy(), settings.attribution_lookback_days, gold.attribution_models(settings),
        contacts=contacts, deals=silver.as_of("deal", as_of), markov_order=settings.attribution_markov_order,
        time_decay_half_life_days=settings.attribution_half_life_days).collect())
    segments_frame = rec.run("mart_customer_segments (current)", lambda: gold.segments_as_of(
        silver, as_of, settings, gold.segment_rules(settings), orders.lazy(), touchpoints.lazy()).collect())
    segments = segments_frame.lazy()
    tables = {"fct_orders": orders, "fct_ad_spend_daily": ad_spend, "fct_touchpoints": touchpoints,
              "fct_attribution": attribution, "_segments": segments_frame}
    tables["dim_campaign"] = rec.run("dim_campaign", lambda: build_dim_campaign(
        silver.as_of("ad_daily", as_of), silver.as_of("touchpoint", as_of)).collect())
    tables["dim_customer"] = rec.run("dim_customer", lambda: build_dim_customer(
        contacts, orders.lazy(), segments.select("customer_id", "rfm_segment", "value_tier"), as_of).collect())
    tables["mart_channel_roi"] = rec.run("mart_channel_roi", lambda: build_channel_roi(attribution.lazy(), ad_spend.lazy()).collect())
    tables["mart_sales_costs"] = rec.run("mart_sales_costs", lambda: build_sales_costs(
        silver.as_of("sales_cost", as_of), orders.lazy(), fx, ad_spend.lazy()).collect())
    tables["mart_campaign_lift"] = rec.run("mart_campaign_lift", lambda: build_campaign_lift(
        ad_spend.lazy(), orders.lazy(), as_of).collect())
    tables["mart_channel_reallocation"] = rec.run("mart_channel_reallocation", lambda: build_channel_reallocation(
        ad_spend.lazy(), attribution.lazy(), as_of))
    tables["mart_segment_economics"] = rec.run("mart_segment_economics", lambda: build_segment_economics(
        attribution.lazy(), segments).collect())
    tables["mart_retargeting"] = rec.run("mart_retargeting", lambda: build_retargeting(
        touchpoints.lazy(), orders.lazy(), ad_spend.lazy(), as_of, settings.attribution_lookback_days).collect())
    tables["mart_budget_vs_actual"] = rec.run("mart_budget_vs_actual", lambda: build_budget_vs_actual(
        silver.as_of("budget", as_of), ad_spend.lazy(), fx, as_of).collect())
    return tables


def snapshot_steps(rec: Recorder, silver: gold.Silver, as_of: date, settings: Settings,
                   current: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """One date of ``gold.build_snapshots`` with every builder timed on its own.

    The date is the current tables' date, so (as ``gold.build_snapshots`` given ``gold.Facts``) the
    facts, segments and first-touch / goal-model attribution are the current ones, not rebuilt.
    """
    rules, touch_rules = gold.segment_rules(settings), gold.channel_rules(settings)
    orders, touchpoints, spend = current["fct_orders"].lazy(), current["fct_touchpoints"], current["fct_ad_spend_daily"]
    contacts = silver.as_of("contact", as_of)
    segments = current["_segments"]
    touches = rec.run("snapshot: attribution first_touch + goal model (rows of the current table)", lambda: current[
        "fct_attribution"].filter((pl.col("conversion_type") == gold.ORDER)
                                  & pl.col("model").is_in(gold.SNAPSHOT_ATTRIBUTION_MODELS)))
    clv, clv_model = rec.run("snapshot: mart_clv (BG/NBD + Gamma-Gamma fit)", lambda: build_clv(
        orders, as_of, annual_discount_rate=settings.clv_annual_discount_rate))
    first_touch = touches.filter(pl.col("model") == "first_touch")
    values = rec.run("snapshot: customer value and cost", lambda: customer_value_and_cost(clv, first_touch, spend, as_of))
    out = {"mart_customer_segments": segments, "mart_clv": clv, "mart_clv_model": clv_model}
    out["mart_segment_summary"] = rec.run("snapshot: mart_segment_summary", lambda: build_segment_summary(
        segments.lazy(), orders, as_of, customer_values=values.lazy()).collect())
    compared_to = as_of - timedelta(days=MIGRATION_LAG_DAYS)
    previous = rec.run("snapshot: segments 30 days earlier (for migration)", lambda: segment_labels_of(
        gold._segments_from_silver(silver, compared_to, settings, rules, touch_rules)).collect())
    migration = rec.run("snapshot: mart_segment_migration", lambda: build_segment_migration(
        segments.lazy(), previous.lazy(), as_of, compared_to).collect())
    out["mart_segment_migration"] = migration
    out["mart_segment_quality"] = rec.run("snapshot: mart_segment_quality", lambda: build_segment_quality(
        segments.lazy(), orders, migration.lazy(), as_of).collect())
    out["mart_intent_conversion"] = rec.run("snapshot: mart_intent_conversion", lambda: build_intent_conversion(
        touchpoints.lazy(), orders, silver.as_of("deal", as_of), contacts, as_of).collect())
    out["mart_goal_tracking"] = rec.run("snapshot: mart_goal_tracking", lambda: build_goal_tracking(
        silver.as_of("goal", as_of), orders, contacts, as_of, ad_spend=spend.lazy(), attribution=touches.lazy(),
        segments=segments).collect())
    out["mart_ltv_cac"] = rec.run("snapshot: mart_ltv_cac", lambda: build_ltv_cac(clv, segments, first_touch, spend, as_of))
    return out


# -- DuckDB references ----------------------------------------------------------------------------------

DEFAULT_RATES_SQL = ("(VALUES (DATE '1970-01-01', 'EUR', 1.0), (DATE '1970-01-01', 'USD', 0.92), "
                     "(DATE '1970-01-01', 'GBP', 1.17), (DATE '1970-01-01', 'SEK', 0.087), (DATE '1970-01-01', 'NOK', 0.085), "
                     "(DATE '1970-01-01', 'DKK', 0.134), (DATE '1970-01-01', 'CHF', 1.05)) d(valid_from, currency_code, eur_per_unit)")


def _current_sql(clean: Path, entity: str, key: str, as_of: date) -> str:
    """The newest extraction of each business key, as ``silver.current``."""
    return (f"SELECT * FROM read_parquet('{clean}/{entity}/*/*.parquet', hive_partitioning = false) "
            f"WHERE extract_date <= DATE '{as_of}' QUALIFY ROW_NUMBER() OVER (PARTITION BY {key} "
            f"ORDER BY extract_date DESC, file_sha256 DESC, row_number DESC) = 1")


def fct_orders_sql(clean: Path, as_of: date) -> str:
    """fct_orders: current orders, EUR at the newest rate on the order date (plan rates + defaults), first-order flag."""
    given = _current_sql(clean, "fx_rate", "valid_from, currency_code", as_of)
    return f"""
    WITH o AS ({_current_sql(clean, "order", "source_system, order_id", as_of)}),
    given AS (SELECT valid_from, currency_code, eur_per_unit FROM ({given})),
    rates AS (SELECT * FROM given UNION ALL
              SELECT valid_from, currency_code, CAST(eur_per_unit AS DECIMAL(18,8)) FROM {DEFAULT_RATES_SQL}
              WHERE currency_code NOT IN (SELECT currency_code FROM given)),
    j AS (SELECT o.*, r.eur_per_unit, COALESCE(o.status IN ('paid', 'partially_refunded', 'refunded'), false) AS is_revenue
          FROM o ASOF LEFT JOIN rates r ON o.currency_code = r.currency_code AND o.order_date >= r.valid_from)
    SELECT order_id, source_system, customer_id, ordered_at, order_date, currency_code, gross, discounts, refunds,
           net_revenue, CAST(ROUND(gross * eur_per_unit, 4) AS DECIMAL(18,4)) AS gross_eur,
           CAST(ROUND(net_revenue * eur_per_unit, 4) AS DECIMAL(18,4)) AS net_revenue_eur, status, is_revenue,
           COALESCE(is_revenue AND customer_id IS NOT NULL AND order_id = FIRST_VALUE(order_id) OVER (
               PARTITION BY customer_id ORDER BY NOT is_revenue, ordered_at, order_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING), false) AS is_first_order,
           product_category, price_tier
    FROM j ORDER BY source_system, order_id"""


def fct_touchpoints_sql(clean: Path, as_of: date) -> str:
    """fct_touchpoints: current touches with their UTC day (no channel rules)."""
    return f"""SELECT touchpoint_id, customer_id, ts, CAST(ts AS DATE) AS touch_date, channel, platform, campaign_id,
               touch_type FROM ({_current_sql(clean, "touchpoint", "touchpoint_id", as_of)}) ORDER BY touchpoint_id"""


def attribution_sql(orders: Path, touches: Path, lookback_days: int) -> str:
    """Last touch and linear, with fct_attribution's path rule, empty-path row and revenue remainder rule."""
    return f"""
    WITH orders AS (SELECT order_id, customer_id, ordered_at, order_date, is_first_order, net_revenue_eur
                    FROM read_parquet('{orders}') WHERE is_revenue),
    touches AS (SELECT customer_id, touchpoint_id, ts, COALESCE(channel, 'direct') AS channel,
                       COALESCE(campaign_id, '(none)') AS campaign_id FROM read_parquet('{touches}')
                WHERE customer_id IS NOT NULL AND NOT COALESCE(touch_type IN ('impression'), false)),
    path AS (SELECT o.order_id, t.channel, t.campaign_id,
                    ROW_NUMBER() OVER (PARTITION BY o.order_id ORDER BY t.ts, t.touchpoint_id) - 1 AS position,
                    COUNT(*) OVER (PARTITION BY o.order_id) AS path_length
             FROM orders o JOIN touches t ON o.customer_id = t.customer_id
              AND t.ts <= o.ordered_at AND t.ts > o.ordered_at - INTERVAL {lookback_days} DAY),
    credits AS (SELECT order_id, 'last_touch' AS model, channel, campaign_id, position,
                       CASE WHEN position = path_length - 1 THEN 1.0 ELSE 0.0 END AS credit FROM path
                UNION ALL SELECT order_id, 'linear', channel, campaign_id, position, 1.0 / path_length FROM path),
    unattributed AS (SELECT o.order_id, m.model, 'direct' AS channel, '(none)' AS campaign_id, 0 AS position, 1.0 AS credit
                     FROM orders o ANTI JOIN (SELECT DISTINCT order_id FROM path) p USING (order_id)
                     CROSS JOIN (VALUES ('last_touch'), ('linear')) m(model)),
    grouped AS (SELECT order_id, model, channel, campaign_id, ROUND(SUM(credit), 12) AS credit,
                       MIN(position) AS first_position
                FROM (SELECT * FROM credits WHERE credit > 0 UNION ALL SELECT * FROM unattributed) GROUP BY ALL),
    ranked AS (SELECT g.*, o.customer_id, o.order_date, o.is_first_order, o.net_revenue_eur,
                      CAST(ROUND(CAST(o.net_revenue_eur AS DOUBLE) * g.credit, 4) AS DECIMAL(18,4)) AS rounded,
                      ROW_NUMBER() OVER (PARTITION BY g.order_id, g.model
                                         ORDER BY g.credit DESC, g.first_position, g.channel, g.campaign_id) AS rk
               FROM grouped g JOIN orders o USING (order_id))
    SELECT order_id, model, channel, campaign_id, customer_id, order_date, is_first_order, credit,
           CAST(CASE WHEN rk = 1 THEN rounded + net_revenue_eur - SUM(rounded) OVER (PARTITION BY order_id, model)
                ELSE rounded END AS DECIMAL(18,4)) AS revenue_eur
    FROM ranked ORDER BY order_id, model, channel, campaign_id"""


def channel_roi_sql(attribution: Path, spend: Path) -> str:
    """mart_channel_roi: day / week / month / quarter, spend full-joined with attributed revenue, roll-up rows."""
    def period(column: str) -> str:
        return (f"CAST(CASE g.period_grain WHEN 'day' THEN {column} WHEN 'week' THEN date_trunc('week', {column}) "
                f"WHEN 'month' THEN date_trunc('month', {column}) ELSE date_trunc('quarter', {column}) END AS DATE)")
    key = "period_grain, period_start, channel, campaign_id, model"
    return f"""
    WITH grains AS (SELECT * FROM (VALUES ('day'), ('week'), ('month'), ('quarter')) v(period_grain)),
    a AS (SELECT * FROM read_parquet('{attribution}')), s AS (SELECT * FROM read_parquet('{spend}')),
    attributed AS (SELECT g.period_grain, {period("a.order_date")} AS period_start, a.channel, a.campaign_id, a.model,
                          CAST(CASE WHEN bool_or(a.revenue_eur IS NULL) THEN NULL ELSE SUM(a.revenue_eur) END AS DECIMAL(18,4))
                              AS attributed_revenue_eur,
                          ROUND(SUM(a.credit), 9) AS conversions,
                          ROUND(COALESCE(SUM(a.credit) FILTER (WHERE COALESCE(a.is_first_order, false)), 0), 9) AS new_customers
                   FROM a CROSS JOIN grains g GROUP BY ALL),
    spend AS (SELECT g.period_grain, {period("s.day")} AS period_start, s.channel, s.campaign_id,
                     CAST(CASE WHEN bool_or(s.spend_eur IS NULL) THEN NULL ELSE SUM(s.spend_eur) END AS DECIMAL(18,4)) AS spend_eur,
                     CAST(SUM(s.impressions) AS BIGINT) AS impressions, CAST(SUM(s.clicks) AS BIGINT) AS clicks
              FROM s CROSS JOIN grains g GROUP BY ALL),
    spend_models AS (SELECT *, true AS has_spend FROM spend CROSS JOIN (SELECT DISTINCT model FROM a)),
    by_campaign AS (SELECT {key}, CASE WHEN has_spend IS NULL THEN CAST(0 AS DECIMAL(18,4)) ELSE spend_eur END AS spend_eur,
                           impressions, clicks, COALESCE(attributed_revenue_eur, CAST(0 AS DECIMAL(18,4))) AS attributed_revenue_eur,
                           COALESCE(conversions, 0.0) AS conversions, COALESCE(new_customers, 0.0) AS new_customers
                    FROM spend_models FULL JOIN attributed USING (period_grain, period_start, channel, campaign_id, model)),
    by_channel AS (SELECT period_grain, period_start, channel, '(all)' AS campaign_id, model,
                          CAST(CASE WHEN bool_or(spend_eur IS NULL) THEN NULL ELSE SUM(spend_eur) END AS DECIMAL(18,4)) AS spend_eur,
                          CAST(COALESCE(SUM(impressions), 0) AS BIGINT) AS impressions,
                          CAST(COALESCE(SUM(clicks), 0) AS BIGINT) AS clicks,
                          CAST(CASE WHEN bool_or(attributed_revenue_eur IS NULL) THEN NULL ELSE SUM(attributed_revenue_eur) END
                               AS DECIMAL(18,4)) AS attributed_revenue_eur,
                          ROUND(SUM(conversions), 9) AS conversions, ROUND(SUM(new_customers), 9) AS new_customers
                   FROM by_campaign GROUP BY period_grain, period_start, channel, model),
    u AS (SELECT * FROM by_campaign UNION ALL BY NAME SELECT * FROM by_channel)
    SELECT {key}, spend_eur, impressions, clicks, attributed_revenue_eur, conversions, new_customers,
           (CAST(attributed_revenue_eur AS DOUBLE) - CAST(spend_eur AS DOUBLE)) / NULLIF(CAST(spend_eur AS DOUBLE), 0) AS roi,
           CAST(attributed_revenue_eur AS DOUBLE) / NULLIF(CAST(spend_eur AS DOUBLE), 0) AS roas,
           clicks * 100 / NULLIF(CAST(impressions AS DOUBLE), 0) AS ctr_pct,
           conversions * 100 / NULLIF(CAST(clicks AS DOUBLE), 0) AS conversion_rate_pct,
           CAST(ROUND(NULLIF(CAST(spend_eur AS DOUBLE), 0) / NULLIF(conversions, 0), 4) AS DECIMAL(18,4)) AS cpa_eur,
           CAST(ROUND(NULLIF(CAST(spend_eur AS DOUBLE), 0) / NULLIF(new_customers, 0), 4) AS DECIMAL(18,4)) AS cac_eur
    FROM u ORDER BY {key}"""


def same(ours: pl.DataFrame, theirs_arrow: Any, check: list[str]) -> str:
    """'same' when row counts match and the given columns have equal sums / distinct counts, else what differs."""
    theirs = pl.from_arrow(theirs_arrow)
    assert isinstance(theirs, pl.DataFrame)
    if ours.height != theirs.height:
        return f"rows differ ({ours.height:,} vs {theirs.height:,})"
    diffs = []
    for column in check:
        a, b = ours[column], theirs[column]
        if a.dtype.is_numeric() or isinstance(a.dtype, pl.Decimal):
            x, y = float(a.cast(pl.Float64).sum()), float(b.cast(pl.Float64).sum())
            if abs(x - y) > 1e-6 * max(1.0, abs(x)):
                diffs.append(f"{column} sum {x:.6g} vs {y:.6g}")
        elif a.n_unique() != b.n_unique() or a.null_count() != b.null_count():
            diffs.append(f"{column} distinct/nulls differ")
    return "same" if not diffs else "; ".join(diffs)


def duckdb_references(rec: Recorder, root: Path, clean: Path, as_of: date, settings: Settings) -> dict[str, str]:
    """Each main transform in kohde and as DuckDB SQL on the same Parquet, in this process.

    The facts are built from the clean zone (kohde: read + versions + build, as the nightly run;
    DuckDB: the same from the same Parquet files) and written as Parquet, and the later
    transforms read those files on both sides. One table is held at a time, so this runs at
    scales where the whole nightly run does not fit in memory.
    """
    folder = root / "reference"
    folder.mkdir(exist_ok=True)
    paths = {name: folder / f"{name}.parquet" for name in ("fct_orders", "fct_touchpoints", "fct_attribution",
                                                           "fct_ad_spend_daily")}
    def connect() -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        return con

    with connect() as con:
        threads = con.sql("SELECT current_setting('threads')").fetchall()[0][0]
    agreement: dict[str, str] = {"duckdb threads": str(threads)}
    lake = Lake(settings.lake)

    def kohde_orders() -> pl.DataFrame:
        frames = {e: gold.Silver.read(lake, e, as_of) for e in ("order", "fx_rate")}
        return build_fct_orders(silver_as_of(gold.entity_versions(frames["order"], "order"), "order", as_of),
                                fx_rates(frames["fx_rate"].lazy(), as_of)).collect()

    def kohde_touchpoints() -> pl.DataFrame:
        frame = gold.Silver.read(lake, "touchpoint", as_of)
        return build_fct_touchpoints(silver_as_of(gold.entity_versions(frame, "touchpoint"), "touchpoint",
                                                  as_of)).collect()

    ad = gold.Silver.read(lake, "ad_daily", as_of)
    build_fct_ad_spend_daily(silver_as_of(gold.entity_versions(ad, "ad_daily"), "ad_daily", as_of),
                             fx_rates(lake.clean("fx_rate", as_of), as_of)).collect().write_parquet(paths["fct_ad_spend_daily"])
    attr_models = ("last_touch", "linear")
    cases: list[tuple[str, Callable[[], pl.DataFrame], str, list[str], str | None]] = [
        ("ref fct_orders: read + versions + build", kohde_orders, fct_orders_sql(clean, as_of),
         ["gross_eur", "net_revenue_eur", "is_first_order", "customer_id"], "fct_orders"),
        ("ref fct_touchpoints: read + versions + build", kohde_touchpoints, fct_touchpoints_sql(clean, as_of),
         ["touchpoint_id", "channel", "campaign_id"], "fct_touchpoints"),
        ("ref fct_attribution last_touch + linear", lambda: build_fct_attribution(
            pl.scan_parquet(paths["fct_orders"]), pl.scan_parquet(paths["fct_touchpoints"]),
            settings.attribution_lookback_days, attr_models).collect(),
         attribution_sql(paths["fct_orders"], paths["fct_touchpoints"], settings.attribution_lookback_days),
         ["credit", "revenue_eur", "channel"], "fct_attribution"),
        ("ref RFM scores + segments (streaming)", lambda: build_rfm(
            pl.scan_parquet(paths["fct_orders"]), as_of, settings.rfm_window_days).with_columns(
            rfm_segment_expr("r_score", "f_score", "m_score").alias("rfm_segment")).collect(engine="streaming"),
         segments_sql(paths["fct_orders"], as_of=as_of, window_days=settings.rfm_window_days),
         ["r_score", "f_score", "m_score", "monetary_eur"],
         None),
        ("ref mart_channel_roi (last_touch + linear)", lambda: build_channel_roi(
            pl.scan_parquet(paths["fct_attribution"]), pl.scan_parquet(paths["fct_ad_spend_daily"])).collect(),
         channel_roi_sql(paths["fct_attribution"], paths["fct_ad_spend_daily"]),
         ["spend_eur", "attributed_revenue_eur", "conversions", "impressions"], None),
    ]
    for name, ours, sql, check, output in cases:
        result = rec.run(name, ours)
        if output:
            result.write_parquet(paths[output])
        reset_peak()
        cpu = time.process_time()
        # a connection per query, closed after it: DuckDB keeps its buffers until then, and they stayed
        # resident through kohde's next step (medium's fct_touchpoints: 23 s at a 12.7 GB peak, 11-13 s alone)
        with connect() as con:
            theirs, seconds = timed(lambda sql=sql, con=con: con.sql(sql).to_arrow_table())
        rec.reference(name, "DuckDB SQL", seconds, time.process_time() - cpu)
        agreement[name] = same(result, theirs, check)
        print(f"    DuckDB {seconds:.2f} s (peak {step_peak_mb():,.0f} MB): {agreement[name]}", flush=True)
        del result, theirs
    agreement["ref CLV fit: BG/NBD + Gamma-Gamma"] = clv_reference(rec, paths["fct_orders"], as_of)
    agreement["ref attribution last touch + linear vs MAM"] = mam_reference(
        rec, paths["fct_orders"], paths["fct_touchpoints"], settings.attribution_lookback_days)
    return agreement


def mam_reference(rec: Recorder, orders: Path, touchpoints: Path, lookback_days: int) -> str:
    """Last touch and linear credit per channel: kohde against marketing-attribution-models (MAM).

    Both sides get each revenue order's 90-day click path (non-impression touches, oldest first;
    an order without one is the one-touch journey ``direct``, as kohde credits it). kohde's side
    is ``build_fct_attribution`` with the two models; MAM's is building those journeys from the same
    Parquet in polars (what a script around MAM has to do), loading them and ``run_last_click`` +
    ``run_linear``. 'same' when every channel's total credit agrees within 1e-6 per conversion.
    """
    from mam.core import MAM

    from pipeline.transforms.attribution import VIEW_TOUCH_TYPES

    name = "ref attribution last touch + linear vs MAM"
    ours = rec.run(name, lambda: build_fct_attribution(
        pl.scan_parquet(orders), pl.scan_parquet(touchpoints), lookback_days, ("last_touch", "linear")).collect())

    def journeys_of() -> pl.DataFrame:
        order_frame = pl.scan_parquet(orders).filter(pl.col("is_revenue").fill_null(False))
        touches = pl.scan_parquet(touchpoints).filter(pl.col("customer_id").is_not_null()
                                                      & ~pl.col("touch_type").is_in(list(VIEW_TOUCH_TYPES)).fill_null(False))
        paths = (
            order_frame.select("order_id", "customer_id", "ordered_at")
            .join(touches.select("customer_id", "touchpoint_id", "ts", pl.col("channel").fill_null("direct")), on="customer_id",
                  how="left")
            .filter(pl.col("ts").is_null() | ((pl.col("ts") <= pl.col("ordered_at"))
                                              & (pl.col("ts") > pl.col("ordered_at") - timedelta(days=lookback_days))))
            .sort("order_id", "ts", "touchpoint_id")
            .with_columns(((pl.col("ordered_at") - pl.col("ts")).dt.total_seconds() / 3600).cast(pl.String).alias("hours"))
            .group_by("order_id", maintain_order=True)
            .agg(pl.col("channel").drop_nulls(), pl.col("hours").drop_nulls())
            .collect()
        )
        # orders whose touches all fall outside the window: the left join kept them with a NULL touch
        every_order = order_frame.select("order_id").collect()
        journeys = (
            every_order.join(paths, on="order_id", how="left")
            .select(pl.col("order_id").alias("journey_id"),
                    pl.when(pl.col("channel").list.len().fill_null(0) == 0).then(pl.lit(["direct"]))
                    .otherwise(pl.col("channel")).list.join(" > ").alias("journey"),
                    pl.when(pl.col("hours").list.len().fill_null(0) == 0).then(pl.lit(["0"]))
                    .otherwise(pl.col("hours")).list.join(" > ").alias("time_till_conv"),
                    pl.lit(True).alias("converted"))
        )
        return journeys

    reset_peak()
    cpu = time.process_time()
    sizes: list[int] = []

    def run_mam() -> dict[str, dict[str, float]]:
        journeys = journeys_of()
        sizes.append(journeys.height)
        model = MAM(journeys, format_type="journey", channels_colname="journey",
                    journey_with_conv_colname="converted", time_till_conv_colname="time_till_conv")
        return {kohde_name: {str(k): float(v) for k, v in getattr(model, method)().to_polars().iter_rows()}
                for kohde_name, method in (("last_touch", "run_last_click"), ("linear", "run_linear"))}

    theirs, seconds = timed(run_mam)
    rec.reference(name, "journeys in polars + MAM load + last click + linear", seconds, time.process_time() - cpu)
    worst = 0.0
    for model, totals in theirs.items():
        mine = dict(ours.filter(pl.col("model") == model).group_by("channel").agg(pl.col("credit").sum()).iter_rows())
        worst = max(worst, max(abs(mine.get(k, 0.0) - totals.get(k, 0.0)) for k in set(mine) | set(totals)))
    verdict = "same" if worst <= 1e-6 * max(1, sizes[0]) else f"channel totals differ by up to {worst:.3g}"
    print(f"    MAM {seconds:.2f} s on {sizes[0]:,} journeys: {verdict}", flush=True)
    return verdict


def clv_reference(rec: Recorder, orders: Path, as_of: date) -> str:
    """mart_clv's two fits on the scale's customers against lifetimes' fitters on the same summary.

    kohde's side is ``fit_bgnbd`` + ``fit_gamma_gamma`` (which group customers into distinct rows
    first); lifetimes' is ``BetaGeoFitter().fit`` + ``GammaGammaFitter().fit`` on one row per
    customer, as its users call it. 'same' when every parameter agrees within 1e-3 relative.
    """
    import warnings

    from pipeline.transforms.clv import fit_bgnbd, fit_gamma_gamma, rfm_summary

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes import BetaGeoFitter, GammaGammaFitter

    summary = rfm_summary(pl.scan_parquet(orders), as_of).collect()
    x, t_x, t = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    repeat = summary.filter((pl.col("frequency") > 0) & (pl.col("monetary_value") > 0))
    rx, rm = repeat["frequency"].to_numpy(), repeat["monetary_value"].to_numpy()
    name = "ref CLV fit: BG/NBD + Gamma-Gamma"
    ours = rec.run(name, lambda: (fit_bgnbd(x, t_x, t), fit_gamma_gamma(rx, rm)), rows=lambda _: summary.height)
    from lifetimes.utils import ConvergenceError

    print(f"    kohde: BG/NBD {ours[0]}, Gamma-Gamma {ours[1]}", flush=True)
    reset_peak()
    cpu = time.process_time()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (bg, gg), seconds = timed(lambda: (BetaGeoFitter().fit(x, t_x, t).params_,
                                               GammaGammaFitter().fit(rx, rm).params_))
    except ConvergenceError:
        seconds = time.process_time() - cpu
        rec.reference(name, "lifetimes fitters (did not converge)", seconds, seconds)
        print(f"    lifetimes did not converge on {summary.height:,} customers (its default penalizer 0)", flush=True)
        return "lifetimes did not converge"
    rec.reference(name, "lifetimes fitters", seconds, time.process_time() - cpu)
    pairs = [(ours[0].r, bg["r"]), (ours[0].alpha, bg["alpha"]), (ours[0].a, bg["a"]), (ours[0].b, bg["b"]),
             (ours[1].p, gg["p"]), (ours[1].q, gg["q"]), (ours[1].gamma, gg["v"])]
    worst = max(abs(a - b) / abs(b) for a, b in pairs)
    verdict = "same" if worst <= 1e-3 else f"parameters differ by up to {worst:.2g} relative"
    print(f"    lifetimes {seconds:.2f} s on {summary.height:,} customers ({repeat.height:,} repeat): {verdict}", flush=True)
    return verdict


# -- the run ------------------------------------------------------------------------------------------------


def cpu_jiffies() -> tuple[int, int] | None:
    """The machine's (steal, total) CPU time so far in clock ticks (``/proc/stat``), None where there is none."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    return fields[7], sum(fields)


def steal_pct(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """The steal time between two ``cpu_jiffies``, as a percentage of all CPU time then."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return 100 * (after[0] - before[0]) / (after[1] - before[1])


def keep_night_state(lake_root: Path, home: Path, saved: Path) -> None:
    """Copy the lake's state (``gold``) and the warehouse to ``saved``: what the night of D starts from.

    The state's Parquet parts are hard links (``_link_parquet``): the lake never rewrites one, and the
    large state's 15 GB copied left the night too little disk for its 14 GB work folder.
    """
    shutil.rmtree(saved, ignore_errors=True)
    saved.mkdir(parents=True)
    shutil.copytree(lake_root / "gold", saved / "gold", copy_function=_link_parquet)
    for file in home.glob("warehouse.duckdb*"):
        shutil.copy2(file, saved / file.name)


def fresh_lake(lake_root: Path, home: Path, day: date) -> None:
    """The lake up to D - 1 (``rollback_day``), no state, no warehouse."""
    rollback_day(lake_root, day)
    for file in home.glob("warehouse.duckdb*"):
        file.unlink()


def _link_parquet(source: str, target: str) -> None:
    """Copy a file of a saved state back, a Parquet part as a hard link (the large state's 15 GB are not copied).

    The lake writes each part once, to a new name and by rename (``Lake.write``): the saved one never changes.
    """
    if source.endswith(".parquet"):
        try:
            os.link(source, target)
            return
        except OSError:  # another file system
            pass
    shutil.copy2(source, target)


def restore_night_state(lake_root: Path, home: Path, saved: Path, day: date) -> None:
    """Undo the night of D (``fresh_lake``), then put back the state and the warehouse ``keep_night_state`` copied."""
    fresh_lake(lake_root, home, day)
    shutil.rmtree(lake_root / "gold", ignore_errors=True)
    shutil.copytree(saved / "gold", lake_root / "gold", copy_function=_link_parquet)
    for file in saved.glob("warehouse.duckdb*"):
        shutil.copy2(file, home / file.name)


def incremental_nights(args: argparse.Namespace, env: dict[str, str], rec: Recorder, lake_root: Path, home: Path,
                       day: date, name: str, saved: Path | None = None) -> None:
    """The incremental night of D on the state the lake holds, ``--repeat`` times (that state restored before each).

    ``saved``: where that state is kept already (``--reuse-first-run``), left there; else it is copied
    for the repeats and removed after.
    """
    keep = saved is not None
    saved = saved or home.parent / "state-of-d-1"
    if args.repeat > 1 and not keep:
        keep_night_state(lake_root, home, saved)
    runs = []
    for run in range(args.repeat):
        if run:
            restore_night_state(lake_root, home, saved, day)
        label = name if args.repeat == 1 else f"{name} (run {run + 1} of {args.repeat})"
        silver = rec.run_fresh(label, env, day, args.max_rss_gb, args.queries)
        runs.append(rec.steps[-1])
        print(f"  silver: {silver}", flush=True)
    if args.repeat > 1:
        if not keep:
            shutil.rmtree(saved, ignore_errors=True)
        walls = [step.seconds for step in runs]
        cpus = [step.cpu_seconds or 0.0 for step in runs]
        print(f"  incremental night, {args.repeat} runs: wall fastest {min(walls):.2f} s, median "
              f"{statistics.median(walls):.2f} s, slowest {max(walls):.2f} s; CPU median {statistics.median(cpus):.2f} s",
              flush=True)


def reusable_first_run(env: dict[str, str], home: Path, day: date, *, steady: bool) -> tuple[Path, dict, bool]:
    """``--reuse-first-run``: the folder of the kept state of D - 1, what it must have been made by, and whether it was.

    A state is reused under the same kohde ``code_version`` (as a nightly run reuses its state after
    an upgrade), the same settings and the same day; the history under ``--keep`` is checked by its
    own marker. ``steady``: the state holds the segment labels of D - 30 (``keep_migration_labels``).
    """
    saved = home.parent / "state-of-d-1"
    wanted = {"code": code_version(), "env": env, "day": day.isoformat(), "labels of D - 30": steady}
    marker = saved / "made-by.json"
    return saved, wanted, marker.exists() and json.loads(marker.read_text()) == wanted


def keep_migration_labels(lake_root: Path, settings: Settings, day: date) -> float:
    """Keep the segment labels of D - 30 in the lake's state of D - 1, as the night of D - 30 would have; its seconds.

    A steady night of D reads the labels of D - 30 from the state (the night of D - 30 kept them).
    A first run of D - 1 keeps those of D - 31 and D - 1 only, so the night after it, like each of
    the 30 after a first run, segments the customers as of D - 30 on the state's base first (63 s of
    the large night's 450, 5 s of medium's 38). Computed here as that night computes them
    (``gold.open_silver``: on the base, with the files since as its increment), not measured,
    unless ``--after-first-run`` asks for the night that follows a first run instead.
    """
    started = time.perf_counter()
    lake = Lake(lake_root)
    state, why = read_state(lake)
    if state is None:
        raise SystemExit(f"no state to keep the labels of D - 30 in: {why}")
    compared_to = day - timedelta(days=MIGRATION_LAG_DAYS)
    if state.base is None or state.base.as_of > compared_to:
        raise SystemExit(f"the state of {state.as_of} keeps no base on or before {compared_to} to segment on")
    increment = plan_increment(lake, compared_to, state.base, {})
    if isinstance(increment, str):
        raise SystemExit(f"the segments of {compared_to} cannot be built on the state's base: {increment}")
    silver = gold.Silver(lake, compared_to, increment)
    with tempfile.TemporaryDirectory(dir=lake_root) as work:
        silver.work = Path(work)
        labels = segment_labels_of(gold._segments_from_silver(
            silver, compared_to, settings, gold.segment_rules(settings), gold.channel_rules(settings)))
        path = f"gold/labels/{state.state_id}/{compared_to.isoformat()}.parquet"
        lake.write_lazy(lake_root / path, labels, STATE_COMPRESSION)
    fingerprint = gold.SegmentLabels(lake, settings, {}, state.as_of).fingerprint(compared_to)
    labelled = {**state.labels, compared_to.isoformat(): LabelState(path, fingerprint)}
    publish_state(lake, replace(state, labels=labelled))
    return time.perf_counter() - started


def rollback_day(lake_root: Path, day: date) -> None:
    """Remove everything ingest wrote for ``day`` (clean, raw, landing, quarantine, its manifest entries and index rows)."""
    stamp = f"extract_date={day.isoformat()}"
    shas = {p.stem for p in (lake_root / "clean").glob(f"*/{stamp}/*.parquet")}
    shas |= {p.name.split("__")[0] for p in (lake_root / "landing").glob(f"*/{stamp}/*")}
    for zone in ("clean", "raw", "landing", "quarantine"):
        for folder in (lake_root / zone).glob(f"*/{stamp}"):
            shutil.rmtree(folder)
    for sha in shas:
        (lake_root / "manifest" / f"{sha}.json").unlink(missing_ok=True)
    Lake(lake_root).manifest_index()  # the index follows the removed entries here, not inside the measured run
    drop_state(Lake(lake_root))  # a state of the day would cover the files just removed


def nightly_runs(args: argparse.Namespace, env: dict[str, str], settings: Settings, rec: Recorder, lake_root: Path,
                 home: Path, day: date) -> None:
    """The nightly run end to end: a first run (no state), a full rebuild, then an incremental one on the state of D - 1.

    The first run builds the state ``KOHDE_FIRST_RUN_MONTHS`` (3) months at a time, then runs the
    night on it (``gold.first_run_steps``); the full rebuild (``KOHDE_FIRST_RUN_MONTHS=off``) reads
    the whole history at once, as every first run did before. With ``--no-full-rebuild`` the first
    run is the night of D - 1 (the lake's newest day before D's ingest), and the incremental night
    of D runs on the state it leaves: one first run instead of two (the large scale's takes most
    of an hour).

    Each measured night runs in a fresh process (``Recorder.run_fresh``), as a scheduled night does: its peak is
    its own, not what the steps before left in this process.
    """
    months = f"KOHDE_FIRST_RUN_MONTHS={env.get('KOHDE_FIRST_RUN_MONTHS', '3')}"
    if args.no_full_rebuild:
        saved: Path | None = None
        wanted: dict[str, Any] = {}
        reuse = False
        if args.reuse_first_run:
            saved, wanted, reuse = reusable_first_run(env, home, day, steady=not args.after_first_run)
        if reuse:
            restore_night_state(lake_root, home, saved, day)
            print(f"  first run not run: its state of D - 1 restored from {saved} (--reuse-first-run)", flush=True)
        else:
            fresh_lake(lake_root, home, day)
            before = day - timedelta(days=1)
            silver = rec.run_fresh(f"nightly run end to end, first run (no state, {months}): run_range(D - 1, D - 1)",
                                   env, before, args.max_rss_gb, args.queries)
            print(f"  silver: {silver}", flush=True)
            if not args.after_first_run:
                seconds = keep_migration_labels(lake_root, settings, day)
                print(f"  the segment labels of D - 30 kept in the state of D - 1, as the night of D - 30 keeps them "
                      f"(not measured): {seconds:.1f} s", flush=True)
            if saved is not None:
                keep_night_state(lake_root, home, saved)
                (saved / "made-by.json").write_text(json.dumps(wanted))
        if not args.no_incremental:  # the night of D on the state the first run of D - 1 left
            incremental_nights(args, env, rec, lake_root, home, day,
                               "nightly run end to end, incremental: run_range(D, D) on the state of D - 1", saved)
        return
    fresh_lake(lake_root, home, day)
    silver = rec.run_fresh(f"nightly run end to end, first run (no state, {months}): run_range(D, D)", env, day,
                           args.max_rss_gb, args.queries)
    print(f"  silver: {silver}", flush=True)
    fresh_lake(lake_root, home, day)
    silver = rec.run_fresh("nightly run end to end, full rebuild (KOHDE_FIRST_RUN_MONTHS=off): run_range(D, D)",
                           {**env, "KOHDE_FIRST_RUN_MONTHS": "off"}, day, args.max_rss_gb, args.queries)
    print(f"  silver: {silver}", flush=True)
    if not args.no_incremental:
        # not measured: the state the measured night starts from, as the nights before leave it. A run of
        # D - 30 on the lake up to D - 1 leaves the state of D - 1 with the segment labels of D - 30, which
        # the night of D compares with (the nightly runs of D - 30 .. D - 1 would leave the same). That run
        # reads the whole history (a run of an earlier date)
        fresh_lake(lake_root, home, day)
        run_range(settings, day - timedelta(days=MIGRATION_LAG_DAYS), day - timedelta(days=MIGRATION_LAG_DAYS))
        incremental_nights(args, env, rec, lake_root, home, day,
                           "nightly run end to end, incremental: run_range(D, D) on the state of D - 1")


def main() -> int:
    """Generate (or reuse) the data, measure every step, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--customers", type=int, help="override: customers (touchpoints and orders scale with them)")
    parser.add_argument("--days", type=int,
                        help="override: days of history, the same customers (touchpoints and orders per day kept)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="keep the lake and inbox here (and reuse the history if present)")
    parser.add_argument("--profile", type=Path, help="also run the nightly run under cProfile, stats to this file")
    parser.add_argument("--no-references", action="store_true")
    parser.add_argument("--references-only", action="store_true",
                        help="only ingest and the per-table kohde / DuckDB pairs (for scales whose nightly run does not fit)")
    parser.add_argument("--max-rss-gb", type=float, default=16.0)
    parser.add_argument("--no-full-rebuild", action="store_true",
                        help="skip the full rebuild (KOHDE_FIRST_RUN_MONTHS=off), which the large scale's memory does not fit; "
                             "the first run is then the night of D - 1 and the incremental night of D runs on its state")
    parser.add_argument("--first-run-months", help="KOHDE_FIRST_RUN_MONTHS of the first run (default: the setting's)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the incremental night this many times on the same state of D - 1 (fastest, median, "
                             "slowest): one run's wall time varies by a third or more on a shared machine")
    parser.add_argument("--no-incremental", action="store_true",
                        help="skip the second end-to-end run (incremental, on the state the night before leaves)")
    parser.add_argument("--nightly-only", action="store_true",
                        help="only ingest and the end-to-end nightly runs (full, then incremental), no per-step table")
    parser.add_argument("--models", help="KOHDE_ATTRIBUTION_MODELS for the run (default: all ten)")
    parser.add_argument("--generate-only", action="store_true",
                        help="write (or reuse) the history and the new day's inbox under --keep, measure nothing")
    parser.add_argument("--json", type=Path, help="write the measured steps as JSON here")
    parser.add_argument("--reuse-first-run", action="store_true",
                        help="with --no-full-rebuild: keep the first run's state of D - 1 and its warehouse under --keep, "
                             "and start from them instead of running the first run again when an earlier invocation "
                             "left them (same kohde code_version, settings and day): the night alone, measured again "
                             "after a change to it")
    parser.add_argument("--after-first-run", action="store_true",
                        help="with --no-full-rebuild: measure the night right after the first run, which (like the 30 "
                             "after a first run) segments the customers as of D - 30 on the state's base, instead of a "
                             "steady night, which reads their labels from the state (the night of D - 30 kept them)")
    parser.add_argument("--queries", action="store_true",
                        help="in each end-to-end night, time every polars query and warehouse insert where kohde starts "
                             "it, print those of 0.5 s or more as they end and the costliest sites after the night "
                             "(bench/queries.py)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")
    if args.reuse_first_run and not args.no_full_rebuild:
        parser.error("--reuse-first-run needs --no-full-rebuild (the first run it keeps is the night of D - 1)")
    watchdog(args.max_rss_gb)
    scale = SCALES[args.scale]
    if args.customers:
        factor = args.customers / scale.customers
        scale = Scale(args.customers, int(scale.touchpoints * factor), int(scale.orders * factor), scale.days)
    if args.days:  # a shorter or longer history of the same customers: what the night's cost does with history
        factor = args.days / scale.days
        scale = Scale(scale.customers, int(scale.touchpoints * factor), int(scale.orders * factor), args.days)
    day = START + timedelta(days=scale.days)  # the new day, after the history's last day
    root = args.keep or Path(tempfile.mkdtemp(prefix="kohde-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    home, inbox = root / "home", root / "inbox"
    env = {"KOHDE_HOME": str(home), "KOHDE_INBOX": str(inbox), "KOHDE_ATTRIBUTION_MODELS": args.models or ""}
    if args.first_run_months:
        env["KOHDE_FIRST_RUN_MONTHS"] = args.first_run_months
    settings = Settings.from_env(env)
    lake_root = Path(settings.lake)
    marker = root / "history.json"
    wanted = {"scale": scale.__dict__, "seed": args.seed, "start": START.isoformat()}
    load = os.getloadavg()
    print(f"kohde scale benchmark: {args.scale} {scale}, new day {day}, root {root}")
    print(f"machine: {os.cpu_count()} cores, python {platform.python_version()}, polars {pl.__version__}, "
          f"duckdb {duckdb.__version__}, load average at start {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}", flush=True)

    import great_expectations  # noqa: F401  (the nightly process imports it once; not ingest work)

    generation: dict[str, Any] = {}
    if marker.exists() and json.loads(marker.read_text()).get("wanted") == wanted:
        generation = json.loads(marker.read_text())
        rollback_day(lake_root, day)
        print(f"reusing history in {root}", flush=True)
    else:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(inbox, ignore_errors=True)
        (written, generator), seconds = timed(lambda: write_history(lake_root, scale, START, args.seed))
        new_day, new_seconds = timed(lambda: write_new_day(inbox, generator, day, args.seed))
        generation = {"wanted": wanted, "history_seconds": seconds, "rows": written.rows, "files": written.files,
                      "new_day_seconds": new_seconds, "new_day_lines": new_day}
        marker.write_text(json.dumps(generation, indent=1))
    size = sum(p.stat().st_size for p in (lake_root / "clean").rglob("*.parquet")) / 1e6
    inbox_mb = sum(p.stat().st_size for p in inbox.rglob("*") if p.is_file()) / 1e6
    print(f"history: {generation['rows']} rows, {sum(generation['files'].values()):,} files, {size:,.0f} MB Parquet, "
          f"written in {generation['history_seconds']:.0f} s")
    print(f"new day inbox: {generation['new_day_lines']} data lines, {inbox_mb:.1f} MB", flush=True)
    if args.generate_only:
        return 0

    rec = Recorder()
    cpu = time.process_time()
    floor_rows, floor_seconds = read_floor(inbox)
    floor_cpu = time.process_time() - cpu
    rec.run("ingest + validate (GX) of the new day", lambda: ingest_range(settings, day, day),
                      rows=lambda r: sum(f.rows_read for f in r))
    rec.reference("ingest + validate (GX) of the new day", "polars.read_csv as text", floor_seconds, floor_cpu)
    if args.references_only:
        agreement = duckdb_references(rec, root, lake_root / "clean", day, settings)
        report_table(args, scale, rec, agreement, generation, load)
        return 0
    if args.nightly_only:
        nightly_runs(args, env, settings, rec, lake_root, home, day)
        report_table(args, scale, rec, {}, generation, load)
        return 0
    lake = Lake(settings.lake)
    frames: dict[str, pl.DataFrame] = {}
    for entity in gold.Silver.ENTITIES:
        frames[entity] = rec.run(f"read silver: {entity}", lambda e=entity: gold.Silver.read(lake, e, day))
    silver = gold.Silver.from_frames(frames)
    del frames  # Silver lets go of an entity's extractions once they are versioned, as in the nightly run
    current = current_steps(rec, silver, day, settings)
    snapshots = snapshot_steps(rec, silver, day, settings, current)
    current.pop("_segments")
    # as gold.build_snapshots concatenates: one date here
    loads = [TableLoad(name, stable_floats(frame), "all") for name, frame in current.items()]
    loads += [TableLoad(name, stable_floats(frame), {"as_of_date": [day]}) for name, frame in snapshots.items()]
    bench_db = root / "bench.duckdb"
    bench_db.unlink(missing_ok=True)
    with Warehouse.connect(f"duckdb:///{bench_db}") as warehouse:
        warehouse.upgrade()
        rec.run("load (DuckDB, Warehouse.load)", lambda: warehouse.load(loads), rows=lambda r: sum(r.values()))
    native_db = root / "native.duckdb"
    native_db.unlink(missing_ok=True)
    cpu = time.process_time()
    native = native_load({ld.table: ld.data for ld in loads}, root)
    native_cpu = time.process_time() - cpu
    native_db.unlink(missing_ok=True)
    rec.reference("load (DuckDB, Warehouse.load)", "DuckDB Arrow CREATE TABLE AS", native, native_cpu)
    for held in (current, snapshots):  # free the run's frames before the end-to-end run
        held.clear()
    loads.clear()
    del silver

    agreement = {} if args.no_references else duckdb_references(rec, root, lake_root / "clean", day, settings)
    nightly_runs(args, env, settings, rec, lake_root, home, day)
    if args.profile:
        rollback_day(lake_root, day)
        for file in home.glob("warehouse.duckdb*"):
            file.unlink()
        profiler = cProfile.Profile()
        profiler.enable()
        run_range(settings, day, day)
        profiler.disable()
        profiler.dump_stats(args.profile)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    report_table(args, scale, rec, agreement, generation, load)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


def report_table(args: argparse.Namespace, scale: Scale, rec: Recorder, agreement: dict[str, str],
                 generation: dict[str, Any], load: tuple[float, float, float]) -> None:
    """Print the Markdown table (and write the JSON)."""
    load_end = os.getloadavg()
    print()
    print(f"Scale {args.scale}: {scale.customers:,} customers, {scale.touchpoints:,} touchpoints, {scale.orders:,} "
          f"orders over {scale.days} days; load average {load[0]:.1f} at start, {load_end[0]:.1f} at end")
    print("| step | wall s | CPU s | rows out | rows/s (wall) | step peak RSS MB | reference | kohde / reference |")
    print("|---|---|---|---|---|---|---|---|")
    for step in rec.steps:
        print(step.markdown())
    print(f"reference agreement: {agreement}")
    if args.json:
        args.json.write_text(json.dumps({"scale": args.scale, "sizes": scale.__dict__, "generation": generation,
                                         "load_start": load, "load_end": load_end, "agreement": agreement,
                                         "steps": [s.__dict__ for s in rec.steps]}, indent=1, default=str))


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip finalisation: duckdb's nanobind leak report after GX, as in pipeline.cli.entry
