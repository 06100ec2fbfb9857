"""End to end: demo exports -> nightly runs / backfill -> DuckDB warehouse, with the run's promises."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from pipeline.demo import generate_demo
from pipeline.errors import InputFileError
from pipeline.run import run_range
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse

START = date(2026, 8, 3)
DAYS = 6
END = START + timedelta(days=DAYS - 1)
DATA_TABLES = (
    "fct_orders", "fct_ad_spend_daily", "fct_touchpoints", "fct_attribution", "dim_customer", "dim_campaign",
    "mart_channel_roi", "mart_sales_costs", "mart_budget_vs_actual", "mart_campaign_lift", "mart_retargeting",
    "mart_customer_segments", "mart_segment_summary", "mart_goal_tracking", "mart_clv", "mart_clv_model", "mart_ltv_cac",
    "mart_intent_conversion", "mart_segment_migration", "mart_segment_quality", "mart_channel_reallocation",
    "mart_segment_economics",
    "ops_file_manifest", "ops_quarantine",
)


@pytest.fixture(scope="module")
def demo_inbox(tmp_path_factory) -> Path:
    inbox = tmp_path_factory.mktemp("demo") / "inbox"
    generate_demo(inbox, START, DAYS, 300, 11)
    return inbox


def _settings(home: Path, inbox: Path) -> Settings:
    return Settings.from_env({"KOHDE_HOME": str(home), "KOHDE_INBOX": str(inbox)})


def snapshot(settings: Settings) -> dict[str, pl.DataFrame]:
    """Every data table's rows, sorted on all columns, for content equality."""
    with Warehouse.connect(settings.warehouse_url) as warehouse:
        frames = {t: warehouse.query(f"SELECT * FROM {t}") for t in DATA_TABLES}
    return {t: f.sort(f.columns, nulls_last=True) for t, f in frames.items()}


def assert_same(left: dict[str, pl.DataFrame], right: dict[str, pl.DataFrame]) -> None:
    from polars.testing import assert_frame_equal

    for table in DATA_TABLES:
        try:
            assert_frame_equal(left[table], right[table], check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"{table}: {exc}") from None


@pytest.fixture(scope="module")
def nightly(tmp_path_factory, demo_inbox) -> Settings:
    settings = _settings(tmp_path_factory.mktemp("nightly"), demo_inbox)
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        run_range(settings, day, day)
    return settings


def test_nightly_runs_load_every_table_and_balance(nightly):
    tables = snapshot(nightly)
    for name in ("fct_orders", "fct_ad_spend_daily", "fct_touchpoints", "fct_attribution", "mart_channel_roi",
                 "mart_customer_segments", "mart_goal_tracking"):
        assert tables[name].height > 0, name
    with Warehouse.connect(nightly.warehouse_url) as warehouse:
        runs = warehouse.query("SELECT * FROM ops_runs ORDER BY start_date")
    assert runs["status"].to_list() == ["succeeded"] * DAYS
    assert (runs["rows_read"] == runs["rows_loaded"] + runs["rows_quarantined"] + runs["rows_duplicate"]).all()
    assert sorted(tables["mart_customer_segments"]["as_of_date"].unique().to_list()) == [
        START + timedelta(days=i) for i in range(DAYS)]


def test_every_attribution_model_reaches_roi_and_the_comparison_view(nightly):
    from pipeline.gold import ATTRIBUTION_MODELS

    with Warehouse.connect(nightly.warehouse_url) as warehouse:
        models = {
            table: set(warehouse.query(f"SELECT DISTINCT model FROM {table}")["model"].to_list())
            for table in ("fct_attribution", "mart_channel_roi", "v_attribution_model_comparison")
        }
        shares = warehouse.query("SELECT model, SUM(share_pct) AS total FROM v_attribution_model_comparison GROUP BY model")
    assert models == {table: set(ATTRIBUTION_MODELS) for table in models}
    assert shares["total"].to_list() == pytest.approx([100.0] * len(ATTRIBUTION_MODELS))


def test_rerun_of_the_same_date_leaves_the_warehouse_equal(nightly):
    before = snapshot(nightly)
    report = run_range(nightly, END, END)
    assert report.totals()["files_read"] == 0  # same bytes: no-op
    assert_same(before, snapshot(nightly))


def test_rerun_of_an_older_date_keeps_the_newer_facts(nightly):
    before = snapshot(nightly)
    assert before["fct_orders"]["order_date"].max() == END
    run_range(nightly, START, START)  # e.g. an analyst re-running the first day
    assert_same(before, snapshot(nightly))


def test_backfill_equals_nightly_runs(tmp_path, demo_inbox, nightly):
    settings = _settings(tmp_path, demo_inbox)
    run_range(settings, START, END, command="backfill")
    assert_same(snapshot(nightly), snapshot(settings))


def test_bad_file_fails_the_run_and_leaves_the_warehouse_as_it_was(tmp_path, demo_inbox):
    inbox = tmp_path / "inbox"
    shutil.copytree(demo_inbox, inbox)
    settings = _settings(tmp_path / "home", inbox)
    run_range(settings, START, START)
    before = snapshot(settings)
    bad_day = START + timedelta(days=1)
    (inbox / "meta_ads" / bad_day.isoformat() / "broken.csv").write_bytes(b"")
    with pytest.raises(InputFileError, match="empty file"):
        run_range(settings, bad_day, bad_day)
    assert_same(before, snapshot(settings))
    with Warehouse.connect(settings.warehouse_url) as warehouse:
        statuses = warehouse.query("SELECT status, error FROM ops_runs ORDER BY started_at")
    assert statuses["status"].to_list() == ["succeeded", "failed"]
    assert "broken.csv: empty file" in statuses["error"][1]
