"""Retargeting audiences: who may be targeted, per rule, in Google Customer Match and Meta upload files.

An audience is a rule over the segments, touches and orders as of a date (``AUDIENCE_RULES``).
Whatever the rule says, a person is left out when any of these holds (checked at export time,
on the newest contact data known, not as of the audience date):
- not every one of their CRM contacts says ``consent_marketing`` = true (NULL is no consent);
- any contact says ``objected_marketing`` = true (GDPR Art 21 objection, absolute);
- their email hash is on the suppression list (``kohde suppress``, ``inbox/plan/suppression*.csv``);
- they were erased (``kohde forget``);
- there is neither an email nor a phone hash to match them by.

Files (``<KOHDE_HOME>/audiences/<date>/<audience>_<platform>.csv``), one row per person:
- ``google_ads``: headers ``Email,Phone``, SHA-256 of the trimmed, lower-cased email and of the
  E.164 phone with ``+`` (Google Customer Match hashed upload);
- ``meta_ads``: headers ``email,phone``, SHA-256 of the same email and of the phone's digits with
  the country code, no ``+`` (Meta custom audience customer list).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from pipeline.settings import Settings

ENGAGEMENT_DAYS = 30
WEBINAR_DAYS = 90
AUDIENCES: tuple[str, ...] = ("engaged_no_order_30d", "at_risk_high_value", "webinar_not_converted",
                              "champions_lookalike_seed")
# Platform minimums on *matched, active* members (matching happens at the platform, so an upload
# smaller than the minimum can never serve). Sources in DECISIONLOG.md ("Audiences").
MINIMUM_MEMBERS: dict[str, int] = {"google_ads": 100, "meta_ads": 100}
PLATFORM_COLUMNS: dict[str, tuple[str, str, str]] = {
    # platform: (email header, phone header, phone hash column)
    "google_ads": ("Email", "Phone", "phone_sha256"),
    "meta_ads": ("email", "phone", "phone_sha256_meta"),
}
EXCLUSIONS: tuple[str, ...] = ("forgotten", "objected", "suppressed", "no_consent", "no_identifier")


def build_audience_candidates(segments: pl.LazyFrame, touchpoints: pl.LazyFrame, orders: pl.LazyFrame,
                              as_of: date) -> pl.LazyFrame:
    """One row per audience and customer matching the audience's rule as of ``as_of`` (before consent).

    - ``engaged_no_order_30d``: engagement_segment engaged or highly_engaged (non-impression touches
      in the 30 days up to as-of) and no revenue order with order_date in those 30 days;
    - ``at_risk_high_value``: rfm_segment At Risk or Can't Lose Them, and value_tier top;
    - ``webinar_not_converted``: a webinar touch in the 90 days up to as-of and no revenue order on or
      after the first of those webinar days;
    - ``champions_lookalike_seed``: rfm_segment Champions (the seed of a lookalike audience).
    """
    recent_start = as_of - timedelta(days=ENGAGEMENT_DAYS - 1)
    revenue = orders.filter(pl.col("is_revenue") & (pl.col("order_date") <= as_of)
                            & pl.col("customer_id").is_not_null())
    ordered_recently = revenue.filter(pl.col("order_date") >= recent_start).select("customer_id").unique()
    engaged = (segments.filter(pl.col("engagement_segment").is_in(["engaged", "highly_engaged"]))
               .select("customer_id")
               .join(ordered_recently, on="customer_id", how="anti")
               .with_columns(pl.lit("engaged_no_order_30d").alias("audience")))
    at_risk = (segments.filter(pl.col("rfm_segment").is_in(["At Risk", "Can't Lose Them"])
                               & (pl.col("value_tier") == "top"))
               .select("customer_id").with_columns(pl.lit("at_risk_high_value").alias("audience")))
    touch_day = pl.col("ts").dt.date()
    first_webinar = (touchpoints.filter((pl.col("touch_type") == "webinar") & pl.col("customer_id").is_not_null()
                                        & (touch_day <= as_of)
                                        & (touch_day > as_of - timedelta(days=WEBINAR_DAYS)))
                     .group_by("customer_id").agg(touch_day.min().alias("first_webinar_date")))
    converted = (first_webinar.join(revenue.select("customer_id", "order_date"), on="customer_id")
                 .filter(pl.col("order_date") >= pl.col("first_webinar_date")).select("customer_id").unique())
    webinar = (first_webinar.join(converted, on="customer_id", how="anti").select("customer_id")
               .with_columns(pl.lit("webinar_not_converted").alias("audience")))
    champions = (segments.filter(pl.col("rfm_segment") == "Champions").select("customer_id")
                 .with_columns(pl.lit("champions_lookalike_seed").alias("audience")))
    return (pl.concat([engaged, at_risk, webinar, champions], how="vertical")
            .select("audience", "customer_id").unique().sort("audience", "customer_id"))


def build_people(contacts: pl.LazyFrame) -> pl.LazyFrame:
    """One row per customer: hashes to match by (newest contact's phone), consent and objection over all contacts."""
    return (contacts.filter(pl.col("customer_id").is_not_null())
            .sort("created_at", "source_system", "contact_id", nulls_last=False)
            .group_by("customer_id")
            .agg(pl.col("email_sha256").drop_nulls().last(),
                 pl.col("phone_sha256").drop_nulls().last(),
                 pl.col("phone_sha256_meta").drop_nulls().last(),
                 pl.col("consent_marketing").fill_null(False).all().alias("consented"),
                 pl.col("objected_marketing").fill_null(False).any().alias("objected")))


def build_audience_members(candidates: pl.LazyFrame, contacts: pl.LazyFrame, suppressed: pl.LazyFrame,
                           forgotten: pl.LazyFrame) -> pl.LazyFrame:
    """Every candidate with its hashes and ``excluded`` (NULL = may be targeted, else the first reason of EXCLUSIONS).

    ``suppressed`` has ``email_sha256``; ``forgotten`` has ``customer_id`` and ``email_sha256``.
    """
    flag = pl.lit(True)
    return (
        candidates.join(build_people(contacts), on="customer_id", how="left")
        .join(forgotten.select("customer_id").unique().with_columns(flag.alias("_gone_id")),
              on="customer_id", how="left")
        .join(forgotten.select("email_sha256").drop_nulls().unique().with_columns(flag.alias("_gone_email")),
              on="email_sha256", how="left")
        .join(suppressed.select("email_sha256").drop_nulls().unique().with_columns(flag.alias("_suppressed")),
              on="email_sha256", how="left")
        .with_columns(
            pl.when(pl.col("_gone_id").fill_null(False) | pl.col("_gone_email").fill_null(False))
            .then(pl.lit("forgotten"))
            .when(pl.col("objected").fill_null(False)).then(pl.lit("objected"))
            .when(pl.col("_suppressed").fill_null(False)).then(pl.lit("suppressed"))
            .when(~pl.col("consented").fill_null(False)).then(pl.lit("no_consent"))
            .when(pl.col("email_sha256").is_null() & pl.col("phone_sha256").is_null()
                  & pl.col("phone_sha256_meta").is_null()).then(pl.lit("no_identifier"))
            .otherwise(None).alias("excluded")
        )
        .sort("audience", "customer_id")
    ).select("audience", "customer_id", "email_sha256", "phone_sha256", "phone_sha256_meta", "excluded")


def platform_file(members: pl.DataFrame, audience: str, platform: str) -> pl.DataFrame:
    """The upload rows of one audience for one platform: hashed email and phone in the platform's headers."""
    email_header, phone_header, phone_column = PLATFORM_COLUMNS[platform]
    return (members.filter((pl.col("audience") == audience) & pl.col("excluded").is_null()
                           & (pl.col("email_sha256").is_not_null() | pl.col(phone_column).is_not_null()))
            .sort("customer_id")
            .select(pl.col("email_sha256").alias(email_header), pl.col(phone_column).alias(phone_header)))


def build_audience_sizes(members: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One row per audience and platform: candidates, exclusions by reason, members and the minimum-size flag."""
    rows = []
    for audience in AUDIENCES:
        mine = members.filter(pl.col("audience") == audience)
        excluded = {reason: mine.filter(pl.col("excluded") == reason).height for reason in EXCLUSIONS}
        for platform, minimum in MINIMUM_MEMBERS.items():
            size = platform_file(members, audience, platform).height
            rows.append({"as_of_date": as_of, "audience": audience, "platform": platform,
                         "candidates": mine.height, **{f"excluded_{r}": n for r, n in excluded.items()},
                         "members": size, "minimum_members": minimum, "below_minimum": size < minimum,
                         "file_name": f"{audience}_{platform}.csv"})
    schema = {"as_of_date": pl.Date, "audience": pl.Utf8, "platform": pl.Utf8, "candidates": pl.Int64,
              **{f"excluded_{r}": pl.Int64 for r in EXCLUSIONS}, "members": pl.Int64, "minimum_members": pl.Int64,
              "below_minimum": pl.Boolean, "file_name": pl.Utf8}
    return pl.DataFrame(rows, schema=schema)


@dataclass
class AudienceExport:
    """What ``kohde audiences`` wrote: the folder and one size row per audience and platform."""

    folder: Path
    sizes: pl.DataFrame


def export_audiences(settings: Settings, as_of: date) -> AudienceExport:
    """Build every audience as of ``as_of`` from the lake, write the platform files and load the sizes."""
    from pipeline.csv_safety import write_csv
    from pipeline.gold import Silver, channel_rules, segment_rules, segments_as_of
    from pipeline.lake import Lake
    from pipeline.privacy import suppressed_hashes, tombstones
    from pipeline.silver import current
    from pipeline.transforms.orders import build_fct_orders
    from pipeline.transforms.touchpoints import build_fct_touchpoints
    from pipeline.warehouse import TableLoad, Warehouse

    lake = Lake(settings.lake)
    silver = Silver(lake, as_of)
    orders = build_fct_orders(silver.as_of("order", as_of), silver.fx(as_of)).collect()
    touchpoints = build_fct_touchpoints(silver.as_of("touchpoint", as_of), channel_rules(settings)).collect()
    segments = segments_as_of(silver, as_of, settings, segment_rules(settings), orders.lazy(), touchpoints.lazy())
    candidates = build_audience_candidates(segments, touchpoints.lazy(), orders.lazy(), as_of)
    # consent and objection: the newest contact data known, whatever the audience date
    newest_contacts = current(lake.clean("contact", date.max), "contact", date.max)
    members = build_audience_members(candidates, newest_contacts, suppressed_hashes(lake, settings.inbox).lazy(),
                                     tombstones(lake).lazy()).collect()
    folder = settings.audiences_dir / as_of.isoformat()
    for audience in AUDIENCES:
        for platform in PLATFORM_COLUMNS:
            write_csv(platform_file(members, audience, platform), folder / f"{audience}_{platform}.csv")
    sizes = build_audience_sizes(members, as_of)
    with Warehouse.connect(settings.warehouse_url) as warehouse:
        warehouse.upgrade()
        warehouse.load([TableLoad("mart_audience_sizes", sizes, {"as_of_date": [as_of]})])
    return AudienceExport(folder, sizes)
