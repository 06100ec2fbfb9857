"""The privacy commands through the CLI: one-line results and errors, no personal data echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KOHDE_HOME", str(tmp_path))
    monkeypatch.delenv("KOHDE_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("KOHDE_INBOX", raising=False)
    monkeypatch.delenv("KOHDE_LAKE", raising=False)
    return tmp_path


def test_audiences_on_an_empty_lake_write_header_only_files(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audiences", "--date", "2026-08-31"]) == 0
    out = capsys.readouterr().out
    assert out.count("below the platform minimum") == 8
    files = sorted(p.name for p in (home / "audiences" / "2026-08-31").glob("*.csv"))
    assert len(files) == 8
    assert (home / "audiences" / "2026-08-31" / "champions_lookalike_seed_google_ads.csv").read_text() == "Email,Phone\n"
    assert (home / "audiences" / "2026-08-31" / "champions_lookalike_seed_meta_ads.csv").read_text() == "email,phone\n"


def test_suppress_and_forget_errors_are_one_line_without_the_value(home: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suppress", "--email", "Anna.Virtanen@Example.fi"]) == 0
    assert "anna" not in capsys.readouterr().out.lower()
    assert main(["forget", "--email", "anna.virtanen at example"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "anna" not in err and err.startswith("kohde: ")
    assert main(["forget", "--customer-id", "someone"]) == 1
    assert "not a kohde customer id" in capsys.readouterr().err


def test_forget_by_customer_id_on_an_empty_warehouse_records_a_tombstone(home: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forget", "--customer-id", "c_0123456789abcdef"]) == 0
    assert "tombstone recorded" in capsys.readouterr().out
    audit = (home / "lake" / "privacy" / "audit.jsonl").read_text()
    assert "0123456789abcdef" not in audit and '"action": "forget"' in audit
