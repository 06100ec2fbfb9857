"""The suppression list: kohde suppress and inbox/plan/suppression*.csv, stored and compared as hashes only."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from pipeline.errors import ConfigError, InputFileError
from pipeline.lake import Lake
from pipeline.privacy import read_suppression_file, suppress, suppressed_hashes


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_suppress_stores_only_the_hash(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    suppress(lake, "  Anna.Virtanen@Example.FI ")
    suppress(lake, "anna.virtanen@example.fi")  # the same person twice: one entry
    got = suppressed_hashes(lake, tmp_path / "inbox")
    assert got["email_sha256"].to_list() == [sha("anna.virtanen@example.fi")]
    for path in (tmp_path / "lake").rglob("*"):
        if path.is_file():
            assert b"anna" not in path.read_bytes().lower()


def test_suppress_rejects_a_non_address_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        suppress(Lake(tmp_path / "lake"), "not-an-address")
    assert "not-an-address" not in str(info.value)


def test_inbox_suppression_files(tmp_path: Path) -> None:
    plan = tmp_path / "inbox" / "plan"
    plan.mkdir(parents=True)
    (plan / "suppression.csv").write_bytes("\ufeffEmail;Reason\n  BO@Example.se ;asked\n\n".encode())
    (plan / "suppression_hashed.csv").write_text(f"email_sha256\n{sha('x@example.fi').upper()}\n")
    got = suppressed_hashes(Lake(tmp_path / "lake"), tmp_path / "inbox")
    assert got["email_sha256"].to_list() == sorted([sha("bo@example.se"), sha("x@example.fi")])
    assert isinstance(got, pl.DataFrame)


def test_suppression_file_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "suppression.csv"
    bad.write_text("name\nAnna\n")
    with pytest.raises(InputFileError, match="needs an 'email' or 'email_sha256' column"):
        read_suppression_file(bad)
    bad.write_text("email\nanna at example\n")
    with pytest.raises(InputFileError, match="line 2: not an email address") as info:
        read_suppression_file(bad)
    assert "anna" not in str(info.value)
