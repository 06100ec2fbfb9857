"""The warehouse: table definitions from ``warehouse/tables``, atomic loads into DuckDB or PostgreSQL."""

from pipeline.warehouse.dictionary import comment_statements, render_markdown, write_docs
from pipeline.warehouse.engine import Keys, OneOf, Since, TableLoad, Warehouse, redact_url
from pipeline.warehouse.schema import ColumnDef, TableDef, parse_table, tables

__all__ = [
    "ColumnDef",
    "Keys",
    "OneOf",
    "TableDef",
    "Since",
    "TableLoad",
    "Warehouse",
    "comment_statements",
    "parse_table",
    "redact_url",
    "render_markdown",
    "tables",
    "write_docs",
]
