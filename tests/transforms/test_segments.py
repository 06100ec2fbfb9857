from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.entities import MONEY, UTC_TS, conform
from pipeline.transforms.segments import (
    RFM_SEGMENT_RULES,
    SEGMENTATIONS,
    build_customer_segments,
    build_rfm,
    build_segment_summary,
    rfm_segment_expr,
)
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

AS_OF = date(2026, 6, 30)




def fct_orders(rows: list[tuple]) -> pl.LazyFrame:
    """Rows of (order_id, customer_id, order_date, net EUR[, is_revenue[, price_tier]]), all in EUR."""
    records = []
    for order_id, customer_id, day, net, *rest in rows:
        is_revenue = rest[0] if rest else True
        amount = Decimal(str(net))
        records.append(
            {
                "order_id": order_id,
                "source_system": "shopify",
                "customer_id": customer_id,
                "ordered_at": datetime.combine(day, time(12), tzinfo=UTC),
                "order_date": day,
                "currency_code": "EUR",
                "gross": amount,
                "discounts": Decimal(0),
                "refunds": Decimal(0),
                "net_revenue": amount,
                "gross_eur": amount,
                "net_revenue_eur": amount,
                "status": "paid" if is_revenue else "cancelled",
                "is_revenue": is_revenue,
                "is_first_order": False,
                "product_category": "general",
                "price_tier": rest[1] if len(rest) > 1 else "mid",
            }
        )
    return pl.DataFrame(records, schema=FCT_ORDERS_SCHEMA).lazy()


def rfm_expected(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        [(c, rec, freq, Decimal(str(mon)), r, f, m) for c, rec, freq, mon, r, f, m in rows],
        schema={
            "customer_id": pl.Utf8,
            "recency_days": pl.Int64,
            "frequency": pl.Int64,
            "monetary_eur": MONEY,
            "r_score": pl.Int32,
            "f_score": pl.Int32,
            "m_score": pl.Int32,
        },
        orient="row",
    )


# ---- RFM segment rules


def test_rfm_rules_assign_every_cell_and_reach_every_segment() -> None:
    cells = pl.DataFrame(list(itertools.product(range(1, 6), repeat=3)), schema=["r", "f", "m"], orient="row")
    segments = cells.select(rfm_segment_expr("r", "f", "m").alias("segment"))["segment"]
    assert cells.height == 125
    assert segments.null_count() == 0
    names = [name for name, _ in RFM_SEGMENT_RULES]
    assert len(names) == 11
    assert set(segments) == set(names) == {
        "Champions",
        "Loyal Customers",
        "Potential Loyalists",
        "New Customers",
        "Promising",
        "Need Attention",
        "About to Sleep",
        "At Risk",
        "Can't Lose Them",
        "Hibernating",
        "Lost",
    }
    # the cell counts documented in the module docstring; they add up to 125
    counts = dict(segments.value_counts().iter_rows())
    assert counts == {
        "Champions": 8,
        "Loyal Customers": 19,
        "New Customers": 5,
        "Promising": 5,
        "Potential Loyalists": 22,
        "About to Sleep": 4,
        "Need Attention": 12,
        "Can't Lose Them": 4,
        "At Risk": 14,
        "Hibernating": 16,
        "Lost": 16,
    }
    # the last rule is the named catch-all
    assert RFM_SEGMENT_RULES[-1] == ("Lost", {})


@pytest.mark.parametrize(
    ("r", "f", "m", "segment"),
    [
        (5, 5, 5, "Champions"),
        (4, 4, 4, "Champions"),
        (3, 3, 3, "Loyal Customers"),
        (5, 3, 5, "Loyal Customers"),
        (5, 1, 5, "New Customers"),
        (4, 1, 1, "Promising"),
        (5, 2, 1, "Potential Loyalists"),
        (4, 5, 2, "Potential Loyalists"),
        (3, 2, 2, "About to Sleep"),
        (3, 1, 5, "Need Attention"),
        (1, 5, 5, "Can't Lose Them"),
        (1, 3, 5, "At Risk"),
        (2, 5, 5, "At Risk"),
        (2, 1, 1, "Hibernating"),
        (2, 5, 1, "Hibernating"),
        (1, 1, 1, "Lost"),
        (1, 5, 2, "Lost"),
        (None, 5, 5, None),
    ],
)
def test_rfm_segment_of_a_cell(r: int | None, f: int, m: int, segment: str | None) -> None:
    frame = pl.DataFrame({"r": [r], "f": [f], "m": [m]}, schema={"r": pl.Int32, "f": pl.Int32, "m": pl.Int32})
    assert frame.select(rfm_segment_expr(pl.col("r"), "f", "m").alias("s"))["s"].to_list() == [segment]


# ---- build_rfm


def test_rfm_quintiles_of_ten_distinct_customers() -> None:
    # customer c<i> has i orders of 10 EUR, the last one i - 1 days before as-of, one a day before that
    rows = [
        (f"o{i}-{k}", f"c{i:02d}", AS_OF - timedelta(days=i - 1 + k), 10)
        for i in range(1, 11)
        for k in range(i)
    ]
    out = build_rfm(fct_orders(rows), AS_OF, 365).collect()
    # n = 10, score = ceil(5 x rank / 10) = ceil(rank / 2): ranks 1..10 -> 1,1,2,2,3,3,4,4,5,5
    # f and m: c<i> has rank i; r: recency i - 1 days, the oldest (c10) has rank 1, so c<i> has rank 11 - i
    score = [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]  # score[rank]
    expected = rfm_expected(
        [(f"c{i:02d}", i - 1, i, 10 * i, score[11 - i], score[i], score[i]) for i in range(1, 11)]
    )
    assert_frame_equal(out, expected)


def test_rfm_window_ties_and_non_revenue_orders() -> None:
    # window (2026-05-31, 2026-06-30] with window_days = 30
    rows = [
        ("a1", "a", date(2026, 6, 20), 100),
        ("b1", "b", date(2026, 6, 20), 100),
        ("c1", "c", date(2026, 6, 20), 50),
        ("c2", "c", date(2026, 6, 25), 999, False),  # cancelled: changes neither recency nor money
        ("d1", "d", date(2026, 6, 1), 100),  # first day of the window: counts
        ("d2", "d", date(2026, 6, 20), 200),
        ("e0", "e", date(2026, 5, 31), 500),  # as_of - 30 days: outside
        ("e1", "e", date(2026, 6, 10), 100),
        ("e2", "e", date(2026, 6, 15), 100),
        ("e3", "e", date(2026, 6, 20), 100),
        ("e4", "e", date(2026, 7, 1), 500),  # after as-of
        ("f1", "f", date(2026, 5, 31), 70),  # only outside the window: no row
        ("g1", None, date(2026, 6, 20), 70),  # no customer: no row
    ]
    out = build_rfm(fct_orders(rows), AS_OF, 30).collect()
    # n = 5. recency: all 10 days, one tie, min rank 1 -> ceil(5 x 1 / 5) = 1 for all
    # frequency 1,1,1,2,3 -> min ranks 1,1,1,4,5 -> scores 1,1,1,4,5
    # monetary a 100, b 100, c 50, d 300, e 300 -> min ranks 2,2,1,4,4 -> scores 2,2,1,4,4
    expected = rfm_expected(
        [
            ("a", 10, 1, 100, 1, 1, 2),
            ("b", 10, 1, 100, 1, 1, 2),
            ("c", 10, 1, 50, 1, 1, 1),
            ("d", 10, 2, 300, 1, 4, 4),
            ("e", 10, 3, 300, 1, 5, 4),
        ]
    )
    assert_frame_equal(out, expected)


def test_rfm_with_fewer_than_five_customers() -> None:
    rows = [
        ("x1", "x", date(2026, 5, 31), 10),
        ("y1", "y", date(2026, 6, 9), 10),
        ("y2", "y", date(2026, 6, 10), 10),
        ("z1", "z", date(2026, 6, 18), 10),
        ("z2", "z", date(2026, 6, 19), 10),
        ("z3", "z", date(2026, 6, 20), 10),
    ]
    out = build_rfm(fct_orders(rows), AS_OF, 365).collect()
    # n = 3, ranks 1, 2, 3 -> ceil(5/3) = 2, ceil(10/3) = 4, ceil(15/3) = 5
    expected = rfm_expected(
        [("x", 30, 1, 10, 2, 2, 2), ("y", 20, 2, 20, 4, 4, 4), ("z", 10, 3, 30, 5, 5, 5)]
    )
    assert_frame_equal(out, expected)
    # one customer is the best of one: 5, 5, 5
    single = build_rfm(fct_orders(rows[:1]), AS_OF, 365).collect()
    assert_frame_equal(single, rfm_expected([("x", 30, 1, 10, 5, 5, 5)]))
    # no customers in the window: no rows, same columns
    empty = build_rfm(fct_orders(rows), date(2025, 1, 1), 365).collect()
    assert_frame_equal(empty, rfm_expected([]))


# ---- build_customer_segments


def _ts(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=UTC)


def world_contacts() -> pl.LazyFrame:
    rows = [
        {"contact_id": "1", "source_system": "hubspot", "customer_id": "p1", "created_at": _ts(date(2026, 1, 5)),
         "birth_year": 1990, "gender": "female", "purchase_motive": "Value", "values_orientation": "price",
         "education": "Master", "country_code": "FI", "language": "fi"},
        {"contact_id": "2", "source_system": "hubspot", "customer_id": "b2b", "created_at": _ts(date(2025, 3, 1)),
         "company": "Nordic Logistics Oy", "employees": 250, "industry": "COMPUTER_SOFTWARE", "revenue_band": "10-50M"},
        # lux has two records: each field comes from the newest record that has it
        {"contact_id": "3", "source_system": "hubspot", "customer_id": "lux", "created_at": _ts(date(2026, 2, 1)),
         "gender": "male", "income_band": "150k+", "purchase_motive": "status", "values_orientation": "quality"},
        {"contact_id": "S-9", "source_system": "salesforce", "customer_id": "lux",
         "created_at": _ts(date(2025, 2, 1)), "birth_year": 1960, "gender": "female", "purchase_motive": "value"},
        {"contact_id": "4", "source_system": "hubspot", "customer_id": "tech", "created_at": _ts(date(2026, 4, 1)),
         "birth_year": 2010, "gender": "other", "values_orientation": "innovation"},
        {"contact_id": "5", "source_system": "hubspot", "customer_id": "gen", "created_at": _ts(date(2025, 9, 1)),
         "birth_year": 2001, "gender": "Female", "company": "Solo Oy", "employees": 3, "income_band": "60-100k",
         "purchase_motive": "convenience"},
        {"contact_id": "6", "source_system": "hubspot", "customer_id": "lapsed", "created_at": _ts(date(2024, 12, 1)),
         "birth_year": 1980, "purchase_motive": "value", "values_orientation": "price"},
        # created after as-of: not in the snapshot
        {"contact_id": "7", "source_system": "hubspot", "customer_id": "late", "created_at": _ts(date(2026, 7, 1), 0)},
        # no customer id: not a customer
        {"contact_id": "8", "source_system": "hubspot", "customer_id": None, "created_at": _ts(date(2026, 1, 1))},
    ]
    return conform(pl.DataFrame(rows, infer_schema_length=None), "contact").lazy()


def world_orders() -> pl.LazyFrame:
    return fct_orders(
        [
            ("o1-1", "o1", date(2026, 6, 1), 200, True, "luxury"),
            ("o1-2", "o1", date(2026, 6, 10), 200, True, "luxury"),
            ("o1-3", "o1", date(2026, 6, 25), 200, True, "mid"),
            ("b2b-1", "b2b", date(2026, 5, 1), 200),
            ("b2b-2", "b2b", date(2026, 6, 28), 500, False),  # refunded: not revenue
            ("lux-1", "lux", date(2026, 6, 29), 100),
            ("gen-1", "gen", date(2026, 3, 1), 40),
            ("lapsed-1", "lapsed", date(2025, 1, 10), 60),  # before the 365-day window
            ("late-1", "late", date(2026, 7, 2), 80),  # after as-of
        ]
    )


def world_touchpoints() -> pl.LazyFrame:
    rows = [
        # p1: 5 touches in the 30 days (the first exactly at the window's start) -> highly_engaged
        ("t1", "p1", _ts(date(2026, 6, 1), 0), "click"),
        ("t2", "p1", _ts(date(2026, 6, 10)), "click"),
        ("t3", "p1", _ts(date(2026, 6, 11)), "email_open"),
        ("t4", "p1", _ts(date(2026, 6, 12)), "visit"),
        ("t5", "p1", _ts(date(2026, 6, 20)), "pricing_visit"),
        ("t6", "p1", _ts(date(2026, 7, 1), 8), "demo_request"),  # after as-of
        # b2b: impressions only in the 30 days, webinar and trial in the 90 -> cooling, trial
        ("t7", "b2b", _ts(date(2026, 6, 20)), "impression"),
        ("t8", "b2b", _ts(date(2026, 6, 21)), "impression"),
        ("t9", "b2b", _ts(date(2026, 5, 1)), "webinar"),
        ("t10", "b2b", _ts(date(2026, 5, 2)), "trial"),
        # lux: one touch in the 30 days, one a second before them -> engaged, demo_request
        ("t11", "lux", _ts(date(2026, 5, 31), 23, 59, 59), "click"),
        ("t12", "lux", _ts(date(2026, 6, 20)), "demo_request"),
        # gen: only before the 90 days (they start 2026-04-02 00:00 UTC) -> dormant, none
        ("t13", "gen", _ts(date(2026, 4, 1), 23, 59, 59), "pricing_visit"),
        ("t14", "gen", _ts(date(2026, 3, 1)), "click"),
        ("t15", None, _ts(date(2026, 6, 20)), "demo_request"),
    ]
    frame = pl.DataFrame(rows, schema=["touchpoint_id", "customer_id", "ts", "touch_type"], orient="row")
    return conform(frame, "touchpoint").lazy()


def test_customer_segments_of_a_small_world() -> None:
    out = build_customer_segments(world_orders(), world_contacts(), world_touchpoints(), AS_OF).collect()
    # RFM over (2025-06-30, 2026-06-30], n = 4 scored customers: o1, b2b, lux, gen
    # recency: gen 121 (rank 1), b2b 60 (2), o1 5 (3), lux 1 (4) -> ceil(5 x rank / 4) = 2, 3, 4, 5
    # frequency: b2b, lux, gen 1 (rank 1 -> 2), o1 3 (rank 4 -> 5)
    # monetary: gen 40 (1 -> 2), lux 100 (2 -> 3), b2b 200 (3 -> 4), o1 600 (4 -> 5)
    # segments: o1 (4,5,5) Champions; b2b (3,2,4) Need Attention; lux (5,2,3) Potential Loyalists;
    # gen (2,2,2) Hibernating; lapsed: orders, none in window -> Lost; p1, tech: never bought -> Prospects
    # value (revenue up to as-of): o1 600, b2b 200, lux 100, lapsed 60, gen 40; total 1000
    # value ahead: o1 0 top, b2b 600 < 800 top, lux 800 middle, lapsed 900 < 950 middle, gen 960 low
    # ages in 2026: p1 36, lux 66, tech 16 (unknown), gen 25, lapsed 46
    expected = pl.DataFrame(
        [
            ("b2b", 60, 1, "200", 3, 2, 4, "Need Attention", "top", "cooling", "trial",
             "unknown unknown", "unknown/unknown", "B2B account"),
            ("gen", 121, 1, "40", 2, 2, 2, "Hibernating", "low", "dormant", "none",
             "25-34 female", "convenience/unknown", "General"),
            ("lapsed", None, None, None, None, None, None, "Lost", "middle", "dormant", "none",
             "45-54 unknown", "value/price", "Price-sensitive occasional"),
            ("lux", 1, 1, "100", 5, 2, 3, "Potential Loyalists", "middle", "engaged", "demo_request",
             "65+ male", "status/quality", "Luxury buyer"),
            # o1: 2 of 3 orders luxury -> Luxury buyer; not a contact -> unknown profile
            ("o1", 5, 3, "600", 4, 5, 5, "Champions", "top", "dormant", "none",
             "unknown unknown", "unknown/unknown", "Luxury buyer"),
            ("p1", None, None, None, None, None, None, "Prospects", "none", "highly_engaged", "pricing_visit",
             "35-44 female", "value/price", "Price-sensitive occasional"),
            ("tech", None, None, None, None, None, None, "Prospects", "none", "dormant", "none",
             "unknown other", "unknown/innovation", "Tech professional"),
        ],
        schema=[
            "customer_id", "recency_days", "frequency", "monetary_eur", "r_score", "f_score", "m_score",
            "rfm_segment", "value_tier", "engagement_segment", "intent_segment", "demographic_segment",
            "psychographic_segment", "persona",
        ],
        orient="row",
    ).select(
        pl.lit(AS_OF).alias("as_of_date"),
        pl.col("customer_id"),
        pl.col("recency_days").cast(pl.Int64),
        pl.col("frequency").cast(pl.Int64),
        pl.col("monetary_eur").cast(MONEY),
        pl.col("r_score", "f_score", "m_score").cast(pl.Int32),
        pl.all().exclude(
            "customer_id", "recency_days", "frequency", "monetary_eur", "r_score", "f_score", "m_score"
        ),
    )
    assert_frame_equal(out.select(expected.columns), expected)
    assert_matches_ddl(out, "mart_customer_segments")


def world_deals() -> pl.LazyFrame:
    """Deal rows of every extraction up to as-of (a deal can appear once per export)."""
    rows = [
        ("A", "b2b", "contract", date(2026, 5, 1)),
        ("B", "b2b", "closed_lost", date(2026, 2, 1)),
        ("C", "lux", "closed_won", date(2026, 6, 1)),
        ("D", "lux", "appointment", date(2026, 7, 5)),  # created after as-of
        ("E", "gen", "closed_lost", date(2026, 3, 1)),
        # an earlier export of B: it reached decision before it was lost, still short of A's contract
        ("B", "b2b", "decision", date(2026, 2, 1)),
        # gen's deal was at presentation in an earlier export: the furthest stage it was seen in counts
        ("E", "gen", "presentation", date(2026, 3, 1)),
        ("L", "lapsed", "closed_lost", date(2025, 1, 1)),  # only ever seen lost
        ("F", "p1", None, date(2026, 6, 1)),  # no known stage
        ("G", "tech", "qualified", date(2026, 7, 1)),  # created after as-of: tech has no deal yet
        ("H", None, "closed_won", date(2026, 6, 1)),
    ]
    frame = pl.DataFrame(rows, schema=["deal_id", "customer_id", "stage", "created_date"], orient="row")
    return conform(frame, "deal").lazy()


def test_demographic_firmographic_and_cluster_columns_of_the_small_world() -> None:
    out = build_customer_segments(
        world_orders(), world_contacts(), world_touchpoints(), AS_OF, deals=world_deals()
    ).collect()
    columns = ["customer_id", "age_band", "gender", "income_band", "education", "country_code", "language",
               "industry", "company_size_band", "revenue_band", "deal_stage_depth", "cluster"]
    expected = pl.DataFrame(
        [
            ("b2b", "unknown", "unknown", "unknown", "unknown", "unknown", "unknown", "computer software",
             "250-999", "10-50M", "contract", 2),
            ("gen", "25-34", "female", "60-100k", "unknown", "unknown", "unknown", "unknown", "1-9", "unknown",
             "presentation", 4),
            ("lapsed", "45-54", "unknown", "unknown", "unknown", "unknown", "unknown", "unknown", "unknown",
             "unknown", "closed_lost", None),
            ("lux", "65+", "male", "150k+", "unknown", "unknown", "unknown", "unknown", "unknown", "unknown",
             "closed_won", 3),
            ("o1", "unknown", "unknown", "unknown", "unknown", "unknown", "unknown", "unknown", "unknown", "unknown",
             "no deal", 1),
            ("p1", "35-44", "female", "unknown", "master", "FI", "fi", "unknown", "unknown", "unknown", "unknown",
             None),
            ("tech", "unknown", "other", "unknown", "unknown", "unknown", "unknown", "unknown", "unknown", "unknown",
             "no deal", None),
        ],
        schema=columns,
        orient="row",
    ).with_columns(pl.col("cluster").cast(pl.Int32))
    # 4 scored customers, k = 4: one cluster each, numbered by monetary value o1 600, b2b 200, lux 100, gen 40
    assert_frame_equal(out.select(columns), expected)
    descriptions = out.filter(pl.col("cluster").is_not_null())
    assert all(d.startswith(f"{c}: ") for c, d in descriptions.select("cluster", "cluster_description").iter_rows())
    assert out.filter(pl.col("cluster").is_null())["cluster_description"].null_count() == 3
    # without deals every customer has "no deal"
    no_deals = build_customer_segments(world_orders(), world_contacts(), world_touchpoints(), AS_OF).collect()
    assert set(no_deals["deal_stage_depth"]) == {"no deal"}


def test_value_tiers_share_a_tier_on_ties() -> None:
    # values 500, 300, 100, 30, 30, 30, 10 (total 1000), one of 0 and one of -10
    values = {"A": 500, "B": 300, "C": 100, "D": 30, "E": 30, "F": 30, "G": 10, "H": 0, "I": -10}
    orders = fct_orders([(f"{c}-1", c, date(2026, 6, 1), v) for c, v in values.items()])
    contacts = conform(pl.DataFrame(schema={"customer_id": pl.Utf8}), "contact").lazy()
    touches = conform(pl.DataFrame(schema={"customer_id": pl.Utf8}), "touchpoint").lazy()
    out = build_customer_segments(orders, contacts, touches, AS_OF).collect()
    # value ahead: A 0, B 500 -> top (A + B carry exactly 80 %); C 800 -> middle;
    # D, E, F tie: all have 900 ahead -> middle (E and F would have 930 and 960 one by one); G 990 -> low
    assert dict(out.select("customer_id", "value_tier").iter_rows()) == {
        "A": "top",
        "B": "top",
        "C": "middle",
        "D": "middle",
        "E": "middle",
        "F": "middle",
        "G": "low",
        "H": "none",
        "I": "none",
    }


# ---- build_segment_summary


def test_segment_summary_of_the_small_world() -> None:
    segments = build_customer_segments(world_orders(), world_contacts(), world_touchpoints(), AS_OF)
    older = build_customer_segments(world_orders(), world_contacts(), world_touchpoints(), date(2026, 1, 31))
    out = build_segment_summary(
        pl.concat([older, segments]), world_orders(), AS_OF, min_customers=2, min_share=0.25
    ).collect()
    assert_matches_ddl(out, "mart_segment_summary")
    # every segmentation partitions the 7 customers of the as-of snapshot, in SEGMENTATIONS order
    assert out["segmentation"].unique(maintain_order=True).to_list() == list(SEGMENTATIONS)
    assert out.group_by("segmentation").agg(pl.col("customers").sum())["customers"].to_list() == [7] * len(
        SEGMENTATIONS
    )
    assert dict(out.filter(pl.col("segmentation") == "rfm_segment").select("segment", "customers").iter_rows()) == {
        "Champions": 1,
        "Hibernating": 1,
        "Lost": 1,
        "Need Attention": 1,
        "Potential Loyalists": 1,
        "Prospects": 2,
    }
    # value tiers: top {o1 600 in 3 orders, b2b 200 in 1}, middle {lux 100, lapsed 60}, low {gen 40},
    # none {p1, tech: no orders}
    # top: share 2/7 x 100; avg 800/4 = 200; CV: mean 400, population std 200 -> 0.5; share 0.29 >= 0.25
    # middle: avg 160/2 = 80; CV: mean 80, std 20 -> 0.25
    # low: 1 customer < min_customers 2 -> not size_ok; CV 0 / 40 = 0
    # none: no orders -> avg NULL, CV NULL (mean 0)
    expected = pl.DataFrame(
        [
            ("value_tier", "low", 1, 1 / 7 * 100, 1, "40", 1, "40", 1.0, 100.0, 0.0, False),
            ("value_tier", "middle", 2, 2 / 7 * 100, 2, "160", 2, "80", 1.0, 100.0, 0.25, True),
            ("value_tier", "none", 2, 2 / 7 * 100, 0, "0", 0, None, 0.0, 0.0, None, True),
            ("value_tier", "top", 2, 2 / 7 * 100, 2, "800", 4, "200", 2.0, 100.0, 0.5, True),
        ],
        schema=[
            "segmentation", "segment", "customers", "share_pct", "buyers", "revenue_eur", "orders",
            "avg_order_eur", "orders_per_customer", "conversion_rate_pct", "value_cv", "size_ok",
        ],
        orient="row",
    ).select(
        pl.lit(AS_OF).alias("as_of_date"),
        "segmentation",
        "segment",
        pl.col("customers").cast(pl.Int64),
        pl.col("share_pct").cast(pl.Float64),
        pl.col("buyers").cast(pl.Int64),
        pl.col("revenue_eur").cast(MONEY),
        pl.col("orders").cast(pl.Int64),
        pl.col("avg_order_eur").cast(MONEY),
        pl.col("orders_per_customer", "conversion_rate_pct", "value_cv").cast(pl.Float64),
        "size_ok",
        pl.lit(None, MONEY).alias("clv_eur"),
        pl.lit(None, MONEY).alias("cac_eur"),
    )
    assert_frame_equal(out.filter(pl.col("segmentation") == "value_tier"), expected)


def test_segment_summary_predicted_value_and_acquisition_cost() -> None:
    segments = build_customer_segments(world_orders(), world_contacts(), world_touchpoints(), AS_OF)
    values = pl.DataFrame(
        {
            # top: o1, b2b; middle: lux, lapsed; low: gen; none: p1, tech
            "customer_id": ["o1", "b2b", "lux", "lapsed", "gen", "p1"],
            "predicted_clv_12m_eur": ["300", "100", "50", None, "10", "0"],
            "acquisition_cost_eur": ["40", None, "25", "35", None, None],  # None: acquired without ad spend
        }
    ).with_columns(pl.col("predicted_clv_12m_eur", "acquisition_cost_eur").cast(MONEY))
    out = build_segment_summary(segments, world_orders(), AS_OF, customer_values=values.lazy()).collect()
    tiers = {r["segment"]: (r["clv_eur"], r["cac_eur"])
             for r in out.filter(pl.col("segmentation") == "value_tier").iter_rows(named=True)}
    # top: CLV (300 + 100) / 2, CAC 40 (b2b has none); middle: CLV 50 (lapsed has none), CAC (25 + 35) / 2
    # low: CLV 10, no CAC; none: CLV (0) over p1 only (tech has no row), no CAC
    assert tiers == {
        "top": (Decimal("200"), Decimal("40")),
        "middle": (Decimal("50"), Decimal("30")),
        "low": (Decimal("10"), None),
        "none": (Decimal("0"), None),
    }
    assert_matches_ddl(out, "mart_segment_summary")
