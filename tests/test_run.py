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


def assert_same(left: dict[str, pl.DataFrame], right: dict[str, pl.DataFrame], tables: tuple[str, ...] = DATA_TABLES) -> None:
    from polars.testing import assert_frame_equal

    for table in tables:
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


def test_a_restated_day_changes_exactly_its_rows(tmp_path, demo_inbox):
    """An old day re-exported in the next day's file: the next run changes that day's row and nothing else older."""
    import csv
    import io

    inbox = tmp_path / "inbox"
    shutil.copytree(demo_inbox, inbox)
    settings = _settings(tmp_path / "home", inbox)
    for offset in range(DAYS - 1):
        day = START + timedelta(days=offset)
        run_range(settings, day, day)
    before = snapshot(settings)
    # The demo's Google export restates the two days before its own: give one campaign-day a new cost.
    (export,) = (inbox / "google_ads" / END.isoformat()).iterdir()
    restated = (END - timedelta(days=2)).isoformat()
    lines = export.read_bytes().decode("utf-8").split("\r\n")
    row = next(i for i, line in enumerate(lines) if line.startswith(restated + ","))
    cells = next(csv.reader([lines[row]]))
    campaign_id, cells[7] = cells[4], "999.99"
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    lines[row] = out.getvalue()
    export.write_bytes("\r\n".join(lines).encode("utf-8"))
    run_range(settings, END, END)
    after = snapshot(settings)

    spend_before, spend_after = before["fct_ad_spend_daily"], after["fct_ad_spend_daily"]
    # days the last day's files do not restate: every row as it was
    untouched = pl.col("day") < END - timedelta(days=2)
    assert spend_after.filter(untouched).equals(spend_before.filter(untouched))
    # the restated days: the other platforms' rows as they were (their last exports hold only their own day) ...
    restated_days = pl.col("day").is_between(END - timedelta(days=2), END - timedelta(days=1))
    others = restated_days & (pl.col("platform") != "google_ads")
    assert spend_after.filter(others).equals(spend_before.filter(others))
    assert spend_after.filter(restated_days).height == spend_before.filter(restated_days).height
    # ... and Google's as its newest export says: the new cost, the rest unchanged
    row_after = spend_after.filter((pl.col("day") == END - timedelta(days=2)) & (pl.col("campaign_id") == campaign_id))
    row_before = spend_before.filter((pl.col("day") == END - timedelta(days=2)) & (pl.col("campaign_id") == campaign_id))
    assert str(row_after["spend"].item()) == "999.9900" != str(row_before["spend"].item())
    assert row_after.drop("spend", "spend_eur").equals(row_before.drop("spend", "spend_eur"))
    # snapshots of earlier dates and the earlier files' accounting are not touched by the later run
    for table in ("mart_customer_segments", "mart_segment_summary", "mart_goal_tracking", "mart_clv", "mart_ltv_cac",
                  "mart_retargeting", "mart_segment_migration"):
        assert after[table].filter(pl.col("as_of_date") < END).equals(before[table]), table
    for table in ("ops_file_manifest", "ops_quarantine"):
        assert after[table].filter(pl.col("extract_date") < END).equals(before[table]), table


def test_a_run_closes_an_older_run_of_its_dates_that_never_ended(tmp_path, demo_inbox):
    """A killed run leaves a 'running' row; the next run of the same dates marks it interrupted, others stay."""
    from datetime import UTC, datetime

    from pipeline.run import RunReport, _record

    settings = _settings(tmp_path / "home", demo_inbox)
    killed = RunReport(run_id="airflow_killed", command="airflow", start=START, end=START)
    other_dates = RunReport(run_id="airflow_other", command="airflow", start=END, end=END)
    with Warehouse.connect(settings.warehouse_url) as warehouse:
        warehouse.upgrade()
        for stale in (killed, other_dates):
            _record(warehouse, stale, datetime(2026, 8, 1, tzinfo=UTC), None)
    report = run_range(settings, START, START)
    with Warehouse.connect(settings.warehouse_url) as warehouse:
        runs = {r["run_id"]: r for r in warehouse.query("SELECT run_id, status, error FROM ops_runs").to_dicts()}
    assert runs["airflow_killed"]["status"] == "interrupted"
    assert runs["airflow_killed"]["error"] == (
        f"interrupted: it never ended; run {report.run_id} of the same dates ran after it")
    assert runs["airflow_other"]["status"] == "running"  # another date's run may still be going
    assert runs[report.run_id]["status"] == "succeeded"


def test_the_current_facts_stand_in_for_the_snapshot_of_their_date(nightly):
    """The nightly run builds the facts, segments and attribution of its date once for both kinds of table:
    every snapshot table equals the one computed from silver alone (as loaded: floats to 9 decimals)."""
    from polars.testing import assert_frame_equal

    from pipeline.gold import Silver, build_facts, build_snapshots
    from pipeline.lake import Lake
    from pipeline.run import stable_floats

    silver = Silver(Lake(nightly.lake), END)
    alone = build_snapshots(silver, [END], nightly)
    shared = build_snapshots(silver, [END], nightly, build_facts(silver, END, nightly))
    assert alone.keys() == shared.keys()
    for table, frame in alone.items():  # lazy or not (the facts' CLV is kept in the work folder), the same rows
        assert_frame_equal(stable_floats(shared[table].lazy().collect()), stable_floats(frame.lazy().collect()),
                           check_exact=True)
    assert alone["mart_ltv_cac"].height > 0 and alone["mart_goal_tracking"].height > 0


def test_a_chosen_set_of_attribution_models_gives_the_same_rows_for_those_models(tmp_path, demo_inbox, nightly):
    """KOHDE_ATTRIBUTION_MODELS=linear: fct_attribution and mart_channel_roi get linear plus the first and last
    touch the snapshots and the report read, with the rows the default run gives those models; the snapshots
    are unchanged."""
    chosen = Settings.from_env({"KOHDE_HOME": str(tmp_path / "home"), "KOHDE_INBOX": str(demo_inbox),
                                "KOHDE_ATTRIBUTION_MODELS": "linear"})
    run_range(chosen, START, END, command="backfill")
    kept = ["first_touch", "last_touch", "linear"]
    ours, full = snapshot(chosen), snapshot(nightly)
    for table in ("fct_attribution", "mart_channel_roi"):
        assert sorted(ours[table]["model"].unique().to_list()) == kept, table
        assert_same({table: ours[table]}, {table: full[table].filter(pl.col("model").is_in(kept))}, (table,))
    assert_same(ours, full, ("mart_goal_tracking", "mart_ltv_cac", "mart_segment_summary", "fct_orders"))


def test_a_run_removes_its_work_folder_whether_it_loads_or_fails(tmp_path, demo_inbox, nightly, monkeypatch):
    # the nightly runs kept their per-customer tables in $KOHDE_HOME/work/<uuid>/ and removed them
    assert not (nightly.home / "work").exists()
    # a load that fails after the build: its folder goes too, and the warehouse is as it was
    import pipeline.run as run_module

    settings = _settings(tmp_path / "home", demo_inbox)
    run_range(settings, START, START)
    before = snapshot(settings)
    seen: list[list[Path]] = []

    def failing_load(*args, **kwargs):
        seen.append(sorted((settings.home / "work").rglob("*.parquet")))
        raise RuntimeError("the warehouse went away")

    monkeypatch.setattr(run_module, "_load", failing_load)
    with pytest.raises(RuntimeError, match="went away"):
        run_range(settings, START + timedelta(days=1), START + timedelta(days=1))
    assert {path.name.split("-")[0] for path in seen[0]} >= {"fct_orders", "mart_customer_segments", "dim_customer"}
    assert not (settings.home / "work").exists()
    assert_same(before, snapshot(settings))
