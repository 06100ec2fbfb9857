from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.entities import MONEY, UTC_TS, conform
from pipeline.transforms.goal_tracking import build_goal_tracking, validate_goals
from tests.transforms.ddl import assert_matches_ddl

FCT_ORDERS_SCHEMA = {
    "order_id": pl.Utf8,
    "source_system": pl.Utf8,
    "customer_id": pl.Utf8,
    "ordered_at": UTC_TS,
    "order_date": pl.Date,
    "currency_code": pl.Utf8,
    "gross": MONEY,
    "discounts": MONEY,
    "refunds": MONEY,
    "net_revenue": MONEY,
    "gross_eur": MONEY,
    "net_revenue_eur": MONEY,
    "status": pl.Utf8,
    "is_revenue": pl.Boolean,
    "is_first_order": pl.Boolean,
    "product_category": pl.Utf8,
    "price_tier": pl.Utf8,
}
GOAL_COLUMNS = [
    "goal_id", "description", "metric", "target_value", "target_kind", "period_start", "period_end",
    "baseline_start", "baseline_end", "owner", "channel", "segment",
]
OUTPUT_COLUMNS = [
    "goal_id", "description", "metric", "owner", "target_value", "target_kind", "period_start", "period_end",
    "channel", "segment", "target_abs", "baseline_value", "actual_to_date", "expected_to_date", "pacing",
    "attainment_pct", "forecast_end", "status",
]
AS_OF = date(2026, 6, 15)
JUNE = (date(2026, 6, 1), date(2026, 6, 30))
MAY = (date(2026, 5, 1), date(2026, 5, 31))




def fct_orders(rows: list[tuple]) -> pl.LazyFrame:
    """Rows of (order_id, customer_id, order_date, net EUR, is_revenue, is_first_order), all in EUR."""
    records = [
        {
            "order_id": order_id,
            "source_system": "shopify",
            "customer_id": customer_id,
            "ordered_at": datetime.combine(day, time(12), tzinfo=UTC),
            "order_date": day,
            "currency_code": "EUR",
            "gross": Decimal(net),
            "discounts": Decimal(0),
            "refunds": Decimal(0),
            "net_revenue": Decimal(net),
            "gross_eur": Decimal(net),
            "net_revenue_eur": Decimal(net),
            "status": "paid" if is_revenue else "cancelled",
            "is_revenue": is_revenue,
            "is_first_order": is_first_order,
            "product_category": "general",
            "price_tier": "mid",
        }
        for order_id, customer_id, day, net, is_revenue, is_first_order in rows
    ]
    return pl.DataFrame(records, schema=FCT_ORDERS_SCHEMA).lazy()


def goals_frame(rows: list[dict]) -> pl.DataFrame:
    frame = pl.DataFrame(
        [{c: row.get(c) for c in GOAL_COLUMNS} for row in rows],
        schema={c: pl.Float64 if c == "target_value" else pl.Date if "start" in c or "end" in c else pl.Utf8
                for c in GOAL_COLUMNS},
    )
    return conform(frame, "goal")


def goal(goal_id: str, metric: str, target: float | None, period: tuple[date, date], **extra: object) -> dict:
    return {
        "goal_id": goal_id,
        "description": f"{metric} goal {goal_id}",
        "metric": metric,
        "target_value": target,
        "target_kind": "absolute",
        "period_start": period[0],
        "period_end": period[1],
        "owner": "Maria Saarinen",
        **extra,
    }


def contacts() -> pl.LazyFrame:
    rows = [
        ("1", datetime(2026, 6, 3, 9, tzinfo=UTC), 7.0),
        ("2", datetime(2026, 6, 15, 23, tzinfo=UTC), 8.0),  # on as-of: counts
        ("3", datetime(2026, 6, 16, 0, tzinfo=UTC), 10.0),  # after as-of
        ("4", datetime(2026, 6, 5, 9, tzinfo=UTC), None),  # no answer
        ("5", datetime(2026, 5, 20, 9, tzinfo=UTC), 9.0),
    ]
    frame = pl.DataFrame(rows, schema=["contact_id", "created_at", "satisfaction_score"], orient="row")
    return conform(frame.with_columns(pl.lit("hubspot").alias("source_system")), "contact").lazy()


def orders() -> pl.LazyFrame:
    return fct_orders(
        [
            # baseline February to May: 4 x 25,000 = 100,000 (May alone 25,000)
            ("b1", "c0", date(2026, 2, 10), "25000", True, True),
            ("b2", "c0", date(2026, 3, 10), "25000", True, False),
            ("b3", "c0", date(2026, 4, 10), "25000", True, False),
            ("b4", "c0", date(2026, 5, 20), "25000", True, False),
            # June to as-of: 4 revenue orders of 5,000 = 20,000 by c1, c2, c3; first orders c2, c3
            ("j1", "c1", date(2026, 6, 2), "5000", True, False),
            ("j2", "c2", date(2026, 6, 5), "5000", True, True),
            ("j3", "c9", date(2026, 6, 5), "7000", False, False),  # cancelled
            ("j4", "c3", date(2026, 6, 10), "5000", True, True),
            ("j5", "c1", date(2026, 6, 15), "5000", True, False),  # on as-of: counts
            ("j6", "c4", date(2026, 6, 16), "9000", True, True),  # after as-of
        ]
    )


def test_goal_tracking_of_every_metric_and_status() -> None:
    four_months = (date(2026, 6, 1), date(2026, 9, 30))  # 30 + 31 + 31 + 30 = 122 days
    goals = goals_frame(
        [
            goal("g01", "revenue", 50_000, JUNE),
            goal("g02", "sales_growth", 20, four_months, target_kind="pct_vs_baseline",
                 baseline_start=date(2026, 2, 1), baseline_end=date(2026, 5, 31),
                 description="Sell 20% more in the next four months"),
            goal("g03", "new_customers", 10, JUNE),
            goal("g04", "customers", 3, JUNE),
            goal("g05", "avg_order", 4_000, JUNE),
            goal("g06", "satisfaction", 8, JUNE),
            goal("g07", "revenue", 30_000, MAY),
            goal("g08", "satisfaction", 7, MAY),
            goal("g09", "roi", 2, JUNE),
            goal("g10", "revenue", 20, JUNE, target_kind="pct_vs_baseline"),
            goal("g11", "revenue", 50_000, (date(2026, 7, 1), date(2026, 7, 31))),  # not started: no row
            goal("g12", "revenue", 50_000, JUNE, channel="paid_search"),
            goal("g13", "avg_order", 100, (date(2026, 1, 1), date(2026, 1, 31))),
            goal("g14", "revenue", 1_000, (date(2026, 6, 1), date(2026, 5, 1))),
        ]
    )
    out = build_goal_tracking(goals.lazy(), orders(), contacts(), AS_OF).collect()
    # June: 15 of 30 days elapsed
    # g01: expected 50,000 x 15 / 30 = 25,000; 20,000 / 25,000 = 80 % -> off_track; forecast 20,000 / 15 x 30
    # g02: target 100,000 x 1.2 = 120,000; expected 120,000 x 15 / 122 = 14,754.0984;
    #      forecast 20,000 x 122 / 15 = 162,666.6667; attainment 135.6 % -> on_track
    # g03: 2 first orders, expected 5 -> 40 % off_track; g04: 3 customers >= 3 -> achieved mid-period
    # g05: 20,000 / 4 = 5,000 >= 4,000 but a level is only achieved at period end: 125 % -> on_track
    # g06: (7 + 8) / 2 = 7.5 vs 8 -> 93.75 % -> at_risk
    # g07: May is over, 25,000 < 30,000 -> missed; g08: May satisfaction 9 >= 7, period over -> achieved
    # g09 ROI without ad spend given, g10 growth without baseline, g12 channel filter without
    # attribution given, g13 no January orders, g14 period_end before period_start -> insufficient_data
    rows = [
        ("g01", "50000", None, "20000", "25000", 80.0, "40000", "off_track"),
        ("g02", "120000", "100000", "20000", "14754.0984", 2_000_000 / 14754.0984, "162666.6667", "on_track"),
        ("g03", "10", None, "2", "5", 40.0, "4", "off_track"),
        ("g04", "3", None, "3", "1.5", 200.0, "6", "achieved"),
        ("g05", "4000", None, "5000", "4000", 125.0, "5000", "on_track"),
        ("g06", "8", None, "7.5", "8", 93.75, "7.5", "at_risk"),
        ("g07", "30000", None, "25000", "30000", 2_500_000 / 30_000, "25000", "missed"),
        ("g08", "7", None, "9", "7", 900 / 7, "9", "achieved"),
        ("g09", "2", None, None, "2", None, None, "insufficient_data"),
        ("g10", None, None, "20000", None, None, "40000", "insufficient_data"),
        ("g12", "50000", None, None, "25000", None, None, "insufficient_data"),
        ("g13", "100", None, None, "100", None, None, "insufficient_data"),
        ("g14", "1000", None, None, None, None, None, "insufficient_data"),
    ]
    figures = pl.DataFrame(
        rows,
        schema=["goal_id", "target_abs", "baseline_value", "actual_to_date", "expected_to_date", "attainment_pct",
                "forecast_end", "status"],
        orient="row",
    ).with_columns(
        pl.col("target_abs", "baseline_value", "actual_to_date", "expected_to_date", "forecast_end").cast(MONEY),
        pl.col("attainment_pct").cast(pl.Float64),
        pl.lit("linear").alias("pacing"),  # no history a year back
    )
    expected = (
        goals.join(figures, on="goal_id", how="inner")
        .select(pl.lit(AS_OF).alias("as_of_date"), *OUTPUT_COLUMNS)
        .sort("goal_id")
    )
    assert_frame_equal(out, expected)
    assert_matches_ddl(out, "mart_goal_tracking")


@pytest.mark.parametrize(
    ("revenue", "as_of", "expected_to_date", "attainment_pct", "forecast_end", "status"),
    [
        # half-way through June (15 of 30 days): expected 25,000
        ("24900", date(2026, 6, 15), "25000", 99.6, "49800", "on_track"),
        ("24750", date(2026, 6, 15), "25000", 99.0, "49500", "on_track"),
        ("22000", date(2026, 6, 15), "25000", 88.0, "44000", "at_risk"),
        ("21250", date(2026, 6, 15), "25000", 85.0, "42500", "at_risk"),
        ("21000", date(2026, 6, 15), "25000", 84.0, "42000", "off_track"),
        ("20000", date(2026, 6, 15), "25000", 80.0, "40000", "off_track"),
        ("50000", date(2026, 6, 15), "25000", 200.0, "100000", "achieved"),
        # the last day is complete in its own run: the period is over
        ("45000", date(2026, 6, 30), "50000", 90.0, "45000", "missed"),
        ("50000", date(2026, 7, 5), "50000", 100.0, "50000", "achieved"),
        # day 1: expected 50,000 x 1 / 30 = 1,666.6667
        ("0", date(2026, 6, 1), "1666.6667", 0.0, "0", "off_track"),
    ],
)
def test_revenue_goal_pacing(
    revenue: str, as_of: date, expected_to_date: str, attainment_pct: float, forecast_end: str, status: str
) -> None:
    goals = goals_frame([goal("g1", "revenue", 50_000, JUNE)]).lazy()
    sales = fct_orders([("o1", "c1", date(2026, 6, 1), revenue, True, True)])
    out = build_goal_tracking(goals, sales, contacts(), as_of).collect()
    assert out.select("target_abs", "actual_to_date", "expected_to_date", "forecast_end", "status").row(0) == (
        Decimal("50000"),
        Decimal(revenue),
        Decimal(expected_to_date),
        Decimal(forecast_end),
        status,
    )
    assert out["attainment_pct"][0] == pytest.approx(attainment_pct, rel=1e-12)


def test_validate_goals_names_every_goal_that_is_not_smart() -> None:
    goals = goals_frame(
        [
            goal("ok", "revenue", 50_000, JUNE),
            goal("ok-growth", "sales_growth", 20, JUNE, target_kind="pct_vs_baseline",
                 baseline_start=date(2026, 2, 1), baseline_end=date(2026, 5, 31)),
            goal("bad1", "revenue", None, (None, None)),
            goal("bad2", "likes", 100, (date(2026, 6, 30), date(2026, 6, 1))),
            goal("bad3", "sales_growth", 20, JUNE),  # growth is always against a baseline
            goal(None, "revenue", 10, JUNE, target_kind="percent"),
            goal("bad5", "revenue", float("nan"), JUNE, target_kind="pct_vs_baseline",
                 baseline_start=date(2026, 5, 31), baseline_end=date(2026, 2, 1)),
            goal("bad6", "cpa", 100, JUNE, segment="Champions"),
            goal("ok-cpa", "cpa", 100, JUNE, channel="paid_social"),
        ]
    )
    assert validate_goals(goals) == [
        "goal bad1 is not SMART: no target number; no period (period_start and period_end are required)",
        "goal bad2 is not SMART: period_end is before period_start; unknown metric 'likes' (supported: revenue, "
        "new_customers, customers, sales_growth, avg_order, satisfaction, cpa, roi)",
        "goal bad3 is not SMART: growth target without a baseline period (baseline_start and baseline_end)",
        "goal <no goal_id, row 6> is not SMART: unknown target_kind 'percent' (absolute or pct_vs_baseline)",
        "goal bad5 is not SMART: no target number; baseline_end is before baseline_start",
        "goal bad6 is not SMART: cpa cannot be filtered by segment (ad spend is not bought per segment)",
    ]


def ad_spend() -> pl.LazyFrame:
    """fct_ad_spend_daily's day, channel and spend_eur (the columns goal tracking reads)."""
    rows = [
        (date(2026, 6, 1), "paid_social", "1000"),
        (date(2026, 6, 10), "paid_social", "2000"),
        (date(2026, 6, 5), "paid_search", "4000"),
        (date(2026, 6, 20), "paid_search", "9999"),  # after as-of
    ]
    return pl.DataFrame(rows, schema=["day", "channel", "spend_eur"], orient="row").with_columns(
        pl.col("spend_eur").cast(MONEY)
    ).lazy()


def attribution() -> pl.LazyFrame:
    """fct_attribution rows for the June revenue orders of ``orders()``: last touch, plus a first-touch row to ignore."""
    rows = [
        ("j1", "last_touch", "paid_social", "c1", date(2026, 6, 2), False, 1.0, "5000"),
        ("j2", "last_touch", "paid_search", "c2", date(2026, 6, 5), True, 1.0, "5000"),
        ("j2", "first_touch", "paid_social", "c2", date(2026, 6, 5), True, 1.0, "5000"),
        ("j4", "last_touch", "paid_social", "c3", date(2026, 6, 10), True, 1.0, "5000"),
        ("j5", "last_touch", "direct", "c1", date(2026, 6, 15), False, 1.0, "5000"),
    ]
    return pl.DataFrame(
        rows, schema=["order_id", "model", "channel", "customer_id", "order_date", "is_first_order", "credit", "revenue_eur"],
        orient="row",
    ).with_columns(pl.col("revenue_eur").cast(MONEY), pl.lit("(none)").alias("campaign_id")).lazy()


def segments() -> pl.DataFrame:
    return pl.DataFrame({
        "customer_id": ["c1", "c2", "c3"],
        "rfm_segment": ["Champions", "At Risk", "New Customers"],
        "persona": ["Tech innovator", "Luxury traveller", "Luxury traveller"],
        "value_tier": ["top", "high", "mid"],
    })


def test_cpa_roi_and_channel_and_segment_filters() -> None:
    goals = goals_frame([
        goal("c01", "cpa", 4_000, JUNE),
        goal("c02", "cpa", 2_000, JUNE, channel="paid_social"),
        goal("c03", "roi", 2, JUNE),
        goal("c04", "roi", 0.5, JUNE, channel="paid_search"),
        goal("c05", "revenue", 20_000, JUNE, channel="paid_social"),
        goal("c06", "new_customers", 4, JUNE, channel="paid_search"),
        goal("c07", "revenue", 30_000, JUNE, segment="Champions"),
        goal("c08", "revenue", 20_000, JUNE, segment="persona=Luxury traveller"),
        goal("c09", "cpa", 100, JUNE, segment="Champions"),
        goal("c10", "revenue", 100, JUNE, segment="loyalty_tier=gold"),
        goal("c11", "cpa", 3_000, MAY),
    ])
    out = build_goal_tracking(goals.lazy(), orders(), contacts(), AS_OF, ad_spend=ad_spend(),
                              attribution=attribution(), segments=segments()).collect()
    got = {r["goal_id"]: (r["actual_to_date"], r["expected_to_date"], r["status"], r["attainment_pct"])
           for r in out.iter_rows(named=True)}
    # c01: spend 1,000 + 2,000 + 4,000 = 7,000 over 2 new customers (j2, j4) = 3,500 EUR CPA;
    #      target 4,000, lower is better: 4,000 / 3,500 = 114.29 % -> on_track
    assert got["c01"][:3] == (Decimal("3500"), Decimal("4000"), "on_track")
    assert got["c01"][3] == pytest.approx(400_000 / 3_500, rel=1e-12)
    # c02: paid_social spend 3,000 over its last-touch new customer j4 = 3,000; 2,000 / 3,000 -> off_track
    assert got["c02"][:3] == (Decimal("3000"), Decimal("2000"), "off_track")
    # c03: (20,000 - 7,000) / 7,000 = 1.8571; 1.8571 / 2 = 92.86 % -> at_risk
    assert got["c03"][:3] == (Decimal("1.8571"), Decimal("2"), "at_risk")
    # c04: paid_search (5,000 - 4,000) / 4,000 = 0.25 against 0.5 -> off_track
    assert got["c04"][:3] == (Decimal("0.25"), Decimal("0.5"), "off_track")
    # c05: paid_social last touch j1 + j4 = 10,000 = expected 20,000 x 15 / 30 -> on_track (100 %)
    assert got["c05"][:3] == (Decimal("10000"), Decimal("10000"), "on_track")
    # c06: paid_search new customers: j2 only (first-touch rows ignored)
    assert got["c06"][:3] == (Decimal("1"), Decimal("2"), "off_track")
    # c07: Champions = c1: j1 + j5 = 10,000 against 15,000 expected -> 66.7 % off_track
    assert got["c07"][:3] == (Decimal("10000"), Decimal("15000"), "off_track")
    # c08: persona Luxury traveller = c2, c3: j2 + j4 = 10,000 = expected -> on_track
    assert got["c08"][:3] == (Decimal("10000"), Decimal("10000"), "on_track")
    # c09: CPA cannot be filtered by segment; c10: no such segment column; c11: no May spend, no May new customer
    assert [got[g][2] for g in ("c09", "c10", "c11")] == ["insufficient_data"] * 3
    assert [got[g][0] for g in ("c09", "c10", "c11")] == [None] * 3
    assert out.filter(pl.col("goal_id") == "c02")["channel"].to_list() == ["paid_social"]
    assert_matches_ddl(out, "mart_goal_tracking")


def test_cpa_achieved_at_period_end_when_at_or_below_target() -> None:
    goals = goals_frame([goal("a", "cpa", 3_500, JUNE), goal("b", "cpa", 3_499, JUNE)])
    june_end = date(2026, 6, 30)  # no spend or new customers after the 15th in this data
    out = build_goal_tracking(goals.lazy(), orders().filter(pl.col("order_date") <= AS_OF), contacts(), june_end,
                              ad_spend=ad_spend().filter(pl.col("day") <= AS_OF)).collect()
    assert out.select("goal_id", "actual_to_date", "status").rows() == [
        ("a", Decimal("3500"), "achieved"),
        ("b", Decimal("3500"), "missed"),
    ]


def test_seasonal_pacing_follows_last_years_shape() -> None:
    # the June 2026 window shifted back 52 weeks is 2025-06-02..2025-07-01; as-of 2026-06-15 -> 2025-06-16
    last_year = [
        ("h0", "c0", date(2025, 5, 1), "100", True, True),  # history reaches back before the window
        ("h1", "c0", date(2025, 6, 5), "3000", True, False),  # in the to-date part
        ("h2", "c0", date(2025, 6, 20), "7000", True, False),  # later in the window
    ]
    sales = pl.concat([fct_orders(last_year), orders()])
    goals = goals_frame([goal("s", "revenue", 50_000, JUNE), goal("l", "avg_order", 4_000, JUNE)])
    out = build_goal_tracking(goals.lazy(), sales, contacts(), AS_OF).collect()
    seasonal = out.filter(pl.col("goal_id") == "s").row(0, named=True)
    # expected = 50,000 x 3,000 / 10,000 = 15,000 (linear would be 25,000); 20,000 / 15,000 = 133 %
    assert (seasonal["pacing"], seasonal["expected_to_date"], seasonal["status"]) == ("seasonal", Decimal("15000"),
                                                                                        "on_track")
    assert seasonal["attainment_pct"] == pytest.approx(2_000_000 / 15_000, rel=1e-12)
    assert out.filter(pl.col("goal_id") == "l")["pacing"].to_list() == ["linear"]  # levels are never paced
