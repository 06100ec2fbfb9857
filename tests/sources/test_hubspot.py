"""HubSpot contacts and deals exports on recorded byte fixtures."""

import hashlib
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from pipeline.entities import CONTACT, DEAL
from pipeline.ingest.read import RawTable, decode, read_table
from pipeline.sources import formats_for
from pipeline.sources.base import ParseContext, parse_table
from pipeline.sources.hubspot import HUBSPOT_CONTACTS, HUBSPOT_DEALS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RUN_DATE = date(2026, 11, 1)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _read(source: str, name: str) -> RawTable:
    formats = formats_for(source)
    return read_table(FIXTURES / source / name, formats, furniture=[p for f in formats for p in f.furniture_patterns])


def _parse(source: str, name: str) -> pl.DataFrame:
    table = _read(source, name)
    fmt = next(f for f in formats_for(source) if f.name == table.format_name)
    return parse_table(table, fmt, ParseContext(source, RUN_DATE, name, "0" * 64))


def _assert_no_personal_data(frame: pl.DataFrame, path: Path, extra: tuple[str, ...] = ()) -> None:
    """No email of the file (nor a phone or name given) appears in any reason or masked raw row."""
    text = decode(path.read_bytes(), path.name).text
    secrets = {e.lower() for e in re.findall(r"[\w.+-]+@[\w.-]+\.\w+", text)} | {s.lower() for s in extra}
    assert secrets
    cells = frame["_errors"].explode().drop_nulls().to_list() + frame["_raw"].to_list()
    for cell in cells:
        for secret in secrets:
            assert secret not in cell.lower(), (secret, cell)


AINO = _sha("aino.virtanen@example.fi")
MIKKO = _sha("mikko.korhonen@nordiclogistics.example")  # trimmed and lower-cased before hashing
BO = _sha("bo.berg@example.se")
VILLE = _sha("ville.vaara@example.fi")
CONTACT_COLUMNS = ["contact_id", "source_system", "customer_id", "email_sha256", "phone_sha256", "created_at",
                   "lifecycle_stage", "original_source", "birth_year", "gender", "postcode", "country_code",
                   "language", "values_orientation", "brand_loyalty", "purchase_motive", "satisfaction_score",
                   "company", "employees", "consent_marketing", "objected_marketing"]


def test_contacts_values():
    parsed = _parse("crm_contacts", "hubspot_contacts_utf8.csv")
    good = parsed.filter(pl.col("_errors").list.len() == 0)
    expected = pl.DataFrame(
        {
            "contact_id": ["51234567", "51234568", "51234569", "51234571", "51234572"],
            "source_system": ["hubspot"] * 5,
            # email -> c_ + first 16 hex of its hash; no email -> c_ + sha256("key:hubspot:<Record ID>")[:16]
            "customer_id": ["c_" + AINO[:16], "c_" + MIKKO[:16], "c_" + BO[:16], "c_" + VILLE[:16],
                            "c_" + _sha("key:hubspot:51234572")[:16]],
            "email_sha256": [AINO, MIKKO, BO, VILLE, None],
            # 040 123 4567 (FI) -> +358401234567; +358 (0)50 765 4321 -> +358507654321;
            # 070-123 45 67 of a contact in Sweden -> +46701234567; '12' is not valid -> NULL
            "phone_sha256": [_sha("+358401234567"), _sha("+358507654321"), _sha("+46701234567"), None, None],
            # Helsinki local -> UTC: 14:05 EET (+2) = 12:05; 09:30 EEST (+3) = 06:30;
            # 2026-10-25 03:30 is in the DST fold: the earlier instant, EEST, = 00:30; 13:00 EET = 11:00;
            # 08:00 EET = 06:00
            "created_at": [datetime(2026, 11, 1, 12, 5, tzinfo=UTC), datetime(2026, 7, 15, 6, 30, tzinfo=UTC),
                           datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 11, 1, 11, 0, tzinfo=UTC),
                           datetime(2026, 11, 1, 6, 0, tzinfo=UTC)],
            "lifecycle_stage": ["lead", "mql", "customer", "lead", "opportunity"],  # Lead, marketingqualifiedlead..
            "original_source": ["Paid Search", "Organic Search", "Paid Social", "Direct Traffic",
                                "Offline Sources"],  # ORGANIC_SEARCH -> Organic Search
            "birth_year": [1984, 1979, 1990, None, 1962],
            "gender": ["female", "male", "other", None, None],
            "postcode": ["00100", "02100", "111 20", None, "10115"],  # leading zeros kept
            "country_code": ["FI", "FI", "SE", "FI", "DE"],  # Finland, Suomi, Sweden, FI, Germany
            "language": ["fi", "fi", "sv", None, "de"],  # fi, Finnish, sv-SE, -, Deutsch
            "values_orientation": ["quality", "innovation", "price", None, None],  # '--' is NULL
            "brand_loyalty": ["high", "medium", "low", None, None],
            "purchase_motive": ["status", "performance", "value", None, None],
            "satisfaction_score": [8.5, 7.0, None, None, None],
            "company": [None, "Nordic Logistics Oy", None, None, '=HYPERLINK("http://x","y")'],  # stored as text
            "employees": [None, 1250, None, None, None],  # "1,250"
            "consent_marketing": [True, False, True, None, None],
            "objected_marketing": [False, False, True, False, False],
        },
        schema={c: CONTACT[c] for c in CONTACT_COLUMNS},
    )
    assert_frame_equal(good.select(CONTACT_COLUMNS), expected)


def test_contacts_quarantine_reasons():
    parsed = _parse("crm_contacts", "hubspot_contacts_utf8.csv")
    assert parsed["_errors"].to_list() == [
        [], [], [],
        ["required:contact_id: value is missing"],
        ["map:lifecycle_stage: unknown value 'Partner'"],
        ["parse:contact_id: cannot read 5.12346E+07 as id"],  # Excel turned the id into 5.12346E+07
        [],  # phone '12' is not a number: its hash is NULL, the contact (and its consent flags) loads
        [],
    ]
    assert parsed["phone_sha256"][6] is None


def test_utf8_and_utf16_tab_files_give_equal_frames():
    utf8 = _read("crm_contacts", "hubspot_contacts_utf8.csv")
    utf16 = _read("crm_contacts", "hubspot_contacts_utf16.tsv")
    assert (utf8.encoding, utf8.delimiter) == ("utf-8", ",")
    assert (utf16.encoding, utf16.delimiter) == ("utf-16-le", "\t")
    assert utf16.header == utf8.header
    assert utf8.format_name == utf16.format_name == "hubspot_contacts"
    assert_frame_equal(_parse("crm_contacts", "hubspot_contacts_utf8.csv"),
                       _parse("crm_contacts", "hubspot_contacts_utf16.tsv"))


def test_contacts_keep_no_personal_data_in_reasons_or_raw():
    for name in ("hubspot_contacts_utf8.csv", "hubspot_contacts_utf16.tsv"):
        parsed = _parse("crm_contacts", name)
        _assert_no_personal_data(parsed, FIXTURES / "crm_contacts" / name,
                                 extra=("040 123 4567", "070-123 45 67", "765 4321", "Virtanen", "Korhonen"))
        raw = parsed["_raw"][0]
        assert '"Email":"***"' in raw and '"First Name":"***"' in raw and '"Postal Code":"00100"' in raw


DEAL_COLUMNS = ["deal_id", "source_system", "customer_id", "company", "pipeline", "stage", "is_closed", "is_won",
                "amount", "currency_code", "created_date", "close_date"]


def test_deals_values():
    parsed = _parse("crm_deals", "hubspot_deals.csv")
    assert parsed.height == 10
    good = parsed.filter(pl.col("_errors").list.len() == 0)
    expected = pl.DataFrame(
        {
            "deal_id": ["9876543210", "9876543211", "9876543212", "9876543213", "9876543214", "9876543215"],
            "source_system": ["hubspot"] * 6,
            # Associated Contact: an email, 'Name (email)', or nothing
            "customer_id": ["c_" + _sha("mikko@nordiclogistics.fi")[:16], "c_" + AINO[:16],
                            "c_" + _sha("anna@arcticenergy.example")[:16], None, None,
                            "c_" + _sha("tiina@tapiola.example")[:16]],
            "company": ["Nordic Logistics Oy", None, "Arctic Energy Ab", "Kaleva Foods Oy", "Boreal Media Oy",
                        "Tapiola Capital Oy"],
            # 'Sales Pipeline' and 'default' are the default pipeline
            "pipeline": ["default", "default", "Renewals Pipeline", "default", "default", "default"],
            # Closed won / closedwon / closed won / Suljettu - voitettu / Appointment scheduled / Closed lost
            "stage": ["closed_won", "closed_won", "closed_won", "closed_won", "appointment", "closed_lost"],
            "is_closed": [True, True, True, True, False, True],
            "is_won": [True, True, True, True, False, False],
            # 48000; "3,450.50"; 12000 SEK; "7 500"; empty
            "amount": [Decimal("48000"), Decimal("3450.50"), Decimal("12000"), Decimal("7500"), None,
                       Decimal("25000")],
            "currency_code": ["EUR", "EUR", "SEK", "EUR", None, "EUR"],
            "created_date": [date(2026, 10, 2), date(2026, 10, 20), date(2026, 9, 1), date(2026, 10, 5),
                             date(2026, 11, 1), date(2026, 8, 1)],
            # the local dates as written; 2026-12-15 is a closed-won deal after the run date: kept
            "close_date": [date(2026, 11, 1), date(2026, 12, 15), date(2026, 10, 31), date(2026, 10, 30),
                           date(2026, 12, 31), date(2026, 10, 15)],
        },
        schema={c: DEAL[c] for c in DEAL_COLUMNS},
    )
    assert_frame_equal(good.select(DEAL_COLUMNS), expected)


def test_deals_quarantine_reasons():
    parsed = _parse("crm_deals", "hubspot_deals.csv")
    assert parsed["_errors"].to_list()[6:] == [
        ["map:stage: unknown value 'Renewal signed'"],
        ["required:deal_id: value is missing"],
        ["parse:amount: cannot read 45k as decimal"],
        ["required:currency_code: an amount without a currency"],
    ]


def test_closed_won_deal_closing_after_the_run_date_is_kept():
    parsed = _parse("crm_deals", "hubspot_deals.csv").filter(pl.col("deal_id") == "9876543211")
    assert parsed["close_date"].to_list() == [date(2026, 12, 15)]
    assert parsed["close_date"][0] > RUN_DATE
    assert parsed["_errors"].to_list() == [[]]


def test_curly_quoted_date_entered_header_and_no_pipeline_column():
    table = _read("crm_deals", "hubspot_deals_curly_no_pipeline.csv")
    assert "Date entered \u201cClosed won (Sales Pipeline)\u201d" in table.header
    assert table.column("Pipeline") is None
    parsed = _parse("crm_deals", "hubspot_deals_curly_no_pipeline.csv")
    assert parsed.select("deal_id", "pipeline", "stage", "is_won").rows() == [
        ("9876543220", "default", "closed_won", True),   # 'Closed Won'
        ("9876543221", "default", "qualified", False),   # 'Qualified to buy'
    ]
    assert parsed["_errors"].to_list() == [[], []]


def test_deals_keep_no_email_in_reasons_or_raw():
    for name in ("hubspot_deals.csv", "hubspot_deals_curly_no_pipeline.csv"):
        _assert_no_personal_data(_parse("crm_deals", name), FIXTURES / "crm_deals" / name)


def test_formats_are_recognised_by_header():
    assert _read("crm_contacts", "hubspot_contacts_utf8.csv").format_name == HUBSPOT_CONTACTS.name
    assert _read("crm_deals", "hubspot_deals.csv").format_name == HUBSPOT_DEALS.name
    assert [f.name for f in formats_for("crm_contacts")] == ["hubspot_contacts", "salesforce_contacts",
                                                             "generic_contacts"]
    assert [f.name for f in formats_for("crm_deals")] == ["hubspot_deals", "salesforce_opportunities",
                                                          "generic_deals"]
