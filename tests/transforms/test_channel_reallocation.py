"""mart_channel_reallocation: average and marginal CPA and ROI per channel on hand-made weekly data."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest

from pipeline.entities import MONEY
from pipeline.transforms.channel_reallocation import build_channel_reallocation
from tests.transforms.ddl import assert_matches_ddl

AS_OF = date(2026, 6, 28)


def _data(weekly: dict[str, list[tuple[float, float]]]) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Per channel, (spend, conversions) for buckets 0, 1, ... back from AS_OF; each conversion earns 100 EUR."""
    spend_rows, sale_rows = [], []
    for channel, weeks in weekly.items():
        for bucket, (spend, conversions) in enumerate(weeks):
            day = AS_OF - timedelta(days=7 * bucket + 2)
            spend_rows.append((day, channel, Decimal(str(spend))))
            if conversions:
                sale_rows.append((f"{channel}{bucket}", "last_touch", channel, day, conversions, Decimal(str(round(100 * conversions, 4))),
                                  bucket % 2 == 0))
                sale_rows.append((f"{channel}{bucket}", "linear", channel, day, 99.0, Decimal("99"), True))  # ignored
    spend = pl.DataFrame(spend_rows, schema=["day", "channel", "spend_eur"], orient="row").with_columns(
        pl.col("spend_eur").cast(MONEY))
    sales = pl.DataFrame(sale_rows, schema=["order_id", "model", "channel", "order_date", "credit", "revenue_eur",
                                            "is_first_order"], orient="row").with_columns(pl.col("revenue_eur").cast(MONEY))
    return spend.lazy(), sales.lazy()


def test_marginal_cpa_and_roi_from_the_response_curve() -> None:
    social = [100.0, 200.0, 400.0, 800.0, 100.0, 200.0, 400.0, 800.0]
    display = [1000.0, 2000.0] * 4
    spend, sales = _data({
        # conversions = 2 + 3 ln(spend): slope 3 exactly
        "paid_social": [(s, 2 + 3 * math.log(s)) for s in social],
        # conversions = 1 + 0.5 ln(spend): slope 0.5
        "display_retargeting": [(s, 1 + 0.5 * math.log(s)) for s in display],
        # more spend, fewer conversions
        "paid_search": [(100.0, 9.0), (200.0, 8.0), (400.0, 7.0), (800.0, 6.0)],
        # conversions unrelated to spend: the slope is noise
        "meta_video": [(100.0, 5.0), (200.0, 1.0), (400.0, 6.0), (800.0, 2.0), (150.0, 1.0), (300.0, 6.0)],
        # only two weeks of spend
        "linkedin": [(500.0, 15.0), (500.0, 15.0)],
        # a good fit, but on 8 conversions
        "adroll": [(s, 2 * math.log(s) - 8) for s in (100.0, 120.0, 200.0, 250.0)],
    })
    out = build_channel_reallocation(spend, sales, AS_OF)
    rows = {r["channel"]: r for r in out.iter_rows(named=True)}
    social_row = rows["paid_social"]
    # current weekly spend = mean of buckets 0..3 = (100 + 200 + 400 + 800) / 4 = 375
    assert social_row["weekly_spend_eur"] == Decimal("375")
    assert social_row["response_slope"] == pytest.approx(3.0, rel=1e-12)
    # marginal CPA = 375 / 3 = 125; marginal ROI = 3 / 375 x 100 - 1 = -0.2
    assert social_row["marginal_cpa_eur"] == Decimal("125")
    assert social_row["marginal_roi"] == pytest.approx(-0.2, rel=1e-7)  # revenue rounded to 4 decimals
    assert social_row["hint"] == "decrease"
    total_conversions = sum(2 + 3 * math.log(s) for s in social)
    assert social_row["conversions"] == pytest.approx(total_conversions, rel=1e-12)
    assert social_row["spend_eur"] == Decimal("3000")
    # average ROI = (100 x conversions - 3000) / 3000
    assert social_row["roi"] == pytest.approx((100 * total_conversions - 3000) / 3000, rel=1e-6)
    display_row = rows["display_retargeting"]
    # weekly spend 1500; marginal CPA 1500 / 0.5 = 3000; marginal ROI 0.5 / 1500 x 100 - 1 = -0.9667
    assert (display_row["weekly_spend_eur"], display_row["marginal_cpa_eur"]) == (Decimal("1500"), Decimal("3000"))
    assert display_row["marginal_roi"] == pytest.approx(0.5 / 1500 * 100 - 1, rel=1e-7)
    assert rows["paid_search"]["response_slope"] < 0
    assert (rows["paid_search"]["hint"], rows["paid_search"]["marginal_cpa_eur"]) == ("decrease", None)
    assert (rows["linkedin"]["hint"], rows["linkedin"]["response_slope"]) == ("insufficient_data", None)
    assert sum(2 * math.log(s) - 8 for s in (100.0, 120.0, 200.0, 250.0)) < 20
    assert (rows["adroll"]["hint"], rows["adroll"]["hint_reason"]) == ("insufficient_data",
                                                                       "fewer than 20 conversions in the window")
    noisy = rows["meta_video"]
    assert abs(noisy["response_t_stat"]) < 2
    assert (noisy["hint"], noisy["marginal_cpa_eur"], noisy["marginal_roi"]) == ("insufficient_data", None, None)
    # ranked by marginal ROI: social (-0.2) before display (-0.97); no marginal ROI last, by average ROI
    assert out["channel"].to_list()[:2] == ["paid_social", "display_retargeting"]
    assert out["rank"].to_list() == [1, 2, 3, 4, 5, 6]
    assert_matches_ddl(out, "mart_channel_reallocation")


def test_increase_when_the_next_euro_pays_more_than_it_costs() -> None:
    spend, sales = _data({"email_ads": [(s, 10 * math.log(s)) for s in (50.0, 100.0, 50.0, 100.0)]})  # 195 conversions
    row = build_channel_reallocation(spend, sales, AS_OF).row(0, named=True)
    # weekly 75, slope 10: marginal ROI = 10 / 75 x 100 - 1 = 12.33
    assert row["marginal_roi"] == pytest.approx(10 / 75 * 100 - 1, rel=1e-7)
    assert (row["hint"], row["rank"]) == ("increase", 1)


def test_spend_outside_the_window_is_ignored() -> None:
    spend, sales = _data({"paid_social": [(100.0, 1.0)] * 12 + [(9999.0, 0.0)]})  # bucket 12 is 12 weeks back
    row = build_channel_reallocation(spend, sales, AS_OF).row(0, named=True)
    assert (row["spend_eur"], row["weeks_with_spend"], row["window_start"]) == (Decimal("1200"), 12, date(2026, 4, 6))
    assert row["hint"] == "insufficient_data"  # constant spend: no curve
