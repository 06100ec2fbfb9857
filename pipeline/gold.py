"""Assemble the gold tables of a run from silver: which builder feeds which warehouse table.

Two kinds of gold table:
- *current* tables (facts, dimensions, period marts) describe the business as of the run's last
  date and replace the table's content;
- *snapshot* tables (segments, segment summary, goal tracking) have one snapshot per as-of date;
  a run writes the snapshot of every date in its range and replaces exactly those snapshots.

``mart_audience_sizes`` is not built here: ``kohde audiences`` (``pipeline.audiences``) loads it
when it writes the audience files.

A nightly run is the range [D, D]; a backfill over [D1, D2] computes the current tables once, as
of D2, and one snapshot per date, which is what nightly runs over the same dates leave behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import polars as pl

from pipeline.lake import Lake
from pipeline.settings import Settings
from pipeline.silver import current, fx_rates
from pipeline.transforms.ad_spend import build_fct_ad_spend_daily
from pipeline.transforms.attribution import build_fct_attribution
from pipeline.transforms.budget_vs_actual import build_budget_vs_actual
from pipeline.transforms.campaign_lift import build_campaign_lift
from pipeline.transforms.campaigns import build_dim_campaign
from pipeline.transforms.channel_roi import build_channel_roi
from pipeline.transforms.clv import build_clv, build_ltv_cac
from pipeline.transforms.customers import build_dim_customer
from pipeline.transforms.goal_tracking import build_goal_tracking
from pipeline.transforms.orders import build_fct_orders
from pipeline.transforms.sales_costs import build_sales_costs
from pipeline.transforms.segments import build_customer_segments, build_segment_summary
from pipeline.transforms.touchpoints import build_fct_touchpoints

SNAPSHOT_TABLES = ("mart_customer_segments", "mart_segment_summary", "mart_goal_tracking", "mart_clv",
                   "mart_clv_model", "mart_ltv_cac")
ATTRIBUTION_MODELS = ("last_touch", "first_touch", "linear", "position_based", "time_decay", "markov")


class Silver:
    """Every extraction of every entity up to the run's last date, read once."""

    def __init__(self, lake: Lake, up_to: date) -> None:
        self._frames = {
            entity: lake.clean(entity, up_to).collect()
            for entity in ("contact", "deal", "touchpoint", "ad_daily", "order", "goal", "budget", "sales_cost",
                           "fx_rate")
        }

    def as_of(self, entity: str, as_of: date) -> pl.LazyFrame:
        """The current truth of an entity as of a date."""
        return current(self._frames[entity].lazy(), entity, as_of)

    def fx(self, as_of: date) -> pl.LazyFrame:
        """Rates known as of a date (plan files + shipped defaults)."""
        return fx_rates(self._frames["fx_rate"].lazy(), as_of)


def build_current(silver: Silver, as_of: date, settings: Settings) -> dict[str, pl.DataFrame]:
    """Facts, dimensions and period marts as of the run's last date."""
    fx = silver.fx(as_of)
    orders = build_fct_orders(silver.as_of("order", as_of), fx).collect()
    ad_spend = build_fct_ad_spend_daily(silver.as_of("ad_daily", as_of), fx).collect()
    touchpoints = build_fct_touchpoints(silver.as_of("touchpoint", as_of)).collect()
    attribution = build_fct_attribution(
        orders.lazy(), touchpoints.lazy(), settings.attribution_lookback_days, ATTRIBUTION_MODELS
    ).collect()
    contacts = silver.as_of("contact", as_of)
    segments = build_customer_segments(orders.lazy(), contacts, touchpoints.lazy(), as_of,
                                       settings.rfm_window_days)
    return {
        "fct_orders": orders,
        "fct_ad_spend_daily": ad_spend,
        "fct_touchpoints": touchpoints,
        "fct_attribution": attribution,
        "dim_campaign": build_dim_campaign(silver.as_of("ad_daily", as_of), silver.as_of("touchpoint", as_of)).collect(),
        "dim_customer": build_dim_customer(
            contacts, orders.lazy(), segments.select("customer_id", "rfm_segment", "value_tier"), as_of
        ).collect(),
        "mart_channel_roi": build_channel_roi(attribution.lazy(), ad_spend.lazy()).collect(),
        "mart_sales_costs": build_sales_costs(silver.as_of("sales_cost", as_of), orders.lazy(), fx).collect(),
        "mart_campaign_lift": build_campaign_lift(ad_spend.lazy(), orders.lazy(), as_of).collect(),
        "mart_budget_vs_actual": build_budget_vs_actual(silver.as_of("budget", as_of), ad_spend.lazy(), fx,
                                                        as_of).collect(),
    }


def build_snapshots(silver: Silver, dates: Iterable[date], settings: Settings) -> dict[str, pl.DataFrame]:
    """Segments, segment summary, goal tracking, CLV and LTV:CAC for each as-of date.

    Each snapshot is computed from silver as of its own date, so a backfill leaves the snapshots
    nightly runs would have left.
    """
    parts: dict[str, list[pl.DataFrame]] = {name: [] for name in SNAPSHOT_TABLES}
    for as_of in dates:
        fx = silver.fx(as_of)
        orders_frame = build_fct_orders(silver.as_of("order", as_of), fx).collect()
        orders = orders_frame.lazy()
        contacts = silver.as_of("contact", as_of)
        touchpoints = build_fct_touchpoints(silver.as_of("touchpoint", as_of)).collect()
        segments = build_customer_segments(orders, contacts, touchpoints.lazy(), as_of,
                                           settings.rfm_window_days).collect()
        parts["mart_customer_segments"].append(segments)
        parts["mart_segment_summary"].append(build_segment_summary(segments.lazy(), orders, as_of).collect())
        parts["mart_goal_tracking"].append(
            build_goal_tracking(silver.as_of("goal", as_of), orders, contacts, as_of).collect()
        )
        clv, clv_model = build_clv(orders, as_of)
        parts["mart_clv"].append(clv)
        parts["mart_clv_model"].append(clv_model)
        first_touch = build_fct_attribution(orders, touchpoints.lazy(), settings.attribution_lookback_days,
                                            ("first_touch",)).collect()
        spend = build_fct_ad_spend_daily(silver.as_of("ad_daily", as_of), fx).collect()
        parts["mart_ltv_cac"].append(build_ltv_cac(clv, segments, first_touch, spend, as_of))
    return {name: pl.concat(frames, how="vertical_relaxed") for name, frames in parts.items() if frames}
