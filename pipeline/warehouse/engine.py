"""The warehouse: tables created from ``warehouse/tables``, loads atomic and on the native bulk path.

SQLAlchemy names and connects to the warehouse (any ``duckdb:///`` or ``postgresql+psycopg://`` URL),
runs the DDL and owns the transaction. The rows go in through the engine's own bulk path inside that
transaction: DuckDB scans the Arrow table (``INSERT ... SELECT`` from a registered view), PostgreSQL
receives ``COPY ... FROM STDIN`` (CSV written by pyarrow) through psycopg 3. Never executemany (1k
rows/s), never ADBC (its NUMERIC bugs silently corrupt money), never TRUNCATE (not MVCC-safe).

Before anything touches the warehouse, each load is conformed to its table in Arrow: columns matched
by name, types checked and converted the same way for both engines, so DuckDB and PostgreSQL store
the same values. DuckDB tables are created without a key index (it makes a replace of N rows cost
about 10 us per row at commit); the engine checks the key by query inside the load instead.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import chain, count
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast

import duckdb
import polars as pl
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa

from pipeline.errors import KohdeError, WarehouseBusy, WarehouseError
from pipeline.warehouse.dictionary import comment_statement, comments
from pipeline.warehouse.schema import TABLES_DIR, ColumnDef, TableDef, create_table_sql, quote, tables

# How long PostgreSQL DDL may wait for a lock: an ALTER TABLE queued behind a long BI query would
# block every reader that comes after it, so give up early and let the caller retry.
_DDL_LOCK_TIMEOUT = "5s"
_LOAD_LOCK_TIMEOUT = "60s"
_COPY_BATCH_ROWS = 100_000
# a lazy load's rows per insert: a fact table of a first run (20M touches at medium) never held whole
STREAM_ROWS = 1_000_000
# DuckDB's own default is 80 % of the machine's memory, but it shares the process with the run's polars
# frames: past this it spills to ``<database>.tmp`` instead (a URL's ``?memory_limit=8GB`` overrides it).
# Medium's first night: 3.9 GB peak with 2 GB instead of 5.8 GB, in the same time; the large scale's
# 200M-touch insert ran out of 2 GB in blocks DuckDB cannot spill (docs/benchmarks.md)
DUCKDB_MEMORY_LIMIT = "4GB"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# columns that identify a person (pseudonymous ids and hashes are personal data, GDPR Recital 26)
_IDENTIFIER = re.compile(r"customer_id|contact_id|sha256|email|phone", re.IGNORECASE)

# BI views, one ``CREATE OR REPLACE VIEW <name> AS ...;`` per file, named like the file
VIEWS_DIR = TABLES_DIR.parent / "views"
_CREATE_VIEW = re.compile(r"^\s*CREATE\s+OR\s+REPLACE\s+VIEW\s+([a-z_][a-z0-9_]*)\s+AS\s", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Since:
    """A replaced range: the rows whose column is on or after ``start`` (event dates from a day on)."""

    start: object


@dataclass(frozen=True)
class OneOf:
    """Replaced rows named by many values of one column (the conversions a night rebuilt).

    The values go to the warehouse as a temporary table, not as one bound parameter each (PostgreSQL
    takes at most 65,535 per statement). An empty set matches no row.
    """

    values: pl.Series


@dataclass(frozen=True)
class Keys:
    """Replaced rows named by primary key: those of the load's rows, and ``removed`` (the key columns of rows to delete)."""

    removed: pl.DataFrame | pa.Table | None = None


@dataclass(frozen=True)
class TableLoad:
    """Rows for one table and what they replace.

    ``replace="all"`` replaces the whole table's content; ``{"as_of_date": [d1, d2]}`` deletes the rows
    whose column is in the values, ``{"touch_date": Since(d)}`` those whose column is ``>= d``
    (several columns: all must match) before inserting; ``{}`` deletes nothing (a plain append);
    ``Keys(removed)`` deletes the rows with the primary key of a row of ``data`` or of ``removed``;
    ``{"order_id": OneOf(ids), ...}`` those whose column is one of many values (with the other columns'
    conditions). Every row of ``data`` must fall inside what it replaces, or a re-run could not replace it.
    A LazyFrame is collected and inserted ``STREAM_ROWS`` rows at a time, inside the transaction.
    """

    table: str
    data: pl.DataFrame | pa.Table | pl.LazyFrame
    replace: Literal["all"] | dict[str, Sequence[object] | Since | OneOf] | Keys


def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***``, safe for messages and logs."""
    try:
        parsed = sa.make_url(url)
        return url if parsed.password is None else parsed.render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", url)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)


class Warehouse:
    """One warehouse connection pool (DuckDB: one connection, holding the file's writer lock until close)."""

    def __init__(self, url: str, *, tables_dir: Path | None = None) -> None:
        """Connect to ``url``; ``tables_dir`` overrides ``warehouse/tables`` (tests use their own tables)."""
        self.url_redacted = redact_url(url)
        self.tables_dir = tables_dir
        self._value_names = count()  # temporary tables of OneOf values, one name each within a transaction
        try:
            parsed = sa.make_url(url)
        except sa.exc.ArgumentError:
            raise WarehouseError(f"cannot read warehouse URL {self.url_redacted!r}: expected duckdb:///path "
                                 "or postgresql+psycopg://user@host:port/database") from None
        self._password = parsed.password
        backend = parsed.get_backend_name()
        self.path: Path | None = None
        if backend == "duckdb":
            self.dialect = "duckdb"
            if parsed.database and parsed.database != ":memory:":
                self.path = Path(parsed.database).expanduser()
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise WarehouseError(f"cannot create the warehouse folder: {exc.strerror}",
                                         file=str(self.path.parent)) from None
            # duckdb_engine lets the URL's query (e.g. ?memory_limit=8GB) override this config
            self._engine = sa.create_engine(parsed, connect_args={"config": {"memory_limit": DUCKDB_MEMORY_LIMIT}})
            sa.event.listen(self._engine, "connect", _duckdb_session)
        elif backend == "postgresql":
            if parsed.get_driver_name() not in ("psycopg", "postgresql", "psycopg2"):
                raise WarehouseError(f"warehouse URL {self.url_redacted}: use the psycopg 3 driver, "
                                     "postgresql+psycopg://...")
            parsed = parsed.set(drivername="postgresql+psycopg")
            self.dialect = "postgresql"
            # every session in UTC (TIMESTAMPTZ values come back as UTC), keeping the URL's own options
            connect_args = {
                "options": " ".join(filter(None, [str(parsed.query.get("options", "")), "-c TimeZone=UTC"])),
                "application_name": parsed.query.get("application_name", "kohde"),
                "connect_timeout": parsed.query.get("connect_timeout", 10),
            }
            self._engine = sa.create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)
        else:
            raise WarehouseError(f"unsupported warehouse URL {self.url_redacted}: use duckdb:///path or "
                                 "postgresql+psycopg://user@host:port/database")
        try:
            with self._engine.connect():
                pass
        except Exception as exc:
            self._engine.dispose()
            raise self._translate(exc, "connect") from None

    @classmethod
    def connect(cls, url: str, *, tables_dir: Path | None = None) -> Warehouse:
        """Open the warehouse at ``url``; WarehouseBusy if it is locked or unreachable."""
        return cls(url, tables_dir=tables_dir)

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection (DuckDB: releases the file lock)."""
        self._engine.dispose()

    def _scrub(self, text: str) -> str:
        return text.replace(self._password, "***") if self._password else text

    def _translate(self, exc: BaseException, action: str) -> KohdeError:
        """A library error as a one-line kohde error: WarehouseBusy when a retry may help."""
        if isinstance(exc, KohdeError):
            return exc
        original = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc
        message = self._scrub(_first_line(original))
        where = str(self.path) if self.path else self.url_redacted
        if self.dialect == "duckdb":
            if "Could not set lock on file" in message:
                pid = re.search(r"\(PID (\d+)\)", message)
                holder = f" (PID {pid.group(1)})" if pid else ""
                return WarehouseBusy(f"warehouse file is locked: another kohde/Airflow process{holder} holds it; "
                                     "DuckDB allows one writer, retry when it has finished", file=where)
            if "Transaction conflict" in message:
                return WarehouseBusy(f"{action}: {message}", file=where)
            if action == "connect":
                return WarehouseError(f"cannot open the warehouse: {message}", file=where)
            return WarehouseError(f"{action}: {message}", file=where)
        if action == "connect" or isinstance(original, psycopg.OperationalError | psycopg.InterfaceError) \
                or isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
            # connection refused or lost, lock timeout, serialization failure, deadlock, shutdown
            if action == "connect":
                return WarehouseBusy(f"cannot connect to warehouse {self.url_redacted}: {message}")
            return WarehouseBusy(f"{action} on {self.url_redacted}: {message}")
        return WarehouseError(f"{action} on {self.url_redacted}: {message}")

    @contextmanager
    def _transaction(self, action: str, lock_timeout: str | None = None) -> Iterator[sa.Connection]:
        try:
            with self._engine.begin() as conn:
                if self.dialect == "postgresql" and lock_timeout:
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{lock_timeout}'")
                yield conn
        except KohdeError:
            raise
        except (sa.exc.SQLAlchemyError, duckdb.Error, psycopg.Error) as exc:
            raise self._translate(exc, action) from None

    def table_names(self) -> list[str]:
        """Base tables in the warehouse's current schema, sorted."""
        return self.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_catalog = current_database() AND table_type = 'BASE TABLE' ORDER BY table_name"
        )["table_name"].to_list()

    def _existing_columns(self, conn: sa.Connection) -> dict[str, set[str]]:
        rows = conn.exec_driver_sql(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t ON t.table_catalog = c.table_catalog "
            "AND t.table_schema = c.table_schema AND t.table_name = c.table_name "
            "WHERE c.table_schema = current_schema() AND c.table_catalog = current_database() "
            "AND t.table_type = 'BASE TABLE'"
        ).fetchall()
        existing: dict[str, set[str]] = {}
        for table_name, column_name in rows:
            existing.setdefault(table_name, set()).add(column_name)
        return existing

    def _existing_comments(self, conn: sa.Connection) -> dict[tuple[str, str | None], str | None]:
        if self.dialect == "duckdb":
            sql = ("SELECT table_name, NULL AS column_name, comment FROM duckdb_tables() "
                   "WHERE database_name = current_database() AND schema_name = current_schema() "
                   "UNION ALL SELECT table_name, column_name, comment FROM duckdb_columns() "
                   "WHERE database_name = current_database() AND schema_name = current_schema()")
        else:
            sql = ("SELECT c.relname, NULL, obj_description(c.oid, 'pg_class') FROM pg_class c "
                   "JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
                   "UNION ALL SELECT c.relname, a.attname, col_description(c.oid, a.attnum) FROM pg_class c "
                   "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid "
                   "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
                   "AND a.attnum > 0 AND NOT a.attisdropped")
        return {(table, column): comment for table, column, comment in conn.exec_driver_sql(sql).fetchall()}

    def _ddl(self, conn: sa.Connection, sql: str) -> None:
        """Run a parameterless statement as written (psycopg would read a '%' in a comment as a placeholder)."""
        if self.dialect == "postgresql":
            _driver(conn).execute(sql)
        else:
            conn.exec_driver_sql(sql)

    def upgrade(self) -> list[str]:
        """Create missing tables, add missing columns, set comments and (re)create the views; idempotent.

        Returns one line per change (empty when the warehouse was up to date). A column declared NOT
        NULL is added as nullable, since the rows already there have no value for it. Columns are never
        dropped, renamed or retyped. A new column that is part of the primary key changes the table's
        grain (e.g. a current table that became a per-date snapshot): the rows already there have no
        value for it and cannot be placed in the new grain, so they are deleted (the next run writes
        the table again) and, on PostgreSQL, the primary key is rebuilt on the declared columns. Then
        every view of ``warehouse/views`` is dropped and created again in the same transaction
        ("view <name>" listed only for a view that did not exist before).
        """
        changes: list[str] = []
        with self._transaction("upgrade", _DDL_LOCK_TIMEOUT) as conn:
            if self.dialect == "postgresql":
                # parallel Airflow tasks may upgrade at once: one at a time, or CREATE TABLE races
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('kohde warehouse upgrade'))")
            existing = self._existing_columns(conn)
            created: set[str] = set()
            for table in tables(self.tables_dir).values():
                have = existing.get(table.name)
                if have is None:
                    self._ddl(conn, create_table_sql(table, primary_key=self.dialect != "duckdb"))
                    created.add(table.name)
                    changes.append(f"created table {table.name}")
                    continue
                for column in table.columns:
                    if column.name not in have:
                        self._ddl(conn, f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} "
                                        f"{column.sql_type}")
                        changes.append(f"added column {table.name}.{column.name} {column.sql_type}")
                new_key = [k for k in table.primary_key if k not in have]
                if new_key:
                    changes.append(self._rekey(conn, table, new_key))
            current = self._existing_comments(conn)
            for table in tables(self.tables_dir).values():
                stale = {key: text for key, text in comments(table).items()
                         if (current.get((table.name, key)) or "") != text}
                for key, text in stale.items():
                    self._ddl(conn, comment_statement(table.name, key, text))
                if stale and table.name not in created:
                    changes.append(f"updated {len(stale)} comment(s) on {table.name}")
            changes.extend(self._recreate_views(conn))
        return changes

    def _rekey(self, conn: sa.Connection, table: TableDef, new_key: list[str]) -> str:
        """Move an existing table to its declared primary key after ``new_key`` columns were added to it."""
        name = quote(table.name)
        if self.dialect == "duckdb":
            # DuckDB cannot drop a key constraint (an older table may carry one): the rows go anyway, so create it anew
            self._ddl(conn, f"DROP TABLE {name}")
            self._ddl(conn, create_table_sql(table, primary_key=False))
        else:
            conn.exec_driver_sql(f"DELETE FROM {name} WHERE " + " OR ".join(f"{quote(k)} IS NULL" for k in new_key))
            old = conn.exec_driver_sql(
                "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%(t)s) AND contype = 'p'",
                {"t": name}).scalar()
            if old is not None:
                self._ddl(conn, f"ALTER TABLE {name} DROP CONSTRAINT {quote(old)}")
            self._ddl(conn, f"ALTER TABLE {name} ADD PRIMARY KEY ({', '.join(quote(k) for k in table.primary_key)})")
            for column in table.columns:
                if column.not_null and column.name in new_key:
                    self._ddl(conn, f"ALTER TABLE {name} ALTER COLUMN {quote(column.name)} SET NOT NULL")
        return f"re-keyed table {table.name} on ({', '.join(table.primary_key)}): rows of the old grain deleted"

    def _views(self) -> dict[str, str]:
        """The view files' SQL by view name, sorted by file name (``views`` beside the tables folder)."""
        folder = self.tables_dir.parent / "views" if self.tables_dir is not None else VIEWS_DIR
        found: dict[str, str] = {}
        for path in sorted(folder.glob("*.sql")):
            sql = path.read_text(encoding="utf-8").strip()
            match = _CREATE_VIEW.search(sql)
            if match is None or match.group(1).lower() != path.stem:
                raise WarehouseError(f"expected 'CREATE OR REPLACE VIEW {path.stem} AS ...'", file=str(path))
            found[path.stem] = sql
        return found

    def _recreate_views(self, conn: sa.Connection) -> list[str]:
        """Drop and create every view (cheap, and PostgreSQL cannot replace a view whose columns change).

        Returns "view <name>" for each view that did not exist before.
        """
        views = self._views()
        if not views:
            return []
        existing = {name for (name,) in conn.exec_driver_sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_catalog = current_database() AND table_type = 'VIEW'"
        ).fetchall()}
        grants = self._view_grants(conn, [name for name in views if name in existing])
        for name in reversed(views):  # a view may read an earlier one: drop the later ones first
            if name in existing:
                self._ddl(conn, f"DROP VIEW IF EXISTS {quote(name)}")
        for sql in views.values():
            self._ddl(conn, sql)
        for view, grantee in grants:  # dropping a view drops its grants: give back what readers had
            if view in views:
                self._ddl(conn, f"GRANT SELECT ON {quote(view)} TO {quote(grantee)}")
        return [f"view {name}" for name in views if name not in existing]

    def _view_grants(self, conn: sa.Connection, names: list[str]) -> list[tuple[str, str]]:
        """(view, role) of every SELECT granted on the views to a role other than their owner (PostgreSQL)."""
        if self.dialect != "postgresql" or not names:
            return []
        rows = conn.execute(sa.text(
            "SELECT table_name, grantee FROM information_schema.role_table_grants "
            "WHERE table_schema = current_schema() AND privilege_type = 'SELECT' AND grantee <> current_user "
            "AND grantee <> 'PUBLIC' "
            "AND table_name IN :names").bindparams(sa.bindparam("names", expanding=True)), {"names": names})
        return [(str(view), str(grantee)) for view, grantee in rows]

    def grant_reader(self, role: str) -> list[str]:
        """PostgreSQL: create ``role`` (NOLOGIN) if missing and let it SELECT the BI views without identifiers.

        A view is granted unless one of its columns is an identifier of a person (``customer_id``,
        ``contact_id``, ``*sha256*``, ``email``, ``phone``). Nothing else is granted: no table, no write.
        Returns the views granted. DuckDB has no roles: WarehouseError.
        """
        if self.dialect != "postgresql":
            raise WarehouseError("grant-reader needs a PostgreSQL warehouse: DuckDB has no roles "
                                 "(give BI a read-only copy of the DuckDB file instead)")
        if not _ROLE_NAME.match(role):
            raise WarehouseError(f"role name {role[:40]!r}: use 1-63 lower-case letters, digits and _")
        views = list(self._views())
        with self._transaction("grant-reader", _DDL_LOCK_TIMEOUT) as conn:
            schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
            columns: dict[str, list[str]] = {}
            for view, column in conn.execute(sa.text(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema()")):
                columns.setdefault(str(view), []).append(str(column))
            safe = [v for v in views if v in columns and not any(_IDENTIFIER.search(c) for c in columns[v])]
            if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}).first() is None:
                self._ddl(conn, f"CREATE ROLE {quote(role)} NOLOGIN")
            self._ddl(conn, f"GRANT USAGE ON SCHEMA {quote(str(schema))} TO {quote(role)}")
            for view in safe:
                self._ddl(conn, f"GRANT SELECT ON {quote(view)} TO {quote(role)}")
        return safe

    def load(self, loads: Sequence[TableLoad]) -> dict[str, int]:
        """Replace and insert every load in ONE transaction; rows inserted per table.

        For each load in order: delete what ``replace`` names, then bulk insert the rows (DuckDB
        updates the rows of a load by key whose key it holds instead: the same rows). Any error
        rolls everything back, so the warehouse is exactly as before (WarehouseError, or WarehouseBusy
        when a retry may help). Eager data is checked before the transaction begins; a lazy load's
        rows are checked batch by batch as they are inserted (see ``_stream``).
        """
        definitions = tables(self.tables_dir)
        prepared: list[tuple[TableDef, TableLoad, pa.Table | None, pa.Table | None]] = []
        for item in loads:
            table = definitions.get(item.table)
            if table is None:
                raise WarehouseError(f"no table {item.table!r} in warehouse/tables (known: {', '.join(definitions)})")
            if isinstance(item.data, pl.LazyFrame):
                if isinstance(item.replace, Keys) or _one_of(item.replace):
                    raise WarehouseError(f"{table.name}: a load by key or by many values needs its rows, "
                                         "not a lazy query")
                prepared.append((table, item, None, None))
                continue
            arrow = _checked(table, item.replace, item.data)
            keys = _replaced_keys(table, item.replace, arrow) if isinstance(item.replace, Keys) else None
            prepared.append((table, item, arrow, keys))
        counts: dict[str, int] = {}
        with self._transaction("load", _LOAD_LOCK_TIMEOUT) as conn:
            for table, item, arrow, keys in prepared:
                try:
                    if keys is not None and arrow is not None and self.dialect == "duckdb":
                        counts[table.name] = counts.get(table.name, 0) + self._upsert_duckdb(conn, table, arrow, keys)
                        continue
                    with self._value_tables(conn, table, item.replace) as named:
                        if keys is None:
                            self._delete(conn, table, item.replace, named)
                        else:
                            self._delete_keys(conn, table, keys)
                        if arrow is None:
                            assert isinstance(item.data, pl.LazyFrame) and not isinstance(item.replace, Keys)
                            inserted = self._stream(conn, table, item.data, item.replace)
                        else:
                            inserted = self._insert(conn, table, arrow, item.replace, named)
                except (sa.exc.SQLAlchemyError, duckdb.Error, psycopg.Error) as exc:
                    raise self._translate(exc, f"load into {table.name}") from None
                counts[table.name] = counts.get(table.name, 0) + inserted
        return counts

    def _stream(self, conn: sa.Connection, table: TableDef, data: pl.LazyFrame,
                replace: Literal["all"] | Mapping[str, Sequence[object] | Since | OneOf]) -> int:
        """Insert a lazy load ``STREAM_ROWS`` rows at a time; each batch conformed and checked as an eager load is.

        PostgreSQL receives one COPY per batch (its primary key refuses a repeated key). DuckDB
        reads every batch in one INSERT from an Arrow stream (an INSERT per batch would hold about
        100 bytes per row more until the commit: 3 GB for 20M touches), then the table is checked
        for a repeated key, within the new rows or between them and the rows kept.
        """
        batches = (_checked(table, replace, batch) for batch in data.collect_batches(chunk_size=STREAM_ROWS))
        if self.dialect != "duckdb":
            return sum(self._insert(conn, table, arrow, replace, {}) for arrow in batches)
        first = next(batches, None)
        if first is None:
            return 0
        inserted, failures = [0], []

        def stream() -> Iterator[pa.RecordBatch]:
            try:
                for arrow in chain([first], batches):
                    inserted[0] += arrow.num_rows
                    yield from arrow.to_batches()
            except BaseException as exc:  # a batch outside the replaced rows: reported as itself, not as DuckDB's error
                failures.append(exc)
                raise

        raw = _driver(conn)
        view = f"kohde_load_{table.name}"
        columns = ", ".join(quote(name) for name in first.column_names)
        raw.register(view, pa.RecordBatchReader.from_batches(first.schema, stream()))
        try:
            raw.execute(f"INSERT INTO {quote(table.name)} ({columns}) SELECT {columns} FROM {quote(view)}")
        except duckdb.Error:
            if failures:
                raise failures[0] from None
            raise
        finally:
            with suppress(duckdb.Error):
                raw.unregister(view)
        _check_streamed_keys_duckdb(conn, table, replace)
        return inserted[0]

    def append(self, table: str, data: pl.DataFrame | pa.Table) -> int:
        """Insert rows in their own transaction, deleting nothing (ops tables); rows inserted."""
        return self.load([TableLoad(table, data, {})]).get(table, 0)

    @contextmanager
    def _value_tables(self, conn: sa.Connection, table: TableDef,
                      replace: Literal["all"] | Mapping[str, Sequence[object] | Since | OneOf] | Keys,
                      ) -> Iterator[dict[str, str]]:
        """The ``OneOf`` values of a load as temporary one-column tables (``value``), by replaced column, dropped after."""
        named: dict[str, str] = {}
        raw = _driver(conn)
        by_name = {c.name: c for c in table.columns}
        try:
            for position, (column, values) in enumerate(_one_of(replace).items()):
                name = named[column] = f"kohde_values_{next(self._value_names)}_{position}"
                converted = _convert(table.name, by_name[column],
                                     pa.chunked_array([values.values.drop_nulls().unique().to_arrow()]))
                values_table = pa.table({"value": converted})
                if self.dialect == "duckdb":
                    raw.register(name, values_table)
                else:
                    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} (value {by_name[column].sql_type}) "
                                         "ON COMMIT DROP")
                    self._copy(raw, name, values_table)
            yield named
        finally:
            if self.dialect == "duckdb":
                for name in named.values():
                    with suppress(duckdb.Error):  # an aborted transaction refuses even this; keep the first error
                        raw.unregister(name)

    def _delete(self, conn: sa.Connection, table: TableDef,
                replace: Literal["all"] | Mapping[str, Sequence[object] | Since | OneOf] | Keys,
                named: Mapping[str, str]) -> None:
        if isinstance(replace, Keys):
            raise TypeError("Keys are deleted by _delete_keys")
        if replace == "all":
            conn.exec_driver_sql(f"DELETE FROM {quote(table.name)}")
            return
        rows = _replaced_rows(replace, named)
        if rows is None:
            return  # nothing to delete
        condition, params = rows
        conn.execute(sa.text(f"DELETE FROM {quote(table.name)} WHERE {condition}").bindparams(*params))

    def _delete_keys(self, conn: sa.Connection, table: TableDef, keys: pa.Table) -> None:
        """Delete the rows whose primary key is a row of ``keys``: a join with the keys, loaded like rows."""
        if keys.num_rows == 0:
            return
        match = _key_match(table, quote(table.name), "kohde_keys")
        raw = _driver(conn)
        if self.dialect == "duckdb":
            raw.register("kohde_keys", keys)
            try:
                raw.execute(f"DELETE FROM {quote(table.name)} USING kohde_keys WHERE {match}")
            finally:
                with suppress(duckdb.Error):
                    raw.unregister("kohde_keys")
            return
        names = ", ".join(quote(k) for k in table.primary_key)
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE kohde_keys AS SELECT {names} FROM {quote(table.name)} WITH NO DATA")
        self._copy(raw, "kohde_keys", keys)
        conn.exec_driver_sql(f"DELETE FROM {quote(table.name)} USING kohde_keys WHERE {match}")
        conn.exec_driver_sql("DROP TABLE kohde_keys")

    def _upsert_duckdb(self, conn: sa.Connection, table: TableDef, arrow: pa.Table, keys: pa.Table) -> int:
        """A load by key into DuckDB: the keys without a row deleted, rows of keys the table holds updated, others inserted.

        The same rows as deleting every key and inserting the data (a column the data lacks becomes
        NULL either way), but DuckDB's checkpoint compacts every row group a DELETE touched: the 7k
        changed customers of a medium night, spread over all of dim_customer's 1M rows, cost 1.9 s
        of rewriting at the commit, their UPDATE 0.1 s.
        """
        raw = _driver(conn)
        view = f"kohde_load_{table.name}"
        key_list = ", ".join(quote(k) for k in table.primary_key)
        target = quote(table.name)
        raw.register("kohde_keys", keys)
        raw.register(view, arrow)
        try:
            _check_keys_duckdb(raw, table, view, Keys())
            gone = f"SELECT {key_list} FROM kohde_keys EXCEPT SELECT {key_list} FROM {quote(view)}"
            raw.execute(f"DELETE FROM {target} USING ({gone}) AS kohde_gone WHERE {_key_match(table, target, 'kohde_gone')}")
            if arrow.num_rows:
                names = set(arrow.column_names)
                values = ", ".join(f"{quote(c.name)} = " + (f"{quote(view)}.{quote(c.name)}" if c.name in names else "NULL")
                                   for c in table.columns if c.name not in table.primary_key)
                if values:
                    raw.execute(f"UPDATE {target} SET {values} FROM {quote(view)} WHERE {_key_match(table, target, quote(view))}")
                columns = ", ".join(quote(name) for name in arrow.column_names)
                raw.execute(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {quote(view)} "
                            f"ANTI JOIN {target} USING ({key_list})")
        finally:
            for name in (view, "kohde_keys"):
                with suppress(duckdb.Error):  # an aborted transaction refuses even this; keep the first error
                    raw.unregister(name)
        return arrow.num_rows

    def _insert(self, conn: sa.Connection, table: TableDef, arrow: pa.Table,
                replace: Literal["all"] | Mapping[str, Sequence[object] | Since | OneOf] | Keys,
                named: Mapping[str, str]) -> int:
        if arrow.num_rows == 0:
            return 0
        columns = ", ".join(quote(name) for name in arrow.column_names)
        raw = _driver(conn)
        if self.dialect == "duckdb":
            view = f"kohde_load_{table.name}"
            raw.register(view, arrow)
            try:
                _check_keys_duckdb(raw, table, view, replace, named)
                raw.execute(f"INSERT INTO {quote(table.name)} ({columns}) SELECT {columns} FROM {quote(view)}")
            except (duckdb.Error, KohdeError):
                with suppress(duckdb.Error):  # an aborted transaction refuses even this; keep the first error
                    raw.unregister(view)
                raise
            raw.unregister(view)
            return arrow.num_rows
        self._copy(raw, table.name, arrow)
        return arrow.num_rows

    @staticmethod
    def _copy(raw: Any, name: str, arrow: pa.Table) -> None:
        """PostgreSQL's bulk path: COPY the rows in as CSV, in batches."""
        columns = ", ".join(quote(column) for column in arrow.column_names)
        options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
        # all_valid quotes every value, so an unquoted empty field is NULL and "" an empty string
        with raw.cursor() as cursor, cursor.copy(f"COPY {quote(name)} ({columns}) FROM STDIN (FORMAT csv)") as copy:
            for batch in arrow.to_batches(max_chunksize=_COPY_BATCH_ROWS):
                buffer = io.BytesIO()
                pacsv.write_csv(batch, buffer, options)
                copy.write(buffer.getbuffer())

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> None:
        """Run one statement in its own transaction (``:name`` parameters; a list expands for IN)."""
        with self._transaction("execute") as conn:
            conn.execute(_statement(sql, params))

    def execute_all(self, statements: Sequence[tuple[str, dict[str, Any] | None]]) -> None:
        """Run several statements in ONE transaction: all of them or, on any error, none."""
        with self._transaction("execute") as conn:
            for sql, params in statements:
                conn.execute(_statement(sql, params))

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
        """Run a query and return its rows as a DataFrame (``:name`` parameters; a list expands for IN).

        Types follow the warehouse: DECIMAL as exact decimals, TIMESTAMPTZ as UTC datetimes.
        """
        statement = _statement(sql, params)
        try:
            with self._engine.connect() as conn:
                if self.dialect == "duckdb":
                    compiled = statement.compile(dialect=self._engine.dialect,
                                                 compile_kwargs={"render_postcompile": True})
                    positional = [compiled.params[name] for name in (compiled.positiontup or [])]
                    relation = _driver(conn).sql(compiled.string, params=positional or None)
                    if relation is None:
                        return pl.DataFrame()
                    return cast(pl.DataFrame, pl.from_arrow(relation.to_arrow_table()))
                result = conn.execute(statement)
                if not result.returns_rows:
                    return pl.DataFrame()
                description = result.cursor.description if result.cursor is not None else None
                rows = result.fetchall()
        except (sa.exc.SQLAlchemyError, duckdb.Error, psycopg.Error) as exc:
            raise self._translate(exc, "query") from None
        return _rows_to_frame(list(result.keys()), rows, description)


def _driver(conn: sa.Connection) -> Any:
    """The driver's own connection under SQLAlchemy's (duckdb or psycopg), inside the same transaction."""
    driver = conn.connection.driver_connection
    if driver is None:
        raise WarehouseError("the warehouse connection is closed")
    return driver


def _key_match(table: TableDef, left: str, right: str) -> str:
    """SQL: the rows of ``left`` and ``right`` (quoted names) have the same primary key."""
    return " AND ".join(f"{left}.{quote(k)} = {right}.{quote(k)}" for k in table.primary_key)


def _check_keys_duckdb(raw: Any, table: TableDef, view: str,
                       replace: Literal["all"] | Mapping[str, Sequence[object] | Since | OneOf] | Keys,
                       named: Mapping[str, str] | None = None) -> None:
    """The primary key, checked by query: DuckDB tables carry no key index (see create_table_sql).

    A kept row that shares a key with a new row has its key columns' values: a ``OneOf`` key
    column's (``named``, its temporary table) restricts the kept rows looked at.
    """
    if not table.primary_key:
        return
    keys = ", ".join(quote(k) for k in table.primary_key)
    duplicate = raw.execute(f"SELECT {keys} FROM {quote(view)} GROUP BY ALL HAVING count(*) > 1 LIMIT 1").fetchone()
    if duplicate:
        raise _duplicate_key(table, duplicate, "in the data")
    if not isinstance(replace, Keys) and replace != "all" and (not replace or not set(replace) <= set(table.primary_key)):
        # rows kept outside the replaced ones may share a key with the new rows
        among = " AND ".join(f"{quote(column)} IN (SELECT value FROM {name})" for column, name in (named or {}).items()
                             if column in table.primary_key)
        # MATERIALIZED: the kept rows of those values first (large: 0.6 s over fct_attribution's 160M rows), not a
        # join of every kept row with the new ones on the whole key that the optimizer would otherwise plan (2.5 s)
        kept_rows = (f"WITH kept AS MATERIALIZED (SELECT {keys} FROM {quote(table.name)} WHERE {among}) " if among
                     else f"WITH kept AS (SELECT {keys} FROM {quote(table.name)}) ")
        kept = raw.execute(f"{kept_rows}SELECT {keys} FROM kept JOIN {quote(view)} USING ({keys}) LIMIT 1").fetchone()
        if kept:
            raise WarehouseError(f"{table.name}: duplicate key ({', '.join(table.primary_key)}) = "
                                 f"({', '.join(map(str, kept))}): already in the table outside the replaced rows")


def _check_streamed_keys_duckdb(conn: sa.Connection, table: TableDef,
                                replace: Literal["all"] | Mapping[str, Sequence[object] | Since | OneOf]) -> None:
    """The primary key of a table after a streamed load into it, checked by query.

    When every replaced column is a key column (a snapshot's ``as_of_date``), rows kept cannot
    share a key with the new ones, which all lie in the replaced rows: only those are checked,
    so the check does not grow with the snapshots the table holds. Otherwise the whole table.
    """
    if not table.primary_key:
        return
    keys = ", ".join(quote(k) for k in table.primary_key)
    rows = _replaced_rows(replace) if replace != "all" and replace and set(replace) <= set(table.primary_key) else None
    condition, params = rows if rows is not None else ("true", [])
    duplicate = conn.execute(sa.text(
        f"SELECT {keys} FROM {quote(table.name)} WHERE {condition} GROUP BY ALL HAVING count(*) > 1 LIMIT 1"
    ).bindparams(*params)).fetchone()
    if duplicate:
        raise _duplicate_key(table, duplicate, "in the data" if rows is not None else
                             "in the data or between it and the rows kept")


def _duplicate_key(table: TableDef, key: Sequence[object], place: str) -> WarehouseError:
    """The error of a repeated primary key found by query (DuckDB tables carry no key index)."""
    return WarehouseError(f"{table.name}: duplicate key ({', '.join(table.primary_key)}) = "
                          f"({', '.join(map(str, key))}) {place}")


def _replaced_rows(replace: Mapping[str, Sequence[object] | Since | OneOf], named: Mapping[str, str] | None = None,
                   ) -> tuple[str, list[sa.BindParameter[Any]]] | None:
    """The SQL condition of the rows a load replaces by value, with its parameters; None when it matches no row.

    ``{"as_of_date": [...]}``: the column IN the values; ``{"touch_date": Since(d)}``: the column >= d;
    ``{"order_id": OneOf(ids)}``: the column IN its temporary table (``named``, see ``_value_tables``);
    an empty mapping, or an empty list or ``OneOf`` of values, matches nothing.
    """
    values = {column: v if isinstance(v, Since | OneOf) else _values(v) for column, v in replace.items()}
    if not values or any(not v for v in values.values() if not isinstance(v, Since | OneOf)):
        return None
    if any(isinstance(v, OneOf) and v.values.drop_nulls().is_empty() for v in values.values()):
        return None
    names = {column: f"replace_{position}" for position, column in enumerate(values)}
    conditions: list[str] = []
    params: list[sa.BindParameter[Any]] = []
    for column, v in values.items():
        if isinstance(v, OneOf):
            conditions.append(f"{quote(column)} IN (SELECT value FROM {(named or {})[column]})")
        elif isinstance(v, Since):
            conditions.append(f"{quote(column)} >= :{names[column]}")
            params.append(sa.bindparam(names[column], value=v.start))
        else:
            conditions.append(f"{quote(column)} IN :{names[column]}")
            params.append(sa.bindparam(names[column], value=v, expanding=True))
    return " AND ".join(conditions), params


def _one_of(replace: object) -> dict[str, OneOf]:
    """The ``OneOf`` columns of a load's ``replace``."""
    if not isinstance(replace, Mapping):
        return {}
    return {column: v for column, v in replace.items() if isinstance(v, OneOf)}


def _duckdb_session(dbapi_connection: Any, _record: Any) -> None:
    """Every DuckDB session in UTC, so TIMESTAMPTZ values come back as UTC; and without DuckDB's progress bar.

    The bar is drawn on stdout for statements that run over two seconds (a full rebuild's large
    loads): lines of block characters in a scheduler's task log.
    """
    dbapi_connection.execute("SET TimeZone = 'UTC'")
    dbapi_connection.execute("SET enable_progress_bar = false")
    # DuckDB's remedy for inserts larger than its memory: append in parallel instead of buffering to keep the
    # source's row order (no reader of a warehouse table relies on the order its rows were inserted in)
    dbapi_connection.execute("SET preserve_insertion_order = false")


def _statement(sql: str, params: Mapping[str, Any] | None) -> sa.TextClause:
    statement = sa.text(sql)
    if params:
        statement = statement.bindparams(*[
            sa.bindparam(name, value=list(value) if isinstance(value, list | tuple | set) else value,
                         expanding=isinstance(value, list | tuple | set))
            for name, value in params.items()
        ])
    return statement


_PG_TYPES: dict[int, pl.DataType] = {
    16: pl.Boolean(), 20: pl.Int64(), 21: pl.Int16(), 23: pl.Int32(), 25: pl.String(), 1042: pl.String(),
    1043: pl.String(), 19: pl.String(), 700: pl.Float32(), 701: pl.Float64(), 1082: pl.Date(),
    1114: pl.Datetime("us"), 1184: pl.Datetime("us", "UTC"),
}


def _rows_to_frame(names: list[str], rows: Sequence[Sequence[Any]], description: Any) -> pl.DataFrame:
    """Rows fetched from PostgreSQL as a DataFrame, typed from the result's column types."""
    columns: dict[str, pl.Series] = {}
    for index, name in enumerate(names):
        values = [row[index] for row in rows]
        dtype: pl.DataType | None = None
        if description is not None:
            column = description[index]
            dtype = _PG_TYPES.get(column.type_code)
            scale = getattr(column, "scale", None)
            if column.type_code == 1700 and scale is not None:
                dtype = pl.Decimal(min(getattr(column, "precision", None) or 38, 38), scale)
        columns[name] = pl.Series(name, values, dtype=dtype, strict=False)
    return pl.DataFrame(columns)


def _values(values: Sequence[object]) -> list[object]:
    listed = values.to_list() if isinstance(values, pl.Series) else list(values)
    return [v for v in listed if v is not None]


_ARROW_TYPES: dict[str, pa.DataType] = {
    "TEXT": pa.large_string(),
    "DATE": pa.date32(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DOUBLE PRECISION": pa.float64(),
    "BOOLEAN": pa.bool_(),
}


def arrow_type(column: ColumnDef) -> pa.DataType:
    """The Arrow type a column's values are converted to before loading."""
    decimal = column.decimal
    if decimal is not None:
        return pa.decimal128(*decimal)
    return _ARROW_TYPES[column.sql_type]


def _convert(table: str, column: ColumnDef, values: pa.ChunkedArray) -> pa.ChunkedArray:
    """One data column as the table column's Arrow type; WarehouseError for a lossy or senseless mix."""
    target = arrow_type(column)
    source = values.type
    where = f"{table}.{column.name}"
    if pa.types.is_dictionary(source):
        values, source = values.cast(source.value_type), source.value_type
    if source == target:
        return values
    if pa.types.is_null(source):
        return pa.chunked_array([pa.nulls(len(values), type=target)], type=target)
    types = pa.types
    try:
        if column.sql_type == "TEXT" and (types.is_string(source) or types.is_large_string(source)
                                          or types.is_string_view(source)):
            return values.cast(target)
        if column.sql_type == "DATE" and types.is_date(source):
            return values.cast(target)
        if column.sql_type == "TIMESTAMPTZ" and types.is_timestamp(source):
            # a naive timestamp is taken as UTC; sub-microsecond digits are dropped (the warehouse keeps us)
            if source.tz is None:
                values = values.cast(pa.timestamp(source.unit, tz="UTC"))
            return values.cast(target, safe=False)
        if column.sql_type in ("BIGINT", "INTEGER") and types.is_integer(source):
            return values.cast(target)
        if column.sql_type == "DOUBLE PRECISION" and (types.is_integer(source) or types.is_floating(source)
                                                      or types.is_decimal(source)):
            return values.cast(target, safe=False)
        if column.sql_type == "BOOLEAN" and types.is_boolean(source):
            return values
        if column.decimal is not None:
            if types.is_integer(source):
                return values.cast(target)
            if types.is_decimal(source):
                if source.scale > target.scale:
                    # round half away from zero, as PostgreSQL and DuckDB do when a value is stored
                    values = pc.round(values, ndigits=target.scale, round_mode="half_towards_infinity")
                return values.cast(target)
            if types.is_floating(source):
                raise WarehouseError(f"{where}: float data for a {column.sql_type} column; money and other exact "
                                     f"amounts must arrive as decimals: cast to pl.Decimal{decimal_args(column)}")
    except pa.ArrowException as exc:
        raise WarehouseError(f"{where}: cannot store {source} values as {column.sql_type}: {_first_line(exc)}") \
            from None
    raise WarehouseError(f"{where}: cannot load {source} data into a {column.sql_type} column")


def decimal_args(column: ColumnDef) -> str:
    """``(18, 4)`` for a DECIMAL(18,4) column, for messages."""
    decimal = column.decimal
    return f"({decimal[0]}, {decimal[1]})" if decimal else ""


def _conform(table: TableDef, data: object) -> pa.Table:
    """The data as an Arrow table of the table's columns it carries, in table order, in the table's types."""
    if isinstance(data, pl.DataFrame):
        arrow = data.to_arrow()
    elif isinstance(data, pa.Table):
        arrow = data
    else:
        raise WarehouseError(f"{table.name}: data must be a polars DataFrame or an Arrow table, "
                             f"got {type(data).__name__}")
    names = arrow.column_names
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise WarehouseError(f"{table.name}: data has duplicated columns: {', '.join(duplicated)}")
    unknown = [n for n in names if n not in table.column_names]
    if unknown:
        raise WarehouseError(f"{table.name}: data has columns the table does not define: {', '.join(unknown)} "
                             f"(add them to warehouse/tables/{table.name}.sql)")
    if arrow.num_rows == 0:
        return pa.table({c.name: pa.array([], type=arrow_type(c)) for c in table.columns if c.name in names})
    missing = [c.name for c in table.columns if c.not_null and c.name not in names]
    if missing:
        raise WarehouseError(f"{table.name}: data lacks NOT NULL column(s): {', '.join(missing)}")
    converted = {c.name: _convert(table.name, c, arrow.column(c.name)) for c in table.columns if c.name in names}
    for column in table.columns:
        if column.not_null and column.name in converted and converted[column.name].null_count:
            raise WarehouseError(f"{table.name}.{column.name}: {converted[column.name].null_count} NULL value(s) "
                                 "in a NOT NULL column")
    return pa.table(converted)


def _checked(table: TableDef, replace: object, data: object) -> pa.Table:
    """The data ``_conform``-ed, every row inside what its load replaces (``_check_replace``)."""
    arrow = _conform(table, data)
    _check_replace(table, replace, arrow)
    return arrow


def _replaced_keys(table: TableDef, replace: Keys, arrow: pa.Table) -> pa.Table:
    """The primary keys a ``Keys`` load deletes: its rows' and ``removed``'s, in the table's types."""
    if not table.primary_key:
        raise WarehouseError(f"{table.name}: a load by key needs a table with a primary key")
    removed = replace.removed
    if isinstance(removed, pl.DataFrame):
        removed = removed.to_arrow()
    if removed is None:
        removed = pa.table({})
    elif sorted(removed.column_names) != sorted(table.primary_key):
        raise WarehouseError(f"{table.name}: removed keys must have exactly the primary key columns "
                             f"({', '.join(table.primary_key)}), got {', '.join(removed.column_names)}")
    by_name = {c.name: c for c in table.columns}
    columns = {}
    for key in table.primary_key:
        column = by_name[key]
        parts = [arrow.column(key)] if arrow.num_rows else []
        if removed.num_rows:
            parts.append(_convert(table.name, column, removed.column(key)))
        if any(part.null_count for part in parts):
            raise WarehouseError(f"{table.name}.{key}: NULL in a primary key")
        columns[key] = pa.chunked_array([chunk for part in parts for chunk in part.chunks], type=arrow_type(column))
    return pa.table(columns)


def _check_replace(table: TableDef, replace: object, arrow: pa.Table) -> None:
    """Every row must fall inside what its load replaces, or a re-run would duplicate it."""
    if replace == "all" or isinstance(replace, Keys):
        return
    if not isinstance(replace, Mapping):
        raise WarehouseError(f"{table.name}: replace must be 'all' or {{column: values}}, got {replace!r}")
    for column, values in replace.items():
        if column not in table.column_names:
            raise WarehouseError(f"{table.name}: replace column {column!r} is not a column of the table")
        if arrow.num_rows == 0:
            continue
        if column not in arrow.column_names:
            raise WarehouseError(f"{table.name}: replace column {column} is missing from the data, so a re-run "
                                 "could not replace these rows")
        data = arrow.column(column)
        try:
            if isinstance(values, Since):
                start = pa.scalar(values.start, type=data.type)
                outside = pc.invert(pc.fill_null(pc.greater_equal(data, start), False))
            elif isinstance(values, OneOf):
                outside = pc.invert(pc.is_in(data, value_set=values.values.drop_nulls().to_arrow().cast(data.type)))
            else:
                outside = pc.invert(pc.is_in(data, value_set=pa.array(_values(values), type=data.type)))
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise WarehouseError(f"{table.name}: replace values for {column} do not match its type "
                                 f"{data.type}: {_first_line(exc)}") from None
        count = pc.sum(outside.cast(pa.int64())).as_py() or 0
        if count:
            example = pc.filter(data, outside)[0].as_py()
            raise WarehouseError(f"{table.name}: {count} row(s) have {column} outside the replaced values "
                                 f"(e.g. {example}); a re-run could not replace them")


__all__ = ["Keys", "OneOf", "Since", "TableLoad", "Warehouse", "arrow_type", "redact_url"]
