from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
from polars.testing import assert_frame_equal

from pipeline.channels import load_channel_rules
from pipeline.entities import UTC_TS, conform
from pipeline.transforms.touchpoints import build_fct_touchpoints
from tests.transforms.ddl import assert_matches_ddl


def touch(touchpoint_id: str, customer_id: str | None, ts: str, channel: str, platform: str, campaign_id: str | None,
          touch_type: str) -> dict:
    return {
        "touchpoint_id": touchpoint_id, "customer_id": customer_id, "email_sha256": "ab" * 32,
        "ts": datetime.fromisoformat(ts).replace(tzinfo=UTC), "channel": channel, "platform": platform,
        "campaign_id": campaign_id, "touch_type": touch_type, "utm_source": "google", "utm_medium": "cpc",
        "utm_campaign": "spring",
    }


TOUCHES = [
    # 23:30 UTC is already 01:30 the next day in Helsinki: touch_date stays the UTC day
    touch("t1", "cust-a", "2026-03-01T23:30:00", "paid_search", "google_ads", "111", "click"),
    touch("t2", "cust-a", "2026-03-02T00:00:00", "email", "hubspot", None, "email_open"),
    touch("t3", None, "2026-03-03T12:00:00", "paid_social", "meta_ads", "0222", "impression"),
]


def build() -> pl.DataFrame:
    return build_fct_touchpoints(conform(pl.DataFrame(TOUCHES), "touchpoint").lazy()).collect()


def test_columns_and_utc_day() -> None:
    expected = pl.DataFrame(
        {
            "touchpoint_id": ["t1", "t2", "t3"],
            "customer_id": ["cust-a", "cust-a", None],
            "ts": [t["ts"] for t in TOUCHES],
            "touch_date": [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)],
            "channel": ["paid_search", "email", "paid_social"],
            "platform": ["google_ads", "hubspot", "meta_ads"],
            "campaign_id": ["111", None, "0222"],
            "touch_type": ["click", "email_open", "impression"],
        },
        schema={"touchpoint_id": pl.Utf8, "customer_id": pl.Utf8, "ts": UTC_TS, "touch_date": pl.Date,
                "channel": pl.Utf8, "platform": pl.Utf8, "campaign_id": pl.Utf8, "touch_type": pl.Utf8},
    )
    assert_frame_equal(build().sort("touchpoint_id"), expected)


def test_key_unique_not_null_and_ddl() -> None:
    got = build()
    assert got["touchpoint_id"].null_count() == 0
    assert got["touchpoint_id"].is_unique().all()
    assert_matches_ddl(got, "fct_touchpoints")


def test_user_channel_rules_regroup_touches(tmp_path) -> None:
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(
        '[[rule]]\nutm_source = "Google"\nutm_medium = "CPC"\nutm_campaign = "*brand*"\nchannel = "organic_search"\n\n'
        '[[rule]]\nfrom_channel = "paid-social"\nplatform = "meta_ads"\nchannel = "display_retargeting"\n',
        encoding="utf-8",
    )
    rows = [touch("t1", "c", "2026-03-01T10:00:00", "paid_search", "google_ads", "111", "click"),
            touch("t2", "c", "2026-03-01T11:00:00", "paid_search", "google_ads", "112", "click"),
            TOUCHES[2]]
    rows[0]["utm_campaign"] = "Spring - Brand Terms"
    got = build_fct_touchpoints(conform(pl.DataFrame(rows), "touchpoint").lazy(), load_channel_rules(rules_file))
    # t1: brand campaign re-grouped; t2: no rule matches, keeps its channel; t3: matched on channel and platform
    assert got.sort("touchpoint_id").collect()["channel"].to_list() == ["organic_search", "paid_search",
                                                                        "display_retargeting"]
