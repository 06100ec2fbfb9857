"""Expressions every mart uses the same way: EUR sums that stay unknown when a rate is missing, safe ratios."""

from __future__ import annotations

import polars as pl

from pipeline.entities import MONEY

# fct_attribution rounds credit to 12 decimals: as decimals its sums are exact, whatever order the rows come in
CREDIT = pl.Decimal(38, 12)


def sum_unless_unconverted(amount_eur: pl.Expr) -> pl.Expr:
    """Sum of EUR amounts, NULL if any of them is NULL (no FX rate): a partial total would mislead."""
    return pl.when(amount_eur.is_null().any()).then(pl.lit(None, MONEY)).otherwise(amount_eur.sum()).cast(MONEY)


def nonzero(denominator: pl.Expr) -> pl.Expr:
    """The denominator as Float64, NULL when it is 0 or NULL (a ratio over nothing is NULL, not 0)."""
    value = denominator.cast(pl.Float64)
    return pl.when(value != 0).then(value)
