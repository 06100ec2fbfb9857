"""AdRoll campaign reports (one row per campaign and day) onto ``ad_daily``.

Mapping: Date -> day, Advertisable (AdRoll's advertiser account) -> account_id, Campaign ID ->
campaign_id, Campaign -> campaign_name, Currency -> currency_code, Spend -> spend, Impressions,
Clicks, Click-through conversions + View-through conversions -> platform_conversions (NULL only when
both are empty; an empty one counts as none when the other has a value), Attributed revenue ->
platform_conversion_value.

Day boundary: AdRoll reports in the advertisable's time zone, which the export does not state;
``account_timezone`` is ``ACCOUNT_TIMEZONE`` (``Europe/Helsinki``). Dates are ``YYYY-MM-DD`` or
AdRoll's US ``M/D/YYYY``.

A file without Currency, Advertisable or Campaign ID fails. ``Total`` rows at the bottom are report furniture.
"""

from __future__ import annotations

import polars as pl

from pipeline.errors import InputFileError
from pipeline.ingest.read import RawTable
from pipeline.sources.base import EN, Field, Locale, ParseContext, SourceFormat, money
from pipeline.sources.google_ads import ad_row_checks

PLATFORM = "adroll"
ACCOUNT_TIMEZONE = "Europe/Helsinki"

US = Locale(decimal=EN.decimal, group=EN.group, date_formats=("%Y-%m-%d", "%m/%d/%Y"))

CURRENCY_HEADERS = ("Currency",)
ACCOUNT_HEADERS = ("Advertisable", "Advertisable Name", "Advertisable EID")

FIELDS: tuple[Field, ...] = (
    Field("day", ("Date", "Day"), "date", required=True, not_null=True),
    Field("account_id", ACCOUNT_HEADERS, "id", required=True, not_null=True),
    Field("campaign_id", ("Campaign ID", "Campaign EID"), "id", required=True, not_null=True),
    Field("campaign_name", ("Campaign", "Campaign Name")),
    Field("currency_code", CURRENCY_HEADERS, required=True, not_null=True),
    money("spend", "Spend", "Cost", required=True),
    Field("impressions", ("Impressions",), "int"),
    Field("clicks", ("Clicks",), "int"),
    Field("click_conversions", ("Click-through conversions", "Click Through Conversions"), "decimal"),
    Field("view_conversions", ("View-through conversions", "View Through Conversions"), "decimal"),
    money("platform_conversion_value", "Attributed revenue", "Attributed Revenue"),
)


def _prepare(table: RawTable, ctx: ParseContext) -> RawTable:
    """Fail a file whose spend has no currency."""
    if table.column(*CURRENCY_HEADERS) is None:
        raise InputFileError(
            "AdRoll export has no 'Currency' column; spend without a currency cannot be used", file=ctx.file_name)
    return table


def _derive(frame: pl.DataFrame, table: RawTable, ctx: ParseContext) -> pl.DataFrame:
    parts = [pl.col(c) for c in ("click_conversions", "view_conversions") if c in frame.columns]
    if parts:
        # Conversions = click-through + view-through; NULL when AdRoll gave neither.
        total = pl.when(pl.any_horizontal([p.is_not_null() for p in parts])).then(
            pl.sum_horizontal(parts)).otherwise(None)
        frame = frame.with_columns(total.cast(pl.Decimal(18, 4)).alias("platform_conversions"))
    return ad_row_checks(frame, ctx)


FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat(
        name="adroll_campaigns",
        source="adroll",
        entity="ad_daily",
        signature=(("Date", "Day"), ("Campaign", "Campaign Name"), ("Spend", "Cost")),
        fields=FIELDS,
        locale=US,
        constants={"platform": PLATFORM, "account_timezone": ACCOUNT_TIMEZONE},
        furniture=(r"^Totals?$", r"^Totals?:", r"^Grand total"),
        prepare=_prepare,
        derive=_derive,
    ),
)
