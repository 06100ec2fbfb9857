"""Finnish ERP orders saved by Excel (cp1252 / UTF-8 BOM), the generic order CSV, and one day across sources."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipeline.ingest.read import RawTable, read_table
from pipeline.sources import formats_for
from pipeline.sources.base import FI, ParseContext, parse_table
from pipeline.sources.erp import parse_decimals

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "orders"
GENERIC_HEADER = (
    "order_id,customer_id,email,ordered_at,currency,gross,discounts,refunds,net_revenue,status,product_category\n")


def parse(path: Path) -> tuple[RawTable, pl.DataFrame]:
    formats = formats_for("orders")
    table = read_table(path, formats, furniture=[p for f in formats for p in f.furniture_patterns])
    fmt = next(f for f in formats if f.name == table.format_name)
    return table, parse_table(table, fmt, ParseContext("orders", date(2026, 11, 3), path.name, "0" * 64))


def d(values: list[str | None]) -> list[Decimal | None]:
    return [None if v is None else Decimal(v) for v in values]


def test_cp1252_export_with_sep_line_and_nbsp_thousands():
    table, parsed = parse(FIXTURES / "erp_myyntitilaukset_cp1252.csv")
    assert (table.format_name, table.encoding, table.encoding_fallback, table.delimiter) == ("erp_fi", "cp1252", True,
                                                                                              ";")
    assert table.furniture.height == 1                                  # the "Yhteensä" row is not an order
    # leading zeros kept in order and customer numbers
    assert parsed["order_id"].to_list() == ["000451", "000452", "000453", "000454", "000455", "000456", "000457",
                                            "000458"]
    # "12 450,00" with U+00A0 (byte 0xA0) = 12450.00; "1 234 567,89" = 1234567.89
    assert parsed["gross"].to_list() == d(["12450.0000", "1200.0000", "400.0000", "3250.5000", "2000.0000",
                                           "500.0000", "99.9000", "1234567.8900"])
    assert parsed["gross"][0] == Decimal("12450.0000")
    assert parsed["discounts"].to_list() == d(["450", "120", "0", "0", "0", "0", "0", "34567.89"])  # empty = 0
    # net = Brutto - Alennus - Hyvitys: 12450 - 450 = 12000; 1234567.89 - 34567.89 = 1200000
    assert parsed["net_revenue"].to_list() == d(["12000", "1080", "200", "3250.5", "2000", "500", "99.9", "1200000"])
    assert parsed["status"].to_list() == ["paid", "paid", "partially_refunded", "cancelled", "paid", None, "pending",
                                          "paid"]
    assert parsed["product_category"].to_list() == ["watches", "jewellery", "travel", "services", "watches",
                                                    "jewellery", "lahjakortit €", "services"]
    assert parsed["price_tier"].to_list() == ["luxury", "mid", "entry", "premium", "premium", "mid", "entry", "luxury"]
    assert parsed["_errors"].to_list() == [[], [], [], [], ["check:net_revenue: Netto != Brutto - Alennus - Hyvitys"],
                                           ["map:status: unknown Tila 'Toimitettu'"], [], []]


def test_finnish_day_is_the_order_date_and_midnight_helsinki_the_instant():
    _, parsed = parse(FIXTURES / "erp_myyntitilaukset_cp1252.csv")
    # "01.11.2026" and "1.11.2026" alike: 00:00 EET (+02:00) = 31.10. 22:00 UTC
    assert set(parsed["order_date"]) == {date(2026, 11, 1)}
    assert set(parsed["ordered_at"]) == {datetime(2026, 10, 31, 22, 0, tzinfo=UTC)}
    assert set(parsed["currency_code"]) == {"EUR"} and set(parsed["source_system"]) == {"erp"}


def test_order_time_written_the_finnish_way_with_a_period(tmp_path):
    # Finnish Excel writes a date-time cell as '2.11.2026 0.15' ('.' is the Finnish time separator).
    path = tmp_path / "myyntitilaukset.csv"
    header = "Tilausnumero;Sähköposti;Tilauspäivä;Valuutta;Brutto;Alennus;Hyvitys;Tila\r\n"
    path.write_bytes((header + "001;a@b.fi;2.11.2026 0.15;EUR;10,00;;;Maksettu\r\n"
                      "002;a@b.fi;02.11.2026 23.50.30;EUR;10,00;;;Maksettu\r\n"
                      "003;a@b.fi;2.11.2026 0:15;EUR;10,00;;;Maksettu\r\n").encode("cp1252"))
    _, parsed = parse(path)
    # 00:15 in Helsinki (+02:00) is 22:15 UTC the day before; the order's day stays the Finnish one
    assert parsed["ordered_at"].to_list() == [datetime(2026, 11, 1, 22, 15, tzinfo=UTC),
                                              datetime(2026, 11, 2, 21, 50, 30, tzinfo=UTC),
                                              datetime(2026, 11, 1, 22, 15, tzinfo=UTC)]
    assert parsed["order_date"].to_list() == [date(2026, 11, 2)] * 3
    assert parsed["_errors"].to_list() == [[], [], []]


def test_customer_number_is_the_fallback_identity():
    _, parsed = parse(FIXTURES / "erp_myyntitilaukset_cp1252.csv")
    # 000454 has no email: c_ + sha256("key:erp:0012354")[:16] (leading zeros are part of the key)
    assert parsed["customer_id"][3] == "c_" + hashlib.sha256(b"key:erp:0012354").hexdigest()[:16]
    assert parsed["email_sha256"][3] is None
    assert parsed["customer_id"][0] == "c_" + hashlib.sha256(b"pekka.korhonen@example.fi").hexdigest()[:16]


def test_utf8_bom_export_dot_and_narrow_nbsp_groups():
    table, parsed = parse(FIXTURES / "erp_myyntitilaukset_utf8bom.csv")
    assert (table.encoding, table.header[0]) == ("utf-8-sig", "Tilausnumero")      # no BOM in the first name
    # "1.234,50" = 1234.50; "2 500,00" (space) = 2500; "10 000,00" (U+202F) = 10000; "12.50" cannot be read
    assert parsed["gross"].to_list() == d(["1234.5", "2500", "10000", None])
    assert parsed["net_revenue"].to_list() == d(["1234.5", "0", "10000", None])
    assert parsed["status"].to_list() == ["paid", "refunded", "paid", "paid"]     # "maksettu" in any case
    assert parsed["currency_code"].to_list() == ["EUR"] * 4                      # "eur" upper-cased
    assert parsed["order_date"].to_list() == [date(2026, 11, 2)] * 4
    assert parsed["_errors"].to_list() == [
        [], [], [], ["parse:gross: cannot read 12.50 as a number with decimal mark ','"]]


def test_accounting_negatives():
    table, parsed = parse(FIXTURES / "erp_accounting_negatives.csv")
    assert (table.encoding, table.delimiter) == ("utf-8-sig", ";")               # BOM, then a sep=; line
    # credit notes: Brutto 0 - Hyvitys 1234.56 = -1234.56, and Netto written (1 234,56), -1 234,56, −1 234,56
    # and 1234,56- all read as -1234.56 (else check:net_revenue would fire)
    # 000605: Hyvitys (1 234,56) is the refund 1234.56: 1234.56 - 1234.56 = 0; 000606: Alennus -100,00: 1000 - 100
    assert parsed["net_revenue"].to_list() == d(["-1234.56"] * 4 + ["0", "900"])
    assert parsed["refunds"].to_list() == d(["1234.56"] * 5 + ["0"])
    assert parsed["discounts"].to_list() == d(["0"] * 5 + ["100"])
    assert parsed["_errors"].to_list() == [[]] * 6


def test_negative_shapes_parse_exactly():
    frame = pl.DataFrame({"v": ["(1 234,56)", "-1\u00a0234,56", "\u22121 234,56", "1234,56-", "12.50", "1.234,56"],
                          "_errors": [[]] * 6}, schema={"v": pl.Utf8, "_errors": pl.List(pl.Utf8)})
    parsed = parse_decimals(frame, ["v"], FI)
    assert parsed["v"].to_list() == d(["-1234.56"] * 4 + [None, "1234.56"])
    assert parsed["_errors"][4].to_list() == ["parse:v: cannot read 12.50 as a number with decimal mark ','"]


def test_generic_order_csv():
    table, parsed = parse(FIXTURES / "generic_orders.csv")
    assert table.format_name == "generic_orders"
    assert parsed["order_id"].to_list() == ["00001", "00002", "00003", "00004"]
    assert parsed["gross"].to_list() == d(["400", "1250", "300", "300"])          # "1,250.00" in a comma file
    assert parsed["net_revenue"].to_list() == d(["400", "1200", "300", "300"])    # 1250 - 50 - (empty = 0)
    # written with +03:00: 23:30 local = 20:30 UTC, and the day as written
    assert parsed["ordered_at"][1] == datetime(2026, 6, 1, 20, 30, tzinfo=UTC)
    assert parsed["order_date"].to_list() == [date(2026, 6, 1), date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 2)]
    assert parsed["customer_id"][1] == "c_" + hashlib.sha256(b"key:erp:cust00002").hexdigest()[:16]
    assert parsed["product_category"].to_list() == ["watches", "jewellery", None, None]
    assert parsed["_errors"].to_list() == [[], [], ["check:net_revenue: net_revenue != gross - discounts - refunds"],
                                           ["map:status: unknown status 'shipped'"]]


def test_generic_order_csv_saved_by_finnish_excel_uses_decimal_comma():
    _, parsed = parse(FIXTURES / "generic_orders_semicolon.csv")
    # ';' file: "1 234,50" - "34,50" = 1200.00
    assert parsed["gross"].to_list() == d(["1234.5", "400"])
    assert parsed["net_revenue"].to_list() == d(["1200", "0"])
    assert parsed["ordered_at"].to_list() == [datetime(2026, 6, 1, 10, 0, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)]
    assert parsed["_errors"].to_list() == [[], []]


def test_decimal_comma_in_a_comma_file_is_an_error_not_a_factor_of_100(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes((GENERIC_HEADER + '1,c1,a@b.fi,2026-06-01,EUR,"400,00",0,0,,paid,\n').encode())
    _, parsed = parse(path)
    assert parsed["gross"].to_list() == [None]
    assert parsed["_errors"].to_list() == [["parse:gross: cannot read 400,00 as a number with decimal mark '.'"]]


@pytest.mark.parametrize(("shopify_id", "stripe_id", "erp_id", "net"), [
    ("#1002", "ch_3Q8xYz2eZvKYlo2C0a1b2c3d", "000452", "1080"),   # 1200 - 120 discount
    ("#1003", "ch_3Q8xYz2eZvKYlo2C0e5f6g7h", "000453", "200"),    # 400 - 200 refunded
])
def test_one_sale_exported_by_each_system_has_the_same_net_revenue(shopify_id, stripe_id, erp_id, net):
    _, shop = parse(FIXTURES / "shopify_orders_export_1.csv")
    _, stripe = parse(FIXTURES / "stripe_unified_payments_old.csv")
    _, erp = parse(FIXTURES / "erp_myyntitilaukset_cp1252.csv")
    rows = [frame.filter(pl.col("order_id") == order_id).row(0, named=True)
            for frame, order_id in ((shop, shopify_id), (stripe, stripe_id), (erp, erp_id))]
    assert [r["net_revenue"] for r in rows] == [Decimal(net)] * 3
    assert len({r["customer_id"] for r in rows}) == 1                  # the same person by email everywhere
    assert [r["order_date"] for r in rows] == [date(2026, 11, 1)] * 3
    assert len({r["product_category"] for r in rows}) == 1
