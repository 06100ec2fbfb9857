"""Stripe payments export: both header sets, test-mode and failed rows, refunds from the amounts."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl

from pipeline.identity import customer_id_from_email_hash
from pipeline.ingest.read import RawTable, read_table
from pipeline.sources import formats_for
from pipeline.sources.base import ParseContext, parse_table

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "orders"
TEST_MODE = "test_mode:mode: Stripe test-mode row in a live export"


def parse(path: Path) -> tuple[RawTable, pl.DataFrame]:
    formats = formats_for("orders")
    table = read_table(path, formats, furniture=[p for f in formats for p in f.furniture_patterns])
    fmt = next(f for f in formats if f.name == table.format_name)
    return table, parse_table(table, fmt, ParseContext("orders", date(2026, 11, 1), path.name, "0" * 64))


def test_old_header_set():
    table, parsed = parse(FIXTURES / "stripe_unified_payments_old.csv")
    assert table.format_name == "stripe_payments"
    assert parsed.select("order_id", "status", "gross", "refunds", "net_revenue", "currency_code").rows() == [
        ("ch_3Q8xYz2eZvKYlo2C0a1b2c3d", "paid", Decimal("1080.0000"), Decimal("0.0000"), Decimal("1080.0000"), "EUR"),
        # 400.00 - 200.00 refunded = 200.00, 0 < refunded < amount
        ("ch_3Q8xYz2eZvKYlo2C0e5f6g7h", "partially_refunded", Decimal("400.0000"), Decimal("200.0000"),
         Decimal("200.0000"), "EUR"),
        # refunded == amount: 300.00 - 300.00 = 0
        ("ch_3Q8xYz2eZvKYlo2C0i9j0k1l", "refunded", Decimal("300.0000"), Decimal("300.0000"), Decimal("0.0000"),
         "EUR"),
        ("ch_3Q8xYz2eZvKYlo2C0m2n3o4p", "failed", Decimal("950.0000"), Decimal("0.0000"), Decimal("950.0000"), "EUR"),
        # Status "Uncaptured" with Captured=false moved no money either
        ("ch_3Q8xYz2eZvKYlo2C0q5r6s7t", "failed", Decimal("300.0000"), Decimal("0.0000"), Decimal("300.0000"), "EUR"),
        ("ch_3Q8xYz2eZvKYlo2C0u8v9w0x", "paid", Decimal("1200.0000"), Decimal("0.0000"), Decimal("1200.0000"), "EUR"),
        ("ch_3Q8xYz2eZvKYlo2C0y1z2a3b", "paid", Decimal("4990.0000"), Decimal("0.0000"), Decimal("4990.0000"), "SEK"),
    ]
    assert parsed["_errors"].to_list() == [[], [], [], [], [], [TEST_MODE], []]
    assert parsed["discounts"].to_list() == [Decimal("0.0000")] * 7
    assert parsed["product_category"].to_list() == ["jewellery", "travel", "services", "watches", "watches",
                                                    "jewellery", None]


def test_days_are_utc():
    _, parsed = parse(FIXTURES / "stripe_unified_payments_old.csv")
    last = parsed.row(6, named=True)
    # 23:30 UTC is already 2 November in Helsinki; Stripe has no local column, so the day is the UTC day
    assert last["ordered_at"] == datetime(2026, 11, 1, 23, 30, tzinfo=UTC)
    assert last["order_date"] == date(2026, 11, 1)


def test_customer_id_from_email_else_stripe_customer():
    _, parsed = parse(FIXTURES / "stripe_unified_payments_old.csv")
    email_hash = hashlib.sha256(b"liisa.makela@example.fi").hexdigest()
    assert parsed["customer_id"][0] == customer_id_from_email_hash(email_hash)
    # no email: c_ + sha256("key:stripe:cus_QerikBE345")[:16]
    assert parsed["customer_id"][6] == "c_" + hashlib.sha256(b"key:stripe:cus_QerikBE345").hexdigest()[:16]
    raw = parsed["_raw"][0]
    assert "liisa" not in raw.lower() and "Mäkelä" not in raw           # email and Customer Description masked


def test_new_header_set():
    table, parsed = parse(FIXTURES / "stripe_unified_payments_new.csv")
    assert table.format_name == "stripe_payments" and table.header[1] == "Created date (UTC)"
    assert parsed["order_id"].to_list()[0] == "ch_3R1aBc2eZvKYlo2C1a1a1a1a"
    assert parsed["ordered_at"][0] == datetime(2026, 11, 1, 10, 22, 5, tzinfo=UTC)
    assert parsed["status"].to_list() == ["paid", "failed", "paid", "partially_refunded", "failed", None]
    # 2500.00 - 500.00 refunded = 2000.00
    assert parsed["net_revenue"][3] == Decimal("2000.0000")
    assert parsed["_errors"].to_list() == [
        [], [], [TEST_MODE], [], [], ["map:status: unknown Stripe Status 'Disputed'"]]
    # "Mikko@Example.com " is trimmed and lower-cased before hashing
    assert parsed["email_sha256"][0] == hashlib.sha256(b"mikko@example.com").hexdigest()
    assert parsed["currency_code"].to_list() == ["EUR"] * 6


def test_impossible_refunds_are_quarantined(tmp_path):
    path = tmp_path / "unified_payments.csv"
    path.write_bytes(b"id,Created date (UTC),Amount,Amount Refunded,Currency,Captured,Status,Mode\n"
                     b"ch_1,2026-11-01 10:00:00,100.00,150.00,eur,true,Refunded,Live\n"
                     b"ch_2,2026-11-01 10:00:00,100.00,0.00,eur,true,Refunded,Live\n"
                     b"ch_3,2026-11-01 10:00:00,100.00,,eur,true,requires_action,Live\n")
    _, parsed = parse(path)
    assert parsed["_errors"].to_list() == [["check:refunds: Amount Refunded exceeds Amount"],
                                           ["check:refunds: Status Refunded but Amount Refunded is 0"], []]
    assert parsed["status"][2] == "pending"
    assert parsed["refunds"][2] == Decimal("0.0000")                # empty Amount Refunded is 0
