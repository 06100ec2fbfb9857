"""The lake reads files written before a column was added to their entity (the new column is NULL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from pipeline.entities import CONTACT, LINEAGE
from pipeline.lake import Lake
from pipeline.silver import current


def _contact(contact_id: str, extract_date: date, sha: str) -> dict[str, object]:
    row: dict[str, object] = {name: None for name in {**CONTACT, **LINEAGE}}
    row.update(contact_id=contact_id, source_system="hubspot", customer_id=f"c_{contact_id:0>16}",
               created_at=datetime(2026, 1, 1, tzinfo=UTC), phone_sha256_meta="meta-hash", source="crm_contacts",
               source_format="hubspot_contacts", extract_date=extract_date, file_sha256=sha, row_number=2)
    return row


def test_old_and_new_clean_files_read_together(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    schema = {**CONTACT, **LINEAGE}
    old = pl.DataFrame([_contact("1", date(2026, 1, 1), "a" * 64)], schema=schema).drop("phone_sha256_meta")
    new = pl.DataFrame([_contact("2", date(2026, 1, 2), "b" * 64)], schema=schema)
    lake.write(lake.clean_path("contact", date(2026, 1, 1), "a" * 64), old)
    lake.write(lake.clean_path("contact", date(2026, 1, 2), "b" * 64), new)
    got = current(lake.clean("contact", date(2026, 1, 2)), "contact", date(2026, 1, 2)).collect()
    assert got.select("contact_id", "phone_sha256_meta").rows() == [("1", None), ("2", "meta-hash")]
