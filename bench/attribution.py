"""Benchmark: kohde's Markov and Shapley attribution against marketing-attribution-models (MAM).

Generates 1,000,000 seeded journeys over 6 channels (path lengths 1-8, about 3 % converting) and
times, each engine in its own process so each peak memory (ru_maxrss) is its own:

- kohde: ``group_paths`` + ``markov_removal_effects`` (order 1) + ``shapley_values``;
- MAM on grouped journeys (``format_type="grouped_journey"``, built from kohde's grouping, not timed):
  ``MAM(...)`` + ``run_markov()`` + ``run_shapley(max_size=None, value_column="conversions")``;
- MAM on raw journeys (``format_type="journey"``, one row per journey): the same.

Markov shares must agree with MAM's to 1e-6 (same definition) or the script exits 1. The Shapley
models differ by definition (see ``pipeline.transforms.attribution_models``); the script reports
their difference and checks the documented relation instead: kohde's Shapley values equal MAM's
``run_linear`` on journeys reduced to their distinct channel sets, to 1e-6.

Run: ``uv run python bench/attribution.py [--journeys N] [--repeat R] [--seed S]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.timing import best_of, peak_memory_mb  # noqa: E402
from pipeline.transforms.attribution_models import (  # noqa: E402
    group_paths,
    markov_removal_effects,
    shapley_values,
)

CHANNELS = np.array(["affiliate", "direct", "display", "email", "paid_search", "social"])
CHANNEL_FREQUENCY = np.array([0.08, 0.22, 0.15, 0.20, 0.20, 0.15])
# Multiplicative lift of the conversion odds when a channel is on the path at least once.
CHANNEL_LIFT = np.array([1.6, 1.1, 1.0, 1.8, 2.2, 1.3])
LENGTH_PROBABILITY = np.array([0.30, 0.22, 0.16, 0.11, 0.08, 0.06, 0.04, 0.03])
CONVERSION_RATE = 0.03
TOLERANCE = 1e-6


def generate_journeys(n: int, seed: int) -> pl.DataFrame:
    """One row per journey: path (List[str]), converted, value; seeded and fully vectorised."""
    rng = np.random.default_rng(seed)
    lengths = rng.choice(np.arange(1, 9), size=n, p=LENGTH_PROBABILITY)
    codes = rng.choice(len(CHANNELS), size=int(lengths.sum()), p=CHANNEL_FREQUENCY)
    journey_of_touch = np.repeat(np.arange(n), lengths)
    present = np.zeros((n, len(CHANNELS)), dtype=bool)
    present[journey_of_touch, codes] = True
    odds = np.prod(np.where(present, CHANNEL_LIFT, 1.0), axis=1) * (1.0 + 0.05 * lengths)
    probability = np.clip(odds * CONVERSION_RATE / odds.mean(), 0.0, 1.0)
    converted = rng.random(n) < probability
    value = np.where(converted, np.round(rng.lognormal(4.0, 0.6, n), 2), 0.0)
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
    touch_channels = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int8)), pa.array(CHANNELS.tolist()))
    paths = pa.ListArray.from_arrays(pa.array(offsets), touch_channels.cast(pa.string()))
    return pl.DataFrame(
        {"path": pl.Series(paths).cast(pl.List(pl.String)), "converted": converted, "value": value},
    )






def mam_grouped_input(paths: pl.DataFrame) -> pl.DataFrame:
    """MAM's grouped-journey rows: one per path and outcome with its journey count."""
    journey = pl.col("path").list.join(" > ").alias("journey")
    return pl.concat(
        [
            paths.filter(pl.col("conversions") > 0).select(
                journey, pl.lit(True).alias("converted"), pl.col("conversions").alias("occurrences")
            ),
            paths.filter(pl.col("non_conversions") > 0).select(
                journey, pl.lit(False).alias("converted"), pl.col("non_conversions").alias("occurrences")
            ),
        ]
    )


def mam_shares(result: Any) -> dict[str, float]:
    """MAM's Markov shares: its removal effects normalised to sum to 1."""
    removal = result.metadata["removal_effect"]["removal_effect"]
    return {str(k): float(v) for k, v in (removal / removal.sum()).items()}


def run_kohde(journeys: pl.DataFrame, repeat: int) -> dict[str, Any]:
    """Time kohde's grouping, first-order Markov, Shapley (and, as an extra, second-order Markov)."""
    lazy = journeys.lazy()
    group_s, paths = best_of(repeat, lambda: group_paths(lazy).collect())
    markov_s, effects = best_of(repeat, lambda: markov_removal_effects(paths))
    shapley_s, shapley = best_of(repeat, lambda: shapley_values(paths))
    order2_s, _ = best_of(repeat, lambda: markov_removal_effects(paths, order=2))
    return {
        "distinct_paths": paths.height,
        "seconds": {
            "group_paths": group_s,
            "markov": markov_s,
            "shapley": shapley_s,
            "markov_order2 (extra)": order2_s,
        },
        "markov_share": dict(effects.select("channel", "share").iter_rows()),
        "shapley_share": dict(shapley.select("channel", "share").iter_rows()),
        "shapley_value": dict(shapley.select("channel", "shapley_value").iter_rows()),
    }


def run_mam(journeys: pl.DataFrame, repeat: int, grouped: bool) -> dict[str, Any]:
    """Time MAM's load, Markov and Shapley on grouped or raw journeys (input formatting untimed)."""
    from mam.core import MAM

    paths = group_paths(journeys.lazy()).collect()
    if grouped:
        frame = mam_grouped_input(paths)
        options = {"format_type": "grouped_journey", "occurrences_colname": "occurrences"}
    else:
        frame = journeys.with_row_index("journey_id").select(
            pl.col("journey_id").cast(pl.String),
            pl.col("path").list.join(" > ").alias("journey"),
            pl.col("path").list.eval(pl.lit("0")).list.join(" > ").alias("time_till_end"),
            "converted",
        )
        options = {"format_type": "journey"}
    del journeys
    memory_before = peak_memory_mb()

    def load() -> Any:
        return MAM(frame, channels_colname="journey", journey_with_conv_colname="converted", **options)

    load_s, model = best_of(repeat, load)
    markov_s, markov = best_of(repeat, lambda: model.run_markov())
    shapley_s, shapley = best_of(repeat, lambda: model.run_shapley(max_size=None, value_column="conversions"))
    shapley_result = dict(shapley.to_polars().iter_rows())
    total = sum(shapley_result.values())
    out: dict[str, Any] = {
        "seconds": {"load": load_s, "markov": markov_s, "shapley": shapley_s},
        "markov_share": mam_shares(markov),
        "shapley_share": {k: v / total for k, v in shapley_result.items()},
        "peak_before_timed_mb": memory_before,
    }
    if grouped:
        # Documented relation: kohde's Shapley value = MAM linear on distinct-channel journeys.
        distinct = (
            paths.group_by(pl.col("path").list.unique().list.sort())
            .agg(pl.col("conversions").sum(), pl.col("non_conversions").sum())
            .sort("path")
        )
        linear = MAM(
            mam_grouped_input(distinct),
            channels_colname="journey",
            journey_with_conv_colname="converted",
            **options,
        ).run_linear()
        out["linear_on_distinct_sets"] = dict(linear.to_polars().iter_rows())
    return out


def child(engine: str, n: int, seed: int, repeat: int) -> None:
    """Run one engine in this process and print its results as one JSON line."""
    journeys = generate_journeys(n, seed)
    generated_mb = peak_memory_mb()
    if engine == "kohde":
        result = run_kohde(journeys, repeat)
    else:
        result = run_mam(journeys, repeat, grouped=engine == "mam-grouped")
    result |= {
        "engine": engine,
        "journeys": n,
        "conversion_rate": float(journeys["converted"].mean()),  # type: ignore[arg-type]
        "peak_after_generation_mb": generated_mb,
        "peak_mb": peak_memory_mb(),
    }
    print(json.dumps(result))


def max_difference(ours: dict[str, float], theirs: dict[str, float]) -> float:
    """Largest absolute difference per channel; infinite when the channel sets differ."""
    if set(ours) != set(theirs):
        return float("inf")
    return max(abs(ours[k] - theirs[k]) for k in ours)


def main() -> int:
    """Run each engine in a child process, print the comparison, exit 1 on a broken check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="best of R runs per timed step")
    parser.add_argument("--engine", choices=["kohde", "mam-grouped", "mam-raw"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine:
        child(args.engine, args.journeys, args.seed, args.repeat)
        return 0

    results = {}
    for engine in ("kohde", "mam-grouped", "mam-raw"):
        command = [sys.executable, __file__, "--engine", engine, "--journeys", str(args.journeys)]
        command += ["--seed", str(args.seed), "--repeat", str(args.repeat)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{engine} failed:\n{done.stderr}", file=sys.stderr)
            return 1
        results[engine] = json.loads(done.stdout.strip().splitlines()[-1])

    kohde, grouped, raw = results["kohde"], results["mam-grouped"], results["mam-raw"]
    k = kohde["seconds"]
    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, polars {pl.__version__}"
    )
    print(
        f"{kohde['journeys']:,} journeys, {kohde['conversion_rate']:.2%} converting, "
        f"{kohde['distinct_paths']:,} distinct paths; best of {args.repeat}"
    )
    print(
        f"kohde: group_paths {k['group_paths']:.3f} s, markov {k['markov']:.3f} s, shapley {k['shapley']:.3f} s, "
        f"total {k['group_paths'] + k['markov'] + k['shapley']:.3f} s "
        f"(extra: order-2 markov {k['markov_order2 (extra)']:.3f} s); peak {kohde['peak_mb']:.0f} MB "
        f"(after generating the journeys {kohde['peak_after_generation_mb']:.0f} MB)"
    )
    for name, peer in (("MAM grouped", grouped), ("MAM raw", raw)):
        s = peer["seconds"]
        print(
            f"{name}: load {s['load']:.3f} s, markov {s['markov']:.3f} s, shapley {s['shapley']:.3f} s, "
            f"total {sum(s.values()):.3f} s; peak {peer['peak_mb']:.0f} MB "
            f"(before the timed steps {peer['peak_before_timed_mb']:.0f} MB)"
        )
    kohde_markov = k["markov"]
    kohde_markov_with_grouping = k["group_paths"] + k["markov"]
    kohde_total = k["group_paths"] + k["markov"] + k["shapley"]
    print("ratios kohde / MAM:")
    print(
        f"  markov on grouped paths: {kohde_markov / (grouped['seconds']['load'] + grouped['seconds']['markov']):.3f}"
        " (kohde markov vs MAM load + markov)"
    )
    raw_markov = raw["seconds"]["load"] + raw["seconds"]["markov"]
    print(
        f"  markov from raw journeys: {kohde_markov_with_grouping / raw_markov:.3f}"
        " (kohde group_paths + markov vs MAM load + markov)"
    )
    print(
        f"  everything from raw journeys: {kohde_total / sum(raw['seconds'].values()):.3f}"
        " (kohde group_paths + markov + shapley vs MAM load + markov + shapley)"
    )

    failures = []
    for name, peer in (("grouped", grouped), ("raw", raw)):
        difference = max_difference(kohde["markov_share"], peer["markov_share"])
        print(f"max |markov share difference| vs MAM {name}: {difference:.2e}")
        if not difference <= TOLERANCE:
            failures.append(f"Markov shares differ from MAM {name} by {difference:.2e} > {TOLERANCE}")
    shapley_difference = max_difference(kohde["shapley_share"], grouped["shapley_share"])
    print(
        f"max |shapley share difference| vs MAM grouped (different definitions, not checked): {shapley_difference:.2e}"
    )
    relation = max_difference(kohde["shapley_value"], grouped["linear_on_distinct_sets"])
    print(f"max |kohde shapley value - MAM linear on distinct channel sets|: {relation:.2e}")
    if not relation <= TOLERANCE:
        failures.append(f"Shapley values break the documented relation with MAM linear by {relation:.2e}")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
