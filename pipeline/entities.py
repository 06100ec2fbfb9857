"""The canonical (silver) entities every source adapter produces: names and polars types.

Every adapter's output is exactly one of these schemas plus the lineage columns, so unifying
sources is a plain ``pl.concat``. Money columns are native-currency decimals with their
``currency_code`` beside them; conversion to EUR happens in gold (see ``pipeline.fx``).
"""

from __future__ import annotations

import polars as pl

MONEY = pl.Decimal(18, 4)
UTC_TS = pl.Datetime("us", "UTC")

LINEAGE: dict[str, pl.DataType] = {
    "source": pl.Utf8(),            # inbox folder the file came from, e.g. "google_ads"
    "source_format": pl.Utf8(),     # adapter that recognised the header, e.g. "google_ads_ui"
    "extract_date": pl.Date(),      # the inbox date folder, i.e. the logical date of the run that read it
    "file_sha256": pl.Utf8(),
    "row_number": pl.Int64(),       # 1-based line number of the row in the decoded file
}

CONTACT: dict[str, pl.DataType] = {
    "contact_id": pl.Utf8(),        # the CRM's own record id, leading zeros kept
    "source_system": pl.Utf8(),     # hubspot | salesforce | generic
    "customer_id": pl.Utf8(),       # pseudonymous id, see pipeline.identity.customer_id
    "email_sha256": pl.Utf8(),      # sha256 of the trimmed, lower-cased email; NULL if none
    "phone_sha256": pl.Utf8(),      # sha256 of the E.164 phone (with +); NULL if none or invalid
    "created_at": UTC_TS,
    "lifecycle_stage": pl.Utf8(),   # subscriber | lead | mql | sql | opportunity | customer | evangelist | other
    "original_source": pl.Utf8(),   # e.g. "Paid Search", "Organic Search", "Paid Social", "Email Marketing", "Direct Traffic"
    "birth_year": pl.Int32(),
    "gender": pl.Utf8(),            # female | male | other | NULL (unknown)
    "income_band": pl.Utf8(),
    "education": pl.Utf8(),
    "city": pl.Utf8(),
    "postcode": pl.Utf8(),
    "country_code": pl.Utf8(),      # ISO-3166 alpha-2, upper case
    "language": pl.Utf8(),          # ISO-639-1, lower case
    "values_orientation": pl.Utf8(),  # survey: e.g. quality | status | sustainability | innovation | price
    "brand_loyalty": pl.Utf8(),     # survey: high | medium | low
    "purchase_motive": pl.Utf8(),   # survey: e.g. status | performance | value | convenience
    "lifestyle": pl.Utf8(),
    "satisfaction_score": pl.Float64(),  # survey score 0..10
    "company": pl.Utf8(),
    "industry": pl.Utf8(),
    "employees": pl.Int64(),
    "revenue_band": pl.Utf8(),
    "consent_marketing": pl.Boolean(),   # NULL = unknown, treated as no consent
    "objected_marketing": pl.Boolean(),  # GDPR Art 21 objection; absolute
    "phone_sha256_meta": pl.Utf8(),  # sha256 of the same phone as digits with country code, no + (Meta's rule)
}

DEAL: dict[str, pl.DataType] = {
    "deal_id": pl.Utf8(),
    "source_system": pl.Utf8(),
    "customer_id": pl.Utf8(),       # the associated contact's customer_id, NULL if unknown
    "company": pl.Utf8(),
    "deal_name": pl.Utf8(),
    "pipeline": pl.Utf8(),
    "stage": pl.Utf8(),             # canonical: appointment | qualified | presentation | decision | contract | closed_won | closed_lost
    "is_closed": pl.Boolean(),
    "is_won": pl.Boolean(),
    "amount": MONEY,
    "currency_code": pl.Utf8(),
    "created_date": pl.Date(),
    "close_date": pl.Date(),
    "owner": pl.Utf8(),
}

TOUCHPOINT: dict[str, pl.DataType] = {
    "touchpoint_id": pl.Utf8(),     # the source's id, or a sha256 of (customer, ts, channel, campaign, type)
    "customer_id": pl.Utf8(),
    "email_sha256": pl.Utf8(),
    "ts": UTC_TS,
    "channel": pl.Utf8(),           # see pipeline.channels.CHANNELS
    "platform": pl.Utf8(),          # google_ads | meta_ads | linkedin_ads | adroll | hubspot | website | ...
    "campaign_id": pl.Utf8(),       # the ad platform's campaign id when the touch came from a paid campaign
    "touch_type": pl.Utf8(),        # impression | click | email_open | email_click | webinar | trial | demo_request | pricing_visit | visit
    "utm_source": pl.Utf8(),
    "utm_medium": pl.Utf8(),
    "utm_campaign": pl.Utf8(),
}

AD_DAILY: dict[str, pl.DataType] = {
    "platform": pl.Utf8(),          # google_ads | meta_ads | linkedin_ads | adroll
    "account_id": pl.Utf8(),
    "account_timezone": pl.Utf8(),  # IANA name of the day boundary the platform used
    "day": pl.Date(),
    "campaign_id": pl.Utf8(),
    "campaign_name": pl.Utf8(),
    "currency_code": pl.Utf8(),
    "spend": MONEY,
    "impressions": pl.Int64(),
    "clicks": pl.Int64(),
    "platform_conversions": pl.Decimal(18, 4),   # fractional under data-driven attribution
    "platform_conversion_value": MONEY,
}

ORDER: dict[str, pl.DataType] = {
    "order_id": pl.Utf8(),
    "source_system": pl.Utf8(),     # shopify | stripe | erp
    "customer_id": pl.Utf8(),
    "email_sha256": pl.Utf8(),
    "ordered_at": UTC_TS,
    "order_date": pl.Date(),        # the shop's local day (see DECISIONLOG: day boundaries)
    "currency_code": pl.Utf8(),
    "gross": MONEY,                 # price of goods before discounts and refunds; excl. shipping and taxes
    "discounts": MONEY,
    "refunds": MONEY,
    "net_revenue": MONEY,           # gross - discounts - refunds
    "status": pl.Utf8(),            # paid | refunded | partially_refunded | pending | cancelled | failed
    "product_category": pl.Utf8(),
    "price_tier": pl.Utf8(),        # entry | mid | premium | luxury
}

GOAL: dict[str, pl.DataType] = {
    "goal_id": pl.Utf8(),
    "description": pl.Utf8(),
    "metric": pl.Utf8(),            # revenue | new_customers | customers | sales_growth | avg_order | satisfaction | cpa | roi
    "target_value": pl.Float64(),
    "target_kind": pl.Utf8(),       # absolute | pct_vs_baseline
    "period_start": pl.Date(),
    "period_end": pl.Date(),
    "baseline_start": pl.Date(),    # for pct_vs_baseline targets
    "baseline_end": pl.Date(),
    "owner": pl.Utf8(),
    "channel": pl.Utf8(),           # optional filter
    "segment": pl.Utf8(),           # optional filter
}

BUDGET: dict[str, pl.DataType] = {
    "month": pl.Date(),             # first day of the month
    "channel": pl.Utf8(),
    "currency_code": pl.Utf8(),
    "amount": MONEY,
}

SALES_COST: dict[str, pl.DataType] = {
    "month": pl.Date(),
    "kind": pl.Utf8(),              # fixed | variable
    "category": pl.Utf8(),
    "currency_code": pl.Utf8(),
    "amount": MONEY,
}

FX_RATE: dict[str, pl.DataType] = {
    "valid_from": pl.Date(),
    "currency_code": pl.Utf8(),
    "eur_per_unit": pl.Decimal(18, 8),  # 1 unit of currency_code = eur_per_unit EUR
}

ENTITIES: dict[str, dict[str, pl.DataType]] = {
    "contact": CONTACT,
    "deal": DEAL,
    "touchpoint": TOUCHPOINT,
    "ad_daily": AD_DAILY,
    "order": ORDER,
    "goal": GOAL,
    "budget": BUDGET,
    "sales_cost": SALES_COST,
    "fx_rate": FX_RATE,
}

# The business key of each entity: duplicates of it inside one extraction are conflicts, and across
# extractions the newest extraction wins.
BUSINESS_KEYS: dict[str, tuple[str, ...]] = {
    "contact": ("source_system", "contact_id"),
    "deal": ("source_system", "deal_id"),
    "touchpoint": ("touchpoint_id",),
    "ad_daily": ("platform", "account_id", "day", "campaign_id"),
    "order": ("source_system", "order_id"),
    "goal": ("goal_id",),
    "budget": ("month", "channel"),
    "sales_cost": ("month", "kind", "category"),
    "fx_rate": ("valid_from", "currency_code"),
}


def empty_frame(entity: str, *, with_lineage: bool = False) -> pl.DataFrame:
    """An empty frame with the entity's schema (and lineage columns if asked)."""
    schema = dict(ENTITIES[entity])
    if with_lineage:
        schema.update(LINEAGE)
    return pl.DataFrame(schema=schema)


def conform(frame: pl.DataFrame, entity: str) -> pl.DataFrame:
    """Select the entity's columns in order, adding missing ones as NULL and casting to the schema."""
    schema = ENTITIES[entity]
    exprs = [
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    ]
    extra = [c for c in LINEAGE if c in frame.columns]
    return frame.select(*exprs, *[pl.col(c).cast(LINEAGE[c]) for c in extra])
