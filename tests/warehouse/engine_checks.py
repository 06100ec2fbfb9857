"""Checks every warehouse engine must pass; test_engine_duckdb.py and test_engine_postgres.py run them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.errors import WarehouseError
from pipeline.warehouse import Keys, OneOf, Since, TableLoad, Warehouse, tables
from pipeline.warehouse.engine import VIEWS_DIR

DAY1 = date(2026, 3, 1)
DAY2 = date(2026, 3, 2)

DAILY_SCHEMA = {"day": pl.Date(), "channel": pl.String(), "spend_eur": pl.Decimal(18, 4)}


def daily(rows: list[tuple[date, str, str]]) -> pl.DataFrame:
    """t_daily rows from (day, channel, spend as text)."""
    return pl.DataFrame([(d, c, Decimal(s)) for d, c, s in rows], schema=DAILY_SCHEMA, orient="row")


def read_daily(warehouse: Warehouse) -> pl.DataFrame:
    return warehouse.query("SELECT day, channel, spend_eur FROM t_daily ORDER BY day, channel")


def read_money(warehouse: Warehouse) -> pl.DataFrame:
    return warehouse.query("SELECT * FROM t_money ORDER BY entry_id")


def column_comment(warehouse: Warehouse, table: str, column: str) -> str | None:
    if warehouse.dialect == "duckdb":
        sql = ("SELECT comment FROM duckdb_columns() WHERE schema_name = current_schema() "
               "AND table_name = :table AND column_name = :column")
    else:
        sql = ("SELECT col_description(c.oid, a.attnum) AS comment FROM pg_class c "
               "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid "
               "WHERE n.nspname = current_schema() AND c.relname = :table AND a.attname = :column")
    return warehouse.query(sql, {"table": table, "column": column})["comment"].item()


def check_upgrade_creates_every_project_table_once(url: str) -> None:
    expected = list(tables())
    views = sorted(path.stem for path in VIEWS_DIR.glob("*.sql"))
    with Warehouse.connect(url) as warehouse:
        assert warehouse.upgrade() == [f"created table {name}" for name in expected] + [f"view {v}" for v in views]
        assert warehouse.upgrade() == []
        assert warehouse.table_names() == sorted(expected)
        assert column_comment(warehouse, "ops_runs", "status") == (
            "running | succeeded | failed | interrupted (it never ended: killed; a later run of the same dates closed it).")


def check_upgrade_adds_columns_and_comments(url: str, tables_dir: Path) -> None:
    with Warehouse.connect(url, tables_dir=tables_dir) as warehouse:
        # an older warehouse: t_daily without spend_eur, no comments, one row; t_money missing
        warehouse.execute("CREATE TABLE t_daily (day DATE NOT NULL, channel TEXT NOT NULL, PRIMARY KEY (day, channel))")
        warehouse.execute("INSERT INTO t_daily VALUES (CAST(:day AS DATE), 'search')", {"day": DAY1})
        assert warehouse.upgrade() == [
            "added column t_daily.spend_eur DECIMAL(18,4)",
            "created table t_money",
            "updated 4 comment(s) on t_daily",  # the table and its three columns
        ]
        assert warehouse.upgrade() == []
        kept = pl.DataFrame({"day": [DAY1], "channel": ["search"], "spend_eur": [None]}, schema=DAILY_SCHEMA)
        assert_frame_equal(read_daily(warehouse), kept)
        assert column_comment(warehouse, "t_daily", "spend_eur") == "Spend in EUR (100 % of the channel's spend)."
        warehouse.execute("COMMENT ON COLUMN t_daily.channel IS 'old text'")
        assert warehouse.upgrade() == ["updated 1 comment(s) on t_daily"]
        assert column_comment(warehouse, "t_daily", "channel") == "Channel."


def check_replace_by_partition(url: str, tables_dir: Path) -> None:
    with Warehouse.connect(url, tables_dir=tables_dir) as warehouse:
        warehouse.upgrade()
        first = daily([(DAY1, "search", "10"), (DAY1, "social", "20"), (DAY2, "search", "30"),
                       (DAY2, "social", "40")])
        assert warehouse.load([TableLoad("t_daily", first, {"day": [DAY1, DAY2]})]) == {"t_daily": 4}
        # day 2 restated: search changed, social gone, email new; day 1 untouched
        restated = daily([(DAY2, "email", "5"), (DAY2, "search", "35")])
        expected = daily([(DAY1, "search", "10"), (DAY1, "social", "20"), (DAY2, "email", "5"),
                          (DAY2, "search", "35")])
        for _ in range(2):  # a re-run of the same load changes nothing
            assert warehouse.load([TableLoad("t_daily", restated, {"day": [DAY2]})]) == {"t_daily": 2}
            assert_frame_equal(read_daily(warehouse), expected)
        # an empty partition replaces day 2 with nothing
        assert warehouse.load([TableLoad("t_daily", restated.clear(), {"day": [DAY2]})]) == {"t_daily": 0}
        assert_frame_equal(read_daily(warehouse), expected.filter(pl.col("day") == DAY1))
        # rows outside the replaced partition would double on a re-run: refused
        with pytest.raises(WarehouseError, match=r"t_daily: 1 row\(s\) have day outside the replaced values"):
            warehouse.load([TableLoad("t_daily", restated.head(1), {"day": [DAY1]})])
        assert_frame_equal(read_daily(warehouse), expected.filter(pl.col("day") == DAY1))


def check_replace_from_a_date_on(url: str, tables_dir: Path) -> None:
    day3 = DAY2 + timedelta(days=1)
    with Warehouse.connect(url, tables_dir=tables_dir) as warehouse:
        warehouse.upgrade()
        warehouse.load([TableLoad("t_daily", daily([(DAY1, "search", "10"), (DAY2, "search", "30"),
                                                    (day3, "social", "40")]), "all")])
        # from day 2 on: day 3's row goes although the new rows have no day 3, day 1 stays
        rebuilt = daily([(DAY2, "search", "31"), (DAY2, "email", "5")])
        for _ in range(2):  # a re-run of the same load changes nothing
            assert warehouse.load([TableLoad("t_daily", rebuilt, {"day": Since(DAY2)})]) == {"t_daily": 2}
            assert_frame_equal(read_daily(warehouse), daily([(DAY1, "search", "10"), (DAY2, "email", "5"),
                                                             (DAY2, "search", "31")]))
        # with another column: only day >= 2 AND channel in the list
        warehouse.load([TableLoad("t_daily", daily([(day3, "email", "7")]), {"day": Since(DAY2), "channel": ["email"]})])
        assert_frame_equal(read_daily(warehouse), daily([(DAY1, "search", "10"), (DAY2, "search", "31"),
                                                         (day3, "email", "7")]))
        with pytest.raises(WarehouseError, match=r"t_daily: 1 row\(s\) have day outside the replaced values"):
            warehouse.load([TableLoad("t_daily", daily([(DAY1, "email", "1")]), {"day": Since(DAY2)})])


def check_replace_among_many_values(url: str, tables_dir: Path) -> None:
    """``OneOf``: the rows of many named keys from a day on (a night's rebuilt conversions), none bound one by one."""
    def entries(rows: list[tuple[str, date, str]]) -> pl.DataFrame:
        return pl.DataFrame({"entry_id": [r[0] for r in rows], "day": [r[1] for r in rows],
                             "amount": [Decimal(r[2]) for r in rows]}, schema_overrides={"amount": pl.Decimal(18, 4)})

    def held(warehouse: Warehouse) -> list[tuple[str, date, Decimal]]:
        return warehouse.query("SELECT entry_id, day, amount FROM t_money ORDER BY entry_id").rows()

    day3 = DAY2 + timedelta(days=1)
    with Warehouse.connect(url, tables_dir=tables_dir) as warehouse:
        warehouse.upgrade()
        warehouse.load([TableLoad("t_money", entries([("e1", DAY1, "1"), ("e2", DAY2, "2"), ("e3", DAY2, "3"),
                                                      ("e4", day3, "4")]), "all")])
        # e2 changed, e3 gone, e9 new; e4 (not named) and e1 (before day 2) stay; 70,000 names, more than
        # PostgreSQL binds in one statement
        named = pl.Series(["e2", "e3", "e9", *(f"x{n}" for n in range(70_000))])
        rebuilt = entries([("e2", day3, "2.5"), ("e9", DAY2, "9")])
        for _ in range(2):  # a re-run of the same load changes nothing
            assert warehouse.load([TableLoad("t_money", rebuilt, {"day": Since(DAY2), "entry_id": OneOf(named)})]) \
                == {"t_money": 2}
            assert held(warehouse) == [("e1", DAY1, Decimal("1")), ("e2", day3, Decimal("2.5")),
                                       ("e4", day3, Decimal("4")), ("e9", DAY2, Decimal("9"))]
        # none named: nothing deleted, nothing to insert
        assert warehouse.load([TableLoad("t_money", rebuilt.clear(), {"entry_id": OneOf(pl.Series([], dtype=pl.Utf8))})]) \
            == {"t_money": 0}
        assert len(held(warehouse)) == 4
        # a row not named, or before the day, would double on a re-run: refused
        with pytest.raises(WarehouseError, match=r"t_money: 1 row\(s\) have entry_id outside the replaced values"):
            warehouse.load([TableLoad("t_money", entries([("e5", DAY2, "5")]),
                                      {"day": Since(DAY2), "entry_id": OneOf(pl.Series(["e9"]))})])
        # e1 is kept (day 1, before the replaced rows): a new e1 would be its duplicate
        with pytest.raises(WarehouseError, match="t_money.*duplicate key"):
            warehouse.load([TableLoad("t_money", entries([("e1", DAY2, "1.5")]),
                                      {"day": Since(DAY2), "entry_id": OneOf(pl.Series(["e1"]))})])
        with pytest.raises(WarehouseError, match="t_money: a load by key or by many values needs its rows"):
            warehouse.load([TableLoad("t_money", rebuilt.lazy(), {"entry_id": OneOf(pl.Series(["e2"]))})])
        assert held(warehouse) == [("e1", DAY1, Decimal("1")), ("e2", day3, Decimal("2.5")),
                                   ("e4", day3, Decimal("4")), ("e9", DAY2, Decimal("9"))]


def check_replace_by_key(url: str, tables_dir: Path) -> None:
    with Warehouse.connect(url, tables_dir=tables_dir) as warehouse:
        warehouse.upgrade()
        warehouse.load([TableLoad("t_daily", daily([(DAY1, "search", "10"), (DAY1, "social", "20"),
                                                    (DAY2, "search", "30"), (DAY2, "social", "40")]), "all")])
        # (day 1, social) changed, (day 2, email) new, (day 2, search) removed; the rest untouched
        changed = daily([(DAY1, "social", "21"), (DAY2, "email", "5")])
        removed = pl.DataFrame({"channel": ["search"], "day": [DAY2]})  # key columns in any order
        expected = daily([(DAY1, "search", "10"), (DAY1, "social", "21"), (DAY2, "email", "5"),
                          (DAY2, "social", "40")])
        for _ in range(2):  # a re-run of the same load changes nothing
            assert warehouse.load([TableLoad("t_daily", changed, Keys(removed))]) == {"t_daily": 2}
            assert_frame_equal(read_daily(warehouse), expected)
        # only removals, then nothing at all
        assert warehouse.load([TableLoad("t_daily", changed.clear(), Keys(removed.with_columns(day=pl.lit(DAY1))))]) \
            == {"t_daily": 0}
        assert_frame_equal(read_daily(warehouse), expected.filter(pl.col("channel") != "search"))
        assert warehouse.load([TableLoad("t_daily", changed.clear(), Keys())]) == {"t_daily": 0}
        assert read_daily(warehouse).height == 3
        # a replaced row takes the new row whole: a column the data lacks is NULL, as after a delete and an insert
        assert warehouse.load([TableLoad("t_daily", changed.select("day", "channel"), Keys())]) == {"t_daily": 2}
        assert_frame_equal(read_daily(warehouse), pl.DataFrame(
            [(DAY1, "social", None), (DAY2, "email", None), (DAY2, "social", Decimal(40))], schema=DAILY_SCHEMA,
            orient="row"))
        warehouse.load([TableLoad("t_daily", changed, Keys())])
        with pytest.raises(WarehouseError, match=r"t_daily: removed keys must have exactly the primary key columns"):
            warehouse.load([TableLoad("t_daily", changed, Keys(removed.select("day")))])
        with pytest.raises(WarehouseError, match="t_daily.*duplicate key"):
            warehouse.load([TableLoad("t_daily", pl.concat([changed, changed]), Keys())])
        assert read_daily(warehouse).height == 3


def check_replace_all_and_append(url: str, tables_dir: Path) -> None:
    with Warehouse.connect(url, tables_dir=tables_dir) as warehouse:
        warehouse.upgrade()
        warehouse.load([TableLoad("t_daily", daily([(DAY1, "search", "1"), (DAY1, "social", "2")]), "all")])
        assert warehouse.load([TableLoad("t_daily", daily([(DAY2, "email", "3")]), "all")]) == {"t_daily": 1}
        assert_frame_equal(read_daily(warehouse), daily([(DAY2, "email", "3")]))
        assert warehouse.append("t_daily", daily([(DAY2, "search", "4")])) == 1
        assert warehouse.append("t_daily", daily([])) == 0
        assert_frame_equal(read_daily(warehouse), daily([(DAY2, "email", "3"), (DAY2, "search", "4")]))
        # appending a key already there would double it
        with pytest.raises(WarehouseError, match="t_daily.*duplicate key"):
            warehouse.append("t_daily", daily([(DAY2, "search", "5")]))
        assert_frame_equal(read_daily(warehouse), daily([(DAY2, "email", "3"), (DAY2, "search", "4")]))
        # so would replacing a partition (day) the key (entry_id) does not include, when the key lives on elsewhere
        warehouse.load([TableLoad("t_money", pl.DataFrame({"entry_id": ["a"], "day": [DAY1]}), {"day": [DAY1]})])
        with pytest.raises(WarehouseError, match="t_money.*duplicate key"):
            warehouse.load([TableLoad("t_money", pl.DataFrame({"entry_id": ["a"], "day": [DAY2]}), {"day": [DAY2]})])
        assert read_money(warehouse).select("entry_id", "day").rows() == [("a", DAY1)]


def check_failed_load_rolls_back_every_table(url: str, tables_dir: Path) -> None:
    with Warehouse.connect(url, tables_dir=tables_dir) as warehouse:
        warehouse.upgrade()
        warehouse.load([
            TableLoad("t_daily", daily([(DAY1, "search", "10"), (DAY2, "search", "20")]), "all"),
            TableLoad("t_money", pl.DataFrame({"entry_id": ["a"], "day": [DAY1]}), "all"),
        ])
        daily_before, money_before = read_daily(warehouse), read_money(warehouse)
        duplicate_key = pl.DataFrame({"entry_id": ["x", "x"], "day": [DAY1, DAY1]})
        with pytest.raises(WarehouseError, match="t_money.*duplicate key") as failure:
            warehouse.load([
                TableLoad("t_daily", daily([(DAY1, "email", "99")]), {"day": [DAY1]}),
                TableLoad("t_money", duplicate_key, "all"),  # fails inside the transaction: primary key
                TableLoad("t_daily", daily([(DAY2, "email", "98")]), {"day": [DAY2]}),
            ])
        assert "\n" not in str(failure.value)
        assert_frame_equal(read_daily(warehouse), daily_before)
        assert_frame_equal(read_money(warehouse), money_before)
        assert money_before["entry_id"].to_list() == ["a"]


def check_lazy_loads_are_inserted_batch_by_batch(url: str, tables_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A LazyFrame load goes in two rows at a time: every row, each batch checked, a key repeated across batches refused."""
    monkeypatch.setattr("pipeline.warehouse.engine.STREAM_ROWS", 2)
    rows = [(DAY1, "search", "1.5"), (DAY1, "social", "2"), (DAY2, "email", "3"), (DAY2, "search", "4.25"),
            (DAY2, "social", "5")]
    with Warehouse.connect(url, tables_dir=tables_dir) as warehouse:
        warehouse.upgrade()
        warehouse.load([TableLoad("t_daily", daily([(DAY1, "tv", "9")]), "all")])
        assert warehouse.load([TableLoad("t_daily", daily(rows).lazy(), "all")]) == {"t_daily": 5}
        assert_frame_equal(read_daily(warehouse), daily(rows))
        assert warehouse.load([TableLoad("t_daily", daily(rows[2:]).lazy(), {"day": Since(DAY2)})]) == {"t_daily": 3}
        assert_frame_equal(read_daily(warehouse), daily(rows))
        # the fifth row repeats the first one's key: the second batch finds it in the table, everything rolls back
        repeated = daily([*rows[:4], (DAY1, "search", "7")]).lazy()
        with pytest.raises(WarehouseError, match="t_daily.*duplicate key"):
            warehouse.load([TableLoad("t_money", pl.DataFrame({"entry_id": ["b"], "day": [DAY2]}), "all"),
                            TableLoad("t_daily", repeated, "all")])
        assert_frame_equal(read_daily(warehouse), daily(rows))
        assert read_money(warehouse).height == 0
        # a key repeated within the replaced days (a key column): DuckDB finds it among the replaced rows alone
        with pytest.raises(WarehouseError, match="t_daily.*duplicate key") as repeated_day:
            warehouse.load([TableLoad("t_daily", daily([*rows[2:], (DAY2, "search", "8")]).lazy(), {"day": [DAY2]})])
        if url.startswith("duckdb"):
            assert str(repeated_day.value).endswith(f"duplicate key (day, channel) = ({DAY2}, search) in the data")
        assert_frame_equal(read_daily(warehouse), daily(rows))
        # a batch outside what the load replaces is refused as an eager one is
        with pytest.raises(WarehouseError, match="t_daily"):
            warehouse.load([TableLoad("t_daily", daily(rows).lazy(), {"day": Since(DAY2)})])
        assert_frame_equal(read_daily(warehouse), daily(rows))


def check_columns_matched_by_name(url: str, tables_dir: Path) -> None:
    with Warehouse.connect(url, tables_dir=tables_dir) as warehouse:
        warehouse.upgrade()
        # columns in another order, and without spend_eur: stored as NULL
        warehouse.load([TableLoad("t_daily", pl.DataFrame({"channel": ["search"], "day": [DAY1]}), "all")])
        assert read_daily(warehouse).row(0) == (DAY1, "search", None)
        with pytest.raises(WarehouseError, match="t_daily: data has columns the table does not define: clicks, cpc"):
            warehouse.load([TableLoad("t_daily", pl.DataFrame({"day": [DAY2], "channel": ["x"], "clicks": [1],
                                                                 "cpc": [0.5]}), "all")])
        with pytest.raises(WarehouseError, match="t_daily: data lacks NOT NULL column"):
            warehouse.load([TableLoad("t_daily", pl.DataFrame({"day": [DAY2]}), "all")])
        with pytest.raises(WarehouseError, match="no table 't_nothing'"):
            warehouse.load([TableLoad("t_nothing", pl.DataFrame({"day": [DAY2]}), "all")])
        assert read_daily(warehouse).row(0) == (DAY1, "search", None)


def money_rows() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "entry_id": ["a", "b", "c", "d"],
            "day": [DAY1] * 4,
            "amount": [Decimal("0.0100"), Decimal("5000000000.0001"), Decimal("44.1235"), Decimal("-0.0001")],
            "rate": [Decimal("44.12345678"), None, Decimal("0.00000001"), Decimal("1")],
            "paid_at": [datetime(2026, 3, 1, 22, 30, tzinfo=UTC), None, datetime(2026, 3, 1, 0, 0, 0, 1, tzinfo=UTC),
                        datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)],
            "units": [2**62, None, 0, -1],
            "small": [1, 2, None, -2147483648],
            "share": [0.1, None, 1e-7, 1 / 3],
            "is_paid": [True, False, None, True],
            "note": ["", None, 'quote " comma , newline \n end', "ÄÖ € ;"],
        },
        schema_overrides={"amount": pl.Decimal(18, 4), "rate": pl.Decimal(18, 8), "small": pl.Int32()},
    )


def check_values_round_trip_exactly(url: str, tables_dir: Path) -> None:
    with Warehouse.connect(url, tables_dir=tables_dir) as warehouse:
        warehouse.upgrade()
        rows = money_rows()
        assert warehouse.load([TableLoad("t_money", rows, {"day": [DAY1]})]) == {"t_money": 4}
        assert_frame_equal(read_money(warehouse), rows)
        # the stored text, as a BI tool reading the table would see it
        text = warehouse.query("SELECT CAST(amount AS VARCHAR) AS amount, CAST(rate AS VARCHAR) AS rate "
                               "FROM t_money ORDER BY entry_id")
        assert text["amount"].to_list() == ["0.0100", "5000000000.0001", "44.1235", "-0.0001"]
        assert text["rate"].to_list() == ["44.12345678", None, "0.00000001", "1.00000000"]
        # sums stay exact: 0.0100 + 5000000000.0001 + 44.1235 - 0.0001 = 5000000044.1335
        assert warehouse.query("SELECT SUM(amount) AS total FROM t_money")["total"].item() == Decimal(
            "5000000044.1335")
        # the values, at six decimals in a column with scale 8: the ones float or ADBC paths corrupt
        exact = pl.DataFrame(
            {"entry_id": ["x", "y", "z"], "day": [DAY2] * 3,
             "rate": [Decimal("0.01"), Decimal("5000000000.000001"), Decimal("44.123456")]},
            schema_overrides={"rate": pl.Decimal(38, 6)},
        )
        warehouse.load([TableLoad("t_money", exact, {"day": [DAY2]})])
        back = warehouse.query("SELECT entry_id, rate, CAST(rate AS VARCHAR) AS text FROM t_money "
                               "WHERE day = :day ORDER BY entry_id", {"day": DAY2})
        assert back["rate"].to_list() == [Decimal("0.01"), Decimal("5000000000.000001"), Decimal("44.123456")]
        assert back["text"].to_list() == ["0.01000000", "5000000000.00000100", "44.12345600"]


def check_decimals_round_half_away_from_zero(url: str, tables_dir: Path) -> None:
    with Warehouse.connect(url, tables_dir=tables_dir) as warehouse:
        warehouse.upgrade()
        finer = pl.DataFrame({"entry_id": ["a", "b", "c"], "day": [DAY1] * 3,
                              "amount": [Decimal("1.23455"), Decimal("-1.23445"), Decimal("2.00004")]},
                             schema_overrides={"amount": pl.Decimal(38, 6)})
        warehouse.load([TableLoad("t_money", finer, "all")])
        assert read_money(warehouse)["amount"].to_list() == [Decimal("1.2346"), Decimal("-1.2345"), Decimal("2.0000")]
        floats = pl.DataFrame({"entry_id": ["z"], "day": [DAY1], "amount": [0.1]})
        with pytest.raises(WarehouseError, match=r"t_money.amount: float data for a DECIMAL\(18,4\) column"):
            warehouse.load([TableLoad("t_money", floats, "all")])
        too_big = pl.DataFrame({"entry_id": ["z"], "day": [DAY1], "amount": [Decimal("12345678901234567")]},
                               schema_overrides={"amount": pl.Decimal(38, 0)})
        with pytest.raises(WarehouseError, match=r"t_money.amount: cannot store"):
            warehouse.load([TableLoad("t_money", too_big, "all")])
        assert read_money(warehouse).height == 3


def check_timestamps_are_utc_instants(url: str, tables_dir: Path) -> None:
    with Warehouse.connect(url, tables_dir=tables_dir) as warehouse:
        warehouse.upgrade()
        # 2026-03-02 00:30 in Helsinki (UTC+2 in March) is 2026-03-01 22:30 UTC; a naive value is taken as UTC
        helsinki = pl.DataFrame(
            {"entry_id": ["h"], "day": [DAY1], "paid_at": [datetime(2026, 3, 2, 0, 30)]}
        ).with_columns(pl.col("paid_at").dt.replace_time_zone("Europe/Helsinki"))
        naive = pl.DataFrame({"entry_id": ["n"], "day": [DAY1], "paid_at": [datetime(2026, 3, 1, 22, 30)]})
        warehouse.load([TableLoad("t_money", helsinki, {"entry_id": ["h"]}),
                        TableLoad("t_money", naive, {"entry_id": ["n"]})])
        stored = read_money(warehouse)["paid_at"]
        assert stored.dtype == pl.Datetime("us", "UTC")
        assert stored.to_list() == [datetime(2026, 3, 1, 22, 30, tzinfo=UTC)] * 2


def check_query_parameters(url: str, tables_dir: Path) -> None:
    with Warehouse.connect(url, tables_dir=tables_dir) as warehouse:
        warehouse.upgrade()
        warehouse.load([TableLoad("t_daily", daily([(DAY1, "search", "1"), (DAY1, "social", "2"),
                                                    (DAY2, "email", "3")]), "all")])
        picked = warehouse.query("SELECT channel FROM t_daily WHERE day = :day AND channel IN :channels "
                                 "ORDER BY channel", {"day": DAY1, "channels": ["social", "search", "tv"]})
        assert picked["channel"].to_list() == ["search", "social"]
        empty = warehouse.query("SELECT day, spend_eur FROM t_daily WHERE day > :day", {"day": DAY2})
        assert empty.height == 0
        assert empty.schema["day"] == pl.Date()
        assert empty.schema["spend_eur"] == pl.Decimal(18, 4)
        with pytest.raises(WarehouseError, match="query"):
            warehouse.query("SELECT no_such_column FROM t_daily")


VIEWS = ["v_attribution_model_comparison", "v_goal_status_today", "v_roi_by_channel_month", "v_segment_overview"]


def view_names(warehouse: Warehouse) -> list[str]:
    return warehouse.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_type = 'VIEW' ORDER BY table_name"
    )["table_name"].to_list()


def check_views(url: str) -> None:
    """The BI views exist after upgrade() and read the right rows of a tiny hand-made data set."""
    old, new = date(2026, 2, 28), date(2026, 3, 31)
    with Warehouse.connect(url) as warehouse:
        changes = warehouse.upgrade()
        assert [c for c in changes if c.startswith("view ")] == [f"view {v}" for v in VIEWS]
        assert view_names(warehouse) == VIEWS
        assert warehouse.upgrade() == []  # recreated, not new
        assert view_names(warehouse) == VIEWS
        assert "v_roi_by_channel_month" not in warehouse.table_names()

        attribution = pl.DataFrame(
            [("o1", "last_touch", "paid_search", "c1", 1.0, Decimal("600")),
             ("o2", "last_touch", "email", "(none)", 1.0, Decimal("300")),
             ("o3", "last_touch", "email", "(none)", 1.0, Decimal("100")),
             ("o1", "linear", "paid_search", "c1", 0.5, Decimal("300")),
             ("o1", "linear", "email", "(none)", 0.5, Decimal("300")),
             ("o2", "linear", "email", "(none)", 1.0, Decimal("400")),
             ("o9", "first_touch", "direct", "(none)", 1.0, Decimal("0"))],
            schema={"order_id": pl.String(), "model": pl.String(), "channel": pl.String(),
                    "campaign_id": pl.String(), "credit": pl.Float64(), "revenue_eur": pl.Decimal(18, 4)},
            orient="row",
        ).with_columns(pl.lit("order").alias("conversion_type"))
        # a won deal (paid through orders as well): not in the comparison of order revenue
        attribution = pl.concat([attribution, pl.DataFrame(
            [("o1", "last_touch", "email", "(none)", 1.0, Decimal("5000"), "won_deal")],
            schema=attribution.schema, orient="row")])
        roi_schema = {"period_grain": pl.String(), "period_start": pl.Date(), "channel": pl.String(),
                      "campaign_id": pl.String(), "model": pl.String(), "spend_eur": pl.Decimal(18, 4),
                      "attributed_revenue_eur": pl.Decimal(18, 4), "conversions": pl.Float64(),
                      "new_customers": pl.Float64(), "roi": pl.Float64()}
        roi = pl.DataFrame(
            [("month", DAY1, "paid_search", "(all)", "last_touch", Decimal("200"), Decimal("600"), 1.0, 1.0, 2.0),
             ("month", DAY1, "paid_search", "c1", "last_touch", Decimal("200"), Decimal("600"), 1.0, 1.0, 2.0),
             ("day", DAY1, "paid_search", "(all)", "last_touch", Decimal("200"), Decimal("600"), 1.0, 1.0, 2.0)],
            schema=roi_schema, orient="row",
        )
        segments = pl.DataFrame(
            [(old, "value_tier", "high", 5, True), (new, "value_tier", "high", 40, True),
             (new, "value_tier", "low", 1, False)],
            schema={"as_of_date": pl.Date(), "segmentation": pl.String(), "segment": pl.String(),
                    "customers": pl.Int64(), "size_ok": pl.Boolean()},
            orient="row",
        )
        goals = pl.DataFrame(
            [(old, "g1", "Revenue", "off_track"), (new, "g1", "Revenue", "on_track"),
             (new, "g2", "New customers", "at_risk")],
            schema={"as_of_date": pl.Date(), "goal_id": pl.String(), "description": pl.String(), "status": pl.String()},
            orient="row",
        )
        warehouse.load([TableLoad("fct_attribution", attribution, "all"), TableLoad("mart_channel_roi", roi, "all"),
                        TableLoad("mart_segment_summary", segments, "all"), TableLoad("mart_goal_tracking", goals, "all")])

        comparison = warehouse.query(
            "SELECT channel, model, revenue_eur, share_pct FROM v_attribution_model_comparison ORDER BY model, channel")
        expected = pl.DataFrame(
            [("direct", "first_touch", Decimal("0"), None),
             ("email", "last_touch", Decimal("400"), 40.0), ("paid_search", "last_touch", Decimal("600"), 60.0),
             ("email", "linear", Decimal("700"), 70.0), ("paid_search", "linear", Decimal("300"), 30.0)],
            schema={"channel": pl.String(), "model": pl.String(), "revenue_eur": pl.Decimal(18, 4),
                    "share_pct": pl.Float64()},
            orient="row",
        )
        assert_frame_equal(comparison, expected)

        monthly = warehouse.query('SELECT * FROM v_roi_by_channel_month')
        assert monthly.columns == ["month", "channel", "model", "spend_eur", "attributed_revenue_eur", "conversions",
                                   "new_customers", "roi", "roas", "cpa_eur", "cac_eur"]
        assert monthly.select("month", "channel", "model", "spend_eur", "roi").rows() == [
            (DAY1, "paid_search", "last_touch", Decimal("200"), 2.0)]

        overview = warehouse.query("SELECT * FROM v_segment_overview ORDER BY segment")
        assert overview.columns == ["as_of_date", "segmentation", "segment", "customers", "share_pct", "revenue_eur",
                                    "avg_order_eur", "size_ok"]
        assert overview.select("as_of_date", "segment", "customers", "size_ok").rows() == [
            (new, "high", 40, True), (new, "low", 1, False)]

        today = warehouse.query("SELECT * FROM v_goal_status_today ORDER BY goal_id")
        assert today.columns == ["as_of_date", "goal_id", "description", "metric", "owner", "target_abs",
                                 "actual_to_date", "expected_to_date", "attainment_pct", "forecast_end", "status"]
        assert today.select("as_of_date", "goal_id", "status").rows() == [(new, "g1", "on_track"),
                                                                          (new, "g2", "at_risk")]
