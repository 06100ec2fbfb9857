"""Marketing touchpoints (``crm_touchpoints``): the marketing events export, and a HubSpot-like variant.

``marketing_events`` (the demo's file, see docs)::

    Event ID,Contact Email,Timestamp (UTC),Event Type,Channel,Platform,Campaign ID,UTM Source,UTM Medium,UTM Campaign

``hubspot_events``: ``Email,Event date,Event type,Source,Medium,Campaign``: no channel, no platform,
no campaign id; ``Source``/``Medium``/``Campaign`` are the UTM fields.

Mapping decisions:
- ``ts`` is UTC: ``Z`` and offsets are honoured, a timestamp without either is UTC. ISO timestamps, and
  ``2.11.2026 8.00`` / ``2.11.2026 08:00:00`` (the file saved again by a Finnish Excel) are read.
- ``touch_type`` must be one of ``TOUCH_TYPES`` (spelling variants in ``TOUCH_TYPE_ALIASES``), else
  the row is quarantined (``map:touch_type``).
- ``channel`` is the ``Channel`` cell (``Paid Search`` and ``paid_search`` alike), or when there is
  none, derived from UTM source and medium by the shipped rules in ``pipeline/channel_rules.toml``
  (first matching rule wins); a channel
  outside ``pipeline.channels.CHANNELS`` or no rule matching quarantines the row (``map:channel``).
- ``platform`` is the ``Platform`` cell, else the ad platform of a paid channel, ``hubspot`` for
  email and webinar, ``website`` otherwise.
- ``customer_id`` comes from the contact's email hash; a touch without an email cannot be credited
  to anyone and is quarantined (``required:customer_id``).
- ``touchpoint_id`` is the ``Event ID``; without one it is the SHA-256 hex of
  ``"<email_sha256>|<ts ISO-8601 UTC, microseconds>|<channel>|<campaign_id or utm_campaign>|<touch_type>"``,
  so a re-export of the same touch gets the same id.
"""

from __future__ import annotations

import hashlib

import polars as pl

from pipeline.channels import CHANNELS, DEFAULT_CHANNEL_RULES, PLATFORM_CHANNEL, channel_rules_expr
from pipeline.identity import customer_id_expr
from pipeline.ingest.read import RawTable
from pipeline.sources.base import Field, Locale, ParseContext, SourceFormat, add_errors
from pipeline.sources.generic_crm import check_years, shown, with_column

TOUCH_TYPES: tuple[str, ...] = (
    "impression", "click", "email_open", "email_click", "webinar", "trial", "demo_request", "pricing_visit", "visit",
)
TOUCH_TYPE_ALIASES: dict[str, str] = {
    "ad_impression": "impression", "ad_click": "click", "email_opened": "email_open", "open": "email_open",
    "email_clicked": "email_click", "webinar_attended": "webinar", "trial_started": "trial",
    "trial_signup": "trial", "demo_requested": "demo_request", "page_view": "visit", "pageview": "visit",
    "session": "visit", "pricing_page_visit": "pricing_visit",
}

CHANNEL_PLATFORM: dict[str, str] = {channel: platform for platform, channel in PLATFORM_CHANNEL.items()}
UNPAID_PLATFORM: dict[str, str] = {"email": "hubspot", "webinar": "hubspot"}
DEFAULT_PLATFORM = "website"

UTC_ISO = Locale(
    decimal=".",
    group=(",",),
    date_formats=("%Y-%m-%d",),
    datetime_formats=("%Y-%m-%dT%H:%M:%S%.fZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S",
                      "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M",
                      # the same file saved by a Finnish Excel, which rewrites '2026-11-02 08:00:00' as '2.11.2026 8.00'
                      "%d.%m.%Y %H.%M", "%d.%m.%Y %H.%M.%S", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S"),
    timezone="UTC",
)


def _token(column: str) -> pl.Expr:
    """Lower-case, trimmed, spaces and dashes as '_': 'Paid Search' -> 'paid_search'."""
    return pl.col(column).str.strip_chars().str.to_lowercase().str.replace_all(r"[\s\-]+", "_")


def utm_channel_expr(source: pl.Expr, medium: pl.Expr) -> pl.Expr:
    """The channel of a touch from its UTM source and medium by the shipped rules; NULL when none matches."""
    return channel_rules_expr(DEFAULT_CHANNEL_RULES, {"utm_source": source, "utm_medium": medium})


def touchpoint_digest(key: str) -> str:
    """SHA-256 hex of a touch's natural key (see the module docstring)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _derive(frame: pl.DataFrame, raw: RawTable, ctx: ParseContext) -> pl.DataFrame:
    for column in ("touchpoint_id", "email_sha256", "channel", "platform", "campaign_id", "utm_source", "utm_medium",
                   "utm_campaign"):
        frame = with_column(frame, column, pl.Utf8())
    frame = frame.with_columns(
        _token("utm_source").alias("_source"),
        _token("utm_medium").alias("_medium"),
        _token("touch_type").alias("_type"),
        _token("channel").alias("_channel"),
    )

    touch_type = pl.col("_type").replace(TOUCH_TYPE_ALIASES)
    frame = add_errors(frame, pl.col("touch_type").is_not_null() & ~touch_type.is_in(list(TOUCH_TYPES)),
                       pl.format("map:touch_type: unknown value '{}'", shown(pl.col("touch_type"))))
    frame = frame.with_columns(pl.when(touch_type.is_in(list(TOUCH_TYPES))).then(touch_type).alias("touch_type"))

    derived = utm_channel_expr(pl.col("_source"), pl.col("_medium"))
    frame = add_errors(frame, pl.col("channel").is_not_null() & ~pl.col("_channel").is_in(list(CHANNELS)),
                       pl.format("map:channel: unknown value '{}'", shown(pl.col("channel"))))
    frame = add_errors(frame, pl.col("channel").is_null() & derived.is_null(),
                       pl.format("map:channel: no channel for utm_source '{}' and utm_medium '{}'",
                                 shown(pl.col("utm_source")), shown(pl.col("utm_medium"))))
    frame = frame.with_columns(
        pl.when(pl.col("channel").is_null()).then(derived)
        .when(pl.col("_channel").is_in(list(CHANNELS))).then(pl.col("_channel")).alias("channel")
    )
    frame = frame.with_columns(
        pl.coalesce(pl.col("platform").str.strip_chars().str.to_lowercase(),
                    pl.col("channel").replace_strict(CHANNEL_PLATFORM, default=None, return_dtype=pl.Utf8),
                    pl.col("channel").replace_strict(UNPAID_PLATFORM, default=None, return_dtype=pl.Utf8),
                    pl.when(pl.col("channel").is_not_null()).then(pl.lit(DEFAULT_PLATFORM))).alias("platform"),
        customer_id_expr("email_sha256").alias("customer_id"),
    )
    frame = add_errors(frame, pl.col("customer_id").is_null(), "required:customer_id: the touch has no contact email")
    frame = check_years(frame, ["ts"])

    key = pl.concat_str(
        [pl.col("email_sha256").fill_null(""), pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").fill_null(""),
         pl.col("channel").fill_null(""), pl.coalesce(pl.col("campaign_id"), pl.col("utm_campaign")).fill_null(""),
         pl.col("touch_type").fill_null("")],
        separator="|",
    )
    frame = frame.with_columns(
        pl.coalesce(pl.col("touchpoint_id"), key.map_elements(touchpoint_digest, return_dtype=pl.Utf8))
        .alias("touchpoint_id")
    )
    return frame.drop("_source", "_medium", "_type", "_channel")


MARKETING_EVENTS = SourceFormat(
    name="marketing_events",
    source="crm_touchpoints",
    entity="touchpoint",
    signature=(("Contact Email",), ("Timestamp (UTC)", "Timestamp"), ("Event Type",), ("Channel",)),
    fields=(
        Field("touchpoint_id", ("Event ID",), "id"),
        Field("email_sha256", ("Contact Email",), "email_sha256", pii=True),
        Field("ts", ("Timestamp (UTC)", "Timestamp"), "datetime", required=True, not_null=True),
        Field("touch_type", ("Event Type",), required=True, not_null=True),
        Field("channel", ("Channel",), required=True),
        Field("platform", ("Platform",)),
        Field("campaign_id", ("Campaign ID",), "id"),
        Field("utm_source", ("UTM Source",)),
        Field("utm_medium", ("UTM Medium",)),
        Field("utm_campaign", ("UTM Campaign",)),
    ),
    locale=UTC_ISO,
    derive=_derive,
)

HUBSPOT_EVENTS = SourceFormat(
    name="hubspot_events",
    source="crm_touchpoints",
    entity="touchpoint",
    signature=(("Email",), ("Event date",), ("Event type",), ("Source",), ("Medium",)),
    fields=(
        Field("touchpoint_id", ("Event ID",), "id"),
        Field("email_sha256", ("Email",), "email_sha256", pii=True),
        Field("ts", ("Event date",), "datetime", required=True, not_null=True),
        Field("touch_type", ("Event type",), required=True, not_null=True),
        Field("channel", ("Channel",)),
        Field("platform", ("Platform",)),
        Field("campaign_id", ("Campaign ID",), "id"),
        Field("utm_source", ("Source",)),
        Field("utm_medium", ("Medium",)),
        Field("utm_campaign", ("Campaign",)),
    ),
    locale=UTC_ISO,
    derive=_derive,
)

FORMATS: tuple[SourceFormat, ...] = (MARKETING_EVENTS, HUBSPOT_EVENTS)

__all__ = ["CHANNEL_PLATFORM", "FORMATS", "HUBSPOT_EVENTS", "MARKETING_EVENTS", "TOUCH_TYPES", "TOUCH_TYPE_ALIASES",
           "touchpoint_digest", "utm_channel_expr"]
