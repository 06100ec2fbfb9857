"""Shopify orders export (``orders_export_1.csv``): one row per line item, order fields on the first.

Shopify's export is denormalised: the order-level columns (``Email``, ``Financial Status``,
``Subtotal``, ``Total``, ``Created at``, ``Tags`` ...) are filled only on an order's first line-item
row and blank on the following ones. ``prepare`` therefore gathers the rows of each order (by
``Name``; a row without ``Name`` continues the order above it), takes each order-level value from
the row that has it (never summing ``Total`` over rows), and keeps one row per order: its first
line-item row, with that row's ``row_number``. An order whose rows give two different values of an
order-level column (e.g. two Totals for one Name) is quarantined (``conflict:<columns>``).

Revenue rules (the same for every order source):

- ``gross`` = price of the goods before discounts, excluding shipping and taxes:
  ``Subtotal + Discount Amount`` (Shopify's ``Subtotal`` is after discounts, before shipping and tax);
- ``discounts`` = ``Discount Amount`` (empty = 0);
- ``refunds`` = the goods' share of ``Refunded Amount`` (empty = 0): Shopify refunds the amount paid,
  which includes shipping and taxes, so ``refunds = Refunded Amount x Subtotal / Total`` (the whole
  ``Refunded Amount`` when ``Total`` is empty or 0). A fully refunded order thus nets to exactly 0;
- ``net_revenue`` = gross - discounts - refunds.

Known limit: for a shop whose prices include tax, Shopify's ``Subtotal`` includes VAT and the export
has no net-of-tax goods price; such a shop's gross then includes VAT.

Other rules: ``order_id`` is ``Name`` (``#1001``). ``ordered_at`` is ``Created at`` read with its
offset (``2026-11-01 14:05:33 +0200``) as UTC; ``order_date`` is the shop's local day, i.e. the date
as written in ``Created at``. ``status`` from ``Financial Status``: paid, pending (also authorized,
partially_paid), refunded, partially_refunded, voided / expired -> cancelled; anything else is
quarantined (``map:status``). ``product_category`` is the first ``category:<x>`` tag, lower-cased,
else NULL. ``customer_id`` is from the email hash (the export has no customer number; no email, no
customer). ``price_tier`` is taken on the native ``gross``. ``currency_code`` is ``Currency``.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import polars as pl

from pipeline.ingest.read import RawTable, normalise_header
from pipeline.sources.base import Field, ParseContext, SourceFormat, add_errors, money
from pipeline.sources.erp import finish_order

SHOPIFY_STATUS: dict[str, str] = {
    "paid": "paid",
    "pending": "pending",
    "authorized": "pending",
    "partially_paid": "pending",
    "refunded": "refunded",
    "partially_refunded": "partially_refunded",
    "voided": "cancelled",
    "expired": "cancelled",
}

FIELDS: tuple[Field, ...] = (
    Field("order_id", ("Name",), "id", required=True, not_null=True),
    Field("email_sha256", ("Email",), "email_sha256", pii=True),
    Field("financial_status", ("Financial Status",), required=True, not_null=True),
    Field("currency_code", ("Currency",), required=True, not_null=True),
    money("subtotal", "Subtotal", required=True, not_null=True),
    money("discounts", "Discount Amount"),
    money("total", "Total"),
    money("refunded_amount", "Refunded Amount"),
    Field("ordered_at", ("Created at",), "datetime", required=True, not_null=True),
    Field("order_date", ("Created at",), "date"),
    Field("tags", ("Tags",)),
)


def one_row_per_order(table: RawTable, ctx: ParseContext) -> RawTable:
    """Gather each order's line-item rows into its first row, order-level values filled in.

    Order-level columns are every column but ``Name`` and the ``Lineitem ...`` ones; the kept row
    takes each of them from whichever row of the order has it. Orders whose rows disagree on one
    are marked bad (``conflict:``); reader errors of any of an order's rows move to the kept row.
    """
    name = table.column("Name")
    if name is None or table.rows.height == 0:
        return table
    columns = [c for c in table.rows.columns if c != "row_number"]
    line_level = [c for c in columns if normalise_header(c).startswith("lineitem")]
    order_level = [c for c in columns if c != name and c not in line_level]
    blank_is_null = [pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c).str.strip_chars())
                     .alias(c) for c in columns]
    targets = {table.column(*f.headers): f.target for f in FIELDS}
    orders = (
        table.rows.with_columns(blank_is_null)
        .with_columns(pl.col(name).forward_fill())   # a row without Name continues the order above it
        .group_by(name, maintain_order=True)
        .agg(
            pl.col("row_number").first(),
            pl.col("row_number").alias("_member_rows"),
            *[pl.col(c).drop_nulls().first() for c in order_level],
            *[pl.col(c).first() for c in line_level],
            pl.concat_list([pl.when(pl.col(c).drop_nulls().n_unique() > 1).then(pl.lit(c)) for c in order_level])
            .first().list.drop_nulls().alias("_conflicts") if order_level
            else pl.lit([], dtype=pl.List(pl.Utf8)).alias("_conflicts"),
        )
        .sort("row_number")
    )
    conflicted = orders.filter(pl.col("_conflicts").list.len() > 0).select(
        "row_number",
        pl.format("conflict:{}: order {} has different {} on its line-item rows",
                  pl.col("_conflicts").list.eval(pl.element().replace(targets)).list.join(","),
                  pl.col(name), pl.col("_conflicts").list.join(", ")).alias("reason"),
    )
    bad_rows = dict(zip(conflicted["row_number"].to_list(), conflicted["reason"].to_list(), strict=True))
    if table.bad_rows:
        kept_of = orders.select(pl.col("row_number").alias("kept"), "_member_rows").explode("_member_rows")
        kept = dict(zip(kept_of["_member_rows"].to_list(), kept_of["kept"].to_list(), strict=True))
        for row, reason in table.bad_rows.items():
            bad_rows[kept.get(row, row)] = reason   # the reader's reason wins over a conflict
    return dataclasses.replace(table, rows=orders.select("row_number", *columns), bad_rows=bad_rows)


def _derive(frame: pl.DataFrame, table: RawTable, ctx: ParseContext) -> pl.DataFrame:
    """Revenue amounts, status, category and customer of one order row."""
    discounts = pl.col("discounts").fill_null(Decimal(0)) if "discounts" in frame.columns else pl.lit(Decimal(0))
    refunded = (pl.col("refunded_amount").fill_null(Decimal(0)) if "refunded_amount" in frame.columns
                else pl.lit(Decimal(0)))
    total = pl.col("total") if "total" in frame.columns else pl.lit(None, dtype=pl.Decimal(18, 4))
    # goods share of the refund = refunded x subtotal / total (a NULL or 0 total: the whole refund)
    goods_refund = pl.coalesce(refunded * pl.col("subtotal") / pl.when(total > 0).then(total), refunded)
    status = pl.col("financial_status").str.strip_chars().str.to_lowercase().replace_strict(
        SHOPIFY_STATUS, default=None, return_dtype=pl.Utf8)
    frame = add_errors(frame, pl.col("financial_status").is_not_null() & status.is_null(),
                       pl.format("map:status: unknown Financial Status '{}'",
                                 pl.col("financial_status").str.slice(0, 40)))
    tags = pl.col("tags") if "tags" in frame.columns else pl.lit(None, dtype=pl.Utf8)
    frame = frame.with_columns(
        (pl.col("subtotal") + discounts).alias("gross"),
        discounts.alias("discounts"),
        goods_refund.round(4).cast(pl.Decimal(18, 4)).alias("refunds"),
        status.alias("status"),
        pl.col("currency_code").str.to_uppercase().alias("currency_code"),
        tags.str.extract(r"(?i)(?:^|,)\s*category:\s*([^,]+)", 1).str.strip_chars().str.to_lowercase()
        .alias("product_category"),
    )
    return finish_order(frame, "shopify:")


SHOPIFY_ORDERS = SourceFormat(
    name="shopify_orders",
    source="orders",
    entity="order",
    signature=(("Name",), ("Financial Status",), ("Created at",), ("Lineitem name", "Lineitem quantity")),
    fields=FIELDS,
    constants={"source_system": "shopify"},
    prepare=one_row_per_order,
    chunkable=False,  # line items of one order may straddle a chunk boundary
    derive=_derive,
)

FORMATS: tuple[SourceFormat, ...] = (SHOPIFY_ORDERS,)

__all__ = ["FORMATS", "SHOPIFY_ORDERS", "SHOPIFY_STATUS", "one_row_per_order"]
