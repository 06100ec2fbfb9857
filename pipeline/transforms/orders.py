"""fct_orders: one row per order, with EUR amounts, revenue status and first-order flag."""

from __future__ import annotations

import polars as pl

from pipeline.fx import with_eur

# Statuses whose net revenue counts; a refunded order counts with its (usually zero) net revenue.
REVENUE_STATUSES: tuple[str, ...] = ("paid", "partially_refunded", "refunded")


def build_fct_orders(orders: pl.LazyFrame, fx_rates: pl.LazyFrame) -> pl.LazyFrame:
    """One row per order_id: native and EUR amounts, status, is_revenue and is_first_order.

    ``orders`` is the current truth of the ``order`` entity (order ids unique). EUR amounts use
    the rate valid on ``order_date`` (NULL when the currency has no rate). ``is_revenue`` is true
    for the statuses in ``REVENUE_STATUSES``. ``is_first_order`` is true for a customer's earliest
    revenue order by ``ordered_at`` then ``order_id``; false for every other order, for
    non-revenue orders, and for orders without a customer_id.
    """
    is_revenue = pl.col("status").is_in(list(REVENUE_STATUSES)).fill_null(False)
    # revenue orders sort first, so this is the first revenue order whenever the customer has one
    first_revenue_order_id = (
        pl.col("order_id").sort_by(~pl.col("is_revenue"), "ordered_at", "order_id", nulls_last=True).first()
    ).over("customer_id")
    return (
        with_eur(orders, fx_rates, amount_columns=["gross", "net_revenue"], date_column="order_date")
        .with_columns(is_revenue.alias("is_revenue"))
        .with_columns(
            (
                pl.col("is_revenue")
                & pl.col("customer_id").is_not_null()
                & (pl.col("order_id") == first_revenue_order_id)
            )
            .fill_null(False)
            .alias("is_first_order")
        )
        .select(
            "order_id",
            "source_system",
            "customer_id",
            "ordered_at",
            "order_date",
            "currency_code",
            "gross",
            "discounts",
            "refunds",
            "net_revenue",
            "gross_eur",
            "net_revenue_eur",
            "status",
            "is_revenue",
            "is_first_order",
            "product_category",
            "price_tier",
        )
    )
