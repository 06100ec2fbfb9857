"""A big file read in chunks leaves the lake a whole read leaves: same rows, reasons, counts and warnings.

Every fixture file is ingested twice, whole and with a chunk size of a few hundred bytes (so even
small fixtures are cut into several chunks, at every kind of boundary), and the two lakes compared.
A generated file adds what fixtures do not reach: exact duplicates and key conflicts in different
chunks, a quoted newline across a chunk boundary, CRLF line ends and a UTF-8 BOM.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

import pipeline.ingest.files as files_module
from pipeline.errors import KohdeError
from pipeline.ingest.files import FileResult, InboxFile, ingest_files
from pipeline.ingest.stream import body_chunks, probe, record_end
from pipeline.lake import Lake
from pipeline.sources import formats_for

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DAY = date(2026, 11, 1)
SOURCES = ("google_ads", "meta_ads", "linkedin_ads", "adroll", "crm_contacts", "crm_deals", "crm_touchpoints",
           "orders", "plan")
CASES = [("google_ads", p) for p in sorted((FIXTURES / "cases").glob("*.csv"))]
SAME_DAY = [(p.parent.name, p) for p in sorted((FIXTURES / "same_day").glob("*/*")) if p.is_file()]
FILES = [(s, p) for s in SOURCES for p in sorted((FIXTURES / s).glob("*")) if p.is_file()] + CASES + SAME_DAY


def _ingest(tmp_path: Path, source: str, data: bytes, name: str, chunk_bytes: int) -> tuple[FileResult | str, Lake]:
    folder = tmp_path / "inbox" / source / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    lake = Lake(tmp_path / "lake")
    try:
        (result,) = ingest_files(lake, [InboxFile(source, path, DAY)], chunk_bytes=chunk_bytes)
    except KohdeError as exc:
        return str(exc), lake
    return result, lake


def _lake_state(lake: Lake, entity: str, source: str) -> dict[str, pl.DataFrame]:
    raw = sorted((lake.root / "raw").glob("*/*/*.parquet"))
    return {
        "clean": lake.clean(entity, DAY).collect().sort("row_number") if entity else pl.DataFrame(),
        "quarantine": lake.quarantine(on=DAY).sort("row_number", "check_name"),
        "raw": pl.read_parquet(raw).sort("row_number") if raw else pl.DataFrame(),
    }


def _compare(tmp_path: Path, source: str, data: bytes, name: str, chunk_bytes: int) -> FileResult | str:
    """Ingest whole and in chunks, assert the same outcome; the whole read's result (or error)."""
    whole, whole_lake = _ingest(tmp_path / "whole", source, data, name, chunk_bytes=1 << 40)
    chunked, chunked_lake = _ingest(tmp_path / "chunked", source, data, name, chunk_bytes=chunk_bytes)
    if isinstance(whole, str) or isinstance(chunked, str):
        assert chunked == whole
        assert not (chunked_lake.root / "clean").exists()
        return whole
    for attribute in ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate", "rows_warned",
                      "rows_forgotten", "furniture_rows", "entity", "source_format", "columns", "size_bytes"):
        assert getattr(chunked, attribute) == getattr(whole, attribute), attribute
    assert sorted(chunked.warnings) == sorted(whole.warnings)
    expected, actual = _lake_state(whole_lake, whole.entity, source), _lake_state(chunked_lake, chunked.entity, source)
    for part in expected:
        assert actual[part].equals(expected[part]), part
    return whole


@pytest.fixture
def chunked_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the files that took the chunked path (a spy on the real function)."""
    calls: list[str] = []
    real = files_module._parse_chunked

    def spy(path: Path, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - passes through
        parsed = real(path, *args, **kwargs)
        if parsed is not None:
            calls.append(path.name)
        return parsed

    monkeypatch.setattr(files_module, "_parse_chunked", spy)
    return calls


@pytest.mark.parametrize(("source", "path"), FILES, ids=[f"{p.parent.name}/{p.name}" for _, p in FILES])
def test_fixture_whole_equals_chunked(tmp_path: Path, source: str, path: Path, chunked_calls: list[str]) -> None:
    data = path.read_bytes()
    whole = _compare(tmp_path, source, data, path.name, chunk_bytes=max(64, len(data) // 3))
    if isinstance(whole, FileResult) and whole.rows_read and probe(path).chunkable:
        fmt = next(f for f in formats_for(source) if f.name == whole.source_format)
        # UTF-16, Windows-1252, NULs and formats that look across rows (Shopify, ERP) are read whole
        assert chunked_calls == ([path.name] if fmt.chunkable else [])


def _generated() -> bytes:
    header = "Campaign report\r\n\"October 1, 2026 - November 1, 2026\"\r\n" \
             "Day,Account name,Customer ID,Campaign,Campaign ID,Campaign type,Currency code,Cost,Impr.,Clicks," \
             "Conversions,Conv. value\r\n"
    lines = []
    for i in range(400):
        day = f"2026-10-{1 + i % 28:02d}"
        name = f'"Search - ""Brand"" {i},\nNordics"' if i % 37 == 0 else f"Search {i}"
        lines.append(f'{day},Demo Oy,123-456-7890,{name},{2045600 + i},Search,EUR,"1,{i % 1000:03d}.50",'
                     f'"12,{i:03d}",{i},1.5,"2,000.00"')
    lines.append(lines[3])                                   # an exact duplicate, chunks away from its original
    lines.append(lines[10].replace('"1,010.50"', '"9.99"'))  # the same key with another cost: both quarantined
    lines.append(lines[5].replace("2026-10-06", "2026-12-24"))  # after the run date
    lines.append('Total: Account,--,--,--,--,--,EUR,"999.00",--,--,--,--')
    return b"\xef\xbb\xbf" + (header + "\r\n".join(lines) + "\r\n").encode()


def test_generated_file_whole_equals_chunked(tmp_path: Path, chunked_calls: list[str]) -> None:
    data = _generated()
    for chunk_bytes in (1500, 9000):
        _compare(tmp_path / str(chunk_bytes), "google_ads", data, "big.csv", chunk_bytes=chunk_bytes)
    assert chunked_calls == ["big.csv", "big.csv"]
    result, lake = _ingest(tmp_path / "check", "google_ads", data, "big.csv", chunk_bytes=1500)
    assert isinstance(result, FileResult)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined, result.rows_duplicate) == (403, 399, 3, 1)
    reasons = lake.quarantine(on=DAY).sort("row_number")["reason"].to_list()
    assert any("unique" in r or "duplicate business key" in r for r in reasons)
    assert any("after the run date" in r for r in reasons)
    assert any(w.startswith("totals:") for w in result.warnings)


def test_chunks_end_at_record_boundaries(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_bytes(b'a,b\n1,"x\ny"\n2,"p""q\nr"\n3,z\n')
    pieces = list(body_chunks(path, 4, chunk_bytes=3))
    assert b"".join(pieces) == path.read_bytes()[4:]
    assert pieces == [b'1,"x\ny"\n', b'2,"p""q\nr"\n', b"3,z\n"]
    assert record_end(b'1,"open\n') == -1


@pytest.mark.parametrize(("data", "chunkable"), [
    (b"a,b\r\n1,2\r\n", True), (b"\xef\xbb\xbfa,b\n1,2\n", True), (b"a,b\r1,2\r", False), (b"a,\x00b\n", False),
    (b"\xff\xfea\x00", False), ("a,b\nä,ö\n".encode("cp1252"), False), (b"", False)])
def test_probe_says_which_files_can_be_chunked(tmp_path: Path, data: bytes, chunkable: bool) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    probed = probe(path)
    assert probed.chunkable is chunkable
    assert probed.size == len(data)
