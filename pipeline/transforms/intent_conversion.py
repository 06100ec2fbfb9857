"""Intent conversion: how often each intent signal (webinar, trial, pricing visit, demo request) led to a purchase.

The signal cohort of the as-of date D is every intent touch whose UTC day lies in the signal window
``[D - conversion_days - signal_window_days + 1, D - conversion_days]``: every counted signal has had
its full ``conversion_days`` to convert by D, so the rate of a young cohort is never understated, and
nothing after D is read.

- A customer counts once per signal type, from their first signal of that type in the window
  (``signal_at``); a customer with a webinar and a trial is in both groups (the groups overlap on
  purpose: each row answers "of the customers who did X, how many bought?").
- Converted: a revenue order (``is_revenue``) with ``signal_at < ordered_at <= signal_at +
  conversion_days`` (and ``order_date <= D``), or a won deal (``is_won``) with ``close_date`` from the
  signal's UTC day to ``conversion_days`` days after it. Deals carry only a close date, so a deal won
  on the signal's day counts.
- ``none``: the customers known at the end of the signal window (a contact created by then, or a
  revenue order dated by then) without any intent signal in it; converted if they have a revenue order
  with ``order_date`` in ``(D - conversion_days, D]`` or a deal won then. It is the baseline the
  signal rates are compared with (``lift_vs_none``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import polars as pl

from pipeline.entities import MONEY
from pipeline.transforms.measures import customer_hash
from pipeline.transforms.segments import INTENT_TOUCH_TYPES

NO_SIGNAL = "none"
INTENT_SIGNALS: tuple[str, ...] = (*INTENT_TOUCH_TYPES, NO_SIGNAL)
CONVERSION_DAYS = 30
SIGNAL_WINDOW_DAYS = 90


def _midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def build_intent_conversion(
    touchpoints: pl.LazyFrame,
    fct_orders: pl.LazyFrame,
    deals: pl.LazyFrame,
    contacts: pl.LazyFrame,
    as_of: date,
    conversion_days: int = CONVERSION_DAYS,
    signal_window_days: int = SIGNAL_WINDOW_DAYS,
) -> pl.LazyFrame:
    """One row per as_of_date and intent_signal: customers with the signal, how many converted, the rate.

    ``touchpoints`` has customer_id, ts, touch_type (fct_touchpoints or silver); ``deals`` the
    ``deal`` entity's current truth; rules in the module docstring. Every signal of
    ``INTENT_SIGNALS`` has a row, with 0 customers and NULL rates when nobody showed it.
    """
    window_end_day = as_of - timedelta(days=conversion_days)
    window_start_day = window_end_day - timedelta(days=signal_window_days - 1)
    window_end = _midnight_utc(window_end_day + timedelta(days=1))
    window_start = _midnight_utc(window_start_day)
    horizon = pl.duration(days=conversion_days)

    # customers by their hash while joined and made unique: only counts and sums come out
    customer = customer_hash()
    window_touches = touchpoints.filter(
        pl.col("customer_id").is_not_null() & (pl.col("ts") >= window_start) & (pl.col("ts") < window_end)
    ).select(customer, "ts", "touch_type")
    # each distinct touch_type lower-cased once, not once per touch
    intent_types = (
        window_touches.select("touch_type")
        .unique()
        .with_columns(pl.col("touch_type").str.to_lowercase().alias("intent_signal"))
        .filter(pl.col("intent_signal").is_in(list(INTENT_TOUCH_TYPES)))
    )
    signals = (
        window_touches.join(intent_types, on="touch_type", how="inner")
        .group_by("customer_id", "intent_signal")
        .agg(pl.col("ts").min().alias("signal_at"))
        .with_columns(pl.col("signal_at").dt.convert_time_zone("UTC").dt.date().alias("signal_date"))
    )
    revenue_orders = fct_orders.filter(
        pl.col("is_revenue").fill_null(False) & pl.col("customer_id").is_not_null() & (pl.col("order_date") <= as_of)
    ).select(customer, "ordered_at", "order_date", "net_revenue_eur")
    won_deals = deals.filter(
        pl.col("is_won").fill_null(False) & pl.col("customer_id").is_not_null() & (pl.col("close_date") <= as_of)
    ).select(customer, "close_date")

    # only orders after the window's start and within conversion_days of its end can follow a signal
    conversion_orders = revenue_orders.filter(
        (pl.col("ordered_at") > window_start) & (pl.col("ordered_at") < window_end + timedelta(days=conversion_days))
    )
    order_conversions = (
        signals.join(conversion_orders, on="customer_id", how="inner")
        .filter((pl.col("ordered_at") > pl.col("signal_at")) & (pl.col("ordered_at") <= pl.col("signal_at") + horizon))
        .group_by("customer_id", "intent_signal")
        .agg(
            pl.col("ordered_at").min().dt.convert_time_zone("UTC").dt.date().alias("first_order_day"),
            pl.col("net_revenue_eur").sum().cast(MONEY).alias("converted_revenue_eur"),
        )
    )
    deal_conversions = (
        signals.join(won_deals, on="customer_id", how="inner")
        .filter(pl.col("close_date").is_between(pl.col("signal_date"), pl.col("signal_date") + horizon))
        .group_by("customer_id", "intent_signal")
        .agg(pl.col("close_date").min().alias("first_won_day"))
    )
    by_signal = (
        signals.join(order_conversions, on=["customer_id", "intent_signal"], how="left")
        .join(deal_conversions, on=["customer_id", "intent_signal"], how="left")
        .with_columns(
            (pl.min_horizontal("first_order_day", "first_won_day") - pl.col("signal_date"))
            .dt.total_days()
            .alias("days_to_convert")
        )
        .group_by("intent_signal")
        .agg(
            pl.len().cast(pl.Int64).alias("customers"),
            pl.col("days_to_convert").is_not_null().sum().cast(pl.Int64).alias("converted_customers"),
            pl.col("converted_revenue_eur").sum().cast(MONEY).alias("converted_revenue_eur"),
            pl.col("days_to_convert").mean().cast(pl.Float64).alias("avg_days_to_convert"),
        )
    )

    known = pl.concat(
        [
            contacts.filter(
                pl.col("customer_id").is_not_null()
                & (pl.col("created_at").is_null() | (pl.col("created_at") < window_end))
            ).select(customer),
            revenue_orders.filter(pl.col("order_date") <= window_end_day).select("customer_id"),
        ]
    ).unique()
    baseline_orders = (
        revenue_orders.filter(pl.col("order_date") > window_end_day)
        .group_by("customer_id")
        .agg(pl.col("net_revenue_eur").sum().cast(MONEY).alias("converted_revenue_eur"))
    )
    baseline_deals = won_deals.filter(pl.col("close_date") > window_end_day).select("customer_id").unique()
    no_signal = (
        known.join(signals.select("customer_id").unique(), on="customer_id", how="anti")
        .join(baseline_orders, on="customer_id", how="left")
        .join(baseline_deals.with_columns(pl.lit(True).alias("_won")), on="customer_id", how="left")
        .select(
            pl.lit(NO_SIGNAL).alias("intent_signal"),
            pl.len().cast(pl.Int64).alias("customers"),
            (pl.col("converted_revenue_eur").is_not_null() | pl.col("_won").fill_null(False))
            .sum()
            .cast(pl.Int64)
            .alias("converted_customers"),
            pl.col("converted_revenue_eur").sum().cast(MONEY).alias("converted_revenue_eur"),
            pl.lit(None, pl.Float64).alias("avg_days_to_convert"),
        )
    )

    signal_order = {signal: i for i, signal in enumerate(INTENT_SIGNALS)}
    rate = pl.col("converted_customers") * 100 / pl.when(pl.col("customers") > 0).then(pl.col("customers"))
    return (
        pl.LazyFrame({"intent_signal": list(INTENT_SIGNALS)})
        .join(pl.concat([by_signal, no_signal], how="vertical"), on="intent_signal", how="left")
        .with_columns(
            pl.col("customers", "converted_customers").fill_null(0),
            # conversion rate = converted customers / customers x 100
            rate.cast(pl.Float64).alias("conversion_rate_pct"),
        )
        .with_columns(
            # lift = this signal's rate / the no-signal rate
            (
                pl.col("conversion_rate_pct")
                / pl.when(pl.col("intent_signal") == NO_SIGNAL)
                .then(pl.col("conversion_rate_pct"))
                .max()
                .pipe(lambda none_rate: pl.when(none_rate > 0).then(none_rate))
            ).alias("lift_vs_none"),
        )
        .select(
            pl.lit(as_of).alias("as_of_date"),
            pl.col("intent_signal"),
            pl.lit(window_start_day).alias("signal_window_start"),
            pl.lit(window_end_day).alias("signal_window_end"),
            pl.lit(conversion_days, pl.Int32).alias("conversion_days"),
            pl.col("customers"),
            pl.col("converted_customers"),
            pl.col("conversion_rate_pct"),
            pl.col("lift_vs_none"),
            pl.col("avg_days_to_convert"),
            pl.col("converted_revenue_eur").fill_null(pl.lit(0, MONEY)).cast(MONEY),
        )
        .sort(pl.col("intent_signal").replace_strict(signal_order, return_dtype=pl.Int32))
    )
