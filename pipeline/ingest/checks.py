"""File-level warnings on content that loads but deserves a look (WARN cases of the reference).

Each check returns one-line warnings for the file's ``FileResult.warnings``; none of them stops a
row from loading. Values are never echoed: a warning names the column and counts rows, since the
cells may hold personal data.

- ``mojibake``: text that was already decoded twice upstream (``JosÃ©`` for ``José``);
- ``pii``: an e-mail address in a column that is not personal (``Campaign`` = ``aino@example.fi``);
- ``long_text``: canonical text cells over ``MAX_TEXT`` characters, truncated to it.
"""

from __future__ import annotations

import polars as pl

from pipeline.ingest.read import RawTable, normalise_header
from pipeline.sources.base import SourceFormat, looks_personal

MAX_TEXT = 1000
# UTF-8 read as Windows-1252 or Latin-1: 'Ã' or 'Â' followed by a continuation-byte character, or 'â€'.
MOJIBAKE = (r"[ÃÂ][\x{80}-\x{BF}\x{152}\x{153}\x{160}\x{161}\x{178}\x{17D}\x{17E}\x{192}\x{2C6}\x{2DC}"
            r"\x{2013}-\x{203A}\x{20AC}\x{2122}]|â€|â‚¬")
EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"


def content_warnings(table: RawTable, fmt: SourceFormat, typed: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """The file's content warnings, and ``typed`` with over-long text cells truncated."""
    typed, counts = content_counts(table, fmt, typed)
    return typed, content_messages(counts)


ContentCounts = dict[tuple[str, str], int]  # (check, column) -> rows; summed over the chunks of a big file


def content_counts(table: RawTable, fmt: SourceFormat, typed: pl.DataFrame) -> tuple[pl.DataFrame, ContentCounts]:
    """Rows per content check and column, and ``typed`` with over-long text cells truncated."""
    counts: ContentCounts = {}
    columns = [c for c in table.header if c in table.rows.columns]
    if columns and table.rows.height:
        mojibake = table.rows.select(pl.any_horizontal(
            [pl.col(c).str.contains(MOJIBAKE).fill_null(False) for c in columns]).sum()).item()
        if mojibake:
            counts[("mojibake", "")] = mojibake
    pii_headers = {table.column(*spec.headers) for spec in fmt.fields if spec.pii}
    open_columns = [c for c in columns if c not in pii_headers and not looks_personal(c)]
    if open_columns and table.rows.height:
        hits = table.rows.select([pl.col(c).str.contains(EMAIL).fill_null(False).sum().alias(c) for c in open_columns])
        for column, count in zip(open_columns, hits.row(0), strict=True):
            if count:
                counts[("pii", column)] = count
    text_columns = [c for c, t in typed.schema.items() if t == pl.Utf8 and not c.startswith("_")]
    if text_columns and typed.height:
        long_counts = typed.select([(pl.col(c).str.len_chars() > MAX_TEXT).sum().alias(c) for c in text_columns])
        long = {c: n for c, n in zip(text_columns, long_counts.row(0), strict=True) if n}
        if long:
            typed = typed.with_columns([pl.col(c).str.slice(0, MAX_TEXT) for c in long])
            counts.update({("long_text", c): n for c, n in long.items()})
    return typed, counts


def add_counts(into: ContentCounts, other: ContentCounts) -> None:
    """Sum another chunk's counts into ``into`` (first-seen order kept)."""
    for key, count in other.items():
        into[key] = into.get(key, 0) + count


def content_messages(counts: ContentCounts) -> list[str]:
    """One warning per check, worded for the file."""
    warnings: list[str] = []
    if counts.get(("mojibake", "")):
        warnings.append(f"mojibake: {counts[('mojibake', '')]} rows have text that looks decoded twice upstream "
                        "(e.g. 'Ã©' for 'é'); re-export the file as UTF-8")
    for (check, column), count in counts.items():
        if check == "pii":
            warnings.append(f"pii: {count} rows have an e-mail address in column {column!r}, which is not a "
                            "personal column; the values are not logged")
    long = {column: count for (check, column), count in counts.items() if check == "long_text"}
    if long:
        warnings.append(f"long_text: {sum(long.values())} cells over {MAX_TEXT} characters truncated ("
                        + ", ".join(long) + ")")
    return warnings


def drift_warnings(columns: list[str], previous: list[str], fmt_name: str) -> list[str]:
    """Schema drift against the previous file of the same format: new columns (and gone optional ones) WARN once."""
    if not previous:
        return []
    before = {normalise_header(c) for c in previous}
    now = {normalise_header(c) for c in columns}
    new = [c for c in columns if normalise_header(c) not in before]
    gone = [c for c in previous if normalise_header(c) not in now]
    warnings = []
    if new:
        warnings.append(f"columns: new since the previous {fmt_name} file: " + ", ".join(repr(c) for c in new))
    if gone:
        warnings.append(f"columns: gone since the previous {fmt_name} file: " + ", ".join(repr(c) for c in gone))
    return warnings


def currency_warnings(previous: pl.LazyFrame, typed: pl.DataFrame) -> list[str]:
    """An ad account whose currency differs from its latest earlier extraction (WARN; sums never mix them).

    ``previous``: the clean ``ad_daily`` extractions before this file's extract date (all of them, or
    ``files.earlier_currencies``: only each account's newest). The latest is the row of the newest
    extract date, and among rows of that date the last one in the lake's file order.
    """
    keys = ["platform", "account_id"]
    now = typed.filter(pl.col("_errors").list.len() == 0).select(*keys, "currency_code").drop_nulls().unique()
    if now.height == 0:
        return []
    before = (previous.filter(pl.col("currency_code").is_not_null())
              .sort("extract_date", maintain_order=True).group_by(keys).agg(pl.col("currency_code").last().alias("before"))
              .collect())
    changed = now.join(before, on=keys).filter(pl.col("currency_code") != pl.col("before")).sort(keys)
    return [f"currency: {r['platform']} account {r['account_id']} was {r['before']} in the previous export, "
            f"now {r['currency_code']}" for r in changed.iter_rows(named=True)]
