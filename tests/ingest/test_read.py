"""The reader on the file-level cases of the reference (encodings, layout, truncation)."""

import hashlib
from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from pipeline.errors import InputFileError
from pipeline.ingest.read import decode, read_table
from pipeline.sources.base import FI, Field, ParseContext, SourceFormat, money, parse_table

SPEND = SourceFormat(
    name="test_spend",
    source="test",
    entity="ad_daily",
    signature=(("Day", "Päivä"), ("Campaign ID",), ("Cost", "Kustannus")),
    fields=(
        Field("day", ("Day", "Päivä"), "date", required=True, not_null=True),
        Field("campaign_id", ("Campaign ID",), "id", required=True, not_null=True),
        Field("campaign_name", ("Campaign",)),
        money("spend", "Cost", "Kustannus", required=True),
        Field("impressions", ("Impr.",), "int"),
    ),
    constants={"platform": "google_ads", "account_id": "1", "currency_code": "EUR"},
    furniture=(r"^Total:", r"^Yhteensä"),
)
SPEND_FI = SourceFormat(
    name="test_spend_fi", source="test", entity="ad_daily", signature=SPEND.signature, fields=SPEND.fields,
    locale=FI, constants=SPEND.constants, furniture=SPEND.furniture,
)
CTX = ParseContext("test", date(2026, 11, 1), "x.csv", "0" * 64)
ROWS = "Day,Campaign ID,Campaign,Cost,Impr.\n2026-11-01,0012,Brand,\"1,234.50\",\"12,345\"\n2026-11-01,77,Ärrä,5.00,10\n"


def _read(tmp_path, data: bytes, fmt=SPEND):
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    return read_table(path, [fmt], furniture=fmt.furniture_patterns)


def _spend(table, fmt=SPEND) -> list[Decimal]:
    return parse_table(table, fmt, CTX)["spend"].to_list()


def test_utf8_rows_and_title_lines(tmp_path):
    table = _read(tmp_path, ('Campaign report\n"November 1, 2026 - November 1, 2026"\n' + ROWS).encode())
    assert table.metadata_lines == ["Campaign report", '"November 1, 2026 - November 1, 2026"']
    parsed = parse_table(table, SPEND, CTX)
    assert parsed["campaign_id"].to_list() == ["0012", "77"]  # leading zeros kept
    assert parsed["spend"].to_list() == [Decimal("1234.5000"), Decimal("5.0000")]
    assert parsed["impressions"].to_list() == [12345, 10]
    assert parsed["_errors"].to_list() == [[], []]


def test_empty_file_fails(tmp_path):
    with pytest.raises(InputFileError, match="empty file"):
        _read(tmp_path, b"")


def test_zip_or_xlsx_fails_clearly(tmp_path):
    with pytest.raises(InputFileError, match="ZIP archive or an .xlsx"):
        _read(tmp_path, b"PK\x03\x04rest-of-zip")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_bom_and_utf16_variants_give_the_same_rows(tmp_path, encoding):
    data = ROWS.replace(",", "\t").replace('"1\t234.50"', "1234.50").replace('"12\t345"', "12345").encode(encoding)
    table = _read(tmp_path, data)
    assert table.header[0] == "Day"  # no BOM in the first column name
    assert _spend(table) == [Decimal("1234.5000"), Decimal("5.0000")]
    assert parse_table(table, SPEND, CTX)["campaign_name"].to_list() == ["Brand", "Ärrä"]


def test_cp1252_fallback_is_recorded_never_lossy(tmp_path):
    text = "sep=;\r\nPäivä;Campaign ID;Campaign;Kustannus\r\n01.11.2026;0012;Järvinen €;1\xa0234,50\r\n"
    table = _read(tmp_path, text.encode("cp1252"), SPEND_FI)
    assert table.encoding == "cp1252" and table.encoding_fallback
    assert table.delimiter == ";"
    parsed = parse_table(table, SPEND_FI, CTX)
    assert parsed["campaign_name"].to_list() == ["Järvinen €"]
    assert parsed["spend"].to_list() == [Decimal("1234.5000")]
    assert parsed["day"].to_list() == [date(2026, 11, 1)]


def test_mixed_encoding_rows_are_quarantined_not_garbled(tmp_path):
    data = ROWS.encode("utf-8") + "2026-11-01,88,Järvi,1.00,1\n".encode("cp1252")
    table = _read(tmp_path, data)
    parsed = parse_table(table, SPEND, CTX)
    assert parsed.height == 3
    assert parsed["_errors"].to_list()[2] == ["encoding:row: line is not valid UTF-8 (mixed encodings)"]
    assert parsed["_errors"].to_list()[:2] == [[], []]


def test_undecodable_everywhere_fails(tmp_path):
    with pytest.raises(InputFileError, match="neither UTF-8 nor Windows-1252"):
        decode(b"Day,Cost\n\x81\x8d\x8f\n", "x.csv")


def test_truncated_last_line_fails(tmp_path):
    with pytest.raises(InputFileError, match="truncated"):
        _read(tmp_path, (ROWS + "2026-11-01,99").encode())


def test_unterminated_quote_fails(tmp_path):
    with pytest.raises(InputFileError, match="truncated"):
        _read(tmp_path, (ROWS + '2026-11-01,99,"Brand, cut off').encode())


def test_duplicate_header_fails(tmp_path):
    with pytest.raises(InputFileError, match="duplicate column"):
        _read(tmp_path, b"Day,Campaign ID,Cost,Cost\n2026-11-01,1,2,3\n")


def test_wrong_delimiter_or_unknown_header_fails_with_one_line(tmp_path):
    with pytest.raises(InputFileError) as info:
        _read(tmp_path, b"Date|Something|Else\n1|2|3\n")
    assert "header matches no known export format" in str(info.value)
    assert "\n" not in str(info.value)


def test_totals_blank_rows_and_trailing_empty_columns(tmp_path):
    text = ("Day,Campaign ID,Campaign,Cost,Impr.,,\r\n2026-11-01,1,A,10.00,5,,\r\n,,,,,,\r\n"
            "2026-11-01,2,B,2.50,1,,\r\nTotal: Account,--,--,12.50,6,,\r\n")
    table = _read(tmp_path, text.encode())
    assert table.rows.height == 2
    assert table.furniture.height == 1
    assert table.header == ["Day", "Campaign ID", "Campaign", "Cost", "Impr."]
    assert sum(_spend(table)) == Decimal("12.5000")


def test_bare_cr_line_endings(tmp_path):
    table = _read(tmp_path, ROWS.replace("\n", "\r").encode())
    assert table.rows.height == 2


def test_quoted_newline_inside_a_field(tmp_path):
    text = 'Day,Campaign ID,Campaign,Cost\n2026-11-01,1,"Line one\nline two",3.00\n'
    table = _read(tmp_path, text.encode())
    assert parse_table(table, SPEND, CTX)["campaign_name"].to_list() == ["Line one\nline two"]


def test_bad_number_and_scientific_id_are_row_errors(tmp_path):
    text = "Day,Campaign ID,Cost\n2026-11-01,1.20211E+17,1.00\n2026-11-01,5,12x\n2026-11-01,6,--\n"
    parsed = parse_table(_read(tmp_path, text.encode()), SPEND, CTX)
    assert parsed["_errors"].to_list() == [
        ["parse:campaign_id: cannot read 1.20211E+17 as id"],
        ["parse:spend: cannot read 12x as decimal"],
        [],  # "--" is NULL, not an error and not 0
    ]
    assert parsed["spend"].to_list()[2] is None


def test_raw_row_masks_personal_columns(tmp_path):
    fmt = SourceFormat(name="c", source="t", entity="contact", signature=(("Record ID",), ("Email",)),
                       fields=(Field("contact_id", ("Record ID",), "id"),
                               Field("email_sha256", ("Email",), "email_sha256", pii=True)))
    path = tmp_path / "c.csv"
    path.write_bytes(b"Record ID,Email,First Name,Phone Number\n1,a@b.fi,Aino,040 123\n")
    parsed = parse_table(read_table(path, [fmt]), fmt, CTX)
    raw = parsed["_raw"][0]
    assert "a@b.fi" not in raw and "Aino" not in raw and "040" not in raw
    assert parsed["email_sha256"][0] == hashlib.sha256(b"a@b.fi").hexdigest()


def test_locale_number_shapes():
    from pipeline.sources.base import EN, decimal_expr

    fi = pl.DataFrame({"v": ["1 234,56", "1\u00a0234,56", "1\u202f234,56", "-1 234,56", "\u22121 234,56",
                             "(1 234,56)", "1234,56-", "12,50 €", "EUR 12,50", "1.234,50"]})
    got = fi.select(decimal_expr(pl.col("v"), FI).alias("v"))["v"].to_list()
    assert got == [Decimal("1234.5600")] * 3 + [Decimal("-1234.5600")] * 4 + [Decimal("12.5000")] * 2 + [
        Decimal("1234.5000")]
    en = pl.DataFrame({"v": ["1,234.50", "$45,000", "1e20", "4.55%"]})
    assert en.select(decimal_expr(pl.col("v"), EN).alias("v"))["v"].to_list() == [
        Decimal("1234.5000"), Decimal("45000.0000"), None, Decimal("4.5500")]
