"""Bad-input cases of the reference (part 3) that no adapter test covered, through the real ingest.

Each case has a byte fixture in ``tests/fixtures/cases/<case number>_<name>.csv`` and asserts the
outcome the reference asks for: FAIL (the exact one-line error naming the file; nothing written to
the lake), QUAR (the quarantine row's check and reason; rows read = loaded + quarantined +
duplicates), WARN (the file's warning or the GX warning count) or OK (the loaded values).
docs/bad-input-cases.md maps all 75 cases to their tests.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipeline.errors import InputFileError
from pipeline.identity import email_sha256, email_sha256_expr
from pipeline.ingest.checks import currency_warnings
from pipeline.ingest.files import FileResult, InboxFile, earlier_currencies, ingest_files
from pipeline.lake import Lake
from pipeline.silver import current
from pipeline.sources.base import EN, FI, date_expr, datetime_expr, decimal_expr

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "cases"
DAY = date(2026, 11, 1)


def _ingest(tmp_path: Path, name: str, source: str = "google_ads", day: date = DAY, data: bytes | None = None,
            lake: Lake | None = None) -> tuple[FileResult, Lake]:
    folder = tmp_path / "inbox" / source / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes((CASES / name).read_bytes() if data is None else data)
    lake = lake or Lake(tmp_path / "lake")
    (result,) = ingest_files(lake, [InboxFile(source, path, day)])
    assert result.rows_read == result.rows_loaded + result.rows_quarantined + result.rows_duplicate
    return result, lake


def _quarantine(lake: Lake) -> list[tuple[int, str, str, str]]:
    rows = lake.quarantine(on=DAY).sort("row_number", "check_name")
    return rows.select("row_number", "check_name", "column_name", "reason").rows()


def _clean(lake: Lake, *columns: str) -> list[tuple]:
    return lake.clean("ad_daily", DAY).sort("row_number").select(*columns).collect().rows()


FAILS = [
    ("01_empty.csv", "google_ads", "empty file (0 bytes); an export with no data still has a header"),
    ("03_truncated_last_line.csv", "google_ads",
     "last line has 4 of 9 fields and no final newline: the file is truncated"),
    ("04_unterminated_quote.csv", "google_ads", "ends inside a quoted field: the file is truncated"),
    ("12_sep_line_contradicts_delimiter.csv", "google_ads",
     "its 'sep=,' line contradicts the header, which is separated by ';'; remove the sep= line or save the file again"),
    ("14_xlsx_as_csv.csv", "google_ads",
     "is a ZIP archive or an .xlsx workbook, not a CSV; unzip it or export it as CSV"),
    ("22_duplicate_column.csv", "google_ads", "duplicate column 'Cost' in the header; which one is meant is unknowable"),
    ("26_required_column_missing.csv", "google_ads",
     "google_ads_ui_en export lacks required column(s): campaign_id (one of 'Campaign ID', 'Kampanjan tunnus')"),
    ("59_hubspot_two_pipelines_no_pipeline_column.csv", "crm_deals",
     "hubspot_deals export has no 'Pipeline' column but its 'Date entered' columns name 2 pipelines "
     "(Renewals, Sales Pipeline); stage labels are ambiguous across pipelines: add Pipeline to the export view"),
]


@pytest.mark.parametrize(("name", "source", "message"), FAILS, ids=[f[0].split("_")[0] for f in FAILS])
def test_fail_cases_name_the_file_in_one_line_and_write_nothing(tmp_path, name, source, message):
    with pytest.raises(InputFileError) as failure:
        _ingest(tmp_path, name, source)
    assert str(failure.value) == f"inbox/{source}/{DAY.isoformat()}/{name}: {message}"
    lake_root = tmp_path / "lake"
    assert not lake_root.exists() or not [p for p in lake_root.rglob("*") if p.is_file()]


def test_02_header_only_warns_and_loads_nothing(tmp_path):
    result, lake = _ingest(tmp_path, "02_header_only.csv")
    assert (result.rows_read, result.rows_loaded) == (0, 0)
    assert result.warnings == ["empty: header only, no data rows"]
    assert _clean(lake, "campaign_id") == []


def test_09_mixed_encodings_quarantine_the_foreign_line_never_garble(tmp_path):
    result, lake = _ingest(tmp_path, "09_mixed_encodings.csv")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    assert _quarantine(lake) == [(2, "encoding", "row", "encoding:row: line is not valid UTF-8 (mixed encodings)")]
    assert _clean(lake, "campaign_name") == [("Brand 1",), ("Ärrä",)]


def test_10_mojibake_already_in_the_source_warns(tmp_path):
    result, lake = _ingest(tmp_path, "10_mojibake.csv")
    assert result.rows_loaded == 2
    assert result.warnings == ["mojibake: 1 rows have text that looks decoded twice upstream (e.g. 'Ã©' for 'é'); "
                               "re-export the file as UTF-8"]


def test_13_crlf_bare_cr_and_lf_in_one_file(tmp_path):
    result, lake = _ingest(tmp_path, "13_mixed_line_endings.csv")
    assert result.rows_loaded == 3
    assert _clean(lake, "campaign_id") == [("1",), ("2",), ("3",)]


def test_15_same_bytes_twice_is_a_no_op(tmp_path):
    first, lake = _ingest(tmp_path, "52_exact_duplicates.csv")
    again, _ = _ingest(tmp_path / "again", "52_exact_duplicates.csv", day=date(2026, 11, 2), lake=lake)
    assert again.skipped and again.file_sha256 == first.file_sha256
    assert len(lake.manifest()) == 1


def test_23_header_spacing_case_nbsp_and_smart_quotes(tmp_path):
    result, lake = _ingest(tmp_path, "23_header_spacing_case_nbsp.csv")
    assert result.rows_loaded == 1
    assert _clean(lake, "campaign_id", "spend", "clicks") == [("1", Decimal("1234.5000"), 2)]


def test_25_a_new_column_warns_once_against_the_previous_file(tmp_path):
    before, lake = _ingest(tmp_path, "25_drift_before.csv")
    assert before.warnings == []
    drift, _ = _ingest(tmp_path, "25_drift_new_column.csv", day=date(2026, 11, 2), lake=lake)
    assert drift.warnings == ["columns: new since the previous google_ads_ui_en file: 'Search impr. share'"]
    data = (CASES / "25_drift_new_column.csv").read_bytes().replace(b"Brand 1", b"Brand one")
    again, _ = _ingest(tmp_path, "25_drift_again.csv", day=date(2026, 11, 3), data=data, lake=lake)
    assert again.warnings == []  # once: the next file of the same shape is quiet


def test_27_decimal_comma_under_an_english_header_is_quarantined_not_multiplied(tmp_path):
    # kohde pins the locale by header language; '12,50 €' under English headers is never 1250.
    result, lake = _ingest(tmp_path, "27_locale_switch.csv")
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert _quarantine(lake) == [(1, "parse", "spend", "parse:spend: cannot read 12,50 € as decimal")]
    assert _clean(lake, "spend") == [(Decimal("1234.5000"),)]


def test_29_every_null_token_is_null_not_zero(tmp_path):
    result, lake = _ingest(tmp_path, "29_null_tokens.csv")
    assert (result.rows_loaded, result.rows_quarantined) == (8, 0)
    assert _clean(lake, "platform_conversions") == [(None,)] * 8


def test_30_grouping_of_another_locale_is_quarantined(tmp_path):
    result, lake = _ingest(tmp_path, "30_swiss_grouping.csv")
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert _quarantine(lake) == [(1, "parse", "spend", "parse:spend: cannot read 1'234.50 as decimal")]


def test_31_ambiguous_1_234_is_resolved_by_the_source_locale(tmp_path):
    _, lake = _ingest(tmp_path, "31_ambiguous_1234_en.csv")
    assert _clean(lake, "spend") == [(Decimal("1234.0000"),)]
    frame = pl.DataFrame({"v": ["1,234", "1.234", "12.5", "1 234,5"]})
    assert frame.select(decimal_expr(pl.col("v"), FI).alias("v"))["v"].to_list() == [
        Decimal("1.2340"), Decimal("1234.0000"), None, Decimal("1234.5000")]
    assert frame.select(decimal_expr(pl.col("v"), EN).alias("v"))["v"].to_list() == [
        Decimal("1234.0000"), Decimal("1.2340"), Decimal("12.5000"), None]


def test_33_an_account_switching_currency_warns(tmp_path):
    before, lake = _ingest(tmp_path, "25_drift_before.csv")
    assert not [w for w in before.warnings if w.startswith("currency:")]
    switched, _ = _ingest(tmp_path, "33_account_currency_switch.csv", day=date(2026, 11, 2), lake=lake)
    assert switched.rows_loaded == 1  # loads: each row keeps its currency, sums never mix them
    assert switched.warnings == ["currency: google_ads account 123-456-7890 was EUR in the previous export, now SEK"]


def test_33_currency_is_compared_with_each_accounts_newest_earlier_export(tmp_path):
    """The rule: an account's currency now is compared with the currency of its rows in the newest earlier
    extraction that has the account (with a currency), however old; older extractions are never consulted."""
    head = b"".join((CASES / "33_account_currency_switch.csv").read_bytes().splitlines(keepends=True)[:3])

    def export(night: int, *rows: tuple[str, str]) -> bytes:  # (account, currency); the campaign name makes new bytes
        return head + b"".join(f"2026-11-01,{a},Brand {night},1,{c},1.00,10,2,1\n".encode() for a, c in rows)

    a, b = "123-456-7890", "222-333-4444"
    nights = [
        ([(a, "EUR"), (b, "EUR")], []),
        ([(a, "SEK")], ["currency: google_ads account 123-456-7890 was EUR in the previous export, now SEK"]),
        ([(a, "SEK"), (a, "SEK")], []),  # EUR two nights ago: the newest earlier export already had SEK
        ([(a, "SEK")], []),
        ([(a, "SEK")], []),
        ([(a, "SEK")], []),
        ([(a, "EUR"), (b, "NOK")], ["currency: google_ads account 123-456-7890 was SEK in the previous export, now EUR",
                                    "currency: google_ads account 222-333-4444 was EUR in the previous export, now NOK"]),
    ]
    lake = None
    for i, (rows, expected) in enumerate(nights):
        day = date(2026, 11, 1 + i)
        result, lake = _ingest(tmp_path, f"ads_{i}.csv", day=day, data=export(i, *rows), lake=lake)
        assert not result.skipped
        assert [w for w in result.warnings if w.startswith("currency:")] == expected, day
    # what the last night compared with: b from six nights back (found by widening the window), a from last night
    typed = lake.clean("ad_daily", date(2026, 11, 7), since=date(2026, 11, 7)).collect().with_columns(
        pl.lit([], dtype=pl.List(pl.Utf8)).alias("_errors"))
    earlier = earlier_currencies(lake, typed, date(2026, 11, 6)).collect()
    assert earlier.sort("account_id").rows() == [("google_ads", a, "SEK", date(2026, 11, 6)),
                                                 ("google_ads", b, "EUR", date(2026, 11, 1))]
    assert currency_warnings(earlier.lazy(), typed) == currency_warnings(lake.clean("ad_daily", date(2026, 11, 6)), typed)


def test_38_more_clicks_than_impressions_loads_with_a_warning(tmp_path):
    result, lake = _ingest(tmp_path, "38_clicks_over_impressions.csv")
    assert (result.rows_loaded, result.rows_quarantined, result.rows_warned) == (2, 0, 1)


def test_39_overflow_is_quarantined_and_an_outlier_warns(tmp_path):
    result, lake = _ingest(tmp_path, "39_outlier_and_overflow.csv")
    assert (result.rows_loaded, result.rows_quarantined, result.rows_warned) == (2, 1, 1)
    assert _quarantine(lake) == [(1, "parse", "spend", "parse:spend: cannot read 1e20 as decimal")]
    assert _clean(lake, "spend") == [(Decimal("2500000.0000"),), (Decimal("1.0000"),)]


def test_43_dates_outside_the_source_format_are_quarantined_never_guessed(tmp_path):
    result, lake = _ingest(tmp_path, "43_dates_not_in_the_source_format.csv")
    assert (result.rows_loaded, result.rows_quarantined) == (1, 3)
    parse_rows = [r for r in _quarantine(lake) if r[1] == "parse"]
    assert parse_rows == [
        (1, "parse", "day", "parse:day: cannot read 01/02/2026 as date"),
        (2, "parse", "day", "parse:day: cannot read 45322 as date"),
        (3, "parse", "day", "parse:day: cannot read TBD as date"),
    ]


def test_44_closed_won_deal_in_the_future_warns_an_open_one_is_ok(tmp_path):
    result, _ = _ingest(tmp_path, "44_closed_won_in_the_future.csv", source="crm_deals")
    assert (result.rows_loaded, result.rows_quarantined, result.rows_warned) == (2, 0, 1)


def test_45_a_day_of_the_report_range_without_rows_warns(tmp_path):
    result, _ = _ingest(tmp_path, "45_missing_day_in_range.csv")
    assert result.rows_loaded == 2
    assert result.warnings == ["window: 1 day(s) of the report's date range 2026-10-30..2026-11-01 have no rows: "
                               "2026-10-31"]


def test_46_dst_gap_is_null_and_fold_takes_the_earlier_instant():
    frame = pl.DataFrame({"v": ["29.03.2026 03:30", "25.10.2026 03:30"]})
    got = frame.select(datetime_expr(pl.col("v"), FI).alias("v"))["v"].to_list()
    assert got[0] is None  # 03:30 does not exist in Helsinki that night: a parse error, never shifted
    assert got[1].isoformat() == "2026-10-25T00:30:00+00:00"  # EEST, the earlier of the two


def test_48_a_midnight_utc_timestamp_keeps_its_date():
    frame = pl.DataFrame({"v": ["2026-03-05T00:00:00Z", "2026-03-05"]})
    assert frame.select(date_expr(pl.col("v"), EN).alias("v"))["v"].to_list() == [date(2026, 3, 5)] * 2


def test_51_restated_day_replaces_the_whole_day(tmp_path):
    _, lake = _ingest(tmp_path, "51_original_day.csv")
    _, _ = _ingest(tmp_path, "51_restated_day.csv", day=date(2026, 11, 2), lake=lake)
    truth = current(lake.clean("ad_daily", date(2026, 11, 2)), "ad_daily", date(2026, 11, 2)).collect()
    # conversions changed, campaign 2 gone (delete + insert of the day, not a merge)
    assert truth.select("day", "campaign_id", "platform_conversions").rows() == [
        (DAY, "1", Decimal("3.5000"))]


def test_52_exact_duplicates_are_dropped_and_counted(tmp_path):
    result, lake = _ingest(tmp_path, "52_exact_duplicates.csv")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined, result.rows_duplicate) == (3, 2, 0, 1)
    assert result.warnings == ["duplicates: 1 exact duplicate rows dropped"]
    assert _clean(lake, "campaign_id") == [("1",), ("2",)]


def test_53_conflicting_rows_of_one_key_are_both_quarantined(tmp_path):
    result, lake = _ingest(tmp_path, "53_conflicting_key.csv")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined, result.rows_duplicate) == (3, 1, 2, 0)
    reason = ("gx:file_sha256,platform,account_id,day,campaign_id: duplicate business key with conflicting values")
    assert [(r[0], r[1], r[3]) for r in _quarantine(lake)] == [(1, "gx", reason), (2, "gx", reason)]
    assert _clean(lake, "campaign_id") == [("2",)]


def test_54_same_name_different_ids_are_two_campaigns(tmp_path):
    result, lake = _ingest(tmp_path, "54_same_name_different_ids.csv")
    assert result.rows_loaded == 2
    assert _clean(lake, "campaign_id", "campaign_name") == [("1", "Brand"), ("2", "Brand")]


def test_62_overlapping_exports_of_one_day_resolve_by_precedence(tmp_path):
    # Two exports of the same day (e.g. a re-download): the newest extraction wins the whole day.
    _, lake = _ingest(tmp_path, "51_original_day.csv")
    _, _ = _ingest(tmp_path, "51_restated_day.csv", day=date(2026, 11, 3), lake=lake)
    as_of_2 = current(lake.clean("ad_daily", date(2026, 11, 2)), "ad_daily", date(2026, 11, 2)).collect()
    as_of_3 = current(lake.clean("ad_daily", date(2026, 11, 3)), "ad_daily", date(2026, 11, 3)).collect()
    assert as_of_2.height == 2 and as_of_3.height == 1  # never both, never summed


def test_63_formula_like_names_are_stored_as_text(tmp_path):
    result, lake = _ingest(tmp_path, "63_formula_injection.csv")
    assert result.rows_loaded == 4
    assert _clean(lake, "campaign_name") == [('=HYPERLINK("http://x","y")',), ("+cmd",), ("@SUM(A1)",), ("-2+3",)]


def test_64_script_nul_zero_width_and_a_megabyte_cell(tmp_path):
    data = (CASES / "64_script_nul_zero_width_long.csv").read_bytes()
    data += ("2026-11-01,123-456-7890," + "x" * 1_000_000 + ",4,EUR,1.00,10,2,1\r\n").encode()
    result, lake = _ingest(tmp_path, "64_script_nul_zero_width_long.csv", data=data)
    assert result.rows_loaded == 4
    assert result.warnings == ["nul: 1 NUL characters removed from the text",
                               "long_text: 1 cells over 1000 characters truncated (campaign_name)"]
    names = [r[0] for r in _clean(lake, "campaign_name")]
    assert names[:3] == ["<script>alert(1)</script>", "Brand", "Brand"]
    assert names[3] == "x" * 1000


def test_65_file_names_never_steer_lake_paths(tmp_path):
    result, lake = _ingest(tmp_path, "..%2F..%2Fetc%2Fpasswd.csv", data=(CASES / "52_exact_duplicates.csv").read_bytes())
    root = (tmp_path / "lake").resolve()
    written = [p for p in root.rglob("*") if p.is_file()]
    assert written and all(p.resolve().is_relative_to(root) for p in written)
    assert lake.landing_path(result).name == f"{result.file_sha256}__.._2F.._2Fetc_2Fpasswd.csv"
    # a name with separators (an upload that kept its path) is reduced to a safe base name
    hostile = FileResult(source="google_ads", original_name="../../etc/passwd.csv", file_sha256="ab" * 32,
                         size_bytes=1, extract_date=DAY)
    landing = lake.landing_path(hostile).resolve()
    assert landing.is_relative_to(root / "landing") and landing.name == f"{'ab' * 32}__passwd.csv"


def test_66_email_in_a_campaign_name_warns_without_echoing_it(tmp_path):
    result, _ = _ingest(tmp_path, "66_email_in_campaign_name.csv")
    assert result.warnings == ["pii: 1 rows have an e-mail address in column 'Campaign', which is not a personal "
                               "column; the values are not logged"]
    assert not any("aino" in w for w in result.warnings)


def test_67_email_normalisation_trims_and_lowercases_only():
    expected = hashlib.sha256(b"aino.virtanen+news@example.fi").hexdigest()
    assert email_sha256("  Aino.Virtanen+news@EXAMPLE.fi ") == expected  # +tag and dots are part of the address
    frame = pl.DataFrame({"e": ["  Aino.Virtanen+news@EXAMPLE.fi ", "jörö@esimerkki.fi", "not-an-email", None]})
    got = frame.select(email_sha256_expr("e").alias("h"))["h"].to_list()
    assert got == [expected, hashlib.sha256("jörö@esimerkki.fi".encode()).hexdigest(), None, None]
