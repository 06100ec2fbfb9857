"""The incremental nightly run equals a full rebuild of the same lake, table by table, row for row.

One demo lake of 100 days. Home A first backfills the three dates 30 days before the last three
nights: a full rebuild that leaves the state, with the segment labels of those dates. Then it runs
the last three nights one by one, each starting from the state the one before left and taking the
segments of 30 days earlier from it. The last two nights carry
late and restated touches: a touch 70 days old arriving late, an old touch re-exported with
another channel, and an old touch whose time moved to yesterday (its old date must be rebuilt
too). Home B holds the same lake and rebuilds the last night in full (``KOHDE_INCREMENTAL=0``).
"""

from __future__ import annotations

import csv
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipeline import gold
from pipeline.demo import generate_demo
from pipeline.gold import Silver, build_facts, migration_base, open_silver
from pipeline.incremental import (
    DEAL_STAGE_COLUMNS,
    INCREMENTAL_ENTITIES,
    RECORD_ENTITIES,
    GoldState,
    LabelState,
    drop_state,
    parts_scan,
    read_state,
    scan_parts,
    state_path,
)
from pipeline.lake import Lake
from pipeline.run import ingest_range, run_range
from pipeline.settings import Settings
from pipeline.transforms.attribution import ORDER, RULE_BASED_MODELS
from pipeline.transforms.customer_orders import PURCHASE_COLUMNS
from tests.test_run import DATA_TABLES, assert_same, snapshot

START = date(2026, 5, 1)
DAYS = 100
END = START + timedelta(days=DAYS - 1)
SNAPSHOTS = ("mart_customer_segments", "mart_segment_summary", "mart_goal_tracking", "mart_clv", "mart_clv_model",
             "mart_ltv_cac", "mart_intent_conversion", "mart_segment_migration", "mart_segment_quality",
             "mart_retargeting")
TOUCH_HEADER = ["Event ID", "Contact Email", "Timestamp (UTC)", "Event Type", "Channel", "Platform", "Campaign ID",
                "UTM Source", "UTM Medium", "UTM Campaign"]


def _settings(home: Path, inbox: Path, **env: str) -> Settings:
    return Settings.from_env({"KOHDE_HOME": str(home), "KOHDE_INBOX": str(inbox), **env})


def _copy_of(nightly: Settings, home: Path, *, warehouse: bool = False, **env: str) -> tuple[Settings, Lake]:
    """A home with a copy of the nightly home's lake (and warehouse), its settings with ``env``, and its lake."""
    shutil.copytree(nightly.lake, home / "lake")
    if warehouse:
        shutil.copy(Path(nightly.warehouse_url.removeprefix("duckdb:///")), home / "warehouse.duckdb")
    settings = _settings(home, nightly.inbox, **env)
    return settings, Lake(settings.lake)


def _touches_of(inbox: Path, day: date) -> list[list[str]]:
    (export,) = (inbox / "crm_touchpoints" / day.isoformat()).iterdir()
    with export.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))[1:]


def _late_file(inbox: Path, day: date, rows: list[list[str]]) -> None:
    with (inbox / "crm_touchpoints" / day.isoformat() / "marketing_events_late.csv").open(
            "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TOUCH_HEADER)
        writer.writerows(rows)


def _a_contact_exported(inbox: Path, before: date) -> tuple[list[str], list[str]]:
    """The header and first row of the newest contacts export up to ``before`` that has a row."""
    for days in range((before - START).days + 1):
        for export in (inbox / "crm_contacts" / (before - timedelta(days=days)).isoformat()).iterdir():
            with export.open(encoding="utf-8", newline="") as handle:
                rows = list(csv.reader(handle))
            if len(rows) > 1:
                return rows[0], rows[1]
    raise AssertionError(f"no contact exported up to {before}")


def _a_won_deal_exported(inbox: Path, before: date) -> tuple[list[str], list[str]]:
    """The header and the closed-won row of the newest deals export up to ``before`` that has one."""
    for days in range((before - START).days + 1):
        for export in (inbox / "crm_deals" / (before - timedelta(days=days)).isoformat()).iterdir():
            with export.open(encoding="utf-8", newline="") as handle:
                header, *rows = list(csv.reader(handle))
            for row in rows:
                if row[header.index("Deal Stage")] == "Closed won":
                    return header, row
    raise AssertionError(f"no won deal exported up to {before}")


def _a_paid_order_exported(inbox: Path, before: date) -> tuple[str, datetime]:
    """The e-mail and UTC time of the first paid Shopify order of the newest export up to ``before`` that has one."""
    for days in range((before - START).days + 1):
        for export in (inbox / "orders" / (before - timedelta(days=days)).isoformat()).glob("orders_export_*.csv"):
            with export.open(encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    if row["Financial Status"] == "paid" and row["Email"]:
                        created = datetime.strptime(row["Created at"], "%Y-%m-%d %H:%M:%S %z")
                        return row["Email"], created.astimezone(UTC)
    raise AssertionError(f"no paid order exported up to {before}")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Settings, Settings, list[str]]:
    root = tmp_path_factory.mktemp("incremental")
    inbox = root / "inbox"
    generate_demo(inbox, START, DAYS, 300, 11)
    # late and restated touches in the last two nights' inboxes
    late = _touches_of(inbox, END - timedelta(days=70))[0]
    late[0], late[2] = "ev_late_0001", late[2].replace((END - timedelta(days=70)).isoformat(),
                                                       (END - timedelta(days=69)).isoformat())
    restated = _touches_of(inbox, END - timedelta(days=60))[0]
    restated[4] = "email" if restated[4] != "email" else "organic_social"
    # a touch arriving late, a day before a paid order of some 20 days earlier, for that order's customer
    email, ordered_at = _a_paid_order_exported(inbox, END - timedelta(days=20))
    before_order = [*late]
    before_order[:3] = ["ev_late_0002", email, f"{(ordered_at - timedelta(days=1)):%Y-%m-%dT%H:%M:%SZ}"]
    _late_file(inbox, END - timedelta(days=1), [late, restated, before_order])
    moved = _touches_of(inbox, END - timedelta(days=80))[0]
    moved[2] = f"{(END - timedelta(days=1)).isoformat()}T12:00:00Z"
    _late_file(inbox, END, [moved])
    # a contact of some 50 days earlier re-exported on the last night with a company: its record is replaced
    header, contact = _a_contact_exported(inbox, END - timedelta(days=50))
    contact[header.index("Company Name")], contact[header.index("Number of Employees")] = "Kohde Oy", "250"
    contact[header.index("Industry")] = "Retail"
    contact[header.index("Last Modified Date")] = f"{END.isoformat()} 09:00"
    with (inbox / "crm_contacts" / END.isoformat() / "hubspot-crm-exports-contact-update.csv").open(
            "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, contact])

    # a deal won some days earlier re-exported on the last night with its amount restated: its credit is redone
    header, deal = _a_won_deal_exported(inbox, END - timedelta(days=3))
    deal[header.index("Amount")] = str(int(deal[header.index("Amount")]) + 1000)
    with (inbox / "crm_deals" / END.isoformat() / "hubspot-crm-exports-all-deals-restated.csv").open(
            "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, deal])

    nightly = _settings(root / "a", inbox)
    ingest_range(nightly, START, END - timedelta(days=3))
    backfill = run_range(nightly, END - timedelta(days=32), END - timedelta(days=30)).silver
    full = _settings(root / "b", inbox, KOHDE_INCREMENTAL="0")
    shutil.copytree(nightly.lake, full.lake)
    how = [run_range(nightly, day, day).silver for day in (END - timedelta(days=2), END - timedelta(days=1), END)]
    ingest_range(full, END - timedelta(days=2), END - timedelta(days=1))
    run_range(full, END, END)
    return nightly, full, [backfill, *how]


def test_the_nightly_runs_start_from_the_state_with_the_windows_of_their_late_touches(runs):
    _, _, how = runs
    assert how[0] == "full: a backfill or a run of a date before the lake's newest"
    for night, (day, text) in enumerate(zip((END - timedelta(days=2 - n) for n in range(3)), how[1:], strict=True)):
        assert text.startswith(f"incremental on the state of {day - timedelta(days=1)}: "), night
        # the segments of 30 days earlier are those the backfill kept
        assert f"; the segments of {day - timedelta(days=30)} from the state" in text, night
    assert f"touchpoint from {END - timedelta(days=69)}" in how[2]  # the late touch
    assert f"touchpoint from {END - timedelta(days=80)}" in how[3]  # the moved touch's old date
    for night in how[1:]:  # the CRM records from the state too, with the new files' rows
        assert ", contact and deal from the state with " in night


def test_a_late_touch_rebuilds_the_credit_of_its_customers_later_orders_only(runs):
    nightly, full, how = runs
    # the late touch before a paid order of some 20 days earlier (the fixture's): that customer's orders from then
    # on are rebuilt, not every order from that day on (which a date window would rebuild)
    rebuilt = re.search(r"; ([\d,]+) orders' credit rebuilt \(the first dated (\d{4}-\d\d-\d\d)\)", how[2])
    assert rebuilt is not None, how[2]
    count, first = int(rebuilt.group(1).replace(",", "")), date.fromisoformat(rebuilt.group(2))
    orders = _of_the_last_night(full)["fct_orders"]
    assert END - timedelta(days=40) <= first <= END - timedelta(days=10)
    since_first = orders.filter(pl.col("is_revenue") & (pl.col("order_date") >= first) & (pl.col("order_date") < END))
    assert 1 <= count <= 3 < since_first.height
    for night in how[1:]:  # the CRM records from the state too, with the new files' rows
        assert ", contact and deal from the state with " in night


def _of_the_last_night(settings: Settings) -> dict[str, pl.DataFrame]:
    """Every table of a home's warehouse; of the snapshot and ops tables, the rows of the last night (END)."""
    tables = snapshot(settings)
    keep = {name: pl.col("as_of_date") == END for name in SNAPSHOTS}
    keep |= {"ops_file_manifest": pl.col("extract_date") == END, "ops_quarantine": pl.col("extract_date") == END}
    return {name: frame.filter(keep[name]) if name in keep else frame for name, frame in tables.items()}


def test_incremental_nightly_runs_equal_a_full_rebuild(runs):
    nightly, full, _ = runs
    left, right = _of_the_last_night(nightly), _of_the_last_night(full)
    assert left["fct_touchpoints"].height > 1000
    # the contact re-exported on the last night carries its new company in both
    assert left["dim_customer"].filter(pl.col("company") == "Kohde Oy").height == 1
    # the won deal restated on the last night is credited with its new amount under every model in both
    with next((nightly.inbox / "crm_deals" / END.isoformat()).glob("*-restated.csv")).open(encoding="utf-8") as handle:
        (restated,) = list(csv.DictReader(handle))
    won = left["fct_attribution"].filter(pl.col("order_id") == restated["Record ID"])
    assert won["conversion_type"].unique().to_list() == ["won_deal"]
    assert won.group_by("model").agg(pl.col("revenue_eur").sum())["revenue_eur"].unique().to_list() == [
        Decimal(restated["Amount"])]
    assert_same(left, right, DATA_TABLES)


def test_the_state_holds_the_truth_a_full_read_gives(runs):
    nightly, _, _ = runs
    lake = Lake(nightly.lake)
    state, _ = read_state(lake)
    assert state is not None and state.as_of == END
    silver = Silver(lake, END)
    for entity in INCREMENTAL_ENTITIES:
        truth = silver.truth(entity)
        held = parts_scan(lake, entity, state.entities[entity]).select(truth.columns).collect()
        assert_same({entity: held.sort(truth.columns, nulls_last=True)},
                    {entity: truth.sort(truth.columns, nulls_last=True)}, (entity,))
    # the CRM records: a base and a layer per night, whose newest rows per key are a full read's truth, in its order
    incremental, _ = open_silver(lake, END, [END], nightly)
    for entity in RECORD_ENTITIES:
        assert len(state.records[entity].layers) == 4  # the backfill's base and the three nights' layers
        truth = silver.as_of(entity, END).collect()
        assert_same({entity: incremental.truth(entity)}, {entity: truth}, (entity,))
    stages = [pl.col(c) for c in DEAL_STAGE_COLUMNS]
    assert_same({"stages": incremental.history("deal", END).select(stages).unique().sort(stages, nulls_last=True).collect()},
                {"stages": silver.history("deal", END).select(stages).unique().sort(stages, nulls_last=True).collect()},
                ("stages",))
    # only the parts the state reads are left in the lake
    written = {str(p.relative_to(lake.root)) for p in (lake.root / "gold" / "truth").rglob("*.parquet")}
    assert written == {path for e in state.entities.values() for path in e.parts.values()}
    # the segment labels of 30 days before the state's date and later, that the runs computed
    kept = [END - timedelta(days=30), *(END - timedelta(days=n) for n in (3, 2, 1, 0))]
    assert sorted(state.labels) == [day.isoformat() for day in kept]
    written = {str(p.relative_to(lake.root)) for p in (lake.root / "gold" / "labels").rglob("*.parquet")}
    assert written == {label.path for label in state.labels.values()}
    # the rule-based order rows kept for the next night: those of a full build, in its row order too (float
    # sums over them follow it), though each night appended its rebuilt days to the kept ones unsorted
    full = build_facts(silver, END, nightly).attribution.lazy().collect()  # lazy: kept in the work folder when the run has one
    rule = full.filter((pl.col("conversion_type") == ORDER) & pl.col("model").is_in(RULE_BASED_MODELS))
    assert state.derived is not None and rule.height > 1000
    kept = scan_parts(lake, state.derived.attribution).select(rule.columns).collect()
    assert_same({"kept": kept}, {"kept": rule}, ("kept",))
    assert full["conversion_type"].to_list() == sorted(full["conversion_type"].to_list())
    # what the warehouse's dim_customer holds, by key, for the next night's load
    assert sorted(state.loaded) == ["dim_customer"]
    hashes = pl.read_parquet(lake.root / state.loaded["dim_customer"].path)
    assert hashes.columns == ["customer_id", "_row_hash"]
    assert hashes.height == snapshot(nightly)["dim_customer"].height
    written = {str(p.relative_to(lake.root)) for p in (lake.root / "gold" / "loaded").rglob("*.parquet")}
    assert written == {state.loaded["dim_customer"].path}


def test_kept_segments_are_not_used_once_a_file_up_to_their_date_or_a_segment_setting_changed(runs, tmp_path):
    nightly, _, _ = runs
    home = tmp_path / "changed"
    settings, lake = _copy_of(nightly, home)
    plain = f"incremental on the state of {END}: touchpoint unchanged, ad_daily unchanged, order unchanged"
    kept = f"; the segments of {END - timedelta(days=30)} from the state"
    records = ", contact and deal from the state with 0 new files"
    assert open_silver(lake, END, [END], settings)[1] == f"{plain}{records}{kept}"
    # without the labels of 30 days earlier, their segments need the contacts as of then: every extraction is read
    assert open_silver(lake, END, [END], _settings(home, nightly.inbox, KOHDE_SEGMENT_CLUSTERS="3"))[1] == plain
    # a contact file extracted on the state's date that the state does not cover: its rows may be older than
    # some held ones (files of one date are ordered by their hash), so contacts are read in full; deals are not
    covered = next((lake.root / "clean" / "contact" / f"extract_date={END.isoformat()}").iterdir())
    shutil.copy(covered, covered.with_name("0" * 64 + covered.suffix))
    assert open_silver(lake, END, [END], settings)[1] == f"{plain}, deal from the state with 0 new files{kept}"
    gone = next((lake.root / "clean" / "contact" / f"extract_date={START.isoformat()}").iterdir())
    gone.unlink()
    assert open_silver(lake, END, [END], settings)[1] == plain


def test_the_records_layers_are_written_as_one_base_again_after_their_limit(runs, tmp_path, monkeypatch):
    nightly, _, _ = runs
    settings, lake = _copy_of(nightly, tmp_path / "compact", warehouse=True)
    before = snapshot(settings)
    monkeypatch.setattr(gold, "RECORD_LAYERS", 4)  # the state holds 4 layers: this night writes a base
    run_range(settings, END, END)
    state, _ = read_state(lake)
    assert state is not None
    silver = Silver(lake, END)
    for entity in RECORD_ENTITIES:
        (base,) = state.records[entity].layers
        assert_same({entity: lake.read(lake.root / base)}, {entity: silver.as_of(entity, END).collect()}, (entity,))
    (stages,) = state.records["deal"].history
    assert lake.read(lake.root / stages).height == silver.history("deal", END).select(DEAL_STAGE_COLUMNS).unique().collect().height
    assert_same(before, snapshot(settings))


def test_a_rerun_without_new_files_changes_nothing(runs):
    nightly, _, _ = runs
    before = snapshot(nightly)
    report = run_range(nightly, END, END)
    assert report.silver == (f"incremental on the state of {END}: touchpoint unchanged, ad_daily unchanged, "
                             "order unchanged, contact and deal from the state with 0 new files; "
                             f"the segments of {END - timedelta(days=30)} from the state; "
                             "no order's credit rebuilt; facts loaded from their change windows")
    # no touch changed: fct_touchpoints is not loaded at all; of fct_attribution only the rows computed
    # whole every night: the data-driven models' (fitted on every journey), not the won deals' rule-based ones
    assert "fct_touchpoints" not in report.rows_loaded_per_table
    assert "fct_orders" not in report.rows_loaded_per_table  # no month of orders changed
    assert "dim_customer" not in report.rows_loaded_per_table  # no customer's row changed
    data_driven = before["fct_attribution"].filter(pl.col("model").is_in(["markov", "shapley"]))
    assert data_driven.filter(pl.col("conversion_type") == "won_deal").height > 0
    assert report.rows_loaded_per_table["fct_attribution"] == data_driven.height
    assert_same(before, snapshot(nightly))


def test_a_failed_load_leaves_the_lake_state_as_it_was_and_the_next_run_sweeps_what_a_killed_one_left(runs, tmp_path):
    """A run writes its state's parts while the warehouse loads: a failed load removes them, the state stays."""
    from pipeline.errors import WarehouseError
    from pipeline.warehouse import Warehouse

    nightly, _, _ = runs
    settings, lake = _copy_of(nightly, tmp_path / "failed", warehouse=True)
    before = read_state(lake)[0]

    def files() -> set[str]:
        return {str(p.relative_to(lake.root)) for p in (lake.root / "gold").rglob("*") if p.is_file()}

    kept = files()
    assert kept == before.paths() | {"gold/state.json"}
    with Warehouse.connect(settings.warehouse_url) as warehouse:  # a column's type changed by hand: the insert fails
        warehouse.execute("CREATE OR REPLACE TABLE mart_segment_summary AS "
                          "SELECT * REPLACE (CAST(NULL AS INTEGER) AS segment) FROM mart_segment_summary")
    with pytest.raises(WarehouseError, match="mart_segment_summary"):
        run_range(settings, END, END)
    assert read_state(lake)[0] == before
    assert files() == kept
    # the parts of a run killed before its commit: the next run's state does not read them, and removes them
    orphans = [lake.root / "gold" / zone / "2026-12-31-killedrun0000" / "x.parquet"
               for zone in ("truth/touchpoint", "derived", "labels", "loaded")]
    for orphan in orphans:
        orphan.parent.mkdir(parents=True)
        orphan.write_bytes(b"")
    with Warehouse.connect(settings.warehouse_url) as warehouse:
        warehouse.execute("DROP TABLE mart_segment_summary")  # the next run's upgrade creates it again
    run_range(settings, END, END)
    after = read_state(lake)[0]
    assert after.state_id != before.state_id
    assert files() == after.paths() | {"gold/state.json"}
    assert not any(orphan.parent.exists() for orphan in orphans)


def test_a_run_rebuilds_in_full_and_says_why_when_the_state_cannot_be_trusted(runs, tmp_path):
    nightly, _, _ = runs
    home = tmp_path / "copy"
    settings, lake = _copy_of(nightly, home)
    assert open_silver(lake, END, [END - timedelta(days=1)], settings)[1] == (
        "full: a backfill or a run of a date before the lake's newest")
    assert open_silver(lake, END, [END], _settings(home, nightly.inbox, KOHDE_INCREMENTAL="off"))[1] == (
        "full: KOHDE_INCREMENTAL is off")
    (gone,) = list((lake.root / "clean" / "touchpoint" / f"extract_date={START.isoformat()}").iterdir())
    gone.unlink()
    assert open_silver(lake, END, [END], settings)[1] == (
        "full: clean files of touchpoint that the incremental state covers are gone")
    state_path(lake).write_text("{not json", encoding="utf-8")
    assert open_silver(lake, END, [END], settings)[1].startswith("full: the incremental state is unreadable")


def test_a_state_without_won_deal_rows_gets_them_computed_whole_once(runs, tmp_path):
    """A state written before the won deals' credit was kept: the next night computes and loads them whole, then keeps them."""
    import json

    nightly, _, _ = runs
    settings, lake = _copy_of(nightly, tmp_path / "old", warehouse=True)
    before = snapshot(settings)
    raw = json.loads(state_path(lake).read_text(encoding="utf-8"))
    del raw["derived"]["won_attribution"], raw["derived"]["won_conversions"]
    state_path(lake).write_text(json.dumps(raw), encoding="utf-8")
    report = run_range(settings, END, END)
    won = before["fct_attribution"].filter(pl.col("conversion_type") == "won_deal")
    data_driven = before["fct_attribution"].filter(pl.col("model").is_in(["markov", "shapley"]))
    # every won deal's rule-based rows, and the data-driven rows as every night
    assert report.rows_loaded_per_table["fct_attribution"] == (
        won.filter(~pl.col("model").is_in(["markov", "shapley"])).height + data_driven.height)
    assert_same(before, snapshot(settings))
    state, _ = read_state(lake)
    assert state is not None and state.derived is not None and state.derived.won_conversions is not None
    assert lake.read(lake.root / state.derived.won_conversions).height == won["order_id"].n_unique()


def test_a_state_whose_customer_groups_lack_the_purchase_days_gets_every_order_grouped_again(runs, tmp_path):
    """A state kept before the orders grouped by customer held the CLV summary's purchase days: grouped anew, the same tables."""
    nightly, _, _ = runs
    settings, lake = _copy_of(nightly, tmp_path / "old", warehouse=True)
    before = snapshot(settings)
    state, _ = read_state(lake)
    assert state is not None and state.derived is not None and state.derived.customer_orders is not None
    kept = lake.root / state.derived.customer_orders
    grouped = lake.read(kept).sort("customer_id")
    assert grouped["purchase_days"].sum() > 0
    grouped.drop(PURCHASE_COLUMNS).write_parquet(kept)
    run_range(settings, END, END)
    assert_same(before, snapshot(settings))
    state, _ = read_state(lake)
    assert state is not None and state.derived is not None and state.derived.customer_orders is not None
    assert lake.read(lake.root / state.derived.customer_orders).sort("customer_id").equals(grouped)


def test_forget_drops_the_state_and_its_parts(runs, tmp_path):
    from pipeline.privacy import forget

    nightly, _, _ = runs
    settings, lake = _copy_of(nightly, tmp_path / "forget", warehouse=True)
    customer = parts_scan(lake, "touchpoint", read_state(lake)[0].entities["touchpoint"]).select(
        pl.col("customer_id").drop_nulls().first()).collect().item()
    forget(settings, customer_id=customer)
    assert read_state(lake) == (None, "no incremental state in the lake yet")
    assert not list((lake.root / "gold" / "truth").rglob("*.parquet"))


def test_a_warehouse_that_does_not_hold_the_state_gets_every_table_whole(runs, tmp_path):
    """The lake's state is there, the warehouse is a new one: the facts are built incrementally, loaded whole."""
    nightly, _, _ = runs
    settings, _ = _copy_of(nightly, tmp_path / "new-warehouse")
    report = run_range(settings, END, END)
    assert report.silver == (f"incremental on the state of {END}: touchpoint unchanged, ad_daily unchanged, "
                             "order unchanged, contact and deal from the state with 0 new files; "
                             f"the segments of {END - timedelta(days=30)} from the state; no order's credit rebuilt")
    expected = snapshot(nightly)
    assert report.rows_loaded_per_table["fct_touchpoints"] == expected["fct_touchpoints"].height
    current = tuple(t for t in DATA_TABLES if t not in SNAPSHOTS and not t.startswith("ops_"))
    assert_same(expected, snapshot(settings), current)


def test_a_first_run_builds_the_state_block_by_block_and_equals_a_full_rebuild(runs, tmp_path):
    """A lake without a state, one month at a time: the first nightly run leaves what a full rebuild leaves."""
    nightly, full, _ = runs
    settings = _settings(tmp_path / "first", nightly.inbox, KOHDE_FIRST_RUN_MONTHS="1")
    shutil.copytree(full.lake, settings.lake)
    lake = Lake(settings.lake)
    drop_state(lake)  # the state of the backfill the lake was copied after
    # month ends before END - 30, then END - 30 itself: the segments the night's migration compares with
    assert gold.first_run_steps(lake, END, settings) == [date(2026, 5, 31), date(2026, 6, 30), date(2026, 7, 9)]
    assert gold.first_run_steps(lake, END, _settings(tmp_path, nightly.inbox, KOHDE_FIRST_RUN_MONTHS="off")) == []
    # no block ends before D - 30 (2026-05-11): a short history is rebuilt at once
    assert gold.first_run_steps(lake, date(2026, 6, 10), settings) == []
    report = run_range(settings, END, END)
    assert report.silver.startswith("first run, the state built in 3 steps to 2026-07-09; incremental on the state "
                                    "of 2026-07-09: touchpoint from 2026-05-20")  # the touch moved from 80 days back
    # the conversions of the 30 days since its last step (and of their touched customers) rebuilt, no earlier one
    assert re.search(r"; the segments of 2026-07-09 from the state; [\d,]+ orders' credit rebuilt "
                     r"\(the first dated 2026-07-10\)$", report.silver), report.silver
    state = read_state(lake)[0]
    assert state.as_of == END
    assert gold.first_run_steps(lake, END, settings) == []  # the next night starts from the state
    # a step adds a month of records: the layers after a base never hold more rows than it (else a new base)
    for entity in RECORD_ENTITIES:
        base, *later = (lake.scan(path).select(pl.len()).collect().item() for path in state.records[entity].layers)
        assert sum(later) <= base
    left, right = _of_the_last_night(settings), _of_the_last_night(full)
    assert left["fct_attribution"].height > 1000
    assert_same(left, right, DATA_TABLES)


def test_the_nights_after_a_first_run_compute_the_segments_they_compare_with_on_its_last_step(runs, tmp_path):
    """A first run keeps the segment labels of its last step and its own date: the next nights need those between.

    They compute them on the last step's state (kept as the state's base) with the files since, not
    from every order and contact extraction of the history, and leave what a full rebuild leaves.
    """
    nightly, full, _ = runs
    settings = _settings(tmp_path / "first", nightly.inbox, KOHDE_FIRST_RUN_MONTHS="1")
    lake = Lake(settings.lake)
    ingest_range(settings, START, END - timedelta(days=1))
    first = run_range(settings, END - timedelta(days=1), END - timedelta(days=1)).silver
    assert first.startswith("first run, the state built in 3 steps to 2026-07-08; ")
    state = read_state(lake)[0]
    assert state.base is not None and state.base.as_of == date(2026, 7, 8)
    assert sorted(state.labels) == ["2026-07-08", (END - timedelta(days=1)).isoformat()]
    assert not state.base.labels and state.base.derived is None  # its truth and records only
    ingest_range(settings, END, END)
    report = run_range(settings, END, END)
    assert report.silver.startswith(f"incremental on the state of {END - timedelta(days=1)}: ")
    assert "; the segments of 2026-07-09 on the state of 2026-07-08" in report.silver
    assert ", contact and deal from the state with " in report.silver  # not every extraction of them
    left, right = _of_the_last_night(settings), _of_the_last_night(full)
    assert left["mart_segment_migration"].height > 10
    assert_same(left, right, DATA_TABLES)
    # the night keeps the base for the nights after it, and the lake holds what its state reads, nothing more
    after = read_state(lake)[0]
    assert after.base == state.base
    assert sorted(after.labels) == ["2026-07-09", (END - timedelta(days=1)).isoformat(), END.isoformat()]
    assert {str(p.relative_to(lake.root)) for p in (lake.root / "gold").rglob("*") if p.is_file()} == (
        after.paths() | {"gold/state.json"})
    assert after.paths() >= {path for e in state.base.entities.values() for path in e.parts.values()}


def test_a_state_keeps_an_earlier_base_while_the_next_nights_lack_the_labels_they_compare_with():
    day = date(2026, 9, 30)

    def state(state_id: str, as_of: date, base: GoldState | None = None) -> GoldState:
        return GoldState(state_id, as_of, "code", {}, labels={"x": LabelState("x", "y")}, base=base)

    def days(first: date, last: date) -> list[date]:
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    # the night after a first run (of D - 30, its last step): the labels of D - 30 and D only, the step is the base
    base = migration_base(state("step", day - timedelta(days=30)), day, [day - timedelta(days=30), day])
    assert base is not None and base.state_id == "step" and base.labels == {}
    # the nights after keep it until they hold the labels of every date they will compare with
    for n in range(1, 30):
        labelled = [day + timedelta(days=n - 30), *days(day, day + timedelta(days=n))]
        kept = migration_base(state("night", day + timedelta(days=n - 1), base), day + timedelta(days=n), labelled)
        assert (kept is not None and kept.state_id == "step") == (n < 29), n
    # nightly runs with every label: no base
    assert migration_base(state("night", day - timedelta(days=1)), day, days(day - timedelta(days=30), day)) is None
    # a gap of a week after a night of D - 7 that kept no base: that night's state serves the dates of the gap
    labelled = [*days(day - timedelta(days=30), day - timedelta(days=7)), day]
    gap = migration_base(state("before", day - timedelta(days=7)), day, labelled)
    assert gap is not None and gap.state_id == "before"
    # with an older base too: the one serving every missing date, the nearer on a tie
    older = state("older", day - timedelta(days=40)).as_base()
    assert migration_base(state("before", day - timedelta(days=7), older), day, labelled).state_id == "before"
    labelled = [*days(day - timedelta(days=30), day - timedelta(days=20)), day]
    assert migration_base(state("before", day - timedelta(days=7), older), day, labelled).state_id == "older"


def test_other_attribution_settings_recompute_attribution_whole(runs, tmp_path):
    nightly, _, _ = runs
    settings, _ = _copy_of(nightly, tmp_path / "lookback", warehouse=True, KOHDE_ATTRIBUTION_LOOKBACK_DAYS="30")
    report = run_range(settings, END, END)
    assert not report.silver.endswith("facts loaded from their change windows")
    rows = snapshot(settings)["fct_attribution"]
    assert report.rows_loaded_per_table["fct_attribution"] == rows.height
    assert rows.height != snapshot(nightly)["fct_attribution"].height  # a shorter lookback: other paths


def test_month_digests_name_the_first_month_whose_rows_changed():
    from pipeline.incremental import changed_since, month_digests

    rows = pl.DataFrame({"order_id": ["a", "b", "c", "d"], "order_date": [date(2026, 3, 5), date(2026, 3, 9),
                                                                        date(2026, 5, 1), None],
                         "net_revenue_eur": [10.0, 20.0, 30.0, 40.0]})
    before = month_digests(rows, "order_date")
    assert sorted(before) == ["2026-03", "2026-05", "null"]
    assert month_digests(rows.reverse(), "order_date") == before  # the order of the rows does not matter
    assert changed_since(before, before) is None
    restated = rows.with_columns(pl.when(pl.col("order_id") == "b").then(21.0).otherwise(pl.col("net_revenue_eur"))
                                 .alias("net_revenue_eur"))
    assert changed_since(before, month_digests(restated, "order_date")) == date(2026, 3, 1)
    new = pl.concat([rows, pl.DataFrame({"order_id": ["e"], "order_date": [date(2026, 6, 2)],
                                         "net_revenue_eur": [5.0]})])
    assert changed_since(before, month_digests(new, "order_date")) == date(2026, 6, 1)
    assert changed_since(before, month_digests(rows.head(3), "order_date")) == "all"  # the undated row is gone
    assert changed_since(before, month_digests(rows.filter(pl.col("order_id") != "c"), "order_date")) == date(2026, 5, 1)


def test_keyed_changes_name_the_rows_new_or_changed_and_the_keys_gone():
    from pipeline.incremental import keyed_changes, row_hashes

    rows = pl.DataFrame({"customer_id": ["a", "b", "c"], "orders": [1, 2, 3], "city": ["Oulu", None, "Turku"]})
    before = row_hashes(rows, ["customer_id"])
    assert before.columns == ["customer_id", "_row_hash"]
    changed, gone = keyed_changes(before, row_hashes(rows.reverse(), ["customer_id"]), ["customer_id"])
    assert changed.height == 0 and gone.height == 0  # the order of the rows does not matter
    after = pl.concat([rows.filter(pl.col("customer_id") != "a")
                       .with_columns(pl.when(pl.col("customer_id") == "b").then(pl.lit("Vaasa"))
                                     .otherwise(pl.col("city")).alias("city")),
                       pl.DataFrame({"customer_id": ["d"], "orders": [1], "city": [None]})])
    changed, gone = keyed_changes(before, row_hashes(after, ["customer_id"]), ["customer_id"])
    assert sorted(changed["customer_id"]) == ["b", "d"]  # a NULL that became a value changes the row
    assert gone["customer_id"].to_list() == ["a"]


def _conversions(rows: list[tuple[str, str, int, str]]) -> pl.DataFrame:
    """Conversions as ``conversions_of`` gives them, from (order_id, customer_id, day of October 2026, net revenue)."""
    from datetime import UTC, datetime
    from decimal import Decimal
    return pl.DataFrame(
        {"order_id": [r[0] for r in rows], "customer_id": [r[1] for r in rows],
         "ordered_at": [datetime(2026, 10, r[2], 12, tzinfo=UTC) for r in rows],
         "order_date": [date(2026, 10, r[2]) for r in rows], "is_first_order": [False] * len(rows),
         "net_revenue_eur": [Decimal(r[3]) for r in rows]},
        schema_overrides={"net_revenue_eur": pl.Decimal(18, 4)})


def _touched(rows: list[tuple[str, int]]) -> pl.LazyFrame:
    """``touched_customers`` as it gives them, from (customer_id, day of October 2026 of the first changed touch, 09:00)."""
    from datetime import UTC, datetime
    return pl.LazyFrame({"customer_id": [r[0] for r in rows],
                         "first_touch": [datetime(2026, 10, r[1], 9, tzinfo=UTC) for r in rows]})


def test_the_rebuilt_conversions_are_those_new_gone_changed_touched_or_of_moved_customers() -> None:
    from pipeline.incremental import Rebuilt, attribution_changes

    def changes(*args: object) -> tuple[date, list[str]] | None:
        found = attribution_changes(*args)  # type: ignore[arg-type]
        assert found is None or isinstance(found, Rebuilt)
        return None if found is None else (found.since, sorted(found.order_ids["order_id"]))

    before = _conversions([("o1", "c1", 3, "10.00"), ("o2", "c2", 9, "20.00"), ("o3", "c3", 15, "30.00"),
                           ("o4", "c4", 20, "40.00"), ("o6", "c2", 22, "60.00")])
    assert changes(before.lazy(), before, None, None, None) is None
    # o3's amount restated (day 15), o4 gone (day 20), o5 new (day 25): those three, from day 15; o6 (day 22) is
    # not rebuilt although it lies between them
    after = _conversions([("o1", "c1", 3, "10.00"), ("o2", "c2", 9, "20.00"), ("o3", "c3", 15, "30.01"),
                          ("o5", "c5", 25, "50.00"), ("o6", "c2", 22, "60.00")])
    assert changes(before.lazy(), after, None, None, None) == (date(2026, 10, 15), ["o3", "o4", "o5"])
    # compared only from the first month whose orders changed, as their month digests say: none, or from day 20
    assert changes(before.lazy(), after, None, None, None, None) is None
    assert changes(before.lazy(), after, None, None, None, date(2026, 10, 20)) == (date(2026, 10, 20), ["o4", "o5"])
    assert changes(before.lazy(), after, None, None, None, date(2026, 10, 1)) == (date(2026, 10, 15),
                                                                                   ["o3", "o4", "o5"])
    # c2's touch changed on day 8: c2's conversions from then on (o2 on day 9, o6 on day 22), no one else's; from
    # day 10 on only o6. c1's touch at 09:00 of day 3 is before its conversion at 12:00 that day: on its path
    assert changes(before.lazy(), before, _touched([("c2", 8)]), None, None) == (date(2026, 10, 9), ["o2", "o6"])
    assert changes(before.lazy(), before, _touched([("c2", 10)]), None, None) == (date(2026, 10, 22), ["o6"])
    assert changes(before.lazy(), before, _touched([("c1", 3)]), None, None) == (date(2026, 10, 3), ["o1"])
    assert changes(before.lazy(), before, _touched([("c1", 4), ("c9", 1)]), None, None) is None
    # a customer whose milestones changed (c1: a deal added) brings their conversions (o1, day 3)
    milestones = pl.DataFrame({"customer_id": ["c1", "c2"], "lead_created_at": [None, None],
                               "deal_dates": [[], [date(2026, 9, 1)]]},
                              schema={"customer_id": pl.Utf8, "lead_created_at": pl.Datetime("us", "UTC"),
                                      "deal_dates": pl.List(pl.Date)})
    moved = milestones.with_columns(pl.when(pl.col("customer_id") == "c1").then([date(2026, 9, 2)])
                                    .otherwise(pl.col("deal_dates")).alias("deal_dates"))
    assert changes(before.lazy(), before, None, milestones.lazy(), milestones) is None
    assert changes(before.lazy(), before, None, milestones.lazy(), moved) == (date(2026, 10, 3), ["o1"])
    # all at once: each conversion named once
    assert changes(before.lazy(), after, _touched([("c2", 8)]), milestones.lazy(), moved) == (
        date(2026, 10, 3), ["o1", "o2", "o3", "o4", "o5", "o6"])


def test_touched_customers_are_those_with_a_touch_new_gone_or_changed_from_the_window_on() -> None:
    from datetime import UTC, datetime

    from pipeline.entities import conform
    from pipeline.incremental import touched_customers

    def touches(rows: list[tuple[str, str, int, int, str]]) -> pl.LazyFrame:
        """Touchpoint truth rows from (touchpoint_id, customer_id, day of October 2026, hour, channel)."""
        return conform(pl.DataFrame({
            "touchpoint_id": [r[0] for r in rows], "customer_id": [r[1] for r in rows],
            "ts": [datetime(2026, 10, r[2], r[3], tzinfo=UTC) for r in rows], "channel": [r[4] for r in rows]}),
            "touchpoint").lazy()

    before = touches([("t1", "c1", 1, 9, "email"), ("t2", "c2", 20, 9, "search"), ("t3", "c3", 21, 9, "social"),
                      ("t4", "c4", 22, 9, "email")])
    # t2's channel changed, t3 moved from c3 to c5 and an hour later, t4 gone, t6 new for c6; t1 (before the window)
    # differs too but is not compared
    after = touches([("t1", "c1", 1, 9, "search"), ("t2", "c2", 20, 9, "email"), ("t3", "c5", 21, 10, "social"),
                     ("t6", "c6", 23, 8, "email")])
    found = touched_customers(before, after, date(2026, 10, 20)).collect().sort("customer_id")
    assert found.rows() == [("c2", datetime(2026, 10, 20, 9, tzinfo=UTC)), ("c3", datetime(2026, 10, 21, 9, tzinfo=UTC)),
                            ("c4", datetime(2026, 10, 22, 9, tzinfo=UTC)), ("c5", datetime(2026, 10, 21, 10, tzinfo=UTC)),
                            ("c6", datetime(2026, 10, 23, 8, tzinfo=UTC))]
    assert touched_customers(before, before, date(2026, 10, 1)).collect().is_empty()


def test_the_rebuilt_won_deals_are_those_new_gone_changed_touched_or_of_a_new_lead() -> None:
    from pipeline.incremental import won_deal_changes

    def won_deal_window(*args: object) -> date | None:
        found = won_deal_changes(*args)  # type: ignore[arg-type]
        return None if found is None else found.since

    def rebuilt(*args: object) -> list[str]:
        found = won_deal_changes(*args)  # type: ignore[arg-type]
        return [] if found is None else sorted(found.order_ids["order_id"])
    before = pl.DataFrame(
        {"deal_id": ["d1", "d2", "d3"], "customer_id": ["c1", "c2", "c3"],
         "created_date": [date(2026, 9, 1)] * 3, "close_date": [date(2026, 10, d) for d in (3, 9, 15)],
         "amount_eur": [Decimal("1000.00"), Decimal("2000.00"), Decimal("3000.00")]},
        schema_overrides={"amount_eur": pl.Decimal(18, 4)})
    assert won_deal_window(before.lazy(), before, None, None, None) is None
    # d3's amount restated (day 15), d4 newly won (day 20): the earliest is day 15
    after = pl.concat([before.with_columns(pl.when(pl.col("deal_id") == "d3").then(pl.lit(Decimal("3100.00"), pl.Decimal(18, 4)))
                                           .otherwise(pl.col("amount_eur")).alias("amount_eur")),
                       before.head(1).with_columns(pl.lit("d4").alias("deal_id"), pl.lit(date(2026, 10, 20)).alias("close_date"))])
    assert won_deal_window(before.lazy(), after, None, None, None) == date(2026, 10, 15)
    assert rebuilt(before.lazy(), after, None, None, None) == ["d3", "d4"]  # by id: d1 and d2 (day 3, 9) are not
    # c2's touch changed on day 9 reaches their deal closed that day (at the end of it); c3's on day 16 is after
    # their deal closed (day 15), c1's on day 2 before theirs (day 3): from day 3
    assert won_deal_window(before.lazy(), before, _touched([("c2", 9)]), None, None) == date(2026, 10, 9)
    assert won_deal_window(before.lazy(), before, _touched([("c3", 16)]), None, None) is None
    assert won_deal_window(before.lazy(), before, _touched([("c1", 2), ("c3", 16)]), None, None) == date(2026, 10, 3)
    assert rebuilt(before.lazy(), before, _touched([("c1", 2), ("c3", 16)]), None, None) == ["d1"]
    # a new lead creation of c1 brings its deal (day 3); a new deal of c2 does not (a won deal's opportunity is its own)
    milestones = pl.DataFrame({"customer_id": ["c1", "c2"], "lead_created_at": [None, None],
                               "deal_dates": [[], [date(2026, 9, 1)]]},
                              schema={"customer_id": pl.Utf8, "lead_created_at": pl.Datetime("us", "UTC"),
                                      "deal_dates": pl.List(pl.Date)})
    new_deal = milestones.with_columns(pl.col("deal_dates").list.concat(pl.lit([date(2026, 9, 20)])))
    assert won_deal_window(before.lazy(), before, None, milestones.lazy(), new_deal) is None
    from datetime import UTC, datetime
    new_lead = milestones.with_columns(pl.when(pl.col("customer_id") == "c1").then(datetime(2026, 8, 1, tzinfo=UTC))
                                       .alias("lead_created_at"))
    assert won_deal_window(before.lazy(), before, None, milestones.lazy(), new_lead) == date(2026, 10, 3)
