"""Table files parse into the data dictionary; every file in warehouse/tables follows the format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.errors import WarehouseError
from pipeline.warehouse.schema import TABLES_DIR, ColumnDef, TableDef, create_table_sql, parse_table, tables

SAMPLE = """-- One row per day, platform, account and campaign.
-- Ad spend from every platform
-- in one currency-aware shape.
CREATE TABLE IF NOT EXISTS fct_ad_spend_daily (
    day DATE NOT NULL,  -- Reporting day in the ad account's time zone.
    platform TEXT NOT NULL,  -- google_ads | meta_ads.
    account_id TEXT NOT NULL,  -- The platform's ad account id.
    campaign_id TEXT NOT NULL,  -- Campaign id, e.g. 123 -- as text.
    spend DECIMAL(18, 4),  -- Spend in the account currency (currency_code).
    rate decimal(18,8),  -- Rate to EUR,
    -- valid on day.
    share DOUBLE   PRECISION,  -- spend / total spend.
    shown_at TIMESTAMPTZ,  -- UTC.
    clicks BIGINT,
    flag BOOLEAN NOT NULL,  -- A flag.
    PRIMARY KEY (day, platform, account_id, campaign_id)
);
"""


def test_sample_parses_into_the_dictionary() -> None:
    assert parse_table(SAMPLE) == TableDef(
        name="fct_ad_spend_daily",
        grain="One row per day, platform, account and campaign.",
        purpose="Ad spend from every platform in one currency-aware shape.",
        columns=(
            ColumnDef("day", "DATE", True, "Reporting day in the ad account's time zone."),
            ColumnDef("platform", "TEXT", True, "google_ads | meta_ads."),
            ColumnDef("account_id", "TEXT", True, "The platform's ad account id."),
            ColumnDef("campaign_id", "TEXT", True, "Campaign id, e.g. 123 -- as text."),
            ColumnDef("spend", "DECIMAL(18,4)", False, "Spend in the account currency (currency_code)."),
            ColumnDef("rate", "DECIMAL(18,8)", False, "Rate to EUR, valid on day."),
            ColumnDef("share", "DOUBLE PRECISION", False, "spend / total spend."),
            ColumnDef("shown_at", "TIMESTAMPTZ", False, "UTC."),
            ColumnDef("clicks", "BIGINT", False, ""),
            ColumnDef("flag", "BOOLEAN", True, "A flag."),
        ),
        primary_key=("day", "platform", "account_id", "campaign_id"),
    )
    table = parse_table(SAMPLE)
    assert table.column("spend").decimal == (18, 4)
    assert table.column("share").decimal is None


def test_inline_primary_key_is_not_null() -> None:
    table = parse_table("-- One row per run.\nCREATE TABLE IF NOT EXISTS ops_x (\n"
                        "    run_id TEXT PRIMARY KEY,  -- Run.\n    note TEXT  -- Note.\n);\n")
    assert table.primary_key == ("run_id",)
    assert table.columns[0] == ColumnDef("run_id", "TEXT", True, "Run.")
    assert table.purpose == ""


def test_create_table_sql_quotes_every_name() -> None:
    table = parse_table("-- One row per month.\nCREATE TABLE IF NOT EXISTS m (\n"
                        "    month DATE NOT NULL,  -- Month.\n    value DECIMAL(18,4),  -- Value.\n"
                        "    PRIMARY KEY (month)\n);\n")
    assert create_table_sql(table) == (
        'CREATE TABLE IF NOT EXISTS "m" (\n    "month" DATE NOT NULL,\n    "value" DECIMAL(18,4),\n'
        '    PRIMARY KEY ("month")\n)'
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("CREATE TABLE t (\n    a VARCHAR(10),\n);", "line 1: expected '-- grain' comment lines"),
        ("-- One row per a.\nCREATE TABLE IF NOT EXISTS t (\n    a VARCHAR(10),  -- A.\n);",
         "line 3: cannot read column definition 'a VARCHAR(10)'"),
        ("-- One row per a.\nCREATE TABLE IF NOT EXISTS t (\n    a TEXT,  -- A.\n", "is not closed"),
        ("-- One row per a.\nCREATE TABLE IF NOT EXISTS t (\n    a TEXT,\n    PRIMARY KEY (b)\n);",
         "primary key column(s) b not declared in t"),
        ("-- One row per a.\nCREATE TABLE IF NOT EXISTS t (\n    a TEXT,\n    a TEXT\n);", "column a declared twice"),
        ("-- One row per a.\nCREATE TABLE IF NOT EXISTS t (\n    a TEXT\n);\nCREATE TABLE u (\n", "one table per file"),
    ],
)
def test_malformed_files_name_file_and_line(text: str, error: str) -> None:
    with pytest.raises(WarehouseError, match=f"^bad\\.sql: .*{re.escape(error)}"):
        parse_table(text, source="bad.sql")


def test_two_files_declaring_one_table_are_refused(tmp_path: Path) -> None:
    sql = "-- One row per a.\nCREATE TABLE IF NOT EXISTS t (\n    a TEXT  -- A.\n);\n"
    (tmp_path / "t.sql").write_text(sql)
    (tmp_path / "t_copy.sql").write_text(sql)
    with pytest.raises(WarehouseError, match="table t is declared in two files"):
        tables(tmp_path)


TABLE_FILES = sorted(TABLES_DIR.glob("*.sql"))


def test_the_project_declares_the_contract_tables() -> None:
    names = set(tables())
    assert {"ops_runs", "ops_file_manifest", "ops_quarantine"} <= names
    assert len(names) == len(TABLE_FILES)


@pytest.mark.parametrize("path", TABLE_FILES, ids=[p.stem for p in TABLE_FILES])
def test_every_table_file_parses_and_documents_itself(path: Path) -> None:
    table = parse_table(path.read_text(encoding="utf-8"), source=str(path))
    assert table.name == path.stem, "the file is named after its table"
    assert table.name.split("_", 1)[0] in {"fct", "dim", "mart", "ops"}
    assert table.grain.startswith("One row per "), "the first comment line states the grain"
    assert table.primary_key, "every table has a key"
    undocumented = [c.name for c in table.columns if not c.description]
    assert not undocumented, f"columns without a description: {undocumented}"


OPS_COLUMNS = {
    "ops_runs": [
        ("run_id", "TEXT"), ("command", "TEXT"), ("start_date", "DATE"), ("end_date", "DATE"),
        ("started_at", "TIMESTAMPTZ"), ("ended_at", "TIMESTAMPTZ"), ("status", "TEXT"), ("files_read", "BIGINT"),
        ("files_skipped", "BIGINT"), ("rows_read", "BIGINT"), ("rows_loaded", "BIGINT"),
        ("rows_quarantined", "BIGINT"), ("rows_duplicate", "BIGINT"), ("rows_warned", "BIGINT"), ("error", "TEXT"),
        ("steps_json", "TEXT"),
    ],
    "ops_file_manifest": [
        ("file_sha256", "TEXT"), ("source", "TEXT"), ("source_format", "TEXT"), ("original_name", "TEXT"),
        ("size_bytes", "BIGINT"), ("extract_date", "DATE"), ("encoding", "TEXT"), ("encoding_fallback", "BOOLEAN"),
        ("rows_read", "BIGINT"), ("rows_loaded", "BIGINT"), ("rows_quarantined", "BIGINT"),
        ("rows_duplicate", "BIGINT"), ("furniture_rows", "BIGINT"), ("first_run_id", "TEXT"),
        ("ingested_at", "TIMESTAMPTZ"),
    ],
    "ops_quarantine": [
        ("source", "TEXT"), ("file_sha256", "TEXT"), ("row_number", "BIGINT"), ("extract_date", "DATE"),
        ("source_format", "TEXT"), ("check_name", "TEXT"), ("column_name", "TEXT"), ("reason", "TEXT"),
        ("raw_row", "TEXT"),
    ],
}
OPS_KEYS = {
    "ops_runs": ("run_id",),
    "ops_file_manifest": ("file_sha256",),
    "ops_quarantine": ("source", "file_sha256", "row_number", "check_name"),
}


@pytest.mark.parametrize("name", sorted(OPS_COLUMNS))
def test_ops_tables_match_the_run_log_contract(name: str) -> None:
    table = tables()[name]
    assert [(c.name, c.sql_type) for c in table.columns] == OPS_COLUMNS[name]
    assert table.primary_key == OPS_KEYS[name]
