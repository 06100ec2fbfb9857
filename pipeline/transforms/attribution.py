"""fct_attribution: each conversion's credit split over the channels and campaigns that earned it.

Conversions are revenue orders (``conversion_type`` ``order``) and closed-won B2B deals
(``won_deal``, see ``won_deal_conversions``).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from pipeline.entities import MONEY
from pipeline.errors import ConfigError
from pipeline.fx import with_eur

NO_CAMPAIGN = "(none)"
DIRECT_CHANNEL = "direct"
ORDER = "order"
WON_DEAL = "won_deal"
# the row order of fct_attribution as kohde builds it (ORDER sorts before WON_DEAL): what float sums over
# its rows follow, so an incremental run, which appends rebuilt days to kept ones, gives a full run's sums
ATTRIBUTION_ORDER = ("conversion_type", "order_date", "order_id", "model", "channel", "campaign_id")
CONVERSION_TYPES: tuple[str, ...] = (ORDER, WON_DEAL)

TIME_DECAY_HALF_LIFE_DAYS = 7.0

# HubSpot's milestone weights: W-shaped 30 % each to first touch, lead creation and opportunity
# creation; full path (Z-shaped) 22.5 % each to those and the closing touch; U-shaped 40 % each to
# the first touch and lead creation. The rest is spread over the touches that are no milestone.
W_SHARE = 0.30
FULL_PATH_SHARE = 0.225
U_SHARE = 0.40

_POSITION = pl.col("position")
_LAST = pl.col("path_length") - 1
_ROW = pl.int_range(pl.len(), dtype=pl.Int64)


# Runs of equal keys in a frame sorted by them. ``over`` would do the same per group, but with
# millions of groups of a few rows (one per order) it is several times slower than comparing each
# row with its neighbour (medium: 3.3 s against 0.4 s for the paths' positions and lengths).
def _run_edge(keys: tuple[str, ...], step: int) -> pl.Expr:
    """True where a row's keys differ from the row ``step`` away (a run's first row: 1, its last: -1)."""
    return pl.any_horizontal(pl.col(key) != pl.col(key).shift(step) for key in keys).fill_null(True)


def _run_start(*keys: str) -> pl.Expr:
    """The row number of the first row of each row's run."""
    return pl.when(_run_edge(keys, 1)).then(_ROW).forward_fill()


def _run_end(*keys: str) -> pl.Expr:
    """The row number of the last row of each row's run."""
    return pl.when(_run_edge(keys, -1)).then(_ROW).backward_fill()


def _run_sum(value: pl.Expr, *keys: str) -> pl.Expr:
    """The sum of ``value`` over each row's run (exact for decimals: a running sum, differenced)."""
    running = value.cum_sum()
    return (pl.when(_run_edge(keys, -1)).then(running).backward_fill()
            - pl.when(_run_edge(keys, 1)).then(running - value).forward_fill())


def _milestone_credit(milestones: list[pl.Expr], share: float) -> pl.Expr:
    """Credit of the touch at ``position`` when each milestone position takes ``share``.

    Coinciding milestones add up on their touch; ``1 - share x milestones`` is spread equally over
    the touches that are no milestone, or, when every touch is one, equally over the milestones.
    """
    count = len(milestones)
    spread = 1.0 - share * count
    hits = pl.sum_horizontal([(_POSITION == milestone).cast(pl.Float64) for milestone in milestones])
    # distinct milestone touches: a milestone counts unless an earlier one in the list is the same touch
    distinct = pl.sum_horizontal([
        pl.all_horizontal([pl.lit(True), *[milestone != earlier for earlier in milestones[:i]]]).cast(pl.Int64)
        for i, milestone in enumerate(milestones)
    ])
    others = (pl.col("path_length") - distinct).cast(pl.Float64)
    return (
        pl.when(hits > 0)
        .then(hits * (share + pl.when(others == 0).then(spread / count).otherwise(0.0)))
        .otherwise(spread / others)
    )


def _u_shaped() -> pl.Expr:
    """The fallback of the milestone models: U-shaped, 40 / 20 / 40.

    40 % to the first touch, 40 % to the lead-creation touch (HubSpot's U) or, with no
    lead-creation touch on the path, to the last touch (Google's position-based); 20 % spread.
    """
    return _milestone_credit([pl.lit(0, pl.Int64), pl.coalesce(pl.col("lead_position"), _LAST)], U_SHARE)


def model_credit(model: str, time_decay_half_life_days: float = TIME_DECAY_HALF_LIFE_DAYS) -> pl.Expr:
    """The credit per touch of a rule-based model, on the path columns ``build_fct_attribution`` makes.

    ``position`` is the touch's 0-based place on the order's path (oldest first, ties by
    touchpoint_id), ``path_length`` the number of touches, ``lead_position`` /
    ``opportunity_position`` the lead- and opportunity-creation touches (NULL when unknown) and
    ``last_non_direct_position`` the newest touch whose channel is not direct.
    """
    half_life_s = time_decay_half_life_days * 24 * 3600.0
    age_weight = 2.0 ** (-(pl.col("ordered_at") - pl.col("ts")).dt.total_seconds() / half_life_s)
    milestones_known = pl.col("lead_position").is_not_null() & pl.col("opportunity_position").is_not_null()
    credits: dict[str, pl.Expr] = {
        # last touch: all credit to the newest touch (ties: the larger touchpoint_id)
        "last_touch": (_POSITION == _LAST).cast(pl.Float64),
        # last non-direct touch: the newest touch whose channel is not direct; the last touch when all are direct
        "last_non_direct_touch": (_POSITION == pl.col("last_non_direct_position")).cast(pl.Float64),
        # first touch: all credit to the oldest touch (ties: the smaller touchpoint_id)
        "first_touch": (_POSITION == 0).cast(pl.Float64),
        # linear: credit = 1 / touches on the path, to every touch
        "linear": 1.0 / pl.col("path_length").cast(pl.Float64),
        # position-based (Google's 40/20/40): first and last 0.4 each, 0.2 spread over the middle;
        # one touch takes 1, two touches 0.5 each
        "position_based": _milestone_credit([pl.lit(0, pl.Int64), _LAST], U_SHARE),
        # time decay: weight 2^(-age / half-life), normalised per order
        "time_decay": age_weight / age_weight.sum().over("order_id"),
        # W-shaped: first, lead creation, opportunity creation 30 % each + 10 % spread; U-shaped without them
        "w_shaped": pl.when(milestones_known)
        .then(_milestone_credit([pl.lit(0, pl.Int64), pl.col("lead_position"), pl.col("opportunity_position")], W_SHARE))
        .otherwise(_u_shaped()),
        # full path (Z-shaped): W-shaped's three plus the closing (last) touch 22.5 % each + 10 % spread
        "full_path": pl.when(milestones_known)
        .then(_milestone_credit([pl.lit(0, pl.Int64), pl.col("lead_position"), pl.col("opportunity_position"), _LAST],
                                FULL_PATH_SHARE))
        .otherwise(_u_shaped()),
    }
    return credits[model]


RULE_BASED_MODELS: tuple[str, ...] = (
    "last_touch", "last_non_direct_touch", "first_touch", "linear", "position_based", "time_decay", "w_shaped",
    "full_path",
)
# Touch types that are not clicks or engagements: left out of click-based models.
VIEW_TOUCH_TYPES: tuple[str, ...] = ("impression",)
# Data-driven models: credit per touch computed from every journey (converting or not).
DATA_DRIVEN_MODELS: tuple[str, ...] = ("markov", "shapley")


def _data_driven_touch_credit(path: pl.LazyFrame, touches: pl.LazyFrame, models: list[str],
                              markov_order: int) -> list[pl.LazyFrame]:
    """Credit per touch on each order's path under the data-driven models, one frame per model.

    Converting journeys are the orders' paths; non-converting journeys are each customer's touches
    that lie on no order's path (in time order), so Markov removal effects compare converting with
    non-converting behaviour. ``markov``: each order's credit is split over its path's distinct
    channels in proportion to their removal effects (``markov_credits``, chain of ``markov_order``).
    ``shapley``: in proportion to the channels' Shapley values (``shapley_credits`` with
    ``split="proportional"``: the worth of a channel set is the conversions of journeys whose
    channel set lies inside it). Either way a channel's credit is split equally over its touches on
    the path. This step collects: both models are solved on the distinct paths in numpy.
    """
    from pipeline.transforms.attribution_models import group_paths, markov_credits, shapley_credits

    if not models:
        return []
    # the paths feed the chain and every model's split: evaluate the orders x touches join once
    path = path.select("order_id", "customer_id", "touchpoint_id", "channel", "campaign_id", "position").collect().lazy()
    # touchpoint_id is fct_touchpoints' key, so it alone says whether a touch is on an order's path
    on_paths = path.select("touchpoint_id").unique()
    converting = path.group_by("order_id").agg(pl.col("channel").sort_by("position").alias("path")).select(
        "path", pl.lit(True).alias("converted"), pl.lit(0.0).alias("value"))
    idle = (touches.join(on_paths, on="touchpoint_id", how="anti")
            .sort("customer_id", "ts", "touchpoint_id")
            .group_by("customer_id", maintain_order=True).agg(pl.col("channel").alias("path"))
            .select("path", pl.lit(False).alias("converted"), pl.lit(0.0).alias("value")))
    grouped = group_paths(pl.concat([converting, idle], how="vertical_relaxed")).collect()
    order_paths = path.group_by("order_id").agg(pl.col("channel").sort_by("position").alias("path"))
    touches_per_channel = path.group_by("order_id", "channel").agg(pl.len().alias("_touches"))
    frames = []
    for model in models:
        if grouped.filter(pl.col("conversions") > 0).height == 0:
            credits = pl.DataFrame(schema={"path": pl.List(pl.String), "channel": pl.String, "credit": pl.Float64})
        elif model == "markov":
            credits = markov_credits(grouped, markov_order)
        else:
            credits = shapley_credits(grouped, "proportional")
        per_channel = order_paths.join(credits.lazy(), on="path", how="inner").select("order_id", "channel", "credit")
        frames.append(
            path.join(per_channel, on=["order_id", "channel"], how="inner")
            .join(touches_per_channel, on=["order_id", "channel"], how="inner")
            .select("order_id", pl.lit(model).alias("model"), "channel", "campaign_id", "position",
                    (pl.col("credit") / pl.col("_touches")).alias("credit"))
        )
    return frames


def won_deal_conversions(deals: pl.LazyFrame, fx_rates: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """One row per closed-won deal up to ``as_of``: the ``won_deals`` input of ``build_fct_attribution``.

    ``deals`` is the ``deal`` entity's current truth as of ``as_of``; a deal is won when
    ``is_won`` and its ``close_date`` is on or before ``as_of`` (a deal marked won with a future
    close date is not a conversion yet). ``amount_eur`` converts ``amount`` at the rate valid on
    the close date, as orders convert at their order date (NULL when the currency has no rate).
    """
    won = deals.filter(
        pl.col("is_won").fill_null(False) & pl.col("close_date").is_not_null() & (pl.col("close_date") <= as_of)
    ).select("deal_id", "customer_id", "created_date", "close_date", "amount", "currency_code")
    return with_eur(won, fx_rates, amount_columns=["amount"], date_column="close_date").select(
        "deal_id", "customer_id", "created_date", "close_date", "amount_eur")


def _milestones(orders: pl.LazyFrame, contacts: pl.LazyFrame | None, deals: pl.LazyFrame | None) -> pl.LazyFrame:
    """One row per conversion: lead_created_at and opportunity_created_date of its customer (NULL if unknown).

    The lead was created when the customer's earliest CRM contact record was (``created_at``);
    the opportunity when the won deal itself was (``_deal_created_date``, for ``won_deal``
    conversions) or, for orders, when the customer's newest deal created on or before the order
    date was.
    """
    own_opportunity = pl.col("_deal_created_date")
    milestones = orders.select("order_id", "conversion_type", "customer_id", "order_date", own_opportunity)
    if contacts is None:
        milestones = milestones.with_columns(pl.lit(None, pl.Datetime("us", "UTC")).alias("lead_created_at"))
    else:
        # the contacts of these conversions' customers only: a night's window has a few thousand, the CRM a million
        leads = (contacts.filter(pl.col("customer_id").is_not_null())
                 .join(milestones.select("customer_id"), on="customer_id", how="semi")
                 .group_by("customer_id").agg(pl.col("created_at").min().alias("lead_created_at")))
        milestones = milestones.join(leads, on="customer_id", how="left")
    is_deal = pl.col("conversion_type") == WON_DEAL
    if deals is None:
        return milestones.with_columns(pl.when(is_deal).then(own_opportunity).alias("opportunity_created_date"))
    opportunities = (
        milestones.select("order_id", "customer_id", "order_date")
        .join(deals.filter(pl.col("customer_id").is_not_null() & pl.col("created_date").is_not_null())
              .select("customer_id", "created_date"), on="customer_id", how="inner")
        .filter(pl.col("created_date") <= pl.col("order_date"))
        .group_by("order_id").agg(pl.col("created_date").max().alias("_newest_deal_date"))
    )
    return milestones.join(opportunities, on="order_id", how="left").with_columns(
        pl.when(is_deal).then(own_opportunity).otherwise(pl.col("_newest_deal_date")).alias("opportunity_created_date"))


def build_fct_attribution(
    fct_orders: pl.LazyFrame,
    fct_touchpoints: pl.LazyFrame,
    lookback_days: int = 90,
    models: tuple[str, ...] = ("last_touch",),
    *,
    contacts: pl.LazyFrame | None = None,
    deals: pl.LazyFrame | None = None,
    markov_order: int = 1,
    time_decay_half_life_days: float = TIME_DECAY_HALF_LIFE_DAYS,
    won_deals: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """One row per conversion, model, channel and campaign_id: the credit and EUR revenue it earned.

    Conversions are the ``is_revenue`` orders (``conversion_type`` ``order``, ``order_id`` the
    order's id) and, when ``won_deals`` is given (``won_deal_conversions``), the closed-won deals
    (``won_deal``, ``order_id`` the deal_id, ``order_date`` the close date, revenue the deal's
    ``amount_eur``, ``is_first_order`` NULL). A deal carries a close date, not a time: it converts
    at the end of its UTC close day, so touches up to 23:59:59.999999 UTC of that day count.

    A touch is on a conversion's path when it has the conversion's customer_id,
    ``ordered_at - lookback_days < ts <= ordered_at``, and a touch type other than ``impression``
    (all models here are click-based). Rule-based credit per touch comes from ``model_credit`` and
    data-driven credit from ``_data_driven_touch_credit``, fitted per conversion type (orders'
    journeys and won deals' journeys are separate chains and games, so adding deals leaves the
    orders' credits unchanged); both are summed per channel and campaign. A conversion with an
    empty path gets one row ``direct`` / ``(none)`` with credit 1. A touch with no channel counts
    as ``direct`` and one with no campaign as ``(none)``.

    Milestones (``w_shaped``, ``full_path``): ``contacts`` (customer_id, created_at) and ``deals``
    (customer_id, created_date) of the CRM. The lead-creation touch is the newest path touch at or
    before the customer's earliest contact ``created_at``; the opportunity-creation touch the
    newest path touch whose UTC day is on or before the ``created_date`` of the customer's newest
    deal created on or before the order date; for a won deal, the deal's own ``created_date``. A
    milestone without such a touch on the path (or without contacts / deals) is unknown, and the
    conversion falls back to U-shaped (see ``model_credit``). The closing touch of ``full_path``
    is the last touch on the path (for a won deal: the newest touch up to its close day).

    ``revenue_eur`` is credit x net_revenue_eur rounded to 0.0001 EUR; the rounding remainder goes
    to the row with the largest credit (ties: the row whose first touch is oldest, then channel and
    campaign), so revenue sums to net_revenue_eur exactly.

    Rows come in ``ATTRIBUTION_ORDER``: by conversion type, then by day, so the rows of the days
    before a date are a prefix of the orders' rows (an incremental run appends the rebuilt days to
    the kept ones without sorting them again).
    """
    known = [*RULE_BASED_MODELS, *DATA_DRIVEN_MODELS]
    unknown = [model for model in models if model not in known]
    if unknown or not models:
        raise ConfigError(f"unknown attribution models {unknown or list(models)}; known: {sorted(known)}")
    if lookback_days < 1:
        raise ConfigError(f"attribution lookback_days must be at least 1, got {lookback_days}")
    if not time_decay_half_life_days > 0:
        raise ConfigError(f"time decay half-life must be positive, got {time_decay_half_life_days} days")

    conversions = [fct_orders.filter(pl.col("is_revenue").fill_null(False)).select(
        pl.lit(ORDER).alias("conversion_type"), pl.col("order_id").alias("conversion_id"), "customer_id", "ordered_at",
        "order_date", "is_first_order", "net_revenue_eur", pl.lit(None, pl.Date).alias("_deal_created_date"),
    )]
    if won_deals is not None:
        # the end of the UTC close day: the last instant a touch can precede the close
        close_end = (pl.col("close_date").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
                     + timedelta(days=1) - timedelta(microseconds=1))
        conversions.append(won_deals.select(
            pl.lit(WON_DEAL).alias("conversion_type"), pl.col("deal_id").alias("conversion_id"), "customer_id",
            close_end.alias("ordered_at"), pl.col("close_date").alias("order_date"),
            pl.lit(None, pl.Boolean).alias("is_first_order"), pl.col("amount_eur").cast(MONEY).alias("net_revenue_eur"),
            pl.col("created_date").alias("_deal_created_date"),
        ))
    # order and deal ids may coincide: inside, a conversion is known by an integer ``order_id`` given in
    # (conversion_type, order_date, conversion_id) order, so joins, windows and sorts on it compare integers, not text
    orders = (pl.concat(conversions, how="vertical_relaxed").sort("conversion_type", "order_date", "conversion_id")
              .with_row_index("order_id").collect().lazy())
    model_names = pl.LazyFrame({"model": list(models)}, schema={"model": pl.Utf8})
    touches = fct_touchpoints.filter(
        pl.col("customer_id").is_not_null() & ~pl.col("touch_type").is_in(list(VIEW_TOUCH_TYPES)).fill_null(False)
    ).select(
        pl.col("customer_id"),
        pl.col("touchpoint_id"),
        pl.col("ts"),
        pl.col("channel").fill_null(DIRECT_CHANNEL).alias("channel"),
        pl.col("campaign_id").fill_null(NO_CAMPAIGN).alias("campaign_id"),
    )
    path = (
        orders.select("order_id", "customer_id", "ordered_at")
        .join(touches, on="customer_id", how="inner")
        .filter(
            (pl.col("ts") <= pl.col("ordered_at"))
            & (pl.col("ts") > pl.col("ordered_at") - timedelta(days=lookback_days))
        )
        .sort("order_id", "ts", "touchpoint_id")
        .with_columns((_ROW - _run_start("order_id")).alias("position"),
                      (_run_end("order_id") - _run_start("order_id") + 1).cast(pl.UInt32).alias("path_length"))
        .collect().lazy()  # read by every model family and the empty-path check: join and sort once
    )
    rule_based = [model for model in models if model in RULE_BASED_MODELS]
    rule_path = (
        path.join(_milestones(orders, contacts, deals).select("order_id", "lead_created_at", "opportunity_created_date"),
                  on="order_id", how="left")
        .with_columns(
            _POSITION.filter(pl.col("ts") <= pl.col("lead_created_at")).max().over("order_id").alias("lead_position"),
            _POSITION.filter(pl.col("ts").dt.convert_time_zone("UTC").dt.date() <= pl.col("opportunity_created_date"))
            .max().over("order_id").alias("opportunity_position"),
            pl.coalesce(_POSITION.filter(pl.col("channel") != DIRECT_CHANNEL).max().over("order_id"), _LAST)
            .alias("last_non_direct_position"),
        )
    )
    # every rule-based model is one column of the same pass over the paths, summed per channel and
    # campaign of each path in one grouping, then one row per model: the per-model rows are made from
    # the grouped paths, not from every touch
    credit_columns = [model_credit(model, time_decay_half_life_days).alias(model) for model in rule_based]
    rule_grouped = (
        rule_path.select("order_id", "channel", "campaign_id", "position", *credit_columns)
        .group_by("order_id", "channel", "campaign_id")
        .agg(
            *[pl.col(model).sum() for model in rule_based],
            # the oldest touch with credit under each model: the remainder's tie-break
            *[pl.when(pl.col(model) > 0).then(_POSITION).min().alias(f"_first_{model}") for model in rule_based],
        )
    )
    if rule_based:
        rule_grouped = rule_grouped.collect().lazy()  # each model's rows read it
    rule_credits = [
        rule_grouped.select("order_id", pl.lit(model).alias("model"), "channel", "campaign_id",
                            pl.col(model).alias("credit"), pl.col(f"_first_{model}").alias("_first_position"))
        for model in rule_based
    ]
    data_driven = [m for m in models if m in DATA_DRIVEN_MODELS]
    # one chain / game per conversion type: an order's journey and a won deal's are different outcomes
    types = [ORDER] if won_deals is None else list(CONVERSION_TYPES)
    data_driven_touches = [frame for kind in types for frame in _data_driven_touch_credit(
        path.join(orders.filter(pl.col("conversion_type") == kind).select("order_id"), on="order_id", how="semi"),
        touches, data_driven, markov_order)]
    data_driven_credits = [
        pl.concat(data_driven_touches, how="vertical_relaxed").filter(pl.col("credit") > 0)
        .group_by("order_id", "model", "channel", "campaign_id")
        .agg(pl.col("credit").sum(), pl.col("position").min().alias("_first_position"))
    ] if data_driven_touches else []
    unattributed = (
        orders.select("order_id")
        .join(path.select("order_id").unique(), on="order_id", how="anti")
        .join(model_names, how="cross")
        .select(
            "order_id",
            "model",
            pl.lit(DIRECT_CHANNEL).alias("channel"),
            pl.lit(NO_CAMPAIGN).alias("campaign_id"),
            pl.lit(1.0).alias("credit"),
            pl.lit(0, pl.Int64).alias("_first_position"),
        )
    )
    order_model = ("order_id", "model")
    return (
        # one row per conversion, model, channel and campaign with credit
        pl.concat([*rule_credits, *data_driven_credits, unattributed], how="vertical_relaxed")
        .filter(pl.col("credit") > 0)
        # float sums depend on summation order: round so re-runs give identical rows
        .with_columns(pl.col("credit").round(12))
        .join(orders, on="order_id", how="inner")
        .sort("order_id", "model", pl.col("credit"), "_first_position", "channel", "campaign_id",
              descending=[False, False, True, False, False, False])
        .with_columns(
            (pl.col("net_revenue_eur").cast(pl.Float64) * pl.col("credit")).round(4).cast(MONEY).alias("_rounded")
        )
        .with_columns(
            # rows are sorted, so an order and model's first row is the largest-credit one: it takes the
            # remainder, net - the sum of the rounded shares
            pl.when(_run_edge(order_model, 1))
            .then(pl.col("_rounded") + pl.col("net_revenue_eur") - _run_sum(pl.col("_rounded"), *order_model))
            .otherwise(pl.col("_rounded"))
            .cast(MONEY)
            .alias("revenue_eur")
        )
        # the integer order_id follows (conversion_type, order_date, conversion_id): this is ATTRIBUTION_ORDER
        .sort("order_id", "model", "channel", "campaign_id")
        .select(
            pl.col("conversion_id").alias("order_id"),
            "model",
            "channel",
            "campaign_id",
            "customer_id",
            "order_date",
            "is_first_order",
            "credit",
            "revenue_eur",
            "conversion_type",
        )
    )
