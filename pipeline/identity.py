"""Pseudonymous customer ids and hashed identifiers, with the ad platforms' normalisation rules."""

from __future__ import annotations

import hashlib

import polars as pl

CUSTOMER_ID_PREFIX = "c_"


def normalise_email(email: str) -> str:
    """Trim and lower-case (Google Customer Match and Meta custom audiences agree on this)."""
    return email.strip().lower()


def email_sha256(email: str | None) -> str | None:
    """SHA-256 hex of the normalised email, or None for an empty or obviously invalid address."""
    if email is None:
        return None
    value = normalise_email(email)
    if "@" not in value or value.startswith("@") or value.endswith("@"):
        return None
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def email_sha256_expr(column: str) -> pl.Expr:
    """Vectorised email_sha256 over a text column (NULL when not an address)."""
    normalised = pl.col(column).str.strip_chars().str.to_lowercase()
    valid = normalised.str.contains(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    hashed = normalised.map_elements(
        lambda v: hashlib.sha256(v.encode("utf-8")).hexdigest(), return_dtype=pl.Utf8
    )
    return pl.when(valid).then(hashed).otherwise(None)


def customer_id_from_email_hash(email_hash: str) -> str:
    """The pseudonymous customer id for a person known by email: stable across every source."""
    return CUSTOMER_ID_PREFIX + email_hash[:16]


def customer_id_expr(email_hash_column: str, fallback_key: pl.Expr | None = None) -> pl.Expr:
    """customer_id from an email hash column; rows with no email use sha256 of the fallback key."""
    from_email = pl.lit(CUSTOMER_ID_PREFIX) + pl.col(email_hash_column).str.slice(0, 16)
    if fallback_key is None:
        return from_email
    from_key = pl.lit(CUSTOMER_ID_PREFIX) + fallback_key.map_elements(
        lambda v: hashlib.sha256(("key:" + v).encode("utf-8")).hexdigest()[:16], return_dtype=pl.Utf8
    )
    return pl.when(pl.col(email_hash_column).is_not_null()).then(from_email).otherwise(from_key)
