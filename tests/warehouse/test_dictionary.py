"""The data dictionary: docs/warehouse.md and the COMMENT ON statements come from the table files."""

from __future__ import annotations

from pathlib import Path

from pipeline.warehouse.dictionary import comment_statements, render_markdown, table_comment, write_docs
from pipeline.warehouse.schema import parse_table, tables

SAMPLE = parse_table("""-- One row per period grain and channel.
-- What each channel's spend returned.
CREATE TABLE IF NOT EXISTS mart_x (
    period_grain TEXT NOT NULL,  -- day | week | month.
    channel TEXT NOT NULL,  -- The channel's name, e.g. 'paid_search'.
    share_pct DOUBLE PRECISION,  -- spend / total x 100 (%).
    PRIMARY KEY (period_grain, channel)
);
""")


def test_table_comment_is_grain_then_purpose() -> None:
    assert table_comment(SAMPLE) == "One row per period grain and channel. What each channel's spend returned."


def test_comment_statements_escape_quotes() -> None:
    assert comment_statements([SAMPLE]) == [
        """COMMENT ON TABLE "mart_x" IS 'One row per period grain and channel. What each channel''s spend returned.'""",
        """COMMENT ON COLUMN "mart_x"."period_grain" IS 'day | week | month.'""",
        """COMMENT ON COLUMN "mart_x"."channel" IS 'The channel''s name, e.g. ''paid_search''.'""",
        """COMMENT ON COLUMN "mart_x"."share_pct" IS 'spend / total x 100 (%).'""",
    ]


def test_markdown_section_has_grain_purpose_key_and_columns() -> None:
    markdown = render_markdown([SAMPLE])
    assert "| [`mart_x`](#mart_x) | One row per period grain and channel. |" in markdown
    section = markdown[markdown.index("## mart_x"):]
    assert section == """## mart_x

One row per period grain and channel.

What each channel's spend returned.

Key: `period_grain`, `channel`

| column | type | null | description |
|---|---|---|---|
| `period_grain` | TEXT | not null | day \\| week \\| month. |
| `channel` | TEXT | not null | The channel's name, e.g. 'paid_search'. |
| `share_pct` | DOUBLE PRECISION | null | spend / total x 100 (%). |
"""


def test_write_docs_covers_every_table(tmp_path: Path) -> None:
    target = tmp_path / "docs" / "warehouse.md"
    write_docs(target)
    text = target.read_text(encoding="utf-8")
    assert text == render_markdown()
    for table in tables().values():
        assert f"\n## {table.name}\n\n{table.grain}\n" in text
    assert sorted(p.name for p in target.parent.iterdir()) == ["warehouse.md"]  # no temporary file left behind


def test_committed_docs_match_the_table_definitions(tmp_path: Path) -> None:
    from pipeline.warehouse.dictionary import write_docs

    generated = tmp_path / "warehouse.md"
    write_docs(generated)
    committed = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"
    assert committed.read_text(encoding="utf-8") == generated.read_text(encoding="utf-8"), (
        "docs/warehouse.md is stale: run `uv run kohde warehouse docs`")
