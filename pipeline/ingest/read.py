"""Read an export file as it really is: sniff its encoding, delimiter and header, strip furniture.

Every cell comes back as text. Nothing here knows a vendor: the caller passes the candidate
formats of the source folder, and the first format whose signature matches a line of the file's
head decides where the header is (see ``locate_header``).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import polars as pl

from pipeline.errors import InputFileError

HEAD_LINES = 40  # how far down a header may sit (LinkedIn has ~5 metadata lines, Google 2)
DELIMITERS = (",", ";", "\t", "|")
ZIP_MAGIC = b"PK\x03\x04"


class Recogniser(Protocol):
    """What ``locate_header`` needs of a source format."""

    name: str

    def recognise(self, header: Sequence[str]) -> bool:
        """True when the normalised header cells are this format's header."""
        ...


@dataclass
class DecodedText:
    """A file's text after decoding, with how it was decoded."""

    text: str
    encoding: str
    encoding_fallback: bool = False
    undecodable_lines: set[int] = field(default_factory=set)  # 0-based physical lines


@dataclass
class RawTable:
    """An export's data rows, every cell as text, plus what surrounded them."""

    path: str
    format_name: str
    header: list[str]                 # the header cells as written (stripped of BOM and outer spaces)
    rows: pl.DataFrame                # one Utf8 column per header cell + "row_number" (1-based data row)
    metadata_lines: list[str]         # lines above the header (report name, date range, account ...)
    furniture: pl.DataFrame           # stripped total / footer rows, same columns as rows
    encoding: str
    encoding_fallback: bool
    delimiter: str
    bad_rows: dict[int, str] = field(default_factory=dict)  # row_number -> reason (undecodable, ragged)
    notes: list[str] = field(default_factory=list)  # what reading changed, as file warnings (e.g. NULs removed)

    def column(self, *aliases: str) -> str | None:
        """The header cell matching any alias (compared normalised), or None."""
        wanted = {normalise_header(a) for a in aliases}
        for cell in self.header:
            if normalise_header(cell) in wanted:
                return cell
        return None


def normalise_header(cell: str) -> str:
    """Lower-case, NFKC, no BOM, no quotes, collapsed whitespace: how headers are compared."""
    value = unicodedata.normalize("NFKC", cell).replace("\ufeff", "")
    value = value.replace("\u00a0", " ").replace("\u202f", " ")
    value = re.sub(r"[\"'\u201c\u201d\u2018\u2019\u00ab\u00bb]", "", value)
    return re.sub(r"\s+", " ", value).strip().lower()


def decode(data: bytes, name: str) -> DecodedText:
    """Decode bytes strictly: BOM, then UTF-8, then cp1252 (recorded); never lossy."""
    if not data:
        raise InputFileError("empty file (0 bytes); an export with no data still has a header", file=name)
    if data.startswith(ZIP_MAGIC):
        raise InputFileError(
            "is a ZIP archive or an .xlsx workbook, not a CSV; unzip it or export it as CSV", file=name
        )
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8", name, label="utf-8-sig")
    if data.startswith(b"\xff\xfe"):
        return _strict(data[2:], "utf-16-le", name)
    if data.startswith(b"\xfe\xff"):
        return _strict(data[2:], "utf-16-be", name)
    sample = data[:4000]
    if len(sample) >= 4 and sample.count(0) > len(sample) // 4:
        # UTF-16 without a BOM: ASCII text has a NUL in every other byte.
        odd_nuls = sample[1::2].count(0)
        even_nuls = sample[0::2].count(0)
        return _strict(data, "utf-16-le" if odd_nuls > even_nuls else "utf-16-be", name)
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    return _mixed_or_cp1252(data, name)


def _strict(data: bytes, encoding: str, name: str, label: str | None = None) -> DecodedText:
    try:
        return DecodedText(data.decode(encoding), label or encoding)
    except UnicodeDecodeError as exc:
        raise InputFileError(f"is not valid {encoding} at byte {exc.start}", file=name) from None


def _mixed_or_cp1252(data: bytes, name: str) -> DecodedText:
    """A file that is not UTF-8: cp1252 as a whole, or UTF-8 with a few foreign lines."""
    lines = data.split(b"\n")
    utf8_non_ascii = 0
    bad: set[int] = set()
    for number, line in enumerate(lines):
        try:
            line.decode("utf-8")
            if any(b > 0x7F for b in line):
                utf8_non_ascii += 1
        except UnicodeDecodeError:
            bad.add(number)
    if utf8_non_ascii and bad:
        # Mixed: a UTF-8 file with lines pasted from a cp1252 source. Those lines are quarantined.
        text_lines = [
            line.decode("cp1252", errors="replace") if n in bad else line.decode("utf-8")
            for n, line in enumerate(lines)
        ]
        return DecodedText("\n".join(text_lines), "utf-8", undecodable_lines=bad)
    try:
        return DecodedText(data.decode("cp1252"), "cp1252", encoding_fallback=True)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"is neither UTF-8 nor Windows-1252 (undecodable byte 0x{data[exc.start]:02x} at {exc.start})",
            file=name,
        ) from None


@dataclass
class HeaderMatch:
    """Where the header is and which format it belongs to."""

    format_name: str
    line_index: int      # 0-based physical line of the header
    delimiter: str
    cells: list[str]


def locate_header(lines: Sequence[str], formats: Sequence[Recogniser], name: str,
                  forced_delimiter: str | None = None) -> HeaderMatch:
    """Find the first line, within the head of the file, that some format recognises as its header."""
    delimiters = (forced_delimiter,) if forced_delimiter else DELIMITERS
    head = list(lines[:HEAD_LINES])
    for index, line in enumerate(head):
        if not line.strip():
            continue
        for delimiter in delimiters:
            if delimiter not in line and len(line.split()) > 1 and delimiter != forced_delimiter:
                continue
            cells = next(csv.reader([line], delimiter=delimiter), [])
            normalised = [normalise_header(c) for c in cells]
            for fmt in formats:
                if fmt.recognise(normalised):
                    return HeaderMatch(fmt.name, index, delimiter, [c.replace("\ufeff", "").strip() for c in cells])
    if forced_delimiter:
        try:
            actual = locate_header(lines, formats, name).delimiter
        except InputFileError:
            actual = None
        if actual is not None:
            raise InputFileError(f"its 'sep={forced_delimiter}' line contradicts the header, which is separated by "
                                 f"{actual!r}; remove the sep= line or save the file again", file=name)
    known = ", ".join(f.name for f in formats) or "none"
    raise InputFileError(
        f"header matches no known export format for this source folder (known: {known}); "
        "check the delimiter and that the file is the vendor's own export",
        file=name,
    )


def read_table(path: Path, formats: Sequence[Recogniser], *, display_name: str | None = None,
               furniture: Sequence[re.Pattern[str]] = ()) -> RawTable:
    """Decode, locate the header, and read every data row as text.

    ``furniture``: patterns matched against a row's first non-empty cell; matching rows (report
    totals, footers) are removed from the data and returned separately for reconciliation.
    """
    name = display_name or str(path)
    decoded = decode(path.read_bytes(), name)
    return parse_text(decoded, formats, name=name, furniture=furniture)


def sep_line(lines: Sequence[str]) -> str | None:
    """The delimiter an Excel ``sep=;`` first line forces, or None when the file has no such line."""
    if lines and lines[0].lower().startswith("sep=") and len(lines[0].strip()) == 5:
        return lines[0].strip()[4]
    return None


def parse_text(decoded: DecodedText, formats: Sequence[Recogniser], *, name: str,
               furniture: Sequence[re.Pattern[str]] = ()) -> RawTable:
    """Split decoded text into header, metadata, data rows and furniture."""
    # Whole-text operations only when needed, and only the head is split into lines: a big export
    # must not become millions of Python strings (time and memory).
    text, decoded.text = decoded.text, ""  # the caller's copy is not needed any more
    nuls = text.count("\x00")
    if nuls:
        text = text.replace("\x00", "")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            text = text.replace("\r", "\n")
    lines = text[:_head_end(text, HEAD_LINES + 2)].split("\n")
    skipped_chars = 0
    forced = sep_line(lines)
    if forced:
        skipped_chars = len(lines[0]) + 1
        lines = lines[1:]
        decoded.undecodable_lines = {n - 1 for n in decoded.undecodable_lines if n > 0}
    match = locate_header(lines, formats, name, forced)
    header = match.cells
    names = _column_names(header, name)
    body_start = skipped_chars + sum(len(line) + 1 for line in lines[: match.line_index + 1])
    metadata_lines = [line for line in lines[: match.line_index] if line.strip()]
    body = text[body_start:].encode("utf-8")
    del text
    check_truncation(body, match.delimiter, len(header), name)
    rows = read_rows(body, match.delimiter, names, name)
    del body
    bad_rows: dict[int, str] = {}
    if decoded.undecodable_lines:
        # Physical line -> data row: only exact when no quoted newlines precede it, which holds for
        # the line-oriented exports where mixed encodings are seen.
        first = match.line_index + 1
        for line_number in decoded.undecodable_lines:
            if line_number >= first:
                bad_rows[line_number - first + 1] = "encoding:row: line is not valid UTF-8 (mixed encodings)"
    rows, furniture_rows = shape_rows(rows, names, furniture)
    return RawTable(
        path=name,
        format_name=match.format_name,
        header=[c for c, n in zip(header, names, strict=True) if not n.startswith("_blank_")],
        rows=rows,
        metadata_lines=metadata_lines,
        furniture=furniture_rows,
        encoding=decoded.encoding,
        encoding_fallback=decoded.encoding_fallback,
        delimiter=match.delimiter,
        bad_rows=bad_rows,
        notes=[f"nul: {nuls} NUL characters removed from the text"] if nuls else [],
    )


def shape_rows(rows: pl.DataFrame, names: list[str], furniture: Sequence[re.Pattern[str]]
               ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Data rows without blank columns and blank lines, and the furniture rows split off."""
    data_cols = [c for c in names if not c.startswith("_blank_")]
    rows = rows.select(["row_number", *data_cols])
    # One pass over the row's text (empty cells are already NULL), not a strip per column.
    non_empty = (pl.concat_str(data_cols, ignore_nulls=True).str.contains(r"\S").fill_null(False)
                 if data_cols else pl.lit(False))
    rows = rows.filter(non_empty)
    is_furniture = _furniture_mask(data_cols, furniture)
    return rows.filter(~is_furniture), rows.filter(is_furniture)


@dataclass
class BodyStart:
    """Where a file's data rows start, found from its head: the header, the lines above it, the byte offset."""

    match: HeaderMatch
    names: list[str]           # column names as ``read_table`` names them (blank header cells: ``_blank_<i>``)
    metadata_lines: list[str]
    offset: int                # byte offset of the first data row


def locate_body(head: bytes, formats: Sequence[Recogniser], name: str, *, bom: int = 0) -> BodyStart:
    """The header of a UTF-8 file from its first bytes (which must hold whole lines up to the header)."""
    raw_lines = head[bom:].split(b"\n")[:HEAD_LINES + 2]
    lines = [line.decode("utf-8", errors="replace").removesuffix("\r") for line in raw_lines]
    forced = sep_line(lines)
    skipped = 1 if forced else 0
    match = locate_header(lines[skipped:], formats, name, forced)
    index = skipped + match.line_index
    offset = bom + sum(len(line) + 1 for line in raw_lines[: index + 1])
    metadata = [line for line in lines[skipped:index] if line.strip()]
    return BodyStart(match, _column_names(match.cells, name), metadata, offset)


def _head_end(text: str, count: int) -> int:
    """Offset just past the first ``count`` lines (or the end of the text)."""
    position = 0
    for _ in range(count):
        found = text.find("\n", position)
        if found < 0:
            return len(text)
        position = found + 1
    return position


def _column_names(header: list[str], name: str) -> list[str]:
    names: list[str] = []
    seen: dict[str, str] = {}
    for position, cell in enumerate(header):
        if not cell.strip():
            names.append(f"_blank_{position}")
            continue
        key = normalise_header(cell)
        if key in seen:
            raise InputFileError(f"duplicate column {cell!r} in the header; which one is meant is unknowable",
                                 file=name, column=cell)
        seen[key] = cell
        names.append(cell)
    return names


def check_truncation(body: bytes, delimiter: str, width: int, name: str) -> None:
    """A partial download ends mid-row: its last line has too few fields and no final newline."""
    if not body.strip(b"\n") or body.endswith(b"\n"):
        return
    last_line = body[body.rfind(b"\n") + 1:].decode("utf-8")
    if last_line.count('"') % 2 == 1:
        raise InputFileError("ends inside a quoted field: the file is truncated", file=name)
    fields = next(csv.reader([last_line], delimiter=delimiter), [])
    if 1 < len(fields) < width or (len(fields) == 1 and width > 1 and fields[0].strip()
                                   and not _looks_like_footer(fields[0])):
        raise InputFileError(
            f"last line has {len(fields)} of {width} fields and no final newline: the file is truncated",
            file=name,
        )


def _looks_like_footer(cell: str) -> bool:
    return bool(re.match(r"(?i)^(total|grand totals|confidential|copyright)", cell.strip()))


def read_rows(body: bytes, delimiter: str, names: list[str], name: str) -> pl.DataFrame:
    """Every record of a UTF-8 body (no header) as text, with a 1-based ``row_number``."""
    if not body.strip():
        return pl.DataFrame(schema={"row_number": pl.Int64, **{n: pl.Utf8 for n in names}})
    try:
        frame = pl.read_csv(
            body,
            has_header=False,
            schema={n: pl.Utf8 for n in names},
            separator=delimiter,
            quote_char='"',
            empty_string_is_null=True,
            raise_if_empty=False,
            missing_columns="insert",  # short rows only (a footer, a chunk of footers) are padded, as short rows are
        )
    except pl.exceptions.ComputeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "more fields" in first or "field" in first:
            raise InputFileError(f"a row has more fields than the header ({len(names)}); "
                                 "the delimiter or the quoting is broken", file=name) from None
        raise InputFileError(f"cannot be read as CSV: {first}", file=name) from None
    if frame.width > len(names):
        raise InputFileError(f"a row has more fields than the header ({len(names)})", file=name)
    return frame.with_row_index("row_number", offset=1).with_columns(pl.col("row_number").cast(pl.Int64))


def _furniture_mask(columns: list[str], patterns: Sequence[re.Pattern[str]]) -> pl.Expr:
    if not patterns or not columns:
        return pl.lit(False)
    # Empty cells are NULL (empty_string_is_null), so the first non-empty cell is a coalesce. A cell
    # of spaces before the label would hide it; the row then stays data and fails to parse (quarantined).
    first_cell = pl.coalesce([pl.col(c) for c in columns]).str.strip_chars()
    combined = "|".join(f"(?:{p.pattern})" for p in patterns)
    return first_cell.str.contains(combined).fill_null(False)
