from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
from polars.testing import assert_frame_equal

from pipeline.entities import MONEY, conform
from pipeline.fx import default_rates
from pipeline.transforms.ad_spend import build_fct_ad_spend_daily
from tests.transforms.ddl import assert_matches_ddl


def ad_row(platform: str, account_id: str, campaign_id: str, currency: str, spend: str, value: str = "0") -> dict:
    return {
        "platform": platform, "account_id": account_id, "account_timezone": "Europe/Helsinki",
        "day": date(2026, 3, 2), "campaign_id": campaign_id, "campaign_name": f"Campaign {campaign_id}",
        "currency_code": currency, "spend": Decimal(spend), "impressions": 1000, "clicks": 50,
        "platform_conversions": Decimal("4.5"), "platform_conversion_value": Decimal(value),
    }


ROWS = [
    ad_row("google_ads", "123-456-7890", "111", "EUR", "500.00", "900.00"),
    # USD at the shipped 0.92: 100.00 x 0.92 = 92.0000; 250.50 x 0.92 = 230.4600
    ad_row("meta_ads", "act_1", "0222", "USD", "100.00", "250.50"),
    # GBP at 1.17: 10.00 x 1.17 = 11.7000
    ad_row("linkedin_ads", "5001", "333", "GBP", "10.00"),
    # SEK at 0.087: 1234.56 x 0.087 = 107.40672 -> 107.4067
    ad_row("adroll", "ADV1", "444", "SEK", "1234.56"),
    # a platform outside the channel map keeps its own name as channel; JPY has no rate -> NULL EUR
    ad_row("tiktok_ads", "tt1", "555", "JPY", "1000"),
]


def build() -> pl.DataFrame:
    silver = conform(pl.DataFrame(ROWS), "ad_daily")
    return build_fct_ad_spend_daily(silver.lazy(), default_rates().lazy()).collect()


def test_channels_and_eur_amounts() -> None:
    d = Decimal
    expected = pl.DataFrame(
        {
            "platform": ["adroll", "google_ads", "linkedin_ads", "meta_ads", "tiktok_ads"],
            "campaign_id": ["444", "111", "333", "0222", "555"],
            "channel": ["display_retargeting", "paid_search", "linkedin", "paid_social", "tiktok_ads"],
            "spend": [d("1234.56"), d(500), d(10), d(100), d(1000)],
            "spend_eur": [d("107.4067"), d(500), d("11.7"), d(92), None],
            "platform_conversion_value_eur": [d(0), d(900), d(0), d("230.46"), None],
        },
        schema={"platform": pl.Utf8, "campaign_id": pl.Utf8, "channel": pl.Utf8, "spend": MONEY, "spend_eur": MONEY,
                "platform_conversion_value_eur": MONEY},
    )
    assert_frame_equal(build().sort("platform").select(expected.columns), expected)


def test_key_unique_not_null_and_ddl() -> None:
    got = build()
    key = ["day", "platform", "account_id", "campaign_id"]
    assert got.select(key).null_count().sum_horizontal().item() == 0
    assert got.select(key).is_unique().all()
    assert got.height == len(ROWS)
    assert_matches_ddl(got, "fct_ad_spend_daily")
