"""The lake: old and new clean files read together, the manifest index, and listing only the partitions asked for.

The manifest index is derived from the JSON entries; every test compares the lake's answers with
the JSON files read directly, and ``clean`` with the full listing it used to make.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.demo import generate_demo
from pipeline.entities import CONTACT, ENTITIES, LINEAGE
from pipeline.ingest.files import QUARANTINE_SCHEMA, FileResult, inbox_files, ingest_files
from pipeline.lake import Lake
from pipeline.silver import current
from pipeline.sources import sources


def _contact(contact_id: str, extract_date: date, sha: str) -> dict[str, object]:
    row: dict[str, object] = {name: None for name in {**CONTACT, **LINEAGE}}
    row.update(contact_id=contact_id, source_system="hubspot", customer_id=f"c_{contact_id:0>16}",
               created_at=datetime(2026, 1, 1, tzinfo=UTC), phone_sha256_meta="meta-hash", source="crm_contacts",
               source_format="hubspot_contacts", extract_date=extract_date, file_sha256=sha, row_number=2)
    return row


def test_old_and_new_clean_files_read_together(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    schema = {**CONTACT, **LINEAGE}
    old = pl.DataFrame([_contact("1", date(2026, 1, 1), "a" * 64)], schema=schema).drop("phone_sha256_meta")
    new = pl.DataFrame([_contact("2", date(2026, 1, 2), "b" * 64)], schema=schema)
    lake.write(lake.clean_path("contact", date(2026, 1, 1), "a" * 64), old)
    lake.write(lake.clean_path("contact", date(2026, 1, 2), "b" * 64), new)
    got = current(lake.clean("contact", date(2026, 1, 2)), "contact", date(2026, 1, 2)).collect()
    assert got.select("contact_id", "phone_sha256_meta").rows() == [("1", None), ("2", "meta-hash")]


# -- the manifest index --------------------------------------------------------------------------------------

START = date(2026, 8, 3)
DAYS = [START + timedelta(days=i) for i in range(3)]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake with three nights of demo exports ingested, night by night."""
    home = tmp_path_factory.mktemp("index")
    generate_demo(home / "inbox", START, len(DAYS), 60, 3)
    lake = Lake(home / "lake")
    for day in DAYS:
        ingest_files(lake, inbox_files(home / "inbox", [day], sources()))
    return home / "lake"


@pytest.fixture
def lake(ingested: Path, tmp_path: Path) -> Lake:
    """A copy of the ingested lake that a test may change."""
    shutil.copytree(ingested, tmp_path / "lake")
    return Lake(tmp_path / "lake")


def json_entries(lake: Lake) -> list[FileResult]:
    """The manifest as the JSON files say, read without the lake's code."""
    return [FileResult.from_json(p.read_text(encoding="utf-8")) for p in sorted((lake.root / "manifest").glob("*.json"))]


def index_of(entries: list[FileResult]) -> list[tuple[str, date, str, str, bool]]:
    return sorted((e.file_sha256, e.extract_date, e.source, e.source_format, bool(e.columns)) for e in entries)


def stored_index(lake: Lake) -> list[tuple[str, date, str, str, bool]]:
    frame = pl.read_parquet(lake.manifest_index_path())
    return frame.drop("entry_version").sort("file_sha256").rows()


def assert_manifest_agrees(lake: Lake) -> None:
    """Every way of asking the manifest gives what the JSON files say; the stored index holds the same."""
    entries = json_entries(lake)
    assert lake.manifest() == entries
    for day in [*DAYS, START - timedelta(days=1)]:
        assert lake.manifest(extract_dates=[day]) == [e for e in entries if e.extract_date == day]
    assert lake.manifest(extract_dates=DAYS) == [e for e in entries if e.extract_date in DAYS]
    assert lake.manifest_index().drop("entry_version").rows() == index_of(entries)
    assert stored_index(lake) == index_of(entries)


def test_ingest_keeps_a_manifest_index_equal_to_the_json_entries(lake: Lake) -> None:
    entries = json_entries(lake)
    assert {e.extract_date for e in entries} == set(DAYS) and len(entries) > 3 * 5
    assert stored_index(lake) == index_of(entries)  # written by ingest, not by the first query
    written = lake.manifest_index_path().stat().st_mtime_ns
    assert_manifest_agrees(lake)
    assert lake.manifest_index_path().stat().st_mtime_ns == written  # an index that matches is not rewritten
    assert not list((lake.root / "manifest").glob("*.tmp"))


def test_a_missing_index_is_rebuilt(lake: Lake) -> None:
    lake.manifest_index_path().unlink()
    assert lake.manifest(extract_dates=[DAYS[1]]) == [e for e in json_entries(lake) if e.extract_date == DAYS[1]]
    assert stored_index(lake) == index_of(json_entries(lake))
    assert_manifest_agrees(lake)


def test_an_entry_the_index_does_not_know_is_found(lake: Lake) -> None:
    """An entry written by hand, by an older kohde or before a crash (JSON written, index not): the index is rebuilt."""
    known = json_entries(lake)[0]
    extra = FileResult.from_json(known.to_json())
    extra.file_sha256, extra.original_name, extra.extract_date = "f" * 64, "by_hand.csv", DAYS[1]
    (lake.root / "manifest" / f"{extra.file_sha256}.json").write_text(extra.to_json(), encoding="utf-8")
    assert extra in lake.manifest(extract_dates=[DAYS[1]])
    assert_manifest_agrees(lake)

    lake.write_manifest(FileResult(source="google_ads", original_name="crashed.csv", file_sha256="e" * 64,
                                   size_bytes=1, extract_date=DAYS[2]))  # the process dies before index_manifest
    assert [e.original_name for e in lake.manifest(extract_dates=[DAYS[2]])].count("crashed.csv") == 1
    assert_manifest_agrees(lake)


def test_a_deleted_or_rewritten_entry_is_seen(lake: Lake) -> None:
    entries = json_entries(lake)
    gone, moved = entries[0], entries[1]
    lake.manifest_path(gone.file_sha256).unlink()
    assert gone not in lake.manifest(extract_dates=[gone.extract_date])
    assert_manifest_agrees(lake)

    # rewritten in place (same name, same size, a later modification time): the index follows the new content
    path = lake.manifest_path(moved.file_sha256)
    target = next(d for d in DAYS if d != moved.extract_date)
    text = path.read_text(encoding="utf-8").replace(moved.extract_date.isoformat(), target.isoformat())
    path.write_text(text, encoding="utf-8")
    later = lake.manifest_index_path().stat().st_mtime_ns + 10**9
    os.utime(path, ns=(later, later))
    assert moved.file_sha256 in [e.file_sha256 for e in lake.manifest(extract_dates=[target])]
    assert moved.file_sha256 not in [e.file_sha256 for e in lake.manifest(extract_dates=[moved.extract_date])]
    assert_manifest_agrees(lake)


def test_an_index_that_lost_rows_reads_only_the_entries_it_lost(lake: Lake) -> None:
    """Two ingests writing the index at once: the last write wins and the other's rows are missing."""
    entries = json_entries(lake)
    lost = [e for e in entries if e.extract_date == DAYS[2]]
    index = pl.read_parquet(lake.manifest_index_path())
    index.filter(pl.col("extract_date") != DAYS[2]).write_parquet(lake.manifest_index_path())
    # an entry the index still holds, made unreadable without changing its version: a full rebuild would fail on it
    untouched = lake.manifest_path(entries[0].file_sha256)
    assert entries[0] not in lost
    stat = untouched.stat()
    untouched.write_bytes(b"x" * stat.st_size)
    os.utime(untouched, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert lake.manifest(extract_dates=[DAYS[2]]) == lost
    assert stored_index(lake) == index_of(entries)


@pytest.mark.parametrize("content", [b"not parquet", b"old layout"], ids=["unreadable", "other-layout"])
def test_an_unreadable_or_foreign_index_is_rebuilt(lake: Lake, content: bytes) -> None:
    if content == b"old layout":
        pl.DataFrame({"file_sha256": ["a" * 64], "extract_date": [START]}).write_parquet(lake.manifest_index_path())
    else:
        lake.manifest_index_path().write_bytes(content)
    assert_manifest_agrees(lake)


def test_an_empty_lake_has_an_empty_manifest(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    assert lake.manifest() == [] and lake.manifest(extract_dates=DAYS) == []
    assert lake.manifest_index().height == 0


# -- listing the partitions ----------------------------------------------------------------------------------


def clean_by_full_listing(lake: Lake, entity: str, up_to: date) -> pl.DataFrame:
    """``Lake.clean`` as it was: glob every partition's files, then keep those up to the date."""
    files = sorted((lake.root / "clean" / entity).glob("extract_date=*/*.parquet"))
    kept = [f for f in files if date.fromisoformat(f.parent.name.split("=", 1)[1]) <= up_to]
    if not kept:
        return pl.DataFrame(schema={**ENTITIES[entity], **LINEAGE})
    return pl.scan_parquet(kept, hive_partitioning=False, schema={**ENTITIES[entity], **LINEAGE},
                           missing_columns="insert", extra_columns="ignore").collect()


@pytest.mark.parametrize("entity", ["touchpoint", "ad_daily", "contact"])
def test_clean_returns_the_rows_of_a_full_listing(lake: Lake, entity: str) -> None:
    (lake.root / "clean" / entity / "extract_date=2026-09-30").mkdir()  # an empty partition (a removed day)
    for up_to in [START - timedelta(days=1), START, DAYS[1], DAYS[2], DAYS[2] + timedelta(days=1), date.max]:
        got = lake.clean(entity, up_to).collect()
        assert_frame_equal(got, clean_by_full_listing(lake, entity, up_to))
        assert got.height > 0 or up_to < START
    full = clean_by_full_listing(lake, entity, date.max)
    assert_frame_equal(lake.clean(entity, DAYS[1], since=DAYS[1]).collect(), full.filter(pl.col("extract_date") == DAYS[1]))
    assert_frame_equal(lake.clean(entity, DAYS[2], since=DAYS[1]).collect(), full.filter(pl.col("extract_date") >= DAYS[1]))
    assert lake.clean_dates(entity, DAYS[1]) == DAYS[:2]
    assert lake.clean("touchpoint", START, since=DAYS[1]).collect().height == 0


def test_latest_extract_date_and_quarantine_by_date(lake: Lake, tmp_path: Path) -> None:
    assert lake.latest_extract_date() == DAYS[2]
    (lake.root / "clean" / "order" / "extract_date=2026-09-30").mkdir()  # a partition folder counts, as before
    assert lake.latest_extract_date() == date(2026, 9, 30)
    assert Lake(tmp_path / "empty").latest_extract_date() is None
    for i, (source, day) in enumerate([("orders", DAYS[0]), ("google_ads", DAYS[1]), ("orders", DAYS[2])]):
        row = {"source": source, "file_sha256": f"{i}" * 64, "row_number": 2, "extract_date": day, "source_format": "x",
               "check_name": "parse", "column_name": "spend", "reason": "parse:spend", "raw_row": "{}"}
        lake.write(lake.root / "quarantine" / source / f"extract_date={day}" / f"{i}.parquet",
                   pl.DataFrame([row], schema=QUARANTINE_SCHEMA))
    everything = pl.read_parquet(sorted((lake.root / "quarantine").glob("*/extract_date=*/*.parquet")),
                                 hive_partitioning=False)
    assert everything.height >= 3
    assert_frame_equal(lake.quarantine(), everything)
    for day in DAYS:
        assert_frame_equal(lake.quarantine(on=day), everything.filter(pl.col("extract_date") == day))
    assert_frame_equal(lake.quarantine(up_to=DAYS[1]), everything.filter(pl.col("extract_date") <= DAYS[1]))
