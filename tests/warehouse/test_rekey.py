"""upgrade() moves a table whose primary key gained a column (a current table that became a snapshot) to its new key."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from pipeline.warehouse import TableLoad, Warehouse

OLD_RETARGETING = """CREATE TABLE mart_retargeting (
    platform TEXT NOT NULL, campaign_id TEXT NOT NULL, campaign_name TEXT, clicks BIGINT,
    PRIMARY KEY (platform, campaign_id))"""
OLD_ATTRIBUTION = """CREATE TABLE fct_attribution (
    order_id TEXT NOT NULL, model TEXT NOT NULL, channel TEXT NOT NULL, campaign_id TEXT NOT NULL,
    credit DOUBLE PRECISION NOT NULL, PRIMARY KEY (order_id, model, channel, campaign_id))"""


def check_rekey(url: str) -> None:
    with Warehouse.connect(url) as warehouse:
        # a warehouse from before mart_retargeting had as_of_date: one row of the old grain
        warehouse.execute(OLD_RETARGETING)
        warehouse.execute("INSERT INTO mart_retargeting VALUES ('adroll', 'rt1', 'old', 7)")
        warehouse.execute(OLD_ATTRIBUTION)
        warehouse.execute("INSERT INTO fct_attribution VALUES ('1001', 'last_touch', 'email', '(none)', 1.0)")
        changes = warehouse.upgrade()
        assert "added column mart_retargeting.as_of_date DATE" in changes
        assert ("re-keyed table mart_retargeting on (as_of_date, platform, campaign_id): rows of the old grain deleted"
                in changes)
        assert warehouse.query("SELECT COUNT(*) AS n FROM mart_retargeting")["n"].item() == 0
        assert warehouse.upgrade() == []
        # the same campaign on two snapshot dates: a duplicate under the old key, distinct under the new one
        days = [date(2026, 3, 1), date(2026, 3, 2)]
        rows = pl.DataFrame({"as_of_date": days, "platform": ["adroll"] * 2, "campaign_id": ["rt1"] * 2,
                             "clicks": [3, 5]})
        for _ in range(2):  # a re-run replaces the same snapshots
            assert warehouse.load([TableLoad("mart_retargeting", rows, {"as_of_date": days})]) == {"mart_retargeting": 2}
        got = warehouse.query("SELECT as_of_date, platform, campaign_id, clicks FROM mart_retargeting ORDER BY as_of_date")
        assert got.rows() == [(days[0], "adroll", "rt1", 3), (days[1], "adroll", "rt1", 5)]
        # fct_attribution gained conversion_type: an order and a won deal may share an id
        assert ("re-keyed table fct_attribution on (conversion_type, order_id, model, channel, campaign_id): "
                "rows of the old grain deleted") in changes
        credit = pl.DataFrame({"order_id": ["1001", "1001"], "model": ["last_touch"] * 2, "channel": ["email"] * 2,
                               "campaign_id": ["(none)"] * 2, "credit": [1.0, 1.0],
                               "conversion_type": ["order", "won_deal"]})
        assert warehouse.load([TableLoad("fct_attribution", credit, "all")]) == {"fct_attribution": 2}
        assert warehouse.query("SELECT model, share_pct FROM v_attribution_model_comparison").rows() == [
            ("last_touch", None)]
        if warehouse.dialect == "postgresql":
            key = warehouse.query(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass('mart_retargeting') AND i.indisprimary "
                "ORDER BY array_position(i.indkey, a.attnum)")
            assert key["attname"].to_list() == ["as_of_date", "platform", "campaign_id"]


def test_rekey_on_duckdb(duckdb_url: str) -> None:
    check_rekey(duckdb_url)


@pytest.mark.postgres
def test_rekey_on_postgres(pg_schema_url: str) -> None:
    check_rekey(pg_schema_url)
