"""Meta (Facebook/Instagram) Ads Manager CSV exports at campaign level onto ``ad_daily``.

Mapping: Reporting starts -> day (or the ``Day`` column of a "By time: Day" breakdown export),
Account ID -> account_id, Campaign ID -> campaign_id, Campaign name -> campaign_name,
``Amount spent (XXX)`` -> spend with currency_code ``XXX`` taken from the header (any 3-letter code,
also in localised headers such as ``Valor usado (BRL)`` or ``Käytetty summa (EUR)``; a row whose
``Currency`` column, when there is one, names another currency is quarantined), Impressions ->
impressions, Link clicks -> clicks, Purchases -> platform_conversions (when the file has no
Purchases column: Results, only on rows whose Result indicator names a purchase, else NULL, because
Results count whatever the campaign's objective is), Purchases conversion value ->
platform_conversion_value. Empty metrics (empty, ``-``, ``—``) are NULL, never 0.

account_id is kept as written (``act_1029384756`` stays ``act_1029384756``): it is the id the
export shows, and stripping the prefix would be a guess about how other files write it.

Day boundary: days are in the ad account's time zone; ``account_timezone`` is ``ACCOUNT_TIMEZONE``
(``Europe/Helsinki``) because the export does not state it.

A daily fact needs one day per row: a row whose Reporting starts differs from Reporting ends is
quarantined (``range:day``), never spread over the days. A file without Campaign ID fails (the
level-specific exports carry no parent names, so only ids join them), as does one without a currency
in its spend header. Numbers: English headers use the English locale; localised headers accept
plain numbers only (a localised file with decimal commas is quarantined row by row, not misread).
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import partial

import polars as pl

from pipeline.errors import InputFileError
from pipeline.ingest.read import RawTable, normalise_header
from pipeline.sources.base import EN, Field, Locale, ParseContext, SourceFormat, add_errors, clean_text, decimal_expr
from pipeline.sources.google_ads import ad_row_checks

PLATFORM = "meta_ads"
ACCOUNT_TIMEZONE = "Europe/Helsinki"

# "Amount spent" in the Ads Manager languages seen in exports (lower case, as normalised headers are).
SPEND_LABELS = ("amount spent", "valor usado", "valor gasto", "importe gastado", "käytetty summa",
                "montant dépensé", "betrag ausgegeben", "消化金額")
SPEND_HEADER = re.compile(r"^(?P<label>.+?)\s*\((?P<currency>[a-z]{3})\)$")

STARTS = ("Reporting starts", "Início dos relatórios", "Inicio del informe", "Raportoinnin aloitus")
ENDS = ("Reporting ends", "Término dos relatórios", "Fin del informe", "Raportoinnin lopetus")
CAMPAIGN_ID_HEADERS = ("Campaign ID", "Identificação da campanha", "Identificador de la campaña",
                       "ID de la campaña", "Kampanjan tunnus")

FIELDS: tuple[Field, ...] = (
    Field("day", STARTS, "date", required=True, not_null=True),
    Field("reporting_ends", ENDS, "date", required=True),
    Field("breakdown_day", ("Day", "Dia", "Día", "Päivä"), "date", not_null=True),
    Field("account_id", ("Account ID", "Identificação da conta", "Identificador de la cuenta", "ID de la cuenta",
                         "Mainostilin tunnus", "Tilin tunnus"), "id", required=True, not_null=True),
    Field("campaign_id", CAMPAIGN_ID_HEADERS, "id", required=True, not_null=True),
    Field("campaign_name", ("Campaign name", "Nome da campanha", "Nombre de la campaña", "Kampanjan nimi")),
    Field("impressions", ("Impressions", "Impressões", "Impresiones", "Näyttökerrat"), "int"),
    Field("clicks", ("Link clicks", "Cliques no link", "Clics en el enlace", "Linkin klikkaukset"), "int"),
    Field("results", ("Results", "Resultados", "Tulokset"), "decimal"),
    Field("result_indicator", ("Result indicator", "Indicador de resultados", "Indicador de resultado",
                               "Tulosindikaattori")),
    Field("purchases", ("Purchases", "Compras", "Ostokset"), "decimal"),
    Field("currency_column", ("Currency", "Moeda", "Divisa", "Valuutta")),
    Field("platform_conversion_value", ("Purchases conversion value", "Valor de conversão da compra",
                                        "Valor de conversão de compras", "Valor de conversión de compras",
                                        "Ostosten konversioarvo"), "decimal"),
)

# Localised exports: plain numbers only, so neither '1.234,50' nor '42,90' is silently misread.
PLAIN = replace(EN, group=(), date_formats=("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"))


def spend_columns(header: list[str]) -> list[tuple[str, str | None]]:
    """The spend header cells with the currency each names: ``[("Amount spent (EUR)", "EUR")]``."""
    found: list[tuple[str, str | None]] = []
    for cell in header:
        name = normalise_header(cell)
        match = SPEND_HEADER.match(name)
        if match and match.group("label") in SPEND_LABELS:
            found.append((cell, match.group("currency").upper()))
        elif name in SPEND_LABELS:
            found.append((cell, None))
    return found


def _prepare(table: RawTable, ctx: ParseContext) -> RawTable:
    """Fail files that cannot give daily campaign facts: no campaign ids, or spend without a currency."""
    if table.column(*CAMPAIGN_ID_HEADERS) is None:
        raise InputFileError(
            "Meta export has no 'Campaign ID' column; level-specific exports carry no parent names, so rows "
            "need ids (add Campaign ID under Columns > Customise columns and export again)", file=ctx.file_name)
    spend = spend_columns(table.header)
    if not spend:
        raise InputFileError("Meta export has no 'Amount spent (<currency>)' column", file=ctx.file_name)
    without = [cell for cell, currency in spend if currency is None]
    if without:
        raise InputFileError(
            f"Meta export column {without[0]!r} names no currency; spend without a currency cannot be used",
            file=ctx.file_name)
    return table


def _derive(frame: pl.DataFrame, table: RawTable, ctx: ParseContext, locale: Locale) -> pl.DataFrame:
    frame = _spend_and_currency(frame, table, locale)
    frame = _conversions(frame)
    if "breakdown_day" in frame.columns:
        # A "By time: Day" breakdown: Reporting starts/ends give the whole range, Day the row's day.
        frame = frame.with_columns(pl.col("breakdown_day").alias("day"))
    else:
        frame = add_errors(
            frame, pl.col("reporting_ends").is_not_null() & (pl.col("reporting_ends") != pl.col("day")),
            pl.format("range:day: row spans {}..{}; daily facts need one day per row",
                      pl.col("day"), pl.col("reporting_ends")),
        )
    return ad_row_checks(frame, ctx)


def _spend_and_currency(frame: pl.DataFrame, table: RawTable, locale: Locale) -> pl.DataFrame:
    """Spend from the ``Amount spent (XXX)`` column(s), currency from the header of the one filled."""
    columns = [(cell, currency) for cell, currency in spend_columns(table.header) if currency is not None]
    texts = [clean_text(cell) for cell, _ in columns]
    parsed = table.rows.select(
        pl.coalesce([decimal_expr(text, locale) for text in texts]).alias("spend"),
        (pl.lit(columns[0][1]) if len(columns) == 1
         else pl.coalesce([pl.when(text.is_not_null()).then(pl.lit(code)) for text, (_, code) in
                           zip(texts, columns, strict=True)])).alias("currency_code"),
        pl.sum_horizontal([text.is_not_null().cast(pl.Int32) for text in texts]).alias("_filled"),
        pl.coalesce([pl.when(text.is_not_null() & decimal_expr(text, locale).is_null())
                     .then(pl.format("parse:spend: cannot read {} as decimal", text.str.slice(0, 40)))
                     for text in texts]).alias("_spend_error"),
    )
    # Same rows in the same order: parse_table builds the frame by selecting from table.rows.
    frame = pl.concat([frame, parsed], how="horizontal")
    frame = add_errors(frame, pl.col("_spend_error").is_not_null(), pl.col("_spend_error"))
    names = " and ".join(repr(cell) for cell, _ in columns)
    frame = add_errors(frame, pl.col("_filled") > 1, f"conflict:spend: a row has amounts under both {names}")
    if "currency_column" in frame.columns:
        frame = add_errors(
            frame, pl.col("currency_column").str.to_uppercase() != pl.col("currency_code"),
            pl.format("conflict:currency_code: the Currency column says {} but the spend header says {}",
                      pl.col("currency_column"), pl.col("currency_code")),
        )
    return frame.drop("_filled", "_spend_error")


def _conversions(frame: pl.DataFrame) -> pl.DataFrame:
    """Purchases when the file has them; else Results on rows whose indicator names a purchase."""
    if "purchases" in frame.columns:
        return frame.with_columns(pl.col("purchases").alias("platform_conversions"))
    if "results" in frame.columns and "result_indicator" in frame.columns:
        is_purchase = pl.col("result_indicator").str.to_lowercase().str.contains("purchase").fill_null(False)
        return frame.with_columns(
            pl.when(is_purchase).then(pl.col("results")).otherwise(None).alias("platform_conversions"))
    return frame


def _format(name: str, starts: tuple[str, ...], ends: tuple[str, ...], locale: Locale) -> SourceFormat:
    return SourceFormat(
        name=name,
        source="meta_ads",
        entity="ad_daily",
        signature=(starts, ends),
        fields=FIELDS,
        locale=locale,
        constants={"platform": PLATFORM, "account_timezone": ACCOUNT_TIMEZONE},
        prepare=_prepare,
        derive=partial(_derive, locale=locale),
    )


FORMATS: tuple[SourceFormat, ...] = (
    _format("meta_ads_manager_en", (STARTS[0],), (ENDS[0],), EN),
    _format("meta_ads_manager_localised", STARTS[1:], ENDS[1:], PLAIN),
)
