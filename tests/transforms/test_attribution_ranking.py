"""Data-driven attribution recovers the full order of known channel effects on synthetic journeys."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from pipeline.transforms.attribution import build_fct_attribution
from pipeline.transforms.attribution_models import group_paths, markov_removal_effects, shapley_values
from tests.transforms.journeys import buyer_orders

# True incremental lift of each channel on the conversion probability, strongest first:
# P(convert) = BASE + sum of the lifts of the distinct channels a customer met.
LIFTS = {"webinar": 0.10, "paid_social": 0.07, "email": 0.045, "display": 0.025, "brand_search": 0.01}
BASE = 0.02
EXPOSURE = 0.5  # every channel reaches each customer with the same probability, independently of the others
# Touch days within a 30-day journey. FUNNEL: the strongest channels come early and the weakest
# close, as in a real funnel (awareness first, branded search last), so position and effect point
# opposite ways. ANY_TIME: every channel anywhere in the 30 days.
FUNNEL = {"webinar": (0, 10), "paid_social": (5, 15), "email": (10, 20), "display": (15, 25), "brand_search": (20, 30)}
ANY_TIME = dict.fromkeys(LIFTS, (0, 30))
TRUE_ORDER = list(LIFTS)  # LIFTS is written strongest first


def journeys(customers: int, seed: int, windows: dict[str, tuple[int, int]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """fct_orders- and fct_touchpoints-shaped frames: one order per converting customer, after every touch."""
    rng = np.random.default_rng(seed)
    names = np.array(list(LIFTS))
    exposed = rng.random((customers, len(names))) < EXPOSURE
    exposed = exposed[exposed.any(axis=1)]  # a customer without touches is no journey
    converts = rng.random(len(exposed)) < BASE + exposed @ np.array(list(LIFTS.values()))
    touches_per = exposed * rng.integers(1, 3, exposed.shape)  # one or two touches of each channel met
    customer = np.repeat(np.arange(len(exposed)), touches_per.sum(axis=1))
    channel = np.concatenate([np.repeat(np.arange(len(names)), row) for row in touches_per])
    low = np.array([windows[n][0] for n in names])[channel]
    high = np.array([windows[n][1] for n in names])[channel]
    days = low + rng.random(len(channel)) * (high - low)
    start = np.datetime64("2026-01-01T00:00:00", "us")
    touches = pl.DataFrame({
        "touchpoint_id": [f"t{i:07d}" for i in range(len(channel))],
        "customer_id": [f"c{c:06d}" for c in customer],
        "ts": pl.Series(start + (days * 86_400e6).astype("timedelta64[us]")).dt.replace_time_zone("UTC"),
        "channel": names[channel],
        "platform": "x",
        "campaign_id": pl.Series([None] * len(channel), dtype=pl.Utf8),
        "touch_type": "click",
    })
    buyers = np.nonzero(converts)[0]
    ordered_at = datetime(2026, 1, 31, 12, tzinfo=UTC)
    orders = buyer_orders(buyers, ordered_at, 6)
    return orders, touches


def grouped_paths(orders: pl.DataFrame, touches: pl.DataFrame) -> pl.DataFrame:
    """group_paths of every customer's journey: converting when the customer ordered (after all touches)."""
    buyers = orders.select("customer_id", pl.lit(True).alias("converted"))
    journeys = (touches.sort("customer_id", "ts", "touchpoint_id").group_by("customer_id", maintain_order=True)
                .agg(pl.col("channel").alias("path"))
                .join(buyers, on="customer_id", how="left")
                .select("path", pl.col("converted").fill_null(False), pl.lit(0.0).alias("value")))
    return group_paths(journeys.lazy()).collect()


def ranked(frame: pl.DataFrame, value: str) -> list[str]:
    return frame.sort(value, descending=True)["channel"].to_list()


def test_shapley_and_markov_credits_rank_every_channel_in_the_order_of_its_true_lift() -> None:
    # 50,000 customers, about 48,000 journeys and 7,000 conversions in a funnel. Adjacent channels'
    # total credit differs by about 100 conversions under Markov and 150-300 under Shapley; across
    # seeds a channel's total moves by about 40, so the order is stable (seen on seeds 100-104).
    orders, touches = journeys(50_000, 7, FUNNEL)
    got = build_fct_attribution(orders.lazy(), touches.lazy(), 90, ("last_touch", "markov", "shapley")).collect()
    totals = {model: frame.group_by("channel").agg(pl.col("credit").sum()) for (model,), frame in got.group_by("model")}
    assert ranked(totals["shapley"], "credit") == TRUE_ORDER
    assert ranked(shapley_values(grouped_paths(orders, touches)), "shapley_value") == TRUE_ORDER
    # Markov credit ranks them right too, but mostly because a strong channel is on more converting
    # paths: at order 1 the removal effects behind the split are almost equal on a funnel (next test).
    assert ranked(totals["markov"], "credit") == TRUE_ORDER
    # Contrast: last touch ranks them exactly backwards here, because the weak channels close the
    # journeys. (With touch times independent of the channel, last touch finds the order as well:
    # its ranking is then how many converting paths a channel is on, as linear's is.)
    assert ranked(totals["last_touch"], "credit") == TRUE_ORDER[::-1]


def test_markov_removal_effects_rank_the_lifts_unless_an_order_1_chain_meets_a_funnel() -> None:
    # Touch times independent of the channel: the first-order chain's removal effects are in the true order.
    effects = markov_removal_effects(grouped_paths(*journeys(50_000, 7, ANY_TIME)), 1)
    assert ranked(effects, "removal_effect") == TRUE_ORDER
    # A funnel (strong channels first, weak ones closing): a first-order chain forgets where a
    # journey came from, so the late states' conversion rates carry the early channels' lift and
    # every channel's removal effect comes out about the same (0.51-0.53, not in the true order).
    # A chain of order 3 remembers enough of the path to rank them all right again.
    funnel = grouped_paths(*journeys(50_000, 7, FUNNEL))
    first_order = markov_removal_effects(funnel, 1)
    assert ranked(first_order, "removal_effect") != TRUE_ORDER
    assert first_order["removal_effect"].max() - first_order["removal_effect"].min() < 0.03
    third_order = markov_removal_effects(funnel, 3)
    assert ranked(third_order, "removal_effect") == TRUE_ORDER
    assert third_order["removal_effect"].max() - third_order["removal_effect"].min() > 0.05
