from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.entities import conform, empty_frame
from pipeline.gold import Silver, build_snapshots
from pipeline.settings import Settings

END = date(2026, 6, 30)


def extraction(entity: str, rows: list[dict]) -> pl.DataFrame:
    """Rows of an entity as extracted on each row's extract_date."""
    frame = conform(pl.DataFrame(rows, infer_schema_length=None), entity)
    lineage = pl.DataFrame(rows, infer_schema_length=None).select(pl.col("extract_date").cast(pl.Date))
    return frame.with_columns(
        lineage["extract_date"],
        pl.lit(entity).alias("source"),
        pl.lit("generic").alias("source_format"),
        pl.lit("sha").alias("file_sha256"),
        pl.int_range(1, pl.len() + 1).cast(pl.Int64).alias("row_number"),
    ).select(empty_frame(entity, with_lineage=True).columns)


def small_silver() -> Silver:
    """A Silver over hand-made extractions: 6 customers whose orders move them between RFM segments."""
    frames = {entity: empty_frame(entity, with_lineage=True) for entity in Silver.ENTITIES}
    start = END - timedelta(days=40)
    contacts = [{"contact_id": c, "source_system": "hubspot", "customer_id": c, "extract_date": start,
                 "created_at": datetime.combine(start, time(), tzinfo=UTC)} for c in "abcdef"]
    orders = [
        {"order_id": f"{c}{k}", "source_system": "shopify", "customer_id": c, "currency_code": "EUR",
         "order_date": day, "ordered_at": datetime.combine(day, time(12), tzinfo=UTC), "extract_date": day,
         "status": "paid", "net_revenue": str(10 * (k + 1)), "gross": str(10 * (k + 1))}
        for k, (c, day) in enumerate(
            [("a", start), ("b", start + timedelta(days=5)), ("a", END - timedelta(days=20)),
             ("c", END - timedelta(days=10)), ("d", END - timedelta(days=2)), ("b", END - timedelta(days=1))]
        )
    ]
    frames["contact"] = pl.concat([frames["contact"], extraction("contact", contacts)], how="vertical_relaxed")
    frames["order"] = pl.concat([frames["order"], extraction("order", orders)], how="vertical_relaxed")
    return Silver.from_frames(frames)


def test_migration_of_a_backfill_equals_the_nightly_run() -> None:
    silver = small_silver()
    settings = Settings.from_env({"KOHDE_HOME": "/nonexistent"})
    # the backfill holds END - 30 and reuses its segments; the nightly run recomputes them from silver
    backfill = build_snapshots(silver, [END - timedelta(days=30 - i) for i in range(31)], settings)
    nightly = build_snapshots(silver, [END], settings)
    for table in ("mart_segment_migration", "mart_segment_quality", "mart_customer_segments"):
        assert_frame_equal(backfill[table].filter(pl.col("as_of_date") == END), nightly[table])
    rfm = nightly["mart_segment_migration"].filter(pl.col("segmentation") == "rfm_segment")
    # 30 days before END only a and b had bought; c and d bought since, e and f never did
    assert rfm.select(pl.col("customers").sum()).item() == 6
    assert rfm.filter(pl.col("from_segment") == "Prospects")["customers"].sum() == 4
    assert rfm.filter(pl.col("to_segment") == "Prospects")["customers"].sum() == 2


def retargeting_silver() -> Silver:
    """Site visitors a..f of one AdRoll campaign: a, b, c retargeted, d, e, f not; orders on both snapshot days."""
    frames = {entity: empty_frame(entity, with_lineage=True) for entity in Silver.ENTITIES}
    first = END - timedelta(days=10)

    def moment(day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=UTC)

    touches = [{"touchpoint_id": f"v-{c}", "customer_id": c, "ts": moment(first, 9), "channel": "organic_search",
                "platform": "website", "touch_type": "visit", "extract_date": first} for c in "abcdef"]
    touches += [{"touchpoint_id": f"r-{c}", "customer_id": c, "ts": moment(first + timedelta(days=1), 9),
                 "channel": "display_retargeting", "platform": "adroll", "campaign_id": "rt1",
                 "touch_type": "impression", "extract_date": first + timedelta(days=1)} for c in "abc"]
    ads = [{"platform": "adroll", "account_id": "acc", "account_timezone": "UTC", "day": day, "campaign_id": "rt1",
            "campaign_name": "Site visitors", "currency_code": "EUR", "spend": "40", "impressions": 1000, "clicks": 10,
            "extract_date": day} for day in (first, first + timedelta(days=1), END)]
    # a converts before the first snapshot day, b on it, d (not retargeted) on the second
    orders = [{"order_id": f"o-{c}", "source_system": "shopify", "customer_id": c, "currency_code": "EUR",
               "order_date": day, "ordered_at": moment(day, 12), "extract_date": day, "status": "paid",
               "net_revenue": "100", "gross": "100"}
              for c, day in (("a", first + timedelta(days=3)), ("b", END - timedelta(days=1)), ("d", END))]
    for entity, rows in (("touchpoint", touches), ("ad_daily", ads), ("order", orders)):
        frames[entity] = pl.concat([frames[entity], extraction(entity, rows)], how="vertical_relaxed")
    return Silver.from_frames(frames)


def test_retargeting_snapshots_of_a_backfill_equal_nightly_runs() -> None:
    silver = retargeting_silver()
    settings = Settings.from_env({"KOHDE_HOME": "/nonexistent"})
    days = [END - timedelta(days=1), END]
    backfill = build_snapshots(silver, days, settings)["mart_retargeting"]
    nightly = pl.concat([build_snapshots(silver, [day], settings)["mart_retargeting"] for day in days])
    assert_frame_equal(backfill, nightly)
    got = {row["as_of_date"]: row for row in backfill.iter_rows(named=True)}
    assert list(got) == days
    # each snapshot sees only its own date's data: d's order and the last ad day arrive on END
    before, after = got[days[0]], got[days[1]]
    assert (before["retargeted_converters"], before["control_converters"]) == (2, 0)
    assert (after["retargeted_converters"], after["control_converters"]) == (2, 1)
    assert (before["period_end"], after["period_end"]) == (END - timedelta(days=9), END)
    assert (before["spend_eur"], after["spend_eur"]) == (Decimal("80.0000"), Decimal("120.0000"))
    assert after["conversion_lift_pct"] == pytest.approx((2 / 3 - 1 / 3) / (1 / 3) * 100)


def test_current_tables_count_order_revenue_once_and_won_deals_apart() -> None:
    # customer a: a deal of 100 000 SEK (8700 EUR at the shipped 0.087) won on END - 5 and paid by a
    # 9000 EUR order on END - 2; one paid-search click before both. Each model credits both to g1:
    # order revenue is counted once (ROI, segment economics), the deal only in its own columns.
    frames = {entity: empty_frame(entity, with_lineage=True) for entity in Silver.ENTITIES}
    start = END - timedelta(days=40)
    contacts = [{"contact_id": "a", "source_system": "hubspot", "customer_id": "a", "extract_date": start,
                 "created_at": datetime.combine(start, time(), tzinfo=UTC)}]
    deals = [{"deal_id": "a", "source_system": "hubspot", "customer_id": "a", "stage": "closed_won", "is_closed": True,
              "is_won": True, "amount": "100000", "currency_code": "SEK", "created_date": start + timedelta(days=1),
              "close_date": END - timedelta(days=5), "extract_date": END - timedelta(days=5)}]
    orders = [{"order_id": "a", "source_system": "stripe", "customer_id": "a", "currency_code": "EUR",
               "order_date": END - timedelta(days=2), "ordered_at": datetime.combine(END - timedelta(days=2), time(12), tzinfo=UTC),
               "extract_date": END - timedelta(days=2), "status": "paid", "net_revenue": "9000", "gross": "9000"}]
    touches = [{"touchpoint_id": "t1", "customer_id": "a", "ts": datetime.combine(start + timedelta(days=2), time(9), tzinfo=UTC),
                "channel": "paid_search", "platform": "google_ads", "campaign_id": "g1", "touch_type": "click",
                "extract_date": start + timedelta(days=2)}]
    for entity, rows in (("contact", contacts), ("deal", deals), ("order", orders), ("touchpoint", touches)):
        frames[entity] = pl.concat([frames[entity], extraction(entity, rows)], how="vertical_relaxed")
    from pipeline.gold import ATTRIBUTION_MODELS, build_current

    tables = build_current(Silver.from_frames(frames), END, Settings.from_env({"KOHDE_HOME": "/nonexistent"}))
    attribution = tables["fct_attribution"].lazy().collect()  # lazy: kept in the work folder when the run has one
    # both conversions carry id "a", one row per model each, all to paid search g1
    assert attribution.group_by("conversion_type").agg(pl.col("revenue_eur").sum(), pl.len()).sort(
        "conversion_type").rows() == [("order", Decimal("90000.0000"), 10), ("won_deal", Decimal("87000.0000"), 10)]
    roi = tables["mart_channel_roi"].filter((pl.col("period_grain") == "month") & (pl.col("campaign_id") == "(all)"))
    assert roi.select(pl.col("attributed_revenue_eur").sum(), pl.col("conversions").sum(), pl.col("won_deals").sum(),
                      pl.col("won_deal_value_eur").sum()).row(0) == (
        Decimal("90000.0000"), float(len(ATTRIBUTION_MODELS)), float(len(ATTRIBUTION_MODELS)), Decimal("87000.0000"))
    economics = tables["mart_segment_economics"].filter(pl.col("segmentation") == "value_tier")
    assert economics["attributed_revenue_eur"].sum() == Decimal("90000.0000")
    assert economics["conversions"].sum() == pytest.approx(len(ATTRIBUTION_MODELS))
