"""Salesforce report exports (details only) on recorded byte fixtures."""

import hashlib
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.entities import CONTACT, DEAL
from pipeline.errors import InputFileError
from pipeline.ingest.read import RawTable, decode, read_table
from pipeline.sources import formats_for
from pipeline.sources.base import ParseContext, parse_table
from pipeline.sources.salesforce import grand_total_records

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RUN_DATE = date(2026, 11, 1)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _read(source: str, name: str) -> RawTable:
    formats = formats_for(source)
    return read_table(FIXTURES / source / name, formats, furniture=[p for f in formats for p in f.furniture_patterns])


def _parse_table(source: str, table: RawTable) -> pl.DataFrame:
    fmt = next(f for f in formats_for(source) if f.name == table.format_name)
    return parse_table(table, fmt, ParseContext(source, RUN_DATE, table.path, "0" * 64))


def _parse(source: str, name: str) -> pl.DataFrame:
    return _parse_table(source, _read(source, name))


def _assert_no_personal_data(frame: pl.DataFrame, path: Path, extra: tuple[str, ...] = ()) -> None:
    text = decode(path.read_bytes(), path.name).text
    secrets = {e.lower() for e in re.findall(r"[\w.+-]+@[\w.-]+\.\w+", text)} | {s.lower() for s in extra}
    assert secrets
    for cell in frame["_errors"].explode().drop_nulls().to_list() + frame["_raw"].to_list():
        for secret in secrets:
            assert secret not in cell.lower(), (secret, cell)


@pytest.mark.parametrize(
    ("source", "name", "rows"),
    [
        ("crm_contacts", "salesforce_leads.csv", 5),
        ("crm_contacts", "salesforce_contacts.csv", 2),
        ("crm_deals", "salesforce_opportunities.csv", 8),
        ("crm_deals", "salesforce_opportunities_multicurrency.csv", 3),
    ],
)
def test_footer_is_furniture_and_grand_total_equals_data_rows(source, name, rows):
    table = _read(source, name)
    assert table.rows.height == rows
    first_cells = [next(c for c in row if c) for row in table.furniture.drop("row_number").iter_rows()]
    assert first_cells[0] == f"Grand Totals ({rows} records)"
    assert first_cells[1] == "Confidential Information - Do Not Distribute"
    assert re.fullmatch(r"Copyright (\(c\)|©) 2000-202[56] salesforce\.com, inc\. All rights reserved\.",
                        first_cells[2])
    assert grand_total_records(table.furniture) == table.rows.height


def test_leads_values():
    table = _read("crm_contacts", "salesforce_leads.csv")
    assert table.format_name == "salesforce_contacts"
    assert table.rows["Street"][0] == "Mannerheimintie 1\nA 5"  # LF inside a quoted address, one row
    parsed = _parse_table("crm_contacts", table)
    columns = ["contact_id", "source_system", "customer_id", "email_sha256", "phone_sha256", "created_at",
               "lifecycle_stage", "original_source", "company", "industry", "employees", "country_code"]
    aino, pekka, sam = (_sha("aino.virtanen@example.fi"), _sha("pekka.korhonen@example.fi"),
                        _sha("sam.smith@example.com"))
    expected = pl.DataFrame(
        {
            "contact_id": ["00Q5g00000AbCdE", "00Q5g00000AbCdF", "00Q5g00000AbCdG"],
            "source_system": ["salesforce"] * 3,
            "customer_id": ["c_" + aino[:16], "c_" + pekka[:16], "c_" + sam[:16]],
            "email_sha256": [aino, pekka, sam],  # PEKKA.KORHONEN@EXAMPLE.FI lower-cased first
            "phone_sha256": [_sha("+358401234567"), None, None],
            # user time zone Helsinki: 3/5/2026 2:15 PM EET (+2) = 12:15 UTC; '3/4/2025, 10:22 AM' = 08:22 UTC;
            # 12/31/2026 11:59 PM = 21:59 UTC
            "created_at": [datetime(2026, 3, 5, 12, 15, tzinfo=UTC), datetime(2025, 3, 4, 8, 22, tzinfo=UTC),
                           datetime(2026, 12, 31, 21, 59, tzinfo=UTC)],
            # Open - Not Contacted, Qualified, Closed - Converted
            "lifecycle_stage": ["lead", "sql", "opportunity"],
            "original_source": ["Web", "Trade Show", "Partner Referral"],
            "company": [None, "Korhonen Consulting Oy", "Acme Inc."],
            "industry": [None, "Management Consulting", None],
            "employees": [None, 1200, None],  # "1,200" under en-US is a thousand two hundred
            "country_code": ["FI", "FI", "US"],
        },
        schema={c: CONTACT[c] for c in columns},
    )
    assert_frame_equal(parsed.head(3).select(columns), expected)
    assert parsed["_errors"].to_list() == [
        [], [], [],
        ["map:lifecycle_stage: unknown value 'Recycled'"],
        ["required:contact_id: value is missing"],
    ]


def test_contact_report_dates_opt_out_and_swedish_phone():
    table = _read("crm_contacts", "salesforce_contacts.csv")
    assert table.encoding == "utf-8-sig"
    assert table.header[0] == "Contact ID"  # no BOM in the first header
    parsed = _parse_table("crm_contacts", table)
    columns = ["contact_id", "created_at", "lifecycle_stage", "country_code", "objected_marketing"]
    assert parsed.select(columns).rows() == [
        # a date only is the local midnight: 2026-03-05 00:00 EET = 2026-03-04 22:00 UTC
        ("0035g00000QrStU", datetime(2026, 3, 4, 22, 0, tzinfo=UTC), None, "SE", True),
        ("0035g00000QrStV", datetime(2026, 3, 5, 10, 0, tzinfo=UTC), None, "FI", False),  # ...Z is UTC
    ]
    assert parsed["phone_sha256"][0] == _sha("+46701234567")  # 070-123 45 67 in Sweden
    assert parsed["_errors"].to_list() == [[], []]


OPP_COLUMNS = ["deal_id", "source_system", "customer_id", "company", "deal_name", "pipeline", "stage", "is_closed",
               "is_won", "amount", "currency_code", "created_date", "close_date", "owner"]


def test_opportunities_values():
    parsed = _parse("crm_deals", "salesforce_opportunities.csv")
    expected = pl.DataFrame(
        {
            "deal_id": ["0065g00000XyZaA", "0065g00000XyZaB", "0065g00000XyZaC"],
            "source_system": ["salesforce"] * 3,
            "customer_id": ["c_" + _sha("mikko@nordiclogistics.fi")[:16], None,
                            "c_" + _sha("sam.smith@example.com")[:16]],
            "company": ["Nordic Logistics Oy", "Arctic Energy Oy", "Acme Inc."],
            "deal_name": ["Nordic Logistics - Fleet", "Arctic Energy - Gifts", "Acme - Watches"],
            "pipeline": ["default"] * 3,
            # Closed Won, Proposal/Price Quote, Negotiation/Review
            "stage": ["closed_won", "decision", "contract"],
            "is_closed": [True, False, False],
            "is_won": [True, False, False],
            # 'EUR 45,000.00', '€12,500', '$8,000.50': the currency comes from the cell
            "amount": [Decimal("45000"), Decimal("12500"), Decimal("8000.50")],
            "currency_code": ["EUR", "EUR", "USD"],
            # 2/1/2026; '3/5/2026 2:15 PM' and '3/5/2026 11:30 PM' are still March 5 in Helsinki
            "created_date": [date(2026, 2, 1), date(2026, 3, 5), date(2026, 3, 5)],
            "close_date": [date(2026, 3, 5), date(2026, 6, 30), date(2026, 12, 1)],  # month first
            "owner": ["Maria Saarinen", "Anna Berg", "Jussi Lehtonen"],
        },
        schema={c: DEAL[c] for c in OPP_COLUMNS},
    )
    assert_frame_equal(parsed.head(3).select(OPP_COLUMNS), expected)


def test_opportunities_quarantine_reasons():
    parsed = _parse("crm_deals", "salesforce_opportunities.csv")
    assert parsed["_errors"].to_list() == [
        [], [], [],
        ["required:deal_id: value is missing"],
        ["parse:amount: cannot read EUR 45k as decimal"],  # shorthand is not allowed
        ["map:stage: unknown value 'Disqualified'"],
        ["parse:amount: decimal comma in an en-US report export"],  # '45 000,00 €' is never 4,500,000
        ["parse:created_date: year before 1900 (a two-digit year?)"],  # '3/5/26'
    ]
    assert parsed["amount"][6] is None
    assert parsed["stage"][7] == "appointment"  # Prospecting


def test_multicurrency_report_uses_amount_currency_and_quarantines_a_conflict():
    parsed = _parse("crm_deals", "salesforce_opportunities_multicurrency.csv")
    assert parsed.select("deal_id", "amount", "currency_code", "stage").rows() == [
        ("0065g00000MuLtA", Decimal("10000.0000"), "USD", "closed_won"),    # Amount (converted) is ignored
        ("0065g00000MuLtB", Decimal("50000.0000"), "SEK", "presentation"),  # Value Proposition
        ("0065g00000MuLtC", Decimal("5000.0000"), "USD", "presentation"),   # Id. Decision Makers
    ]
    assert parsed["_errors"].to_list() == [
        [], [], ["conflict:currency_code: the amount is in EUR, the currency column says USD"],
    ]


def test_amounts_without_any_currency_fail_the_file():
    with pytest.raises(InputFileError, match="deal amounts carry no currency"):
        _parse("crm_deals", "salesforce_opportunities_no_currency.csv")


def test_report_without_opportunity_id_fails_the_file():
    with pytest.raises(InputFileError, match=r"lacks required column\(s\): deal_id"):
        _parse("crm_deals", "salesforce_opportunities_no_id.csv")


def test_no_personal_data_in_reasons_or_raw():
    for source, name in (("crm_contacts", "salesforce_leads.csv"), ("crm_contacts", "salesforce_contacts.csv"),
                         ("crm_deals", "salesforce_opportunities.csv")):
        _assert_no_personal_data(_parse(source, name), FIXTURES / source / name,
                                 extra=("040 123 4567", "070-123 45 67", "Mannerheimintie"))
