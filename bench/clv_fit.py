"""Benchmark: kohde's BG/NBD and Gamma-Gamma fits against lifetimes on the same simulated summary.

Simulates a seeded summary of 1,000,000 customers from known parameters (the published CDNOW
estimates): per customer a purchase rate lambda ~ Gamma(r, alpha) per week and a dropout
probability p ~ Beta(a, b); the first purchase falls on a whole day 1..364 days before the end of
the observation window; the customer makes Poisson(lambda) repeat purchases and drops out right
after the J-th, J ~ Geometric(p). Recency and T are whole days / 7, as ``rfm_summary`` produces
them. Repeat customers get a mean spend from the Gamma-Gamma model (p, q, gamma), rounded to cents.

Times, in one process and on the same arrays (a small warm-up fit first for both, then the
fastest of ``--repeat`` runs): kohde's ``fit_bgnbd`` (including its grouping into distinct rows)
against lifetimes' ``BetaGeoFitter().fit`` on one row per customer, and ``fit_gamma_gamma``
against ``GammaGammaFitter().fit`` on the repeat customers; for reference also lifetimes on the
distinct rows with their counts as ``weights`` (grouping not timed). Prints one Markdown table row per model and
exits 1 if any kohde parameter differs from lifetimes' by more than 1e-3 relative.

Run: ``uv run python bench/clv_fit.py [--customers N] [--seed S] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import warnings
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.timing import best_of  # noqa: E402
from pipeline.transforms.clv import fit_bgnbd, fit_gamma_gamma  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter

TRUE_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
TRUE_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
COHORT_DAYS = 364
TOLERANCE = 1e-3


def simulate_summary(n: int, seed: int) -> dict[str, np.ndarray]:
    """Seeded BG/NBD + Gamma-Gamma summary: frequency, recency and T in weeks, monetary_value."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(TRUE_BGNBD["r"], 1.0 / TRUE_BGNBD["alpha"], n)
    dropout = rng.beta(TRUE_BGNBD["a"], TRUE_BGNBD["b"], n)
    t_days = rng.integers(1, COHORT_DAYS + 1, n)
    t_weeks = t_days / 7.0
    purchases_if_alive = rng.poisson(rate * t_weeks)
    frequency = np.minimum(rng.geometric(dropout), purchases_if_alive)
    # the x-th of N uniform purchase times on [0, T] is T * Beta(x, N - x + 1)
    repeat = frequency > 0
    last = np.zeros(n)
    last[repeat] = rng.beta(frequency[repeat], purchases_if_alive[repeat] - frequency[repeat] + 1)
    recency_days = np.floor(last * t_days)
    spend_rate = rng.gamma(TRUE_GAMMA_GAMMA["q"], 1.0 / TRUE_GAMMA_GAMMA["gamma"], n)
    monetary = np.zeros(n)
    # the mean of x Gamma(p, nu) spends is Gamma(p x, x nu)
    shape = TRUE_GAMMA_GAMMA["p"] * frequency[repeat]
    monetary[repeat] = rng.gamma(shape, 1.0 / (spend_rate[repeat] * frequency[repeat]))
    return {
        "frequency": frequency.astype(np.int64),
        "recency": recency_days / 7.0,
        "T": t_weeks,
        "monetary_value": np.round(monetary, 2),
    }




def distinct_with_counts(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The distinct rows of the columns and their counts (lifetimes' ``weights``)."""
    grouped = pl.DataFrame(columns).group_by(list(columns)).len()
    return {name: grouped[name].to_numpy() for name in grouped.columns}


def main() -> int:
    """Run the benchmark; 0 when kohde agrees with lifetimes, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per fit; the fastest is reported")
    args = parser.parse_args()

    summary = simulate_summary(args.customers, args.seed)
    x, t_x, t_cal, m = summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"]
    repeat = (x > 0) & (m > 0)
    histories = distinct_with_counts({"x": x, "t_x": t_x, "T": t_cal})
    spends = distinct_with_counts({"x": x[repeat], "m": m[repeat]})

    warm = simulate_summary(5_000, args.seed + 1)
    warm_repeat = warm["frequency"] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_bgnbd(warm["frequency"], warm["recency"], warm["T"])
        BetaGeoFitter().fit(warm["frequency"], warm["recency"], warm["T"])
        fit_gamma_gamma(warm["frequency"], warm["monetary_value"])
        GammaGammaFitter().fit(warm["frequency"][warm_repeat], warm["monetary_value"][warm_repeat])

        ours_bgnbd_s, ours_bgnbd = best_of(args.repeat, lambda: fit_bgnbd(x, t_x, t_cal))
        theirs_bgnbd_s, theirs_bgnbd = best_of(args.repeat, lambda: BetaGeoFitter().fit(x, t_x, t_cal).params_)
        theirs_bgnbd_grouped_s, _ = best_of(args.repeat, lambda: BetaGeoFitter().fit(
            histories["x"], histories["t_x"], histories["T"], weights=histories["len"]).params_)
        ours_gg_s, ours_gg = best_of(args.repeat, lambda: fit_gamma_gamma(x, m))
        theirs_gg_s, theirs_gg = best_of(args.repeat, lambda: GammaGammaFitter().fit(x[repeat], m[repeat]).params_)
        theirs_gg_grouped_s, _ = best_of(args.repeat, lambda: GammaGammaFitter().fit(
            spends["x"], spends["m"], weights=spends["len"]).params_)

    bgnbd_names = {"r": "r", "alpha": "alpha", "a": "a", "b": "b"}
    gg_names = {"p": "p", "q": "q", "gamma": "v"}
    bgnbd_diff = max(abs(getattr(ours_bgnbd, k) / theirs_bgnbd[v] - 1) for k, v in bgnbd_names.items())
    gg_diff = max(abs(getattr(ours_gg, k) / theirs_gg[v] - 1) for k, v in gg_names.items())

    print(f"python {platform.python_version()}, {platform.machine()}, seed {args.seed}, best of {args.repeat}, "
          f"{args.customers:,} customers ({int(repeat.sum()):,} with repeat purchases)")
    print("true      BG/NBD " + ", ".join(f"{k} {v}" for k, v in TRUE_BGNBD.items())
          + "; Gamma-Gamma " + ", ".join(f"{k} {v}" for k, v in TRUE_GAMMA_GAMMA.items()))
    print("kohde     BG/NBD " + ", ".join(f"{k} {getattr(ours_bgnbd, k):.6g}" for k in bgnbd_names)
          + f" (converged {ours_bgnbd.converged}); Gamma-Gamma "
          + ", ".join(f"{k} {getattr(ours_gg, k):.6g}" for k in gg_names) + f" (converged {ours_gg.converged})")
    print("lifetimes BG/NBD " + ", ".join(f"{k} {theirs_bgnbd[v]:.6g}" for k, v in bgnbd_names.items())
          + "; Gamma-Gamma " + ", ".join(f"{k} {theirs_gg[v]:.6g}" for k, v in gg_names.items()))
    print()
    print("| model | customers fitted | distinct rows | kohde | lifetimes, one row per customer | kohde / lifetimes "
          "| lifetimes, distinct rows with weights | max relative parameter difference |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| BG/NBD | {x.size:,} | {histories['len'].size:,} | {ours_bgnbd_s:.3f} s | {theirs_bgnbd_s:.3f} s "
          f"| {ours_bgnbd_s / theirs_bgnbd_s:.3f} | {theirs_bgnbd_grouped_s:.3f} s | {bgnbd_diff:.1e} |")
    print(f"| Gamma-Gamma | {int(repeat.sum()):,} | {spends['len'].size:,} | {ours_gg_s:.3f} s | {theirs_gg_s:.3f} s "
          f"| {ours_gg_s / theirs_gg_s:.3f} | {theirs_gg_grouped_s:.3f} s | {gg_diff:.1e} |")

    failures = [name for name, diff in (("BG/NBD", bgnbd_diff), ("Gamma-Gamma", gg_diff)) if not diff <= TOLERANCE]
    if not (ours_bgnbd.converged and ours_gg.converged):
        failures.append("kohde did not converge")
    if failures:
        print(f"FAIL: kohde differs from lifetimes by more than {TOLERANCE:g} relative: {', '.join(failures)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
