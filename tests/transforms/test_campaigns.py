from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
from polars.testing import assert_frame_equal

from pipeline.entities import conform
from pipeline.transforms.campaigns import build_dim_campaign
from tests.transforms.ddl import assert_matches_ddl


def ad_row(platform: str, campaign_id: str, day: date, name: str | None) -> dict:
    return {
        "platform": platform, "account_id": "acct", "account_timezone": "UTC", "day": day, "campaign_id": campaign_id,
        "campaign_name": name, "currency_code": "EUR", "spend": Decimal("1"), "impressions": 1, "clicks": 1,
        "platform_conversions": Decimal(0), "platform_conversion_value": Decimal(0),
    }


def touch(touchpoint_id: str, platform: str, campaign_id: str | None, channel: str) -> dict:
    return {
        "touchpoint_id": touchpoint_id, "customer_id": "cust-a", "ts": datetime(2026, 3, 3, tzinfo=UTC),
        "channel": channel, "platform": platform, "campaign_id": campaign_id, "touch_type": "click",
    }


ADS = [
    # the name on the latest day wins: "Brand Search Finland" -> awareness
    ad_row("google_ads", "111", date(2026, 3, 5), "Brand Search Finland"),
    ad_row("google_ads", "111", date(2026, 3, 1), "Brand Search FI"),
    # a NULL name on the latest day does not erase the last known name; no keyword -> conversion
    ad_row("google_ads", "112", date(2026, 3, 2), "Spring Sale"),
    ad_row("google_ads", "112", date(2026, 3, 4), None),
    # the same id on another platform is another campaign; retarget is checked before brand
    ad_row("meta_ads", "111", date(2026, 3, 3), "Retargeting - Brand lovers"),
    ad_row("linkedin_ads", "333", date(2026, 3, 3), "Webinar Q1"),
    ad_row("adroll", "444", date(2026, 3, 3), "LEAD magnet"),
]
TOUCHES = [
    touch("t1", "google_ads", "111", "paid_search"),  # already known from the ad reports
    touch("t2", "google_ads", "999", "paid_search"),  # a paid campaign missing from the reports
    # an email tool campaign: its touches' most frequent channel, email (2) over webinar (1)
    touch("t3", "hubspot", "nl-march", "email"),
    touch("t4", "hubspot", "nl-march", "webinar"),
    touch("t5", "hubspot", "nl-march", "email"),
    touch("t6", "website", None, "organic_search"),  # no campaign: not a campaign row
]


def build() -> pl.DataFrame:
    ads = conform(pl.DataFrame(ADS), "ad_daily").lazy()
    touches = conform(pl.DataFrame(TOUCHES), "touchpoint").lazy()
    return build_dim_campaign(ads, touches).collect()


def test_names_channels_objectives_days() -> None:
    d = date
    expected = pl.DataFrame(
        {
            "platform": ["adroll", "google_ads", "google_ads", "google_ads", "hubspot", "linkedin_ads", "meta_ads"],
            "campaign_id": ["444", "111", "112", "999", "nl-march", "333", "111"],
            "campaign_name": ["LEAD magnet", "Brand Search Finland", "Spring Sale", None, None, "Webinar Q1",
                              "Retargeting - Brand lovers"],
            "channel": ["display_retargeting", "paid_search", "paid_search", "paid_search", "email", "linkedin",
                        "paid_social"],
            "objective": ["lead_generation", "awareness", "conversion", None, None, "lead_generation", "retargeting"],
            "first_day": [d(2026, 3, 3), d(2026, 3, 1), d(2026, 3, 2), None, None, d(2026, 3, 3), d(2026, 3, 3)],
            "last_day": [d(2026, 3, 3), d(2026, 3, 5), d(2026, 3, 4), None, None, d(2026, 3, 3), d(2026, 3, 3)],
        },
        schema={"platform": pl.Utf8, "campaign_id": pl.Utf8, "campaign_name": pl.Utf8, "channel": pl.Utf8,
                "objective": pl.Utf8, "first_day": pl.Date, "last_day": pl.Date},
    )
    assert_frame_equal(build(), expected)


def test_key_unique_not_null_and_ddl() -> None:
    got = build()
    assert got.select("platform", "campaign_id").null_count().sum_horizontal().item() == 0
    assert got.select("platform", "campaign_id").is_unique().all()
    assert_matches_ddl(got, "dim_campaign")
