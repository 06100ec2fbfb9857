from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
from polars.testing import assert_frame_equal

from pipeline.entities import MONEY
from pipeline.transforms.channel_roi import build_channel_roi
from tests.transforms.ddl import assert_matches_ddl


def spend_row(day: date, channel: str, campaign_id: str, spend_eur: str | None, impressions: int = 1000,
              clicks: int = 10) -> dict:
    return {"day": day, "channel": channel, "campaign_id": campaign_id,
            "spend_eur": None if spend_eur is None else Decimal(spend_eur), "impressions": impressions, "clicks": clicks}


def credit_row(order_id: str, model: str, channel: str, campaign_id: str, day: date, first: bool, credit: float,
               revenue_eur: str) -> dict:
    return {"order_id": order_id, "model": model, "channel": channel, "campaign_id": campaign_id, "order_date": day,
            "is_first_order": first, "credit": credit, "revenue_eur": Decimal(revenue_eur)}


MON, TUE, WED, THU, SUN = (date(2026, 3, d) for d in (2, 3, 4, 5, 8))
NEXT_MON, NEXT_TUE = date(2026, 3, 9), date(2026, 3, 10)
SPEND = [
    spend_row(MON, "paid_search", "g1", "300.00"),
    spend_row(WED, "paid_search", "g1", "200.00", 3000, 30),  # g1 week of 2 March: 300 + 200 = 500
    spend_row(MON, "paid_search", "g2", "100.00"),
    spend_row(NEXT_MON, "paid_search", "g2", "0.00"),  # zero spend reported
    spend_row(TUE, "paid_social", "m1", "100.00"),  # spend without any conversion
    spend_row(date(2026, 3, 31), "linkedin", "l1", None),  # spend with no EUR amount
]
ATTRIBUTION = [
    # last touch: four orders of 500 EUR on g1 in the week of Monday 2 March, o1 and o2 first orders
    credit_row("o1", "last_touch", "paid_search", "g1", MON, True, 1.0, "500.00"),
    credit_row("o2", "last_touch", "paid_search", "g1", TUE, True, 1.0, "500.00"),
    credit_row("o3", "last_touch", "paid_search", "g1", THU, False, 1.0, "500.00"),
    credit_row("o4", "last_touch", "paid_search", "g1", SUN, False, 1.0, "500.00"),
    credit_row("o5", "last_touch", "paid_search", "g2", NEXT_TUE, False, 1.0, "200.00"),
    # linear: o1 split half and half with email
    credit_row("o1", "linear", "paid_search", "g1", MON, True, 0.5, "250.00"),
    credit_row("o1", "linear", "email", "(none)", MON, True, 0.5, "250.00"),
    credit_row("o2", "linear", "paid_search", "g1", TUE, True, 1.0, "500.00"),
    credit_row("o3", "linear", "paid_search", "g1", THU, False, 1.0, "500.00"),
    credit_row("o4", "linear", "paid_search", "g1", SUN, False, 1.0, "500.00"),
    credit_row("o5", "linear", "paid_search", "g2", NEXT_TUE, False, 1.0, "200.00"),
]
COLUMNS = ["spend_eur", "attributed_revenue_eur", "conversions", "new_customers", "roi", "roas", "cpa_eur", "cac_eur"]


def build() -> pl.DataFrame:
    spend = pl.DataFrame(SPEND, schema={"day": pl.Date, "channel": pl.Utf8, "campaign_id": pl.Utf8,
                                        "spend_eur": MONEY, "impressions": pl.Int64, "clicks": pl.Int64}).lazy()
    attribution = pl.DataFrame(ATTRIBUTION).with_columns(pl.col("revenue_eur").cast(MONEY)).lazy()
    return build_channel_roi(attribution, spend).collect()


def measures(got: pl.DataFrame, grain: str, start: date, channel: str, campaign_id: str, model: str) -> tuple:
    rows = got.filter(
        (pl.col("period_grain") == grain) & (pl.col("period_start") == start) & (pl.col("channel") == channel)
        & (pl.col("campaign_id") == campaign_id) & (pl.col("model") == model)
    ).select(COLUMNS).rows()
    assert len(rows) == 1
    return tuple(round(v, 10) if isinstance(v, float) else v for v in rows[0])


def d(text: str) -> Decimal:
    return Decimal(text)


def test_week_roi_roas_cpa_cac() -> None:
    got = build()
    # spend 500, revenue 4 x 500 = 2000: ROI (2000 - 500) / 500 = 3.0, ROAS 2000 / 500 = 4.0,
    # CPA 500 / 4 = 125, CAC 500 / 2 = 250 (Sunday 8 March is still the week of Monday 2 March)
    assert measures(got, "week", MON, "paid_search", "g1", "last_touch") == (
        d("500"), d("2000"), 4.0, 2.0, 3.0, 4.0, d("125"), d("250"))
    # linear: revenue 250 + 3 x 500 = 1750, conversions 3.5, new customers 0.5 + 1 = 1.5:
    # ROI (1750 - 500) / 500 = 2.5, ROAS 3.5, CPA 500 / 3.5 = 142.857142.. -> 142.8571, CAC 500 / 1.5 = 333.3333
    assert measures(got, "week", MON, "paid_search", "g1", "linear") == (
        d("500"), d("1750"), 3.5, 1.5, 2.5, 3.5, d("142.8571"), d("333.3333"))
    # roll-up over g1 and g2: spend 600, ROI (2000 - 600) / 600 = 2.3333333333, ROAS 3.3333333333,
    # CPA 600 / 4 = 150, CAC 600 / 2 = 300
    assert measures(got, "week", MON, "paid_search", "(all)", "last_touch") == (
        d("600"), d("2000"), 4.0, 2.0, round(1400 / 600, 10), round(2000 / 600, 10), d("150"), d("300"))


def test_day_and_month_grains() -> None:
    got = build()
    # Monday: spend 300, revenue 500: ROI 200 / 300, ROAS 500 / 300, CPA 300 / 1, CAC 300 / 1
    assert measures(got, "day", MON, "paid_search", "g1", "last_touch") == (
        d("300"), d("500"), 1.0, 1.0, round(200 / 300, 10), round(500 / 300, 10), d("300"), d("300"))
    # March: g1 as its week, plus nothing else
    assert measures(got, "month", date(2026, 3, 1), "paid_search", "g1", "last_touch") == (
        d("500"), d("2000"), 4.0, 2.0, 3.0, 4.0, d("125"), d("250"))
    # March roll-up of paid search: spend 500 + 100 + 0 = 600, revenue 2000 + 200 = 2200, 5 conversions:
    # ROI 1600 / 600, ROAS 2200 / 600, CPA 600 / 5 = 120, CAC 600 / 2 = 300
    assert measures(got, "month", date(2026, 3, 1), "paid_search", "(all)", "last_touch") == (
        d("600"), d("2200"), 5.0, 2.0, round(1600 / 600, 10), round(2200 / 600, 10), d("120"), d("300"))
    # the first quarter holds March and nothing else
    assert measures(got, "quarter", date(2026, 1, 1), "paid_search", "(all)", "last_touch") == (
        d("600"), d("2200"), 5.0, 2.0, round(1600 / 600, 10), round(2200 / 600, 10), d("120"), d("300"))
    assert set(got["period_grain"]) == {"day", "week", "month", "quarter"}


def test_impressions_clicks_ctr_and_conversion_rate() -> None:
    got = build()
    columns = ["impressions", "clicks", "ctr_pct", "conversion_rate_pct"]

    def delivery(grain: str, start: date, channel: str, campaign_id: str, model: str) -> tuple:
        row = got.filter(
            (pl.col("period_grain") == grain) & (pl.col("period_start") == start) & (pl.col("channel") == channel)
            & (pl.col("campaign_id") == campaign_id) & (pl.col("model") == model)
        ).select(columns).row(0)
        return tuple(round(v, 10) if isinstance(v, float) else v for v in row)

    # g1 week of 2 March: 1,000 + 3,000 impressions, 10 + 30 clicks: CTR 1 %; 4 conversions / 40 clicks = 10 %
    assert delivery("week", MON, "paid_search", "g1", "last_touch") == (4000, 40, 1.0, 10.0)
    # under linear g1 has 3.5 conversions: 8.75 %
    assert delivery("week", MON, "paid_search", "g1", "linear") == (4000, 40, 1.0, 8.75)
    # March paid search roll-up: g1 4,000 + g2 2 x 1,000 impressions, 40 + 20 clicks; 5 conversions / 60 clicks
    assert delivery("month", date(2026, 3, 1), "paid_search", "(all)", "last_touch") == (6000, 60, 1.0, round(500 / 60, 10))
    # email has no ad data: impressions and clicks unknown, no rates
    assert delivery("week", MON, "email", "(none)", "linear") == (None, None, None, None)


def test_zero_missing_and_unconverted_spend() -> None:
    got = build()
    # zero spend reported for g2 in the week of 9 March: every ratio over spend is NULL, CPA and CAC too
    assert measures(got, "week", NEXT_MON, "paid_search", "g2", "last_touch") == (
        d("0"), d("200"), 1.0, 0.0, None, None, None, None)
    # email has no spend rows: spend 0, ratios NULL (not free)
    assert measures(got, "week", MON, "email", "(none)", "linear") == (
        d("0"), d("250"), 0.5, 0.5, None, None, None, None)
    # spend without conversions appears for every model: ROI (0 - 100) / 100 = -1, ROAS 0, no CPA or CAC
    for model in ("last_touch", "linear"):
        assert measures(got, "day", TUE, "paid_social", "m1", model) == (
            d("100"), d("0"), 0.0, 0.0, -1.0, 0.0, None, None)
    # spend with no EUR amount stays unknown, in the campaign row and in the channel roll-up
    for campaign_id in ("l1", "(all)"):
        assert measures(got, "month", date(2026, 3, 1), "linkedin", campaign_id, "last_touch") == (
            None, d("0"), 0.0, 0.0, None, None, None, None)


def test_key_unique_not_null_and_ddl() -> None:
    got = build()
    key = ["period_grain", "period_start", "channel", "campaign_id", "model"]
    assert got.select(key).null_count().sum_horizontal().item() == 0
    assert got.select(key).is_unique().all()
    # weeks start on Monday
    assert (got.filter(pl.col("period_grain") == "week")["period_start"].dt.weekday() == 1).all()
    assert_matches_ddl(got, "mart_channel_roi")


def test_won_deals_have_their_own_columns_and_leave_order_revenue_alone() -> None:
    spend = pl.DataFrame(SPEND, schema={"day": pl.Date, "channel": pl.Utf8, "campaign_id": pl.Utf8,
                                        "spend_eur": MONEY, "impressions": pl.Int64, "clicks": pl.Int64}).lazy()
    orders = pl.DataFrame(ATTRIBUTION).with_columns(pl.col("revenue_eur").cast(MONEY), pl.lit("order").alias("conversion_type"))
    deals = pl.DataFrame([
        # a 9000 EUR deal closed on Wednesday, 2/3 to g1 and 1/3 to email under linear; all to g1 under last touch
        credit_row("D1", "linear", "paid_search", "g1", WED, False, 2 / 3, "6000.00"),
        credit_row("D1", "linear", "email", "(none)", WED, False, 1 / 3, "3000.00"),
        credit_row("D1", "last_touch", "paid_search", "g1", WED, False, 1.0, "9000.00"),
        # a deal whose amount has no EUR rate
        credit_row("D2", "last_touch", "paid_search", "g2", NEXT_TUE, False, 1.0, "0"),
    ]).with_columns(pl.col("revenue_eur").cast(MONEY), pl.lit("won_deal").alias("conversion_type"),
                    pl.col("is_first_order").cast(pl.Boolean))
    deals = deals.with_columns(pl.when(pl.col("order_id") == "D2").then(None).otherwise(pl.col("revenue_eur"))
                               .alias("revenue_eur"))
    got = build_channel_roi(pl.concat([orders, deals]).lazy(), spend).collect()
    plain = build()
    # every order measure is what the orders alone give; the only new rows are email on Wednesday
    # (day grain, campaign and roll-up), where a deal was won and no order came
    key = ["period_grain", "period_start", "channel", "campaign_id", "model"]
    extra = got.join(plain, on=key, how="anti")
    assert extra.select("period_grain", "period_start", "channel", "campaign_id", "model").rows() == [
        ("day", WED, "email", "(all)", "linear"), ("day", WED, "email", "(none)", "linear")]
    assert extra.select("spend_eur", "attributed_revenue_eur", "conversions").unique().rows() == [(Decimal("0"), Decimal("0"), 0.0)]
    assert_frame_equal(got.join(plain.select(key), on=key, how="semi").drop("won_deals", "won_deal_value_eur"),
                       plain.drop("won_deals", "won_deal_value_eur"))
    assert (plain["won_deals"] == 0).all() and (plain["won_deal_value_eur"] == 0).all()

    def won(grain: str, start: date, channel: str, campaign_id: str, model: str) -> tuple:
        return got.filter(
            (pl.col("period_grain") == grain) & (pl.col("period_start") == start) & (pl.col("channel") == channel)
            & (pl.col("campaign_id") == campaign_id) & (pl.col("model") == model)
        ).select(pl.col("won_deals").round(9), "won_deal_value_eur").row(0)

    assert won("week", MON, "paid_search", "g1", "linear") == (round(2 / 3, 9), Decimal("6000.0000"))
    assert won("week", MON, "email", "(none)", "linear") == (round(1 / 3, 9), Decimal("3000.0000"))
    assert won("day", WED, "paid_search", "g1", "last_touch") == (1.0, Decimal("9000.0000"))
    # the March roll-up of paid search under last touch: D1 and D2, whose value is unknown
    assert won("month", date(2026, 3, 1), "paid_search", "(all)", "last_touch") == (2.0, None)
    assert won("day", MON, "paid_search", "g1", "last_touch") == (0.0, Decimal("0"))
    assert_matches_ddl(got, "mart_channel_roi")


def test_credit_is_summed_exactly_and_rounded_once() -> None:
    """The roll-up's conversions are the exact sum of its campaigns' credit, rounded once to 9 decimals.

    g1 has 0.1000000004 and g2 0.2000000004 of credit: each shows as 0.1 and 0.2, and the channel's
    (all) row as 0.300000001, not 0.3 (the sum of the rounded parts). Exact sums also make the
    rows the same in any row order, which float sums spread over threads did not at scale.
    """
    credits = {"o1": ("g1", 0.1000000004), "o2": ("g2", 0.2000000004)}
    spend = pl.DataFrame([spend_row(MON, "paid_search", "g1", "30.00")],
                         schema={"day": pl.Date, "channel": pl.Utf8, "campaign_id": pl.Utf8, "spend_eur": MONEY,
                                 "impressions": pl.Int64, "clicks": pl.Int64}).lazy()

    def roi(order: list[str]) -> pl.DataFrame:
        rows = [credit_row(o, "linear", "paid_search", credits[o][0], MON, True, credits[o][1], "10.00") for o in order]
        attribution = pl.DataFrame(rows).with_columns(pl.col("revenue_eur").cast(MONEY)).lazy()
        return build_channel_roi(attribution, spend).collect()

    got = roi(["o1", "o2"])
    assert_frame_equal(got, roi(["o2", "o1"]), check_exact=True)
    for grain in ("day", "week", "month", "quarter"):
        for campaign, conversions in (("g1", 0.1), ("g2", 0.2), ("(all)", 0.300000001)):
            row = got.filter((pl.col("period_grain") == grain) & (pl.col("campaign_id") == campaign))
            assert row.select("conversions", "new_customers").row(0) == (conversions, conversions), (grain, campaign)
