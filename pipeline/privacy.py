"""Suppression list, erasure tombstones and the privacy audit log, kept in the lake.

```
lake/privacy/suppression.parquet   email_sha256, added_at           (kohde suppress --email)
lake/privacy/tombstones.parquet    customer_id, email_sha256, forgotten_at, request_id   (kohde forget)
lake/privacy/audit.jsonl           one JSON line per action: when, what, counts; never an identifier
inbox/plan/suppression*.csv        the business's own do-not-target list: an ``email`` (or ``email_sha256``) column
```
Emails are hashed as soon as they are read (``pipeline.identity``) and only hashes are stored.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from pipeline.errors import ConfigError, InputFileError
from pipeline.identity import customer_id_from_email_hash, email_sha256
from pipeline.lake import Lake, LakePath
from pipeline.settings import Settings

SUPPRESSION_SCHEMA: dict[str, pl.DataType] = {"email_sha256": pl.Utf8(), "added_at": pl.Datetime("us", "UTC")}
TOMBSTONE_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.Utf8(), "email_sha256": pl.Utf8(), "forgotten_at": pl.Datetime("us", "UTC"),
    "request_id": pl.Utf8(),
}
_SHA256_HEX = r"^[0-9a-f]{64}$"


def privacy_dir(lake: Lake) -> LakePath:
    """The lake folder of the suppression list, tombstones and audit log."""
    return lake.root / "privacy"


def hash_email_or_fail(email: str) -> str:
    """The email's SHA-256 (trimmed, lower-cased), or a one-line ConfigError for a non-address."""
    digest = email_sha256(email)
    if digest is None:
        raise ConfigError("--email is not an email address")  # the value itself is never echoed
    return digest


def _read(lake: Lake, path: LakePath, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return lake.read(path) if path.exists() else pl.DataFrame(schema=schema)


def _append(lake: Lake, path: LakePath, rows: pl.DataFrame, schema: dict[str, pl.DataType], key: str) -> None:
    current = _read(lake, path, schema)
    typed = rows.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])
    combined = pl.concat([current, typed]).unique(subset=[key], keep="first", maintain_order=True)
    lake.write(path, combined)


def audit(lake: Lake, action: str, request_id: str | None = None, **counts: object) -> str:
    """Append one audit line (time, action, request id, counts; no identifier) and return the request id."""
    request_id = request_id or uuid.uuid4().hex
    line = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "action": action, "request_id": request_id,
            **counts}
    lake.append_line(privacy_dir(lake) / "audit.jsonl", json.dumps(line, sort_keys=True))
    return request_id


# ---------------------------------------------------------------------------------------------
# Suppression: a do-not-target list honoured by every audience

def suppress(lake: Lake, email: str) -> None:
    """Add an email (stored as its hash only) to the suppression list; idempotent."""
    digest = hash_email_or_fail(email)
    row = pl.DataFrame({"email_sha256": [digest], "added_at": [datetime.now(UTC)]}, schema=SUPPRESSION_SCHEMA)
    _append(lake, privacy_dir(lake) / "suppression.parquet", row, SUPPRESSION_SCHEMA, "email_sha256")
    audit(lake, "suppress", entries=1)


def suppression_files(inbox: Path) -> list[Path]:
    """The business's suppression files: ``inbox/plan/suppression*.csv`` (beside the date folders)."""
    return sorted(p for p in (inbox / "plan").glob("suppression*.csv") if p.is_file())


def read_suppression_file(path: Path) -> set[str]:
    """Email hashes of a suppression CSV (``email`` in clear, hashed at once, or ``email_sha256``)."""
    display = f"inbox/plan/{path.name}"
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError("suppression list is not UTF-8: save it as 'CSV UTF-8'", file=display) from None
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        return set()
    header = [h.strip().lower() for h in rows[0]]
    if "email" in header:
        index, hashed = header.index("email"), False
    elif "email_sha256" in header:
        index, hashed = header.index("email_sha256"), True
    else:
        raise InputFileError("suppression list needs an 'email' or 'email_sha256' column", file=display)
    found: set[str] = set()
    for number, row in enumerate(rows[1:], start=2):
        cell = row[index].strip() if index < len(row) else ""
        if not cell:
            continue
        digest = cell.lower() if hashed else email_sha256(cell)
        if digest is None or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise InputFileError(f"line {number}: not an email address or SHA-256 hex", file=display)
        found.add(digest)
    return found


def suppressed_hashes(lake: Lake, inbox: Path) -> pl.DataFrame:
    """Every suppressed email hash: ``kohde suppress`` entries plus the inbox suppression files."""
    stored = set(_read(lake, privacy_dir(lake) / "suppression.parquet", SUPPRESSION_SCHEMA)["email_sha256"].to_list())
    for path in suppression_files(inbox):
        stored |= read_suppression_file(path)
    return pl.DataFrame({"email_sha256": sorted(stored)}, schema={"email_sha256": pl.Utf8()})


# ---------------------------------------------------------------------------------------------
# Tombstones: people erased under GDPR Art 17, kept out of every later ingest and audience

def tombstones(lake: Lake) -> pl.DataFrame:
    """Every erased person: customer_id and email hash (NULL when erased by a customer id without email)."""
    return _read(lake, privacy_dir(lake) / "tombstones.parquet", TOMBSTONE_SCHEMA)


def add_tombstone(lake: Lake, customer_id: str, digest: str | None, request_id: str, *, replace: bool = False) -> None:
    """Record an erasure (idempotent per customer; ``replace`` updates the entry, e.g. with the email hash found)."""
    row = pl.DataFrame({"customer_id": [customer_id], "email_sha256": [digest], "forgotten_at": [datetime.now(UTC)],
                        "request_id": [request_id]}, schema=TOMBSTONE_SCHEMA)
    path = privacy_dir(lake) / "tombstones.parquet"
    if replace:
        lake.write(path, tombstones(lake).filter(pl.col("customer_id") != customer_id))
    _append(lake, path, row, TOMBSTONE_SCHEMA, "customer_id")


def forgotten_mask(frame: pl.DataFrame, customer_ids: Iterable[str], email_hashes: Iterable[str]) -> pl.Series:
    """True for the rows of a typed (silver) frame that belong to an erased person."""
    ids, hashes = list(customer_ids), list(email_hashes)
    conditions = [pl.col(c).is_in(ids) for c in ("customer_id",) if c in frame.columns]
    conditions += [pl.col(c).is_in(hashes) for c in ("email_sha256", "contact_email_sha256") if c in frame.columns]
    if not conditions or (not ids and not hashes):
        return pl.Series([False] * frame.height, dtype=pl.Boolean)
    return frame.select(pl.any_horizontal(conditions).fill_null(False)).to_series()


def raw_rows_with_email(raw: pl.DataFrame, email_hashes: Iterable[str]) -> pl.Series:
    """True for the raw (all-text) rows with any cell whose trimmed, lower-cased text hashes to one of the hashes."""
    from pipeline.identity import email_sha256_expr

    hashes = list(email_hashes)
    text = [c for c, t in raw.schema.items() if t == pl.Utf8 and c not in ("file_sha256",)]
    if not hashes or not text or raw.height == 0:
        return pl.Series([False] * raw.height, dtype=pl.Boolean)
    # a cell may hold 'Name (email)' or several addresses: hash every address-looking token
    exploded = (raw.select(pl.int_range(pl.len()).alias("_i"), *text)
                .unpivot(index="_i", on=text, value_name="_cell")
                .filter(pl.col("_cell").str.contains("@", literal=True))
                .select("_i", pl.col("_cell").str.extract_all(r"[^\s<>()\[\]\"';,]+@[^\s<>()\[\]\"';,]+").alias("_t"))
                .explode("_t").drop_nulls("_t"))
    if exploded.height == 0:
        return pl.Series([False] * raw.height, dtype=pl.Boolean)
    hit = set(exploded.filter(email_sha256_expr("_t").is_in(hashes))["_i"].to_list())
    return pl.Series([i in hit for i in range(raw.height)], dtype=pl.Boolean)


def valid_customer_id(text: str) -> str:
    """A customer id as kohde writes it (``c_`` + 16 hex digits), or a ConfigError."""
    value = text.strip()
    if not (value.startswith("c_") and len(value) == 18 and all(c in "0123456789abcdef" for c in value[2:])):
        raise ConfigError(f"--customer-id {value[:40]!r} is not a kohde customer id (c_ + 16 hex digits)")
    return value




# ---------------------------------------------------------------------------------------------
# Erasure (GDPR Art 17): kohde forget

def _partition_files(lake: Lake, zone: str) -> list[LakePath]:
    return sorted((lake.root / zone).glob("*/extract_date=*/*.parquet"))


def forget(settings: Settings, *, email: str | None = None, customer_id: str | None = None) -> dict[str, int]:
    """Erase one person from the lake, the warehouse and the audience files; record a tombstone and an audit line.

    The person is found by customer id and email hash: typed rows in ``clean`` by ``customer_id`` /
    ``email_sha256``, raw rows by any cell whose address hashes to the email hash, plus the raw and
    quarantine rows with the same file and row number as any of those. Each Parquet file holding
    them is rewritten without them; the landing copy of such a file (bytes as delivered) is deleted.
    Returns counts per place (also in the audit line); running it again finds nothing more.
    """
    from pipeline.csv_safety import write_csv
    from pipeline.incremental import drop_state
    from pipeline.warehouse import Warehouse
    from pipeline.warehouse.schema import tables

    if (email is None) == (customer_id is None):
        raise ConfigError("give exactly one of --email or --customer-id")
    lake = Lake(settings.lake)
    digest = hash_email_or_fail(email) if email is not None else None
    cid = customer_id_from_email_hash(digest) if digest is not None else valid_customer_id(customer_id or "")
    hashes = [digest] if digest else []
    counts: dict[str, int] = {"clean_rows": 0, "raw_rows": 0, "quarantine_rows": 0, "landing_files": 0,
                              "audience_rows": 0}
    # the tombstone first: if erasure is interrupted, ingest already keeps the person out (and a re-run finishes it)
    request_id = uuid.uuid4().hex
    if digest is None:
        known = tombstones(lake).filter(pl.col("customer_id") == cid)["email_sha256"].drop_nulls()
        hashes = known.to_list()[:1]
    add_tombstone(lake, cid, digest or (hashes[0] if hashes else None), request_id)
    hash_recorded = bool(hashes)

    # 1. where the person is: (file_sha256, row_number) of their rows, from clean and raw
    hits: dict[str, set[int]] = {}
    phone_hashes: set[str] = set()
    for path in _partition_files(lake, "clean"):
        frame = lake.read(path)
        mask = forgotten_mask(frame, [cid], hashes)
        if mask.any():
            mine = frame.filter(mask)
            if digest is None and "email_sha256" in mine.columns:
                hashes = sorted(set(hashes) | set(mine["email_sha256"].drop_nulls().to_list()))
                if hashes and not hash_recorded:  # erased by customer id: keep the email hash found too
                    add_tombstone(lake, cid, hashes[0], request_id, replace=True)
                    hash_recorded = True
            for column in ("phone_sha256", "phone_sha256_meta"):
                if column in mine.columns:
                    phone_hashes |= set(mine[column].drop_nulls().to_list())
            for sha, row in mine.select("file_sha256", "row_number").iter_rows():
                hits.setdefault(sha, set()).add(row)
    for path in _partition_files(lake, "raw"):
        frame = lake.read(path)
        mask = raw_rows_with_email(frame.drop("row_number", "extract_date", strict=False), hashes)
        for row in frame.filter(mask)["row_number"].to_list():
            hits.setdefault(path.stem, set()).add(row)

    # 2. rewrite every zone without those rows
    for zone, key in (("clean", "clean_rows"), ("raw", "raw_rows"), ("quarantine", "quarantine_rows")):
        for path in _partition_files(lake, zone):
            frame = lake.read(path)
            if frame.height == 0 or "row_number" not in frame.columns:
                continue
            sha = frame["file_sha256"][0] if "file_sha256" in frame.columns else path.stem
            rows = hits.get(sha, set())
            mask = frame.select(pl.col("row_number").is_in(sorted(rows))).to_series()
            if zone == "clean":
                mask = mask | forgotten_mask(frame, [cid], hashes)
            kept = frame.filter(~mask)
            if kept.height != frame.height:
                counts[key] += frame.height - kept.height
                lake.write(path, kept)
    for sha in hits:
        for landing in (lake.root / "landing").glob(f"*/extract_date=*/{sha}__*"):
            landing.unlink()
            counts["landing_files"] += 1
    # the incremental state holds the person's touches too: the next run rebuilds from the rewritten lake
    drop_state(lake)

    # 3. the warehouse: every table with customer rows, and quarantine rows of the same file rows
    statements: list[tuple[str, dict[str, Any] | None]] = []
    for table in tables().values():
        columns = {c.name for c in table.columns}
        if "customer_id" in columns:
            statements.append((f'DELETE FROM "{table.name}" WHERE customer_id = :cid', {"cid": cid}))
        if "email_sha256" in columns and hashes:
            statements.append((f'DELETE FROM "{table.name}" WHERE email_sha256 IN :hashes', {"hashes": hashes}))
    for sha, rows in hits.items():
        statements.append(('DELETE FROM "ops_quarantine" WHERE file_sha256 = :sha AND row_number IN :rows',
                           {"sha": sha, "rows": sorted(rows)}))
    with Warehouse.connect(settings.warehouse_url) as warehouse:
        warehouse.upgrade()
        warehouse.execute_all(statements)  # one transaction: the person is gone from every table or none

    # 4. audience files already written: drop the person's rows (files kohde wrote, hashes only)
    identifiers = set(hashes) | phone_hashes
    for path in sorted((settings.audiences_dir).glob("*/*.csv")):
        frame = pl.read_csv(path, infer_schema=False)
        keep = ~pl.any_horizontal([pl.col(c).is_in(sorted(identifiers)).fill_null(False) for c in frame.columns])
        kept = frame.filter(keep) if identifiers and frame.width else frame
        if kept.height != frame.height:
            counts["audience_rows"] += frame.height - kept.height
            write_csv(kept, path)

    audit(lake, "forget", request_id, **counts)
    return counts


def drop_forgotten(typed: pl.DataFrame, raw_rows: pl.DataFrame, erased: pl.DataFrame
                   ) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """A parsed file without the rows of erased people (``tombstones``): typed rows, raw rows, rows dropped.

    Used by ingest so that re-reading an old export does not bring an erased person back.
    """
    if erased.height == 0:
        return typed, raw_rows, 0
    ids = erased["customer_id"].to_list()
    hashes = erased["email_sha256"].drop_nulls().to_list()
    raw_hit = raw_rows.filter(raw_rows_with_email(raw_rows.drop("row_number"), hashes))["row_number"]
    gone = typed.filter(forgotten_mask(typed, ids, hashes))["row_number"]
    rows = set(gone.to_list()) | set(raw_hit.to_list())
    kept_typed = typed.filter(~pl.col("row_number").is_in(sorted(rows)))
    kept_raw = raw_rows.filter(~pl.col("row_number").is_in(sorted(rows)))
    return kept_typed, kept_raw, typed.height - kept_typed.height


__all__ = [
    "add_tombstone", "audit", "customer_id_from_email_hash", "forget", "forgotten_mask", "hash_email_or_fail", "privacy_dir",
    "raw_rows_with_email", "read_suppression_file", "suppress", "suppressed_hashes", "suppression_files", "tombstones",
    "valid_customer_id",
]
