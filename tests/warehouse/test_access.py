"""Access: a read-only BI role on views without identifiers (PostgreSQL); secrets never in errors, logs or ops_runs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.cli import main
from pipeline.errors import WarehouseError
from pipeline.run import run_range
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse

PASSWORD = "s3cret-Pw_9"


@pytest.fixture
def reader_role(postgres_url: str) -> Iterator[str]:
    role = f"bi_reader_{uuid.uuid4().hex[:8]}"
    yield role
    admin = sa.create_engine(sa.make_url(postgres_url).set(drivername="postgresql+psycopg"), poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
    admin.dispose()


@pytest.mark.postgres
def test_reader_role_selects_views_and_nothing_else(pg_schema_url: str, reader_role: str) -> None:
    with Warehouse.connect(pg_schema_url) as warehouse:
        warehouse.upgrade()
        granted = warehouse.grant_reader(reader_role)
        assert granted == ["v_attribution_model_comparison", "v_goal_status_today", "v_roi_by_channel_month",
                           "v_segment_overview"]
        assert warehouse.grant_reader(reader_role) == granted  # idempotent
        warehouse.upgrade()  # views are dropped and created again: the grants must survive

    engine = sa.create_engine(pg_schema_url, poolclass=sa.pool.NullPool)

    def as_reader(sql: str) -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'SET LOCAL ROLE "{reader_role}"')
            conn.exec_driver_sql(sql)

    for view in granted:
        as_reader(f"SELECT * FROM {view}")
    for table in ("dim_customer", "mart_customer_segments", "fct_orders", "mart_audience_sizes", "ops_quarantine",
                  "mart_segment_summary"):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            as_reader(f"SELECT * FROM {table}")
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
        as_reader("INSERT INTO mart_sales_costs (month) VALUES (DATE '2026-01-01')")
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
        as_reader("CREATE TABLE sneaky (x int)")
    with pytest.raises(sa.exc.ProgrammingError, match="must be owner|permission denied"):
        as_reader("DROP VIEW v_segment_overview")
    engine.dispose()


@pytest.mark.postgres
def test_bad_role_name_is_a_one_line_error(pg_schema_url: str) -> None:
    with Warehouse.connect(pg_schema_url) as warehouse, pytest.raises(WarehouseError, match="role name"):
        warehouse.grant_reader('x"; DROP TABLE dim_customer; --')


def test_duckdb_has_no_roles(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOHDE_HOME", str(tmp_path))
    monkeypatch.delenv("KOHDE_WAREHOUSE_URL", raising=False)
    assert main(["warehouse", "grant-reader", "bi"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("kohde: grant-reader needs a PostgreSQL warehouse")


def _with_password(url: str, database: str | None = None) -> str:
    parsed = sa.make_url(url).set(password=PASSWORD)
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


@pytest.mark.postgres
def test_password_never_in_errors_logs_or_ops_runs(pg_schema_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # a failed connection through the CLI: the one-line error shows the URL with *** only
    monkeypatch.setenv("KOHDE_HOME", str(tmp_path))
    monkeypatch.setenv("KOHDE_WAREHOUSE_URL", _with_password(pg_schema_url, database="no_such_db"))
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert PASSWORD not in err and "***" in err

    # a failed run (bad inbox file) on a URL with a password: ops_runs, the error and the logs hold no secret
    caplog.set_level(logging.DEBUG)
    url = _with_password(pg_schema_url)  # the test server trusts loopback, so any password connects
    settings = Settings.from_env({"KOHDE_HOME": str(tmp_path), "KOHDE_WAREHOUSE_URL": url})
    day = date(2026, 8, 3)
    folder = settings.inbox / "google_ads" / day.isoformat()
    folder.mkdir(parents=True)
    (folder / "report.csv").write_text("not,a,google,report\n1,2,3,4\n", encoding="utf-8")
    with pytest.raises(Exception) as info:
        run_range(settings, day, day)
    assert PASSWORD not in str(info.value)
    with Warehouse.connect(url) as warehouse:
        runs = warehouse.query("SELECT * FROM ops_runs")
    assert runs.height == 1 and runs["status"].item() == "failed"
    for value in runs.row(0):
        assert PASSWORD not in str(value)
    assert PASSWORD not in caplog.text
    assert PASSWORD not in settings.warehouse_url_redacted
