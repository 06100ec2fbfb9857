"""The warehouse engine on a real PostgreSQL server: the shared engine checks, MVCC reads, busy errors."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from pipeline.errors import WarehouseBusy
from pipeline.warehouse import TableLoad, Warehouse
from tests.warehouse import engine_checks as checks
from tests.warehouse.engine_checks import DAY1, DAY2, daily, read_daily

pytestmark = pytest.mark.postgres


def test_upgrade_creates_every_project_table_once(pg_schema_url: str) -> None:
    checks.check_upgrade_creates_every_project_table_once(pg_schema_url)


def test_views_created_and_readable(pg_schema_url: str) -> None:
    checks.check_views(pg_schema_url)


def test_upgrade_adds_columns_and_comments(pg_schema_url: str, tables_dir: Path) -> None:
    checks.check_upgrade_adds_columns_and_comments(pg_schema_url, tables_dir)


def test_replace_by_partition(pg_schema_url: str, tables_dir: Path) -> None:
    checks.check_replace_by_partition(pg_schema_url, tables_dir)


def test_replace_from_a_date_on(pg_schema_url: str, tables_dir: Path) -> None:
    checks.check_replace_from_a_date_on(pg_schema_url, tables_dir)


def test_replace_among_many_values(pg_schema_url: str, tables_dir: Path) -> None:
    checks.check_replace_among_many_values(pg_schema_url, tables_dir)


def test_replace_by_key(pg_schema_url: str, tables_dir: Path) -> None:
    checks.check_replace_by_key(pg_schema_url, tables_dir)


def test_replace_all_and_append(pg_schema_url: str, tables_dir: Path) -> None:
    checks.check_replace_all_and_append(pg_schema_url, tables_dir)


def test_failed_load_rolls_back_every_table(pg_schema_url: str, tables_dir: Path) -> None:
    checks.check_failed_load_rolls_back_every_table(pg_schema_url, tables_dir)


def test_lazy_loads_are_inserted_batch_by_batch(pg_schema_url: str, tables_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checks.check_lazy_loads_are_inserted_batch_by_batch(pg_schema_url, tables_dir, monkeypatch)


def test_columns_matched_by_name(pg_schema_url: str, tables_dir: Path) -> None:
    checks.check_columns_matched_by_name(pg_schema_url, tables_dir)


def test_values_round_trip_exactly(pg_schema_url: str, tables_dir: Path) -> None:
    checks.check_values_round_trip_exactly(pg_schema_url, tables_dir)


def test_decimals_round_half_away_from_zero(pg_schema_url: str, tables_dir: Path) -> None:
    checks.check_decimals_round_half_away_from_zero(pg_schema_url, tables_dir)


def test_timestamps_are_utc_instants(pg_schema_url: str, tables_dir: Path) -> None:
    checks.check_timestamps_are_utc_instants(pg_schema_url, tables_dir)


def test_query_parameters(pg_schema_url: str, tables_dir: Path) -> None:
    checks.check_query_parameters(pg_schema_url, tables_dir)


def test_reader_sees_old_rows_during_an_uncommitted_replace(pg_schema_url: str, tables_dir: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    old = daily([(DAY1, "search", "10"), (DAY2, "search", "20")])
    new = daily([(DAY1, "email", "1")])
    with Warehouse.connect(pg_schema_url, tables_dir=tables_dir) as writer, \
            Warehouse.connect(pg_schema_url, tables_dir=tables_dir) as reader:
        writer.upgrade()
        writer.load([TableLoad("t_daily", old, "all")])
        copied, release = threading.Event(), threading.Event()
        insert = writer._insert

        def insert_then_wait(*args: object) -> int:
            rows = insert(*args)  # type: ignore[arg-type]
            copied.set()
            assert release.wait(timeout=60)
            return rows

        monkeypatch.setattr(writer, "_insert", insert_then_wait)
        outcome: list[object] = []
        thread = threading.Thread(target=lambda: outcome.append(writer.load([TableLoad("t_daily", new, "all")])))
        thread.start()
        try:
            assert copied.wait(timeout=60)  # deleted and copied, not committed
            assert_frame_equal(read_daily(reader), old)
        finally:
            release.set()
            thread.join(timeout=60)
        assert outcome == [{"t_daily": 1}]
        assert_frame_equal(read_daily(reader), new)


def test_unreachable_server_is_busy_without_the_password() -> None:
    url = "postgresql+psycopg://kohde:s3cret-pw@127.0.0.1:1/kohde_test?connect_timeout=2"
    with pytest.raises(WarehouseBusy) as busy:
        Warehouse.connect(url)
    message = str(busy.value)
    assert message.startswith("cannot connect to warehouse postgresql+psycopg://kohde:***@127.0.0.1:1/kohde_test")
    assert "s3cret-pw" not in message and "\n" not in message


def test_ddl_waiting_on_a_lock_gives_up_as_busy(pg_schema_url: str, tables_dir: Path) -> None:
    with Warehouse.connect(pg_schema_url, tables_dir=tables_dir) as warehouse:
        warehouse.execute("CREATE TABLE t_daily (day DATE NOT NULL, channel TEXT NOT NULL, PRIMARY KEY (day, channel))")
        options = sa.make_url(pg_schema_url).query["options"]
        url = sa.make_url(pg_schema_url)
        with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database,
                             options=options) as blocker:
            blocker.execute("LOCK TABLE t_daily IN ACCESS EXCLUSIVE MODE")  # held until the block ends
            with pytest.raises(WarehouseBusy, match="upgrade on .*lock timeout"):
                warehouse.upgrade()  # ALTER TABLE ADD COLUMN needs the lock: gives up after 5 s
        assert warehouse.upgrade()[0] == "added column t_daily.spend_eur DECIMAL(18,4)"
