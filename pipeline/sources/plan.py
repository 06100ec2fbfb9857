"""The business's own plan sheets: SMART goals, channel budgets, sales costs and currency rates.

Each sheet is recognised by its header, in English or Finnish:

- goals: ``goal_id,description,metric,target,target_kind,period_start,period_end,baseline_start,
  baseline_end,owner,channel,segment`` / ``tavoite_id,kuvaus,mittari,tavoite,tavoitetyyppi,alkaa,
  päättyy,vertailu_alkaa,vertailu_päättyy,omistaja,kanava,segmentti``;
- budgets: ``month,channel,currency,amount`` / ``kuukausi,kanava,valuutta,summa``;
- sales costs: ``month,kind,category,currency,amount`` / ``kuukausi,tyyppi,kategoria,valuutta,summa``
  (kind fixed | variable, or kiinteä | muuttuva);
- fx rates: ``date,currency,eur_per_unit`` / ``päivä,valuutta,eur_per_yksikkö``.

Numbers are read in the sheet's locale (``pipeline.sources.erp.number_locale``): decimal comma when
the file is ``;``-separated (Excel in a Finnish locale), decimal point when it is ``,``-separated; a
cell whose separator cannot be read that way is a parse error, never a silent factor of 100. Dates
are ``2026-11-01`` or ``1.11.2026``; a month is ``2026-11``, ``2026-11-01``, ``11/2026`` or
``11.2026`` and becomes the first day of that month. A missing currency means EUR.

Goals must be SMART to be tracked; a goal that is not is quarantined with a reason naming it and
what is missing (``smart:target: goal G3 has no number``): a metric among ``METRICS``, a target
number, a start and an end with start <= end, a target kind absolute or pct_vs_baseline (empty
means absolute), and baseline dates (start <= end) for a percentage target (pct_vs_baseline, and
always for sales_growth). Budgets and sales costs must not be negative; a sales cost's kind must be
fixed or variable; a rate must be positive. Channels are lower-cased and platform names mapped onto
the channel taxonomy (``google_ads`` -> paid_search, ``Meta`` -> paid_social, ...).
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from pipeline.channels import PLATFORM_CHANNEL
from pipeline.ingest.read import RawTable
from pipeline.sources.base import Field, Locale, ParseContext, SourceFormat, add_errors
from pipeline.sources.erp import number_locale, parse_decimals

PLAN_LOCALE = Locale(date_formats=("%Y-%m-%d", "%d.%m.%Y"))

METRICS: tuple[str, ...] = ("revenue", "new_customers", "customers", "sales_growth", "avg_order", "satisfaction",
                            "cpa", "roi")
METRIC_ALIASES: dict[str, str] = {
    "liikevaihto": "revenue", "myynti": "revenue", "uudet_asiakkaat": "new_customers", "asiakkaat": "customers",
    "myynnin_kasvu": "sales_growth", "keskiostos": "avg_order", "tyytyväisyys": "satisfaction",
}
TARGET_KINDS: dict[str, str] = {
    "absolute": "absolute", "absoluuttinen": "absolute",
    "pct_vs_baseline": "pct_vs_baseline", "prosenttia_vertailusta": "pct_vs_baseline",
}
COST_KINDS: dict[str, str] = {"fixed": "fixed", "kiinteä": "fixed", "kiintea": "fixed",
                              "variable": "variable", "muuttuva": "variable"}
CHANNEL_ALIASES: dict[str, str] = {
    **PLATFORM_CHANNEL,
    "google": "paid_search", "meta": "paid_social", "facebook": "paid_social", "instagram": "paid_social",
    "adroll": "display_retargeting", "sähköposti": "email", "webinaari": "webinar",
}
DEFAULT_CURRENCY = "EUR"


def _word(column: str) -> pl.Expr:
    """A typed label as a key: trimmed, lower case, spaces and hyphens as underscores."""
    return pl.col(column).str.strip_chars().str.to_lowercase().str.replace_all(r"[\s\-]+", "_")


def month_expr(text: pl.Expr) -> pl.Expr:
    """First day of the month written as ``2026-11``, ``2026-11-01``, ``11/2026``, ``11.2026`` or ``1.11.2026``."""
    value = text.str.strip_chars()
    return pl.coalesce(
        (value + "-01").str.strptime(pl.Date, "%Y-%m-%d", strict=False, exact=True),
        ("01/" + value).str.strptime(pl.Date, "%d/%m/%Y", strict=False, exact=True),
        ("1." + value).str.strptime(pl.Date, "%d.%m.%Y", strict=False, exact=True),
        value.str.strptime(pl.Date, "%Y-%m-%d", strict=False, exact=True),
        value.str.strptime(pl.Date, "%d.%m.%Y", strict=False, exact=True),
    ).dt.month_start()


def _parse_month(frame: pl.DataFrame) -> pl.DataFrame:
    month = month_expr(pl.col("month"))
    frame = add_errors(frame, pl.col("month").is_not_null() & month.is_null(),
                       pl.format("parse:month: cannot read {} as a month (2026-11, 2026-11-01 or 11/2026)",
                                 pl.col("month").str.slice(0, 40)))
    return frame.with_columns(month.alias("month"))


def _currency(frame: pl.DataFrame) -> pl.Expr:
    if "currency_code" not in frame.columns:
        return pl.lit(DEFAULT_CURRENCY).alias("currency_code")
    return pl.col("currency_code").str.strip_chars().str.to_uppercase().fill_null(DEFAULT_CURRENCY).alias(
        "currency_code")


def _amounts(frame: pl.DataFrame, table: RawTable, fmt: SourceFormat, targets: tuple[str, ...],
             scale: int = 4) -> pl.DataFrame:
    """Parse the number columns of a plan sheet in the sheet's locale."""
    headers = [table.column(*f.headers) for f in fmt.fields if f.target in targets]
    return parse_decimals(frame, targets, number_locale(table, headers), scale)


def _channel(frame: pl.DataFrame) -> pl.Expr:
    if "channel" not in frame.columns:
        return pl.lit(None, dtype=pl.Utf8).alias("channel")
    return _word("channel").replace(CHANNEL_ALIASES).alias("channel")


# ---------------------------------------------------------------------------------------------
# goals

def _smart(frame: pl.DataFrame, condition: pl.Expr, column: str, detail: str) -> pl.DataFrame:
    """Quarantine goals failing a SMART rule: ``smart:<column>: goal <id> <detail>``."""
    goal = pl.col("goal_id").fill_null("(no id)")
    return add_errors(frame, condition, pl.format(f"smart:{column}: goal {{}} {detail}", goal))


def _derive_goals(frame: pl.DataFrame, table: RawTable, ctx: ParseContext) -> pl.DataFrame:
    """Target number, canonical metric and kind, channel; quarantine goals that are not SMART."""
    frame = _amounts(frame, table, GOALS, ("target_value",))
    optional = {"target_kind": pl.Utf8, "baseline_start": pl.Date, "baseline_end": pl.Date, "channel": pl.Utf8,
                "segment": pl.Utf8}
    frame = frame.with_columns([pl.lit(None, dtype=t).alias(n) for n, t in optional.items() if n not in frame.columns])
    metric = _word("metric").replace(METRIC_ALIASES)
    kind = _word("target_kind").replace_strict(TARGET_KINDS, default=None, return_dtype=pl.Utf8)
    frame = frame.with_columns(metric.alias("metric"), kind.alias("_kind"))
    percentage = (pl.col("_kind") == "pct_vs_baseline") | (pl.col("metric") == "sales_growth")
    frame = _smart(frame, pl.col("metric").is_null(), "metric", "has no metric")
    frame = add_errors(frame, pl.col("metric").is_not_null() & ~pl.col("metric").is_in(METRICS),
                       pl.format("smart:metric: goal {} measures '{}', not one of " + ", ".join(METRICS),
                                 pl.col("goal_id").fill_null("(no id)"), pl.col("metric").str.slice(0, 40)))
    frame = _smart(frame, pl.col("target_value").is_null(), "target", "has no number")
    frame = _smart(frame, pl.col("target_kind").is_not_null() & pl.col("_kind").is_null(), "target_kind",
                   "has a target kind that is not absolute or pct_vs_baseline")
    frame = _smart(frame, pl.col("period_start").is_null(), "period_start", "has no start date")
    frame = _smart(frame, pl.col("period_end").is_null(), "period_end", "has no end date")
    frame = _smart(frame, pl.col("period_start") > pl.col("period_end"), "period_end", "ends before it starts")
    frame = _smart(frame, percentage & (pl.col("baseline_start").is_null() | pl.col("baseline_end").is_null()),
                   "baseline_start", "is a percentage target without baseline dates")
    frame = _smart(frame, percentage & (pl.col("baseline_start") > pl.col("baseline_end")), "baseline_end",
                   "has a baseline that ends before it starts")
    frame = _smart(frame, pl.col("metric").is_in(["cpa", "roi"]) & (pl.col("segment").str.strip_chars() != ""),
                   "segment", "filters a spend metric by segment (ad spend is not bought per segment)")
    return frame.with_columns(
        pl.col("target_value").cast(pl.Float64),
        pl.col("_kind").alias("target_kind"),
        _channel(frame),
        pl.col("segment").str.strip_chars(),
    ).drop("_kind")


GOALS = SourceFormat(
    name="plan_goals",
    source="plan",
    entity="goal",
    signature=(("goal_id", "tavoite_id"), ("metric", "mittari"), ("target", "tavoite")),
    fields=(
        Field("goal_id", ("goal_id", "tavoite_id"), "id", required=True, not_null=True),
        Field("description", ("description", "kuvaus")),
        Field("metric", ("metric", "mittari"), required=True),
        Field("target_value", ("target", "tavoite", "target_value"), required=True),
        Field("target_kind", ("target_kind", "tavoitetyyppi")),
        Field("period_start", ("period_start", "alkaa"), "date", required=True),
        Field("period_end", ("period_end", "päättyy"), "date", required=True),
        Field("baseline_start", ("baseline_start", "vertailu_alkaa"), "date"),
        Field("baseline_end", ("baseline_end", "vertailu_päättyy"), "date"),
        Field("owner", ("owner", "omistaja", "vastuuhenkilö")),
        Field("channel", ("channel", "kanava")),
        Field("segment", ("segment", "segmentti")),
    ),
    locale=PLAN_LOCALE,
    derive=_derive_goals,
)


# ---------------------------------------------------------------------------------------------
# budgets

def _derive_budgets(frame: pl.DataFrame, table: RawTable, ctx: ParseContext) -> pl.DataFrame:
    """Month, channel, currency and a non-negative amount."""
    frame = _parse_month(_amounts(frame, table, BUDGETS, ("amount",)))
    frame = add_errors(frame, pl.col("amount") < Decimal(0), "check:amount: negative budget")
    return frame.with_columns(_channel(frame), _currency(frame))


BUDGETS = SourceFormat(
    name="plan_budgets",
    source="plan",
    entity="budget",
    signature=(("month", "kuukausi"), ("channel", "kanava"), ("amount", "summa")),
    fields=(
        Field("month", ("month", "kuukausi"), required=True, not_null=True),
        Field("channel", ("channel", "kanava"), required=True, not_null=True),
        Field("currency_code", ("currency", "valuutta")),
        Field("amount", ("amount", "summa"), required=True, not_null=True),
    ),
    locale=PLAN_LOCALE,
    derive=_derive_budgets,
)


# ---------------------------------------------------------------------------------------------
# sales costs

def _derive_sales_costs(frame: pl.DataFrame, table: RawTable, ctx: ParseContext) -> pl.DataFrame:
    """Month, kind fixed | variable, category, currency and a non-negative amount."""
    frame = _parse_month(_amounts(frame, table, SALES_COSTS, ("amount",)))
    kind = _word("kind").replace_strict(COST_KINDS, default=None, return_dtype=pl.Utf8)
    frame = add_errors(frame, pl.col("kind").is_not_null() & kind.is_null(),
                       pl.format("map:kind: unknown sales cost kind '{}' (fixed | variable)",
                                 pl.col("kind").str.slice(0, 40)))
    frame = add_errors(frame, pl.col("amount") < Decimal(0), "check:amount: negative sales cost")
    category = pl.col("category").str.strip_chars() if "category" in frame.columns else pl.lit(None, dtype=pl.Utf8)
    return frame.with_columns(kind.alias("kind"), category.alias("category"), _currency(frame))


SALES_COSTS = SourceFormat(
    name="plan_sales_costs",
    source="plan",
    entity="sales_cost",
    signature=(("month", "kuukausi"), ("kind", "tyyppi"), ("amount", "summa")),
    fields=(
        Field("month", ("month", "kuukausi"), required=True, not_null=True),
        Field("kind", ("kind", "tyyppi"), required=True, not_null=True),
        Field("category", ("category", "kategoria")),
        Field("currency_code", ("currency", "valuutta")),
        Field("amount", ("amount", "summa"), required=True, not_null=True),
    ),
    locale=PLAN_LOCALE,
    derive=_derive_sales_costs,
)


# ---------------------------------------------------------------------------------------------
# fx rates

def _derive_fx(frame: pl.DataFrame, table: RawTable, ctx: ParseContext) -> pl.DataFrame:
    """Rate (8 decimals) in the sheet's locale, upper-case currency, positive rates only."""
    frame = _amounts(frame, table, FX_RATES, ("eur_per_unit",), scale=8)
    frame = add_errors(frame, pl.col("eur_per_unit") <= Decimal(0), "check:eur_per_unit: rate must be positive")
    return frame.with_columns(pl.col("currency_code").str.strip_chars().str.to_uppercase())


FX_RATES = SourceFormat(
    name="plan_fx_rates",
    source="plan",
    entity="fx_rate",
    signature=(("date", "päivä", "valid_from"), ("currency", "valuutta"), ("eur_per_unit", "eur_per_yksikkö")),
    fields=(
        Field("valid_from", ("date", "päivä", "valid_from"), "date", required=True, not_null=True),
        Field("currency_code", ("currency", "valuutta"), required=True, not_null=True),
        Field("eur_per_unit", ("eur_per_unit", "eur_per_yksikkö"), required=True, not_null=True),
    ),
    locale=PLAN_LOCALE,
    derive=_derive_fx,
)

FORMATS: tuple[SourceFormat, ...] = (GOALS, BUDGETS, SALES_COSTS, FX_RATES)

__all__ = ["BUDGETS", "FORMATS", "FX_RATES", "GOALS", "METRICS", "SALES_COSTS", "month_expr"]
