"""Currency conversion to the reporting currency (EUR) with a dated rates table."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

from pipeline.entities import MONEY

# Shipped with the demo and used when plan/fx_rates gives no rate: ECB reference rates (EUR per unit),
# rounded; a business with other currencies supplies plan/fx_rates.
DEFAULT_RATES: tuple[tuple[date, str, Decimal], ...] = (
    (date(1970, 1, 1), "EUR", Decimal("1")),
    (date(1970, 1, 1), "USD", Decimal("0.92")),
    (date(1970, 1, 1), "GBP", Decimal("1.17")),
    (date(1970, 1, 1), "SEK", Decimal("0.087")),
    (date(1970, 1, 1), "NOK", Decimal("0.085")),
    (date(1970, 1, 1), "DKK", Decimal("0.134")),
    (date(1970, 1, 1), "CHF", Decimal("1.05")),
)


def default_rates() -> pl.DataFrame:
    """The shipped rates table in the fx_rate entity schema."""
    return pl.DataFrame(
        {
            "valid_from": [r[0] for r in DEFAULT_RATES],
            "currency_code": [r[1] for r in DEFAULT_RATES],
            "eur_per_unit": [r[2] for r in DEFAULT_RATES],
        },
        schema={"valid_from": pl.Date, "currency_code": pl.Utf8, "eur_per_unit": pl.Decimal(18, 8)},
    )


def with_eur(
    frame: pl.LazyFrame,
    rates: pl.LazyFrame,
    *,
    amount_columns: list[str],
    currency_column: str = "currency_code",
    date_column: str,
) -> pl.LazyFrame:
    """Add ``<amount>_eur`` for each amount column, at the newest rate valid on the row's date.

    A row whose currency has no rate on or before its date gets NULL ``_eur`` amounts (never a
    guess); the load step reports such rows.
    """
    rates_sorted = rates.select(
        pl.col("valid_from").alias("_fx_from"),
        pl.col("currency_code").alias("_fx_ccy"),
        pl.col("eur_per_unit").cast(pl.Decimal(18, 8)).alias("_fx_rate"),
    ).sort("_fx_from")
    # The rate depends on (currency, day) only: price the few distinct pairs with the as-of join and
    # hash-join the rate back, instead of sorting the whole fact table by day and back again.
    day = pl.col(date_column).cast(pl.Date).alias("_fx_day")
    priced = (
        frame.select(pl.col(currency_column), day).unique().sort("_fx_day")
        .join_asof(rates_sorted, left_on="_fx_day", right_on="_fx_from", by_left=currency_column, by_right="_fx_ccy",
                   strategy="backward", check_sortedness=False)
        .select(currency_column, "_fx_day", "_fx_rate")
    )
    joined = frame.with_columns(day).join(priced, on=[currency_column, "_fx_day"], how="left", maintain_order="left")
    return joined.with_columns(
        [(pl.col(c).cast(pl.Decimal(18, 4)) * pl.col("_fx_rate")).round(4).cast(MONEY).alias(f"{c}_eur")
         for c in amount_columns]
    ).drop("_fx_day", "_fx_rate")
