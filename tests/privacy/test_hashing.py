"""Golden hashes: the exact SHA-256 each platform matches on, for the edge cases that fail silently.

Every expected digest is hashlib over a normalised string written out by hand here, never the code
under test, so a wrong normalisation (a kept space, a dropped +, a kept trunk 0) fails the test.
Google: E.164 with '+'; Meta: the same digits without '+'; email: trimmed and lower-cased, +tags kept.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipeline.identity import email_sha256, email_sha256_expr
from pipeline.ingest.read import read_table
from pipeline.sources import formats_for
from pipeline.sources.base import ParseContext, parse_table, phone_sha256_expr


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


FI_GOOGLE = sha("+358401234567")
FI_META = sha("358401234567")

EMAILS = [
    ("Matti.Meikalainen@Example.FI", "matti.meikalainen@example.fi"),
    ("  matti.meikalainen@example.fi \t", "matti.meikalainen@example.fi"),
    ("MATTI+News@Example.fi", "matti+news@example.fi"),  # +tags are kept: neither platform strips them
    (" Matti.Meikäläinen@Example.FI ", "matti.meikäläinen@example.fi"),  # UTF-8, lower-cased, not transliterated
]
PHONES = ["040 123 4567", "+358 (0)40 123 4567", "+358 (0)40-123 4567", "00358 40 1234567", "00358401234567",
          "0401234567", "+358401234567", " 040-123 4567 "]


@pytest.mark.parametrize(("given", "normalised"), EMAILS)
def test_email_hash_is_sha256_of_trimmed_lowercase_address(given: str, normalised: str) -> None:
    assert email_sha256(given) == sha(normalised)
    frame = pl.DataFrame({"email": [given]}).select(email_sha256_expr("email"))
    assert frame.item() == sha(normalised)


def test_known_digest_of_a_plain_address() -> None:
    # a published value: sha256("test@example.com"), so the helper itself is checked too
    assert sha("test@example.com") == "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"


@pytest.mark.parametrize("given", PHONES)
def test_finnish_phone_hashes_for_google_and_meta(given: str) -> None:
    frame = pl.DataFrame({"phone": [given]}).select(
        phone_sha256_expr(pl.col("phone")).alias("google"),
        phone_sha256_expr(pl.col("phone"), platform="meta").alias("meta"),
    )
    assert frame.row(0) == (FI_GOOGLE, FI_META)
    assert FI_GOOGLE != FI_META


def test_invalid_phone_has_no_hash() -> None:
    frame = pl.DataFrame({"phone": ["12", "not a number"]}).select(phone_sha256_expr(pl.col("phone")))
    assert frame.to_series().to_list() == [None, None]


def test_contacts_carry_both_phone_hashes_from_ingest(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(
        "contact_id,email,phone,country_code,created_at\n"
        '1, Matti+News@Example.FI ,040 123 4567,FI,2026-08-01T10:00:00Z\n'
        "2,b@example.se,070-123 45 67,SE,2026-08-01T10:00:00Z\n"
        '3,c@example.fi,+358 (0)40 123 4567,,2026-08-01T10:00:00Z\n'
        "4,d@example.fi,00358 40 1234567,,2026-08-01T10:00:00Z\n",
        encoding="utf-8",
    )
    formats = formats_for("crm_contacts")
    table = read_table(path, formats)
    fmt = next(f for f in formats if f.name == table.format_name)
    parsed = parse_table(table, fmt, ParseContext("crm_contacts", date(2026, 8, 2), "contacts.csv", "0" * 64))
    assert parsed["email_sha256"][0] == sha("matti+news@example.fi")
    assert parsed["phone_sha256"].to_list() == [FI_GOOGLE, sha("+46701234567"), FI_GOOGLE, FI_GOOGLE]
    assert parsed["phone_sha256_meta"].to_list() == [FI_META, sha("46701234567"), FI_META, FI_META]
