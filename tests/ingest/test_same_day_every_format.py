"""One business day exported in every format kohde reads loads to the same canonical rows.

The fixtures under ``tests/fixtures/same_day/<source>/`` hold ONE small day (2 November 2026, read by
the run of 3 November) written the way each vendor's tool writes it: Shopify's line-item rows, Stripe's
old and new headers with a failed and a test-mode charge, the Finnish ERP list as Excel saves it
(``sep=;``, cp1252 or UTF-8 with BOM, NBSP / NNBSP / ``.`` thousands, ``d.m.yyyy``, ``h.mm`` times),
Google Ads in the English and the Finnish UI as CSV and as UTF-16LE "Excel .csv", Meta, LinkedIn,
AdRoll, HubSpot (CSV and UTF-16), Salesforce report exports with their footers, the generic CSVs,
touchpoints and the plan sheets in both locales. The values are awkward on purpose: leading-zero ids
and postcodes, ``1 234,50``, fractional conversions, ``Åsa Mäkelä``, a discount, refunds, times a
few minutes from midnight in Helsinki.

Each file goes through the real ingest (``ingest_files`` into its own temporary lake) and its clean
rows (``lake.clean(entity, date)``) must equal hand-written expected values in EVERY canonical column.
A format that cannot carry a column, or whose documented rule gives another value, lists that column
in ``differs`` with the reason and the values it does load; every other column must be equal to the
reference rows and therefore across formats, which ``test_formats_agree`` asserts directly.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.entities import ENTITIES
from pipeline.identity import customer_id_from_email_hash, email_sha256
from pipeline.ingest.files import FileResult, InboxFile, ingest_files
from pipeline.lake import Lake
from pipeline.sources.touchpoints import touchpoint_digest
from pipeline.transforms.orders import REVENUE_STATUSES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "same_day"
DAY = date(2026, 11, 2)          # the business day every file describes
RUN = date(2026, 11, 3)          # the inbox date: the exports are taken the next morning


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def dec(*values: str | None) -> tuple[Decimal | None, ...]:
    return tuple(None if v is None else Decimal(v) for v in values)


def each(value: object, n: int) -> tuple[object, ...]:
    return (value,) * n


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def person(email: str) -> tuple[str, str]:
    """(email_sha256, customer_id) of an email as every source hashes it."""
    hashed = email_sha256(email)
    assert hashed is not None
    return hashed, customer_id_from_email_hash(hashed)


ASA, PEKKA, LIISA, MIKKO, ANNA = (person(e) for e in (
    "asa.makela@example.fi", "pekka.korhonen@example.fi", "liisa.laine@example.fi", "mikko.nieminen@example.fi",
    "anna.salo@example.fi"))


@dataclass(frozen=True)
class Variant:
    """One export of the day: its file, the adapter that must read it, and what it cannot say."""

    file: str                                     # under fixtures/same_day/, e.g. "orders/shopify_orders_export_1.csv"
    source_format: str
    encoding: str
    ids: tuple[str, ...]                          # the key column's value of each reference row, in order
    # column -> (values per reference row, why this format loads them rather than the reference values)
    differs: dict[str, tuple[tuple[object, ...], str]] = field(default_factory=dict)
    extra_ids: tuple[str, ...] = ()               # rows of the file that are not reference rows (asserted apart)
    quarantined: int = 0
    warnings: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        return self.file.split("/")[0]

    def __str__(self) -> str:
        return self.file.split("/")[1]


@dataclass(frozen=True)
class Group:
    """The reference rows of one entity and every export of them."""

    entity: str
    key: str                                      # the column the variants' ``ids`` are values of
    reference: dict[str, tuple[object, ...]]      # canonical column -> values per row
    variants: tuple[Variant, ...]


def _load(tmp_path: Path, variant: Variant) -> tuple[FileResult, pl.DataFrame, Lake]:
    """Ingest one fixture through the real path into a lake of its own; its clean rows."""
    folder = tmp_path / str(variant) / "inbox" / variant.source / RUN.isoformat()
    folder.mkdir(parents=True)
    path = folder / Path(variant.file).name
    path.write_bytes((FIXTURES / variant.file).read_bytes())
    lake = Lake(tmp_path / str(variant) / "lake")
    (result,) = ingest_files(lake, [InboxFile(variant.source, path, RUN)])
    assert result.rows_read == result.rows_loaded + result.rows_quarantined + result.rows_duplicate
    return result, lake.clean(result.entity, RUN).collect(), lake


@pytest.fixture(scope="module")
def load(tmp_path_factory):
    """``_load`` once per fixture file for the whole module (each ingest runs GX: about a second)."""
    cache: dict[str, tuple[FileResult, pl.DataFrame, Lake]] = {}

    def get(variant: Variant) -> tuple[FileResult, pl.DataFrame, Lake]:
        if variant.file not in cache:
            cache[variant.file] = _load(tmp_path_factory.mktemp("same_day"), variant)
        return cache[variant.file]
    return get


def _rows(group: Group, variant: Variant, clean: pl.DataFrame) -> pl.DataFrame:
    """The clean rows of the reference rows, in reference order, canonical columns only."""
    order = pl.DataFrame({group.key: list(variant.ids), "_row": list(range(len(variant.ids)))},
                         schema={group.key: ENTITIES[group.entity][group.key], "_row": pl.Int64})
    rows = clean.join(order, on=group.key, how="inner").sort("_row")
    assert rows[group.key].to_list() == list(variant.ids)
    return rows.select(list(ENTITIES[group.entity]))


def _expected(group: Group, variant: Variant) -> pl.DataFrame:
    columns = {**group.reference, group.key: variant.ids,
               **{column: values for column, (values, _) in variant.differs.items()}}
    schema = ENTITIES[group.entity]
    assert set(columns) == set(schema), set(schema) ^ set(columns)
    return pl.DataFrame({c: list(columns[c]) for c in schema}, schema=schema)


# ---------------------------------------------------------------------------------------------
# orders: Shopify, Stripe (old and new headers), the Finnish ERP list (cp1252, UTF-8 BOM, with
# times) and the generic order CSV (',' and '.', and as a Finnish Excel saves it).

ERP_IDS = ("001001", "001002", "001003", "001004", "001005")   # leading zeros are the ERP's own
STRIPE_IDS = ("ch_3SdAy2eZvKYlo2C0a1001", "ch_3SdAy2eZvKYlo2C0a1002", "ch_3SdAy2eZvKYlo2C0a1003",
              "ch_3SdAy2eZvKYlo2C0a1004", "ch_3SdAy2eZvKYlo2C0a1005")
STRIPE_FAILED = "ch_3SdAy2eZvKYlo2C0a0999"     # Pekka's first card was declined a minute before the paid charge
ORDERS_AT = (utc(2026, 11, 1, 22, 15), utc(2026, 11, 2, 8, 30), utc(2026, 11, 2, 12, 5), utc(2026, 11, 2, 14, 40),
             utc(2026, 11, 2, 21, 50))      # 00:15, 10:30, 14:05, 16:40 and 23:50 in Helsinki (+02:00)
ORDERS = {
    "order_id": ERP_IDS,
    "source_system": each("erp", 5),
    "customer_id": tuple(p[1] for p in (ASA, PEKKA, LIISA, MIKKO, ANNA)),
    "email_sha256": tuple(p[0] for p in (ASA, PEKKA, LIISA, MIKKO, ANNA)),
    "ordered_at": ORDERS_AT,
    "order_date": each(DAY, 5),     # Helsinki's day, also for the order at 00:15 (still 1 November in UTC)
    "currency_code": each("EUR", 5),
    "gross": dec("1234.50", "450.00", "2500.00", "89.90", "12000.00"),
    "discounts": dec("0", "45.00", "0", "0", "0"),
    "refunds": dec("0", "0", "500.00", "89.90", "0"),
    "net_revenue": dec("1234.50", "405.00", "2000.00", "0", "12000.00"),
    "status": ("paid", "paid", "partially_refunded", "refunded", "paid"),
    "product_category": ("watches", "jewellery", "travel", "käsityöt", "services"),   # an unmapped group, lower-cased
    "price_tier": ("mid", "entry", "premium", "entry", "luxury"),
}
DAY_NET_REVENUE = Decimal("15639.50")   # 1234.50 + 405 + 2000 + 0 + 12000, whichever system exported the day

STRIPE_DIFFERS: dict[str, tuple[tuple[object, ...], str]] = {
    "source_system": (each("stripe", 5), "Stripe's charges are its own records (business key)"),
    # DECISIONLOG "day boundaries": Stripe days are UTC days; the export has no local-time column.
    "order_date": ((date(2026, 11, 1), DAY, DAY, DAY, DAY), "the 00:15 Helsinki charge is on 1 November in UTC"),
    # Amount is what the card was charged: a coupon already lowered it and there is no discount column.
    "gross": (dec("1234.50", "405.00", "2500.00", "89.90", "12000.00"), "Amount is after the coupon"),
    "discounts": (dec("0", "0", "0", "0", "0"), "a charge carries no discount"),
}
# The ERP's Tilauspäivä is a date: the order's instant is midnight in Helsinki (documented in erp.py).
ERP_MIDNIGHT = {"ordered_at": (each(utc(2026, 11, 1, 22, 0), 5), "Tilauspäivä has no time of day")}

ORDER_GROUP = Group("order", "order_id", ORDERS, (
    Variant("orders/generic_orders.csv", "generic_orders", "utf-8", ERP_IDS),
    Variant("orders/generic_orders_fi.csv", "generic_orders", "utf-8-sig", ERP_IDS),
    Variant("orders/erp_myyntitilaukset_cp1252.csv", "erp_fi", "cp1252", ERP_IDS, ERP_MIDNIGHT,
            warnings=("encoding: not UTF-8; read as Windows-1252",)),
    Variant("orders/erp_myyntitilaukset_utf8bom.csv", "erp_fi", "utf-8-sig", ERP_IDS, ERP_MIDNIGHT),
    Variant("orders/erp_myyntitilaukset_kellonaika.csv", "erp_fi", "utf-8-sig", ERP_IDS),
    # Shopify's order number is its Name as written, '#' included (documented in shopify.py): no
    # canonicalisation to the ERP's 001001, and the business key's system differs anyway.
    Variant("orders/shopify_orders_export_1.csv", "shopify_orders", "utf-8", ("#1001", "#1002", "#1003", "#1004", "#1005"),
            {"source_system": (each("shopify", 5), "Shopify's orders are its own records (business key)")},
            warnings=("folded: 7 lines read as 5 records",)),
    Variant("orders/stripe_unified_payments_new.csv", "stripe_payments", "utf-8", STRIPE_IDS, STRIPE_DIFFERS,
            extra_ids=(STRIPE_FAILED,), quarantined=1),
    Variant("orders/stripe_unified_payments_old.csv", "stripe_payments", "utf-8", STRIPE_IDS, STRIPE_DIFFERS,
            extra_ids=(STRIPE_FAILED,), quarantined=1),
))


# ---------------------------------------------------------------------------------------------
# contacts: HubSpot (CSV and UTF-16 tab), the generic CSV re-exporting HubSpot's records, and
# Salesforce leads and contacts reports (their own record ids, fewer columns, a footer).

HUBSPOT_CONTACT_IDS = ("70100001", "70100002", "70100003", "70100004")
CONTACTS = {
    "contact_id": HUBSPOT_CONTACT_IDS,
    "source_system": each("hubspot", 4),
    "customer_id": tuple(p[1] for p in (ASA, PEKKA, LIISA, MIKKO)),
    "email_sha256": tuple(p[0] for p in (ASA, PEKKA, LIISA, MIKKO)),   # ' PEKKA.KORHONEN@EXAMPLE.FI' trimmed, lower-cased
    # '040 123 4567' of a Finn, '+358 (0)50 765 4321', '070-123 45 67' of a Swede: E.164 with '+' (Google) ...
    "phone_sha256": (sha("+358401234567"), sha("+358507654321"), None, sha("+46701234567")),
    "created_at": (utc(2026, 11, 1, 22, 5), utc(2026, 11, 2, 7, 30), utc(2026, 11, 2, 10, 0), utc(2026, 11, 2, 13, 45)),
    "lifecycle_stage": ("lead", "mql", "sql", "opportunity"),
    "original_source": ("Paid Search", "Organic Search", "Email Marketing", "Referrals"),
    "birth_year": (1988, 1975, None, 1990),
    "gender": ("female", "male", None, "other"),
    "income_band": ("60-100k", "100-150k", None, "40-60k"),
    "education": ("Master", "Bachelor", None, "Vocational"),
    "city": ("Hämeenlinna", "Espoo", "Tampere", "Stockholm"),
    "postcode": ("13100", "02100", "33100", "111 20"),       # leading zero kept; a Swedish one with its space
    "country_code": ("FI", "FI", "FI", "SE"),
    "language": ("fi", "fi", "fi", "sv"),
    "values_orientation": ("quality", "innovation", None, "price"),
    "brand_loyalty": ("high", "medium", None, "low"),
    "purchase_motive": ("status", "performance", None, "value"),
    "lifestyle": ("Traveller", "Urban professional", None, "Family"),
    "satisfaction_score": (8.5, 7.0, None, 6.25),
    "company": (None, "Korhonen Consulting Oy", None, None),
    "industry": (None, "Management Consulting", None, None),
    "employees": (None, 1200, None, None),                   # '1,200'
    "revenue_band": (None, "1-10M", None, None),
    "consent_marketing": (True, False, True, False),
    "objected_marketing": (False, False, False, True),
    # ... and the same digits without '+' (Meta)
    "phone_sha256_meta": (sha("358401234567"), sha("358507654321"), None, sha("46701234567")),
}
# What a Salesforce lead or contact report does not hold (the adapter reads no such column):
SALESFORCE_CANNOT_CARRY = {
    column: (each(None, 4), "a Salesforce report has no such standard column")
    for column in ("birth_year", "gender", "income_band", "education", "language", "values_orientation",
                   "brand_loyalty", "purchase_motive", "lifestyle", "satisfaction_score", "consent_marketing")
} | {"revenue_band": (each(None, 4), "Salesforce's Annual Revenue is an amount, not a band; not read"),
     "source_system": (each("salesforce", 4), "Salesforce's records (business key)")}
CONTACT_GROUP = Group("contact", "contact_id", CONTACTS, (
    Variant("crm_contacts/hubspot_contacts.csv", "hubspot_contacts", "utf-8", HUBSPOT_CONTACT_IDS),
    Variant("crm_contacts/hubspot_contacts_utf16.tsv", "hubspot_contacts", "utf-16-le", HUBSPOT_CONTACT_IDS),
    # The documented generic CSV with source_system=hubspot: the same business keys as HubSpot's own export.
    Variant("crm_contacts/generic_contacts.csv", "generic_contacts", "utf-8", HUBSPOT_CONTACT_IDS),
    Variant("crm_contacts/salesforce_leads.csv", "salesforce_contacts", "utf-8",
            ("00Q5g00000SdA001", "00Q5g00000SdA002", "00Q5g00000SdA003", "00Q5g00000SdA004"),
            SALESFORCE_CANNOT_CARRY),
    Variant("crm_contacts/salesforce_contacts.csv", "salesforce_contacts", "utf-8-sig",
            ("0035g00000SdA001", "0035g00000SdA002", "0035g00000SdA003", "0035g00000SdA004"),
            SALESFORCE_CANNOT_CARRY | {
                "lifecycle_stage": (each(None, 4), "a contacts report has no Lead Status"),
                "industry": (each(None, 4), "Industry and Employees are the account's, not in a contacts report"),
                "employees": (each(None, 4), "as industry"),
            }),
))


# ---------------------------------------------------------------------------------------------
# deals: HubSpot, the generic CSV re-exporting HubSpot's deals, Salesforce opportunities (amount
# with its currency in the cell, or an Opportunity Currency column).

HUBSPOT_DEAL_IDS = ("9001001", "9001002", "9001003")
SALESFORCE_DEAL_IDS = ("0065g00000SdA001", "0065g00000SdA002", "0065g00000SdA003")
DEALS = {
    "deal_id": HUBSPOT_DEAL_IDS,
    "source_system": each("hubspot", 3),
    "customer_id": (ASA[1], PEKKA[1], None),          # the associated contact's email; none on the third
    "company": (None, "Korhonen Consulting Oy", "Mäkelä Oy"),
    "deal_name": ("Åsa Mäkelä – Anniversary watch", "Korhonen Consulting – Team gifts, Q4", "Mäkelä Oy – Incentive travel"),
    "pipeline": each("default", 3),
    "stage": ("closed_won", "presentation", "closed_lost"),
    "is_closed": (True, False, True),
    "is_won": (True, False, False),
    "amount": dec("1234.50", "12000.00", "25000.00"),
    "currency_code": ("EUR", "EUR", "SEK"),
    # created 00:10 Helsinki (22:10 UTC the day before): the local date; closed 23:30 local, still 2 November
    "created_date": (date(2026, 10, 20), DAY, date(2026, 9, 1)),
    "close_date": (DAY, date(2026, 12, 15), DAY),
    "owner": ("Maria Saarinen", "Jussi Lehtonen", "Anna Berg"),
}
SALESFORCE_DEAL = {"source_system": (each("salesforce", 3), "Salesforce's records (business key)")}
DEAL_GROUP = Group("deal", "deal_id", DEALS, (
    Variant("crm_deals/hubspot_deals.csv", "hubspot_deals", "utf-8", HUBSPOT_DEAL_IDS),
    Variant("crm_deals/generic_deals.csv", "generic_deals", "utf-8", HUBSPOT_DEAL_IDS),
    Variant("crm_deals/salesforce_opportunities.csv", "salesforce_opportunities", "utf-8-sig", SALESFORCE_DEAL_IDS,
            SALESFORCE_DEAL),
    Variant("crm_deals/salesforce_opportunities_currency_column.csv", "salesforce_opportunities", "utf-8",
            SALESFORCE_DEAL_IDS, SALESFORCE_DEAL),
))


# ---------------------------------------------------------------------------------------------
# ad_daily: one group per platform (its variants must agree in every column); across platforms the
# same three campaigns' day, name, currency, spend, impressions and clicks must agree.

CAMPAIGNS = ("Haku – Brändi", "Kellot, korut – Syksy", "Pohjoismaat – Näkyvyys")
SPEND = dec("1234.50", "87.25", "3.10")
IMPRESSIONS = (12345, 2040, 150)
CLICKS = (321, 58, 0)


def ad_rows(platform: str, account: str, timezone: str, conversions: Sequence[str | None],
            value: Sequence[str | None]) -> dict[str, tuple[object, ...]]:
    return {
        "platform": each(platform, 3), "account_id": each(account, 3), "account_timezone": each(timezone, 3),
        "day": each(DAY, 3), "campaign_id": ("", "", ""), "campaign_name": CAMPAIGNS, "currency_code": each("EUR", 3),
        "spend": SPEND, "impressions": IMPRESSIONS, "clicks": CLICKS,
        "platform_conversions": dec(*conversions), "platform_conversion_value": dec(*value),
    }


GOOGLE_IDS = ("20456789012", "20456789013", "20456789020")
META_IDS = ("120208765432100001", "120208765432100002", "120208765432100003")
AD_GROUPS = (
    # '--' in Cost / conv. and fractional conversions; the Finnish UI writes '1 234,50' and '4,33'.
    Group("ad_daily", "campaign_id",
          ad_rows("google_ads", "123-456-7890", "Europe/Helsinki", ("4.33", "0.33", "0"), ("8450", "129.90", "0")), (
              Variant("google_ads/campaign_report_en.csv", "google_ads_ui_en", "utf-8", GOOGLE_IDS),
              Variant("google_ads/campaign_report_en_excel.csv", "google_ads_ui_en", "utf-16-le", GOOGLE_IDS),
              Variant("google_ads/kampanjaraportti_fi.csv", "google_ads_ui_fi", "utf-8", GOOGLE_IDS),
              Variant("google_ads/kampanjaraportti_fi_excel.csv", "google_ads_ui_fi", "utf-16-le", GOOGLE_IDS),
          )),
    # Purchases (a '—' or '-' is NULL, never 0); the Finnish UI headers with plain numbers.
    Group("ad_daily", "campaign_id",
          ad_rows("meta_ads", "1029384756", "Europe/Helsinki", ("4", "1", None), ("8450", "129.90", None)), (
              Variant("meta_ads/ads_manager_en.csv", "meta_ads_manager_en", "utf-8-sig", META_IDS),
              Variant("meta_ads/ads_manager_fi.csv", "meta_ads_manager_localised", "utf-8-sig", META_IDS),
              # "Breakdown: By time > Day" of the week: the Day column is the row's day, not Reporting starts.
              Variant("meta_ads/ads_manager_day_breakdown.csv", "meta_ads_manager_en", "utf-8-sig", META_IDS),
          )),
    # The account id from the 'Account: Kohde Demo Oy (508123456)' line or an Account ID column; UTC days.
    Group("ad_daily", "campaign_id",
          ad_rows("linkedin_ads", "508123456", "UTC", ("4", "0.5", "0"), ("8450", "129.90", "0")), (
              Variant("linkedin_ads/campaign_performance.csv", "linkedin_campaign_manager", "utf-8",
                      ("612345678", "612345679", "612345680")),
              Variant("linkedin_ads/campaign_performance_account_column.csv", "linkedin_campaign_manager", "utf-8",
                      ("612345678", "612345679", "612345680")),
          )),
    # click-through + view-through conversions (3 + 1, none + 1, neither = NULL); a Total row below.
    Group("ad_daily", "campaign_id",
          ad_rows("adroll", "Kohde Demo", "Europe/Helsinki", ("4", "1", None), ("8450", "129.90", None)), (
              Variant("adroll/campaign_report.csv", "adroll_campaigns", "utf-8", ("RTG7H2K9Q1", "RTG0A1B2C3", "RTG9Z8Y7X6")),
          )),
)
PLATFORM_INDEPENDENT = ("day", "campaign_name", "currency_code", "spend", "impressions", "clicks")


# ---------------------------------------------------------------------------------------------
# touchpoints: the marketing events file (',' and as a Finnish Excel saves it again: ';' and its
# timestamps rewritten '2.11.2026 8.00') and the HubSpot-like events export, which has no event ids
# and no campaign ids.

EVENT_IDS = ("ev_0001001", "ev_0001002", "ev_0001003", "ev_0001004")
TOUCH_TS = (utc(2026, 11, 1, 22, 10), utc(2026, 11, 2, 8, 0), utc(2026, 11, 2, 9, 15), utc(2026, 11, 2, 12, 0))
TOUCH_CAMPAIGNS = ("20456789012", None, None, "120208765432100001")
TOUCHPOINTS = {
    "touchpoint_id": EVENT_IDS,
    "customer_id": (ASA[1], ASA[1], PEKKA[1], LIISA[1]),
    "email_sha256": (ASA[0], ASA[0], PEKKA[0], LIISA[0]),
    "ts": TOUCH_TS,
    "channel": ("paid_search", "email", "organic_search", "paid_social"),
    "platform": ("google_ads", "hubspot", "website", "meta_ads"),
    "campaign_id": TOUCH_CAMPAIGNS,
    "touch_type": ("click", "email_open", "visit", "click"),
    "utm_source": ("google", "newsletter", "google", "facebook"),
    "utm_medium": ("cpc", "email", "organic", "paid_social"),
    "utm_campaign": ("brand", "newsletter_2026_11", None, "lookalike"),
}
# Without an Event ID the id is the documented digest of (email hash, ts, channel, campaign, type); the
# HubSpot export has no campaign id, so its digest uses the UTM campaign.
HUBSPOT_TOUCH_IDS = tuple(touchpoint_digest(f"{h}|{ts.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}|{ch}|{camp}|{kind}") for
                          h, ts, ch, camp, kind in zip(TOUCHPOINTS["email_sha256"], TOUCH_TS, TOUCHPOINTS["channel"],
                                                       ("brand", "newsletter_2026_11", "", "lookalike"),
                                                       TOUCHPOINTS["touch_type"], strict=True))
TOUCH_GROUP = Group("touchpoint", "touchpoint_id", TOUCHPOINTS, (
    Variant("crm_touchpoints/marketing_events.csv", "marketing_events", "utf-8", EVENT_IDS),
    Variant("crm_touchpoints/marketing_events_fi.csv", "marketing_events", "utf-8", EVENT_IDS),
    Variant("crm_touchpoints/hubspot_events.csv", "hubspot_events", "utf-8", HUBSPOT_TOUCH_IDS, {
        "campaign_id": (each(None, 4), "the export has no campaign id column"),
    }),
))


# ---------------------------------------------------------------------------------------------
# plan sheets, English (',' and '.') and Finnish (';' and ',', cp1252 or UTF-8 with BOM) headers.

NOVEMBER = date(2026, 11, 1)
PLAN_GROUPS = (
    Group("goal", "goal_id", {
        "goal_id": ("G1", "G2", "G3"),
        "description": ("Liikevaihto marraskuussa", "Myynnin kasvu 15,5 %", "Uusia asiakkaita hakumainonnasta"),
        "metric": ("revenue", "sales_growth", "new_customers"),
        "target_value": (120000.5, 15.5, 500.0),                 # '120 000,50', '15,5 %'
        "target_kind": ("absolute", "pct_vs_baseline", None),
        "period_start": (NOVEMBER, date(2026, 12, 1), NOVEMBER),
        "period_end": (date(2026, 11, 30), date(2027, 1, 31), date(2027, 1, 31)),
        "baseline_start": (None, date(2026, 10, 1), None),
        "baseline_end": (None, date(2026, 11, 30), None),
        "owner": ("Åsa Mäkelä", "Myyntijohtaja", "Markkinointijohtaja"),
        "channel": (None, None, "paid_search"),                  # 'Google Ads' and 'paid_search'
        "segment": (None, None, "b2c"),
    }, (
        Variant("plan/goals.csv", "plan_goals", "utf-8", ("G1", "G2", "G3")),
        Variant("plan/tavoitteet_fi.csv", "plan_goals", "cp1252", ("G1", "G2", "G3"),
                warnings=("encoding: not UTF-8; read as Windows-1252",)),
    )),
    Group("budget", "channel", {
        "month": each(NOVEMBER, 3),                              # '2026-11', '11.2026', '1.11.2026'
        "channel": ("paid_search", "paid_social", "linkedin"),   # 'Google Ads', 'Meta', 'LinkedIn'
        "currency_code": each("EUR", 3),                         # an empty currency is EUR
        "amount": dec("12000.50", "8500", "1234.50"),            # '12 000,50', '1 234,5' with U+202F
    }, (
        Variant("plan/budgets.csv", "plan_budgets", "utf-8", ("paid_search", "paid_social", "linkedin")),
        Variant("plan/budjetit_fi.csv", "plan_budgets", "utf-8-sig", ("paid_search", "paid_social", "linkedin")),
    )),
    Group("sales_cost", "category", {
        "month": each(NOVEMBER, 2),
        "kind": ("fixed", "variable"),                           # 'kiinteä', 'Muuttuva'
        "category": ("palkat", "provisiot"),
        "currency_code": each("EUR", 2),
        "amount": dec("28200", "1234.50"),
    }, (
        Variant("plan/sales_costs.csv", "plan_sales_costs", "utf-8", ("palkat", "provisiot")),
        Variant("plan/myyntikulut_fi.csv", "plan_sales_costs", "cp1252", ("palkat", "provisiot"),
                warnings=("encoding: not UTF-8; read as Windows-1252",)),
    )),
    Group("fx_rate", "currency_code", {
        "valid_from": each(DAY, 2),
        "currency_code": ("SEK", "USD"),
        "eur_per_unit": (Decimal("0.08712345"), Decimal("0.92150000")),
    }, (
        Variant("plan/fx_rates.csv", "plan_fx_rates", "utf-8", ("SEK", "USD")),
        Variant("plan/valuuttakurssit_fi.csv", "plan_fx_rates", "utf-8", ("SEK", "USD")),
    )),
)

GROUPS = (ORDER_GROUP, CONTACT_GROUP, DEAL_GROUP, *AD_GROUPS, TOUCH_GROUP, *PLAN_GROUPS)
CASES = [(g, v) for g in GROUPS for v in g.variants]


@pytest.mark.parametrize(("group", "variant"), CASES, ids=[str(v) for _, v in CASES])
def test_each_format_loads_the_expected_canonical_rows(load, group, variant):
    result, clean, _ = load(variant)
    assert (result.source_format, result.entity, result.encoding) == (variant.source_format, group.entity,
                                                                       variant.encoding)
    rows = len(variant.ids) + len(variant.extra_ids)
    assert (result.rows_loaded, result.rows_quarantined, result.rows_duplicate) == (rows, variant.quarantined, 0)
    assert sorted(clean[group.key].to_list()) == sorted([*variant.ids, *variant.extra_ids])
    assert result.warnings == list(variant.warnings)
    assert_frame_equal(_rows(group, variant, clean), _expected(group, variant))


PAIRS = [(g, a, b) for g in GROUPS for a, b in itertools.combinations(g.variants, 2)]


@pytest.mark.parametrize(("group", "first", "second"), PAIRS, ids=[f"{a}-{b}" for _, a, b in PAIRS])
def test_formats_agree(load, group, first, second):
    """Two exports of the day load equal values in every column neither lists as differing."""
    rows = [_rows(group, v, load(v)[1]) for v in (first, second)]
    same_ids = first.ids == second.ids
    shared = [c for c in ENTITIES[group.entity] if c not in first.differs and c not in second.differs
              and (same_ids or c != group.key)]
    assert (group.key in shared) == same_ids and len(shared) >= 3
    assert_frame_equal(rows[0].select(shared), rows[1].select(shared))


def test_ad_platforms_agree_on_the_platform_independent_columns(load):
    frames = [_rows(g, g.variants[0], load(g.variants[0])[1]).select(PLATFORM_INDEPENDENT)
              for g in AD_GROUPS]
    for frame in frames[1:]:
        assert_frame_equal(frame, frames[0])
    assert frames[0]["spend"].sum() == Decimal("1324.85")     # Google's own 'Total: Account' row says the same


@pytest.mark.parametrize("variant", ORDER_GROUP.variants, ids=[str(v) for v in ORDER_GROUP.variants])
def test_the_days_revenue_is_the_same_whichever_system_exported_it(load, variant):
    _, clean, _ = load(variant)
    revenue = clean.filter(pl.col("status").is_in(list(REVENUE_STATUSES)))
    assert revenue["net_revenue"].sum() == DAY_NET_REVENUE
    assert revenue.height == 5


@pytest.mark.parametrize("name", ["stripe_unified_payments_new.csv", "stripe_unified_payments_old.csv"])
def test_stripe_failed_and_test_mode_charges_are_not_sales(load, name):
    variant = next(v for v in ORDER_GROUP.variants if str(v) == name)
    _, clean, lake = load(variant)
    # The declined charge loads (it happened) as 'failed', which no revenue measure counts.
    failed = clean.filter(pl.col("order_id") == STRIPE_FAILED).select("status", "gross", "customer_id").row(0)
    assert failed == ("failed", Decimal("405.0000"), PEKKA[1])
    assert "failed" not in REVENUE_STATUSES
    # The test-mode charge glued under the live ones is quarantined with its reason, never loaded.
    quarantine = lake.quarantine(on=RUN)
    assert quarantine.select("row_number", "check_name", "column_name", "reason").rows() == [
        (7, "test_mode", "mode", "test_mode:mode: Stripe test-mode row in a live export")]   # 7th data row
    assert "ch_3SdAy2eZvKYlo2C0t0001" not in clean["order_id"].to_list()
