"""Finding an erased person's rows: raw text rows by email hash, typed rows by customer id or hash."""

from __future__ import annotations

import hashlib

import polars as pl

from pipeline.privacy import drop_forgotten, forgotten_mask, raw_rows_with_email


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_raw_rows_found_by_any_address_in_any_cell_even_beside_empty_columns() -> None:
    raw = pl.DataFrame({
        "Name": ["#1001", "#1002", "#1003", "#1004"],
        "Email": [" Aino.V@Example.FI ", "bo@example.se", None, None],
        "Associated Contact": [None, None, "Aino V (aino.v@example.fi); bo@example.se", "x"],
        "Notes": [None, None, None, None],  # an all-empty column must not hide the others
    }, schema={"Name": pl.Utf8, "Email": pl.Utf8, "Associated Contact": pl.Utf8, "Notes": pl.Utf8})
    assert raw_rows_with_email(raw, [sha("aino.v@example.fi")]).to_list() == [True, False, True, False]
    assert raw_rows_with_email(raw, []).to_list() == [False] * 4


def test_drop_forgotten_drops_typed_and_raw_rows_together() -> None:
    typed = pl.DataFrame({"row_number": [1, 2, 3], "customer_id": ["c_a", "c_b", None],
                          "email_sha256": [None, None, sha("aino.v@example.fi")]})
    raw = pl.DataFrame({"row_number": [1, 2, 3], "Email": ["x@example.fi", "y@example.fi", "AINO.V@example.fi"]})
    erased = pl.DataFrame({"customer_id": ["c_a", "c_z"], "email_sha256": [None, sha("aino.v@example.fi")]})
    assert forgotten_mask(typed, ["c_a"], []).to_list() == [True, False, False]
    kept_typed, kept_raw, dropped = drop_forgotten(typed, raw, erased)
    assert dropped == 2
    assert kept_typed["row_number"].to_list() == [2] and kept_raw["row_number"].to_list() == [2]


def test_forget_by_customer_id_finds_the_email_hash_and_raw_rows(tmp_path) -> None:
    from datetime import date

    from pipeline.lake import Lake
    from pipeline.privacy import forget, tombstones
    from pipeline.settings import Settings

    settings = Settings.from_env({"KOHDE_HOME": str(tmp_path)})
    lake = Lake(settings.lake)
    digest, file_sha = sha("aino.v@example.fi"), "f" * 64
    cid = "c_" + digest[:16]
    day = date(2026, 8, 3)
    lake.write(lake.clean_path("contact", day, file_sha), pl.DataFrame({
        "customer_id": [cid, "c_00000000000000bb"], "email_sha256": [digest, None], "file_sha256": [file_sha] * 2,
        "row_number": [1, 2]}))
    raw_path = lake.root / "raw" / "crm_contacts" / f"extract_date={day}" / f"{file_sha}.parquet"
    lake.write(raw_path, pl.DataFrame({"row_number": [1, 2], "Email": ["Aino.V@example.fi", "bo@example.se"],
                                       "file_sha256": [file_sha] * 2}))
    landing = lake.root / "landing" / "crm_contacts" / f"extract_date={day}" / f"{file_sha}__contacts.csv"
    landing.parent.mkdir(parents=True)
    landing.write_text("Email\nAino.V@example.fi\nbo@example.se\n")

    counts = forget(settings, customer_id=cid)
    assert counts == {"clean_rows": 1, "raw_rows": 1, "quarantine_rows": 0, "landing_files": 1, "audience_rows": 0}
    assert pl.read_parquet(raw_path)["Email"].to_list() == ["bo@example.se"]
    assert not landing.exists()
    assert tombstones(lake).select("customer_id", "email_sha256").rows() == [(cid, digest)]
