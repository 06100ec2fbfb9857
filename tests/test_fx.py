"""EUR amounts at the newest rate valid on each row's day, in the row's own order."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

from pipeline.fx import with_eur


def test_rate_of_the_day_in_row_order_and_null_without_a_rate() -> None:
    rates = pl.LazyFrame({
        "valid_from": [date(2026, 1, 1), date(2026, 2, 1), date(2026, 1, 1)],
        "currency_code": ["SEK", "SEK", "USD"],
        "eur_per_unit": [Decimal("0.087"), Decimal("0.09"), Decimal("0.92")],
    })
    rows = pl.LazyFrame({
        "id": [1, 2, 3, 4, 5, 6],
        "currency_code": ["SEK", "USD", "SEK", None, "NOK", "SEK"],
        "day": [date(2026, 2, 3), date(2026, 1, 5), date(2026, 1, 31), date(2026, 1, 5), date(2026, 1, 5),
                date(2025, 12, 31)],
        "amount": [Decimal("1000"), Decimal("10"), Decimal("1000"), Decimal("5"), Decimal("5"), Decimal("1000")],
    }, schema_overrides={"amount": pl.Decimal(18, 4)})
    got = with_eur(rows, rates, amount_columns=["amount"], date_column="day").collect()
    assert got.columns == ["id", "currency_code", "day", "amount", "amount_eur"]
    assert got["id"].to_list() == [1, 2, 3, 4, 5, 6]
    assert [None if v is None else str(v) for v in got["amount_eur"]] == [
        "90.0000", "9.2000", "87.0000", None, None, None]
