"""Benchmark: every fct_attribution model in one run against marketing-attribution-models (MAM).

Generates seeded journeys over 6 channels (path lengths 1-8, touches up to 60 days before the end
of the journey, conversion odds lifted by some channels) and times, each engine in its own process
so each peak memory (ru_maxrss) is its own:

- kohde: ``build_fct_attribution`` from fct_orders / fct_touchpoints-shaped frames (one order per
  converting journey, one touch per step, ids as integers) with the eight rule-based models plus
  first-order Markov, collected in one run; then again with Shapley as well (all ten models);
- MAM on raw journeys (``format_type="journey"`` with hours till conversion): ``MAM(...)`` +
  ``run_last_click`` + ``run_first_click`` + ``run_linear`` + ``run_position_based`` +
  ``run_time_decay`` + ``run_markov``.

Building the input frames is not timed for either engine. Per-channel credit totals of the models
both define the same way (last touch, first touch, linear, position-based 40/20/40, time decay
with a 7-day half-life) must agree within 1e-6 per conversion (MAM reads hours till conversion as
decimal text) or the script exits 1. Markov totals differ by
definition (MAM splits a journey over its touches, kohde over its distinct channels, see
``pipeline.transforms.attribution_models``) and are reported only.

Run: ``uv run python bench/fct_attribution.py [--journeys N] [--conversion-rate R] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.timing import best_of, peak_memory_mb  # noqa: E402
from pipeline.entities import MONEY  # noqa: E402
from pipeline.transforms.attribution import build_fct_attribution  # noqa: E402

CHANNELS = np.array(["affiliate", "direct", "display", "email", "paid_search", "social"])
CHANNEL_FREQUENCY = np.array([0.08, 0.22, 0.15, 0.20, 0.20, 0.15])
CHANNEL_LIFT = np.array([1.6, 1.1, 1.0, 1.8, 2.2, 1.3])
LENGTH_PROBABILITY = np.array([0.30, 0.22, 0.16, 0.11, 0.08, 0.06, 0.04, 0.03])
END = datetime(2026, 6, 30, 23, 0, tzinfo=UTC)
HOUR_US = 3_600_000_000
RULE_BASED = ("last_touch", "last_non_direct_touch", "first_touch", "linear", "position_based", "time_decay",
              "w_shaped", "full_path")
# kohde model -> MAM method, for the models both define the same way
SAME_DEFINITION = {"last_touch": "run_last_click", "first_touch": "run_first_click", "linear": "run_linear",
                   "position_based": "run_position_based", "time_decay": "run_time_decay"}
TOLERANCE = 1e-6


def generate(n: int, seed: int, conversion_rate: float) -> dict[str, np.ndarray]:
    """Touches (journey, channel code, microseconds before the end, oldest first) and outcomes."""
    rng = np.random.default_rng(seed)
    lengths = rng.choice(np.arange(1, 9), size=n, p=LENGTH_PROBABILITY)
    journey = np.repeat(np.arange(n), lengths)
    codes = rng.choice(len(CHANNELS), size=len(journey), p=CHANNEL_FREQUENCY)
    before_us = rng.integers(1, 60 * 24 * HOUR_US, len(journey))
    order = np.lexsort((-before_us, journey))  # per journey, oldest touch first
    codes, before_us = codes[order], before_us[order]
    present = np.zeros((n, len(CHANNELS)), dtype=bool)
    present[journey, codes] = True
    odds = np.prod(np.where(present, CHANNEL_LIFT, 1.0), axis=1)
    converted = rng.random(n) < np.clip(odds * conversion_rate / odds.mean(), 0.0, 1.0)
    value_cents = np.where(converted, np.round(rng.lognormal(4.0, 0.6, n) * 100), 0).astype(np.int64)
    return {"journey": journey, "code": codes, "before_us": before_us, "lengths": lengths, "converted": converted,
            "value_cents": value_cents}






def run_kohde(data: dict[str, np.ndarray], repeat: int) -> dict[str, Any]:
    """Time build_fct_attribution with the rule-based models + Markov, then with all ten models."""
    end_us = int(END.timestamp() * 1_000_000)
    touches = pl.DataFrame({
        "touchpoint_id": np.arange(len(data["journey"])),
        "customer_id": data["journey"],
        "ts": pl.Series(end_us - data["before_us"]).cast(pl.Datetime("us", "UTC")),
        "channel": pl.Series(CHANNELS[data["code"]]),
    }).with_columns(pl.lit(None, pl.Utf8).alias("campaign_id"), pl.lit("click").alias("touch_type"))
    buyers = np.flatnonzero(data["converted"])
    orders = pl.DataFrame({
        "order_id": buyers,
        "customer_id": buyers,
        "net_revenue_eur": pl.Series(data["value_cents"][buyers]).cast(MONEY) / 100,
    }).with_columns(
        pl.lit(END).alias("ordered_at"), pl.lit(END.date()).alias("order_date"), pl.lit(True).alias("is_revenue"),
        pl.lit(True).alias("is_first_order"), pl.col("net_revenue_eur").cast(MONEY),
    )
    del data
    memory_before = peak_memory_mb()

    def run(models: tuple[str, ...]) -> pl.DataFrame:
        return build_fct_attribution(orders.lazy(), touches.lazy(), 90, models).collect()

    nine_s, nine = best_of(repeat, lambda: run((*RULE_BASED, "markov")))
    ten_s, ten = best_of(repeat, lambda: run((*RULE_BASED, "markov", "shapley")))
    totals = ten.group_by("model", "channel").agg(pl.col("credit").sum())
    return {
        "orders": orders.height,
        "touches": touches.height,
        "rows": {"nine models": nine.height, "ten models": ten.height},
        "seconds": {"rule-based + markov": nine_s, "all ten": ten_s},
        "totals": {model: dict(totals.filter(pl.col("model") == model).select("channel", "credit").iter_rows())
                   for model in ten["model"].unique().to_list()},
        "peak_before_timed_mb": memory_before,
    }


def run_mam(data: dict[str, np.ndarray], repeat: int) -> dict[str, Any]:
    """Time MAM's load and its five heuristic models plus Markov on raw journeys."""
    from mam.core import MAM

    frame = (
        pl.DataFrame({"journey_id": data["journey"], "channel": pl.Series(CHANNELS[data["code"]]),
                      "hours": data["before_us"] / HOUR_US})
        .group_by("journey_id", maintain_order=True)
        .agg(pl.col("channel").str.join(" > ").alias("journey"),
             pl.col("hours").cast(pl.String).str.join(" > ").alias("time_till_conv"))
        .with_columns(pl.Series("converted", data["converted"]), pl.col("journey_id").cast(pl.String))
    )
    del data
    memory_before = peak_memory_mb()

    def load() -> Any:
        return MAM(frame, format_type="journey", channels_colname="journey", journey_with_conv_colname="converted",
                   time_till_conv_colname="time_till_conv")

    seconds = {}
    seconds["load"], model = best_of(repeat, load)
    totals = {}
    for name, method in (*SAME_DEFINITION.items(), ("markov", "run_markov")):
        seconds[name], result = best_of(repeat, getattr(model, method))
        totals[name] = {str(k): float(v) for k, v in result.to_polars().iter_rows()}
    return {"seconds": seconds, "totals": totals, "peak_before_timed_mb": memory_before}


def child(engine: str, n: int, seed: int, conversion_rate: float, repeat: int) -> None:
    """Run one engine in this process and print its results as one JSON line."""
    data = generate(n, seed, conversion_rate)
    generated_mb = peak_memory_mb()
    conversions = int(data["converted"].sum())
    result = run_kohde(data, repeat) if engine == "kohde" else run_mam(data, repeat)
    result |= {"engine": engine, "journeys": n, "conversions": conversions,
               "peak_after_generation_mb": generated_mb, "peak_mb": peak_memory_mb()}
    print(json.dumps(result))


def max_difference(ours: dict[str, float], theirs: dict[str, float]) -> float:
    """Largest absolute difference per channel, channels without credit counting as 0."""
    return max(abs(ours.get(k, 0.0) - theirs.get(k, 0.0)) for k in set(ours) | set(theirs))


def main() -> int:
    """Run each engine in a child process, print the comparison, exit 1 on a broken check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=1_000_000)
    parser.add_argument("--conversion-rate", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="best of R runs per timed step")
    parser.add_argument("--engine", choices=["kohde", "mam"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine:
        child(args.engine, args.journeys, args.seed, args.conversion_rate, args.repeat)
        return 0

    results = {}
    for engine in ("kohde", "mam"):
        command = [sys.executable, __file__, "--engine", engine, "--journeys", str(args.journeys), "--seed",
                   str(args.seed), "--conversion-rate", str(args.conversion_rate), "--repeat", str(args.repeat)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{engine} failed:\n{done.stderr}", file=sys.stderr)
            return 1
        results[engine] = json.loads(done.stdout.strip().splitlines()[-1])
    kohde, mam = results["kohde"], results["mam"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"polars {pl.__version__}")
    print(f"{kohde['journeys']:,} journeys, {kohde['touches']:,} touches, {kohde['conversions']:,} orders; "
          f"best of {args.repeat}")
    k, m = kohde["seconds"], mam["seconds"]
    print(f"kohde build_fct_attribution: 8 rule-based + markov {k['rule-based + markov']:.3f} s, all ten "
          f"{k['all ten']:.3f} s; peak {kohde['peak_mb']:.0f} MB (inputs built: {kohde['peak_before_timed_mb']:.0f} MB)")
    mam_total = sum(m.values())
    print("MAM: " + ", ".join(f"{name} {s:.3f} s" for name, s in m.items())
          + f", total {mam_total:.3f} s; peak {mam['peak_mb']:.0f} MB (inputs built: {mam['peak_before_timed_mb']:.0f} MB)")
    print(f"ratio kohde (8 rule-based + markov, one run) / MAM (load + 5 heuristics + markov): "
          f"{k['rule-based + markov'] / mam_total:.3f}")
    failures = []
    for model in SAME_DEFINITION:
        difference = max_difference(kohde["totals"][model], mam["totals"][model])
        print(f"max |{model} credit per channel - MAM|: {difference:.2e}")
        if not difference <= TOLERANCE * kohde["conversions"]:
            failures.append(f"{model} differs from MAM by {difference:.2e}")
    print(f"max |markov credit per channel - MAM| (different per-journey split, not checked): "
          f"{max_difference(kohde['totals']['markov'], mam['totals']['markov']):.2e}")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
