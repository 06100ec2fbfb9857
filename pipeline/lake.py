"""The lake's layout: landing bytes, raw text rows, clean entities, quarantine and the file manifest.

```
lake/landing/<source>/extract_date=<D>/<sha256>__<original name>   bytes exactly as delivered
lake/raw/<source>/extract_date=<D>/<sha256>.parquet                 every data row as text
lake/clean/<entity>/extract_date=<D>/<sha256>.parquet               typed canonical rows + lineage
lake/quarantine/<source>/extract_date=<D>/<sha256>.parquet          failing rows with reasons
lake/manifest/<sha256>.json                                         one entry per file ever read
```
Every write goes to a temporary name first and is renamed into place, so a killed process never
leaves half a Parquet file behind.

The root is a local path or an S3 URL (``KOHDE_LAKE=s3://bucket/prefix``, a ``upath.UPath``); the
same code serves both. On an object store each object is written with one PUT, which is already
atomic, so there is no temporary name; Parquet is read by polars' own object-store reader.
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import polars as pl

from pipeline.entities import ENTITIES, LINEAGE

if TYPE_CHECKING:
    from upath import UPath

    from pipeline.ingest.files import FileResult

LakePath: TypeAlias = "Path | UPath"  # a local path, or a path in an object store (universal-pathlib)


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

    def write(self, path: LakePath, frame: pl.DataFrame) -> None:
        """Write a Parquet file atomically."""
        if not self.local:
            with path.open("wb") as handle:
                frame.write_parquet(handle, compression="zstd", statistics=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".parquet.tmp")
        frame.write_parquet(tmp, compression="zstd", statistics=True)
        tmp.replace(path)

    def write_lazy(self, path: LakePath, frame: pl.LazyFrame) -> None:
        """Stream a lazy frame into a Parquet file atomically, without collecting it."""
        if not self.local:
            frame.sink_parquet(self.source(path), compression="zstd", statistics=True,
                               storage_options=self.storage_options)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".parquet.tmp")
        frame.sink_parquet(tmp, compression="zstd", statistics=True)
        tmp.replace(path)

    def clean(self, entity: str, up_to: date) -> pl.LazyFrame:
        """All extractions of an entity with extract_date <= up_to (lineage columns included)."""
        files = sorted((self.root / "clean" / entity).glob("extract_date=*/*.parquet"))
        kept = [f for f in files if date.fromisoformat(f.parent.name.split("=", 1)[1]) <= up_to]
        if not kept:
            return pl.LazyFrame(schema={**ENTITIES[entity], **LINEAGE})
        # files written before a column was added to the entity read it as NULL
        return pl.scan_parquet([self.source(f) for f in kept], hive_partitioning=False,
                               schema={**ENTITIES[entity], **LINEAGE}, missing_columns="insert", extra_columns="ignore",
                               storage_options=self.storage_options)

    def quarantine(self, up_to: date | None = None, on: date | None = None) -> pl.DataFrame:
        """Quarantined rows, optionally of one extract date."""
        from pipeline.ingest.files import QUARANTINE_SCHEMA

        files = sorted((self.root / "quarantine").glob("*/extract_date=*/*.parquet"))
        def keep(f: LakePath) -> bool:
            d = date.fromisoformat(f.parent.name.split("=", 1)[1])
            return (on is None or d == on) and (up_to is None or d <= up_to)
        kept = [f for f in files if keep(f)]
        if not kept:
            return pl.DataFrame(schema=QUARANTINE_SCHEMA)
        return pl.read_parquet([self.source(f) for f in kept], hive_partitioning=False,
                               storage_options=self.storage_options)

    def latest_extract_date(self) -> date | None:
        """The newest inbox date with clean rows in the lake, or None for an empty lake."""
        days = [date.fromisoformat(p.name.removeprefix("extract_date="))
                for p in (self.root / "clean").glob("*/extract_date=*") if p.is_dir()]
        return max(days, default=None)

    def manifest(self) -> list[FileResult]:
        """Every manifest entry."""
        from pipeline.ingest.files import FileResult

        return [FileResult.from_json(p.read_text(encoding="utf-8"))
                for p in sorted((self.root / "manifest").glob("*.json"))]


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
