"""The data dictionary: ``docs/warehouse.md`` and the warehouse's own table and column comments.

Both come from the table files in ``warehouse/tables`` (see ``pipeline.warehouse.schema``), so the
documentation a BI user reads in the repository and the comments their SQL client shows are the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pipeline.warehouse.schema import TableDef, quote, tables

_HEADER = """# Warehouse data dictionary

Generated from `warehouse/tables/*.sql` by `kohde warehouse docs`; edit the SQL files, not this page.
The same descriptions are stored in the warehouse as table and column comments (`kohde warehouse upgrade`).

Types are the same on DuckDB and PostgreSQL. Money is `DECIMAL(18,4)` with `currency_code` beside every
native amount and an `_eur` amount beside it; timestamps are `TIMESTAMPTZ` in UTC; business days are `DATE`
in the time zone the column's description names. Names are stable: columns may be added, never renamed.
"""


def table_comment(table: TableDef) -> str:
    """The table's comment: its grain, then what it is for."""
    return " ".join(part for part in (table.grain, table.purpose) if part)


def comments(table: TableDef) -> dict[str | None, str]:
    """Wanted comments of one table: key None for the table itself, else the column name."""
    wanted: dict[str | None, str] = {None: table_comment(table)}
    wanted.update({c.name: c.description for c in table.columns})
    return wanted


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_statement(table: str, column: str | None, text: str) -> str:
    """One ``COMMENT ON TABLE`` (column None) or ``COMMENT ON COLUMN`` statement, valid on PostgreSQL and DuckDB."""
    if column is None:
        return f"COMMENT ON TABLE {quote(table)} IS {_literal(text)}"
    return f"COMMENT ON COLUMN {quote(table)}.{quote(column)} IS {_literal(text)}"


def comment_statements(definitions: Iterable[TableDef] | None = None) -> list[str]:
    """Every COMMENT ON statement for the given tables (default: all of ``warehouse/tables``)."""
    chosen = tables().values() if definitions is None else definitions
    return [comment_statement(table.name, column, text)
            for table in chosen for column, text in comments(table).items()]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(definitions: Iterable[TableDef] | None = None) -> str:
    """The data dictionary as Markdown: an index, then every table's grain, purpose, key and columns."""
    chosen = sorted(tables().values() if definitions is None else definitions, key=lambda t: t.name)
    lines = [_HEADER, "| table | grain |", "|---|---|"]
    lines += [f"| [`{t.name}`](#{t.name}) | {_cell(t.grain)} |" for t in chosen]
    for table in chosen:
        lines += ["", f"## {table.name}", "", table.grain]
        if table.purpose:
            lines += ["", table.purpose]
        key = ", ".join(f"`{k}`" for k in table.primary_key) if table.primary_key else "none"
        lines += ["", f"Key: {key}", "", "| column | type | null | description |", "|---|---|---|---|"]
        lines += [f"| `{c.name}` | {c.sql_type} | {'not null' if c.not_null else 'null'} | {_cell(c.description)} |"
                  for c in table.columns]
    return "\n".join(lines) + "\n"


def write_docs(path: Path) -> None:
    """Write the data dictionary of every table in ``warehouse/tables`` to ``path`` (e.g. docs/warehouse.md)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_markdown(), encoding="utf-8")
    tmp.replace(path)


__all__ = ["comment_statement", "comment_statements", "comments", "render_markdown", "table_comment", "write_docs"]
