"""End to end on a small demo: audiences honour consent, objection and suppression; forget erases a person everywhere."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from pipeline.audiences import AUDIENCES, export_audiences
from pipeline.demo import generate_demo
from pipeline.ingest.read import read_table
from pipeline.lake import Lake
from pipeline.privacy import forget, suppress
from pipeline.run import ingest_range, run_range
from pipeline.settings import Settings
from pipeline.silver import current
from pipeline.sources import formats_for
from pipeline.warehouse import Warehouse
from pipeline.warehouse.schema import quote, tables

START = date(2026, 8, 3)
DAYS = 14
END = START + timedelta(days=DAYS - 1)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Contact:
    email: str
    path: Path
    header: list[str]
    row: list[str]


def demo_contacts(inbox: Path) -> dict[str, Contact]:
    """email hash -> the person's newest contact row in the demo's CRM exports (as the test's ground truth)."""
    found: dict[str, Contact] = {}
    formats = formats_for("crm_contacts")
    for path in sorted((inbox / "crm_contacts").glob("*/*")):
        table = read_table(path, formats)
        email_column = table.column("Email", "email")
        for row in table.rows.iter_rows(named=True):
            email = row[email_column]
            if email and "@" in email:
                found[sha(email.strip().lower())] = Contact(
                    email, path, table.header, [row[h] if row[h] is not None else "" for h in table.header])
    return found


def members(settings: Settings, as_of: date) -> dict[str, set[str]]:
    """Audience -> email hashes in its Google file (the Meta file has the same people)."""
    folder = settings.home / "audiences" / as_of.isoformat()
    return {a: set(pl.read_csv(folder / f"{a}_google_ads.csv", infer_schema=False)["Email"].drop_nulls().to_list())
            for a in AUDIENCES}


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    home = tmp_path_factory.mktemp("privacy")
    settings = Settings.from_env({"KOHDE_HOME": str(home)})
    generate_demo(settings.inbox, START, DAYS, 200, 5)
    run_range(settings, START, END, command="backfill")
    export_audiences(settings, END)
    return settings


def test_audience_files_hold_only_consenting_people(settings: Settings) -> None:
    folder = settings.home / "audiences" / END.isoformat()
    lake = Lake(settings.lake)
    contacts = current(lake.clean("contact", END), "contact", END).collect()
    allowed = contacts.group_by("customer_id").agg(
        (pl.col("consent_marketing").fill_null(False).all() & ~pl.col("objected_marketing").fill_null(False).any())
        .alias("ok"), pl.col("email_sha256").first(), pl.col("phone_sha256").drop_nulls().last(),
        pl.col("phone_sha256_meta").drop_nulls().last())
    ok_emails = set(allowed.filter("ok")["email_sha256"].drop_nulls().to_list())
    ok_google_phones = set(allowed.filter("ok")["phone_sha256"].drop_nulls().to_list())
    ok_meta_phones = set(allowed.filter("ok")["phone_sha256_meta"].drop_nulls().to_list())
    not_ok = set(allowed.filter(~pl.col("ok"))["email_sha256"].drop_nulls().to_list())
    assert not_ok  # the demo has people without consent or with an objection
    total = 0
    with Warehouse.connect(settings.warehouse_url) as warehouse:
        sizes = warehouse.query("SELECT * FROM mart_audience_sizes WHERE as_of_date = :d", {"d": END})
    assert sizes.height == 2 * len(AUDIENCES)
    for row in sizes.iter_rows(named=True):
        frame = pl.read_csv(folder / row["file_name"], infer_schema=False)
        email, phone = ("Email", "Phone") if row["platform"] == "google_ads" else ("email", "phone")
        assert frame.columns == [email, phone]
        assert frame.height == row["members"]
        assert row["below_minimum"] == (row["members"] < 100)
        assert set(frame[email].drop_nulls()) <= ok_emails
        assert set(frame[phone].drop_nulls()) <= (ok_google_phones if row["platform"] == "google_ads"
                                                  else ok_meta_phones)
        assert row["candidates"] == row["members"] + sum(row[c] for c in row if c.startswith("excluded_"))
        total += frame.height
    assert total > 0
    engaged = sizes.filter((pl.col("audience") == "engaged_no_order_30d") & (pl.col("platform") == "meta_ads"))
    assert engaged["members"].item() > 0 and engaged["excluded_no_consent"].item() > 0


def test_no_plain_email_in_the_clean_lake_or_the_warehouse(settings: Settings) -> None:
    assert not [c for c in _lake_cells(settings.lake / "clean") if "@" in c]
    with Warehouse.connect(settings.warehouse_url) as warehouse:
        for table in tables().values():
            text = [c.name for c in table.columns if c.sql_type.upper() == "TEXT"]
            if not text:
                continue
            condition = " OR ".join(f"{quote(column)} LIKE '%@%'" for column in text)
            found = warehouse.query(f"SELECT COUNT(*) AS n FROM {table.name} WHERE {condition}")
            assert found["n"].item() == 0, table.name


def test_objection_and_suppression_take_effect_at_the_next_export(settings: Settings) -> None:
    before = members(settings, END)
    people = demo_contacts(settings.inbox)
    engaged = sorted(h for h in before["engaged_no_order_30d"] if h in people)
    assert len(engaged) >= 3
    objector, suppressed_one, listed = engaged[:3]

    # an objection arrives in a later CRM export; consent still says yes, the objection wins
    contact = people[objector]
    objection_column = contact.header.index("Unsubscribed from all email")
    row = list(contact.row)
    row[objection_column] = "true"
    later = END + timedelta(days=1)
    folder = settings.inbox / "crm_contacts" / later.isoformat()
    folder.mkdir(parents=True)
    with (folder / "objection.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([contact.header, row])
    ingest_range(settings, later, later)

    suppress(Lake(settings.lake), "  " + people[suppressed_one].email.upper() + " ")
    (settings.inbox / "plan" / "suppression.csv").write_text(f"email\n{people[listed].email}\n", encoding="utf-8")

    export = export_audiences(settings, END)
    after = members(settings, END)
    for audience in AUDIENCES:
        assert after[audience] == before[audience] - {objector, suppressed_one, listed}, audience
    row_sizes = export.sizes.filter(pl.col("audience") == "engaged_no_order_30d").row(0, named=True)
    assert row_sizes["excluded_suppressed"] >= 2 and row_sizes["excluded_objected"] >= 1
    assert not (settings.inbox / "plan" / "suppression.csv").read_text().count(objector)


def _lake_cells(root: Path) -> list[str]:
    cells: list[str] = []
    for path in root.rglob("*.parquet"):
        frame = pl.read_parquet(path)
        for column, dtype in frame.schema.items():
            if dtype == pl.Utf8:
                cells.extend(v.lower() for v in frame[column].drop_nulls().to_list())
    return cells


def test_forget_erases_a_person_everywhere(settings: Settings) -> None:
    people = demo_contacts(settings.inbox)
    with Warehouse.connect(settings.warehouse_url) as warehouse:
        buyers = warehouse.query(
            "SELECT DISTINCT c.customer_id, c.email_sha256 FROM dim_customer c "
            "JOIN fct_orders o ON o.customer_id = c.customer_id "
            "JOIN fct_touchpoints t ON t.customer_id = c.customer_id WHERE c.email_sha256 IS NOT NULL "
            "ORDER BY c.customer_id")
    person = next(r for r in buyers.iter_rows(named=True) if r["email_sha256"] in people)
    cid, digest, email = person["customer_id"], person["email_sha256"], people[person["email_sha256"]].email
    # a later export with a row of theirs that fails validation: quarantined in the lake and the warehouse
    contact = people[digest]
    row = list(contact.row)
    row[contact.header.index("Lifecycle Stage")] = "Space cadet"
    bad_day = END + timedelta(days=3)
    bad_folder = settings.inbox / "crm_contacts" / bad_day.isoformat()
    bad_folder.mkdir(parents=True)
    with (bad_folder / "bad_stage.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([contact.header, row])
    run_range(settings, bad_day, bad_day)
    with Warehouse.connect(settings.warehouse_url) as warehouse:
        quarantined = warehouse.query("SELECT COUNT(*) AS n FROM ops_quarantine WHERE extract_date = :d", {"d": bad_day})
    assert quarantined["n"].item() == 1
    inbox_files = [p for p in settings.inbox.rglob("*") if p.is_file() and email.lower().encode()
                   in p.read_bytes().lower() and p.parent.name != bad_day.isoformat()]
    assert inbox_files

    index_before = (settings.lake / "manifest" / "index.parquet").read_bytes()
    counts = forget(settings, email=f" {email.upper()} ")
    assert counts["clean_rows"] > 0 and counts["raw_rows"] > 0 and counts["landing_files"] > 0
    # forget rewrites the zones' Parquet, never a manifest entry: the entries and their index still agree
    lake = Lake(settings.lake)
    days = [START + timedelta(days=i) for i in range(DAYS)] + [bad_day]
    assert lake.manifest(extract_dates=days) == [e for e in lake.manifest() if e.extract_date in days]
    assert (settings.lake / "manifest" / "index.parquet").read_bytes() == index_before  # no rebuild was needed
    assert counts["quarantine_rows"] == 1

    def assert_gone() -> None:
        with Warehouse.connect(settings.warehouse_url) as warehouse:
            for table in tables().values():
                names = {c.name for c in table.columns}
                if "customer_id" in names:
                    found = warehouse.query(f"SELECT COUNT(*) AS n FROM {table.name} WHERE customer_id = :c",
                                            {"c": cid})
                    assert found["n"].item() == 0, table.name
                if "email_sha256" in names:
                    found = warehouse.query(f"SELECT COUNT(*) AS n FROM {table.name} WHERE email_sha256 = :h",
                                            {"h": digest})
                    assert found["n"].item() == 0, table.name
            left = warehouse.query("SELECT COUNT(*) AS n FROM ops_quarantine WHERE extract_date = :d", {"d": bad_day})
            assert left["n"].item() == 0
        for zone in ("raw", "clean", "quarantine"):
            cells = _lake_cells(settings.lake / zone)
            assert cells or zone == "quarantine"  # the scan reads something (quarantine may be empty)
            assert not [c for c in cells if c in (cid, digest) or email.lower() in c], zone
        for path in (settings.lake / "landing").rglob("*"):
            if path.is_file():
                assert email.lower().encode() not in path.read_bytes().lower(), path
        for path in (settings.home / "audiences").rglob("*.csv"):
            assert digest not in path.read_text(), path

    assert_gone()
    audit = (settings.lake / "privacy" / "audit.jsonl").read_text().splitlines()
    last = json.loads(audit[-1])
    assert last["action"] == "forget" and last["clean_rows"] == counts["clean_rows"]
    for line in audit:
        assert digest not in line and cid not in line and email.lower() not in line.lower()
    tombstones = pl.read_parquet(settings.lake / "privacy" / "tombstones.parquet")
    assert tombstones.filter(pl.col("customer_id") == cid)["email_sha256"].to_list() == [digest]

    # old exports read again (as new files on a later date) do not bring the person back
    again = END + timedelta(days=2)
    for path in inbox_files:
        source = path.relative_to(settings.inbox).parts[0]
        target = settings.inbox / source / again.isoformat() / f"reexport_{path.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        with target.open("ab") as handle:
            handle.write(b"\n")  # new bytes, so the manifest does not skip them
    report = run_range(settings, again, again)
    assert sum(f.rows_forgotten for f in report.files) > 0
    with Warehouse.connect(settings.warehouse_url) as warehouse:
        steps = json.loads(warehouse.query("SELECT steps_json FROM ops_runs WHERE run_id = :r",
                                           {"r": report.run_id})["steps_json"].item())
    assert sum(f["forgotten"] for f in steps["ingest"].values()) == sum(f.rows_forgotten for f in report.files)
    export_audiences(settings, again)
    assert_gone()
    assert forget(settings, customer_id=cid)["clean_rows"] == 0  # nothing left to find
