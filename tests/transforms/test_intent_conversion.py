from __future__ import annotations

from datetime import UTC, date, datetime, time

import polars as pl
from polars.testing import assert_frame_equal

from pipeline.entities import MONEY, conform
from pipeline.transforms.intent_conversion import INTENT_SIGNALS, build_intent_conversion
from tests.transforms.ddl import assert_matches_ddl
from tests.transforms.test_segments import fct_orders

AS_OF = date(2026, 6, 30)


def _ts(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=UTC)


def touches(rows: list[tuple]) -> pl.LazyFrame:
    frame = pl.DataFrame(rows, schema=["touchpoint_id", "customer_id", "ts", "touch_type"], orient="row")
    return conform(frame, "touchpoint").lazy()


def deals(rows: list[tuple]) -> pl.LazyFrame:
    frame = pl.DataFrame(rows, schema=["deal_id", "customer_id", "stage", "is_won", "close_date"], orient="row")
    return conform(frame, "deal").lazy()


def contacts(rows: list[tuple]) -> pl.LazyFrame:
    frame = pl.DataFrame(rows, schema=["contact_id", "customer_id", "created_at"], orient="row")
    return conform(frame.with_columns(pl.lit("hubspot").alias("source_system")), "contact").lazy()


def expected(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema=["intent_signal", "customers", "converted_customers", "conversion_rate_pct", "lift_vs_none",
                "avg_days_to_convert", "converted_revenue_eur"],
        orient="row",
    ).select(
        pl.lit(AS_OF).alias("as_of_date"),
        "intent_signal",
        pl.lit(date(2026, 3, 3)).alias("signal_window_start"),
        pl.lit(date(2026, 5, 31)).alias("signal_window_end"),
        pl.lit(30, pl.Int32).alias("conversion_days"),
        pl.col("customers", "converted_customers").cast(pl.Int64),
        pl.col("conversion_rate_pct", "lift_vs_none", "avg_days_to_convert").cast(pl.Float64),
        pl.col("converted_revenue_eur").cast(pl.Utf8).cast(MONEY),
    )


def test_intent_conversion_of_a_small_world() -> None:
    # signal window: UTC days 2026-03-03 .. 2026-05-31 (as-of - 30 days, 90 days long)
    touch_rows = [
        ("1", "w1", _ts(date(2026, 5, 10), 10), "webinar"),
        ("2", "w1", _ts(date(2026, 5, 11)), "click"),  # not an intent signal
        ("3", "w2", _ts(date(2026, 5, 15), 11, 59, 59), "Webinar"),  # its order comes 30 days + 1 s later
        ("4", "w2", _ts(date(2026, 5, 1)), "pricing_visit"),
        ("5", "t1", _ts(date(2026, 4, 1)), "trial"),  # the first trial counts: order exactly 30 days later
        ("6", "t1", _ts(date(2026, 5, 25)), "trial"),
        ("7", "d1", _ts(date(2026, 5, 31), 23), "demo_request"),  # last hour of the window; deal won that day
        ("8", "d2", _ts(date(2026, 6, 1), 0), "demo_request"),  # too young: outside the window
        ("9", "d3", _ts(date(2026, 3, 2), 23, 59, 59), "demo_request"),  # before the window
        ("10", "p1", _ts(date(2026, 3, 5), 15), "pricing_visit"),  # its order was 3 hours before it
        ("11", None, _ts(date(2026, 5, 5)), "webinar"),
    ]
    order_rows = [
        ("w1-1", "w1", date(2026, 5, 20), 100),  # 10 days after the webinar
        ("w2-1", "w2", date(2026, 6, 14), 60),
        ("t1-1", "t1", date(2026, 5, 1), 200),
        ("t1-2", "t1", date(2026, 6, 10), 50),  # only inside the second trial's window
        ("p1-1", "p1", date(2026, 3, 5), 70),
        ("p1-2", "p1", date(2026, 3, 10), 70, False),  # cancelled
        ("d3-1", "d3", date(2026, 6, 15), 80),
        ("n1-1", "n1", date(2026, 7, 1), 90),  # after as-of
        ("n2-1", "n2", date(2026, 6, 15), 10),  # n2 became known after the window
        ("n3-1", "n3", date(2026, 5, 1), 30),  # known from this order
        ("n3-2", "n3", date(2026, 6, 5), 40),
    ]
    deal_rows = [
        ("D1", "d1", "closed_won", True, date(2026, 5, 31)),
        ("D2", "w2", "closed_won", True, date(2026, 5, 14)),  # before the webinar, 13 days after the pricing visit
        ("D3", "n1", "closed_lost", False, date(2026, 6, 20)),
    ]
    contact_rows = [(c, c, _ts(date(2026, 1, 1))) for c in ("w1", "w2", "t1", "d1", "d2", "d3", "p1", "n1")]
    contact_rows.append(("n2", "n2", _ts(date(2026, 6, 10))))
    out = build_intent_conversion(
        touches(touch_rows), fct_orders(order_rows), deals(deal_rows), contacts(contact_rows), AS_OF
    ).collect()
    # none = known by 2026-05-31 without a signal in the window: d2, d3, n1, n3; converted d3 (80), n3 (40)
    assert_frame_equal(
        out,
        expected(
            [
                ("demo_request", 1, 1, 100.0, 2.0, 0.0, "0"),
                ("trial", 1, 1, 100.0, 2.0, 30.0, "200"),
                ("webinar", 2, 1, 50.0, 1.0, 10.0, "100"),
                ("pricing_visit", 2, 1, 50.0, 1.0, 13.0, "0"),
                ("none", 4, 2, 50.0, 1.0, None, "120"),
            ]
        ),
    )
    assert_matches_ddl(out, "mart_intent_conversion")


def test_intent_conversion_without_data_has_a_row_per_signal() -> None:
    out = build_intent_conversion(touches([]), fct_orders([]), deals([]), contacts([]), AS_OF).collect()
    assert out["intent_signal"].to_list() == list(INTENT_SIGNALS)
    assert out["customers"].to_list() == [0] * 5
    assert out["conversion_rate_pct"].null_count() == 5
    assert out["lift_vs_none"].null_count() == 5
