"""LinkedIn Campaign Manager campaign performance exports onto ``ad_daily``.

The export has about five metadata lines above the header (report name, Report Start/End, Date
Generated, ``Account: <name> (<id>)``), then one row per campaign and day.

Mapping: Start Date (in UTC) -> day (``M/D/YYYY``), Account ID -> account_id, else the number in
parentheses on the ``Account:`` metadata line, Campaign ID -> campaign_id, Campaign Name ->
campaign_name, Currency -> currency_code, Total Spent -> spend, Impressions, Clicks, Conversions
(post-click + view-through, as LinkedIn totals them) -> platform_conversions, Conversion Value ->
platform_conversion_value.

Day boundary: LinkedIn reports days in UTC (the header says so), so ``account_timezone`` is ``UTC``.

A file without Currency, or without an account id (no Account ID column and no ``Account: ... (id)``
line), fails. A row whose End Date (in UTC), when the export has that column, differs from its
start date spans several days and is quarantined; so is a row outside Report Start..Report End.
"""

from __future__ import annotations

import re
from datetime import date

import polars as pl

from pipeline.errors import InputFileError
from pipeline.ingest.read import RawTable
from pipeline.sources.base import Field, Locale, ParseContext, SourceFormat, add_errors, money
from pipeline.sources.google_ads import ad_row_checks, outside_range

PLATFORM = "linkedin_ads"
ACCOUNT_TIMEZONE = "UTC"

US = Locale(date_formats=("%m/%d/%Y", "%Y-%m-%d"))
ACCOUNT_LINE = re.compile(r"(?i)^\W*account\b.*\((\d+)\)\W*$")
REPORT_DATE_LINE = re.compile(r"(?i)^\W*report (start|end)\W*(\d{1,2})/(\d{1,2})/(\d{4})\b")

CURRENCY_HEADERS = ("Currency",)
ACCOUNT_HEADERS = ("Account ID",)

FIELDS: tuple[Field, ...] = (
    Field("day", ("Start Date (in UTC)",), "date", required=True, not_null=True),
    Field("end_day", ("End Date (in UTC)",), "date"),
    Field("account_id", ACCOUNT_HEADERS, "id", not_null=True),
    Field("campaign_id", ("Campaign ID",), "id", required=True, not_null=True),
    Field("campaign_name", ("Campaign Name", "Campaign")),
    Field("currency_code", CURRENCY_HEADERS, required=True, not_null=True),
    money("spend", "Total Spent", required=True),
    Field("impressions", ("Impressions",), "int"),
    Field("clicks", ("Clicks",), "int"),
    Field("platform_conversions", ("Conversions",), "decimal"),
    money("platform_conversion_value", "Conversion Value", "Total Conversion Value"),
)


def account_from_metadata(metadata_lines: list[str]) -> str | None:
    """The account id of the ``Account: Kohde Demo Oy (508123456)`` line, or None."""
    for line in metadata_lines:
        match = ACCOUNT_LINE.match(line.strip())
        if match:
            return match.group(1)
    return None


def report_range(metadata_lines: list[str]) -> tuple[date, date] | None:
    """Report Start .. Report End from the metadata lines, or None when either is missing."""
    found: dict[str, date] = {}
    for line in metadata_lines:
        match = REPORT_DATE_LINE.match(line.strip())
        if match:
            which, month, day, year = match.groups()
            found[which.lower()] = date(int(year), int(month), int(day))
    return (found["start"], found["end"]) if {"start", "end"} <= found.keys() else None


def _prepare(table: RawTable, ctx: ParseContext) -> RawTable:
    """Fail a file whose rows could never be used, with what is missing."""
    if table.column(*CURRENCY_HEADERS) is None:
        raise InputFileError(
            "LinkedIn export has no 'Currency' column; spend without a currency cannot be used "
            "(add Currency to the report's columns and export again)", file=ctx.file_name)
    if table.column(*ACCOUNT_HEADERS) is None and account_from_metadata(table.metadata_lines) is None:
        raise InputFileError(
            "LinkedIn export has no 'Account ID' column and no 'Account: <name> (<id>)' line above the header; "
            "rows without their account cannot be used", file=ctx.file_name)
    return table


def _derive(frame: pl.DataFrame, table: RawTable, ctx: ParseContext) -> pl.DataFrame:
    if "account_id" not in frame.columns:
        frame = frame.with_columns(pl.lit(account_from_metadata(table.metadata_lines)).alias("account_id"))
    if "end_day" in frame.columns:
        frame = add_errors(
            frame, pl.col("end_day").is_not_null() & (pl.col("end_day") != pl.col("day")),
            pl.format("range:day: row spans {}..{}; daily facts need one day per row", pl.col("day"),
                      pl.col("end_day")),
        )
    frame = outside_range(frame, report_range(table.metadata_lines))
    return ad_row_checks(frame, ctx)


FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat(
        name="linkedin_campaign_manager",
        source="linkedin_ads",
        entity="ad_daily",
        signature=(("Start Date (in UTC)",), ("Total Spent",)),
        fields=FIELDS,
        locale=US,
        constants={"platform": PLATFORM, "account_timezone": ACCOUNT_TIMEZONE},
        furniture=(r"^Total$", r"^Totals?:", r"^Grand total"),
        prepare=_prepare,
        derive=_derive,
    ),
)
