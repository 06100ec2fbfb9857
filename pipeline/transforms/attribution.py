"""fct_attribution: each revenue order's credit split over the channels and campaigns that earned it."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from pipeline.entities import MONEY
from pipeline.errors import ConfigError

NO_CAMPAIGN = "(none)"
DIRECT_CHANNEL = "direct"

TIME_DECAY_HALF_LIFE_S = 7 * 24 * 3600.0

# Rule-based models, each a credit per touch on the order's path (touches oldest first, ties by
# touchpoint_id): ``position`` is the touch's 0-based place on the path and ``path_length`` the
# number of touches. Every model here is click-based: impressions are not on the path.
MODEL_CREDIT: dict[str, pl.Expr] = {
    # last touch: all credit to the newest touch (ties: the larger touchpoint_id)
    "last_touch": (pl.col("position") == pl.col("path_length") - 1).cast(pl.Float64),
    # first touch: all credit to the oldest touch (ties: the smaller touchpoint_id)
    "first_touch": (pl.col("position") == 0).cast(pl.Float64),
    # linear: credit = 1 / touches on the path, to every touch
    "linear": 1.0 / pl.col("path_length").cast(pl.Float64),
    # position-based (Google's 40/20/40): first and last 0.4 each, 0.2 spread over the middle;
    # one touch takes 1, two touches 0.5 each
    "position_based": (
        pl.when(pl.col("path_length") == 1).then(1.0)
        .when(pl.col("path_length") == 2).then(0.5)
        .when((pl.col("position") == 0) | (pl.col("position") == pl.col("path_length") - 1)).then(0.4)
        .otherwise(0.2 / (pl.col("path_length") - 2).cast(pl.Float64))
    ),
    # time decay, half-life 7 days: weight 2^(-age / 7 days), normalised per order
    "time_decay": (
        (2.0 ** (-(pl.col("ordered_at") - pl.col("ts")).dt.total_seconds() / TIME_DECAY_HALF_LIFE_S))
        / (2.0 ** (-(pl.col("ordered_at") - pl.col("ts")).dt.total_seconds() / TIME_DECAY_HALF_LIFE_S))
        .sum().over("order_id")
    ),
}
# Touch types that are not clicks or engagements: left out of click-based models.
VIEW_TOUCH_TYPES: tuple[str, ...] = ("impression",)
# Data-driven models: credit per touch computed from every journey (converting or not).
DATA_DRIVEN_MODELS: tuple[str, ...] = ("markov",)


def _markov_touch_credit(path: pl.LazyFrame, touches: pl.LazyFrame) -> pl.LazyFrame:
    """Credit per touch on each order's path under the first-order Markov model.

    Converting journeys are the orders' paths; non-converting journeys are each customer's touches
    that lie on no order's path (in time order), so removal effects compare converting with
    non-converting behaviour. Each order's credit is split over its path's channels by removal
    effect (``markov_credits``) and a channel's credit equally over its touches on the path.
    This step collects: the Markov chain is solved on the distinct paths in numpy.
    """
    from pipeline.transforms.attribution_models import group_paths, markov_credits

    on_paths = path.select("customer_id", "touchpoint_id").unique()
    converting = path.group_by("order_id").agg(pl.col("channel").sort_by("position").alias("path")).select(
        "path", pl.lit(True).alias("converted"), pl.lit(0.0).alias("value"))
    idle = (touches.join(on_paths, on=["customer_id", "touchpoint_id"], how="anti")
            .sort("customer_id", "ts", "touchpoint_id")
            .group_by("customer_id", maintain_order=True).agg(pl.col("channel").alias("path"))
            .select("path", pl.lit(False).alias("converted"), pl.lit(0.0).alias("value")))
    grouped = group_paths(pl.concat([converting, idle], how="vertical_relaxed")).collect()
    if grouped.filter(pl.col("conversions") > 0).height == 0:
        return path.select("order_id", "channel", "campaign_id", "position", pl.lit(0.0).alias("credit")).head(0)
    credits = markov_credits(grouped).lazy()
    order_paths = path.group_by("order_id").agg(pl.col("channel").sort_by("position").alias("path"))
    per_channel = order_paths.join(credits, on="path", how="inner").select("order_id", "channel", "credit")
    touches_per_channel = path.group_by("order_id", "channel").agg(pl.len().alias("_touches"))
    return (path.join(per_channel, on=["order_id", "channel"], how="inner")
            .join(touches_per_channel, on=["order_id", "channel"], how="inner")
            .select("order_id", "channel", "campaign_id", "position",
                    (pl.col("credit") / pl.col("_touches")).alias("credit")))


def build_fct_attribution(
    fct_orders: pl.LazyFrame,
    fct_touchpoints: pl.LazyFrame,
    lookback_days: int = 90,
    models: tuple[str, ...] = ("last_touch",),
) -> pl.LazyFrame:
    """One row per order_id, model, channel and campaign_id: the credit and EUR revenue it earned.

    Only ``is_revenue`` orders are attributed. A touch is on an order's path when it has the
    order's customer_id, ``ordered_at - lookback_days < ts <= ordered_at``, and a touch type other
    than ``impression`` (all models here are click-based). Credit per touch comes from
    ``MODEL_CREDIT`` and is summed per channel and campaign; an order with an empty path gets one
    row ``direct`` / ``(none)`` with credit 1. A touch with no channel counts as ``direct`` and one
    with no campaign as ``(none)``. ``revenue_eur`` is credit x net_revenue_eur rounded to 0.0001
    EUR; the rounding remainder goes to the row with the largest credit (ties: the row whose first
    touch is oldest, then channel and campaign), so revenue sums to net_revenue_eur exactly.
    """
    unknown = [model for model in models if model not in MODEL_CREDIT and model not in DATA_DRIVEN_MODELS]
    if unknown or not models:
        raise ConfigError(f"unknown attribution models {unknown or list(models)}; known: {sorted([*MODEL_CREDIT, *DATA_DRIVEN_MODELS])}")
    if lookback_days < 1:
        raise ConfigError(f"attribution lookback_days must be at least 1, got {lookback_days}")

    orders = fct_orders.filter(pl.col("is_revenue").fill_null(False)).select(
        "order_id", "customer_id", "ordered_at", "order_date", "is_first_order", "net_revenue_eur"
    )
    model_names = pl.LazyFrame({"model": list(models)}, schema={"model": pl.Utf8})
    touches = fct_touchpoints.filter(
        pl.col("customer_id").is_not_null() & ~pl.col("touch_type").is_in(list(VIEW_TOUCH_TYPES)).fill_null(False)
    ).select(
        pl.col("customer_id"),
        pl.col("touchpoint_id"),
        pl.col("ts"),
        pl.col("channel").fill_null(DIRECT_CHANNEL).alias("channel"),
        pl.col("campaign_id").fill_null(NO_CAMPAIGN).alias("campaign_id"),
    )
    path = (
        orders.select("order_id", "customer_id", "ordered_at")
        .join(touches, on="customer_id", how="inner")
        .filter(
            (pl.col("ts") <= pl.col("ordered_at"))
            & (pl.col("ts") > pl.col("ordered_at") - timedelta(days=lookback_days))
        )
        .sort("order_id", "ts", "touchpoint_id")
        .with_columns(
            pl.int_range(pl.len()).over("order_id").alias("position"),
            pl.len().over("order_id").alias("path_length"),
        )
    )
    credited_touches = pl.concat(
        [
            path.select(
                "order_id",
                pl.lit(model).alias("model"),
                "channel",
                "campaign_id",
                "position",
                MODEL_CREDIT[model].alias("credit"),
            )
            for model in models
            if model in MODEL_CREDIT
        ]
        + [
            _markov_touch_credit(path, touches).select(
                "order_id", pl.lit("markov").alias("model"), "channel", "campaign_id", "position", "credit"
            )
            for model in models
            if model == "markov"
        ],
        how="vertical_relaxed",
    )
    unattributed = (
        orders.select("order_id")
        .join(path.select("order_id").unique(), on="order_id", how="anti")
        .join(model_names, how="cross")
        .select(
            "order_id",
            "model",
            pl.lit(DIRECT_CHANNEL).alias("channel"),
            pl.lit(NO_CAMPAIGN).alias("campaign_id"),
            pl.lit(0, pl.Int64).alias("position"),
            pl.lit(1.0).alias("credit"),
        )
    )
    order_model = ["order_id", "model"]
    return (
        pl.concat([credited_touches.filter(pl.col("credit") > 0), unattributed], how="vertical_relaxed")
        .group_by("order_id", "model", "channel", "campaign_id")
        # float sums depend on summation order: round so re-runs give identical rows
        .agg(pl.col("credit").sum().round(12).alias("credit"), pl.col("position").min().alias("_first_position"))
        .join(orders, on="order_id", how="inner")
        .sort("order_id", "model", pl.col("credit"), "_first_position", "channel", "campaign_id",
              descending=[False, False, True, False, False, False])
        .with_columns(
            (pl.col("net_revenue_eur").cast(pl.Float64) * pl.col("credit")).round(4).cast(MONEY).alias("_rounded")
        )
        .with_columns(
            pl.when(pl.int_range(pl.len()).over(order_model) == 0)
            # the largest-credit row takes the remainder: net - sum of the rounded shares
            .then(pl.col("_rounded") + pl.col("net_revenue_eur") - pl.col("_rounded").sum().over(order_model))
            .otherwise(pl.col("_rounded"))
            .cast(MONEY)
            .alias("revenue_eur")
        )
        .select(
            "order_id",
            "model",
            "channel",
            "campaign_id",
            "customer_id",
            "order_date",
            "is_first_order",
            "credit",
            "revenue_eur",
        )
        .sort("order_id", "model", "channel", "campaign_id")
    )
