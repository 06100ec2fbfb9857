"""Orders from an ERP: the Finnish Excel "CSV (semicolon separated)" export and a generic order CSV.

``erp_fi`` reads the sales-order list a Finnish ERP saves through Excel: cp1252 or UTF-8 with BOM,
an optional ``sep=;`` first line, ``;`` between cells, CRLF, decimal comma, thousands grouped with
NBSP / space / NNBSP / ``.``, dates ``dd.mm.yyyy`` or ``d.m.yyyy``, negatives as ``-1 234,56``,
``−1 234,56`` (U+2212), ``(1 234,56)`` or ``1234,56-``. Headers (Finnish)::

    Tilausnumero;Asiakasnumero;Sähköposti;Tilauspäivä;Valuutta;Brutto;Alennus;Hyvitys;Netto;Tila;Tuoteryhmä

``generic_orders`` reads a plain English order CSV (``source_system`` erp as well)::

    order_id,customer_id,email,ordered_at,currency,gross,discounts,refunds,net_revenue,status,product_category

Revenue rules (the same for every order source):

- ``gross`` = price of the goods before discounts, excluding shipping and taxes: ``Brutto``;
- ``discounts`` = ``Alennus``; ``refunds`` = ``Hyvitys`` (empty = 0). Both are amounts taken off, so
  their magnitude is used whatever sign the ERP displays them with (``-450,00`` and ``450,00`` mean
  the same discount); a ``Netto`` column, when given, confirms the reading;
- ``net_revenue`` = gross - discounts - refunds. A ``Netto`` that differs from it by more than 0.01
  quarantines the row (``check:net_revenue``): the file contradicts itself. A credit note written as
  its own row (Brutto 0, Hyvitys 1 234,56, Netto (1 234,56)) is kept with its negative net revenue.

Other rules: ``Tilausnumero`` and ``Asiakasnumero`` are text (leading zeros kept). ``ordered_at`` is
local midnight (Europe/Helsinki) of ``Tilauspäivä`` as UTC, or its Helsinki time when the cell has one
(``2.11.2026 0.15``, Finnish Excel's ``.`` separator, or ``0:15``), and ``order_date`` is the Finnish day.
``Tila`` maps Maksettu→paid, Avoin→pending, Hyvitetty→refunded, Osittain hyvitetty→partially_refunded,
Peruttu→cancelled; any other value is quarantined (``map:status``).
``Tuoteryhmä`` maps the demo business's Finnish product groups onto its categories (Kellot→watches,
...), other groups are kept lower-cased. ``customer_id`` comes from the email hash, or from
``Asiakasnumero`` when the row has no email. ``price_tier`` is taken on the native ``gross``. A file
without a ``Valuutta`` column is in EUR.

Numbers are read in the file's locale (``number_locale``): always decimal comma for ``erp_fi``; for
the generic CSV decimal comma when the file is ``;``-separated (Excel in a comma-decimal locale),
``.`` when it is ``,``-separated. A group separator that cannot be one (``12.50`` in a decimal-comma
file, ``400,00`` in a decimal-point file) is a parse error, never a silent factor of 100.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

import polars as pl

from pipeline.identity import customer_id_expr
from pipeline.ingest.read import RawTable
from pipeline.sources.base import (
    EN,
    FI,
    Field,
    Locale,
    ParseContext,
    SourceFormat,
    add_errors,
    decimal_expr,
    price_tier_expr,
)

ERP_STATUS: dict[str, str] = {
    "maksettu": "paid",
    "avoin": "pending",
    "hyvitetty": "refunded",
    "osittain hyvitetty": "partially_refunded",
    "peruttu": "cancelled",
}
GENERIC_STATUS: dict[str, str] = {
    "paid": "paid",
    "pending": "pending",
    "refunded": "refunded",
    "partially_refunded": "partially_refunded",
    "partially refunded": "partially_refunded",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "failed": "failed",
}
# The demo business's ERP product groups; any other group is kept as written, lower-cased.
ERP_CATEGORY: dict[str, str] = {"kellot": "watches", "korut": "jewellery", "matkat": "travel", "palvelut": "services"}
NET_TOLERANCE = Decimal("0.01")

# Locale of the generic CSV's dates: ISO or Finnish (both unambiguous); naive timestamps are UTC.
GENERIC_LOCALE = Locale(date_formats=("%Y-%m-%d", "%d.%m.%Y"),
                        datetime_formats=(*EN.datetime_formats, "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M"))


# ---------------------------------------------------------------------------------------------
# Numbers in the file's own locale (shared with the plan sheets, which Excel saves the same way).

def number_locale(table: RawTable, number_headers: Sequence[str | None]) -> Locale:
    """The decimal mark of a spreadsheet export: ',' in ';' files, '.' in ',' files, else by evidence.

    A TAB or '|' file (Excel "Unicode text") has decimal comma when some number cell has a comma
    that cannot group thousands (``12,5``, ``1 234,56``); otherwise a decimal point.
    """
    if table.delimiter == ";":
        return FI
    if table.delimiter == ",":
        return EN
    columns = [h for h in number_headers if h is not None and h in table.rows.columns]
    if not columns or table.rows.height == 0:
        return EN
    comma_decimal = table.rows.select(
        pl.any_horizontal([pl.col(c).str.contains(r",(\d{0,2}(\D|$)|\d{4})").fill_null(False) for c in columns]).any()
    ).item()
    return FI if comma_decimal else EN


def _misread_group(text: pl.Expr, locale: Locale) -> pl.Expr:
    """A '.' or ',' group separator not followed by exactly three digits: it was a decimal mark."""
    marks = [g for g in locale.group if g in ".,'" and g != locale.decimal]
    if not marks:
        return pl.lit(False)
    return text.str.contains("[" + "".join(re.escape(m) for m in marks) + r"](\d{0,2}(\D|$)|\d{4})").fill_null(False)


def parse_decimals(frame: pl.DataFrame, columns: Sequence[str], locale: Locale, scale: int = 4) -> pl.DataFrame:
    """Replace text columns (present in ``frame``) by decimals read in ``locale``; unreadable cells are errors.

    Keeps ``row_number``, ``_errors`` and ``_raw``. A cell that is not a number, or whose group
    separator was really a decimal mark, becomes NULL with ``parse:<column>: ...`` in ``_errors``.
    """
    present = [c for c in columns if c in frame.columns]
    values = {c: pl.when(_misread_group(pl.col(c), locale)).then(None)
              .otherwise(decimal_expr(pl.col(c), locale, scale)) for c in present}
    for column in present:
        frame = add_errors(
            frame,
            pl.col(column).is_not_null() & values[column].is_null(),
            pl.format("parse:{}: cannot read {} as a number with decimal mark '{}'",
                      pl.lit(column), pl.col(column).str.slice(0, 40), pl.lit(locale.decimal)),
        )
    return frame.with_columns([values[c].alias(c) for c in present])


def money_taken_off(column: str) -> pl.Expr:
    """A discount or refund: its magnitude (ERPs display them with either sign), empty = 0."""
    return pl.col(column).abs().fill_null(Decimal(0))


def net_check(frame: pl.DataFrame, given: str, reason: str) -> pl.DataFrame:
    """Quarantine rows whose written net differs from gross - discounts - refunds by more than 0.01."""
    if given not in frame.columns:
        return frame
    computed = pl.col("gross") - pl.col("discounts") - pl.col("refunds")
    return add_errors(frame, (pl.col(given) - computed).abs() > NET_TOLERANCE, reason)


def finish_order(frame: pl.DataFrame, fallback_prefix: str) -> pl.DataFrame:
    """net_revenue, price_tier and customer_id of an order frame with gross, discounts and refunds.

    ``customer_id`` is from ``email_sha256``, else from ``fallback_prefix`` + ``customer_number``
    (the source's own customer number) when the frame has one.
    """
    if "email_sha256" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias("email_sha256"))
    fallback = (pl.lit(fallback_prefix) + pl.col("customer_number")) if "customer_number" in frame.columns else None
    return frame.with_columns(
        (pl.col("gross") - pl.col("discounts") - pl.col("refunds")).alias("net_revenue"),
        price_tier_expr(pl.col("gross")).alias("price_tier"),
        customer_id_expr("email_sha256", fallback_key=fallback).alias("customer_id"),
    )


def _map_status(frame: pl.DataFrame, column: str, mapping: dict[str, str], label: str) -> pl.DataFrame:
    """Map a vendor status column onto status; an unknown value is quarantined (``map:status``)."""
    key = pl.col(column).str.strip_chars().str.to_lowercase().str.replace_all(r"\s+", " ")
    status = key.replace_strict(mapping, default=None, return_dtype=pl.Utf8)
    frame = add_errors(frame, pl.col(column).is_not_null() & status.is_null(),
                       pl.format("map:status: unknown {} '{}'", pl.lit(label), pl.col(column).str.slice(0, 40)))
    return frame.with_columns(status.alias("status"))


# ---------------------------------------------------------------------------------------------
# erp_fi

def _derive_erp(frame: pl.DataFrame, table: RawTable, ctx: ParseContext) -> pl.DataFrame:
    """Finnish amounts, status, Helsinki day, net revenue and its Netto check."""
    frame = parse_decimals(frame, ("gross", "discounts", "refunds", "netto"), FI)
    frame = frame.with_columns(
        money_taken_off("discounts").alias("discounts") if "discounts" in frame.columns
        else pl.lit(Decimal(0)).alias("discounts"),
        money_taken_off("refunds").alias("refunds") if "refunds" in frame.columns
        else pl.lit(Decimal(0)).alias("refunds"),
        pl.col("ordered_at").dt.convert_time_zone(FI.timezone).dt.date().alias("order_date"),
        (pl.col("currency_code").str.to_uppercase() if "currency_code" in frame.columns
         else pl.lit("EUR")).alias("currency_code"),
        (pl.col("product_group").str.strip_chars().str.to_lowercase().replace(ERP_CATEGORY)
         if "product_group" in frame.columns else pl.lit(None, dtype=pl.Utf8)).alias("product_category"),
    )
    frame = _map_status(frame, "erp_status", ERP_STATUS, "Tila")
    frame = net_check(frame, "netto", "check:net_revenue: Netto != Brutto - Alennus - Hyvitys")
    return finish_order(frame, "erp:")


ERP_FI = SourceFormat(
    name="erp_fi",
    source="orders",
    entity="order",
    signature=(("Tilausnumero", "Tilausnro"), ("Tilauspäivä",), ("Brutto",)),
    fields=(
        Field("order_id", ("Tilausnumero", "Tilausnro"), "id", required=True, not_null=True),
        Field("customer_number", ("Asiakasnumero", "Asiakasnro"), "id"),
        Field("email_sha256", ("Sähköposti", "Sahkoposti", "Email"), "email_sha256", pii=True),
        Field("ordered_at", ("Tilauspäivä",), "datetime", required=True, not_null=True),
        Field("currency_code", ("Valuutta",), not_null=True),
        Field("gross", ("Brutto",), required=True, not_null=True),
        Field("discounts", ("Alennus",)),
        Field("refunds", ("Hyvitys",)),
        Field("netto", ("Netto",)),
        Field("erp_status", ("Tila",), required=True, not_null=True),
        Field("product_group", ("Tuoteryhmä", "Tuoteryhma")),
    ),
    locale=FI,
    constants={"source_system": "erp"},
    furniture=(r"^(?i:yhteensä|yhteensa|total)\b",),
    derive=_derive_erp,
    chunkable=False,  # the number locale of a tab or pipe file is read from its rows
)


# ---------------------------------------------------------------------------------------------
# generic_orders

GENERIC_NUMBERS = ("gross", "discounts", "refunds", "net_revenue_given")


def _date_as_written(text: pl.Expr) -> pl.Expr:
    """The calendar date written at the start of a timestamp: ``2026-06-01T23:30:00+03:00`` -> 2026-06-01."""
    return pl.coalesce(
        text.str.slice(0, 10).str.strptime(pl.Date, "%Y-%m-%d", strict=False, exact=True),
        text.str.split(" ").list.first().str.strptime(pl.Date, "%d.%m.%Y", strict=False, exact=True),
    )


def _derive_generic(frame: pl.DataFrame, table: RawTable, ctx: ParseContext) -> pl.DataFrame:
    """Amounts in the file's locale, canonical status, the written day, net revenue and its check."""
    headers = [table.column(*f.headers) for f in GENERIC_ORDERS.fields if f.target in GENERIC_NUMBERS]
    frame = parse_decimals(frame, GENERIC_NUMBERS, number_locale(table, headers))
    written_day = _date_as_written(pl.col("ordered_at_text"))
    frame = frame.with_columns(
        money_taken_off("discounts").alias("discounts") if "discounts" in frame.columns
        else pl.lit(Decimal(0)).alias("discounts"),
        money_taken_off("refunds").alias("refunds") if "refunds" in frame.columns
        else pl.lit(Decimal(0)).alias("refunds"),
        (pl.coalesce(pl.col("order_date"), written_day) if "order_date" in frame.columns else written_day)
        .alias("order_date"),
        pl.col("currency_code").str.to_uppercase().alias("currency_code"),
        (pl.col("product_category").str.strip_chars().str.to_lowercase() if "product_category" in frame.columns
         else pl.lit(None, dtype=pl.Utf8)).alias("product_category"),
    )
    frame = _map_status(frame, "generic_status", GENERIC_STATUS, "status")
    frame = net_check(frame, "net_revenue_given", "check:net_revenue: net_revenue != gross - discounts - refunds")
    return finish_order(frame, "erp:")


GENERIC_ORDERS = SourceFormat(
    name="generic_orders",
    source="orders",
    entity="order",
    signature=(("order_id",), ("ordered_at",), ("gross",)),
    fields=(
        Field("order_id", ("order_id",), "id", required=True, not_null=True),
        Field("customer_number", ("customer_id", "customer_number"), "id"),
        Field("email_sha256", ("email",), "email_sha256", pii=True),
        Field("ordered_at", ("ordered_at",), "datetime", required=True, not_null=True),
        Field("ordered_at_text", ("ordered_at",)),
        Field("order_date", ("order_date",), "date"),
        Field("currency_code", ("currency", "currency_code"), required=True, not_null=True),
        Field("gross", ("gross",), required=True, not_null=True),
        Field("discounts", ("discounts",)),
        Field("refunds", ("refunds",)),
        Field("net_revenue_given", ("net_revenue",)),
        Field("generic_status", ("status",), required=True, not_null=True),
        Field("product_category", ("product_category", "category")),
    ),
    locale=GENERIC_LOCALE,
    constants={"source_system": "erp"},
    furniture=(r"^(?i:yhteensä|yhteensa|total)\b",),
    derive=_derive_generic,
    chunkable=False,  # the number locale of a tab or pipe file is read from its rows
)

FORMATS: tuple[SourceFormat, ...] = (ERP_FI, GENERIC_ORDERS)

__all__ = ["ERP_FI", "FORMATS", "GENERIC_ORDERS", "finish_order", "money_taken_off", "net_check", "number_locale",
           "parse_decimals"]
