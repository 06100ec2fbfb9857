"""Ingest one day's inbox: land bytes, parse every file, validate, split clean from quarantine.

Per file: the bytes land untouched in ``lake/landing`` (named by sha256), every row is kept as
text in ``lake/raw`` (bronze), typed good rows go to ``lake/clean/<entity>`` (silver) and bad rows
to ``lake/quarantine`` with their reasons. The same bytes twice are a no-op: the manifest in
``lake/manifest/<sha256>.json`` says the file was read, and its outputs are reused.

Accounting per file: rows read = rows loaded + rows quarantined + exact duplicates dropped.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from pipeline.entities import BUSINESS_KEYS, ENTITIES, LINEAGE
from pipeline.errors import AccountingError, InputFileError, KohdeError
from pipeline.ingest.checks import (
    ContentCounts,
    add_counts,
    content_counts,
    content_messages,
    content_warnings,
    currency_warnings,
    drift_warnings,
)
from pipeline.ingest.read import RawTable, check_truncation, locate_body, read_rows, read_table, shape_rows
from pipeline.ingest.stream import CHUNK_BYTES, NotChunkable, Probe, body_chunks, probe, read_head
from pipeline.lake import Lake
from pipeline.sources import formats_for
from pipeline.sources.base import RECONCILE_COLUMNS, ParseContext, SourceFormat, parse_table
from pipeline.validate import (
    ValidationOutcome,
    merge_outcomes,
    raise_on_critical,
    uniqueness_keys,
    validate_batch,
)

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.Utf8(),
    "file_sha256": pl.Utf8(),
    "row_number": pl.Int64(),
    "extract_date": pl.Date(),
    "source_format": pl.Utf8(),
    "check_name": pl.Utf8(),
    "column_name": pl.Utf8(),
    "reason": pl.Utf8(),
    "raw_row": pl.Utf8(),
}


@dataclass
class FileResult:
    """What happened to one inbox file: the manifest entry and the run's accounting for it."""

    source: str
    original_name: str
    file_sha256: str
    size_bytes: int
    extract_date: date
    source_format: str = ""
    entity: str = ""
    encoding: str = ""
    encoding_fallback: bool = False
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    rows_warned: int = 0
    rows_forgotten: int = 0         # rows of people erased with ``kohde forget`` (tombstones), dropped unread
    furniture_rows: int = 0
    skipped: bool = False           # same bytes already ingested (here or under another date)
    warnings: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # the header as written, for schema-drift warnings

    def to_json(self) -> str:
        """Manifest form."""
        data = asdict(self)
        data["extract_date"] = self.extract_date.isoformat()
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FileResult:
        """Read a manifest entry."""
        data = json.loads(text)
        data["extract_date"] = date.fromisoformat(data["extract_date"])
        return cls(**data)


@dataclass
class _Parsed:
    result: FileResult
    fmt: SourceFormat
    typed: pl.DataFrame          # canonical columns + lineage + _errors + _raw (+ _dup); a chunked file: only
    raw_rows: pl.DataFrame       # what currency_warnings reads
    path: Path
    chunked: _Chunked | None = None


@dataclass
class _Chunked:
    """A big file read in chunks: its typed rows staged as Arrow IPC parts, its raw file, what GX found so far."""

    staging: Path
    outcome: ValidationOutcome
    duplicates: pl.DataFrame     # row_number of the exact duplicates dropped

    def typed(self) -> pl.LazyFrame:
        """Every staged typed row."""
        return pl.scan_ipc(sorted(self.staging.glob("typed_*.arrow")))

    @property
    def raw_file(self) -> Path:
        """The file's raw rows, written chunk by chunk in the lake's raw format (copied into place on success)."""
        return self.staging / "raw.parquet"


@dataclass(frozen=True)
class InboxFile:
    """A file found in the inbox: its source folder, path and extract (logical) date."""

    source: str
    path: Path
    extract_date: date


def inbox_files(inbox: Path, dates: Iterable[date], sources: Iterable[str]) -> list[InboxFile]:
    """Every file under ``inbox/<source>/<date>/`` for the dates, in a stable order."""
    found: list[InboxFile] = []
    source_list = list(sources)
    for day in dates:
        for source in source_list:
            folder = inbox / source / day.isoformat()
            if folder.is_dir():
                found.extend(InboxFile(source, p, day) for p in sorted(folder.iterdir())
                             if p.is_file() and not p.name.startswith("."))
    return found


def ingest_files(lake: Lake, files: list[InboxFile], chunk_bytes: int = CHUNK_BYTES) -> list[FileResult]:
    """Ingest a batch of inbox files; raise on a bad file or a critical expectation.

    Every file is parsed and the batch validated (one GX run per entity, whatever the number of
    dates) before anything is written to the lake, so a failed batch leaves the lake as it was.
    A file bigger than ``chunk_bytes`` is read, parsed and validated in chunks of about that size
    (``_parse_chunked``), so memory does not grow with the file; the lake ends up the same.
    """
    parsed: list[_Parsed] = []
    try:
        return _ingest(lake, files, chunk_bytes, parsed)
    finally:
        for item in parsed:
            if item.chunked is not None:
                shutil.rmtree(item.chunked.staging, ignore_errors=True)


def _ingest(lake: Lake, files: list[InboxFile], chunk_bytes: int, parsed: list[_Parsed]) -> list[FileResult]:
    from pipeline.privacy import drop_forgotten, tombstones

    erased = tombstones(lake)
    results: list[FileResult] = []
    in_batch: dict[str, FileResult] = {}
    for inbox_file in files:
        source, path, extract_date = inbox_file.source, inbox_file.path, inbox_file.extract_date
        probed = probe(path)
        sha = probed.sha256
        known = lake.manifest_entry(sha)
        if known is None and sha in in_batch:
            # the same bytes earlier in this batch: as in nightly order, the first date owns them
            known = FileResult.from_json(in_batch[sha].to_json())
        if known is not None:
            known.skipped = True
            results.append(known)
            continue
        result = FileResult(source=source, original_name=path.name, file_sha256=sha, size_bytes=probed.size,
                            extract_date=extract_date)
        read = None
        if probed.chunkable and probed.size > chunk_bytes:
            read = _parse_chunked(path, result, source, extract_date, probed, chunk_bytes, erased)
        if read is None:
            read = _parse(path, result, source, extract_date)
            read.typed, read.raw_rows, result.rows_forgotten = drop_forgotten(read.typed, read.raw_rows, erased)
            result.rows_read -= result.rows_forgotten  # an erased person's rows are not read at all
        parsed.append(read)
        results.append(result)
        in_batch[sha] = result

    _warn_drift(lake, [p.result for p in parsed])
    for item in parsed:
        if item.result.entity == "ad_daily":
            earlier = earlier_currencies(lake, item.typed, item.result.extract_date - timedelta(days=1))
            item.result.warnings.extend(currency_warnings(earlier, item.typed))
    outcomes: dict[str, ValidationOutcome] = {}
    for entity in sorted({p.result.entity for p in parsed if p.chunked is None}):
        # Exact duplicates are dropped before validation, so the uniqueness expectation sees only real conflicts.
        batch = pl.concat([p.typed.filter(~pl.col("_dup")).drop("_errors", "_raw", "_dup")
                           for p in parsed if p.result.entity == entity and p.chunked is None],
                          how="vertical_relaxed")
        outcome = validate_batch(entity, batch)
        raise_on_critical(entity, outcome)
        outcomes[entity] = outcome

    written: list[FileResult] = []
    try:
        for item in parsed:
            if item.chunked is None:
                _split_and_write(lake, item, outcomes[item.result.entity])
            else:
                _write_chunked(lake, item)
            written.append(item.result)
    finally:
        if written:  # the files whose manifest entry is written, even if a later file failed
            lake.index_manifest(written)
    return results


def earlier_currencies(lake: Lake, typed: pl.DataFrame, up_to: date) -> pl.LazyFrame:
    """What ``currency_warnings`` compares a file with: each of its accounts at its newest extraction up to ``up_to``.

    The rows are the clean ``ad_daily`` rows with a currency, in the lake's file order. The extractions
    are read newest first, 1, 2, 4, ... dates at a time, until every account of the file is found or
    the history ends: a night reads yesterday's ad files, not every earlier one.
    """
    keys = ["platform", "account_id"]
    pending = (typed.filter(pl.col("_errors").list.len() == 0).select(*keys, "currency_code").drop_nulls()
               .select(keys).unique())
    dates = lake.clean_dates("ad_daily", up_to)
    found: list[pl.DataFrame] = []
    window = 1
    while pending.height and dates:
        chosen, dates = dates[-window:], dates[:-window]
        rows = (lake.clean("ad_daily", chosen[-1], since=chosen[0])
                .select(*keys, "currency_code", "extract_date")
                .filter(pl.col("currency_code").is_not_null())
                .join(pending.lazy(), on=keys, how="semi", maintain_order="left")
                .collect())
        found.append(rows)
        pending = pending.join(rows.select(keys).unique(), on=keys, how="anti")
        window *= 2
    schema = {k: ENTITIES["ad_daily"][k] for k in (*keys, "currency_code")} | {"extract_date": pl.Date()}
    return pl.concat([pl.DataFrame(schema=schema), *found]).lazy()


def _warn_drift(lake: Lake, batch: list[FileResult]) -> None:
    """Compare each file's header with the previous file of its format (manifest or earlier in the batch)."""
    if not batch:
        return
    seen = [r for r in _previous_headers(lake, batch) if r.columns]
    for result in batch:
        earlier = [r for r in seen if r.source == result.source and r.source_format == result.source_format
                   and r.extract_date <= result.extract_date]
        if earlier:
            previous = max(earlier, key=lambda r: r.extract_date)
            result.warnings.extend(drift_warnings(result.columns, previous.columns, result.source_format))
        seen.append(result)


def _previous_headers(lake: Lake, batch: list[FileResult]) -> list[FileResult]:
    """The manifest entries ``_warn_drift`` can compare the batch with, in manifest order.

    For each file of the batch: the entries with a header of its format at the newest extract date on or before its own.
    """
    index = lake.manifest_index().filter(pl.col("has_columns"))
    formats = {(r.source, r.source_format) for r in batch}
    dates: dict[tuple[str, str], set[date]] = {}
    for source, source_format, day in index.select("source", "source_format", "extract_date").iter_rows():
        if (source, source_format) in formats:
            dates.setdefault((source, source_format), set()).add(day)
    wanted: set[tuple[str, str, date]] = set()
    for result in batch:
        key = (result.source, result.source_format)
        earlier = [d for d in dates.get(key, ()) if d <= result.extract_date]
        if earlier:
            wanted.add((*key, max(earlier)))
    shas = [sha for sha, *row in index.select("file_sha256", "source", "source_format", "extract_date").iter_rows()
            if tuple(row) in wanted]
    return [entry for sha in shas if (entry := lake.manifest_entry(sha)) is not None]


def _parse(path: Path, result: FileResult, source: str, extract_date: date) -> _Parsed:
    display = f"inbox/{source}/{extract_date.isoformat()}/{path.name}"
    formats = formats_for(source)
    if not formats:
        raise InputFileError(f"unknown source folder {source!r}", file=display)
    furniture = [p for f in formats for p in f.furniture_patterns]
    table = read_table(path, formats, display_name=display, furniture=furniture)
    fmt = next(f for f in formats if f.name == table.format_name)
    ctx = ParseContext(source=source, extract_date=extract_date, file_name=display, file_sha256=result.file_sha256)
    typed = _typed_rows(table, fmt, ctx)
    typed, content = content_warnings(table, fmt, typed)  # truncates over-long text before duplicates are found
    clean_row = pl.col("_errors").list.len() == 0
    typed = typed.with_columns(  # a later copy of an error-free row, equal in every canonical value
        (clean_row & ~pl.struct(list(ENTITIES[fmt.entity])).is_first_distinct().over(clean_row)).alias("_dup"))
    result.source_format = fmt.name
    result.columns = list(table.header)
    result.entity = fmt.entity
    result.encoding = table.encoding
    result.encoding_fallback = table.encoding_fallback
    # Formats that fold several lines into one record (Shopify line items) are counted in records.
    result.rows_read = typed.height
    if typed.height != table.rows.height:
        result.warnings.append(f"folded: {table.rows.height} lines read as {typed.height} records")
    result.furniture_rows = table.furniture.height
    if fmt.reconcile is not None:
        result.warnings.extend(fmt.reconcile(table, typed))
    result.warnings.extend([*table.notes, *content])
    if table.encoding_fallback:
        result.warnings.append("encoding: not UTF-8; read as Windows-1252")
    if table.rows.height == 0:
        result.warnings.append("empty: header only, no data rows")
    return _Parsed(result, fmt, typed, table.rows, path)


def _typed_rows(table: RawTable, fmt: SourceFormat, ctx: ParseContext) -> pl.DataFrame:
    """``parse_table`` with the lineage columns, its polars errors as one-line file errors."""
    try:
        typed = parse_table(table, fmt, ctx)
    except KohdeError:
        raise
    except (pl.exceptions.PolarsError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputFileError(f"{fmt.name}: cannot parse: {first}", file=ctx.file_name) from None
    return typed.with_columns(
        pl.lit(ctx.source).alias("source"),
        pl.lit(fmt.name).alias("source_format"),
        pl.lit(ctx.extract_date).alias("extract_date"),
        pl.lit(ctx.file_sha256).alias("file_sha256"),
    )


def _parse_chunked(path: Path, result: FileResult, source: str, extract_date: date, probed: Probe,
                   chunk_bytes: int, erased: pl.DataFrame) -> _Parsed | None:
    """Read, parse and validate a big file chunk by chunk; None when it must be read whole instead.

    Each chunk is parsed and checked by every expectation but uniqueness; its typed rows are staged
    as Arrow IPC and its raw rows appended to the file's raw Parquet. Rows are then compared across
    the whole file through 64-bit hashes kept per row: equal row hashes are exact-duplicate
    candidates and equal key hashes uniqueness candidates; only the candidates are read back,
    compared by value, and handed to the suite's uniqueness expectations. Memory holds one chunk
    plus ~30 bytes per row.
    """
    from pipeline.privacy import drop_forgotten

    display = f"inbox/{source}/{extract_date.isoformat()}/{path.name}"
    formats = formats_for(source)
    if not formats:
        raise InputFileError(f"unknown source folder {source!r}", file=display)
    try:
        start = locate_body(read_head(path), formats, display, bom=probed.bom)
    except InputFileError:
        return None  # the whole read gives the file's own error (or finds the header after all)
    fmt = next(f for f in formats if f.name == start.match.format_name)
    if not fmt.chunkable:
        return None
    ctx = ParseContext(source=source, extract_date=extract_date, file_name=display, file_sha256=result.file_sha256)
    canonical = list(ENTITIES[fmt.entity])
    keys = uniqueness_keys(fmt.entity)
    header = [c for c, n in zip(start.match.cells, start.names, strict=True) if not n.startswith("_blank_")]
    encoding = "utf-8-sig" if probed.bom else "utf-8"
    staging = Path(tempfile.mkdtemp(prefix="kohde-ingest-"))
    chunked = _Chunked(staging, ValidationOutcome(), pl.DataFrame(schema={"row_number": pl.Int64}))
    furniture = [p for f in formats for p in f.furniture_patterns]
    hashes: list[pl.DataFrame] = []
    furniture_rows: list[pl.DataFrame] = []
    counts: ContentCounts = {}
    currencies: list[pl.DataFrame] = []
    lines = records = 0
    raw_writer: pq.ParquetWriter | None = None
    # GX validates one chunk in a worker thread while the next is read and parsed (polars and the
    # Parquet writer release the GIL); its findings are settled before the next chunk is handed over.
    gx = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kohde-gx")
    validating: Future[ValidationOutcome] | None = None

    def settle() -> None:
        nonlocal validating
        if validating is not None:
            outcome, validating = validating.result(), None
            raise_on_critical(fmt.entity, outcome)
            merge_outcomes(chunked.outcome, outcome)

    try:
        for number, body in enumerate(body_chunks(path, start.offset, chunk_bytes)):
            body = body.replace(b"\r\n", b"\n")
            check_truncation(body, start.match.delimiter, len(start.names), display)
            rows = read_rows(body, start.match.delimiter, start.names, display)
            del body
            rows = rows.with_columns(pl.col("row_number") + lines)
            lines += rows.height
            rows, stripped = shape_rows(rows, start.names, furniture)
            furniture_rows.append(stripped)
            table = RawTable(path=display, format_name=fmt.name, header=header, rows=rows,
                             metadata_lines=start.metadata_lines, furniture=stripped,
                             encoding=encoding, encoding_fallback=False,
                             delimiter=start.match.delimiter)
            typed, chunk_counts = content_counts(table, fmt, _typed_rows(table, fmt, ctx))
            add_counts(counts, chunk_counts)
            typed, rows, forgotten = drop_forgotten(typed, rows, erased)
            result.rows_forgotten += forgotten
            records += typed.height + forgotten
            settle()
            validating = gx.submit(validate_batch, fmt.entity, typed.drop("_errors", "_raw"), "rows")
            hashes.append(typed.select(
                "row_number", (pl.col("_errors").list.len() == 0).alias("_clean"),
                pl.struct(canonical).hash().alias("_row"),
                *[pl.struct(key).hash().alias(f"_key{i}") for i, key in enumerate(keys)]))
            if fmt.entity == "ad_daily":
                currencies.append(typed.filter(pl.col("_errors").list.len() == 0)
                                  .select("platform", "account_id", "currency_code", "_errors").unique())
            typed.write_ipc(staging / f"typed_{number:06d}.arrow")  # read back once: no compression
            raw = _with_lineage(rows, result).to_arrow()
            if raw_writer is None:
                raw_writer = pq.ParquetWriter(chunked.raw_file, raw.schema, compression="zstd")
            raw_writer.write_table(raw.cast(raw_writer.schema))
        settle()
        if raw_writer is not None:
            raw_writer.close()
    except NotChunkable:
        _abandon(gx, raw_writer, staging)
        return None
    except BaseException:
        _abandon(gx, raw_writer, staging)
        raise
    gx.shutdown()
    if not hashes:  # no row below the header: nothing to gain from chunks
        shutil.rmtree(staging, ignore_errors=True)
        return None

    per_row = pl.concat(hashes)
    staged = chunked.typed()
    chunked.duplicates = _exact_duplicates(per_row, staged, canonical)
    _check_uniqueness(chunked, per_row, staged, keys, fmt.entity)
    result.source_format = fmt.name
    result.columns = header
    result.entity = fmt.entity
    result.encoding = encoding
    result.rows_read = records - result.rows_forgotten
    result.furniture_rows = sum(f.height for f in furniture_rows)
    if fmt.reconcile is not None:
        whole = RawTable(path=display, format_name=fmt.name, header=header, rows=pl.DataFrame(),
                         metadata_lines=start.metadata_lines, furniture=pl.concat(furniture_rows, how="vertical_relaxed"),
                         encoding=result.encoding, encoding_fallback=False, delimiter=start.match.delimiter)
        wanted = ["row_number", *[c for c in RECONCILE_COLUMNS if c in canonical]]
        typed_view = staged.select(wanted).collect()
        result.warnings.extend(fmt.reconcile(whole, typed_view))
    result.warnings.extend(content_messages(counts))
    currency_rows = pl.concat(currencies) if currencies else pl.DataFrame()
    return _Parsed(result, fmt, currency_rows, pl.DataFrame(), path, chunked)


def _abandon(gx: ThreadPoolExecutor, raw_writer: pq.ParquetWriter | None, staging: Path) -> None:
    """Stop a chunked read: let a running validation end, close the raw file, remove the staging folder."""
    gx.shutdown(wait=True, cancel_futures=True)
    if raw_writer is not None:
        raw_writer.close()
    shutil.rmtree(staging, ignore_errors=True)


def _exact_duplicates(per_row: pl.DataFrame, staged: pl.LazyFrame, canonical: list[str]) -> pl.DataFrame:
    """Row numbers of error-free rows equal in every canonical value to an earlier error-free row."""
    clean = per_row.filter(pl.col("_clean"))
    candidates = clean.filter(pl.col("_row").is_duplicated())
    if candidates.height == 0:
        return pl.DataFrame(schema={"row_number": pl.Int64})
    # equal hashes are checked by value: a hash collision must not drop a row
    rows = (staged.filter(pl.col("row_number").is_in(candidates["row_number"].implode()))
            .select("row_number", *canonical).collect().sort("row_number"))
    return rows.filter(~pl.struct(canonical).is_first_distinct()).select("row_number")


def _check_uniqueness(chunked: _Chunked, per_row: pl.DataFrame, staged: pl.LazyFrame,
                      keys: list[list[str]], entity: str) -> None:
    """The suite's uniqueness expectations, on the rows (not exact duplicates) whose key hash repeats."""
    if not keys:
        return
    kept = per_row.join(chunked.duplicates, on="row_number", how="anti")
    repeated = pl.any_horizontal([pl.col(f"_key{i}").is_duplicated() for i in range(len(keys))])
    candidates = kept.filter(repeated)["row_number"]
    if candidates.is_empty():
        return
    columns = sorted({c for key in keys for c in key} | {"file_sha256", "row_number"})
    rows = staged.filter(pl.col("row_number").is_in(candidates.implode())).select(columns).collect()
    outcome = validate_batch(entity, rows, part="uniqueness")
    raise_on_critical(entity, outcome)
    merge_outcomes(chunked.outcome, outcome)


def _write_chunked(lake: Lake, item: _Parsed) -> None:
    """The lake writes of a file read in chunks: the same files ``_split_and_write`` writes, streamed from staging."""
    assert item.chunked is not None
    result, chunked, entity = item.result, item.chunked, item.result.entity
    columns = list(ENTITIES[entity])
    prefix = result.file_sha256 + ":"
    duplicates = chunked.duplicates["row_number"]
    gx = {int(k.removeprefix(prefix)): v for k, v in chunked.outcome.quarantine.items() if k.startswith(prefix)}
    typed = _with_more_errors(chunked.typed(), pl.DataFrame(
        {"row_number": list(gx), "_more": list(gx.values())}, schema={"row_number": pl.Int64, "_more": pl.List(pl.Utf8)}))
    is_bad = pl.col("_errors").list.len() > 0
    bad = typed.filter(is_bad).collect()
    if duplicates.len():
        # as in _split_and_write: once exact duplicates are gone, rows that still share a key disagree
        conflicts = _requarantine_conflicts(
            typed.filter(~is_bad).select("row_number", *BUSINESS_KEYS[entity]).collect()
            .join(pl.DataFrame({"row_number": duplicates}), on="row_number", how="anti")
            .with_columns(pl.lit([], dtype=pl.List(pl.Utf8)).alias("_errors")), entity
        ).filter(pl.col("_errors").list.len() > 0).select("row_number", pl.col("_errors").alias("_more"))
        if conflicts.height:
            typed = _with_more_errors(typed, conflicts)
            bad = typed.filter(is_bad).collect()
    loaded = typed.filter(~is_bad & ~pl.col("row_number").is_in(duplicates.implode()))
    result.rows_duplicate = duplicates.len()
    if result.rows_duplicate:
        result.warnings.append(f"duplicates: {result.rows_duplicate} exact duplicate rows dropped")
    result.rows_loaded = loaded.select(pl.len()).collect().item()
    result.rows_quarantined = bad.height
    dropped = set(duplicates.to_list())  # a dropped duplicate's warnings are its original's
    result.rows_warned = sum(1 for k in chunked.outcome.warnings
                             if k.startswith(prefix) and int(k.removeprefix(prefix)) not in dropped)
    _check_accounting(result)
    if not result.rows_forgotten:
        lake.land(item.path, lake.landing_path(result))
    lake.land(chunked.raw_file, lake.raw_path(result))
    lake.write_lazy(lake.clean_path(entity, result.extract_date, result.file_sha256),
                    loaded.select(*columns, *[pl.col(c).cast(t) for c, t in LINEAGE.items()]))
    lake.write(lake.quarantine_path(result), quarantine_rows(bad, result))
    lake.write_manifest(result)


def _split_and_write(lake: Lake, item: _Parsed, outcome: ValidationOutcome) -> None:
    result, typed = item.result, item.typed
    entity = result.entity
    columns = list(ENTITIES[entity])
    vkey = pl.col("file_sha256") + pl.lit(":") + pl.col("row_number").cast(pl.Utf8)
    gx_reasons = {k: v for k, v in outcome.quarantine.items() if k.startswith(result.file_sha256 + ":")}
    if gx_reasons:
        extra = pl.DataFrame(
            {"_vk": list(gx_reasons), "_gx": [list(v) for v in gx_reasons.values()]},
            schema={"_vk": pl.Utf8, "_gx": pl.List(pl.Utf8)},
        )
        typed = (typed.with_columns(vkey.alias("_vk")).join(extra, on="_vk", how="left")
                 .with_columns(pl.col("_errors").list.concat(pl.col("_gx").fill_null([])).alias("_errors"))
                 .drop("_vk", "_gx"))
    result.rows_warned = sum(1 for k in outcome.warnings if k.startswith(result.file_sha256 + ":"))

    bad = typed.filter(pl.col("_errors").list.len() > 0)
    # Exact duplicates (every canonical value equal) are dropped and counted; key conflicts were
    # quarantined above by the suite's uniqueness expectation.
    deduped = typed.filter((pl.col("_errors").list.len() == 0) & ~pl.col("_dup"))
    result.rows_duplicate = typed.height - bad.height - deduped.height
    if result.rows_duplicate:
        result.warnings.append(f"duplicates: {result.rows_duplicate} exact duplicate rows dropped")
        deduped = _requarantine_conflicts(deduped, entity)
        bad = pl.concat([bad, deduped.filter(pl.col("_errors").list.len() > 0)])
        deduped = deduped.filter(pl.col("_errors").list.len() == 0)
    result.rows_loaded = deduped.height
    result.rows_quarantined = bad.height
    _check_accounting(result)

    if not result.rows_forgotten:  # bytes holding an erased person are not kept (pipeline.privacy)
        lake.land(item.path, lake.landing_path(result))
    lake.write(lake.raw_path(result), _with_lineage(item.raw_rows, result))
    clean = deduped.select(*columns, *[pl.col(c).cast(t) for c, t in LINEAGE.items()])
    lake.write(lake.clean_path(entity, result.extract_date, result.file_sha256), clean)
    lake.write(lake.quarantine_path(result), quarantine_rows(bad, result))
    lake.write_manifest(result)


def _check_accounting(result: FileResult) -> None:
    """Rows read = loaded + quarantined + exact duplicates, or the file fails."""
    if result.rows_read != result.rows_loaded + result.rows_quarantined + result.rows_duplicate:
        raise AccountingError(
            f"rows read {result.rows_read} != loaded {result.rows_loaded} + quarantined "
            f"{result.rows_quarantined} + duplicates {result.rows_duplicate}",
            file=f"inbox/{result.source}/{result.extract_date}/{result.original_name}",
        )


def _with_lineage(raw_rows: pl.DataFrame, result: FileResult) -> pl.DataFrame:
    """Raw (all-text) rows as the lake's raw zone keeps them: with the file's sha256 and extract date."""
    return raw_rows.with_columns(pl.lit(result.file_sha256).alias("file_sha256"),
                                 pl.lit(result.extract_date).alias("extract_date"))


def _with_more_errors(typed: pl.LazyFrame, more: pl.DataFrame) -> pl.LazyFrame:
    """``typed`` with the reasons of ``more`` (row_number, _more: list of reasons) appended to ``_errors``."""
    if more.height == 0:  # nothing to add: no join, which would hold a big file's staged rows at once
        return typed
    return (typed.join(more.lazy(), on="row_number", how="left", maintain_order="left")
            .with_columns(pl.col("_errors").list.concat(pl.col("_more").fill_null([])).alias("_errors"))
            .drop("_more"))


def _requarantine_conflicts(frame: pl.DataFrame, entity: str) -> pl.DataFrame:
    """After dropping exact duplicates, rows still sharing a business key disagree: quarantine them all."""
    key = list(BUSINESS_KEYS[entity])
    conflict = pl.len().over(key) > 1
    return frame.with_columns(
        pl.when(conflict).then(pl.col("_errors").list.concat(
            pl.lit(["gx:" + ",".join(key) + ": duplicate business key with conflicting values"])))
        .otherwise(pl.col("_errors")).alias("_errors")
    )


def quarantine_rows(bad: pl.DataFrame, result: FileResult) -> pl.DataFrame:
    """One quarantine row per failing row and reason: check, column, reason, masked raw row."""
    if bad.height == 0:
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    exploded = bad.select("row_number", "_raw", "_errors").explode("_errors").unique(
        subset=["row_number", "_errors"], maintain_order=True)
    parts = pl.col("_errors").str.splitn(":", 3)
    return exploded.select(
        pl.lit(result.source).alias("source"),
        pl.lit(result.file_sha256).alias("file_sha256"),
        pl.col("row_number"),
        pl.lit(result.extract_date).alias("extract_date"),
        pl.lit(result.source_format).alias("source_format"),
        parts.struct.field("field_0").alias("check_name"),
        parts.struct.field("field_1").alias("column_name"),
        pl.col("_errors").alias("reason"),
        pl.col("_raw").alias("raw_row"),
    ).unique(subset=["row_number", "check_name", "column_name"], keep="first", maintain_order=True).with_columns(
        # The warehouse key is (source, file, row, check): fold several columns of one check into one row.
        pl.col("reason")
    ).group_by(["source", "file_sha256", "row_number", "extract_date", "source_format", "check_name"],
               maintain_order=True).agg(
        pl.col("column_name").str.join(","), pl.col("reason").str.join("; "), pl.col("raw_row").first()
    ).select(list(QUARANTINE_SCHEMA)).cast(QUARANTINE_SCHEMA)
