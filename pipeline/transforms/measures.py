"""Expressions every mart uses the same way: EUR sums that stay unknown when a rate is missing, safe ratios."""

from __future__ import annotations

import polars as pl

from pipeline.entities import MONEY

# fct_attribution rounds credit to 12 decimals: as decimals its sums are exact, whatever order the rows come in
CREDIT = pl.Decimal(38, 12)


def sum_unless_unconverted(amount_eur: pl.Expr) -> pl.Expr:
    """Sum of EUR amounts, NULL if any of them is NULL (no FX rate): a partial total would mislead."""
    return pl.when(amount_eur.is_null().any()).then(pl.lit(None, MONEY)).otherwise(amount_eur.sum()).cast(MONEY)


def customer_hash(alias: str = "customer_id") -> pl.Expr:
    """customer_id as a 64-bit hash: the key of joins and groupings of which only counts and sums come out.

    An integer key is far cheaper to join, group and make unique than the text (10M customers at the
    large scale; 8 bytes a customer instead of a string). Two customers are taken for one only when
    their ids' hashes are equal: about 1 in 2^64 per pair, n^2 / 2^65 over n customers (3e-6 for
    10M). A NULL id hashes too: filter NULL ids out first.
    """
    return pl.col("customer_id").hash().alias(alias)


def snapshot_key(customers: pl.DataFrame) -> pl.Expr:
    """The join key ``_key`` of a frame with one row per customer_id: ``customer_hash`` when their hashes are distinct, else the id.

    Joined on it, another frame's customer takes one of these customers' rows only if their hashes
    are equal; the pipeline's frames joined this way hold only the snapshot's customers.
    """
    hashed = customer_hash("_key")
    return hashed if customers.select(hashed.n_unique()).item() == customers.height else pl.col("customer_id").alias("_key")


def nonzero(denominator: pl.Expr) -> pl.Expr:
    """The denominator as Float64, NULL when it is 0 or NULL (a ratio over nothing is NULL, not 0)."""
    value = denominator.cast(pl.Float64)
    return pl.when(value != 0).then(value)
