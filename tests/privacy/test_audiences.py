"""Audience rules and exclusions on small hand-made frames, with exact expected rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
from polars.testing import assert_frame_equal

from pipeline.audiences import (
    build_audience_candidates,
    build_audience_members,
    build_audience_sizes,
    platform_file,
)

AS_OF = date(2026, 8, 31)


def segments() -> pl.LazyFrame:
    rows = [
        # customer, rfm_segment, value_tier, engagement_segment
        ("c_a", "Prospects", "none", "engaged"),           # engaged, never ordered -> engaged_no_order_30d
        ("c_b", "Potential Loyalists", "middle", "highly_engaged"),  # engaged but ordered on Aug 20 -> not
        ("c_c", "At Risk", "top", "dormant"),               # at_risk_high_value
        ("c_d", "At Risk", "middle", "dormant"),            # At Risk but not top value -> not
        ("c_e", "Can't Lose Them", "top", "cooling"),       # at_risk_high_value
        ("c_f", "Champions", "top", "cooling"),             # champions seed
        ("c_g", "Lost", "low", "engaged"),                  # engaged, last order Aug 1 (31 days before) -> in
    ]
    return pl.LazyFrame(rows, schema=["customer_id", "rfm_segment", "value_tier", "engagement_segment"], orient="row")


def orders() -> pl.LazyFrame:
    rows = [
        ("c_b", date(2026, 8, 20), True),
        ("c_g", date(2026, 8, 1), True),    # outside (Aug 2, Aug 31]: still "no order in 30 days"
        ("c_h", date(2026, 8, 15), True),   # webinar Aug 10, bought Aug 15 -> converted
        ("c_i", date(2026, 8, 5), True),    # bought before the webinar of Aug 10 -> not converted
        ("c_j", date(2026, 8, 25), False),  # a failed payment is no conversion
        ("c_a", date(2026, 9, 1), True),    # after as-of: not read
    ]
    return pl.LazyFrame(rows, schema=["customer_id", "order_date", "is_revenue"], orient="row")


def touches() -> pl.LazyFrame:
    def ts(day: int) -> datetime:
        return datetime(2026, 8, day, 12, tzinfo=UTC)
    rows = [
        ("c_h", ts(10), "webinar"),
        ("c_i", ts(10), "webinar"),
        ("c_j", ts(12), "webinar"),
        ("c_k", datetime(2026, 5, 1, tzinfo=UTC), "webinar"),  # more than 90 days before as-of
        ("c_a", ts(20), "click"),
    ]
    return pl.LazyFrame(rows, schema=["customer_id", "ts", "touch_type"], orient="row")


def test_audience_rules() -> None:
    got = build_audience_candidates(segments(), touches(), orders(), AS_OF).collect()
    expected = pl.DataFrame(
        [("at_risk_high_value", "c_c"), ("at_risk_high_value", "c_e"), ("champions_lookalike_seed", "c_f"),
         ("engaged_no_order_30d", "c_a"), ("engaged_no_order_30d", "c_g"),
         ("webinar_not_converted", "c_i"), ("webinar_not_converted", "c_j")],
        schema=["audience", "customer_id"], orient="row",
    )
    assert_frame_equal(got, expected)


def contacts() -> pl.LazyFrame:
    created = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        # customer, contact, email hash, google phone, meta phone, consent, objected
        ("c_1", "1", "e1", "g1", "m1", True, False),      # member
        ("c_2", "2", "e2", None, None, True, True),       # objected: out, whatever the consent
        ("c_3", "3", "e3", None, None, None, None),       # consent unknown: out
        ("c_4", "4", "e4", None, None, True, None),       # suppressed: out
        ("c_5", "5", "e5", None, None, True, False),      # forgotten: out
        ("c_6", "6", None, None, None, True, False),      # nothing to match by: out
        ("c_7", "7", None, "g7", "m7", True, False),      # phone only: member
        ("c_8", "8a", "e8", None, None, True, False),     # two contacts, one without consent: out
        ("c_8", "8b", "e8", None, None, False, False),
    ]
    frame = pl.LazyFrame(rows, schema={"customer_id": pl.Utf8, "contact_id": pl.Utf8, "email_sha256": pl.Utf8,
                                       "phone_sha256": pl.Utf8, "phone_sha256_meta": pl.Utf8,
                                       "consent_marketing": pl.Boolean, "objected_marketing": pl.Boolean},
                         orient="row")
    return frame.with_columns(pl.lit(created).alias("created_at"), pl.lit("hubspot").alias("source_system"))


def members() -> pl.DataFrame:
    candidates = pl.LazyFrame({"audience": ["champions_lookalike_seed"] * 9,
                               "customer_id": [f"c_{i}" for i in range(1, 10)]})  # c_9 has no contact
    suppressed = pl.LazyFrame({"email_sha256": ["e4"]})
    forgotten = pl.LazyFrame({"customer_id": ["c_5"], "email_sha256": ["e5"]})
    return build_audience_members(candidates, contacts(), suppressed, forgotten).collect()


def test_consent_objection_suppression_and_erasure_exclude() -> None:
    got = members().select("customer_id", "excluded")
    assert got.rows() == [("c_1", None), ("c_2", "objected"), ("c_3", "no_consent"), ("c_4", "suppressed"),
                          ("c_5", "forgotten"), ("c_6", "no_identifier"), ("c_7", None), ("c_8", "no_consent"),
                          ("c_9", "no_consent")]


def test_platform_files_use_each_platform_headers_and_phone_hash() -> None:
    google = platform_file(members(), "champions_lookalike_seed", "google_ads")
    meta = platform_file(members(), "champions_lookalike_seed", "meta_ads")
    assert google.columns == ["Email", "Phone"] and meta.columns == ["email", "phone"]
    assert google.rows() == [("e1", "g1"), (None, "g7")]
    assert meta.rows() == [("e1", "m1"), (None, "m7")]


def test_sizes_count_members_and_flag_small_audiences() -> None:
    sizes = build_audience_sizes(members(), AS_OF).filter(pl.col("audience") == "champions_lookalike_seed")
    assert sizes.select("platform", "candidates", "excluded_forgotten", "excluded_objected", "excluded_suppressed",
                        "excluded_no_consent", "excluded_no_identifier", "members", "minimum_members",
                        "below_minimum").rows() == [
        ("google_ads", 9, 1, 1, 1, 3, 1, 2, 100, True),
        ("meta_ads", 9, 1, 1, 1, 3, 1, 2, 100, True),
    ]
