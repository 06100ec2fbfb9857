from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipeline.channels import CHANNELS, DEFAULT_CHANNEL_RULES, channel_rules_expr, load_channel_rules
from pipeline.errors import ConfigError


def rules_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_rules_load_and_name_known_channels() -> None:
    assert len(DEFAULT_CHANNEL_RULES) == 20
    assert {rule.channel for rule in DEFAULT_CHANNEL_RULES} <= set(CHANNELS)
    assert DEFAULT_CHANNEL_RULES[10].patterns == (("utm_source", "google"), ("utm_medium", "cpc"))


@pytest.mark.parametrize(
    ("campaign", "channel"),
    [("brand_fi", "paid_search"), ("Spring Brand", "paid_search"), ("brand", "paid_search"), ("generic", None),
     (None, None)],
)
def test_wildcards_match_any_text_case_insensitively(tmp_path: Path, campaign: str | None, channel: str | None) -> None:
    rules = load_channel_rules(rules_file(tmp_path, '[[rule]]\nutm_campaign = "*Brand*"\nchannel = "paid_search"\n'))
    frame = pl.DataFrame({"c": [campaign]}, schema={"c": pl.Utf8})
    assert frame.select(channel_rules_expr(rules, {"utm_campaign": pl.col("c")}))[0, 0] == channel


def test_first_matching_rule_wins_and_empty_pattern_matches_missing(tmp_path: Path) -> None:
    rules = load_channel_rules(rules_file(
        tmp_path,
        '[[rule]]\nutm_source = ""\nchannel = "direct"\n\n[[rule]]\nutm_source = "*"\nchannel = "referral"\n'))
    frame = pl.DataFrame({"s": [None, "", "  ", "blog"]}, schema={"s": pl.Utf8})
    assert frame.select(channel_rules_expr(rules, {"utm_source": pl.col("s")}))["literal"].to_list() == [
        "direct", "direct", "direct", "referral"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[rule]]\nutm_sauce = "x"\nchannel = "email"\n', "rule 1 has unknown fields \\['utm_sauce'\\]"),
        ('[[rule]]\nutm_source = "x"\nchannel = "email"\n[[rule]]\nutm_source = "y"\nchannel = "tv"\n',
         "rule 2 names channel 'tv'"),
        ('[[rule]]\nutm_source = "x"\n', "rule 1 names channel None"),
        ('[[rule]]\nutm_source = 3\nchannel = "email"\n', "utm_source must be text"),
        ("title = 'no rules'\n", "no \\[\\[rule\\]\\] entries"),
        ("[[rule]\n", "not a valid TOML file"),
    ],
)
def test_bad_rule_files_are_one_line_config_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        load_channel_rules(rules_file(tmp_path, text))
    assert "\n" not in str(error.value)


def test_missing_rule_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read channel rules"):
        load_channel_rules(tmp_path / "nope.toml")
