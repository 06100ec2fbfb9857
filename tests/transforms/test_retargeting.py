from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest

from pipeline.entities import MONEY
from pipeline.errors import ConfigError
from pipeline.transforms.retargeting import build_retargeting
from tests.transforms.ddl import assert_matches_ddl

AS_OF = date(2026, 3, 31)


def touch(customer_id: str, day: str, channel: str, touch_type: str, campaign_id: str | None = None) -> dict:
    ts = datetime.fromisoformat(f"2026-{day}T10:00:00").replace(tzinfo=UTC)
    platform = "adroll" if channel == "display_retargeting" else "website"
    return {"touchpoint_id": f"{customer_id}-{day}-{touch_type}", "customer_id": customer_id, "ts": ts,
            "touch_date": ts.date(), "channel": channel, "platform": platform, "campaign_id": campaign_id,
            "touch_type": touch_type}


TOUCHES = [
    touch("a", "03-02", "organic_search", "visit"),              # anchor, then retargeted, then buys
    touch("a", "03-03", "display_retargeting", "impression", "rt1"),
    touch("b", "03-02", "direct", "visit"),                      # retargeted, no order
    touch("b", "03-04", "display_retargeting", "impression", "rt1"),
    touch("c", "03-03", "paid_search", "click", "g1"),           # comparable, buys
    touch("d", "03-04", "direct", "visit"),                      # comparable, no order
    touch("e", "03-05", "direct", "pricing_visit"),              # comparable, ordered only before the anchor
    touch("f", "02-20", "direct", "visit"),                      # engaged before the run: no visitor
    touch("g", "03-06", "direct", "visit"),                      # reached by another retargeting campaign only
    touch("g", "03-07", "display_retargeting", "click", "rt2"),
    touch("h", "03-03", "email", "email_open"),                  # an open is no site visit
    touch("i", "03-02", "direct", "visit"),                      # retargeted only before its anchor
    touch("i", "03-01", "display_retargeting", "impression", "rt1"),
]
ORDERS = [
    ("a", datetime(2026, 3, 5, 12, tzinfo=UTC), "100.00", True),
    ("c", datetime(2026, 3, 20, 12, tzinfo=UTC), "200.00", True),
    ("c", datetime(2026, 3, 21, 12, tzinfo=UTC), "999.00", False),  # not revenue
    ("e", datetime(2026, 3, 4, 12, tzinfo=UTC), "300.00", True),
]
SPEND = [
    (date(2026, 3, 1), "adroll", "rt1", "Retargeting - Site visitors", "display_retargeting", "100.00", 1000, 10),
    (date(2026, 3, 10), "adroll", "rt1", "Retargeting - Site visitors", "display_retargeting", "50.00", 500, 5),
    (date(2026, 3, 5), "google_ads", "g1", "Search", "paid_search", "80.00", 800, 40),
]


def build(window_days: int = 90) -> pl.DataFrame:
    touches = pl.DataFrame(TOUCHES, schema_overrides={"campaign_id": pl.Utf8}).lazy()
    orders = pl.DataFrame(
        [(f"o{i}", c, t, t.date(), Decimal(v), r) for i, (c, t, v, r) in enumerate(ORDERS)],
        schema={"order_id": pl.Utf8, "customer_id": pl.Utf8, "ordered_at": pl.Datetime("us", "UTC"),
                "order_date": pl.Date, "net_revenue_eur": MONEY, "is_revenue": pl.Boolean}, orient="row").lazy()
    spend = pl.DataFrame(
        [(d, p, c, n, ch, Decimal(s), i, k) for d, p, c, n, ch, s, i, k in SPEND],
        schema={"day": pl.Date, "platform": pl.Utf8, "campaign_id": pl.Utf8, "campaign_name": pl.Utf8,
                "channel": pl.Utf8, "spend_eur": MONEY, "impressions": pl.Int64, "clicks": pl.Int64},
        orient="row").with_columns(pl.col("spend_eur").alias("spend")).lazy()
    return build_retargeting(touches, orders, spend, AS_OF, window_days).collect()


def test_retargeted_against_comparable_visitors_by_hand() -> None:
    got = build()
    assert got["campaign_id"].to_list() == ["rt1", "rt2"]
    rt1 = got.row(0, named=True)
    # retargeted: a (bought 100) and b; comparable: c (bought 200), d and e (ordered before its anchor)
    assert rt1 == {
        "as_of_date": AS_OF, "platform": "adroll", "campaign_id": "rt1", "campaign_name": "Retargeting - Site visitors",
        "period_start": date(2026, 3, 1), "period_end": date(2026, 3, 10), "window_days": 90,
        "retargeted_customers": 2, "retargeted_converters": 1, "retargeted_conversion_rate_pct": 50.0,
        "retargeted_revenue_eur": Decimal("100.0000"), "retargeted_revenue_per_customer_eur": Decimal("50.0000"),
        "control_customers": 3, "control_converters": 1, "control_conversion_rate_pct": pytest.approx(100 / 3),
        "control_revenue_eur": Decimal("200.0000"), "control_revenue_per_customer_eur": Decimal("66.6667"),
        # (1/2 - 1/3) / (1/3) = 50 %; (1/2 - 1/3) x 2 = 1/3 of a conversion
        "conversion_lift_pct": pytest.approx(50.0), "incremental_conversions": pytest.approx(1 / 3),
        "impressions": 1500, "clicks": 15, "ctr_pct": 1.0, "spend_eur": Decimal("150.0000"),
        "cost_per_conversion_eur": Decimal("150.0000"), "cost_per_incremental_conversion_eur": Decimal("450.0000"),
    }
    # rt2 is only in touchpoints and nobody engaged on its one day: no visitors, every ratio NULL
    rt2 = got.row(1, named=True)
    assert (rt2["period_start"], rt2["period_end"], rt2["retargeted_customers"], rt2["control_customers"]) == (
        date(2026, 3, 7), date(2026, 3, 7), 0, 0)
    for column in ("retargeted_conversion_rate_pct", "control_conversion_rate_pct", "conversion_lift_pct",
                   "incremental_conversions", "ctr_pct", "spend_eur", "cost_per_conversion_eur",
                   "cost_per_incremental_conversion_eur", "campaign_name"):
        assert rt2[column] is None, column
    assert_matches_ddl(got, "mart_retargeting")


def test_a_short_window_drops_late_orders() -> None:
    # with 10 days, c's order 17 days after its anchor no longer counts
    rt1 = build(window_days=10).row(0, named=True)
    assert (rt1["control_converters"], rt1["control_revenue_eur"], rt1["conversion_lift_pct"]) == (0, Decimal("0"), None)
    with pytest.raises(ConfigError, match="window_days"):
        build(window_days=0)


def test_the_demo_worlds_retargeting_campaigns_show_lift() -> None:
    # The demo reaches half of the site visitors with AdRoll at random, and being reached doubles
    # the conversion probability (pipeline/demo/world.py): both campaigns must show a clear lift.
    from pipeline.channels import PLATFORM_CHANNEL
    from pipeline.demo.world import build_world
    from pipeline.transforms.orders import REVENUE_STATUSES

    start, days = date(2026, 3, 2), 60
    world = build_world(start, days, 3000, 5)
    touches = world.touchpoints.with_row_index("touchpoint_id").select(
        pl.col("touchpoint_id").cast(pl.Utf8), pl.col("contact_idx").cast(pl.Utf8).alias("customer_id"), "ts",
        pl.col("day").alias("touch_date"), "channel", "platform", "campaign_id", "touch_type")
    orders = world.orders.select(
        pl.col("order_pos").cast(pl.Utf8).alias("order_id"), pl.col("contact_idx").cast(pl.Utf8).alias("customer_id"),
        "ordered_at", pl.col("day").alias("order_date"), pl.col("net_eur").round(4).cast(MONEY).alias("net_revenue_eur"),
        pl.col("status").is_in(list(REVENUE_STATUSES)).alias("is_revenue"))
    spend = world.ad_daily.select(
        "day", "platform", "campaign_id", "campaign_name",
        pl.col("platform").replace_strict(PLATFORM_CHANNEL).alias("channel"),
        (pl.col("spend_cents").cast(MONEY) / 100).cast(MONEY).alias("spend_eur"), "impressions", "clicks",
    ).with_columns(pl.col("spend_eur").alias("spend"))
    got = build_retargeting(touches.lazy(), orders.lazy(), spend.lazy(), date(2026, 4, 30), 90).collect()
    assert got["platform"].to_list() == ["adroll", "adroll"]
    assert (got["retargeted_customers"] > 200).all() and (got["control_customers"] > 200).all()
    assert (got["conversion_lift_pct"] > 25).all(), got.select("campaign_id", "conversion_lift_pct")
    assert (got["incremental_conversions"] > 0).all()
    assert (got["ctr_pct"] > 0).all() and got["cost_per_conversion_eur"].is_not_null().all()


def test_no_retargeting_campaign_no_rows(monkeypatch) -> None:
    """Without a retargeting campaign in the ad reports or the touches: no periods to anchor visitors in, no rows."""
    monkeypatch.setattr("tests.transforms.test_retargeting.TOUCHES",
                        [t for t in TOUCHES if t["channel"] != "display_retargeting"])
    monkeypatch.setattr("tests.transforms.test_retargeting.SPEND", [s for s in SPEND if s[4] != "display_retargeting"])
    got = build()
    assert got.height == 0
    assert_matches_ddl(got, "mart_retargeting")
