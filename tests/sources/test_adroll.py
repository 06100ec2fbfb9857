"""AdRoll campaign reports on recorded byte fixtures."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.entities import AD_DAILY
from pipeline.errors import InputFileError
from pipeline.ingest.read import RawTable, read_table
from pipeline.sources import formats_for
from pipeline.sources.base import ParseContext, parse_table

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "adroll"
FORMATS = formats_for("adroll")
FURNITURE = [p for f in FORMATS for p in f.furniture_patterns]
RUN_DATE = date(2026, 11, 1)


def _read(name: str) -> RawTable:
    return read_table(FIXTURES / name, FORMATS, furniture=FURNITURE)


def _parse(table: RawTable) -> pl.DataFrame:
    return parse_table(table, FORMATS[0], ParseContext("adroll", RUN_DATE, table.path, "0" * 64))


def _errors(frame: pl.DataFrame) -> list[list[str]]:
    return frame["_errors"].to_list()


def test_campaign_report_values():
    table = _read("campaigns_with_totals.csv")
    assert table.format_name == "adroll_campaigns"
    expected = pl.DataFrame(
        {
            "platform": ["adroll"] * 3,
            "account_id": ["Kohde Demo"] * 3,  # the Advertisable
            "account_timezone": ["Europe/Helsinki"] * 3,
            "day": [date(2026, 11, 1)] * 3,
            "campaign_id": ["RTG7H2K9Q1", "RTG0A1B2C3", "RTG9Z8Y7X6"],
            "campaign_name": ["Retargeting - Site visitors", "Retargeting - Cart", "Prospecting"],
            "currency_code": ["EUR"] * 3,
            "spend": [Decimal("95.1000"), Decimal("12.0000"), Decimal("3.5000")],
            "impressions": [40000, 5000, 800],
            "clicks": [88, 9, 1],
            # click-through + view-through: 2 + 3 = 5; (empty) + 1 = 1; both empty -> NULL
            "platform_conversions": [Decimal("5.0000"), Decimal("1.0000"), None],
            "platform_conversion_value": [Decimal("5400.0000"), Decimal("150.0000"), None],
        },
        schema=AD_DAILY,
    )
    parsed = _parse(table)
    assert_frame_equal(parsed.select(list(AD_DAILY)), expected)
    assert _errors(parsed) == [[], [], []]


def test_total_row_is_stripped_and_equals_the_data_rows():
    table = _read("campaigns_with_totals.csv")
    assert table.rows.height == 3
    assert table.furniture["Date"].to_list() == ["Total"]
    total = _parse(replace(table, rows=table.furniture)).row(0, named=True)
    data = _parse(table)
    # spend 95.10 + 12.00 + 3.50 = 110.60; impressions 40000 + 5000 + 800 = 45800; clicks 88 + 9 + 1 = 98;
    # conversions (2 + 0) + (3 + 1) = 6 = 5 + 1; revenue 5400.00 + 150.00 = 5550.00
    assert total["spend"] == data["spend"].sum() == Decimal("110.6000")
    assert total["impressions"] == data["impressions"].sum() == 45800
    assert total["clicks"] == data["clicks"].sum() == 98
    assert total["platform_conversions"] == data["platform_conversions"].sum() == Decimal("6.0000")
    assert total["platform_conversion_value"] == data["platform_conversion_value"].sum() == Decimal("5550.0000")


def test_negative_and_future_rows_are_quarantined_and_us_dates_are_read():
    parsed = _parse(_read("negative_spend.csv"))
    assert parsed["day"].to_list() == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 1), date(2026, 10, 31)]
    assert _errors(parsed) == [
        ["range:spend: negative spend"],
        ["future:day: 2026-11-02 is after the run date 2026-11-01"],
        ["range:impressions: negative impressions"],
        [],
    ]


def test_file_without_currency_fails_with_one_line():
    with pytest.raises(InputFileError) as failure:
        _parse(_read("no_currency.csv"))
    assert "has no 'Currency' column; spend without a currency cannot be used" in str(failure.value)
    assert "\n" not in str(failure.value)
