from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.entities import MONEY
from pipeline.errors import ConfigError
from pipeline.transforms.attribution import build_fct_attribution
from tests.transforms.ddl import assert_matches_ddl

ORDERED_AT = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
MODELS = ("last_touch", "first_touch", "linear")


def fct_order(order_id: str, customer_id: str, net_eur: str | None, status: str = "paid",
              is_first_order: bool = True) -> dict:
    return {
        "order_id": order_id, "customer_id": customer_id, "ordered_at": ORDERED_AT, "order_date": ORDERED_AT.date(),
        "net_revenue_eur": None if net_eur is None else Decimal(net_eur), "status": status,
        "is_revenue": status == "paid", "is_first_order": is_first_order and status == "paid",
    }


def touch(touchpoint_id: str, customer_id: str, before: timedelta, channel: str, campaign_id: str | None,
          touch_type: str = "click") -> dict:
    return {
        "touchpoint_id": touchpoint_id, "customer_id": customer_id, "ts": ORDERED_AT - before, "channel": channel,
        "platform": "x", "campaign_id": campaign_id, "touch_type": touch_type,
    }


DAY = timedelta(days=1)
ORDERS = [
    fct_order("o1", "cust-a", "1000.00"),
    fct_order("o2", "cust-b", "50.00", is_first_order=False),
    fct_order("o3", "cust-c", "70.00", status="failed"),  # not revenue: not attributed
    fct_order("o4", "cust-d", "1000.00"),
    fct_order("o5", "cust-e", "80.00"),
    fct_order("o7", "cust-g", None),  # no EUR amount (no FX rate)
]
TOUCHES = [
    # o1: paid search 10 days before, email 3 days before, paid social 1 day before
    touch("a1", "cust-a", 10 * DAY, "paid_search", "g1"),
    touch("a2", "cust-a", 3 * DAY, "email", None, "email_click"),
    touch("a3", "cust-a", 1 * DAY, "paid_social", "m1"),
    touch("a4", "cust-a", 12 * timedelta(hours=1), "paid_social", "m1", "impression"),  # view, not click
    touch("a5", "cust-a", 95 * DAY, "linkedin", "l1"),  # outside the 90-day lookback
    # o2: exactly 90 days before (the window is open at its start) and one after the order -> direct
    touch("b1", "cust-b", 90 * DAY, "paid_search", "g1"),
    touch("b2", "cust-b", -1 * DAY, "paid_search", "g1"),
    touch("c1", "cust-c", 1 * DAY, "email", None),
    # o4: seven touches, paid social m1 three times
    touch("d1", "cust-d", 7 * DAY, "email", None),
    touch("d2", "cust-d", 6 * DAY, "paid_social", "m1"),
    touch("d3", "cust-d", 5 * DAY, "paid_search", "g1"),
    touch("d4", "cust-d", 4 * DAY, "paid_social", "m1"),
    touch("d5", "cust-d", 3 * DAY, "linkedin", "l1"),
    touch("d6", "cust-d", 2 * DAY, "paid_social", "m1"),
    touch("d7", "cust-d", 1 * DAY, "webinar", None, "webinar"),
    # o5: two touches at the very instant of the order, tie broken by touchpoint_id
    touch("e2", "cust-e", 0 * DAY, "paid_social", "m1"),
    touch("e1", "cust-e", 0 * DAY, "email", None, "email_click"),
]
THIRD = 1 / 3
SEVENTH = 1 / 7
# (order, model, channel, campaign, credit, revenue_eur)
EXPECTED = [
    ("o1", "first_touch", "paid_search", "g1", 1.0, "1000.0000"),
    ("o1", "last_touch", "paid_social", "m1", 1.0, "1000.0000"),
    # 1000 / 3 = 333.3333 x 3 = 999.9999: the remainder 0.0001 goes to the first touch of the tied rows
    ("o1", "linear", "email", "(none)", THIRD, "333.3333"),
    ("o1", "linear", "paid_search", "g1", THIRD, "333.3334"),
    ("o1", "linear", "paid_social", "m1", THIRD, "333.3333"),
    ("o2", "first_touch", "direct", "(none)", 1.0, "50.0000"),
    ("o2", "last_touch", "direct", "(none)", 1.0, "50.0000"),
    ("o2", "linear", "direct", "(none)", 1.0, "50.0000"),
    ("o4", "first_touch", "email", "(none)", 1.0, "1000.0000"),
    ("o4", "last_touch", "webinar", "(none)", 1.0, "1000.0000"),
    # 1000 / 7 = 142.857142.. -> 142.8571 (x4 = 571.4284); 3000 / 7 = 428.571428.. -> 428.5714;
    # sum 999.9998, so the largest credit (m1, 3/7) takes the 0.0002 remainder: 428.5716
    ("o4", "linear", "email", "(none)", SEVENTH, "142.8571"),
    ("o4", "linear", "linkedin", "l1", SEVENTH, "142.8571"),
    ("o4", "linear", "paid_search", "g1", SEVENTH, "142.8571"),
    ("o4", "linear", "paid_social", "m1", 3 * SEVENTH, "428.5716"),
    ("o4", "linear", "webinar", "(none)", SEVENTH, "142.8571"),
    ("o5", "first_touch", "email", "(none)", 1.0, "80.0000"),
    ("o5", "last_touch", "paid_social", "m1", 1.0, "80.0000"),
    ("o5", "linear", "email", "(none)", 0.5, "40.0000"),
    ("o5", "linear", "paid_social", "m1", 0.5, "40.0000"),
    ("o7", "first_touch", "direct", "(none)", 1.0, None),
    ("o7", "last_touch", "direct", "(none)", 1.0, None),
    ("o7", "linear", "direct", "(none)", 1.0, None),
]


def build(models: tuple[str, ...] = MODELS, lookback_days: int = 90) -> pl.DataFrame:
    orders = pl.DataFrame(ORDERS).with_columns(pl.col("net_revenue_eur").cast(MONEY)).lazy()
    touches = pl.DataFrame(TOUCHES).with_columns(pl.col("campaign_id").cast(pl.Utf8)).lazy()
    return build_fct_attribution(orders, touches, lookback_days, models).collect()


def test_credit_and_revenue_per_model() -> None:
    customer = {o["order_id"]: o["customer_id"] for o in ORDERS}
    expected = pl.DataFrame(
        [
            (order_id, model, channel, campaign_id, customer[order_id], ORDERED_AT.date(), order_id != "o2", credit,
             None if revenue is None else Decimal(revenue))
            for order_id, model, channel, campaign_id, credit, revenue in EXPECTED
        ],
        schema={"order_id": pl.Utf8, "model": pl.Utf8, "channel": pl.Utf8, "campaign_id": pl.Utf8,
                "customer_id": pl.Utf8, "order_date": pl.Date, "is_first_order": pl.Boolean, "credit": pl.Float64,
                "revenue_eur": MONEY},
        orient="row",
    )
    assert_frame_equal(build(), expected)


def test_default_is_last_touch_only() -> None:
    got = build(models=("last_touch",))
    assert got["model"].unique().to_list() == ["last_touch"]
    assert got.select("order_id", "channel", "campaign_id").rows() == [
        ("o1", "paid_social", "m1"), ("o2", "direct", "(none)"), ("o4", "webinar", "(none)"),
        ("o5", "paid_social", "m1"), ("o7", "direct", "(none)"),
    ]


def test_shorter_lookback_drops_old_touches() -> None:
    # with 5 days, o1 keeps email (3 days) and paid social (1 day): first touch moves to email
    got = build(models=("first_touch",), lookback_days=5).filter(pl.col("order_id") == "o1")
    assert got.select("channel", "campaign_id", "credit").rows() == [("email", "(none)", 1.0)]


def test_invariants_key_and_ddl() -> None:
    got = build()
    key = ["order_id", "model", "channel", "campaign_id"]
    assert got.select(key).null_count().sum_horizontal().item() == 0
    assert got.select(key).is_unique().all()
    per_order = got.group_by("order_id", "model").agg(pl.col("credit").sum(), pl.col("revenue_eur").sum())
    assert ((per_order["credit"] - 1.0).abs() < 1e-12).all()
    net = {o["order_id"]: o["net_revenue_eur"] for o in ORDERS}
    for order_id, revenue in per_order.filter(pl.col("order_id") != "o7").select("order_id", "revenue_eur").rows():
        assert revenue == Decimal(net[order_id])
    assert_matches_ddl(got, "fct_attribution")


def test_unknown_model_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="bogus_model"):
        build(models=("last_touch", "bogus_model"))


def test_markov_credits_by_removal_effect() -> None:
    # Journeys: order x1 paid_search > email, order x2 email, customer z (no order) paid_social.
    # START -> ps, email, social each 1/3; ps -> email; email -> CONVERSION (x2); social -> NULL.
    # P(conv) = 1/3 + 1/3 = 2/3. Remove ps: 1/3 -> RE = 1 - (1/3)/(2/3) = 0.5; remove email: 0 -> RE = 1;
    # remove social: 2/3 -> RE = 0. Order x1 splits 0.5 : 1 -> ps 1/3 (200.0000 of 600), email 2/3 (400.0000).
    orders = pl.DataFrame([fct_order("x1", "cust-x", "600.00"), fct_order("x2", "cust-y", "90.00")]).with_columns(
        pl.col("net_revenue_eur").cast(MONEY)).lazy()
    touches = pl.DataFrame([
        touch("t1", "cust-x", 5 * DAY, "paid_search", "g1"),
        touch("t2", "cust-x", 2 * DAY, "email", None, "email_click"),
        touch("t3", "cust-y", 1 * DAY, "email", None, "email_click"),
        touch("t4", "cust-z", 1 * DAY, "paid_social", "m1"),
    ]).with_columns(pl.col("campaign_id").cast(pl.Utf8)).lazy()
    got = build_fct_attribution(orders, touches, 90, ("markov",)).collect()
    rows = {(r["order_id"], r["channel"]): (round(r["credit"], 9), r["revenue_eur"]) for r in got.iter_rows(named=True)}
    assert rows == {
        ("x1", "paid_search"): (round(1 / 3, 9), Decimal("200.0000")),
        ("x1", "email"): (round(2 / 3, 9), Decimal("400.0000")),
        ("x2", "email"): (1.0, Decimal("90.0000")),
    }


def test_position_based_and_time_decay() -> None:
    # o4's seven touches: position-based gives first (email) 0.4, last (webinar) 0.4, and 0.2 / 5 = 0.04
    # to each of the five middle touches: paid_social m1 has three of them -> 0.12.
    got = build(models=("position_based", "time_decay"))
    o4 = {r["channel"]: r["credit"] for r in got.filter((pl.col("order_id") == "o4")
                                                         & (pl.col("model") == "position_based")).iter_rows(named=True)}
    assert o4 == pytest.approx({"email": 0.4, "webinar": 0.4, "paid_social": 0.12, "paid_search": 0.04,
                                "linkedin": 0.04})
    # o1 time decay: ages 10, 3 and 1 days, weights 2^(-10/7), 2^(-3/7), 2^(-1/7) normalised.
    weights = {"paid_search": 2 ** (-10 / 7), "email": 2 ** (-3 / 7), "paid_social": 2 ** (-1 / 7)}
    total = sum(weights.values())
    o1 = {r["channel"]: r["credit"] for r in got.filter((pl.col("order_id") == "o1")
                                                         & (pl.col("model") == "time_decay")).iter_rows(named=True)}
    assert o1 == pytest.approx({k: v / total for k, v in weights.items()})
    sums = got.group_by("order_id", "model").agg(pl.col("credit").sum())
    assert sums["credit"].to_list() == pytest.approx([1.0] * sums.height)
