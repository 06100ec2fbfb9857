"""The lake's layout: landing bytes, raw text rows, clean entities, quarantine and the file manifest.

```
lake/landing/<source>/extract_date=<D>/<sha256>__<original name>   bytes exactly as delivered
lake/raw/<source>/extract_date=<D>/<sha256>.parquet                 every data row as text
lake/clean/<entity>/extract_date=<D>/<sha256>.parquet               typed canonical rows + lineage
lake/quarantine/<source>/extract_date=<D>/<sha256>.parquet          failing rows with reasons
lake/manifest/<sha256>.json                                         one entry per file ever read
lake/manifest/index.parquet                                         one row per entry: date, source, format
```
Every write goes to a temporary name first and is renamed into place, so a killed process never
leaves half a Parquet file behind.

The JSON entries are the truth; the index is derived from them, so that a night can find its own
files without opening one JSON file per file ever read. Each index row keeps the version of its
entry (modification time and size locally, the ETag on an object store) and is checked against
one listing of the entries before it is used: a row whose entry is gone or has another version is
dropped, and an entry without a row (written by an older kohde, before a crash between the two
writes, by a concurrent ingest whose index write was overwritten, or by hand) is read from its
JSON file. A missing or unreadable index is rebuilt from all of them.

The root is a local path or an S3 URL (``KOHDE_LAKE=s3://bucket/prefix``, a ``upath.UPath``); the
same code serves both. On an object store each object is written with one PUT, which is already
atomic, so there is no temporary name; Parquet is read by polars' own object-store reader.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import polars as pl

from pipeline.entities import ENTITIES, LINEAGE

if TYPE_CHECKING:
    from upath import UPath

    from pipeline.ingest.files import FileResult

LakePath: TypeAlias = "Path | UPath"  # a local path, or a path in an object store (universal-pathlib)
ParquetCompression: TypeAlias = Literal["zstd", "lz4"]

MANIFEST_INDEX_SCHEMA: dict[str, pl.DataType] = {
    "file_sha256": pl.Utf8(),
    "entry_version": pl.Utf8(),    # the JSON entry's mtime_ns:size locally, its ETag on an object store
    "extract_date": pl.Date(),
    "source": pl.Utf8(),
    "source_format": pl.Utf8(),
    "has_columns": pl.Boolean(),   # the entry keeps the file's header (schema-drift warnings compare them)
}
PARTITION = "extract_date="


def partition_date(folder_name: str) -> date:
    """The date of an ``extract_date=<D>`` partition folder's name."""
    return date.fromisoformat(folder_name.removeprefix(PARTITION))


class Lake:
    """Paths and atomic reads/writes under the lake root."""

    def __init__(self, root: LakePath) -> None:
        self.root = root
        self.local = isinstance(root, Path)  # a plain local path: no fsspec, atomic temp+rename writes
        self.storage_options = None if self.local else polars_storage_options(root)

    def source(self, path: LakePath) -> str:
        """What polars reads: the local path, or the object's URL (with ``storage_options``)."""
        return str(path)

    def read(self, path: LakePath) -> pl.DataFrame:
        """One Parquet file of the lake."""
        return pl.read_parquet(self.source(path), storage_options=self.storage_options)

    def scan(self, relative: str) -> pl.LazyFrame:
        """A Parquet file of the lake, by its path under the root, as a lazy scan."""
        return pl.scan_parquet(self.source(self.root / relative), storage_options=self.storage_options)

    def write_text(self, path: LakePath, text: str) -> None:
        """Write a small text file atomically (temp+rename locally, one PUT on an object store)."""
        if not self.local:
            path.write_text(text, encoding="utf-8")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)

    def append_line(self, path: LakePath, line: str) -> None:
        """Append one line to a text file (an object store has no append: the small file is rewritten)."""
        if not self.local:
            before = path.read_text(encoding="utf-8") if path.exists() else ""
            path.write_text(before + line + "\n", encoding="utf-8")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def land(self, src: Path, dest: LakePath) -> None:
        """Copy a local file's bytes untouched into the lake (atomic rename locally, one PUT remotely)."""
        if not self.local:
            with src.open("rb") as reader, dest.open("wb") as writer:
                shutil.copyfileobj(reader, writer)
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(dest.suffix + ".tmp")
        shutil.copyfile(src, tmp)
        tmp.replace(dest)

    def landing_path(self, result: FileResult) -> LakePath:
        """Where a file's bytes land."""
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(result.original_name).name)[:120]
        return (self.root / "landing" / result.source / f"extract_date={result.extract_date.isoformat()}"
                / f"{result.file_sha256}__{safe}")

    def raw_path(self, result: FileResult) -> LakePath:
        """Bronze: the file's rows as text."""
        return (self.root / "raw" / result.source / f"extract_date={result.extract_date.isoformat()}"
                / f"{result.file_sha256}.parquet")

    def clean_path(self, entity: str, extract_date: date, sha: str) -> LakePath:
        """Silver: typed rows of one file."""
        return self.root / "clean" / entity / f"extract_date={extract_date.isoformat()}" / f"{sha}.parquet"

    def quarantine_path(self, result: FileResult) -> LakePath:
        """Quarantined rows of one file."""
        return (self.root / "quarantine" / result.source / f"extract_date={result.extract_date.isoformat()}"
                / f"{result.file_sha256}.parquet")

    def manifest_path(self, sha: str) -> LakePath:
        """The manifest entry of a file."""
        return self.root / "manifest" / f"{sha}.json"

    def manifest_entry(self, sha: str) -> FileResult | None:
        """The manifest entry of already-ingested bytes, or None."""
        from pipeline.ingest.files import FileResult

        path = self.manifest_path(sha)
        if not path.exists():
            return None
        return FileResult.from_json(path.read_text(encoding="utf-8"))

    def write_manifest(self, result: FileResult) -> None:
        """Record a file as ingested (written last, after its outputs)."""
        self.write_text(self.manifest_path(result.file_sha256), result.to_json())

    def write(self, path: LakePath, frame: pl.DataFrame, compression: ParquetCompression = "zstd") -> None:
        """Write a Parquet file atomically (``compression``: zstd for the lake's data, lz4 for the gold state)."""
        if not self.local:
            with path.open("wb") as handle:
                frame.write_parquet(handle, compression=compression, statistics=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".parquet.tmp")
        frame.write_parquet(tmp, compression=compression, statistics=True)
        tmp.replace(path)

    def write_lazy(self, path: LakePath, frame: pl.LazyFrame, compression: ParquetCompression = "zstd") -> None:
        """Stream a lazy frame into a Parquet file atomically, without collecting it (``compression`` as ``write``)."""
        if not self.local:
            frame.sink_parquet(self.source(path), compression=compression, statistics=True,
                               storage_options=self.storage_options)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".parquet.tmp")
        frame.sink_parquet(tmp, compression=compression, statistics=True)
        tmp.replace(path)

    def clean(self, entity: str, up_to: date, since: date | None = None) -> pl.LazyFrame:
        """All extractions of an entity with since <= extract_date <= up_to (lineage columns included)."""
        return self.scan_clean(entity, self.clean_files(entity, up_to, since))

    def clean_files(self, entity: str, up_to: date, since: date | None = None) -> list[str]:
        """The clean files of an entity with since <= extract_date <= up_to, as ``extract_date=<D>/<name>``, in path order."""
        folder = self.root / "clean" / entity
        kept = self.partition_files(folder, lambda d: d <= up_to and (since is None or d >= since))
        return ["/".join(source.rsplit("/", 2)[-2:]) for source in kept]

    def scan_clean(self, entity: str, files: list[str]) -> pl.LazyFrame:
        """Clean files of an entity named as ``clean_files`` names them (lineage columns included)."""
        if not files:
            return pl.LazyFrame(schema={**ENTITIES[entity], **LINEAGE})
        folder = self.root / "clean" / entity
        # files written before a column was added to the entity read it as NULL
        return pl.scan_parquet([self.source(folder / name) for name in files], hive_partitioning=False,
                               schema={**ENTITIES[entity], **LINEAGE}, missing_columns="insert", extra_columns="ignore",
                               storage_options=self.storage_options)

    def clean_dates(self, entity: str, up_to: date) -> list[date]:
        """The extract dates with a clean partition of the entity, up to ``up_to``, oldest first."""
        return [d for d in self.partition_dates(self.root / "clean" / entity) if d <= up_to]

    def quarantine(self, up_to: date | None = None, on: date | None = None) -> pl.DataFrame:
        """Quarantined rows, optionally of one extract date."""
        from pipeline.ingest.files import QUARANTINE_SCHEMA

        def keep(d: date) -> bool:
            return (on is None or d == on) and (up_to is None or d <= up_to)
        kept = [f for source in self.subfolders(self.root / "quarantine")
                for f in self.partition_files(self.root / "quarantine" / source, keep)]
        if not kept:
            return pl.DataFrame(schema=QUARANTINE_SCHEMA)
        return pl.read_parquet(kept, hive_partitioning=False,
                               storage_options=self.storage_options)

    def latest_extract_date(self) -> date | None:
        """The newest inbox date with clean rows in the lake, or None for an empty lake."""
        clean = self.root / "clean"
        days = [d for entity in self.subfolders(clean) for d in self.partition_dates(clean / entity)[-1:]]
        return max(days, default=None)

    def subfolders(self, folder: LakePath) -> list[str]:
        """The names of the folders directly under ``folder`` (none if it does not exist), sorted."""
        if self.local:
            try:
                with os.scandir(str(folder)) as entries:
                    return sorted(e.name for e in entries if e.is_dir())
            except FileNotFoundError:
                return []
        return sorted(info["name"].rstrip("/").rsplit("/", 1)[-1] for info in self._listing(folder)
                      if info.get("type") == "directory")

    def partition_dates(self, folder: LakePath) -> list[date]:
        """The dates of the ``extract_date=<D>`` partitions directly under ``folder``, oldest first."""
        return [partition_date(name) for name in self.subfolders(folder)
                if name.startswith(PARTITION)]

    def partition_files(self, folder: LakePath, keep: Callable[[date], bool]) -> list[str]:
        """What polars reads (``source``) for the Parquet files in ``folder/extract_date=<D>/`` of the dates kept, in path order.

        Locally the partitions are listed once and only the kept ones are opened; an object store
        lists the whole prefix in a few requests, which is cheaper than one request per partition.
        """
        if not self.local:
            files = sorted(folder.glob(f"{PARTITION}*/*.parquet"))
            return [self.source(f) for f in files if keep(partition_date(f.parent.name))]
        kept: list[str] = []
        for day in self.partition_dates(folder):
            if keep(day):
                partition = f"{folder}/{PARTITION}{day.isoformat()}"
                kept.extend(f"{partition}/{name}" for name in sorted(os.listdir(partition)) if name.endswith(".parquet"))
        return kept

    def manifest(self, extract_dates: Iterable[date] | None = None) -> list[FileResult]:
        """Manifest entries in file-hash order: every one, or those of the given extract dates (found with the index)."""
        from pipeline.ingest.files import FileResult

        if extract_dates is None:
            return [FileResult.from_json(p.read_text(encoding="utf-8"))
                    for p in sorted((self.root / "manifest").glob("*.json"))]
        wanted = set(extract_dates)
        for rebuild in (False, True):
            index = self._index_manifest([], rebuild=rebuild)
            shas = index.filter(pl.col("extract_date").is_in(sorted(wanted)))["file_sha256"].to_list()
            entries = [self.manifest_entry(sha) for sha in shas]
            found = [e for e in entries if e is not None and e.extract_date in wanted]
            if len(found) == len(shas):
                return found
            # an entry deleted or rewritten between the listing and the read: ask again on a rebuilt index
        return found

    def manifest_index(self) -> pl.DataFrame:
        """One row per manifest entry (``MANIFEST_INDEX_SCHEMA``), sorted by file hash; rebuilt if it does not match the entries."""
        return self._index_manifest([])

    def index_manifest(self, written: list[FileResult]) -> pl.DataFrame:
        """Add entries just written with ``write_manifest`` to the index: one index write per ingest batch."""
        return self._index_manifest(written)

    def manifest_index_path(self) -> LakePath:
        """The manifest index (derived from the JSON entries)."""
        return self.root / "manifest" / "index.parquet"

    def _index_manifest(self, written: list[FileResult], rebuild: bool = False) -> pl.DataFrame:
        """The stored index plus ``written``, checked entry by entry against one listing of the JSON entries.

        Rows whose entry is gone or has another version are dropped; entries without a matching row
        are read from their JSON files. So a lost update (two ingests writing the index at once) costs
        reading the few entries it lost, and only a missing or unreadable index reads them all.
        """
        listing = self._manifest_listing()
        expected = pl.DataFrame({"file_sha256": list(listing), "entry_version": list(listing.values())},
                                schema={"file_sha256": pl.Utf8(), "entry_version": pl.Utf8()})
        stored = None if rebuild else self._read_manifest_index()
        added = _index_rows([(e.file_sha256, e) for e in written], listing)
        base = pl.DataFrame(schema=MANIFEST_INDEX_SCHEMA) if stored is None else stored
        known = pl.concat([base.filter(~pl.col("file_sha256").is_in(added["file_sha256"].implode())), added])
        current = known.join(expected, on=["file_sha256", "entry_version"], how="semi")
        unknown = expected.join(current, on="file_sha256", how="anti")["file_sha256"].to_list()
        read = [(sha, entry) for sha in unknown if (entry := self.manifest_entry(sha)) is not None]
        index = pl.concat([current, _index_rows(read, listing)]).sort("file_sha256")
        if stored is None or written or unknown or current.height != stored.height:
            self._write_manifest_index(index)
        return index

    def _manifest_listing(self) -> dict[str, str]:
        """Every JSON entry of the manifest folder: file hash -> entry version, from one listing."""
        folder = self.root / "manifest"
        if self.local:
            try:
                with os.scandir(str(folder)) as found:
                    entries = [(e.name, e.stat()) for e in found if e.name.endswith(".json")]
            except FileNotFoundError:
                return {}
            return {name.removesuffix(".json"): f"{stat.st_mtime_ns}:{stat.st_size}" for name, stat in entries}
        return {info["name"].rsplit("/", 1)[-1].removesuffix(".json"): _object_version(info)
                for info in self._listing(folder) if info.get("type") == "file" and info["name"].endswith(".json")}

    def _listing(self, folder: Any) -> list[dict[str, Any]]:
        """One fresh listing of an object-store folder (fsspec's detail dicts); empty if there is nothing under it."""
        fs = folder.fs
        fs.invalidate_cache(folder.path)  # other processes and polars' own writer change the prefix behind fsspec's back
        try:
            return list(fs.ls(folder.path, detail=True))
        except FileNotFoundError:
            return []

    def _read_manifest_index(self) -> pl.DataFrame | None:
        """The stored index, or None if there is none or it is unreadable or of another layout."""
        path = self.manifest_index_path()
        if not path.exists():
            return None
        try:
            index = self.read(path)
        except (OSError, pl.exceptions.PolarsError):
            return None
        return index if index.schema == pl.Schema(MANIFEST_INDEX_SCHEMA) else None

    def _write_manifest_index(self, index: pl.DataFrame) -> None:
        """Write the index atomically; locally under a temporary name of its own, as concurrent ingests may both write it."""
        path = self.manifest_index_path()
        if not self.local:
            self.write(path, index)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
        index.write_parquet(str(tmp), compression="zstd", statistics=True)
        tmp.replace(path)


def _index_rows(entries: list[tuple[str, FileResult]], listing: dict[str, str]) -> pl.DataFrame:
    """Index rows of (entry file name's hash, entry), each with its version from the listing (None if not listed)."""
    return pl.DataFrame({
        "file_sha256": [sha for sha, _ in entries],
        "entry_version": [listing.get(sha) for sha, _ in entries],
        "extract_date": [e.extract_date for _, e in entries],
        "source": [e.source for _, e in entries],
        "source_format": [e.source_format for _, e in entries],
        "has_columns": [bool(e.columns) for _, e in entries],
    }, schema=MANIFEST_INDEX_SCHEMA)


def _object_version(info: dict[str, Any]) -> str:
    """An object's version from its listing: the ETag, or else its modification time and size."""
    if info.get("ETag"):
        return str(info["ETag"]).strip('"')
    modified = info.get("LastModified") or info.get("mtime") or info.get("created")
    if isinstance(modified, datetime):
        modified = modified.timestamp()
    return f"{modified}:{info.get('size')}"


def polars_storage_options(root: Any) -> dict[str, str]:
    """The object-store options polars needs for a UPath root: the endpoint of an S3-compatible server, if any.

    Credentials and region come from the standard AWS environment variables, read by polars itself.
    """
    endpoint = (getattr(root, "storage_options", None) or {}).get("endpoint_url")
    if not endpoint:
        return {}
    options = {"aws_endpoint_url": endpoint}
    if endpoint.startswith("http://"):
        options["aws_allow_http"] = "true"
    return options
