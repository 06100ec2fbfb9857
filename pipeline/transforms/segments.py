"""Customer segmentation: RFM, value, engagement, intent, demographic, psychographic, persona.

``build_customer_segments`` gives every customer each segmentation as of a date and
``build_segment_summary`` the size, revenue and quality figures of every segment.

RFM scores (``build_rfm``)
    Only revenue orders (``is_revenue``) with ``order_date`` in ``(as_of - window_days, as_of]``
    count. Each of recency, frequency and monetary value is scored 1..5 by the same rule:
    ``score = ceil(5 * rank / n)``, where ``rank`` is the ``min`` rank of the customer in ascending
    order of goodness (the worst customer has rank 1; for recency the worst is the one whose last
    order is oldest) and ``n`` is the number of scored customers. Tied customers share the lowest
    rank of their tie and so the same score; the best customer always scores 5 (a single customer
    scores 5, 5, 5), and the scores stay in 1..5 with fewer than 5 customers (3 distinct customers
    score 2, 4, 5). The rule is computed in integers, so it is exact and deterministic.

RFM segments (``RFM_SEGMENT_RULES``)
    The widely copied 11-segment table leaves 36 of the 125 score cells unassigned and never
    reaches New Customers, Promising, Can't Lose Them or Lost. kohde's rules are read top down,
    first match wins; each bound is inclusive and a missing score means "any":

    ====================  =====  =====  =====  =====
    segment               r      f      m      cells
    ====================  =====  =====  =====  =====
    Champions             4-5    4-5    4-5    8
    Loyal Customers       3-5    3-5    3-5    19
    New Customers         5      1      any    5
    Promising             4      1      any    5
    Potential Loyalists   4-5    any    any    22
    About to Sleep        3      1-2    1-2    4
    Need Attention        3      any    any    12
    Can't Lose Them       1      4-5    4-5    4
    At Risk               1-2    3-5    3-5    14
    Hibernating           2      any    any    16
    Lost                  any    any    any    16 (catch-all: r = 1 with f <= 2 or m <= 2)
    ====================  =====  =====  =====  =====

    Every one of the 125 cells gets exactly one named segment, and every segment is reachable (the
    last column counts the cells each one gets). ``build_customer_segments`` adds two names for
    customers without scores: ``Prospects`` (no revenue order ever, up to as-of) and ``Lost``
    (revenue orders, but none in the RFM window).

The other segmentations of ``build_customer_segments`` are documented on the function; the
default persona rules are ``PERSONA_RULES``, replaced (with psychographic rules if wanted) by a
rules file, see ``pipeline.segment_rules``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl

from pipeline.entities import MONEY, empty_frame
from pipeline.transforms.clusters import DEFAULT_CLUSTERS, DEFAULT_SEED, cluster_expr
from pipeline.transforms.customer_orders import CustomerOrders, customer_revenue, grouped_orders
from pipeline.transforms.customers import age_band
from pipeline.transforms.measures import snapshot_key

PROSPECTS = "Prospects"
LOST = "Lost"

# (segment, {score: (low, high)}) read top down, first match wins; an empty condition matches all.
RFM_SEGMENT_RULES: tuple[tuple[str, dict[str, tuple[int, int]]], ...] = (
    ("Champions", {"r": (4, 5), "f": (4, 5), "m": (4, 5)}),
    ("Loyal Customers", {"r": (3, 5), "f": (3, 5), "m": (3, 5)}),
    ("New Customers", {"r": (5, 5), "f": (1, 1)}),
    ("Promising", {"r": (4, 4), "f": (1, 1)}),
    ("Potential Loyalists", {"r": (4, 5)}),
    ("About to Sleep", {"r": (3, 3), "f": (1, 2), "m": (1, 2)}),
    ("Need Attention", {"r": (3, 3)}),
    ("Can't Lose Them", {"r": (1, 1), "f": (4, 5), "m": (4, 5)}),
    ("At Risk", {"r": (1, 2), "f": (3, 5), "m": (3, 5)}),
    ("Hibernating", {"r": (2, 2)}),
    (LOST, {}),
)

# The segmentations summarised by build_segment_summary, in their output order.
SEGMENTATIONS: tuple[str, ...] = (
    "rfm_segment",
    "value_tier",
    "engagement_segment",
    "intent_segment",
    "demographic_segment",
    "psychographic_segment",
    "persona",
    "cluster",
    "age_band",
    "gender",
    "income_band",
    "education",
    "country_code",
    "language",
    "industry",
    "company_size_band",
    "revenue_band",
    "deal_stage_depth",
)
UNKNOWN = "unknown"
UNSCORED = "unscored"  # the summary's segment for customers without a cluster
NO_DEAL = "no deal"
# Deal stages from least to most advanced; a customer's depth is the most advanced of their deals.
DEAL_STAGE_DEPTH: tuple[str, ...] = (
    "closed_lost", "appointment", "qualified", "presentation", "decision", "contract", "closed_won",
)
# (lowest employees, highest or None, label): the EU SME size classes, with 250+ split at 1000.
COMPANY_SIZE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (1, 9, "1-9"),
    (10, 49, "10-49"),
    (50, 249, "50-249"),
    (250, 999, "250-999"),
    (1000, None, "1000+"),
)

ENGAGEMENT_WINDOW_DAYS = 30
INTENT_WINDOW_DAYS = 90  # also the "cooling" window of engagement_segment
HIGHLY_ENGAGED_TOUCHES = 5
# Touches the customer did not act on do not count as engagement.
PASSIVE_TOUCH_TYPES: tuple[str, ...] = ("impression",)
# Intent signals, strongest first.
INTENT_TOUCH_TYPES: tuple[str, ...] = ("demo_request", "trial", "webinar", "pricing_visit")

# Value tiers: cumulative share of historical net revenue carried by the tier and all tiers above it.
TOP_VALUE_SHARE_PCT = 80
MIDDLE_VALUE_SHARE_PCT = 95

# (lowest age, highest age or None, label), ages as of the as-of year.
HIGH_INCOME_FLOOR_EUR = 100_000
TECH_INDUSTRY_WORDS: tuple[str, ...] = ("technology", "software", "saas", "internet", "computer")


@dataclass(frozen=True)
class Condition:
    """One test on a customer feature: ``column op value``; a NULL feature never matches.

    ops: ``not_null``, ``==``, ``>=``, ``<=``, ``in`` (value is a tuple), ``contains_any`` (the
    lower-cased text contains any of the tuple's words).
    """

    column: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class PersonaRule:
    """A persona and when it applies: every ``all_of`` condition and, if given, one ``any_of``."""

    persona: str
    all_of: tuple[Condition, ...] = ()
    any_of: tuple[Condition, ...] = ()


# Read top down, first match wins, the last rule matches everyone. The features they can use are
# the customer's profile columns (company, employees, industry, values_orientation, purchase_motive,
# all text lower-cased, industry with "_" as spaces) plus lifetime_orders (revenue orders up to
# as-of), luxury_order_share (share of those orders with price_tier "luxury") and income_floor_eur
# (the lower bound of income_band, e.g. 60000 for "60-100k", 0 for "<20k").
PERSONA_RULES: tuple[PersonaRule, ...] = (
    PersonaRule("B2B account", all_of=(Condition("company", "not_null"), Condition("employees", ">=", 10))),
    PersonaRule(
        "Luxury buyer",
        any_of=(
            Condition("luxury_order_share", ">=", 0.5),
            Condition("income_floor_eur", ">=", HIGH_INCOME_FLOOR_EUR),
        ),
    ),
    PersonaRule(
        "Tech professional",
        any_of=(
            Condition("industry", "contains_any", TECH_INDUSTRY_WORDS),
            Condition("values_orientation", "==", "innovation"),
        ),
    ),
    PersonaRule(
        "Price-sensitive occasional",
        all_of=(Condition("lifetime_orders", "<=", 1), Condition("purchase_motive", "==", "value")),
    ),
    PersonaRule("General"),
)


def _quintile_score(value: pl.Expr, *, higher_is_better: bool) -> pl.Expr:
    """Score 1..5 = ceil(5 * rank / n), rank = 'min' rank in ascending order of goodness.

    Rows with a NULL value are not scored (NULL score) and do not count in n.
    """
    rank = value.rank("min", descending=not higher_is_better).cast(pl.Int64)
    n = value.count().cast(pl.Int64)
    # ceil(5 * rank / n) in integers
    return ((5 * rank + n - 1) // n).cast(pl.Int32)


def build_rfm(fct_orders: pl.LazyFrame, as_of: date, window_days: int) -> pl.LazyFrame:
    """One row per customer with a revenue order in the window: recency, frequency, monetary, scores.

    The window is ``(as_of - window_days, as_of]`` on ``order_date``; only ``is_revenue`` orders
    with a customer count. ``recency_days`` = as_of - last order date, ``frequency`` = orders,
    ``monetary_eur`` = sum of ``net_revenue_eur``; scores as in the module docstring.
    """
    return _rfm_scores(fct_orders, as_of, window_days).sort("customer_id")


def _rfm_scores(fct_orders: pl.LazyFrame, as_of: date, window_days: int) -> pl.LazyFrame:
    """``build_rfm`` in no particular order."""
    window_start = as_of - timedelta(days=window_days)
    return (
        fct_orders.filter(
            pl.col("is_revenue").fill_null(False)
            & pl.col("customer_id").is_not_null()
            & (pl.col("order_date") > window_start)
            & (pl.col("order_date") <= as_of)
        )
        .group_by("customer_id")
        .agg(
            pl.col("order_date").max().alias("last_order_date"),
            pl.len().cast(pl.Int64).alias("frequency"),
            pl.col("net_revenue_eur").sum().cast(MONEY).alias("monetary_eur"),
        )
        .with_columns(*_rfm_score_columns(as_of))
        .select("customer_id", "recency_days", "frequency", "monetary_eur", "r_score", "f_score", "m_score")
    )


def _rfm_score_columns(as_of: date) -> list[pl.Expr]:
    """recency_days and the three scores from last_order_date, frequency and monetary_eur.

    NULL figures (a customer without an order in the window) give NULL scores and are not counted.
    """
    recency_days = (pl.lit(as_of) - pl.col("last_order_date")).dt.total_days()
    return [
        recency_days.alias("recency_days"),
        _quintile_score(recency_days, higher_is_better=False).alias("r_score"),
        _quintile_score(pl.col("frequency"), higher_is_better=True).alias("f_score"),
        _quintile_score(pl.col("monetary_eur"), higher_is_better=True).alias("m_score"),
    ]


def _order_history(fct_orders: pl.LazyFrame, as_of: date, window_days: int,
                   given: CustomerOrders | None = None) -> pl.LazyFrame:
    """One row per customer with a revenue order up to as-of: lifetime figures and the RFM columns.

    historical_value_eur, lifetime_orders and luxury_order_share cover every revenue order up to
    as-of; recency_days, frequency, monetary_eur and the scores are ``_rfm_scores``' (the same
    orders in the window), NULL for a customer without an order in the window. From ``given``
    (``customer_orders`` of these orders, date and window), else from one pass over the orders.
    """
    scored = pl.col("window_orders") > 0
    return (
        grouped_orders(fct_orders, as_of, given, window_days)
        .filter(pl.col("orders") > 0)
        .select(
            "customer_id",
            pl.col("net_revenue_eur").alias("historical_value_eur"),
            pl.col("orders").alias("lifetime_orders"),
            # luxury share = luxury orders / revenue orders
            (pl.col("luxury_orders") / pl.col("orders")).alias("luxury_order_share"),
            pl.col("window_last_order_date").alias("last_order_date"),
            pl.when(scored).then(pl.col("window_orders")).alias("frequency"),
            pl.when(scored).then(pl.col("window_revenue_eur")).alias("monetary_eur"),
        )
        .with_columns(*_rfm_score_columns(as_of))
        .drop("last_order_date")
    )


def _as_expr(column: str | pl.Expr) -> pl.Expr:
    return pl.col(column) if isinstance(column, str) else column


def rfm_segment_expr(r: str | pl.Expr, f: str | pl.Expr, m: str | pl.Expr) -> pl.Expr:
    """The named RFM segment of scores r, f, m by ``RFM_SEGMENT_RULES``; NULL if any score is NULL."""
    scores = {"r": _as_expr(r), "f": _as_expr(f), "m": _as_expr(m)}
    chain: Any = pl.when(pl.any_horizontal(*(s.is_null() for s in scores.values()))).then(pl.lit(None, pl.Utf8))
    for name, bounds in RFM_SEGMENT_RULES:
        condition = (
            pl.all_horizontal(*(scores[k].is_between(low, high) for k, (low, high) in bounds.items()))
            if bounds
            else pl.lit(True)
        )
        chain = chain.when(condition).then(pl.lit(name))
    return chain.otherwise(pl.lit(None, pl.Utf8))


def _condition_expr(condition: Condition) -> pl.Expr:
    column = pl.col(condition.column)
    match condition.op:
        case "not_null":
            expr = column.is_not_null()
        case "==":
            expr = column == condition.value
        case ">=":
            expr = column >= condition.value
        case "<=":
            expr = column <= condition.value
        case "in":
            expr = column.is_in(list(condition.value))
        case "contains_any":
            expr = pl.any_horizontal(
                *(column.str.to_lowercase().str.contains(word, literal=True) for word in condition.value)
            )
        case _:
            raise ValueError(f"persona rule: unknown condition op {condition.op!r}")
    return expr.fill_null(False)


def persona_expr(rules: tuple[PersonaRule, ...] = PERSONA_RULES) -> pl.Expr:
    """The first persona whose rule matches the customer's feature columns (see ``PERSONA_RULES``)."""
    chain: Any = pl
    for rule in rules:
        parts = [_condition_expr(c) for c in rule.all_of]
        if rule.any_of:
            parts.append(pl.any_horizontal(*(_condition_expr(c) for c in rule.any_of)))
        chain = chain.when(pl.all_horizontal(*parts) if parts else pl.lit(True)).then(pl.lit(rule.persona))
    return chain.otherwise(pl.lit(None, pl.Utf8))


def _lower_text(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().str.to_lowercase().replace("", None)


def _contact_profiles(contacts: pl.LazyFrame, as_of_end: datetime) -> pl.LazyFrame:
    """One row per customer_id of the contacts created up to as-of; each field from the newest record that has it."""
    profile_columns = (
        "birth_year",
        "gender",
        "income_band",
        "education",
        "country_code",
        "language",
        "values_orientation",
        "purchase_motive",
        "brand_loyalty",
        "lifestyle",
        "company",
        "industry",
        "employees",
        "revenue_band",
    )
    records = contacts.filter(
        pl.col("customer_id").is_not_null()
        & (pl.col("created_at").is_null() | (pl.col("created_at") < as_of_end))
    ).with_columns(pl.len().over("customer_id").alias("_records"))
    # a customer with one record takes its fields as they are; only customers with several need the order
    single = records.filter(pl.col("_records") == 1).select("customer_id", *profile_columns)
    several = (
        records.filter(pl.col("_records") > 1)
        # newest record first within each customer, then each field from the first record that has it
        .sort(
            ["customer_id", "created_at", "source_system", "contact_id"],
            descending=[False, True, False, False],
            nulls_last=True,
        )
        .group_by("customer_id", maintain_order=True)
        .agg(*(pl.col(c).drop_nulls().first().alias(c) for c in profile_columns))
    )
    return (
        pl.concat([single, several], how="vertical")
        .with_columns(
            _lower_text("gender").alias("gender"),
            _lower_text("education").alias("education"),
            pl.col("income_band").str.strip_chars().replace("", None).alias("income_band"),
            pl.col("revenue_band").str.strip_chars().replace("", None).alias("revenue_band"),
            _lower_text("values_orientation").alias("values_orientation"),
            _lower_text("purchase_motive").alias("purchase_motive"),
            _lower_text("brand_loyalty").alias("brand_loyalty"),
            _lower_text("lifestyle").alias("lifestyle"),
            _lower_text("company").alias("company"),
            _lower_text("industry").str.replace_all("_", " ").alias("industry"),
            _income_floor_eur(pl.col("income_band")).alias("income_floor_eur"),
        )
    )


def _income_floor_eur(band: pl.Expr) -> pl.Expr:
    """Lower bound of an income band text: '60-100k' -> 60000, '150k+' -> 150000, '<20k' -> 0."""
    text = band.str.to_lowercase().str.replace_all(r"[\s\u00a0]", "")
    number = text.str.extract(r"(\d+(?:\.\d+)?)", 1).cast(pl.Float64)
    unit = pl.when(text.str.contains("m")).then(1_000_000.0).when(text.str.contains("k")).then(1_000.0).otherwise(1.0)
    return pl.when(text.str.starts_with("<")).then(0.0).otherwise(number * unit)


def company_size_band(employees: pl.Expr) -> pl.Expr:
    """The ``COMPANY_SIZE_BANDS`` label of an employee count, ``unknown`` when missing or below 1."""
    chain: Any = pl
    for low, high, label in COMPANY_SIZE_BANDS:
        chain = chain.when(employees >= low if high is None else employees.is_between(low, high)).then(pl.lit(label))
    return chain.otherwise(pl.lit(UNKNOWN))


def _deal_depth(deals: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """One row per customer with a deal created up to as-of: the rank of their most advanced deal stage."""
    stage_rank = {stage: rank for rank, stage in enumerate(DEAL_STAGE_DEPTH)}
    return (
        deals.filter(
            pl.col("customer_id").is_not_null() & (pl.col("created_date").is_null() | (pl.col("created_date") <= as_of))
        )
        .group_by("customer_id")
        .agg(
            pl.col("stage")
            .str.to_lowercase()
            .replace_strict(stage_rank, default=None, return_dtype=pl.Int32)
            .max()
            .alias("_deal_rank"),
            pl.len().alias("_deals"),
        )
    )


def build_customer_segments(
    fct_orders: pl.LazyFrame,
    contacts: pl.LazyFrame,
    touchpoints: pl.LazyFrame,
    as_of: date,
    window_days: int = 365,
    deals: pl.LazyFrame | None = None,
    clusters: int = DEFAULT_CLUSTERS,
    seed: int = DEFAULT_SEED,
    personas: tuple[PersonaRule, ...] = PERSONA_RULES,
    psychographic: tuple[PersonaRule, ...] | None = None,
    customer_orders: CustomerOrders | None = None,
) -> pl.LazyFrame:
    """One row per as_of_date and customer_id: RFM scores and every segmentation of the customer.

    Customers are those of the contacts created up to as-of and those with a revenue order up to
    as-of. Nothing after as-of is read (orders by ``order_date``, contacts by ``created_at``,
    touches by the UTC day of ``ts``), so a backfill gives the nightly numbers.

    - RFM: ``build_rfm`` over ``window_days``; without scores, ``rfm_segment`` is ``Prospects`` (no
      revenue order ever) or ``Lost`` (revenue orders, none in the window).
    - ``value_tier`` by historical net revenue (revenue orders up to as-of): customers with value
      > 0 sorted by value, descending; ``top`` is the smallest set carrying 80 % of the total,
      ``middle`` the next set up to 95 %, ``low`` the rest, ``none`` no value (<= 0). A customer's
      tier is decided by the value of the customers strictly ahead of them, so ties share a tier.
    - ``engagement_segment`` by touches (impressions excluded) in the 30 days up to as-of: >= 5
      ``highly_engaged``, 1-4 ``engaged``; none in 30 but some in 90 days ``cooling``; else ``dormant``.
    - ``intent_segment``: the strongest intent touch in the 90 days up to as-of, demo_request >
      trial > webinar > pricing_visit, else ``none``.
    - ``demographic_segment``: age band (as-of year - birth_year; 18-24 ... 65+, else ``unknown``)
      and gender (``unknown`` if NULL), e.g. ``35-44 female``.
    - ``psychographic_segment``: ``purchase_motive/values_orientation``, lower case, ``unknown``
      for NULL.
    - ``persona``: the first matching rule of ``PERSONA_RULES``.
    - Demographic dimensions one by one, ``unknown`` when missing, never guessed: ``age_band``,
      ``gender``, ``income_band`` (as recorded), ``education`` (lower case), ``country_code``,
      ``language``.
    - Firmographics: ``industry`` (lower case, ``_`` as space), ``company_size_band`` from employees
      (``COMPANY_SIZE_BANDS``), ``revenue_band`` (as recorded), all ``unknown`` when missing;
      ``deal_stage_depth``: the most advanced stage (``DEAL_STAGE_DEPTH``) in any row of ``deals``
      of the customer's deals created up to as-of, ``no deal`` without one, ``unknown`` when their
      deals have no known stage. Given every extraction of the deals up to as-of (as the pipeline
      does), that is the furthest stage a deal was ever seen in: a deal exported at ``contract`` and
      later ``closed_lost`` counts as ``contract``. ``closed_lost`` itself ranks lowest, since a lost
      deal seen only once does not say how far it got.
    - ``cluster`` / ``cluster_description``: k-means (``clusters`` clusters, ``seed``) on the
      customers with RFM scores, see ``pipeline.transforms.clusters``; NULL without scores.

    ``customer_orders``: ``customer_orders`` of these orders, as-of date and window, when the caller
    has it (the pipeline groups the orders once for every per-customer table); else grouped here.
    """
    as_of_end = datetime.combine(as_of + timedelta(days=1), time(), tzinfo=UTC)
    engagement_start = as_of_end - timedelta(days=ENGAGEMENT_WINDOW_DAYS)
    intent_start = as_of_end - timedelta(days=INTENT_WINDOW_DAYS)
    intent_rank = {touch_type: rank for rank, touch_type in enumerate(INTENT_TOUCH_TYPES)}

    profiles = _contact_profiles(contacts, as_of_end)
    deal_depth = _deal_depth(empty_frame("deal").lazy() if deals is None else deals, as_of)
    deal_stage_names = {rank: stage for rank, stage in enumerate(DEAL_STAGE_DEPTH)}
    touches = (
        touchpoints.filter(
            pl.col("customer_id").is_not_null()
            & (pl.col("ts") >= intent_start)
            & (pl.col("ts") < as_of_end)
        )
        .with_columns(pl.col("touch_type").str.to_lowercase().alias("touch_type"))
        .with_columns((~pl.col("touch_type").is_in(list(PASSIVE_TOUCH_TYPES))).fill_null(True).alias("_engaging"))
        .group_by("customer_id")
        .agg(
            (pl.col("_engaging") & (pl.col("ts") >= engagement_start)).sum().alias("touches_30d"),
            pl.col("_engaging").sum().alias("touches_90d"),
            pl.col("touch_type").replace_strict(intent_rank, default=None, return_dtype=pl.Int32).min().alias(
                "intent_rank"
            ),
        )
    )
    age = pl.lit(as_of.year) - pl.col("birth_year").cast(pl.Int32)
    by_value = pl.col("_value").sort(descending=True, nulls_last=True)

    return (
        # the customers: those of the contacts and those with a revenue order
        profiles.join(_order_history(fct_orders, as_of, window_days, customer_orders), on="customer_id", how="full",
                      coalesce=True)
        .join(touches, on="customer_id", how="left")
        .join(deal_depth, on="customer_id", how="left")
        .with_columns(
            pl.col("lifetime_orders").fill_null(0),
            pl.when(pl.col("historical_value_eur") > 0).then(pl.col("historical_value_eur")).alias("_value"),
        )
        .with_columns(
            # value of the customers strictly ahead: the cumulative value, in descending order of value,
            # before the first of this one's tie group (at position min rank - 1)
            (by_value.cum_sum() - by_value)
            .gather(pl.col("_value").rank("min", descending=True) - 1)
            .alias("_value_ahead"),
            pl.col("_value").sum().alias("_value_total"),
        )
        # k-means reads the rows in customer order, so the same data always gives the same clusters;
        # this is also the output's order (customer_id is unique here), so there is no second sort
        .sort("customer_id")
        .with_columns(cluster_expr(clusters, seed).alias("_cluster"))
        .select(
            pl.lit(as_of).alias("as_of_date"),
            pl.col("customer_id"),
            pl.col("recency_days"),
            pl.col("frequency"),
            pl.col("monetary_eur"),
            pl.col("r_score"),
            pl.col("f_score"),
            pl.col("m_score"),
            pl.when(pl.col("lifetime_orders") == 0)
            .then(pl.lit(PROSPECTS))
            .otherwise(pl.coalesce(rfm_segment_expr("r_score", "f_score", "m_score"), pl.lit(LOST)))
            .alias("rfm_segment"),
            pl.when(pl.col("_value").is_null())
            .then(pl.lit("none"))
            .when(pl.col("_value_ahead") * 100 < pl.col("_value_total") * TOP_VALUE_SHARE_PCT)
            .then(pl.lit("top"))
            .when(pl.col("_value_ahead") * 100 < pl.col("_value_total") * MIDDLE_VALUE_SHARE_PCT)
            .then(pl.lit("middle"))
            .otherwise(pl.lit("low"))
            .alias("value_tier"),
            pl.when(pl.col("touches_30d") >= HIGHLY_ENGAGED_TOUCHES)
            .then(pl.lit("highly_engaged"))
            .when(pl.col("touches_30d") >= 1)
            .then(pl.lit("engaged"))
            .when(pl.col("touches_90d") >= 1)
            .then(pl.lit("cooling"))
            .otherwise(pl.lit("dormant"))
            .alias("engagement_segment"),
            pl.col("intent_rank")
            .replace_strict(
                {rank: touch_type for touch_type, rank in intent_rank.items()}, default=None, return_dtype=pl.Utf8
            )
            .fill_null("none")
            .alias("intent_segment"),
            pl.concat_str(age_band(age), pl.col("gender").fill_null("unknown"), separator=" ").alias(
                "demographic_segment"
            ),
            (
                pl.concat_str(
                    pl.col("purchase_motive").fill_null("unknown"),
                    pl.col("values_orientation").fill_null("unknown"),
                    separator="/",
                )
                if psychographic is None
                else persona_expr(psychographic)
            ).alias("psychographic_segment"),
            persona_expr(personas).alias("persona"),
            age_band(age).alias("age_band"),
            *(pl.col(c).fill_null(UNKNOWN).alias(c) for c in ("gender", "income_band", "education", "country_code",
                                                             "language", "industry")),
            company_size_band(pl.col("employees")).alias("company_size_band"),
            pl.col("revenue_band").fill_null(UNKNOWN).alias("revenue_band"),
            pl.when(pl.col("_deals").is_null())
            .then(pl.lit(NO_DEAL))
            .otherwise(
                pl.col("_deal_rank").replace_strict(deal_stage_names, default=None, return_dtype=pl.Utf8)
                .fill_null(UNKNOWN)
            )
            .alias("deal_stage_depth"),
            pl.col("_cluster").struct.field("cluster").alias("cluster"),
            pl.col("_cluster").struct.field("cluster_description").alias("cluster_description"),
        )
    )


def segment_labels() -> list[pl.Expr]:
    """Each segmentation of ``SEGMENTATIONS`` as text: the cluster number, ``unscored`` for no cluster."""
    return [pl.col(c).cast(pl.Utf8).fill_null(UNSCORED).alias(c) for c in SEGMENTATIONS]


SQUARE_SPLIT = 1 << 30  # an amount in 1e-4 EUR (below 2^60) times its part above or below this stays below 2^90


def money_squares(money: pl.Expr) -> list[pl.Expr]:
    """A money amount (a DECIMAL(18,4), or its units of 1e-4 EUR) squared in units as ``_sq_hi`` x 2^30 + ``_sq_lo``.

    Their sums over any group of customers fit Int128.
    """
    units = money.to_physical().cast(pl.Int128)
    high = units // SQUARE_SPLIT
    return [(units * high).alias("_sq_hi"), (units * (units - high * SQUARE_SPLIT)).alias("_sq_lo")]


def by_snapshot_row(snapshot: pl.DataFrame, *frames: pl.LazyFrame) -> pl.LazyFrame:
    """Each frame's columns (NULL where it has no row) per row of ``snapshot`` and its number ``_row``, in no order.

    ``snapshot`` has one row per customer_id, each frame at most one; they are joined on
    ``snapshot_key`` (the revenue and value frames' customers are all in the snapshot).
    """
    key = snapshot_key(snapshot)
    joined = snapshot.lazy().select(key).with_row_index("_row")
    for frame in frames:
        joined = joined.join(frame.select(key, pl.exclude("customer_id")), on="_key", how="left")
    return joined.drop("_key")


def sums_by_segment(customers: pl.LazyFrame, sums: list[pl.Expr]) -> pl.LazyFrame:
    """``sums`` (additive aggregations) per segmentation and segment of ``customers`` (one row each, ``SEGMENTATIONS`` columns).

    Summed once per pair of segmentations, each segmentation's segments then from the pair's
    cells: every figure is a sum or a count, so this equals summing per segment.
    """
    cells = []
    for pair in (SEGMENTATIONS[i:i + 2] for i in range(0, len(SEGMENTATIONS), 2)):
        pair_cells = customers.group_by(*pair).agg(sums)
        cells += [
            pair_cells.group_by(pl.col(name).alias("segment"))
            .agg(pl.exclude(*pair).sum())
            .select(pl.lit(name).alias("segmentation"), pl.all())
            for name in pair
        ]
    return pl.concat(cells, how="vertical")


def _sqrt_ratio(square: int, divisor: int) -> float:
    """sqrt(square) / divisor rounded once to the nearest float (square >= 0, divisor != 0)."""
    if square == 0:
        return math.copysign(0.0, divisor)
    shift = 64 + abs(divisor).bit_length()
    scaled = square << (2 * shift)
    root = math.isqrt(scaled // (divisor * divisor))
    # root <= |ratio| x 2^shift < root + 1 with root >= 2^64: a value strictly inside rounds as the midpoint does
    if root * root * divisor * divisor == scaled:
        return math.copysign(root / (1 << shift), divisor)
    return math.copysign((2 * root + 1) / (1 << (shift + 1)), divisor)


def _value_cv(customers: int, revenue: int, square_hi: int, square_lo: int) -> float | None:
    """Population std / mean of per-customer revenue from exact sums (1e-4 EUR): sqrt(n sum(x^2) - sum(x)^2) / sum(x)."""
    if revenue == 0:
        return None
    return _sqrt_ratio(customers * (square_hi * SQUARE_SPLIT + square_lo) - revenue * revenue, revenue)


def build_segment_summary(
    customer_segments: pl.LazyFrame,
    fct_orders: pl.LazyFrame,
    as_of: date,
    min_customers: int = 30,
    min_share: float = 0.02,
    customer_values: pl.LazyFrame | None = None,
    customer_orders: CustomerOrders | None = None,
) -> pl.LazyFrame:
    """One row per as_of_date, segmentation and segment: size, revenue and quality figures.

    Reads the ``as_of`` snapshot of ``mart_customer_segments`` and the revenue orders up to as-of.
    ``value_cv`` is the population standard deviation of per-customer revenue (customers without
    orders count as 0) over its mean, from exact sums rounded once, so it does not depend on the
    rows' order. ``size_ok`` says the segment is big enough to act on: ``customers >=
    min_customers`` and ``customers / all customers >= min_share``. With ``customer_values``
    (customer_id, predicted_clv_12m_eur, acquisition_cost_eur; see ``clv.customer_value_and_cost``)
    ``clv_eur`` and ``cac_eur`` are their means over the segment's customers that have one;
    without, or when none has, NULL.
    ``customer_orders``: the orders grouped by customer (``customer_orders``) when the caller has them.

    Customers are summed once per pair of segmentations and each segmentation's segments from
    the pair's cells: all figures are sums, so this is the same as summing per segment.
    """
    if customer_values is None:
        customer_values = pl.LazyFrame(schema={"customer_id": pl.Utf8, "predicted_clv_12m_eur": MONEY,
                                               "acquisition_cost_eur": MONEY})
    segmentation_order = {name: i for i, name in enumerate(SEGMENTATIONS)}
    snapshot = customer_segments.filter(pl.col("as_of_date") == as_of).select("customer_id", *segment_labels()).collect()
    # the customers' figures joined to the snapshot's row numbers, not to its labels, then put in the snapshot's order
    figures = (
        by_snapshot_row(snapshot, customer_revenue(fct_orders, as_of, customer_orders),
                        customer_values.select("customer_id", pl.col("predicted_clv_12m_eur").alias("_clv"),
                                               pl.col("acquisition_cost_eur").alias("_cac")))
        .sort("_row")
        .select(
            "_row",
            pl.col("revenue_eur").fill_null(pl.lit(0, MONEY)),
            pl.col("orders").fill_null(0),
            "_clv",
            "_cac",
        )
        .with_columns(money_squares(pl.col("revenue_eur")))
        .collect()
    )
    labels = snapshot.select(SEGMENTATIONS)
    # a left join keeps every row at least once: as many rows means each row once
    if figures.height != labels.height:
        labels = labels[figures["_row"]]
    customers = pl.concat([labels, figures.drop("_row")], how="horizontal").lazy()
    sums = [
        pl.len().alias("customers"),
        (pl.col("orders") > 0).sum().alias("buyers"),
        pl.col("revenue_eur").sum(),
        pl.col("orders").sum(),
        pl.col("_sq_hi").sum(),
        pl.col("_sq_lo").sum(),
        *[agg for name in ("_clv", "_cac")
          for agg in (pl.col(name).sum().alias(f"{name}_sum"), pl.col(name).count().alias(f"{name}_count"))],
    ]
    by_segment = sums_by_segment(customers, sums).with_columns(
        pl.col("customers", "buyers", "orders").cast(pl.Int64),
        pl.col("revenue_eur").cast(MONEY),
    ).collect()
    value_cv = [_value_cv(*row) for row in by_segment.select(
        "customers", pl.col("revenue_eur").to_physical(), "_sq_hi", "_sq_lo").iter_rows()]
    return (
        by_segment.lazy()
        .with_columns(
            pl.Series("value_cv", value_cv, dtype=pl.Float64),
            # share = customers in segment / customers in the snapshot
            (pl.col("customers") / pl.col("customers").sum().over("segmentation")).alias("_share"),
            # means of money: the exact decimal sum / count, so they do not depend on the rows' order
            *[pl.when(pl.col(f"{name}_count") > 0)
              .then(pl.col(f"{name}_sum").cast(pl.Float64) / pl.col(f"{name}_count")).alias(name)
              for name in ("_clv", "_cac")],
        )
        .select(
            pl.lit(as_of).alias("as_of_date"),
            pl.col("segmentation"),
            pl.col("segment"),
            pl.col("customers"),
            (pl.col("_share") * 100).alias("share_pct"),
            pl.col("buyers"),
            pl.col("revenue_eur"),
            pl.col("orders"),
            # average order = revenue / orders
            (pl.col("revenue_eur") / pl.when(pl.col("orders") > 0).then(pl.col("orders")))
            .round(4)
            .cast(MONEY)
            .alias("avg_order_eur"),
            # orders per customer = orders / customers
            (pl.col("orders") / pl.col("customers")).alias("orders_per_customer"),
            # conversion rate = buyers / customers x 100
            (pl.col("buyers") * 100 / pl.col("customers")).alias("conversion_rate_pct"),
            # CV = population std of per-customer revenue / mean
            pl.col("value_cv"),
            ((pl.col("customers") >= min_customers) & (pl.col("_share") >= min_share)).alias("size_ok"),
            # predicted value and acquisition cost: means over the customers that have one
            pl.col("_clv").round(4).cast(MONEY).alias("clv_eur"),
            pl.col("_cac").round(4).cast(MONEY).alias("cac_eur"),
        )
        .sort(pl.col("segmentation").replace_strict(segmentation_order, return_dtype=pl.Int32), "segment")
    )
