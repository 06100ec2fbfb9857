"""Salesforce report exports ("Details Only" CSV): contacts/leads and opportunities.

Contacts and leads reports go to ``crm_contacts``, opportunities reports to ``crm_deals``.

Report exports use the exporting user's locale and time zone. kohde reads the en-US locale, the
default: dates ``3/5/2026`` (month first), datetimes ``3/5/2026 2:15 PM`` (also with seconds and the
``3/4/2025, 10:22 AM`` comma form), ``.`` decimals with ``,`` thousands; ISO dates and ``31.1.2026``
are accepted as they are unambiguous. Naive datetimes are in ``USER_TIMEZONE`` (Europe/Helsinki).
An amount with a decimal comma (``45 000,00 €``, an fi-FI export) is quarantined, never misread.

The footer of a details-only export (``Grand Totals (N records)``, ``Confidential Information - Do
Not Distribute``, ``Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved.``, also with
``©`` and any years) is report furniture: the reader strips it and keeps it for reconciliation
(``grand_total_records`` gives N, which must equal the data rows).

Mapping decisions:
- Contacts and leads: ``Contact ID`` or ``Lead ID`` is ``contact_id`` (a report without either fails:
  rows could not be keyed). ``Lead Status`` gives the lifecycle stage (``LEAD_STATUSES``); a contact
  report has none (NULL). ``Lead Source`` is ``original_source`` as written; ``Email Opt Out`` is an
  objection to marketing. Names and addresses are not read. A national phone number is read in
  the contact's country (FI if none); an invalid one is NULL.
- Opportunities: ``Opportunity ID`` is ``deal_id`` (required: names collide). ``Stage`` maps onto the
  canonical stages by meaning and default probability (``OPPORTUNITY_STAGES``); Salesforce has no
  pipelines, so ``pipeline`` is ``default``. The currency is ``Amount Currency`` (multi-currency
  orgs) or the one written in the ``Amount`` cell (``EUR 45,000.00``, ``€45,000``; ``$`` is USD); a
  report whose amounts carry no currency at all fails. ``Amount (converted)`` is ignored (kohde
  converts with its own dated rates). ``Contact Email`` (optional) gives ``customer_id``.
"""

from __future__ import annotations

import re

import polars as pl

from pipeline.ingest.read import RawTable
from pipeline.sources.base import Field, Locale, ParseContext, SourceFormat, add_errors, clean_text, money
from pipeline.sources.generic_crm import (
    DEAL_STAGES,
    LIFECYCLE_STAGES,
    conform_contacts,
    conform_deals,
    international_phones,
    utc_designator,
    vocabulary,
)

SOURCE_SYSTEM = "salesforce"
USER_TIMEZONE = "Europe/Helsinki"

EN_US = Locale(
    decimal=".",
    group=(",",),
    date_formats=("%m/%d/%Y", "%Y-%m-%d", "%d.%m.%Y"),
    datetime_formats=("%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y, %I:%M %p", "%m/%d/%Y, %I:%M:%S %p",
                      "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S"),
    timezone=USER_TIMEZONE,
)

FURNITURE: tuple[str, ...] = (
    r"^Grand Totals \((\d[\d,.\u00a0 ]*) records?\)$",
    r"^Confidential Information - Do Not Distribute$",
    r"^Copyright (?:\(c\)|©) ?\d{4}(?:-\d{4})? salesforce\.com, inc\. All rights reserved\.$",
)

LEAD_STATUSES: dict[str, str | None] = vocabulary({
    **LIFECYCLE_STAGES,
    "Open - Not Contacted": "lead", "Working - Contacted": "lead", "New": "lead", "Open": "lead",
    "Working": "lead", "Contacted": "lead", "Nurturing": "lead",
    "Qualified": "sql", "Closed - Converted": "opportunity", "Converted": "opportunity",
    "Closed - Not Converted": "other", "Unqualified": "other",
})

# Default sales process stages (default probability) -> canonical stage.
OPPORTUNITY_STAGES: dict[str, str | None] = vocabulary({
    **DEAL_STAGES,
    "Prospecting": "appointment",            # 10 %
    "Qualification": "qualified",            # 10 %
    "Needs Analysis": "qualified",           # 20 %
    "Value Proposition": "presentation",     # 50 %
    "Id. Decision Makers": "presentation",   # 60 %
    "Perception Analysis": "presentation",   # 70 %
    "Proposal/Price Quote": "decision",      # 75 %
    "Negotiation/Review": "contract",        # 90 %
    "Closed Won": "closed_won",
    "Closed Lost": "closed_lost",
})

_PHONE = ("Phone", "Mobile", "Mobile Phone")
_COUNTRY = ("Country", "Mailing Country")
_CREATED = ("Created Date",)
_AMOUNT = ("Amount",)
_GRAND_TOTALS = re.compile(FURNITURE[0])


def grand_total_records(furniture: pl.DataFrame) -> int | None:
    """N of the ``Grand Totals (N records)`` footer row among a table's furniture rows, or None."""
    for row in furniture.drop("row_number", strict=False).iter_rows():
        cell = next((c.strip() for c in row if c is not None and c.strip()), "")
        match = _GRAND_TOTALS.match(cell)
        if match:
            return int(re.sub(r"\D", "", match.group(1)))
    return None


def _reconcile(table: RawTable, typed: pl.DataFrame) -> list[str]:
    """``Grand Totals (N records)`` against the data rows read."""
    records = grand_total_records(table.furniture)
    if records is None or records == typed.height:
        return []
    return [f"totals: the report says {records} records but {typed.height} data rows were read"]


def _prepare_contacts(table: RawTable, ctx: ParseContext) -> RawTable:
    return international_phones(utc_designator(table, *_CREATED), _PHONE, _COUNTRY)


def _derive_contacts(frame: pl.DataFrame, raw: RawTable, ctx: ParseContext) -> pl.DataFrame:
    return conform_contacts(frame, system=SOURCE_SYSTEM, lifecycle=LEAD_STATUSES)


def _prepare_opportunities(table: RawTable, ctx: ParseContext) -> RawTable:
    return utc_designator(table, *_CREATED)


def _derive_opportunities(frame: pl.DataFrame, raw: RawTable, ctx: ParseContext) -> pl.DataFrame:
    header = raw.column(*_AMOUNT)
    if header is not None:
        # '45 000,00 €' would lose its decimal comma under en-US and read as 4,500,000.
        comma = raw.rows.select("row_number", clean_text(header).str.contains(r",\d{1,2}\D*$").alias("_comma"))
        frame = frame.join(comma, on="row_number", how="left", maintain_order="left")
        # The generic number parser already rejects the misplaced group separator; say why instead.
        frame = frame.with_columns(pl.when(pl.col("_comma").fill_null(False)).then(
            pl.col("_errors").list.eval(pl.element().filter(~pl.element().str.starts_with("parse:amount:"))))
            .otherwise(pl.col("_errors")).alias("_errors"))
        frame = add_errors(frame, pl.col("_comma"), "parse:amount: decimal comma in an en-US report export")
        frame = frame.with_columns(pl.when(~pl.col("_comma")).then(pl.col("amount")).alias("amount")).drop("_comma")
    if "created_at" in frame.columns:
        frame = frame.with_columns(
            pl.col("created_at").dt.convert_time_zone(USER_TIMEZONE).dt.date().alias("created_date")
        )
    return conform_deals(frame, raw, ctx, system=SOURCE_SYSTEM, stages=OPPORTUNITY_STAGES, amount_headers=_AMOUNT)


SALESFORCE_CONTACTS = SourceFormat(
    name="salesforce_contacts",
    source="crm_contacts",
    entity="contact",
    signature=(_CREATED,),
    signature_any=("Contact ID", "Lead ID", "Lead Source", "Lead Status", "Account Name", "Email"),
    fields=(
        Field("contact_id", ("Contact ID", "Lead ID"), "id", required=True, not_null=True),
        Field("email_sha256", ("Email",), "email_sha256", pii=True),
        Field("phone_sha256", _PHONE, "phone_sha256", pii=True),
        Field("phone_sha256_meta", _PHONE, "phone_sha256_meta", pii=True),
        Field("created_at", _CREATED, "datetime", required=True),
        Field("lifecycle_stage", ("Lead Status",)),
        Field("original_source", ("Lead Source",)),
        Field("company", ("Account Name", "Company", "Company / Account")),
        Field("industry", ("Industry",)),
        Field("employees", ("Employees", "No. of Employees"), "int"),
        Field("revenue_band", ("Annual Revenue",)),
        Field("city", ("City", "Mailing City")),
        Field("postcode", ("Zip/Postal Code", "Mailing Zip/Postal Code", "Postal Code")),
        Field("country_code", _COUNTRY),
        Field("objected_marketing", ("Email Opt Out",), "bool"),
    ),
    locale=EN_US,
    furniture=FURNITURE,
    prepare=_prepare_contacts,
    derive=_derive_contacts,
    reconcile=_reconcile,
)

SALESFORCE_OPPORTUNITIES = SourceFormat(
    name="salesforce_opportunities",
    source="crm_deals",
    entity="deal",
    signature=(("Opportunity ID", "Opportunity Name"), ("Stage",), ("Close Date",)),
    fields=(
        Field("deal_id", ("Opportunity ID",), "id", required=True, not_null=True),
        Field("deal_name", ("Opportunity Name",)),
        Field("company", ("Account Name",)),
        money("amount", *_AMOUNT),
        Field("currency_code", ("Amount Currency", "Opportunity Currency")),
        Field("stage", ("Stage",), required=True),
        Field("close_date", ("Close Date",), "date"),
        Field("created_at", _CREATED, "datetime"),
        Field("owner", ("Opportunity Owner",), pii=True),
        Field("contact_email_sha256", ("Contact Email", "Primary Contact Email"), "email_sha256", pii=True),
    ),
    locale=EN_US,
    furniture=FURNITURE,
    prepare=_prepare_opportunities,
    derive=_derive_opportunities,
    reconcile=_reconcile,
)

FORMATS: tuple[SourceFormat, ...] = (SALESFORCE_CONTACTS, SALESFORCE_OPPORTUNITIES)

__all__ = ["EN_US", "FORMATS", "FURNITURE", "LEAD_STATUSES", "OPPORTUNITY_STAGES", "SALESFORCE_CONTACTS",
           "SALESFORCE_OPPORTUNITIES", "SOURCE_SYSTEM", "USER_TIMEZONE", "grand_total_records"]
