"""`kohde status`: the last runs and each source's freshness, from ops_runs and ops_file_manifest."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from pipeline.report import status_report
from pipeline.warehouse import TableLoad, Warehouse


def _runs() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "run_id": ["run_2026-11-01_2026-11-01_a", "run_2026-11-02_2026-11-02_b"],
            "command": ["run", "run"],
            "start_date": [date(2026, 11, 1), date(2026, 11, 2)],
            "end_date": [date(2026, 11, 1), date(2026, 11, 2)],
            "started_at": [datetime(2026, 11, 2, 0, 0, tzinfo=UTC), datetime(2026, 11, 3, 0, 0, tzinfo=UTC)],
            "ended_at": [datetime(2026, 11, 2, 0, 0, 42, 500000, tzinfo=UTC), datetime(2026, 11, 3, 0, 0, 3, tzinfo=UTC)],
            "status": ["succeeded", "failed"],
            "files_read": [3, 1], "files_skipped": [0, 0], "rows_read": [120, 7], "rows_loaded": [117, 0],
            "rows_quarantined": [2, 0], "rows_duplicate": [1, 0], "rows_warned": [4, 0],
            "error": [None, "google_ads/2026-11-02/x.csv: empty file"], "steps_json": ["{}", "{}"],
        },
        schema_overrides={"started_at": pl.Datetime("us", "UTC"), "ended_at": pl.Datetime("us", "UTC"), "error": pl.Utf8},
    )


def _manifest() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "file_sha256": ["a" * 64, "b" * 64, "c" * 64],
            "source": ["google_ads", "google_ads", "plan"],
            "source_format": ["google_ads_ui_en", "google_ads_ui_en", "plan_goals"],
            "original_name": ["g1.csv", "g2.csv", "goals.csv"],
            "size_bytes": [100, 100, 50],
            "extract_date": [date(2026, 10, 28), date(2026, 10, 29), date(2026, 9, 1)],
            "encoding": ["utf-8"] * 3, "encoding_fallback": [False] * 3,
            "rows_read": [10, 12, 5], "rows_loaded": [10, 10, 5], "rows_quarantined": [0, 2, 0],
            "rows_duplicate": [0, 0, 0], "furniture_rows": [3, 3, 0],
        },
    )


def test_status_lists_runs_newest_first_and_each_sources_lag(tmp_path: Path) -> None:
    with Warehouse.connect(f"duckdb:///{tmp_path / 'w.duckdb'}") as warehouse:
        warehouse.upgrade()
        warehouse.load([TableLoad("ops_runs", _runs(), "all"), TableLoad("ops_file_manifest", _manifest(), "all")])
        text = status_report(warehouse)
    lines = text.splitlines()
    assert lines[0] == "Last runs (newest first):"
    assert lines[2].split() == ["run_2026-11-02_2026-11-02_b", "failed", "3.0", "1", "7", "0", "0", "0", "0"]
    assert lines[3] == "    error: google_ads/2026-11-02/x.csv: empty file"
    assert lines[4].split() == ["run_2026-11-01_2026-11-01_a", "succeeded", "42.5", "3", "120", "117", "2", "1", "4"]
    assert lines[5] == "    warnings: 4 rows warned, 0 file warnings"
    assert lines[6] == "Sources (lag = days from the last successful run's date 2026-11-01 to the newest file):"
    rows = {line.split()[0]: line.split()[1:] for line in lines[8:]}
    assert rows["google_ads"] == ["2026-10-29", "3", "2", "22", "2"]  # newest 10-29, lag 3 days, 2 files
    assert rows["plan"] == ["2026-09-01", "-", "1", "5", "0"]  # plan files carry no lag
    assert rows["meta_ads"] == ["no", "files", "yet"]


def test_status_without_runs(tmp_path: Path) -> None:
    with Warehouse.connect(f"duckdb:///{tmp_path / 'w.duckdb'}") as warehouse:
        warehouse.upgrade()
        assert status_report(warehouse) == "no runs yet"
