"""Stripped report totals are reconciled against the data rows: a mismatch is a warning on the file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pipeline.ingest.files import InboxFile, ingest_files
from pipeline.lake import Lake

DAY = date(2026, 11, 1)
GOOGLE = (
    "Campaign report\r\n\"November 1, 2026 - November 1, 2026\"\r\n"
    "Day,Account name,Customer ID,Campaign,Campaign ID,Campaign type,Currency code,Cost,Impr.,Clicks,Conversions,Conv. value\r\n"
    "2026-11-01,Demo,123-456-7890,Brand,111,Search,EUR,\"1,234.50\",\"12,345\",321,4.33,\"8,450.00\"\r\n"
    "2026-11-01,Demo,123-456-7890,Generic,222,Search,EUR,87.25,40,2,0.33,10.00\r\n"
    "Total: Account,--,--,--,--,--,EUR,{total},\"12,385\",323,4.66,\"8,460.00\"\r\n"
)
SALESFORCE = (
    '"Opportunity ID","Opportunity Name","Account Name","Amount","Amount Currency","Stage","Close Date",'
    '"Created Date","Opportunity Owner"\n'
    '"0061","Fleet","Nordic Oy","45000.00","EUR","Closed Won","3/5/2026","2/1/2026","Maria"\n'
    '"0062","Service","Nordic Oy","12000.00","EUR","Prospecting","4/5/2026","2/2/2026","Maria"\n'
    '\n\n"Grand Totals ({records} records)"\n\n"Confidential Information - Do Not Distribute"\n'
    '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n'
)


def _ingest(tmp_path: Path, source: str, text: str) -> list[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"{source}.csv"
    path.write_text(text, encoding="utf-8")
    (result,) = ingest_files(Lake(tmp_path / "lake"), [InboxFile(source, path, DAY)])
    return [w for w in result.warnings if w.startswith("totals:")]


def test_google_total_matching_the_rows_is_silent(tmp_path):
    # 1,234.50 + 87.25 = 1,321.75
    assert _ingest(tmp_path, "google_ads", GOOGLE.format(total='"1,321.75"')) == []


def test_google_total_not_matching_the_rows_warns(tmp_path):
    assert _ingest(tmp_path, "google_ads", GOOGLE.format(total='"1,400.00"')) == [
        "totals: data rows' cost sums to 1321.7500 but the report's account total is 1400.0000"]


def test_salesforce_grand_totals_count_is_checked(tmp_path):
    assert _ingest(tmp_path, "crm_deals", SALESFORCE.format(records=2)) == []
    assert _ingest(tmp_path / "other", "crm_deals", SALESFORCE.format(records=3)) == [
        "totals: the report says 3 records but 2 data rows were read"]
