"""The generic CRM CSV and the shared CRM vocabulary."""

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.entities import CONTACT
from pipeline.ingest.read import RawTable, read_table
from pipeline.sources import formats_for
from pipeline.sources.base import ParseContext, parse_table
from pipeline.sources.generic_crm import country_code_expr, international_phones, language_code_expr, map_labels
from pipeline.sources.hubspot import HUBSPOT_DEAL_STAGES, HUBSPOT_LIFECYCLE_STAGES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RUN_DATE = date(2026, 11, 1)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _read(source: str, name: str) -> RawTable:
    formats = formats_for(source)
    return read_table(FIXTURES / source / name, formats, furniture=[p for f in formats for p in f.furniture_patterns])


def _parse(source: str, name: str) -> pl.DataFrame:
    table = _read(source, name)
    assert table.format_name.startswith("generic_")
    fmt = next(f for f in formats_for(source) if f.name == table.format_name)
    return parse_table(table, fmt, ParseContext(source, RUN_DATE, name, "0" * 64))


def test_contacts_values():
    parsed = _parse("crm_contacts", "generic_contacts.csv")
    columns = ["contact_id", "source_system", "customer_id", "email_sha256", "phone_sha256", "created_at",
               "lifecycle_stage", "gender", "postcode", "country_code", "language", "values_orientation",
               "satisfaction_score", "employees", "consent_marketing", "objected_marketing"]
    aino, mikko = _sha("aino.virtanen@example.fi"), _sha("mikko@nordiclogistics.fi")
    expected = pl.DataFrame(
        {
            "contact_id": ["C-0001", "C-0002", "C-0003"],
            "source_system": ["generic"] * 3,
            # no email: c_ + sha256("key:generic:C-0003")[:16]
            "customer_id": ["c_" + aino[:16], "c_" + mikko[:16], "c_" + _sha("key:generic:C-0003")[:16]],
            "email_sha256": [aino, mikko, None],
            "phone_sha256": [_sha("+358401234567"), None, None],
            # 12:05Z; 14:05+02:00 = 12:05Z; a timestamp without zone is UTC
            "created_at": [datetime(2026, 11, 1, 12, 5, tzinfo=UTC)] * 3,
            "lifecycle_stage": ["lead", "sql", "mql"],  # 'Marketing Qualified Lead' accepted too
            "gender": ["female", "male", None],
            "postcode": ["00100", None, None],
            "country_code": ["FI", "FI", None],  # 'fi' -> FI
            "language": ["fi", "fi", None],      # 'FI' -> fi
            "values_orientation": ["quality", None, None],
            "satisfaction_score": [8.5, None, None],
            "employees": [None, 120, None],
            "consent_marketing": [True, False, None],
            "objected_marketing": [False, True, None],
        },
        schema={c: CONTACT[c] for c in columns},
    )
    assert_frame_equal(parsed.head(3).select(columns), expected)
    # ISO numbers have no group separators; an unknown lifecycle stage is quarantined
    assert parsed["_errors"].to_list() == [
        [], [], [], ["parse:employees: cannot read 1,200 as int", "map:lifecycle_stage: unknown value 'prospect'"],
    ]


def test_prehashed_contacts_and_own_source_system():
    parsed = _parse("crm_contacts", "generic_contacts_hashed.csv")
    aino = _sha("aino.virtanen@example.fi")
    assert parsed.select("contact_id", "source_system", "email_sha256", "customer_id").rows() == [
        ("P-1", "pipedrive", aino, "c_" + aino[:16]),  # the upper-case digest is lower-cased
        ("P-2", "pipedrive", None, "c_" + _sha("key:pipedrive:P-2")[:16]),
        ("P-3", "pipedrive", None, "c_" + _sha("key:pipedrive:P-3")[:16]),
    ]
    assert parsed["_errors"].to_list() == [[], [], ["parse:email_sha256: not a SHA-256 hex digest"]]
    assert "not-a-hash" not in parsed["_raw"][2]  # the given hash column is masked like an email


def test_deals_values():
    parsed = _parse("crm_deals", "generic_deals.csv")
    assert parsed.select("deal_id", "customer_id", "pipeline", "stage", "is_closed", "is_won", "amount",
                         "currency_code", "created_date", "close_date").rows() == [
        ("D-1", "c_" + _sha("aino.virtanen@example.fi")[:16], "web", "closed_won", True, True,
         Decimal("2450.0000"), "EUR", date(2026, 10, 1), date(2026, 11, 1)),
        # empty pipeline -> default; 'Contract Sent' label accepted; 'eur' -> EUR
        ("D-2", None, "default", "contract", False, False, Decimal("48000.0000"), "EUR", date(2026, 10, 1), None),
        ("D-3", None, "default", None, None, None, None, "EUR", date(2026, 10, 1), None),
    ]
    assert parsed["_errors"].to_list() == [
        [], [], ["parse:amount: cannot read 1,000 as decimal", "map:stage: unknown value 'negotiation'"],
    ]


@pytest.mark.parametrize(
    ("label", "stage"),
    [
        ("Closed won", "closed_won"), ("closedwon", "closed_won"), ("closed won", "closed_won"),
        ("CLOSED_WON", "closed_won"), ("Suljettu - voitettu", "closed_won"), ("Suljettu – voitettu", "closed_won"),
        ("Suljettu - hävitty", "closed_lost"), (" Decision maker bought-in ", "decision"),
        ("decisionmakerboughtin", "decision"), ("Contract sent", "contract"), ("Qualified to buy", "qualified"),
        ("Appointment scheduled", "appointment"), ("Presentation scheduled", "presentation"),
    ],
)
def test_deal_stage_labels(label, stage):
    frame = pl.DataFrame({"stage": [label], "_errors": [[]]}, schema={"stage": pl.Utf8, "_errors": pl.List(pl.Utf8)})
    mapped = map_labels(frame, "stage", HUBSPOT_DEAL_STAGES)
    assert mapped.row(0) == (stage, [])


def test_unmapped_label_is_quarantined_without_echoing_an_email():
    frame = pl.DataFrame({"lifecycle_stage": ["Marketing Qualified Lead", "12345678", "x@example.fi", None],
                          "_errors": [[], [], [], []]},
                         schema={"lifecycle_stage": pl.Utf8, "_errors": pl.List(pl.Utf8)})
    mapped = map_labels(frame, "lifecycle_stage", HUBSPOT_LIFECYCLE_STAGES)
    assert mapped.rows() == [
        ("mql", []),
        (None, ["map:lifecycle_stage: unknown value '12345678'"]),  # a numeric stage id
        (None, ["map:lifecycle_stage: unknown value '(masked)'"]),
        (None, []),
    ]


def test_country_and_language_codes():
    frame = pl.DataFrame({"v": ["Finland", "suomi", "se", "Sverige", "USA", "UK", "Deutschland", "Atlantis", "EU"]})
    assert frame.select(country_code_expr(pl.col("v")))["v"].to_list() == [
        "FI", "FI", "SE", "SE", "US", "GB", "DE", None, None]
    frame = pl.DataFrame({"v": ["fi", "FI-fi", "en_US", "Swedish", "ruotsi", "xx", "Klingon"]})
    assert frame.select(language_code_expr(pl.col("v")))["v"].to_list() == ["fi", "fi", "en", "sv", "sv", None, None]


@pytest.mark.parametrize(
    ("phone", "country", "e164"),
    [
        ("040 123 4567", "Finland", "+358401234567"),
        ("+358 (0)40-123 4567", "Finland", "+358401234567"),
        ("00358401234567", "Sweden", "+358401234567"),   # the international prefix wins over the country
        ("040 123 4567", None, "+358401234567"),          # no country: FI
        ("070-123 45 67", "SE", "+46701234567"),
        ("+1 212 555 0147", "Finland", "+12125550147"),   # written internationally: the country is not used
        ("+358 12 345", "Finland", None),                 # too short
        ("12", "Finland", None),
        ("not a phone", "Finland", None),
    ],
)
def test_international_phones(phone, country, e164):
    rows = pl.DataFrame({"row_number": [1], "Phone": [phone], "Country": [country]},
                        schema={"row_number": pl.Int64, "Phone": pl.Utf8, "Country": pl.Utf8})
    table = RawTable(path="x.csv", format_name="x", header=["Phone", "Country"], rows=rows, metadata_lines=[],
                     furniture=rows.clear(), encoding="utf-8", encoding_fallback=False, delimiter=",")
    assert international_phones(table, ("Phone",), ("Country",)).rows["Phone"][0] == e164
