"""``kohde demo``: realistic vendor exports of a simulated high-ticket business, deterministic under a seed.

``generate_demo`` simulates the business (``pipeline.demo.world``) and writes every source's daily
files into the inbox (``pipeline.demo.writers``) in the formats of ``docs/HELPER_DEMO_FORMATS.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.demo.world import CHANNEL_LIFT, World, build_world
from pipeline.demo.writers import (
    write_adroll,
    write_erp_orders,
    write_google_ads,
    write_hubspot_contacts,
    write_hubspot_deals,
    write_linkedin_ads,
    write_meta_ads,
    write_plan,
    write_shopify_orders,
    write_stripe_payments,
    write_touchpoints,
)

__all__ = ["CHANNEL_LIFT", "DemoSummary", "generate_demo"]


@dataclass(frozen=True)
class DemoSummary:
    """What ``generate_demo`` wrote and the truth it simulated.

    ``channel_lift`` is the relative increase in a contact's conversion probability when exposed to
    the channel (``1.0`` doubles it); ``incremental_conversions`` and ``incremental_revenue_eur`` are
    what each channel caused in the period under that model (conversions a channel's exposure added,
    in expectation; revenue of the converted contacts times the share of their conversion
    probability the channel contributed), to compare attribution models against.
    """

    start: date
    end: date                                      # last demo day, inclusive
    days: int
    customers: int
    seed: int
    files: dict[str, int]                          # files written per source folder
    rows: dict[str, int]                           # data rows written per source folder
    orders_by_system: dict[str, int]
    revenue_eur: float                             # net revenue of paid and partially refunded orders
    channel_lift: dict[str, float]
    incremental_conversions: dict[str, float]
    incremental_revenue_eur: dict[str, float]
    retargeted_conversion_rate: float              # visitors AdRoll reached, decided in the period
    other_visitor_conversion_rate: float           # visitors it did not reach
    launch_campaign: str
    launch_start: date
    launch_end: date                               # last day of the launch, inclusive
    goal_expected_status: dict[str, str] = field(default_factory=dict)


def generate_demo(inbox: Path, start: date, days: int, customers: int, seed: int) -> DemoSummary:
    """Write ``<inbox>/<source>/<YYYY-MM-DD>/<file>`` for every day in [start, start + days).

    The same arguments always write byte-identical files; files of earlier runs are overwritten and
    nothing is deleted. Raises ``ValueError`` when days or customers is not positive.
    """
    world = build_world(start, days, customers, seed)
    return _write_world(Path(inbox), world, customers, seed)


def _write_world(inbox: Path, world: World, customers: int, seed: int) -> DemoSummary:
    """Every writer over the world, and the summary of what they wrote."""
    period = world.period
    written = {
        "google_ads": write_google_ads(inbox, world.google_exports, period),
        "meta_ads": write_meta_ads(inbox, world.ad_daily, period),
        "linkedin_ads": write_linkedin_ads(inbox, world.ad_daily, period),
        "adroll": write_adroll(inbox, world.ad_daily, period),
        "crm_contacts": write_hubspot_contacts(inbox, world.contacts, period),
        "crm_deals": write_hubspot_deals(inbox, world.deals, period),
        "crm_touchpoints": write_touchpoints(inbox, world.touchpoints, period),
    }
    shopify = write_shopify_orders(inbox, world.orders, world.order_lines, period)
    stripe = write_stripe_payments(inbox, world.orders, period)
    erp = write_erp_orders(inbox, world.orders, period)
    written["orders"] = (shopify[0] + stripe[0] + erp[0], shopify[1] + stripe[1] + erp[1])
    written["plan"] = write_plan(inbox, world.goals, world.budgets, world.sales_costs, world.fx_rates, period)
    truth = world.truth
    by_system = world.orders.group_by("source_system").len().sort("source_system")
    revenue = world.orders.filter(world.orders["status"].is_in(["paid", "partially_refunded"]))["net_eur"].sum()
    return DemoSummary(
        start=period.start,
        end=period.end,
        days=period.days,
        customers=customers,
        seed=seed,
        files={source: files for source, (files, _) in written.items()},
        rows={source: rows for source, (_, rows) in written.items()},
        orders_by_system=dict(zip(by_system["source_system"].to_list(), by_system["len"].to_list(), strict=True)),
        revenue_eur=round(float(revenue or 0.0), 2),
        channel_lift=dict(truth.channel_lift),
        incremental_conversions=dict(truth.incremental_conversions),
        incremental_revenue_eur=dict(truth.incremental_revenue_eur),
        retargeted_conversion_rate=truth.retargeted_conversion_rate,
        other_visitor_conversion_rate=truth.other_visitor_conversion_rate,
        launch_campaign=period.launch_label,
        launch_start=period.day(period.launch_start),
        launch_end=period.day(period.launch_end - 1),
        goal_expected_status=dict(truth.goal_expected_status),
    )
