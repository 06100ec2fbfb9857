"""Published CLV estimates reproduced from raw order files through kohde's own orders ingest.

The CDNOW sample (2,357 customers) written as a generic orders CSV into the inbox, ingested,
validated, built into fct_orders, summarised over the calibration period 1997-01-01..1997-09-30 in
weeks (same-day purchases counted once) and fitted: Fader, Hardie & Lee (2005) report BG/NBD
r = 0.243, alpha = 4.414, a = 0.793, b = 2.426 and Gamma-Gamma p = 6.25, q = 3.74, gamma = 15.44.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from pipeline.gold import Silver
from pipeline.lake import Lake
from pipeline.run import ingest_range
from pipeline.settings import Settings
from pipeline.transforms.clv import fit_bgnbd, fit_gamma_gamma, rfm_summary
from pipeline.transforms.orders import build_fct_orders
from tests.transforms.cdnow import cdnow_as_generic_orders_csv

EXTRACT = date(1998, 6, 30)
CALIBRATION_END = date(1997, 9, 30)


def test_cdnow_through_ingest_reproduces_published_parameters(tmp_path):
    inbox = tmp_path / "inbox"
    folder = inbox / "orders" / EXTRACT.isoformat()
    folder.mkdir(parents=True)
    cdnow_as_generic_orders_csv(folder / "cdnow_orders.csv")
    settings = Settings.from_env({"KOHDE_HOME": str(tmp_path / "home"), "KOHDE_INBOX": str(inbox)})

    results = ingest_range(settings, EXTRACT, EXTRACT)

    assert [(r.rows_read, r.rows_loaded, r.rows_quarantined) for r in results] == [(6919, 6919, 0)]
    silver = Silver(Lake(settings.lake), EXTRACT)
    orders = build_fct_orders(silver.as_of("order", EXTRACT), silver.fx(EXTRACT))
    summary = rfm_summary(orders, CALIBRATION_END).collect()
    assert summary.height == 2349  # 2,357 customers less 8 whose only calibration purchase was 0.00

    bgnbd = fit_bgnbd(summary["frequency"].to_numpy(), summary["recency"].to_numpy(), summary["T"].to_numpy())
    for name, published in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert getattr(bgnbd, name) == pytest.approx(published, rel=0.01), name

    repeat = summary.filter((pl.col("frequency") > 0) & (pl.col("monetary_value") > 0))
    gamma_gamma = fit_gamma_gamma(repeat["frequency"].to_numpy(), repeat["monetary_value"].to_numpy())
    for name, published in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert getattr(gamma_gamma, name) == pytest.approx(published, rel=0.01), name
