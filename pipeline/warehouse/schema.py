"""The warehouse tables as declared in ``warehouse/tables/<table>.sql``: the one data dictionary.

Each file holds one ``CREATE TABLE IF NOT EXISTS`` statement in a fixed, line-based format:

    -- One row per day, platform, account and campaign.        (the grain)
    -- What the table is for.                                  (optional purpose, may span lines)
    CREATE TABLE IF NOT EXISTS fct_ad_spend_daily (
        day DATE NOT NULL,  -- Reporting day in the ad account's time zone.
        PRIMARY KEY (day, platform, account_id, campaign_id)
    );

One column per line, its description in the ``--`` comment after it. The parsed definitions drive
the DDL (``create_table_sql``), the loads' type checks and the generated data dictionary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import WarehouseError

TABLES_DIR = Path(__file__).resolve().parents[2] / "warehouse" / "tables"

SQL_TYPES = ("TEXT", "DATE", "TIMESTAMPTZ", "BIGINT", "INTEGER", "DOUBLE PRECISION", "BOOLEAN")

_IDENTIFIER = r"[a-z_][a-z0-9_]*"
_CREATE = re.compile(rf"^CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+({_IDENTIFIER})\s*\($", re.IGNORECASE)
_COLUMN = re.compile(
    rf"^({_IDENTIFIER})\s+(TEXT|DATE|TIMESTAMPTZ|BIGINT|INTEGER|DOUBLE\s+PRECISION|BOOLEAN"
    r"|DECIMAL\s*\(\s*\d+\s*,\s*\d+\s*\))((?:\s+NOT\s+NULL|\s+PRIMARY\s+KEY)*)$",
    re.IGNORECASE,
)
_PRIMARY_KEY = re.compile(rf"^PRIMARY\s+KEY\s*\(\s*({_IDENTIFIER}(?:\s*,\s*{_IDENTIFIER})*)\s*\)$", re.IGNORECASE)
_DECIMAL = re.compile(r"^DECIMAL\((\d+),(\d+)\)$")


@dataclass(frozen=True)
class ColumnDef:
    """One column: its name, SQL type as written (normalised), nullability and description."""

    name: str
    sql_type: str
    not_null: bool
    description: str

    @property
    def decimal(self) -> tuple[int, int] | None:
        """(precision, scale) of a DECIMAL column, else None."""
        match = _DECIMAL.match(self.sql_type)
        return (int(match.group(1)), int(match.group(2))) if match else None


@dataclass(frozen=True)
class TableDef:
    """One warehouse table: name, grain (first comment line), purpose, columns and primary key."""

    name: str
    grain: str
    purpose: str
    columns: tuple[ColumnDef, ...]
    primary_key: tuple[str, ...]

    def column(self, name: str) -> ColumnDef:
        """The column called ``name``; KeyError if the table has none."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        """Column names in declaration order."""
        return [c.name for c in self.columns]

    @property
    def ddl(self) -> str:
        """The table's ``CREATE TABLE IF NOT EXISTS`` statement (see ``create_table_sql``)."""
        return create_table_sql(self)


def _normalise_type(raw: str) -> str:
    compact = re.sub(r"\s+", " ", raw.strip().upper())
    return re.sub(r"\s*([(),])\s*", r"\1", compact)


def parse_table(sql: str, source: str = "<sql>") -> TableDef:
    """Parse one table file's text into a TableDef; WarehouseError (naming ``source`` and line) if malformed."""
    def fail(line_number: int, message: str) -> WarehouseError:
        return WarehouseError(f"line {line_number}: {message}", file=source)

    header: list[str] = []
    name: str | None = None
    columns: list[ColumnDef] = []
    primary_key: tuple[str, ...] = ()
    descriptions: dict[str, list[str]] = {}
    closed = False
    for number, raw_line in enumerate(sql.splitlines(), start=1):
        line = raw_line.strip()
        if not line:
            continue
        if name is None:
            if line.startswith("--"):
                header.append(line[2:].strip())
                continue
            match = _CREATE.match(line)
            if not match:
                raise fail(number, "expected '-- grain' comment lines, then 'CREATE TABLE IF NOT EXISTS <name> ('")
            name = match.group(1).lower()
            continue
        if closed:
            if not line.startswith("--"):
                raise fail(number, "text after the closing ');' (one table per file)")
            continue
        if line.startswith("--"):
            if not columns:
                raise fail(number, "a comment before the first column (put the table's description above CREATE)")
            descriptions[columns[-1].name].append(line[2:].strip())
            continue
        if line in (");", ")"):
            closed = True
            continue
        definition, _, comment = line.partition("--")
        definition = definition.strip().rstrip(",").strip()
        pk_match = _PRIMARY_KEY.match(definition)
        if pk_match:
            if primary_key:
                raise fail(number, "a second PRIMARY KEY")
            primary_key = tuple(part.strip().lower() for part in pk_match.group(1).split(","))
            continue
        column_match = _COLUMN.match(definition)
        if not column_match:
            raise fail(number, f"cannot read column definition {definition!r} (one column per line, "
                               f"types: {', '.join(SQL_TYPES)}, DECIMAL(p,s))")
        column_name = column_match.group(1).lower()
        if column_name in descriptions:
            raise fail(number, f"column {column_name} declared twice")
        modifiers = _normalise_type(column_match.group(3))
        if "PRIMARY KEY" in modifiers:
            if primary_key:
                raise fail(number, "a second PRIMARY KEY")
            primary_key = (column_name,)
        descriptions[column_name] = [comment.strip()] if comment.strip() else []
        columns.append(ColumnDef(column_name, _normalise_type(column_match.group(2)), "NOT NULL" in modifiers, ""))
    if name is None:
        raise fail(1, "no 'CREATE TABLE IF NOT EXISTS <name> (' statement")
    if not closed:
        raise fail(len(sql.splitlines()), f"table {name} is not closed with ');'")
    if not columns:
        raise fail(1, f"table {name} has no columns")
    names = {c.name for c in columns}
    missing = [key for key in primary_key if key not in names]
    if missing:
        raise fail(1, f"primary key column(s) {', '.join(missing)} not declared in {name}")
    columns = [
        ColumnDef(c.name, c.sql_type, c.not_null or c.name in primary_key, " ".join(descriptions[c.name]))
        for c in columns
    ]
    return TableDef(
        name=name,
        grain=header[0] if header else "",
        purpose=" ".join(header[1:]),
        columns=tuple(columns),
        primary_key=primary_key,
    )


def tables(folder: Path | None = None) -> dict[str, TableDef]:
    """Every table declared under ``folder`` (default ``warehouse/tables``), by name, sorted by file name.

    Read afresh on every call (a few milliseconds), so a long-lived process sees edited files.
    """
    found: dict[str, TableDef] = {}
    for path in sorted((folder or TABLES_DIR).glob("*.sql")):
        table = parse_table(path.read_text(encoding="utf-8"), source=str(path))
        if table.name in found:
            raise WarehouseError(f"table {table.name} is declared in two files", file=str(path))
        found[table.name] = table
    return found


def quote(identifier: str) -> str:
    """Quote an identifier for PostgreSQL and DuckDB (names like ``day`` or ``month`` stay safe)."""
    return '"' + identifier.replace('"', '""') + '"'


def create_table_sql(table: TableDef, *, primary_key: bool = True) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for the table, valid on PostgreSQL and DuckDB.

    ``primary_key=False`` leaves the key out of the DDL (the key columns stay NOT NULL): DuckDB's
    key index makes a replace of N rows cost about 10 us per row at commit.
    """
    lines = [f"    {quote(c.name)} {c.sql_type}{' NOT NULL' if c.not_null else ''}" for c in table.columns]
    if table.primary_key and primary_key:
        lines.append(f"    PRIMARY KEY ({', '.join(quote(k) for k in table.primary_key)})")
    return f"CREATE TABLE IF NOT EXISTS {quote(table.name)} (\n" + ",\n".join(lines) + "\n)"


__all__ = ["SQL_TYPES", "TABLES_DIR", "ColumnDef", "TableDef", "create_table_sql", "parse_table", "quote", "tables"]
