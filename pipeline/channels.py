"""The channel taxonomy and the default mapping from platforms and UTM fields to channels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline.config_files import read_toml
from pipeline.errors import ConfigError

CHANNELS: tuple[str, ...] = (
    "paid_search",       # Google Ads search
    "paid_social",       # Meta (Facebook / Instagram)
    "linkedin",          # LinkedIn Campaign Manager
    "display_retargeting",  # AdRoll and other retargeting / display
    "email",
    "webinar",
    "organic_search",
    "referral",
    "direct",            # also "unknown": a conversion with no touchpoint
)

PLATFORM_CHANNEL: dict[str, str] = {
    "google_ads": "paid_search",
    "meta_ads": "paid_social",
    "linkedin_ads": "linkedin",
    "adroll": "display_retargeting",
}

PAID_CHANNELS: frozenset[str] = frozenset(PLATFORM_CHANNEL.values())

# Touch fields a channel rule may match; ``from_channel`` is the touch's channel before the rules.
RULE_FIELDS: tuple[str, ...] = ("utm_source", "utm_medium", "utm_campaign", "platform", "from_channel")
DEFAULT_RULES_FILE = Path(__file__).with_name("channel_rules.toml")


@dataclass(frozen=True)
class ChannelRule:
    """Touches whose fields match every pattern belong to ``channel`` (see channel_rules.toml)."""

    channel: str
    patterns: tuple[tuple[str, str], ...]  # (field, normalised pattern); '*' matches any text


def normalise(value: pl.Expr) -> pl.Expr:
    """Trimmed, lower case, spaces and dashes as '_', NULL as '': how rule patterns see a field."""
    return value.fill_null("").str.strip_chars().str.to_lowercase().str.replace_all(r"[\s\-]+", "_")


def _normalise_pattern(pattern: str) -> str:
    return re.sub(r"[\s\-]+", "_", pattern.strip().lower())


def load_channel_rules(path: Path) -> tuple[ChannelRule, ...]:
    """The rules of a channel-rules TOML file, in order; a ConfigError names the first bad rule."""
    document = read_toml(path, "channel rules")
    entries = document.get("rule")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: no [[rule]] entries")
    rules = []
    for number, entry in enumerate(entries, start=1):
        unknown = sorted(set(entry) - {*RULE_FIELDS, "channel"})
        if unknown:
            raise ConfigError(f"{path}: rule {number} has unknown fields {unknown}; known: {['channel', *RULE_FIELDS]}")
        target = entry.get("channel")
        if target not in CHANNELS:
            raise ConfigError(f"{path}: rule {number} names channel {target!r}, not one of {list(CHANNELS)}")
        patterns = []
        for field in RULE_FIELDS:
            if field in entry:
                if not isinstance(entry[field], str):
                    raise ConfigError(f"{path}: rule {number}: {field} must be text, got {entry[field]!r}")
                patterns.append((field, _normalise_pattern(entry[field])))
        rules.append(ChannelRule(channel=target, patterns=tuple(patterns)))
    return tuple(rules)


def _matches(value: pl.Expr, pattern: str) -> pl.Expr:
    if pattern == "*":
        return pl.lit(True)
    if "*" not in pattern:
        return value == pattern
    return value.str.contains("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$")


def channel_rules_expr(rules: tuple[ChannelRule, ...], fields: dict[str, pl.Expr]) -> pl.Expr:
    """The channel of the first rule every pattern of which matches ``fields``; NULL when none does.

    ``fields`` maps rule field names to expressions; a rule with a pattern on a field not given
    never matches.
    """
    values = {name: normalise(expr) for name, expr in fields.items()}
    channel: pl.Expr = pl.lit(None, dtype=pl.Utf8)
    for rule in reversed(rules):
        if any(field not in values for field, _ in rule.patterns):
            continue
        condition = pl.lit(True)
        for field, pattern in rule.patterns:
            condition = condition & _matches(values[field], pattern)
        channel = pl.when(condition).then(pl.lit(rule.channel)).otherwise(channel)
    return channel


DEFAULT_CHANNEL_RULES: tuple[ChannelRule, ...] = load_channel_rules(DEFAULT_RULES_FILE)
