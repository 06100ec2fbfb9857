"""Stripe payments export (``unified_payments.csv``): one row per charge.

Both header sets are recognised: the older one (``id``, ``Description``, ``Created (UTC)``,
``Amount``, ``Amount Refunded``, ``Currency``, ``Converted Amount``, ..., ``Mode``, ``Status``,
``Customer ID``, ``Customer Description``, ``Customer Email``, ``Captured``, ...) and the newer
default one (``ID``/``id``, ``Created date (UTC)``, ...): Stripe renamed the date column.

Revenue rules (the same for every order source):

- ``gross`` = ``Amount``: what the customer was charged, in ``Currency`` (major units), taken as the
  price of the goods; Stripe charges carry no discount column (a coupon already lowered the amount)
  and this export adds no shipping; ``Converted Amount`` (the balance currency) is not used;
- ``discounts`` = 0;
- ``refunds`` = ``Amount Refunded`` (empty = 0), in the charge currency;
- ``net_revenue`` = gross - discounts - refunds.

Status: ``Status`` Failed or ``Captured`` false -> ``failed`` (loaded, but no money moved: downstream
counts only paid, refunded and partially_refunded as revenue); Paid / Refunded / succeeded -> from
the amounts: ``refunded`` when Amount Refunded == Amount, ``partially_refunded`` when
0 < Amount Refunded < Amount, else ``paid``; Stripe's intent states (requires_payment_method,
requires_action, processing, ...) -> ``pending``; canceled -> ``cancelled``; anything else is
quarantined (``map:status``), as are a refund larger than the charge and a Refunded status with
nothing refunded (``check:refunds``). Rows with ``Mode`` Test are quarantined
(``test_mode:mode``): test charges glued under a live export are not sales.

Other rules: ``order_id`` is the charge id. ``ordered_at`` is the ``Created`` column, which is UTC;
``order_date`` is its UTC date, since the file has no local-time column (Stripe's Dashboard filters
by the account time zone, so an export "for a day" may start or end a few hours off). ``Currency``
is upper-cased. ``product_category`` is the ``(category:<x>)`` in ``Description`` when present.
``customer_id`` is from the email hash, else from ``Customer ID``. ``price_tier`` is taken on the
native ``gross``.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from pipeline.ingest.read import RawTable
from pipeline.sources.base import Field, ParseContext, SourceFormat, add_errors, money
from pipeline.sources.erp import finish_order

SETTLED = ("paid", "succeeded", "refunded", "partially refunded", "partially_refunded")
PENDING = ("pending", "processing", "requires_payment_method", "requires_confirmation", "requires_action",
           "requires_capture", "incomplete", "uncaptured")
CANCELLED = ("canceled", "cancelled")


def _derive(frame: pl.DataFrame, table: RawTable, ctx: ParseContext) -> pl.DataFrame:
    """Status from Status, Captured and the amounts; test rows and impossible refunds quarantined."""
    frame = frame.with_columns(
        (pl.col("refunds").fill_null(Decimal(0)) if "refunds" in frame.columns else pl.lit(Decimal(0)))
        .alias("refunds"),
        pl.lit(Decimal(0)).cast(pl.Decimal(18, 4)).alias("discounts"),
        *[pl.lit(None, dtype=dtype).alias(name) for name, dtype in
          (("stripe_status", pl.Utf8), ("captured", pl.Boolean), ("mode", pl.Utf8), ("description", pl.Utf8))
          if name not in frame.columns],
    )
    said = pl.col("stripe_status").str.strip_chars().str.to_lowercase()
    gross, refunds = pl.col("gross"), pl.col("refunds")
    by_amounts = (pl.when((refunds > 0) & (refunds == gross)).then(pl.lit("refunded"))
                  .when(refunds > 0).then(pl.lit("partially_refunded"))
                  .otherwise(pl.lit("paid")))
    status = (
        pl.when((said == "failed") | pl.col("captured").not_()).then(pl.lit("failed"))
        .when(said.is_in(CANCELLED)).then(pl.lit("cancelled"))
        .when(said.is_in(PENDING)).then(pl.lit("pending"))
        .when(said.is_null() | said.is_in(SETTLED)).then(by_amounts)
        .otherwise(None)
    )
    frame = add_errors(frame, status.is_null(),
                       pl.format("map:status: unknown Stripe Status '{}'", pl.col("stripe_status").str.slice(0, 40)))
    frame = add_errors(frame, pl.col("mode").str.strip_chars().str.to_lowercase() == "test",
                       "test_mode:mode: Stripe test-mode row in a live export")
    frame = add_errors(frame, refunds > gross, "check:refunds: Amount Refunded exceeds Amount")
    frame = add_errors(frame, (said == "refunded") & (refunds == 0),
                       "check:refunds: Status Refunded but Amount Refunded is 0")
    frame = frame.with_columns(
        status.alias("status"),
        pl.col("ordered_at").dt.date().alias("order_date"),
        pl.col("currency_code").str.strip_chars().str.to_uppercase().alias("currency_code"),
        pl.col("description").str.extract(r"(?i)\(category:\s*([^)]+)\)", 1).str.strip_chars().str.to_lowercase()
        .alias("product_category"),
    )
    return finish_order(frame, "stripe:")


STRIPE_PAYMENTS = SourceFormat(
    name="stripe_payments",
    source="orders",
    entity="order",
    signature=(("id",), ("Created date (UTC)", "Created (UTC)"), ("Amount",), ("Amount Refunded",), ("Currency",)),
    fields=(
        Field("order_id", ("id",), "id", required=True, not_null=True),
        Field("ordered_at", ("Created date (UTC)", "Created (UTC)"), "datetime", required=True, not_null=True),
        money("gross", "Amount", required=True, not_null=True),
        money("refunds", "Amount Refunded"),
        Field("currency_code", ("Currency",), required=True, not_null=True),
        Field("captured", ("Captured",), "bool"),
        Field("stripe_status", ("Status",)),
        Field("mode", ("Mode",)),
        Field("customer_number", ("Customer ID",), "id"),
        Field("email_sha256", ("Customer Email",), "email_sha256", pii=True),
        Field("description", ("Description",)),
        Field("customer_description", ("Customer Description",), pii=True),   # often the customer's name
    ),
    constants={"source_system": "stripe"},
    derive=_derive,
)

FORMATS: tuple[SourceFormat, ...] = (STRIPE_PAYMENTS,)

__all__ = ["FORMATS", "STRIPE_PAYMENTS"]
