"""Marketing touchpoint exports on recorded byte fixtures."""

import hashlib
import re
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.entities import TOUCHPOINT
from pipeline.ingest.read import RawTable, decode, read_table
from pipeline.sources import formats_for
from pipeline.sources.base import ParseContext, parse_table
from pipeline.sources.touchpoints import utm_channel_expr

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "crm_touchpoints"
FORMATS = formats_for("crm_touchpoints")
RUN_DATE = date(2026, 11, 1)
AINO = hashlib.sha256(b"aino.virtanen@example.fi").hexdigest()
MIKKO = hashlib.sha256(b"mikko.korhonen@example.com").hexdigest()


def _read(name: str) -> RawTable:
    return read_table(FIXTURES / name, FORMATS, furniture=[p for f in FORMATS for p in f.furniture_patterns])


def _parse(name: str) -> pl.DataFrame:
    table = _read(name)
    fmt = next(f for f in FORMATS if f.name == table.format_name)
    return parse_table(table, fmt, ParseContext("crm_touchpoints", RUN_DATE, name, "0" * 64))


def test_marketing_events_values():
    assert _read("marketing_events.csv").format_name == "marketing_events"
    parsed = _parse("marketing_events.csv")
    good = parsed.filter(pl.col("_errors").list.len() == 0)
    # no Event ID: sha256 of "<email hash>|<ts UTC, microseconds>|<channel>|<campaign>|<type>"
    synthetic = hashlib.sha256(
        f"{MIKKO}|2026-11-01T10:30:00.000000Z|webinar|webinar_2026_11|webinar".encode()).hexdigest()
    expected = pl.DataFrame(
        {
            "touchpoint_id": ["ev_000001", "ev_000002", synthetic, "ev_000007", "ev_000008"],
            "customer_id": ["c_" + AINO[:16], "c_" + AINO[:16], "c_" + MIKKO[:16], "c_" + MIKKO[:16],
                            "c_" + MIKKO[:16]],
            "email_sha256": [AINO, AINO, MIKKO, MIKKO, MIKKO],  # ' Mikko.Korhonen@Example.com' trimmed, lower
            # Z; 11:00+02:00 = 09:00Z; naive is UTC; fractional seconds kept
            "ts": [datetime(2026, 11, 1, 9, 12, 44, tzinfo=UTC), datetime(2026, 11, 1, 9, 0, tzinfo=UTC),
                   datetime(2026, 11, 1, 10, 30, tzinfo=UTC), datetime(2026, 11, 1, 15, 0, 0, 250000, tzinfo=UTC),
                   datetime(2026, 11, 1, 16, 0, tzinfo=UTC)],
            # an empty Channel is derived from UTM linkedin/cpc; 'Paid Social' -> paid_social
            "channel": ["paid_search", "email", "webinar", "linkedin", "paid_social"],
            "platform": ["google_ads", "hubspot", "hubspot", "linkedin_ads", "meta_ads"],
            "campaign_id": ["20456789012", None, None, "612345678", "120208765432100001"],
            "touch_type": ["click", "email_open", "webinar", "click", "click"],  # 'Click' -> click
            "utm_source": ["google", "newsletter", "hubspot", "linkedin", "facebook"],
            "utm_medium": ["cpc", "email", "webinar", "cpc", "paid_social"],
            "utm_campaign": ["brand", "newsletter_2026_11", "webinar_2026_11", "b2b_decision_makers",
                             "prospecting_lookalike"],
        },
        schema=TOUCHPOINT,
    )
    assert_frame_equal(good.select(list(TOUCHPOINT)), expected)
    assert _parse("marketing_events.csv")["touchpoint_id"][2] == synthetic  # stable across parses


def test_marketing_events_quarantine_reasons():
    parsed = _parse("marketing_events.csv")
    assert parsed["_errors"].to_list() == [
        [], [], [],
        ["required:customer_id: the touch has no contact email"],
        ["map:channel: unknown value 'tiktok'"],
        ["map:touch_type: unknown value 'download'"],
        [], [],
    ]


def test_hubspot_like_events_derive_channel_from_utm():
    assert _read("hubspot_events.csv").format_name == "hubspot_events"
    parsed = _parse("hubspot_events.csv")
    assert parsed.select("ts", "touch_type", "channel", "platform").rows() == [
        (datetime(2026, 11, 1, 9, 12, 44, tzinfo=UTC), "click", "paid_search", "google_ads"),         # google / cpc
        (datetime(2026, 11, 1, 10, 0, tzinfo=UTC), "email_open", "email", "hubspot"),                # naive = UTC
        (datetime(2026, 11, 1, 7, 0, tzinfo=UTC), "visit", "direct", "website"),    # 08:00+01:00, (direct)/(none)
        (datetime(2026, 11, 1, 8, 5, tzinfo=UTC), "click", "paid_social", "meta_ads"),               # Facebook
        (datetime(2026, 11, 1, 8, 6, tzinfo=UTC), "impression", "display_retargeting", "adroll"),
        (datetime(2026, 11, 1, 8, 7, tzinfo=UTC), "visit", "organic_search", "website"),             # google/organic
        (datetime(2026, 11, 1, 8, 8, tzinfo=UTC), "visit", "referral", "website"),
        (datetime(2026, 11, 1, 8, 9, tzinfo=UTC), "click", "linkedin", "linkedin_ads"),
        (datetime(2026, 11, 1, 8, 10, tzinfo=UTC), "click", None, None),                             # duckduckgo/cpc
        (datetime(2026, 11, 1, 8, 11, tzinfo=UTC), "visit", "direct", "website"),
    ]
    assert parsed["utm_campaign"].to_list()[:2] == ["brand", "newsletter_2026_11"]
    assert parsed["touchpoint_id"].str.contains(r"^[0-9a-f]{64}$").all()
    assert parsed["touchpoint_id"].n_unique() == parsed.height
    assert parsed["_errors"].to_list() == [
        [], [], [], [], [], [], [], [],
        ["map:channel: no channel for utm_source 'duckduckgo' and utm_medium 'cpc'"],
        ["required:customer_id: the touch has no contact email"],
    ]


@pytest.mark.parametrize(
    ("source", "medium", "channel"),
    [
        ("google", "cpc", "paid_search"), ("facebook", "referral", "paid_social"), ("instagram", None, "paid_social"),
        ("x", "paid_social", "paid_social"), ("linkedin", "cpc", "linkedin"), ("adroll", "cpc", "display_retargeting"),
        ("criteo", "display", "display_retargeting"), ("newsletter", "email", "email"),
        ("hubspot", "webinar", "webinar"), ("bing", "organic", "organic_search"), ("blog", "referral", "referral"),
        ("(direct)", "(none)", "direct"), (None, None, "direct"), ("google", "banner", None),
    ],
)
def test_utm_channel_rules(source, medium, channel):
    frame = pl.DataFrame({"s": [source], "m": [medium]}, schema={"s": pl.Utf8, "m": pl.Utf8})
    assert frame.select(utm_channel_expr(pl.col("s"), pl.col("m")).alias("c"))["c"][0] == channel


def test_no_email_in_reasons_or_raw():
    for name in ("marketing_events.csv", "hubspot_events.csv"):
        parsed = _parse(name)
        text = decode((FIXTURES / name).read_bytes(), name).text
        emails = {e.lower() for e in re.findall(r"[\w.+-]+@[\w.-]+\.\w+", text)}
        assert emails
        for cell in parsed["_errors"].explode().drop_nulls().to_list() + parsed["_raw"].to_list():
            assert not any(e in cell.lower() for e in emails), cell


def test_timestamps_rewritten_by_a_finnish_excel_are_read_as_utc(tmp_path):
    # Saved again by Excel under fi-FI: ';' and '2026-11-02 08:00:00' shown (and written) as '2.11.2026 8.00'.
    path = tmp_path / "marketing_events.csv"
    path.write_bytes(b"sep=;\r\nEvent ID;Contact Email;Timestamp (UTC);Event Type;Channel\r\n"
                     b"e1;a@b.fi;2.11.2026 8.00;click;email\r\ne2;a@b.fi;1.11.2026 23.59.30;click;email\r\n"
                     b"e3;a@b.fi;02.11.2026 08:00;click;email\r\ne4;a@b.fi;2.11.2026 8,00;click;email\r\n")
    table = read_table(path, FORMATS)
    parsed = parse_table(table, next(f for f in FORMATS if f.name == table.format_name),
                         ParseContext("crm_touchpoints", RUN_DATE, path.name, "0" * 64))
    assert parsed["ts"].to_list() == [datetime(2026, 11, 2, 8, 0, tzinfo=UTC), datetime(2026, 11, 1, 23, 59, 30, tzinfo=UTC),
                                      datetime(2026, 11, 2, 8, 0, tzinfo=UTC), None]
    assert parsed["_errors"][3].to_list() == ["parse:ts: cannot read 2.11.2026 8,00 as datetime"]
