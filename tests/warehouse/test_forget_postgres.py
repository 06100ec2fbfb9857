"""kohde forget on a PostgreSQL warehouse: the person's rows leave every customer table in one transaction."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipeline.lake import Lake
from pipeline.privacy import forget, tombstones
from pipeline.settings import Settings
from pipeline.warehouse import TableLoad, Warehouse

pytestmark = pytest.mark.postgres


def test_forget_deletes_customer_rows_on_postgres(pg_schema_url: str, tmp_path: Path) -> None:
    digest = hashlib.sha256(b"aino@example.fi").hexdigest()
    gone, kept = "c_" + digest[:16], "c_00000000000000aa"
    with Warehouse.connect(pg_schema_url) as warehouse:
        warehouse.upgrade()
        warehouse.load([
            TableLoad("dim_customer", pl.DataFrame({
                "customer_id": [gone, kept], "email_sha256": [digest, None], "age_band": ["unknown"] * 2,
                "orders": [1, 1]}), "all"),
            TableLoad("fct_orders", pl.DataFrame({
                "order_id": ["1", "2"], "customer_id": [gone, kept], "is_revenue": [True, True],
                "is_first_order": [True, True]}), "all"),
            TableLoad("mart_customer_segments", pl.DataFrame({
                "as_of_date": [date(2026, 8, 1)] * 2, "customer_id": [gone, kept], "rfm_segment": ["Champions"] * 2,
                "value_tier": ["top"] * 2, "engagement_segment": ["engaged"] * 2, "intent_segment": ["none"] * 2,
                "demographic_segment": ["unknown"] * 2, "psychographic_segment": ["unknown"] * 2,
                "persona": ["General"] * 2,
                **{band: ["unknown"] * 2 for band in ("age_band", "gender", "income_band", "education", "country_code",
                                                      "language", "industry", "company_size_band", "revenue_band")},
                "deal_stage_depth": ["no deal"] * 2}), {"as_of_date": [date(2026, 8, 1)]}),
        ])
    settings = Settings.from_env({"KOHDE_HOME": str(tmp_path), "KOHDE_WAREHOUSE_URL": pg_schema_url})
    forget(settings, email="Aino@Example.fi")
    with Warehouse.connect(pg_schema_url) as warehouse:
        for table in ("dim_customer", "fct_orders", "mart_customer_segments"):
            assert warehouse.query(f"SELECT customer_id FROM {table}")["customer_id"].to_list() == [kept], table
    assert tombstones(Lake(settings.lake))["customer_id"].to_list() == [gone]
