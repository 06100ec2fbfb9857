"""Synthetic journeys shared by the attribution tests."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import numpy as np
import polars as pl

from pipeline.entities import MONEY


def buyer_orders(buyers: np.ndarray, ordered_at: datetime, width: int) -> pl.DataFrame:
    """One first order of 100.00 EUR per buyer (``c<index>``, zero-padded to ``width``), all at one moment."""
    return pl.DataFrame({
        "order_id": [f"o{c:0{width}d}" for c in buyers],
        "customer_id": [f"c{c:0{width}d}" for c in buyers],
        "ordered_at": [ordered_at] * len(buyers),
        "order_date": [ordered_at.date()] * len(buyers),
        "net_revenue_eur": [Decimal("100.00")] * len(buyers),
        "is_revenue": True,
        "is_first_order": True,
    }).with_columns(pl.col("net_revenue_eur").cast(MONEY))
