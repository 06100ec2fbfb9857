"""The warehouse engine on DuckDB: the shared engine checks, plus the single-writer file lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import WarehouseBusy
from pipeline.warehouse import Warehouse
from tests.warehouse import engine_checks as checks


def test_upgrade_creates_every_project_table_once(duckdb_url: str) -> None:
    checks.check_upgrade_creates_every_project_table_once(duckdb_url)


def test_views_created_and_readable(duckdb_url: str) -> None:
    checks.check_views(duckdb_url)


def test_upgrade_adds_columns_and_comments(duckdb_url: str, tables_dir: Path) -> None:
    checks.check_upgrade_adds_columns_and_comments(duckdb_url, tables_dir)


def test_replace_by_partition(duckdb_url: str, tables_dir: Path) -> None:
    checks.check_replace_by_partition(duckdb_url, tables_dir)


def test_replace_from_a_date_on(duckdb_url: str, tables_dir: Path) -> None:
    checks.check_replace_from_a_date_on(duckdb_url, tables_dir)


def test_replace_among_many_values(duckdb_url: str, tables_dir: Path) -> None:
    checks.check_replace_among_many_values(duckdb_url, tables_dir)


def test_replace_by_key(duckdb_url: str, tables_dir: Path) -> None:
    checks.check_replace_by_key(duckdb_url, tables_dir)


def test_replace_all_and_append(duckdb_url: str, tables_dir: Path) -> None:
    checks.check_replace_all_and_append(duckdb_url, tables_dir)


def test_failed_load_rolls_back_every_table(duckdb_url: str, tables_dir: Path) -> None:
    checks.check_failed_load_rolls_back_every_table(duckdb_url, tables_dir)


def test_lazy_loads_are_inserted_batch_by_batch(duckdb_url: str, tables_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checks.check_lazy_loads_are_inserted_batch_by_batch(duckdb_url, tables_dir, monkeypatch)


def test_columns_matched_by_name(duckdb_url: str, tables_dir: Path) -> None:
    checks.check_columns_matched_by_name(duckdb_url, tables_dir)


def test_values_round_trip_exactly(duckdb_url: str, tables_dir: Path) -> None:
    checks.check_values_round_trip_exactly(duckdb_url, tables_dir)


def test_decimals_round_half_away_from_zero(duckdb_url: str, tables_dir: Path) -> None:
    checks.check_decimals_round_half_away_from_zero(duckdb_url, tables_dir)


def test_timestamps_are_utc_instants(duckdb_url: str, tables_dir: Path) -> None:
    checks.check_timestamps_are_utc_instants(duckdb_url, tables_dir)


def test_query_parameters(duckdb_url: str, tables_dir: Path) -> None:
    checks.check_query_parameters(duckdb_url, tables_dir)


def test_in_memory_warehouse(tables_dir: Path) -> None:
    with Warehouse.connect("duckdb:///:memory:", tables_dir=tables_dir) as warehouse:
        assert warehouse.upgrade() == ["created table t_daily", "created table t_money"]
        assert warehouse.table_names() == ["t_daily", "t_money"]


def test_file_held_by_another_process_is_busy(duckdb_url: str, tables_dir: Path) -> None:
    with Warehouse.connect(duckdb_url, tables_dir=tables_dir) as warehouse:
        warehouse.upgrade()
    path = duckdb_url.removeprefix("duckdb:///")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
                               "sys.stdin.read()", path],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseBusy) as busy:
            Warehouse.connect(duckdb_url, tables_dir=tables_dir)
        message = str(busy.value)
        assert message.startswith(f"{path}: warehouse file is locked: another kohde/Airflow process (PID {holder.pid})")
        assert "\n" not in message
        assert busy.value.transient
    finally:
        assert holder.stdin is not None
        holder.stdin.close()  # the holder exits when its stdin closes
        holder.wait(timeout=60)
    with Warehouse.connect(duckdb_url, tables_dir=tables_dir) as warehouse:
        assert warehouse.table_names() == ["t_daily", "t_money"]


def test_duckdb_memory_is_limited_unless_the_url_says_otherwise(duckdb_url: str, tables_dir: Path) -> None:
    # DuckDB's own default (80 % of the machine) would compete with the run's polars frames in the same process
    with Warehouse.connect(duckdb_url, tables_dir=tables_dir) as warehouse:
        assert warehouse.query("SELECT current_setting('memory_limit') AS m")["m"].item() == "3.7 GiB"  # 4 GB
    with Warehouse.connect(f"{duckdb_url}?memory_limit=5GB", tables_dir=tables_dir) as warehouse:
        assert warehouse.query("SELECT current_setting('memory_limit') AS m")["m"].item() == "4.6 GiB"
