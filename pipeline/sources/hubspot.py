"""HubSpot CRM exports: contacts (``crm_contacts``) and deals (``crm_deals``).

Both are the UI's "Export" of a view: UTF-8 comma CSV or the UTF-16 tab-delimited variant (the
reader sniffs either), labels as shown in the UI or the internal values of the API
(``Marketing Qualified Lead`` / ``marketingqualifiedlead``, ``Closed won`` / ``closedwon``,
``Paid Search`` / ``PAID_SEARCH``), Finnish UI labels for stages (``Suljettu - voitettu``).

Mapping decisions:
- ``Create Date`` is the portal's local time (``PORTAL_TIMEZONE``, Europe/Helsinki), stored in UTC; a
  value with ``Z`` is UTC. ``Close Date`` and the deal's ``Create Date`` are the local dates as written.
- Lifecycle stages map to subscriber | lead | mql | sql | opportunity | customer | evangelist | other,
  deal stages of the default Sales Pipeline to appointment | qualified | presentation | decision |
  contract | closed_won | closed_lost; an unmapped label (a custom stage, a numeric stage id) is
  quarantined (``map:lifecycle_stage`` / ``map:stage``).
- ``Original Source`` is kept as the UI label (an internal value is turned into its label).
- ``Pipeline``: the default pipeline (``Sales Pipeline`` / ``default``) is ``default``, others as
  written; a deals export without the ``Pipeline`` column is read as the one pipeline ``default``.
  Stage labels shared by several pipelines are only unambiguous with that column, so export it when
  the portal has more than one pipeline: a file without it whose ``Date entered "<Stage> (<Pipeline>)"``
  columns name several pipelines fails.
- ``Associated Contact`` holds an email or ``Name (email)``; the first email is hashed and gives the
  deal's ``customer_id``. ``Date entered "<Stage> (<Pipeline>)"`` columns (any quotes) are ignored.
- Consent: ``Marketing consent`` Yes/No -> ``consent_marketing``; ``Unsubscribed from all email`` true
  -> ``objected_marketing`` (an objection to direct marketing, honoured in every audience).
- Names, job titles, addresses and notes are not read. Email and phone become SHA-256 hashes; a
  national phone number is read in the contact's country (FI if none), an invalid one is NULL.
"""

from __future__ import annotations

import re

import polars as pl

from pipeline.errors import InputFileError
from pipeline.ingest.read import RawTable
from pipeline.sources.base import Field, Locale, ParseContext, SourceFormat, money
from pipeline.sources.generic_crm import (
    DEAL_STAGES,
    DEFAULT_PIPELINE,
    LIFECYCLE_STAGES,
    conform_contacts,
    conform_deals,
    first_email,
    international_phones,
    label_key,
    utc_designator,
    vocabulary,
)

SOURCE_SYSTEM = "hubspot"
PORTAL_TIMEZONE = "Europe/Helsinki"

HUBSPOT = Locale(
    decimal=".",
    group=(",",),
    date_formats=("%Y-%m-%d", "%d.%m.%Y"),
    datetime_formats=("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M",
                      "%d.%m.%Y %H:%M:%S"),
    timezone=PORTAL_TIMEZONE,
)

HUBSPOT_LIFECYCLE_STAGES: dict[str, str | None] = vocabulary({
    **LIFECYCLE_STAGES,
    # UI labels (the internal values are the same words without spaces)
    "Subscriber": "subscriber", "Lead": "lead", "Marketing Qualified Lead": "mql", "Sales Qualified Lead": "sql",
    "Opportunity": "opportunity", "Customer": "customer", "Evangelist": "evangelist", "Other": "other",
    # Finnish UI
    "Tilaaja": "subscriber", "Liidi": "lead", "Mahdollisuus": "opportunity", "Asiakas": "customer", "Muu": "other",
})

HUBSPOT_DEAL_STAGES: dict[str, str | None] = vocabulary({
    **DEAL_STAGES,  # with the default Sales Pipeline's UI labels; internal ids are the same words without spaces
    # Finnish UI
    "Suljettu - voitettu": "closed_won", "Suljettu - hävitty": "closed_lost",
})

# Original Source: internal value or label -> the UI label.
ORIGINAL_SOURCES: dict[str, str | None] = vocabulary({
    "ORGANIC_SEARCH": "Organic Search", "PAID_SEARCH": "Paid Search", "EMAIL_MARKETING": "Email Marketing",
    "SOCIAL_MEDIA": "Organic Social", "Organic Social": "Organic Social", "REFERRALS": "Referrals",
    "OTHER_CAMPAIGNS": "Other Campaigns", "DIRECT_TRAFFIC": "Direct Traffic", "OFFLINE": "Offline Sources",
    "Offline Sources": "Offline Sources", "PAID_SOCIAL": "Paid Social", "AI_REFERRALS": "AI Referrals",
})

_DEFAULT_PIPELINE_KEYS: tuple[str, ...] = ("salespipeline", "default")
_CREATE_DATE = ("Create Date", "createdate")
_PHONE = ("Phone Number", "phone", "Mobile Phone Number", "mobilephone")
_COUNTRY = ("Country/Region", "Country", "country")
_ASSOCIATED_CONTACT = ("Associated Contact", "Associated Contacts", "Associated Contact Email")
_AMOUNT = ("Amount", "amount")


def _prepare_contacts(table: RawTable, ctx: ParseContext) -> RawTable:
    return international_phones(utc_designator(table, *_CREATE_DATE), _PHONE, _COUNTRY)


def _derive_contacts(frame: pl.DataFrame, raw: RawTable, ctx: ParseContext) -> pl.DataFrame:
    if "original_source" in frame.columns:
        label = label_key(pl.col("original_source")).replace_strict(ORIGINAL_SOURCES, default=None,
                                                                    return_dtype=pl.Utf8)
        frame = frame.with_columns(pl.coalesce(label, pl.col("original_source")).alias("original_source"))
    return conform_contacts(frame, system=SOURCE_SYSTEM, lifecycle=HUBSPOT_LIFECYCLE_STAGES)


_QUOTE = "[\"'\u201c\u201d\u2018\u2019]?"
_DATE_ENTERED = re.compile(rf"(?i)^date entered\s*{_QUOTE}.*\((?P<pipeline>[^()]+)\)\s*{_QUOTE}$")


def _prepare_deals(table: RawTable, ctx: ParseContext) -> RawTable:
    if table.column("Pipeline", "pipeline") is None:
        # Without the Pipeline column a stage label is ambiguous once the portal has several pipelines.
        named = sorted({m.group("pipeline").strip() for c in table.header if (m := _DATE_ENTERED.match(c.strip()))})
        if len(named) > 1:
            raise InputFileError(
                f"{table.format_name} export has no 'Pipeline' column but its 'Date entered' columns name "
                f"{len(named)} pipelines ({', '.join(named)}); stage labels are ambiguous across pipelines: "
                "add Pipeline to the export view", file=ctx.file_name)
    return first_email(table, *_ASSOCIATED_CONTACT)


def _derive_deals(frame: pl.DataFrame, raw: RawTable, ctx: ParseContext) -> pl.DataFrame:
    if "pipeline" in frame.columns:
        frame = frame.with_columns(
            pl.when(label_key(pl.col("pipeline")).is_in(list(_DEFAULT_PIPELINE_KEYS))).then(pl.lit(DEFAULT_PIPELINE))
            .otherwise(pl.col("pipeline")).alias("pipeline")
        )
    return conform_deals(frame, raw, ctx, system=SOURCE_SYSTEM, stages=HUBSPOT_DEAL_STAGES, amount_headers=_AMOUNT)


HUBSPOT_CONTACTS = SourceFormat(
    name="hubspot_contacts",
    source="crm_contacts",
    entity="contact",
    signature=(("Record ID", "Contact ID", "hs_object_id"), _CREATE_DATE),
    fields=(
        Field("contact_id", ("Record ID", "Contact ID", "hs_object_id"), "id", required=True, not_null=True),
        Field("email_sha256", ("Email", "email"), "email_sha256", pii=True),
        Field("phone_sha256", _PHONE, "phone_sha256", pii=True),
        Field("phone_sha256_meta", _PHONE, "phone_sha256_meta", pii=True),
        Field("created_at", _CREATE_DATE, "datetime", required=True),
        Field("lifecycle_stage", ("Lifecycle Stage", "lifecyclestage")),
        Field("original_source", ("Original Source", "hs_analytics_source")),
        Field("birth_year", ("Birth Year", "birth_year"), "int", pii=True),
        Field("gender", ("Gender", "gender")),
        Field("income_band", ("Income Band", "income_band")),
        Field("education", ("Education", "education")),
        Field("city", ("City", "city")),
        Field("postcode", ("Postal Code", "Zip", "zip")),
        Field("country_code", _COUNTRY),
        Field("language", ("Preferred language", "hs_language")),
        Field("values_orientation", ("Values",)),
        Field("brand_loyalty", ("Brand Loyalty",)),
        Field("purchase_motive", ("Purchase Motive",)),
        Field("lifestyle", ("Lifestyle",)),
        Field("satisfaction_score", ("Satisfaction Score",), "decimal"),
        Field("company", ("Company Name", "company")),
        Field("industry", ("Industry", "industry")),
        Field("employees", ("Number of Employees", "numberofemployees"), "int"),
        Field("revenue_band", ("Annual Revenue", "annualrevenue")),
        Field("consent_marketing", ("Marketing consent",), "bool"),
        Field("objected_marketing", ("Unsubscribed from all email", "Opted out of all email", "hs_email_optout"),
              "bool"),
    ),
    locale=HUBSPOT,
    prepare=_prepare_contacts,
    derive=_derive_contacts,
)

HUBSPOT_DEALS = SourceFormat(
    name="hubspot_deals",
    source="crm_deals",
    entity="deal",
    signature=(("Record ID", "Deal ID", "hs_object_id"), ("Deal Stage", "dealstage")),
    fields=(
        Field("deal_id", ("Record ID", "Deal ID", "hs_object_id"), "id", required=True, not_null=True),
        Field("deal_name", ("Deal Name", "dealname")),
        Field("stage", ("Deal Stage", "dealstage"), required=True),
        Field("pipeline", ("Pipeline", "pipeline")),
        money("amount", *_AMOUNT),
        Field("currency_code", ("Currency", "Deal currency code", "deal_currency_code")),
        Field("created_date", _CREATE_DATE, "date"),
        Field("close_date", ("Close Date", "closedate"), "date"),
        Field("owner", ("Deal owner", "hubspot_owner_id"), pii=True),
        Field("company", ("Associated Company",)),
        Field("contact_email_sha256", _ASSOCIATED_CONTACT, "email_sha256", pii=True),
    ),
    locale=HUBSPOT,
    prepare=_prepare_deals,
    derive=_derive_deals,
)

FORMATS: tuple[SourceFormat, ...] = (HUBSPOT_CONTACTS, HUBSPOT_DEALS)

__all__ = ["FORMATS", "HUBSPOT_CONTACTS", "HUBSPOT_DEALS", "HUBSPOT_DEAL_STAGES", "HUBSPOT_LIFECYCLE_STAGES",
           "ORIGINAL_SOURCES", "PORTAL_TIMEZONE", "SOURCE_SYSTEM"]
