"""The plain-number shortcut of parse_table gives exactly what the full locale parser gives."""

from __future__ import annotations

import random

import polars as pl
import pytest

from pipeline.sources.base import EN, FI, Locale, _typed, fast_number_expr

PIECES = ["0", "1", "12", "123", "1234", "12345678", "999999999999999", "1" * 19, ",", ".", " ", "\u00a0", "\u202f",
          "-", "+", "(", ")", "€", "EUR ", "%", "e5", "00", "7", "\u2212", "x"]


def _strings(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    shaped = [f"{rng.randint(0, 10**rng.randint(1, 16)):,}" + rng.choice(["", f".{rng.randint(0, 9999)}"])
              for _ in range(count // 2)]
    shaped += [s.replace(",", rng.choice([" ", "\u00a0", "."])).replace(".", ",", 1) for s in shaped[:count // 4]]
    junk = ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 5))) for _ in range(count // 2)]
    return [s if rng.random() > 0.1 else "-" + s for s in shaped + junk]


@pytest.mark.parametrize("locale", [EN, FI], ids=["en", "fi"])
@pytest.mark.parametrize("kind", ["decimal", "int", "percent"])
def test_shortcut_then_full_parser_equals_full_parser(locale: Locale, kind: str) -> None:
    frame = pl.DataFrame({"t": _strings(7, 40_000)})
    result = frame.select(
        fast=fast_number_expr(kind, pl.col("t"), locale),
        full=_typed(kind, pl.col("t"), locale),
    )
    combined = result["fast"].fill_null(result["full"])
    assert combined.equals(result["full"], check_names=False, null_equal=True)
    # the shortcut carries the bulk of well-formed numbers (else it would not be worth having)
    assert result["fast"].is_not_null().sum() > 5_000


def test_shortcut_examples() -> None:
    cells = pl.DataFrame({"t": ["1,217.67", "1 234,50", "12,50", "EUR 5", "99999999999999999"]})
    en = cells.select(v=fast_number_expr("decimal", pl.col("t"), EN))["v"].to_list()
    fi = cells.select(v=fast_number_expr("decimal", pl.col("t"), FI))["v"].to_list()
    assert [str(v) if v is not None else None for v in en] == ["1217.6700", None, None, None, None]
    assert [str(v) if v is not None else None for v in fi] == [None, "1234.5000", "12.5000", None, None]
