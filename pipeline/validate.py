"""Validate parsed batches with the Great Expectations suites in ``expectations/``.

Each suite file is ``expectations/<entity>.json``: GX expectation configurations, each with a
``meta.severity``: ``critical`` (any failure fails the run, nothing is loaded), ``quarantine``
(the failing rows go to quarantine with the expectation as the reason) or ``warning`` (the rows
load and are counted). Failing rows are found with GX's row-level results (``COMPLETE`` result
format with ``unexpected_index_column_names``); unexpected values are never written into results
(``exclude_unexpected_values``), since columns may hold personal data.

GX is imported inside ``validate_batch`` only: it costs seconds to import, and DAG files must
parse fast.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import polars as pl

from pipeline.errors import ValidationFailed

SUITES_DIR = Path(__file__).resolve().parents[1] / "expectations"
KEY = "_vkey"  # row identity handed to GX: the row's position in the batch


@dataclass
class ValidationOutcome:
    """What GX said about one batch: rows to quarantine and rows to warn about."""

    quarantine: dict[str, list[str]] = field(default_factory=dict)  # vkey -> reasons
    warnings: dict[str, list[str]] = field(default_factory=dict)
    critical_failures: list[str] = field(default_factory=list)


def load_suite(entity: str) -> dict[str, Any]:
    """The suite of an entity, as stored in ``expectations/<entity>.json``."""
    path = SUITES_DIR / f"{entity}.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


UNIQUENESS = ("expect_compound_columns_to_be_unique", "expect_column_values_to_be_unique")
SuitePart = Literal["all", "rows", "uniqueness"]


def uniqueness_keys(entity: str) -> list[list[str]]:
    """The column lists of the suite's uniqueness expectations (a file's rows are checked against each other)."""
    return [list(e["kwargs"].get("column_list") or [e["kwargs"]["column"]])
            for e in load_suite(entity)["expectations"] if e["type"] in UNIQUENESS]


def validate_batch(entity: str, frame: pl.DataFrame, part: SuitePart = "all") -> ValidationOutcome:
    """Run the entity's suite on a batch that has ``file_sha256`` and ``row_number`` columns.

    ``part``: the whole suite; ``rows``, every expectation but uniqueness (a chunk of a big file,
    whose rows are only compared with each other once all chunks are read); ``uniqueness``, only
    the uniqueness expectations (on the rows whose key occurs more than once: no other row can fail them).
    """
    outcome = ValidationOutcome()
    if frame.height == 0:
        return outcome
    suite_def = load_suite(entity)
    if part != "all":
        kept = [e for e in suite_def["expectations"] if (e["type"] in UNIQUENESS) == (part == "uniqueness")]
        suite_def = {**suite_def, "expectations": kept}
    context, validation = _validation(entity, json.dumps(suite_def, sort_keys=True))
    # GX gets the row's position (an integer: GX hashes the whole frame for its batch id, and text
    # keys cost more to hash than the validation itself); failing positions become file:row keys below.
    keyed = frame.with_row_index(KEY)
    pdf = _to_pandas(keyed.select([c for c in keyed.columns if c == KEY or c in _suite_columns(suite_def)]))
    lineage = frame.select("file_sha256", "row_number")
    result = validation.run(
        batch_parameters={"dataframe": pdf},
        result_format={
            "result_format": "COMPLETE",
            "unexpected_index_column_names": [KEY],
            "exclude_unexpected_values": True,
            "return_unexpected_index_query": False,
            "partial_unexpected_count": 0,
        },
    )
    for item in result.results:
        config = item.expectation_config
        severity = (config.meta or {}).get("severity", "quarantine")
        reason = _reason(config.type, config.kwargs, (config.meta or {}).get("reason"))
        if item.success:
            continue
        if item.exception_info and item.exception_info.get("raised_exception"):
            outcome.critical_failures.append(f"{reason}: expectation could not run")
            continue
        # GX 1.x gives one entry per failing row: {KEY: value} or {KEY: [value]}.
        positions = [int(key) for entry in (item.result or {}).get("unexpected_index_list") or []
                     for key in (entry[KEY] if isinstance(entry[KEY], list) else [entry[KEY]])]
        # the file:row keys of the failing rows only (most rows of a batch fail nothing)
        keys = (lineage[positions].select(pl.col("file_sha256") + pl.lit(":") + pl.col("row_number").cast(pl.Utf8))
                .to_series().to_list()) if positions else []
        if severity == "critical" or not keys:
            outcome.critical_failures.append(reason)
            continue
        target = outcome.quarantine if severity == "quarantine" else outcome.warnings
        for key in keys:
            target.setdefault(key, []).append(reason)
    del context
    return outcome


def merge_outcomes(into: ValidationOutcome, other: ValidationOutcome) -> None:
    """Add another batch's findings (the chunks of one file) to ``into``."""
    for target, source in ((into.quarantine, other.quarantine), (into.warnings, other.warnings)):
        for key, reasons in source.items():
            target.setdefault(key, []).extend(reasons)
    into.critical_failures.extend(other.critical_failures)


def raise_on_critical(entity: str, outcome: ValidationOutcome) -> None:
    """Fail the run (nothing loaded) when a critical expectation failed."""
    if outcome.critical_failures:
        raise ValidationFailed(f"{entity}: critical expectation failed: {'; '.join(outcome.critical_failures)}")


def _reason(kind: str, kwargs: dict[str, Any], custom: str | None) -> str:
    column = kwargs.get("column") or ",".join(kwargs.get("column_list") or []) or \
        ",".join(str(kwargs.get(k)) for k in ("column_A", "column_B") if kwargs.get(k))
    check = kind.removeprefix("expect_")
    return f"gx:{column}: {custom or check}"


def _suite_columns(suite_def: dict[str, Any]) -> set[str]:
    """Columns the suite reads (only these are handed to pandas: time and memory on big files)."""
    import re

    names: set[str] = set()
    for config in suite_def["expectations"]:
        kwargs = config.get("kwargs", {})
        names.update(str(kwargs[k]) for k in ("column", "column_A", "column_B") if kwargs.get(k))
        names.update(kwargs.get("column_list") or [])
        names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", str(kwargs.get("row_condition") or "")))
    return names


def _to_pandas(frame: pl.DataFrame) -> Any:
    """GX needs pandas; decimals become floats here only (range checks), never on the way to the warehouse."""
    casts = [pl.col(name).cast(pl.Float64) for name, dtype in frame.schema.items() if isinstance(dtype, pl.Decimal)]
    lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List | pl.Struct)]
    return frame.with_columns(casts).drop(lists).to_pandas()


@cache
def _context() -> Any:
    """One ephemeral GX context per process (creating one costs time and a temporary folder)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    for name in [n for n in logging.root.manager.loggerDict if n.startswith("great_expectations")]:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    try:
        context.variables.progress_bars = {"globally": False, "metric_calculations": False}  # type: ignore[assignment]
    except Exception:  # noqa: BLE001 - progress bars are cosmetic
        pass
    return context


@cache
def _validation(entity: str, suite_json: str) -> tuple[Any, Any]:
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    context = _context()
    name = f"{entity}_{abs(hash(suite_json)) % 10**8}"
    suite_def = json.loads(suite_json)
    suite = gx.ExpectationSuite(name=name)
    for config in suite_def["expectations"]:
        suite.add_expectation(ExpectationConfiguration(**config).to_domain_obj())
    suite = context.suites.add(suite)
    source = context.data_sources.add_pandas(f"kohde_{name}")
    asset = source.add_dataframe_asset(name=entity)
    batch = asset.add_batch_definition_whole_dataframe("batch")
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{name}_validation", data=batch, suite=suite)
    )
    return context, validation
