"""Personas and psychographic segments from a rules file (``KOHDE_SEGMENT_RULES``), TOML.

```toml
[[persona]]                      # read top down, the first match wins
name = "B2B account"
all_of = [{ column = "company", op = "not_null" }, { column = "employees", op = ">=", value = 10 }]

[[persona]]
name = "Luxury buyer"
any_of = [{ column = "luxury_order_share", op = ">=", value = 0.5 }]

[[persona]]
name = "General"                 # the last rule has no conditions: everyone else

[[psychographic]]                # optional; without it psychographic_segment is purchase_motive/values_orientation
name = "status seeker"
any_of = [{ column = "purchase_motive", op = "==", value = "status" }]

[[psychographic]]
name = "other"
```

A rule applies when every ``all_of`` condition holds and, if given, one of ``any_of``. The
columns a condition can read are ``FEATURES``; ops are ``==``, ``>=``, ``<=``, ``in`` (a list),
``contains_any`` (a list of words, lower-case text contains one) and ``not_null``. Every list of
rules must end with a rule without conditions, so each customer gets exactly one. The shipped
defaults are ``segments.PERSONA_RULES``; ``docs/segment_rules.example.toml`` writes them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config_files import read_toml
from pipeline.errors import ConfigError
from pipeline.transforms.segments import PERSONA_RULES, Condition, PersonaRule

FEATURES: tuple[str, ...] = (
    "company", "employees", "industry", "values_orientation", "purchase_motive", "brand_loyalty", "lifestyle",
    "gender", "education", "income_band", "revenue_band", "country_code", "language",
    "lifetime_orders", "luxury_order_share", "income_floor_eur",
)
OPS: tuple[str, ...] = ("==", ">=", "<=", "in", "contains_any", "not_null")


@dataclass(frozen=True)
class SegmentRules:
    """Persona rules, and psychographic rules when the file gives them (None: the built-in motive/values)."""

    personas: tuple[PersonaRule, ...] = PERSONA_RULES
    psychographic: tuple[PersonaRule, ...] | None = None


def load_segment_rules(path: Path) -> SegmentRules:
    """The rules of a segment-rules TOML file; a ConfigError names the file and the first bad rule."""
    document = read_toml(path, "segment rules")
    unknown = sorted(set(document) - {"persona", "psychographic"})
    if unknown:
        raise ConfigError(f"{path}: unknown tables {unknown}; known: ['persona', 'psychographic']")
    if "persona" not in document:
        raise ConfigError(f"{path}: no [[persona]] rules")
    personas = _rules(path, "persona", document["persona"])
    psychographic = _rules(path, "psychographic", document["psychographic"]) if "psychographic" in document else None
    return SegmentRules(personas, psychographic)


def _rules(path: Path, kind: str, entries: Any) -> tuple[PersonaRule, ...]:
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: [[{kind}]] must be a list of rules")
    rules = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: {kind} rule {number}"
        extra = sorted(set(entry) - {"name", "all_of", "any_of"})
        if extra:
            raise ConfigError(f"{where} has unknown fields {extra}; known: ['name', 'all_of', 'any_of']")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{where} has no name")
        rules.append(PersonaRule(name.strip(), all_of=_conditions(where, entry.get("all_of", [])),
                                 any_of=_conditions(where, entry.get("any_of", []))))
    if rules[-1].all_of or rules[-1].any_of:
        raise ConfigError(f"{path}: the last [[{kind}]] rule must have no conditions (it takes everyone else)")
    return tuple(rules)


def _conditions(where: str, entries: Any) -> tuple[Condition, ...]:
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: all_of and any_of must be lists of conditions")
    conditions = []
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) - {"column", "op", "value"}:
            raise ConfigError(f"{where}: a condition is {{ column = ..., op = ..., value = ... }}, got {entry!r}")
        column, op, value = entry.get("column"), entry.get("op"), entry.get("value")
        if column not in FEATURES:
            raise ConfigError(f"{where}: unknown column {column!r}; known: {list(FEATURES)}")
        if op not in OPS:
            raise ConfigError(f"{where}: unknown op {op!r}; known: {list(OPS)}")
        if op != "not_null" and value is None:
            raise ConfigError(f"{where}: op {op!r} on {column} needs a value")
        if op in ("in", "contains_any"):
            if not isinstance(value, list) or not value:
                raise ConfigError(f"{where}: op {op!r} on {column} needs a non-empty list")
            value = tuple(value)
        conditions.append(Condition(column, op, value))
    return tuple(conditions)
