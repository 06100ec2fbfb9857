from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.entities import MONEY
from pipeline.errors import ConfigError
from pipeline.transforms.attribution import build_fct_attribution
from tests.transforms.ddl import assert_matches_ddl
from tests.transforms.journeys import buyer_orders

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
             None if revenue is None else Decimal(revenue), "order")
            for order_id, model, channel, campaign_id, credit, revenue in EXPECTED
        ],
        schema={"order_id": pl.Utf8, "model": pl.Utf8, "channel": pl.Utf8, "campaign_id": pl.Utf8,
                "customer_id": pl.Utf8, "order_date": pl.Date, "is_first_order": pl.Boolean, "credit": pl.Float64,
                "revenue_eur": MONEY, "conversion_type": pl.Utf8},
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


HOUR = timedelta(hours=1)
MILESTONE_ORDERS = [fct_order(f"{c}-order", f"cust-{c}", "900.00") for c in "kmnpq"]
MILESTONE_TOUCHES = [
    # k: first k1, lead k2 (contact created 1 h after it), opportunity k4 (deal created on its day), close k6
    touch("k1", "cust-k", 10 * DAY, "paid_search", "g1"),
    touch("k2", "cust-k", 8 * DAY, "email", None, "email_click"),
    touch("k3", "cust-k", 6 * DAY, "webinar", None, "webinar"),
    touch("k4", "cust-k", 4 * DAY, "direct", None, "visit"),
    touch("k5", "cust-k", 3 * DAY, "linkedin", "l1"),
    touch("k6", "cust-k", 1 * DAY, "direct", None, "visit"),
    # m: lead m2 (created at its very instant), no deal -> U-shaped on first and lead
    touch("m1", "cust-m", 7 * DAY, "organic_search", None, "visit"),
    touch("m2", "cust-m", 5 * DAY, "email", None, "email_click"),
    touch("m3", "cust-m", 2 * DAY, "paid_social", "m1"),
    # n: contact created before every touch (lead unknown) -> U-shaped on first and last
    touch("n1", "cust-n", 3 * DAY, "email", None, "email_click"),
    touch("n2", "cust-n", 2 * DAY, "direct", None, "visit"),
    touch("n3", "cust-n", 1 * DAY, "direct", None, "visit"),
    # p: only direct touches
    touch("p1", "cust-p", 2 * DAY, "direct", None, "visit"),
    touch("p2", "cust-p", 1 * DAY, "direct", None, "visit"),
    # q: the first touch is also the lead touch; the deal is created on q2's day
    touch("q1", "cust-q", 5 * DAY, "paid_search", "g1"),
    touch("q2", "cust-q", 3 * DAY, "webinar", None, "webinar"),
    touch("q3", "cust-q", 1 * DAY, "email", None, "email_click"),
]
MILESTONE_CONTACTS = [
    ("cust-k", ORDERED_AT - 8 * DAY + HOUR), ("cust-k", ORDERED_AT - 2 * DAY),  # the earliest record counts
    ("cust-m", ORDERED_AT - 5 * DAY), ("cust-n", ORDERED_AT - 30 * DAY), ("cust-q", ORDERED_AT - 5 * DAY + HOUR),
]
MILESTONE_DEALS = [
    ("cust-k", (ORDERED_AT - 4 * DAY).date()), ("cust-k", (ORDERED_AT + 2 * DAY).date()),  # after the order: ignored
    ("cust-q", (ORDERED_AT - 3 * DAY).date()), ("cust-m", None),
]


def build_milestones(models: tuple[str, ...]) -> pl.DataFrame:
    orders = pl.DataFrame(MILESTONE_ORDERS).with_columns(pl.col("net_revenue_eur").cast(MONEY)).lazy()
    touches = pl.DataFrame(MILESTONE_TOUCHES).with_columns(pl.col("campaign_id").cast(pl.Utf8)).lazy()
    contacts = pl.DataFrame(MILESTONE_CONTACTS, schema={"customer_id": pl.Utf8, "created_at": pl.Datetime("us", "UTC")},
                            orient="row").lazy()
    deals = pl.DataFrame(MILESTONE_DEALS, schema={"customer_id": pl.Utf8, "created_date": pl.Date}, orient="row").lazy()
    return build_fct_attribution(orders, touches, 90, models, contacts=contacts, deals=deals).collect()


def credits(frame: pl.DataFrame, order_id: str, model: str) -> dict[str, float]:
    rows = frame.filter((pl.col("order_id") == order_id) & (pl.col("model") == model))
    return {r["channel"]: round(r["credit"], 12) for r in rows.iter_rows(named=True)}


def test_w_shaped_and_full_path_on_hand_worked_journeys() -> None:
    got = build_milestones(("w_shaped", "full_path", "position_based"))
    # k, W-shaped: first (paid search), lead (email), opportunity (direct k4) 0.3 each; 0.1 / 3 to k3, k5, k6
    assert credits(got, "k-order", "w_shaped") == pytest.approx(
        {"paid_search": 0.3, "email": 0.3, "direct": 0.3 + 0.1 / 3, "webinar": 0.1 / 3, "linkedin": 0.1 / 3})
    # k, full path: first, lead, opportunity, close (direct k6) 0.225 each; 0.1 / 2 to k3 and k5
    assert credits(got, "k-order", "full_path") == pytest.approx(
        {"paid_search": 0.225, "email": 0.225, "direct": 0.45, "webinar": 0.05, "linkedin": 0.05})
    revenue = {(r["model"], r["channel"]): r["revenue_eur"] for r in got.filter(pl.col("order_id") == "k-order")
               .iter_rows(named=True)}
    assert revenue[("w_shaped", "paid_search")] == Decimal("270.0000")
    assert revenue[("w_shaped", "direct")] == Decimal("300.0000")
    assert revenue[("full_path", "direct")] == Decimal("405.0000")
    assert revenue[("full_path", "linkedin")] == Decimal("45.0000")
    # m: no deal -> U-shaped, first (organic) 0.4, lead (email, created at its instant) 0.4, the rest 0.2
    for model in ("w_shaped", "full_path"):
        assert credits(got, "m-order", model) == pytest.approx({"organic_search": 0.4, "email": 0.4, "paid_social": 0.2})
    # n: lead before the path -> U-shaped on first and last = position-based 40/20/40
    for model in ("w_shaped", "full_path", "position_based"):
        assert credits(got, "n-order", model) == pytest.approx({"email": 0.4, "direct": 0.6})
    # q: first = lead (q1) takes 0.3 + 0.3, opportunity q2 0.3, q3 0.1;
    # full path: q1 2 x 0.225, q2 and q3 0.225 each, and no other touch so 0.1 / 4 per milestone
    assert credits(got, "q-order", "w_shaped") == pytest.approx({"paid_search": 0.6, "webinar": 0.3, "email": 0.1})
    assert credits(got, "q-order", "full_path") == pytest.approx({"paid_search": 0.5, "webinar": 0.25, "email": 0.25})


def test_milestone_models_fall_back_to_position_based_without_crm_data() -> None:
    orders = pl.DataFrame(ORDERS).with_columns(pl.col("net_revenue_eur").cast(MONEY)).lazy()
    touches = pl.DataFrame(TOUCHES).with_columns(pl.col("campaign_id").cast(pl.Utf8)).lazy()
    got = build_fct_attribution(orders, touches, 90, ("position_based", "w_shaped", "full_path")).collect()
    by_model = {m: got.filter(pl.col("model") == m).drop("model") for m in ("position_based", "w_shaped", "full_path")}
    assert_frame_equal(by_model["w_shaped"], by_model["position_based"])
    assert_frame_equal(by_model["full_path"], by_model["position_based"])


def test_last_non_direct_touch() -> None:
    got = build_milestones(("last_non_direct_touch", "last_touch"))
    assert credits(got, "k-order", "last_non_direct_touch") == {"linkedin": 1.0}
    assert credits(got, "k-order", "last_touch") == {"direct": 1.0}
    assert credits(got, "n-order", "last_non_direct_touch") == {"email": 1.0}
    # p: every touch is direct, so the last touch (direct) keeps the credit
    assert credits(got, "p-order", "last_non_direct_touch") == {"direct": 1.0}
    assert got.filter(pl.col("model") == "last_non_direct_touch").select("order_id", "campaign_id").rows() == [
        ("k-order", "l1"), ("m-order", "m1"), ("n-order", "(none)"), ("p-order", "(none)"), ("q-order", "(none)"),
    ]


def test_time_decay_half_life_is_configurable() -> None:
    orders = pl.DataFrame(ORDERS).with_columns(pl.col("net_revenue_eur").cast(MONEY)).lazy()
    touches = pl.DataFrame(TOUCHES).with_columns(pl.col("campaign_id").cast(pl.Utf8)).lazy()
    got = build_fct_attribution(orders, touches, 90, ("time_decay",), time_decay_half_life_days=1.0).collect()
    # o1: ages 10, 3 and 1 days with a 1-day half-life -> weights 2^-10, 2^-3, 2^-1
    weights = {"paid_search": 2.0 ** -10, "email": 2.0 ** -3, "paid_social": 2.0 ** -1}
    total = sum(weights.values())
    assert credits(got, "o1", "time_decay") == pytest.approx({k: v / total for k, v in weights.items()})
    with pytest.raises(ConfigError, match="half-life"):
        build_fct_attribution(orders, touches, 90, ("time_decay",), time_decay_half_life_days=0.0)


def test_shapley_credits_each_order_by_the_channels_shapley_values() -> None:
    # Converting channel sets {paid_search, email} (x1) and {email} (x2): email's Shapley value is
    # 1 + 1/2 = 1.5, paid search's 1/2, paid social's 0 (it never converted). x1 splits 0.5 : 1.5.
    orders = pl.DataFrame([fct_order("x1", "cust-x", "600.00"), fct_order("x2", "cust-y", "90.00")]).with_columns(
        pl.col("net_revenue_eur").cast(MONEY)).lazy()
    touches = pl.DataFrame([
        touch("t1", "cust-x", 5 * DAY, "paid_search", "g1"),
        touch("t0", "cust-x", 4 * DAY, "email", None, "email_open"),
        touch("t2", "cust-x", 2 * DAY, "email", None, "email_click"),
        touch("t3", "cust-y", 1 * DAY, "email", None, "email_click"),
        touch("t4", "cust-z", 1 * DAY, "paid_social", "m1"),
    ]).with_columns(pl.col("campaign_id").cast(pl.Utf8)).lazy()
    got = build_fct_attribution(orders, touches, 90, ("shapley",)).collect()
    rows = {(r["order_id"], r["channel"]): (round(r["credit"], 9), r["revenue_eur"]) for r in got.iter_rows(named=True)}
    assert rows == {
        ("x1", "paid_search"): (0.25, Decimal("150.0000")),
        ("x1", "email"): (0.75, Decimal("450.0000")),
        ("x2", "email"): (1.0, Decimal("90.0000")),
    }


def generated(seed: int, customers: int) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    """Random orders, touches (some impressions, some without channel or campaign), contacts and deals."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    channels = np.array(["paid_search", "paid_social", "email", "webinar", "direct", "linkedin", None], dtype=object)
    n_touch = customers * 6
    touch_customer = rng.integers(0, customers, n_touch)
    touches = pl.DataFrame({
        "touchpoint_id": [f"t{i:07d}" for i in range(n_touch)],
        "customer_id": [f"c{c}" for c in touch_customer],
        "ts": [start + timedelta(minutes=int(m)) for m in rng.integers(0, 200 * 24 * 60, n_touch)],
        "channel": channels[rng.integers(0, len(channels), n_touch)].tolist(),
        "platform": "x",
        "campaign_id": np.array(["g1", "g2", None], dtype=object)[rng.integers(0, 3, n_touch)].tolist(),
        "touch_type": np.array(["click", "visit", "impression", "email_click"])[rng.integers(0, 4, n_touch)],
    }, schema_overrides={"channel": pl.Utf8, "campaign_id": pl.Utf8})
    n_order = customers
    order_customer = rng.integers(0, customers, n_order)
    ordered_at = [start + timedelta(minutes=int(m)) for m in rng.integers(0, 200 * 24 * 60, n_order)]
    orders = pl.DataFrame({
        "order_id": [f"o{i:06d}" for i in range(n_order)],
        "customer_id": [f"c{c}" for c in order_customer],
        "ordered_at": ordered_at,
        "order_date": [t.date() for t in ordered_at],
        "net_revenue_eur": [Decimal(int(v)) / 100 for v in rng.integers(0, 500_000, n_order)],
        "is_revenue": rng.random(n_order) < 0.9,
        "is_first_order": rng.random(n_order) < 0.5,
    }).with_columns(pl.col("net_revenue_eur").cast(MONEY))
    contacts = pl.DataFrame({
        "customer_id": [f"c{c}" for c in range(customers)],
        "created_at": [start + timedelta(minutes=int(m)) for m in rng.integers(0, 200 * 24 * 60, customers)],
    })
    with_deal = rng.choice(customers, customers // 3, replace=False)
    deals = pl.DataFrame({
        "customer_id": [f"c{c}" for c in with_deal],
        "created_date": [(start + timedelta(days=int(d))).date() for d in rng.integers(0, 200, len(with_deal))],
    })
    return orders.lazy(), touches.lazy(), contacts.lazy(), deals.lazy()


ALL_MODELS = ("last_touch", "last_non_direct_touch", "first_touch", "linear", "position_based", "time_decay",
              "w_shaped", "full_path", "markov", "shapley")


@pytest.mark.parametrize("markov_order", [1, 2])
def test_every_model_sums_to_one_and_to_the_revenue_on_generated_data(markov_order: int) -> None:
    orders, touches, contacts, deals = generated(7, 3000)
    got = build_fct_attribution(orders, touches, 30, ALL_MODELS, contacts=contacts, deals=deals,
                                markov_order=markov_order).collect()
    revenue_orders = orders.filter("is_revenue").collect()
    assert got.select("order_id", "model", "channel", "campaign_id").is_unique().all()
    assert got["credit"].min() > 0 and got["credit"].max() <= 1 + 1e-12
    per_order = got.group_by("order_id", "model").agg(pl.col("credit").sum(), pl.col("revenue_eur").sum())
    assert per_order.height == revenue_orders.height * len(ALL_MODELS)
    assert (per_order["credit"] - 1.0).abs().max() < 1e-9
    joined = per_order.join(revenue_orders.select("order_id", "net_revenue_eur"), on="order_id")
    assert (joined["revenue_eur"] == joined["net_revenue_eur"]).all()
    # the milestone models really used milestones on some orders and fell back on others
    w = got.filter(pl.col("model") == "w_shaped").sort("order_id", "channel", "campaign_id").drop("model")
    u = got.filter(pl.col("model") == "position_based").sort("order_id", "channel", "campaign_id").drop("model")
    differs = w.join(u, on=["order_id", "channel", "campaign_id"], how="full").filter(
        (pl.col("credit") - pl.col("credit_right")).abs().fill_null(1.0) > 1e-9)["order_id"].n_unique()
    assert 0 < differs < revenue_orders.height
    assert_matches_ddl(got, "fct_attribution")


def test_data_driven_models_find_a_planted_lift_that_last_touch_misses() -> None:
    # Every customer meets each of four channels with probability 0.4 over a 30-day journey. Being
    # reached by "webinar" triples the conversion probability (0.05 -> 0.15); the others do nothing.
    # Webinars come early (days 0-10); "paid_search" is the closer (days 25-30), the rest anywhere.
    rng = np.random.default_rng(11)
    n = 8000
    channels = ["webinar", "paid_search", "email", "organic_search"]
    windows = [(0.0, 10.0), (25.0, 30.0), (0.0, 30.0), (0.0, 30.0)]
    exposed = rng.random((n, 4)) < 0.4
    exposed = exposed[exposed.any(axis=1)]  # customers without a touch are no journey
    n = len(exposed)
    converts = rng.random(n) < np.where(exposed[:, 0], 0.15, 0.05)
    touches_per = exposed * rng.integers(1, 3, (n, 4))
    customer = np.repeat(np.arange(n), touches_per.sum(axis=1))
    channel_index = np.concatenate([np.repeat(np.arange(4), row) for row in touches_per])
    low = np.array([w[0] for w in windows])[channel_index]
    high = np.array([w[1] for w in windows])[channel_index]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    touches = pl.DataFrame({
        "touchpoint_id": [f"t{i:06d}" for i in range(len(customer))],
        "customer_id": [f"c{c:05d}" for c in customer],
        "ts": [start + timedelta(days=float(d)) for d in low + rng.random(len(customer)) * (high - low)],
        "channel": np.array(channels)[channel_index].tolist(),
        "platform": "x",
        "campaign_id": None,
        "touch_type": "click",
    }, schema_overrides={"campaign_id": pl.Utf8})
    buyers = np.nonzero(converts)[0]
    ordered_at = start + timedelta(days=30.5)
    orders = buyer_orders(buyers, ordered_at, 5)
    got = build_fct_attribution(orders.lazy(), touches.lazy(), 90, ("last_touch", "markov", "shapley")).collect()
    ranking = {
        model: frame.group_by("channel").agg(pl.col("credit").sum()).sort("credit", descending=True)["channel"].to_list()
        for (model,), frame in got.group_by("model")
    }
    assert ranking["markov"][0] == "webinar"
    assert ranking["shapley"][0] == "webinar"
    # last touch hands the closer most of the credit and puts the channel that works behind it
    assert ranking["last_touch"][0] == "paid_search"
    assert ranking["last_touch"].index("webinar") > 0


CLOSE = date(2026, 3, 20)
CLOSE_NOON = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def deal(deal_id: str, customer_id: str | None, amount: str, currency: str, created: date | None, close: date | None,
         is_won: bool = True) -> dict:
    return {"deal_id": deal_id, "customer_id": customer_id, "amount": Decimal(amount), "currency_code": currency,
            "created_date": created, "close_date": close, "is_won": is_won, "is_closed": close is not None}


def at(moment: datetime, touchpoint_id: str, customer_id: str, channel: str, campaign_id: str | None = None,
       touch_type: str = "click") -> dict:
    return {"touchpoint_id": touchpoint_id, "customer_id": customer_id, "ts": moment, "channel": channel,
            "platform": "x", "campaign_id": campaign_id, "touch_type": touch_type}


DEALS = [
    # w: 100 000 SEK at 0.087 EUR per SEK = 8700 EUR; created 2026-03-12 (w3's day)
    deal("D1", "cust-w", "100000", "SEK", date(2026, 3, 12), CLOSE),
    # v: 5000 USD at 0.92 = 4600 EUR, no touches -> direct; its id is also an order's id
    deal("o1", "cust-v", "5000", "USD", date(2026, 2, 1), date(2026, 3, 1)),
    deal("D3", "cust-w", "900", "EUR", date(2026, 3, 1), date(2026, 3, 10), is_won=False),  # lost: no conversion
    # closes after the run date; created after D1, so the newest deal of cust-w is not D1's opportunity
    deal("D4", "cust-w", "900", "EUR", date(2026, 3, 15), date(2026, 3, 21)),
    deal("D5", "cust-w", "900", "EUR", date(2026, 3, 1), None),  # won without close date: not yet a conversion
]
DEAL_TOUCHES = [
    at(datetime(2025, 12, 20, 23, 0, tzinfo=UTC), "w0", "cust-w", "paid_social", "m1"),  # before the 90 days
    at(CLOSE_NOON - 20 * DAY, "w1", "cust-w", "paid_search", "g1"),
    at(CLOSE_NOON - 12 * DAY, "w2", "cust-w", "email", None, "email_click"),
    at(CLOSE_NOON - 8 * DAY, "w3", "cust-w", "webinar", None, "webinar"),
    at(CLOSE_NOON - 5 * DAY, "w4", "cust-w", "linkedin", "l1"),
    at(datetime(2026, 3, 20, 23, 30, tzinfo=UTC), "w5", "cust-w", "direct", None, "visit"),  # on the close day
    at(datetime(2026, 3, 21, 0, 0, tzinfo=UTC), "w6", "cust-w", "paid_social", "m1"),  # after the close day
]
DEAL_CONTACTS = [("cust-w", CLOSE_NOON - 12 * DAY + HOUR)]  # the lead was created just after w2


def build_deals(models: tuple[str, ...], orders: list[dict] | None = None) -> pl.DataFrame:
    from pipeline.fx import default_rates
    from pipeline.transforms.attribution import won_deal_conversions

    deals = pl.DataFrame(DEALS, schema_overrides={"amount": MONEY, "customer_id": pl.Utf8}).lazy()
    won = won_deal_conversions(deals, default_rates().lazy(), CLOSE)
    order_frame = pl.DataFrame(orders or ORDERS[:1]).with_columns(pl.col("net_revenue_eur").cast(MONEY)).lazy()
    touches = pl.DataFrame(DEAL_TOUCHES + TOUCHES).with_columns(pl.col("campaign_id").cast(pl.Utf8)).lazy()
    contacts = pl.DataFrame(DEAL_CONTACTS, schema={"customer_id": pl.Utf8, "created_at": pl.Datetime("us", "UTC")},
                            orient="row").lazy()
    return build_fct_attribution(order_frame, touches, 90, models, contacts=contacts,
                                 deals=deals.select("customer_id", "created_date"), won_deals=won).collect()


def test_a_won_deal_is_a_conversion_with_its_milestones_and_eur_amount() -> None:
    got = build_deals(("w_shaped", "full_path", "last_touch", "first_touch"))
    deal_rows = got.filter(pl.col("conversion_type") == "won_deal")
    assert sorted(deal_rows["order_id"].unique().to_list()) == ["D1", "o1"]
    # path of D1: w1..w5 (w0 is 90 days and an hour before the end of the close day, w6 after it).
    # W-shaped: first w1, lead w2 (newest touch before the contact was created), opportunity w3
    # (newest touch on or before the deal's created day) 0.3 each; 0.1 / 2 to w4 and w5.
    assert credits(deal_rows, "D1", "w_shaped") == pytest.approx(
        {"paid_search": 0.3, "email": 0.3, "webinar": 0.3, "linkedin": 0.05, "direct": 0.05})
    # full path: those three and the closing touch w5 0.225 each; 0.1 to w4
    assert credits(deal_rows, "D1", "full_path") == pytest.approx(
        {"paid_search": 0.225, "email": 0.225, "webinar": 0.225, "direct": 0.225, "linkedin": 0.1})
    assert credits(deal_rows, "D1", "last_touch") == {"direct": 1.0}
    assert credits(deal_rows, "D1", "first_touch") == {"paid_search": 1.0}
    revenue = {(r["model"], r["channel"]): r["revenue_eur"] for r in deal_rows.filter(pl.col("order_id") == "D1")
               .iter_rows(named=True)}
    # 8700 EUR: 0.3 -> 2610, 0.05 -> 435, 0.225 -> 1957.5, 0.1 -> 870
    assert revenue[("w_shaped", "paid_search")] == Decimal("2610.0000")
    assert revenue[("w_shaped", "linkedin")] == Decimal("435.0000")
    assert revenue[("full_path", "direct")] == Decimal("1957.5000")
    assert revenue[("full_path", "linkedin")] == Decimal("870.0000")
    d1 = deal_rows.filter(pl.col("order_id") == "D1").row(0, named=True)
    assert (d1["customer_id"], d1["order_date"], d1["is_first_order"]) == ("cust-w", CLOSE, None)
    # o1 the deal: no touch of cust-v -> direct, 5000 USD x 0.92; o1 the order keeps its own rows
    assert deal_rows.filter(pl.col("order_id") == "o1").select("model", "channel", "credit", "revenue_eur").rows() == [
        (m, "direct", 1.0, Decimal("4600.0000")) for m in ("first_touch", "full_path", "last_touch", "w_shaped")]
    order_rows = got.filter(pl.col("conversion_type") == "order")
    assert order_rows["order_id"].unique().to_list() == ["o1"]
    assert credits(order_rows, "o1", "first_touch") == {"paid_search": 1.0}
    per_conversion = got.group_by("conversion_type", "order_id", "model").agg(
        pl.col("credit").sum(), pl.col("revenue_eur").sum())
    assert ((per_conversion["credit"] - 1.0).abs() < 1e-12).all()
    assert dict(per_conversion.filter(pl.col("model") == "full_path").select("order_id", "revenue_eur")
                .filter(pl.col("order_id") != "o1").rows()) == {"D1": Decimal("8700.0000")}
    assert_matches_ddl(got, "fct_attribution")


def test_won_deals_leave_the_orders_credits_unchanged() -> None:
    orders, touches, contacts, deals = generated(5, 1500)
    rng = np.random.default_rng(3)
    customers = deals.collect()["customer_id"].to_list()
    close = [date(2026, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 200, len(customers))]
    won = pl.DataFrame({
        "deal_id": [f"o{i:06d}" for i in range(len(customers))],  # the same ids as orders: kept apart by type
        "customer_id": customers,
        "created_date": [c - timedelta(days=int(d)) for c, d in zip(close, rng.integers(0, 60, len(customers)), strict=True)],
        "close_date": close,
        "amount_eur": [Decimal(int(v)) / 100 for v in rng.integers(100_000, 9_000_000, len(customers))],
    }).with_columns(pl.col("amount_eur").cast(MONEY))
    without = build_fct_attribution(orders, touches, 30, ALL_MODELS, contacts=contacts, deals=deals).collect()
    with_deals = build_fct_attribution(orders, touches, 30, ALL_MODELS, contacts=contacts, deals=deals,
                                       won_deals=won.lazy()).collect()
    assert_frame_equal(with_deals.filter(pl.col("conversion_type") == "order"), without)
    deal_rows = with_deals.filter(pl.col("conversion_type") == "won_deal")
    assert with_deals.select("conversion_type", "order_id", "model", "channel", "campaign_id").is_unique().all()
    per_deal = deal_rows.group_by("order_id", "model").agg(pl.col("credit").sum(), pl.col("revenue_eur").sum())
    assert per_deal.height == won.height * len(ALL_MODELS)
    assert (per_deal["credit"] - 1.0).abs().max() < 1e-9
    joined = per_deal.join(won.select(pl.col("deal_id").alias("order_id"), "amount_eur"), on="order_id")
    assert (joined["revenue_eur"] == joined["amount_eur"]).all()
    # the deals' own chain and game credit exactly the channels on each deal's path (as linear does)
    channels = deal_rows.group_by("order_id", "model").agg(pl.col("channel").unique().sort()).pivot(
        "model", index="order_id", values="channel")
    assert channels.filter(pl.col("linear").list.len() > 1).height > 50
    for model in ("markov", "shapley"):
        assert (channels["linear"] == channels[model]).all()
