"""The audience DAG: parsed with the nightly DAG's DagBag, triggered by the segments asset; its task on a warehouse."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

pytestmark = pytest.mark.airflow


def test_structure_asset_schedule_pool_retries(dagbag) -> None:
    assert dagbag.import_errors == {}
    dag = dagbag.dags["kohde_audiences"]
    assert set(dag.tags) >= {"kohde", "audiences"}
    export = dag.get_task("export")
    assert export.pool == "kohde_warehouse" and export.retries == 2
    assert {o.uri for o in export.outlets} == {"kohde://warehouse/mart_audience_sizes"}
    assert [a.uri for a in dag.timetable.asset_condition.objects] == ["kohde://warehouse/mart_customer_segments"]


def test_export_uses_the_newest_segment_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline.orchestration import export_latest_audiences
    from pipeline.settings import Settings
    from pipeline.warehouse import TableLoad, Warehouse

    monkeypatch.setenv("KOHDE_HOME", str(tmp_path))
    monkeypatch.delenv("KOHDE_WAREHOUSE_URL", raising=False)
    with pytest.raises(AirflowFailException, match="no segment snapshot"):
        export_latest_audiences()
    settings = Settings.from_env()
    days = [date(2026, 8, 3), date(2026, 8, 4)]
    with Warehouse.connect(settings.warehouse_url) as warehouse:
        warehouse.load([TableLoad("mart_customer_segments", pl.DataFrame({
            "as_of_date": days, "customer_id": ["c_1", "c_1"], "rfm_segment": ["Prospects"] * 2,
            "value_tier": ["none"] * 2, "engagement_segment": ["dormant"] * 2, "intent_segment": ["none"] * 2,
            "demographic_segment": ["unknown"] * 2, "psychographic_segment": ["unknown"] * 2,
            "persona": ["General"] * 2,
            **{band: ["unknown"] * 2 for band in ("age_band", "gender", "income_band", "education", "country_code",
                                                  "language", "industry", "company_size_band", "revenue_band")},
            "deal_stage_depth": ["no deal"] * 2}), {"as_of_date": days})])
    result = export_latest_audiences()
    assert result["as_of_date"] == "2026-08-04"
    assert result["members"]["champions_lookalike_seed_meta_ads.csv"] == 0
    assert (settings.audiences_dir / "2026-08-04" / "engaged_no_order_30d_google_ads.csv").exists()
