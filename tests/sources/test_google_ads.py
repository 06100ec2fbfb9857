"""Google Ads UI downloads (English CSV and Finnish UTF-16 "Excel .csv") on recorded byte fixtures."""

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
from pipeline.sources.google_ads import report_range

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "google_ads"
FORMATS = formats_for("google_ads")
FURNITURE = [p for f in FORMATS for p in f.furniture_patterns]
RUN_DATE = date(2026, 11, 1)


def _read(name: str) -> RawTable:
    return read_table(FIXTURES / name, FORMATS, furniture=FURNITURE)


def _parse(table: RawTable) -> pl.DataFrame:
    fmt = next(f for f in FORMATS if f.name == table.format_name)
    return parse_table(table, fmt, ParseContext("google_ads", RUN_DATE, table.path, "0" * 64))


def _load(name: str) -> pl.DataFrame:
    return _parse(_read(name))


def _errors(frame: pl.DataFrame) -> list[list[str]]:
    return frame["_errors"].to_list()


# The three campaign-days both UI languages show (Cost "1,234.50" / "1 234,50", Conv. "--" -> NULL).
EXPECTED = pl.DataFrame(
    {
        "platform": ["google_ads"] * 3,
        "account_id": ["123-456-7890"] * 3,
        "account_timezone": ["Europe/Helsinki"] * 3,
        "day": [date(2026, 10, 30), date(2026, 10, 31), date(2026, 11, 1)],
        "campaign_id": ["0020456789012", "20456789013", "20456789020"],
        "campaign_name": ["Search - Brand", "Search - Watches, Jewellery", "PMax - Nordics"],
        "currency_code": ["EUR"] * 3,
        "spend": [Decimal("1234.5000"), Decimal("87.2500"), Decimal("0.0000")],
        "impressions": [12345, 2040, 0],
        "clicks": [321, 58, 0],
        "platform_conversions": [Decimal("4.3300"), Decimal("0.3300"), None],
        "platform_conversion_value": [Decimal("8450.0000"), None, None],
    },
    schema=AD_DAILY,
)


def test_formats_are_registered_for_the_folder():
    assert [f.name for f in FORMATS] == ["google_ads_ui_en", "google_ads_ui_fi"]
    assert {f.entity for f in FORMATS} == {"ad_daily"}


def test_english_ui_csv_values():
    table = _read("en_ui_with_totals.csv")
    assert table.format_name == "google_ads_ui_en"
    assert table.metadata_lines == ["Campaign report", '"October 30, 2026 - November 1, 2026"']
    parsed = _load("en_ui_with_totals.csv")
    assert_frame_equal(parsed.select(list(AD_DAILY)), EXPECTED)
    assert parsed["row_number"].to_list() == [1, 2, 3]
    assert _errors(parsed) == [[], [], []]


def test_finnish_excel_utf16_gives_the_same_rows_as_english():
    table = _read("fi_excel_utf16.csv")
    assert (table.format_name, table.encoding, table.delimiter) == ("google_ads_ui_fi", "utf-16-le", "\t")
    assert table.header[0] == "Päivä"  # no BOM left in the first column name
    english = _load("en_ui_with_totals.csv").drop("_raw")
    finnish = _parse(table).drop("_raw")
    assert_frame_equal(finnish, english)
    assert_frame_equal(finnish.select(list(AD_DAILY)), EXPECTED)


@pytest.mark.parametrize("name", ["en_ui_with_totals.csv", "fi_excel_utf16.csv"])
def test_totals_are_stripped_and_equal_the_data_rows(name):
    table = _read(name)
    assert table.rows.height == 3
    assert table.furniture.height == 2
    first_cells = table.furniture[table.header[0]].to_list()
    assert first_cells in (["Total: Account", "Total: Campaigns"], ["Yhteensä: tili", "Yhteensä: kampanjat"])
    totals = _parse(replace(table, rows=table.furniture))  # the totals rows typed with the same locale
    data = _parse(table)
    # spend 1234.50 + 87.25 + 0.00 = 1321.75; impressions 12345 + 2040 + 0 = 14385; clicks 321 + 58 + 0 = 379;
    # conversions 4.33 + 0.33 = 4.66; value 8450.00 (the other rows are '--')
    for total in totals.iter_rows(named=True):
        assert total["spend"] == data["spend"].sum() == Decimal("1321.7500")
        assert total["impressions"] == data["impressions"].sum() == 14385
        assert total["clicks"] == data["clicks"].sum() == 379
        assert total["platform_conversions"] == data["platform_conversions"].sum() == Decimal("4.6600")
        assert total["platform_conversion_value"] == data["platform_conversion_value"].sum() == Decimal("8450.0000")


def test_title_line_date_range_in_both_languages():
    assert report_range(_read("en_ui_with_totals.csv").metadata_lines) == (date(2026, 10, 30), date(2026, 11, 1))
    assert report_range(_read("fi_excel_utf16.csv").metadata_lines) == (date(2026, 10, 30), date(2026, 11, 1))
    assert report_range(["Campaign report", '"All time"']) is None


def test_reordered_columns_give_identical_rows():
    assert_frame_equal(_load("en_ui_reordered.csv").select(list(AD_DAILY)), EXPECTED)


def test_mcc_export_keeps_each_rows_currency_and_falls_back_to_all_conv_value():
    parsed = _load("mcc_mixed_currency.csv")
    assert parsed.select("account_id", "currency_code", "spend", "platform_conversion_value").rows() == [
        ("123-456-7890", "EUR", Decimal("10.0000"), Decimal("99.9000")),
        ("987-654-3210", "SEK", Decimal("1150.0000"), Decimal("2400.0000")),
    ]
    assert _errors(parsed) == [[], []]


def test_negative_metrics_are_quarantined():
    parsed = _load("negative_spend.csv")
    assert _errors(parsed) == [
        ["range:spend: negative spend"],
        ["range:impressions: negative impressions", "range:clicks: negative clicks"],
        [],
    ]
    assert parsed["spend"].to_list() == [Decimal("-12.5000"), Decimal("4.0000"), Decimal("5.0000")]


def test_future_missing_and_out_of_range_days_are_quarantined():
    parsed = _load("future_and_missing_day.csv")
    assert parsed["day"].to_list() == [date(2026, 11, 1), date(2026, 11, 5), None, date(2026, 10, 29)]
    assert _errors(parsed) == [
        [],
        ["window:day: 2026-11-05 is outside the report's date range 2026-10-30..2026-11-01",
         "future:day: 2026-11-05 is after the run date 2026-11-01"],
        ["required:day: value is missing"],
        ["window:day: 2026-10-29 is outside the report's date range 2026-10-30..2026-11-01"],
    ]


def test_campaign_ids_damaged_by_excel_or_missing_are_quarantined():
    parsed = _load("sci_notation_id.csv")
    assert parsed["campaign_id"].to_list() == [None, None, "20456789015"]
    assert _errors(parsed) == [
        ["parse:campaign_id: cannot read 2.04568E+10 as id"],
        ["required:campaign_id: value is missing"],
        [],
    ]


def test_finnish_file_does_not_read_a_dot_as_a_thousands_separator():
    parsed = _load("fi_dot_in_number.csv")
    assert parsed["spend"].to_list() == [Decimal("1234.5000")]  # not 123450 as the generic FI locale reads it
    assert _errors(parsed) == [[]]


def test_header_only_file_gives_no_rows_and_no_error():
    parsed = _load("header_only.csv")
    assert parsed.height == 0
    assert parsed.select(list(AD_DAILY)).schema == pl.Schema(AD_DAILY)


@pytest.mark.parametrize(("name", "message"), [
    ("no_currency.csv", "has no 'Currency code' column; spend without a currency cannot be used"),
    ("no_campaign_id.csv", "lacks required column(s): campaign_id"),
    ("truncated.csv", "the file is truncated"),
])
def test_unusable_files_fail_with_one_line(name, message):
    with pytest.raises(InputFileError) as failure:
        _load(name)
    assert message in str(failure.value)
    assert "\n" not in str(failure.value)
