"""Formula injection (OWASP CSV Injection): risky leading characters are escaped in every CSV kohde writes."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipeline.csv_safety import escape_formulas, write_csv


def test_formula_cells_get_a_leading_quote(tmp_path: Path) -> None:
    frame = pl.DataFrame({
        "name": ["=HYPERLINK(\"http://x\")", "+358 campaign", "-10%", "@SUM(A1)", "\tTab", "\rCR", "Spring sale",
                 "a=b", None],
        "spend": [1, 2, 3, 4, 5, 6, 7, 8, 9],
    })
    escaped = escape_formulas(frame)
    assert escaped["name"].to_list() == ["'=HYPERLINK(\"http://x\")", "'+358 campaign", "'-10%", "'@SUM(A1)",
                                         "'\tTab", "'\rCR", "Spring sale", "a=b", None]
    assert escaped["spend"].to_list() == frame["spend"].to_list()
    path = tmp_path / "out.csv"
    write_csv(frame, path)
    back = pl.read_csv(path, infer_schema=False)
    assert back["name"][0] == "'=HYPERLINK(\"http://x\")"
    assert not any(v is not None and v[0] in "=+-@\t\r" for v in back["name"].to_list())


def test_hashes_are_unchanged() -> None:
    digest = "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"
    assert escape_formulas(pl.DataFrame({"Email": [digest]}))["Email"][0] == digest
