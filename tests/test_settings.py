from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.gold import channel_rules
from pipeline.settings import Settings


def test_attribution_settings_defaults_and_overrides(tmp_path: Path) -> None:
    defaults = Settings.from_env({"KOHDE_HOME": str(tmp_path)})
    assert (defaults.attribution_lookback_days, defaults.attribution_markov_order,
            defaults.attribution_half_life_days, defaults.channel_rules) == (90, 1, 7, None)
    assert channel_rules(defaults) == ()
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nutm_medium = "cpc"\nchannel = "paid_search"\n', encoding="utf-8")
    custom = Settings.from_env({"KOHDE_HOME": str(tmp_path), "KOHDE_ATTRIBUTION_MARKOV_ORDER": "2",
                                "KOHDE_ATTRIBUTION_HALF_LIFE_DAYS": "14", "KOHDE_CHANNEL_RULES": str(rules)})
    assert (custom.attribution_markov_order, custom.attribution_half_life_days, custom.channel_rules) == (2, 14, rules)
    assert [rule.channel for rule in channel_rules(custom)] == ["paid_search"]


@pytest.mark.parametrize(("name", "value"), [("KOHDE_ATTRIBUTION_MARKOV_ORDER", "0"),
                                             ("KOHDE_ATTRIBUTION_HALF_LIFE_DAYS", "a week")])
def test_bad_attribution_settings_are_config_errors(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({"KOHDE_HOME": str(tmp_path), name: value})


def test_a_missing_channel_rules_file_fails_with_its_path(tmp_path: Path) -> None:
    settings = Settings.from_env({"KOHDE_HOME": str(tmp_path), "KOHDE_CHANNEL_RULES": str(tmp_path / "none.toml")})
    with pytest.raises(ConfigError, match="none.toml: cannot read channel rules"):
        channel_rules(settings)


def test_clv_discount_rate_and_segment_rules_settings(tmp_path: Path) -> None:
    defaults = Settings.from_env({"KOHDE_HOME": str(tmp_path)})
    assert (defaults.clv_annual_discount_rate, defaults.segment_rules) == (0.10, None)
    given = Settings.from_env({"KOHDE_HOME": str(tmp_path), "KOHDE_CLV_DISCOUNT_RATE": "0.08",
                               "KOHDE_SEGMENT_RULES": str(tmp_path / "rules.toml")})
    assert (given.clv_annual_discount_rate, given.segment_rules) == (0.08, tmp_path / "rules.toml")
    for bad, message in (("10%", "is not a number"), ("10", "between 0 and 1"), ("-0.1", "between 0 and 1")):
        with pytest.raises(ConfigError, match=message):
            Settings.from_env({"KOHDE_HOME": str(tmp_path), "KOHDE_CLV_DISCOUNT_RATE": bad})


def test_ingest_chunk_size_is_a_positive_number_of_megabytes(tmp_path):
    assert Settings.from_env({"KOHDE_HOME": str(tmp_path)}).ingest_chunk_mb == 48
    assert Settings.from_env({"KOHDE_HOME": str(tmp_path), "KOHDE_INGEST_CHUNK_MB": "16"}).ingest_chunk_mb == 16
    with pytest.raises(ConfigError, match=r"KOHDE_INGEST_CHUNK_MB='0' must be positive"):
        Settings.from_env({"KOHDE_HOME": str(tmp_path), "KOHDE_INGEST_CHUNK_MB": "0"})


def test_attribution_models_chosen_by_the_user_plus_the_required_ones(tmp_path):
    from pipeline.gold import ATTRIBUTION_MODELS, attribution_models

    home = {"KOHDE_HOME": str(tmp_path)}
    assert attribution_models(Settings.from_env(home)) == ATTRIBUTION_MODELS  # unset: all ten
    chosen = Settings.from_env({**home, "KOHDE_ATTRIBUTION_MODELS": " Markov, linear,markov "})
    assert chosen.attribution_models == ("markov", "linear")
    # first touch (LTV:CAC, customer cost) and last touch (goals, the report) are always computed
    assert attribution_models(chosen) == ("last_touch", "first_touch", "linear", "markov")
    with pytest.raises(ConfigError, match=r"^KOHDE_ATTRIBUTION_MODELS: unknown attribution model 'u_shaped'; known: last_touch"):
        Settings.from_env({**home, "KOHDE_ATTRIBUTION_MODELS": "linear,u_shaped"})


def test_incremental_is_on_unless_switched_off(tmp_path):
    home = {"KOHDE_HOME": str(tmp_path)}
    assert Settings.from_env(home).incremental is True
    assert [Settings.from_env({**home, "KOHDE_INCREMENTAL": value}).incremental
            for value in ("0", "off", "False", " no ", "1", "ON", "yes")] == [False] * 4 + [True] * 3
    with pytest.raises(ConfigError, match=r"^KOHDE_INCREMENTAL='sometimes' must be on or off"):
        Settings.from_env({**home, "KOHDE_INCREMENTAL": "sometimes"})
