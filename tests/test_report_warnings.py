"""File warnings (report totals that do not match, duplicates, drift ...) are counted where a run is shown."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from pipeline.cli import main
from pipeline.ingest.files import FileResult
from pipeline.report import steps_warnings, warning_counts, warnings_line
from pipeline.run import RunReport, _record
from pipeline.warehouse import Warehouse

DAY = date(2026, 11, 1)
TOTALS = "totals: data rows' cost sums to 1321.7500 but the report's account total is 1400.0000"


def _file(name: str, day: date, warnings: list[str], skipped: bool = False) -> FileResult:
    return FileResult(source="google_ads", original_name=name, file_sha256=name * 8, size_bytes=1, extract_date=day,
                      rows_read=2, rows_loaded=2, rows_warned=1, skipped=skipped, warnings=warnings)


def test_counts_by_kind():
    warnings = [TOTALS, "duplicates: 1 exact duplicate rows dropped", "totals: the report says 3 records"]
    assert warning_counts(warnings) == {"duplicates": 1, "totals": 2}
    assert warnings_line(4, warnings) == "4 rows warned, 3 file warnings (duplicates 1, totals 2)"
    assert warnings_line(0, []) == "0 rows warned, 0 file warnings"


def test_steps_json_keeps_every_file_of_a_backfill_and_status_prints_the_count(tmp_path, monkeypatch, capsys):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    report = RunReport(run_id="backfill_x", command="backfill", start=DAY, end=date(2026, 11, 2), status="succeeded")
    report.files = [
        _file("report.csv", DAY, [TOTALS]),
        _file("report.csv", date(2026, 11, 2), ["duplicates: 1 exact duplicate rows dropped"]),  # same name, next day
        _file("report.csv", DAY, [TOTALS], skipped=True),  # the same bytes again: not counted twice
    ]
    with Warehouse.connect(url) as warehouse:
        warehouse.upgrade()
        _record(warehouse, report, datetime(2026, 11, 2, 1, tzinfo=UTC), datetime(2026, 11, 2, 2, tzinfo=UTC))
        steps = warehouse.query("SELECT steps_json, rows_warned FROM ops_runs").row(0, named=True)
    assert sorted(json.loads(steps["steps_json"])["ingest"]) == [
        "google_ads/2026-11-01/report.csv", "google_ads/2026-11-02/report.csv"]
    assert steps_warnings(steps["steps_json"]) == [TOTALS, "duplicates: 1 exact duplicate rows dropped"]
    monkeypatch.setenv("KOHDE_HOME", str(tmp_path))
    monkeypatch.setenv("KOHDE_WAREHOUSE_URL", url)
    assert main(["status"]) == 0
    out = capsys.readouterr().out.splitlines()
    run_line = next(i for i, line in enumerate(out) if line.strip().startswith("backfill_x"))
    assert out[run_line + 1].strip() == "warnings: 2 rows warned, 2 file warnings (duplicates 1, totals 1)"
