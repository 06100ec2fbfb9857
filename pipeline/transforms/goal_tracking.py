"""SMART goal tracking: each goal's actual to date against its pacing, and a SMART check.

Metrics (``METRICS``), measured from ``period_start`` to ``min(period_end, as_of)``, both
inclusive, on ``order_date`` (contacts on the UTC day of ``created_at``):

- ``revenue``: sum of ``net_revenue_eur`` of ``is_revenue`` orders (additive);
- ``new_customers``: number of ``is_first_order`` orders (additive);
- ``customers``: distinct customers with a revenue order (paced as additive: it only grows);
- ``sales_growth``: revenue, with the target always a growth percentage over the baseline
  period (so "sell 20 % more in the next four months" is target 20 with the previous four months
  as baseline; ``revenue`` with ``target_kind`` ``pct_vs_baseline`` means the same);
- ``avg_order``: revenue / revenue orders (a level);
- ``satisfaction``: mean ``satisfaction_score`` of the contacts created in the period (a level);
- ``cpa``: ad spend / new customers (EUR, a level where lower is better);
- ``roi``: (revenue - ad spend) / ad spend (a ratio, a level).

Filters: a goal's ``channel`` measures the channel's last-touch attributed revenue, orders and new
customers (``GOAL_ATTRIBUTION_MODEL``; fractions under fractional models) and the channel's own ad
spend; a goal's ``segment`` keeps the customers in that segment as of the as-of date, written
``column=value`` (any column of mart_customer_segments) or as a bare value of rfm_segment,
persona or value_tier. CPA and ROI cannot be filtered by segment (spend is not bought per
segment); satisfaction cannot be filtered by channel.

``target_kind`` is ``absolute`` (NULL means absolute) or ``pct_vs_baseline``: then the metric is
measured over ``baseline_start..baseline_end`` (never past as-of) and
``target_abs = baseline_value x (1 + target_value / 100)``; a baseline of 0 or less gives no
target (growth over nothing is undefined).

Pacing, with ``elapsed_days = min(as_of, period_end) - period_start + 1`` (the run for day D sees
D complete) and ``period_days = period_end - period_start + 1``:

- ``expected_to_date = target_abs x elapsed_days / period_days`` for additive metrics (linear
  pacing) and ``target_abs`` for levels; ``attainment_pct = actual_to_date / expected_to_date x 100``,
  or ``expected_to_date / actual_to_date x 100`` when lower is better (cpa);
- seasonal pacing replaces the linear share for revenue, sales_growth and new_customers when the
  data reaches back to the same window 52 weeks earlier (weekdays aligned) and that window had a
  positive value: ``expected_to_date = target_abs x LY(period_start..as_of) / LY(period_start..period_end)``,
  LY being the metric over the window shifted back 364 days (``pacing`` says which was used);
- ``forecast_end = actual_to_date / elapsed_days x period_days`` for additive metrics (run rate)
  and ``actual_to_date`` for levels.

Status, first match wins:

1. ``insufficient_data``: nothing to measure: unsupported metric, no target, no valid period, a
   pct_vs_baseline goal without a usable baseline, a level metric with no observation yet (CPA
   without a new customer, ROI without spend), or a filter whose input is not available;
2. ``achieved``: ``actual_to_date >= target_abs`` (``<=`` for cpa); additive metrics at any time,
   levels only once the period is over (as_of >= period_end);
3. ``missed``: the period is over (as_of >= period_end) and the target was not reached;
4. ``on_track`` at attainment >= 99 %, ``at_risk`` at >= 85 %, else ``off_track``.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    "cpa": LEVEL,
    "roi": LEVEL,
}
_LOWER_IS_BETTER = ("cpa",)
SEASONAL_METRICS = ("revenue", "sales_growth", "new_customers")
SEASON_SHIFT_DAYS = 364  # 52 weeks: last year's same weekdays
GOAL_ATTRIBUTION_MODEL = "last_touch"
BARE_SEGMENT_COLUMNS = ("rfm_segment", "persona", "value_tier")
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


def _scope_key() -> pl.Expr:
    """The goal's filter as one key: channel and segment, '*' for none (``_scope_name`` of its columns)."""
    return pl.format("{}|{}", pl.col("channel").fill_null("*"), pl.col("segment").fill_null("*"))


def _scope_name(channel: str | None, segment: str | None) -> str:
    """The key ``_scope_key`` gives a goal with this channel and segment filter."""
    return f"{channel or '*'}|{segment or '*'}"


def _segment_members(segments: pl.DataFrame | pl.LazyFrame, segment: str) -> pl.Series | None:
    """customer_ids in the named segment: ``column=value``, or a bare value of rfm_segment, persona or value_tier.

    None when the column does not exist (the filter cannot be applied).
    """
    if "=" in segment:
        column, value = (part.strip() for part in segment.split("=", 1))
        columns = [column]
    else:
        value, columns = segment.strip(), list(BARE_SEGMENT_COLUMNS)
    frame = segments.lazy()
    if not set(columns) <= set(frame.collect_schema().names()):
        return None
    members = frame.filter(pl.any_horizontal(pl.col(c).cast(pl.Utf8) == value for c in columns))
    return members.select("customer_id").collect()["customer_id"]


def _facts(scopes: list[tuple[str | None, str | None]], inputs: GoalInputs,
           as_of: date) -> tuple[pl.LazyFrame, list[str]]:
    """Per scope (channel, segment), the day-level figures goal metrics are measured from.

    Columns: _scope, day, customer_id, revenue_eur, revenue_orders, first_orders, spend_eur.
    Unfiltered scopes read fct_orders and all ad spend; a channel scope reads the channel's
    ``GOAL_ATTRIBUTION_MODEL`` credit (revenue, orders and first orders as credited fractions)
    and its ad spend; a segment scope keeps the orders of the segment's customers as of the
    as-of date and has no spend (spend is not bought per segment). A scope whose input is missing
    is left out; the scopes built are returned with the facts.
    """
    orders = inputs.fct_orders.filter(pl.col("order_date") <= as_of).with_columns(
        pl.col("is_revenue").fill_null(False), pl.col("is_first_order").fill_null(False)
    )
    parts: list[pl.LazyFrame] = []
    built: list[str] = []
    for channel, segment in scopes:
        scope = _scope_name(channel, segment)
        if channel is None:
            sales = orders.select(
                pl.col("order_date").alias("day"),
                "customer_id",
                pl.when(pl.col("is_revenue")).then(pl.col("net_revenue_eur")).otherwise(pl.lit(0, MONEY))
                .cast(MONEY).alias("revenue_eur"),
                pl.col("is_revenue").cast(pl.Float64).alias("revenue_orders"),
                pl.col("is_first_order").cast(pl.Float64).alias("first_orders"),
            )
        elif inputs.attribution is not None:
            sales = inputs.attribution.filter(
                (pl.col("model") == GOAL_ATTRIBUTION_MODEL) & (pl.col("channel") == channel)
                & (pl.col("order_date") <= as_of)
            ).select(
                pl.col("order_date").alias("day"),
                "customer_id",
                pl.col("revenue_eur").cast(MONEY),
                pl.col("credit").alias("revenue_orders"),
                (pl.col("credit") * pl.col("is_first_order").fill_null(False).cast(pl.Float64)).alias("first_orders"),
            )
        else:
            continue
        if segment is not None:
            members = None if inputs.segments is None else _segment_members(inputs.segments, segment)
            if members is None:
                continue
            sales = sales.filter(pl.col("customer_id").is_in(members.implode()))
        built.append(scope)
        parts.append(sales.with_columns(pl.lit(None, MONEY).alias("spend_eur"), pl.lit(scope).alias("_scope")))
        if segment is None and inputs.ad_spend is not None:
            spend = inputs.ad_spend.filter(pl.col("day") <= as_of)
            if channel is not None:
                spend = spend.filter(pl.col("channel") == channel)
            parts.append(spend.select(
                "day", pl.lit(None, pl.Utf8).alias("customer_id"), pl.lit(0, MONEY).alias("revenue_eur"),
                pl.lit(0.0).alias("revenue_orders"), pl.lit(0.0).alias("first_orders"),
                pl.col("spend_eur").cast(MONEY), pl.lit(scope).alias("_scope"),
            ))
    columns = ["_scope", "day", "customer_id", "revenue_eur", "revenue_orders", "first_orders", "spend_eur"]
    if not parts:
        schema = {"_scope": pl.Utf8, "day": pl.Date, "customer_id": pl.Utf8, "revenue_eur": MONEY,
                  "revenue_orders": pl.Float64, "first_orders": pl.Float64, "spend_eur": MONEY}
        return pl.LazyFrame(schema=schema), built
    return pl.concat([part.select(columns) for part in parts], how="vertical_relaxed").cache(), built


def _daily(facts: pl.LazyFrame) -> pl.LazyFrame:
    """Per scope and day, the additive figures of ``_facts``: a window's figure is the sum of its days.

    Columns: _scope, day, revenue_eur, revenue_orders, first_orders, spend_eur (sums, NULLs
    skipped), has_spend (a spend row that day) and has_orders (an order row with a customer).
    Decimal sums are exact in any order; the float counts are whole numbers (is_revenue, and the
    0 or 1 credit of ``GOAL_ATTRIBUTION_MODEL``), so summing per day first changes no bit.
    """
    return facts.group_by("_scope", "day").agg(
        pl.col("revenue_eur").sum().alias("revenue_eur"),
        pl.col("revenue_orders").sum().alias("revenue_orders"),
        pl.col("first_orders").sum().alias("first_orders"),
        pl.col("spend_eur").sum().alias("spend_eur"),
        pl.col("spend_eur").is_not_null().any().alias("has_spend"),
        pl.col("customer_id").is_not_null().any().alias("has_orders"),
    )


def _buyers(facts: pl.LazyFrame, scopes: list[str]) -> pl.LazyFrame:
    """The _scope, day and customer_id of each revenue order (credit > 0 under a channel) in ``scopes``."""
    return facts.filter(
        pl.col("_scope").is_in(scopes) & (pl.col("revenue_orders") > 0) & pl.col("customer_id").is_not_null()
    ).select("_scope", "day", "customer_id")


def _measure(
    windows: pl.LazyFrame,
    daily: pl.LazyFrame,
    buyers: pl.LazyFrame,
    satisfaction: pl.LazyFrame,
    prefix: str,
) -> pl.LazyFrame:
    """Per goal_id, the value of the goal's metric over its window (_start.._end, inclusive).

    Additive figures are sums over the window's days (``_daily``); distinct customers and the mean
    score need the rows, and are measured only for the goals of those metrics.
    """
    in_window = (pl.col("day") >= pl.col("_start")) & (pl.col("day") <= pl.col("_end"))
    figures = (
        windows.join(daily, on="_scope", how="inner")
        .filter(in_window)
        .group_by("goal_id")
        .agg(
            pl.col("revenue_eur").sum().cast(MONEY).alias("_revenue"),
            pl.col("revenue_orders").sum().alias("_revenue_orders"),
            pl.col("first_orders").sum().alias("_first_orders"),
            pl.col("spend_eur").sum().cast(MONEY).alias("_spend"),
            pl.col("has_spend").any().alias("_has_spend"),
        )
    )

    def from_rows(metric: str, rows: pl.LazyFrame, value: pl.Expr) -> pl.LazyFrame:
        """Per goal of ``metric``, ``value`` over the rows of its scope in its window."""
        return (windows.filter(pl.col("metric") == metric).join(rows, on="_scope", how="inner").filter(in_window)
                .group_by("goal_id").agg(value))

    customers = from_rows("customers", buyers, pl.col("customer_id").n_unique().alias("_customers"))
    scores = from_rows("satisfaction", satisfaction, pl.col("satisfaction_score").mean().alias("_satisfaction"))
    metric = pl.col("metric")
    spend = pl.when(pl.col("_has_spend").fill_null(False)).then(pl.col("_spend"))
    return (
        windows.join(figures, on="goal_id", how="left")
        .join(customers, on="goal_id", how="left")
        .join(scores, on="goal_id", how="left")
        .select(
            pl.col("goal_id"),
            pl.when(pl.col("_start").is_null() | pl.col("_end").is_null() | (pl.col("_end") < pl.col("_start")))
            .then(pl.lit(None, MONEY))
            .when(~pl.col("_measurable"))
            .then(pl.lit(None, MONEY))
            .when(metric.is_in(["revenue", "sales_growth"]))
            .then(pl.col("_revenue").fill_null(pl.lit(0, MONEY)))
            .when(metric == "new_customers")
            .then(pl.col("_first_orders").fill_null(0).round(4).cast(MONEY))
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
            .when(metric == "cpa")
            # CPA = ad spend / new customers
            .then((spend / pl.when(pl.col("_first_orders") > 0).then(pl.col("_first_orders"))).round(4).cast(MONEY))
            .when(metric == "roi")
            # ROI = (revenue - ad spend) / ad spend
            .then(((pl.col("_revenue").fill_null(pl.lit(0, MONEY)) - spend) / pl.when(spend > 0).then(spend))
                  .round(4).cast(MONEY))
            .otherwise(pl.lit(None, MONEY))
            .cast(MONEY)
            .alias(prefix),
        )
    )


@dataclass(frozen=True)
class GoalInputs:
    """What goal metrics are measured from; the optional parts enable channel/segment filters, CPA and ROI."""

    fct_orders: pl.LazyFrame
    contacts: pl.LazyFrame
    ad_spend: pl.LazyFrame | None = None      # fct_ad_spend_daily
    attribution: pl.LazyFrame | None = None   # fct_attribution (GOAL_ATTRIBUTION_MODEL rows are used)
    segments: pl.DataFrame | pl.LazyFrame | None = None  # mart_customer_segments as of the same date


def build_goal_tracking(
    goals: pl.LazyFrame,
    fct_orders: pl.LazyFrame,
    contacts: pl.LazyFrame,
    as_of: date,
    *,
    ad_spend: pl.LazyFrame | None = None,
    attribution: pl.LazyFrame | None = None,
    segments: pl.DataFrame | pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """One row per as_of_date and goal_id (goals with period_start <= as_of): actual, pacing, status.

    Rules are in the module docstring. Values (target_abs, baseline, actual, expected, forecast)
    are decimals in the metric's unit: EUR for revenue, sales_growth, avg_order and cpa, a count for
    new_customers and customers, the 0..10 score for satisfaction, a ratio for roi.
    """
    inputs = GoalInputs(fct_orders, contacts, ad_spend, attribution, segments)
    started = goals.filter(pl.col("period_start") <= as_of)
    scope_metrics = started.select("channel", "segment", "metric").unique().collect()
    scopes = sorted(scope_metrics.select("channel", "segment").unique().rows(), key=str)
    facts, fact_scopes = _facts(scopes, inputs, as_of)
    daily = _daily(facts)
    # distinct customers are counted from the order rows, kept only for the scopes of customers goals
    customer_scopes = scope_metrics.filter(pl.col("metric") == "customers").select("channel", "segment").rows()
    buyers = _buyers(facts, [_scope_name(channel, segment) for channel, segment in customer_scopes])
    satisfaction, satisfaction_scopes = _satisfaction(scopes, inputs, as_of)
    tracked = started.with_columns(
        _effective_target_kind().alias("_kind"),
        pl.col("target_value").fill_nan(None).round(4).cast(MONEY).alias("_target"),
        _scope_key().alias("_scope"),
    ).with_columns(
        # a filter whose input is missing measures nothing; spend is not bought per segment, so
        # CPA and ROI cannot be filtered by one
        pl.when(pl.col("metric") == "satisfaction").then(pl.col("_scope").is_in(satisfaction_scopes))
        .otherwise(pl.col("_scope").is_in(fact_scopes))
        .and_(~(pl.col("metric").is_in(["cpa", "roi"]) & pl.col("segment").is_not_null()))
        .alias("_measurable"),
    )

    def measure(start: pl.Expr, end: pl.Expr, prefix: str, subset: pl.Expr | None = None) -> pl.LazyFrame:
        rows = tracked if subset is None else tracked.filter(subset)
        return _measure(rows.select("goal_id", "metric", "_scope", "_measurable", start.alias("_start"),
                                    end.alias("_end")), daily, buyers, satisfaction, prefix)

    period = measure(pl.col("period_start"), _capped_at(pl.col("period_end"), as_of), "actual_to_date")
    baseline = measure(pl.col("baseline_start"), _capped_at(pl.col("baseline_end"), as_of), "baseline_value",
                       pl.col("_kind") == "pct_vs_baseline")
    # seasonal pacing: the same window 52 weeks earlier (weekdays aligned), to date and in full
    year_ago = pl.duration(days=SEASON_SHIFT_DAYS)
    seasonal = pl.col("metric").is_in(SEASONAL_METRICS)
    last_year_to_date = measure(pl.col("period_start") - year_ago, _capped_at(pl.col("period_end"), as_of) - year_ago,
                                "_ly_to_date", seasonal)
    last_year_full = measure(pl.col("period_start") - year_ago, pl.col("period_end") - year_ago, "_ly_full", seasonal)
    # the data's first day: the earliest order of any scope
    first_day = daily.filter(pl.col("has_orders")).select(pl.col("day").min().alias("_first_day"))

    is_additive = pl.col("metric").is_in(_ADDITIVE_METRICS)
    lower_is_better = pl.col("metric").is_in(_LOWER_IS_BETTER)
    is_over = pl.lit(as_of) >= pl.col("period_end")
    actual = pl.col("actual_to_date")
    unmeasurable = (
        ~pl.col("metric").is_in(list(METRICS)).fill_null(False)
        | ~pl.col("_kind").is_in(list(TARGET_KINDS))
    )
    has_history = (
        pl.col("_first_day").is_not_null()
        & (pl.col("period_start") - year_ago >= pl.col("_first_day"))
        & (pl.col("_ly_full") > 0)
    )
    reached = pl.when(lower_is_better).then(actual <= pl.col("target_abs")).otherwise(actual >= pl.col("target_abs"))
    return (
        tracked.join(period, on="goal_id", how="left")
        .join(baseline, on="goal_id", how="left")
        .join(last_year_to_date, on="goal_id", how="left")
        .join(last_year_full, on="goal_id", how="left")
        .join(first_day, how="cross")
        .with_columns(
            pl.when(unmeasurable).then(pl.lit(None, MONEY)).otherwise(actual).alias("actual_to_date"),
            (_capped_at(pl.col("period_end"), as_of) - pl.col("period_start"))
            .dt.total_days()
            .add(1)
            .alias("_elapsed_days"),
            (pl.col("period_end") - pl.col("period_start")).dt.total_days().add(1).alias("_period_days"),
            pl.when(is_additive & has_history.fill_null(False)).then(pl.lit("seasonal")).otherwise(pl.lit("linear"))
            .alias("pacing"),
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
            .when(is_additive & (pl.col("pacing") == "seasonal"))
            # seasonal: expected = target x last year's to-date share of its full period
            .then((pl.col("target_abs") * pl.col("_ly_to_date").cast(pl.Float64) / pl.col("_ly_full").cast(pl.Float64))
                  .round(4))
            .when(is_additive)
            # linear: expected = target x elapsed days / period days
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
            pl.when(lower_is_better)
            # lower is better: attainment = expected / actual x 100
            .then(pl.col("expected_to_date").cast(pl.Float64) * 100
                  / pl.when(actual > 0).then(actual.cast(pl.Float64)))
            # attainment = actual / expected x 100
            .otherwise(actual.cast(pl.Float64) * 100
                       / pl.when(pl.col("expected_to_date") != 0).then(pl.col("expected_to_date").cast(pl.Float64)))
            .alias("attainment_pct"),
        )
        .with_columns(
            pl.when(actual.is_null() | pl.col("target_abs").is_null() | pl.col("_period_days").is_null())
            .then(pl.lit("insufficient_data"))
            .when(reached & (is_additive | is_over))
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
            "channel",
            "segment",
            "target_abs",
            "baseline_value",
            "actual_to_date",
            "expected_to_date",
            "pacing",
            "attainment_pct",
            "forecast_end",
            "status",
        )
        .sort("goal_id")
    )


def _satisfaction(scopes: list[tuple[str | None, str | None]], inputs: GoalInputs,
                  as_of: date) -> tuple[pl.LazyFrame, list[str]]:
    """Per scope, survey scores by the UTC day the contact was created (none for channel scopes), and the scopes built."""
    as_of_end = datetime.combine(as_of + timedelta(days=1), time(), tzinfo=UTC)
    answered = inputs.contacts.filter(
        pl.col("satisfaction_score").is_not_null()
        & pl.col("satisfaction_score").is_not_nan()
        & (pl.col("created_at") < as_of_end)
    ).select(pl.col("created_at").dt.date().alias("day"), "customer_id", "satisfaction_score")
    parts: list[pl.LazyFrame] = []
    built: list[str] = []
    for channel, segment in scopes:
        if channel is not None:
            continue
        scoped = answered
        if segment is not None:
            members = None if inputs.segments is None else _segment_members(inputs.segments, segment)
            if members is None:
                continue
            scoped = scoped.filter(pl.col("customer_id").is_in(members.implode()))
        built.append(_scope_name(None, segment))
        parts.append(scoped.select(pl.lit(built[-1]).alias("_scope"), "day", "satisfaction_score"))
    if not parts:
        return pl.LazyFrame(schema={"_scope": pl.Utf8, "day": pl.Date, "satisfaction_score": pl.Float64}), []
    return pl.concat(parts), built


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
        pl.when(pl.col("metric").is_in(["cpa", "roi"]) & pl.col("segment").is_not_null()).then(
            pl.format("{} cannot be filtered by segment (ad spend is not bought per segment)", pl.col("metric"))
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
