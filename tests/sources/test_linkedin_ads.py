"""LinkedIn Campaign Manager exports on recorded byte fixtures."""

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
from pipeline.sources.linkedin_ads import account_from_metadata, report_range

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linkedin_ads"
FORMATS = formats_for("linkedin_ads")
FURNITURE = [p for f in FORMATS for p in f.furniture_patterns]
RUN_DATE = date(2026, 11, 1)


def _read(name: str) -> RawTable:
    return read_table(FIXTURES / name, FORMATS, furniture=FURNITURE)


def _load(name: str) -> pl.DataFrame:
    table = _read(name)
    fmt = next(f for f in FORMATS if f.name == table.format_name)
    return parse_table(table, fmt, ParseContext("linkedin_ads", RUN_DATE, name, "0" * 64))


def _errors(frame: pl.DataFrame) -> list[list[str]]:
    return frame["_errors"].to_list()


def test_campaign_performance_export_values():
    table = _read("campaign_performance.csv")
    assert table.format_name == "linkedin_campaign_manager"
    assert len(table.metadata_lines) == 5
    expected = pl.DataFrame(
        {
            "platform": ["linkedin_ads"] * 2,
            "account_id": ["508123456"] * 2,  # from 'Account: Kohde Demo Oy (508123456)'
            "account_timezone": ["UTC"] * 2,
            "day": [date(2026, 11, 1), date(2026, 10, 31)],  # 11/1/2026 and 10/31/2026 are M/D/YYYY
            "campaign_id": ["612345678", "612345679"],
            "campaign_name": ["B2B - Decision makers", 'Webinar "Q4", Nordics'],
            "currency_code": ["EUR"] * 2,
            "spend": [Decimal("410.2000"), Decimal("1020.0000")],
            "impressions": [5300, 12004],
            "clicks": [61, 130],
            "platform_conversions": [Decimal("1.0000"), Decimal("0.5000")],
            "platform_conversion_value": [Decimal("12000.0000"), Decimal("0.0000")],
        },
        schema=AD_DAILY,
    )
    parsed = _load("campaign_performance.csv")
    assert_frame_equal(parsed.select(list(AD_DAILY)), expected)
    assert _errors(parsed) == [[], []]


def test_metadata_lines():
    lines = _read("campaign_performance.csv").metadata_lines
    assert account_from_metadata(lines) == "508123456"
    assert report_range(lines) == (date(2026, 10, 31), date(2026, 11, 1))
    assert account_from_metadata(['"Account: Oy Ab (Nordics) (508000001)"']) == "508000001"
    assert account_from_metadata(["Account: Kohde Demo Oy"]) is None


def test_account_id_column_wins_and_range_rows_are_quarantined():
    parsed = _load("end_date_column.csv")
    assert parsed["account_id"].to_list() == ["508999999", "508999999"]  # not the metadata line's 508123456
    assert _errors(parsed) == [
        ["range:day: row spans 2026-10-01..2026-10-31; daily facts need one day per row"],
        [],
    ]


def test_negative_and_future_rows_are_quarantined():
    parsed = _load("negative_spend.csv")
    assert _errors(parsed) == [
        ["range:spend: negative spend"],
        ["future:day: 2026-11-05 is after the run date 2026-11-01"],
        [],
    ]


@pytest.mark.parametrize(("name", "message"), [
    ("no_currency.csv", "has no 'Currency' column; spend without a currency cannot be used"),
    ("no_account.csv", "no 'Account ID' column and no 'Account: <name> (<id>)' line"),
])
def test_unusable_files_fail_with_one_line(name, message):
    with pytest.raises(InputFileError) as failure:
        _load(name)
    assert message in str(failure.value)
    assert "\n" not in str(failure.value)
