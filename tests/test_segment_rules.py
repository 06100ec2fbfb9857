"""Persona and psychographic rules from a TOML file (KOHDE_SEGMENT_RULES)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipeline.errors import ConfigError
from pipeline.segment_rules import SegmentRules, load_segment_rules
from pipeline.transforms.segments import PERSONA_RULES, build_customer_segments
from tests.transforms.test_segments import AS_OF, world_contacts, world_orders, world_touchpoints

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "segment_rules.example.toml"


def test_the_example_file_is_the_built_in_personas() -> None:
    assert load_segment_rules(EXAMPLE) == SegmentRules(PERSONA_RULES, None)


def test_rules_from_a_file_replace_personas_and_psychographic_segments(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('''
[[persona]]
name = "Big spender"
all_of = [{ column = "lifetime_orders", op = ">=", value = 2 }]

[[persona]]
name = "Everyone else"

[[psychographic]]
name = "innovator"
any_of = [{ column = "values_orientation", op = "in", value = ["innovation"] }]

[[psychographic]]
name = "other"
''', encoding="utf-8")
    rules = load_segment_rules(path)
    built_in = build_customer_segments(world_orders(), world_contacts(), world_touchpoints(), AS_OF).collect()
    custom = build_customer_segments(world_orders(), world_contacts(), world_touchpoints(), AS_OF,
                                     personas=rules.personas, psychographic=rules.psychographic).collect()
    got = dict(custom.select("customer_id", "persona").iter_rows())
    # o1 has 3 revenue orders, the others at most 1 (see the small world in tests/transforms/test_segments.py)
    assert got == {c: ("Big spender" if c == "o1" else "Everyone else") for c in got}
    assert set(custom["psychographic_segment"]) <= {"innovator", "other"}
    innovators = custom.filter(pl.col("psychographic_segment") == "innovator")["customer_id"].to_list()
    assert innovators == built_in.filter(pl.col("psychographic_segment").str.ends_with("/innovation"))["customer_id"].to_list()
    assert innovators  # the small world has an innovation-minded customer


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[persona]]\nname = "A"\nall_of = [{ column = "shoe_size", op = ">=", value = 40 }]\n[[persona]]\nname = "B"\n',
         "persona rule 1: unknown column 'shoe_size'"),
        ('[[persona]]\nname = "A"\nall_of = [{ column = "employees", op = ">", value = 1 }]\n[[persona]]\nname = "B"\n',
         "persona rule 1: unknown op '>'"),
        ('[[persona]]\nname = "A"\nall_of = [{ column = "employees", op = ">=", value = 1 }]\n',
         "the last [[persona]] rule must have no conditions"),
        ('[[persona]]\nname = "A"\nall_of = [{ column = "industry", op = "contains_any", value = "tech" }]\n'
         '[[persona]]\nname = "B"\n', "op 'contains_any' on industry needs a non-empty list"),
        ('[[personas]]\nname = "A"\n', "unknown tables ['personas']"),
        ('[[persona]]\nall_of = []\n', "persona rule 1 has no name"),
        ('persona = [', "not a valid TOML file"),
    ],
)
def test_bad_rules_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        load_segment_rules(path)
