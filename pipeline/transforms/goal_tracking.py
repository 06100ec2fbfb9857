"""SMART goal tracking: each goal's actual to date against its linear pacing, and a SMART check.

Metrics (``METRICS``), measured from ``period_start`` to ``min(period_end, as_of)``, both
inclusive, on ``order_date`` (contacts on the UTC day of ``created_at``):

- ``revenue``: sum of ``net_revenue_eur`` of ``is_revenue`` orders (additive);
- ``new_customers``: number of ``is_first_order`` orders (additive);
- ``customers``: distinct customers with a revenue order (paced as additive: it only grows);
- ``sales_growth``: revenue, with the target always a growth percentage over the baseline
  period (so "sell 20 % more in the next four months" is target 20 with the previous four months
  as baseline; ``revenue`` with ``target_kind`` ``pct_vs_baseline`` means the same);
- ``avg_order``: revenue / revenue orders (a level);
- ``satisfaction``: mean ``satisfaction_score`` of the contacts created in the period (a level).

``target_kind`` is ``absolute`` (NULL means absolute) or ``pct_vs_baseline``: then the metric is
measured over ``baseline_start..baseline_end`` (never past as-of) and
``target_abs = baseline_value x (1 + target_value / 100)``; a baseline of 0 or less gives no
target (growth over nothing is undefined).

Pacing, with ``elapsed_days = min(as_of, period_end) - period_start + 1`` (the run for day D sees
D complete) and ``period_days = period_end - period_start + 1``:

- ``expected_to_date = target_abs x elapsed_days / period_days`` for additive metrics and
  ``target_abs`` for levels; ``attainment_pct = actual_to_date / expected_to_date x 100``;
- ``forecast_end = actual_to_date / elapsed_days x period_days`` for additive metrics (run rate)
  and ``actual_to_date`` for levels.

Status, first match wins:

1. ``insufficient_data``: nothing to measure: unsupported metric, no target, no valid period, a
   pct_vs_baseline goal without a usable baseline, a level metric with no observation yet, or a
   channel/segment filter (not applied yet, so the whole business would be measured);
2. ``achieved``: ``actual_to_date >= target_abs``; additive metrics at any time, levels only once
   the period is over (as_of >= period_end);
3. ``missed``: the period is over (as_of >= period_end) and the target was not reached;
4. ``on_track`` at attainment >= 99 %, ``at_risk`` at >= 85 %, else ``off_track``.

Only metrics where more is better are supported; ``cpa`` and ``roi`` goals are reported by
``validate_goals`` and tracked as ``insufficient_data``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import polars as pl

from pipeline.entities import MONEY

ADDITIVE = "additive"
LEVEL = "level"
METRICS: dict[str, str] = {
    "revenue": ADDITIVE,
    "new_customers": ADDITIVE,
    "customers": ADDITIVE,
    "sales_growth": ADDITIVE,
    "avg_order": LEVEL,
    "satisfaction": LEVEL,
}
TARGET_KINDS: tuple[str, ...] = ("absolute", "pct_vs_baseline")
ON_TRACK_PCT = 99.0
AT_RISK_PCT = 85.0

_ADDITIVE_METRICS = [m for m, kind in METRICS.items() if kind == ADDITIVE]


def _effective_target_kind() -> pl.Expr:
    """sales_growth is always a growth over its baseline; a NULL target_kind means absolute."""
    return (
        pl.when(pl.col("metric") == "sales_growth")
        .then(pl.lit("pct_vs_baseline"))
        .otherwise(pl.col("target_kind").fill_null("absolute"))
    )


def _capped_at(day: pl.Expr, as_of: date) -> pl.Expr:
    """The earlier of day and as_of; NULL stays NULL (no end is no window)."""
    return pl.when(day > as_of).then(pl.lit(as_of)).otherwise(day)


def _measure(
    windows: pl.LazyFrame,
    orders_by_day: pl.LazyFrame,
    satisfaction_by_day: pl.LazyFrame,
    prefix: str,
) -> pl.LazyFrame:
    """Per goal_id, the value of the goal's metric over its window (_start.._end, inclusive)."""
    in_window = [pl.col("day") >= pl.col("_start"), pl.col("day") <= pl.col("_end")]
    order_figures = (
        windows.join_where(orders_by_day, *in_window)
        .group_by("goal_id")
        .agg(
            pl.col("revenue_eur").sum().cast(MONEY).alias("_revenue"),
            pl.col("revenue_orders").sum().alias("_revenue_orders"),
            pl.col("first_orders").sum().alias("_first_orders"),
            pl.col("customer_id")
            .filter((pl.col("revenue_orders") > 0) & pl.col("customer_id").is_not_null())
            .n_unique()
            .alias("_customers"),
        )
    )
    satisfaction = (
        windows.join_where(satisfaction_by_day, *in_window)
        .group_by("goal_id")
        .agg(pl.col("satisfaction_score").mean().alias("_satisfaction"))
    )
    metric = pl.col("metric")
    return (
        windows.join(order_figures, on="goal_id", how="left")
        .join(satisfaction, on="goal_id", how="left")
        .select(
            pl.col("goal_id"),
            pl.when(pl.col("_start").is_null() | pl.col("_end").is_null() | (pl.col("_end") < pl.col("_start")))
            .then(pl.lit(None, MONEY))
            .when(metric.is_in(["revenue", "sales_growth"]))
            .then(pl.col("_revenue").fill_null(pl.lit(0, MONEY)))
            .when(metric == "new_customers")
            .then(pl.col("_first_orders").fill_null(0).cast(MONEY))
            .when(metric == "customers")
            .then(pl.col("_customers").fill_null(0).cast(MONEY))
            .when(metric == "avg_order")
            # average order = revenue / revenue orders
            .then(
                (pl.col("_revenue") / pl.when(pl.col("_revenue_orders") > 0).then(pl.col("_revenue_orders")))
                .round(4)
                .cast(MONEY)
            )
            .when(metric == "satisfaction")
            .then(pl.col("_satisfaction").round(4).cast(MONEY))
            .otherwise(pl.lit(None, MONEY))
            .cast(MONEY)
            .alias(prefix),
        )
    )


def build_goal_tracking(
    goals: pl.LazyFrame,
    fct_orders: pl.LazyFrame,
    contacts: pl.LazyFrame,
    as_of: date,
) -> pl.LazyFrame:
    """One row per as_of_date and goal_id (goals with period_start <= as_of): actual, pacing, status.

    Rules are in the module docstring. Values (target_abs, baseline, actual, expected, forecast)
    are decimals in the metric's unit: EUR for revenue, sales_growth and avg_order, a count for
    new_customers and customers, the 0..10 score for satisfaction.
    """
    as_of_end = datetime.combine(as_of + timedelta(days=1), time(), tzinfo=UTC)
    orders_by_day = (
        fct_orders.filter(pl.col("order_date") <= as_of)
        .with_columns(pl.col("is_revenue").fill_null(False), pl.col("is_first_order").fill_null(False))
        .group_by(pl.col("order_date").alias("day"), "customer_id")
        .agg(
            pl.col("net_revenue_eur").filter(pl.col("is_revenue")).sum().alias("revenue_eur"),
            pl.col("is_revenue").sum().cast(pl.Int64).alias("revenue_orders"),
            pl.col("is_first_order").sum().cast(pl.Int64).alias("first_orders"),
        )
    )
    satisfaction_by_day = contacts.filter(
        pl.col("satisfaction_score").is_not_null()
        & pl.col("satisfaction_score").is_not_nan()
        & (pl.col("created_at") < as_of_end)
    ).select(pl.col("created_at").dt.date().alias("day"), "satisfaction_score")

    tracked = goals.filter(pl.col("period_start") <= as_of).with_columns(
        _effective_target_kind().alias("_kind"),
        pl.col("target_value").fill_nan(None).round(4).cast(MONEY).alias("_target"),
    )
    period = _measure(
        tracked.select(
            "goal_id",
            "metric",
            pl.col("period_start").alias("_start"),
            _capped_at(pl.col("period_end"), as_of).alias("_end"),
        ),
        orders_by_day,
        satisfaction_by_day,
        "actual_to_date",
    )
    baseline = _measure(
        tracked.filter(pl.col("_kind") == "pct_vs_baseline").select(
            "goal_id",
            "metric",
            pl.col("baseline_start").alias("_start"),
            _capped_at(pl.col("baseline_end"), as_of).alias("_end"),
        ),
        orders_by_day,
        satisfaction_by_day,
        "baseline_value",
    )

    is_additive = pl.col("metric").is_in(_ADDITIVE_METRICS)
    is_over = pl.lit(as_of) >= pl.col("period_end")
    actual = pl.col("actual_to_date")
    unmeasurable = (
        ~pl.col("metric").is_in(list(METRICS)).fill_null(False)
        | ~pl.col("_kind").is_in(list(TARGET_KINDS))
        | pl.col("channel").is_not_null()
        | pl.col("segment").is_not_null()
    )
    return (
        tracked.join(period, on="goal_id", how="left")
        .join(baseline, on="goal_id", how="left")
        .with_columns(
            pl.when(unmeasurable).then(pl.lit(None, MONEY)).otherwise(actual).alias("actual_to_date"),
            (_capped_at(pl.col("period_end"), as_of) - pl.col("period_start"))
            .dt.total_days()
            .add(1)
            .alias("_elapsed_days"),
            (pl.col("period_end") - pl.col("period_start")).dt.total_days().add(1).alias("_period_days"),
        )
        .with_columns(
            pl.when(pl.col("_period_days") < 1).then(None).otherwise(pl.col("_period_days")).alias("_period_days"),
            pl.when(pl.col("_kind") == "absolute")
            .then(pl.col("_target"))
            # target = baseline x (1 + target % / 100)
            .when((pl.col("_kind") == "pct_vs_baseline") & (pl.col("baseline_value") > 0))
            .then((pl.col("baseline_value") * (100 + pl.col("_target")) / 100).round(4))
            .otherwise(pl.lit(None, MONEY))
            .cast(MONEY)
            .alias("target_abs"),
        )
        .with_columns(
            pl.when(pl.col("_period_days").is_null())
            .then(pl.lit(None, MONEY))
            .when(is_additive)
            # expected = target x elapsed days / period days
            .then((pl.col("target_abs") * pl.col("_elapsed_days") / pl.col("_period_days")).round(4))
            .otherwise(pl.col("target_abs"))
            .cast(MONEY)
            .alias("expected_to_date"),
            pl.when(pl.col("_period_days").is_null())
            .then(pl.lit(None, MONEY))
            .when(is_additive)
            # forecast = actual / elapsed days x period days
            .then((actual * pl.col("_period_days") / pl.col("_elapsed_days")).round(4))
            .otherwise(actual)
            .cast(MONEY)
            .alias("forecast_end"),
        )
        .with_columns(
            # attainment = actual / expected x 100
            (
                actual.cast(pl.Float64)
                * 100
                / pl.when(pl.col("expected_to_date") != 0).then(pl.col("expected_to_date").cast(pl.Float64))
            ).alias("attainment_pct"),
        )
        .with_columns(
            pl.when(actual.is_null() | pl.col("target_abs").is_null() | pl.col("_period_days").is_null())
            .then(pl.lit("insufficient_data"))
            .when((actual >= pl.col("target_abs")) & (is_additive | is_over))
            .then(pl.lit("achieved"))
            .when(is_over)
            .then(pl.lit("missed"))
            .when(pl.col("attainment_pct").is_null())
            .then(pl.lit("insufficient_data"))
            .when(pl.col("attainment_pct") >= ON_TRACK_PCT)
            .then(pl.lit("on_track"))
            .when(pl.col("attainment_pct") >= AT_RISK_PCT)
            .then(pl.lit("at_risk"))
            .otherwise(pl.lit("off_track"))
            .alias("status"),
        )
        .select(
            pl.lit(as_of).alias("as_of_date"),
            "goal_id",
            "description",
            "metric",
            "owner",
            "target_value",
            "target_kind",
            "period_start",
            "period_end",
            "target_abs",
            "baseline_value",
            "actual_to_date",
            "expected_to_date",
            "attainment_pct",
            "forecast_end",
            "status",
        )
        .sort("goal_id")
    )


def validate_goals(goals: pl.DataFrame) -> list[str]:
    """One message per goal row that is not SMART, naming the goal_id and every problem found.

    A goal is SMART enough to track when it has a target number, a period (start and end, end not
    before start), a supported metric (``METRICS``), a known target_kind, and, for a growth target
    (``pct_vs_baseline`` or metric ``sales_growth``), a baseline period.
    """
    kind = _effective_target_kind()
    problems = [
        pl.when(pl.col("target_value").is_null() | pl.col("target_value").is_nan().fill_null(False)).then(
            pl.lit("no target number")
        ),
        pl.when(pl.col("period_start").is_null() | pl.col("period_end").is_null()).then(
            pl.lit("no period (period_start and period_end are required)")
        ),
        pl.when(pl.col("period_end") < pl.col("period_start")).then(pl.lit("period_end is before period_start")),
        pl.when(pl.col("metric").is_null()).then(pl.lit("no metric")),
        pl.when(~pl.col("metric").is_in(list(METRICS))).then(
            pl.format("unknown metric '{}' (supported: {})", pl.col("metric"), pl.lit(", ".join(METRICS)))
        ),
        pl.when(~kind.is_in(list(TARGET_KINDS))).then(
            pl.format("unknown target_kind '{}' (absolute or pct_vs_baseline)", pl.col("target_kind"))
        ),
        pl.when(
            (kind == "pct_vs_baseline") & (pl.col("baseline_start").is_null() | pl.col("baseline_end").is_null())
        ).then(pl.lit("growth target without a baseline period (baseline_start and baseline_end)")),
        pl.when((kind == "pct_vs_baseline") & (pl.col("baseline_end") < pl.col("baseline_start"))).then(
            pl.lit("baseline_end is before baseline_start")
        ),
    ]
    return (
        goals.with_row_index("_row", offset=1)
        .select(
            pl.coalesce(pl.col("goal_id"), pl.format("<no goal_id, row {}>", pl.col("_row"))).alias("goal"),
            pl.concat_list(problems).list.drop_nulls().list.join("; ").alias("problems"),
        )
        .filter(pl.col("problems") != "")
        .select(pl.format("goal {} is not SMART: {}", pl.col("goal"), pl.col("problems")))
        .to_series()
        .to_list()
    )
