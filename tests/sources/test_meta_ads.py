"""Meta Ads Manager campaign exports on recorded byte fixtures."""

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
from pipeline.sources.meta_ads import spend_columns

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "meta_ads"
FORMATS = formats_for("meta_ads")
FURNITURE = [p for f in FORMATS for p in f.furniture_patterns]
RUN_DATE = date(2026, 11, 1)


def _read(name: str) -> RawTable:
    return read_table(FIXTURES / name, FORMATS, furniture=FURNITURE)


def _load(name: str) -> pl.DataFrame:
    table = _read(name)
    fmt = next(f for f in FORMATS if f.name == table.format_name)
    return parse_table(table, fmt, ParseContext("meta_ads", RUN_DATE, name, "0" * 64))


def _errors(frame: pl.DataFrame) -> list[list[str]]:
    return frame["_errors"].to_list()


def test_formats_are_registered_for_the_folder():
    assert [f.name for f in FORMATS] == ["meta_ads_manager_en", "meta_ads_manager_localised"]


def test_daily_campaign_export_values():
    table = _read("daily_campaigns.csv")
    assert (table.format_name, table.encoding) == ("meta_ads_manager_en", "utf-8-sig")
    assert table.header[0] == "Reporting starts"  # the BOM is not part of the first column name
    expected = pl.DataFrame(
        {
            "platform": ["meta_ads"] * 3,
            "account_id": ["act_1029384756"] * 3,  # kept as written, prefix included
            "account_timezone": ["Europe/Helsinki"] * 3,
            "day": [date(2026, 11, 1), date(2026, 11, 1), date(2026, 10, 31)],
            "campaign_id": ["120208765432100001", "120208765432100002", "120208765432100003"],
            "campaign_name": ["Prospecting - Lookalike", 'Retargeting - "Cart" visitors', "Brand awareness"],
            "currency_code": ["EUR"] * 3,  # from 'Amount spent (EUR)'
            "spend": [Decimal("312.4500"), Decimal("45.1000"), Decimal("0.9900")],
            "impressions": [8900, 3100, 12345],
            "clicks": [145, None, 0],  # Link clicks '-' is NULL, not 0
            "platform_conversions": [Decimal("3.0000"), None, None],  # Purchases; empty and '—' are NULL
            "platform_conversion_value": [Decimal("2890.0000"), None, None],
        },
        schema=AD_DAILY,
    )
    parsed = _load("daily_campaigns.csv")
    assert_frame_equal(parsed.select(list(AD_DAILY)), expected)
    assert _errors(parsed) == [[], [], []]


def test_range_rows_are_quarantined_never_spread():
    parsed = _load("range_rows.csv")
    assert parsed.height == 2  # the weekly row is not split into seven days
    assert _errors(parsed) == [
        ["range:day: row spans 2026-10-01..2026-10-07; daily facts need one day per row"],
        [],
    ]
    assert parsed["spend"].to_list() == [Decimal("700.0000"), Decimal("100.0000")]


def test_day_breakdown_export_takes_the_day_column():
    parsed = _load("day_breakdown.csv")
    # Reporting starts/ends give the week 2026-10-26..2026-11-01; each row is one day of it.
    assert parsed["day"].to_list() == [date(2026, 10, 26), date(2026, 10, 27)]
    assert parsed["spend"].to_list() == [Decimal("250.0000"), Decimal("260.0000")]
    assert _errors(parsed) == [[], []]


def test_results_count_as_conversions_only_when_the_indicator_is_a_purchase():
    parsed = _load("results_without_purchases.csv")
    assert parsed.select("campaign_id", "currency_code", "platform_conversions").rows() == [
        ("120208765432100001", "USD", Decimal("4.0000")),   # fb_pixel_purchase: Results 4
        ("120208765432100004", "USD", None),                # lead_grouped: 7 leads are not purchases
    ]


@pytest.mark.parametrize(("name", "currency", "fmt"), [
    ("localised_pt_brl.csv", "BRL", "meta_ads_manager_localised"),
    ("localised_fi_eur.csv", "EUR", "meta_ads_manager_localised"),
])
def test_localised_headers_give_the_currency(name, currency, fmt):
    assert _read(name).format_name == fmt
    parsed = _load(name)
    assert set(parsed["currency_code"].to_list()) == {currency}


def test_portuguese_export_values_and_a_decimal_comma_is_quarantined_not_misread():
    parsed = _load("localised_pt_brl.csv")
    assert parsed.select("day", "campaign_id", "spend", "impressions", "clicks", "platform_conversions",
                         "platform_conversion_value").rows() == [
        (date(2026, 11, 1), "120208765432100011", Decimal("150.7500"), 7000, 95, Decimal("2.0000"),
         Decimal("980.0000")),
        (date(2026, 11, 1), "120208765432100012", None, 3000, 40, Decimal("1.0000"), Decimal("300.0000")),
    ]
    assert _errors(parsed) == [[], ["parse:spend: cannot read 42,90 as decimal"]]


def test_finnish_export_values():
    parsed = _load("localised_fi_eur.csv")
    assert parsed.select("account_id", "campaign_name", "spend", "clicks", "platform_conversions").rows() == [
        ("1029384756", "Tavoittavuus - Helsinki", Decimal("61.2000"), 33, Decimal("1.0000")),
    ]


def test_spend_columns_read_any_currency_code():
    assert spend_columns(["Amount spent (EUR)", "Valor usado (BRL)", "Käytetty summa (SEK)", "Amount spent",
                          "CPC (cost per link click) (EUR)"]) == [
        ("Amount spent (EUR)", "EUR"), ("Valor usado (BRL)", "BRL"), ("Käytetty summa (SEK)", "SEK"),
        ("Amount spent", None),
    ]


def test_multi_currency_export_takes_each_rows_filled_column():
    parsed = _load("multi_currency.csv")
    assert parsed.select("currency_code", "spend").rows()[:2] == [("EUR", Decimal("20.0000")),
                                                                 ("SEK", Decimal("230.0000"))]
    assert _errors(parsed) == [
        [], [], ["conflict:spend: a row has amounts under both 'Amount spent (EUR)' and 'Amount spent (SEK)'"]]


def test_negative_future_and_missing_days_are_quarantined():
    parsed = _load("negative_spend.csv")
    assert _errors(parsed) == [
        ["range:spend: negative spend", "range:clicks: negative clicks"],
        ["future:day: 2026-11-02 is after the run date 2026-11-01"],
        ["required:day: value is missing"],
        [],
    ]


def test_excel_damaged_campaign_id_is_quarantined():
    parsed = _load("sci_notation_id.csv")
    assert parsed["campaign_id"].to_list() == [None, "120208765432100003"]
    assert _errors(parsed) == [["parse:campaign_id: cannot read 1.20209E+17 as id"], []]


@pytest.mark.parametrize(("name", "message"), [
    ("no_campaign_id.csv", "has no 'Campaign ID' column"),
    ("no_currency.csv", "'Amount spent' names no currency; spend without a currency cannot be used"),
])
def test_unusable_files_fail_with_one_line(name, message):
    with pytest.raises(InputFileError) as failure:
        _load(name)
    assert message in str(failure.value)
    assert "\n" not in str(failure.value)


def test_currency_column_that_contradicts_the_spend_header_is_quarantined():
    parsed = _load("currency_column_conflict.csv")
    assert parsed["currency_code"].to_list() == ["EUR", "EUR", "EUR"]
    assert _errors(parsed) == [
        [],
        ["conflict:currency_code: the Currency column says USD but the spend header says EUR"],
        [],  # 'eur' is the same currency
    ]
