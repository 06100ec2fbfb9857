"""CSV files for people and ad platforms, safe to open in a spreadsheet (no formula injection).

OWASP "CSV Injection": a cell starting with ``=``, ``+``, ``-``, ``@``, TAB or CR is read as a
formula by Excel, LibreOffice and Google Sheets. Such a text cell is written with a leading ``'``,
which spreadsheets show as text. Hashes (hex) and numbers never start with those characters, so
only names (audiences, campaigns) and free text are ever changed.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula_expr(column: str) -> pl.Expr:
    """The text column with ``'`` put before any value that a spreadsheet would read as a formula."""
    value = pl.col(column)
    pattern = "^[" + "".join(FORMULA_STARTS).replace("-", r"\-") + "]"
    return pl.when(value.str.contains(pattern)).then(pl.lit("'") + value).otherwise(value).alias(column)


def escape_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column of the frame escaped (other columns unchanged)."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.Utf8]
    return frame.with_columns([escape_formula_expr(name) for name in text]) if text else frame


def write_csv(frame: pl.DataFrame, path: Path) -> None:
    """Write UTF-8 CSV with formulas escaped, atomically (a temporary name renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    escape_formulas(frame).write_csv(tmp)
    tmp.replace(path)
