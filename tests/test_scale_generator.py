"""The scale benchmark's history generator writes a clean zone the pipeline reads like an ingested one."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scale_data import Scale, write_history, write_new_day  # noqa: E402
from pipeline.entities import BUSINESS_KEYS, ENTITIES, LINEAGE  # noqa: E402
from pipeline.gold import Silver, build_current  # noqa: E402
from pipeline.lake import Lake  # noqa: E402
from pipeline.settings import Settings  # noqa: E402

START = date(2025, 9, 1)
SCALE = Scale(customers=500, touchpoints=10_000, orders=1_500, days=61)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("scale")
    written, generator = write_history(root / "home" / "lake", SCALE, START, seed=3)
    return root, (written, generator)


def test_every_file_has_the_ingest_schema_and_a_manifest_entry(generated: tuple[Path, object]) -> None:
    root, _ = generated
    lake = root / "home" / "lake"
    files = sorted((lake / "clean").glob("*/extract_date=*/*.parquet"))
    assert {f.parts[-3] for f in files} == set(ENTITIES)
    for file in files:
        entity = file.parts[-3]
        frame = pl.read_parquet(file)
        assert frame.schema == pl.Schema({**ENTITIES[entity], **LINEAGE}), file
        assert frame["extract_date"].unique().to_list() == [date.fromisoformat(file.parent.name.split("=")[1])]
        assert frame["file_sha256"].unique().to_list() == [file.stem]
        assert frame["row_number"].is_unique().all()
        # duplicates of a business key inside one extraction would be conflicts the ingest path rejects
        assert frame.select(BUSINESS_KEYS[entity]).is_unique().all(), file
        entry = json.loads((lake / "manifest" / f"{file.stem}.json").read_text())
        assert entry["entity"] == entity and entry["rows_loaded"] == frame.height
    assert len(list((lake / "manifest").glob("*.json"))) == len(files)


def test_row_counts_match_the_requested_scale(generated: tuple[Path, object]) -> None:
    root, (written, _) = generated
    lake = Lake(root / "home" / "lake")
    end = START + timedelta(days=SCALE.days - 1)
    contacts = lake.clean("contact", end).collect()
    assert contacts["customer_id"].n_unique() == SCALE.customers
    # a contact is exported when created and again on its first order day, as a customer
    assert contacts.height == written.rows["contact"] > SCALE.customers
    touchpoints = lake.clean("touchpoint", end).collect()
    assert touchpoints["touchpoint_id"].is_unique().all()
    assert 0.85 * SCALE.touchpoints <= touchpoints.height <= 1.15 * SCALE.touchpoints
    orders = lake.clean("order", end).collect()
    # orders of journeys still open on the last day are not in the history: a few per cent over the
    # benchmark's three years (29,909 of 30,000 at small), up to a fifth over these two months
    assert 0.7 * SCALE.orders <= orders.height <= 1.1 * SCALE.orders
    assert set(orders["source_system"].unique()) == {"shopify", "stripe", "erp"}
    assert set(orders["customer_id"].unique()) <= set(contacts["customer_id"].unique())
    # every day of the history has touches, orders and every ad platform's export
    days = SCALE.days
    assert touchpoints["extract_date"].n_unique() == days
    ads = lake.clean("ad_daily", end).collect()
    assert ads.group_by("platform").agg(pl.col("extract_date").n_unique()).sort("platform")["extract_date"].to_list() == [
        days] * 4
    # Google restates the two days before each export's day
    google = ads.filter(pl.col("platform") == "google_ads")
    assert (google["extract_date"] - google["day"]).dt.total_days().unique().sort().to_list() == [0, 1, 2]
    assert lake.clean("deal", end).collect().height > 0
    assert lake.clean("budget", end).collect()["month"].n_unique() == 2  # September and October 2025


def test_silver_and_build_current_read_it(generated: tuple[Path, object]) -> None:
    root, _ = generated
    settings = Settings.from_env({"KOHDE_HOME": str(root / "home")})
    end = START + timedelta(days=SCALE.days - 1)
    silver = Silver(Lake(settings.lake), end)
    tables = {name: frame.lazy().collect() for name, frame in build_current(silver, end, settings).items()}
    orders = tables["fct_orders"]
    assert orders.height > 0.65 * SCALE.orders
    assert orders["net_revenue_eur"].null_count() == 0  # every currency has a rate
    assert orders.filter(pl.col("is_first_order"))["customer_id"].is_unique().all()
    assert tables["fct_touchpoints"].height == silver.as_of("touchpoint", end).collect().height
    attributed = tables["fct_attribution"].filter(pl.col("model") == "last_touch")
    # most revenue orders have a touch on their path (orders end journeys)
    assert (attributed["channel"] != "direct").mean() > 0.5
    assert tables["dim_customer"].height == SCALE.customers
    assert tables["mart_channel_roi"].filter(pl.col("spend_eur") > 0).height > 0


def test_a_block_without_rows_of_an_entity_is_skipped(tmp_path: Path) -> None:
    # 40 customers: some 28-day blocks have no deal at all
    written, _ = write_history(tmp_path / "lake", Scale(40, 800, 120, days=60), START, seed=1)
    assert written.rows["touchpoint"] > 0
    deal_days = {p.parent.name for p in (tmp_path / "lake" / "clean" / "deal").glob("*/*.parquet")}
    assert len(deal_days) < 60


def test_new_day_inbox_uses_the_demo_writers_and_history_customers(generated: tuple[Path, object]) -> None:
    root, (_, generator) = generated
    day = START + timedelta(days=SCALE.days)
    lines = write_new_day(root / "inbox", generator, day, seed=3)
    folders = {p.parent.name for p in (root / "inbox").glob(f"*/{day.isoformat()}")}
    assert {"crm_touchpoints", "crm_contacts", "google_ads", "meta_ads", "orders"} <= folders
    assert not list((root / "inbox").glob(f"*/{(day - timedelta(days=1)).isoformat()}"))
    assert lines["crm_touchpoints"] > 0
    events = (root / "inbox" / "crm_touchpoints" / day.isoformat() / f"marketing_events_{day.isoformat()}.csv").read_text()
    assert "@scale.example" in events  # touches of customers who are in the history


def test_steal_pct_is_the_share_of_steal_time_between_two_readings() -> None:
    from bench.scale import steal_pct

    assert steal_pct((10, 1_000), (40, 1_200)) == pytest.approx(15.0)  # 30 of 200 ticks
    assert steal_pct((10, 1_000), (10, 1_000)) is None  # no time passed
    assert steal_pct(None, (40, 1_200)) is None  # no /proc/stat


def test_machine_yardstick_times_its_work_and_leaves_no_file(tmp_path: Path) -> None:
    from bench.scale import machine_yardstick

    seconds, cpu = machine_yardstick(tmp_path)
    assert seconds > 0 and cpu > 0
    assert not list(tmp_path.iterdir())  # its Parquet file is removed


def history_and_new_day(tmp_path: Path, scale: Scale, *, seed: int, **env: str) -> tuple[Path, Settings, date]:
    """A history of ``scale`` in a home under tmp_path, the next day's inbox, and settings (linear model) for both."""
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    _, generator = write_history(home / "lake", scale, START, seed=seed)
    day = START + timedelta(days=scale.days)
    write_new_day(inbox, generator, day, seed=seed)
    settings = Settings.from_env({"KOHDE_HOME": str(home), "KOHDE_INBOX": str(inbox),
                                  "KOHDE_ATTRIBUTION_MODELS": "linear", **env})
    return home, settings, day


def test_a_night_repeated_on_the_restored_state_is_the_same_night(tmp_path: Path) -> None:
    # --repeat: the night of D, undone (its ingest, state and warehouse), then run again on the same state of D - 1
    import duckdb

    from bench.scale import keep_night_state, restore_night_state
    from pipeline.run import run_range

    home, settings, day = history_and_new_day(tmp_path, Scale(60, 1_200, 180, days=40), seed=5)
    lake = Path(settings.lake)
    run_range(settings, day - timedelta(days=1), day - timedelta(days=1))

    def warehouse_orders() -> int:
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
            row = con.execute("SELECT count(*) FROM fct_orders").fetchone()
            assert row is not None
            return int(row[0])

    def state_files() -> set[str]:
        return {str(p.relative_to(lake / "gold")) for p in (lake / "gold").rglob("*") if p.is_file()}

    before, state = warehouse_orders(), state_files()
    keep_night_state(lake, home, tmp_path / "saved")
    first = run_range(settings, day, day)
    assert first.silver is not None and first.silver.startswith("incremental")
    assert warehouse_orders() > before  # the new day's orders
    assert state_files() != state

    restore_night_state(lake, home, tmp_path / "saved", day)
    assert warehouse_orders() == before
    assert state_files() == state
    assert not list((lake / "clean").glob(f"*/extract_date={day.isoformat()}"))

    second = run_range(settings, day, day)
    assert second.silver == first.silver
    assert second.rows_loaded_per_table == first.rows_loaded_per_table
    assert [f.rows_read for f in second.files] == [f.rows_read for f in first.files]

    # the invariants the bench checks after each night: held; then broken in a copy, one order a rule
    from bench.scale import order_invariants

    assert order_invariants(home / "warehouse.duckdb") == {"first order": 0, "first order not revenue": 0,
                                                          "EUR amount": 0}
    broken = tmp_path / "broken.duckdb"
    shutil.copy(home / "warehouse.duckdb", broken)
    with duckdb.connect(str(broken)) as con:
        con.execute("""UPDATE fct_orders SET is_first_order = NOT is_first_order WHERE order_id = (
            SELECT min(order_id) FROM fct_orders WHERE is_revenue AND customer_id IS NOT NULL)""")
        con.execute("""UPDATE fct_orders SET net_revenue_eur = net_revenue_eur + 1 WHERE order_id = (
            SELECT min(order_id) FROM fct_orders WHERE currency_code = 'EUR')""")
    assert order_invariants(broken) == {"first order": 1, "first order not revenue": 0, "EUR amount": 1}


def test_a_first_run_is_reused_only_under_the_same_code_settings_and_day(tmp_path: Path) -> None:
    # --reuse-first-run: the kept state of D - 1 is started from only when the marker says it was made so
    from bench.scale import reusable_first_run
    from pipeline.incremental import code_version

    home, day = tmp_path / "home", date(2026, 10, 31)
    env = {"KOHDE_HOME": str(home), "KOHDE_ATTRIBUTION_MODELS": "linear"}
    saved, wanted, reuse = reusable_first_run(env, home, day, steady=True)
    assert saved == tmp_path / "state-of-d-1" and not reuse  # nothing kept yet
    assert wanted == {"code": code_version(), "env": env, "day": "2026-10-31", "labels of D - 30": True}
    saved.mkdir()
    (saved / "made-by.json").write_text(json.dumps(wanted))
    assert reusable_first_run(env, home, day, steady=True)[2]
    assert not reusable_first_run({**env, "KOHDE_FIRST_RUN_MONTHS": "1"}, home, day, steady=True)[2]
    assert not reusable_first_run(env, home, day + timedelta(days=1), steady=True)[2]
    # a state without the labels of D - 30 (--after-first-run) is not a steady night's, nor the other way round
    assert not reusable_first_run(env, home, day, steady=False)[2]
    (saved / "made-by.json").write_text(json.dumps({**wanted, "code": "0.0.0:{}"}))
    assert not reusable_first_run(env, home, day, steady=True)[2]


def test_traced_queries_are_timed_where_kohde_starts_them_and_the_trace_stops(tmp_path: Path) -> None:
    # bench/queries.py: a polars query at the kohde line that collects it, a warehouse insert by its table
    from bench.queries import trace
    from pipeline.gold import Silver
    from pipeline.warehouse import TableLoad, Warehouse

    collect, sink = pl.LazyFrame.collect, pl.LazyFrame.sink_parquet
    log = trace()
    try:
        silver = Silver.from_frames({})
        silver.work = tmp_path / "work"
        kept = silver.keep("fct_orders", pl.LazyFrame({"order_id": ["a", "b"]}))
        with Warehouse.connect(f"duckdb:///{tmp_path / 'w.duckdb'}") as warehouse:
            warehouse.upgrade()
            warehouse.load([TableLoad("dim_campaign", pl.DataFrame(schema={"campaign_id": pl.Utf8}), "all")])
        assert kept.collect().height == 2

        class Nested:  # a traced call made inside another of the same thread is part of it (PostgreSQL's batches)
            def outer(self) -> int:
                return self.inner()

            def inner(self) -> int:
                return 1

        log.wrap(Nested, "outer", lambda *_: "outer")
        log.wrap(Nested, "inner", lambda *_: "inner")
        assert Nested().outer() == 1 and Nested().inner() == 1
    finally:
        log.stop()
    sites = [query.site for query in log.queries]
    assert [site for site in sites if site in ("outer", "inner")] == ["outer", "inner"]  # inner alone, not inside outer
    # the sink inside Silver.keep, named by what it keeps (called from this test: no kohde caller after it)
    assert any(site.startswith("pipeline/gold.py:") and site.endswith(" keep[fct_orders]") for site in sites), sites
    assert "load dim_campaign" in sites
    assert all(query.seconds >= 0 and query.peak_mb > 0 for query in log.queries)
    assert (pl.LazyFrame.collect, pl.LazyFrame.sink_parquet) == (collect, sink)  # put back
    assert not log._sampling


def test_the_labels_of_d_minus_30_kept_by_the_bench_are_those_the_night_computes(tmp_path: Path) -> None:
    # keep_migration_labels: the night of D on the first run's state reads the labels of D - 30 from it (a steady
    # night) instead of segmenting the customers as of D - 30 on the state's base, and its migration is the same
    import duckdb

    from bench.scale import keep_migration_labels, keep_night_state, restore_night_state
    from pipeline.run import run_range

    home, settings, day = history_and_new_day(tmp_path, Scale(60, 1_500, 200, days=100), seed=6,
                                              KOHDE_FIRST_RUN_MONTHS="1")
    lake = Path(settings.lake)
    first = run_range(settings, day - timedelta(days=1), day - timedelta(days=1))
    assert first.silver is not None and first.silver.startswith("first run")
    keep_night_state(lake, home, tmp_path / "after-first-run")
    compared_to = day - timedelta(days=30)

    def migration() -> list[tuple]:
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
            return con.execute("SELECT * FROM mart_segment_migration WHERE as_of_date = ? ORDER BY ALL",
                               [day]).fetchall()

    after_first_run = run_range(settings, day, day)
    assert after_first_run.silver is not None
    assert f"the segments of {compared_to} on the state of" in after_first_run.silver
    expected = migration()
    assert expected  # customers moved between segments in 30 days

    restore_night_state(lake, home, tmp_path / "after-first-run", day)
    assert keep_migration_labels(lake, settings, day) > 0
    steady = run_range(settings, day, day)
    assert steady.silver is not None and f"the segments of {compared_to} from the state" in steady.silver
    assert migration() == expected
