from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import polars as pl
from polars.testing import assert_frame_equal

from pipeline.entities import MONEY, conform
from pipeline.transforms.customers import build_dim_customer
from tests.transforms.ddl import assert_matches_ddl

AS_OF = date(2026, 3, 31)


def contact(contact_id: str, source_system: str, customer_id: str | None, created: date, birth_year: int | None,
            city: str) -> dict:
    return {
        "contact_id": contact_id, "source_system": source_system, "customer_id": customer_id,
        "email_sha256": f"hash-{contact_id}", "phone_sha256": "phone", "created_at": datetime.combine(created, time(9),
                                                                                                    tzinfo=UTC),
        "lifecycle_stage": "customer", "original_source": "Paid Search", "birth_year": birth_year, "gender": "female",
        "city": city, "country_code": "FI", "satisfaction_score": 8.5, "employees": 12, "consent_marketing": True,
        "objected_marketing": False,
    }


def fct_order(order_id: str, customer_id: str, day: date, status: str, net_eur: str | None) -> dict:
    return {
        "order_id": order_id, "customer_id": customer_id, "order_date": day,
        "net_revenue_eur": None if net_eur is None else Decimal(net_eur),
        "is_revenue": status in ("paid", "partially_refunded", "refunded"), "price_tier": "standard",
    }


CONTACTS = [
    # cust-a has two contacts: the one created last (salesforce 0042) gives every contact field
    contact("c1", "hubspot", "cust-a", date(2025, 1, 1), 1980, "Helsinki"),
    contact("0042", "salesforce", "cust-a", date(2025, 6, 1), 1990, "Tampere"),
    contact("c2", "hubspot", "cust-b", date(2025, 2, 1), 2002, "Oulu"),  # 2026 - 2002 = 24 -> 18-24
    contact("c3", "hubspot", "cust-c", date(2025, 2, 1), 2010, "Turku"),  # 16 -> unknown
    contact("c4", "hubspot", "cust-d", date(2025, 2, 1), None, "Espoo"),  # no birth year, no orders
    contact("c5", "hubspot", "cust-f", date(2025, 2, 1), 1961, "Vantaa"),  # 65 -> 65+
    contact("c6", "hubspot", "cust-i", date(2025, 2, 1), 1962, "Lahti"),  # 64 -> 55-64
    contact("c7", "hubspot", None, date(2025, 2, 1), 1970, "Pori"),  # no customer id: not a customer
]
ORDERS = [
    fct_order("a1", "cust-a", date(2026, 3, 1), "paid", "100.00"),
    fct_order("a2", "cust-a", date(2026, 3, 10), "partially_refunded", "50.50"),
    fct_order("a3", "cust-a", date(2026, 2, 1), "failed", "999.00"),  # not revenue
    fct_order("a4", "cust-a", date(2026, 4, 2), "paid", "70.00"),  # after as_of
    fct_order("e1", "cust-e", date(2026, 2, 15), "paid", None),  # no EUR amount: revenue unknown
    fct_order("g1", "cust-g", date(2026, 4, 1), "paid", "10.00"),  # only after as_of: not yet a customer
    fct_order("h1", "cust-h", date(2026, 3, 5), "failed", "20.00"),  # known from a failed order only
]
SEGMENTS = pl.LazyFrame(
    {"customer_id": ["cust-a", "cust-b", "cust-zzz"], "rfm_segment": ["Champions", "New", "Lost"],
     "value_tier": ["top", "low", "none"]}
)


def build(segments: pl.LazyFrame | None = SEGMENTS) -> pl.DataFrame:
    contacts = conform(pl.DataFrame(CONTACTS), "contact").lazy()
    orders = pl.DataFrame(
        ORDERS,
        schema={"order_id": pl.Utf8, "customer_id": pl.Utf8, "order_date": pl.Date, "net_revenue_eur": MONEY,
                "is_revenue": pl.Boolean, "price_tier": pl.Utf8},
    ).lazy()
    return build_dim_customer(contacts, orders, segments, AS_OF).collect()


def test_customers_contacts_orders_segments() -> None:
    d = date
    expected = pl.DataFrame(
        {
            "customer_id": ["cust-a", "cust-b", "cust-c", "cust-d", "cust-e", "cust-f", "cust-h", "cust-i"],
            "contact_id": ["0042", "c2", "c3", "c4", None, "c5", None, "c6"],
            "source_system": ["salesforce", "hubspot", "hubspot", "hubspot", None, "hubspot", None, "hubspot"],
            "birth_year": [1990, 2002, 2010, None, None, 1961, None, 1962],
            # 2026 - 1990 = 36 -> 35-44
            "age_band": ["35-44", "18-24", "unknown", "unknown", "unknown", "65+", "unknown", "55-64"],
            "city": ["Tampere", "Oulu", "Turku", "Espoo", None, "Vantaa", None, "Lahti"],
            "first_order_date": [d(2026, 3, 1), None, None, None, d(2026, 2, 15), None, None, None],
            "last_order_date": [d(2026, 3, 10), None, None, None, d(2026, 2, 15), None, None, None],
            "orders": [2, 0, 0, 0, 1, 0, 0, 0],
            # cust-a: 100.00 + 50.50 = 150.50 (the failed and the April orders do not count)
            "net_revenue_eur": [Decimal("150.50"), *[Decimal(0)] * 3, None, *[Decimal(0)] * 3],
            "rfm_segment": ["Champions", "New", None, None, None, None, None, None],
            "value_tier": ["top", "low", None, None, None, None, None, None],
        },
        schema={"customer_id": pl.Utf8, "contact_id": pl.Utf8, "source_system": pl.Utf8, "birth_year": pl.Int32,
                "age_band": pl.Utf8, "city": pl.Utf8, "first_order_date": pl.Date, "last_order_date": pl.Date,
                "orders": pl.Int64, "net_revenue_eur": MONEY, "rfm_segment": pl.Utf8, "value_tier": pl.Utf8},
    )
    # a warehouse table has no row order: compared in customer order
    assert_frame_equal(build().select(expected.columns).sort("customer_id"), expected)


def test_without_segments_they_are_null() -> None:
    got = build(None)
    assert got["rfm_segment"].null_count() == got.height == 8
    assert got["value_tier"].null_count() == got.height


def test_key_unique_not_null_and_ddl() -> None:
    got = build()
    assert got["customer_id"].null_count() == 0
    assert got["customer_id"].is_unique().all()
    assert_matches_ddl(got, "dim_customer")
