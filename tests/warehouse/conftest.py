"""Warehouse fixtures: a throwaway PostgreSQL server on loopback (or KOHDE_TEST_PG_URL), test tables.

``postgres_url`` (session) starts one server for the whole test session and yields
``postgresql+psycopg://kohde@127.0.0.1:PORT/kohde_test``; ``pg_schema_url`` gives each test its own
empty schema in that database. Without server binaries the tests fail (CI installs postgresql), they
are never skipped.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

PG_USER = "kohde"
PG_DATABASE = "kohde_test"

# Tables the engine tests load, independent of the project's own tables (which change as they grow).
TEST_TABLES = {
    "t_money": """-- One row per entry_id.
-- Every type the warehouse uses, to check values round-trip exactly.
CREATE TABLE IF NOT EXISTS t_money (
    entry_id TEXT NOT NULL,  -- Row key.
    day DATE NOT NULL,  -- Partition day.
    amount DECIMAL(18,4),  -- Money at four decimals.
    rate DECIMAL(18,8),  -- An exchange rate at eight decimals.
    paid_at TIMESTAMPTZ,  -- An instant, UTC.
    units BIGINT,  -- A count.
    small INTEGER,  -- A small count.
    share DOUBLE PRECISION,  -- A ratio.
    is_paid BOOLEAN,  -- A flag.
    note TEXT,  -- Free text.
    PRIMARY KEY (entry_id)
);
""",
    "t_daily": """-- One row per day and channel.
-- A partitioned fact.
CREATE TABLE IF NOT EXISTS t_daily (
    day DATE NOT NULL,  -- Partition day.
    channel TEXT NOT NULL,  -- Channel.
    spend_eur DECIMAL(18,4),  -- Spend in EUR (100 % of the channel's spend).
    PRIMARY KEY (day, channel)
);
""",
}


@pytest.fixture
def tables_dir(tmp_path: Path) -> Path:
    """A folder with the engine tests' own table files (t_money, t_daily)."""
    folder = tmp_path / "tables"
    folder.mkdir()
    for name, sql in TEST_TABLES.items():
        (folder / f"{name}.sql").write_text(sql, encoding="utf-8")
    return folder


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    """A DuckDB warehouse file in the test's temporary folder (the parent folder does not exist yet)."""
    return f"duckdb:///{tmp_path / 'home' / 'warehouse.duckdb'}"


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path)) or (0,)

    candidates = glob.glob("/usr/lib/postgresql/*/bin") + glob.glob("/usr/pgsql-*/bin")
    for folder in sorted(candidates, key=version, reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Server:
    """A PostgreSQL cluster in a temporary folder, run as the ``postgres`` OS user when we are root."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.as_root = os.geteuid() == 0
        self.owner: pwd.struct_passwd | None = None
        if self.as_root:
            try:
                self.owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root: initdb refuses root and there is no 'postgres' OS user; "
                            "install Debian's postgresql package or set KOHDE_TEST_PG_URL", pytrace=False)
        # /tmp, not pytest's per-user folder: the postgres user must be able to reach it
        self.root = Path(tempfile.mkdtemp(prefix="kohde-pg-", dir="/tmp" if self.as_root else None))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.sockets.mkdir()
        self.log = self.root / "server.log"
        if self.owner is not None:
            for path in (self.root, self.sockets):
                os.chown(path, self.owner.pw_uid, self.owner.pw_gid)
        self.port = 0

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_root:
            if shutil.which("runuser"):
                command = ["runuser", "-u", "postgres", "--", *command]
            else:
                command = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]
        return subprocess.run(command, cwd=self.root, capture_output=True, text=True, timeout=120, check=False)

    def _fail(self, step: str, result: subprocess.CompletedProcess[str]) -> None:
        output = (result.stderr or result.stdout or "").strip().splitlines()
        log = self.log.read_text(errors="replace").strip().splitlines() if self.log.exists() else []
        detail = (log or output or ["no output"])[-1]
        pytest.fail(f"test PostgreSQL: {step} failed: {detail}", pytrace=False)

    def start(self) -> None:
        result = self._run("initdb", "-D", str(self.data), "-U", PG_USER, "-A", "trust", "-E", "UTF8",
                           "--no-locale", "--no-sync")
        if result.returncode != 0:
            self._fail("initdb", result)
        for _attempt in range(3):
            self.port = _free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off")
            result = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60",
                               "start")
            if result.returncode == 0:
                break
        else:
            self._fail("pg_ctl start", result)
        with psycopg.connect(host="127.0.0.1", port=self.port, user=PG_USER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {PG_DATABASE}")

    def stop(self) -> None:
        if self.port:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database URL: KOHDE_TEST_PG_URL if set, else a server started for this session."""
    configured = os.environ.get("KOHDE_TEST_PG_URL")
    if configured:
        yield configured
        return
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql "
                    "(apt-get install postgresql) or set KOHDE_TEST_PG_URL", pytrace=False)
    server = _Server(bin_dir)
    try:
        server.start()
        yield f"postgresql+psycopg://{PG_USER}@127.0.0.1:{server.port}/{PG_DATABASE}"
    finally:
        server.stop()


@contextmanager
def fresh_schema(postgres_url: str) -> Iterator[str]:
    """``postgres_url`` with a new, empty schema first on the search path, dropped at the end."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    base = sa.make_url(postgres_url).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def pg_schema_url(postgres_url: str) -> Iterator[str]:
    """``postgres_url`` with a fresh, empty schema first on the search path, dropped after the test."""
    with fresh_schema(postgres_url) as url:
        yield url
