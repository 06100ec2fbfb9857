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
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from pipeline.entities import ENTITIES, LINEAGE

if TYPE_CHECKING:
    from pipeline.ingest.files import FileResult


class Lake:
    """Paths and atomic reads/writes under the lake root."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def landing_path(self, result: FileResult) -> Path:
        """Where a file's bytes land."""
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(result.original_name).name)[:120]
        return (self.root / "landing" / result.source / f"extract_date={result.extract_date.isoformat()}"
                / f"{result.file_sha256}__{safe}")

    def raw_path(self, result: FileResult) -> Path:
        """Bronze: the file's rows as text."""
        return (self.root / "raw" / result.source / f"extract_date={result.extract_date.isoformat()}"
                / f"{result.file_sha256}.parquet")

    def clean_path(self, entity: str, extract_date: date, sha: str) -> Path:
        """Silver: typed rows of one file."""
        return self.root / "clean" / entity / f"extract_date={extract_date.isoformat()}" / f"{sha}.parquet"

    def quarantine_path(self, result: FileResult) -> Path:
        """Quarantined rows of one file."""
        return (self.root / "quarantine" / result.source / f"extract_date={result.extract_date.isoformat()}"
                / f"{result.file_sha256}.parquet")

    def manifest_path(self, sha: str) -> Path:
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
        path = self.manifest_path(result.file_sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(result.to_json(), encoding="utf-8")
        tmp.replace(path)

    def write(self, path: Path, frame: pl.DataFrame) -> None:
        """Write a Parquet file atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".parquet.tmp")
        frame.write_parquet(tmp, compression="zstd", statistics=True)
        tmp.replace(path)

    def clean(self, entity: str, up_to: date) -> pl.LazyFrame:
        """All extractions of an entity with extract_date <= up_to (lineage columns included)."""
        files = sorted((self.root / "clean" / entity).glob("extract_date=*/*.parquet"))
        kept = [f for f in files if date.fromisoformat(f.parent.name.split("=", 1)[1]) <= up_to]
        if not kept:
            return pl.LazyFrame(schema={**ENTITIES[entity], **LINEAGE})
        # files written before a column was added to the entity read it as NULL
        return pl.scan_parquet(kept, hive_partitioning=False, schema={**ENTITIES[entity], **LINEAGE},
                               missing_columns="insert", extra_columns="ignore")

    def quarantine(self, up_to: date | None = None, on: date | None = None) -> pl.DataFrame:
        """Quarantined rows, optionally of one extract date."""
        from pipeline.ingest.files import QUARANTINE_SCHEMA

        files = sorted((self.root / "quarantine").glob("*/extract_date=*/*.parquet"))
        def keep(f: Path) -> bool:
            d = date.fromisoformat(f.parent.name.split("=", 1)[1])
            return (on is None or d == on) and (up_to is None or d <= up_to)
        kept = [f for f in files if keep(f)]
        if not kept:
            return pl.DataFrame(schema=QUARANTINE_SCHEMA)
        return pl.read_parquet(kept, hive_partitioning=False)

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
