"""Google Ads UI report downloads (campaign report segmented by day) onto ``ad_daily``.

Two formats share one mapping:
- ``google_ads_ui_en``: the English UI's "CSV": title and date-range lines above the header, quoted
  thousands (``"1,234.50"``), ``--`` for no value, ``Total: ...`` rows at the bottom;
- ``google_ads_ui_fi``: the Finnish UI's "Excel .csv": UTF-16LE with BOM, TAB-separated, Finnish
  headers, decimal comma with NBSP thousands, ``d.m.yyyy`` days, ``Yhteensä: ...`` totals.

Mapping (Fivetran's ``cost`` -> ``spend``): Day -> day, Customer ID -> account_id (kept as written,
dashes included, e.g. ``123-456-7890``), Campaign ID -> campaign_id, Campaign -> campaign_name,
Currency code -> currency_code, Cost -> spend (account currency, major units), Impr. -> impressions,
Clicks -> clicks, Conversions -> platform_conversions (fractional under data-driven attribution),
Conv. value -> platform_conversion_value (``All conv. value`` only when the file has no Conv. value).

Day boundary: ``Day`` is already the account's day; ``account_timezone`` records the account time
zone, ``Europe/Helsinki`` by default (``ACCOUNT_TIMEZONE``): the UI export does not state it.

A file without Currency code, Customer ID or Campaign ID fails: spend without a currency, or a row
without its account or campaign, cannot be used. Rows outside the report's title date range, with
negative metrics or with a day after the run date are quarantined. ``ad_row_checks`` holds the
checks every ad platform shares.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal

import polars as pl

from pipeline.errors import InputFileError
from pipeline.ingest.read import RawTable
from pipeline.sources.base import EN, FI, Field, ParseContext, SourceFormat, add_errors, decimal_expr, money

PLATFORM = "google_ads"
ACCOUNT_TIMEZONE = "Europe/Helsinki"

MONTHS = {name: number for number, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"), start=1)}

CURRENCY_HEADERS = ("Currency code", "Currency", "Valuuttakoodi", "Valuutta")
ACCOUNT_HEADERS = ("Customer ID", "Account ID", "Asiakastunnus", "Tilin tunnus")
CAMPAIGN_ID_HEADERS = ("Campaign ID", "Kampanjan tunnus")

FIELDS: tuple[Field, ...] = (
    Field("day", ("Day", "Date", "Päivä"), "date", required=True, not_null=True),
    Field("account_id", ACCOUNT_HEADERS, "id", required=True, not_null=True),
    Field("campaign_id", CAMPAIGN_ID_HEADERS, "id", required=True, not_null=True),
    Field("campaign_name", ("Campaign", "Kampanja")),
    Field("currency_code", CURRENCY_HEADERS, required=True, not_null=True),
    money("spend", "Cost", "Kustannus", required=True),
    Field("impressions", ("Impr.", "Impressions", "Näyttökerrat"), "int"),
    Field("clicks", ("Clicks", "Napsautukset"), "int"),
    Field("platform_conversions", ("Conversions", "Conv.", "Konversiot", "Konv."), "decimal"),
    money("platform_conversion_value", "Conv. value", "Conversion value", "Konv. arvo", "Konversioarvo"),
    # A different metric (includes secondary conversion actions): used only when Conv. value is absent.
    money("all_conversion_value", "All conv. value", "Kaikkien konv. arvo"),
)

FURNITURE = (r"^Total:", r"^Total$", r"^Yhteensä:", r"^Yhteensä$")

# Google's Finnish UI groups thousands with (narrow) no-break spaces only, never '.': a '.' (a file
# saved by an English Excel) is read as a decimal point, not dropped ('1234.50' must not become 123450).
FI_UI = replace(FI, group=(" ", "\u00a0", "\u202f"))


def ad_row_checks(frame: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """Quarantine reasons every ad platform shares: negative metrics and a day after the run date."""
    for column, label in (("spend", "spend"), ("impressions", "impressions"), ("clicks", "clicks")):
        if column in frame.columns:
            frame = add_errors(frame, pl.col(column) < 0, f"range:{column}: negative {label}")
    run_date = ctx.extract_date.isoformat()
    return add_errors(
        frame, pl.col("day") > ctx.extract_date,
        pl.format("future:day: {} is after the run date {}", pl.col("day"), pl.lit(run_date)),
    )


def outside_range(frame: pl.DataFrame, report_range: tuple[date, date] | None) -> pl.DataFrame:
    """Quarantine rows whose day lies outside the date range the report's title lines state."""
    if report_range is None:
        return frame
    first, last = report_range
    stated = f"{first.isoformat()}..{last.isoformat()}"
    return add_errors(
        frame, (pl.col("day") < first) | (pl.col("day") > last),
        pl.format("window:day: {} is outside the report's date range {}", pl.col("day"), pl.lit(stated)),
    )


def report_range(metadata_lines: list[str]) -> tuple[date, date] | None:
    """The title line's range: ``"October 30, 2026 - November 1, 2026"`` or ``"30.10.2026 - 1.11.2026"``."""
    for line in metadata_lines:
        text = line.strip().strip('"').strip()
        english = re.fullmatch(r"([A-Za-z]+) (\d{1,2}), (\d{4}) - ([A-Za-z]+) (\d{1,2}), (\d{4})", text)
        if english:
            m1, d1, y1, m2, d2, y2 = english.groups()
            if m1.lower() in MONTHS and m2.lower() in MONTHS:
                return (date(int(y1), MONTHS[m1.lower()], int(d1)), date(int(y2), MONTHS[m2.lower()], int(d2)))
        finnish = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4}) - (\d{1,2})\.(\d{1,2})\.(\d{4})", text)
        if finnish:
            d1, m1, y1, d2, m2, y2 = (int(g) for g in finnish.groups())
            return date(y1, m1, d1), date(y2, m2, d2)
    return None


def _prepare(table: RawTable, ctx: ParseContext) -> RawTable:
    """Fail a file whose rows could never be used, with the column to add to the report."""
    if table.column(*CURRENCY_HEADERS) is None:
        raise InputFileError(
            f"{table.format_name} report has no 'Currency code' column; spend without a currency cannot be used "
            "(add Currency code to the report and download it again)", file=ctx.file_name)
    if table.column(*ACCOUNT_HEADERS) is None:
        raise InputFileError(
            f"{table.format_name} report has no 'Customer ID' column; rows without their account cannot be "
            "used (add Customer ID to the report and download it again)", file=ctx.file_name)
    return table


def _derive(frame: pl.DataFrame, table: RawTable, ctx: ParseContext) -> pl.DataFrame:
    if "platform_conversion_value" not in frame.columns and "all_conversion_value" in frame.columns:
        frame = frame.rename({"all_conversion_value": "platform_conversion_value"})
    frame = outside_range(frame, report_range(table.metadata_lines))
    return ad_row_checks(frame, ctx)


_ACCOUNT_TOTAL = re.compile(r"(?i)^(total: account|yhteensä: tili)")


def _reconcile(table: RawTable, typed: pl.DataFrame) -> list[str]:
    """Report totals against the data rows, and days of the report's range without any row."""
    return [*_reconcile_totals(table, typed), *_missing_days(table, typed)]


def _missing_days(table: RawTable, typed: pl.DataFrame) -> list[str]:
    """A day inside the title's date range with no row: no delivery, or a partial download (WARN)."""
    stated = report_range(table.metadata_lines)
    if stated is None or typed.height == 0 or (stated[1] - stated[0]).days > 366:
        return []
    present = set(typed["day"].drop_nulls().to_list())
    missing = [d for d in pl.date_range(stated[0], stated[1], eager=True).to_list() if d not in present]
    if not missing:
        return []
    shown = ", ".join(d.isoformat() for d in missing[:5]) + (" ..." if len(missing) > 5 else "")
    return [f"window: {len(missing)} day(s) of the report's date range {stated[0]}..{stated[1]} have no rows: {shown}"]


def _reconcile_totals(table: RawTable, typed: pl.DataFrame) -> list[str]:
    """The report's own ``Total: Account`` cost against the sum of its data rows (a free completeness check)."""
    cost_header = table.column("Cost", "Kustannus")
    if cost_header is None or table.furniture.height == 0:
        return []
    first_cells = table.furniture.select(pl.coalesce([pl.col(c) for c in table.header]).alias("first"),
                                         pl.col(cost_header).alias("cost"))
    totals = first_cells.filter(pl.col("first").str.strip_chars().str.contains(_ACCOUNT_TOTAL.pattern))
    if totals.height == 0:
        return []
    locale = FI_UI if table.format_name.endswith("_fi") else EN
    reported = totals.select(decimal_expr(pl.col("cost"), locale).alias("v"))["v"][0]
    summed = typed["spend"].sum()
    if reported is None or summed is None or abs(reported - summed) <= Decimal("0.01"):
        return []
    return [f"totals: data rows' cost sums to {summed} but the report's account total is {reported}"]


_CONSTANTS: dict[str, object] = {"platform": PLATFORM, "account_timezone": ACCOUNT_TIMEZONE}

FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat(
        name="google_ads_ui_en",
        source="google_ads",
        entity="ad_daily",
        signature=(("Day", "Date"), ("Campaign",), ("Cost",)),
        fields=FIELDS,
        locale=EN,
        constants=_CONSTANTS,
        furniture=FURNITURE,
        prepare=_prepare,
        derive=_derive,
        reconcile=_reconcile,
    ),
    SourceFormat(
        name="google_ads_ui_fi",
        source="google_ads",
        entity="ad_daily",
        signature=(("Päivä",), ("Kampanja",), ("Kustannus",)),
        fields=FIELDS,
        locale=FI_UI,
        constants=_CONSTANTS,
        furniture=FURNITURE,
        prepare=_prepare,
        derive=_derive,
        reconcile=_reconcile,
    ),
)
