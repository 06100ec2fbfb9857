"""Shopify orders export: one row per line item folded into one order, revenue rules, conflicts."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from pipeline.entities import MONEY, UTC_TS
from pipeline.identity import customer_id_from_email_hash
from pipeline.ingest.read import RawTable, read_table
from pipeline.sources import formats_for
from pipeline.sources.base import ParseContext, parse_table

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "orders"
HEADER = ("Name,Email,Financial Status,Paid at,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,"
          "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Refunded Amount,Billing Name,Id,Tags,"
          "Source\n")


def parse(path: Path) -> tuple[RawTable, pl.DataFrame]:
    formats = formats_for("orders")
    table = read_table(path, formats, furniture=[p for f in formats for p in f.furniture_patterns])
    fmt = next(f for f in formats if f.name == table.format_name)
    return table, parse_table(table, fmt, ParseContext("orders", date(2026, 11, 1), path.name, "0" * 64))


def by_id(parsed: pl.DataFrame, order_id: str) -> dict:
    return parsed.filter(pl.col("order_id") == order_id).row(0, named=True)


def test_line_items_fold_into_one_row_per_order():
    table, parsed = parse(FIXTURES / "shopify_orders_export_1.csv")
    assert table.format_name == "shopify_orders"
    assert table.rows.height == 11                      # line-item rows in the file
    # 7 orders, each on the row number of its first line item
    assert parsed["order_id"].to_list() == ["#1001", "#1002", "#1003", "#1004", "#1005", "#1006", "#1007"]
    assert parsed["row_number"].to_list() == [1, 4, 5, 7, 8, 9, 11]


def test_order_amounts_status_and_days():
    _, parsed = parse(FIXTURES / "shopify_orders_export_1.csv")
    expected = pl.DataFrame(
        {
            "order_id": ["#1001", "#1002", "#1003", "#1004", "#1005", "#1007"],
            # gross = Subtotal + Discount Amount: #1001 2205.00 + 245.00 = 2450.00 (= 1950 + 300 + 2 x 100)
            "gross": ["2450", "1200", "400", "150", "89", "12990"],
            "discounts": ["245", "120", "0", "0", "0", "0"],
            # refunds = Refunded x Subtotal / Total: #1003 251.00 x 400.00 / 502.00 = 200.00;
            # #1004 213.22 x 150.00 / 213.22 = 150.00 (shipping and VAT refunds are not revenue)
            "refunds": ["0", "0", "200", "150", "0", "0"],
            # net = gross - discounts - refunds: 2450 - 245 = 2205; 1200 - 120 = 1080; 400 - 200 = 200; 150 - 150 = 0
            "net_revenue": ["2205", "1080", "200", "0", "89", "12990"],
            "status": ["paid", "paid", "partially_refunded", "refunded", "cancelled", "pending"],
            "currency_code": ["EUR", "EUR", "EUR", "EUR", "EUR", "SEK"],
            "product_category": ["watches", "jewellery", "travel", "jewellery", None, "watches"],
            # tiers on the native gross: 2450 premium, 1200 mid, 400/150/89 entry, 12990 SEK luxury
            "price_tier": ["premium", "mid", "entry", "entry", "entry", "luxury"],
            "ordered_at": [datetime(2026, 10, 31, 22, 30, tzinfo=UTC), datetime(2026, 11, 1, 8, 15, tzinfo=UTC),
                           datetime(2026, 11, 1, 14, 40, tzinfo=UTC), datetime(2026, 11, 1, 16, 0, tzinfo=UTC),
                           datetime(2026, 11, 1, 18, 5, tzinfo=UTC), datetime(2026, 11, 1, 22, 50, tzinfo=UTC)],
            # the shop's local day as written: #1001 00:30 +0200 is still 2026-11-01 although UTC says 31.10.
            "order_date": [date(2026, 11, 1)] * 6,
        }
    ).with_columns(pl.col(c).str.to_decimal(scale=4).cast(MONEY) for c in ("gross", "discounts", "refunds",
                                                                           "net_revenue")
                   ).with_columns(pl.col("ordered_at").cast(UTC_TS))
    got = parsed.filter(pl.col("order_id") != "#1006").select(expected.columns)
    assert_frame_equal(got, expected)
    assert parsed.filter(pl.col("order_id") != "#1006")["_errors"].to_list() == [[]] * 6
    assert set(parsed["source_system"]) == {"shopify"}


def test_three_line_items_counted_once_with_their_gross():
    _, parsed = parse(FIXTURES / "shopify_orders_export_1.csv")
    first = by_id(parsed, "#1001")
    assert first["gross"] == Decimal("2450.0000")    # never 3 x the order's Total or Subtotal
    assert parsed.filter(pl.col("order_id") == "#1001").height == 1


def test_rows_disagreeing_on_an_order_field_are_quarantined():
    _, parsed = parse(FIXTURES / "shopify_orders_export_1.csv")
    assert by_id(parsed, "#1006")["_errors"] == [
        "conflict:total: order #1006 has different Total on its line-item rows"]


def test_customer_from_email_and_pii_masked():
    _, parsed = parse(FIXTURES / "shopify_orders_export_1.csv")
    email_hash = hashlib.sha256(b"aino.virtanen@example.fi").hexdigest()
    first = by_id(parsed, "#1001")
    assert first["email_sha256"] == email_hash
    assert first["customer_id"] == customer_id_from_email_hash(email_hash)
    assert by_id(parsed, "#1005")["customer_id"] is None          # no email and no customer number: unknown
    assert "aino" not in first["_raw"].lower() and "Virtanen" not in first["_raw"]


def test_unknown_financial_status_is_quarantined(tmp_path):
    path = tmp_path / "orders_export_1.csv"
    path.write_bytes((HEADER + "#2001,a@b.fi,chargeback,,EUR,10.00,0.00,0.00,10.00,,0.00,"
                      "2026-11-01 10:00:00 +0200,1,Item,10.00,SKU,0.00,,1,,web\n").encode())
    _, parsed = parse(path)
    assert parsed["_errors"].to_list() == [["map:status: unknown Financial Status 'chargeback'"]]
    assert parsed["status"].to_list() == [None]


def test_reader_error_on_a_line_item_row_quarantines_its_order(tmp_path):
    path = tmp_path / "orders_export_1.csv"
    first = ("#3001,a@b.fi,paid,,EUR,30.00,0.00,0.00,30.00,,0.00,2026-11-01 10:00:00 +0200,1,Ärrä,10.00,S1,0.00,,1,,"
             "web\n").encode()
    second = "#3001,,,,,,,,,,,,2,Järvi,10.00,S2,,,,,\n".encode("cp1252")      # pasted from a cp1252 file
    path.write_bytes(HEADER.encode() + first + second)
    _, parsed = parse(path)
    assert parsed["order_id"].to_list() == ["#3001"]
    assert parsed["_errors"].to_list() == [["encoding:row: line is not valid UTF-8 (mixed encodings)"]]
