"""Hand-checked money through the whole flow: inbox files -> ingest -> transforms -> warehouse."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from pipeline.run import run_range
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse

DAY = date(2026, 6, 30)


def _write(inbox: Path, source: str, name: str, text: str) -> None:
    folder = inbox / source / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_cpa_is_sales_costs_over_new_customers(tmp_path):
    inbox = tmp_path / "inbox"
    header = "order_id,customer_id,email,ordered_at,currency,gross,discounts,refunds,net_revenue,status,product_category\n"
    # 500 new customers in June 2026, one paid order each of 400.00 EUR: revenue 500 x 400 = 200,000 EUR.
    rows = "".join(
        f"{i:05d},cust{i:05d},buyer{i}@example.fi,2026-06-{1 + i % 30:02d}T10:00:00Z,EUR,400.00,0.00,0.00,400.00,paid,watches\n"
        for i in range(500)
    )
    _write(inbox, "orders", "orders.csv", header + rows)
    # Sales costs of June: 30,000 fixed + 20,000 variable = 50,000 EUR.
    _write(inbox, "plan", "sales_costs.csv",
           "month,kind,category,currency,amount\n2026-06,fixed,salaries,EUR,30000\n2026-06,variable,commissions,EUR,20000\n")
    settings = Settings.from_env({"KOHDE_HOME": str(tmp_path / "home"), "KOHDE_INBOX": str(inbox)})

    report = run_range(settings, DAY, DAY)

    assert report.totals()["rows_read"] == 502
    assert report.totals()["rows_loaded"] == 502
    with Warehouse.connect(settings.warehouse_url) as warehouse:
        june = warehouse.query("SELECT * FROM mart_sales_costs WHERE month = DATE '2026-06-01'").row(0, named=True)
        orders = warehouse.query("SELECT COUNT(*) AS n, SUM(net_revenue_eur) AS revenue FROM fct_orders").row(
            0, named=True)
    assert orders == {"n": 500, "revenue": Decimal("200000.0000")}
    assert june["fixed_eur"] == Decimal("30000.0000")
    assert june["variable_eur"] == Decimal("20000.0000")
    assert june["total_sales_costs_eur"] == Decimal("50000.0000")
    assert june["new_customers"] == 500
    # CPA = 50,000 EUR / 500 new customers = 100 EUR
    assert june["cpa_eur"] == Decimal("100.0000")
    # sales-cost share = 50,000 / 200,000 x 100 = 25 %
    assert june["sales_cost_share_pct"] == 25.0
